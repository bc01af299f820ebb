/*
 * bench/ctlload.c: load on acme-renewd's control socket.  CLIENTS threads
 * each send REQUESTS `status` requests (DESIGN.md "Control protocol":
 * one JSON object per line); by default every request on a connection of
 * its own, as acmectl does (-k: one connection per client, requests one
 * after another on it).  Every reply must be `"ok": true` with the id that
 * was sent.  Prints one latency per line (milliseconds, connect to the end
 * of the reply) to stdout, and on stderr a summary: answered, failed, and
 * the fewest and most certificates in state "renewing" the replies showed.
 *
 * usage: ctlload [-k] [-t TIMEOUT_S] SOCKET CLIENTS REQUESTS
 * Build: cc -O2 -pthread -o ctlload ctlload.c
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char	*sock_path;
static int		 nclients, nrequests, keep, timeout_s = 30;
static double		*lat;		/* nclients * nrequests, -1 = failed */
static int		 renewing_min = -1, renewing_max = -1;
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static char		 first_error[512];

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
note_error(const char *fmt, const char *detail)
{
	pthread_mutex_lock(&mu);
	if (first_error[0] == '\0')
		snprintf(first_error, sizeof(first_error), fmt, detail);
	pthread_mutex_unlock(&mu);
}

static int
connect_sock(void)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { .tv_sec = timeout_s };
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		note_error("connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Does json have "key": value (any spacing) somewhere? */
static int
has_member(const char *json, const char *key, const char *value)
{
	const char	*p = json;
	size_t		 vl = strlen(value);

	while ((p = strstr(p, key)) != NULL) {
		p += strlen(key);
		while (*p == ' ' || *p == ':')
			p++;
		if (strncmp(p, value, vl) == 0 &&
		    strchr(",} \n", p[vl] == '\0' ? ' ' : p[vl]) != NULL)
			return 1;
	}
	return 0;
}

/* Sends one request, reads its reply line into *buf; 0 when it is ok. */
static int
call(int fd, long id, char **buf, size_t *cap)
{
	char	 req[128], idstr[32], *nl = NULL, *p;
	size_t	 len = 0, n;
	ssize_t	 r;
	int	 count = 0;

	n = snprintf(req, sizeof(req),
	    "{\"id\": %ld, \"command\": \"status\", \"args\": {}}\n", id);
	if (write(fd, req, n) != (ssize_t)n) {
		note_error("write: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (len + 65536 + 1 > *cap) {
			*cap = (*cap + 65536) * 2;
			if ((*buf = realloc(*buf, *cap)) == NULL)
				abort();
		}
		r = read(fd, *buf + len, *cap - len - 1);
		if (r <= 0) {
			note_error("read: %s", r == 0 ? "connection closed" :
			    strerror(errno));
			return -1;
		}
		(*buf)[len + r] = '\0';
		nl = memchr(*buf + len, '\n', r);
		len += r;
		if (nl != NULL)
			break;
	}
	*nl = '\0';
	snprintf(idstr, sizeof(idstr), "%ld", id);
	if (!has_member(*buf, "\"ok\"", "true") ||
	    !has_member(*buf, "\"id\"", idstr)) {
		(*buf)[len > 300 ? 300 : len] = '\0';
		note_error("bad reply: %s", *buf);
		return -1;
	}
	for (p = *buf; (p = strstr(p, "\"renewing\"")) != NULL; p++)
		count++;
	pthread_mutex_lock(&mu);
	if (renewing_min == -1 || count < renewing_min)
		renewing_min = count;
	if (count > renewing_max)
		renewing_max = count;
	pthread_mutex_unlock(&mu);
	return 0;
}

static void *
client(void *arg)
{
	long	 c = (long)arg, i;
	int	 fd = -1;
	char	*buf = NULL;
	size_t	 cap = 0;
	double	 t0;

	for (i = 0; i < nrequests; i++) {
		t0 = now_ms();
		if (fd == -1 && (fd = connect_sock()) == -1) {
			lat[c * nrequests + i] = -1;
			continue;
		}
		if (call(fd, c * nrequests + i + 1, &buf, &cap) == 0)
			lat[c * nrequests + i] = now_ms() - t0;
		else {
			lat[c * nrequests + i] = -1;
			close(fd);
			fd = -1;
			continue;
		}
		if (!keep) {
			close(fd);
			fd = -1;
		}
	}
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t	*th;
	long		 i;
	int		 ch, failed = 0;
	double		 t0, wall;

	while ((ch = getopt(argc, argv, "kt:")) != -1) {
		switch (ch) {
		case 'k':
			keep = 1;
			break;
		case 't':
			timeout_s = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3)
		goto usage;
	sock_path = argv[0];
	nclients = atoi(argv[1]);
	nrequests = atoi(argv[2]);
	if (nclients <= 0 || nrequests <= 0)
		goto usage;
	lat = calloc((size_t)nclients * nrequests, sizeof(*lat));
	th = calloc(nclients, sizeof(*th));
	if (lat == NULL || th == NULL)
		return 1;
	t0 = now_ms();
	for (i = 0; i < nclients; i++)
		if (pthread_create(&th[i], NULL, client, (void *)i) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (i = 0; i < nclients; i++)
		pthread_join(th[i], NULL);
	wall = now_ms() - t0;
	for (i = 0; i < (long)nclients * nrequests; i++) {
		if (lat[i] < 0)
			failed++;
		else
			printf("%.3f\n", lat[i]);
	}
	fprintf(stderr, "answered %d failed %d wall_ms %.1f renewing_min %d "
	    "renewing_max %d%s%s\n", nclients * nrequests - failed, failed,
	    wall, renewing_min, renewing_max,
	    first_error[0] != '\0' ? " first_error " : "", first_error);
	return failed != 0;
usage:
	fprintf(stderr, "usage: ctlload [-k] [-t TIMEOUT_S] SOCKET CLIENTS "
	    "REQUESTS\n");
	return 2;
}
