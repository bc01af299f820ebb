/*
 * The account at one ACME server (RFC 8555 §7.3): its key, loaded from
 * or made into state-dir/accounts/<ca>/account-key.pem (0600, before it
 * is ever used), registration or lookup with newAccount (External
 * Account Binding where the CA wants it), account.json, and key rollover
 * (§7.3.5) with the new key staged on disk before it is proposed.  Every
 * file is reached without following a symbolic link below the state
 * directory.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "util.h"
#include "../fsutil.h"
#include "../keygen.h"
#include "acme.h"
#include "client.h"

static void	account_done_cb(const struct acme_response *, void *);

/*
 * The account directory, opened without following a symbolic link below
 * the state directory (fs_open_beneath); -1 with *cause.
 */
static int
account_dir_open(struct acme_client *c, bool create, char **cause)
{
	char	*rel = fs_path("accounts/%s", c->name);
	int	 fd;

	fd = fs_open_beneath(c->state_dir, rel, create, 0700, cause);
	free(rel);
	return fd;
}

/* Loads the account key: 0, 1 when there is none yet, -1 with *cause. */
static int
account_key_load(struct acme_client *c, char **cause)
{
	char		*path = NULL, *pem = NULL;
	size_t		 len;
	int		 dfd, rc = -1;

	/* A link in place of the directory is refused here already. */
	if ((dfd = account_dir_open(c, false, cause)) == -1) {
		if (errno == ENOENT) {
			free(*cause);
			*cause = NULL;
			rc = 1;
		}
		goto out;
	}
	close(dfd);
	path = fs_path("%s/account-key.pem", c->account_dir);
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		rc = 1;
		goto out;
	}
	if ((pem = fs_read_file(path, 1 << 20, &len, cause)) == NULL)
		goto out;
	if ((c->key = keystore_from_pem(pem)) == NULL) {
		*cause = xasprintf("%s: not a private key", path);
		goto out;
	}
	rc = 0;
out:
	if (pem != NULL)
		OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	free(path);
	return rc;
}

/* Stores a new account key (0600) before it is ever used. */
static int
account_key_store(struct acme_client *c, EVP_PKEY *key, char **cause)
{
	char		*pem = NULL;
	int		 dfd, rc = -1;

	if ((dfd = account_dir_open(c, true, cause)) == -1)
		goto out;
	if ((pem = keystore_to_pem(key)) == NULL) {
		*cause = xasprintf("cannot serialize the account key");
		goto out;
	}
	if (fs_write_atomic_at(dfd, c->account_dir, "account-key.pem", pem,
	    strlen(pem), 0600, (uid_t)-1, (gid_t)-1, cause) == -1)
		goto out;
	client_log(c, LOG_INFO, "new account key in %s/account-key.pem",
	    c->account_dir);
	rc = 0;
out:
	if (pem != NULL)
		OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	if (dfd != -1)
		close(dfd);
	return rc;
}

static void
account_save(struct acme_client *c)
{
	json_t		*doc = NULL, *contact;
	char		*text = NULL, *cause = NULL;
	size_t		 i;
	int		 dfd = -1;

	if ((contact = json_array()) == NULL)
		return;
	for (i = 0; i < c->conf->contact.n; i++)
		json_array_append_new(contact, json_string(c->conf->contact.v[i]));
	doc = json_pack("{s:s, s:s, s:o}", "kid", c->kid,
	    "directory", c->conf->directory, "contact", contact);
	if (doc == NULL || (text = json_dumps(doc, JSON_INDENT(2))) == NULL)
		goto out;
	if ((dfd = account_dir_open(c, true, &cause)) == -1 ||
	    fs_write_atomic_at(dfd, c->account_dir, "account.json", text,
	    strlen(text), 0600, (uid_t)-1, (gid_t)-1, &cause) == -1)
		client_log(c, LOG_WARNING, "%s", cause);
out:
	if (dfd != -1)
		close(dfd);
	json_decref(doc);
	free(text);
	free(cause);
}

/* Setup failed: every waiting request fails with the reason. */
static void
client_setup_failed(struct acme_client *c, const char *why)
{
	log_tagged(LOG_WARNING, &(struct log_tag){ .ca = c->name }, "%s", why);
	c->state = CLIENT_IDLE;
	client_fail_waiting(c, why, -1);
}

/* The externalAccountBinding member, or NULL with *cause. */
static json_t *
account_eab(struct acme_client *c, char **cause)
{
	unsigned char	*hmac;
	size_t		 hmaclen = 0;
	json_t		*eab;

	if ((hmac = config_eab_key_read(c->conf->eab_hmac_key_file, &hmaclen,
	    cause)) == NULL)
		return NULL;
	if ((eab = jws_eab(c->key, c->conf->eab_kid, hmac, hmaclen,
	    acme_client_url(c, "newAccount"))) == NULL)
		*cause = xasprintf("cannot build the external account binding");
	OPENSSL_cleanse(hmac, hmaclen);
	free(hmac);
	return eab;
}

static void
account_key_made_cb(EVP_PKEY *key, void *arg)
{
	struct acme_client	*c = arg;
	char			*cause = NULL;

	c->keygen = NULL;
	if (key == NULL) {
		client_setup_failed(c, "cannot make an account key");
		return;
	}
	if (account_key_store(c, key, &cause) == -1) {
		EVP_PKEY_free(key);
		client_setup_failed(c, cause != NULL ? cause : "account key");
		free(cause);
		return;
	}
	c->key = key;
	account_register(c);
}

void
account_register(struct acme_client *c)
{
	json_t		*payload, *contact, *eab = NULL;
	json_t		*meta;
	size_t		 i;
	char		*cause = NULL;

	c->state = CLIENT_ACCOUNT;
	if (c->key == NULL) {
		switch (account_key_load(c, &cause)) {
		case -1:
			client_setup_failed(c, cause != NULL ? cause :
			    "account key");
			free(cause);
			return;
		case 1:
			/* None yet: made off the loop, then we come back. */
			if ((c->keygen = keygen_start(c->base, c->keygens,
			    &c->conf->account_key, account_key_made_cb,
			    c)) == NULL)
				client_setup_failed(c, "cannot start key "
				    "generation");
			return;
		}
	}
	meta = json_object_get(c->directory, "meta");
	if (c->conf->eab_kid == NULL && json_is_true(json_object_get(meta,
	    "externalAccountRequired"))) {
		cause = xasprintf("CA %s requires External Account Binding: "
		    "set eab-kid and eab-hmac-key-file in [ca %s]", c->name,
		    c->name);
		client_setup_failed(c, cause != NULL ? cause : "EAB required");
		free(cause);
		return;
	}
	if (c->conf->eab_kid != NULL && (eab = account_eab(c, &cause)) == NULL) {
		client_setup_failed(c, cause != NULL ? cause : "EAB");
		free(cause);
		return;
	}
	contact = json_array();
	for (i = 0; contact != NULL && i < c->conf->contact.n; i++)
		json_array_append_new(contact, json_string(c->conf->contact.v[i]));
	payload = json_pack("{s:b, s:o, s:o*}", "termsOfServiceAgreed",
	    c->conf->accept_tos, "contact", contact,
	    "externalAccountBinding", eab);
	c->setup_op = client_op_new(c, ACME_EP_NEW_ACCOUNT, NULL, "newAccount",
	    payload, account_done_cb, c);
	json_decref(payload);
	if (c->setup_op == NULL) {
		client_setup_failed(c, "out of memory");
		return;
	}
	c->setup_op->use_jwk = true;
	client_op_send(c->setup_op);
}

static void
account_done_cb(const struct acme_response *resp, void *arg)
{
	struct acme_client	*c = arg;
	struct acme_op		*op;

	c->setup_op = NULL;
	if (resp->error != NULL || resp->location == NULL) {
		log_tagged(LOG_WARNING, &(struct log_tag){ .ca = c->name },
		    "account registration failed: %s",
		    resp->error != NULL ? resp->error : "no Location in answer");
		c->state = CLIENT_IDLE;
		client_fail_waiting(c, resp->error != NULL ? resp->error :
		    "account registration gave no Location", resp->retry_after);
		return;
	}
	free(c->kid);
	if ((c->kid = strdup(resp->location)) == NULL) {
		c->state = CLIENT_IDLE;
		client_fail_waiting(c, "out of memory", -1);
		return;
	}
	log_tagged(LOG_INFO, &(struct log_tag){ .ca = c->name },
	    "account %s %s", c->kid, resp->status == 201 ? "registered" : "found");
	account_save(c);
	c->state = CLIENT_READY;
	while ((op = TAILQ_FIRST(&c->waiting)) != NULL)
		client_op_send(op);
}

/* Removes the temporary files an interrupted write left (fsutil.h). */
void
account_sweep(struct acme_client *c)
{
	char	*cause = NULL;
	int	 dfd;

	if ((dfd = account_dir_open(c, false, &cause)) == -1) {
		if (errno != ENOENT)	/* ENOENT: no account yet */
			client_log(c, LOG_WARNING, "%s", cause);
	} else {
		(void)fs_sweep_tmp_at(dfd, c->account_dir);
		close(dfd);
	}
	free(cause);
}

/*
 * keyChange (RFC 8555 §7.3.5): the inner JWS, signed by the new key with
 * its jwk and no nonce, over {account, oldKey}; it is the payload of an
 * ordinary request signed by the current key.
 */
struct acme_op *
acme_client_key_change(struct acme_client *c, EVP_PKEY *newkey, acme_cb cb,
    void *arg)
{
	json_t		*inner_payload = NULL, *inner = NULL, *oldjwk = NULL;
	char		*text = NULL, *inner_text = NULL;
	const char	*url = acme_client_url(c, "keyChange");
	struct acme_op	*op = NULL;

	if (url == NULL || c->kid == NULL ||
	    (oldjwk = jws_jwk(c->key)) == NULL ||
	    (inner_payload = json_pack("{s:s, s:O}", "account", c->kid,
	    "oldKey", oldjwk)) == NULL ||
	    (text = json_dumps(inner_payload, JSON_COMPACT)) == NULL ||
	    (inner_text = jws_sign(newkey, NULL, NULL, url, text)) == NULL ||
	    (inner = json_loads(inner_text, 0, NULL)) == NULL)
		goto out;
	op = acme_post(c, ACME_EP_KEY_CHANGE, url, inner, cb, arg);
out:
	json_decref(oldjwk);
	json_decref(inner_payload);
	json_decref(inner);
	free(text);
	free(inner_text);
	return op;
}

/*
 * The CA accepted newkey: it replaces the account key, in memory and in
 * account-key.pem (atomically).  The caller staged the key beforehand.
 */
int
acme_client_set_key(struct acme_client *c, EVP_PKEY *newkey, char **cause)
{
	int	 dfd, rc = -1;

	if ((dfd = account_dir_open(c, false, cause)) == -1)
		goto out;
	if (renameat(dfd, "account-key.pem.next", dfd,
	    "account-key.pem") == -1) {
		*cause = xasprintf("rename %s/account-key.pem.next: %s",
		    c->account_dir, strerror(errno));
		goto out;
	}
	if (fsync(dfd) == -1) {
		*cause = xasprintf("fsync %s: %s", c->account_dir,
		    strerror(errno));
		goto out;
	}
	EVP_PKEY_free(c->key);
	c->key = newkey;
	rc = 0;
out:
	if (dfd != -1)
		close(dfd);
	return rc;
}

/* Writes the key a rollover is about to propose, before proposing it. */
int
acme_client_stage_key(struct acme_client *c, EVP_PKEY *newkey, char **cause)
{
	char	*pem = NULL;
	int	 dfd, rc = -1;

	if ((dfd = account_dir_open(c, true, cause)) == -1)
		goto out;
	if ((pem = keystore_to_pem(newkey)) == NULL) {
		*cause = xasprintf("cannot serialize the new account key");
		goto out;
	}
	rc = fs_write_atomic_at(dfd, c->account_dir, "account-key.pem.next",
	    pem, strlen(pem), 0600, (uid_t)-1, (gid_t)-1, cause);
	OPENSSL_cleanse(pem, strlen(pem));
out:
	free(pem);
	if (dfd != -1)
		close(dfd);
	return rc;
}

void
acme_client_unstage_key(struct acme_client *c)
{
	int	dfd;

	if ((dfd = account_dir_open(c, false, NULL)) != -1) {
		unlinkat(dfd, "account-key.pem.next", 0);
		close(dfd);
	}
}
