/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pool socket between lvd and lvrun --pool (SOCK_SEQPACKET, fds
 * passed with SCM_RIGHTS). Shared by lvd, the prepared lvrun processes
 * and the clients; a leaf.
 *
 * Two kinds of pool answer on it:
 *
 * - prepared lvrun processes (lvd's default, lvrun --pool): the client
 *   sends one request carrying its arguments, its start time and, as
 *   fds, its stdin, stdout, stderr and working directory. A prepared
 *   lvrun accepts it, answers (struct pool_reply, no fds), runs the
 *   guest and finally sends the guest's exit status (struct pool_exit).
 *   The client may send struct pool_signal meanwhile (it was told to
 *   end). One connection, one guest, one process.
 *
 * - VM shells (lvd --shells, lvrun --pool-vm): lvd answers the request
 *   with the fds of a VM created LV_VM_UNBOUND and of its vCPUs.
 */
#ifndef LVRUN_POOL_PROTO_H
#define LVRUN_POOL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POOL_MAGIC		0x4c56504cu	/* "LVPL" */
#define POOL_VERSION		2
/* lvrun's own limit on vCPUs; a pool VM has at most this many. */
#define POOL_MAX_VCPUS		64

/* What a client asks for: the pool's kind must be the same. */
enum pool_kind {
	POOL_KIND_PROCESS = 1,	/* a prepared lvrun runs the guest */
	POOL_KIND_VM = 2,	/* the fds of a prepared VM shell */
};

/* The fds a POOL_KIND_PROCESS request carries, in this order. */
enum pool_client_fd {
	POOL_FD_STDIN,
	POOL_FD_STDOUT,
	POOL_FD_STDERR,
	POOL_FD_CWD,
	POOL_NR_CLIENT_FDS,
};

/* The arguments after argv[0], each NUL-terminated, at most this long. */
#define POOL_MAX_ARGS_LEN	32768
#define POOL_MAX_ARGS		1024

/*
 * The request: this header, then @args_len bytes of arguments (none
 * for POOL_KIND_VM), in one message.
 */
struct pool_request {
	uint32_t magic;
	uint32_t version;
	uint32_t kind;		/* enum pool_kind */
	uint32_t nr_vcpus;	/* --vcpus of the client */
	uint64_t start_tsc;	/* TSC when the client lvrun started */
	uint32_t argc;		/* strings in the arguments */
	uint32_t args_len;
};

#define POOL_IRQCHIP		(1u << 0)

/*
 * The answer. With @error 0: for POOL_KIND_VM, 1 + @nr_vcpus fds, the VM
 * (created LV_VM_UNBOUND) then vCPU 0, 1, ...; for POOL_KIND_PROCESS no
 * fds, @pid is the prepared lvrun that now runs the guest. Otherwise no
 * fds, and @msg says why.
 */
struct pool_reply {
	uint32_t magic;
	uint32_t version;
	int32_t error;		/* 0 or a positive errno */
	uint32_t nr_vcpus;
	uint32_t flags;
	uint32_t served;	/* VMs lvd handed out before this one */
	uint32_t pid;		/* POOL_KIND_PROCESS: the serving lvrun */
	char msg[100];
};

/* Last message of a prepared lvrun: the status lvrun exits with. */
struct pool_exit {
	uint32_t magic;
	uint32_t status;
};

/* From the client: it got this signal and ends; the guest ends with it. */
struct pool_signal {
	uint32_t magic;
	uint32_t signo;
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
/* The same for a message of at most @max bytes: its length in @len. */
int pool_recv_upto(int sock, void *buf, size_t max, size_t *len, int *fds,
		   int max_fds, int *nr_fds);

/*
 * The arguments: packs @argc strings into @buf (@size bytes) as
 * NUL-terminated strings; returns their length, or -1 if they do not
 * fit. pool_unpack_args() checks that @len bytes hold exactly @argc such
 * strings and points @argv (@argc + 1 entries, NULL-terminated) at them;
 * 0, or -1 if not.
 */
long pool_pack_args(char *buf, size_t size, int argc, char *const *argv);
int pool_unpack_args(char *buf, size_t len, uint32_t argc, char **argv);

/*
 * Checks a request's header against what a pool of @kind serves and
 * the message length; NULL or what is wrong (for the refusal).
 */
const char *pool_check_request(const struct pool_request *req, size_t len,
			       enum pool_kind kind);

#endif /* LVRUN_POOL_PROTO_H */
