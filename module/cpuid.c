// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID, vendor neutral: what lightvisor can offer (the host's leaves
 * minus what it does not virtualise), the table userspace sets per VM
 * (checked against that), and the per-vCPU fields filled in at each
 * CPUID exit.
 */
#include <linux/gcd.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/tsc.h>

#include "lightvisor.h"
#include "irq/lapic.h"

#define LV_CPUID_SIGNATURE	0x40000000
#define LV_CPUID_TIMING		0x40000010
#define LV_CPUID_TSC_CRYSTAL	0x15
#define LV_SIG_EBX		0x6867694c	/* "Ligh" */
#define LV_SIG_ECX		0x73695674	/* "tVis" */
#define LV_SIG_EDX		0x564c726f	/* "orLV" */

#define CPUID1_ECX_X2APIC	BIT(21)
#define CPUID1_ECX_TSC_DEADLINE	BIT(24)
#define CPUID1_ECX_OSXSAVE	BIT(27)
#define CPUID1_ECX_HYPERVISOR	BIT(31)
#define CPUID1_EDX_APIC		BIT(9)
#define CPUID6_EAX_ARAT		BIT(2)
#define CPUID7_ECX_OSPKE	BIT(4)
/* 0x80000001 ECX: SVM (no nesting). */
#define LV_CPUID_EXT1_ECX_SVM	BIT(2)
/* AMD's SVM feature leaf. */
#define LV_CPUID_SVM_LEAF	0x8000000a

/**
 * struct lv_cpuid_table - a VM's CPUID as userspace set it
 * @nent: entries
 * @e: the entries
 */
struct lv_cpuid_table {
	u32 nent;
	struct lv_cpuid_entry e[];
};

static bool lv_host_is_amd(void)
{
	return boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
	       boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;
}

/*
 * Leaf 0x15, TSC = crystal * EBX / EAX, with the local APIC timer's clock
 * as the crystal: Linux then takes the TSC frequency and the APIC timer
 * period from it (native_calibrate_tsc()) and calibrates neither against
 * the PIT, whose few-microsecond loop a VM exit per port read cannot keep.
 * Guests multiply crystal kHz by EBX in 32 bits: keep the product below
 * 2^32, rounding the ratio where it must be (1 in 4,000 at worst).
 */
static void lv_cpuid_tsc_crystal(u32 out[4])
{
	u32 crystal_khz = LV_APIC_BUS_KHZ, max_num = U32_MAX / crystal_khz;
	unsigned long g = gcd(tsc_khz ? tsc_khz : 1, crystal_khz);
	u64 num = tsc_khz / g, den = crystal_khz / g;

	if (num > max_num) {
		den = max_t(u64, 1, div64_u64(den * max_num, num));
		num = DIV_ROUND_CLOSEST_ULL((u64)tsc_khz * den, crystal_khz);
	}
	out[0] = den;
	out[1] = num;
	out[2] = crystal_khz * 1000;
	out[3] = 0;
}

/*
 * Basic leaves lightvisor defines whatever the host has: on Intel, the
 * TSC/crystal leaf, raising the highest basic leaf to it; the leaves the
 * host lacks below it read 0 (the host would answer with its last leaf).
 */
static bool lv_cpuid_own_basic(u32 leaf, u32 out[4])
{
	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL)
		return false;
	if (leaf == 0) {
		out[0] = max_t(u32, out[0], LV_CPUID_TSC_CRYSTAL);
		return false;
	}
	if (leaf == LV_CPUID_TSC_CRYSTAL) {
		lv_cpuid_tsc_crystal(out);
		return true;
	}
	if (leaf > boot_cpu_data.cpuid_level && leaf < LV_CPUID_TSC_CRYSTAL) {
		out[0] = out[1] = out[2] = out[3] = 0;
		return true;
	}
	return false;
}

/*
 * The host's leaf, minus what the guest must not use: VMX/SMX (no
 * nesting), MONITOR (MWAIT is a no-op), performance monitoring, and
 * features needing state lightvisor does not switch (XSAVES, PT, SGX,
 * INVPCID, TSX). The local APIC, x2APIC and TSC-deadline exist when the
 * VM has an irqchip (@vm NULL: say what an irqchip VM gets), and so does
 * ARAT: the APIC timer is an hrtimer that no guest C-state stops. Without
 * ARAT, Linux marks the timer C3STOP and, with no broadcast timer (no
 * PIT or HPET on a hardware-reduced board), never leaves its periodic
 * tick, whose jiffies lag whenever a tick is late.
 */
void lv_cpuid_host(struct lv_vm *vm, u32 leaf, u32 subleaf, u32 out[4])
{
	bool apic = !vm || vm->irqchip;

	cpuid_count(leaf, subleaf, &out[0], &out[1], &out[2], &out[3]);
	if (lv_cpuid_own_basic(leaf, out))
		return;
	switch (leaf) {
	case 1:
		out[2] &= ~(BIT(3) | BIT(5) | BIT(6) | LV_CPUID1_ECX_HIDDEN |
			    CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE |
			    CPUID1_ECX_OSXSAVE);
		out[2] |= CPUID1_ECX_HYPERVISOR;
		out[3] &= ~(CPUID1_EDX_APIC | LV_CPUID1_EDX_HIDDEN);
		if (apic) {
			out[2] |= CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE;
			out[3] |= CPUID1_EDX_APIC;
		}
		break;
	case 6:
		out[0] = apic ? CPUID6_EAX_ARAT : 0;
		out[1] = out[2] = out[3] = 0;
		break;
	case 0xa:
		out[0] = out[1] = out[2] = out[3] = 0;
		break;
	case 7:
		if (subleaf == 0) {
			/* SGX, HLE, INVPCID, RTM, PQM, PQE, PT */
			out[1] &= ~(BIT(2) | BIT(4) | BIT(10) | BIT(11) | BIT(12) |
				    BIT(15) | BIT(25));
			out[1] |= LV_CPUID7_EBX_TSC_ADJUST;
			/* PKU, OSPKE, WAITPKG, CET_SS, KL, RDPID, SGX_LC, PKS */
			out[2] &= ~(BIT(3) | CPUID7_ECX_OSPKE | BIT(5) | BIT(7) |
				    BIT(22) | BIT(23) | BIT(30) | BIT(31));
			/* AMX, CET IBT, L1D_FLUSH, ARCH_/CORE_CAPABILITIES */
			out[3] &= ~(BIT(20) | BIT(22) | BIT(24) | BIT(25) |
				    BIT(28) | BIT(29) | BIT(30));
		} else if (subleaf == 1) {
			/* FRED, LKGS, AMX-FP16, LAM; AMX-COMPLEX */
			out[0] &= ~(BIT(17) | BIT(18) | BIT(21) | BIT(26));
			out[3] &= ~BIT(8);
		} else {
			out[0] = out[1] = out[2] = out[3] = 0;
		}
		break;
	case 0x1d:
	case 0x1e:
		out[0] = out[1] = out[2] = out[3] = 0;	/* AMX tiles */
		break;
	case 0xd:
		if (subleaf == 1) {
			out[0] &= ~(BIT(3) | BIT(4));		/* XSAVES, XFD */
			out[2] = out[3] = 0;			/* no IA32_XSS */
		}
		break;
	case 0x80000001:
		out[2] &= ~LV_CPUID_EXT1_ECX_SVM;	/* no nesting */
		break;
	case LV_CPUID_SVM_LEAF:
		if (lv_host_is_amd())
			out[0] = out[1] = out[2] = out[3] = 0;
		break;
	case LV_CPUID_SIGNATURE:
		out[0] = LV_CPUID_TIMING;
		out[1] = LV_SIG_EBX;
		out[2] = LV_SIG_ECX;
		out[3] = LV_SIG_EDX;
		return;
	case LV_CPUID_TIMING:
		out[0] = tsc_khz;
		out[1] = LV_APIC_BUS_KHZ;
		out[2] = out[3] = 0;
		return;
	}
	if (leaf > LV_CPUID_SIGNATURE && leaf < 0x80000000)
		out[0] = out[1] = out[2] = out[3] = 0;
}

/**
 * lv_cpuid_fixup() - what a backend's host filter cannot know
 * @vcpu: the vCPU
 * @leaf: EAX
 * @out: the filtered host leaf, EAX..EDX
 *
 * The local APIC, x2APIC, TSC-deadline and ARAT bits of an irqchip VM (the
 * APIC bit following IA32_APIC_BASE.EN), the hypervisor timing leaf and the
 * basic leaves lightvisor defines itself.
 */
void lv_cpuid_fixup(struct lv_vcpu *vcpu, u32 leaf, u32 out[4])
{
	if (lv_cpuid_own_basic(leaf, out))
		return;
	switch (leaf) {
	case 1:
		if (vcpu->lapic) {
			out[2] |= CPUID1_ECX_X2APIC | CPUID1_ECX_TSC_DEADLINE;
			if (lv_apic_hw_enabled(vcpu->lapic))
				out[3] |= CPUID1_EDX_APIC;
		}
		break;
	case 6:
		if (vcpu->lapic)
			out[0] |= CPUID6_EAX_ARAT;
		break;
	case LV_CPUID_SIGNATURE:
		out[0] = LV_CPUID_TIMING;
		break;
	case LV_CPUID_TIMING:
		out[0] = tsc_khz;
		out[1] = LV_APIC_BUS_KHZ;
		out[2] = out[3] = 0;
		break;
	}
}

static const struct lv_cpuid_entry *lv_cpuid_find(const struct lv_cpuid_table *t,
						  u32 leaf, u32 subleaf)
{
	u32 i;

	for (i = 0; i < t->nent; i++) {
		const struct lv_cpuid_entry *e = &t->e[i];

		if (e->function == leaf &&
		    (!(e->flags & LV_CPUID_FLAG_INDEXED) || e->index == subleaf))
			return e;
	}
	return NULL;
}

/**
 * lv_cpuid_eval() - what CPUID returns on a vCPU
 * @vcpu: the vCPU
 * @leaf: EAX
 * @subleaf: ECX
 * @cr4: the guest's CR4 (OSXSAVE, OSPKE mirror it)
 * @xcr0: the guest's XCR0 (the XSAVE area size of leaf 0xd)
 * @out: EAX, EBX, ECX, EDX
 */
void lv_cpuid_eval(struct lv_vcpu *vcpu, u32 leaf, u32 subleaf, u64 cr4,
		   u64 xcr0, u32 out[4])
{
	const struct lv_cpuid_table *t = vcpu->vm->cpuid;
	const struct lv_cpuid_entry *e;

	if (t) {
		e = lv_cpuid_find(t, leaf, subleaf);
		if (e) {
			out[0] = e->eax;
			out[1] = e->ebx;
			out[2] = e->ecx;
			out[3] = e->edx;
		} else {
			out[0] = out[1] = out[2] = out[3] = 0;
		}
	} else {
		lv_cpuid_host(vcpu->vm, leaf, subleaf, out);
	}

	switch (leaf) {
	case 1:
		/* Initial APIC id; the host's count of logical CPUs is not ours. */
		if (t)
			out[1] = (out[1] & 0x00ffffff) | (vcpu->id << 24);
		else
			out[1] = (out[1] & 0xffff) | (vcpu->id << 24) |
				 (vcpu->vm->nr_vcpus << 16);
		out[2] &= ~CPUID1_ECX_OSXSAVE;
		if (cr4 & X86_CR4_OSXSAVE)
			out[2] |= CPUID1_ECX_OSXSAVE;
		/* The APIC bit follows IA32_APIC_BASE's enable (SDM 11.4.3). */
		if (vcpu->lapic && !lv_apic_hw_enabled(vcpu->lapic))
			out[3] &= ~CPUID1_EDX_APIC;
		break;
	case 7:
		if (subleaf == 0) {
			out[2] &= ~CPUID7_ECX_OSPKE;
			if (cr4 & X86_CR4_PKE)
				out[2] |= CPUID7_ECX_OSPKE;
		}
		break;
	case 0xb:
	case 0x1f:
		out[3] = vcpu->id;
		break;
	case 0xd:
		/* The size for the guest's XCR0 (no IA32_XSS states), x86.c. */
		if (subleaf <= 1)
			out[1] = lv_xsave_size(xcr0);
		break;
	}
}

/* Leaves with subleaves, and how many of them to offer. */
static u32 lv_cpuid_nr_subleaves(u32 leaf)
{
	switch (leaf) {
	case 4:
	case 0xb:
	case 0x1f:
		return 8;
	case 7:
		return 4;
	case 0xd:
		return 64;
	case 0xf:
	case 0x10:
	case 0x12:
	case 0x14:
	case 0x17:
	case 0x18:
		return 2;
	}
	return 0;
}

static void lv_cpuid_add_leaf(struct lv_vm *vm, struct lv_cpuid_table *t,
			      u32 max, u32 leaf)
{
	u32 n = lv_cpuid_nr_subleaves(leaf), sub;
	struct lv_cpuid_entry *e;
	u32 r[4];

	for (sub = 0; sub < max(n, 1U) && t->nent < max; sub++) {
		lv_cpuid_host(vm, leaf, sub, r);
		if (n && sub && !(r[0] | r[1] | r[2] | r[3]))
			continue;
		e = &t->e[t->nent++];
		*e = (struct lv_cpuid_entry) {
			.function = leaf, .index = n ? sub : 0,
			.flags = n ? LV_CPUID_FLAG_INDEXED : 0,
			.eax = r[0], .ebx = r[1], .ecx = r[2], .edx = r[3],
		};
	}
}

/* Everything lightvisor can offer a VM like @vm (NULL: with an irqchip). */
static struct lv_cpuid_table *lv_cpuid_supported(struct lv_vm *vm)
{
	struct lv_cpuid_table *t;
	u32 leaf, max_basic, max_ext, r[4];

	t = kzalloc(struct_size(t, e, LV_MAX_CPUID_ENTRIES), GFP_KERNEL);
	if (!t)
		return NULL;
	lv_cpuid_host(vm, 0, 0, r);
	max_basic = min(r[0], 0x1fU);
	max_ext = min(cpuid_eax(0x80000000), 0x80000008U);
	for (leaf = 0; leaf <= max_basic; leaf++)
		lv_cpuid_add_leaf(vm, t, LV_MAX_CPUID_ENTRIES, leaf);
	lv_cpuid_add_leaf(vm, t, LV_MAX_CPUID_ENTRIES, LV_CPUID_SIGNATURE);
	lv_cpuid_add_leaf(vm, t, LV_MAX_CPUID_ENTRIES, LV_CPUID_TIMING);
	for (leaf = 0x80000000; leaf <= max_ext; leaf++)
		lv_cpuid_add_leaf(vm, t, LV_MAX_CPUID_ENTRIES, leaf);
	return t;
}

int lv_cpuid_get_supported(void __user *argp)
{
	struct lv_cpuid __user *ucpuid = argp;
	struct lv_cpuid_table *t;
	u32 nent;
	int ret = 0;

	if (get_user(nent, &ucpuid->nent))
		return -EFAULT;
	t = lv_cpuid_supported(NULL);
	if (!t)
		return -ENOMEM;
	if (nent < t->nent)
		ret = -E2BIG;
	else if (copy_to_user(ucpuid->entries, t->e, t->nent * sizeof(t->e[0])))
		ret = -EFAULT;
	if (put_user(t->nent, &ucpuid->nent))
		ret = -EFAULT;
	kfree(t);
	return ret;
}

/* @bits may only hold bits of @allowed. */
static bool lv_subset(u32 bits, u32 allowed)
{
	return !(bits & ~allowed);
}

/* Is @e within what @sup (the supported entry of its leaf) offers? */
static bool lv_cpuid_entry_ok(const struct lv_cpuid_entry *e,
			      const struct lv_cpuid_entry *sup)
{
	switch (e->function) {
	case 0:
	case LV_CPUID_SIGNATURE:
	case 0x80000000:
		return e->eax <= sup->eax;
	case 1:
		return lv_subset(e->ecx, sup->ecx | CPUID1_ECX_OSXSAVE) &&
		       lv_subset(e->edx, sup->edx);
	case 6:
		return lv_subset(e->eax, sup->eax) && !(e->ebx | e->ecx | e->edx);
	case 0xa:
		return !(e->eax | e->ebx | e->ecx | e->edx);
	case 7:
		if (e->index == 0)
			return lv_subset(e->ebx, sup->ebx) &&
			       lv_subset(e->ecx, sup->ecx | CPUID7_ECX_OSPKE) &&
			       lv_subset(e->edx, sup->edx);
		return lv_subset(e->eax, sup->eax);
	case 0xd:
		if (e->index <= 1)
			return lv_subset(e->eax, sup->eax) &&
			       (e->index || lv_subset(e->edx, sup->edx));
		return true;
	case 0x80000001:
		return lv_subset(e->ecx, sup->ecx) && lv_subset(e->edx, sup->edx);
	}
	/* Descriptive leaves (caches, topology, brand): any value. */
	return true;
}

static int lv_cpuid_check(struct lv_vm *vm, const struct lv_cpuid_table *t)
{
	struct lv_cpuid_table *sup = lv_cpuid_supported(vm);
	const struct lv_cpuid_entry *e, *s;
	int ret = 0;
	u32 i, j;

	if (!sup)
		return -ENOMEM;
	for (i = 0; i < t->nent && !ret; i++) {
		e = &t->e[i];
		ret = -EINVAL;
		if (e->flags & ~LV_CPUID_FLAG_INDEXED || e->padding ||
		    (!(e->flags & LV_CPUID_FLAG_INDEXED) && e->index))
			break;
		for (j = 0; j < i; j++)
			if (t->e[j].function == e->function &&
			    t->e[j].index == e->index)
				goto out;
		s = lv_cpuid_find(sup, e->function, e->index);
		if (!s || !lv_cpuid_entry_ok(e, s))
			break;
		ret = 0;
	}
out:
	kfree(sup);
	return ret;
}

/**
 * lv_cpuid_set() - LV_SET_CPUID
 * @vm: the VM
 * @argp: struct lv_cpuid in user memory
 *
 * Return: 0 or the errno the uapi header documents.
 */
int lv_cpuid_set(struct lv_vm *vm, void __user *argp)
{
	struct lv_cpuid __user *ucpuid = argp;
	struct lv_cpuid hdr;
	struct lv_cpuid_table *t;
	int ret;

	if (copy_from_user(&hdr, ucpuid, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent > LV_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (hdr.padding)
		return -EINVAL;
	t = kzalloc(struct_size(t, e, hdr.nent), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->nent = hdr.nent;
	ret = -EFAULT;
	if (copy_from_user(t->e, ucpuid->entries, hdr.nent * sizeof(t->e[0])))
		goto out;
	ret = lv_cpuid_check(vm, t);
	if (ret)
		goto out;
	mutex_lock(&vm->lock);
	ret = -EBUSY;
	if (!vm->nr_vcpus) {
		swap(vm->cpuid, t);
		ret = 0;
	}
	mutex_unlock(&vm->lock);
out:
	kfree(t);
	return ret;
}

void lv_cpuid_free(struct lv_vm *vm)
{
	kfree(vm->cpuid);
	vm->cpuid = NULL;
}

/* --- the CPUID exit of a VM without a table of its own --- */

/* 7.0 EDX: AMX-BF16/TILE/INT8, CET IBT, L1D_FLUSH, ARCH_/CORE_CAPABILITIES */
#define LV_CPUID7_EDX_HIDDEN	(BIT(22) | BIT(24) | BIT(25) | BIT(20) |	\
				 BIT(28) | BIT(29) | BIT(30))
/* Leaf 7.1 EAX: FRED, LKGS, AMX-FP16, LAM. */
#define LV_CPUID7_1_EAX_HIDDEN	(BIT(17) | BIT(18) | BIT(21) | BIT(26))

static void lv_cpuid_filter_leaf7(u32 subleaf, u64 cr4, u32 out[4])
{
	u64 spec_ctrl = lv_spec_ctrl_bits();

	switch (subleaf) {
	case 0:
		/* SGX, HLE, INVPCID, RTM, PQM, PQE, PT */
		out[1] &= ~(BIT(2) | BIT(4) | BIT(10) | BIT(11) | BIT(12) |
			    BIT(15) | BIT(25));
		out[1] |= LV_CPUID7_EBX_TSC_ADJUST;
		/* PKU, OSPKE, WAITPKG, CET_SS, KL, RDPID, SGX_LC, PKS */
		out[2] &= ~(BIT(3) | BIT(4) | BIT(5) | BIT(7) | BIT(22) |
			    BIT(23) | BIT(30) | BIT(31));
		if (lv_cr4_valid(X86_CR4_PKE))
			out[2] |= BIT(3);
		if (cr4 & X86_CR4_PKE)
			out[2] |= CPUID7_ECX_OSPKE;
		out[3] &= ~LV_CPUID7_EDX_HIDDEN;
		/* Only the SPEC_CTRL bits the guest's MSR accepts. */
		if (!(spec_ctrl & SPEC_CTRL_IBRS))
			out[3] &= ~BIT(26);
		if (!(spec_ctrl & SPEC_CTRL_STIBP))
			out[3] &= ~BIT(27);
		if (!(spec_ctrl & SPEC_CTRL_SSBD))
			out[3] &= ~BIT(31);
		break;
	case 1:
		out[0] &= ~LV_CPUID7_1_EAX_HIDDEN;
		out[3] &= ~BIT(8);			/* AMX-COMPLEX */
		break;
	default:
		/* 7.2: more SPEC_CTRL controls (PSFD, IPRED, RRSBA, BHI). */
		out[0] = out[1] = out[2] = out[3] = 0;
		break;
	}
}

/* XSAVE leaf: only the state components the guest may enable. */
static void lv_cpuid_filter_xsave(struct lv_vcpu *vcpu, u32 subleaf,
				  u32 out[4])
{
	u64 mask = lv_guest_xcr0_mask(vcpu);

	switch (subleaf) {
	case 0:
		out[0] &= lower_32_bits(mask);
		out[3] &= upper_32_bits(mask);
		break;
	case 1:
		out[0] &= ~(BIT(3) | BIT(4));	/* XSAVES, XFD */
		out[2] = out[3] = 0;		/* no IA32_XSS states */
		break;
	default:
		if (subleaf >= 63 || !(mask & BIT_ULL(subleaf)))
			out[0] = out[1] = out[2] = out[3] = 0;
		break;
	}
}

/*
 * The guest sees the host CPU minus what it must not use: VMX, SVM and
 * SMX (no nesting), the APIC family (lv_cpuid_fixup() gives it back to
 * a VM with an irqchip), MONITOR (MWAIT is a no-op), performance
 * monitoring, and features needing state we do not switch (XSAVES, PT,
 * SGX, INVPCID, TSX, CET, PKS, KL, FRED, LAM, AMX and XFD, and
 * speculation-control MSRs the guest cannot use).
 */
static void lv_cpuid_filter(struct lv_vcpu *vcpu, u32 leaf, u32 subleaf,
			    u64 cr4, u64 xcr0, u32 out[4])
{
	switch (leaf) {
	case 1:
		out[2] &= ~(BIT(3) | BIT(5) | BIT(6) | BIT(21) | BIT(24) |
			    BIT(27) | LV_CPUID1_ECX_HIDDEN);
		out[2] |= CPUID1_ECX_HYPERVISOR;
		/*
		 * Without the kernel's XSAVE, XCR0 is neither switched nor
		 * saved: no XSAVE (nor AVX, which needs it) for the guest.
		 */
		if (!lv_cr4_valid(X86_CR4_OSXSAVE))
			out[2] &= ~(BIT(26) | BIT(28));
		/* OSXSAVE mirrors the guest's CR4, not the host's. */
		if (cr4 & X86_CR4_OSXSAVE)
			out[2] |= CPUID1_ECX_OSXSAVE;
		out[3] &= ~(CPUID1_EDX_APIC | LV_CPUID1_EDX_HIDDEN);
		out[3] |= BIT(12);			/* MTRR, see x86.c */
		out[1] = (out[1] & 0xffff) | (vcpu->id << 24) |
			 (vcpu->vm->nr_vcpus << 16);
		break;
	case 6:
	case 0xa:
		out[0] = out[1] = out[2] = out[3] = 0;
		break;
	case 7:
		lv_cpuid_filter_leaf7(subleaf, cr4, out);
		break;
	case 0xb:
	case 0x1f:
		out[3] = vcpu->id;
		break;
	case 0xd:
		lv_cpuid_filter_xsave(vcpu, subleaf, out);
		/*
		 * The size for the XCR0 (and, without XSAVES, IA32_XSS = 0)
		 * in use: the guest's, not the host's that CPUID ran with.
		 */
		if (subleaf <= 1)
			out[1] = lv_xsave_size(xcr0);
		break;
	case 0x1d:
	case 0x1e:
		out[0] = out[1] = out[2] = out[3] = 0;	/* AMX tiles */
		break;
	case 0x80000001:
		out[2] &= ~LV_CPUID_EXT1_ECX_SVM;
		break;
	case LV_CPUID_SVM_LEAF:
		/* Intel CPUs answer it with another leaf: left alone there. */
		if (lv_host_is_amd())
			out[0] = out[1] = out[2] = out[3] = 0;
		break;
	case LV_CPUID_SIGNATURE:
		out[0] = LV_CPUID_SIGNATURE;
		out[1] = LV_SIG_EBX;
		out[2] = LV_SIG_ECX;
		out[3] = LV_SIG_EDX;
		break;
	}
	if (leaf > LV_CPUID_SIGNATURE && leaf < 0x80000000)
		out[0] = out[1] = out[2] = out[3] = 0;
}

/**
 * lv_cpuid_exit() - carry out the guest's CPUID
 * @vcpu: the vCPU; RAX and RCX hold the leaf and subleaf
 * @cr4: the guest's CR4 (OSXSAVE and OSPKE mirror it); used only for the
 *	leaves lv_cpuid_uses_cr4() names, any value will do for the others
 * @xcr0: the guest's XCR0 (the XSAVE area size follows it)
 *
 * The table userspace set, else the host's leaf filtered. The results
 * go into RAX, RBX, RCX and RDX; the backend moves RIP past CPUID.
 */
void lv_cpuid_exit(struct lv_vcpu *vcpu, u64 cr4, u64 xcr0)
{
	unsigned long *regs = vcpu->regs;
	u32 leaf = regs[LV_RAX], subleaf = regs[LV_RCX];
	u32 out[4];

	if (vcpu->vm->cpuid) {
		lv_cpuid_eval(vcpu, leaf, subleaf, cr4, xcr0, out);
	} else {
		cpuid_count(leaf, subleaf, &out[0], &out[1], &out[2], &out[3]);
		lv_cpuid_filter(vcpu, leaf, subleaf, cr4, xcr0, out);
		lv_cpuid_fixup(vcpu, leaf, out);
	}
	regs[LV_RAX] = out[0];
	regs[LV_RBX] = out[1];
	regs[LV_RCX] = out[2];
	regs[LV_RDX] = out[3];
}
