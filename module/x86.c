// SPDX-License-Identifier: GPL-2.0
/*
 * Architectural rules every vendor backend shares: which values the
 * guest may write to the MTRRs and to IA32_APIC_BASE, the PAE PDPTEs a
 * CR0/CR4 write loads, the segment and descriptor-table state userspace
 * may set, the XSAVE area size CPUID reports, the #GP conditions of
 * writes to CR0, CR4, XCR0 and EFER and the value checks of WRMSR. The
 * SDM defines them, not VMX or SVM; KVM keeps them in x86.c and mtrr.c.
 */
#include <asm/apicdef.h>
#include <asm/cpufeature.h>
#include <asm/fpu/xcr.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>

#include "lightvisor.h"
#include "run_flags.h"
#include "irq/lapic.h"

/* Address bits the guest cannot use (it sees the host's MAXPHYADDR). */
static u64 lv_rsvd_gpa_bits(void)
{
	unsigned int bits = boot_cpu_data.x86_phys_bits;

	return bits < 64 ? GENMASK_ULL(63, bits) : 0;
}

/* --- MTRRs (SDM vol. 3A, 12.11) --- */

#define LV_MTRR_VAR_FIRST	0x200		/* PHYSBASE0, PHYSMASK0, ... */
#define LV_MTRR_DEF_TYPE_RSVD	~0xcffULL	/* type, FE (10), E (11) */
#define LV_MTRRCAP_FIX		BIT_ULL(8)
#define LV_MTRRCAP_WC		BIT_ULL(10)

/* UC, WC, WT, WP, WB; 2, 3 and 7 and above are reserved. */
static bool lv_mtrr_type_valid(u64 type)
{
	return type < 8 && ((1 << type) & 0x73);
}

/* Index into struct lv_mtrr.fixed of a fixed-range MTRR, or -1. */
static int lv_mtrr_fixed_index(u32 msr)
{
	switch (msr) {
	case MSR_MTRRfix64K_00000:
		return 0;
	case MSR_MTRRfix16K_80000:
	case MSR_MTRRfix16K_A0000:
		return 1 + msr - MSR_MTRRfix16K_80000;
	case MSR_MTRRfix4K_C0000 ... MSR_MTRRfix4K_F8000:
		return 3 + msr - MSR_MTRRfix4K_C0000;
	}
	return -1;
}

static bool lv_is_var_mtrr(u32 msr)
{
	return msr >= LV_MTRR_VAR_FIRST &&
	       msr < LV_MTRR_VAR_FIRST + 2 * LV_MTRR_NR_VAR;
}

/* The guest's value is valid for @msr: #GP otherwise. */
static bool lv_mtrr_valid(u32 msr, u64 val)
{
	int i;

	if (msr == MSR_MTRRdefType)
		return !(val & LV_MTRR_DEF_TYPE_RSVD) &&
		       lv_mtrr_type_valid(val & 0xff);
	if (lv_mtrr_fixed_index(msr) >= 0) {
		for (i = 0; i < 8; i++)
			if (!lv_mtrr_type_valid((val >> (i * 8)) & 0xff))
				return false;
		return true;
	}
	/* PHYSBASEn: type in 7:0, 11:8 reserved; PHYSMASKn: 10:0 reserved. */
	if (msr & 1)
		return !(val & (lv_rsvd_gpa_bits() | GENMASK_ULL(10, 0)));
	return !(val & (lv_rsvd_gpa_bits() | GENMASK_ULL(11, 8))) &&
	       lv_mtrr_type_valid(val & 0xff);
}

/* Where @msr lives in @m, or NULL if it is not an MTRR we keep. */
static u64 *lv_mtrr_slot(struct lv_mtrr *m, u32 msr)
{
	int fixed = lv_mtrr_fixed_index(msr);

	if (msr == MSR_MTRRdefType)
		return &m->def_type;
	if (fixed >= 0)
		return &m->fixed[fixed];
	if (lv_is_var_mtrr(msr))
		return &m->var[msr - LV_MTRR_VAR_FIRST];
	return NULL;
}

/**
 * lv_mtrr_get() - read an MTRR MSR of the vCPU
 * @vcpu: the vCPU
 * @msr: MSR index
 * @val: result
 *
 * MTRRCAP advertises LV_MTRR_NR_VAR variable ranges, the fixed ranges and
 * write-combining (no SMRR); those MSRs and IA32_MTRR_DEF_TYPE read back
 * what was written. Memory types have no effect: EPT maps guest RAM
 * write-back and devices uncached.
 * Return: 0, or -ENOENT if @msr is not an MTRR MSR (MSRs beyond the
 * advertised variable ranges are not).
 */
int lv_mtrr_get(struct lv_vcpu *vcpu, u32 msr, u64 *val)
{
	u64 *slot;

	if (msr == MSR_MTRRcap) {
		*val = LV_MTRR_NR_VAR | LV_MTRRCAP_FIX | LV_MTRRCAP_WC;
		return 0;
	}
	slot = lv_mtrr_slot(&vcpu->mtrr, msr);
	if (!slot)
		return -ENOENT;
	*val = *slot;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_mtrr_get);

/**
 * lv_mtrr_set() - write an MTRR MSR of the vCPU
 * @vcpu: the vCPU
 * @msr: MSR index
 * @val: value
 *
 * Return: 0, -EINVAL for a value the CPU refuses (reserved bits, reserved
 * memory types) or a write to MTRRCAP, -ENOENT if @msr is not an MTRR MSR.
 */
int lv_mtrr_set(struct lv_vcpu *vcpu, u32 msr, u64 val)
{
	u64 *slot;

	if (msr == MSR_MTRRcap)
		return -EINVAL;
	slot = lv_mtrr_slot(&vcpu->mtrr, msr);
	if (!slot)
		return -ENOENT;
	if (!lv_mtrr_valid(msr, val))
		return -EINVAL;
	*slot = val;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_mtrr_set);

/* The MSR of struct lv_mtrr.fixed[@i]. */
static u32 lv_mtrr_fixed_msr(unsigned int i)
{
	if (i == 0)
		return MSR_MTRRfix64K_00000;
	if (i < 3)
		return MSR_MTRRfix16K_80000 + i - 1;
	return MSR_MTRRfix4K_C0000 + i - 3;
}

static_assert(ARRAY_SIZE(((struct lv_vcpu_state *)0)->mtrr_fixed) ==
	      ARRAY_SIZE(((struct lv_mtrr *)0)->fixed));
static_assert(ARRAY_SIZE(((struct lv_vcpu_state *)0)->mtrr_var) ==
	      ARRAY_SIZE(((struct lv_mtrr *)0)->var));

/**
 * lv_mtrr_get_state() - the vCPU's MTRRs into a state for userspace
 * @vcpu: the vCPU
 * @st: the state
 */
void lv_mtrr_get_state(struct lv_vcpu *vcpu, struct lv_vcpu_state *st)
{
	const struct lv_mtrr *m = &vcpu->mtrr;

	st->mtrr_def_type = m->def_type;
	memcpy(st->mtrr_fixed, m->fixed, sizeof(st->mtrr_fixed));
	memcpy(st->mtrr_var, m->var, sizeof(st->mtrr_var));
}

/**
 * lv_mtrr_check_state() - are the MTRRs of a state ones WRMSR accepts?
 * @st: a state from userspace
 *
 * The rules of the guest's WRMSR (lv_mtrr_set()): memory types UC, WC,
 * WT, WP, WB (and no other) in every type field, no reserved bit, no
 * address bit beyond the physical-address width.
 *
 * Return: 0, or -EINVAL.
 */
int lv_mtrr_check_state(const struct lv_vcpu_state *st)
{
	unsigned int i;

	if (!lv_mtrr_valid(MSR_MTRRdefType, st->mtrr_def_type))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(st->mtrr_fixed); i++)
		if (!lv_mtrr_valid(lv_mtrr_fixed_msr(i), st->mtrr_fixed[i]))
			return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(st->mtrr_var); i++)
		if (!lv_mtrr_valid(LV_MTRR_VAR_FIRST + i, st->mtrr_var[i]))
			return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_mtrr_check_state);

/* Set MTRRs checked by lv_mtrr_check_state(). */
void lv_mtrr_set_state(struct lv_vcpu *vcpu, const struct lv_vcpu_state *st)
{
	struct lv_mtrr *m = &vcpu->mtrr;

	m->def_type = st->mtrr_def_type;
	memcpy(m->fixed, st->mtrr_fixed, sizeof(m->fixed));
	memcpy(m->var, st->mtrr_var, sizeof(m->var));
}
EXPORT_SYMBOL_IF_KUNIT(lv_mtrr_set_state);

/* --- IA32_APIC_BASE (SDM vol. 3A, 11.4.4 and 11.12.5) --- */

/* The mode IA32_APIC_BASE selects: EN and EXTD. */
enum lv_apic_mode lv_apic_mode(u64 base)
{
	return (base & MSR_IA32_APICBASE_ENABLE ? 2 : 0) |
	       (base & X2APIC_ENABLE ? 1 : 0);
}

/**
 * lv_apic_base_check() - may IA32_APIC_BASE go from @old to @new?
 * @old: current value
 * @new: value written
 * @x2apic: CPUID tells the guest it has x2APIC
 * @host: the write comes from userspace (state restore), not the guest
 *
 * Bits 7:0, 9 and those above MAXPHYADDR are reserved, and so is EXTD
 * without x2APIC; EXTD without EN is an invalid state. The guest cannot
 * go from x2APIC mode straight to xAPIC mode, nor from disabled to
 * x2APIC (the SDM's state diagram, figure 11-27); userspace can restore
 * any valid state. The one set of rules for both cases: without an
 * irqchip the backend keeps the value, with one the local APIC does
 * (lv_lapic_set_base() makes the transition).
 * Return: 0 or -EINVAL (the guest gets #GP).
 */
int lv_apic_base_check(u64 old, u64 new, bool x2apic, bool host)
{
	u64 rsvd = lv_rsvd_gpa_bits() | GENMASK_ULL(7, 0) | BIT_ULL(9);
	enum lv_apic_mode from = lv_apic_mode(old), to = lv_apic_mode(new);

	if (!x2apic)
		rsvd |= X2APIC_ENABLE;
	if ((new & rsvd) || to == LV_APIC_INVALID)
		return -EINVAL;
	if (host)
		return 0;
	if ((from == LV_APIC_X2APIC && to == LV_APIC_XAPIC) ||
	    (from == LV_APIC_DISABLED && to == LV_APIC_X2APIC))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_apic_base_check);

/* --- PAE paging --- */

/**
 * lv_load_pdptes() - read and check the four PAE PDPTEs at @cr3
 * @vm: the VM
 * @cr3: guest CR3 (bits 31:5 locate the table)
 * @pdpte: the entries
 *
 * A MOV to CR0, CR3 or CR4 that enters or stays in PAE paging loads them,
 * and faults with #GP if a present one has a reserved bit set (SDM vol.
 * 3A, 4.4.1): check before the register changes, not at VM entry.
 * Return: 0, or -EINVAL (the guest gets #GP).
 */
int lv_load_pdptes(struct lv_vm *vm, u64 cr3, u64 pdpte[4])
{
	return lv_load_pdptes_rsvd(vm, cr3, pdpte,
				   GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1));
}

/*
 * The same with the caller's reserved bits (beyond MAXPHYADDR's): with
 * nested paging an AMD CPU walks the PDPTEs as page-table entries and
 * sets their accessed bit (5), which Intel's PDPTE registers reserve.
 */
int lv_load_pdptes_rsvd(struct lv_vm *vm, u64 cr3, u64 pdpte[4], u64 rsvd)
{
	int i;

	rsvd |= lv_rsvd_gpa_bits();
	if (lv_read_guest(vm, cr3 & GENMASK_ULL(31, 5), pdpte, 4 * sizeof(u64)))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		if ((pdpte[i] & _PAGE_PRESENT) && (pdpte[i] & rsvd))
			return -EINVAL;
	return 0;
}

/* --- Segment and descriptor-table registers (SDM vol. 3C, 27.3.1.2-4) --- */

/*
 * These are the checks VM entry makes on the guest's segment registers,
 * GDTR and IDTR with "unrestricted guest" set. Repeated here, a state
 * from userspace that VM entry would refuse is refused with EINVAL
 * instead of ending the next LV_RUN in LV_EXIT_FAIL_ENTRY.
 */

#define LV_SEG_TYPE_ACCESSED	BIT(0)
#define LV_SEG_TYPE_READABLE	BIT(1)		/* code; writable for data */
#define LV_SEG_TYPE_CODE	BIT(3)
#define LV_SEG_TYPE_BUSY_TSS16	3
#define LV_SEG_TYPE_LDT		2
#define LV_SEG_TYPE_BUSY_TSS	11		/* 32-bit, or 64-bit in IA-32e */
#define LV_SEL_TI		BIT(2)

/* Canonical for the processor's linear-address width (SDM 3.3.7.1). */
static bool lv_canonical(u64 addr)
{
	unsigned int bits = boot_cpu_data.x86_virt_bits;

	return (u64)((s64)(addr << (64 - bits)) >> (64 - bits)) == addr;
}

/*
 * Unusable: a null selector was loaded. The backend marks a segment
 * that is not present unusable as well, so both count.
 */
static bool lv_seg_usable(const struct lv_segment *s)
{
	return s->present && !s->unusable;
}

/*
 * Each field of struct lv_segment holds one access-rights field; a value
 * wider than it would set another bit, reserved bits 11:8 or 31:17
 * included. The padding must be 0.
 */
static bool lv_seg_fields_valid(const struct lv_segment *s)
{
	return s->type <= 15 && s->s <= 1 && s->dpl <= 3 && s->present <= 1 &&
	       s->avl <= 1 && s->l <= 1 && s->db <= 1 && s->g <= 1 &&
	       s->unusable <= 1 && !memchr_inv(s->padding, 0, sizeof(s->padding));
}

/*
 * Access rights, bit 15 (G): if any of limit bits 11:0 is 0, G must be 0;
 * if any of limit bits 31:20 is 1, G must be 1.
 */
static bool lv_seg_limit_valid(const struct lv_segment *s)
{
	if ((s->limit & 0xfff) != 0xfff && s->g)
		return false;
	if ((s->limit & 0xfff00000) && !s->g)
		return false;
	return true;
}

/*
 * Virtual-8086 mode: CS, SS, DS, ES, FS and GS all have base = selector
 * << 4, limit 0xffff and access rights 0xf3 (present, DPL 3, accessed
 * read/write data, everything else 0).
 */
static bool lv_seg_vm86_valid(const struct lv_segment *s)
{
	return s->base == (u64)s->selector << 4 && s->limit == 0xffff &&
	       s->type == 3 && s->s && s->dpl == 3 && lv_seg_usable(s) &&
	       !s->avl && !s->l && !s->db && !s->g;
}

/*
 * CS outside virtual-8086 mode: always usable, S and P set; type 3 (an
 * accessed read/write data segment, allowed with unrestricted guest, at
 * DPL 0) or an accessed code segment, its DPL equal to SS's (9, 11:
 * non-conforming) or at most SS's (13, 15: conforming); base bits 63:32
 * clear; D clear for 64-bit code (L set in IA-32e mode).
 */
static bool lv_cs_valid(const struct lv_segment *cs, unsigned int ss_dpl,
			bool ia32e)
{
	if (!lv_seg_usable(cs) || !cs->s || !lv_seg_limit_valid(cs))
		return false;
	if (cs->base >> 32 || (ia32e && cs->l && cs->db))
		return false;
	switch (cs->type) {
	case 3:
		return cs->dpl == 0;
	case 9:
	case 11:
		return cs->dpl == ss_dpl;
	case 13:
	case 15:
		return cs->dpl <= ss_dpl;
	}
	return false;
}

/*
 * SS outside virtual-8086 mode: if usable, S and P set, type 3 or 7 (an
 * accessed read/write data segment), base bits 63:32 clear. Its DPL
 * (the CPL) must be 0 in real mode and with a CS of type 3.
 */
static bool lv_ss_valid(const struct lv_segment *ss,
			const struct lv_segment *cs, bool pe)
{
	if (!lv_seg_usable(ss))
		return true;
	if (!ss->s || (ss->type != 3 && ss->type != 7) || ss->base >> 32 ||
	    !lv_seg_limit_valid(ss))
		return false;
	return ss->dpl == 0 || (pe && cs->type != 3);
}

/*
 * DS, ES, FS, GS outside virtual-8086 mode: if usable, S and P set, an
 * accessed type, a readable one if code. FS and GS bases are always
 * canonical (they are MSRs); DS and ES, if usable, have base bits 63:32
 * clear.
 */
static bool lv_data_seg_valid(const struct lv_segment *s, bool base_msr)
{
	if (base_msr && !lv_canonical(s->base))
		return false;
	if (!lv_seg_usable(s))
		return true;
	if (!base_msr && s->base >> 32)
		return false;
	if (!s->s || !(s->type & LV_SEG_TYPE_ACCESSED) ||
	    ((s->type & LV_SEG_TYPE_CODE) && !(s->type & LV_SEG_TYPE_READABLE)))
		return false;
	return lv_seg_limit_valid(s);
}

/*
 * TR: always usable, TI clear in the selector, S clear, P set, a busy
 * TSS (16- or 32-bit; only the 64-bit one, type 11, in IA-32e mode),
 * canonical base. LDTR, if usable: TI clear, S clear, P set, type 2,
 * canonical base.
 */
static bool lv_system_segs_valid(const struct lv_segment *tr,
				 const struct lv_segment *ldt, bool ia32e)
{
	if (!lv_seg_usable(tr) || (tr->selector & LV_SEL_TI) || tr->s ||
	    !lv_canonical(tr->base) || !lv_seg_limit_valid(tr))
		return false;
	if (tr->type != LV_SEG_TYPE_BUSY_TSS &&
	    (ia32e || tr->type != LV_SEG_TYPE_BUSY_TSS16))
		return false;
	if (!lv_seg_usable(ldt))
		return true;
	return !(ldt->selector & LV_SEL_TI) && !ldt->s &&
	       ldt->type == LV_SEG_TYPE_LDT && lv_canonical(ldt->base) &&
	       lv_seg_limit_valid(ldt);
}

/**
 * lv_check_segments() - refuse segment state that VM entry would refuse
 * @sr: the segment, descriptor-table and control registers to set
 * @rflags: the RFLAGS the vCPU will run with
 *
 * SDM vol. 3C, 27.3.1.2 (segment registers) and 27.3.1.3 (GDTR, IDTR)
 * with "unrestricted guest" set, and the RFLAGS.VM rule of 27.3.1.4.
 * IA-32e mode is EFER.LMA (the backend keeps the entry control equal to
 * it). The limits of GDTR and IDTR are 16 bits wide in struct lv_dtable,
 * so only their bases need a check.
 *
 * Return: 0, or -EINVAL.
 */
int lv_check_segments(const struct lv_sregs *sr, u64 rflags)
{
	const struct lv_segment *segs[] = {
		&sr->cs, &sr->ds, &sr->es, &sr->fs, &sr->gs, &sr->ss,
		&sr->tr, &sr->ldt,
	};
	bool ia32e = sr->efer & EFER_LMA, pe = sr->cr0 & X86_CR0_PE;
	unsigned int ss_dpl = lv_seg_usable(&sr->ss) ? sr->ss.dpl : 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(segs); i++)
		if (!lv_seg_fields_valid(segs[i]))
			return -EINVAL;
	if (!lv_canonical(sr->gdt.base) || !lv_canonical(sr->idt.base) ||
	    memchr_inv(sr->gdt.padding, 0, sizeof(sr->gdt.padding)) ||
	    memchr_inv(sr->idt.padding, 0, sizeof(sr->idt.padding)))
		return -EINVAL;
	if (!lv_system_segs_valid(&sr->tr, &sr->ldt, ia32e))
		return -EINVAL;

	if (rflags & X86_EFLAGS_VM) {
		/* 27.3.1.4: no virtual-8086 mode in real or IA-32e mode. */
		if (!pe || ia32e)
			return -EINVAL;
		for (i = 0; i < 6; i++)
			if (!lv_seg_vm86_valid(segs[i]))
				return -EINVAL;
		/* FS and GS: canonical, which a 20-bit base is. */
		return 0;
	}
	if (!lv_cs_valid(&sr->cs, ss_dpl, ia32e) ||
	    !lv_ss_valid(&sr->ss, &sr->cs, pe) ||
	    !lv_data_seg_valid(&sr->ds, false) ||
	    !lv_data_seg_valid(&sr->es, false) ||
	    !lv_data_seg_valid(&sr->fs, true) ||
	    !lv_data_seg_valid(&sr->gs, true))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_check_segments);

/* --- Control registers and RIP (SDM vol. 3C, 27.3.1.1 and 27.3.1.4) --- */

/**
 * lv_check_entry_regs() - refuse control registers and RIP VM entry refuses
 * @sr: the system registers the vCPU will run with
 * @rip: the RIP it will run with
 *
 * The checks VM entry makes on CR3, CR4 and RIP that depend on the rest
 * of the state, so that LV_SET_REGS, LV_SET_SREGS and LV_SET_VCPU_STATE
 * refuse the combination instead of the next LV_RUN failing:
 *
 * - CR3 has no bit set beyond the processor's physical-address width.
 *   The host's width, not the guest's CPUID MAXPHYADDR: VM entry checks
 *   against the processor's, and with EPT a guest's MOV to CR3 does not
 *   exit, so the guest can load any CR3 below the host's width whatever
 *   CPUID tells it (userspace may set leaf 0x80000008 freely, above the
 *   host's width too). Refusing less than that would break restoring
 *   what LV_GET_VCPU_STATE returned; refusing more would fail the entry.
 *   x86_phys_bits is the kernel's width, less any bits taken by memory
 *   encryption, at most the processor's: never too lax.
 * - CR4.PCIDE only in IA-32e mode (EFER.LMA, which the backend keeps
 *   equal to the "IA-32e mode guest" entry control).
 * - CR0.NW only with CR0.CD: no CPU can be in that state (MOV to CR0
 *   takes #GP, as the guest's own write does here).
 * - RIP: canonical for the processor's linear-address width in 64-bit
 *   code (IA-32e mode and CS.L), bits 63:32 clear otherwise.
 *
 * Return: 0, or -EINVAL.
 */
int lv_check_entry_regs(const struct lv_sregs *sr, u64 rip)
{
	bool ia32e = sr->efer & EFER_LMA;

	if (sr->cr3 & lv_rsvd_gpa_bits())
		return -EINVAL;
	if ((sr->cr4 & X86_CR4_PCIDE) && !ia32e)
		return -EINVAL;
	if ((sr->cr0 & X86_CR0_NW) && !(sr->cr0 & X86_CR0_CD))
		return -EINVAL;
	if (ia32e && sr->cs.l)
		return lv_canonical(rip) ? 0 : -EINVAL;
	return rip >> 32 ? -EINVAL : 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_check_entry_regs);

/* --- CPUID --- */

/**
 * lv_xsave_size() - bytes XSAVE needs for the state components in @xcr0
 * @xcr0: the guest's XCR0
 *
 * CPUID.(EAX=0DH,ECX=0):EBX, which the CPU computes from the XCR0 it runs
 * with: the host's, while CPUID runs for the guest. Legacy area and
 * header, then each enabled component's offset plus size (standard
 * format).
 */
u32 lv_xsave_size(u64 xcr0)
{
	u32 size = 512 + 64, eax, ebx, ecx, edx;
	int i;

	for (i = 2; i < 63; i++) {
		if (!(xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		size = max(size, eax + ebx);
	}
	return size;
}

/* --- control registers, XCR0 and MSR values: the SDM's rules --- */

/* XCR0 of the host, the same on every CPU; 0 without XSAVE. */
u64 lv_host_xcr0_val __read_mostly;
/* CR4 bits a guest may set at all (the CPU has them, we handle them). */
static unsigned long lv_cr4_allowed_val;
/* IA32_SPEC_CTRL bits a guest may set; 0: the MSR does not exist for it. */
static u64 lv_spec_ctrl_bits_val;

/*
 * The CR4 bits of CPU features a guest can use, as CPUID reports them
 * to it. OSXSAVE only if the kernel itself uses XSAVE (and so switches
 * XCR0); not CET, PKS, KL, LAM or FRED (their state is not switched),
 * nor PKE unless the kernel switches PKRU itself (OSPKE). Never the
 * bits of the virtualization extensions or SMX (no nesting).
 */
static unsigned long lv_cr4_features(void)
{
	unsigned long allowed = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD |
				X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE |
				X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE |
				X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	u32 a, b, c, d;

	cpuid_count(1, 0, &a, &b, &c, &d);
	if (c & BIT(17))
		allowed |= X86_CR4_PCIDE;
	if ((c & BIT(26)) && boot_cpu_has(X86_FEATURE_XSAVE))
		allowed |= X86_CR4_OSXSAVE;
	if (boot_cpu_data.cpuid_level >= 7) {
		cpuid_count(7, 0, &a, &b, &c, &d);
		if (b & BIT(0))
			allowed |= X86_CR4_FSGSBASE;
		if (b & BIT(7))
			allowed |= X86_CR4_SMEP;
		if (b & BIT(20))
			allowed |= X86_CR4_SMAP;
		if (c & BIT(2))
			allowed |= X86_CR4_UMIP;
		if (c & BIT(16))
			allowed |= X86_CR4_LA57;
		if ((c & BIT(3)) && boot_cpu_has(X86_FEATURE_OSPKE))
			allowed |= X86_CR4_PKE;
	}
	return allowed & ~(X86_CR4_VMXE | X86_CR4_SMXE);
}

/*
 * The SPEC_CTRL bits a guest may use: those the CPU reports (and which
 * CPUID passes on to the guest), if the kernel found the MSR usable.
 */
static u64 lv_compute_spec_ctrl_bits(void)
{
	u64 bits = 0;
	u32 a, b, c, d;

	if (!boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL) ||
	    boot_cpu_data.cpuid_level < 7)
		return 0;
	cpuid_count(7, 0, &a, &b, &c, &d);
	if (d & BIT(26))
		bits |= SPEC_CTRL_IBRS;
	if (d & BIT(27))
		bits |= SPEC_CTRL_STIBP;
	if (d & BIT(31))
		bits |= SPEC_CTRL_SSBD;
	return bits;
}

/**
 * lv_x86_init() - read what the guest rules depend on, once, at load
 * @cr4_hw_allowed: CR4 bits the backend's hardware lets a guest set
 *	(VMX: its CR4 fixed-1 MSR; SVM: all)
 */
void lv_x86_init(unsigned long cr4_hw_allowed)
{
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		lv_host_xcr0_val = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	lv_cr4_allowed_val = lv_cr4_features() & cr4_hw_allowed;
	lv_spec_ctrl_bits_val = lv_compute_spec_ctrl_bits();
}

u64 lv_spec_ctrl_bits(void)
{
	return lv_spec_ctrl_bits_val;
}

unsigned long lv_cr4_allowed(void)
{
	return lv_cr4_allowed_val;
}

/* CR4 bits that are reserved for the guest (it gets #GP, userspace EINVAL). */
bool lv_cr4_valid(unsigned long cr4)
{
	return !(cr4 & ~lv_cr4_allowed_val);
}

/* PAE paging without long mode: the PDPTEs are registers (SDM 4.4.1). */
bool lv_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/* XCR0 bits a guest may enable: the host's, as far as its FPU state has room. */
u64 lv_guest_xcr0_mask(struct lv_vcpu *vcpu)
{
	u64 host = lv_host_xcr0_val ?: XFEATURE_MASK_FP;

	return host & (vcpu->guest_fpu.xfeatures | XFEATURE_MASK_FPSSE);
}

/**
 * lv_xcr0_valid() - may the guest run with this XCR0?
 * @vcpu: the vCPU
 * @xcr0: the value
 *
 * The rules of XSETBV (SDM vol. 1, 13.3): x87 always on; AVX needs SSE;
 * the AVX-512 states (opmask, ZMM_Hi256, Hi16_ZMM) all or none, and
 * only with AVX; MPX's BNDREGS and BNDCSR together; AMX's TILECFG and
 * TILEDATA together. And only states the guest's FPU buffer holds
 * (dynamic ones such as AMX only once enabled for it): the host loads
 * this value with its own XSETBV on every entry.
 *
 * Return: true if XSETBV may load @xcr0.
 */
bool lv_xcr0_valid(struct lv_vcpu *vcpu, u64 xcr0)
{
	u64 avx512 = xcr0 & XFEATURE_MASK_AVX512;
	u64 mpx = xcr0 & (XFEATURE_MASK_BNDREGS | XFEATURE_MASK_BNDCSR);
	u64 amx = xcr0 & XFEATURE_MASK_XTILE;

	if (!(xcr0 & XFEATURE_MASK_FP) || (xcr0 & ~lv_guest_xcr0_mask(vcpu)))
		return false;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return false;
	if (avx512 && (avx512 != XFEATURE_MASK_AVX512 ||
		       !(xcr0 & XFEATURE_MASK_YMM)))
		return false;
	if (mpx && mpx != (XFEATURE_MASK_BNDREGS | XFEATURE_MASK_BNDCSR))
		return false;
	return !amx || amx == XFEATURE_MASK_XTILE;
}

/**
 * lv_cr0_write() - the #GP conditions and side effects of MOV to CR0
 * @old_cr0: the guest's CR0 now
 * @cr0: the value written
 * @cr4: the guest's CR4
 * @efer: in: the guest's EFER; out: with LMA as the write leaves it
 * @in_64bit: the guest runs 64-bit code (EFER.LMA and CS.L)
 *
 * SDM vol. 2B, MOV-Move to/from Control Registers: reserved bits, PG
 * without PE, NW without CD; 64-bit code cannot turn paging off; turning
 * paging on or off with EFER.LME set enters or leaves long mode, which
 * needs CR4.PAE.
 *
 * Return: false if the write raises #GP.
 */
bool lv_cr0_write(u64 old_cr0, u64 cr0, u64 cr4, u64 *efer, bool in_64bit)
{
	bool paging = cr0 & X86_CR0_PG;

	if (cr0 >> 32 || (paging && !(cr0 & X86_CR0_PE)) ||
	    (!(cr0 & X86_CR0_CD) && (cr0 & X86_CR0_NW)))
		return false;
	if (!paging && (in_64bit || (cr4 & X86_CR4_PCIDE)))
		return false;
	if (paging != !!(old_cr0 & X86_CR0_PG) && (*efer & EFER_LME)) {
		if (paging && !(cr4 & X86_CR4_PAE))
			return false;
		*efer = paging ? *efer | EFER_LMA : *efer & ~EFER_LMA;
	}
	return true;
}

/**
 * lv_cr4_write_ok() - the #GP conditions of MOV to CR4
 * @old: the guest's CR4 now
 * @cr4: the value written
 * @lma: the guest is in long mode (EFER.LMA)
 * @cr3: the guest's CR3 (PCID in bits 11:0)
 *
 * Return: false if the write raises #GP (SDM vol. 2B, MOV to CR4).
 */
bool lv_cr4_write_ok(u64 old, u64 cr4, bool lma, u64 cr3)
{
	if (!lv_cr4_valid(cr4))
		return false;
	if (lma && (!(cr4 & X86_CR4_PAE) || ((cr4 ^ old) & X86_CR4_LA57)))
		return false;
	/* PCIDE may be turned on only in long mode, with PCID 0 in CR3. */
	if ((cr4 & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) &&
	    (!lma || (cr3 & 0xfff)))
		return false;
	return true;
}

/**
 * lv_efer_write() - the #GP conditions of WRMSR to EFER
 * @old: the guest's EFER now
 * @efer: in: the value written; out: the value to load (LMA kept)
 * @cr0: the guest's CR0
 *
 * Only SCE, LME, LMA and NX exist for the guest; LMA is read-only (the
 * written bit is ignored) and LME may not change while paging is on.
 *
 * Return: false if the write raises #GP.
 */
bool lv_efer_write(u64 old, u64 *efer, u64 cr0)
{
	u64 val = *efer;

	if (val & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
		return false;
	val = (val & ~EFER_LMA) | (old & EFER_LMA);
	if ((cr0 & X86_CR0_PG) && ((val ^ old) & EFER_LME))
		return false;
	*efer = val;
	return true;
}

/**
 * lv_check_sregs_cr() - control registers and EFER a real CPU could hold
 * @sr: the system registers userspace sets
 *
 * PG needs PE; CR0 bits 63:32 and CR8 above 15 are reserved; CR4 only
 * the bits lv_cr4_valid() allows; EFER only SCE, LME, LMA and NX, with
 * LMA exactly LME and PG together, and long mode only with PAE.
 *
 * Return: 0 or -EINVAL.
 */
int lv_check_sregs_cr(const struct lv_sregs *sr)
{
	if ((sr->cr0 & X86_CR0_PG) && !(sr->cr0 & X86_CR0_PE))
		return -EINVAL;
	if (sr->cr0 >> 32 || sr->cr8 > 15)
		return -EINVAL;
	if (!lv_cr4_valid(sr->cr4))
		return -EINVAL;
	if (sr->efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
		return -EINVAL;
	if (!!(sr->efer & EFER_LMA) !=
	    ((sr->efer & EFER_LME) && (sr->cr0 & X86_CR0_PG)))
		return -EINVAL;
	if ((sr->efer & EFER_LMA) && !(sr->cr4 & X86_CR4_PAE))
		return -EINVAL;
	return 0;
}

static bool lv_valid_pat(u64 pat)
{
	int i;

	/* Memory types 2 and 3 are reserved, and so is anything above 7. */
	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/* Canonical for 48-bit linear addresses, as WRMSR checks them. */
static bool lv_is_canonical48(u64 addr)
{
	return (u64)((s64)(addr << 16) >> 16) == addr;
}

/**
 * lv_msr_value_ok() - the value checks of WRMSR a backend shares
 * @index: an MSR
 * @value: a value for it
 *
 * Return: false if WRMSR of @value must #GP; true for MSRs with no such
 * rule here (the backend may still refuse them).
 */
bool lv_msr_value_ok(u32 index, u64 value)
{
	switch (index) {
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		return lv_is_canonical48(value);
	case MSR_TSC_AUX:
	case MSR_SYSCALL_MASK:
		return !(value >> 32);
	case MSR_IA32_CR_PAT:
		return lv_valid_pat(value);
	}
	return true;
}

/**
 * lv_check_state_msrs() - the MSRs of a vCPU state, checked as WRMSR would
 * @st: the state userspace sets
 *
 * Return: true if every MSR value of @st may be loaded.
 */
bool lv_check_state_msrs(const struct lv_vcpu_state *st)
{
	/* A 32-bit MSR: nothing above bit 31 can be restored. */
	return !(st->sysenter_cs >> 32) &&
	       lv_msr_value_ok(MSR_LSTAR, st->lstar) &&
	       lv_msr_value_ok(MSR_CSTAR, st->cstar) &&
	       lv_msr_value_ok(MSR_SYSCALL_MASK, st->fmask) &&
	       lv_msr_value_ok(MSR_KERNEL_GS_BASE, st->kernel_gs_base) &&
	       lv_msr_value_ok(MSR_IA32_CR_PAT, st->pat) &&
	       lv_msr_value_ok(MSR_IA32_SYSENTER_ESP, st->sysenter_esp) &&
	       lv_msr_value_ok(MSR_IA32_SYSENTER_EIP, st->sysenter_eip);
}

/*
 * RDMSR (@write false) or WRMSR of *@value for the MSRs whose state other
 * parts of the core keep: the MTRRs and, with an irqchip, the local
 * APIC's. One function for both directions, so that which MSRs go where
 * is said once. Returns -ENOENT for every other MSR.
 */
static int lv_msr_owned(struct lv_vcpu *vcpu, u32 index, u64 *value,
			bool write)
{
	int ret = write ? lv_mtrr_set(vcpu, index, *value) :
			  lv_mtrr_get(vcpu, index, value);

	if (ret != -ENOENT)
		return ret;
	switch (index) {
	case MSR_IA32_TSC_DEADLINE:
	case LV_X2APIC_MSR_BASE ... LV_X2APIC_MSR_END:
		if (!vcpu->lapic)
			return -EINVAL;
		return write ? lv_lapic_msr_write(vcpu->lapic, index, *value) :
			       lv_lapic_msr_read(vcpu->lapic, index, value);
	}
	return -ENOENT;
}

/**
 * lv_msr_get_common() - RDMSR of the MSRs every backend emulates alike
 * @vcpu: the vCPU
 * @index: the MSR
 * @value: out: its value
 *
 * The MTRRs, the local APIC's MSRs, IA32_APIC_BASE, IA32_SPEC_CTRL,
 * IA32_TSC_ADJUST (its write moves the TSC: the backend's), and the MSRs
 * a guest reads as fixed values (machine check and microcode
 * information, no LBRs).
 *
 * Return: 0, -EINVAL for #GP, -ENOENT if the backend must handle @index.
 */
int lv_msr_get_common(struct lv_vcpu *vcpu, u32 index, u64 *value)
{
	int ret = lv_msr_owned(vcpu, index, value, false);

	if (ret != -ENOENT)
		return ret;
	switch (index) {
	case MSR_IA32_MISC_ENABLE:
		*value = MSR_IA32_MISC_ENABLE_FAST_STRING;
		return 0;
	case MSR_IA32_FEAT_CTL:
		*value = FEAT_CTL_LOCKED;	/* locked, VMX off */
		return 0;
	case MSR_IA32_TSC_ADJUST:
		*value = vcpu->tsc_adjust;
		return 0;
	case MSR_IA32_APICBASE:
		*value = vcpu->lapic ? lv_lapic_get_base(vcpu->lapic) :
			 vcpu->apic_base;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!lv_spec_ctrl_bits())
			return -EINVAL;
		*value = vcpu->spec_ctrl;
		return 0;
	case MSR_IA32_DEBUGCTLMSR:	/* no LBR, BTF or BTS for guests */
	case MSR_IA32_UCODE_REV:
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS:
		*value = 0;
		return 0;
	}
	return -ENOENT;
}

/**
 * lv_msr_set_common() - WRMSR of the MSRs every backend emulates alike
 * @vcpu: the vCPU
 * @index: the MSR
 * @value: the value written
 *
 * Return: 0, -EINVAL for #GP, -ENOENT if the backend must handle @index.
 */
int lv_msr_set_common(struct lv_vcpu *vcpu, u32 index, u64 value)
{
	int ret = lv_msr_owned(vcpu, index, &value, true);

	if (ret != -ENOENT)
		return ret;
	switch (index) {
	case MSR_IA32_APICBASE:
		/* With an irqchip, the local APIC's transitions. */
		if (vcpu->lapic)
			return lv_lapic_set_base(vcpu->lapic, value, false);
		/* No irqchip: CPUID hides x2APIC. */
		if (lv_apic_base_check(vcpu->apic_base, value, false, false))
			return -EINVAL;
		vcpu->apic_base = value;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		/* The backend loads it around every entry (vmenter.S). */
		if (!lv_spec_ctrl_bits() || (value & ~lv_spec_ctrl_bits()))
			return -EINVAL;
		vcpu->spec_ctrl = value;
		return 0;
	case MSR_IA32_PRED_CMD:
		/* IBPB exists for the guest where CPUID says IBRS (7.EDX[26]). */
		if (!(lv_spec_ctrl_bits() & SPEC_CTRL_IBRS) ||
		    (value & ~PRED_CMD_IBPB))
			return -EINVAL;
		if (value)
			wrmsrl(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
		return 0;
	case MSR_IA32_DEBUGCTLMSR:
		/* As KVM without LBR virtualization: 0 only. */
		return value ? -EINVAL : 0;
	case MSR_IA32_UCODE_REV:
	case MSR_IA32_MISC_ENABLE:
		return 0;			/* accepted, no effect */
	}
	return -ENOENT;
}
