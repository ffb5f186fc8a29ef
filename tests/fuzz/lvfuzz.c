// SPDX-License-Identifier: GPL-2.0
/*
 * lvfuzz: a seeded random fuzzer of /dev/lightvisor.
 *
 * Each step picks one random operation on a small pool of VMs, vCPUs,
 * memory slots and run-page mappings: the VM, vCPU, memory-slot, dirty-log,
 * state and interrupt ioctls with random, boundary and invalid arguments,
 * unknown ioctl numbers, closes of random fds, mmap of run pages, and
 * guest runs. A guest run fills guest memory with random bytes or random
 * instructions that are likely to exit (port and MMIO accesses, CPUID,
 * MSRs, control registers, XSETBV, VMCALL, HLT, ...), sets random register
 * and system-register state (a valid real-mode, protected-mode, PAE or
 * long-mode state, then some bits flipped, or garbage), and calls LV_RUN
 * until the guest stops, counting exits by reason.
 *
 * The same seed gives the same sequence of calls (with one worker and no
 * racer thread). The fuzzer does not judge the kernel's answers beyond the
 * ABI's promises (a known exit reason); the harness fails the run on any
 * kernel report (KASAN, lockdep, WARNING, ...).
 *
 * Output is TAP (one line per worker) plus "# lvfuzz:" statistics lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/lightvisor.h>

#define MAX_VMS		3
#define MAX_VCPUS	3
#define MAX_BUFS	4
#define NR_REASONS	10
#define PAGE		4096UL
#define GUEST_RAM	(2UL << 20)	/* slot 0 of a "runnable" VM */
#define MMIO_GPA	0xfe000000UL

/* Guest-physical layout of the paging structures in guest RAM. */
#define PML4_GPA	0x2000
#define PDPT_GPA	0x3000
#define PD_GPA		0x4000
#define PAE_PDPT_GPA	0x5000
#define GDT_GPA		0x6000
#define CODE_GPA	0x10000

struct fuzz_vcpu {
	int fd;
	struct lv_run *run;
	size_t run_len;
};

struct fuzz_vm {
	int fd;
	struct fuzz_vcpu vcpus[MAX_VCPUS];
	uint8_t *ram;		/* slot 0, GUEST_RAM bytes at gpa 0 */
	uint8_t *ram_area;	/* where ram lives; mapped for good */
};

struct buf {
	uint8_t *p;
	size_t len;
};

struct stats {
	unsigned long calls, failed_calls, runs, lv_runs, exits[NR_REASONS];
	unsigned long bad_reason, run_errors;
};

static struct {
	int sys;
	int devnull;
	struct fuzz_vm vms[MAX_VMS];
	struct buf bufs[MAX_BUFS];
	uint64_t rng;
	int run_page_size;
	int nr_slots;
	int max_vcpus;
	bool trace;
	pthread_t main_thread;
	struct stats st;
} F;

static const char *const reason_names[NR_REASONS] = {
	"UNKNOWN", "IO", "MMIO", "HLT", "SHUTDOWN", "FAIL_ENTRY",
	"INTERNAL_ERROR", "INTR", "HYPERCALL", "IRQ_WINDOW_OPEN",
};

/* --- randomness ---------------------------------------------------------- */

static uint64_t rnd(void)
{
	/* splitmix64: small, fast, good enough, the same everywhere. */
	uint64_t z = (F.rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

/* A value that is often at a boundary: 0, ~0, powers of two and their
 * neighbours, page and huge-page sizes, the MMIO page, or plain random. */
static uint64_t interesting(void)
{
	static const uint64_t fixed[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0xfff, 0x1000, 0xffff, 0x10000,
		0x1fffff, 0x200000, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ULL, 0xfee00000, MMIO_GPA, 1ULL << 46, 1ULL << 47,
		1ULL << 52, (1ULL << 63) - 1, 1ULL << 63, ~0ULL, ~0ULL - 0xfff,
	};
	uint64_t v;

	switch (below(5)) {
	case 0:
		return fixed[below(sizeof(fixed) / sizeof(fixed[0]))];
	case 1:
		v = 1ULL << below(64);
		return v + (int64_t)below(3) - 1;
	case 2:
		return below(0x10000);
	case 3:
		return below(64) * PAGE;
	default:
		return rnd();
	}
}

/* --- bookkeeping --------------------------------------------------------- */

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
	va_list ap;

	if (!F.trace)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "lvfuzz %lu: ", F.st.calls);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static long call(int fd, unsigned long nr, unsigned long arg, const char *name)
{
	long ret = ioctl(fd, nr, arg);
	int err = errno;

	F.st.calls++;
	if (ret < 0)
		F.st.failed_calls++;
	trace("%s fd %d arg %#lx -> %ld%s%s", name, fd, arg, ret,
	      ret < 0 ? " " : "", ret < 0 ? strerror(err) : "");
	errno = err;
	return ret;
}

static struct fuzz_vm *any_vm(void)
{
	return &F.vms[below(MAX_VMS)];
}

static struct fuzz_vcpu *any_vcpu(struct fuzz_vm *vm)
{
	return &vm->vcpus[below(MAX_VCPUS)];
}

/* An fd to aim an ioctl at: usually the right kind, sometimes another. */
static int any_fd(void)
{
	struct fuzz_vm *vm = any_vm();

	switch (below(4)) {
	case 0:
		return F.sys;
	case 1:
		return vm->fd;
	case 2:
		return F.devnull;
	default:
		return any_vcpu(vm)->fd;
	}
}

static void unmap_run(struct fuzz_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_len);
	vcpu->run = NULL;
}

static void close_vcpu(struct fuzz_vcpu *vcpu)
{
	unmap_run(vcpu);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->fd = -1;
}

/* Closing a VM fd leaves its vCPUs (which hold the VM) alive. */
static void close_vm(struct fuzz_vm *vm, bool with_vcpus)
{
	int i;

	if (with_vcpus)
		for (i = 0; i < MAX_VCPUS; i++)
			close_vcpu(&vm->vcpus[i]);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = -1;
	if (with_vcpus)
		vm->ram = NULL;
}

/* A user pointer for a memory slot: ours, unaligned, unmapped or kernel. */
static uint64_t any_uaddr(size_t *len)
{
	struct buf *b = &F.bufs[below(MAX_BUFS)];

	*len = b->len;
	switch (below(6)) {
	case 0:
		return interesting() & ~(PAGE - 1);
	case 1:
		return (uint64_t)(uintptr_t)b->p + below(PAGE);
	default:
		return (uint64_t)(uintptr_t)b->p;
	}
}

/* --- operations: system and VM ------------------------------------------ */

static void op_sys_misc(void)
{
	static const unsigned long nrs[] = {
		LV_GET_API_VERSION, LV_CHECK_CAP, LV_GET_VCPU_MMAP_SIZE,
	};

	call(any_fd(), nrs[below(3)], chance(70) ? below(16) : interesting(),
	     "sys-misc");
}

static void op_create_vm(void)
{
	struct fuzz_vm *vm = any_vm();
	unsigned long arg = chance(80) ? 0 :
			    chance(50) ? LV_VM_UNBOUND : interesting();
	long fd;

	fd = call(chance(90) ? F.sys : any_fd(), LV_CREATE_VM, arg, "CREATE_VM");
	if (fd < 0)
		return;
	if (vm->fd >= 0 && chance(50))
		close_vm(vm, false);	/* leaves the old VM to its vCPUs */
	else if (vm->fd >= 0)
		close_vm(vm, true);
	vm->fd = fd;
}

/* Unbound VMs (LV_VM_UNBOUND) bind to this process; the rest refuse. */
static void op_bind_vm(void)
{
	struct fuzz_vm *vm = any_vm();

	call(chance(90) ? vm->fd : any_fd(), LV_BIND_VM,
	     chance(90) ? 0 : interesting(), "BIND_VM");
}

static void op_create_vcpu(void)
{
	struct fuzz_vm *vm = any_vm();
	struct fuzz_vcpu *vcpu = any_vcpu(vm);
	unsigned long id = chance(80) ? below(F.max_vcpus + 1) : interesting();
	long fd;

	fd = call(chance(95) ? vm->fd : any_fd(), LV_CREATE_VCPU, id,
		  "CREATE_VCPU");
	if (fd < 0)
		return;
	close_vcpu(vcpu);
	vcpu->fd = fd;
}

static void op_memory_region(void)
{
	struct fuzz_vm *vm = any_vm();
	struct lv_memory_region r;
	size_t len;

	r.slot = chance(80) ? below(F.nr_slots + 1) : interesting();
	r.flags = chance(70) ? below(4) : interesting();
	r.userspace_addr = any_uaddr(&len);
	r.memory_size = chance(15) ? 0 : chance(70) ?
		(below(len / PAGE) + 1) * PAGE : interesting();
	r.guest_phys_addr = chance(60) ? below(64) * 0x10000 : interesting();
	if (chance(10))
		r.guest_phys_addr = MMIO_GPA - PAGE * below(2);
	trace("SET_MEMORY_REGION slot %u flags %#x gpa %#llx size %#llx ua %#llx",
	      r.slot, r.flags, (unsigned long long)r.guest_phys_addr,
	      (unsigned long long)r.memory_size,
	      (unsigned long long)r.userspace_addr);
	call(chance(95) ? vm->fd : any_fd(), LV_SET_MEMORY_REGION,
	     chance(97) ? (unsigned long)&r : interesting(), "SET_MEMORY_REGION");
}

static void op_dirty_log(void)
{
	static uint64_t bitmap[(64UL << 20) / PAGE / 64];
	struct fuzz_vm *vm = any_vm();
	struct lv_dirty_log d;

	d.slot = chance(80) ? below(F.nr_slots + 1) : interesting();
	d.padding = chance(90) ? 0 : interesting();
	d.bitmap = chance(85) ? (uintptr_t)bitmap : interesting();
	if (chance(10))
		d.bitmap = (uintptr_t)bitmap + sizeof(bitmap) - 8;
	call(chance(95) ? vm->fd : any_fd(), LV_GET_DIRTY_LOG,
	     chance(97) ? (unsigned long)&d : interesting(), "GET_DIRTY_LOG");
}

static void op_pci(void)
{
	static const unsigned long nrs[] = {
		LV_ASSIGN_PCI_DEVICE, LV_RELEASE_PCI_DEVICE, LV_MAP_PCI_BAR,
		LV_SET_DEVICE_IRQ,
	};
	union {
		struct lv_pci_device dev;
		struct lv_pci_bar bar;
		struct lv_device_irq irq;
	} u;
	uint64_t w;
	size_t i;

	for (i = 0; i < sizeof(u); i += 8) {
		w = chance(50) ? 0 : interesting();
		memcpy((uint8_t *)&u + i, &w, 8);
	}
	/* Never a device that exists: bus 0 holds the machine's own. */
	u.dev.bus = 1 + below(255);
	u.dev.segment = chance(90) ? 0 : u.dev.segment;
	call(any_vm()->fd, nrs[below(4)], (unsigned long)&u, "pci");
}

/* An ioctl number the module does not know, or a known one with the wrong
 * direction or size. */
static void op_unknown_ioctl(void)
{
	static uint8_t arg[4096];
	unsigned long nr;

	nr = _IOC(below(4), chance(80) ? LVIO : below(256), below(0x40),
		  below(_IOC_SIZEMASK + 1) & (chance(50) ? 0xff : ~0UL));
	call(any_fd(), nr, chance(80) ? (unsigned long)arg : interesting(),
	     "ioctl-unknown");
}

static void op_close(void)
{
	struct fuzz_vm *vm = any_vm();

	if (chance(40))
		close_vm(vm, chance(50));
	else
		close_vcpu(any_vcpu(vm));
	F.st.calls++;
}

static void op_mmap_run(void)
{
	struct fuzz_vcpu *vcpu = any_vcpu(any_vm());
	size_t len = chance(80) ? (size_t)F.run_page_size :
		(below(4) + 1) * PAGE;
	off_t off = chance(85) ? 0 : (off_t)(below(4) * PAGE);
	int prot = chance(80) ? PROT_READ | PROT_WRITE :
		(int)below(8);
	int flags = chance(90) ? MAP_SHARED : MAP_PRIVATE;
	void *p;

	F.st.calls++;
	p = mmap(NULL, len, prot, flags, vcpu->fd, off);
	trace("mmap vcpu fd %d len %zu off %lld prot %d -> %p", vcpu->fd, len,
	      (long long)off, prot, p);
	if (p == MAP_FAILED) {
		F.st.failed_calls++;
		return;
	}
	if (off || len < sizeof(struct lv_run) || flags != MAP_SHARED ||
	    !(prot & PROT_READ) || !(prot & PROT_WRITE) || vcpu->run) {
		if (chance(50) && (prot & PROT_READ))
			(void)*(volatile uint8_t *)p;
		munmap(p, len);
		return;
	}
	vcpu->run = p;
	vcpu->run_len = len;
	if (chance(20))
		mremap(p, len, len * 2, 0);	/* must fail: VM_DONTEXPAND */
}

static void op_interrupt(void)
{
	struct lv_interrupt irq = {
		.vector = chance(80) ? below(256) : interesting(),
		.flags = chance(80) ? below(2) : interesting(),
	};

	call(any_vcpu(any_vm())->fd, LV_INTERRUPT, (unsigned long)&irq,
	     "INTERRUPT");
}

/* --- register state ------------------------------------------------------ */

static void seg(struct lv_segment *s, uint16_t sel, uint32_t limit,
		uint8_t type, uint8_t code_data)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = (uint64_t)sel << 4;
	s->limit = limit;
	s->type = type;
	s->s = code_data;
	s->present = 1;
}

enum mode { REAL, PROT32, PAE32, LONG64, NR_MODES };

static void sregs_for(struct lv_sregs *s, enum mode mode)
{
	memset(s, 0, sizeof(*s));
	seg(&s->cs, 0, 0xffff, 0xb, 1);
	seg(&s->ds, 0, 0xffff, 0x3, 1);
	seg(&s->tr, 0, 0xffff, 0xb, 0);
	seg(&s->ldt, 0, 0xffff, 0x2, 0);
	s->gdt = (struct lv_dtable){ .base = GDT_GPA, .limit = 0x27 };
	s->idt = (struct lv_dtable){ .base = 0, .limit = 0x3ff };
	s->cr0 = 0x10;				/* ET */
	s->apic_base = 0xfee00900;
	if (mode != REAL) {
		seg(&s->cs, 0x8, 0xffffffff, 0xb, 1);
		seg(&s->ds, 0x10, 0xffffffff, 0x3, 1);
		s->cs.base = s->ds.base = 0;
		s->cs.db = s->ds.db = 1;
		s->cs.g = s->ds.g = 1;
		seg(&s->tr, 0x18, 0x67, 0xb, 0);
		s->tr.base = 0;
		s->ldt.unusable = 1;
		s->idt.limit = 0;
		s->cr0 = 0x31;			/* PE, ET, NE */
	}
	if (mode == PAE32) {
		s->cr0 |= 0x80000000;
		s->cr4 = 0x20;
		s->cr3 = PAE_PDPT_GPA;
	}
	if (mode == LONG64) {
		s->cs.l = 1;
		s->cs.db = 0;
		s->cr0 |= 0x80000000;
		s->cr4 = 0x20;
		s->cr3 = PML4_GPA;
		s->efer = 0x500;		/* LME, LMA */
	}
	s->es = s->fs = s->gs = s->ss = s->ds;
}

static void flip_bits(void *p, size_t len, unsigned int n)
{
	uint8_t *b = p;

	while (n--)
		b[below(len)] ^= 1 << below(8);
}

/* Change a few fields of the system registers the way a confused or
 * hostile VMM would. */
static void mutate_sregs(struct lv_sregs *s)
{
	__u64 *cr[] = { &s->cr0, &s->cr3, &s->cr4, &s->efer, &s->cr8,
			   &s->apic_base };
	struct lv_segment *segs[] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs,
				      &s->ss, &s->tr, &s->ldt };
	unsigned int n = below(4);

	while (n--) {
		if (chance(50))
			*cr[below(6)] ^= 1ULL << below(64);
		else
			flip_bits(segs[below(8)], sizeof(struct lv_segment), 1);
	}
	if (chance(5))
		flip_bits(s, sizeof(*s), 1 + below(16));
}

static void random_regs(struct lv_regs *r, enum mode mode)
{
	__u64 *g = &r->rax;
	int i;

	for (i = 0; i < 16; i++)
		g[i] = chance(30) ? interesting() : below(0x100000);
	if (chance(50))
		r->rsp = 0x8000;
	r->rip = CODE_GPA;
	if (mode == REAL)
		r->rip = CODE_GPA & 0xffff;	/* CS base 0 */
	r->rflags = 2 | (chance(30) ? 0x200 : 0);
	if (chance(10))
		r->rflags = interesting();
	if (chance(5))
		r->rip = interesting();
}

/* --- guest code ---------------------------------------------------------- */

/* Instructions that exit or touch what lightvisor emulates. Operands are
 * filled with random bytes; the encoding is valid in every mode for most. */
static const struct insn {
	uint8_t len;
	uint8_t bytes[12];
} insns[] = {
	{ 2, { 0xe6, 0x00 } },			/* out imm8, al */
	{ 2, { 0xe4, 0x00 } },			/* in al, imm8 */
	{ 1, { 0xee } },			/* out dx, al */
	{ 1, { 0xef } },			/* out dx, eax */
	{ 1, { 0xec } },			/* in al, dx */
	{ 2, { 0xf3, 0x6c } },			/* rep insb */
	{ 2, { 0xf3, 0x6f } },			/* rep outsd */
	{ 2, { 0x0f, 0xa2 } },			/* cpuid */
	{ 2, { 0x0f, 0x32 } },			/* rdmsr */
	{ 2, { 0x0f, 0x30 } },			/* wrmsr */
	{ 2, { 0x0f, 0x33 } },			/* rdpmc */
	{ 2, { 0x0f, 0x31 } },			/* rdtsc */
	{ 3, { 0x0f, 0x01, 0xd1 } },		/* xsetbv */
	{ 3, { 0x0f, 0x01, 0xc1 } },		/* vmcall */
	{ 3, { 0x0f, 0x01, 0xc4 } },		/* vmxoff */
	{ 1, { 0xf4 } },			/* hlt */
	{ 1, { 0xfa } },			/* cli */
	{ 1, { 0xfb } },			/* sti */
	{ 2, { 0xfb, 0xf4 } },			/* sti; hlt */
	{ 1, { 0xcc } },			/* int3 */
	{ 2, { 0xcd, 0x00 } },			/* int imm8 */
	{ 2, { 0x0f, 0x0b } },			/* ud2 */
	{ 2, { 0x0f, 0x08 } },			/* invd */
	{ 2, { 0x0f, 0x09 } },			/* wbinvd */
	{ 3, { 0x0f, 0x22, 0xc0 } },		/* mov cr0, eax */
	{ 3, { 0x0f, 0x22, 0xe0 } },		/* mov cr4, eax */
	{ 3, { 0x0f, 0x22, 0xd8 } },		/* mov cr3, eax */
	{ 3, { 0x0f, 0x20, 0xc0 } },		/* mov eax, cr0 */
	{ 3, { 0x0f, 0x22, 0x00 } },		/* mov crN, reg (random) */
	{ 3, { 0x0f, 0x23, 0x00 } },		/* mov drN, reg (random) */
	{ 3, { 0x0f, 0x21, 0x00 } },		/* mov reg, drN (random) */
	{ 2, { 0x0f, 0x06 } },			/* clts */
	{ 3, { 0x0f, 0x01, 0x10 } },		/* lgdt [bx+si] / [eax] */
	{ 3, { 0x0f, 0x01, 0x18 } },		/* lidt */
	{ 3, { 0x0f, 0x00, 0x18 } },		/* ltr */
	{ 2, { 0x8e, 0xd0 } },			/* mov ss, ax */
	{ 1, { 0xcf } },			/* iret */
	{ 2, { 0x0f, 0x05 } },			/* syscall */
	{ 2, { 0x0f, 0x34 } },			/* sysenter */
	{ 2, { 0xf3, 0x90 } },			/* pause */
	{ 3, { 0x0f, 0x01, 0xf9 } },		/* rdtscp */
	{ 3, { 0x0f, 0xae, 0xf0 } },		/* mfence */
	{ 3, { 0x0f, 0x01, 0xee } },		/* rdpkru */
	{ 3, { 0x0f, 0x01, 0xef } },		/* wrpkru */
	{ 2, { 0x89, 0x20 } },			/* mov [ax/eax], sp */
	{ 2, { 0x8b, 0x00 } },			/* mov eax, [eax] */
	{ 3, { 0xf0, 0x01, 0x00 } },		/* lock add [eax], eax */
	{ 3, { 0xf0, 0x0f, 0xb1 } },		/* lock cmpxchg */
	{ 2, { 0x87, 0x00 } },			/* xchg [eax], eax */
	{ 2, { 0xf3, 0xa5 } },			/* rep movsd */
	{ 2, { 0xf3, 0xab } },			/* rep stosd */
	{ 3, { 0x0f, 0xc3, 0x00 } },		/* movnti */
	{ 5, { 0xa1, 0x00, 0x00, 0x00, 0xfe } },/* mov eax, [0xfe000000] */
	{ 5, { 0xa3, 0x00, 0x00, 0x00, 0xfe } },/* mov [0xfe000000], eax */
	{ 6, { 0xc7, 0x00, 0, 0, 0, 0 } },	/* mov dword [eax], imm */
	{ 2, { 0xff, 0xe0 } },			/* jmp eax */
	{ 5, { 0xea, 0, 0, 0, 0 } },		/* jmp far */
	{ 2, { 0xeb, 0xfe } },			/* jmp $ */
	{ 1, { 0x9d } },			/* popf */
	{ 2, { 0x0f, 0xa1 } },			/* pop fs */
	{ 3, { 0x0f, 0x01, 0xd0 } },		/* xgetbv */
	{ 3, { 0x0f, 0x01, 0xca } },		/* clac */
	{ 3, { 0x0f, 0xc7, 0xf0 } },		/* rdrand */
	{ 4, { 0x66, 0x0f, 0x38, 0x80 } },	/* invept */
};

static void random_code(uint8_t *p, size_t len)
{
	size_t i = 0;

	if (chance(25)) {
		for (i = 0; i < len; i++)
			p[i] = rnd();
		return;
	}
	while (i + 16 < len) {
		const struct insn *in = &insns[below(sizeof(insns) /
						    sizeof(insns[0]))];
		unsigned int j;

		if (chance(10))
			p[i++] = 0x66;		/* operand size */
		if (chance(5))
			p[i++] = 0x67;		/* address size */
		if (chance(10))
			p[i++] = 0x40 | below(16);	/* REX (64-bit) */
		memcpy(p + i, in->bytes, in->len);
		/* Randomise ModRM and immediates, mostly. */
		for (j = 1; j < in->len; j++)
			if (in->bytes[j] == 0 && chance(70))
				p[i + j] = rnd();
		i += in->len;
		if (chance(15)) {		/* load a register first */
			p[i++] = 0xb8 + below(8);	/* mov reg, imm32 */
			*(uint32_t *)(p + i) = interesting();
			i += 4;
		}
	}
}

/* Paging structures and a GDT for the protected, PAE and long modes. */
static void guest_tables(uint8_t *ram)
{
	uint64_t *pml4 = (uint64_t *)(ram + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(ram + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(ram + PD_GPA);
	uint64_t *pae = (uint64_t *)(ram + PAE_PDPT_GPA);
	uint64_t *gdt = (uint64_t *)(ram + GDT_GPA);
	int i;

	memset(ram + PML4_GPA, 0, 0x5000);
	pml4[0] = PDPT_GPA | 3;
	pdpt[0] = PD_GPA | 3;
	for (i = 0; i < 512; i++)	/* 1 GiB in 2 MiB pages */
		pd[i] = ((uint64_t)i << 21) | 0x83;
	pdpt[3] = PD_GPA | 3;		/* and the MMIO page's gigabyte */
	pae[0] = PD_GPA | 1;		/* PAE PDPTEs: no RW bit */
	pae[3] = PD_GPA | 1;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL;	/* 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;	/* data */
	gdt[3] = 0x00008b0000000067ULL;	/* TSS */
	gdt[4] = 0x00cf9b000000ffffULL;	/* 32-bit code */
	if (chance(5))
		flip_bits(ram + PML4_GPA, 0x5000, 1 + below(8));
}

/* --- guest runs ---------------------------------------------------------- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* Sleep until the run timer's next signal has been taken. */
static void wait_for_alarm(void)
{
	sig_atomic_t seen = alarms;

	while (alarms == seen)
		pause();
}

/* A VM with RAM in slot 0 and one vCPU with its run page, made if needed. */
static struct fuzz_vcpu *runnable_vcpu(struct fuzz_vm **vmp)
{
	struct fuzz_vm *vm = any_vm();
	struct fuzz_vcpu *vcpu = &vm->vcpus[0];
	struct lv_memory_region r = { 0 };

	if (vm->fd < 0 || !vm->ram) {
		close_vm(vm, true);
		vm->fd = call(F.sys, LV_CREATE_VM, 0, "CREATE_VM");
		if (vm->fd < 0)
			return NULL;
		vm->ram = vm->ram_area;
		r.memory_size = GUEST_RAM;
		r.userspace_addr = (uintptr_t)vm->ram;
		r.flags = chance(20) ? LV_MEM_LOG_DIRTY_PAGES : 0;
		if (call(vm->fd, LV_SET_MEMORY_REGION, (unsigned long)&r,
			 "SET_MEMORY_REGION") < 0)
			return NULL;
	}
	if (vcpu->fd < 0) {
		vcpu->fd = call(vm->fd, LV_CREATE_VCPU, 0, "CREATE_VCPU");
		if (vcpu->fd < 0)
			return NULL;
	}
	if (!vcpu->run) {
		vcpu->run = mmap(NULL, F.run_page_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, vcpu->fd, 0);
		if (vcpu->run == MAP_FAILED) {
			vcpu->run = NULL;
			return NULL;
		}
		vcpu->run_len = F.run_page_size;
	}
	*vmp = vm;
	return vcpu;
}

static void set_random_state(struct fuzz_vcpu *vcpu, enum mode mode)
{
	struct lv_vcpu_state state;
	struct lv_sregs sregs;
	struct lv_regs regs;

	sregs_for(&sregs, mode);
	if (chance(40))
		mutate_sregs(&sregs);
	random_regs(&regs, mode);
	if (chance(30) && call(vcpu->fd, LV_GET_VCPU_STATE,
			       (unsigned long)&state, "GET_VCPU_STATE") == 0) {
		state.regs = regs;
		state.sregs = sregs;
		if (chance(30))
			state.xcr0 = interesting();
		if (chance(20))
			state.interruptibility = below(16);
		if (chance(20))
			state.pending_irq = below(258);
		if (chance(10))
			state.pending_nmi = below(3);
		if (chance(10))
			state.activity = below(3);
		if (chance(20))
			state.dr7 = interesting();
		if (chance(10))
			flip_bits(&state, sizeof(state), 1 + below(4));
		call(vcpu->fd, LV_SET_VCPU_STATE, (unsigned long)&state,
		     "SET_VCPU_STATE");
		return;
	}
	call(vcpu->fd, LV_SET_SREGS, (unsigned long)&sregs, "SET_SREGS");
	call(vcpu->fd, LV_SET_REGS, (unsigned long)&regs, "SET_REGS");
}

static void handle_exit(struct lv_run *run)
{
	switch (run->exit_reason) {
	case LV_EXIT_IO:
		if (run->io.direction == LV_EXIT_IO_IN && chance(50))
			memset((uint8_t *)run + LV_RUN_IO_DATA_OFFSET, rnd(),
			       PAGE - LV_RUN_IO_DATA_OFFSET);
		break;
	case LV_EXIT_MMIO:
		if (!run->mmio.is_write)
			memcpy(run->mmio.data, &(uint64_t){ rnd() }, 8);
		break;
	case LV_EXIT_HYPERCALL:
		run->hypercall.ret = interesting();
		break;
	}
	run->request_interrupt_window = chance(10);
	if (chance(2))
		run->immediate_exit = 1;
}

/* Random code, random state, then LV_RUN until the guest stops. */
static void op_guest_run(void)
{
	/*
	 * Periodic: a signal that comes before LV_RUN is taken in userspace,
	 * and only the next one ends a run that the guest would not leave.
	 */
	struct itimerval it = { .it_value = { .tv_usec = 2000 },
				.it_interval = { .tv_usec = 2000 } };
	struct fuzz_vm *vm = NULL;
	struct fuzz_vcpu *vcpu;
	enum mode mode = below(NR_MODES);
	unsigned int i, max_exits = 4 + below(60);
	bool stopped = false;

	F.st.runs++;	/* attempts: a run may fail to set up its VM */
	vcpu = runnable_vcpu(&vm);
	if (!vcpu)
		return;
	guest_tables(vm->ram);
	random_code(vm->ram + CODE_GPA, 2 * PAGE);
	if (chance(20))
		random_code(vm->ram + below(GUEST_RAM / 2 - 2 * PAGE), 2 * PAGE);
	set_random_state(vcpu, mode);
	trace("guest run: mode %d, up to %u exits", mode, max_exits);

	for (i = 0; i < max_exits; i++) {
		long ret;

		if (chance(5)) {
			struct lv_interrupt irq = {
				.vector = 32 + below(224),
				.flags = chance(20) ? LV_INTERRUPT_NMI : 0,
			};

			call(vcpu->fd, LV_INTERRUPT, (unsigned long)&irq,
			     "INTERRUPT");
		}
		setitimer(ITIMER_REAL, &it, NULL);
		/*
		 * As on a loaded machine, the timer sometimes fires before
		 * LV_RUN. A halted vCPU with nothing to wake it then waits
		 * in LV_RUN for the next period's signal.
		 */
		if (chance(10))
			wait_for_alarm();
		ret = call(vcpu->fd, LV_RUN, 0, "RUN");
		F.st.lv_runs++;
		vcpu->run->immediate_exit = 0;
		if (ret < 0 && errno != EINTR) {
			F.st.run_errors++;
			break;
		}
		if (vcpu->run->exit_reason >= NR_REASONS) {
			F.st.bad_reason++;
			printf("# lvfuzz: exit reason %u out of range\n",
			       vcpu->run->exit_reason);
			break;
		}
		F.st.exits[vcpu->run->exit_reason]++;
		switch (vcpu->run->exit_reason) {
		case LV_EXIT_HLT:
		case LV_EXIT_SHUTDOWN:
		case LV_EXIT_FAIL_ENTRY:
		case LV_EXIT_INTERNAL_ERROR:
		case LV_EXIT_UNKNOWN:
			/* Run once more: a stopped vCPU must stay sane. */
			if (stopped || chance(70))
				goto out;
			stopped = true;
			break;
		case LV_EXIT_INTR:
			/* Our timer: the guest loops without exiting. */
			if (chance(70))
				goto out;
			break;
		default:
			handle_exit(vcpu->run);
		}
		if (chance(3))
			set_random_state(vcpu, below(NR_MODES));
	}
out:
	setitimer(ITIMER_REAL, &(struct itimerval){ 0 }, NULL);
	if (chance(5))
		close_vm(vm, true);
}

/* Get a state, flip bits, set it back: the state ioctls' validation. */
static void op_state(void)
{
	struct fuzz_vcpu *vcpu = any_vcpu(any_vm());
	union {
		struct lv_regs regs;
		struct lv_sregs sregs;
		struct lv_vcpu_state state;
		struct lv_xsave xsave;
	} u;
	static const struct {
		unsigned long get, set;
		size_t size;
	} kinds[] = {
		{ LV_GET_REGS, LV_SET_REGS, sizeof(struct lv_regs) },
		{ LV_GET_SREGS, LV_SET_SREGS, sizeof(struct lv_sregs) },
		{ LV_GET_VCPU_STATE, LV_SET_VCPU_STATE,
		  sizeof(struct lv_vcpu_state) },
		{ LV_GET_XSAVE, LV_SET_XSAVE, sizeof(struct lv_xsave) },
	};
	unsigned int k = below(sizeof(kinds) / sizeof(kinds[0]));

	memset(&u, 0, sizeof(u));
	call(vcpu->fd, kinds[k].get, chance(95) ? (unsigned long)&u :
	     interesting(), "GET-state");
	if (k >= 1 && k <= 2 && chance(30))
		sregs_for(k == 1 ? &u.sregs : &u.state.sregs, below(NR_MODES));
	flip_bits(&u, kinds[k].size, below(6));
	call(chance(95) ? vcpu->fd : any_fd(), kinds[k].set,
	     chance(97) ? (unsigned long)&u : interesting(), "SET-state");
}

/* Replace, drop or protect the memory behind slots while VMs use it. */
static void op_memory_churn(void)
{
	struct fuzz_vm *vm = any_vm();
	struct buf *b = &F.bufs[below(MAX_BUFS)];
	uint8_t *p = b->p;
	size_t len = b->len;

	if (chance(50)) {
		p = vm->ram_area;
		len = GUEST_RAM;
	}
	F.st.calls++;
	switch (below(4)) {
	case 0:
		madvise(p, len, MADV_DONTNEED);
		break;
	case 1:
		mmap(p, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 2:
		mprotect(p, len, chance(50) ? PROT_READ : PROT_NONE);
		mprotect(p, len, PROT_READ | PROT_WRITE);
		break;
	default:
		memset(p + below(len), rnd(), 1);
		break;
	}
}

/*
 * The racer thread (--racer) disturbs the worker's VMs while they run and
 * while they are torn down: it drops, replaces and protects guest RAM
 * (mmu_notifier invalidations), queues interrupts on whatever fds the
 * vCPUs have, and interrupts LV_RUN with signals at random moments. It
 * has its own random stream; its interleaving is not reproducible.
 */
static uint64_t racer_rng;

static uint64_t racer_rnd(void)
{
	uint64_t z = (racer_rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	return z ^ (z >> 27);
}

static void *racer(void *arg)
{
	sigset_t alrm;

	(void)arg;
	/* The worker's run timer must interrupt the worker, not us. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	for (;;) {
		struct fuzz_vm *vm = &F.vms[racer_rnd() % MAX_VMS];
		uint8_t *p = vm->ram_area + (racer_rnd() % 512) * PAGE;
		size_t len = (racer_rnd() % 8 + 1) * PAGE;
		struct lv_interrupt irq = {
			.vector = 32 + racer_rnd() % 224,
			.flags = racer_rnd() % 4 == 0 ? LV_INTERRUPT_NMI : 0,
		};

		if (p + len > vm->ram_area + GUEST_RAM)
			len = vm->ram_area + GUEST_RAM - p;
		switch (racer_rnd() % 6) {
		case 0:
			madvise(p, len, MADV_DONTNEED);
			break;
		case 1:
			mmap(p, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			break;
		case 2:
			/* The upper half only: the worker writes the lower. */
			p = vm->ram_area + GUEST_RAM / 2 +
			    (racer_rnd() % 256) * PAGE;
			len = PAGE;
			mprotect(p, len, PROT_READ);
			usleep(racer_rnd() % 1000);
			mprotect(p, len, PROT_READ | PROT_WRITE);
			break;
		case 3:
			ioctl(vm->vcpus[racer_rnd() % MAX_VCPUS].fd,
			      LV_INTERRUPT, &irq);
			break;
		case 4:
			pthread_kill(F.main_thread, SIGALRM);
			break;
		default:
			usleep(racer_rnd() % 2000);
		}
	}
	return NULL;
}

static void (*const ops[])(void) = {
	op_sys_misc, op_create_vm, op_create_vm, op_create_vcpu,
	op_create_vcpu, op_memory_region, op_memory_region, op_memory_region,
	op_dirty_log, op_pci, op_unknown_ioctl, op_close, op_mmap_run,
	op_interrupt, op_state, op_state, op_memory_churn, op_bind_vm,
};

/* --- driver -------------------------------------------------------------- */

static void setup(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int i, j;

	F.sys = open("/dev/lightvisor", O_RDWR);
	if (F.sys < 0) {
		perror("lvfuzz: /dev/lightvisor");
		exit(2);
	}
	F.devnull = open("/dev/null", O_RDWR);
	F.run_page_size = ioctl(F.sys, LV_GET_VCPU_MMAP_SIZE, 0);
	F.nr_slots = ioctl(F.sys, LV_CHECK_CAP, LV_CAP_NR_MEMSLOTS);
	F.max_vcpus = ioctl(F.sys, LV_CHECK_CAP, LV_CAP_MAX_VCPUS);
	if (F.run_page_size <= 0)
		F.run_page_size = PAGE;
	for (i = 0; i < MAX_VMS; i++) {
		F.vms[i].ram_area = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (F.vms[i].ram_area == MAP_FAILED) {
			perror("lvfuzz: mmap");
			exit(2);
		}
		F.vms[i].fd = -1;
		for (j = 0; j < MAX_VCPUS; j++)
			F.vms[i].vcpus[j].fd = -1;
	}
	for (i = 0; i < MAX_BUFS; i++) {
		F.bufs[i].len = (i + 1) * 64 * PAGE;
		if (i == MAX_BUFS - 1)
			F.bufs[i].len = 4UL << 20;	/* huge-page sized */
		F.bufs[i].p = mmap(NULL, F.bufs[i].len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (F.bufs[i].p == MAP_FAILED) {
			perror("lvfuzz: mmap");
			exit(2);
		}
	}
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: LV_RUN sees EINTR */
}

static void teardown(void)
{
	int i;

	for (i = 0; i < MAX_VMS; i++)
		close_vm(&F.vms[i], true);
	close(F.sys);
}

static void print_stats(int worker, uint64_t seed, double secs)
{
	int i;

	printf("# lvfuzz: worker %d seed %" PRIu64 ": %lu calls (%lu failed), "
	       "%lu guest runs, %lu LV_RUN calls (%lu errors), %.0f s\n",
	       worker, seed, F.st.calls, F.st.failed_calls, F.st.runs,
	       F.st.lv_runs, F.st.run_errors, secs);
	printf("# lvfuzz: worker %d exits:", worker);
	for (i = 0; i < NR_REASONS; i++)
		printf(" %s=%lu", reason_names[i], F.st.exits[i]);
	printf("\n");
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct opts {
	uint64_t seed;
	unsigned long calls, runs;
	double seconds;
	int workers;
	bool racer;
};

/* One worker: its own pool, seed + worker. Writes its stats to fd out. */
static int worker(const struct opts *o, int w, int out)
{
	double start = now();
	uint64_t seed = o->seed + w;
	bool timed = o->seconds > 0;

	F.rng = seed;
	setup();
	F.main_thread = pthread_self();
	if (o->racer) {
		pthread_t t;

		racer_rng = ~seed;
		if (pthread_create(&t, NULL, racer, NULL)) {
			perror("lvfuzz: racer thread");
			return 1;
		}
	}
	while (timed ? now() - start < o->seconds :
	       F.st.calls < o->calls || F.st.runs < o->runs) {
		if (!timed && F.st.runs >= o->runs)
			ops[below(sizeof(ops) / sizeof(ops[0]))]();
		else if (!timed && F.st.calls >= o->calls)
			op_guest_run();
		else if (chance(25))
			op_guest_run();
		else
			ops[below(sizeof(ops) / sizeof(ops[0]))]();
	}
	teardown();
	print_stats(w, seed, now() - start);
	if (write(out, &F.st, sizeof(F.st)) != sizeof(F.st))
		return 1;
	return F.st.bad_reason ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: lvfuzz [--seed N] [--calls N] [--runs N] [--seconds S]\n"
		"              [--workers N] [--racer] [--trace]\n"
		"  --calls/--runs: stop after at least N ioctl calls and N guest\n"
		"  runs (default 3000, 300); --seconds: run for S seconds instead\n"
		"  (guest time when run inside an emulator); --workers: that many\n"
		"  processes at once, seeds N, N+1, ...; --racer: a second thread\n"
		"  per worker disturbs memory, interrupts and runs; --trace: every\n"
		"  call on stderr.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "calls", required_argument, NULL, 'c' },
		{ "runs", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 't' },
		{ "workers", required_argument, NULL, 'w' },
		{ "trace", no_argument, NULL, 'v' },
		{ "racer", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .seed = 1, .calls = 3000, .runs = 300, .workers = 1 };
	struct stats total = { 0 }, st;
	int c, w, fds[2], failed = 0, i;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 's': o.seed = strtoull(optarg, NULL, 0); break;
		case 'c': o.calls = strtoul(optarg, NULL, 0); break;
		case 'r': o.runs = strtoul(optarg, NULL, 0); break;
		case 't': o.seconds = strtod(optarg, NULL); break;
		case 'w': o.workers = atoi(optarg); break;
		case 'v': F.trace = true; break;
		case 'x': o.racer = true; break;
		default: usage();
		}
	}
	if (optind != argc || o.workers < 1)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(fds) < 0) {
		perror("lvfuzz: pipe");
		return 2;
	}
	printf("# lvfuzz: seed %" PRIu64 ", %d worker(s), %s\n", o.seed,
	       o.workers, o.seconds > 0 ? "timed" : "counted");
	for (w = 0; w < o.workers; w++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(worker(&o, w, fds[1]));
		if (pid < 0) {
			perror("lvfuzz: fork");
			return 2;
		}
	}
	close(fds[1]);
	for (w = 0; w < o.workers; w++) {
		int status;
		pid_t pid = wait(&status);

		if (pid < 0)
			break;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			failed++;
			printf("not ok %d - worker (pid %d) %s %d\n", w + 1,
			       pid, WIFEXITED(status) ? "exit status" :
			       "killed by signal", WIFEXITED(status) ?
			       WEXITSTATUS(status) : WTERMSIG(status));
		} else {
			printf("ok %d - worker (pid %d) finished\n", w + 1, pid);
		}
	}
	while (read(fds[0], &st, sizeof(st)) == sizeof(st)) {
		total.calls += st.calls;
		total.failed_calls += st.failed_calls;
		total.runs += st.runs;
		total.lv_runs += st.lv_runs;
		total.run_errors += st.run_errors;
		for (i = 0; i < NR_REASONS; i++)
			total.exits[i] += st.exits[i];
	}
	printf("# lvfuzz total: seed %" PRIu64 ", %d worker(s): %lu calls "
	       "(%lu failed), %lu guest runs, %lu LV_RUN calls (%lu errors)\n",
	       o.seed, o.workers, total.calls, total.failed_calls, total.runs,
	       total.lv_runs, total.run_errors);
	printf("# lvfuzz total exits:");
	for (i = 0; i < NR_REASONS; i++)
		printf(" %s=%lu", reason_names[i], total.exits[i]);
	printf("\n1..%d\n", o.workers);
	return failed ? 1 : 0;
}
