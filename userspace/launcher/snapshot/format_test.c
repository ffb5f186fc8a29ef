// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the snapshot format: a file built by snap_buf_*()
 * parses back section by section, and each kind of damage a snapshot
 * can suffer (truncation, a flipped bit, another version, another
 * magic, a wrong size) is refused with a message naming it. And the
 * restore's CPU check: a snapshot from a host with a feature this host
 * lacks is named as such.
 */
#include <stdbool.h>
#include <string.h>

#include "../hv/hv.h"
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

/*
 * A migration's state: the buffer is not zeroed ahead, yet a section's
 * padding is; unsealed, only the parse that skips the checksum takes it.
 */
static void unsealed_tests(void)
{
	static const char cpu[] = "vcpu-state";	/* 11 bytes, 5 of padding */
	struct seen seen = { 0 };
	struct snap_buf b;
	char err[256] = "";
	size_t at;

	snap_buf_init(&b);
	memset(b.p + b.len, 0xa5, b.cap - b.len);	/* what malloc may leave */
	at = b.len + sizeof(struct snap_section) + sizeof(cpu);
	snap_buf_add(&b, "vcpu", 0, cpu, sizeof(cpu));
	snap_buf_finish_unsealed(&b, 1 << 20);
	tap_ok(!memcmp(b.p + at, "\0\0\0\0\0", 5) && b.len == at + 5,
	       "snapshot: a section's padding is zero in a buffer not zeroed");
	tap_ok(snap_parse(b.p, b.len, note_section, &seen, err, sizeof(err)) &&
	       strstr(err, "checksum"),
	       "snapshot: an unsealed state fails the file's parse (%s)", err);
	memset(&seen, 0, sizeof(seen));
	tap_ok(!snap_parse_unsealed(b.p, b.len, note_section, &seen, err,
				    sizeof(err)) &&
	       seen.n == 1 && !strcmp(seen.names[0], "vcpu") && seen.sizes[0] == 11,
	       "snapshot: the migration's parse takes it, its section whole");
	snap_seal(b.p, b.len);
	tap_ok(!snap_parse(b.p, b.len, note_section, &seen, err, sizeof(err)),
	       "snapshot: sealed afterwards, the file's parse takes it");
	snap_buf_free(&b);
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
	unsealed_tests();
}

/* What hv_cpu_features_missing() finds between a saving and a restoring host. */
void snapshot_feature_tests(void)
{
	const struct hv_cpu_features host = {
		.leaf1_ecx = 0x1 | (1u << 26),	/* SSE3, XSAVE */
		.leaf1_edx = 0x1,		/* FPU */
		.leaf7_ebx = 1u << 5,		/* AVX2 */
		.tsc_khz = 2000000,
	};
	struct hv_cpu_features saved = host, missing;
	bool lacks;

	tap_ok(!hv_cpu_features_missing(&saved, &host, &missing),
	       "snapshot features: the same host lacks nothing");

	saved.tsc_khz = 3000000;
	saved.leaf1_ecx |= 1u << 27;	/* OSXSAVE: the guest's CR4 */
	tap_ok(!hv_cpu_features_missing(&saved, &host, &missing),
	       "snapshot features: OSXSAVE and the TSC rate are not host features");

	saved.leaf7_ecx |= 1u << 3;	/* PKU */
	lacks = hv_cpu_features_missing(&saved, &host, &missing);
	tap_ok(lacks && missing.leaf7_ecx == 1u << 3 && !missing.leaf1_ecx &&
	       !missing.leaf1_edx && !missing.leaf7_ebx && !missing.leaf7_edx,
	       "snapshot features: a host without PKU lacks exactly PKU (%#x)",
	       missing.leaf7_ecx);

	saved = host;
	saved.leaf1_edx |= 1u << 25;	/* SSE */
	saved.leaf7_edx |= 1u << 10;	/* MD_CLEAR */
	lacks = hv_cpu_features_missing(&saved, &host, &missing);
	tap_ok(lacks && missing.leaf1_edx == 1u << 25 && missing.leaf7_edx == 1u << 10,
	       "snapshot features: both missing leaves are named (%#x, %#x)",
	       missing.leaf1_edx, missing.leaf7_edx);

	tap_ok(!hv_cpu_features_missing(&host, &saved, &missing),
	       "snapshot features: a host with more features than the snapshot lacks nothing");
}
