// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the snapshot format: a file built by snap_buf_*()
 * parses back section by section, and each kind of damage a snapshot
 * can suffer (truncation, a flipped bit, another version, another
 * magic, a wrong size) is refused with a message naming it.
 */
#include <stdbool.h>
#include <string.h>

#include "../tap.h"
#include "format.h"

struct seen {
	int n;
	char names[8][SNAP_NAME_LEN];
	uint32_t sizes[8];
};

static int note_section(const struct snap_found *s, void *arg, char *err,
			size_t errlen)
{
	struct seen *seen = arg;

	(void)err;
	(void)errlen;
	if (seen->n < 8) {
		strcpy(seen->names[seen->n], s->name);
		seen->sizes[seen->n] = s->size;
	}
	seen->n++;
	return 0;
}

/* A snapshot of two sections and @mem bytes of memory; returns its size. */
static uint64_t build(struct snap_buf *b, uint64_t mem)
{
	static const char cpu[] = "vcpu-state";
	uint32_t dev[3] = { 1, 2, 3 };
	const struct snap_header *h;

	snap_buf_init(b);
	snap_buf_add(b, "vcpu", 0, cpu, sizeof(cpu));
	snap_buf_add(b, "uart0", 0, dev, sizeof(dev));
	snap_buf_finish(b, mem);
	h = (const void *)b->p;
	return h->mem_offset + h->mem_size;
}

/* Does @b, as a file of @file_size bytes, pass both checks? */
static bool accepted(const struct snap_buf *b, uint64_t file_size,
		     char *err, size_t errlen)
{
	struct seen seen = { 0 };
	size_t len;

	err[0] = 0;
	len = snap_check_header(b->p, b->len, file_size, err, errlen);
	if (!len)
		return false;
	return len <= b->len &&
	       !snap_parse(b->p, len, note_section, &seen, err, errlen);
}

void snapshot_format_tests(void)
{
	struct seen seen = { 0 };
	struct snap_buf b;
	char err[256];
	uint64_t size;
	size_t len;

	size = build(&b, 1 << 20);
	len = snap_check_header(b.p, b.len, size, err, sizeof(err));
	tap_ok(len == b.len, "snapshot: header accepted, %zu bytes of sections", len);
	tap_ok(!snap_parse(b.p, len, note_section, &seen, err, sizeof(err)) &&
	       seen.n == 2 && !strcmp(seen.names[0], "vcpu") &&
	       seen.sizes[0] == 11 && !strcmp(seen.names[1], "uart0") &&
	       seen.sizes[1] == 12,
	       "snapshot: both sections parse back with their sizes");
	tap_ok(size % SNAP_PAGE == 0 && size == ((b.len + SNAP_PAGE - 1) &
						 ~(uint64_t)(SNAP_PAGE - 1)) + (1 << 20),
	       "snapshot: memory starts page aligned after the sections");

	tap_ok(!accepted(&b, size - SNAP_PAGE, err, sizeof(err)) &&
	       strstr(err, "truncated"), "snapshot: truncated file refused (%s)", err);
	tap_ok(!accepted(&b, size + 1, err, sizeof(err)) &&
	       strstr(err, "wrong size"), "snapshot: longer file refused (%s)", err);
	tap_ok(!accepted(&b, 20, err, sizeof(err)),
	       "snapshot: a file shorter than its header refused (%s)", err);

	b.p[b.len - 3] ^= 0x10;
	tap_ok(!accepted(&b, size, err, sizeof(err)) && strstr(err, "checksum"),
	       "snapshot: a flipped bit in a section refused (%s)", err);
	b.p[b.len - 3] ^= 0x10;
	tap_ok(accepted(&b, size, err, sizeof(err)), "snapshot: flipped back, accepted");

	b.p[8] = SNAP_VERSION + 1;	/* version */
	tap_ok(!accepted(&b, size, err, sizeof(err)) && strstr(err, "version 2"),
	       "snapshot: another format version refused (%s)", err);
	b.p[8] = SNAP_VERSION;
	b.p[0] = 'X';
	tap_ok(!accepted(&b, size, err, sizeof(err)) && strstr(err, "magic"),
	       "snapshot: another magic refused (%s)", err);
	snap_buf_free(&b);
}
