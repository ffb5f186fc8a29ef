// SPDX-License-Identifier: GPL-2.0
/*
 * lvbench: the same workloads and guest bytes under lightvisor or KVM.
 *
 *   lvbench [-n ITER] [-l LIFECYCLES] HV WORKLOAD...
 *
 * HV is "lightvisor" or "kvm". Workloads:
 *   cpuid hypercall pio mmio  exit round trips, guest loop of ITER
 *   lifecycle                 LIFECYCLES times create/run to HLT/destroy
 *   density=N                 N live VMs, creation time of each, memory
 *   fill[=G]                  as many live VMs as fit in memory (creation
 *                             budget G * 10^9 ticks, default 60)
 *   vmas=N                    20 lifecycles with N extra mappings (diagnostic)
 *   mmio_1g                   MMIO exits, guest mapped by a 1 GiB page (diagnostic)
 *   timer eoi ipi ioapic      interrupt paths with the in-kernel irqchip, ITER
 *                             samples each, median ("irq" runs all of them)
 *   ioapic_split              ioapic with KVM's split irqchip (KVM only)
 *   ioapic_msi                ioapic, the raise sent by userspace as an MSI
 *   smoke                     every workload once, TAP output, no figures
 *
 * Results are lines "BENCH<TAB>hv<TAB>metric<TAB>value" (TSC ticks, KiB)
 * and, per created VM of a density run, "DENSITY<TAB>hv<TAB>N<TAB>k<TAB>ticks".
 * Everything is in TSC ticks of the machine lvbench runs on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <x86intrin.h>

#include "hv.h"
#include "../abi/test_util.h"

extern const uint8_t bench_guest[], bench_guest_end[];
extern const uint8_t bench_h_timer[], bench_h_self[], bench_h_ipi[],
	bench_h_ipi_back[], bench_h_line[], bench_h_stop[], bench_h_bad[];

enum { W_HALT, W_CPUID, W_HYPERCALL, W_PIO, W_MMIO };

static const struct hv_ops *hv;
static uint8_t image2m[BENCH_MEM_SIZE], image1g[BENCH_MEM_SIZE];
static uint8_t imageirq[BENCH_MEM_SIZE];
/* What vm_up() copies into guest RAM, how much RAM, which irqchip. */
static const uint8_t *image = image2m;
static size_t vm_mem_size = BENCH_MEM_SIZE;
static enum bench_irqchip vm_irqchip = IRQCHIP_NONE;
static char err[256];
/* The errno behind the last vm_up() failure. */
static int err_no;
static int tap_n, tap_failed;

static uint64_t tsc(void)
{
	unsigned int aux;

	return __rdtscp(&aux);
}

static void put64(uint8_t *img, uint64_t gpa, uint64_t v)
{
	memcpy(img + gpa, &v, 8);
}

/* Guest offset of a symbol of the guest code. */
#define GUEST_ADDR(sym) (BENCH_CODE_GPA + (uint64_t)((sym) - bench_guest))

/* A 64-bit interrupt gate to @addr, code selector 0x08, DPL 0. */
static void put_gate(uint8_t *img, int vector, uint64_t addr)
{
	uint64_t lo = (addr & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) |
		      ((addr >> 16 & 0xffff) << 48);

	put64(img, BENCH_IDT_GPA + vector * 16, lo);
	put64(img, BENCH_IDT_GPA + vector * 16 + 8, addr >> 32);
}

/*
 * The interrupt workloads' image: image2m plus a GDT whose code (0x08)
 * and data (0x10) descriptors interrupt delivery and IRET load, the top
 * GiB below 4 GiB mapped (the I/O APIC), and the IDT with its IDTR.
 */
static void build_irq_image(void)
{
	static const struct { int v; const uint8_t *h; } gates[] = {
		{ BV_TIMER, bench_h_timer }, { BV_SELF, bench_h_self },
		{ BV_IPI, bench_h_ipi }, { BV_IPI_BACK, bench_h_ipi_back },
		{ BV_LINE, bench_h_line }, { BV_STOP, bench_h_stop },
	};
	size_t i;

	memcpy(imageirq, image2m, sizeof(imageirq));
	put64(imageirq, 0x08, 0x00af9a000000ffffULL);	/* 64-bit code */
	put64(imageirq, 0x10, 0x00cf92000000ffffULL);	/* data */
	put64(imageirq, BENCH_PDPT_GPA + 3 * 8, 0xc0000000ULL | 0x9b); /* PCD PWT PS */
	for (i = 0; i < 256; i++)
		put_gate(imageirq, i, GUEST_ADDR(bench_h_bad));
	for (i = 0; i < sizeof(gates) / sizeof(gates[0]); i++)
		put_gate(imageirq, gates[i].v, GUEST_ADDR(gates[i].h));
	put64(imageirq, BENCH_DATA_GPA + BD_IDTR, (uint64_t)BENCH_IDT_GPA << 16 | 0xfff);
}

/*
 * The guest image: page tables, then the code. image2m maps the first
 * 2 MiB with one PD entry (three levels to walk), image1g the first GiB
 * with one PDPT entry (two levels); the latter only serves to measure
 * what one level of a software page walk costs.
 */
static void build_images(void)
{
	put64(image2m, BENCH_PML4_GPA, BENCH_PDPT_GPA | 3);
	put64(image2m, BENCH_PDPT_GPA, BENCH_PD_GPA | 3);
	put64(image2m, BENCH_PD_GPA, 0x83);	/* 2 MiB page at 0: P RW PS */
	memcpy(image2m + BENCH_CODE_GPA, bench_guest, bench_guest_end - bench_guest);
	put64(image1g, BENCH_PML4_GPA, BENCH_PDPT_GPA | 3);
	put64(image1g, BENCH_PDPT_GPA, 0x83);	/* 1 GiB page at 0 */
	memcpy(image1g + BENCH_CODE_GPA, bench_guest, bench_guest_end - bench_guest);
	build_irq_image();
}

struct vm {
	struct hv_vm h;
	uint8_t *mem;
	size_t mem_size;
};

/* A VM with its memory and vCPU 0, which starts with @regs. */
static int vm_up_regs(struct vm *vm, const struct bench_regs *regs)
{
	int r;

	memset(&vm->h, 0, sizeof(vm->h));
	vm->h.fd = vm->h.vcpu_fd = -1;
	vm->mem_size = vm_mem_size;
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		err_no = errno;
		snprintf(err, sizeof(err), "mmap: %s", strerror(errno));
		return -1;
	}
	memcpy(vm->mem, image, BENCH_MEM_SIZE);
	if ((r = hv->create_vm(&vm->h)) < 0) {
		err_no = -r;
		snprintf(err, sizeof(err), "create VM: %s", strerror(-r));
		return -1;
	}
	if ((r = hv->add_memory(&vm->h, 0, vm->mem, vm->mem_size)) < 0) {
		err_no = -r;
		snprintf(err, sizeof(err), "add memory: %s", strerror(-r));
		return -1;
	}
	if (vm_irqchip != IRQCHIP_NONE &&
	    (r = hv->create_irqchip(&vm->h, vm_irqchip)) < 0) {
		err_no = -r;
		snprintf(err, sizeof(err), "create irqchip: %s", strerror(-r));
		return -1;
	}
	if ((r = hv->create_vcpu(&vm->h)) < 0) {
		err_no = -r;
		snprintf(err, sizeof(err), "create vCPU: %s", strerror(-r));
		return -1;
	}
	if ((r = hv->setup_vcpu(&vm->h, regs)) < 0) {
		err_no = -r;
		snprintf(err, sizeof(err), "set registers: %s", strerror(-r));
		return -1;
	}
	return 0;
}

/* A VM with its memory and vCPU, ready to run workload w. */
static int vm_up(struct vm *vm, int w, uint64_t iters)
{
	struct bench_regs regs = {
		.rdi = w, .rsi = iters, .r9 = hv->hc_nr, .r10 = BENCH_MMIO_GPA,
		.rsp = BENCH_STACK_TOP, .rip = BENCH_CODE_GPA,
	};

	return vm_up_regs(vm, &regs);
}

static void vm_down(struct vm *vm)
{
	hv->destroy(&vm->h);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->mem = NULL;
}

/*
 * Runs to the guest's HLT. Exits of kind @expect at @addr are counted in
 * *exits and the vCPU re-entered; anything else is an error.
 */
static int run_to_halt(struct vm *vm, enum bench_exit expect, uint64_t addr,
		       uint64_t *exits)
{
	char detail[128];
	enum bench_exit why;
	uint64_t arg = 0;
	int r;

	*exits = 0;
	for (;;) {
		detail[0] = 0;
		r = hv->run(&vm->h, &why, &arg, detail, sizeof(detail));
		if (r < 0) {
			snprintf(err, sizeof(err), "run: %s", strerror(-r));
			return -1;
		}
		if (why == BX_HLT)
			return 0;
		if (why != expect || arg != addr) {
			snprintf(err, sizeof(err), "unexpected exit %d (0x%llx) %s",
				 why, (unsigned long long)arg, detail);
			return -1;
		}
		(*exits)++;
	}
}

static void result(const char *metric, double v)
{
	printf("BENCH\t%s\t%s\t%.0f\n", hv->name, metric, v);
	fflush(stdout);
}

static void tap(bool ok, const char *what)
{
	tap_n++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - %s: %s%s%s\n", ok ? "" : "not ", tap_n, hv->name, what,
	       ok ? "" : " # ", ok ? "" : err);
	fflush(stdout);
}

/* --- exit round trips ---------------------------------------------------- */

static const struct {
	const char *name;
	int w;
	enum bench_exit expect;
	uint64_t addr;
	const uint8_t *image;
} exit_workloads[] = {
	{ "cpuid", W_CPUID, BX_HLT, 0, image2m },
	{ "hypercall", W_HYPERCALL, BX_HLT, 0, image2m },
	{ "pio", W_PIO, BX_IO_OUT, BENCH_PORT, image2m },
	{ "mmio", W_MMIO, BX_MMIO_WRITE, BENCH_MMIO_GPA, image2m },
	/* Diagnostic: MMIO with one guest page-table level less to walk. */
	{ "mmio_1g", W_MMIO, BX_MMIO_WRITE, BENCH_MMIO_GPA, image1g },
};

/*
 * One exit workload in a fresh VM; *per_exit gets the guest-measured
 * ticks per round trip (empty loop subtracted), *host the host-measured
 * ticks per iteration of the whole LV_RUN/KVM_RUN sequence.
 */
static int exit_bench(int i, uint64_t iters, double *per_exit, double *host)
{
	struct bench_regs regs;
	struct vm vm;
	uint64_t exits, t0, t1;
	int r = -1;

	image = exit_workloads[i].image;
	r = vm_up(&vm, exit_workloads[i].w, iters);
	image = image2m;
	if (r)
		goto out;
	r = -1;
	t0 = tsc();
	if (run_to_halt(&vm, exit_workloads[i].expect, exit_workloads[i].addr, &exits))
		goto out;
	t1 = tsc();
	if (hv->get_regs(&vm.h, &regs) < 0) {
		snprintf(err, sizeof(err), "get registers: %s", strerror(errno));
		goto out;
	}
	if (exit_workloads[i].expect != BX_HLT && exits != iters) {
		snprintf(err, sizeof(err), "%llu exits to userspace, expected %llu",
			 (unsigned long long)exits, (unsigned long long)iters);
		goto out;
	}
	if (exit_workloads[i].w == W_CPUID && (uint32_t)regs.rbp == 0) {
		snprintf(err, sizeof(err), "CPUID leaf 0 returned EAX 0");
		goto out;
	}
	if (exit_workloads[i].w == W_HYPERCALL && regs.rbp != hv->hc_ret) {
		snprintf(err, sizeof(err), "hypercall returned 0x%llx",
			 (unsigned long long)regs.rbp);
		goto out;
	}
	if (regs.r13 <= regs.r12) {
		snprintf(err, sizeof(err), "loop %llu ticks, empty loop %llu",
			 (unsigned long long)regs.r13, (unsigned long long)regs.r12);
		goto out;
	}
	*per_exit = (double)(regs.r13 - regs.r12) / iters;
	*host = (double)(t1 - t0) / iters;
	r = 0;
out:
	vm_down(&vm);
	return r;
}

/* --- lifecycle ------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, int n, int p)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(int)((long)(n - 1) * p / 100)];
}

static void report_dist(const char *prefix, const char *what, uint64_t *v, int n)
{
	char m[96];

	snprintf(m, sizeof(m), "%s.%s", prefix, what);
	result(m, pct(v, n, 50));
	snprintf(m, sizeof(m), "%s.%s.p10", prefix, what);
	result(m, pct(v, n, 10));
	snprintf(m, sizeof(m), "%s.%s.p90", prefix, what);
	result(m, pct(v, n, 90));
}

/* One create/run/destroy; the times go to c (create), r (run), d (destroy). */
static int lifecycle_one(uint64_t *c, uint64_t *r, uint64_t *d)
{
	struct vm vm;
	uint64_t t0, t1, t2, t3, exits;

	t0 = tsc();
	if (vm_up(&vm, W_HALT, 1)) {
		vm_down(&vm);
		return -1;
	}
	t1 = tsc();
	if (run_to_halt(&vm, BX_HLT, 0, &exits)) {
		vm_down(&vm);
		return -1;
	}
	t2 = tsc();
	vm_down(&vm);
	t3 = tsc();
	*c = t1 - t0;
	*r = t2 - t1;
	*d = t3 - t2;
	return 0;
}

/*
 * @n lifecycles. With @sentinel another VM stays alive meanwhile, so a
 * hypervisor that enters VMX operation only while it has VMs does not
 * pay VMXON/VMXOFF each time (KVM 6.12 enables VMX at load).
 */
static int lifecycle(int n, bool sentinel, bool report)
{
	uint64_t *c = calloc(n, 8), *r = calloc(n, 8), *d = calloc(n, 8);
	uint64_t *cr = calloc(n, 8);
	const char *prefix = sentinel ? "lifecycle" : "lifecycle_alone";
	struct vm keep;
	int i, ret = -1;

	keep.mem = NULL;
	keep.h.fd = keep.h.vcpu_fd = -1;
	keep.h.run = NULL;
	if (!c || !r || !d || !cr) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (sentinel && vm_up(&keep, W_HALT, 1))
		goto out;
	for (i = 0; i < n; i++) {
		if (lifecycle_one(&c[i], &r[i], &d[i]))
			goto out;
		cr[i] = c[i] + r[i];
	}
	if (report) {
		report_dist(prefix, "create", c, n);
		report_dist(prefix, "first_run", r, n);
		report_dist(prefix, "create_run", cr, n);
		report_dist(prefix, "destroy", d, n);
	}
	ret = 0;
out:
	vm_down(&keep);
	free(c);
	free(r);
	free(d);
	free(cr);
	return ret;
}

/*
 * Lifecycle while the process holds @n extra memory mappings (single
 * pages, alternately read-only and read-write so that they do not merge):
 * shows whether creating or destroying a VM costs time per mapping of the
 * process (mmu_notifier_register() takes every mapping's locks).
 */
static int lifecycle_vmas(int n, int cycles)
{
	void **maps = calloc(n ? n : 1, sizeof(*maps));
	uint64_t *c = calloc(cycles, 8), *d = calloc(cycles, 8), r1;
	int i, made = 0, ret = -1;
	char m[96];

	if (!maps || !c || !d) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	for (; made < n; made++) {
		maps[made] = mmap(NULL, 4096, made & 1 ? PROT_READ :
				  PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (maps[made] == MAP_FAILED) {
			snprintf(err, sizeof(err), "mmap: %s", strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < cycles; i++) {
		if (lifecycle_one(&c[i], &r1, &d[i]))
			goto out;
		c[i] += r1;
	}
	snprintf(m, sizeof(m), "vmas.%d.create_run", n);
	result(m, pct(c, cycles, 50));
	snprintf(m, sizeof(m), "vmas.%d.destroy", n);
	result(m, pct(d, cycles, 50));
	ret = 0;
out:
	for (i = 0; i < made; i++)
		munmap(maps[i], 4096);
	free(maps);
	free(c);
	free(d);
	return ret;
}

/* --- density ---------------------------------------------------------------- */

/* VMs kept alive together, and how long each one took to come up. */
struct fleet {
	struct vm *vms;
	uint64_t *ticks;	/* create + run to HLT, per VM */
	int n, cap;
	long free0, slab0, free1, slab1;
};

static void fleet_start(struct fleet *f)
{
	memset(f, 0, sizeof(*f));
	f->free0 = meminfo_kb("MemFree");
	f->slab0 = meminfo_kb("Slab");
}

/* One more VM, run to its HLT; -1 (err, err_no set) if it failed. */
static int fleet_grow(struct fleet *f)
{
	uint64_t t0, exits;
	struct vm *vm;

	if (f->n == f->cap) {
		int cap = f->cap ? 2 * f->cap : 1024;
		struct vm *vms = realloc(f->vms, cap * sizeof(*vms));
		uint64_t *ticks = realloc(f->ticks, cap * sizeof(*ticks));

		if (vms)
			f->vms = vms;
		if (ticks)
			f->ticks = ticks;
		if (!vms || !ticks) {
			err_no = ENOMEM;
			snprintf(err, sizeof(err), "out of memory");
			return -1;
		}
		f->cap = cap;
	}
	vm = &f->vms[f->n];
	err_no = 0;
	t0 = tsc();
	if (vm_up(vm, W_HALT, 1) || run_to_halt(vm, BX_HLT, 0, &exits)) {
		vm_down(vm);
		snprintf(err + strlen(err), sizeof(err) - strlen(err),
			 " (VM %d)", f->n + 1);
		return -1;
	}
	f->ticks[f->n++] = tsc() - t0;
	return 0;
}

/* Per-VM figures under metric names "<prefix>.*". */
static void fleet_report(struct fleet *f, const char *prefix, const char *label)
{
	int i, n = f->n, tenth = n >= 10 ? n / 10 : 1;
	uint64_t sum_first = 0, sum_last = 0;
	char m[96];

	for (i = 0; i < n; i++) {
		printf("DENSITY\t%s\t%s\t%d\t%llu\n", hv->name, label, i + 1,
		       (unsigned long long)f->ticks[i]);
		if (i < tenth)
			sum_first += f->ticks[i];
		if (i >= n - tenth)
			sum_last += f->ticks[i];
	}
	snprintf(m, sizeof(m), "%s.create_first_tenth", prefix);
	result(m, (double)sum_first / tenth);
	snprintf(m, sizeof(m), "%s.create_last_tenth", prefix);
	result(m, (double)sum_last / tenth);
	/* Guest RAM (all of it touched by the copy of the image) excluded. */
	snprintf(m, sizeof(m), "%s.kib_per_vm", prefix);
	result(m, (double)(f->free0 - f->free1) / n - BENCH_MEM_SIZE / 1024);
	snprintf(m, sizeof(m), "%s.slab_kib_per_vm", prefix);
	result(m, (double)(f->slab1 - f->slab0) / n);
}

/* Destroys every VM; ticks per VM. */
static double fleet_destroy(struct fleet *f)
{
	uint64_t t0 = tsc();
	int i;

	for (i = 0; i < f->n; i++)
		vm_down(&f->vms[i]);
	free(f->vms);
	free(f->ticks);
	return f->n ? (double)(tsc() - t0) / f->n : 0;
}

/* N VMs alive at once: the time to create each, memory per VM. */
static int density(int n, bool report)
{
	struct fleet f;
	char prefix[32], label[16];
	double destroy;
	int ret = -1;

	fleet_start(&f);
	while (f.n < n)
		if (fleet_grow(&f))
			goto out;
	f.free1 = meminfo_kb("MemFree");
	f.slab1 = meminfo_kb("Slab");
	snprintf(prefix, sizeof(prefix), "density.%d", n);
	snprintf(label, sizeof(label), "%d", n);
	if (report)
		fleet_report(&f, prefix, label);
	ret = 0;
out:
	destroy = fleet_destroy(&f);
	if (report && ret == 0) {
		snprintf(prefix, sizeof(prefix), "density.%d.destroy_all_per_vm", n);
		result(prefix, destroy);
	}
	return ret;
}

/* Running out of one of these is where "as many as fit" ends. */
static bool is_exhaustion(int e)
{
	return e == ENOMEM || e == EMFILE || e == ENFILE || e == ENOSPC ||
	       e == EAGAIN;
}

/*
 * As many VMs as fit: create until the machine's free memory falls below
 * a reserve (5% of it, at least 64 MiB, so nothing is OOM-killed; not
 * MemAvailable, which counts KVM's debugfs dentries and inodes as
 * reclaimable slab although they cannot go while their VMs live),
 * a creation fails for want of a resource, or the creations have taken
 * @budget ticks in all (KVM's creation time grows with the VMs alive, so
 * its fill would otherwise take hours of emulated time), or @limit VMs
 * are up. Returns the number of VMs that were up, or -1.
 */
static int fill(uint64_t budget, int limit, bool report)
{
	long total = meminfo_kb("MemTotal"), reserve = total / 20;
	char why[200] = "free memory below the reserve";
	uint64_t spent = 0;
	struct fleet f;
	double destroy;
	int ret = -1;

	if (reserve < 64 * 1024)
		reserve = 64 * 1024;
	fleet_start(&f);
	for (;;) {
		if (f.n % 8 == 0 && meminfo_kb("MemFree") < reserve)
			break;
		if (spent >= budget) {
			snprintf(why, sizeof(why), "time budget spent");
			break;
		}
		if (limit && f.n == limit) {
			snprintf(why, sizeof(why), "limit reached");
			break;
		}
		if (fleet_grow(&f)) {
			if (!is_exhaustion(err_no))
				goto out;
			snprintf(why, sizeof(why), "%.150s", err);
			break;
		}
		spent += f.ticks[f.n - 1];
	}
	f.free1 = meminfo_kb("MemFree");
	f.slab1 = meminfo_kb("Slab");
	if (f.n < 10) {
		snprintf(err, sizeof(err), "only %d VMs fit: %s", f.n, why);
		goto out;
	}
	ret = f.n;
	if (!report)
		goto out;
	printf("BENCHINFO\tfill_stop_%s\t%s after %d VMs (MemFree %ld KiB, reserve %ld KiB)\n",
	       hv->name, why, f.n, meminfo_kb("MemFree"), reserve);
	result("fill.count", f.n);
	fleet_report(&f, "fill", "fill");
out:
	destroy = fleet_destroy(&f);
	if (report && ret > 0)
		result("fill.destroy_all_per_vm", destroy);
	return ret;
}

/* --- interrupt paths ------------------------------------------------------ */

/* Timer delay: longer than arming takes, so the deadline is still ahead. */
#define BENCH_TIMER_DELAY	20000

static const struct irq_workload {
	const char *name;
	int w;
	enum bench_irqchip chip;
	uint64_t r9;
	bool msi;	/* the line workload's raise sent as an MSI */
} irq_workloads[] = {
	{ "timer", BW_TIMER, IRQCHIP_KERNEL, BENCH_TIMER_DELAY, false },
	{ "eoi", BW_EOI, IRQCHIP_KERNEL, 0, false },
	{ "ipi", BW_IPI, IRQCHIP_KERNEL, 0, false },
	{ "ioapic", BW_LINE, IRQCHIP_KERNEL, BENCH_LINE, false },
	/* The same guest, its I/O APIC in this process (KVM only). */
	{ "ioapic_split", BW_LINE, IRQCHIP_SPLIT, BENCH_LINE, true },
	/*
	 * The same guest with the in-kernel irqchip, the raise sent as the
	 * MSI the guest's redirection entry describes: what an I/O APIC
	 * in userspace would send, on either hypervisor.
	 */
	{ "ioapic_msi", BW_LINE, IRQCHIP_KERNEL, BENCH_LINE, true },
};

#define NR_IRQ_WORKLOADS (sizeof(irq_workloads) / sizeof(irq_workloads[0]))

/*
 * The I/O APIC of KVM's split irqchip, emulated here as a VMM would:
 * the register window (IOREGSEL, IOWIN) and the redirection table, which
 * is all the guest uses; an edge becomes the MSI its entry describes.
 */
struct uioapic {
	uint32_t sel;
	uint64_t rte[24];
};

static bool uioapic_write(struct uioapic *io, uint64_t addr, uint32_t val)
{
	uint32_t pin;

	if (addr == BENCH_IOAPIC_GPA) {
		io->sel = val & 0xff;
		return true;
	}
	if (addr != BENCH_IOAPIC_GPA + 0x10)
		return false;
	if (io->sel < 0x10 || io->sel >= 0x10 + 2 * 24)
		return true;	/* id, version, arbitration: ignored */
	pin = (io->sel - 0x10) / 2;
	if (io->sel & 1)
		io->rte[pin] = (io->rte[pin] & 0xffffffffULL) | (uint64_t)val << 32;
	else
		io->rte[pin] = (io->rte[pin] & ~0xffffffffULL) | val;
	return true;
}

/* An edge on @pin: the MSI (SDM 11.11) of its redirection entry, unless masked. */
static int uioapic_edge(struct vm *vm, struct uioapic *io, int pin)
{
	uint64_t rte = io->rte[pin];
	uint64_t addr = 0xfee00000ULL | ((rte >> 56) & 0xff) << 12 |
			((rte >> 11) & 1) << 2;
	uint32_t data = (rte & 0xff) | ((rte >> 8) & 7) << 8;

	if (rte & (1 << 16))
		return 0;
	return hv->signal_msi(&vm->h, addr, data);
}

/* What the runner saw of an interrupt workload. */
struct irq_run {
	uint64_t raises;	/* line raises the guest asked for */
	uint64_t eois;		/* KVM_EXIT_IOAPIC_EOI exits */
	struct uioapic io;
};

/*
 * Raises the line the guest asked for: assert, deassert (one edge); or
 * the MSI of its redirection entry, from the emulated I/O APIC (split)
 * or, with the I/O APIC in the kernel, from the entry .Lline programs.
 */
static int raise_line(struct vm *vm, const struct irq_workload *iw,
		      struct irq_run *st)
{
	int r;

	st->raises++;
	if (iw->chip == IRQCHIP_SPLIT)
		return uioapic_edge(vm, &st->io, BENCH_LINE);
	if (iw->msi)
		return hv->signal_msi(&vm->h, 0xfee00000, BV_LINE);
	r = hv->irq_line(&vm->h, BENCH_LINE, 1);
	return r ? r : hv->irq_line(&vm->h, BENCH_LINE, 0);
}

/* Runs vCPU 0 of an interrupt workload to its OUT to BENCH_DONE_PORT. */
static int irq_run_bsp(struct vm *vm, const struct irq_workload *iw,
		       struct irq_run *st)
{
	bool split = iw->chip == IRQCHIP_SPLIT;
	char detail[128] = "";
	enum bench_exit why;
	uint64_t arg = 0;
	int r;

	for (;;) {
		r = hv->run(&vm->h, &why, &arg, detail, sizeof(detail));
		if (r < 0) {
			snprintf(err, sizeof(err), "run: %s", strerror(-r));
			return -1;
		}
		if (why == BX_IO_OUT && arg == BENCH_DONE_PORT)
			return 0;
		if (why == BX_IO_OUT && arg == BENCH_PORT) {
			r = raise_line(vm, iw, st);
			if (r < 0) {
				snprintf(err, sizeof(err), "raise line: %s", strerror(-r));
				return -1;
			}
			continue;
		}
		if (why == BX_MMIO_WRITE && split &&
		    uioapic_write(&st->io, arg, vm->h.exit_data))
			continue;
		if (why == BX_IOAPIC_EOI) {
			st->eois++;
			continue;
		}
		if (why == BX_IO_OUT && arg == BENCH_BAD_PORT)
			snprintf(err, sizeof(err), "vCPU 0 took an unexpected vector");
		else
			snprintf(err, sizeof(err), "unexpected exit %d (0x%llx) %s",
				 why, (unsigned long long)arg, detail);
		return -1;
	}
}

/* vCPU 1 of the IPI workload, on a thread of its own. */
struct ap {
	struct hv_vm h;
	pthread_t thread;
	volatile bool stop;
	int ret;
	char err[160];
};

static void *ap_main(void *p)
{
	struct ap *ap = p;
	char detail[128] = "";
	enum bench_exit why;
	uint64_t arg = 0;
	int r;

	for (;;) {
		r = hv->run(&ap->h, &why, &arg, detail, sizeof(detail));
		if (r == -EINTR && !ap->stop)
			continue;
		if (r < 0) {
			snprintf(ap->err, sizeof(ap->err), "vCPU 1 run: %s", strerror(-r));
			break;
		}
		if (why == BX_IO_OUT && arg == BENCH_DONE_PORT) {
			ap->ret = 0;
			return NULL;
		}
		snprintf(ap->err, sizeof(ap->err), "vCPU 1: unexpected exit %d (0x%llx) %s",
			 why, (unsigned long long)arg, detail);
		break;
	}
	ap->ret = -1;
	return NULL;
}

static void no_op(int sig)
{
	(void)sig;
}

/* Waits for vCPU 1; after a failure of vCPU 0 it is kicked out of its HLT. */
static int ap_join(struct ap *ap, bool failed)
{
	if (failed) {
		ap->stop = true;
		while (pthread_tryjoin_np(ap->thread, NULL) == EBUSY) {
			pthread_kill(ap->thread, SIGUSR1);
			usleep(10000);
		}
	} else {
		pthread_join(ap->thread, NULL);
	}
	return ap->ret;
}

/* vCPU 1 created, runnable at .Lipi_ap, its thread started. */
static int ap_start(struct vm *vm, struct ap *ap)
{
	struct bench_regs regs = {
		.rdi = BW_IPI_AP, .rsp = BENCH_STACK1_TOP, .rip = BENCH_CODE_GPA,
	};
	struct sigaction sa = { .sa_handler = no_op };
	int r;

	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: LV_RUN/KVM_RUN end */
	ap->h = vm->h;
	ap->h.vcpu_id = 1;
	ap->h.vcpu_fd = -1;
	ap->h.run = NULL;
	ap->stop = false;
	ap->ret = -1;
	ap->err[0] = 0;
	if ((r = hv->create_vcpu(&ap->h)) < 0 || (r = hv->start_ap(&ap->h)) < 0 ||
	    (r = hv->setup_vcpu(&ap->h, &regs)) < 0) {
		snprintf(err, sizeof(err), "vCPU 1: %s", strerror(-r));
		return -1;
	}
	if ((r = pthread_create(&ap->thread, NULL, ap_main, ap))) {
		snprintf(err, sizeof(err), "pthread_create: %s", strerror(r));
		return -1;
	}
	return 0;
}

static uint64_t guest_u64(struct vm *vm, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, vm->mem + gpa, 8);
	return v;
}

/*
 * vCPU 0 starts only once vCPU 1 is halted and ready: otherwise, on one
 * CPU, vCPU 0 would spin in the guest until the scheduler ran vCPU 1.
 */
static int ap_wait_ready(struct vm *vm, struct ap *ap)
{
	int ms;

	for (ms = 0; ms < 20000; ms++) {
		if (__atomic_load_n((uint64_t *)(vm->mem + BENCH_DATA_GPA + BD_READY1),
				    __ATOMIC_ACQUIRE))
			return 0;
		if (ap->ret == 0 || ap->err[0])
			break;
		usleep(1000);
	}
	snprintf(err, sizeof(err), "vCPU 1 did not get ready%s%s",
		 ap->err[0] ? ": " : "", ap->err);
	return -1;
}

/* What the guest counted must be exactly what one run of @iters gives. */
static int irq_check(const struct irq_workload *iw, struct vm *vm,
		     const struct irq_run *st, uint64_t iters)
{
	uint64_t count = guest_u64(vm, BENCH_DATA_GPA + BD_COUNT);
	uint64_t count1 = guest_u64(vm, BENCH_DATA_GPA + BD_COUNT1);
	uint64_t late = guest_u64(vm, BENCH_DATA_GPA + BD_LATE);
	uint64_t raises = iw->w == BW_LINE ? iters : 0;

	/* A timer iteration whose deadline had passed ran again (guest_irq.S). */
	if (count != iters + late || count1 != (iw->w == BW_IPI ? iters : 0)) {
		snprintf(err, sizeof(err), "vCPU 0 took %llu interrupts, vCPU 1 %llu, for %llu iterations (%llu repeated)",
			 (unsigned long long)count, (unsigned long long)count1,
			 (unsigned long long)iters, (unsigned long long)late);
		return -1;
	}
	if (late * 2 > iters) {
		snprintf(err, sizeof(err), "%llu of %llu deadlines had passed when armed: the delay is too short",
			 (unsigned long long)late, (unsigned long long)iters);
		return -1;
	}
	if (st->raises != raises || st->eois) {
		snprintf(err, sizeof(err), "%llu line raises, %llu EOI exits",
			 (unsigned long long)st->raises, (unsigned long long)st->eois);
		return -1;
	}
	return 0;
}

/*
 * One interrupt workload of @iters iterations in a fresh VM; @samples
 * gets the guest's ticks per iteration (sorted), *base the ticks to
 * subtract from each (the EOI workload's timing without its EOI).
 */
static int irq_bench(const struct irq_workload *iw, uint64_t iters,
		     uint64_t *samples, uint64_t *base)
{
	struct bench_regs regs = {
		.rdi = iw->w, .rsi = iters, .r9 = iw->r9,
		.rsp = BENCH_STACK_TOP, .rip = BENCH_CODE_GPA,
	};
	struct irq_run st = { 0 };
	struct ap ap = { .h.vcpu_fd = -1 };
	bool ipi = iw->w == BW_IPI, ap_up = false;
	struct vm vm;
	uint64_t i;
	uint32_t s;
	int r;

	if (iters > BENCH_MAX_SAMPLES) {
		snprintf(err, sizeof(err), "at most %d iterations", (int)BENCH_MAX_SAMPLES);
		return -1;
	}
	image = imageirq;
	vm_mem_size = BENCH_IRQ_MEM_SIZE;
	vm_irqchip = iw->chip;
	r = vm_up_regs(&vm, &regs);
	image = image2m;
	vm_mem_size = BENCH_MEM_SIZE;
	vm_irqchip = IRQCHIP_NONE;
	if (!r && ipi) {
		r = ap_start(&vm, &ap);
		ap_up = !r;
		if (!r)
			r = ap_wait_ready(&vm, &ap);
	}
	if (!r)
		r = irq_run_bsp(&vm, iw, &st);
	if (ap_up && ap_join(&ap, r != 0) && !r) {
		snprintf(err, sizeof(err), "%s", ap.err);
		r = -1;
	}
	if (!r && hv->get_regs(&vm.h, &regs) < 0) {
		snprintf(err, sizeof(err), "get registers: %s", strerror(errno));
		r = -1;
	}
	if (!r)
		r = irq_check(iw, &vm, &st, iters);
	for (i = 0; !r && i < iters; i++) {
		memcpy(&s, vm.mem + BENCH_SAMPLE_GPA + 4 * i, 4);
		samples[i] = s;
	}
	*base = (uint32_t)regs.r12;
	hv_close_vcpu(&ap.h);
	vm_down(&vm);
	if (!r)
		qsort(samples, iters, sizeof(*samples), cmp_u64);
	return r ? -1 : 0;
}

/* Runs one interrupt workload and reports its median and p90. */
static int irq_report(const struct irq_workload *iw, uint64_t iters)
{
	uint64_t *samples = calloc(iters, sizeof(*samples)), base;
	char m[64];
	int r;

	if (!samples) {
		snprintf(err, sizeof(err), "out of memory");
		return -1;
	}
	r = irq_bench(iw, iters, samples, &base);
	if (!r) {
		snprintf(m, sizeof(m), "irq.%s", iw->name);
		result(m, samples[(iters - 1) / 2] - base);
		snprintf(m, sizeof(m), "irq.%s.p90", iw->name);
		result(m, samples[(iters - 1) * 9 / 10] - base);
	}
	free(samples);
	return r;
}

/* Whether this hypervisor has the workload's irqchip (lightvisor: no split). */
static bool irq_applies(const struct irq_workload *iw)
{
	return iw->chip != IRQCHIP_SPLIT || hv == &hv_kvm;
}

/*
 * Every sample must exceed what is subtracted from it: the EOI workload's
 * handler stores the ticks around its own EOI write, which cost at least
 * one more than the same sequence without it (a virtualized EOI that
 * does not exit too). A sample at or below that (0: the guest clears
 * it each iteration) is an iteration that another handler ended: the
 * self-IPI reached the guest under another vector.
 */
static bool samples_above_base(const uint64_t *sorted, uint64_t n, uint64_t base)
{
	if (n && sorted[0] > base)
		return true;
	snprintf(err, sizeof(err), "a sample of %llu ticks, not above the %llu subtracted: an iteration's interrupt did not reach its own handler",
		 n ? (unsigned long long)sorted[0] : 0ULL, (unsigned long long)base);
	return false;
}

/* --- main ------------------------------------------------------------------- */

static void smoke(void)
{
	double per_exit, host;
	size_t i;

	for (i = 0; i < sizeof(exit_workloads) / sizeof(exit_workloads[0]); i++) {
		err[0] = 0;
		tap(exit_bench(i, 1, &per_exit, &host) == 0, exit_workloads[i].name);
	}
	for (i = 0; i < NR_IRQ_WORKLOADS; i++) {
		uint64_t samples[20], base;
		char what[64];

		snprintf(what, sizeof(what), "%s, 20 interrupts counted", irq_workloads[i].name);
		if (!irq_applies(&irq_workloads[i])) {
			printf("ok %d - %s: %s # SKIP no split irqchip\n", ++tap_n,
			       hv->name, irq_workloads[i].name);
			continue;
		}
		err[0] = 0;
		tap(irq_bench(&irq_workloads[i], 20, samples, &base) == 0 &&
		    samples_above_base(samples, 20, base), what);
	}
	err[0] = 0;
	tap(lifecycle(1, true, false) == 0, "lifecycle");
	err[0] = 0;
	tap(density(3, false) == 0, "density of 3 VMs");
	err[0] = 0;
	tap(fill(UINT64_MAX, 12, false) == 12, "fill, stopped at 12 VMs");
	printf("1..%d\n", tap_n);
}

static void usage(void)
{
	fprintf(stderr, "usage: lvbench [-n ITER] [-l LIFECYCLES] lightvisor|kvm "
		"{cpuid|hypercall|pio|mmio|mmio_1g|exits|timer|eoi|ipi|ioapic|ioapic_split|\n"
		"  ioapic_msi|irq|\n"
		"  lifecycle|density=N|fill[=G]|vmas=N|smoke}...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t iters = 10000;
	int lifecycles = 100, opt, r, fails = 0;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "n:l:")) != -1) {
		switch (opt) {
		case 'n': iters = strtoull(optarg, NULL, 0); break;
		case 'l': lifecycles = atoi(optarg); break;
		default: usage();
		}
	}
	if (argc - optind < 2 || iters < 1 || lifecycles < 1)
		usage();
	if (!strcmp(argv[optind], "lightvisor"))
		hv = &hv_lightvisor;
	else if (!strcmp(argv[optind], "kvm"))
		hv = &hv_kvm;
	else
		usage();
	optind++;

	/*
	 * Two fds per VM for the density runs: as many as the system allows
	 * (fs.nr_open; root may raise the hard limit), or the soft limit
	 * would end a fill long before memory does.
	 */
	rl.rlim_cur = rl.rlim_max = 1 << 20;
	if (setrlimit(RLIMIT_NOFILE, &rl) && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	build_images();
	r = hv->open();
	if (r < 0) {
		if (!strcmp(argv[optind], "smoke")) {
			printf("not ok 1 - %s: open the device # %s\n1..1\n", hv->name,
			       strerror(-r));
			return 1;
		}
		fprintf(stderr, "lvbench: %s: %s\n", hv->name, strerror(-r));
		return 1;
	}

	for (; optind < argc; optind++) {
		const char *w = argv[optind];
		double per_exit, host;
		size_t i;
		bool found = false;

		err[0] = 0;
		if (!strcmp(w, "smoke")) {
			smoke();
			fails += tap_failed;
			continue;
		}
		for (i = 0; i < sizeof(exit_workloads) / sizeof(exit_workloads[0]); i++) {
			char m[64];

			if (strcmp(w, exit_workloads[i].name) && strcmp(w, "exits"))
				continue;
			found = true;
			if (exit_bench(i, iters, &per_exit, &host)) {
				fprintf(stderr, "lvbench: %s %s: %s\n", hv->name,
					exit_workloads[i].name, err);
				fails++;
				continue;
			}
			snprintf(m, sizeof(m), "exit.%s", exit_workloads[i].name);
			result(m, per_exit);
			snprintf(m, sizeof(m), "exit.%s.host", exit_workloads[i].name);
			result(m, host);
		}
		for (i = 0; i < NR_IRQ_WORKLOADS; i++) {
			if (strcmp(w, irq_workloads[i].name) && strcmp(w, "irq"))
				continue;
			found = true;
			if (!irq_applies(&irq_workloads[i])) {
				printf("BENCHINFO\t%s_%s\tnot applicable\n",
				       irq_workloads[i].name, hv->name);
				continue;
			}
			if (irq_report(&irq_workloads[i], iters)) {
				fprintf(stderr, "lvbench: %s %s: %s\n", hv->name,
					irq_workloads[i].name, err);
				fails++;
			}
		}
		if (found)
			continue;
		if (!strcmp(w, "lifecycle")) {
			/* The variant with no other VM is secondary: a fifth. */
			if (lifecycle(lifecycles, true, true) ||
			    lifecycle(lifecycles >= 5 ? lifecycles / 5 : 1, false, true)) {
				fprintf(stderr, "lvbench: %s lifecycle: %s\n", hv->name, err);
				fails++;
			}
		} else if (!strncmp(w, "vmas=", 5)) {
			if (lifecycle_vmas(atoi(w + 5), 20)) {
				fprintf(stderr, "lvbench: %s %s: %s\n", hv->name, w, err);
				fails++;
			}
		} else if (!strcmp(w, "fill") || !strncmp(w, "fill=", 5)) {
			double g = w[4] ? atof(w + 5) : 60;

			if (g <= 0)
				usage();
			if (fill(g * 1e9, 0, true) < 0) {
				fprintf(stderr, "lvbench: %s %s: %s\n", hv->name, w, err);
				fails++;
			}
		} else if (!strncmp(w, "density=", 8)) {
			int n = atoi(w + 8);

			if (n < 1)
				usage();
			if (density(n, true)) {
				fprintf(stderr, "lvbench: %s density=%d: %s\n", hv->name, n, err);
				fails++;
			}
		} else {
			usage();
		}
	}
	return fails ? 1 : 0;
}
