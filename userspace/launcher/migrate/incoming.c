// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the target side of live migration (lvrun --incoming ADDRESS).
 * Everything the source sends is checked before use: the HELLO as a
 * restore checks a snapshot's machine, every page number against the
 * guest's memory, the state as a restore checks a snapshot. Anything
 * wrong ends this lvrun before a vCPU runs, and the source, told why
 * when the stream still works, resumes its guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../log.h"
#include "../lvrun.h"
#include "../snapshot/snapshot.h"
#include "../threads.h"
#include "handover.h"
#include "migrate.h"
#include "transport.h"
#include "wire.h"

/* The stream, kept open for READY, GO and RUNNING. */
static int source_fd = -1;
/* unix:, so the source is on this host and shares its CPUs. */
static bool source_local;

/*
 * How long the first vCPU waits for a local source to take RUNNING
 * (wait_source_took_running): far beyond a few scheduler ticks, and still
 * short should the source be stopped.
 */
#define SOURCE_READ_WAIT_MS	100

/* TSC stamps of the end: where the target's share of the downtime goes. */
static struct {
	uint64_t done;		/* DONE received */
	uint64_t state;		/* memory checked, state loaded */
	uint64_t ready;		/* devices started: READY goes out */
	uint64_t go;		/* GO received */
} stamp;

/* Tells the source why (if the stream still works), then dies. */
static void __attribute__((noreturn)) refuse(const char *why)
{
	char err[64];

	if (source_fd >= 0)
		mig_send(source_fd, MIG_REFUSE, 0, why,
			 strnlen(why, MIG_REFUSE_MAX), NULL, 0, err, sizeof(err));
	die("incoming: %s", why);
}

static void recv_or_refuse(struct mig_msg *m)
{
	char err[200];

	if (mig_recv(source_fd, m, err, sizeof(err)))
		refuse(err);
}

static void payload_or_refuse(void *p, uint64_t len)
{
	char err[200];

	if (mig_recv_payload(source_fd, p, len, err, sizeof(err)))
		refuse(err);
}

/* The source's machine: checked, then the hypervisor VM and memory. */
static void accept_machine(struct vm *vm)
{
	struct mig_hello h;
	struct mig_msg m;
	char err[200];

	recv_or_refuse(&m);
	if (m.type != MIG_HELLO)
		refuse("the stream does not start with HELLO");
	payload_or_refuse(&h, sizeof(h));
	if (mig_check_hello(&h, opts.mem_size, err, sizeof(err)))
		refuse(err);
	vm->nr_vcpus = h.machine.nr_vcpus;
	vm->kind = h.machine.image_kind;
	hv_init(&vm->hv, &hv_lightvisor_ops, vm->nr_vcpus);
	if (snapshot_check_host(vm, &h.machine, err, sizeof(err)))
		refuse(err);
	vm->mem.size = h.machine.mem_size;
	vm->mem.host = mmap(NULL, vm->mem.size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem.host == MAP_FAILED)
		refuse("cannot allocate the guest's memory");
	vm->mem_anonymous = true;
	vm->hv.ops->set_memory(&vm->hv, 0, vm->mem.host, vm->mem.size);
	if (mig_send(source_fd, MIG_ACCEPT, 0, NULL, 0, NULL, 0, err, sizeof(err)))
		die("incoming: %s", err);
	/* While the memory comes: all that does not need the final state. */
	snapshot_build(vm, &h.machine);
	threads_make_spares(vm->nr_vcpus);
}

/* A PAGES message: its page numbers, then each page straight into place. */
static uint64_t receive_pages(struct vm *vm, const struct mig_msg *m)
{
	uint64_t index[MIG_BATCH];
	char err[200];

	payload_or_refuse(index, m->count * sizeof(uint64_t));
	if (mig_check_pages(index, m->count, vm->mem.size / MIG_PAGE, err,
			    sizeof(err)))
		refuse(err);
	if (mig_recv_pages(source_fd, vm->mem.host, index, m->count, err,
			   sizeof(err)))
		refuse(err);
	return m->count;
}

/* What ends the stream: SYNC, the state sections, and DONE. */
struct incoming_end {
	bool synced;
	uint8_t *state;
	uint64_t state_len;
	struct mig_done done;
};

/* Pre-copy ends: everything before SYNC is in place. */
static void answer_sync(struct incoming_end *end)
{
	char err[200];

	if (end->synced)
		refuse("a second SYNC message");
	end->synced = true;
	if (mig_send(source_fd, MIG_SYNCED, 0, NULL, 0, NULL, 0, err, sizeof(err)))
		refuse(err);
}

static void receive_state(struct incoming_end *end, const struct mig_msg *m)
{
	if (!end->synced)
		refuse("STATE before SYNC");
	if (end->state)
		refuse("a second STATE message");
	end->state = malloc(m->len);
	if (!end->state)
		refuse("out of memory for the state");
	end->state_len = m->len;
	payload_or_refuse(end->state, m->len);
}

/* Memory and state until DONE; tells the pages of each round. */
static void receive_stream(struct vm *vm, struct incoming_end *end)
{
	uint64_t pages = 0;
	struct mig_msg m;

	for (;;) {
		recv_or_refuse(&m);
		switch (m.type) {
		case MIG_PAGES:
			pages += receive_pages(vm, &m);
			break;
		case MIG_ROUND:
			warn("incoming: round %u: %llu pages", m.count,
			     (unsigned long long)pages);
			pages = 0;
			break;
		case MIG_SYNC:
			answer_sync(end);
			break;
		case MIG_STATE:
			receive_state(end, &m);
			break;
		case MIG_DONE:
			payload_or_refuse(&end->done, sizeof(end->done));
			if (!end->state)
				refuse("DONE before the state");
			if (end->done.flags & ~MIG_DONE_CHECKSUM || end->done.padding)
				refuse("DONE with unknown flags");
			return;
		default:
			refuse("unexpected message in the stream");
		}
	}
}

/* With a checksum from the source, ours must equal it. */
static void check_memory(struct vm *vm, const struct mig_done *done)
{
	char msg[128];
	uint64_t sum;

	if (!(done->flags & MIG_DONE_CHECKSUM))
		return;
	sum = mig_mem_checksum(vm->mem.host, vm->mem.size);
	warn("incoming: memory checksum %016llx", (unsigned long long)sum);
	if (sum != done->mem_checksum) {
		snprintf(msg, sizeof(msg), "memory checksum %016llx, the source's %016llx",
			 (unsigned long long)sum,
			 (unsigned long long)done->mem_checksum);
		refuse(msg);
	}
}

/* The state as a snapshot's header and sections, checked as a restore does. */
static void load_state(struct vm *vm, const struct incoming_end *end)
{
	const struct snap_header *h = (const void *)end->state;
	char err[200];
	size_t len;

	if (end->state_len < sizeof(*h))
		refuse("state shorter than a snapshot header");
	len = snap_check_header(end->state, end->state_len,
				h->mem_offset + h->mem_size, err, sizeof(err));
	if (!len)
		refuse(err);
	if (len != end->state_len || h->mem_size != vm->mem.size)
		refuse("the state's header does not match its message");
	if (snapshot_load(vm, end->state, len, err, sizeof(err)))
		refuse(err);
}

static int wait_for_source(const char *address)
{
	struct mig_address a;
	char err[200];
	int lfd, fd;

	if (mig_parse_address(address, &a, err, sizeof(err)))
		die("--incoming %s: %s", address, err);
	lfd = mig_listen(&a, err, sizeof(err));
	if (lfd < 0)
		die("--incoming %s: %s", address, err);
	warn("incoming: waiting on %s", address);
	fd = mig_accept(lfd, err, sizeof(err));
	if (fd < 0)
		die("--incoming %s: %s", address, err);
	/* One source only: nobody else may connect, the path is free again. */
	close(lfd);
	if (!a.tcp)
		unlink(a.path);
	source_local = !a.tcp;
	return fd;
}

void vm_incoming(struct vm *vm, const char *address)
{
	struct incoming_end end = { 0 };

	/* The UART's input, the RTC, --control: made before anyone waits. */
	threads_make_spares(3);
	source_fd = wait_for_source(address);
	accept_machine(vm);
	receive_stream(vm, &end);
	stamp.done = __rdtsc();
	check_memory(vm, &end.done);
	load_state(vm, &end);
	free(end.state);
	stamp.state = __rdtsc();
	trace("incoming: %d vCPUs, %llu KiB of memory", vm->nr_vcpus,
	      (unsigned long long)(vm->mem.size >> 10));
}

void migrate_incoming_ready(void)
{
	char err[200];

	stamp.ready = __rdtsc();
	if (mig_handover_target(source_fd, err, sizeof(err)))
		die("incoming: %s: the guest does not run here", err);
	stamp.go = __rdtsc();
}

/*
 * A source on this host shares the CPUs with this lvrun. With one CPU,
 * a guest entered at once keeps it until the scheduler's slice ends, and
 * the woken source reads RUNNING one to three ticks late: its downtime
 * would count them, though the guest ran. A yield does not help: the
 * source did the migration's work and the scheduler does not count it
 * eligible yet. Sleeping does: the source runs, reads RUNNING and closes
 * the stream (RUNNING is the last message), which wakes this thread. The
 * wait is bounded, and the guest's gap stamped after it counts it. A
 * source on another host (tcp:) does not share a CPU: no wait there for
 * a network round trip.
 */
static void wait_source_took_running(void)
{
	struct pollfd p = { .fd = source_fd, .events = POLLIN | POLLRDHUP };

	if (!source_local)
		return;
	while (poll(&p, 1, SOURCE_READ_WAIT_MS) < 0 && errno == EINTR)
		;
}

static void tell_source_running(void)
{
	uint64_t now;
	char err[200];

	if (mig_handover_running(source_fd, err, sizeof(err)))
		warn("incoming: the guest runs here, but the source was not told: %s",
		     err);
	else
		wait_source_took_running();
	close(source_fd);
	source_fd = -1;
	now = __rdtsc();
	/* The TSC: on one host, the source's pause is on the same clock. */
	warn("incoming: the guest runs here from TSC %llu; TSC ticks from DONE: state %llu, devices %llu, then from GO: vCPUs started %llu",
	     (unsigned long long)now,
	     (unsigned long long)(stamp.state - stamp.done),
	     (unsigned long long)(stamp.ready - stamp.state),
	     (unsigned long long)(now - stamp.go));
}

void migrate_incoming_running(void)
{
	static pthread_once_t told = PTHREAD_ONCE_INIT;

	/* Whoever comes second waits until the source took RUNNING. */
	pthread_once(&told, tell_source_running);
}
