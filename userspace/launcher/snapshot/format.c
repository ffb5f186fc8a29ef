// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: building and checking snapshot files (format.h). Pure code over
 * buffers: nothing here touches a VM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "format.h"

#define ALIGN8(x)	(((x) + 7) & ~(size_t)7)

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t snap_checksum(const uint8_t *p, size_t len)
{
	return fnv1a(FNV_OFFSET, p, len);
}

/* As snap_checksum() of a copy whose header's checksum field is zero. */
static uint64_t snap_checksum_unsealed(const uint8_t *p, size_t len)
{
	static const uint8_t zero[sizeof(((struct snap_header *)0)->checksum)];
	size_t at = offsetof(struct snap_header, checksum);
	uint64_t h;

	h = fnv1a(FNV_OFFSET, p, at);
	h = fnv1a(h, zero, sizeof(zero));
	return fnv1a(h, p + at + sizeof(zero), len - at - sizeof(zero));
}

static void snap_buf_reserve(struct snap_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 65536;

	while (cap < b->len + more)
		cap *= 2;
	if (cap == b->cap)
		return;
	/*
	 * Not zeroed: every byte up to len is written (padding included),
	 * and a migration builds this buffer while the guest is paused.
	 */
	b->p = realloc(b->p, cap);
	if (!b->p)
		die("out of memory for a snapshot");
	b->cap = cap;
}

void snap_buf_init(struct snap_buf *b)
{
	memset(b, 0, sizeof(*b));
	snap_buf_reserve(b, sizeof(struct snap_header));
	b->len = sizeof(struct snap_header);
}

void snap_buf_add(struct snap_buf *b, const char *name, uint32_t instance,
		  const void *data, uint32_t size)
{
	struct snap_section s;

	memset(&s, 0, sizeof(s));
	strncpy(s.name, name, sizeof(s.name) - 1);
	s.instance = instance;
	s.size = size;
	snap_buf_reserve(b, sizeof(s) + ALIGN8(size));
	memcpy(b->p + b->len, &s, sizeof(s));
	memcpy(b->p + b->len + sizeof(s), data, size);
	memset(b->p + b->len + sizeof(s) + size, 0, ALIGN8(size) - size);
	b->len += sizeof(s) + ALIGN8(size);
	b->nr_sections++;
}

void snap_buf_finish_unsealed(struct snap_buf *b, uint64_t mem_size)
{
	struct snap_header h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	h.version = SNAP_VERSION;
	h.nr_sections = b->nr_sections;
	h.sections_size = b->len - sizeof(h);
	h.mem_offset = (b->len + SNAP_PAGE - 1) & ~(uint64_t)(SNAP_PAGE - 1);
	h.mem_size = mem_size;
	memcpy(b->p, &h, sizeof(h));
}

void snap_buf_finish(struct snap_buf *b, uint64_t mem_size)
{
	snap_buf_finish_unsealed(b, mem_size);
	snap_seal(b->p, b->len);
}

void snap_seal(uint8_t *p, size_t len)
{
	uint64_t sum;

	memset(p + offsetof(struct snap_header, checksum), 0, sizeof(sum));
	sum = snap_checksum(p, len);
	memcpy(p + offsetof(struct snap_header, checksum), &sum, sizeof(sum));
}

void snap_buf_free(struct snap_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

size_t snap_check_header(const uint8_t *p, size_t len, uint64_t file_size,
			 char *err, size_t errlen)
{
	struct snap_header h;
	uint64_t end;

	if (len < sizeof(h)) {
		snprintf(err, errlen, "truncated: %zu bytes, not even a header", len);
		return 0;
	}
	memcpy(&h, p, sizeof(h));
	if (memcmp(h.magic, SNAP_MAGIC, sizeof(h.magic))) {
		snprintf(err, errlen, "not a lightvisor snapshot (bad magic)");
		return 0;
	}
	if (h.version != SNAP_VERSION) {
		snprintf(err, errlen, "snapshot format version %u; this lvrun reads version %u",
			 h.version, SNAP_VERSION);
		return 0;
	}
	if (h.sections_size > SNAP_MAX_SECTIONS_SIZE ||
	    h.mem_offset % SNAP_PAGE || h.mem_size % SNAP_PAGE || !h.mem_size ||
	    h.mem_offset < sizeof(h) + h.sections_size ||
	    h.mem_offset > file_size) {
		snprintf(err, errlen, "bad header: sections %llu bytes, memory %llu bytes at %llu",
			 (unsigned long long)h.sections_size,
			 (unsigned long long)h.mem_size,
			 (unsigned long long)h.mem_offset);
		return 0;
	}
	end = h.mem_offset + h.mem_size;
	if (file_size != end) {
		snprintf(err, errlen, "%s: the file has %llu bytes, its header says %llu",
			 file_size < end ? "truncated" : "wrong size",
			 (unsigned long long)file_size, (unsigned long long)end);
		return 0;
	}
	return sizeof(h) + h.sections_size;
}

int snap_parse(const uint8_t *p, size_t len,
	       int (*fn)(const struct snap_found *s, void *arg, char *err,
			 size_t errlen),
	       void *arg, char *err, size_t errlen)
{
	struct snap_header h;

	memcpy(&h, p, sizeof(h));
	if (snap_checksum_unsealed(p, len) != h.checksum) {
		snprintf(err, errlen, "checksum mismatch: the snapshot is corrupted");
		return -1;
	}
	return snap_parse_unsealed(p, len, fn, arg, err, errlen);
}

int snap_parse_unsealed(const uint8_t *p, size_t len,
			int (*fn)(const struct snap_found *s, void *arg,
				  char *err, size_t errlen),
			void *arg, char *err, size_t errlen)
{
	struct snap_header h;
	size_t off = sizeof(h);
	uint32_t i;

	memcpy(&h, p, sizeof(h));
	for (i = 0; i < h.nr_sections; i++) {
		struct snap_section s;
		struct snap_found f;

		if (len - off < sizeof(s)) {
			snprintf(err, errlen, "section %u runs past the sections", i);
			return -1;
		}
		memcpy(&s, p + off, sizeof(s));
		off += sizeof(s);
		if (s.name[SNAP_NAME_LEN - 1] || len - off < ALIGN8((size_t)s.size)) {
			snprintf(err, errlen, "section %u is malformed", i);
			return -1;
		}
		f = (struct snap_found){ s.name, s.instance, s.size, p + off };
		f.name = (const char *)(p + off - sizeof(s));
		if (fn(&f, arg, err, errlen))
			return -1;
		off += ALIGN8((size_t)s.size);
	}
	if (off != len) {
		snprintf(err, errlen, "%zu bytes after the last section", len - off);
		return -1;
	}
	return 0;
}
