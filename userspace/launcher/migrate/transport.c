// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the live-migration stream's socket (transport.h).
 */
#define _GNU_SOURCE	/* accept4 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "../log.h"
#include "transport.h"

/* The sockaddr of @a; returns its length. */
static socklen_t address_of(const struct mig_address *a,
			    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!a->tcp) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, a->path);
		return sizeof(*un);
	}
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_addr = a->ip4;
		in->sin_port = htons(a->port);
		return sizeof(*in);
	}
	((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
	((struct sockaddr_in6 *)ss)->sin6_addr = a->ip6;
	((struct sockaddr_in6 *)ss)->sin6_port = htons(a->port);
	return sizeof(struct sockaddr_in6);
}

static int fail(int ret, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(-ret));
	return ret;
}

/* Blocking transfers, each limited to MIG_IO_TIMEOUT_SEC without progress. */
static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = MIG_IO_TIMEOUT_SEC };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int new_socket(const struct mig_address *a)
{
	int family = a->tcp ? a->family : AF_UNIX;

	return socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

int mig_connect(const struct mig_address *a, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = address_of(a, &ss);
	int fd = new_socket(a), ret;

	if (fd < 0)
		return fail(-errno, err, errlen, "socket");
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		ret = -errno;
		close(fd);
		return fail(ret, err, errlen, "cannot connect to the target");
	}
	return fd;
}

static char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void unlink_unix_path(void)
{
	unlink(unix_path);
}

/* A socket file nobody listens on (a killed lvrun's) may go; nothing else. */
static int remove_stale(const struct mig_address *a, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = address_of(a, &ss);
	struct stat st;
	int fd, used;

	if (lstat(a->path, &st) < 0)
		return errno == ENOENT ? 0 : fail(-errno, err, errlen, a->path);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", a->path);
		return -EEXIST;
	}
	fd = new_socket(a);
	if (fd < 0)
		return fail(-errno, err, errlen, "socket");
	used = !connect(fd, (struct sockaddr *)&ss, len) || errno != ECONNREFUSED;
	close(fd);
	if (used) {
		snprintf(err, errlen, "another process listens on %s", a->path);
		return -EADDRINUSE;
	}
	return unlink(a->path) ? fail(-errno, err, errlen, a->path) : 0;
}

int mig_listen(const struct mig_address *a, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = address_of(a, &ss);
	int fd, one = 1, ret;

	if (!a->tcp) {
		ret = remove_stale(a, err, errlen);
		if (ret)
			return ret;
	}
	fd = new_socket(a);
	if (fd < 0)
		return fail(-errno, err, errlen, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0) {
		ret = -errno;
		close(fd);
		return fail(ret, err, errlen, "cannot listen");
	}
	if (!a->tcp) {
		strcpy(unix_path, a->path);
		lvrun_at_exit(unlink_unix_path);
	}
	return fd;
}

int mig_accept(int listen_fd, char *err, size_t errlen)
{
	int fd;

	do
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return fail(-errno, err, errlen, "accept");
	set_timeouts(fd);
	return fd;
}

/*
 * Past the first @done bytes of @*iov (@n entries): the entries done are
 * dropped, the next one starts where the transfer stopped. Returns the
 * entries left.
 */
static int iov_advance(struct iovec **iov, int n, size_t done)
{
	struct iovec *v = *iov;

	while (n && done >= v->iov_len) {
		done -= v->iov_len;
		v++;
		n--;
	}
	if (n) {
		v->iov_base = (uint8_t *)v->iov_base + done;
		v->iov_len -= done;
	}
	*iov = v;
	return n;
}

/* All of @iov (@n entries, which it consumes), in as few calls as it takes. */
static int send_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t sent = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent <= 0)
			return sent < 0 ? -errno : -EPIPE;
		n = iov_advance(&iov, n, sent);
	}
	return 0;
}

static int recv_all(int fd, void *p, uint64_t len)
{
	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		p = (uint8_t *)p + n;
		len -= n;
	}
	return 0;
}

int mig_send(int fd, uint32_t type, uint32_t count, const void *payload,
	     uint64_t len, const void *more, uint64_t more_len, char *err,
	     size_t errlen)
{
	struct mig_msg m = { .type = type, .count = count, .len = len + more_len };
	struct iovec iov[3] = {
		{ &m, sizeof(m) },
		{ (void *)payload, len },
		{ (void *)more, more_len },
	};
	int ret = send_all(fd, iov, more_len ? 3 : len ? 2 : 1);

	if (ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (ret)
		snprintf(err, errlen, "cannot send %s: %s", mig_type_name(type),
			 ret == -EPIPE ? "the peer closed the stream" : strerror(-ret));
	return ret;
}

static int recv_failed(int ret, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", ret == -EPIPE ? "the peer closed the stream" :
		 strerror(-ret));
	return ret;
}

int mig_send_pages(int fd, const uint8_t *mem, const uint64_t *index,
		   uint32_t n, char *err, size_t errlen)
{
	struct mig_msg m = {
		.type = MIG_PAGES, .count = n,
		.len = (uint64_t)n * (sizeof(uint64_t) + MIG_PAGE),
	};
	struct iovec iov[2 + MIG_BATCH];
	uint32_t i;
	int ret;

	if (n > MIG_BATCH) {
		snprintf(err, errlen, "%u pages in one message (at most %u)", n,
			 MIG_BATCH);
		return -EINVAL;
	}
	iov[0] = (struct iovec){ &m, sizeof(m) };
	iov[1] = (struct iovec){ (void *)index, n * sizeof(uint64_t) };
	for (i = 0; i < n; i++)
		iov[2 + i] = (struct iovec){ (void *)(mem + index[i] * MIG_PAGE),
					     MIG_PAGE };
	ret = send_all(fd, iov, 2 + n);
	if (ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (ret)
		snprintf(err, errlen, "cannot send PAGES: %s",
			 ret == -EPIPE ? "the peer closed the stream" : strerror(-ret));
	return ret;
}

int mig_recv(int fd, struct mig_msg *m, char *err, size_t errlen)
{
	int ret = recv_all(fd, m, sizeof(*m));

	if (ret)
		return recv_failed(ret, err, errlen);
	return mig_check_msg(m, err, errlen) ? -EPROTO : 0;
}

int mig_recv_payload(int fd, void *p, uint64_t len, char *err, size_t errlen)
{
	int ret = recv_all(fd, p, len);

	return ret ? recv_failed(ret, err, errlen) : 0;
}

/* Fills @iov (@n entries, which it consumes) from the stream. */
static int readv_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t got = readv(fd, iov, n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0)
			return -EPIPE;
		if (got < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		n = iov_advance(&iov, n, got);
	}
	return 0;
}

int mig_recv_pages(int fd, uint8_t *mem, const uint64_t *index, uint32_t n,
		   char *err, size_t errlen)
{
	struct iovec iov[MIG_BATCH];
	uint32_t i;
	int ret;

	if (n > MIG_BATCH) {
		snprintf(err, errlen, "%u pages in one message (at most %u)", n,
			 MIG_BATCH);
		return -EPROTO;
	}
	for (i = 0; i < n; i++)
		iov[i] = (struct iovec){ mem + index[i] * MIG_PAGE, MIG_PAGE };
	ret = readv_all(fd, iov, n);
	return ret ? recv_failed(ret, err, errlen) : 0;
}
