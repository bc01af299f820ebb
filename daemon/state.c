/*
 * state-dir/certs/<name>/state.json.  See state.h.
 *
 * Schema (version 1).  Times are RFC 3339 UTC strings, or null for "not
 * set" (time 0 in struct cert_state).  Unknown members are ignored so a
 * newer daemon's file still loads; a member of the wrong type is an error.
 * Every member but "version" may be absent (it then reads as null/0).
 *
 *   {
 *     "version": 1,
 *     "next_renewal": "2026-11-23T10:00:00Z" | null,
 *     "last_success": "2026-08-25T10:00:00Z" | null,
 *     "failures": 0,                          consecutive, >= 0
 *     "last_error": "..." | null,
 *     "ca": "letsencrypt" | null,             CA of the current certificate
 *     "ari": {                                may be absent: no window known
 *       "serial": "...",                      the certificate it is for
 *       "start": "...", "end": "...",         the suggested window
 *       "next_fetch": "..."                   when to ask again
 *     },
 *     "current": {                            may be absent: a cache of what
 *       "version": 3,                         `current` held when last read;
 *       "file_id": "...",                     trusted while the files keep
 *       "not_before": "...",                  this store_file_id(); a member
 *       "not_after": "...",                   that does not read back drops
 *       "serial": "...", "issuer": "...",     the whole cache (the files are
 *       "names": ["..."],                     then read again), never the
 *       "key": "ec-p256",                     state
 *       "ari_id": "..." | null
 *     },
 *     "deploy": {                             may be absent: nothing pending
 *       "pending": false,                     hooks/units not yet done for
 *       "version": 3,                         this version
 *       "failures": 0,
 *       "next": "..." | null,                 next retry
 *       "last_error": "..." | null
 *     },
 *     "history": [                            newest first, at most
 *       {                                     STATE_HISTORY_MAX (more are
 *         "started": "..." | null,            ignored)
 *         "finished": "..." | null,
 *         "ok": true,
 *         "ca": "..." | null,
 *         "phase": "..." | null,
 *         "error": "..." | null
 *       }
 *     ]
 *   }
 *
 * The file is written with fs_write_atomic(), mode 0600.
 */
#include <errno.h>
#include <limits.h>
#include <sys/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "util.h"
#include "timeutil.h"
#include "fsutil.h"
#include "state.h"

#define STATE_VERSION	1
#define STATE_FILE_MAX	(1024 * 1024)

static char	*state_strdup(const char *);
static json_t	*state_pack_attempt(const struct attempt *);
static json_t	*state_pack(const struct cert_state *);
static int	 state_get_time(const char *, json_t *, const char *,
		    time_t *, char **);
static int	 state_get_string(const char *, json_t *, const char *,
		    char **, char **);
static int	 state_unpack_attempt(const char *, json_t *, size_t,
		    struct attempt *, char **);
static int	 state_unpack(const char *, json_t *, struct cert_state *,
		    char **);
static void	 state_attempt_clear(struct attempt *);

/* strdup(NULL) is NULL; allocation failure is fatal. */
static char *
state_strdup(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		fatal("%s", __func__);
	return d;
}

static json_t *
state_pack_attempt(const struct attempt *a)
{
	return json_pack("{s:o, s:o, s:b, s:s?, s:s?, s:s?}",
	    "started", time_json(a->started),
	    "finished", time_json(a->finished),
	    "ok", a->ok,
	    "ca", a->ca,
	    "phase", a->phase,
	    "error", a->error);
}

static json_t *
state_pack_deploy(const struct deploy_state *dp)
{
	return json_pack("{s:b, s:i, s:I, s:o, s:s?}",
	    "pending", dp->pending,
	    "version", dp->version,
	    "failures", (json_int_t)dp->failures,
	    "next", time_json(dp->next),
	    "last_error", dp->last_error);
}

static json_t *
state_pack_ari(const struct ari_state *ari)
{
	if (ari->serial == NULL)
		return json_null();
	return json_pack("{s:s, s:o, s:o, s:o}", "serial", ari->serial,
	    "start", time_json(ari->start),
	    "end", time_json(ari->end),
	    "next_fetch", time_json(ari->next_fetch));
}

static json_t *
state_pack_current(const struct current_state *cur)
{
	const struct certinfo	*ci = &cur->info;
	json_t			*names;
	char			 key[32];

	if (cur->version <= 0 || cur->file_id == NULL)
		return json_null();
	if ((names = strlist_to_json(&ci->names)) == NULL)
		return NULL;
	key_spec_format(&ci->key, key, sizeof(key));
	return json_pack("{s:i, s:s, s:o, s:o, s:s?, s:s?, s:o, s:s, s:s?}",
	    "version", cur->version,
	    "file_id", cur->file_id,
	    "not_before", time_json(ci->not_before),
	    "not_after", time_json(ci->not_after),
	    "serial", ci->serial,
	    "issuer", ci->issuer,
	    "names", names,
	    "key", key,
	    "ari_id", ci->ari_id);
}

static json_t *
state_pack(const struct cert_state *st)
{
	json_t	*history, *a, *deploy, *ari, *current;
	size_t	 i;

	if ((history = json_array()) == NULL)
		return NULL;
	for (i = 0; i < st->nhistory && i < STATE_HISTORY_MAX; i++) {
		if ((a = state_pack_attempt(&st->history[i])) == NULL ||
		    json_array_append_new(history, a) == -1) {
			json_decref(history);
			return NULL;
		}
	}
	if ((deploy = state_pack_deploy(&st->deploy)) == NULL) {
		json_decref(history);
		return NULL;
	}
	if ((ari = state_pack_ari(&st->ari)) == NULL) {
		json_decref(history);
		json_decref(deploy);
		return NULL;
	}
	if ((current = state_pack_current(&st->current)) == NULL) {
		json_decref(history);
		json_decref(deploy);
		json_decref(ari);
		return NULL;
	}
	return json_pack("{s:i, s:o, s:o, s:I, s:s?, s:s?, s:o, s:o, s:o, s:o}",
	    "version", STATE_VERSION,
	    "next_renewal", time_json(st->next_renewal),
	    "last_success", time_json(st->last_success),
	    "failures", (json_int_t)st->failures,
	    "last_error", st->last_error,
	    "ca", st->ca,
	    "deploy", deploy,
	    "ari", ari,
	    "current", current,
	    "history", history);
}

/* The text of state.json for st (path names it in *cause). */
static char *
state_text(const char *path, const struct cert_state *st, char **cause)
{
	json_t	*root;
	char	*text = NULL, *file = NULL;

	if ((root = state_pack(st)) == NULL ||
	    (text = json_dumps(root, JSON_INDENT(2))) == NULL)
		cause_set(cause, "write %s: cannot build JSON", path);
	else
		file = fs_path("%s\n", text);
	free(text);
	json_decref(root);
	return file;
}

int
state_save(const char *path, const struct cert_state *st, char **cause)
{
	char	*file;
	int	 rc = -1;

	if ((file = state_text(path, st, cause)) != NULL)
		rc = fs_write_atomic(path, file, strlen(file), 0600, cause);
	free(file);
	return rc;
}

int
state_save_at(int dirfd, const char *dirpath, const struct cert_state *st,
    char **cause)
{
	char	*path, *file;
	int	 rc = -1;

	path = fs_path("%s/%s", dirpath, STATE_FILE);
	if ((file = state_text(path, st, cause)) != NULL)
		rc = fs_write_atomic_at(dirfd, dirpath, STATE_FILE, file,
		    strlen(file), 0600, (uid_t)-1, (gid_t)-1, cause);
	free(file);
	free(path);
	return rc;
}

/* Member key of obj (in what, for messages): RFC 3339 string or null. */
static int
state_get_time(const char *what, json_t *obj, const char *key, time_t *t,
    char **cause)
{
	json_error_t	 err;
	json_t		*v = NULL;

	*t = 0;
	if (json_unpack_ex(obj, &err, 0, "{s?o}", key, &v) == -1) {
		cause_set(cause, "%s: %s: %s", what, key, err.text);
		return -1;
	}
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		cause_set(cause, "%s: %s: expected a time string or null",
		    what, key);
		return -1;
	}
	if (time_parse_rfc3339(json_string_value(v), t) == -1) {
		cause_set(cause, "%s: %s: invalid time \"%s\"", what, key,
		    json_string_value(v));
		return -1;
	}
	return 0;
}

/* Member key of obj: string (copied to *s) or null. */
static int
state_get_string(const char *what, json_t *obj, const char *key, char **s,
    char **cause)
{
	json_error_t	 err;
	json_t		*v = NULL;

	*s = NULL;
	if (json_unpack_ex(obj, &err, 0, "{s?o}", key, &v) == -1) {
		cause_set(cause, "%s: %s: %s", what, key, err.text);
		return -1;
	}
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		cause_set(cause, "%s: %s: expected a string or null", what,
		    key);
		return -1;
	}
	*s = state_strdup(json_string_value(v));
	return 0;
}

static int
state_unpack_attempt(const char *path, json_t *obj, size_t idx,
    struct attempt *a, char **cause)
{
	json_error_t	 err;
	char		*what;
	int		 ok = 0, rc = -1;

	what = fs_path("%s: history[%zu]", path, idx);
	if (!json_is_object(obj)) {
		cause_set(cause, "%s: expected an object", what);
		goto out;
	}
	if (json_unpack_ex(obj, &err, 0, "{s:b}", "ok", &ok) == -1) {
		cause_set(cause, "%s: ok: %s", what, err.text);
		goto out;
	}
	a->ok = ok;
	if (state_get_time(what, obj, "started", &a->started, cause) == -1 ||
	    state_get_time(what, obj, "finished", &a->finished, cause) == -1 ||
	    state_get_string(what, obj, "ca", &a->ca, cause) == -1 ||
	    state_get_string(what, obj, "phase", &a->phase, cause) == -1 ||
	    state_get_string(what, obj, "error", &a->error, cause) == -1)
		goto out;
	rc = 0;
out:
	free(what);
	return rc;
}

static int
state_unpack_deploy(const char *path, json_t *root, struct deploy_state *dp,
    char **cause)
{
	json_error_t	 err;
	json_t		*obj = NULL;
	json_int_t	 failures = 0;
	int		 pending = 0, version = 0;
	char		*what;
	int		 rc = -1;

	if (json_unpack_ex(root, &err, 0, "{s?o}", "deploy", &obj) == -1) {
		cause_set(cause, "%s: deploy: %s", path, err.text);
		return -1;
	}
	if (obj == NULL || json_is_null(obj))
		return 0;
	what = fs_path("%s: deploy", path);
	if (json_unpack_ex(obj, &err, 0, "{s?b, s?i, s?I}", "pending",
	    &pending, "version", &version, "failures", &failures) == -1) {
		cause_set(cause, "%s: %s", what, err.text);
		goto out;
	}
	if (failures < 0 || failures > UINT_MAX || version < 0) {
		cause_set(cause, "%s: out of range", what);
		goto out;
	}
	dp->pending = pending;
	dp->version = version;
	dp->failures = (unsigned)failures;
	if (state_get_time(what, obj, "next", &dp->next, cause) == -1 ||
	    state_get_string(what, obj, "last_error", &dp->last_error,
	    cause) == -1)
		goto out;
	rc = 0;
out:
	free(what);
	return rc;
}

static int
state_unpack_ari(const char *path, json_t *root, struct ari_state *ari,
    char **cause)
{
	json_t	*obj = NULL;
	char	*what;
	int	 rc = -1;

	if ((obj = json_object_get(root, "ari")) == NULL || json_is_null(obj))
		return 0;
	what = fs_path("%s: ari", path);
	if (!json_is_object(obj)) {
		cause_set(cause, "%s: expected an object", what);
		goto out;
	}
	if (state_get_string(what, obj, "serial", &ari->serial, cause) == -1 ||
	    state_get_time(what, obj, "start", &ari->start, cause) == -1 ||
	    state_get_time(what, obj, "end", &ari->end, cause) == -1 ||
	    state_get_time(what, obj, "next_fetch", &ari->next_fetch,
	    cause) == -1)
		goto out;
	rc = 0;
out:
	free(what);
	return rc;
}

/* The names of a cached certificate: an array of strings. */
static int
state_unpack_names(json_t *arr, struct strlist *l)
{
	json_t	*v;
	size_t	 i;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    (l->v = calloc(json_array_size(arr), sizeof(*l->v))) == NULL)
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) ||
		    (l->v[l->n] = strdup(json_string_value(v))) == NULL)
			return -1;
		l->n++;
	}
	return 0;
}

/*
 * The cache of `current`.  Anything that does not read back leaves it
 * empty (version 0): the files are then read again, which is all the
 * cache saves.
 */
static void
state_unpack_current(json_t *root, struct current_state *cur)
{
	struct certinfo	*ci = &cur->info;
	json_t		*obj, *names = NULL;
	const char	*file_id, *nb, *na, *serial, *issuer, *key;
	const char	*ari_id = NULL;
	int		 version;

	if ((obj = json_object_get(root, "current")) == NULL ||
	    json_is_null(obj))
		return;
	if (json_unpack(obj, "{s:i, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s?s}",
	    "version", &version, "file_id", &file_id, "not_before", &nb,
	    "not_after", &na, "serial", &serial, "issuer", &issuer,
	    "names", &names, "key", &key, "ari_id", &ari_id) == -1 ||
	    version <= 0 ||
	    time_parse_rfc3339(nb, &ci->not_before) == -1 ||
	    time_parse_rfc3339(na, &ci->not_after) == -1 ||
	    key_spec_parse(key, &ci->key) == -1 ||
	    state_unpack_names(names, &ci->names) == -1 ||
	    (ci->serial = strdup(serial)) == NULL ||
	    (ci->issuer = strdup(issuer)) == NULL ||
	    (ari_id != NULL && (ci->ari_id = strdup(ari_id)) == NULL) ||
	    (cur->file_id = strdup(file_id)) == NULL) {
		state_current_clear(cur);
		return;
	}
	cur->version = version;
}

/* Fills st (zeroed by the caller) from root. */
static int
state_unpack(const char *path, json_t *root, struct cert_state *st,
    char **cause)
{
	json_error_t	 err;
	json_t		*history = NULL, *a;
	json_int_t	 version, failures = 0;
	size_t		 i;

	if (!json_is_object(root)) {
		cause_set(cause, "%s: expected a JSON object", path);
		return -1;
	}
	if (json_unpack_ex(root, &err, 0, "{s:I}", "version",
	    &version) == -1) {
		cause_set(cause, "%s: version: %s", path, err.text);
		return -1;
	}
	if (version != STATE_VERSION) {
		cause_set(cause, "%s: unsupported version %lld", path,
		    (long long)version);
		return -1;
	}
	if (json_unpack_ex(root, &err, 0, "{s?I}", "failures",
	    &failures) == -1) {
		cause_set(cause, "%s: failures: %s", path, err.text);
		return -1;
	}
	if (failures < 0 || failures > UINT_MAX) {
		cause_set(cause, "%s: failures: out of range", path);
		return -1;
	}
	st->failures = (unsigned)failures;
	if (state_get_time(path, root, "next_renewal", &st->next_renewal,
	    cause) == -1 ||
	    state_get_time(path, root, "last_success", &st->last_success,
	    cause) == -1 ||
	    state_get_string(path, root, "last_error", &st->last_error,
	    cause) == -1 ||
	    state_get_string(path, root, "ca", &st->ca, cause) == -1 ||
	    state_unpack_deploy(path, root, &st->deploy, cause) == -1 ||
	    state_unpack_ari(path, root, &st->ari, cause) == -1)
		return -1;
	state_unpack_current(root, &st->current);

	if (json_unpack_ex(root, &err, 0, "{s?o}", "history",
	    &history) == -1) {
		cause_set(cause, "%s: history: %s", path, err.text);
		return -1;
	}
	if (history == NULL || json_is_null(history))
		return 0;
	if (!json_is_array(history)) {
		cause_set(cause, "%s: history: expected an array", path);
		return -1;
	}
	if (json_array_size(history) == 0)
		return 0;
	st->history = calloc(json_array_size(history) < STATE_HISTORY_MAX ?
	    json_array_size(history) : STATE_HISTORY_MAX, sizeof(*st->history));
	if (st->history == NULL) {
		cause_set(cause, "%s: history: out of memory", path);
		return -1;
	}
	json_array_foreach(history, i, a) {
		if (i == STATE_HISTORY_MAX)
			break;
		/* Counted first, so state_clear() frees a partial one. */
		st->nhistory++;
		if (state_unpack_attempt(path, a, i, &st->history[i],
		    cause) == -1)
			return -1;
	}
	return 0;
}

int
state_load(const char *path, struct cert_state *st, char **cause)
{
	struct cert_state	 tmp;
	json_error_t		 err;
	json_t			*root = NULL;
	char			*text = NULL, *why = NULL;
	size_t			 len;
	int			 rc = -1;

	memset(st, 0, sizeof(*st));
	memset(&tmp, 0, sizeof(tmp));
	if ((text = fs_read_file(path, STATE_FILE_MAX, &len, &why)) == NULL) {
		if (errno == ENOENT) {
			free(why);
			return 1;
		}
		if (cause != NULL)
			*cause = why;
		else {
			log_warnx("%s", why != NULL ? why : path);
			free(why);
		}
		return -1;
	}
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES,
	    &err)) == NULL) {
		cause_set(cause, "%s: line %d column %d: %s", path,
		    err.line, err.column, err.text);
		goto out;
	}
	if (state_unpack(path, root, &tmp, cause) == -1) {
		state_clear(&tmp);
		goto out;
	}
	*st = tmp;
	rc = 0;
out:
	json_decref(root);
	free(text);
	return rc;
}

static void
state_attempt_clear(struct attempt *a)
{
	free(a->ca);
	free(a->phase);
	free(a->error);
	memset(a, 0, sizeof(*a));
}

void
state_clear(struct cert_state *st)
{
	size_t	i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nhistory && i < STATE_HISTORY_MAX; i++)
		state_attempt_clear(&st->history[i]);
	free(st->history);
	free(st->last_error);
	free(st->ca);
	free(st->deploy.last_error);
	free(st->ari.serial);
	state_current_clear(&st->current);
	memset(st, 0, sizeof(*st));
}

void
state_current_clear(struct current_state *cur)
{
	certinfo_clear(&cur->info);
	free(cur->file_id);
	memset(cur, 0, sizeof(*cur));
}

void
state_add_attempt(struct cert_state *st, const struct attempt *a)
{
	struct attempt	*h;

	if (st->nhistory == STATE_HISTORY_MAX)
		state_attempt_clear(&st->history[--st->nhistory]);
	else {
		h = reallocarray(st->history, st->nhistory + 1, sizeof(*h));
		if (h == NULL)
			return;		/* the history is kept as it was */
		st->history = h;
	}
	h = st->history;
	memmove(&h[1], &h[0], st->nhistory * sizeof(*h));
	h[0].started = a->started;
	h[0].finished = a->finished;
	h[0].ok = a->ok;
	h[0].ca = state_strdup(a->ca);
	h[0].phase = state_strdup(a->phase);
	h[0].error = state_strdup(a->error);
	st->nhistory++;
}
