/*
 * The standalone http-01 responder (RFC 8555 §8.3): libevent's HTTP server
 * on http-01-listen, answering GET /.well-known/acme-challenge/<token>
 * with the key authorization of a published token.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "util.h"
#include "../config.h"
#include "challenge.h"

#define HTTP01_PREFIX	"/.well-known/acme-challenge/"

struct http01_token {
	TAILQ_ENTRY(http01_token) entry;
	char		*token;
	char		*key_authorization;
};

struct http01 {
	struct evhttp			*http;
	TAILQ_HEAD(, http01_token)	 tokens;
};

static struct http01_token *
http01_find(struct http01 *h, const char *token)
{
	struct http01_token	*t;

	TAILQ_FOREACH(t, &h->tokens, entry)
		if (strcmp(t->token, token) == 0)
			return t;
	return NULL;
}

static void
http01_request_cb(struct evhttp_request *req, void *arg)
{
	struct http01		*h = arg;
	const char		*path;
	struct http01_token	*t = NULL;
	struct evbuffer		*buf;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (path != NULL && strncmp(path, HTTP01_PREFIX,
	    strlen(HTTP01_PREFIX)) == 0)
		t = http01_find(h, path + strlen(HTTP01_PREFIX));
	if (t == NULL) {
		log_debug("http-01: no answer for %s",
		    path != NULL ? path : "?");
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(buf, t->key_authorization, strlen(t->key_authorization));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/octet-stream");
	evhttp_send_reply(req, HTTP_OK, "OK", buf);
	evbuffer_free(buf);
	log_debug("http-01: answered token %s", t->token);
}

struct http01 *
http01_new(struct event_base *base, const char *listen, char **cause)
{
	struct http01	*h = NULL;
	char		*host = NULL;
	int		 port;

	if (listen_addr_parse(listen, &host, &port) == -1) {
		*cause = xasprintf("http-01-listen: bad address '%s'", listen);
		goto fail;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->http = evhttp_new(base)) == NULL) {
		*cause = xasprintf("http-01 responder: out of memory");
		goto fail;
	}
	TAILQ_INIT(&h->tokens);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_max_body_size(h->http, 0);
	evhttp_set_timeout(h->http, 30);
	evhttp_set_gencb(h->http, http01_request_cb, h);
	/* "*:80": IPv6 and IPv4 on one socket, else IPv4 alone. */
	if ((*host == '\0' ? evhttp_bind_socket_with_handle(h->http, "::",
	    port) == NULL && evhttp_bind_socket_with_handle(h->http, "0.0.0.0",
	    port) == NULL : evhttp_bind_socket_with_handle(h->http, host,
	    port) == NULL)) {
		*cause = xasprintf("http-01 responder: cannot listen on %s: %m",
		    listen);
		goto fail;
	}
	log_info("http-01 responder listening on %s", listen);
	free(host);
	return h;
fail:
	free(host);
	http01_free(h);
	return NULL;
}

void
http01_free(struct http01 *h)
{
	struct http01_token	*t;

	if (h == NULL)
		return;
	while ((t = TAILQ_FIRST(&h->tokens)) != NULL) {
		TAILQ_REMOVE(&h->tokens, t, entry);
		free(t->token);
		free(t->key_authorization);
		free(t);
	}
	if (h->http != NULL)
		evhttp_free(h->http);
	free(h);
}

int
http01_add(struct http01 *h, const char *token, const char *keyauth)
{
	struct http01_token	*t;
	char			*copy;

	if ((copy = strdup(keyauth)) == NULL)
		return -1;
	if ((t = http01_find(h, token)) != NULL) {
		free(t->key_authorization);
		t->key_authorization = copy;
		return 0;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->token = strdup(token)) == NULL) {
		free(t);
		free(copy);
		return -1;
	}
	t->key_authorization = copy;
	TAILQ_INSERT_TAIL(&h->tokens, t, entry);
	return 0;
}

void
http01_remove(struct http01 *h, const char *token)
{
	struct http01_token	*t;

	if ((t = http01_find(h, token)) == NULL)
		return;
	TAILQ_REMOVE(&h->tokens, t, entry);
	free(t->token);
	free(t->key_authorization);
	free(t);
}
