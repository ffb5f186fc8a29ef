/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One small interface over two hypervisors, so that every workload runs
 * the same code path and the same guest bytes under lightvisor and KVM.
 */
#ifndef BENCH_HV_H
#define BENCH_HV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "layout.h"

enum bench_exit {
	BX_HLT,
	BX_IO_OUT,	/* arg: port, hv_vm.exit_data: the byte written */
	BX_MMIO_WRITE,	/* arg: guest-physical address, exit_data: value */
	BX_IOAPIC_EOI,	/* KVM's split irqchip: arg: the vector */
	BX_OTHER,	/* anything else: detail says what */
};

/* How a VM gets its interrupt controllers (vm_up()). */
enum bench_irqchip {
	IRQCHIP_NONE,
	IRQCHIP_KERNEL,	/* local APICs, I/O APIC, PICs in the kernel */
	IRQCHIP_SPLIT,	/* local APICs in the kernel, the rest in userspace */
};

struct bench_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip;
};

struct hv_vm {
	int fd;
	int vcpu_fd;
	int vcpu_id;		/* what create_vcpu creates */
	void *run;
	size_t run_size;
	uint8_t *mem;
	uint64_t exit_data;	/* see enum bench_exit */
};

struct hv_ops {
	const char *name;
	/* Opens the device; returns 0 or -errno. */
	int (*open)(void);
	/* The hypercall number that is answered in the kernel. */
	uint64_t hc_nr;
	/* What that hypercall returns in RAX. */
	uint64_t hc_ret;
	int (*create_vm)(struct hv_vm *vm);
	int (*add_memory)(struct hv_vm *vm, uint64_t gpa, void *hva, size_t size);
	/* IRQCHIP_KERNEL or IRQCHIP_SPLIT, before any vCPU; -EOPNOTSUPP. */
	int (*create_irqchip)(struct hv_vm *vm, enum bench_irqchip kind);
	/* Creates vCPU vm->vcpu_id, maps its run structure. */
	int (*create_vcpu)(struct hv_vm *vm);
	/* Lets a vCPU other than 0 run without INIT-SIPI-SIPI. */
	int (*start_ap)(struct hv_vm *vm);
	/* Drives an irqchip input line (GSI) to @level. */
	int (*irq_line)(struct hv_vm *vm, uint32_t line, int level);
	/* Sends an MSI; returns 0 or -errno. */
	int (*signal_msi)(struct hv_vm *vm, uint64_t address, uint32_t data);
	/* 64-bit mode, paging with the tables at BENCH_PML4_GPA. */
	int (*setup_vcpu)(struct hv_vm *vm, const struct bench_regs *regs);
	/* Runs until an exit to userspace; returns 0 or -errno. */
	int (*run)(struct hv_vm *vm, enum bench_exit *why, uint64_t *arg,
		   char *detail, size_t detail_len);
	int (*get_regs)(struct hv_vm *vm, struct bench_regs *regs);
	void (*destroy)(struct hv_vm *vm);
};

/*
 * lightvisor's ABI mirrors KVM's field by field, so the guest's state is
 * written once, for either struct: a flat segment, the long-mode system
 * state (GDT with code 0x08, data 0x10, TSS 0x18; paging from
 * BENCH_PML4_GPA) and the general registers.
 */
#define HV_FLAT_SEGMENT(seg, sel, seg_type, code_or_data) do {		\
	memset(&(seg), 0, sizeof(seg));					\
	(seg).selector = (sel);						\
	(seg).limit = 0xffffffff;					\
	(seg).type = (seg_type);					\
	(seg).s = (code_or_data);					\
	(seg).present = 1;						\
	(seg).g = 1;							\
} while (0)

#define HV_LONG_MODE_SREGS(sregs) do {					\
	HV_FLAT_SEGMENT((sregs).cs, 0x08, 0xb, 1);			\
	(sregs).cs.l = 1;						\
	HV_FLAT_SEGMENT((sregs).ds, 0x10, 0x3, 1);			\
	(sregs).ds.db = 1;						\
	(sregs).es = (sregs).fs = (sregs).gs = (sregs).ss = (sregs).ds;	\
	HV_FLAT_SEGMENT((sregs).tr, 0x18, 0xb, 0);			\
	(sregs).tr.limit = 0x67;					\
	(sregs).tr.g = 0;						\
	memset(&(sregs).ldt, 0, sizeof((sregs).ldt));			\
	(sregs).ldt.unusable = 1;					\
	(sregs).gdt.base = 0;						\
	(sregs).gdt.limit = 0x1f;					\
	(sregs).idt.base = 0;						\
	(sregs).idt.limit = 0;						\
	(sregs).cr0 = 0x80000031;	/* PG NE ET PE */		\
	(sregs).cr3 = BENCH_PML4_GPA;					\
	(sregs).cr4 = 0x20;		/* PAE */			\
	(sregs).efer = 0x500;		/* LMA LME */			\
} while (0)

/* The registers a workload starts with (struct lv_regs or kvm_regs). */
#define HV_BENCH_TO_REGS(regs, br) do {					\
	memset(&(regs), 0, sizeof(regs));				\
	(regs).rdi = (br)->rdi;						\
	(regs).rsi = (br)->rsi;						\
	(regs).r9 = (br)->r9;						\
	(regs).r10 = (br)->r10;						\
	(regs).rsp = (br)->rsp;						\
	(regs).rip = (br)->rip;						\
	(regs).rflags = 2;						\
} while (0)

#define HV_REGS_TO_BENCH(br, r) (*(br) = (struct bench_regs){		\
	(r).rax, (r).rbx, (r).rcx, (r).rdx, (r).rsi, (r).rdi, (r).rsp,	\
	(r).rbp, (r).r8, (r).r9, (r).r10, (r).r11, (r).r12, (r).r13,	\
	(r).r14, (r).r15, (r).rip,					\
})

/* hv.c: what both backends do alike. */
int hv_map_run(struct hv_vm *vm, int size);
void hv_close(struct hv_vm *vm);
void hv_close_vcpu(struct hv_vm *vm);

extern const struct hv_ops hv_lightvisor;
extern const struct hv_ops hv_kvm;

#endif /* BENCH_HV_H */
