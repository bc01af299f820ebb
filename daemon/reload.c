/*
 * Configuration reload (SIGHUP, `acmectl reload`): the whole config is
 * read again and refused as a whole if it has any error, the old one
 * staying in force.  Otherwise: added certificates are scheduled, removed
 * ones are no longer managed (their files stay), changed ones are checked
 * again; CAs keep their accounts; listeners follow their addresses.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "util.h"
#include "acme/acme.h"
#include "challenge/challenge.h"
#include "daemon.h"

/* Keys that only a restart can change keep their running values. */
static void
reload_keep(const char *key, char **newval, const char *oldval)
{
	if (str_eq(*newval, oldval))
		return;
	log_warnx("reload: %s changes only at restart; still %s", key,
	    oldval != NULL ? oldval : "(none)");
	free(*newval);
	*newval = oldval != NULL ? strdup(oldval) : NULL;
}

/* CA clients for the new config: kept (with their account) by name. */
static int
reload_cas(struct daemon *d, struct config *conf)
{
	const struct conf_ca	*ca;
	struct ca_slot		*slots;
	struct acme_client	*client;
	size_t			 n = 0, i;

	TAILQ_FOREACH(ca, &conf->cas, entry)
		n++;
	if ((slots = calloc(n + 1, sizeof(*slots))) == NULL)
		return -1;
	n = 0;
	TAILQ_FOREACH(ca, &conf->cas, entry) {
		client = NULL;
		for (i = 0; i < d->ncas; i++) {
			if (d->cas[i].client != NULL &&
			    strcmp(d->cas[i].name, ca->name) == 0) {
				client = d->cas[i].client;
				d->cas[i].client = NULL;
				acme_client_set_conf(client, ca);
				break;
			}
		}
		if (client == NULL)
			client = acme_client_new(d->base, d->http, &d->keygens,
			    ca, conf->daemon.state_dir);
		slots[n].name = strdup(ca->name);
		slots[n++].client = client;
		if (client == NULL || slots[n - 1].name == NULL)
			goto fail;
	}
	/* What is left belongs to removed CAs: no job uses them any more. */
	for (i = 0; i < d->ncas; i++) {
		if (d->cas[i].client != NULL)
			admin_drop_ca(d, d->cas[i].client);
		acme_client_free(d->cas[i].client);
		free(d->cas[i].name);
	}
	free(d->cas);
	d->cas = slots;
	d->ncas = n;
	return 0;
fail:
	log_warnx("reload: out of memory");
	for (i = 0; i < n; i++)
		free(slots[i].name);
	free(slots);
	return -1;
}

/* A running renewal survives a reload only if nothing it uses changed. */
static bool
reload_job_survives(const struct cert *c, const struct conf_cert *cc,
    const struct config *conf)
{
	const struct conf_ca	*oldca, *newca;
	size_t			 i;

	if (!config_cert_equal(c->conf, cc))
		return false;
	for (i = 0; i < cc->ca.n; i++) {
		oldca = config_find_ca(c->d->conf, cc->ca.v[i]);
		newca = config_find_ca(conf, cc->ca.v[i]);
		if (oldca == NULL || newca == NULL ||
		    strcmp(oldca->directory, newca->directory) != 0)
			return false;
	}
	return true;
}

/* Builds the new certificate list; removed certificates are freed. */
static void
reload_certs(struct daemon *d, struct config *conf, struct cert_list *fresh)
{
	const struct conf_cert	*cc;
	struct cert		*c;

	TAILQ_FOREACH(cc, &conf->certs, entry) {
		if ((c = daemon_cert(d, cc->name)) != NULL) {
			TAILQ_REMOVE(&d->certs, c, entry);
			if (reload_job_survives(c, cc, conf)) {
				c->conf = cc;	/* same content */
				TAILQ_INSERT_TAIL(fresh, c, entry);
				continue;
			}
			log_tagged(LOG_INFO, &(struct log_tag){ .name = c->name },
			    "reload: configuration changed; checking again");
			cert_abandon(c);
			c->conf = cc;
			c->needs_check = true;
		} else if ((c = cert_new(d, cc)) == NULL) {
			log_warnx("reload: out of memory for %s", cc->name);
			continue;
		} else {
			log_tagged(LOG_INFO, &(struct log_tag){ .name = c->name },
			    "reload: new certificate");
			c->needs_start = true;
		}
		TAILQ_INSERT_TAIL(fresh, c, entry);
	}
	while ((c = TAILQ_FIRST(&d->certs)) != NULL) {
		TAILQ_REMOVE(&d->certs, c, entry);
		log_tagged(LOG_INFO, &(struct log_tag){ .name = c->name },
		    "reload: no longer managed (its files stay)");
		cert_abandon(c);
		cert_free(c);
	}
}

/* Opens, moves or closes a challenge listener to match the config. */
static void
reload_listeners(struct daemon *d, const struct config *old)
{
	char	*cause = NULL;
	bool	 moved;

	moved = !str_eq(old->daemon.http01_listen,
	    d->conf->daemon.http01_listen);
	if (d->http01 != NULL && (moved ||
	    !daemon_uses(d, CHALLENGE_HTTP01, true))) {
		http01_free(d->http01);
		d->http01 = NULL;
	}
	if (d->http01 == NULL && daemon_uses(d, CHALLENGE_HTTP01, true) &&
	    (d->http01 = http01_new(d->base, d->conf->daemon.http01_listen,
	    &cause)) == NULL) {
		log_warnx("reload: %s", cause);
		free(cause);
		cause = NULL;
	}
	moved = !str_eq(old->daemon.tlsalpn01_listen,
	    d->conf->daemon.tlsalpn01_listen);
	if (d->tlsalpn01 != NULL && (moved ||
	    !daemon_uses(d, CHALLENGE_TLSALPN01, false))) {
		tlsalpn01_free(d->tlsalpn01);
		d->tlsalpn01 = NULL;
	}
	if (d->tlsalpn01 == NULL && daemon_uses(d, CHALLENGE_TLSALPN01, false) &&
	    (d->tlsalpn01 = tlsalpn01_new(d->base,
	    d->conf->daemon.tlsalpn01_listen, &cause)) == NULL) {
		log_warnx("reload: %s", cause);
		free(cause);
	}
}

int
daemon_reload(struct daemon *d, struct config_errors *errs)
{
	struct config		*conf, *old = d->conf;
	struct cert_list	 fresh;
	struct cert		*c;
	size_t			 i, before = errs->count;

	sd_notify(0, "RELOADING=1");
	if ((conf = config_load(old->path, errs)) == NULL) {
		for (i = before; i < errs->count; i++)
			log_warnx("reload refused: %s", errs->msg[i]);
		log_warnx("reload refused: the running configuration stays");
		sd_notify(0, "READY=1");
		return -1;
	}
	reload_keep("state-dir", &conf->daemon.state_dir, old->daemon.state_dir);
	reload_keep("control-socket", &conf->daemon.control_socket,
	    old->daemon.control_socket);
	reload_keep("control-group", &conf->daemon.control_group,
	    old->daemon.control_group);
	reload_keep("metrics-listen", &conf->daemon.metrics_listen,
	    old->daemon.metrics_listen);

	TAILQ_INIT(&fresh);
	reload_certs(d, conf, &fresh);	/* before the CAs: jobs drop theirs */
	if (reload_cas(d, conf) == -1) {
		/* Out of memory: carry on with what we have. */
		log_warnx("reload: CA clients not updated");
	}
	TAILQ_CONCAT(&d->certs, &fresh, entry);
	d->conf = conf;
	log_setlevel(d->debug ? LOG_DEBUG : conf->daemon.log_level);
	reload_listeners(d, old);
	TAILQ_FOREACH(c, &d->certs, entry) {
		if (c->needs_start)
			cert_start(c);
		else if (c->needs_check)
			cert_recheck(c);
		c->needs_start = c->needs_check = false;
	}
	config_free(old);
	log_notice("configuration reloaded: %zu certificate%s",
	    daemon_count_certs(d), daemon_count_certs(d) == 1 ? "" : "s");
	daemon_slot_freed(d);
	sd_notify(0, "READY=1");
	daemon_trim_later(d);	/* the old configuration's garbage */
	return 0;
}
