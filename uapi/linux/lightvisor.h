/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * lightvisor userspace ABI.
 *
 * Three kinds of file descriptor, as with KVM:
 *
 *  - the system fd, from open("/dev/lightvisor"): version, capabilities,
 *    VM creation;
 *  - a VM fd, from LV_CREATE_VM: guest memory, vCPU creation, devices;
 *  - a vCPU fd, from LV_CREATE_VCPU: registers, state, interrupts, LV_RUN.
 *    Its first LV_GET_VCPU_MMAP_SIZE bytes can be mmap()ed: they hold
 *    struct lv_run, through which exits are reported to userspace. Only
 *    that: MAP_SHARED, offset 0, exactly LV_GET_VCPU_MMAP_SIZE bytes;
 *    anything else fails with EINVAL, also a mapping of the next page
 *    placed right after an existing one, and mremap() cannot grow the
 *    mapping (EFAULT).
 *
 * Closing the last reference to a VM fd (including the references its vCPU
 * fds hold) frees everything the VM owns.
 *
 * Every structure has explicit padding to the alignment of its widest
 * member, so 64-bit and 32-bit (compat) callers share one layout and one
 * set of ioctl numbers.
 */
#ifndef _UAPI_LINUX_LIGHTVISOR_H
#define _UAPI_LINUX_LIGHTVISOR_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define LV_API_VERSION		1

/* ioctl type byte; chosen to avoid the ranges KVM and VFIO use. */
#define LVIO			0xB9

/**
 * DOC: capabilities
 *
 * LV_CHECK_CAP takes one of these and returns 0 when it is absent, a
 * positive value when it is present (for counts, the count itself).
 *
 * LV_CAP_RUN_GUESTS: this CPU can run guests (Intel VMX with EPT and
 * unrestricted guest, or AMD SVM with nested paging, usable). Without it
 * VMs and memory still work but LV_CREATE_VCPU fails with ENODEV.
 *
 * The names are vendor neutral; the Intel names they had first stay as
 * aliases with the same values:
 *
 * LV_CAP_TDP (was LV_CAP_EPT): guest-physical memory is translated by
 * two-dimensional paging in hardware (Intel EPT, AMD nested paging).
 * LV_CAP_TAGGED_TLB (was LV_CAP_VPID): guest TLB entries carry a tag of
 * their own (Intel VPID, AMD ASID), so VM entries and exits need not
 * flush them. LV_CAP_HV_TIMER (was LV_CAP_PREEMPTION_TIMER): a hardware
 * timer bounds each stay in the guest and makes the local APIC timer's
 * deadline an exit of the vCPU (the Intel VMX-preemption timer; AMD SVM
 * has none).
 *
 * LV_CAP_IRQCHIP: LV_CREATE_IRQCHIP and the calls that need it exist.
 * LV_CAP_IRQFD: LV_IRQFD exists. LV_CAP_SET_CPUID: LV_SET_CPUID and
 * LV_GET_SUPPORTED_CPUID exist. LV_CAP_TSC_KHZ: the TSC frequency in kHz
 * the guest sees (the host's; 0 if unknown). LV_CAP_TPR_SHADOW,
 * LV_CAP_APIC_REG_VIRT, LV_CAP_VIRT_INTR_DELIVERY: the CPU feature is
 * used to avoid exits for the in-kernel local APIC (without it the same
 * behaviour costs more exits). LV_CAP_XSAVE: LV_GET_XSAVE and
 * LV_SET_XSAVE exist. LV_CAP_IOEVENTFD: LV_IOEVENTFD exists; the value is
 * how many ioeventfds one VM may have. LV_CAP_VM_UNBOUND: LV_CREATE_VM
 * takes LV_VM_UNBOUND and LV_BIND_VM exists (see "unbound VMs").
 * LV_CAP_IRQ_STATUS: LV_IRQ_STATUS exists; the value is how many status
 * registers one VM may have. LV_CAP_APIC_ACCESS: an in-kernel local APIC
 * in xAPIC mode at the default base (0xfee00000) is virtualized through
 * an APIC-access page: its accesses exit without instruction emulation's
 * page walk, and its EOI and TPR writes do not exit.
 */
enum lv_cap {
	LV_CAP_RUN_GUESTS		= 1,
	LV_CAP_TDP			= 2,
	LV_CAP_UNRESTRICTED_GUEST	= 3,
	LV_CAP_TAGGED_TLB		= 4,
	LV_CAP_HV_TIMER			= 5,
	LV_CAP_MAX_VCPUS		= 6,
	LV_CAP_NR_MEMSLOTS		= 7,
	LV_CAP_READONLY_MEM		= 8,
	LV_CAP_VCPU_STATE		= 9,
	LV_CAP_IOMMU			= 10,
	LV_CAP_DIRTY_LOG		= 11,
	LV_CAP_IRQCHIP			= 12,
	LV_CAP_IRQFD			= 13,
	LV_CAP_SET_CPUID		= 14,
	LV_CAP_TSC_KHZ			= 15,
	LV_CAP_TPR_SHADOW		= 16,
	LV_CAP_APIC_REG_VIRT		= 17,
	LV_CAP_VIRT_INTR_DELIVERY	= 18,
	LV_CAP_XSAVE			= 19,
	LV_CAP_IOEVENTFD		= 20,
	LV_CAP_VM_UNBOUND		= 21,
	LV_CAP_IRQ_STATUS		= 22,
	LV_CAP_APIC_ACCESS		= 23,
};

/* The Intel names of LV_CAP_TDP, LV_CAP_TAGGED_TLB and LV_CAP_HV_TIMER. */
#define LV_CAP_EPT			LV_CAP_TDP
#define LV_CAP_VPID			LV_CAP_TAGGED_TLB
#define LV_CAP_PREEMPTION_TIMER		LV_CAP_HV_TIMER

/* --- system ioctls (on /dev/lightvisor) --- */

/* Returns LV_API_VERSION. The argument must be 0. */
#define LV_GET_API_VERSION	_IO(LVIO, 0x00)
/* Argument: an enum lv_cap value. Returns 0 (absent) or > 0. */
#define LV_CHECK_CAP		_IO(LVIO, 0x01)
/* Argument: 0 or LV_VM_UNBOUND (EINVAL for other bits). Returns a new VM fd. */
#define LV_CREATE_VM		_IO(LVIO, 0x02)
/* Returns the size to mmap() on a vCPU fd. */
#define LV_GET_VCPU_MMAP_SIZE	_IO(LVIO, 0x03)

#define LV_CPUID_FLAG_INDEXED	(1U << 0)
#define LV_MAX_CPUID_ENTRIES	256

/**
 * struct lv_cpuid_entry - what CPUID returns for one leaf (and subleaf)
 * @function: EAX on input (the leaf)
 * @index: ECX on input (the subleaf); compared only with
 *	LV_CPUID_FLAG_INDEXED
 * @flags: LV_CPUID_FLAG_INDEXED or 0
 * @eax: output EAX
 * @ebx: output EBX
 * @ecx: output ECX
 * @edx: output EDX
 * @padding: must be 0
 */
struct lv_cpuid_entry {
	__u32 function;
	__u32 index;
	__u32 flags;
	__u32 eax, ebx, ecx, edx;
	__u32 padding;
};

/**
 * struct lv_cpuid - a CPUID table
 * @nent: number of entries that follow, at most LV_MAX_CPUID_ENTRIES
 * @padding: must be 0
 * @entries: the entries
 */
struct lv_cpuid {
	__u32 nent;
	__u32 padding;
	struct lv_cpuid_entry entries[];
};

/*
 * The CPUID table lightvisor can offer on this machine: every leaf the
 * host has (basic, hypervisor 0x40000000/0x40000010, extended), features
 * lightvisor cannot virtualise removed, the local APIC, x2APIC and
 * TSC-deadline bits set (they need LV_CREATE_IRQCHIP). @nent in: room;
 * out: entries written. E2BIG (with @nent set to what is needed) if the
 * room is too small.
 */
#define LV_GET_SUPPORTED_CPUID	_IOWR(LVIO, 0x04, struct lv_cpuid)

/* --- VM ioctls --- */

#define LV_MEM_READONLY		(1U << 0)
#define LV_MEM_LOG_DIRTY_PAGES	(1U << 1)

/**
 * struct lv_memory_region - a guest-physical range backed by user memory
 * @slot: slot index, below LV_CAP_NR_MEMSLOTS
 * @flags: LV_MEM_* flags
 * @guest_phys_addr: page-aligned guest-physical base
 * @memory_size: page-aligned size in bytes; 0 deletes the slot
 * @userspace_addr: page-aligned address in the caller's address space
 *
 * Slots may not overlap. Changing a slot means deleting it, then adding it
 * again. Accesses outside every slot, and writes to a read-only slot, exit
 * to userspace as LV_EXIT_MMIO.
 */
struct lv_memory_region {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
};

#define LV_SET_MEMORY_REGION	_IOW(LVIO, 0x10, struct lv_memory_region)

/**
 * DOC: unbound VMs
 *
 * A VM belongs to one address space: guest memory is that process's
 * memory, and only that process may use the VM and its vCPUs (other
 * callers get EIO). A VM from LV_CREATE_VM(0) belongs to its creator.
 *
 * A VM from LV_CREATE_VM(LV_VM_UNBOUND) belongs to no address space yet,
 * so one process (a pool daemon) can prepare it and hand its VM and vCPU
 * fds to another over a UNIX socket (SCM_RIGHTS). Until it is bound, any
 * holder of its fds may only prepare it: LV_CREATE_VCPU,
 * LV_CREATE_IRQCHIP, LV_SET_CPUID, LV_SET_TSC_OFFSET, LV_GET_IRQCHIP,
 * LV_SET_IRQCHIP and, on a vCPU, the register, state, LAPIC and XSAVE
 * get/set calls. Everything that reaches guest memory, delivers events or
 * wires in a file of the caller (memory slots, the dirty log, LV_RUN,
 * mmap() of the run page, device assignment, LV_IRQ_LINE, LV_SIGNAL_MSI,
 * LV_IRQFD, LV_IOEVENTFD, LV_INTERRUPT) fails with EBADFD: a creator
 * cannot leave anything behind that acts on the VM once another process
 * owns it.
 *
 * LV_BIND_VM (argument 0) binds the VM to the caller's address space,
 * once: from then on it is an ordinary VM of the caller, and every other
 * process, its creator included, gets EIO on it and on its vCPUs. A
 * second LV_BIND_VM fails with EALREADY from the owner and EIO from any
 * other process; on a VM created bound it fails with EINVAL.
 */
#define LV_VM_UNBOUND		(1U << 0)
#define LV_BIND_VM		_IO(LVIO, 0x2d)
/* Argument: the vCPU id, below LV_CAP_MAX_VCPUS. Returns a vCPU fd. */
#define LV_CREATE_VCPU		_IO(LVIO, 0x11)

/**
 * struct lv_dirty_log - get and clear the dirty bitmap of a slot
 * @slot: a slot created with LV_MEM_LOG_DIRTY_PAGES
 * @padding: must be 0
 * @bitmap: user pointer to one bit per 4 KiB page of the slot, rounded up
 *	to a multiple of 64 bits
 */
struct lv_dirty_log {
	__u32 slot;
	__u32 padding;
	__u64 bitmap;
};

#define LV_GET_DIRTY_LOG	_IOW(LVIO, 0x12, struct lv_dirty_log)

/**
 * struct lv_pci_device - a host PCI device, by address
 * @segment: PCI segment (domain)
 * @bus: bus number
 * @devfn: device and function, (dev << 3) | fn
 * @flags: must be 0
 *
 * LV_ASSIGN_PCI_DEVICE needs CAP_SYS_RAWIO (EPERM otherwise), and a
 * device whose MSIs interrupt remapping isolates (EPERM otherwise, unless
 * the module parameter lightvisor.allow_unsafe_interrupts is set). The
 * function is reset (FLR or another reset the PCI core has for it) when
 * assigned and when released. A device removed from the host while
 * assigned leaves its VM first: later calls naming it get ENODEV.
 */
struct lv_pci_device {
	__u32 segment;
	__u8 bus;
	__u8 devfn;
	__u16 flags;
};

#define LV_ASSIGN_PCI_DEVICE	_IOW(LVIO, 0x13, struct lv_pci_device)
#define LV_RELEASE_PCI_DEVICE	_IOW(LVIO, 0x14, struct lv_pci_device)

#define LV_PCI_BAR_UNMAP	(1U << 0)

/**
 * struct lv_pci_bar - place a memory BAR of an assigned device in the guest
 * @dev: the device, assigned to this VM with LV_ASSIGN_PCI_DEVICE (its
 *	@flags must be 0)
 * @bar: BAR index, 0..5; for a 64-bit BAR the index of its low half
 * @flags: 0 to map (or move) the BAR, LV_PCI_BAR_UNMAP to remove it from
 *	the guest (@guest_phys_addr is then ignored)
 * @guest_phys_addr: page-aligned guest-physical address of the BAR
 *
 * The BAR's host-physical range is mapped into the guest's page tables
 * (EPT) at @guest_phys_addr, uncached, at once: guest accesses to it go to
 * the device without exits. Calling again with another address moves it
 * (the old range is unmapped first). Releasing the device or destroying
 * the VM unmaps it. The pages holding the device's MSI-X table and PBA
 * are left out: the host programs the table, and the guest's accesses
 * there exit to userspace as LV_EXIT_MMIO.
 *
 * Errors: EINVAL (flags, BAR index, not a memory BAR, BAR smaller than a
 * page or not page aligned on the host, guest address not page aligned
 * or beyond the guest-physical limit); ENODEV (no such device), ENOENT
 * (device not assigned to this VM, or, with LV_PCI_BAR_UNMAP, BAR not
 * mapped); EEXIST (the range overlaps a memory slot or another mapped
 * BAR); ENODEV also when no guest can run on this machine (no VMX: the
 * request is validated, then refused; nothing is recorded).
 */
struct lv_pci_bar {
	struct lv_pci_device dev;
	__u32 bar;
	__u32 flags;
	__u64 guest_phys_addr;
};

#define LV_MAP_PCI_BAR		_IOW(LVIO, 0x15, struct lv_pci_bar)

#define LV_DEVICE_IRQ_DISABLE	(1U << 0)

/**
 * struct lv_device_irq - route an assigned device's interrupt to a vCPU
 * @dev: the device, assigned to this VM (its @flags must be 0)
 * @vcpu: id of the target vCPU (it need not exist yet: interrupts that
 *	arrive while it does not are counted as dropped)
 * @vector: guest vector, 32..255, as the guest wrote it in the MSI data
 *	register
 * @flags: 0 to enable or retarget, LV_DEVICE_IRQ_DISABLE to free the
 *	host interrupt (@vcpu and @vector are then ignored)
 * @padding: must be 0
 *
 * The first call enables the device and allocates one host MSI-X or MSI
 * vector for it (the host programs the device's capability; the guest's
 * view of it is the launcher's business). Each device interrupt queues
 * @vector on the vCPU as LV_INTERRUPT would; if an external interrupt is
 * already queued there, the vector is remembered (once per vector) and
 * queued after it is injected, so a device interrupt is never lost, but
 * several of the same vector may merge into one, as with edge-triggered
 * MSIs. Delivery goes through a host interrupt thread.
 *
 * Errors: EINVAL (flags, vector, vCPU id beyond LV_CAP_MAX_VCPUS), ENODEV
 * (no such device, or it has no MSI/MSI-X), ENOENT (not assigned to this
 * VM; with LV_DEVICE_IRQ_DISABLE, no interrupt set up).
 */
struct lv_device_irq {
	struct lv_pci_device dev;
	__u32 vcpu;
	__u32 vector;
	__u32 flags;
	__u32 padding;
};

#define LV_SET_DEVICE_IRQ	_IOW(LVIO, 0x16, struct lv_device_irq)

/**
 * DOC: in-kernel interrupt controllers
 *
 * LV_CREATE_IRQCHIP (argument 0) gives the VM, before its first vCPU, a
 * local APIC per vCPU (xAPIC page at IA32_APIC_BASE, 0xfee00000 at reset,
 * and x2APIC MSRs 0x800-0x8ff), an I/O APIC at 0xfec00000 (24 pins,
 * version 0x11), the two 8259 PICs (ports 0x20-0x21, 0xa0-0xa1, ELCR at
 * 0x4d0-0x4d1) and the 8254 PIT (ports 0x40-0x43 and port 0x61 for
 * channel 2's gate and output). Those ports and pages no longer exit to
 * userspace. A VM without it behaves as before: LV_INTERRUPT queues
 * vectors and every port exits. The CMOS/RTC stays in userspace.
 *
 * Lines 0..23 (LV_IRQ_LINE, LV_IRQFD) drive I/O APIC pin N and, for N <
 * 16, PIC input N. The PIT's channel 0 drives PIC input 0 and I/O APIC
 * pin 2, as the ACPI MADT of a PC says (IRQ0 override to GSI 2).
 * Levels are logical (asserted or not): the pin's polarity bit is not
 * applied.
 *
 * Only vCPU 0 runs at first: every other vCPU of a VM with an irqchip
 * waits for INIT-SIPI-SIPI from the guest (LV_RUN blocks until then, a
 * signal interrupts it with EINTR).
 *
 * Errors: EEXIST (already created), EBUSY (vCPUs exist), EINVAL
 * (argument not 0).
 */
#define LV_CREATE_IRQCHIP	_IO(LVIO, 0x17)

#define LV_NR_IRQ_LINES		24

/**
 * struct lv_irq_level - drive an interrupt line
 * @line: 0..LV_NR_IRQ_LINES - 1
 * @level: 1 asserted, 0 deasserted
 *
 * Edge-triggered inputs interrupt on 0 -> 1; level-triggered ones while
 * at 1. Errors: ENXIO (no irqchip), EINVAL (line, level).
 */
struct lv_irq_level {
	__u32 line;
	__u32 level;
};

#define LV_IRQ_LINE		_IOW(LVIO, 0x18, struct lv_irq_level)

#define LV_IRQFD_DEASSIGN	(1U << 0)

/**
 * struct lv_irqfd - raise a line whenever an eventfd is signalled
 * @fd: an eventfd
 * @line: 0..LV_NR_IRQ_LINES - 1
 * @flags: 0 to assign, LV_IRQFD_DEASSIGN to remove
 * @padding: must be 0
 *
 * Each write to the eventfd pulses the line (asserted, then deasserted:
 * one edge), from the writer's context: no ioctl per interrupt and no
 * vCPU is stopped. Several writes before delivery may merge into one
 * interrupt, as edges do. Level-triggered devices use LV_IRQ_LINE.
 * Closing the eventfd or the VM removes it.
 *
 * Errors: ENXIO (no irqchip), EBADF (@fd), EINVAL (not an eventfd, line,
 * flags, padding), EEXIST (this eventfd already raises a line of this
 * VM), ENOENT (deassign: not assigned).
 */
struct lv_irqfd {
	__s32 fd;
	__u32 line;
	__u32 flags;
	__u32 padding;
};

#define LV_IRQFD		_IOW(LVIO, 0x19, struct lv_irqfd)

/**
 * struct lv_msi - a message-signalled interrupt
 * @address: 0xFEExxxxx: destination id in bits 19:12, destination mode
 *	(logical) in bit 2 (SDM vol. 3A, 11.11.1); bits 63:32 must be 0
 * @data: vector in bits 7:0, delivery mode in 10:8 (fixed, lowest
 *	priority, SMI, NMI, INIT), level in 14, trigger mode in 15; bits
 *	31:16 must be 0
 * @flags: must be 0
 * @padding: must be 0
 *
 * Returns the number of local APICs that accepted it (0: no APIC matched
 * or all were disabled). Errors: ENXIO (no irqchip), EINVAL (address,
 * reserved delivery mode 3 or 6, ExtINT, flags).
 */
struct lv_msi {
	__u64 address;
	__u32 data;
	__u32 flags;
	__u32 padding[2];
};

#define LV_SIGNAL_MSI		_IOW(LVIO, 0x1a, struct lv_msi)

#define LV_IRQCHIP_STATE_VERSION	1

/**
 * struct lv_ioapic_state - the I/O APIC
 * @id: I/O APIC id (bits 3:0)
 * @ioregsel: the register selector
 * @line_levels: current input level of each pin (bit N: pin N)
 * @padding: must be 0
 * @redir: redirection table entries as the SDM/82093AA encode them
 *	(remote IRR in bit 14, delivery status ignored)
 */
struct lv_ioapic_state {
	__u32 id;
	__u32 ioregsel;
	__u32 line_levels;
	__u32 padding;
	__u64 redir[LV_NR_IRQ_LINES];
};

/**
 * struct lv_pic_state - one 8259A
 * @irr: interrupt request register
 * @imr: interrupt mask register
 * @isr: in-service register
 * @priority_add: lowest-priority input minus 7 (rotation)
 * @irq_base: vector of input 0 (ICW2)
 * @read_isr: OCW3 selects ISR (1) or IRR (0) for reads
 * @poll: the next read is a poll command
 * @special_mask: special mask mode
 * @init_state: 0 ready, 1..3: the next ICW expected
 * @auto_eoi: ICW4 AEOI
 * @rotate_on_auto_eoi: OCW2 rotate in AEOI mode
 * @special_fully_nested: ICW4 SFNM
 * @init4: ICW4 is expected
 * @single: single mode (no cascade)
 * @elcr: edge/level control (1: level)
 * @last_irr: input levels, for edge detection
 * @padding: must be 0
 */
struct lv_pic_state {
	__u8 irr, imr, isr, priority_add, irq_base, read_isr, poll;
	__u8 special_mask, init_state, auto_eoi, rotate_on_auto_eoi;
	__u8 special_fully_nested, init4, single, elcr, last_irr;
	__u8 padding[8];
};

/**
 * struct lv_pit_channel_state - one 8254 counter
 * @count: the count loaded (1..65536)
 * @latched_count: a latched count (valid while @count_latched)
 * @count_latched: 0, or the access mode its bytes are read with
 * @status_latched: a read-back status byte waits
 * @status: that byte
 * @read_state: which byte a read returns next (access mode 1..4)
 * @write_state: which byte a write sets next (access mode 1..4)
 * @write_latch: the low byte of a 16-bit write in progress
 * @rw_mode: access mode 1 (LSB), 2 (MSB), 3 (LSB then MSB)
 * @mode: counter mode 0..5
 * @bcd: BCD counting (not modelled: counts in binary)
 * @gate: gate input
 * @padding: must be 0
 * @elapsed_ns: time since the count was loaded
 */
struct lv_pit_channel_state {
	__u32 count;
	__u16 latched_count;
	__u8 count_latched, status_latched, status, read_state, write_state;
	__u8 write_latch, rw_mode, mode, bcd, gate;
	__u8 padding[4];
	__u64 elapsed_ns;
};

/**
 * struct lv_irqchip_state - interrupt controllers and timers of a VM
 * @version: LV_IRQCHIP_STATE_VERSION; set by GET, checked by SET
 * @size: sizeof(struct lv_irqchip_state); set by GET, checked by SET
 * @ioapic: the I/O APIC
 * @pic: master (0) and slave (1) PIC
 * @pit: the PIT's three channels
 * @speaker: port 0x61 bits 1:0 (speaker data, channel 2 gate)
 * @padding: must be 0
 * @reserved: must be 0
 *
 * Errors: ENXIO (no irqchip), EINVAL (version, size, a field out of
 * range, non-zero padding or reserved words).
 */
struct lv_irqchip_state {
	__u32 version;
	__u32 size;
	struct lv_ioapic_state ioapic;
	struct lv_pic_state pic[2];
	struct lv_pit_channel_state pit[3];
	__u32 speaker;
	__u32 padding;
	__u64 reserved[8];
};

#define LV_GET_IRQCHIP		_IOR(LVIO, 0x1b, struct lv_irqchip_state)
#define LV_SET_IRQCHIP		_IOW(LVIO, 0x1c, struct lv_irqchip_state)

/*
 * LV_SET_CPUID (VM fd): the table every vCPU's CPUID returns from now on,
 * before the first vCPU is created. Each entry is checked against
 * LV_GET_SUPPORTED_CPUID: a feature bit, a maximum leaf, an XSAVE
 * feature set beyond it is refused. Per vCPU, lightvisor fills in what
 * depends on it: APIC id (leaf 1 EBX[31:24], leaves 0xb/0x1f EDX),
 * OSXSAVE and OSPKE from CR4, the APIC bit from IA32_APIC_BASE. Leaves
 * not in the table return zeros. Without a table, CPUID is the host's,
 * filtered, as before.
 *
 * Errors: E2BIG (@nent above LV_MAX_CPUID_ENTRIES), EINVAL (flags,
 * padding, two entries for one leaf/subleaf, a value beyond what is
 * supported, APIC/x2APIC/TSC-deadline bits without LV_CREATE_IRQCHIP),
 * EBUSY (vCPUs exist).
 */
#define LV_SET_CPUID		_IOW(LVIO, 0x1d, struct lv_cpuid)

/**
 * struct lv_tsc_control - the guest's TSC
 * @offset: guest TSC = host TSC + @offset, for every vCPU of the VM (a
 *	guest WRMSR to IA32_TSC changes its own vCPU's offset afterwards)
 * @flags: must be 0
 * @padding: must be 0
 *
 * The guest's TSC runs at the host's rate (LV_CAP_TSC_KHZ), which CPUID
 * leaf 0x40000010 reports to the guest. Errors: EINVAL (flags).
 */
struct lv_tsc_control {
	__s64 offset;
	__u32 flags;
	__u32 padding;
};

#define LV_SET_TSC_OFFSET	_IOW(LVIO, 0x1e, struct lv_tsc_control)

#define LV_IOEVENTFD_PIO	(1U << 0)
#define LV_IOEVENTFD_DATAMATCH	(1U << 1)
#define LV_IOEVENTFD_DEASSIGN	(1U << 2)

/* How many ioeventfds one VM may have (LV_CHECK_CAP(LV_CAP_IOEVENTFD)). */
#define LV_MAX_IOEVENTFDS	256

/**
 * struct lv_ioeventfd - signal an eventfd when the guest writes an address
 * @datamatch: with LV_IOEVENTFD_DATAMATCH, only a write of this value
 *	(zero-extended from @len bytes) signals; it must fit in @len bytes
 * @addr: guest-physical address (MMIO), or port number with
 *	LV_IOEVENTFD_PIO (at most 0xffff)
 * @len: access width in bytes: 1, 2, 4 or 8 (ports: 1, 2 or 4); 0 matches
 *	a write of any width at @addr (not with LV_IOEVENTFD_DATAMATCH)
 * @fd: an eventfd
 * @flags: LV_IOEVENTFD_PIO (a port; else MMIO), LV_IOEVENTFD_DATAMATCH,
 *	LV_IOEVENTFD_DEASSIGN (remove the one with these @addr, @len, @fd,
 *	@flags and, with LV_IOEVENTFD_DATAMATCH, @datamatch)
 * @padding: must be 0
 *
 * LV_IOEVENTFD (VM fd): a guest write that starts at @addr with exactly
 * @len bytes (and, with a datamatch, that value) adds 1 to the eventfd's
 * counter in the kernel, and the instruction completes without an exit
 * to userspace: a device thread polling the eventfd learns of the write
 * (a virtio queue notification) while the vCPU runs on. Any other write,
 * and every read, exits to userspace as before. MMIO writes are matched
 * wherever the instruction emulator makes them (MOV, STOS, MOVS, the
 * write of a read-modify-write, each half of a write split at a page
 * boundary); port writes only for OUT: string OUTS (with or without REP)
 * exits to userspace. The in-kernel devices (LV_CREATE_IRQCHIP) take
 * their ports and pages first; a write to guest RAM never exits, so an
 * ioeventfd there never fires.
 *
 * Two ioeventfds of one VM may not match the same write: EEXIST if one
 * with the same @addr, port or MMIO, overlapping widths (equal, or either
 * 0) and either without a datamatch or with the same one exists. The
 * VM holds a reference to the eventfd until the ioeventfd is deassigned
 * or the VM is closed; closing the eventfd alone does not remove it.
 *
 * Errors: EINVAL (unknown flags, @padding, @len, a datamatch that does
 * not fit @len or with @len 0, an address range that wraps, goes beyond
 * port 0xffff or beyond the guest-physical limit of 2^48, @fd not an
 * eventfd), EBADF (@fd not an open file), EEXIST (see above), ENOENT
 * (deassign: no such ioeventfd), ENOSPC (the VM has LV_MAX_IOEVENTFDS),
 * EFAULT.
 */
struct lv_ioeventfd {
	__u64 datamatch;
	__u64 addr;
	__u32 len;
	__s32 fd;
	__u32 flags;
	__u32 padding;
};

#define LV_IOEVENTFD		_IOW(LVIO, 0x2c, struct lv_ioeventfd)

#define LV_IRQ_STATUS_DEASSIGN	(1U << 0)

/* How many status registers one VM may have (LV_CAP_IRQ_STATUS). */
#define LV_MAX_IRQ_STATUS	64

/**
 * struct lv_irq_status - an interrupt status register served in the kernel
 * @status_gpa: guest-physical address of a 4-byte status register
 * @ack_gpa: guest-physical address of its 4-byte acknowledge register
 * @word: address of the status word in the caller's memory, 4-byte
 *	aligned
 * @flags: 0 to assign, LV_IRQ_STATUS_DEASSIGN to remove the one at
 *	@status_gpa (the other fields are then not looked at)
 * @padding: must be 0
 *
 * LV_IRQ_STATUS (VM fd): for a device whose driver reads a status
 * register and acknowledges what it read in every interrupt handler, as
 * virtio-mmio's InterruptStatus and InterruptACK. The device keeps the
 * status in the 32-bit word at @word, setting bits there (atomically)
 * before it raises its interrupt. A 4-byte guest read at @status_gpa
 * then returns the word, and a 4-byte guest write at @ack_gpa clears in
 * the word the bits written (an atomic and-not): both complete in the
 * kernel, with no exit to userspace. Any other width or address exits
 * as before, and so does an access when the word cannot be read or
 * changed (no longer mapped, or changing under a busy writer): the
 * device's own emulation of the register then answers. The word is read
 * and changed in the vCPU thread, so in the VM's address space. Status
 * registers are looked up before ioeventfds and after the in-kernel
 * devices (LV_CREATE_IRQCHIP).
 *
 * Errors: EINVAL (unknown flags, @padding, an address not 4-byte
 * aligned or beyond the guest-physical limit of 2^48, @status_gpa equal
 * to @ack_gpa, @word not aligned), EFAULT (@word not a user address),
 * EEXIST (either address already taken by a status register of this
 * VM), ENOENT (deassign: none at @status_gpa), ENOSPC (the VM has
 * LV_MAX_IRQ_STATUS), EBADFD (an unbound VM).
 */
struct lv_irq_status {
	__u64 status_gpa;
	__u64 ack_gpa;
	__u64 word;
	__u32 flags;
	__u32 padding;
};

#define LV_IRQ_STATUS		_IOW(LVIO, 0x2e, struct lv_irq_status)

/* --- vCPU ioctls --- */

/* Runs the vCPU until an exit userspace must see; argument must be 0. */
#define LV_RUN			_IO(LVIO, 0x20)

/**
 * struct lv_regs - general-purpose registers, RIP and RFLAGS
 * @rax: RAX
 * @rbx: RBX
 * @rcx: RCX
 * @rdx: RDX
 * @rsi: RSI
 * @rdi: RDI
 * @rsp: RSP
 * @rbp: RBP
 * @r8: R8
 * @r9: R9
 * @r10: R10
 * @r11: R11
 * @r12: R12
 * @r13: R13
 * @r14: R14
 * @r15: R15
 * @rip: RIP
 * @rflags: RFLAGS
 */
struct lv_regs {
	__u64 rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11, r12, r13, r14, r15;
	__u64 rip, rflags;
};

/**
 * struct lv_segment - a segment register in its hidden (cached) form
 * @base: segment base
 * @limit: byte-granular limit (with @g set, bits 11:0 are all 1; with
 *	@g clear, bits 31:20 are 0)
 * @selector: visible selector
 * @type: descriptor type field (4 bits)
 * @s: 1 for code/data, 0 for system
 * @dpl: privilege level
 * @present: P bit
 * @avl: AVL bit
 * @l: 64-bit code segment
 * @db: default operation size
 * @g: granularity
 * @unusable: segment is unusable (null selector loaded)
 * @padding: must be 0
 *
 * The padding is explicit up to the 64-bit alignment of @base, so the
 * structure (32 bytes) and everything holding it have one layout for
 * 64-bit and 32-bit (compat) callers alike.
 */
struct lv_segment {
	__u64 base;
	__u32 limit;
	__u16 selector;
	__u8 type;
	__u8 s, dpl, present, avl, l, db, g, unusable;
	__u8 padding[9];
};

/**
 * struct lv_dtable - GDTR or IDTR
 * @base: table base
 * @limit: table limit
 * @padding: must be 0
 */
struct lv_dtable {
	__u64 base;
	__u16 limit;
	__u16 padding[3];
};

/**
 * struct lv_sregs - segment, control and descriptor-table registers
 * @cs: CS
 * @ds: DS
 * @es: ES
 * @fs: FS
 * @gs: GS
 * @ss: SS
 * @tr: task register
 * @ldt: LDTR
 * @gdt: GDTR
 * @idt: IDTR
 * @cr0: CR0
 * @cr2: CR2
 * @cr3: CR3
 * @cr4: CR4
 * @cr8: CR8 (task priority)
 * @efer: the EFER MSR
 * @apic_base: the IA32_APIC_BASE MSR
 */
struct lv_sregs {
	struct lv_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct lv_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 apic_base;
};

/*
 * LV_SET_REGS and LV_SET_SREGS end whatever the vCPU was in the middle
 * of: port I/O, MMIO or a hypercall waiting for userspace, an exception
 * being delivered. An external interrupt or NMI being delivered goes back
 * to the queue (it is delivered when the guest can take it); with
 * RFLAGS.IF clear, an STI shadow ends. LV_SET_SREGS into PAE paging
 * (CR0.PG, CR4.PAE, not EFER.LMA) loads the PDPTEs from CR3 as MOV CR3
 * would, and fails with EINVAL if they cannot be read or have reserved
 * bits set.
 *
 * LV_SET_SREGS fails with EINVAL, and changes nothing, on segment
 * registers, GDTR or IDTR that VM entry would refuse with the vCPU's
 * RFLAGS (the Intel SDM's checks on guest segment and descriptor-table
 * registers, with unrestricted guest): a field of struct lv_segment
 * out of its range or padding not 0; CS unusable (not present), S clear,
 * a type other than 3 (at DPL 0) or an accessed code segment, a DPL that
 * does not fit SS's; SS, DS, ES, FS, GS, if usable, S clear or a type
 * they cannot hold; SS DPL not 0 in real mode or with CS type 3; a limit
 * that G cannot express; CS, SS, DS, ES base bits 63:32 set; a
 * non-canonical FS, GS, TR, LDTR, GDTR or IDTR base; TR unusable, not a
 * busy TSS (a 64-bit one in long mode) or with TI set; a usable LDTR
 * that is not an LDT or has TI set; CS.L and CS.D both set in long mode.
 * With RFLAGS.VM (virtual-8086 mode), CR0.PE must be set, EFER.LMA
 * clear, and CS, SS, DS, ES, FS, GS have base = selector << 4, limit
 * 0xffff and access rights 0xf3. So LV_SET_REGS fails with EINVAL when
 * it sets or clears RFLAGS.VM and the segments do not fit the new mode:
 * enter or leave virtual-8086 mode with LV_SET_VCPU_STATE, which sets
 * both at once.
 *
 * Both also fail with EINVAL, changing nothing, when the registers they
 * set and those the vCPU keeps make a state VM entry refuses: CR3 with a
 * bit set at or above the host's physical-address width; CR4.PCIDE
 * without EFER.LMA; CR0.NW without CR0.CD; RIP with bits 63:32 set
 * outside 64-bit code (EFER.LMA and CS.L), or not canonical in it. To
 * move from 64-bit code with a RIP above 4 GiB to another mode, set RIP
 * first or set both with LV_SET_VCPU_STATE.
 */
#define LV_GET_REGS		_IOR(LVIO, 0x21, struct lv_regs)
#define LV_SET_REGS		_IOW(LVIO, 0x22, struct lv_regs)
#define LV_GET_SREGS		_IOR(LVIO, 0x23, struct lv_sregs)
#define LV_SET_SREGS		_IOW(LVIO, 0x24, struct lv_sregs)

#define LV_INTERRUPT_NMI	(1U << 0)

/**
 * struct lv_interrupt - queue an event for a vCPU
 * @vector: external interrupt vector, 32..255 (ignored for an NMI)
 * @flags: 0 for an external interrupt, LV_INTERRUPT_NMI for an NMI
 *
 * The event is injected at the next VM entry at which the guest can take
 * it (RFLAGS.IF set and no interrupt shadow); until then the vCPU asks for
 * an interrupt-window exit. One external interrupt and one NMI can be
 * pending at a time: a second one fails with EBUSY. A vCPU halted with
 * interrupts enabled wakes up.
 */
struct lv_interrupt {
	__u32 vector;
	__u32 flags;
};

#define LV_INTERRUPT		_IOW(LVIO, 0x25, struct lv_interrupt)

/*
 * Version 2 added @pkru and the MTRRs at the end of struct lv_vcpu_state.
 * A caller built against version 1 (the structure up to @reserved, and
 * the ioctl numbers of that size) keeps working: LV_GET_VCPU_STATE gives
 * it a version-1 state, LV_SET_VCPU_STATE takes one and leaves PKRU and
 * the MTRRs as they are.
 */
#define LV_VCPU_STATE_VERSION	2

/* Event types, numbered as the SDM's interruption-information format. */
#define LV_EVENT_EXT_INTR	0	/* external interrupt */
#define LV_EVENT_NMI		2
#define LV_EVENT_EXCEPTION	3	/* hardware exception */
#define LV_EVENT_SOFT_INTR	4	/* INT n */
#define LV_EVENT_PRIV_SW_EXC	5	/* INT1 (ICEBP) */
#define LV_EVENT_SOFT_EXC	6	/* INT3, INTO */

/**
 * struct lv_event - an event the vCPU is in the middle of delivering
 * @valid: 1 if the rest is meaningful; when 0 everything else must be 0
 * @type: an LV_EVENT_* type
 * @vector: its vector (2 for an NMI, at most 31 for an exception, at
 *	least 32 for an external interrupt)
 * @has_error_code: 1 if @error_code is pushed: only for the exceptions
 *	that have one (8, 10-14, 17; not 21, #CP: guests have no CET)
 *	and only with CR0.PE set
 * @error_code: the error code (bits 31:16 must be 0)
 * @insn_len: for the software types, the length of the instruction
 *	(1-15); 0 otherwise
 * @padding: must be 0
 *
 * An event is "being delivered" once lightvisor has chosen it for the
 * next entry (a queued interrupt or NMI, an exception it raises), and
 * until the guest has really received it: an entry abandoned for a
 * signal, or an exit in the middle of delivery (say, on a guest page not
 * yet mapped), keeps it here, and the next entry delivers it again,
 * before anything else.
 */
struct lv_event {
	__u8 valid;
	__u8 type;
	__u8 vector;
	__u8 has_error_code;
	__u32 error_code;
	__u32 insn_len;
	__u32 padding;
};

/**
 * struct lv_vcpu_state - the whole architectural state of a vCPU
 * @version: LV_VCPU_STATE_VERSION; set by GET, checked by SET
 * @size: sizeof(struct lv_vcpu_state); set by GET, checked by SET
 * @regs: general registers
 * @sregs: system registers
 * @pending_irq: vector + 1 of a queued external interrupt, or 0
 * @pending_nmi: 1 if an NMI is queued
 * @interruptibility: guest interruptibility state (STI/MOV-SS shadow,
 *	NMI blocking) as the SDM encodes it
 * @activity: 0 active, 1 halted
 * @sysenter_cs: IA32_SYSENTER_CS
 * @sysenter_esp: IA32_SYSENTER_ESP
 * @sysenter_eip: IA32_SYSENTER_EIP
 * @star: IA32_STAR
 * @lstar: IA32_LSTAR
 * @cstar: IA32_CSTAR
 * @fmask: IA32_FMASK
 * @kernel_gs_base: IA32_KERNEL_GS_BASE
 * @pat: IA32_PAT
 * @xcr0: XCR0
 * @dr7: DR7
 * @event: the event being delivered, if any (see struct lv_event)
 * @tsc_adjust: IA32_TSC_ADJUST, what the guest's writes of IA32_TSC and
 *	IA32_TSC_ADJUST added to its TSC (0 from a state saved before the
 *	field existed); any value. LV_SET_VCPU_STATE sets it after @tsc,
 *	which does not change it.
 * @reserved: must be 0
 * @pkru: PKRU (version 2); not 0 only if the guest can have protection
 *	keys (LV_GET_SUPPORTED_CPUID shows PKU)
 * @padding: must be 0
 * @mtrr_def_type: IA32_MTRR_DEF_TYPE (version 2)
 * @mtrr_fixed: the 11 fixed-range MTRRs in MSR order: IA32_MTRR_FIX64K_00000,
 *	IA32_MTRR_FIX16K_80000 and _A0000, IA32_MTRR_FIX4K_C0000 to _F8000
 * @mtrr_var: IA32_MTRR_PHYSBASE0, IA32_MTRR_PHYSMASK0, ... PHYSMASK7: the
 *	8 variable ranges IA32_MTRRCAP advertises
 * @held_trap: (version 2) a #DB trap (single step, data breakpoint: an
 *	LV_EVENT_EXCEPTION; ICEBP: LV_EVENT_PRIV_SW_EXC) whose delivery a
 *	#DB or #AC cut short; it is delivered after @event, before the
 *	first instruction of that event's handler. Anything else is refused.
 * @db: DR0-DR3 (version 2)
 * @dr6: DR6 (version 2): 0xffff0ff0, the value after reset, with any of
 *	B0-B3, BD, BS and BT changed (the bits the CPU changes); nothing else
 * @tsc: the guest's TSC (version 2) when LV_GET_VCPU_STATE read it;
 *	LV_SET_VCPU_STATE moves this vCPU's TSC offset so that its TSC reads
 *	@tsc at that moment, as a guest WRMSR to IA32_TSC would
 *
 * One get/set pair carries everything needed to save a vCPU and restore
 * it in another VM, with no ordering rules between calls.
 *
 * LV_SET_VCPU_STATE checks the whole state before it changes anything: a
 * state that a CPU could not be in (reserved bits, an STI shadow with
 * RFLAGS.IF clear, an external interrupt or NMI being delivered while the
 * guest cannot take it, an error code where the vector or the mode has
 * none, PAE paging whose PDPTEs at CR3 cannot be read or have reserved
 * bits set, segment registers that VM entry would refuse with
 * @regs.rflags as LV_SET_SREGS says, an MTRR value WRMSR would refuse,
 * ...) fails with EINVAL and leaves the vCPU as it was.
 */
struct lv_vcpu_state {
	__u32 version;
	__u32 size;
	struct lv_regs regs;
	struct lv_sregs sregs;
	__u32 pending_irq;
	__u32 pending_nmi;
	__u32 interruptibility;
	__u32 activity;
	__u64 sysenter_cs, sysenter_esp, sysenter_eip;
	__u64 star, lstar, cstar, fmask, kernel_gs_base;
	__u64 pat;
	__u64 xcr0;
	__u64 dr7;
	struct lv_event event;
	__u64 tsc_adjust;
	__u64 reserved[5];
	__u32 pkru;
	__u32 padding;
	__u64 mtrr_def_type;
	__u64 mtrr_fixed[11];
	__u64 mtrr_var[16];
	struct lv_event held_trap;
	__u64 db[4];
	__u64 dr6;
	__u64 tsc;
};

#define LV_GET_VCPU_STATE	_IOR(LVIO, 0x26, struct lv_vcpu_state)
#define LV_SET_VCPU_STATE	_IOW(LVIO, 0x27, struct lv_vcpu_state)

#define LV_LAPIC_STATE_VERSION	1

/**
 * struct lv_lapic_state - a vCPU's local APIC
 * @version: LV_LAPIC_STATE_VERSION; set by GET, checked by SET
 * @size: sizeof(struct lv_lapic_state); set by GET, checked by SET
 * @apic_base: IA32_APIC_BASE (the xAPIC page may not lie on guest RAM)
 * @tsc_deadline: IA32_TSC_DEADLINE, in guest TSC ticks
 * @regs: the registers, regs[offset >> 4] for each xAPIC offset (the ID
 *	as the current mode shows it; PPR and the current count are
 *	computed, not restored)
 * @timer_remaining_ns: one-shot/periodic: time to the next expiry, 0 if
 *	the timer is not running
 * @wait_for_sipi: 1 if the vCPU waits for a SIPI (after INIT)
 * @pending_sipi: vector + 1 of a SIPI not yet taken, or 0
 * @pending_init: 1 if an INIT is not yet taken
 * @esr_pending: errors not yet latched into ESR
 * @reserved: must be 0
 *
 * Errors of LV_GET_LAPIC/LV_SET_LAPIC (vCPU fd): ENXIO (no irqchip),
 * EINVAL (version, size, reserved, an invalid IA32_APIC_BASE or one on
 * guest RAM, a flag above 1, a SIPI vector above 255).
 */
struct lv_lapic_state {
	__u32 version;
	__u32 size;
	__u64 apic_base;
	__u64 tsc_deadline;
	__u32 regs[64];
	__u64 timer_remaining_ns;
	__u32 wait_for_sipi;
	__u32 pending_sipi;
	__u32 pending_init;
	__u32 esr_pending;
	__u64 reserved[6];
};

#define LV_GET_LAPIC		_IOR(LVIO, 0x28, struct lv_lapic_state)
#define LV_SET_LAPIC		_IOW(LVIO, 0x29, struct lv_lapic_state)

/**
 * struct lv_xsave - a vCPU's x87, SSE and extended (AVX, ...) registers
 * @region: the standard (not compacted) XSAVE image: the 512-byte legacy
 *	area (FXSAVE layout), the 64-byte XSAVE header, then each state
 *	component at the offset CPUID leaf 0xd gives for it. A component
 *	whose XSTATE_BV bit (header, bytes 512-519) is clear is in its
 *	initial state.
 *
 * PKRU is not here but in struct lv_vcpu_state, so that one value has
 * one place. LV_SET_XSAVE (vCPU fd) refuses with EINVAL: XSTATE_BV bits
 * for components the guest cannot enable (XCR0's rules) or for PKRU, a
 * non-zero XCOMP_BV or reserved header bytes, MXCSR bits the CPU does not
 * have. E2BIG (both calls): the guest's state does not fit in 4 KiB.
 */
struct lv_xsave {
	__u32 region[1024];
};

#define LV_GET_XSAVE		_IOR(LVIO, 0x2a, struct lv_xsave)
#define LV_SET_XSAVE		_IOW(LVIO, 0x2b, struct lv_xsave)

/* --- the run structure --- */

/**
 * DOC: exit reasons
 *
 * LV_EXIT_IO: port I/O; userspace reads or fills @io.count items of
 *	@io.size bytes at @io.data_offset within the run page. Port I/O
 *	with REP is split into as many items as fit in the page (and in
 *	one guest page of RAM); an item whose memory operand is not RAM is
 *	an exit of one item, next to the LV_EXIT_MMIO exits for its memory
 *	part. A memory operand the guest cannot access is its #PF.
 * LV_EXIT_MMIO: a guest-physical access outside guest RAM, or a write to
 *	read-only memory; @mmio.data holds the value written, or userspace
 *	stores the value to be read there. One instruction may make several
 *	such exits, in the order the CPU accesses memory, as under KVM: a
 *	read-modify-write (LOCK ADD, XCHG, CMPXCHG, BTS...) is a read exit
 *	then a write exit; an access that crosses a page boundary is split
 *	there (a part in RAM is done in RAM); MOVS between two devices reads
 *	one and writes the other. The instruction completes on the LV_RUN
 *	after its last exit.
 * LV_EXIT_HLT: the guest halted with interrupts disabled (nothing can
 *	wake it).
 * LV_EXIT_SHUTDOWN: triple fault; the vCPU cannot continue.
 * LV_EXIT_FAIL_ENTRY: VM entry failed; @fail_entry has the hardware reason.
 * LV_EXIT_INTERNAL_ERROR: an exit lightvisor does not handle; @internal
 *	has details. The vCPU stops there.
 * LV_EXIT_INTR: a signal is pending, or @immediate_exit was set; LV_RUN
 *	also returns -1 with errno EINTR.
 * LV_EXIT_HYPERCALL: a VMCALL the kernel does not handle itself.
 * LV_EXIT_IRQ_WINDOW_OPEN: @request_interrupt_window was set and the
 *	guest can take an interrupt now.
 */
enum lv_exit_reason {
	LV_EXIT_UNKNOWN		= 0,
	LV_EXIT_IO		= 1,
	LV_EXIT_MMIO		= 2,
	LV_EXIT_HLT		= 3,
	LV_EXIT_SHUTDOWN	= 4,
	LV_EXIT_FAIL_ENTRY	= 5,
	LV_EXIT_INTERNAL_ERROR	= 6,
	LV_EXIT_INTR		= 7,
	LV_EXIT_HYPERCALL	= 8,
	LV_EXIT_IRQ_WINDOW_OPEN	= 9,
};

#define LV_EXIT_IO_IN		0
#define LV_EXIT_IO_OUT		1

enum lv_internal_error {
	LV_INTERNAL_ERROR_UNHANDLED_EXIT	= 1,
	LV_INTERNAL_ERROR_EMULATION		= 2,
	LV_INTERNAL_ERROR_DELIVERY_EV		= 3,
	LV_INTERNAL_ERROR_HOST_FAULT		= 4,
};

/**
 * DOC: hypercalls
 *
 * A guest makes a hypercall with VMCALL: RAX holds the number, RBX, RCX,
 * RDX, RSI the arguments; the result comes back in RAX. Numbers handled
 * by the kernel:
 *
 * LV_HC_NOP: returns 0 at once (for latency measurements).
 * LV_HC_VERSION: returns LV_API_VERSION.
 *
 * Hypervisor CPUID leaves: 0x40000000 returns the highest hypervisor leaf
 * (0x40000010) in EAX and "LightVisorLV" in EBX, ECX, EDX; 0x40000010
 * returns the TSC frequency in kHz in EAX and the local APIC timer's
 * bus frequency in kHz in EBX (1000000: one timer tick per ns, before
 * the divider), so a guest needs no calibration.
 *
 * Numbers from LV_HC_USER_BASE up exit to userspace as LV_EXIT_HYPERCALL;
 * the value userspace leaves in @hypercall.ret is returned in RAX. Any
 * other number returns -LV_HC_ENOSYS (as an unsigned 64-bit value).
 * VMCALL from guest ring 3 returns -LV_HC_EPERM.
 */
#define LV_HC_NOP		0
#define LV_HC_VERSION		1
#define LV_HC_USER_BASE		0x10000
#define LV_HC_ENOSYS		38
#define LV_HC_EPERM		1

/**
 * struct lv_run - shared between a vCPU and userspace by mmap
 * @request_interrupt_window: in: exit with LV_EXIT_IRQ_WINDOW_OPEN as
 *	soon as the guest can take an interrupt
 * @immediate_exit: in: return from LV_RUN with EINTR before entering
 * @padding1: reserved
 * @exit_reason: out: an enum lv_exit_reason
 * @if_flag: out: guest RFLAGS.IF at the exit
 * @ready_for_interrupt_injection: out: an LV_INTERRUPT would be taken at
 *	the next entry
 * @padding2: reserved
 * @hw_exit_reason: out: the hardware's own exit reason, for tracing: the
 *	VMX basic exit reason with its flags (bits 31:0), or the SVM exit
 *	code (VMCB EXITCODE); which one, LV_CHECK_CAP cannot tell, the
 *	kernel log names the backend
 * @exit_qualification: the same field under its first name
 * @cr8: out: guest CR8
 * @apic_base: out: guest APIC base MSR
 * @io: out, LV_EXIT_IO: @io.direction (LV_EXIT_IO_IN/OUT), @io.size (1, 2
 *	or 4 bytes), @io.port, @io.count (> 1 for REP INS/OUTS) and the
 *	offset of the data in the shared page, @io.data_offset
 * @mmio: in/out, LV_EXIT_MMIO: @mmio.phys_addr, @mmio.len bytes of
 *	@mmio.data (written by the guest, or to be filled in for a read),
 *	@mmio.is_write
 * @fail_entry: out, LV_EXIT_FAIL_ENTRY: the hardware's entry failure reason
 *	and the host CPU
 * @internal: out, LV_EXIT_INTERNAL_ERROR: a suberror and @internal.ndata
 *	words of @internal.data (a VMCS dump)
 * @hypercall: in/out, LV_EXIT_HYPERCALL: number, arguments, and the
 *	return value userspace puts in RAX
 * @padding: keeps the union at 256 bytes
 */
struct lv_run {
	__u8 request_interrupt_window;
	__u8 immediate_exit;
	__u8 padding1[6];

	__u32 exit_reason;
	__u8 if_flag;
	__u8 ready_for_interrupt_injection;
	__u8 padding2[2];
	union {
		__u64 hw_exit_reason;
		__u64 exit_qualification;
	};
	__u64 cr8;
	__u64 apic_base;

	union {
		/* LV_EXIT_IO */
		struct {
			__u8 direction;
			__u8 size;
			__u16 port;
			__u32 count;
			__u64 data_offset;
		} io;
		/* LV_EXIT_MMIO */
		struct {
			__u64 phys_addr;
			__u8 data[8];
			__u32 len;
			__u8 is_write;
		} mmio;
		/* LV_EXIT_FAIL_ENTRY */
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 cpu;
			__u32 padding;
		} fail_entry;
		/* LV_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[16];
		} internal;
		/* LV_EXIT_HYPERCALL */
		struct {
			__u64 nr;
			__u64 args[4];
			__u64 ret;
		} hypercall;
		__u8 padding[256];
	};
};

/* Where LV_EXIT_IO data starts within the vCPU's shared page. */
#define LV_RUN_IO_DATA_OFFSET	1024

#endif /* _UAPI_LINUX_LIGHTVISOR_H */
