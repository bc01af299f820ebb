/* Revocation and account key rollover; see admin.h. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "b64url.h"
#include "log.h"
#include "util.h"
#include "acme/acme.h"
#include "admin.h"
#include "daemon.h"
#include "fsutil.h"
#include "keygen.h"
#include "store.h"

struct admin_job {
	TAILQ_ENTRY(admin_job)	 entry;
	struct daemon		*d;
	char			*target;	/* certificate or CA name */
	struct acme_client	*ca;
	admin_done_cb		 done;
	void			*arg;
	struct acme_op		*op;
	struct keygen		*keygen;
	EVP_PKEY		*newkey;
	char			*serial;
	int			 reason;
};

static const char *const reason_names[] = {
	[0] = "unspecified",
	[1] = "keyCompromise",
	[2] = "cACompromise",
	[3] = "affiliationChanged",
	[4] = "superseded",
	[5] = "cessationOfOperation",
	[6] = "certificateHold",
	/* 7 is not used */
	[8] = "removeFromCRL",
	[9] = "privilegeWithdrawn",
	[10] = "aACompromise",
};

int
admin_reason_code(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++)
		if (reason_names[i] != NULL && strcmp(reason_names[i], name) == 0)
			return (int)i;
	return -1;
}

static struct admin_job *
admin_job_new(struct daemon *d, const char *target, admin_done_cb done,
    void *arg)
{
	struct admin_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->target = strdup(target)) == NULL) {
		free(j);
		return NULL;
	}
	j->d = d;
	j->done = done;
	j->arg = arg;
	j->reason = -1;
	TAILQ_INSERT_TAIL(&d->admin, j, entry);
	return j;
}

static void
admin_job_free(struct admin_job *j)
{
	TAILQ_REMOVE(&j->d->admin, j, entry);
	acme_op_cancel(j->op);
	keygen_cancel(j->keygen);
	EVP_PKEY_free(j->newkey);
	free(j->serial);
	free(j->target);
	free(j);
}

/* Tells the caller (result, or msg when NULL) and frees the job. */
static void
admin_finish(struct admin_job *j, json_t *result, const char *msg)
{
	j->done(result, result != NULL ? NULL : msg, j->arg);
	admin_job_free(j);
}

void
admin_free_all(struct daemon *d)
{
	while (!TAILQ_EMPTY(&d->admin))
		admin_finish(TAILQ_FIRST(&d->admin), NULL,
		    "the daemon is shutting down");
}

/* --- revoke ---------------------------------------------------------- */

static void
admin_revoked_cb(const struct acme_response *resp, void *arg)
{
	struct admin_job	*j = arg;
	struct cert		*c;
	json_t			*result;

	j->op = NULL;
	if (resp->error != NULL) {
		log_tagged(LOG_WARNING, &(struct log_tag){ .name = j->target },
		    "revocation failed: %s", resp->error);
		admin_finish(j, NULL, resp->error);
		return;
	}
	log_tagged(LOG_NOTICE, &(struct log_tag){ .name = j->target },
	    "certificate %s revoked (%s); issuing a new one", j->serial,
	    reason_names[j->reason < 0 ? 0 : j->reason]);
	/* The revoked certificate must not stay in service: a new one now. */
	if ((c = daemon_cert(j->d, j->target)) != NULL && c->job == NULL)
		cert_renew_now(c);
	result = json_pack("{s:s, s:s, s:s, s:b}", "name", j->target,
	    "revoked", j->serial, "reason",
	    reason_names[j->reason < 0 ? 0 : j->reason],
	    "renewal_started", c != NULL);
	admin_finish(j, result, "out of memory");
}

/* The current certificate as revokeCert wants it: base64url DER. */
static char *
admin_cert_der64(const char *pem)
{
	BIO		*bio;
	X509		*x = NULL;
	unsigned char	*der = NULL;
	char		*b64 = NULL;
	int		 len;

	if ((bio = BIO_new_mem_buf(pem, -1)) != NULL &&
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL &&
	    (len = i2d_X509(x, &der)) > 0)
		b64 = b64url_encode(der, (size_t)len);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	return b64;
}

int
admin_revoke(struct daemon *d, const char *name, int reason,
    admin_done_cb done, void *arg, char **cause)
{
	struct cert		*c = daemon_cert(d, name);
	struct store_files	 files = { .key_pem = NULL };
	struct admin_job	*j = NULL;
	json_t			*payload = NULL;
	char			*der = NULL;
	const char		*caname;
	int			 rc = -1;

	if (c == NULL || !c->have_cert) {
		*cause = xasprintf(c == NULL ? "no certificate named '%s'" :
		    "'%s' has no certificate to revoke", name);
		return -1;
	}
	caname = c->st.ca != NULL ? c->st.ca : cert_ca_name(c);
	if (daemon_ca(d, caname) == NULL) {
		*cause = xasprintf("'%s' was issued by CA %s, which is no "
		    "longer configured", name, caname);
		return -1;
	}
	if (store_read_current(d->conf->daemon.state_dir, name, &files,
	    cause) == -1)
		goto out;
	if ((der = admin_cert_der64(files.cert_pem)) == NULL ||
	    (payload = json_pack("{s:s}", "certificate", der)) == NULL ||
	    (reason >= 0 && json_object_set_new(payload, "reason",
	    json_integer(reason)) == -1) ||
	    (j = admin_job_new(d, name, done, arg)) == NULL ||
	    (j->serial = strdup(c->st.current.info.serial)) == NULL) {
		*cause = xasprintf("out of memory");
		goto out;
	}
	j->reason = reason;
	j->ca = daemon_ca(d, caname);
	if ((j->op = acme_post_res(j->ca, ACME_EP_REVOKE, "revokeCert", payload,
	    admin_revoked_cb, j)) == NULL) {
		*cause = xasprintf("out of memory");
		goto out;
	}
	j = NULL;
	rc = 0;
out:
	if (j != NULL)
		admin_job_free(j);	/* unanswered: rc is -1 */
	json_decref(payload);
	free(der);
	store_files_clear(&files);
	return rc;
}

/* --- rollover -------------------------------------------------------- */

static void
admin_key_changed_cb(const struct acme_response *resp, void *arg)
{
	struct admin_job	*j = arg;
	char			*cause = NULL;
	json_t			*result;

	j->op = NULL;
	if (resp->error != NULL) {
		acme_client_unstage_key(j->ca);
		log_tagged(LOG_WARNING, &(struct log_tag){ .ca = j->target },
		    "account key rollover refused: %s", resp->error);
		admin_finish(j, NULL, resp->error);
		return;
	}
	/* Accepted: from now on only the new key works. */
	if (acme_client_set_key(j->ca, j->newkey, &cause) == -1) {
		log_tagged(LOG_ERR, &(struct log_tag){ .ca = j->target },
		    "the CA accepted the new account key but it could not be "
		    "stored: %s; it is in account-key.pem.next", cause);
		admin_finish(j, NULL, cause != NULL ? cause : "cannot store");
		free(cause);
		return;
	}
	j->newkey = NULL;	/* the client's now */
	log_tagged(LOG_NOTICE, &(struct log_tag){ .ca = j->target },
	    "account key replaced");
	result = json_pack("{s:s, s:s?}", "ca", j->target, "account",
	    acme_client_kid(j->ca));
	admin_finish(j, result, "out of memory");
}

static void
admin_key_made_cb(EVP_PKEY *key, void *arg)
{
	struct admin_job	*j = arg;
	char			*cause = NULL;

	j->keygen = NULL;
	if ((j->newkey = key) == NULL) {
		admin_finish(j, NULL, "cannot make a new account key");
		return;
	}
	if (acme_client_stage_key(j->ca, key, &cause) == -1) {
		admin_finish(j, NULL, cause != NULL ? cause : "cannot stage");
		free(cause);
		return;
	}
	if ((j->op = acme_client_key_change(j->ca, key, admin_key_changed_cb,
	    j)) == NULL) {
		acme_client_unstage_key(j->ca);
		admin_finish(j, NULL, "cannot build the keyChange request "
		    "(does the CA offer keyChange?)");
	}
}

static void
admin_account_ready_cb(const struct acme_response *resp, void *arg)
{
	struct admin_job	*j = arg;
	const struct conf_ca	*conf = config_find_ca(j->d->conf, j->target);

	j->op = NULL;
	if (resp->error != NULL) {
		admin_finish(j, NULL, resp->error);
		return;
	}
	if (conf == NULL || (j->keygen = keygen_start(j->d->base,
	    &j->d->keygens, &conf->account_key, admin_key_made_cb,
	    j)) == NULL)
		admin_finish(j, NULL, "cannot start key generation");
}

int
admin_rollover(struct daemon *d, const char *name, admin_done_cb done,
    void *arg, char **cause)
{
	struct acme_client	*ca = daemon_ca(d, name);
	struct admin_job	*j;

	if (ca == NULL) {
		*cause = xasprintf("no CA named '%s'", name);
		return -1;
	}
	if ((j = admin_job_new(d, name, done, arg)) == NULL) {
		*cause = xasprintf("out of memory");
		return -1;
	}
	j->ca = ca;
	if ((j->op = acme_client_ready(ca, admin_account_ready_cb, j)) == NULL) {
		admin_job_free(j);
		*cause = xasprintf("out of memory");
		return -1;
	}
	return 0;
}

void
admin_drop_ca(struct daemon *d, const struct acme_client *ca)
{
	struct admin_job	*j, *next;

	for (j = TAILQ_FIRST(&d->admin); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->ca == ca)
			admin_finish(j, NULL, "the CA was removed by a reload");
	}
}
