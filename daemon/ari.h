/*
 * ACME Renewal Information (RFC 9773): the CA's suggested window for
 * renewing each certificate, fetched from the issuing CA's renewalInfo
 * and fetched again as its Retry-After says.
 */
#ifndef DAEMON_ARI_H
#define DAEMON_ARI_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

struct cert;

/* Stops fetching (and frees the timer); in cert_free too. */
void	 ari_stop(struct cert *);
/* A certificate is in service: fetch its window when due. */
void	 ari_watch(struct cert *);
/* Whether the state holds a usable window for the certificate in service. */
bool	 ari_window_known(const struct cert *);
/*
 * The moment to renew inside the window: at once if it has passed (the
 * CA's signal, e.g. after a mass revocation), the remembered moment if it
 * still lies inside, else a random moment in what is left of it.
 */
time_t	 ari_moment(const struct cert *, time_t now);
/* A renewalInfo answer: {"suggestedWindow": {"start": T, "end": T}},
 * RFC 3339 times, start before end.  0, or -1 if it is not one. */
int	 ari_parse(const json_t *body, time_t *start, time_t *end);

#endif
