/*
 * The Prometheus endpoint (DESIGN.md "Metrics"): libevent's HTTP server on
 * metrics-listen answering GET /metrics in the text format 0.0.4.  A
 * scrape renders everything into one evbuffer from what struct daemon
 * holds and hands it to evhttp: it never waits on anything.
 */
#ifndef DAEMON_METRICS_H
#define DAEMON_METRICS_H

#include <stddef.h>

struct acme_endpoint_stats;
struct daemon;
struct evbuffer;
struct metrics;

/* One CA's request statistics, as metrics_render_acme takes them. */
struct metrics_ca {
	const char				*name;
	const struct acme_endpoint_stats	*stats;	/* ACME_EP__MAX */
};

/*
 * Listens on listen ("HOST:PORT", "[V6]:PORT", "*:PORT").  NULL with
 * *cause (malloc'd, naming metrics-listen) when it cannot.
 */
struct metrics	*metrics_new(struct daemon *, const char *listen, char **cause);
void		 metrics_free(struct metrics *);

/* Appends the whole exposition to out.  0, or -1 if memory ran out. */
int		 metrics_render(struct daemon *, struct evbuffer *out);

/* The pieces of metrics_render, for the tests.  0, or -1. */
/* acme_renewd_acme_requests_total and the duration histogram. */
int		 metrics_render_acme(struct evbuffer *, const struct metrics_ca *,
		    size_t n);
/* A label value escaped as the text format wants (\\, \", \n). */
int		 metrics_escape(struct evbuffer *, const char *);

#endif
