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
#define PTE_LARGE	BIT_ULL(7)
#define PTE_ADDR_MASK	GENMASK_ULL(51, 12)

/* One level of a walk: @shift is the level's index shift. */
static int lv_walk_level(struct lv_vm *vm, u64 table, u64 gva,
			 unsigned int shift, unsigned int entry_size,
			 bool need_write, u64 *entry)
{
	unsigned int bits = entry_size == 8 ? 9 : 10;
	u64 index = (gva >> shift) & ((1ULL << bits) - 1);
	u64 e = 0;
	int ret;

	ret = __lv_access_guest(vm, table + index * entry_size, &e, entry_size,
				false);
	if (ret)
		return ret;
	if (!(e & PTE_PRESENT) || (need_write && !(e & PTE_WRITE)))
		return -EFAULT;
	*entry = e;
	return 0;
}

/* Caller holds vm->slots_lock: one hold for the whole walk. */
static int __lv_gva_to_gpa(struct lv_vm *vm, const struct lv_paging *pg,
			   u64 gva, bool write, u64 *gpa)
{
	bool wp = write && (pg->cr0 & X86_CR0_WP);
	unsigned int shift, levels, esize;
	u64 table, e;
	int ret;

	if (!(pg->cr0 & X86_CR0_PG)) {
		*gpa = gva & 0xffffffffULL;
		return 0;
	}

	if (pg->efer & EFER_LMA) {
		levels = 4;
		esize = 8;
		shift = 39;
		table = pg->cr3 & PTE_ADDR_MASK;
	} else if (pg->cr4 & X86_CR4_PAE) {
		/* The four PDPTEs sit at CR3[31:5]; bit 1 is reserved there. */
		gva &= 0xffffffffULL;
		ret = __lv_access_guest(vm, (pg->cr3 & GENMASK_ULL(31, 5)) +
					(gva >> 30) * 8, &e, 8, false);
		if (ret || !(e & PTE_PRESENT))
			return -EFAULT;
		levels = 2;
		esize = 8;
		shift = 21;
		table = e & PTE_ADDR_MASK;
	} else {
		gva &= 0xffffffffULL;
		levels = 2;
		esize = 4;
		shift = 22;
		table = pg->cr3 & GENMASK_ULL(31, 12);
	}

	for (; levels; levels--) {
		ret = lv_walk_level(vm, table, gva, shift, esize, wp, &e);
		if (ret)
			return ret;
		if (levels > 1 && (e & PTE_LARGE) &&
		    (esize == 8 || (pg->cr4 & X86_CR4_PSE))) {
			if (esize == 4)	/* PSE-36: bits 20:13 are address 39:32 */
				e = (e & GENMASK_ULL(31, 22)) |
				    ((e & GENMASK_ULL(20, 13)) << 19);
			*gpa = (e & PTE_ADDR_MASK & ~((1ULL << shift) - 1)) |
			       (gva & ((1ULL << shift) - 1));
			return 0;
		}
		table = e & (esize == 8 ? PTE_ADDR_MASK : GENMASK_ULL(31, 12));
		shift -= esize == 8 ? 9 : 10;
	}
	*gpa = table | (gva & (PAGE_SIZE - 1));
	return 0;
}

/**
 * lv_gva_to_gpa() - translate through the guest's page tables
 * @vm: the VM
 * @pg: the guest's paging registers
 * @gva: guest-virtual (linear) address
 * @write: the access is a write (checked against R/W when CR0.WP is set)
 * @gpa: result
 *
 * Handles no paging, 32-bit paging (with 4 MiB pages), PAE paging and
 * 4-level paging. Return: 0 or -EFAULT when the guest would page-fault.
 */
int lv_gva_to_gpa(struct lv_vm *vm, const struct lv_paging *pg, u64 gva,
		  bool write, u64 *gpa)
{
	int ret;

	down_read(&vm->slots_lock);
	ret = __lv_gva_to_gpa(vm, pg, gva, write, gpa);
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
 * Return: the number of bytes read before the first page that is not
 * mapped or not RAM (an instruction fetch takes what there is).
 */
unsigned int lv_read_guest_virt(struct lv_vm *vm, const struct lv_paging *pg,
				u64 gva, void *data, unsigned int len)
{
	unsigned int got = 0;
	u64 gpa;

	down_read(&vm->slots_lock);
	while (got < len) {
		unsigned int chunk = min_t(u64, len - got,
					   PAGE_SIZE - offset_in_page(gva));

		if (__lv_gva_to_gpa(vm, pg, gva, false, &gpa) ||
		    __lv_access_guest(vm, gpa, data + got, chunk, false))
			break;
		got += chunk;
		gva += chunk;
	}
	up_read(&vm->slots_lock);
	return got;
}
