/*
 * HTTP transfers through libcurl's multi-socket interface, bridged to the
 * daemon's libevent loop: curl tells us which sockets to watch and when to
 * wake it (sock_cb, multi_timer_cb); libevent tells curl what happened
 * (http_event_cb, http_timer_cb).  Finished transfers are reaped in
 * http_reap() and handed to their owner's callback.
 */

#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "log.h"
#include "http.h"

#define HTTP_CONNECT_TIMEOUT_MS	(10 * 1000)
#define HTTP_MAX_HEADER		8192
#define HTTP_MAX_LINKS		16

struct http_sock {
	struct http		*h;
	curl_socket_t		 fd;
	struct event		 ev;
};

struct http_xfer {
	TAILQ_ENTRY(http_xfer)	 entry;
	struct http		*h;
	CURL			*easy;
	struct curl_slist	*headers;
	char			 errbuf[CURL_ERROR_SIZE];
	char			*body;
	size_t			 body_len;
	size_t			 max_body;
	bool			 too_big;
	char			*replay_nonce;
	char			*location;
	char			*content_type;
	char			*links[HTTP_MAX_LINKS];
	size_t			 nlinks;
	http_done_cb		 cb;
	void			*arg;
};

struct http {
	struct event_base	*base;
	CURLM			*multi;
	struct event		 timer;
	TAILQ_HEAD(, http_xfer)	 xfers;
};

static void	http_reap(struct http *);

static void
xfer_free(struct http_xfer *x)
{
	size_t	i;

	if (x == NULL)
		return;
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->body);
	free(x->replay_nonce);
	free(x->location);
	free(x->content_type);
	for (i = 0; i < x->nlinks; i++)
		free(x->links[i]);
	free(x);
}

/* Response headers of interest; reset whenever a new status line starts
 * (e.g. after "100 Continue"). */
static size_t
http_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 len = size * n;
	const char		*colon;
	char			*value, **slot = NULL;
	size_t			 namelen, i;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(x->replay_nonce);
		free(x->location);
		free(x->content_type);
		x->replay_nonce = x->location = x->content_type = NULL;
		for (i = 0; i < x->nlinks; i++)
			free(x->links[i]);
		x->nlinks = 0;
		return len;
	}
	if (len > HTTP_MAX_HEADER || (colon = memchr(data, ':', len)) == NULL)
		return len;
	namelen = colon - data;
	if (namelen == 12 && strncasecmp(data, "Replay-Nonce", 12) == 0)
		slot = &x->replay_nonce;
	else if (namelen == 8 && strncasecmp(data, "Location", 8) == 0)
		slot = &x->location;
	else if (namelen == 12 && strncasecmp(data, "Content-Type", 12) == 0)
		slot = &x->content_type;
	else if (namelen == 4 && strncasecmp(data, "Link", 4) == 0) {
		if (x->nlinks == HTTP_MAX_LINKS)
			return len;
		slot = &x->links[x->nlinks++];
	} else
		return len;

	data = (char *)colon + 1;
	len -= namelen + 1;
	while (len > 0 && (*data == ' ' || *data == '\t'))
		data++, len--;
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n' ||
	    data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	if ((value = strndup(data, len)) == NULL)
		return 0;	/* aborts the transfer */
	free(*slot);
	*slot = value;
	return size * n;
}

static size_t
http_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 len = size * n;
	char			*p;

	if (x->body_len + len > x->max_body) {
		x->too_big = true;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	if ((p = realloc(x->body, x->body_len + len + 1)) == NULL)
		return 0;
	memcpy(p + x->body_len, data, len);
	x->body = p;
	x->body_len += len;
	x->body[x->body_len] = '\0';
	return len;
}

static void
http_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sock	*hs = arg;
	struct http		*h = hs->h;
	int			 action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	/* hs may be freed inside (CURL_POLL_REMOVE): use only h after. */
	curl_multi_socket_action(h->multi, fd, action, &running);
	http_reap(h);
}

static void
http_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http	*h = arg;
	int		 running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_reap(h);
}

/* CURLMOPT_SOCKETFUNCTION: (re)arm or drop the event for one socket. */
static int
http_sock_cb(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct http		*h = arg;
	struct http_sock	*hs = sockp;
	short			 kind = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			event_del(&hs->ev);
			curl_multi_assign(h->multi, fd, NULL);
			free(hs);
		}
		return 0;
	}
	if (hs == NULL) {
		if ((hs = calloc(1, sizeof(*hs))) == NULL) {
			log_warn("http socket");
			return -1;
		}
		hs->h = h;
		hs->fd = fd;
		curl_multi_assign(h->multi, fd, hs);
	} else
		event_del(&hs->ev);
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	event_assign(&hs->ev, h->base, fd, kind, http_event_cb, hs);
	event_add(&hs->ev, NULL);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: never calls back into libcurl from here. */
static int
http_multi_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct http	*h = arg;
	struct timeval	 tv;

	if (timeout_ms < 0) {
		evtimer_del(&h->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(&h->timer, &tv);
	return 0;
}

static void
http_finish(struct http_xfer *x, CURLcode rc)
{
	struct http_response	 resp;
	curl_off_t		 retry = -1;
	char			*error = NULL;

	memset(&resp, 0, sizeof(resp));
	resp.body = x->body != NULL ? x->body : "";
	resp.body_len = x->body_len;
	resp.replay_nonce = x->replay_nonce;
	resp.location = x->location;
	resp.content_type = x->content_type;
	resp.links = x->links;
	resp.nlinks = x->nlinks;
	resp.retry_after = -1;
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &resp.seconds);

	if (rc == CURLE_OK) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp.status);
		/* Seconds, from either form of Retry-After (delay or date). */
		if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &retry) ==
		    CURLE_OK && retry > 0)
			resp.retry_after = retry;
	} else if (x->too_big) {
		if (asprintf(&error, "response body larger than %zu bytes",
		    x->max_body) == -1)
			error = NULL;
	} else if (x->errbuf[0] != '\0') {
		if (asprintf(&error, "%s (%s)", curl_easy_strerror(rc),
		    x->errbuf) == -1)
			error = NULL;
	}
	if (rc != CURLE_OK)
		resp.error = error != NULL ? error : curl_easy_strerror(rc);
	x->cb(&resp, x->arg);
	free(error);
}

/* Hands every finished transfer to its owner, then frees it. */
static void
http_reap(struct http *h)
{
	CURLMsg			*msg;
	int			 pending;
	struct http_xfer	*x;
	CURLcode		 rc;

	while ((msg = curl_multi_info_read(h->multi, &pending)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg dies with curl_multi_remove_handle: copy first. */
		rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
		curl_multi_remove_handle(h->multi, x->easy);
		TAILQ_REMOVE(&h->xfers, x, entry);
		http_finish(x, rc);
		xfer_free(x);
	}
}

struct http *
http_new(struct event_base *base)
{
	struct http	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->base = base;
	TAILQ_INIT(&h->xfers);
	if ((h->multi = curl_multi_init()) == NULL) {
		free(h);
		return NULL;
	}
	evtimer_assign(&h->timer, base, http_timer_cb, h);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_multi_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

void
http_free(struct http *h)
{
	struct http_xfer	*x;

	if (h == NULL)
		return;
	while ((x = TAILQ_FIRST(&h->xfers)) != NULL)
		http_cancel(x);
	/* May still call http_sock_cb with CURL_POLL_REMOVE. */
	curl_multi_cleanup(h->multi);
	evtimer_del(&h->timer);
	free(h);
}

static int
xfer_setup(struct http_xfer *x, const struct http_request *req)
{
	CURL	*e = x->easy;
	char	*ct = NULL;
	int	 rc = -1;

	if (curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK)
		goto out;
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    req->timeout_ms > 0 ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	if (req->ca_file != NULL) {
		/* Only this bundle: no system store, no environment. */
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
		    req->body != NULL ? req->body : "");
		if (req->content_type != NULL) {
			if (asprintf(&ct, "Content-Type: %s",
			    req->content_type) == -1) {
				ct = NULL;
				goto out;
			}
			if ((x->headers = curl_slist_append(x->headers, ct)) == NULL)
				goto out;
		}
		/* No "Expect: 100-continue" round trip. */
		if ((x->headers = curl_slist_append(x->headers, "Expect:")) == NULL)
			goto out;
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	}
	rc = 0;
out:
	free(ct);
	return rc;
}

struct http_xfer *
http_request(struct http *h, const struct http_request *req,
    http_done_cb cb, void *arg)
{
	struct http_xfer	*x;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		log_warn("http request");
		return NULL;
	}
	x->h = h;
	x->cb = cb;
	x->arg = arg;
	x->max_body = req->max_body > 0 ? req->max_body : HTTP_DEFAULT_MAX_BODY;
	if ((x->easy = curl_easy_init()) == NULL || xfer_setup(x, req) == -1) {
		log_warnx("cannot set up request to %s", req->url);
		xfer_free(x);
		return NULL;
	}
	if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		log_warnx("cannot start request to %s", req->url);
		xfer_free(x);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&h->xfers, x, entry);
	log_debug("%s %s", req->method, req->url);
	return x;
}

void
http_cancel(struct http_xfer *x)
{
	if (x == NULL)
		return;
	curl_multi_remove_handle(x->h->multi, x->easy);
	TAILQ_REMOVE(&x->h->xfers, x, entry);
	xfer_free(x);
}
