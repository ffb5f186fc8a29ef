// SPDX-License-Identifier: GPL-2.0
/*
 * mbcheck: a multiboot v1 test kernel. It checks what the boot loader gave
 * it against expectations written on its own command line, prints TAP on
 * the serial port and ends through isa-debug-exit (0xf4): 0 if every check
 * passed (lvrun exits 1), 1 otherwise (lvrun exits 3).
 *
 * Command line words it understands:
 *   mods=N        N modules
 *   modK=TEXT     module K's contents begin with TEXT
 *   nameK=NAME    module K's string is NAME
 *   mem=KIB       RAM size in KiB: the memory map's RAM adds up to it and
 *                 mem_upper agrees
 * Always checked: EAX = 0x2badb002, the info flags for memory, command
 * line, modules and memory map, the PC's holes below 1 MiB in the map,
 * and modules page aligned, inside RAM and not overlapping the kernel.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_BOOTLOADER_MAGIC	0x2badb002
#define MB_INFO_MEMORY		(1 << 0)
#define MB_INFO_CMDLINE		(1 << 2)
#define MB_INFO_MODS		(1 << 3)
#define MB_INFO_MMAP		(1 << 6)

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

extern char _end[];

static int tests, failures;

static void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void putc_serial(char c)
{
	if (c == '\n')
		outb(0x3f8, '\r');
	outb(0x3f8, c);
}

static void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void put_num(uint64_t v, unsigned int base)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i)
		putc_serial(buf[--i]);
}

/* %s, %u (32-bit), %x (32-bit), %X (64-bit hex), %% */
static void vprint(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			puts_serial(va_arg(ap, const char *));
			break;
		case 'u':
			put_num(va_arg(ap, uint32_t), 10);
			break;
		case 'x':
			puts_serial("0x");
			put_num(va_arg(ap, uint32_t), 16);
			break;
		case 'X':
			puts_serial("0x");
			put_num(va_arg(ap, uint64_t), 16);
			break;
		default:
			putc_serial(*fmt);
		}
	}
}

/* Not printf-checked: %X takes a 64-bit value. */
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	puts_serial(ok ? "ok " : "not ok ");
	put_num(++tests, 10);
	puts_serial(" - ");
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	putc_serial('\n');
	failures += !ok;
}

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static bool starts_with(const char *s, const char *prefix, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != prefix[i])
			return false;
	return true;
}

static bool str_eq_n(const char *a, const char *b, size_t n)
{
	return starts_with(a, b, n) && a[n] == 0;
}

/* The value of word KEY=... on the command line, its length in *len. */
static const char *arg(const char *cmdline, const char *key, size_t *len)
{
	size_t klen = str_len(key);
	const char *p = cmdline;

	while (*p) {
		const char *w = p;

		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - w) > klen && starts_with(w, key, klen) && w[klen] == '=') {
			*len = p - w - klen - 1;
			return w + klen + 1;
		}
		while (*p == ' ')
			p++;
	}
	return NULL;
}

static uint32_t arg_num(const char *cmdline, const char *key, uint32_t dflt)
{
	size_t len, i;
	const char *v = arg(cmdline, key, &len);
	uint32_t n = 0;

	if (!v)
		return dflt;
	for (i = 0; i < len; i++)
		n = n * 10 + (v[i] - '0');
	return n;
}

static void check_mmap(const struct mb_info *mi, uint32_t mem_kib)
{
	uint64_t ram = 0, top = 0;
	bool hole_ok = true, low_ok = false;
	uint32_t off;

	for (off = 0; off < mi->mmap_length;) {
		const struct mb_mmap_entry *e = (const void *)(mi->mmap_addr + off);

		if (e->type == 1) {
			ram += e->len;
			if (e->addr < 0x100000 && e->addr + e->len > 0x9fc00)
				hole_ok = false;
			if (e->addr == 0 && e->len == 0x9fc00)
				low_ok = true;
			if (e->addr + e->len > top)
				top = e->addr + e->len;
		}
		off += e->size + 4;
	}
	check(low_ok, "memory map: RAM 0-0x9fbff");
	check(hole_ok, "memory map: no RAM in the PC's hole 0x9fc00-0xfffff");
	check(mi->mem_lower == 639, "mem_lower %u KiB", mi->mem_lower);
	check(top == 0x100000 + (uint64_t)mi->mem_upper * 1024,
	      "mem_upper %u KiB agrees with the map's top %X", mi->mem_upper, top);
	if (mem_kib)
		check(ram + 0x60400 == (uint64_t)mem_kib * 1024,
		      "RAM in the map (%X bytes) is %u KiB minus the holes", ram, mem_kib);
}

static void check_modules(const struct mb_info *mi, const char *cmdline)
{
	const struct mb_module *mods = (const void *)mi->mods_addr;
	uint32_t want = arg_num(cmdline, "mods", 0), i;

	check(mi->mods_count == want, "%u modules (want %u)", mi->mods_count, want);
	for (i = 0; i < mi->mods_count && i < 16; i++) {
		char key[8] = { 'm', 'o', 'd', (char)('0' + i), 0 };
		char nkey[8] = { 'n', 'a', 'm', 'e', (char)('0' + i), 0 };
		const struct mb_module *m = &mods[i];
		const char *v;
		size_t len;

		check(!(m->mod_start & 0xfff) && m->mod_end >= m->mod_start &&
		      m->mod_start >= (uint32_t)_end,
		      "module %u at %x-%x: page aligned, after the kernel", i,
		      m->mod_start, m->mod_end);
		v = arg(cmdline, key, &len);
		if (v)
			check(m->mod_end - m->mod_start >= len &&
			      starts_with((const char *)m->mod_start, v, len),
			      "module %u contents begin with the expected text", i);
		v = arg(cmdline, nkey, &len);
		if (v)
			check(str_eq_n((const char *)m->string, v, len),
			      "module %u string is '%s'", i, (const char *)m->string);
	}
}

void mb_main(uint32_t magic, const struct mb_info *mi);

void mb_main(uint32_t magic, const struct mb_info *mi)
{
	uint32_t need = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP;
	const char *cmdline;

	check(magic == MB_BOOTLOADER_MAGIC, "EAX is the multiboot magic (%x)", magic);
	check((mi->flags & need) == need, "info flags %x have memory, cmdline, mods, mmap",
	      mi->flags);
	if ((mi->flags & need) != need || magic != MB_BOOTLOADER_MAGIC) {
		outb(0xf4, 1);
		return;
	}
	cmdline = (const char *)mi->cmdline;
	puts_serial("# command line: ");
	puts_serial(cmdline);
	putc_serial('\n');
	check_mmap(mi, arg_num(cmdline, "mem", 0));
	check_modules(mi, cmdline);
	puts_serial("1..");
	put_num(tests, 10);
	putc_serial('\n');
	outb(0xf4, failures ? 1 : 0);
}
