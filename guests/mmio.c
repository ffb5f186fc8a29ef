// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO emulation: each access size to lvrun's test device at 0xfe000000,
 * which stores writes and returns them on reads, and reads of unbacked
 * physical addresses, which lvrun answers with all ones.
 */
#include "lib/guest.h"

#define DEV	MMIO_TESTDEV
#define UNBACKED	0xfd000000UL

int main(void)
{
	uint64_t v;

	tap_plan(8);

	asm volatile("movb %1, (%2); movb (%2), %b0"
		     : "=&a"(v) : "q"((uint8_t)0x5a), "r"(DEV) : "memory");
	tap_eq(0x5a, v & 0xff, "1-byte MMIO write/read");

	asm volatile("movw %1, (%2); movw (%2), %w0"
		     : "=&a"(v) : "r"((uint16_t)0xbeef), "r"(DEV) : "memory");
	tap_eq(0xbeef, v & 0xffff, "2-byte MMIO write/read");

	asm volatile("movl %1, (%2); movl (%2), %k0"
		     : "=&a"(v) : "r"(0xdeadbeefu), "r"(DEV) : "memory");
	tap_eq(0xdeadbeef, v, "4-byte MMIO write/read (zero-extends)");

	asm volatile("movq %1, (%2); movq (%2), %0"
		     : "=&a"(v) : "r"(0x0123456789abcdefUL), "r"(DEV) : "memory");
	tap_eq(0x0123456789abcdefUL, v, "8-byte MMIO write/read");

	/* A 1-byte write updates only its byte of the 8 stored. */
	*(volatile uint8_t *)(DEV + 1) = 0x77;
	tap_eq(0x0123456789ab77efUL, *(volatile uint64_t *)DEV,
	       "1-byte write at offset 1 merges into the 8-byte value");

	*(volatile uint32_t *)(DEV + 0x100) = 0xcafe;
	tap_eq(0xcafe, *(volatile uint16_t *)(DEV + 0x100), "MMIO at offset 0x100");

	v = *(volatile uint8_t *)(DEV + 0x101);	/* compiles to MOVZX */
	tap_eq(0xca, v, "zero-extending byte read at offset 0x101");

	tap_eq(0xffffffffu, *(volatile uint32_t *)UNBACKED,
	       "read of unbacked physical memory returns all ones");
	return tap_done();
}
