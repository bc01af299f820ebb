/* Challenge responders. */
#ifndef DAEMON_CHALLENGE_CHALLENGE_H
#define DAEMON_CHALLENGE_CHALLENGE_H

struct event_base;
struct http01;

/*
 * http01.c: the standalone http-01 responder on http-01-listen.  Answers
 * GET /.well-known/acme-challenge/<token> with the key authorization of a
 * token that was added, 404 otherwise.
 */
struct http01	*http01_new(struct event_base *, const char *listen,
		    char **cause);
void		 http01_free(struct http01 *);
/* Copies both strings; adding a token again replaces it.  0 or -1. */
int		 http01_add(struct http01 *, const char *token,
		    const char *key_authorization);
void		 http01_remove(struct http01 *, const char *token);

#endif
