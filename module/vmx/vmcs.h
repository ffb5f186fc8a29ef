/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Typed access to the current VMCS.
 *
 * A field's encoding carries its width in bits 14:13 (SDM vol. 3C,
 * appendix B). Each accessor checks at compile time that it is used on a
 * field of its own width, so a 16-bit write to a 32-bit field cannot
 * build. Failures are reported with the field and the VM-instruction
 * error, and never stop the host.
 */
#ifndef LV_VMX_VMCS_H
#define LV_VMX_VMCS_H

#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/asm.h>
#include <asm/vmx.h>

#define VMCS_FIELD_WIDTH(f)	(((f) >> 13) & 3)
#define VMCS_FIELD_HIGH(f)	((f) & 1)
#define VMCS_WIDTH_16		0
#define VMCS_WIDTH_64		1
#define VMCS_WIDTH_32		2
#define VMCS_WIDTH_NATURAL	3

#define vmcs_check_width(field, width)					\
	BUILD_BUG_ON_MSG(__builtin_constant_p(field) &&			\
			 (VMCS_FIELD_WIDTH(field) != (width) ||		\
			  ((width) == VMCS_WIDTH_64 &&			\
			   VMCS_FIELD_HIGH(field))),			\
			 "VMCS field accessed with the wrong width")

void lv_vmread_error(unsigned long field);
void lv_vmwrite_error(unsigned long field, unsigned long value);

static __always_inline unsigned long __vmcs_read(unsigned long field)
{
	unsigned long value;
	bool fail;

	asm volatile("vmread %[field], %[value]"
		     CC_SET(be)
		     : CC_OUT(be) (fail), [value] "=r" (value)
		     : [field] "r" (field)
		     : "memory");
	if (unlikely(fail)) {
		lv_vmread_error(field);
		return 0;
	}
	return value;
}

static __always_inline void __vmcs_write(unsigned long field,
					 unsigned long value)
{
	bool fail;

	asm volatile("vmwrite %[value], %[field]"
		     CC_SET(be)
		     : CC_OUT(be) (fail)
		     : [value] "rm" (value), [field] "r" (field)
		     : "memory");
	if (unlikely(fail))
		lv_vmwrite_error(field, value);
}

#define vmcs_read16(f) ({ vmcs_check_width(f, VMCS_WIDTH_16); (u16)__vmcs_read(f); })
#define vmcs_read32(f) ({ vmcs_check_width(f, VMCS_WIDTH_32); (u32)__vmcs_read(f); })
#define vmcs_read64(f) ({ vmcs_check_width(f, VMCS_WIDTH_64); (u64)__vmcs_read(f); })
#define vmcs_readl(f)  ({ vmcs_check_width(f, VMCS_WIDTH_NATURAL); __vmcs_read(f); })

#define vmcs_write16(f, v) do { vmcs_check_width(f, VMCS_WIDTH_16); __vmcs_write(f, (u16)(v)); } while (0)
#define vmcs_write32(f, v) do { vmcs_check_width(f, VMCS_WIDTH_32); __vmcs_write(f, (u32)(v)); } while (0)
#define vmcs_write64(f, v) do { vmcs_check_width(f, VMCS_WIDTH_64); __vmcs_write(f, (u64)(v)); } while (0)
#define vmcs_writel(f, v)  do { vmcs_check_width(f, VMCS_WIDTH_NATURAL); __vmcs_write(f, (unsigned long)(v)); } while (0)

#define vmcs_set_bits32(f, mask)   vmcs_write32(f, vmcs_read32(f) | (mask))
#define vmcs_clear_bits32(f, mask) vmcs_write32(f, vmcs_read32(f) & ~(mask))

#endif /* LV_VMX_VMCS_H */
