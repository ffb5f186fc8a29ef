/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-physical layout and constants shared by the benchmark guest
 * (guest.S) and its runner (lvbench.c). Plain #defines only: included
 * by assembly too.
 */
#ifndef BENCH_LAYOUT_H
#define BENCH_LAYOUT_H

/* Every VM: one slot at guest-physical 0. */
#define BENCH_MEM_SIZE		0x10000		/* 64 KiB */
#define BENCH_PML4_GPA		0x1000
#define BENCH_PDPT_GPA		0x2000
#define BENCH_PD_GPA		0x3000
#define BENCH_CODE_GPA		0x4000
#define BENCH_STACK_TOP		BENCH_MEM_SIZE
/* Mapped by the guest page tables, backed by no slot: an MMIO exit. */
#define BENCH_MMIO_GPA		0x100000
#define BENCH_PORT		0x10

/*
 * The interrupt workloads: a larger slot (the samples follow the first
 * 64 KiB), an IDT, a data page, a stack for vCPU 1, and the top GiB of
 * the 4 GiB space mapped for the I/O APIC.
 */
#define BENCH_IRQ_MEM_SIZE	0x80000		/* 512 KiB */
#define BENCH_IDT_GPA		0x6000
#define BENCH_DATA_GPA		0x7000
#define BENCH_STACK1_TOP	0xe000
#define BENCH_SAMPLE_GPA	0x10000		/* one u32 per iteration */
#define BENCH_MAX_SAMPLES	((BENCH_IRQ_MEM_SIZE - BENCH_SAMPLE_GPA) / 4)

/* Offsets in the data page. */
#define BD_FLAG			0x00	/* byte: vCPU 0's handler ran */
#define BD_COUNT		0x08	/* u64: interrupts taken by vCPU 0 */
#define BD_COUNT1		0x10	/* u64: interrupts taken by vCPU 1 */
#define BD_READY1		0x18	/* u64: vCPU 1 is ready for IPIs */
#define BD_IDTR			0x20	/* limit (u16), base (u64) */
#define BD_LATE			0x30	/* u64: deadlines armed too late */
#define BD_SCRATCH		0x38	/* u32: the EOI handler's sample */

/* Ports the interrupt workloads write (all exit to the runner). */
#define BENCH_DONE_PORT		0x11	/* the vCPU is finished */
#define BENCH_BAD_PORT		0x12	/* an unexpected vector was taken */

/* Vectors. */
#define BV_TIMER		0x40
#define BV_SELF			0x41
#define BV_IPI			0x42	/* vCPU 0 -> vCPU 1 */
#define BV_IPI_BACK		0x43	/* vCPU 1 -> vCPU 0 */
#define BV_LINE			0x44
#define BV_STOP			0x45	/* vCPU 1 leaves */

/* The I/O APIC pin the line workload raises: above the PICs' 0-15. */
#define BENCH_LINE		20
#define BENCH_IOAPIC_GPA	0xfec00000

/* Workloads (RDI). */
#define BW_HALT			0
#define BW_CPUID		1
#define BW_HYPERCALL		2
#define BW_PIO			3
#define BW_MMIO			4
#define BW_TIMER		5
#define BW_EOI			6
#define BW_IPI			7
#define BW_IPI_AP		8
#define BW_LINE			9

#endif /* BENCH_LAYOUT_H */
