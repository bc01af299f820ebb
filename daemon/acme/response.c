/*
 * What an ACME server answers (RFC 8555 §6.7, RFC 7807, RFC 8288): the
 * response with its JSON body and problem document in one line, the
 * directory, the Link headers.  Parsed apart from any transfer, so that
 * tests/fuzz/fuzz_acme.c can feed them hostile bytes.
 */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util.h"
#include "../http.h"
#include "acme.h"
#include "client.h"

#define ERR_PREFIX		ACME_ERROR_NS

/* A transport failure, with a hint where the usual cause is known. */
char *
response_transport_error(const struct acme_client *c, const char *url,
    const struct http_response *hr)
{
	const char	*hint = "";

	if (strstr(hr->error, "certificate") != NULL ||
	    strstr(hr->error, "SSL") != NULL)
		hint = c->conf->trust_bundle == NULL ?
		    "; TLS verify failed: is trust-bundle set?" :
		    "; TLS verify failed: does trust-bundle hold the CA's issuer?";
	return xasprintf("request to CA %s at %s failed: %s%s", c->name, url,
	    hr->error, hint);
}

/*
 * Fills an acme_response from an HTTP response: parses a JSON body and,
 * for an error status, the problem document (RFC 7807, RFC 8555 §6.7).
 * A success whose JSON does not parse is an error too.  *errbuf receives
 * the malloc'd error line when there is one.
 */
void
response_build(const struct acme_client *c, const char *url,
    const struct http_response *hr, struct acme_response *resp,
    char **errbuf)
{
	memset(resp, 0, sizeof(*resp));
	*errbuf = NULL;
	resp->status = hr->status;
	resp->raw = hr->body;
	resp->raw_len = hr->body_len;
	resp->location = hr->location;
	resp->content_type = hr->content_type;
	resp->retry_after = hr->retry_after;
	resp->links = hr->links;
	resp->nlinks = hr->nlinks;
	if (hr->status == 0) {
		*errbuf = response_transport_error(c, url, hr);
		resp->error = *errbuf != NULL ? *errbuf : hr->error;
		return;
	}
	acme_response_parse(c->name, url, resp, errbuf);
}

void
acme_response_parse(const char *ca, const char *url,
    struct acme_response *resp, char **errbuf)
{
	const char	*type = NULL, *detail = NULL;
	json_error_t	 jerr;
	bool		 ok = resp->status >= 200 && resp->status < 300;

	*errbuf = NULL;
	if (resp->content_type != NULL &&
	    strstr(resp->content_type, "json") != NULL &&
	    (resp->body = json_loadb(resp->raw, resp->raw_len, 0,
	    &jerr)) == NULL && ok) {
		*errbuf = xasprintf("CA %s sent malformed JSON (HTTP %ld) for %s: "
		    "%s at line %d, column %d", ca, resp->status, url,
		    jerr.text, jerr.line, jerr.column);
		resp->error = *errbuf != NULL ? *errbuf : "malformed JSON";
		return;
	}
	if (ok)
		return;
	if (resp->body != NULL) {
		type = json_string_value(json_object_get(resp->body, "type"));
		detail = json_string_value(json_object_get(resp->body, "detail"));
	}
	resp->problem_type = type;
	*errbuf = xasprintf("CA %s answered HTTP %ld for %s%s%s%s%s",
	    ca, resp->status, url, type != NULL ? ": " : "",
	    type != NULL ? type + (strncmp(type, ERR_PREFIX,
	    strlen(ERR_PREFIX)) == 0 ? strlen(ERR_PREFIX) : 0) : "",
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	resp->error = *errbuf != NULL ? *errbuf : "CA error";
}

bool
response_problem_is(const struct acme_response *resp, const char *what)
{
	return resp->problem_type != NULL &&
	    strncmp(resp->problem_type, ERR_PREFIX, strlen(ERR_PREFIX)) == 0 &&
	    strcmp(resp->problem_type + strlen(ERR_PREFIX), what) == 0;
}

json_t *
acme_directory_parse(const char *body, size_t len, char **why)
{
	json_t		*dir;
	json_error_t	 jerr;

	if ((dir = json_loadb(body, len, 0, &jerr)) == NULL) {
		if (why != NULL)
			*why = xasprintf("not JSON: %s at line %d, column %d",
			    jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(dir) ||
	    !json_is_string(json_object_get(dir, "newNonce")) ||
	    !json_is_string(json_object_get(dir, "newAccount")) ||
	    !json_is_string(json_object_get(dir, "newOrder"))) {
		if (why != NULL)
			*why = xasprintf("not an ACME directory (no newNonce, "
			    "newAccount, newOrder)");
		json_decref(dir);
		return NULL;
	}
	return dir;
}

/* Whether a link's parameters (";rel=\"alternate\"; ...") say rel=REL. */
static bool
link_has_rel(const char *params, size_t len, const char *rel)
{
	char		*copy, *tok, *save = NULL;
	bool		 match = false;

	if ((copy = strndup(params, len)) == NULL)
		return false;
	for (tok = strtok_r(copy, ";", &save); tok != NULL && !match;
	    tok = strtok_r(NULL, ";", &save)) {
		tok += strspn(tok, " \t");
		if (strncmp(tok, "rel=", 4) != 0)
			continue;
		tok += 4;
		tok[strcspn(tok, " \t,")] = '\0';
		if (*tok == '"' && tok[strlen(tok) - 1] == '"' && strlen(tok) > 1) {
			tok[strlen(tok) - 1] = '\0';
			tok++;
		}
		match = strcmp(tok, rel) == 0;
	}
	free(copy);
	return match;
}

/*
 * URLs of the Link headers with rel=REL (RFC 8288), e.g. the alternate
 * chains of RFC 8555 §7.4.2: <https://...>;rel="alternate".  One header
 * may carry several links separated by commas.
 */
int
acme_links(const struct acme_response *resp, const char *rel,
    struct strlist *out)
{
	const char	*p, *lt, *gt, *next;
	char		*url, **v;
	size_t		 i;

	for (i = 0; i < resp->nlinks; i++) {
		for (p = resp->links[i]; (lt = strchr(p, '<')) != NULL;
		    p = next) {
			if ((gt = strchr(lt, '>')) == NULL)
				break;
			if ((next = strchr(gt, '<')) == NULL)
				next = gt + strlen(gt);
			if (!link_has_rel(gt + 1, next - gt - 1, rel))
				continue;
			if ((url = strndup(lt + 1, gt - lt - 1)) == NULL ||
			    (v = reallocarray(out->v, out->n + 1,
			    sizeof(*v))) == NULL) {
				free(url);
				return -1;
			}
			out->v = v;
			out->v[out->n++] = url;
		}
	}
	return 0;
}
