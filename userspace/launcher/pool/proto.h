/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pool socket between lvd and lvrun --pool: one request, one answer
 * carrying a prepared VM's fds (SCM_RIGHTS) on a SOCK_SEQPACKET socket.
 * Shared by both sides; a leaf.
 */
#ifndef LVRUN_POOL_PROTO_H
#define LVRUN_POOL_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#define POOL_MAGIC		0x4c56504cu	/* "LVPL" */
#define POOL_VERSION		1
/* lvrun's own limit on vCPUs; a pool VM has at most this many. */
#define POOL_MAX_VCPUS		64

#define POOL_IRQCHIP		(1u << 0)

/*
 * lvrun asks for a VM with this many vCPUs. It sends the request before
 * it has read its image, so whether the guest needs an irqchip is not
 * known yet: lvrun checks that on the answer (@flags there).
 */
struct pool_request {
	uint32_t magic;
	uint32_t version;
	uint32_t nr_vcpus;
	uint32_t flags;		/* 0 */
};

/*
 * lvd answers. With @error 0 the message carries 1 + @nr_vcpus fds:
 * the VM (created LV_VM_UNBOUND), then vCPU 0, 1, ... Otherwise none,
 * and @msg says why.
 */
struct pool_reply {
	uint32_t magic;
	uint32_t version;
	int32_t error;		/* 0 or a positive errno */
	uint32_t nr_vcpus;
	uint32_t flags;
	uint32_t served;	/* VMs lvd handed out before this one */
	char msg[104];
};

/*
 * Sends @len bytes of @buf with @nr_fds fds. Returns 0 or -1 with errno.
 * Receives one message into @buf (exactly @len bytes expected) and up to
 * @max_fds fds into @fds (close-on-exec), their count in @nr_fds; returns
 * 0, or -1 with errno (EPROTO: a message of another size; 0 bytes read
 * is ECONNRESET).
 */
int pool_send(int sock, const void *buf, size_t len, const int *fds, int nr_fds);
int pool_recv(int sock, void *buf, size_t len, int *fds, int max_fds,
	      int *nr_fds);

#endif /* LVRUN_POOL_PROTO_H */
