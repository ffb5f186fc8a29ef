// SPDX-License-Identifier: GPL-2.0
/*
 * abi_host: the host's own state survives guests. A VM exit loads the
 * host state lightvisor wrote into the VMCS, and whatever the guest
 * may change without exits must be switched back: each test runs a
 * guest, then checks the host (or the next guest) on the same CPU.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

#define REPORT_PORT	0x40
#define X86_CR0_NW	(1u << 29)
#define X86_CR0_CD	(1u << 30)

static int sys_fd;

struct guest {
	struct test_vm vm;
	struct test_vcpu vcpu;
};

static void guest_start(struct guest *g, const uint8_t *code, size_t len)
{
	vm_create(sys_fd, &g->vm);
	vm_add_ram(&g->vm);
	vm_load(&g->vm, GUEST_CODE_GPA, code, len);
	vcpu_create(sys_fd, &g->vm, 0, &g->vcpu);
	vcpu_setup_realmode(&g->vcpu, GUEST_CODE_GPA);
}

static void guest_end(struct guest *g)
{
	munmap(g->vcpu.run, sysconf(_SC_PAGESIZE));
	close(g->vcpu.fd);
	munmap(g->vm.mem, g->vm.mem_size);
	close(g->vm.fd);
}

/*
 * Run to the next 32-bit OUT to REPORT_PORT and return its value; -1 on
 * any other exit (HLT ends the guest).
 */
static long long guest_report(struct guest *g)
{
	struct lv_run *run = g->vcpu.run;

	if (vcpu_run(&g->vcpu) < 0) {
		tap_diag("LV_RUN: %s", strerror(errno));
		return -1;
	}
	if (run->exit_reason != LV_EXIT_IO || run->io.port != REPORT_PORT ||
	    run->io.size != 4) {
		tap_diag("exit %s (port %#x)", exit_reason_name(run->exit_reason),
			 run->io.port);
		return -1;
	}
	return *(uint32_t *)((uint8_t *)run + run->io.data_offset);
}

static bool guest_halts(struct guest *g)
{
	return vcpu_run(&g->vcpu) == 0 && g->vcpu.run->exit_reason == LV_EXIT_HLT;
}

static void sysenter_segv(int sig)
{
	_exit(sig);
}

/* AMD CPUs have no SYSENTER in long mode: it raises #UD there. */
static bool cpu_is_amd(void)
{
	unsigned int eax, ebx, ecx, edx;

	__cpuid(0, eax, ebx, ecx, edx);
	return ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;
}

/*
 * After a VM exit, SYSENTER from user mode must still do what the
 * kernel set up (here: #GP, as SYSENTER_CS is 0 without 32-bit
 * emulation), not enter ring 0 at whatever HOST_IA32_SYSENTER_* say.
 * On AMD CPUs it is #UD (SIGILL) whatever the MSRs hold.
 */
static void test_sysenter(void)
{
	int want = cpu_is_amd() ? SIGILL : SIGSEGV;
	struct guest g;
	int status;
	pid_t pid;

	guest_start(&g, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	while (vcpu_run(&g.vcpu) == 0 && g.vcpu.run->exit_reason == LV_EXIT_IO)
		;
	guest_end(&g);

	pid = fork();
	if (pid == 0) {
		/* Handled, so the kernel logs no "traps:" line for it. */
		signal(SIGSEGV, sysenter_segv);
		signal(SIGILL, sysenter_segv);
		asm volatile("sysenter" : : : "memory");
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	tap_result(WIFEXITED(status) && WEXITSTATUS(status) == want,
		   "SYSENTER in a user process after a VM exit gets %s (status %#x)",
		   want == SIGILL ? "SIGILL (AMD)" : "SIGSEGV", status);
}

/*
 * CD and NW are not loaded by VM exits: a guest that sets them must not
 * leave the CPU (and so the next guest) running uncached.
 */
static void test_cr0_cache_disable(void)
{
	struct guest g;
	long long v;

	guest_start(&g, guest_cr0_cd, GUEST_LEN(guest_cr0_cd));
	v = guest_report(&g);
	tap_result(v >= 0 && (v & (X86_CR0_CD | X86_CR0_NW)) == (X86_CR0_CD | X86_CR0_NW),
		   "the guest reads back the CR0.CD|NW it wrote (%#llx)", v);
	tap_result(guest_halts(&g), "CR0.CD|NW guest halts");
	guest_end(&g);

	guest_start(&g, guest_cr0_read, GUEST_LEN(guest_cr0_read));
	v = guest_report(&g);
	tap_eq(0x10, v, "the next VM on the CPU starts with the CR0 it was given");
	guest_end(&g);
}

static bool host_osxsave(void)
{
	uint32_t a = 1, b, c = 0, d;

	asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & (1u << 27);
}

/* The host's own XSETBV loads the guest's XCR0: it must be valid. */
static void test_xcr0(void)
{
	static const struct { uint64_t xcr0; const char *name; } bad[] = {
		{ 0x0, "no x87" },
		{ 0x5, "x87|AVX without SSE" },
		{ 0x23, "x87|SSE|opmask (incomplete AVX-512, no AVX)" },
		{ 0xe3, "AVX-512 without AVX" },
		{ 0x0b, "BNDREGS without BNDCSR" },
		{ 0x20003, "TILECFG without TILEDATA" },
		{ 1ULL << 62, "a reserved bit" },
	};
	struct lv_vcpu_state st;
	struct guest g;
	unsigned int i;

	guest_start(&g, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	st.version = LV_VCPU_STATE_VERSION;
	if (ioctl(g.vcpu.fd, LV_GET_VCPU_STATE, &st) < 0)
		die("LV_GET_VCPU_STATE");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lv_vcpu_state s = st;
		char name[128];

		s.xcr0 = bad[i].xcr0;
		snprintf(name, sizeof(name), "LV_SET_VCPU_STATE refuses XCR0 %#llx (%s)",
			 (unsigned long long)bad[i].xcr0, bad[i].name);
		tap_errno(ioctl(g.vcpu.fd, LV_SET_VCPU_STATE, &s), errno, EINVAL, name);
	}
	/* x87|SSE where the host uses XSAVE (CPUID.1:ECX.OSXSAVE), else x87. */
	st.xcr0 = host_osxsave() ? 0x3 : 0x1;
	tap_errno(ioctl(g.vcpu.fd, LV_SET_VCPU_STATE, &st), errno, 0,
		  "LV_SET_VCPU_STATE accepts a valid XCR0");
	tap_result(guest_halts(&g) || g.vcpu.run->exit_reason == LV_EXIT_IO,
		   "the guest runs after the refused states");
	guest_end(&g);
}

static uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	asm volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static void wrpkru(uint32_t pkru)
{
	asm volatile(".byte 0x0f,0x01,0xef" : : "a"(pkru), "c"(0), "d"(0));
}

/*
 * PKRU is not part of the guest FPU state the kernel swaps: lightvisor
 * must switch it, or the guest reads and sets the launcher's.
 */
static void test_pkru(void)
{
	uint32_t mine = 0x55555550, after;
	struct guest g;
	long long v;
	int pkey;

	pkey = syscall(SYS_pkey_alloc, 0, 0);
	if (pkey < 0) {
		tap_skip("guest PKRU is its own", "no protection keys (pkey_alloc failed)");
		tap_skip("guest PKRU write", "no protection keys");
		tap_skip("launcher PKRU survives LV_RUN", "no protection keys");
		return;
	}
	syscall(SYS_pkey_free, pkey);
	wrpkru(mine);

	guest_start(&g, guest_pkru, GUEST_LEN(guest_pkru));
	v = guest_report(&g);
	after = rdpkru();
	tap_eq(0, v, "the guest reads its own PKRU (0 after reset), not the launcher's");
	v = guest_report(&g);
	after = rdpkru();
	tap_eq(0xc, v, "the guest's PKRU write reads back");
	tap_eq(mine, after, "the launcher's PKRU survives LV_RUN");
	guest_end(&g);
	wrpkru(0x55555554);
}

/*
 * PKRU in LV_GET_VCPU_STATE/LV_SET_VCPU_STATE: saved, restored into a
 * second vCPU with the rest of the state, seen by the guest there; and
 * refused (not 0) where guests cannot have protection keys.
 */
static void test_pkru_state(void)
{
	struct lv_vcpu_state st, st2, st3;
	struct guest g, g2;
	int pkey;

	pkey = syscall(SYS_pkey_alloc, 0, 0);
	if (pkey < 0) {
		guest_start(&g, guest_pkru, GUEST_LEN(guest_pkru));
		ioctl(g.vcpu.fd, LV_GET_VCPU_STATE, &st);
		tap_eq(0, st.pkru, "no protection keys: PKRU in the state is 0");
		st2 = st;
		st2.pkru = 4;
		tap_errno(ioctl(g.vcpu.fd, LV_SET_VCPU_STATE, &st2), errno, EINVAL,
			  "no protection keys: LV_SET_VCPU_STATE refuses PKRU 4");
		ioctl(g.vcpu.fd, LV_GET_VCPU_STATE, &st2);
		tap_result(vcpu_state_same(&st, &st2), "the refused state changed nothing");
		tap_errno(ioctl(g.vcpu.fd, LV_SET_VCPU_STATE, &st), errno, 0,
			  "no protection keys: PKRU 0 accepted");
		guest_end(&g);
		return;
	}
	syscall(SYS_pkey_free, pkey);

	/* The guest sets PKRU to 0xc and reports it. */
	guest_start(&g, guest_pkru, GUEST_LEN(guest_pkru));
	guest_report(&g);
	tap_eq(0xc, guest_report(&g), "guest PKRU 0xc");
	memset(&st, 0, sizeof(st));
	ioctl(g.vcpu.fd, LV_GET_VCPU_STATE, &st);
	tap_eq(0xc, st.pkru, "LV_GET_VCPU_STATE has the guest's PKRU");

	/* Into a second VM with the same code: the whole state round trips. */
	guest_start(&g2, guest_pkru, GUEST_LEN(guest_pkru));
	tap_errno(ioctl(g2.vcpu.fd, LV_SET_VCPU_STATE, &st), errno, 0,
		  "the state restored into a second vCPU");
	memset(&st2, 0, sizeof(st2));
	ioctl(g2.vcpu.fd, LV_GET_VCPU_STATE, &st2);
	tap_result(vcpu_state_same(&st, &st2), "the second vCPU's state is the first's");
	/* Taken at the OUT's exit, the state has RIP still at the OUT. */
	tap_eq(0xc, guest_report(&g2), "the second vCPU repeats the OUT with the first's EAX");
	tap_result(guest_halts(&g2), "the second vCPU goes on to its HLT");
	guest_end(&g2);
	guest_end(&g);

	/* Restored before the first run, the guest reads it with RDPKRU. */
	guest_start(&g, guest_pkru, GUEST_LEN(guest_pkru));
	ioctl(g.vcpu.fd, LV_GET_VCPU_STATE, &st3);
	st3.pkru = 0x55555554;
	tap_errno(ioctl(g.vcpu.fd, LV_SET_VCPU_STATE, &st3), errno, 0,
		  "LV_SET_VCPU_STATE with PKRU 0x55555554");
	tap_eq(0x55555554, guest_report(&g), "the guest reads the restored PKRU");
	guest_end(&g);
}

/* Offsets in the standard XSAVE image (struct lv_xsave). */
#define XS_FCW		0
#define XS_MXCSR	24
#define XS_XMM(n)	(160 + 16 * (n))
#define XS_XSTATE_BV	512
#define XS_XCOMP_BV	520
#define XS_HDR_RESERVED	528

static uint32_t xs32(const struct lv_xsave *xs, unsigned int off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)xs->region + off, sizeof(v));
	return v;
}

static void xs_put(struct lv_xsave *xs, unsigned int off, uint64_t v, size_t len)
{
	memcpy((uint8_t *)xs->region + off, &v, len);
}

/* One LV_SET_XSAVE of @base with @len bytes at @off replaced by @v. */
static void xsave_refused(struct guest *g, const struct lv_xsave *base,
			  unsigned int off, uint64_t v, size_t len,
			  const char *name)
{
	static struct lv_xsave bad;

	bad = *base;
	xs_put(&bad, off, v, len);
	tap_errno(ioctl(g->vcpu.fd, LV_SET_XSAVE, &bad), errno, EINVAL, name);
}

/*
 * The guest's x87/SSE/AVX registers through LV_GET_XSAVE/LV_SET_XSAVE:
 * the reset values, XMM0 set by userspace and read by the guest, XMM1
 * set by the guest and read by userspace, and images the CPU could not
 * load refused with nothing changed.
 */
static void test_xsave(void)
{
	static struct lv_xsave xs, after;
	struct guest g;

	guest_start(&g, guest_sse, GUEST_LEN(guest_sse));
	tap_eq(1, check_cap(sys_fd, LV_CAP_XSAVE), "LV_CAP_XSAVE");
	if (ioctl(g.vcpu.fd, LV_GET_XSAVE, &xs) < 0) {
		tap_fail("LV_GET_XSAVE", "%s", strerror(errno));
		guest_end(&g);
		return;
	}
	tap_eq(0x37f, xs32(&xs, XS_FCW) & 0xffff, "reset x87 control word 0x37f");
	tap_eq(0x1f80, xs32(&xs, XS_MXCSR), "reset MXCSR 0x1f80");

	xs_put(&xs, XS_XMM(0), 0x12345678, 4);
	xs_put(&xs, XS_XSTATE_BV, xs32(&xs, XS_XSTATE_BV) | 0x3, 4);
	xsave_refused(&g, &xs, XS_XSTATE_BV + 7, 0x80, 1,
		      "LV_SET_XSAVE: XSTATE_BV bit 63 -> EINVAL");
	xsave_refused(&g, &xs, XS_XSTATE_BV + 1, 0x02, 1,
		      "LV_SET_XSAVE: PKRU in XSTATE_BV (its place is the vCPU state) -> EINVAL");
	xsave_refused(&g, &xs, XS_XCOMP_BV, 0x3, 8,
		      "LV_SET_XSAVE: a compacted image (XCOMP_BV) -> EINVAL");
	xsave_refused(&g, &xs, XS_HDR_RESERVED, 1, 8,
		      "LV_SET_XSAVE: reserved header bytes -> EINVAL");
	xsave_refused(&g, &xs, XS_MXCSR, 0x80001f80u, 4,
		      "LV_SET_XSAVE: reserved MXCSR bit 31 -> EINVAL");
	ioctl(g.vcpu.fd, LV_GET_XSAVE, &after);
	tap_result(xs32(&after, XS_XMM(0)) == 0 && xs32(&after, XS_MXCSR) == 0x1f80,
		   "the refused images changed nothing (XMM0 %#x)",
		   xs32(&after, XS_XMM(0)));

	tap_errno(ioctl(g.vcpu.fd, LV_SET_XSAVE, &xs), errno, 0,
		  "LV_SET_XSAVE with XMM0 = 0x12345678");
	tap_eq(0x12345678, guest_report(&g), "the guest reads XMM0 as set");
	tap_result(guest_halts(&g), "the guest sets XMM1 and halts");
	ioctl(g.vcpu.fd, LV_GET_XSAVE, &after);
	tap_eq(0x5a5a1234, xs32(&after, XS_XMM(1)), "LV_GET_XSAVE reads the guest's XMM1");
	guest_end(&g);
}

/* guest_sse_hold's values, and the pass counter it keeps in guest RAM. */
#define HOLD_XMM0		0x600dc0de
#define HOLD_XMM1		0x6e657473
#define HOLD_PASSES_GPA		0x800
#define HOLD_WRONG_GPA		0x804	/* the last other XMM0 it read */
#define HOLD_WRONG_PASSES_GPA	0x808	/* passes that read another XMM0 */
#define RIVAL_XMM		0xdeadbeef
#define RIVAL_INTERLEAVES	20

struct fpu_rival {
	const uint32_t *guest_passes;	/* written by the guest */
	pthread_t vcpu_thread;
	bool stop;
	unsigned int interleaves;	/* rounds between which the guest ran */
	unsigned int foreign;		/* rounds that found other XMM values */
	uint32_t foreign_value;
};

static uint32_t guest_passes(const struct fpu_rival *r)
{
	return __atomic_load_n(r->guest_passes, __ATOMIC_RELAXED);
}

/*
 * Another task on the vCPU's CPU: each round loads RIVAL_XMM into XMM0
 * and XMM1, spins, and reads them back. It counts the rounds between
 * which the guest made progress, i.e. the times the scheduler switched
 * from the vCPU thread inside LV_RUN to this one and back, and after
 * RIVAL_INTERLEAVES of them stops the guest with a signal.
 */
static void *fpu_rival_run(void *arg)
{
	struct fpu_rival *r = arg;
	uint32_t last, x0, x1;

	while (!guest_passes(r) && !__atomic_load_n(&r->stop, __ATOMIC_RELAXED))
		;
	last = guest_passes(r);
	while (r->interleaves < RIVAL_INTERLEAVES &&
	       !__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		asm volatile("movd %2, %%xmm0\n\t"
			     "movd %2, %%xmm1\n\t"
			     "mov $100000, %%ecx\n"
			     "1:\tdec %%ecx\n\t"
			     "jnz 1b\n\t"
			     "movd %%xmm0, %0\n\t"
			     "movd %%xmm1, %1"
			     : "=&r"(x0), "=&r"(x1) : "r"(RIVAL_XMM)
			     : "ecx", "xmm0", "xmm1", "cc");
		if (x0 != RIVAL_XMM || x1 != RIVAL_XMM) {
			r->foreign++;
			r->foreign_value = x0 != RIVAL_XMM ? x0 : x1;
		}
		if (guest_passes(r) != last) {
			r->interleaves++;
			last = guest_passes(r);
		}
	}
	pthread_kill(r->vcpu_thread, SIGUSR1);
	return NULL;
}

static void ignore_signal(int sig)
{
	(void)sig;
}

/*
 * The guest's FPU registers are its own across a preemption inside LV_RUN:
 * the vCPU thread and a task using XMM0/XMM1 share CPU 0, and neither
 * may see the other's values. The vCPU's registers were once loaded only
 * when LV_RUN began, so after the first switch the guest ran on the other
 * task's registers and that task then got the guest's.
 */
static void test_fpu_preempted(void)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	struct fpu_rival rival = { 0 };
	static struct lv_xsave xs;
	uint32_t wrong = 0, wrong_passes;
	struct lv_run *run;
	struct guest g;
	pthread_t t;
	int ret;

	guest_start(&g, guest_sse_hold, GUEST_LEN(guest_sse_hold));
	run = g.vcpu.run;
	if (ioctl(g.vcpu.fd, LV_GET_XSAVE, &xs) < 0)
		die("LV_GET_XSAVE");
	xs_put(&xs, XS_XMM(0), HOLD_XMM0, 4);
	xs_put(&xs, XS_XSTATE_BV, xs32(&xs, XS_XSTATE_BV) | 0x3, 4);
	if (ioctl(g.vcpu.fd, LV_SET_XSAVE, &xs) < 0)
		die("LV_SET_XSAVE");

	sigaction(SIGUSR1, &sa, NULL);
	rival.guest_passes = (const uint32_t *)(g.vm.mem + HOLD_PASSES_GPA);
	rival.vcpu_thread = pthread_self();
	if (pthread_create(&t, NULL, fpu_rival_run, &rival))
		die("pthread_create");
	ret = vcpu_run(&g.vcpu);
	__atomic_store_n(&rival.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);

	memcpy(&wrong, g.vm.mem + HOLD_WRONG_GPA, sizeof(wrong));
	memcpy(&wrong_passes, g.vm.mem + HOLD_WRONG_PASSES_GPA, sizeof(wrong_passes));
	tap_result(ret < 0 && errno == EINTR && run->exit_reason == LV_EXIT_INTR,
		   "a signal ends LV_RUN of the spinning guest (%s)",
		   exit_reason_name(run->exit_reason));
	tap_result(rival.interleaves == RIVAL_INTERLEAVES && !wrong_passes,
		   "the guest's XMM0 held across %u switches to a task on its CPU "
		   "(%u of %u passes read %#x)", rival.interleaves, wrong_passes,
		   guest_passes(&rival), wrong);
	tap_result(rival.foreign == 0,
		   "the other task's XMM0/XMM1 stayed its own (%u rounds found %#x)",
		   rival.foreign, rival.foreign_value);
	ioctl(g.vcpu.fd, LV_GET_XSAVE, &xs);
	tap_result(xs32(&xs, XS_XMM(0)) == HOLD_XMM0 && xs32(&xs, XS_XMM(1)) == HOLD_XMM1,
		   "LV_GET_XSAVE after the switches: XMM0 %#x, XMM1 %#x",
		   xs32(&xs, XS_XMM(0)), xs32(&xs, XS_XMM(1)));
	signal(SIGUSR1, SIG_DFL);
	guest_end(&g);
}

/*
 * DR0-DR3, DR6 and the TSC in version 2 of the vCPU state, and
 * IA32_TSC_ADJUST: the guest
 * reads what was set, LV_GET_VCPU_STATE reads it back, and a DR6 the
 * CPU could not hold is refused.
 */
static void test_dr_tsc_state(void)
{
	static const uint64_t db[4] = { 0x1000, 0x2008, 0x30f0, 0xfffff000 };
	const uint64_t tsc = 0x123400000000ULL;
	struct lv_vcpu_state st, bad, got;
	struct guest g;
	uint32_t edx;
	unsigned int i;

	guest_start(&g, guest_dr_tsc, GUEST_LEN(guest_dr_tsc));
	ioctl(g.vcpu.fd, LV_GET_VCPU_STATE, &st);
	tap_eq(0xffff0ff0, st.dr6, "DR6 after reset in the state: 0xffff0ff0");
	memcpy(st.db, db, sizeof(db));
	st.dr6 = 0xffff4ff1;		/* B0 and BS */
	st.tsc = tsc;
	st.tsc_adjust = -0x5678;

	bad = st;
	bad.dr6 = 0x1ffff0ff0ULL;
	tap_errno(ioctl(g.vcpu.fd, LV_SET_VCPU_STATE, &bad), errno, EINVAL,
		  "LV_SET_VCPU_STATE: DR6 bit 32 -> EINVAL");
	bad.dr6 = 0;
	tap_errno(ioctl(g.vcpu.fd, LV_SET_VCPU_STATE, &bad), errno, EINVAL,
		  "LV_SET_VCPU_STATE: DR6 with its fixed-1 bits clear -> EINVAL");
	ioctl(g.vcpu.fd, LV_GET_VCPU_STATE, &got);
	tap_result(got.dr6 == 0xffff0ff0 && got.db[0] == 0 && got.tsc < tsc,
		   "the refused states changed nothing");

	tap_errno(ioctl(g.vcpu.fd, LV_SET_VCPU_STATE, &st), errno, 0,
		  "LV_SET_VCPU_STATE with DR0-DR3, DR6 and the TSC");
	ioctl(g.vcpu.fd, LV_GET_VCPU_STATE, &got);
	tap_result(!memcmp(got.db, db, sizeof(db)) && got.dr6 == st.dr6,
		   "LV_GET_VCPU_STATE reads DR0-DR3 and DR6 back");
	tap_result(got.tsc >= tsc && got.tsc - tsc < (1ULL << 32),
		   "LV_GET_VCPU_STATE reads the TSC from where it was set (+%llu)",
		   (unsigned long long)(got.tsc - tsc));
	tap_eq((uint64_t)-0x5678, got.tsc_adjust,
	       "LV_GET_VCPU_STATE reads IA32_TSC_ADJUST back (setting it after the TSC moved neither)");
	for (i = 0; i < 4; i++)
		tap_eq(db[i], guest_report(&g), "the guest reads DRn as set");
	tap_eq(0xffff4ff1, guest_report(&g), "the guest reads DR6 as set");
	edx = guest_report(&g);
	tap_result(edx == 0x1234 || edx == 0x1235,
		   "the guest's RDTSC goes on from the restored TSC (EDX %#x)", edx);
	guest_end(&g);
}

/*
 * A data breakpoint of the host (perf, here on a variable of this
 * process) still fires after a guest loaded breakpoints of its own.
 */
static void test_host_breakpoint(void)
{
	static volatile uint32_t watched;
	struct perf_event_attr attr;
	struct guest g;
	uint64_t count = 0;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_BREAKPOINT;
	attr.size = sizeof(attr);
	attr.bp_type = HW_BREAKPOINT_W;
	attr.bp_addr = (uintptr_t)&watched;
	attr.bp_len = HW_BREAKPOINT_LEN_4;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
	if (fd < 0) {
		tap_skip("host breakpoint survives a guest", "perf_event_open failed");
		return;
	}
	guest_start(&g, guest_dr, GUEST_LEN(guest_dr));
	guest_report(&g);
	watched = 1;
	guest_halts(&g);
	watched = 2;
	guest_end(&g);
	if (read(fd, &count, sizeof(count)) != sizeof(count))
		count = 0;
	close(fd);
	tap_eq(2, count, "the host's data breakpoint fires around guest runs that armed their own");
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "xcr0", test_xcr0 },
	{ "cr0", test_cr0_cache_disable },
	{ "pkru", test_pkru },
	{ "pkru_state", test_pkru_state },
	{ "xsave", test_xsave },
	{ "fpu_preempted", test_fpu_preempted },
	{ "dr_tsc_state", test_dr_tsc_state },
	{ "breakpoint", test_host_breakpoint },
	{ "sysenter", test_sysenter },	/* last: it crashed hosts */
};

/* abi_host [TEST]...: all tests, or the ones named. */
int main(int argc, char **argv)
{
	cpu_set_t cpu0;
	unsigned int i;
	int j;

	sys_fd = open_sys();
	require_run_guests(sys_fd);
	/* Guest and host checks on one CPU. */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	sched_setaffinity(0, sizeof(cpu0), &cpu0);

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		bool run = argc < 2;

		for (j = 1; j < argc; j++)
			run |= !strcmp(argv[j], tests[i].name);
		if (run)
			tests[i].fn();
	}
	tap_finish();
}
