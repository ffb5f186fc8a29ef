// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the live-migration stream's messages (wire.h). Pure code over
 * buffers: nothing here touches a VM or a socket.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../options.h"
#include "wire.h"

/* Guest memory lvrun accepts (--mem): at most 3 GiB. */
#define MIG_MAX_MEM	(3ULL << 30)

static int parse_port(const char *s, uint16_t *port, char *err, size_t errlen)
{
	size_t n = strlen(s);
	unsigned long v;

	if (!n || n > 5 || strspn(s, "0123456789") != n) {
		snprintf(err, errlen, "tcp port '%.16s' is not a number", s);
		return -1;
	}
	v = strtoul(s, NULL, 10);
	if (v < 1 || v > 65535) {
		snprintf(err, errlen, "tcp port %lu out of range 1-65535", v);
		return -1;
	}
	*port = v;
	return 0;
}

static int parse_tcp(const char *s, struct mig_address *a, char *err,
		     size_t errlen)
{
	const char *colon = strrchr(s, ':');
	size_t host_len;

	if (!colon) {
		snprintf(err, errlen, "tcp address needs HOST:PORT");
		return -1;
	}
	host_len = colon - s;
	/* [v6]:port, as in URLs */
	if (host_len >= 2 && s[0] == '[' && s[host_len - 1] == ']') {
		s++;
		host_len -= 2;
	}
	if (!host_len || host_len >= sizeof(a->host)) {
		snprintf(err, errlen, "tcp address: %s host", host_len ?
			 "too long a" : "no");
		return -1;
	}
	memcpy(a->host, s, host_len);
	a->host[host_len] = '\0';
	/* lvrun is static: addresses only, no name lookup. */
	if (inet_pton(AF_INET, a->host, &a->ip4) == 1) {
		a->family = AF_INET;
	} else if (inet_pton(AF_INET6, a->host, &a->ip6) == 1) {
		a->family = AF_INET6;
	} else {
		snprintf(err, errlen, "tcp host '%.64s' is not an IPv4 or IPv6 address",
			 a->host);
		return -1;
	}
	a->tcp = true;
	return parse_port(colon + 1, &a->port, err, errlen);
}

int mig_parse_address(const char *s, struct mig_address *a, char *err,
		      size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (!strncmp(s, "tcp:", 4))
		return parse_tcp(s + 4, a, err, errlen);
	if (strncmp(s, "unix:", 5)) {
		snprintf(err, errlen, "address must be unix:PATH or tcp:HOST:PORT");
		return -1;
	}
	s += 5;
	if (!*s || strlen(s) >= sizeof(a->path)) {
		snprintf(err, errlen, "unix: path %s", *s ? "too long" : "missing");
		return -1;
	}
	strcpy(a->path, s);
	return 0;
}

void mig_hello_init(struct mig_hello *h, const struct snap_machine *m)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, MIG_MAGIC, sizeof(h->magic));
	h->version = MIG_VERSION;
	h->page_size = MIG_PAGE;
	h->machine = *m;
}

int mig_check_hello(const struct mig_hello *h, uint64_t mem_size, char *err,
		    size_t errlen)
{
	const struct snap_machine *m = &h->machine;

	if (memcmp(h->magic, MIG_MAGIC, sizeof(h->magic))) {
		snprintf(err, errlen, "not a lightvisor migration stream (bad magic)");
		return -1;
	}
	if (h->version != MIG_VERSION) {
		snprintf(err, errlen, "migration stream version %u; this lvrun speaks version %u only: update the older lvrun",
			 h->version, MIG_VERSION);
		return -1;
	}
	if (h->page_size != MIG_PAGE || !m->mem_size ||
	    m->mem_size % MIG_PAGE || m->mem_size > MIG_MAX_MEM ||
	    !m->nr_vcpus || m->nr_vcpus > LVRUN_MAX_VCPUS ||
	    m->has_irqchip > 1 || m->padding) {
		snprintf(err, errlen, "bad machine: %u vCPUs, %llu bytes of memory",
			 m->nr_vcpus, (unsigned long long)m->mem_size);
		return -1;
	}
	if (mem_size && mem_size != m->mem_size) {
		snprintf(err, errlen, "the guest has %llu MiB of memory, this lvrun --mem %llu MiB",
			 (unsigned long long)(m->mem_size >> 20),
			 (unsigned long long)(mem_size >> 20));
		return -1;
	}
	return 0;
}

static const char *const type_names[] = {
	[MIG_HELLO] = "HELLO", [MIG_ACCEPT] = "ACCEPT", [MIG_REFUSE] = "REFUSE",
	[MIG_PAGES] = "PAGES", [MIG_ROUND] = "ROUND", [MIG_STATE] = "STATE",
	[MIG_DONE] = "DONE", [MIG_RUNNING] = "RUNNING", [MIG_READY] = "READY",
	[MIG_GO] = "GO", [MIG_SYNC] = "SYNC", [MIG_SYNCED] = "SYNCED",
};

const char *mig_type_name(uint32_t type)
{
	if (type >= sizeof(type_names) / sizeof(type_names[0]) || !type_names[type])
		return "unknown";
	return type_names[type];
}

/* The payload size each type must have; PAGES and STATE vary. */
static int check_len(const struct mig_msg *m, uint64_t want, char *err,
		     size_t errlen)
{
	if (m->len == want)
		return 0;
	snprintf(err, errlen, "%s message of %llu bytes, expected %llu",
		 mig_type_name(m->type), (unsigned long long)m->len,
		 (unsigned long long)want);
	return -1;
}

int mig_check_msg(const struct mig_msg *m, char *err, size_t errlen)
{
	switch (m->type) {
	case MIG_HELLO:
		return check_len(m, sizeof(struct mig_hello), err, errlen);
	case MIG_ACCEPT:
	case MIG_ROUND:
	case MIG_RUNNING:
	case MIG_READY:
	case MIG_GO:
	case MIG_SYNC:
	case MIG_SYNCED:
		return check_len(m, 0, err, errlen);
	case MIG_DONE:
		return check_len(m, sizeof(struct mig_done), err, errlen);
	case MIG_REFUSE:
		if (m->len <= MIG_REFUSE_MAX)
			return 0;
		break;
	case MIG_PAGES:
		if (m->count < 1 || m->count > MIG_BATCH) {
			snprintf(err, errlen, "PAGES message of %u pages (1-%u)",
				 m->count, MIG_BATCH);
			return -1;
		}
		return check_len(m, m->count * (sizeof(uint64_t) + MIG_PAGE),
				 err, errlen);
	case MIG_STATE:
		if (m->len >= sizeof(struct snap_header) &&
		    m->len <= sizeof(struct snap_header) + SNAP_MAX_SECTIONS_SIZE)
			return 0;
		break;
	default:
		snprintf(err, errlen, "unknown message type %u", m->type);
		return -1;
	}
	snprintf(err, errlen, "%s message of %llu bytes", mig_type_name(m->type),
		 (unsigned long long)m->len);
	return -1;
}

int mig_check_pages(const uint64_t *index, uint32_t n, uint64_t nr_pages,
		    char *err, size_t errlen)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (index[i] >= nr_pages) {
			snprintf(err, errlen, "page %llu past the guest's %llu pages",
				 (unsigned long long)index[i],
				 (unsigned long long)nr_pages);
			return -1;
		}
	return 0;
}

/* FNV-1a over 64-bit words: a fingerprint, cheap enough for the switch. */
uint64_t mig_mem_checksum(const uint8_t *mem, uint64_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL, w, i;

	for (i = 0; i + sizeof(w) <= size; i += sizeof(w)) {
		memcpy(&w, mem + i, sizeof(w));
		h ^= w;
		h *= 0x100000001b3ULL;
	}
	return h;
}
