/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: one thin backend per hypervisor (lightvisor, KVM). Everything
 * above this interface (loaders, devices, the run loop) is shared. The
 * register formats are lightvisor's uapi structs, which mirror KVM's field
 * by field; the KVM backend converts.
 */
#ifndef LVRUN_HV_H
#define LVRUN_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/lightvisor.h>

#include "../irq.h"

enum hv_exit_reason {
	HV_EXIT_UNKNOWN,
	HV_EXIT_IO,
	HV_EXIT_MMIO,
	HV_EXIT_HLT,		/* halted with interrupts disabled */
	HV_EXIT_SHUTDOWN,	/* triple fault */
	HV_EXIT_FAIL_ENTRY,
	HV_EXIT_INTERNAL,
	HV_EXIT_INTR,		/* a signal, or immediate_exit */
	HV_EXIT_HYPERCALL,
	HV_EXIT_IRQ_WINDOW,
	HV_NR_EXITS,
};

/* What a vCPU exit asks of lvrun; the data pointers point into the run page. */
struct hv_exit {
	enum hv_exit_reason reason;
	uint32_t raw_reason;	/* the backend's own exit reason */
	uint64_t hw_reason;	/* the hardware exit reason, where known */
	union {
		struct {
			uint16_t port;
			bool out;
			uint8_t size;
			uint32_t count;
			uint8_t *data;	/* count items of size bytes */
		} io;
		struct {
			uint64_t gpa;
			bool write;
			uint32_t len;
			uint8_t *data;
		} mmio;
		struct {
			uint64_t nr, args[4];
			uint64_t *ret;
		} hypercall;
		struct {
			uint64_t reason;
			uint32_t cpu;
		} fail_entry;
		struct {
			uint32_t suberror, ndata;
			const uint64_t *data;
		} internal;
	};
};

struct hv_vcpu {
	int id;
	int fd;
	void *run;
	/* Set from a signal handler to make the next (or current) run return. */
	volatile uint8_t *immediate_exit;
};

/* Everything of a vCPU a snapshot keeps, in lightvisor's formats. */
struct hv_vcpu_state {
	struct lv_vcpu_state cpu;
	struct lv_xsave fpu;
	struct lv_lapic_state lapic;	/* only with an in-kernel irqchip */
};

/* The CPU features a guest may have been shown: what a restore needs. */
struct hv_cpu_features {
	uint32_t leaf1_ecx, leaf1_edx;
	uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx;
	uint32_t tsc_khz;
};

/*
 * Sets @missing to the features of @want that @have lacks and says whether
 * there are any. OSXSAVE is left out: it follows the guest's CR4, not the
 * host. The TSC rate is not a feature: only a warning, for the caller.
 */
static inline bool hv_cpu_features_missing(const struct hv_cpu_features *want,
					   const struct hv_cpu_features *have,
					   struct hv_cpu_features *missing)
{
	const uint32_t osxsave = 1u << 27;

	missing->leaf1_ecx = want->leaf1_ecx & ~have->leaf1_ecx & ~osxsave;
	missing->leaf1_edx = want->leaf1_edx & ~have->leaf1_edx;
	missing->leaf7_ebx = want->leaf7_ebx & ~have->leaf7_ebx;
	missing->leaf7_ecx = want->leaf7_ecx & ~have->leaf7_ecx;
	missing->leaf7_edx = want->leaf7_edx & ~have->leaf7_edx;
	missing->tsc_khz = 0;
	return missing->leaf1_ecx || missing->leaf1_edx || missing->leaf7_ebx ||
	       missing->leaf7_ecx || missing->leaf7_edx;
}

/*
 * A VM another process prepared (lvd): created unbound, with its vCPUs
 * and maybe its in-kernel irqchip; see "unbound VMs" in the uapi header.
 */
#define HV_MAX_PREPARED_VCPUS	64
struct hv_prepared {
	int vm_fd;
	int nr_vcpus;
	int vcpu_fds[HV_MAX_PREPARED_VCPUS];
	bool irqchip;
};

struct hv;

struct hv_ops {
	const char *name;
	/* Opens the device and creates the VM; dies with a message on error. */
	void (*open)(struct hv *hv, int nr_vcpus);
	/*
	 * Instead of open: takes over @vm (binds it to this process); its
	 * vCPUs and irqchip then come from it. NULL where the backend
	 * cannot. Dies with a message on error.
	 */
	void (*adopt)(struct hv *hv, const struct hv_prepared *vm);
	void (*set_memory)(struct hv *hv, uint64_t gpa, void *host, uint64_t size);
	/*
	 * Creates the interrupt controllers and timers the hypervisor keeps
	 * itself (KVM: PICs, I/O APIC, local APICs, PIT), before any vCPU.
	 * Sets hv->has_irqchip if it did.
	 */
	void (*create_irqchip)(struct hv *hv);
	void (*set_irq_line)(struct hv *hv, unsigned int gsi, int level);
	void (*create_vcpu)(struct hv *hv, struct hv_vcpu *vcpu, int id);
	void (*get_sregs)(struct hv_vcpu *vcpu, struct lv_sregs *sregs);
	void (*set_sregs)(struct hv_vcpu *vcpu, const struct lv_sregs *sregs);
	void (*set_regs)(struct hv_vcpu *vcpu, const struct lv_regs *regs);
	/* Returns 0 with @exit filled, or -1 with errno (EINTR: a signal). */
	int (*run)(struct hv_vcpu *vcpu, struct hv_exit *exit);
	/* Returns 0, or -EBUSY if one is already pending; dies otherwise. */
	int (*queue_irq)(struct hv_vcpu *vcpu, unsigned int vector);
	int (*queue_nmi)(struct hv_vcpu *vcpu);
	void (*request_irq_window)(struct hv_vcpu *vcpu, bool on);

	/*
	 * Snapshots (NULL where the backend has none). Each returns 0 or
	 * -errno; a vCPU must be stopped between two run calls.
	 */
	int (*get_vcpu_state)(struct hv *hv, struct hv_vcpu *vcpu,
			      struct hv_vcpu_state *st);
	int (*set_vcpu_state)(struct hv *hv, struct hv_vcpu *vcpu,
			      const struct hv_vcpu_state *st);
	int (*get_irqchip)(struct hv *hv, struct lv_irqchip_state *st);
	int (*set_irqchip)(struct hv *hv, const struct lv_irqchip_state *st);
	void (*cpu_features)(struct hv *hv, struct hv_cpu_features *f);
	/*
	 * Moves the guest's TSC by @delta ticks on all @n vCPUs, none of
	 * them in its run call (lvrun pauses them first). Returns 0, or -1
	 * with errno if the hypervisor cannot.
	 */
	int (*shift_tsc)(struct hv *hv, struct hv_vcpu *const *vcpus, int n,
			 int64_t delta);

	/*
	 * Dirty-page logging of the memory set_memory() gave, for live
	 * migration (NULL where the backend has none). log_dirty() turns it
	 * on or off with the same arguments as set_memory(); the log starts
	 * empty. get_dirty_log() copies the log into @bitmap, one bit per
	 * 4 KiB page rounded up to 64 bits, and clears it: a page written
	 * after the call is in the next one. Both return 0 or -errno.
	 */
	int (*log_dirty)(struct hv *hv, uint64_t gpa, void *host, uint64_t size,
			 bool on);
	int (*get_dirty_log)(struct hv *hv, uint64_t *bitmap);

	/*
	 * Device notifications without a trip through lvrun. Each returns 0,
	 * or -1 with errno, so a device can fall back to its exit handler:
	 * EOPNOTSUPP if the hypervisor lacks the feature, otherwise the ioctl's
	 * errno (EEXIST, ENOENT, ENOSPC, ...).
	 *
	 * ioeventfd: while assigned, a guest write of @len bytes (0: any
	 * width) to port (@pio) or guest-physical address @addr, with @match
	 * only a write of @datamatch, adds 1 to eventfd @fd instead of
	 * exiting; the vCPU runs on. Deassign with the same arguments and
	 * @assign false.
	 *
	 * irqfd: while assigned, each write to eventfd @fd pulses interrupt
	 * line @gsi (an edge) of the in-kernel irqchip (ENXIO without one).
	 *
	 * irq_status: while assigned, a 4-byte guest read at @status_gpa
	 * returns *@word and a 4-byte write at @ack_gpa clears the bits it
	 * sets in *@word, both without exiting; the device sets bits in
	 * *@word atomically before it raises its interrupt. Deassign with
	 * @assign false (by @status_gpa).
	 */
	int (*ioeventfd)(struct hv *hv, uint64_t addr, unsigned int len,
			 bool pio, bool match, uint64_t datamatch, int fd,
			 bool assign);
	int (*irqfd)(struct hv *hv, unsigned int gsi, int fd, bool assign);
	int (*irq_status)(struct hv *hv, uint64_t status_gpa, uint64_t ack_gpa,
			  _Atomic uint32_t *word, bool assign);
};

struct hv {
	const struct hv_ops *ops;
	int sys_fd;
	int vm_fd;
	size_t run_size;
	bool has_irqchip;
	/* With adopt: the VM's prepared parts, else NULL. */
	struct hv_prepared *prepared;
	/* The line handle devices get: forwards to ops->set_irq_line. */
	struct irq_chip chip;
	void *priv;
};

extern const struct hv_ops hv_lightvisor_ops;
extern const struct hv_ops hv_kvm_ops;

void hv_init(struct hv *hv, const struct hv_ops *ops, int nr_vcpus);
void hv_init_prepared(struct hv *hv, const struct hv_ops *ops,
		      const struct hv_prepared *vm);
void *hv_map_run(struct hv *hv, int vcpu_fd, int id);

#endif /* LVRUN_HV_H */
