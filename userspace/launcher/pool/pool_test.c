// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the pool socket's messages (proto.c) and of a
 * prepared VM's fit to a guest (shape.c). Linked into lvrun-loadertest,
 * which prints the TAP plan.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "proto.h"
#include "shape.h"

void pool_tests(void);

static void test_args(void)
{
	char *in[] = { "--mem", "", "--cmdline", "console=ttyS0 quiet", "img" };
	char buf[256], *out[8];
	long len;
	int i, same = 1;

	len = pool_pack_args(buf, sizeof(buf), 5, in);
	tap_ok(len == 6 + 1 + 10 + 20 + 4, "pool: 5 arguments pack into %ld bytes", len);
	tap_ok(!pool_unpack_args(buf, len, 5, out), "pool: and unpack");
	for (i = 0; i < 5; i++)
		same &= !strcmp(in[i], out[i]);
	tap_ok(same && !out[5], "pool: the same 5, the empty one too, then NULL");
	tap_ok(pool_unpack_args(buf, len, 4, out) == -1,
	       "pool: 4 strings claimed, 5 there: refused");
	tap_ok(pool_unpack_args(buf, len, 6, out) == -1,
	       "pool: 6 strings claimed, 5 there: refused");
	tap_ok(pool_unpack_args(buf, len - 1, 5, out) == -1,
	       "pool: the last string without its NUL: refused");
	tap_ok(pool_pack_args(buf, 10, 5, in) == -1,
	       "pool: arguments larger than the buffer: refused");
	tap_ok(pool_unpack_args(buf, 0, 0, out) == 0 && !out[0],
	       "pool: no arguments at all is fine");
}

static struct pool_request request(enum pool_kind kind, uint32_t args_len)
{
	return (struct pool_request){
		.magic = POOL_MAGIC, .version = POOL_VERSION, .kind = kind,
		.nr_vcpus = 1, .argc = args_len ? 1 : 0, .args_len = args_len,
	};
}

static void test_requests(void)
{
	struct pool_request r = request(POOL_KIND_PROCESS, 4);
	const char *err;

	tap_ok(!pool_check_request(&r, sizeof(r) + 4, POOL_KIND_PROCESS),
	       "pool: a request for a prepared lvrun passes");
	err = pool_check_request(&r, sizeof(r) + 4, POOL_KIND_VM);
	tap_ok(err && strstr(err, "keeps VM shells") && strstr(err, "--pool-vm"),
	       "pool: the same to lvd --shells: refused naming --pool-vm (%s)", err);
	r = request(POOL_KIND_VM, 0);
	err = pool_check_request(&r, sizeof(r), POOL_KIND_PROCESS);
	tap_ok(err && strstr(err, "prepared lvrun processes"),
	       "pool: --pool-vm to a pool of processes: refused by name (%s)", err);
	r = request(POOL_KIND_PROCESS, 4);
	tap_ok(pool_check_request(&r, sizeof(r) + 3, POOL_KIND_PROCESS) != NULL,
	       "pool: a length that does not match args_len: refused");
	tap_ok(pool_check_request(&r, sizeof(r) - 1, POOL_KIND_PROCESS) != NULL,
	       "pool: a message shorter than the header: refused");
	r.version = 1;
	err = pool_check_request(&r, sizeof(r) + 4, POOL_KIND_PROCESS);
	tap_ok(err && strstr(err, "version 2"), "pool: protocol version 1: refused (%s)", err);
	r = request(POOL_KIND_VM, 4);
	tap_ok(pool_check_request(&r, sizeof(r) + 4, POOL_KIND_VM) != NULL,
	       "pool: a VM shell request with arguments: refused");
	r = request(POOL_KIND_PROCESS, 0);
	r.nr_vcpus = POOL_MAX_VCPUS + 1;
	tap_ok(pool_check_request(&r, sizeof(r), POOL_KIND_PROCESS) != NULL,
	       "pool: %d vCPUs: refused", POOL_MAX_VCPUS + 1);
}

static void test_shapes(void)
{
	struct pool_shape have = { .nr_vcpus = 1, .mem_size = 16 << 20,
				   .default_backing = true };
	struct pool_shape want = have;
	char msg[256];

	tap_ok(!pool_shape_check(&have, &want, msg, sizeof(msg)),
	       "pool: a guest that needs what was prepared fits");
	want.nr_vcpus = 2;
	tap_ok(pool_shape_check(&have, &want, msg, sizeof(msg)) &&
	       strstr(msg, "--vcpus 2: this pool's lvrun processes have 1 vCPU(s)"),
	       "pool: 2 vCPUs on 1 prepared: %s", msg);
	want = have;
	want.mem_size = 256 << 20;
	tap_ok(pool_shape_check(&have, &want, msg, sizeof(msg)) &&
	       strstr(msg, "wants 256M") && strstr(msg, "have 16M") &&
	       strstr(msg, "lvd --mem 256M"),
	       "pool: 256M on 16M prepared: %s", msg);
	want = have;
	want.mem_size = (16 << 20) + 4096;
	tap_ok(pool_shape_check(&have, &want, msg, sizeof(msg)) &&
	       strstr(msg, "wants 16388K"), "pool: 4K more: %s", msg);
	want = have;
	want.irqchip = true;
	tap_ok(pool_shape_check(&have, &want, msg, sizeof(msg)) &&
	       strstr(msg, "have no in-kernel interrupt controllers, this guest needs them (lvd --irqchip)"),
	       "pool: an irqchip guest on a pool without: %s", msg);
	have.irqchip = true;
	want = have;
	want.irqchip = false;
	tap_ok(pool_shape_check(&have, &want, msg, sizeof(msg)) &&
	       strstr(msg, "must run without them (lvd without --irqchip)"),
	       "pool: a guest without on a pool with: %s", msg);
	want = have;
	want.default_backing = false;
	tap_ok(pool_shape_check(&have, &want, msg, sizeof(msg)) &&
	       strstr(msg, "--hugepages"), "pool: --hugepages on a prepared pool: %s", msg);
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* A request with its arguments and the 4 fds, over a real socket. */
static void test_socket(void)
{
	char buf[sizeof(struct pool_request) + 64], big[4096], *argv[4];
	char *args[] = { "--pool", "/x.sock", "hello64.elf" };
	struct pool_request *r = (struct pool_request *)buf;
	int sv[2], p[2], fds[POOL_NR_CLIENT_FDS], got[8], nr, i, ok = 1;
	size_t len;
	long alen;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) || pipe(p)) {
		tap_ok(0, "pool: socketpair and pipe: %s", strerror(errno));
		return;
	}
	fds[POOL_FD_STDIN] = p[0];
	fds[POOL_FD_STDOUT] = p[1];
	fds[POOL_FD_STDERR] = p[1];
	fds[POOL_FD_CWD] = open(".", O_PATH | O_DIRECTORY);
	alen = pool_pack_args(buf + sizeof(*r), 64, 3, args);
	*r = request(POOL_KIND_PROCESS, alen);
	r->argc = 3;
	tap_ok(!pool_send(sv[0], buf, sizeof(*r) + alen, fds, POOL_NR_CLIENT_FDS),
	       "pool: a request with 4 fds is sent");
	memset(buf, 0, sizeof(buf));
	i = pool_recv_upto(sv[1], buf, sizeof(buf), &len, got, 8, &nr);
	tap_ok(!i && len == sizeof(*r) + alen && nr == POOL_NR_CLIENT_FDS,
	       "pool: and received whole: %zu bytes, %d fds", len, nr);
	for (i = 0; i < nr && i < POOL_NR_CLIENT_FDS; i++)
		ok &= same_file(fds[i], got[i]) &&
		      (fcntl(got[i], F_GETFD) & FD_CLOEXEC);
	tap_ok(ok && nr == POOL_NR_CLIENT_FDS,
	       "pool: the fds are the client's files, close-on-exec");
	tap_ok(!pool_check_request(r, len, POOL_KIND_PROCESS) &&
	       !pool_unpack_args(buf + sizeof(*r), r->args_len, r->argc, argv) &&
	       !strcmp(argv[2], "hello64.elf"),
	       "pool: its arguments check and unpack");
	for (i = 0; i < nr; i++)
		close(got[i]);

	memset(big, 'x', sizeof(big));
	send(sv[0], big, sizeof(big), 0);
	errno = 0;
	tap_ok(pool_recv_upto(sv[1], buf, sizeof(buf), &len, got, 8, &nr) == -1 &&
	       errno == EPROTO && nr == 0,
	       "pool: a message larger than any request: EPROTO");
	close(sv[0]);
	errno = 0;
	tap_ok(pool_recv_upto(sv[1], buf, sizeof(buf), &len, got, 8, &nr) == -1 &&
	       errno == ECONNRESET, "pool: the peer gone: ECONNRESET");
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	close(fds[POOL_FD_CWD]);
}

void pool_tests(void)
{
	test_args();
	test_requests();
	test_shapes();
	test_socket();
}
