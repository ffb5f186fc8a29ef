/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One small interface over two hypervisors, so that every workload runs
 * the same code path and the same guest bytes under lightvisor and KVM.
 */
#ifndef BENCH_HV_H
#define BENCH_HV_H

#include <stddef.h>
#include <stdint.h>

/* Guest memory layout (one slot at guest-physical 0). */
#define BENCH_MEM_SIZE		0x10000		/* 64 KiB */
#define BENCH_PML4_GPA		0x1000
#define BENCH_PDPT_GPA		0x2000
#define BENCH_PD_GPA		0x3000
#define BENCH_CODE_GPA		0x4000
#define BENCH_STACK_TOP		BENCH_MEM_SIZE
/* Mapped by the guest page tables, backed by no slot: an MMIO exit. */
#define BENCH_MMIO_GPA		0x100000
#define BENCH_PORT		0x10

enum bench_exit {
	BX_HLT,
	BX_IO_OUT,	/* data: the byte written, arg: port */
	BX_MMIO_WRITE,	/* arg: guest-physical address */
	BX_OTHER,	/* anything else: detail says what */
};

struct bench_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip;
};

struct hv_vm {
	int fd;
	int vcpu_fd;
	void *run;
	size_t run_size;
	uint8_t *mem;
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
	/* Creates vCPU 0, maps its run structure. */
	int (*create_vcpu)(struct hv_vm *vm);
	/* 64-bit mode, paging with the tables at BENCH_PML4_GPA. */
	int (*setup_vcpu)(struct hv_vm *vm, const struct bench_regs *regs);
	/* Runs until an exit to userspace; returns 0 or -errno. */
	int (*run)(struct hv_vm *vm, enum bench_exit *why, uint64_t *arg,
		   char *detail, size_t detail_len);
	int (*get_regs)(struct hv_vm *vm, struct bench_regs *regs);
	void (*destroy)(struct hv_vm *vm);
};

extern const struct hv_ops hv_lightvisor;
extern const struct hv_ops hv_kvm;

#endif /* BENCH_HV_H */
