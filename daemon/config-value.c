/*
 * The words of the configuration: section names, DNS host names, IP
 * addresses, listen and server addresses, and key types.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config-parse.h"

static const struct {
	const char	*name;
	enum key_kind	 kind;
	int		 bits;
} key_specs[] = {
	{ "ec-p256", KEY_EC_P256, 0 },
	{ "ec-p384", KEY_EC_P384, 0 },
	{ "rsa-2048", KEY_RSA, 2048 },
	{ "rsa-3072", KEY_RSA, 3072 },
	{ "rsa-4096", KEY_RSA, 4096 },
};

/* Names and addresses. */

/* A section name, also a directory name under state-dir. */
bool
conf_name_valid(const char *s)
{
	size_t	len = strlen(s);

	if (len == 0 || len > CONFIG_NAME_MAX || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/* A DNS host name of letters, digits and hyphens; NULL or why not. */
const char *
conf_host_name_check(const char *s, int min_labels)
{
	const char	*label = s, *end;
	size_t		 len;
	int		 labels = 0;
	bool		 digits;

	if (*s == '\0')
		return "empty name";
	if (strlen(s) > 253)
		return "name longer than 253 characters";
	for (;;) {
		end = label + strcspn(label, ".");
		len = end - label;
		if (len == 0)
			return "empty label";
		if (len > 63)
			return "label longer than 63 characters";
		if (strspn(label, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") < len)
			return "bad character (use letters, digits, '-')";
		if (label[0] == '-' || end[-1] == '-')
			return "label starts or ends with '-'";
		digits = strspn(label, "0123456789") == len;
		labels++;
		if (*end == '\0')
			break;
		label = end + 1;
	}
	if (digits)
		return "neither an IP address nor a name";
	if (labels < min_labels)
		return "not a fully qualified name";
	return NULL;
}

bool
conf_ip_valid(const char *s)
{
	unsigned char	 buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/* 1..65535 in decimal digits only; -1 otherwise. */
static int
port_parse(const char *s)
{
	long	 port = 0;

	if (*s == '\0' || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return -1;
	port = strtol(s, NULL, 10);
	return port >= 1 && port <= 65535 ? (int)port : -1;
}

int
listen_addr_parse(const char *s, char **hostp, int *portp)
{
	char			 host[256];
	const char		*end, *portstr;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	size_t			 len;
	int			 port;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return -1;
		len = end - (s + 1);
		portstr = end + 2;
		if (len >= sizeof(host))
			return -1;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
	} else {
		if ((end = strchr(s, ':')) == NULL || strchr(end + 1, ':'))
			return -1;	/* no port, or IPv6 without [] */
		len = end - s;
		portstr = end + 1;
		if (len >= sizeof(host))
			return -1;
		memcpy(host, s, len);
		host[len] = '\0';
		if (strcmp(host, "*") == 0)
			host[0] = '\0';
		else if (inet_pton(AF_INET, host, &a4) != 1 &&
		    conf_host_name_check(host, 1) != NULL)
			return -1;
	}
	if ((port = port_parse(portstr)) == -1)
		return -1;
	if (hostp != NULL && (*hostp = strdup(host)) == NULL)
		return -1;
	if (portp != NULL)
		*portp = port;
	return 0;
}

/* ADDR, ADDR:PORT or [IPV6]:PORT; ADDR an IP address, or a name too. */
bool
conf_server_addr_valid(const char *s, bool names)
{
	char	*host = NULL;
	bool	 ok;

	if (conf_ip_valid(s) || (names && conf_host_name_check(s, 1) == NULL))
		return true;
	if (listen_addr_parse(s, &host, NULL) == -1)
		return false;
	ok = *host != '\0' && (names || conf_ip_valid(host));
	free(host);
	return ok;
}

int
key_spec_parse(const char *s, struct key_spec *ks)
{
	size_t	i;

	for (i = 0; i < sizeof(key_specs) / sizeof(key_specs[0]); i++) {
		if (strcmp(s, key_specs[i].name) == 0) {
			ks->kind = key_specs[i].kind;
			ks->bits = key_specs[i].bits;
			return 0;
		}
	}
	return -1;
}

void
key_spec_format(const struct key_spec *ks, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(key_specs) / sizeof(key_specs[0]); i++) {
		if (key_spec_equal(ks, &(struct key_spec){ key_specs[i].kind,
		    key_specs[i].bits })) {
			snprintf(buf, len, "%s", key_specs[i].name);
			return;
		}
	}
	if (ks->kind == KEY_RSA)
		snprintf(buf, len, "rsa-%d", ks->bits);
	else
		snprintf(buf, len, "unknown");
}

bool
key_spec_equal(const struct key_spec *a, const struct key_spec *b)
{
	return a->kind == b->kind && (a->kind != KEY_RSA || a->bits == b->bits);
}

json_t *
strlist_to_json(const struct strlist *l)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < l->n; i++) {
		if (json_array_append_new(a, json_string(l->v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
