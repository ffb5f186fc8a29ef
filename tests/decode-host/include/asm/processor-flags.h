/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <asm/processor-flags.h>: the RFLAGS bits. */
#ifndef LV_HOST_ASM_PROCESSOR_FLAGS_H
#define LV_HOST_ASM_PROCESSOR_FLAGS_H
#define X86_EFLAGS_CF	0x0001UL
#define X86_EFLAGS_PF	0x0004UL
#define X86_EFLAGS_AF	0x0010UL
#define X86_EFLAGS_ZF	0x0040UL
#define X86_EFLAGS_SF	0x0080UL
#define X86_EFLAGS_OF	0x0800UL
#endif
