// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the source side of live migration (migrate.h). Runs on the
 * control thread; the vCPUs run on through pre-copy.
 *
 * Pre-copy: the first round sends every page that is not all zero (the
 * target's memory starts zeroed), reading only the pages the pagemap
 * shows were ever touched (pagemap.h), then each round sends the pages
 * the dirty log says were written during the one before. Rounds end
 * when the dirty set is small, stops shrinking, or after MIG_MAX_ROUNDS;
 * the set they leave is sent with the guest paused, with the state.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../log.h"
#include "../lvrun.h"
#include "../snapshot/snapshot.h"
#include "handover.h"
#include "migrate.h"
#include "pagemap.h"
#include "transport.h"
#include "wire.h"

/* One migration: the stream and the pages waiting to go out. */
struct mig_source {
	struct vm *vm;
	int fd;
	uint64_t nr_pages;
	uint64_t *dirty;	/* pages still to send, one bit each */
	uint64_t *fresh;	/* the dirty log as just read */
	size_t words;		/* of each bitmap */
	uint32_t batched;	/* pages in the batch */
	uint64_t *index;	/* MIG_BATCH page numbers */
	char *err;
	size_t errlen;
	uint64_t round_start;	/* TSC at the start of the current round */
	uint64_t phase_start;	/* TSC at the start of the downtime's phase */
	int pagemap_fd;		/* /proc/self/pagemap, or -1 */
	uint64_t *pagemap;	/* PAGEMAP_CHUNK entries */
};

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	unsigned int i;

	for (i = 0; i < MIG_PAGE / sizeof(*q); i++)
		if (q[i])
			return false;
	return true;
}

static int flush_batch(struct mig_source *s)
{
	int ret;

	if (!s->batched)
		return 0;
	ret = mig_send_pages(s->fd, s->vm->mem.host, s->index, s->batched,
			     s->err, s->errlen);
	s->batched = 0;
	return ret;
}

/*
 * Page @pfn goes in the batch, read from guest memory when the batch is
 * sent: a running guest may be writing it then, and the dirty log sends
 * it again.
 */
static int queue_page(struct mig_source *s, uint64_t pfn)
{
	s->index[s->batched] = pfn;
	if (++s->batched == MIG_BATCH)
		return flush_batch(s);
	return 0;
}

/* Pagemap entries read at once: 32 KiB, for 16 MiB of guest memory. */
#define PAGEMAP_CHUNK		4096u

/*
 * Round 1: every page with something in it. The dirty log is on: a page
 * the guest touches after its pagemap entry was read goes in a later
 * round.
 */
static int send_all_pages(struct mig_source *s, uint64_t *sent)
{
	uint64_t pfn;
	uint32_t i, n;
	int ret;

	*sent = 0;
	/* A snapshot's file mapping holds data in pages not yet touched. */
	s->pagemap_fd = s->vm->mem_anonymous ? mig_pagemap_open() : -1;
	for (pfn = 0; pfn < s->nr_pages; pfn += n) {
		n = s->nr_pages - pfn < PAGEMAP_CHUNK ? s->nr_pages - pfn :
		    PAGEMAP_CHUNK;
		mig_pagemap_read(s->pagemap_fd, s->vm->mem.host + pfn * MIG_PAGE,
				 n, s->pagemap);
		for (i = 0; i < n; i++) {
			if (mig_page_untouched(s->pagemap[i]) ||
			    page_is_zero(s->vm->mem.host + (pfn + i) * MIG_PAGE))
				continue;
			ret = queue_page(s, pfn + i);
			if (ret)
				return ret;
			(*sent)++;
		}
	}
	return flush_batch(s);
}

/* The pages of s->dirty, which it then forgets. */
static int send_dirty_pages(struct mig_source *s, uint64_t *sent)
{
	size_t w;
	int ret;

	*sent = 0;
	for (w = 0; w < s->words; w++) {
		while (s->dirty[w]) {
			uint64_t pfn = w * 64 + __builtin_ctzll(s->dirty[w]);

			s->dirty[w] &= s->dirty[w] - 1;
			ret = queue_page(s, pfn);
			if (ret)
				return ret;
			(*sent)++;
		}
	}
	return flush_batch(s);
}

/* Adds the dirty log (read and cleared) to s->dirty; returns its count. */
static int collect_dirty(struct mig_source *s, uint64_t *count)
{
	struct vm *vm = s->vm;
	size_t w;
	int ret;

	ret = vm->hv.ops->get_dirty_log(&vm->hv, s->fresh);
	if (ret) {
		snprintf(s->err, s->errlen, "cannot read the dirty log: %s",
			 strerror(-ret));
		return ret;
	}
	*count = 0;
	for (w = 0; w < s->words; w++) {
		s->dirty[w] |= s->fresh[w];
		*count += __builtin_popcountll(s->dirty[w]);
	}
	return 0;
}

static int end_round(struct mig_source *s, struct mig_report *r, uint64_t sent)
{
	uint64_t now = __rdtsc();

	r->pages[r->rounds++] = sent;
	warn("migrate: round %d: %llu pages in %llu TSC ticks", r->rounds,
	     (unsigned long long)sent,
	     (unsigned long long)(now - s->round_start));
	s->round_start = now;
	return mig_send(s->fd, MIG_ROUND, r->rounds, NULL, 0, NULL, 0, s->err,
			s->errlen);
}

/*
 * The target has stored every page sent so far: what it still had to
 * read and place (and its memory to fault in) is not left for the
 * downtime.
 */
static int sync_target(struct mig_source *s)
{
	int ret = mig_send(s->fd, MIG_SYNC, 0, NULL, 0, NULL, 0, s->err,
			   s->errlen);

	return ret ? ret : mig_expect(s->fd, MIG_SYNCED, s->err, s->errlen);
}

/* While the guest runs; leaves in s->dirty what the pause must send. */
static int precopy(struct mig_source *s, struct mig_report *r)
{
	uint64_t sent, count, last = ~0ULL;
	int ret;

	ret = send_all_pages(s, &sent);
	if (!ret)
		ret = end_round(s, r, sent);
	while (!ret && r->rounds < MIG_MAX_ROUNDS) {
		ret = collect_dirty(s, &count);
		if (ret || count <= MIG_SMALL_DIRTY || count >= last)
			break;
		last = count;
		ret = send_dirty_pages(s, &sent);
		if (!ret)
			ret = end_round(s, r, sent);
	}
	return ret ? ret : sync_target(s);
}

static int send_hello(struct mig_source *s)
{
	struct mig_hello h;
	struct snap_machine m;
	int ret;

	snapshot_describe(s->vm, &m);
	mig_hello_init(&h, &m);
	ret = mig_send(s->fd, MIG_HELLO, 0, &h, sizeof(h), NULL, 0, s->err,
		       s->errlen);
	return ret ? ret : mig_expect(s->fd, MIG_ACCEPT, s->err, s->errlen);
}

/* Counts the ticks since the last phase's end as @phase's. */
static void phase_done(struct mig_source *s, struct mig_report *r,
		       enum mig_downtime_phase phase, uint64_t now)
{
	r->downtime_phase[phase] = now - s->phase_start;
	s->phase_start = now;
}

/* The guest is paused: the last pages, the state, and the handover. */
static int send_rest(struct mig_source *s, struct mig_report *r)
{
	struct mig_done done = { 0 };
	struct snap_buf b;
	uint64_t count, sent, ready;
	int ret;

	ret = collect_dirty(s, &count);
	if (!ret)
		ret = send_dirty_pages(s, &sent);
	if (!ret)
		ret = end_round(s, r, sent);
	phase_done(s, r, MIG_DOWN_PAGES, __rdtsc());
	if (!ret)
		ret = snapshot_state(s->vm, &b, s->err, s->errlen);
	if (ret)
		return ret;
	ret = mig_send(s->fd, MIG_STATE, 0, b.p, b.len, NULL, 0, s->err,
		       s->errlen);
	snap_buf_free(&b);
	if (r->checksum) {
		done.flags = MIG_DONE_CHECKSUM;
		done.mem_checksum = mig_mem_checksum(s->vm->mem.host,
						     s->vm->mem.size);
		r->mem_checksum = done.mem_checksum;
		warn("migrate: memory checksum %016llx",
		     (unsigned long long)done.mem_checksum);
	}
	if (!ret)
		ret = mig_send(s->fd, MIG_DONE, 0, &done, sizeof(done), NULL, 0,
			       s->err, s->errlen);
	phase_done(s, r, MIG_DOWN_STATE, __rdtsc());
	if (ret)
		return ret;
	ret = mig_handover_source(s->fd, &r->committed, &ready, s->err,
				  s->errlen);
	if (ready)
		phase_done(s, r, MIG_DOWN_READY, ready);
	if (!ret)
		phase_done(s, r, MIG_DOWN_RUNNING, __rdtsc());
	return ret;
}

static int set_dirty_log(struct vm *vm, bool on)
{
	return vm->hv.ops->log_dirty(&vm->hv, 0, vm->mem.host, vm->mem.size, on);
}

/*
 * Pre-copy, pause, the rest; the guest resumes here if any of it fails
 * before GO went out (handover.h).
 */
static int transfer(struct mig_source *s, struct mig_report *r)
{
	struct vm *vm = s->vm;
	bool was_running = !vm_paused(vm);
	uint64_t start = __rdtsc(), paused;
	int ret;

	ret = set_dirty_log(vm, true);
	s->round_start = __rdtsc();
	if (ret) {
		snprintf(s->err, s->errlen, "cannot log dirty pages: %s",
			 strerror(-ret));
		return ret;
	}
	ret = precopy(s, r);
	paused = __rdtsc();
	r->paused_tsc = paused;
	s->round_start = paused;
	s->phase_start = paused;
	if (!ret && was_running) {
		ret = vm_pause(vm);
		if (ret)
			snprintf(s->err, s->errlen, "cannot pause: %s", strerror(-ret));
	}
	phase_done(s, r, MIG_DOWN_PAUSE, __rdtsc());
	if (!ret)
		ret = send_rest(s, r);
	r->total_ticks = __rdtsc() - start;
	r->downtime_ticks = __rdtsc() - paused;
	if (!ret || r->committed)
		return ret;	/* committed: the target may run it, never here */
	set_dirty_log(vm, false);
	if (was_running && vm_paused(vm))
		vm_resume(vm);
	return ret;
}

static int source_init(struct mig_source *s, struct vm *vm, char *err,
		       size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->vm = vm;
	s->err = err;
	s->errlen = errlen;
	s->nr_pages = vm->mem.size / MIG_PAGE;
	s->words = (s->nr_pages + 63) / 64;
	s->dirty = calloc(s->words, sizeof(uint64_t));
	s->fresh = calloc(s->words, sizeof(uint64_t));
	s->index = calloc(MIG_BATCH, sizeof(uint64_t));
	s->pagemap = calloc(PAGEMAP_CHUNK, sizeof(uint64_t));
	s->pagemap_fd = -1;
	if (!s->dirty || !s->fresh || !s->index || !s->pagemap)
		die("out of memory for a migration");
	return 0;
}

static void source_free(struct mig_source *s)
{
	free(s->dirty);
	free(s->fresh);
	free(s->index);
	free(s->pagemap);
	if (s->pagemap_fd >= 0)
		close(s->pagemap_fd);
}

static void report(const char *address, const struct mig_report *r)
{
	char pages[MIG_MAX_ROUNDS * 24] = "";
	size_t n = 0;
	int i;

	for (i = 0; i < r->rounds; i++)
		n += snprintf(pages + n, sizeof(pages) - n, "%s%llu", i ? "," : "",
			      (unsigned long long)r->pages[i]);
	warn("migrated to %s: pages per round %s (the last while paused), "
	     "%llu TSC ticks in all, downtime %llu TSC ticks", address, pages,
	     (unsigned long long)r->total_ticks,
	     (unsigned long long)r->downtime_ticks);
	warn("migrate: downtime from the pause at TSC %llu, in TSC ticks: pause %llu, "
	     "last pages %llu, state and DONE %llu, to the target's READY %llu, "
	     "GO to RUNNING %llu", (unsigned long long)r->paused_tsc,
	     (unsigned long long)r->downtime_phase[MIG_DOWN_PAUSE],
	     (unsigned long long)r->downtime_phase[MIG_DOWN_PAGES],
	     (unsigned long long)r->downtime_phase[MIG_DOWN_STATE],
	     (unsigned long long)r->downtime_phase[MIG_DOWN_READY],
	     (unsigned long long)r->downtime_phase[MIG_DOWN_RUNNING]);
}

int migrate_send(struct vm *vm, const char *address, bool checksum,
		 struct mig_report *r, char *err, size_t errlen)
{
	struct mig_address a;
	struct mig_source s;
	int ret;

	memset(r, 0, sizeof(*r));
	r->checksum = checksum;
	if (!vm->hv.ops->log_dirty) {
		snprintf(err, errlen, "migration needs --hv lightvisor (not %s)",
			 vm->hv.ops->name);
		return -EOPNOTSUPP;
	}
	ret = snapshot_savable(vm, err, errlen);
	if (ret)
		return ret;
	if (mig_parse_address(address, &a, err, errlen))
		return -EINVAL;
	source_init(&s, vm, err, errlen);
	s.fd = mig_connect(&a, err, errlen);
	ret = s.fd < 0 ? s.fd : send_hello(&s);
	if (!ret)
		ret = transfer(&s, r);
	/* Its end tells a target on this host that RUNNING was read. */
	if (s.fd >= 0)
		close(s.fd);
	/*
	 * The target's guest, woken by that, comes before this lvrun's
	 * report and exit where the two share a CPU.
	 */
	if (!ret)
		sched_yield();
	source_free(&s);
	if (!ret)
		report(address, r);
	else if (r->committed)
		warn("migrate to %s: %s", address, err);
	else
		warn("migrate to %s failed, the guest stays here: %s", address, err);
	return ret;
}
