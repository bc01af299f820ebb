/*
 * The Prometheus endpoint: GET /metrics on metrics-listen, rendered from
 * struct daemon in one pass per metric family (linear in the number of
 * certificates), into an evbuffer that evhttp writes out on its own.
 *
 * Text format 0.0.4: every family has # HELP and # TYPE, label values
 * are escaped (backslash, double quote, newline), timestamps are whole
 * seconds since the epoch.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "util.h"
#include "acme/acme.h"
#include "cert.h"
#include "config.h"
#include "ari.h"
#include "counters.h"
#include "daemon.h"
#include "metrics.h"
#include "proc.h"

#define METRICS_PATH		"/metrics"
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_HEADERS_MAX	8192
#define METRICS_BODY_MAX	1024
#define METRICS_TIMEOUT		30	/* seconds, per connection */
#define METRICS_TRIM_ABOVE	(1024 * 1024)	/* bytes: a scrape this large
					   leaves heap to give back */

struct metrics {
	struct daemon	*d;
	struct evhttp	*http;
};

/* Where a rendering goes: the first failure sticks. */
struct metrics_out {
	struct evbuffer	*buf;
	int		 nlabels;	/* in the sample being written */
	bool		 failed;
};

/* The per-certificate gauges holding one number each. */
enum metrics_gauge {
	GAUGE_NOT_AFTER,
	GAUGE_NOT_BEFORE,
	GAUGE_NEXT_RENEWAL,
	GAUGE_LAST_SUCCESS,
	GAUGE_FAILURES,
	GAUGE_ARI_START,
	GAUGE_ARI_END,
	GAUGE__MAX
};

static const struct {
	const char	*name;
	const char	*help;
} metrics_gauges[GAUGE__MAX] = {
	[GAUGE_NOT_AFTER] = { "acme_renewd_certificate_not_after_timestamp_seconds",
	    "The installed certificate's notAfter, seconds since the epoch." },
	[GAUGE_NOT_BEFORE] = { "acme_renewd_certificate_not_before_timestamp_seconds",
	    "The installed certificate's notBefore, seconds since the epoch." },
	[GAUGE_NEXT_RENEWAL] = {
	    "acme_renewd_certificate_next_renewal_timestamp_seconds",
	    "When the next renewal attempt is due, seconds since the epoch." },
	[GAUGE_LAST_SUCCESS] = {
	    "acme_renewd_certificate_last_success_timestamp_seconds",
	    "When the last renewal succeeded, seconds since the epoch." },
	[GAUGE_FAILURES] = { "acme_renewd_certificate_consecutive_failures",
	    "Renewal attempts that failed since the last success." },
	[GAUGE_ARI_START] = {
	    "acme_renewd_certificate_ari_window_start_timestamp_seconds",
	    "Start of the renewal window the CA suggests (RFC 9773)." },
	[GAUGE_ARI_END] = {
	    "acme_renewd_certificate_ari_window_end_timestamp_seconds",
	    "End of the renewal window the CA suggests (RFC 9773)." },
};

static void
metrics_add(struct metrics_out *o, const char *s, size_t len)
{
	if (!o->failed && evbuffer_add(o->buf, s, len) == -1)
		o->failed = true;
}

static void
metrics_adds(struct metrics_out *o, const char *s)
{
	metrics_add(o, s, strlen(s));
}

int
metrics_escape(struct evbuffer *buf, const char *s)
{
	size_t	 n;

	while (*s != '\0') {
		n = strcspn(s, "\\\"\n");
		if (n > 0 && evbuffer_add(buf, s, n) == -1)
			return -1;
		s += n;
		switch (*s) {
		case '\0':
			return 0;
		case '\n':
			if (evbuffer_add(buf, "\\n", 2) == -1)
				return -1;
			break;
		default:	/* \ or " */
			if (evbuffer_add(buf, "\\", 1) == -1 ||
			    evbuffer_add(buf, s, 1) == -1)
				return -1;
			break;
		}
		s++;
	}
	return 0;
}

/* The shortest text that reads back as v (Go's ParseFloat reads it). */
static void
metrics_format_double(char *buf, size_t len, double v)
{
	int	prec;

	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	else {
		for (prec = 15; prec < 17; prec++) {
			snprintf(buf, len, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				return;
		}
		snprintf(buf, len, "%.17g", v);
	}
}

static void
metrics_family(struct metrics_out *o, const char *name, const char *type,
    const char *help)
{
	metrics_adds(o, "# HELP ");
	metrics_adds(o, name);
	metrics_adds(o, " ");
	metrics_adds(o, help);
	metrics_adds(o, "\n# TYPE ");
	metrics_adds(o, name);
	metrics_adds(o, " ");
	metrics_adds(o, type);
	metrics_adds(o, "\n");
}

static void
metrics_sample(struct metrics_out *o, const char *name, const char *suffix)
{
	metrics_adds(o, name);
	if (suffix != NULL)
		metrics_adds(o, suffix);
	o->nlabels = 0;
}

static void
metrics_label(struct metrics_out *o, const char *key, const char *value)
{
	metrics_adds(o, o->nlabels++ == 0 ? "{" : ",");
	metrics_adds(o, key);
	metrics_adds(o, "=\"");
	if (!o->failed && metrics_escape(o->buf, value) == -1)
		o->failed = true;
	metrics_adds(o, "\"");
}

static void
metrics_value(struct metrics_out *o, const char *value)
{
	if (o->nlabels > 0)
		metrics_adds(o, "}");
	metrics_adds(o, " ");
	metrics_adds(o, value);
	metrics_adds(o, "\n");
}

static void
metrics_value_ll(struct metrics_out *o, long long v)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	metrics_value(o, buf);
}

static void
metrics_value_u64(struct metrics_out *o, uint64_t v)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	metrics_value(o, buf);
}

static void
metrics_value_double(struct metrics_out *o, double v)
{
	char	buf[40];

	metrics_format_double(buf, sizeof(buf), v);
	metrics_value(o, buf);
}

/* Whether the certificate has this gauge, and its value. */
static bool
metrics_gauge_value(const struct cert *c, enum metrics_gauge g, long long *v)
{
	switch (g) {
	case GAUGE_NOT_AFTER:
		*v = c->st.current.info.not_after;
		return c->have_cert;
	case GAUGE_NOT_BEFORE:
		*v = c->st.current.info.not_before;
		return c->have_cert;
	case GAUGE_NEXT_RENEWAL:
		*v = c->st.next_renewal;
		return c->st.next_renewal != 0;
	case GAUGE_LAST_SUCCESS:
		*v = c->st.last_success;
		return c->st.last_success != 0;
	case GAUGE_FAILURES:
		*v = c->st.failures;
		return true;
	case GAUGE_ARI_START:
		*v = c->st.ari.start;
		return ari_window_known(c);
	case GAUGE_ARI_END:
		*v = c->st.ari.end;
		return ari_window_known(c);
	default:
		return false;
	}
}

static void
metrics_render_certs(struct metrics_out *o, struct daemon *d)
{
	struct cert	*c;
	long long	 v;
	int		 g, s;

	for (g = 0; g < GAUGE__MAX; g++) {
		metrics_family(o, metrics_gauges[g].name, "gauge",
		    metrics_gauges[g].help);
		TAILQ_FOREACH(c, &d->certs, entry) {
			if (!metrics_gauge_value(c, g, &v))
				continue;
			metrics_sample(o, metrics_gauges[g].name, NULL);
			metrics_label(o, "name", c->name);
			metrics_value_ll(o, v);
		}
	}

	metrics_family(o, "acme_renewd_certificate_state", "gauge",
	    "The certificate's state: 1 for the current one, 0 for the others.");
	TAILQ_FOREACH(c, &d->certs, entry) {
		for (s = 0; s < CERT_STATUS__MAX; s++) {
			metrics_sample(o, "acme_renewd_certificate_state", NULL);
			metrics_label(o, "name", c->name);
			metrics_label(o, "state", cert_status_names[s]);
			metrics_value(o, (int)c->status == s ? "1" : "0");
		}
	}
}

static const struct cert_counts metrics_no_counts;

/* The certificate's counters, all zero until its first event. */
static const struct cert_counts *
metrics_counts(const struct daemon *d, const struct cert *c)
{
	const struct cert_counts	*n = counters_get(d->counters, c->name);

	return n != NULL ? n : &metrics_no_counts;
}

/* A hook shows once configured for the certificate, or once it ran. */
static bool
metrics_hook_shown(const struct cert *c, const struct cert_counts *n,
    enum hook_kind k)
{
	if (n->hook_runs[k][0] != 0 || n->hook_runs[k][1] != 0)
		return true;
	if (c->conf == NULL)
		return false;
	switch (k) {
	case HOOK_DEPLOY:
		return c->conf->deploy_hook != NULL;
	case HOOK_FAILURE:
		return c->conf->failure_hook != NULL;
	case HOOK_DNS01:
		return c->conf->dns01_hook != NULL;
	case HOOK_RELOAD_UNITS:
		return c->conf->reload_units.n > 0;
	default:
		return false;
	}
}

static void
metrics_render_counters(struct metrics_out *o, struct daemon *d)
{
	static const char *const results[2] = { "failure", "success" };
	struct cert			*c;
	const struct cert_counts	*n;
	int				 k, ok;

	metrics_family(o, "acme_renewd_renewals_total", "counter",
	    "Renewal attempts that ended, by result.");
	TAILQ_FOREACH(c, &d->certs, entry) {
		n = metrics_counts(d, c);
		for (ok = 1; ok >= 0; ok--) {
			metrics_sample(o, "acme_renewd_renewals_total", NULL);
			metrics_label(o, "name", c->name);
			metrics_label(o, "result", results[ok]);
			metrics_value_u64(o, n->renewals[ok]);
		}
	}

	metrics_family(o, "acme_renewd_storage_errors_total", "counter",
	    "Failed writes to the store or state.json (disk full, read-only).");
	TAILQ_FOREACH(c, &d->certs, entry) {
		metrics_sample(o, "acme_renewd_storage_errors_total", NULL);
		metrics_label(o, "name", c->name);
		metrics_value_u64(o, metrics_counts(d, c)->storage_errors);
	}

	metrics_family(o, "acme_renewd_hook_runs_total", "counter",
	    "Hook runs that ended, by hook and result.");
	TAILQ_FOREACH(c, &d->certs, entry) {
		n = metrics_counts(d, c);
		for (k = 0; k < HOOK__MAX; k++) {
			if (!metrics_hook_shown(c, n, k))
				continue;
			for (ok = 1; ok >= 0; ok--) {
				metrics_sample(o, "acme_renewd_hook_runs_total",
				    NULL);
				metrics_label(o, "name", c->name);
				metrics_label(o, "hook", hook_kind_names[k]);
				metrics_label(o, "result", results[ok]);
				metrics_value_u64(o, n->hook_runs[k][ok]);
			}
		}
	}
}

#define METRICS_DURATION	"acme_renewd_acme_request_duration_seconds"

static void
metrics_render_histogram(struct metrics_out *o, const char *ca,
    const char *endpoint, const struct acme_endpoint_stats *s,
    char le[][40])
{
	uint64_t	 cumulative = 0;
	int		 b;

	for (b = 0; b <= ACME_BUCKETS; b++) {
		cumulative = b < ACME_BUCKETS ? cumulative + s->buckets[b] :
		    s->count;
		metrics_sample(o, METRICS_DURATION, "_bucket");
		metrics_label(o, "ca", ca);
		metrics_label(o, "endpoint", endpoint);
		metrics_label(o, "le", b < ACME_BUCKETS ? le[b] : "+Inf");
		metrics_value_u64(o, cumulative);
	}
	metrics_sample(o, METRICS_DURATION, "_sum");
	metrics_label(o, "ca", ca);
	metrics_label(o, "endpoint", endpoint);
	metrics_value_double(o, s->sum);
	metrics_sample(o, METRICS_DURATION, "_count");
	metrics_label(o, "ca", ca);
	metrics_label(o, "endpoint", endpoint);
	metrics_value_u64(o, s->count);
}

int
metrics_render_acme(struct evbuffer *buf, const struct metrics_ca *cas,
    size_t n)
{
	struct metrics_out			 o = { .buf = buf };
	const struct acme_endpoint_stats	*s;
	char					 le[ACME_BUCKETS][40];
	char					 code[24];
	size_t					 i, j;
	int					 e;

	metrics_family(&o, "acme_renewd_acme_requests_total", "counter",
	    "Requests to ACME servers, by CA, endpoint and HTTP status "
	    "(0: no answer).");
	for (i = 0; i < n; i++) {
		for (e = 0; cas[i].stats != NULL && e < ACME_EP__MAX; e++) {
			s = &cas[i].stats[e];
			for (j = 0; j < s->ncodes; j++) {
				snprintf(code, sizeof(code), "%ld",
				    s->codes[j].code);
				metrics_sample(&o,
				    "acme_renewd_acme_requests_total", NULL);
				metrics_label(&o, "ca", cas[i].name);
				metrics_label(&o, "endpoint",
				    acme_endpoint_names[e]);
				metrics_label(&o, "code", code);
				metrics_value_u64(&o, s->codes[j].n);
			}
		}
	}

	for (e = 0; e < ACME_BUCKETS; e++)
		metrics_format_double(le[e], sizeof(le[e]), acme_buckets[e]);
	metrics_family(&o, METRICS_DURATION, "histogram",
	    "How long requests to ACME servers took, by CA and endpoint.");
	for (i = 0; i < n; i++) {
		for (e = 0; cas[i].stats != NULL && e < ACME_EP__MAX; e++) {
			s = &cas[i].stats[e];
			if (s->count > 0)
				metrics_render_histogram(&o, cas[i].name,
				    acme_endpoint_names[e], s, le);
		}
	}
	return o.failed ? -1 : 0;
}

/* The start of a /proc file (one read), NUL-terminated; -1 if unreadable. */
static int
metrics_read_proc(const char *path, char *buf, size_t len)
{
	ssize_t	 n;
	int	 fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto out;
	do
		n = read(fd, buf, len - 1);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		goto out;
	buf[n] = '\0';
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

static void
metrics_render_process(struct metrics_out *o, struct daemon *d)
{
	char			 buf[1024], *p;
	unsigned long		 resident, utime, stime;
	long			 page, ticks;

	metrics_family(o, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	metrics_sample(o, "process_start_time_seconds", NULL);
	metrics_value_ll(o, (long long)d->started);

	page = sysconf(_SC_PAGESIZE);
	if (page > 0 && metrics_read_proc("/proc/self/statm", buf,
	    sizeof(buf)) == 0 && sscanf(buf, "%*u %lu", &resident) == 1) {
		metrics_family(o, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		metrics_sample(o, "process_resident_memory_bytes", NULL);
		metrics_value_u64(o, (uint64_t)resident * (uint64_t)page);
	}

	/* Fields 14 and 15, counted after the ")" that ends the name. */
	ticks = sysconf(_SC_CLK_TCK);
	if (ticks > 0 && metrics_read_proc("/proc/self/stat", buf,
	    sizeof(buf)) == 0 && (p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &utime, &stime) == 2) {
		metrics_family(o, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		metrics_sample(o, "process_cpu_seconds_total", NULL);
		metrics_value_double(o, (double)(utime + stime) / ticks);
	}
}

int
metrics_render(struct daemon *d, struct evbuffer *buf)
{
	struct metrics_out	 o = { .buf = buf };
	struct metrics_ca	*cas = NULL;
	size_t			 i, n = 0;
	int			 rc = -1;

	metrics_family(&o, "acme_renewd_build_info", "gauge",
	    "Always 1; the version of acme-renewd.");
	metrics_sample(&o, "acme_renewd_build_info", NULL);
	metrics_label(&o, "version", PACKAGE_VERSION);
	metrics_value(&o, "1");
	metrics_render_certs(&o, d);
	metrics_render_counters(&o, d);
	if (o.failed)
		goto out;

	if (d->ncas > 0 && (cas = calloc(d->ncas, sizeof(*cas))) == NULL)
		goto out;
	for (i = 0; i < d->ncas; i++) {
		if (d->cas[i].client == NULL)
			continue;
		cas[n].name = d->cas[i].name;
		cas[n].stats = acme_client_stats(d->cas[i].client);
		n++;
	}
	if (metrics_render_acme(buf, cas, n) == -1)
		goto out;

	metrics_render_process(&o, d);
	if (o.failed)
		goto out;
	rc = 0;
out:
	free(cas);
	return rc;
}

/* A short plain-text error; evhttp_send_error would drop our headers. */
static void
metrics_reply_error(struct evhttp_request *req, int code, const char *reason)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct evbuffer		*buf;

	if (code == HTTP_BADMETHOD)
		evhttp_add_header(h, "Allow", "GET, HEAD");
	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, code, reason);
		return;
	}
	evbuffer_add_printf(buf, "%d %s\n", code, reason);
	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics			*m = arg;
	const struct evhttp_uri		*uri;
	const char			*path = NULL;
	struct evbuffer			*buf = NULL;
	enum evhttp_cmd_type		 cmd;

	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		path = evhttp_uri_get_path(uri);
	if (path == NULL || strcmp(path, METRICS_PATH) != 0) {
		metrics_reply_error(req, HTTP_NOTFOUND, "Not Found");
		goto out;
	}
	cmd = evhttp_request_get_command(req);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		metrics_reply_error(req, HTTP_BADMETHOD, "Method Not Allowed");
		goto out;
	}
	if ((buf = evbuffer_new()) == NULL || metrics_render(m->d, buf) == -1) {
		log_warnx("metrics: out of memory rendering a scrape");
		metrics_reply_error(req, HTTP_INTERNAL, "Internal Server Error");
		goto out;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", METRICS_CONTENT_TYPE);
	if (evbuffer_get_length(buf) > METRICS_TRIM_ABOVE)
		daemon_trim_later(m->d);
	evhttp_send_reply(req, HTTP_OK, "OK", buf);
out:
	if (buf != NULL)
		evbuffer_free(buf);
}

struct metrics *
metrics_new(struct daemon *d, const char *listen, char **cause)
{
	struct metrics	*m = NULL, *ret = NULL;
	char		*host = NULL;
	int		 port, bound;

	if (listen_addr_parse(listen, &host, &port) == -1) {
		*cause = xasprintf("metrics-listen: bad address '%s'", listen);
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->http = evhttp_new(d->base)) == NULL) {
		*cause = xasprintf("metrics-listen: out of memory");
		goto out;
	}
	m->d = d;
	/* Every method reaches the callback, which answers 405 itself. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(m->http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(m->http, METRICS_BODY_MAX);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT);
	evhttp_set_gencb(m->http, metrics_request_cb, m);
	/* "*:PORT": IPv6 and IPv4 on one socket, else IPv4 alone. */
	if (*host == '\0')
		bound = evhttp_bind_socket_with_handle(m->http, "::",
		    port) != NULL || evhttp_bind_socket_with_handle(m->http,
		    "0.0.0.0", port) != NULL;
	else
		bound = evhttp_bind_socket_with_handle(m->http, host,
		    port) != NULL;
	if (!bound) {
		*cause = xasprintf("metrics-listen: cannot listen on %s: %s",
		    listen, strerror(errno));
		goto out;
	}
	log_info("metrics listening on %s", listen);
	ret = m;
	m = NULL;
out:
	free(host);
	metrics_free(m);
	return ret;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m);
}
