/*
 * libFuzzer target: what an ACME server sends back (RFC 8555), parsed as
 * the client and the renewal state machine parse it.  The first byte
 * picks the HTTP status and Content-Type; the rest is the body, given to
 *   - acme_directory_parse()	the directory (§7.1.1)
 *   - acme_response_parse()	the JSON body and, for an error status,
 *				the problem document (§6.7, RFC 7807)
 *   - acme_order_parse()	an order (§7.1.3)
 *   - acme_authz_parse()	an authorization (§7.1.4), for each
 *				challenge type
 *   - ari_parse()		a renewalInfo answer (RFC 9773)
 *   - acme_links()		each line as a Link header (RFC 8288), the
 *				alternate chains of §7.4.2
 * The account's answer is only its Location and status; its failures are
 * problem documents, covered above.  The certificate chain is PEM: see
 * fuzz_certinfo.c.
 */
#include <config.h>	/* generated */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "log.h"
#include "daemon/acme/acme.h"
#include "daemon/ari.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const long fuzz_status[] = { 200, 201, 400, 403, 404, 429, 500, 503 };
static const char *const fuzz_ctype[] = {
	"application/json", "application/problem+json", "text/plain", NULL
};
static const char *const fuzz_challenges[] = {
	"http-01", "dns-01", "tls-alpn-01"
};

/* Reads what a parser handed back, so ASan sees a bad pointer. */
static volatile size_t	fuzz_sink;

static void
fuzz_touch(const char *s)
{
	if (s != NULL)
		fuzz_sink += strlen(s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_acme", LOG_TARGET_STDERR, LOG_ERR);
	return 0;
}

static void
fuzz_documents(const json_t *body)
{
	struct acme_order	 o;
	struct acme_authz	 a;
	time_t			 start, end;
	size_t			 i;

	acme_order_parse(body, &o);
	if (o.nauthz > 0 && o.authz == NULL)
		abort();
	fuzz_touch(o.status);
	fuzz_touch(o.finalize);
	fuzz_touch(o.certificate);
	for (i = 0; i < sizeof(fuzz_challenges) / sizeof(*fuzz_challenges);
	    i++) {
		acme_authz_parse(body, fuzz_challenges[i], &a);
		fuzz_touch(a.status);
		fuzz_touch(a.identifier);
		fuzz_touch(a.token);
		fuzz_touch(a.chall_url);
		fuzz_touch(a.problem);
	}
	if (ari_parse(body, &start, &end) == 0 && end <= start)
		abort();
}

/* Each line of the body as one Link header value. */
static void
fuzz_links(const char *text)
{
	struct acme_response	 resp;
	struct strlist		 out = { NULL, 0 };
	char			*copy, *line, *save = NULL;
	char			*links[16];
	size_t			 n = 0, i;

	if ((copy = strdup(text)) == NULL)
		abort();
	for (line = strtok_r(copy, "\n", &save); line != NULL && n < 16;
	    line = strtok_r(NULL, "\n", &save))
		links[n++] = line;
	memset(&resp, 0, sizeof(resp));
	resp.links = links;
	resp.nlinks = n;
	if (acme_links(&resp, "alternate", &out) == -1)
		abort();
	if (acme_links(&resp, "up", &out) == -1)
		abort();
	for (i = 0; i < out.n; i++) {
		fuzz_touch(out.v[i]);
		free(out.v[i]);
	}
	free(out.v);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acme_response	 resp;
	json_t			*dir;
	char			*body, *errbuf = NULL, *why = NULL;
	uint8_t			 sel;
	bool			 ok, bad_json;

	if (size == 0)
		return 0;
	sel = data[0];
	data++;
	size--;
	/* As daemon/http.c hands it over: NUL-terminated. */
	if ((body = malloc(size + 1)) == NULL)
		abort();
	memcpy(body, data, size);
	body[size] = '\0';

	if ((dir = acme_directory_parse(body, size, &why)) != NULL &&
	    !json_is_string(json_object_get(dir, "newOrder")))
		abort();
	/* A reason exactly when it is refused. */
	if ((dir == NULL) != (why != NULL))
		abort();
	json_decref(dir);
	free(why);

	memset(&resp, 0, sizeof(resp));
	resp.status = fuzz_status[sel & 7];
	resp.content_type = fuzz_ctype[(sel >> 3) & 3];
	resp.raw = body;
	resp.raw_len = size;
	resp.retry_after = -1;
	acme_response_parse("fuzz", "https://ca.example/acme/x", &resp,
	    &errbuf);
	/* An error status always has its one-line error, and so has a
	 * success whose JSON does not parse; any other success none. */
	ok = resp.status >= 200 && resp.status < 300;
	bad_json = ok && resp.content_type != NULL &&
	    strstr(resp.content_type, "json") != NULL &&
	    resp.body == NULL;
	if ((!ok || bad_json) != (resp.error != NULL) ||
	    (errbuf != NULL) != (resp.error != NULL))
		abort();
	fuzz_touch(resp.error);
	fuzz_touch(resp.problem_type);
	fuzz_documents(resp.body);
	json_decref(resp.body);
	free(errbuf);

	fuzz_links(body);
	free(body);
	return 0;
}
