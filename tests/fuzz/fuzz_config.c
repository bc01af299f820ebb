/*
 * libFuzzer target: the configuration parser (daemon/config*.c, inih).
 * The input is one configuration file, written to a private directory
 * with no conf.d/ beside it and loaded as `acme-renewd -c FILE` would.
 *
 * Beyond "no crash, no leak": a file is refused exactly when at least one
 * error was reported, every error names the file, and what was accepted
 * holds together (each certificate's CAs exist, key types print and parse
 * back the same, a certificate equals itself).
 */
#include <config.h>	/* generated; "config.h" below is daemon/config.h */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "daemon/config.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_dir[] = "/tmp/fuzz_config.XXXXXX";
static char	fuzz_path[sizeof(fuzz_dir) + 32];
static int	fuzz_fd = -1;

static void
fuzz_cleanup(void)
{
	if (fuzz_fd != -1)
		close(fuzz_fd);
	unlink(fuzz_path);
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_config", LOG_TARGET_STDERR, LOG_ERR);
	if (mkdtemp(fuzz_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/acme-renewd.conf",
	    fuzz_dir);
	if ((fuzz_fd = open(fuzz_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		perror(fuzz_path);
		exit(1);
	}
	atexit(fuzz_cleanup);
	return 0;
}

static void
fuzz_write(const uint8_t *data, size_t size)
{
	size_t	 off = 0;
	ssize_t	 n;

	if (ftruncate(fuzz_fd, 0) == -1) {
		perror("ftruncate");
		abort();
	}
	while (off < size) {
		if ((n = pwrite(fuzz_fd, data + off, size - off,
		    (off_t)off)) <= 0) {
			perror("pwrite");
			abort();
		}
		off += (size_t)n;
	}
}

/* What config_load() accepted must hold together. */
static void
fuzz_check_config(const struct config *conf)
{
	const struct conf_ca	*ca;
	const struct conf_cert	*cert;
	struct key_spec		 ks;
	char			 kind[32];
	size_t			 i;

	TAILQ_FOREACH(ca, &conf->cas, entry) {
		key_spec_format(&ca->account_key, kind, sizeof(kind));
		if (key_spec_parse(kind, &ks) == -1 ||
		    !key_spec_equal(&ks, &ca->account_key))
			abort();
	}
	TAILQ_FOREACH(cert, &conf->certs, entry) {
		if (cert->domains.n == 0 || cert->ca.n == 0 ||
		    !config_cert_equal(cert, cert) ||
		    config_find_cert(conf, cert->name) == NULL)
			abort();
		for (i = 0; i < cert->ca.n; i++)
			if (config_find_ca(conf, cert->ca.v[i]) == NULL)
				abort();
		key_spec_format(&cert->key, kind, sizeof(kind));
		if (key_spec_parse(kind, &ks) == -1 ||
		    !key_spec_equal(&ks, &cert->key))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors	 errs = { NULL, 0 };
	struct config		*conf;
	size_t			 i;

	fuzz_write(data, size);
	conf = config_load(fuzz_path, &errs);
	/* Refused if and only if something was said about it. */
	if ((conf == NULL) != (errs.count > 0))
		abort();
	for (i = 0; i < errs.count; i++) {
		if (errs.msg[i] == NULL ||
		    strncmp(errs.msg[i], fuzz_path, strlen(fuzz_path)) != 0)
			abort();
	}
	if (conf != NULL)
		fuzz_check_config(conf);
	config_free(conf);
	config_errors_clear(&errs);
	return 0;
}
