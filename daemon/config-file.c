/*
 * Reading the configuration files: inih does the INI syntax; we feed it
 * the lines through ini_parse_stream() and our own reader.  Debian's
 * libinih has no runtime switch to call the handler on a section header,
 * and ini_parse() reports only the first bad line, so the reader also
 * (1) sees every section header with its line number, which catches empty
 * and duplicate sections, (2) notes each KEY = VALUE line inih should hand
 * to the handler: one it never handed over was a syntax error, and is
 * reported like every other error, and (3) refuses lines too long for
 * inih's buffer instead of letting inih cut them.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config-parse.h"

/* inih's line buffer; a longer line is an error, never cut. */
#define CONF_MAX_LINE	65536

/* Sections. */

void
conf_section_free(struct conf_section *sec)
{
	if (sec == NULL)
		return;
	free(sec->label);
	free(sec->file);
	free(sec);
}

/* Makes the section's object, owned by p->conf, and its record. */
static struct conf_section *
conf_section_new(struct conf_parser *p, enum section_type type,
    const char *name, const char *label)
{
	struct conf_section	*sec;
	struct conf_ca		*ca;
	struct conf_cert	*cert;

	if ((sec = calloc(1, sizeof(*sec))) == NULL ||
	    (sec->label = strdup(label)) == NULL ||
	    (sec->file = strdup(p->file)) == NULL)
		goto out;
	sec->type = type;
	sec->line = p->lineno;
	switch (type) {
	case SECTION_DAEMON:
		sec->obj = &p->conf->daemon;
		break;
	case SECTION_CA:
		if ((ca = conf_ca_new(name, p->file, p->lineno)) == NULL)
			break;
		TAILQ_INSERT_TAIL(&p->conf->cas, ca, entry);
		sec->obj = ca;
		break;
	case SECTION_CERT:
		if ((cert = conf_cert_new(name, p->file, p->lineno)) == NULL)
			break;
		TAILQ_INSERT_TAIL(&p->conf->certs, cert, entry);
		sec->obj = cert;
		break;
	default:
		break;
	}
	if (sec->obj != NULL)
		TAILQ_INSERT_TAIL(&p->sections, sec, entry);
out:
	if (sec != NULL && sec->obj == NULL) {
		conf_section_free(sec);
		sec = NULL;
	}
	return sec;
}

/* Checks "[TYPE NAME]" (TYPE and NAME split in place) and its name. */
static int
conf_header_check(struct conf_parser *p, const char *label, char *type,
    char *name, char *extra, enum section_type *typep)
{
	int	i;

	for (i = 0; i < SECTION__MAX; i++)
		if (strcmp(type, conf_section_defs[i].name) == 0)
			break;
	if (i == SECTION__MAX || *extra != '\0') {
		conf_error(p, p->file, p->lineno, label, "%s; expected "
		    "[daemon], [ca NAME] or [certificate NAME]",
		    i == SECTION__MAX ? "unknown section" : "too many words");
		return -1;
	}
	if (conf_section_defs[i].named && *name == '\0') {
		conf_error(p, p->file, p->lineno, label,
		    "missing NAME; expected [%s NAME]", type);
		return -1;
	}
	if (!conf_section_defs[i].named && *name != '\0') {
		conf_error(p, p->file, p->lineno, label,
		    "expected [%s], without a name", type);
		return -1;
	}
	if (conf_section_defs[i].named && !conf_name_valid(name)) {
		conf_error(p, p->file, p->lineno, label, "bad name '%s': use "
		    "up to %d letters, digits, '.', '_' and '-'", name,
		    CONFIG_NAME_MAX);
		return -1;
	}
	*typep = i;
	return 0;
}

/* Cuts the next word out of *sp. */
static char *
conf_word(char **sp)
{
	char	*s = *sp, *w;

	while (isspace((unsigned char)*s))
		s++;
	w = s;
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return w;
}

/* A section header: line points at '['. */
static void
conf_section_begin(struct conf_parser *p, const char *line)
{
	json_t			*first;
	enum section_type	 type;
	const char		*end, *rest;
	char			*label = NULL, *words = NULL, *s;
	char			*w1, *w2, *w3;

	p->in_section = true;
	p->cur = NULL;		/* until the header is good */
	if ((end = strchr(line, ']')) == NULL) {
		conf_error(p, p->file, p->lineno, NULL,
		    "syntax error: missing ']'");
		goto out;
	}
	rest = end + 1 + strspn(end + 1, " \t\r\n\v\f");
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		conf_error(p, p->file, p->lineno, NULL,
		    "syntax error: text after ']'");
		goto out;
	}
	if ((words = strndup(line + 1, end - line - 1)) == NULL) {
		conf_error(p, p->file, p->lineno, NULL, "out of memory");
		goto out;
	}
	s = words;
	w1 = conf_word(&s);
	w2 = conf_word(&s);
	w3 = conf_word(&s);
	if (asprintf(&label, "[%s%s%s%s%s]", w1, *w2 ? " " : "", w2,
	    *w3 ? " " : "", w3) == -1) {
		label = NULL;
		conf_error(p, p->file, p->lineno, NULL, "out of memory");
		goto out;
	}
	if (conf_header_check(p, label, w1, w2, w3, &type) == -1)
		goto out;
	if ((first = json_object_get(p->labels, label)) != NULL) {
		conf_error(p, p->file, p->lineno, label,
		    "duplicate section, first at %s:%d",
		    json_string_value(json_array_get(first, 0)),
		    (int)json_integer_value(json_array_get(first, 1)));
		goto out;
	}
	if ((p->cur = conf_section_new(p, type, w2, label)) == NULL ||
	    json_object_set_new(p->labels, label, json_pack("[s, i]",
	    p->file, p->lineno)) == -1)
		conf_error(p, p->file, p->lineno, NULL, "out of memory");
out:
	free(label);
	free(words);
}

/* inih plumbing. */

/* A KEY = VALUE line that never reached the handler is a syntax error. */
static void
conf_line_check(struct conf_parser *p)
{
	if (!p->pending)
		return;
	p->pending = false;
	conf_error(p, p->file, p->lineno, NULL,
	    "syntax error: expected KEY = VALUE");
}

/* Notes what inih is about to see on the new line. */
static void
conf_line_scan(struct conf_parser *p)
{
	const char	*s = p->line;

	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	if (*s == '[')
		conf_section_begin(p, s);
	else
		p->pending = true;
}

static int
conf_line_read(struct conf_parser *p)
{
	ssize_t	n;
	size_t	content;

	errno = 0;
	if ((n = getline(&p->line, &p->linesz, p->fp)) == -1) {
		if (ferror(p->fp))
			p->read_errno = errno != 0 ? errno : EIO;
		return -1;
	}
	p->lineno++;
	p->len = n;
	p->off = 0;
	content = strcspn(p->line, "\r\n");
	if (memchr(p->line, '\0', n) != NULL) {
		conf_error(p, p->file, p->lineno, NULL,
		    "line contains a NUL byte");
	} else if (content > CONF_MAX_LINE - 3 ||
	    (size_t)n > CONF_MAX_LINE - 1) {
		conf_error(p, p->file, p->lineno, NULL,
		    "line longer than %d characters", CONF_MAX_LINE - 3);
	} else {
		conf_line_scan(p);
		return 0;
	}
	/* inih sees an empty line instead, so its line numbers stay ours. */
	strcpy(p->line, "\n");
	p->len = 1;
	return 0;
}

/* An fgets() for ini_parse_stream(), line by line from p->fp. */
static char *
conf_reader(char *str, int num, void *arg)
{
	struct conf_parser	*p = arg;
	size_t			 n;

	if (num < 2)
		return NULL;
	if (p->off == p->len) {
		conf_line_check(p);
		if (conf_line_read(p) == -1)
			return NULL;
	}
	n = p->len - p->off;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, p->line + p->off, n);
	str[n] = '\0';
	p->off += n;
	return str;
}

static int
conf_handler(void *arg, const char *section, const char *name,
    const char *value, int lineno)
{
	struct conf_parser		*p = arg;
	struct conf_section		*sec = p->cur;
	const struct section_def	*def;
	const struct conf_key		*k;
	size_t				 i;

	p->pending = false;
	if (!p->in_section) {
		conf_error(p, p->file, lineno, name, "not in a section");
		return 0;
	}
	if (sec == NULL)
		return 1;	/* a refused header, reported already */
	if (*name == '\0') {
		conf_error(p, p->file, lineno, NULL,
		    "syntax error: expected KEY = VALUE");
		return 0;
	}
	def = &conf_section_defs[sec->type];
	for (i = 0; i < def->nkeys; i++)
		if (strcmp(name, def->keys[i].name) == 0)
			break;
	if (i == def->nkeys) {
		conf_error(p, p->file, lineno, name, "unknown key in %s",
		    sec->label);
		return 0;
	}
	k = &def->keys[i];
	if (sec->keyline[i] != 0) {
		conf_error(p, p->file, lineno, name,
		    "duplicate key, first on line %d", sec->keyline[i]);
		return 0;
	}
	sec->keyline[i] = lineno;
	p->key = name;
	p->keylineno = lineno;
	if (!k->supported)
		conf_key_error(p, "not supported yet");
	else if (k->parse(p, k, (char *)sec->obj + k->off, value) == 0)
		return 1;
	sec->keybad[i] = true;
	return 0;
}

void
conf_parse_file(struct conf_parser *p, const char *file)
{
	struct stat	 st;
	size_t		 nerrs = p->errs->count;
	int		 fd, rc;

	/* Non-blocking: a FIFO must not hang us; a regular file ignores it. */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1 || fstat(fd, &st) == -1) {
		conf_error(p, file, 0, NULL, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_error(p, file, 0, NULL, "not a regular file");
		goto out;
	}
	if ((p->fp = fdopen(fd, "r")) == NULL) {
		conf_error(p, file, 0, NULL, "%s", strerror(errno));
		goto out;
	}
	fd = -1;
	p->file = file;
	p->read_errno = 0;
	p->len = p->off = 0;
	p->lineno = 0;
	p->pending = p->in_section = false;
	p->cur = NULL;
	rc = ini_parse_stream(conf_reader, p, conf_handler, p);
	conf_line_check(p);
	if (p->read_errno != 0)
		conf_error(p, file, 0, NULL, "%s", strerror(p->read_errno));
	else if (rc == -2)
		conf_error(p, file, 0, NULL, "out of memory");
	else if (rc > 0 && p->errs->count == nerrs)
		conf_error(p, file, rc, NULL, "syntax error");
out:
	p->file = NULL;
	p->cur = NULL;
	if (p->fp != NULL)
		fclose(p->fp);
	p->fp = NULL;
	if (fd != -1)
		close(fd);
}

static int
conf_d_filter(const struct dirent *d)
{
	size_t	len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 &&
	    strcmp(d->d_name + len - 5, ".conf") == 0;
}

/* Byte order, whatever the locale. */
static int
conf_d_compare(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every conf.d/ *.conf beside the main file, in lexical order. */
void
conf_parse_dir(struct conf_parser *p, const char *path)
{
	const char	 *slash = strrchr(path, '/');
	struct dirent	**ents = NULL;
	char		 *dir = NULL, *file = NULL;
	int		  i, n = 0;

	if (asprintf(&dir, "%.*sconf.d", slash != NULL ?
	    (int)(slash - path + 1) : 0, path) == -1) {
		dir = NULL;
		conf_error(p, path, 0, NULL, "out of memory");
		goto out;
	}
	if ((n = scandir(dir, &ents, conf_d_filter, conf_d_compare)) == -1) {
		n = 0;
		if (errno != ENOENT)
			conf_error(p, dir, 0, NULL, "%s", strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (asprintf(&file, "%s/%s", dir, ents[i]->d_name) == -1) {
			conf_error(p, dir, 0, NULL, "out of memory");
			goto out;
		}
		conf_parse_file(p, file);
		free(file);
		file = NULL;
	}
out:
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(dir);
}

/* inih's settings are process-wide: set them before every parse. */
void
conf_ini_setup(void)
{
	static char	start_prefixes[] = ";#";
	static char	inline_prefixes[] = ";#";

	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_start_comment_prefixes = start_prefixes;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = inline_prefixes;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = CONF_MAX_LINE;
	ini_stop_on_first_error = false;
	ini_allow_no_value = false;
}
