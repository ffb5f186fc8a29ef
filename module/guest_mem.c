// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory access from the host side: by guest-physical address
 * through the memory slots, and by guest-virtual address through the
 * guest's own page tables. Used to emulate the few instructions the
 * hardware leaves to us (string I/O, MMIO instruction fetch).
 *
 * Accesses go through the slot's user mapping with copy_{from,to}_user,
 * so they run in the VM's address space (the vCPU thread) and can never
 * reach host memory the VM was not given.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>

#include "lightvisor.h"

/* One piece of an access that stays within a page. */
static void __user *lv_gpa_to_user(struct lv_vm *vm, u64 gpa, bool write)
{
	struct lv_memslot *s;
	unsigned long hva;

	s = lv_memslot_find(vm, gpa);
	if (!s || (write && (s->flags & LV_MEM_READONLY)))
		return NULL;
	hva = s->userspace_addr + (gpa - (s->base_gfn << PAGE_SHIFT));
	if (write && s->dirty_bitmap)
		set_bit((gpa >> PAGE_SHIFT) - s->base_gfn, s->dirty_bitmap);
	return (void __user *)hva;
}

/*
 * Guest page tables and code are nearly always resident: try a copy that
 * does not fault first (it also skips might_fault(), which is costly with
 * lockdep), then the ordinary one. The slot's range passed access_ok()
 * when the slot was created.
 */
static unsigned long lv_copy_guest_page(void __user *p, void *data,
					unsigned int len, bool write)
{
	unsigned long left;

	pagefault_disable();
	left = write ? __copy_to_user_inatomic(p, data, len) :
		       __copy_from_user_inatomic(data, p, len);
	pagefault_enable();
	if (left)
		left = write ? copy_to_user(p, data, len) :
			       copy_from_user(data, p, len);
	return left;
}

/* Caller holds vm->slots_lock. */
static int __lv_access_guest(struct lv_vm *vm, u64 gpa, void *data,
			     unsigned int len, bool write)
{
	int ret = 0;

	while (len) {
		unsigned int chunk = min_t(u64, len,
					   PAGE_SIZE - offset_in_page(gpa));
		void __user *p = lv_gpa_to_user(vm, gpa, write);
		unsigned long left;

		if (!p) {
			ret = -EFAULT;
			break;
		}
		left = lv_copy_guest_page(p, data, chunk, write);
		if (left) {
			ret = -EFAULT;
			break;
		}
		gpa += chunk;
		data += chunk;
		len -= chunk;
	}
	return ret;
}

static int lv_access_guest(struct lv_vm *vm, u64 gpa, void *data,
			   unsigned int len, bool write)
{
	int ret;

	down_read(&vm->slots_lock);
	ret = __lv_access_guest(vm, gpa, data, len, write);
	up_read(&vm->slots_lock);
	return ret;
}

int lv_read_guest(struct lv_vm *vm, u64 gpa, void *data, unsigned int len)
{
	return lv_access_guest(vm, gpa, data, len, false);
}

int lv_write_guest(struct lv_vm *vm, u64 gpa, const void *data,
		   unsigned int len)
{
	return lv_access_guest(vm, gpa, (void *)data, len, true);
}

#define PTE_PRESENT	BIT_ULL(0)
#define PTE_WRITE	BIT_ULL(1)
#define PTE_USER	BIT_ULL(2)
#define PTE_LARGE	BIT_ULL(7)
#define PTE_NX		BIT_ULL(63)
#define PTE_ADDR_MASK	GENMASK_ULL(51, 12)

/* What one guest page walk needs besides the tables. */
struct lv_walk {
	const struct lv_paging *pg;
	u32 access;		/* LV_ACC_* */
	u64 rsvd_high;		/* address bits above MAXPHYADDR */
	bool nx;		/* EFER.NXE */
	bool user_ok;		/* U/S = 1 at every level so far */
	bool write_ok;		/* R/W = 1 at every level so far */
	bool exec_ok;		/* XD = 0 at every level so far */
};

/*
 * Reserved bits of a 64-bit paging entry at @level (1 = PTE ... 5 =
 * PML5E) of 4/5-level paging, or of a PAE PDE/PTE (SDM vol. 3A, 4.5).
 */
static u64 lv_rsvd_bits(const struct lv_walk *w, u64 e, unsigned int level)
{
	u64 rsvd = w->rsvd_high | (w->nx ? 0 : PTE_NX);

	if (!(e & PTE_LARGE) || level == 1)
		return rsvd;
	if (level >= 4)				/* no PS in PML4E/PML5E */
		return rsvd | PTE_LARGE;
	if (level == 3)
		return rsvd | (boot_cpu_has(X86_FEATURE_GBPAGES) ?
			       GENMASK_ULL(29, 13) : PTE_LARGE);
	return rsvd | GENMASK_ULL(20, 13);
}

/* Reserved bits of a 32-bit paging PDE that maps a 4 MiB page (PSE-36). */
static u64 lv_rsvd_bits_pse(unsigned int phys_bits)
{
	u64 rsvd = BIT_ULL(21);

	if (phys_bits < 40)
		rsvd |= GENMASK_ULL(20, 13 + phys_bits - 32);
	return rsvd;
}

/* The page-fault error code of a failed walk. */
static u32 lv_pf_error(const struct lv_walk *w, u32 extra)
{
	u32 err = extra;

	if (w->access & LV_ACC_WRITE)
		err |= LV_PFERR_WRITE;
	if (w->access & LV_ACC_USER)
		err |= LV_PFERR_USER;
	/* I/D is reported only where NX or SMEP make fetches special. */
	if ((w->access & LV_ACC_FETCH) &&
	    (w->nx || (w->pg->cr4 & X86_CR4_SMEP)))
		err |= LV_PFERR_FETCH;
	return err;
}

/* The rights of the whole walk against the access (SDM vol. 3A, 4.6). */
static bool lv_walk_allows(const struct lv_walk *w)
{
	const struct lv_paging *pg = w->pg;
	bool user = w->access & LV_ACC_USER;

	if (user && !w->user_ok)
		return false;
	if ((w->access & LV_ACC_WRITE) && !w->write_ok &&
	    (user || (pg->cr0 & X86_CR0_WP)))
		return false;
	if (w->access & LV_ACC_FETCH) {
		if (!w->exec_ok)
			return false;
		/* SMEP: no supervisor fetch from a user page. */
		if (!user && w->user_ok && (pg->cr4 & X86_CR4_SMEP))
			return false;
	} else if (!user && w->user_ok && (pg->cr4 & X86_CR4_SMAP) &&
		   !(pg->rflags & X86_EFLAGS_AC)) {
		/* SMAP: supervisor data accesses to user pages need AC. */
		return false;
	}
	return true;
}

/*
 * One paging-structure entry of @size (4 or 8) bytes at @gpa, aligned so
 * within one page: a single load that does not fault first, the generic
 * copy if the page is not there. Caller holds vm->slots_lock.
 */
static int lv_read_guest_entry(struct lv_vm *vm, u64 gpa, unsigned int size,
			       u64 *e)
{
	void __user *p = lv_gpa_to_user(vm, gpa, false);
	u32 e32;
	int ret;

	if (!p)
		return -EFAULT;
	pagefault_disable();
	if (size == 8) {
		ret = __get_user(*e, (u64 __user *)p);
	} else {
		ret = __get_user(e32, (u32 __user *)p);
		*e = e32;
	}
	pagefault_enable();
	if (ret)
		return __lv_access_guest(vm, gpa, e, size, false);
	return 0;
}

/* Read one entry and check it; -EFAULT with *@err set on a fault. */
static int lv_walk_entry(struct lv_vm *vm, struct lv_walk *w, u64 addr,
			 unsigned int size, u64 rsvd_fixed, int level,
			 u64 *entry, u32 *err)
{
	u64 e = 0, rsvd;

	if (lv_read_guest_entry(vm, addr, size, &e)) {
		/* Tables outside RAM: the guest cannot walk them either. */
		*err = lv_pf_error(w, 0);
		return -EFAULT;
	}
	if (!(e & PTE_PRESENT)) {
		*err = lv_pf_error(w, 0);
		return -EFAULT;
	}
	rsvd = level > 0 ? lv_rsvd_bits(w, e, level) : rsvd_fixed;
	if (e & rsvd) {
		*err = lv_pf_error(w, LV_PFERR_PRESENT | LV_PFERR_RSVD);
		return -EFAULT;
	}
	w->user_ok &= !!(e & PTE_USER);
	w->write_ok &= !!(e & PTE_WRITE);
	if (w->nx && (e & PTE_NX))
		w->exec_ok = false;
	*entry = e;
	return 0;
}

/* The 64-bit formats: 4- or 5-level paging, and PAE below its PDPTE. */
static int lv_walk64(struct lv_vm *vm, struct lv_walk *w, u64 table,
		     u64 gva, int level, u64 *gpa, u32 *err)
{
	u64 e;
	int ret;

	for (; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);

		ret = lv_walk_entry(vm, w, table + ((gva >> shift) & 511) * 8,
				    8, 0, level, &e, err);
		if (ret)
			return ret;
		if (level == 1 || (level <= 3 && (e & PTE_LARGE))) {
			if (!lv_walk_allows(w)) {
				*err = lv_pf_error(w, LV_PFERR_PRESENT);
				return -EFAULT;
			}
			*gpa = (e & PTE_ADDR_MASK & ~((1ULL << shift) - 1)) |
			       (gva & ((1ULL << shift) - 1));
			return 0;
		}
		table = e & PTE_ADDR_MASK;
	}
	return -EFAULT;		/* not reached */
}

/* 32-bit paging, with 4 MiB pages when CR4.PSE is set. */
static int lv_walk32(struct lv_vm *vm, struct lv_walk *w, u64 gva, u64 *gpa,
		     u32 *err)
{
	unsigned int phys_bits = boot_cpu_data.x86_phys_bits;
	bool pse = w->pg->cr4 & X86_CR4_PSE;
	u64 e;
	int ret;

	ret = lv_walk_entry(vm, w, (w->pg->cr3 & GENMASK_ULL(31, 12)) +
			    (gva >> 22) * 4, 4, 0, 0, &e, err);
	if (ret)
		return ret;
	if (pse && (e & PTE_LARGE)) {
		if (e & lv_rsvd_bits_pse(phys_bits)) {
			*err = lv_pf_error(w, LV_PFERR_PRESENT | LV_PFERR_RSVD);
			return -EFAULT;
		}
		/* PSE-36: bits 20:13 are address bits 39:32 */
		*gpa = (e & GENMASK_ULL(31, 22)) |
		       ((e & GENMASK_ULL(20, 13)) << 19) |
		       (gva & GENMASK_ULL(21, 0));
	} else {
		ret = lv_walk_entry(vm, w, (e & GENMASK_ULL(31, 12)) +
				    ((gva >> 12) & 1023) * 4, 4, 0, 0, &e, err);
		if (ret)
			return ret;
		*gpa = (e & GENMASK_ULL(31, 12)) | (gva & (PAGE_SIZE - 1));
	}
	if (!lv_walk_allows(w)) {
		*err = lv_pf_error(w, LV_PFERR_PRESENT);
		return -EFAULT;
	}
	return 0;
}

/* Caller holds vm->slots_lock: one hold for the whole walk. */
static int __lv_gva_to_gpa(struct lv_vm *vm, const struct lv_paging *pg,
			   u64 gva, u32 access, u64 *gpa, u32 *err)
{
	unsigned int phys_bits = boot_cpu_data.x86_phys_bits;
	struct lv_walk w = {
		.pg = pg, .access = access, .nx = pg->efer & EFER_NX,
		.user_ok = true, .write_ok = true, .exec_ok = true,
	};
	u64 e;
	int ret;

	*err = 0;
	if (!(pg->cr0 & X86_CR0_PG)) {
		*gpa = gva & 0xffffffffULL;
		return 0;
	}
	if (phys_bits < 52)
		w.rsvd_high = GENMASK_ULL(51, phys_bits);

	if (pg->efer & EFER_LMA) {
		bool la57 = pg->cr4 & X86_CR4_LA57;

		return lv_walk64(vm, &w, pg->cr3 & PTE_ADDR_MASK, gva,
				 la57 ? 5 : 4, gpa, err);
	}
	gva &= 0xffffffffULL;
	if (!(pg->cr4 & X86_CR4_PAE))
		return lv_walk32(vm, &w, gva, gpa, err);

	/*
	 * PAE: the four PDPTEs sit at CR3[31:5]. They carry no rights, and
	 * bits 2:1 and 8:5 are reserved (SDM vol. 3A, table 4-8).
	 */
	ret = lv_walk_entry(vm, &w, (pg->cr3 & GENMASK_ULL(31, 5)) +
			    (gva >> 30) * 8, 8,
			    w.rsvd_high | PTE_NX | GENMASK_ULL(8, 5) |
			    GENMASK_ULL(2, 1), 0, &e, err);
	if (ret)
		return ret;
	w.user_ok = w.write_ok = w.exec_ok = true;
	return lv_walk64(vm, &w, e & PTE_ADDR_MASK, gva, 2, gpa, err);
}

/**
 * lv_gva_to_gpa() - translate through the guest's page tables
 * @vm: the VM
 * @pg: the guest's paging state
 * @gva: guest-virtual (linear) address
 * @access: LV_ACC_* bits: a write, a CPL-3 access, an instruction fetch
 * @gpa: result
 * @pf_error: the page-fault error code when the guest would fault
 *
 * Handles no paging, 32-bit paging (with 4 MiB pages), PAE paging and
 * 4- and 5-level paging, with U/S, R/W (CR0.WP), XD, SMEP, SMAP and
 * reserved bits checked as the CPU does. Accessed and dirty flags are not
 * set: the hardware walk that led to the exit set them.
 * Return: 0 or -EFAULT when the guest would page-fault.
 */
int lv_gva_to_gpa(struct lv_vm *vm, const struct lv_paging *pg, u64 gva,
		  u32 access, u64 *gpa, u32 *pf_error)
{
	int ret;

	down_read(&vm->slots_lock);
	ret = __lv_gva_to_gpa(vm, pg, gva, access, gpa, pf_error);
	up_read(&vm->slots_lock);
	return ret;
}

/**
 * lv_access_guest_ram() - access guest RAM by guest-physical address
 * @vm: the VM
 * @gpa: start, the access stays within one page
 * @data: buffer
 * @len: bytes
 * @write: direction
 *
 * Return: 0, -ENOENT if @gpa is not RAM (or is read-only RAM and this is
 * a write): an MMIO access; -EFAULT if the host memory behind it failed.
 */
int lv_access_guest_ram(struct lv_vm *vm, u64 gpa, void *data,
			unsigned int len, bool write)
{
	struct lv_memslot *s;
	int ret;

	down_read(&vm->slots_lock);
	s = lv_memslot_find(vm, gpa);
	if (!s || (write && (s->flags & LV_MEM_READONLY)))
		ret = -ENOENT;
	else
		ret = __lv_access_guest(vm, gpa, data, len, write);
	up_read(&vm->slots_lock);
	return ret;
}

/**
 * lv_read_guest_virt() - read guest-virtual memory, as far as it goes
 * @vm: the VM
 * @pg: the guest's paging registers
 * @gva: guest-virtual (linear) address
 * @data: buffer
 * @len: bytes wanted
 *
 * Reads with the rights of an instruction fetch at the guest's CPL.
 * Return: the number of bytes read before the first page that is not
 * mapped or not RAM (an instruction fetch takes what there is).
 */
unsigned int lv_read_guest_virt(struct lv_vm *vm, const struct lv_paging *pg,
				u64 gva, void *data, unsigned int len)
{
	u32 access = LV_ACC_FETCH | (pg->cpl == 3 ? LV_ACC_USER : 0);
	unsigned int got = 0;
	u32 err;
	u64 gpa;

	down_read(&vm->slots_lock);
	while (got < len) {
		unsigned int chunk = min_t(u64, len - got,
					   PAGE_SIZE - offset_in_page(gva));

		if (__lv_gva_to_gpa(vm, pg, gva, access, &gpa, &err) ||
		    __lv_access_guest(vm, gpa, data + got, chunk, false))
			break;
		got += chunk;
		gva += chunk;
	}
	up_read(&vm->slots_lock);
	return got;
}
