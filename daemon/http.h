/*
 * HTTP over libcurl's multi-socket API, driven by the libevent loop.  This
 * is the only file that touches CURLM.  Nothing here blocks.
 */
#ifndef DAEMON_HTTP_H
#define DAEMON_HTTP_H

#include <stddef.h>

struct event_base;
struct http;
struct http_xfer;

struct http_request {
	const char	*method;	/* "GET", "POST", "HEAD" */
	const char	*url;
	const char	*body;		/* POST only */
	size_t		 body_len;
	const char	*content_type;	/* POST only */
	const char	*ca_file;	/* NULL: system store */
	long		 timeout_ms;	/* 0: HTTP_DEFAULT_TIMEOUT_MS */
	size_t		 max_body;	/* 0: HTTP_DEFAULT_MAX_BODY */
};

#define HTTP_DEFAULT_TIMEOUT_MS	(30 * 1000)
#define HTTP_DEFAULT_MAX_BODY	(1024 * 1024)

/* Everything is borrowed for the duration of the callback. */
struct http_response {
	long		 status;	/* 0: the transfer failed, see error */
	const char	*error;		/* curl's reason, NULL on success */
	const char	*body;		/* NUL-terminated */
	size_t		 body_len;
	const char	*replay_nonce;
	const char	*location;
	const char	*content_type;
	long long	 retry_after;	/* seconds from now, -1 when absent */
	char *const	*links;		/* raw values of Link headers */
	size_t		 nlinks;
	double		 seconds;	/* total time */
};

typedef void (*http_done_cb)(const struct http_response *, void *arg);

struct http	*http_new(struct event_base *);
/* Cancels every transfer without calling back. */
void		 http_free(struct http *);
/* NULL if the request could not even be started (logged). */
struct http_xfer *http_request(struct http *, const struct http_request *,
		    http_done_cb, void *arg);
/* The callback will not run. */
void		 http_cancel(struct http_xfer *);

#endif
