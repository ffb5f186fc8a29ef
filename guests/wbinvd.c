// SPDX-License-Identifier: GPL-2.0
/* WBINVD (which always exits under VMX) and INVLPG must leave memory intact. */
#include "lib/guest.h"

static volatile uint64_t cell = 0x1122334455667788UL;

int main(void)
{
	int i;

	tap_plan(3);
	cell = 0xfeedfacecafebeefUL;
	for (i = 0; i < 3; i++)
		asm volatile("wbinvd" : : : "memory");
	tap_eq(0xfeedfacecafebeefUL, cell, "memory intact after WBINVD");

	asm volatile("invlpg (%0)" : : "r"(&cell) : "memory");
	tap_eq(0xfeedfacecafebeefUL, cell, "memory intact after INVLPG");

	asm volatile("clflush (%0)" : : "r"(&cell) : "memory");
	tap_eq(0xfeedfacecafebeefUL, cell, "memory intact after CLFLUSH");
	return tap_done();
}
