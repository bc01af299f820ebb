/*
 * ctlhostile: hostile clients of the control socket, for
 * tests/integration/t-ctl-hostile.sh.
 *
 *   ctlhostile hold SOCKET N SECONDS
 *	Opens up to N connections at once (non-blocking connects, retried
 *	for 2 s while the backlog is full), prints "connected K of N",
 *	holds them SECONDS without a byte, closes them, prints "closed".
 *   ctlhostile drip SOCKET N INTERVAL_MS MAX_SECONDS
 *	N clients each send a valid request one byte every INTERVAL_MS;
 *	prints how many the daemon cut off, when, after how many bytes and
 *	whether it said why: "drip: clients N cut K told K min_ms A max_ms
 *	B bytes_min C bytes_max D answered E".
 *   ctlhostile garbage SOCKET N MAX_SECONDS
 *	N clients, each sending one kind of garbage (random bytes with and
 *	without newlines, binary, invalid UTF-8, NUL bytes in a line, a
 *	line of 2 MiB) then shutting down its writing side, and reading
 *	every reply until the daemon closes.  One line per kind: "garbage
 *	KIND: clients N errors E closed C ok O silent S"; exit status 1
 *	when a client got an ok reply, a reply that is not JSON, or neither
 *	an error nor a close (silent) before MAX_SECONDS.
 *
 * Exit status 2 on a usage or system error.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define REQUEST		"{\"id\": 1, \"command\": \"status\", \"args\": {}}\n"
#define HUGE_LINE	(2 * 1024 * 1024)

enum kind {
	KIND_RANDOM_LINES,	/* random bytes, newlines among them */
	KIND_RANDOM,		/* random bytes, no newline at all */
	KIND_BINARY,		/* 0x00..0xff over and over, with newlines */
	KIND_BAD_UTF8,		/* a request whose strings are not UTF-8 */
	KIND_NUL,		/* a request with NUL bytes in it */
	KIND_HUGE,		/* one line of 2 MiB */
	KIND__MAX
};

static const char *const kind_names[KIND__MAX] = {
	"random-lines", "random", "binary", "bad-utf8", "nul", "huge-line",
};

struct client {
	int		 fd;
	enum kind	 kind;
	unsigned char	*out;		/* what it sends */
	size_t		 outlen, outoff;
	int		 drip_ms;	/* 0: as fast as it can */
	long long	 next_ms;	/* drip: next byte not before */
	char		*in;		/* what it received */
	size_t		 inlen;
	bool		 eof;		/* the daemon closed */
	bool		 wr_closed;	/* shut down, or the daemon reset */
	long long	 opened_ms, eof_ms;
};

static void
die(const char *what)
{
	fprintf(stderr, "ctlhostile: %s: %s\n", what, strerror(errno));
	exit(2);
}

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Room for n descriptors and a few more. */
static void
raise_nofile(int n)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit");
	if (rl.rlim_cur >= (rlim_t)n + 16)
		return;
	rl.rlim_cur = (rlim_t)n + 16;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("setrlimit");
}

/* A non-blocking connect: the socket, or -1 with errno (EAGAIN when the
 * listener's backlog is full). */
static int
connect_nb(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int
parse_int(const char *s, int min, int max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "ctlhostile: bad number '%s'\n", s);
		exit(2);
	}
	return (int)v;
}

/* --- hold ----------------------------------------------------------- */

static int
cmd_hold(const char *path, int n, int seconds)
{
	int		*fds;
	int		 k = 0, fd;
	long long	 deadline = now_ms() + 2000;

	raise_nofile(n);
	if ((fds = calloc((size_t)n, sizeof(*fds))) == NULL)
		die("calloc");
	while (k < n && now_ms() < deadline) {
		if ((fd = connect_nb(path)) != -1) {
			fds[k++] = fd;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			die("connect");
		sleep_ms(10);	/* the backlog is full: the daemon's turn */
	}
	printf("connected %d of %d\n", k, n);
	fflush(stdout);
	sleep((unsigned)seconds);
	while (k > 0)
		close(fds[--k]);
	printf("closed\n");
	fflush(stdout);
	free(fds);
	return 0;
}

/* --- the poll loop of drip and garbage ------------------------------ */

static void
client_read(struct client *c)
{
	char	 buf[65536], *p;
	ssize_t	 r;

	for (;;) {
		if ((r = read(c->fd, buf, sizeof(buf))) > 0) {
			if ((p = realloc(c->in, c->inlen + (size_t)r + 1)) ==
			    NULL)
				die("realloc");
			c->in = p;
			memcpy(c->in + c->inlen, buf, (size_t)r);
			c->inlen += (size_t)r;
			c->in[c->inlen] = '\0';
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;	/* a reset counts as closed */
			c->eof_ms = now_ms();
		}
		return;
	}
}

static void
client_write(struct client *c)
{
	size_t	 n = c->outlen - c->outoff;
	ssize_t	 w;

	if (c->drip_ms > 0) {
		if (now_ms() < c->next_ms)
			return;
		n = 1;
		c->next_ms = now_ms() + c->drip_ms;
	}
	if ((w = send(c->fd, c->out + c->outoff, n, MSG_NOSIGNAL)) > 0)
		c->outoff += (size_t)w;
	else if (w == -1 && errno != EAGAIN && errno != EINTR)
		c->wr_closed = true;	/* EPIPE: the daemon gave up on us */
	if (!c->wr_closed && c->outoff == c->outlen && c->drip_ms == 0) {
		shutdown(c->fd, SHUT_WR);
		c->wr_closed = true;
	}
}

/* Runs every client until the daemon closed each or max_ms passed. */
static void
run_clients(struct client *cs, int n, long long max_ms)
{
	struct pollfd	*pfd;
	long long	 deadline = now_ms() + max_ms, next;
	int		 i, open, timeout;

	if ((pfd = calloc((size_t)n, sizeof(*pfd))) == NULL)
		die("calloc");
	for (;;) {
		open = 0;
		next = deadline;
		for (i = 0; i < n; i++) {
			struct client	*c = &cs[i];
			bool		 sending = !c->eof && !c->wr_closed &&
					    c->outoff < c->outlen;

			pfd[i].fd = c->eof ? -1 : c->fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			if (c->eof)
				continue;
			open++;
			if (sending && c->drip_ms > 0 && c->next_ms > now_ms()) {
				if (c->next_ms < next)
					next = c->next_ms;
			} else if (sending)
				pfd[i].events |= POLLOUT;
		}
		if (open == 0 || now_ms() >= deadline)
			break;
		timeout = (int)(next - now_ms());
		if (timeout < 0)
			timeout = 0;
		if (poll(pfd, (nfds_t)n, timeout) == -1 && errno != EINTR)
			die("poll");
		for (i = 0; i < n; i++) {
			if (cs[i].eof)
				continue;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				client_read(&cs[i]);
			if (!cs[i].eof && !cs[i].wr_closed &&
			    cs[i].outoff < cs[i].outlen &&
			    ((pfd[i].revents & POLLOUT) || cs[i].drip_ms > 0))
				client_write(&cs[i]);
		}
	}
	free(pfd);
}

/* Opens n clients; each is connected before any sends. */
static struct client *
open_clients(const char *path, int n)
{
	struct client	*cs;
	long long	 deadline = now_ms() + 5000;
	int		 i;

	raise_nofile(n);
	if ((cs = calloc((size_t)n, sizeof(*cs))) == NULL)
		die("calloc");
	for (i = 0; i < n; i++) {
		while ((cs[i].fd = connect_nb(path)) == -1) {
			if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
			    now_ms() > deadline)
				die("connect");
			sleep_ms(10);
		}
		cs[i].opened_ms = now_ms();
	}
	return cs;
}

static void
free_clients(struct client *cs, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		close(cs[i].fd);
		free(cs[i].out);
		free(cs[i].in);
	}
	free(cs);
}

/*
 * The replies of one client: how many are errors, how many ok, and
 * whether any is not a JSON object.  A reply is one line.
 */
static void
count_replies(const struct client *c, int *errors, int *oks, int *bad,
    const char *need, int *told)
{
	const char	*p = c->in, *nl, *msg;
	json_t		*j;

	if (p == NULL)
		return;
	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if ((j = json_loadb(p, (size_t)(nl - p), 0, NULL)) == NULL ||
		    !json_is_boolean(json_object_get(j, "ok")))
			(*bad)++;
		else if (json_is_true(json_object_get(j, "ok")))
			(*oks)++;
		else {
			(*errors)++;
			msg = json_string_value(json_object_get(
			    json_object_get(j, "error"), "message"));
			if (need != NULL && msg != NULL &&
			    strstr(msg, need) != NULL)
				(*told)++;
		}
		json_decref(j);
	}
	if (*p != '\0')
		(*bad)++;	/* a reply cut in the middle */
}

/* --- drip ----------------------------------------------------------- */

static int
cmd_drip(const char *path, int n, int interval, int max_s)
{
	struct client	*cs = open_clients(path, n);
	long long	 min_ms = -1, max_ms = -1, t;
	size_t		 min_b = (size_t)-1, max_b = 0;
	int		 i, cut = 0, told = 0, answered = 0;
	int		 errors, oks, bad;

	for (i = 0; i < n; i++) {
		if ((cs[i].out = (unsigned char *)strdup(REQUEST)) == NULL)
			die("strdup");
		cs[i].outlen = strlen(REQUEST);
		cs[i].drip_ms = interval;
	}
	run_clients(cs, n, (long long)max_s * 1000);
	for (i = 0; i < n; i++) {
		errors = oks = bad = 0;
		count_replies(&cs[i], &errors, &oks, &bad, "not finished",
		    &told);
		answered += oks;
		if (!cs[i].eof)
			continue;
		cut++;
		t = cs[i].eof_ms - cs[i].opened_ms;
		if (min_ms == -1 || t < min_ms)
			min_ms = t;
		if (t > max_ms)
			max_ms = t;
		if (cs[i].outoff < min_b)
			min_b = cs[i].outoff;
		if (cs[i].outoff > max_b)
			max_b = cs[i].outoff;
	}
	printf("drip: clients %d cut %d told %d min_ms %lld max_ms %lld "
	    "bytes_min %zu bytes_max %zu answered %d\n", n, cut, told, min_ms,
	    max_ms, cut > 0 ? min_b : 0, max_b, answered);
	free_clients(cs, n);
	return 0;
}

/* --- garbage -------------------------------------------------------- */

static unsigned char *
garbage(enum kind k, unsigned *seed, size_t *len)
{
	static const char bad_utf8[] =
	    "{\"id\": \"\xc3\x28\", \"command\": \"st\xff\xfe" "atus\"}\n"
	    "{\"id\": 2, \"command\": \"\xed\xa0\x80\"}\n"
	    "\xf0\x28\x8c\xbc\xf8\xa1\xa1\xa1\xa1\n";
	static const char nul[] = "{\"id\": 3, \"command\": \"sta\0tus\"}\n"
	    "\0\0\0\n{\"id\": 4,\0 \"command\": \"status\"}\n";
	unsigned char	*b;
	size_t		 i, n;

	switch (k) {
	case KIND_RANDOM_LINES:
	case KIND_RANDOM:
		n = 4096 + rand_r(seed) % 60000;
		break;
	case KIND_BINARY:
		n = 256 * 64;
		break;
	case KIND_BAD_UTF8:
		n = sizeof(bad_utf8) - 1;
		break;
	case KIND_NUL:
		n = sizeof(nul) - 1;
		break;
	default:
		n = HUGE_LINE + 1;
		break;
	}
	if ((b = malloc(n)) == NULL)
		die("malloc");
	for (i = 0; i < n; i++) {
		switch (k) {
		case KIND_RANDOM_LINES:
			b[i] = (unsigned char)rand_r(seed);
			if (rand_r(seed) % 200 == 0)
				b[i] = '\n';
			break;
		case KIND_RANDOM:
			b[i] = (unsigned char)rand_r(seed);
			if (b[i] == '\n')
				b[i] = 'x';
			break;
		case KIND_BINARY:
			b[i] = (unsigned char)i;
			break;
		case KIND_BAD_UTF8:
			b[i] = (unsigned char)bad_utf8[i];
			break;
		case KIND_NUL:
			b[i] = (unsigned char)nul[i];
			break;
		default:
			b[i] = i == n - 1 ? '\n' : 'a';
			break;
		}
	}
	if (k == KIND_RANDOM_LINES)
		b[n - 1] = '\n';
	*len = n;
	return b;
}

static int
cmd_garbage(const char *path, int n, int max_s)
{
	struct client	*cs = open_clients(path, n);
	unsigned	 seed = 20251124;
	int		 i, k, rc = 0;
	int		 nk[KIND__MAX] = { 0 }, errs[KIND__MAX] = { 0 };
	int		 closed[KIND__MAX] = { 0 }, oks[KIND__MAX] = { 0 };
	int		 bad[KIND__MAX] = { 0 }, silent[KIND__MAX] = { 0 };
	int		 e, o, b;

	for (i = 0; i < n; i++) {
		cs[i].kind = (enum kind)(i % KIND__MAX);
		cs[i].out = garbage(cs[i].kind, &seed, &cs[i].outlen);
	}
	run_clients(cs, n, (long long)max_s * 1000);
	for (i = 0; i < n; i++) {
		k = cs[i].kind;
		e = o = b = 0;
		count_replies(&cs[i], &e, &o, &b, NULL, NULL);
		nk[k]++;
		errs[k] += e;
		oks[k] += o;
		bad[k] += b;
		if (cs[i].eof)
			closed[k]++;
		if (e == 0 && !cs[i].eof)
			silent[k]++;
	}
	for (k = 0; k < KIND__MAX; k++) {
		printf("garbage %s: clients %d errors %d closed %d ok %d "
		    "not_json %d silent %d\n", kind_names[k], nk[k], errs[k],
		    closed[k], oks[k], bad[k], silent[k]);
		if (oks[k] > 0 || bad[k] > 0 || silent[k] > 0)
			rc = 1;
	}
	free_clients(cs, n);
	return rc;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[1], "hold") == 0)
		return cmd_hold(argv[2], parse_int(argv[3], 1, 100000),
		    parse_int(argv[4], 0, 3600));
	if (argc == 6 && strcmp(argv[1], "drip") == 0)
		return cmd_drip(argv[2], parse_int(argv[3], 1, 10000),
		    parse_int(argv[4], 1, 60000), parse_int(argv[5], 1, 3600));
	if (argc == 5 && strcmp(argv[1], "garbage") == 0)
		return cmd_garbage(argv[2], parse_int(argv[3], 1, 10000),
		    parse_int(argv[4], 1, 3600));
	fprintf(stderr, "usage: ctlhostile hold SOCKET N SECONDS\n"
	    "       ctlhostile drip SOCKET N INTERVAL_MS MAX_SECONDS\n"
	    "       ctlhostile garbage SOCKET N MAX_SECONDS\n");
	return 2;
}
