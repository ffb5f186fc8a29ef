// SPDX-License-Identifier: GPL-2.0
/*
 * VMX is hidden from the guest: VMX instructions raise #UD and CR4.VMXE
 * cannot be set (#GP).
 */
#include "lib/guest.h"

static uint64_t vmxon_region[512] __attribute__((aligned(4096)));

#define TRY_INSN(insn, ...)						\
({									\
	fault_vector = -1;						\
	asm volatile(FAULT_ASM_BEGIN insn FAULT_ASM_END			\
		     : : __VA_ARGS__ : "r11", "rax", "rbx", "memory", "cc");\
	fault_vector;							\
})

int main(void)
{
	uint64_t pa = (uint64_t)vmxon_region;
	uint64_t cr4 = read_cr4();

	idt_init();
	tap_plan(8);

	tap_eq(VEC_GP, (uint64_t)write_cr4_safe(cr4 | X86_CR4_VMXE),
	       "setting CR4.VMXE raises #GP");
	tap_eq(0, read_cr4() & X86_CR4_VMXE, "CR4.VMXE still clear");
	tap_eq(VEC_UD, (uint64_t)TRY_INSN("vmxon (%0)", "r"(&pa)), "VMXON raises #UD");
	tap_eq(VEC_UD, (uint64_t)TRY_INSN("vmptrld (%0)", "r"(&pa)), "VMPTRLD raises #UD");
	tap_eq(VEC_UD, (uint64_t)TRY_INSN("xor %%eax, %%eax; vmread %%rax, %%rbx", "i"(0)),
	       "VMREAD raises #UD");
	tap_eq(VEC_UD, (uint64_t)TRY_INSN("xor %%eax, %%eax; vmwrite %%rax, %%rax", "i"(0)),
	       "VMWRITE raises #UD");
	tap_eq(VEC_UD, (uint64_t)TRY_INSN("vmlaunch", "i"(0)), "VMLAUNCH raises #UD");
	tap_eq(VEC_UD, (uint64_t)TRY_INSN("vmxoff", "i"(0)), "VMXOFF raises #UD");
	return tap_done();
}
