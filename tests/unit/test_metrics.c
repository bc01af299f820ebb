/* metrics.c: the exposition of a hand-built daemon, and the endpoint. */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon/acme/acme.h"
#include "daemon/counters.h"
#include "daemon/daemon.h"
#include "daemon/events.h"
#include "daemon/metrics.h"


/* The buffer's text, malloc'd and NUL-terminated; the buffer is drained. */
static char *
drain_text(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);
	char	*s;

	assert_non_null(s = malloc(len + 1));
	assert_int_equal(evbuffer_remove(b, s, len), (int)len);
	s[len] = '\0';
	return s;
}

static char *
render(struct daemon *d)
{
	struct evbuffer	*b;
	char		*s;

	assert_non_null(b = evbuffer_new());
	assert_int_equal(metrics_render(d, b), 0);
	s = drain_text(b);
	evbuffer_free(b);
	return s;
}

static char *
render_acme(const struct metrics_ca *cas, size_t n)
{
	struct evbuffer	*b;
	char		*s;

	assert_non_null(b = evbuffer_new());
	assert_int_equal(metrics_render_acme(b, cas, n), 0);
	s = drain_text(b);
	evbuffer_free(b);
	return s;
}

/* Whether text holds line as a whole line. */
static int
has_line(const char *text, const char *line)
{
	size_t		 len = strlen(line);
	const char	*p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return 1;
		p++;
	}
	return 0;
}

#define assert_line(text, line) do {					\
	if (!has_line((text), (line)))					\
		fail_msg("missing line: %s\n--- output:\n%s", (line),	\
		    (text));						\
} while (0)

#define assert_no_line_with(text, s) do {				\
	if (strstr((text), (s)) != NULL)				\
		fail_msg("unexpected: %s\n--- output:\n%s", (s),	\
		    (text));						\
} while (0)

/*
 * The shape the text format demands: every family once, HELP then TYPE,
 * its samples right after it and named after it, "name{...} value".
 */
static void
check_shape(const char *text)
{
	char		 family[128] = "", type[32] = "", seen[64][128];
	char		*copy, *line, *save = NULL;
	size_t		 nseen = 0, i, flen;
	const char	*rest;

	assert_non_null(copy = strdup(text));
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s", family), 1);
			for (i = 0; i < nseen; i++)
				if (strcmp(seen[i], family) == 0)
					fail_msg("family twice: %s", family);
			assert_true(nseen < 64);
			strcpy(seen[nseen++], family);
			type[0] = '\0';
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			flen = strlen(family);
			assert_int_equal(strncmp(line + 7, family, flen), 0);
			assert_int_equal(line[7 + flen], ' ');
			assert_int_equal(sscanf(line + 8 + flen, "%31s", type),
			    1);
			continue;
		}
		if (type[0] == '\0')
			fail_msg("sample before its TYPE: %s", line);
		flen = strlen(family);
		if (strncmp(line, family, flen) != 0)
			fail_msg("sample outside its family %s: %s", family,
			    line);
		rest = line + flen;
		if (strcmp(type, "histogram") == 0) {
			if (strncmp(rest, "_bucket{", 8) == 0)
				rest += 7;
			else if (strncmp(rest, "_sum", 4) == 0 ||
			    strncmp(rest, "_count", 6) == 0)
				rest += rest[1] == 's' ? 4 : 6;
			else
				fail_msg("bad histogram sample: %s", line);
		}
		if (*rest != '{' && *rest != ' ')
			fail_msg("bad sample: %s", line);
	}
	free(copy);
}

static struct cert *
cert_add(struct daemon *d, const char *name, enum cert_status status)
{
	struct cert	*c;

	assert_non_null(c = calloc(1, sizeof(*c)));
	assert_non_null(c->name = strdup(name));
	c->d = d;
	c->status = status;
	TAILQ_INSERT_TAIL(&d->certs, c, entry);
	return c;
}

/* times events of kind about c (hook: its enum hook_kind). */
static void
fire(struct cert *c, enum cert_event_kind kind, bool ok, int hook,
    int times)
{
	while (times-- > 0)
		cert_fire(c, &(struct cert_event){ .kind = kind, .ok = ok,
		    .hook = hook });
}

static void
certs_free(struct daemon *d)
{
	struct cert	*c;

	counters_free(d->counters, &d->listeners);
	d->counters = NULL;
	while ((c = TAILQ_FIRST(&d->certs)) != NULL) {
		TAILQ_REMOVE(&d->certs, c, entry);
		free(c->name);
		free(c);
	}
}

static void
test_escape(void **state)
{
	struct evbuffer	*b;
	char		*s;

	assert_non_null(b = evbuffer_new());
	assert_int_equal(metrics_escape(b, "plain-name.example_1"), 0);
	s = drain_text(b);
	assert_string_equal(s, "plain-name.example_1");
	free(s);

	assert_int_equal(metrics_escape(b, "a\"b\\c\nd\"\"\\"), 0);
	s = drain_text(b);
	assert_string_equal(s, "a\\\"b\\\\c\\nd\\\"\\\"\\\\");
	free(s);

	assert_int_equal(metrics_escape(b, ""), 0);
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

/* www: valid, with dates and counters; an odd name: pending, failing. */
static void
two_certs(struct daemon *d, struct conf_cert *cc)
{
	struct cert	*www, *odd;

	memset(d, 0, sizeof(*d));
	TAILQ_INIT(&d->certs);
	assert_non_null(d->counters = counters_new(&d->listeners));
	d->started = 1700000000;

	memset(cc, 0, sizeof(*cc));
	cc->deploy_hook = "/usr/local/bin/deploy";
	www = cert_add(d, "www", CERT_VALID);
	www->conf = cc;
	www->have_cert = true;
	www->st.current.info.not_before = 1792224000;
	www->st.current.info.not_after = 1800000000;
	www->st.next_renewal = 1797408000;
	www->st.last_success = 1792224100;
	fire(www, CERT_EV_OUTCOME, true, 0, 3);
	fire(www, CERT_EV_OUTCOME, false, 0, 1);
	/* Abandoned renewals and phases are no outcome. */
	cert_fire(www, &(struct cert_event){ .kind = CERT_EV_OUTCOME,
	    .abandoned = true });
	fire(www, CERT_EV_PHASE, false, 0, 2);
	fire(www, CERT_EV_HOOK, true, HOOK_DEPLOY, 3);
	fire(www, CERT_EV_HOOK, false, HOOK_RELOAD_UNITS, 2);

	/* Config names cannot hold these, but the output stays valid. */
	odd = cert_add(d, "we\"ird\\name", CERT_PENDING);
	odd->st.failures = 2;
	fire(odd, CERT_EV_OUTCOME, false, 0, 2);
}

static void
test_render_gauges(void **state)
{
	struct daemon		 d;
	struct conf_cert	 cc;
	char			*s, line[256];

	two_certs(&d, &cc);
	s = render(&d);
	check_shape(s);

	snprintf(line, sizeof(line), "acme_renewd_build_info{version=\"%s\"} 1",
	    PACKAGE_VERSION);
	assert_line(s, line);
	assert_line(s, "# TYPE acme_renewd_build_info gauge");

	assert_line(s, "# HELP acme_renewd_certificate_not_after_timestamp_seconds "
	    "The installed certificate's notAfter, seconds since the epoch.");
	assert_line(s, "# TYPE acme_renewd_certificate_not_after_timestamp_seconds gauge");
	assert_line(s, "acme_renewd_certificate_not_after_timestamp_seconds"
	    "{name=\"www\"} 1800000000");
	assert_line(s, "acme_renewd_certificate_not_before_timestamp_seconds"
	    "{name=\"www\"} 1792224000");
	assert_line(s, "acme_renewd_certificate_next_renewal_timestamp_seconds"
	    "{name=\"www\"} 1797408000");
	assert_line(s, "acme_renewd_certificate_last_success_timestamp_seconds"
	    "{name=\"www\"} 1792224100");
	assert_line(s, "acme_renewd_certificate_consecutive_failures"
	    "{name=\"www\"} 0");
	assert_line(s, "acme_renewd_certificate_consecutive_failures"
	    "{name=\"we\\\"ird\\\\name\"} 2");
	/* No certificate, no schedule, no success yet: no sample. */
	assert_no_line_with(s, "_timestamp_seconds{name=\"we");

	/* State: one line per state, 1 for the current one. */
	assert_line(s, "# TYPE acme_renewd_certificate_state gauge");
	assert_line(s, "acme_renewd_certificate_state{name=\"www\",state=\"pending\"} 0");
	assert_line(s, "acme_renewd_certificate_state{name=\"www\",state=\"valid\"} 1");
	assert_line(s, "acme_renewd_certificate_state{name=\"www\",state=\"renewing\"} 0");
	assert_line(s, "acme_renewd_certificate_state{name=\"www\",state=\"backoff\"} 0");
	assert_line(s, "acme_renewd_certificate_state{name=\"www\",state=\"failed\"} 0");
	assert_line(s, "acme_renewd_certificate_state{name=\"www\",state=\"expired\"} 0");
	assert_line(s, "acme_renewd_certificate_state"
	    "{name=\"we\\\"ird\\\\name\",state=\"pending\"} 1");
	assert_line(s, "acme_renewd_certificate_state"
	    "{name=\"we\\\"ird\\\\name\",state=\"valid\"} 0");

	assert_line(s, "# TYPE process_start_time_seconds gauge");
	assert_line(s, "process_start_time_seconds 1700000000");
	assert_line(s, "# TYPE process_resident_memory_bytes gauge");
	assert_non_null(strstr(s, "\nprocess_resident_memory_bytes "));
	assert_line(s, "# TYPE process_cpu_seconds_total counter");
	assert_non_null(strstr(s, "\nprocess_cpu_seconds_total "));

	free(s);
	certs_free(&d);
}

static void
test_render_counters(void **state)
{
	struct daemon		 d;
	struct conf_cert	 cc;
	char			*s;

	two_certs(&d, &cc);
	s = render(&d);

	assert_line(s, "# TYPE acme_renewd_renewals_total counter");
	assert_line(s, "acme_renewd_renewals_total{name=\"www\",result=\"success\"} 3");
	assert_line(s, "acme_renewd_renewals_total{name=\"www\",result=\"failure\"} 1");
	assert_line(s, "acme_renewd_renewals_total"
	    "{name=\"we\\\"ird\\\\name\",result=\"success\"} 0");
	assert_line(s, "acme_renewd_renewals_total"
	    "{name=\"we\\\"ird\\\\name\",result=\"failure\"} 2");

	/* Hooks: configured (deploy-hook) or run (reload-units) show. */
	assert_line(s, "# TYPE acme_renewd_hook_runs_total counter");
	assert_line(s, "acme_renewd_hook_runs_total"
	    "{name=\"www\",hook=\"deploy-hook\",result=\"success\"} 3");
	assert_line(s, "acme_renewd_hook_runs_total"
	    "{name=\"www\",hook=\"deploy-hook\",result=\"failure\"} 0");
	assert_line(s, "acme_renewd_hook_runs_total"
	    "{name=\"www\",hook=\"reload-units\",result=\"success\"} 0");
	assert_line(s, "acme_renewd_hook_runs_total"
	    "{name=\"www\",hook=\"reload-units\",result=\"failure\"} 2");
	assert_no_line_with(s, "hook=\"failure-hook\"");
	assert_no_line_with(s, "hook=\"dns-01-hook\"");
	assert_no_line_with(s, "acme_renewd_hook_runs_total{name=\"we");

	/* No CA: the families are there, empty. */
	assert_line(s, "# TYPE acme_renewd_acme_requests_total counter");
	assert_line(s, "# TYPE acme_renewd_acme_request_duration_seconds histogram");
	assert_no_line_with(s, "acme_renewd_acme_requests_total{");

	free(s);
	certs_free(&d);
}

static void
test_render_acme(void **state)
{
	struct acme_endpoint_stats	 st[ACME_EP__MAX], other[ACME_EP__MAX];
	struct acme_code_count		 codes[] = { { 201, 2 }, { 429, 1 } };
	struct acme_code_count		 fin[] = { { 200, 5 } };
	struct acme_code_count		 none[] = { { 0, 1 } };
	struct metrics_ca		 cas[2];
	struct acme_endpoint_stats	*no = &st[ACME_EP_NEW_ORDER];
	char				*s, line[256];
	uint64_t			 want;
	int				 b;

	memset(st, 0, sizeof(st));
	memset(other, 0, sizeof(other));
	no->codes = codes;
	no->ncodes = 2;
	no->buckets[0] = 1;
	no->buckets[3] = 1;
	no->buckets[ACME_BUCKETS - 1] = 1;
	no->count = 4;		/* one above the last bound: +Inf only */
	no->sum = 70.25;
	/* Answers counted, but no observation: no histogram. */
	st[ACME_EP_FINALIZE].codes = fin;
	st[ACME_EP_FINALIZE].ncodes = 1;
	other[ACME_EP_DIRECTORY].codes = none;
	other[ACME_EP_DIRECTORY].ncodes = 1;
	other[ACME_EP_DIRECTORY].buckets[1] = 1;
	other[ACME_EP_DIRECTORY].count = 1;
	other[ACME_EP_DIRECTORY].sum = 0.1;

	cas[0].name = "pebble";
	cas[0].stats = st;
	cas[1].name = "le\"x";
	cas[1].stats = other;
	s = render_acme(cas, 2);
	check_shape(s);

	assert_line(s, "acme_renewd_acme_requests_total"
	    "{ca=\"pebble\",endpoint=\"newOrder\",code=\"201\"} 2");
	assert_line(s, "acme_renewd_acme_requests_total"
	    "{ca=\"pebble\",endpoint=\"newOrder\",code=\"429\"} 1");
	assert_line(s, "acme_renewd_acme_requests_total"
	    "{ca=\"pebble\",endpoint=\"finalize\",code=\"200\"} 5");
	assert_line(s, "acme_renewd_acme_requests_total"
	    "{ca=\"le\\\"x\",endpoint=\"directory\",code=\"0\"} 1");

	/* Cumulative buckets, then +Inf = count, _sum, _count. */
	want = 0;
	for (b = 0; b < ACME_BUCKETS; b++) {
		want += no->buckets[b];
		snprintf(line, sizeof(line),
		    "acme_renewd_acme_request_duration_seconds_bucket"
		    "{ca=\"pebble\",endpoint=\"newOrder\",le=\"%.15g\"} %llu",
		    acme_buckets[b], (unsigned long long)want);
		assert_line(s, line);
	}
	assert_int_equal(want, 3);
	assert_line(s, "acme_renewd_acme_request_duration_seconds_bucket"
	    "{ca=\"pebble\",endpoint=\"newOrder\",le=\"+Inf\"} 4");
	assert_line(s, "acme_renewd_acme_request_duration_seconds_sum"
	    "{ca=\"pebble\",endpoint=\"newOrder\"} 70.25");
	assert_line(s, "acme_renewd_acme_request_duration_seconds_count"
	    "{ca=\"pebble\",endpoint=\"newOrder\"} 4");
	snprintf(line, sizeof(line),
	    "acme_renewd_acme_request_duration_seconds_bucket"
	    "{ca=\"le\\\"x\",endpoint=\"directory\",le=\"%.15g\"} 0",
	    acme_buckets[0]);
	assert_line(s, line);
	assert_line(s, "acme_renewd_acme_request_duration_seconds_sum"
	    "{ca=\"le\\\"x\",endpoint=\"directory\"} 0.1");
	assert_no_line_with(s, "endpoint=\"finalize\",le=");
	assert_no_line_with(s, "_sum{ca=\"pebble\",endpoint=\"finalize\"}");
	free(s);
}

/* The whole path: the CAs' statistics come from acme_client_stats(). */
static void
test_render_with_client(void **state)
{
	struct daemon		 d;
	struct conf_ca		 conf;
	struct keygen_list	 keygens;
	struct ca_slot		 slot;
	char			*s;

	memset(&d, 0, sizeof(d));
	TAILQ_INIT(&d.certs);
	TAILQ_INIT(&keygens);
	memset(&conf, 0, sizeof(conf));
	conf.name = "pebble";
	conf.directory = "https://127.0.0.1:1/dir";
	assert_non_null(d.base = event_base_new());
	slot.name = "pebble";
	assert_non_null(slot.client = acme_client_new(d.base, NULL, &keygens,
	    &conf, "/tmp"));
	d.cas = &slot;
	d.ncas = 1;
	cert_add(&d, "www", CERT_RENEWING);

	s = render(&d);
	check_shape(s);
	assert_line(s, "acme_renewd_certificate_state{name=\"www\",state=\"renewing\"} 1");
	/* Nothing asked yet: the families are there, with no sample. */
	assert_line(s, "# TYPE acme_renewd_acme_requests_total counter");
	assert_no_line_with(s, "acme_renewd_acme_requests_total{");
	assert_no_line_with(s, "acme_renewd_acme_request_duration_seconds_count{");
	free(s);

	certs_free(&d);
	acme_client_free(slot.client);
	event_base_free(d.base);
}

static void
test_render_many(void **state)
{
	struct daemon	 d;
	struct cert	*c;
	struct evbuffer	*b;
	char		 name[32], *text, *p;
	size_t		 n = 0;
	int		 i;

	memset(&d, 0, sizeof(d));
	TAILQ_INIT(&d.certs);
	assert_non_null(d.counters = counters_new(&d.listeners));
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "cert-%05d.example.test", i);
		c = cert_add(&d, name, i % CERT_STATUS__MAX);
		c->have_cert = true;
		c->st.current.info.not_before = 1790000000 + i;
		c->st.current.info.not_after = 1800000000 + i;
		c->st.next_renewal = 1795000000 + i;
		c->st.last_success = 1790000000 + i;
		fire(c, CERT_EV_OUTCOME, true, 0, i % 7);
		fire(c, CERT_EV_HOOK, true, HOOK_DEPLOY, 1);
	}
	/* Every certificate, each once (its speed is measured in bench/). */
	assert_non_null(b = evbuffer_new());
	assert_int_equal(metrics_render(&d, b), 0);
	evbuffer_add(b, "", 1);
	text = (char *)evbuffer_pullup(b, -1);
	for (p = text; (p = strstr(p, "\nacme_renewd_certificate_not_after_"
	    "timestamp_seconds{")) != NULL; p++)
		n++;
	assert_int_equal(n, 10000);
	assert_non_null(strstr(text, "acme_renewd_certificate_not_after_"
	    "timestamp_seconds{name=\"cert-09999.example.test\"} 1800009999\n"));
	evbuffer_free(b);
	certs_free(&d);
}

/* The endpoint over HTTP, with libevent's client on the same loop. */
struct reply {
	struct event_base	*base;
	int			 code;
	char			*body;
	char			*content_type;
	char			*allow;
};

static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct reply	*r = arg;
	const char	*v;

	event_base_loopbreak(r->base);
	if (req == NULL)
		return;
	r->code = evhttp_request_get_response_code(req);
	r->body = drain_text(evhttp_request_get_input_buffer(req));
	if ((v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type")) != NULL)
		r->content_type = strdup(v);
	if ((v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Allow")) != NULL)
		r->allow = strdup(v);
}

static void
fetch(struct event_base *base, int port, enum evhttp_cmd_type cmd,
    const char *path, struct reply *r)
{
	struct evhttp_connection	*conn;
	struct evhttp_request		*req;

	memset(r, 0, sizeof(*r));
	r->base = base;
	assert_non_null(conn = evhttp_connection_base_new(base, NULL,
	    "127.0.0.1", port));
	assert_non_null(req = evhttp_request_new(reply_cb, r));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    "127.0.0.1");
	assert_int_equal(evhttp_make_request(conn, req, cmd, path), 0);
	event_base_dispatch(base);
	evhttp_connection_free(conn);
}

static void
reply_clear(struct reply *r)
{
	free(r->body);
	free(r->content_type);
	free(r->allow);
}

/* A loopback port nothing listens on (bound once, then let go). */
static int
some_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
test_endpoint(void **state)
{
	struct daemon	 d;
	struct metrics	*m, *again;
	struct reply	 r;
	char		 listen[64], *cause = NULL;
	int		 port;

	memset(&d, 0, sizeof(d));
	TAILQ_INIT(&d.certs);
	d.started = 1700000000;
	assert_non_null(d.base = event_base_new());
	cert_add(&d, "www", CERT_VALID);

	port = some_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	m = metrics_new(&d, listen, &cause);
	if (m == NULL)
		fail_msg("metrics_new: %s", cause);

	fetch(d.base, port, EVHTTP_REQ_GET, "/metrics", &r);
	assert_int_equal(r.code, 200);
	assert_non_null(r.content_type);
	assert_string_equal(r.content_type,
	    "text/plain; version=0.0.4; charset=utf-8");
	assert_line(r.body, "acme_renewd_certificate_state{name=\"www\",state=\"valid\"} 1");
	assert_line(r.body, "process_start_time_seconds 1700000000");
	reply_clear(&r);

	fetch(d.base, port, EVHTTP_REQ_GET, "/metrics?x=1", &r);
	assert_int_equal(r.code, 200);
	reply_clear(&r);

	fetch(d.base, port, EVHTTP_REQ_HEAD, "/metrics", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "");
	reply_clear(&r);

	fetch(d.base, port, EVHTTP_REQ_GET, "/other", &r);
	assert_int_equal(r.code, 404);
	reply_clear(&r);
	fetch(d.base, port, EVHTTP_REQ_GET, "/", &r);
	assert_int_equal(r.code, 404);
	reply_clear(&r);
	fetch(d.base, port, EVHTTP_REQ_GET, "/metrics/", &r);
	assert_int_equal(r.code, 404);
	reply_clear(&r);

	fetch(d.base, port, EVHTTP_REQ_POST, "/metrics", &r);
	assert_int_equal(r.code, 405);
	assert_non_null(r.allow);
	assert_string_equal(r.allow, "GET, HEAD");
	reply_clear(&r);
	fetch(d.base, port, EVHTTP_REQ_DELETE, "/metrics", &r);
	assert_int_equal(r.code, 405);
	reply_clear(&r);

	/* The port is taken: an error that names the key. */
	again = metrics_new(&d, listen, &cause);
	assert_null(again);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "metrics-listen"));
	assert_non_null(strstr(cause, listen));
	free(cause);
	cause = NULL;

	assert_null(metrics_new(&d, "nonsense", &cause));
	assert_non_null(strstr(cause, "metrics-listen"));
	free(cause);

	metrics_free(m);
	metrics_free(NULL);
	certs_free(&d);
	event_base_free(d.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_render_gauges),
		cmocka_unit_test(test_render_counters),
		cmocka_unit_test(test_render_acme),
		cmocka_unit_test(test_render_with_client),
		cmocka_unit_test(test_render_many),
		cmocka_unit_test(test_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
