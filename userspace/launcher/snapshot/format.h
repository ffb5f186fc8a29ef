/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: the snapshot file format, apart from any VM so that host-side
 * tests can build and check files. Layout (docs/snapshot.md):
 *
 *   struct snap_header
 *   nr_sections x { struct snap_section, payload padded to 8 bytes }
 *   zeros to mem_offset (page aligned)
 *   guest memory, mem_size bytes, all-zero pages left as holes
 *
 * The checksum covers the header and the sections, not guest memory:
 * restore maps memory from the file and must not read all of it.
 */
#ifndef LVRUN_SNAPSHOT_FORMAT_H
#define LVRUN_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC		"LVSNAP\r\n"
#define SNAP_VERSION		1
#define SNAP_PAGE		4096u
/* Far more than any VM's state needs: refuse absurd headers early. */
#define SNAP_MAX_SECTIONS_SIZE	(64u << 20)
#define SNAP_NAME_LEN		16

struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t nr_sections;
	uint64_t sections_size;	/* bytes of sections after the header */
	uint64_t mem_offset;	/* guest memory: page aligned, to the end */
	uint64_t mem_size;
	uint64_t checksum;	/* FNV-1a 64: header (this field 0), sections */
};

struct snap_section {
	char name[SNAP_NAME_LEN];	/* NUL-padded */
	uint32_t instance;
	uint32_t size;			/* payload bytes */
};

/* A snapshot's header and sections, built in memory. */
struct snap_buf {
	uint8_t *p;
	size_t len, cap;
	uint32_t nr_sections;
};

void snap_buf_init(struct snap_buf *b);
void snap_buf_add(struct snap_buf *b, const char *name, uint32_t instance,
		  const void *data, uint32_t size);
/* Fills in the header for @mem_size bytes of memory and the checksum. */
void snap_buf_finish(struct snap_buf *b, uint64_t mem_size);
/*
 * The header alone, its checksum zero: for a migration's stream, which
 * is no file at rest and whose pages carry no checksum either.
 */
void snap_buf_finish_unsealed(struct snap_buf *b, uint64_t mem_size);
void snap_buf_free(struct snap_buf *b);

uint64_t snap_checksum(const uint8_t *p, size_t len);
/* Writes the checksum of header and sections (@len bytes at @p) into it. */
void snap_seal(uint8_t *p, size_t len);

/* One section of a parsed snapshot: points into the parsed buffer. */
struct snap_found {
	const char *name;
	uint32_t instance;
	uint32_t size;
	const void *data;
};

/*
 * Checks the header at the start of @p (@len bytes read from a file of
 * @file_size bytes): magic, version, sizes. Returns the bytes of header
 * and sections to read, or 0 with a message in @err.
 */
size_t snap_check_header(const uint8_t *p, size_t len, uint64_t file_size,
			 char *err, size_t errlen);
/*
 * Checks header and sections (@len bytes, as snap_check_header() said)
 * and walks the sections: @fn is called for each one and returns 0, or
 * -1 with a message in @err. Returns 0, or -1 with a message in @err.
 */
int snap_parse(const uint8_t *p, size_t len,
	       int (*fn)(const struct snap_found *s, void *arg, char *err,
			 size_t errlen),
	       void *arg, char *err, size_t errlen);
/* The same without the checksum (snap_buf_finish_unsealed()). */
int snap_parse_unsealed(const uint8_t *p, size_t len,
			int (*fn)(const struct snap_found *s, void *arg,
				  char *err, size_t errlen),
			void *arg, char *err, size_t errlen);

#endif /* LVRUN_SNAPSHOT_FORMAT_H */
