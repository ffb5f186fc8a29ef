/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lightvisor core: the vendor-neutral objects (VM, memory slots, vCPU) and
 * the hooks a CPU vendor backend (VMX today, SVM later) implements.
 */
#ifndef LIGHTVISOR_H
#define LIGHTVISOR_H

#include <linux/interval_tree.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/mmu_notifier.h>
#include <linux/preempt.h>
#include <linux/lightvisor.h>
#include <asm/fpu/api.h>
#include <asm/nospec-branch.h>

#include "decode.h"
#include "run_flags.h"
#include <kunit/visibility.h>

#define LV_MAX_VCPUS		64
#define LV_NR_MEMSLOTS		64
/* Guest-physical addresses are limited to what 4-level EPT maps. */
#define LV_MAX_GPA		(1ULL << 48)

struct lv_vm;
struct lv_vcpu;
struct lv_mm_notifier;
struct lv_iommu;
struct lv_iommu_pin;
struct lv_irqchip;
struct lv_lapic;
struct lv_cpuid_table;

/**
 * struct lv_memslot - guest-physical memory backed by user memory
 * @id: slot index
 * @flags: LV_MEM_* flags
 * @base_gfn: first guest frame
 * @npages: number of 4 KiB pages
 * @userspace_addr: host virtual address of the first page
 * @dirty_bitmap: one bit per page when LV_MEM_LOG_DIRTY_PAGES is set
 * @iommu_pin: pages pinned for device DMA while the VM has devices
 * @vm: the VM the slot belongs to
 * @hva_node: its host range in the address space's notifier (mmu.c)
 */
struct lv_memslot {
	u32 id;
	u32 flags;
	u64 base_gfn;
	u64 npages;
	unsigned long userspace_addr;
	unsigned long *dirty_bitmap;
	struct lv_iommu_pin *iommu_pin;
	struct lv_vm *vm;
	struct interval_tree_node hva_node;
};

/* What an exit handler asks the run loop to do next. */
enum lv_exit_action {
	LV_RESUME_GUEST,	/* handled: enter the guest again */
	LV_EXIT_TO_USER,	/* lv_run filled in: return from LV_RUN */
	LV_ENTRY_CANCELLED,	/* vcpu_run only: no entry (resched, signal) */
};

/**
 * struct lv_paging - what a guest page walk needs to know
 * @cr0: guest CR0
 * @cr3: guest CR3
 * @cr4: guest CR4
 * @efer: guest EFER
 * @rflags: guest RFLAGS (AC matters to SMAP)
 * @cpl: current privilege level
 */
struct lv_paging {
	u64 cr0, cr3, cr4, efer;
	u64 rflags;
	unsigned int cpl;
};

/* Guest page walks: the kind of access (lv_gva_to_gpa()). */
#define LV_ACC_WRITE		BIT(0)
#define LV_ACC_USER		BIT(1)	/* at CPL 3 */
#define LV_ACC_FETCH		BIT(2)

/* Page-fault error code bits (SDM vol. 3A, 4.7). */
#define LV_PFERR_PRESENT	BIT(0)
#define LV_PFERR_WRITE		BIT(1)
#define LV_PFERR_USER		BIT(2)
#define LV_PFERR_RSVD		BIT(3)
#define LV_PFERR_FETCH		BIT(4)

/* Guest memory protection, vendor neutral. */
#define LV_PROT_READ		BIT(0)
#define LV_PROT_WRITE		BIT(1)
#define LV_PROT_EXEC		BIT(2)
#define LV_PROT_RWX		(LV_PROT_READ | LV_PROT_WRITE | LV_PROT_EXEC)

/* Size of one guest mapping, vendor neutral: 4 KiB or 2 MiB. */
enum lv_map_level {
	LV_MAP_4K = 1,
	LV_MAP_2M = 2,
};

#define LV_PAGES_PER_2M		(SZ_2M >> PAGE_SHIFT)

struct seq_file;

/* Debug registers, as every backend keeps them for the guest. */
#define LV_DR7_FIXED_1			0x400UL
/* DR7 bits that exist: enables, GE/LE, GD, and the R/W and LEN fields. */
#define LV_DR7_VOLATILE			0xffff2bffUL
#define LV_DR7_GD			BIT(13)
/* DR6 as after reset: the fixed-1 bits and the active-low bits. */
#define LV_DR6_RESET			0xffff0ff0UL
/* DR6 bits software can change: B0-B3, BD, BS, BT. */
#define LV_DR6_VOLATILE			0xe00fUL
#define LV_DR6_BD			BIT(13)
#define LV_DR6_BS			BIT(14)

/**
 * struct lv_vendor_ops - what a CPU vendor backend provides
 *
 * Calls on a vCPU are made with vcpu->mutex held; calls named "_irqoff"
 * with interrupts disabled. vcpu_load/vcpu_put run with preemption
 * disabled and bracket every use of the vCPU's hardware state on a CPU.
 * cpu_enable/cpu_disable run on each CPU with preemption disabled.
 */
struct lv_vendor_ops {
	/** @name: backend name for messages */
	const char *name;

	/**
	 * @exit_reason_name: the name of the backend's exit reason @reason
	 * (an index into lv_exit_stats), or NULL
	 */
	const char *(*exit_reason_name)(u16 reason);

	/**
	 * @show_mitigations: what the backend does against CPU
	 * vulnerabilities, "name state" lines, as the kernel's own state
	 * decided it at load (debugfs "mitigations"); may be NULL
	 */
	void (*show_mitigations)(struct seq_file *m);

	/**
	 * @cpu_enable: enable hardware virtualization on this CPU (per CPU,
	 * preemption disabled)
	 */
	int (*cpu_enable)(void);
	/** @cpu_disable: disable it again on this CPU, interrupts off */
	void (*cpu_disable)(void);
	/**
	 * @cpu_emergency_disable: leave VMX operation on this CPU at once
	 * (reboot, crash), from NMI or interrupt context: no locks, the CPU
	 * does not go back to what it interrupted.
	 */
	void (*cpu_emergency_disable)(void);

	/** @vm_init: set up the backend's part of a new VM */
	int (*vm_init)(struct lv_vm *vm);
	/** @vm_destroy: free the backend's part of a VM */
	void (*vm_destroy)(struct lv_vm *vm);
	/**
	 * @vm_unmap_range: remove guest mappings of [gpa, gpa + size), under
	 * mmu_lock; true if a TLB flush is needed.
	 */
	bool (*vm_unmap_range)(struct lv_vm *vm, u64 gpa, u64 size);
	/** @vm_flushed: no vCPU uses old translations now: free unlinked tables */
	void (*vm_flushed)(struct lv_vm *vm);
	/** @mmu_topup: fill the vCPU's page-table page cache; may sleep */
	int (*mmu_topup)(struct lv_vcpu *vcpu);
	/**
	 * @mmu_map: map a guest page of @level (gpa and hpa aligned to its
	 * size), under mmu_lock, from the cache only; > 0 if an old
	 * translation was replaced and must be flushed.
	 */
	int (*mmu_map)(struct lv_vcpu *vcpu, u64 gpa, u64 hpa,
		       enum lv_map_level level, unsigned int prot);
	/**
	 * @vm_map_phys: map host-physical [hpa, hpa + size) (device memory,
	 * not user pages) at guest-physical @gpa, all at once; may sleep and
	 * takes mmu_lock itself around page-table changes. Both addresses and
	 * @size are page aligned. On error, the part already mapped is left
	 * for the caller to remove with vm_unmap_range. Returns < 0, or > 0
	 * if an old translation was replaced and must be flushed.
	 */
	int (*vm_map_phys)(struct lv_vm *vm, u64 gpa, u64 hpa, u64 size,
			   unsigned int prot, bool uncached);

	/** @vcpu_size: size of the backend's vCPU, allocated with lv_vcpu_alloc() */
	size_t vcpu_size;
	/** @vcpu_create: allocate vCPU @id of @vm */
	struct lv_vcpu *(*vcpu_create)(struct lv_vm *vm, unsigned int id);
	/** @vcpu_free: free a vCPU made by @vcpu_create */
	void (*vcpu_free)(struct lv_vcpu *vcpu);
	/** @vcpu_load: make the vCPU's hardware state current on @cpu */
	void (*vcpu_load)(struct lv_vcpu *vcpu, int cpu);
	/** @vcpu_put: the vCPU leaves this CPU (preemption or return) */
	void (*vcpu_put)(struct lv_vcpu *vcpu);
	/**
	 * @vcpu_run: enter the guest once and handle the exit;
	 * LV_ENTRY_CANCELLED if a reschedule or a signal came first. Right
	 * after an exit (before its handler), report the event whose
	 * delivery it interrupted with lv_event_interrupted().
	 */
	enum lv_exit_action (*vcpu_run)(struct lv_vcpu *vcpu);

	/*
	 * Events: events.c decides what to inject and when; these only
	 * read and write the hardware state.
	 */
	/**
	 * @interrupt_allowed: could an external interrupt be taken now (IF,
	 * no STI/MOV-SS shadow)?
	 */
	bool (*interrupt_allowed)(struct lv_vcpu *vcpu);
	/** @nmi_allowed: could an NMI be taken now (no NMI blocking, no shadow)? */
	bool (*nmi_allowed)(struct lv_vcpu *vcpu);
	/** @enable_irq_window: exit as soon as interrupts can be taken */
	void (*enable_irq_window)(struct lv_vcpu *vcpu);
	/** @enable_nmi_window: exit as soon as NMIs can be taken */
	void (*enable_nmi_window)(struct lv_vcpu *vcpu);
	/** @inject_event: deliver @ev at the next entry (the core checked it) */
	void (*inject_event)(struct lv_vcpu *vcpu, const struct lv_event *ev);
	/**
	 * @cancel_injection: the entry will not happen (or failed): forget
	 * the injected event
	 */
	void (*cancel_injection)(struct lv_vcpu *vcpu);

	/** @get_regs: read the general-purpose registers, RIP and RFLAGS */
	void (*get_regs)(struct lv_vcpu *vcpu, struct lv_regs *regs);
	/** @set_regs: write them */
	void (*set_regs)(struct lv_vcpu *vcpu, const struct lv_regs *regs);
	/** @get_sregs: read segment, control and table registers */
	void (*get_sregs)(struct lv_vcpu *vcpu, struct lv_sregs *sregs);
	/** @set_sregs: check and write them; -EINVAL if invalid */
	int (*set_sregs)(struct lv_vcpu *vcpu, const struct lv_sregs *sregs);
	/** @get_state: read the whole vCPU state (LV_GET_VCPU_STATE) */
	void (*get_state)(struct lv_vcpu *vcpu, struct lv_vcpu_state *st);
	/** @set_state: check and write the whole vCPU state */
	int (*set_state)(struct lv_vcpu *vcpu, const struct lv_vcpu_state *st);
	/** @skip_instruction: advance RIP past the instruction that exited */
	void (*skip_instruction)(struct lv_vcpu *vcpu);
	/** @advance_rip: advance RIP by @len bytes (an instruction we decoded) */
	void (*advance_rip)(struct lv_vcpu *vcpu, unsigned int len);
	/** @get_paging: the registers a guest page walk needs */
	void (*get_paging)(struct lv_vcpu *vcpu, struct lv_paging *pg);
	/** @get_code: linear address of RIP and the default operand size of CS */
	void (*get_code)(struct lv_vcpu *vcpu, u64 *linear_rip,
			 enum lv_cpu_mode *mode);
	/** @get_cpl: current privilege level */
	unsigned int (*get_cpl)(struct lv_vcpu *vcpu);
	/** @get_rflags: guest RFLAGS */
	u64 (*get_rflags)(struct lv_vcpu *vcpu);
	/** @set_rflags: write guest RFLAGS */
	void (*set_rflags)(struct lv_vcpu *vcpu, u64 rflags);
	/** @get_rsp: guest RSP (it lives in hardware state, not in vcpu->regs) */
	unsigned long (*get_rsp)(struct lv_vcpu *vcpu);
	/** @set_rsp: write guest RSP */
	void (*set_rsp)(struct lv_vcpu *vcpu, unsigned long rsp);
	/** @get_seg_base: base of segment @seg (enum lv_seg, not LV_SEG_NONE) */
	u64 (*get_seg_base)(struct lv_vcpu *vcpu, unsigned int seg);
	/** @set_cr2: the faulting address of a #PF the core injects */
	void (*set_cr2)(struct lv_vcpu *vcpu, u64 cr2);
	/**
	 * @init_vcpu: the INIT signal: registers as after INIT (SDM vol. 3A,
	 * 10.1.1); the core drops the events
	 */
	void (*init_vcpu)(struct lv_vcpu *vcpu);
	/** @set_tsc_offset: guest TSC = host TSC + @offset from the next entry */
	void (*set_tsc_offset)(struct lv_vcpu *vcpu, s64 offset);
};

/**
 * struct lv_hw_caps - what the backend found at load time
 * @run_guests: guests can run (all required features present)
 * @tdp: two-dimensional paging (EPT, NPT) is usable
 * @unrestricted_guest: real mode and unpaged protected mode run natively
 * @tagged_tlb: guest TLB entries are tagged (VPID, ASID)
 * @hv_timer: a timer bounds each guest stay (the VMX-preemption timer)
 * @ept_ad_bits: EPT accessed/dirty flags
 * @ept_1g_pages: 1 GiB EPT leaves
 * @tpr_shadow: vCPUs with an in-kernel APIC run with the TPR shadow (CR8
 *	accesses in 64-bit mode do not exit)
 * @apic_reg_virt: APIC-register virtualization is used
 * @virt_intr_delivery: virtual-interrupt delivery is used
 * @apic_access: an xAPIC at the default base is virtualized through an
 *	APIC-access page (irq/irqchip.c)
 */
struct lv_hw_caps {
	bool run_guests;
	bool tdp;
	bool unrestricted_guest;
	bool tagged_tlb;
	bool hv_timer;
	bool ept_ad_bits;
	bool ept_1g_pages;
	bool tpr_shadow;
	bool apic_reg_virt;
	bool virt_intr_delivery;
	bool apic_access;
};

extern const struct lv_vendor_ops *lv_vendor;
extern struct lv_hw_caps lv_caps;

/**
 * struct lv_vm - one virtual machine
 * @kref: the VM fd and every vCPU hold a reference
 * @mm: address space that backs guest memory: the creator's, or for a VM
 *	created with LV_VM_UNBOUND NULL until LV_BIND_VM sets it, once.
 *	Read it with lv_vm_owner() or lv_vm_mm(): it may change from NULL
 *	under a lockless reader, never after.
 * @bindable: created with LV_VM_UNBOUND (LV_BIND_VM is allowed once)
 * @lock: serializes slot changes and vCPU creation
 * @slots_lock: readers (the fault path) vs. slot changes
 * @slots: memory slots by id
 * @used_slots: which entries of @slots are set (changed under slots_lock
 *	held for writing and mmu_lock, like @slots)
 * @slot_hint: index of the slot found last (a lookup hint only)
 * @vcpus: vCPUs by id
 * @nr_vcpus: number of vCPUs created
 * @mmu_lock: protects the guest page tables and the invalidation counters
 * @mm_notifier: the notifier all VMs of @mm share (mmu.c)
 * @mn_flush_pending: an invalidation unmapped something of this VM and
 *	has yet to flush (under the notifier's lock)
 * @tlb_gen: bumped whenever guest mappings shrink; vCPUs flush on change
 * @vendor: backend data (EPT root, ...)
 * @iommu: assigned devices and their DMA domain, or NULL (under
 *	slots_lock)
 * @irqchip: in-kernel interrupt controllers, or NULL (set once, before
 *	the first vCPU)
 * @cpuid: the CPUID table set by userspace, or NULL (set before the first
 *	vCPU)
 * @tsc_offset: guest TSC minus host TSC set by LV_SET_TSC_OFFSET
 * @tsc_gen: bumped when @tsc_offset is set; vCPUs apply it on change
 * @ioeventfds_lock: serializes changes to @ioeventfds
 * @ioeventfds: ioeventfds on MMIO (0) and ports (1), RCU lists (ioeventfd.c)
 * @nr_ioeventfds: entries in both, at most LV_MAX_IOEVENTFDS
 * @irq_status: status registers served in the kernel, an RCU list under
 *	@ioeventfds_lock (irq_status.c)
 * @nr_irq_status: its entries, at most LV_MAX_IRQ_STATUS
 */
struct lv_vm {
	struct kref kref;
	struct mm_struct *mm;
	bool bindable;
	struct mutex lock;
	struct rw_semaphore slots_lock;
	struct lv_memslot *slots[LV_NR_MEMSLOTS];
	DECLARE_BITMAP(used_slots, LV_NR_MEMSLOTS);
	unsigned int slot_hint;
	struct xarray vcpus;
	unsigned int nr_vcpus;

	spinlock_t mmu_lock;
	struct lv_mm_notifier *mm_notifier;
	bool mn_flush_pending;
	atomic64_t tlb_gen;

	void *vendor;
	struct lv_iommu *iommu;
	struct lv_irqchip *irqchip;
	struct lv_cpuid_table *cpuid;
	s64 tsc_offset;
	atomic_t tsc_gen;
	struct mutex ioeventfds_lock;
	struct list_head ioeventfds[2];
	unsigned int nr_ioeventfds;
	struct list_head irq_status;
	unsigned int nr_irq_status;
};

/* The bound address space, or NULL. */
static inline struct mm_struct *lv_vm_mm(const struct lv_vm *vm)
{
	/*
	 * Pairs with the release in lv_vm_bind(): whoever sees @mm set also
	 * sees the notifier it needs.
	 */
	return smp_load_acquire(&vm->mm);
}

/* Who may use a VM: the calling process, nobody yet, or another one. */
enum lv_vm_owner {
	LV_OWNER_CALLER,
	LV_OWNER_NONE,
	LV_OWNER_OTHER,
};

static inline enum lv_vm_owner lv_vm_owner(const struct lv_vm *vm)
{
	struct mm_struct *mm = lv_vm_mm(vm);

	if (!mm)
		return LV_OWNER_NONE;
	return mm == current->mm ? LV_OWNER_CALLER : LV_OWNER_OTHER;
}

/*
 * Whether the caller may issue ioctl @cmd on @vm: its owner may, anyone
 * holding the fd of a VM not bound yet may if @unbound_ok, nobody else.
 * A lightvisor ioctl refused before the bind gets EBADFD (the fd is not
 * in a state for it); any other number is not ours (ENOTTY).
 */
static inline int lv_vm_ioctl_allowed(const struct lv_vm *vm,
				      unsigned int cmd, bool unbound_ok)
{
	switch (lv_vm_owner(vm)) {
	case LV_OWNER_CALLER:
		return 0;
	case LV_OWNER_NONE:
		if (unbound_ok)
			return 0;
		return _IOC_TYPE(cmd) == LVIO ? -EBADFD : -ENOTTY;
	default:
		return -EIO;
	}
}

/* Where a vCPU is, for kicks and flushes. */
enum lv_vcpu_mode {
	LV_OUTSIDE_GUEST,
	LV_IN_GUEST,
};

/* A port I/O exit as the backend decoded it from hardware state. */
struct lv_pio_exit {
	bool in;
	bool string;
	bool rep;
	bool df;		/* RFLAGS.DF: string moves backwards */
	u8 size;		/* 1, 2 or 4 */
	u8 addr_size;		/* string forms: 2, 4 or 8 */
	u16 port;
	u64 linear_addr;	/* string forms: the memory operand */
};

/* Port I/O waiting for userspace to complete. */
struct lv_pio {
	bool pending;
	bool in;
	bool string;
	bool rep;
	bool df;
	u8 size;
	u8 addr_size;
	u16 port;
	u32 count;
	u64 gpa;		/* string I/O: guest-physical buffer */
};

/* Variable-range MTRRs MTRRCAP advertises (as KVM). */
#define LV_MTRR_NR_VAR		8

/**
 * struct lv_mtrr - the guest's MTRRs (x86.c)
 * @def_type: IA32_MTRR_DEF_TYPE
 * @var: IA32_MTRR_PHYSBASEn, IA32_MTRR_PHYSMASKn, in MSR order
 * @fixed: the 11 fixed-range MTRRs, in MSR order
 */
struct lv_mtrr {
	u64 def_type;
	u64 var[2 * LV_MTRR_NR_VAR];
	u64 fixed[11];
};

/* Most memory or port accesses one emulated instruction makes. */
#define LV_EMUL_MAX_OPS		4

/**
 * struct lv_emul - an instruction emulated across exits to userspace
 * @active: an emulation is in flight; LV_RUN runs it again first
 * @pio: it is the string I/O item in @pio_exit, not @insn
 * @read_pending: the last exit was a read (MMIO read or port input):
 *	its data becomes @cache[@ncached]
 * @pending_io: ... and it was port input (else an MMIO read)
 * @pending_len: ... of this many bytes
 * @ncached: reads whose data is known (in @cache)
 * @nwritten: writes (MMIO writes, port output) already done
 * @cache: data of the known reads, in the order the instruction reads
 * @gpa_hint: the guest-physical address the hardware reported
 * @gpa_hint_valid: @gpa_hint may stand for the walk of the access at the
 *	same page offset
 * @insn: the decoded instruction (MMIO)
 * @pio_exit: the string I/O instruction (port I/O)
 * @decoded: the vCPU's last MMIO instructions, decoded (by their bytes)
 *
 * The instruction is run again from the start after each exit: reads
 * already made are served from @cache and writes already made are
 * skipped, so that it completes (registers, flags, RIP) once, when no
 * access is left for userspace; as KVM's emulator does.
 */
struct lv_emul {
	bool active;
	bool pio;
	bool read_pending;
	bool pending_io;
	u8 pending_len;
	u8 ncached;
	u8 nwritten;
	u64 cache[LV_EMUL_MAX_OPS];
	u64 gpa_hint;
	bool gpa_hint_valid;
	struct lv_mmio_insn insn;
	struct lv_pio_exit pio_exit;
	struct lv_decode_cache decoded;
};

/**
 * struct lv_vcpu - one virtual CPU (embedded in the backend's vCPU)
 * @vm: owning VM (holds a reference)
 * @id: index given at creation
 * @mutex: serializes ioctls on the vCPU
 * @run: the shared page
 * @regs: general registers other than RSP (the backend keeps RSP, RIP
 *	and RFLAGS in hardware state)
 * @cpu: CPU where the hardware state was last loaded, or -1
 * @mode: LV_IN_GUEST between the last check for requests and VM exit
 * @preempt_notifier: follows the vCPU thread across CPUs
 * @wq: a halted vCPU sleeps here
 * @halted: guest executed HLT with interrupts enabled
 * @pending_irq: vector + 1 of a queued external interrupt, or 0
 * @pending_nmi: an NMI is queued
 * @event: the event being delivered: chosen for the next entry, or
 *	interrupted by the last exit (events.c); kept until the guest has
 *	it, whatever happens to the entries in between
 * @event_next: a trap (#DB) whose delivery an intercepted exception cut
 *	short; delivered once that exception has been (events.c)
 * @irq_backlog: device interrupt vectors that found @pending_irq taken;
 *	moved there one at a time by the run loop
 * @tlb_gen: the VM's tlb_gen at this vCPU's last flush
 * @pio: port I/O in flight
 * @emul: an emulated instruction (MMIO, string I/O item) in flight
 * @mtrr: the guest's MTRRs
 * @hypercall_pending: RAX takes run->hypercall.ret on re-entry
 * @stopped: the last exit (shutdown, failed entry, internal error) left
 *	the vCPU unable to continue until its state is set again
 * @guest_fpu: guest FPU/extended state, swapped in for LV_RUN
 * @lapic: the local APIC when the VM has an irqchip, else NULL
 * @kicked: an event arrived since the run loop last looked; the entry
 *	is abandoned if it is set after the loop's last look
 * @tsc_gen: the VM's tsc_gen this vCPU's TSC offset follows
 * @exit_tsc: TSC at the last VM exit, until the next entry accounts it
 * @exit_stat: the backend's exit reason of that exit, an index into
 *	lv_exit_stats
 * @spec_ctrl: the guest's IA32_SPEC_CTRL (the backend loads it around
 *	each entry)
 * @apic_base: guest IA32_APIC_BASE without an in-kernel APIC (@lapic
 *	keeps its own)
 * @tsc_adjust: IA32_TSC_ADJUST, what the guest's own writes added to its
 *	TSC
 */
struct lv_vcpu {
	struct lv_vm *vm;
	unsigned int id;
	struct mutex mutex;
	struct lv_run *run;
	unsigned long regs[16];
	int cpu;
	int mode;
	struct preempt_notifier preempt_notifier;
	struct wait_queue_head wq;
	bool halted;
	u32 pending_irq;
	bool pending_nmi;
	struct lv_event event;
	struct lv_event event_next;
	unsigned long irq_backlog[BITS_TO_LONGS(256)];
	s64 tlb_gen;
	struct lv_pio pio;
	struct lv_emul emul;
	struct lv_mtrr mtrr;
	bool hypercall_pending;
	bool stopped;
	struct fpu_guest guest_fpu;
	struct lv_lapic *lapic;
	bool kicked;
	int tsc_gen;
	u64 exit_tsc;
	u16 exit_stat;
	u64 spec_ctrl;
	u64 apic_base;
	s64 tsc_adjust;
};

/* General register indexes in lv_vcpu.regs (hardware encoding order). */
enum lv_reg {
	LV_RAX, LV_RCX, LV_RDX, LV_RBX, LV_RSP, LV_RBP, LV_RSI, LV_RDI,
	LV_R8, LV_R9, LV_R10, LV_R11, LV_R12, LV_R13, LV_R14, LV_R15,
};

/**
 * struct lv_stats - per-CPU event counters, summed in debugfs
 * @entries: VM entries
 * @exits_to_user: LV_RUN calls that returned to userspace
 * @tdp_faults: guest pages mapped on demand (EPT or NPT faults)
 * @tdp_2m_maps: of those, mapped as 2 MiB pages
 * @halts: times a vCPU slept in HLT
 * @dev_irqs: interrupts of assigned devices queued on a vCPU
 * @dev_irqs_dropped: ... that found no vCPU with the id they target
 * @ioeventfd_signals: guest writes an ioeventfd took in the kernel
 * @irq_status_accesses: status register reads and acknowledgements
 *	completed in the kernel (LV_IRQ_STATUS)
 * @l1d_flushes: L1D flushes before VM entries (the kernel's L1TF state)
 * @fast_eois: xAPIC EOI writes done by address, without the emulator
 */
struct lv_stats {
	u64 entries;
	u64 exits_to_user;
	u64 tdp_faults;
	u64 tdp_2m_maps;
	u64 halts;
	u64 dev_irqs;
	u64 dev_irqs_dropped;
	u64 ioeventfd_signals;
	u64 irq_status_accesses;
	u64 l1d_flushes;
	u64 fast_eois;
};

DECLARE_PER_CPU(struct lv_stats, lv_stats);

/* Exit reasons a backend accounts per reason (VMX's basic reasons fit). */
#define LV_MAX_EXIT_STATS	96
/*
 * The core's own entry, above every VMX basic reason (the last entry
 * takes the reasons beyond the table): a guest-physical fault that was
 * no RAM and whose instruction was emulated. Split from the fault's own
 * reason because mapping RAM and emulating MMIO cost differently.
 */
#define LV_EXIT_STAT_MMIO	(LV_MAX_EXIT_STATS - 2)

/**
 * struct lv_exit_stat - VM exits of one reason, per CPU
 * @count: exits
 * @ticks: TSC ticks from the exit to the vCPU's next entry: the handler,
 *	a round trip through userspace if the exit went there, and for HLT
 *	the time the vCPU slept
 */
struct lv_exit_stat {
	u64 count;
	u64 ticks;
};

DECLARE_PER_CPU(struct lv_exit_stat [LV_MAX_EXIT_STATS], lv_exit_stats);

/* The backend saw exit @reason just now; the next entry accounts it. */
static inline void lv_exit_mark(struct lv_vcpu *vcpu, u16 reason)
{
	vcpu->exit_tsc = rdtsc();
	vcpu->exit_stat = min_t(u16, reason, LV_MAX_EXIT_STATS - 1);
}

/* The exit being handled turned out to be @stat; charge it there. */
static inline void lv_exit_restat(struct lv_vcpu *vcpu, u16 stat)
{
	vcpu->exit_stat = stat;
}

/*
 * Called by the backend with interrupts off, just before VM entry. LV_RUN
 * loaded the guest's FPU registers once, but a context switch or a
 * kernel_fpu_begin() since then saved them to the guest's fpstate and left
 * another task's in the registers (TIF_NEED_FPU_LOAD). Entering so would
 * show the guest that task's registers, and hand the guest's to the task
 * the next time it returns to userspace.
 */
static inline void lv_guest_fpu_reload_irqoff(void)
{
	lockdep_assert_irqs_disabled();
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
}

extern atomic_t lv_nr_vms;
extern atomic_t lv_nr_vcpus;

/* debugfs.c */
void lv_debugfs_init(void);
void lv_debugfs_exit(void);

/* main.c */
int lv_hardware_get(void);
void lv_hardware_put(void);

/* vm.c */
int lv_vm_create(unsigned long flags);
void lv_vm_put(struct lv_vm *vm);
struct lv_memslot *lv_memslot_find(struct lv_vm *vm, u64 gpa);

/* The first slot in use at index *@i or above (*@i set to it), or NULL. */
static inline struct lv_memslot *lv_next_memslot(struct lv_vm *vm,
						 unsigned int *i)
{
	*i = find_next_bit(vm->used_slots, LV_NR_MEMSLOTS, *i);
	return *i < LV_NR_MEMSLOTS ? vm->slots[*i] : NULL;
}

/* Each slot @s of @vm in use, @i its index; under slots_lock or mmu_lock. */
#define lv_for_each_memslot(vm, i, s)					\
	for ((i) = 0; ((s) = lv_next_memslot(vm, &(i))); (i)++)
int lv_check_memory_region(const struct lv_memory_region *mr);

/* vcpu.c */
int lv_vcpu_create(struct lv_vm *vm, unsigned long id);
int lv_vcpu_cache_init(size_t size);
void lv_vcpu_cache_exit(void);
void *lv_vcpu_alloc(void);
void lv_vcpu_free_mem(void *vcpu);
int lv_vcpu_init(struct lv_vcpu *vcpu, struct lv_vm *vm, unsigned int id);
void lv_vcpu_uninit(struct lv_vcpu *vcpu);
void lv_vcpu_destroy(struct lv_vcpu *vcpu);
bool lv_vcpu_has_event(struct lv_vcpu *vcpu);
int lv_vcpu_queue_irq(struct lv_vcpu *vcpu, u32 vector, bool backlog);
void lv_vcpu_kick_all(struct lv_vm *vm);
void lv_vcpu_kick_event(struct lv_vcpu *vcpu);
void lv_vcpu_tsc_offset_changed(struct lv_vcpu *vcpu, s64 offset);
void lv_vcpu_module_init(void);
void lv_vcpu_module_exit(void);
enum lv_exit_action lv_internal_error(struct lv_vcpu *vcpu, u32 suberror,
				      u64 info);
unsigned long lv_addr_mask(unsigned int addr_size);
unsigned long lv_string_reg_add(struct lv_vcpu *vcpu, int reg, long delta,
				unsigned int addr_size);
enum lv_exit_action lv_handle_pio(struct lv_vcpu *vcpu,
				  const struct lv_pio_exit *io);
enum lv_exit_action lv_handle_hypercall(struct lv_vcpu *vcpu);
enum lv_exit_action lv_handle_halt(struct lv_vcpu *vcpu, bool if_flag);

/* events.c */
void lv_inject_events(struct lv_vcpu *vcpu);
void lv_event_interrupted(struct lv_vcpu *vcpu, const struct lv_event *ev);
void lv_cancel_injection(struct lv_vcpu *vcpu);
void lv_events_init(struct lv_vcpu *vcpu);
enum lv_exit_action lv_inject_exception(struct lv_vcpu *vcpu,
					unsigned int vector, u32 error_code);
enum lv_exit_action lv_inject_exception_first(struct lv_vcpu *vcpu,
					      unsigned int vector,
					      u32 error_code);
void lv_requeue_event(struct lv_vcpu *vcpu);
bool lv_exception_has_error_code(unsigned int vector);
int lv_check_event_state(const struct lv_vcpu_state *st);
int lv_check_held_trap(const struct lv_vcpu_state *st);

/* cpuid.c */
void lv_cpuid_host(struct lv_vm *vm, u32 leaf, u32 subleaf, u32 out[4]);
/*
 * CPUID bits of the host no guest gets, whoever filters: machine-check
 * and power features with MSRs or state lightvisor does not model (DS,
 * ACPI thermal, TM/TM2, EIST, PBE, xTPR, PDCM, DCA, DTES64, DS-CPL) and
 * HTT (each vCPU is a core of its own, so the guest's topology comes from
 * leaf 4 alone).
 */
#define LV_CPUID1_ECX_HIDDEN	(BIT(2) | BIT(4) | BIT(7) | BIT(8) | BIT(14) | \
				 BIT(15) | BIT(18))
#define LV_CPUID1_EDX_HIDDEN	(BIT(21) | BIT(22) | BIT(28) | BIT(29) | BIT(31))
/*
 * IA32_TSC_ADJUST, emulated whatever the host has: with it, an invariant
 * TSC and a constant rate, Linux trusts the TSC without a watchdog, which
 * on a board with no HPET or PM timer would be its tick count.
 */
#define LV_CPUID7_EBX_TSC_ADJUST	BIT(1)

void lv_cpuid_fixup(struct lv_vcpu *vcpu, u32 leaf, u32 out[4]);
void lv_cpuid_eval(struct lv_vcpu *vcpu, u32 leaf, u32 subleaf, u64 cr4,
		   u64 xcr0, u32 out[4]);
int lv_cpuid_set(struct lv_vm *vm, void __user *argp);
int lv_cpuid_get_supported(void __user *argp);
void lv_cpuid_exit(struct lv_vcpu *vcpu, u64 cr4, u64 xcr0);
void lv_cpuid_free(struct lv_vm *vm);

/*
 * Only leaves 1 (OSXSAVE) and 7 (OSPKE) mirror the guest's CR4. A backend
 * whose CR4 costs reads of hardware state (VMX: two VMREADs) reads it for
 * these leaves only, and passes 0 for the others.
 */
static inline bool lv_cpuid_uses_cr4(u32 leaf)
{
	return leaf == 1 || leaf == 7;
}

/* ioeventfd.c */
void lv_ioeventfd_init(struct lv_vm *vm);
void lv_ioeventfd_destroy(struct lv_vm *vm);
bool lv_ioeventfd_write(struct lv_vm *vm, bool pio, u64 addr,
			unsigned int len, u64 val);
int lv_ioeventfd_ioctl(struct lv_vm *vm, void __user *argp);
void lv_irq_status_init(struct lv_vm *vm);
void lv_irq_status_destroy(struct lv_vm *vm);
bool lv_irq_status_access(struct lv_vm *vm, u64 gpa, unsigned int len,
			  bool write, u64 *data);
int lv_irq_status_ioctl(struct lv_vm *vm, void __user *argp);

/* mmio.c */
enum lv_exit_action lv_handle_mmio(struct lv_vcpu *vcpu, u64 gpa, bool write);
enum lv_exit_action lv_handle_pio_item(struct lv_vcpu *vcpu,
				       const struct lv_pio_exit *io);
enum lv_exit_action lv_complete_emul(struct lv_vcpu *vcpu);
int lv_decode_sys_at_rip(struct lv_vcpu *vcpu, struct lv_sys_insn *insn);
void lv_get_paging(struct lv_vcpu *vcpu, struct lv_paging *pg);
enum lv_exit_action lv_queue_page_fault(struct lv_vcpu *vcpu, u64 addr,
					u32 error_code);

/* mmu.c */
void lv_vm_flush_tlbs(struct lv_vm *vm);
int lv_mmu_page_fault(struct lv_vcpu *vcpu, u64 gpa, bool write);
int lv_mmu_notifier_register(struct lv_vm *vm, struct mm_struct *mm);
void lv_mmu_notifier_unregister(struct lv_vm *vm);
void lv_mmu_slot_replace(struct lv_vm *vm, u32 id, struct lv_memslot *new);
void lv_mmu_module_exit(void);
void lv_mmu_zap_range(struct lv_vm *vm, u64 gpa, u64 size);

/* irq/irqchip.c: the APIC-access page (lv_caps.apic_access) */
phys_addr_t lv_apic_access_hpa(struct lv_vm *vm);
bool lv_apic_access_on(struct lv_vm *vm);
int lv_apic_access_fault(struct lv_vm *vm, u64 gpa);
void lv_apic_access_base_changed(struct lv_vcpu *vcpu, u64 base);
bool lv_memslot_can_map_2m(const struct lv_memslot *slot, u64 gfn);

/* x86.c */
int lv_mtrr_get(struct lv_vcpu *vcpu, u32 msr, u64 *val);
int lv_mtrr_set(struct lv_vcpu *vcpu, u32 msr, u64 val);
void lv_mtrr_get_state(struct lv_vcpu *vcpu, struct lv_vcpu_state *st);
int lv_mtrr_check_state(const struct lv_vcpu_state *st);
void lv_mtrr_set_state(struct lv_vcpu *vcpu, const struct lv_vcpu_state *st);
enum lv_apic_mode {
	LV_APIC_DISABLED,	/* EN = 0, EXTD = 0 */
	LV_APIC_INVALID,	/* EN = 0, EXTD = 1 */
	LV_APIC_XAPIC,		/* EN = 1, EXTD = 0 */
	LV_APIC_X2APIC,		/* EN = 1, EXTD = 1 */
};

enum lv_apic_mode lv_apic_mode(u64 base);
int lv_apic_base_check(u64 old, u64 new, bool x2apic, bool host);
int lv_load_pdptes(struct lv_vm *vm, u64 cr3, u64 pdpte[4]);
int lv_load_pdptes_rsvd(struct lv_vm *vm, u64 cr3, u64 pdpte[4], u64 rsvd);
int lv_check_segments(const struct lv_sregs *sr, u64 rflags);
int lv_check_entry_regs(const struct lv_sregs *sr, u64 rip);
u32 lv_xsave_size(u64 xcr0);
void lv_x86_init(unsigned long cr4_hw_allowed);

extern u64 lv_host_xcr0_val;

/* XCR0 of the host, the same on every CPU; 0 without XSAVE. */
static inline u64 lv_host_xcr0(void)
{
	return lv_host_xcr0_val;
}

u64 lv_spec_ctrl_bits(void);

/*
 * VMSCAPE: a guest can train the branch predictors against the host's
 * userspace, the VMM. Where the kernel mitigates it, the CPU that ran the
 * guest does an IBPB before it next returns to userspace, as after KVM's
 * guests. Called right after every VM exit, interrupts still off, so the
 * mark is on that CPU and not one the task migrates to.
 */
static inline void lv_guest_exited_irqoff(void)
{
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
#endif
}

/* Is that IBPB on (a "mitigations" line of debugfs)? */
static inline bool lv_ibpb_exit_to_user(void)
{
#ifdef X86_FEATURE_IBPB_EXIT_TO_USER
	return cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER);
#else
	return false;
#endif
}

/**
 * lv_spec_ctrl_flags() - how to switch IA32_SPEC_CTRL around an entry
 * @guest: the guest's IA32_SPEC_CTRL
 * @host: out: the kernel's own value for this CPU
 *
 * The kernel may change its value at any context switch: write the
 * guest's before entry if it differs, and the host's back after the
 * exit if it differs or the kernel uses legacy IBRS (which must be
 * written again after running less privileged code).
 *
 * Return: LV_RUN_LOAD_SPEC_CTRL and LV_RUN_RESTORE_SPEC_CTRL as needed.
 */
static inline unsigned int lv_spec_ctrl_flags(u64 guest, u64 *host)
{
	unsigned int flags = 0;

	if (!cpu_feature_enabled(X86_FEATURE_MSR_SPEC_CTRL))
		return 0;
	*host = this_cpu_read(x86_spec_ctrl_current);
	if (guest != *host)
		flags |= LV_RUN_LOAD_SPEC_CTRL | LV_RUN_RESTORE_SPEC_CTRL;
	if (cpu_feature_enabled(X86_FEATURE_KERNEL_IBRS))
		flags |= LV_RUN_RESTORE_SPEC_CTRL;
	return flags;
}

unsigned long lv_cr4_allowed(void);
bool lv_cr4_valid(unsigned long cr4);
bool lv_pae_paging(u64 cr0, u64 cr4, u64 efer);
u64 lv_guest_xcr0_mask(struct lv_vcpu *vcpu);
bool lv_xcr0_valid(struct lv_vcpu *vcpu, u64 xcr0);
bool lv_cr0_write(u64 old_cr0, u64 cr0, u64 cr4, u64 *efer, bool in_64bit);
bool lv_cr4_write_ok(u64 old, u64 cr4, bool lma, u64 cr3);
bool lv_efer_write(u64 old, u64 *efer, u64 cr0);
int lv_check_sregs_cr(const struct lv_sregs *sr);
bool lv_msr_value_ok(u32 index, u64 value);
int lv_msr_get_common(struct lv_vcpu *vcpu, u32 index, u64 *value);
int lv_msr_set_common(struct lv_vcpu *vcpu, u32 index, u64 value);
bool lv_check_state_msrs(const struct lv_vcpu_state *st);

/* guest_mem.c */
int lv_read_guest(struct lv_vm *vm, u64 gpa, void *data, unsigned int len);
int lv_write_guest(struct lv_vm *vm, u64 gpa, const void *data,
		   unsigned int len);

int lv_gva_to_gpa(struct lv_vm *vm, const struct lv_paging *pg, u64 gva,
		  u32 access, u64 *gpa, u32 *pf_error);
int lv_access_guest_ram(struct lv_vm *vm, u64 gpa, void *data,
			unsigned int len, bool write);
unsigned int lv_read_guest_virt(struct lv_vm *vm, const struct lv_paging *pg,
				u64 gva, void *data, unsigned int len);

#endif /* LIGHTVISOR_H */
