// SPDX-License-Identifier: GPL-2.0
/*
 * The pool socket's messages: a fixed-size struct and its fds.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

#define POOL_MAX_FDS	(1 + POOL_MAX_VCPUS)

int pool_send(int sock, const void *buf, size_t len, const int *fds, int nr_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * POOL_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (nr_fds < 0 || nr_fds > POOL_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	if (nr_fds) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	return 0;
}

/* Every fd that came, kept in @fds up to @max_fds, the rest closed. */
static int take_fds(struct msghdr *msg, int *fds, int max_fds)
{
	struct cmsghdr *c;
	int n = 0, i, got;
	int *in;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		in = (int *)CMSG_DATA(c);
		got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < got; i++) {
			if (n < max_fds)
				fds[n++] = in[i];
			else
				close(in[i]);
		}
	}
	return n;
}

int pool_recv(int sock, void *buf, size_t len, int *fds, int max_fds,
	      int *nr_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * POOL_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;
	int i;

	*nr_fds = 0;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	*nr_fds = take_fds(&msg, fds, max_fds);
	if (n == 0 || n != (ssize_t)len || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (i = 0; i < *nr_fds; i++)
			close(fds[i]);
		*nr_fds = 0;
		errno = n == 0 ? ECONNRESET : EPROTO;
		return -1;
	}
	return 0;
}
