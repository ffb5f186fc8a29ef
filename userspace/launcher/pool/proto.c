// SPDX-License-Identifier: GPL-2.0
/*
 * The pool socket's messages: a struct, maybe arguments, and fds.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

#define POOL_MAX_FDS	(1 + POOL_MAX_VCPUS)
_Static_assert(POOL_NR_CLIENT_FDS <= POOL_MAX_FDS, "client fds fit");

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

int pool_recv_upto(int sock, void *buf, size_t max, size_t *len, int *fds,
		   int max_fds, int *nr_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * POOL_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = max };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;
	int i;

	*nr_fds = 0;
	*len = 0;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	*nr_fds = take_fds(&msg, fds, max_fds);
	if (n == 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (i = 0; i < *nr_fds; i++)
			close(fds[i]);
		*nr_fds = 0;
		errno = n == 0 ? ECONNRESET : EPROTO;
		return -1;
	}
	*len = n;
	return 0;
}

int pool_recv(int sock, void *buf, size_t len, int *fds, int max_fds,
	      int *nr_fds)
{
	size_t got;
	int i;

	if (pool_recv_upto(sock, buf, len, &got, fds, max_fds, nr_fds))
		return -1;
	if (got != len) {
		for (i = 0; i < *nr_fds; i++)
			close(fds[i]);
		*nr_fds = 0;
		errno = EPROTO;
		return -1;
	}
	return 0;
}

long pool_pack_args(char *buf, size_t size, int argc, char *const *argv)
{
	size_t used = 0, n;
	int i;

	if (argc < 0 || argc > POOL_MAX_ARGS)
		return -1;
	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]) + 1;
		if (n > size - used)
			return -1;
		memcpy(buf + used, argv[i], n);
		used += n;
	}
	return used;
}

int pool_unpack_args(char *buf, size_t len, uint32_t argc, char **argv)
{
	size_t pos = 0;
	char *nul;
	uint32_t i;

	if (argc > POOL_MAX_ARGS || len > POOL_MAX_ARGS_LEN)
		return -1;
	for (i = 0; i < argc; i++) {
		nul = pos < len ? memchr(buf + pos, 0, len - pos) : NULL;
		if (!nul)
			return -1;
		argv[i] = buf + pos;
		pos = nul - buf + 1;
	}
	argv[argc] = NULL;
	return pos == len ? 0 : -1;
}

const char *pool_check_request(const struct pool_request *req, size_t len,
			       enum pool_kind kind)
{
	if (len < sizeof(*req) || req->magic != POOL_MAGIC ||
	    req->version != POOL_VERSION)
		return "not an lvrun pool request of protocol version 2 (lvrun and lvd of another version?)";
	if (req->kind != kind)
		return kind == POOL_KIND_VM ?
			"this lvd keeps VM shells (lvd --shells): take one with lvrun --pool-vm" :
			"this lvd keeps prepared lvrun processes: ask with lvrun --pool, not --pool-vm";
	if (req->nr_vcpus < 1 || req->nr_vcpus > POOL_MAX_VCPUS)
		return "bad vCPU count in the request";
	if (len != sizeof(*req) + req->args_len)
		return "the request's length does not match its arguments";
	if (kind == POOL_KIND_VM && (req->args_len || req->argc))
		return "a request for a VM shell carries no arguments";
	if (kind == POOL_KIND_PROCESS &&
	    (req->args_len > POOL_MAX_ARGS_LEN || req->argc > POOL_MAX_ARGS))
		return "too many or too long arguments";
	return NULL;
}
