// SPDX-License-Identifier: GPL-2.0
/*
 * abi_regs: register and state round trips, invalid state (segment
 * registers, CR3, CR4 and RIP included: the checks VM entry makes on
 * them, each refused with nothing changed), and a tiny
 * real-mode guest whose IO and HLT exits are checked field by field.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "test_util.h"

static int sys_fd;

/* The host's physical-address width, CPUID.80000008H:EAX[7:0]. */
static unsigned int phys_bits(void)
{
	unsigned int a, b, c, d;

	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000008), "c"(0));
	return a & 0xff;
}

static void new_vcpu(struct test_vm *vm, struct test_vcpu *vcpu, bool ram)
{
	vm_create(sys_fd, vm);
	if (ram)
		vm_add_ram(vm);
	vcpu_create(sys_fd, vm, 0, vcpu);
}

static void test_regs(struct test_vcpu *vcpu)
{
	struct lv_regs in, out;
	uint64_t *p = (uint64_t *)&in;
	unsigned int i;

	for (i = 0; i < sizeof(in) / sizeof(uint64_t); i++)
		p[i] = 0x1111111111111111ULL * (i % 15 + 1);
	in.rip = 0x1234;
	in.rflags = 0x2 | 0x40 | 0x80;	/* fixed bit, ZF, SF */
	if (ioctl(vcpu->fd, LV_SET_REGS, &in) < 0)
		tap_fail("LV_SET_REGS", "%s", strerror(errno));
	else
		tap_result(true, "LV_SET_REGS");
	memset(&out, 0, sizeof(out));
	if (ioctl(vcpu->fd, LV_GET_REGS, &out) < 0)
		tap_fail("LV_GET_REGS", "%s", strerror(errno));
	else
		tap_result(!memcmp(&in, &out, sizeof(in)), "LV_GET_REGS returns what LV_SET_REGS set");
}

static void test_sregs(struct test_vcpu *vcpu)
{
	struct lv_sregs s, out;

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	if (ioctl(vcpu->fd, LV_GET_SREGS, &s) < 0)
		die("LV_GET_SREGS");
	s.cs.selector = 0x100;
	s.cs.base = 0x1000;
	s.ds.selector = 0x200;
	s.ds.base = 0x2000;
	s.gdt = (struct lv_dtable){ .base = 0x5000, .limit = 0x7f };
	s.idt = (struct lv_dtable){ .base = 0x6000, .limit = 0x3ff };
	s.cr2 = 0xdead000;
	s.cr3 = 0x9000;
	tap_errno(ioctl(vcpu->fd, LV_SET_SREGS, &s), errno, 0, "LV_SET_SREGS (real mode)");
	memset(&out, 0, sizeof(out));
	tap_errno(ioctl(vcpu->fd, LV_GET_SREGS, &out), errno, 0, "LV_GET_SREGS");
	tap_result(out.cs.selector == 0x100 && out.cs.base == 0x1000 &&
		   out.cs.limit == 0xffff && out.cs.type == 0xb && out.cs.present,
		   "CS round trip");
	tap_result(out.ds.selector == 0x200 && out.ds.base == 0x2000, "DS round trip");
	tap_result(out.gdt.base == 0x5000 && out.gdt.limit == 0x7f &&
		   out.idt.base == 0x6000 && out.idt.limit == 0x3ff, "GDTR/IDTR round trip");
	tap_eq(0xdead000, out.cr2, "CR2 round trip");
	tap_eq(0x9000, out.cr3, "CR3 round trip");
	tap_eq(s.cr0, out.cr0, "CR0 round trip");
	tap_eq(s.efer, out.efer, "EFER round trip");
}

static void test_state(int sys_fd, struct test_vcpu *vcpu)
{
	struct lv_vcpu_state st, st2;
	int ret;

	if (check_cap(sys_fd, LV_CAP_VCPU_STATE) <= 0) {
		for (int i = 0; i < 6; i++)
			tap_skip("vCPU state", "no LV_CAP_VCPU_STATE");
		return;
	}
	memset(&st, 0, sizeof(st));
	ret = ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st);
	tap_errno(ret, errno, 0, "LV_GET_VCPU_STATE");
	tap_result(st.version == LV_VCPU_STATE_VERSION && st.size == sizeof(st),
		   "state version %u size %u (expected %u, %zu)", st.version, st.size,
		   LV_VCPU_STATE_VERSION, sizeof(st));

	st.regs.rbx = 0x5a5a5a5a5a5a5a5aULL;
	st.regs.rip = 0x1100;
	st.sysenter_cs = 0x10;
	st.star = 0x0023001000000000ULL;
	st.lstar = 0xffffffff81000000ULL;
	st.kernel_gs_base = 0xffff888000000000ULL;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st);
	tap_errno(ret, errno, 0, "LV_SET_VCPU_STATE of a modified state");
	memset(&st2, 0, sizeof(st2));
	ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st2);
	tap_result(st2.regs.rbx == st.regs.rbx && st2.regs.rip == 0x1100 &&
		   st2.sysenter_cs == 0x10 && st2.star == st.star &&
		   st2.lstar == st.lstar && st2.kernel_gs_base == st.kernel_gs_base &&
		   st2.sregs.cr0 == st.sregs.cr0 && st2.sregs.cs.base == st.sregs.cs.base,
		   "LV_GET_VCPU_STATE returns the state just set");

	st2 = st;
	st2.version = LV_VCPU_STATE_VERSION + 1;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st2);
	tap_errno(ret, errno, EINVAL, "LV_SET_VCPU_STATE with a wrong version -> EINVAL");
	st2 = st;
	st2.size = sizeof(st2) - 8;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st2);
	tap_errno(ret, errno, EINVAL, "LV_SET_VCPU_STATE with a wrong size -> EINVAL");
}

/* The ioctl numbers of version 1 of the state, as older callers have them. */
#define STATE_V1_SIZE		offsetof(struct lv_vcpu_state, pkru)
#define GET_VCPU_STATE_V1	_IOC(_IOC_READ, LVIO, 0x26, STATE_V1_SIZE)
#define SET_VCPU_STATE_V1	_IOC(_IOC_WRITE, LVIO, 0x27, STATE_V1_SIZE)

#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_MTRR_FIX4K_F8000	0x26f
#define MSR_MTRR_PHYSMASK0	0x201

static bool mtrrs_equal(const struct lv_vcpu_state *a, const struct lv_vcpu_state *b)
{
	return a->mtrr_def_type == b->mtrr_def_type &&
	       !memcmp(a->mtrr_fixed, b->mtrr_fixed, sizeof(a->mtrr_fixed)) &&
	       !memcmp(a->mtrr_var, b->mtrr_var, sizeof(a->mtrr_var));
}

/* RDMSR @msr in a real-mode guest of its own vCPU; ~0 if it did not report. */
static uint64_t guest_rdmsr_value(struct test_vm *vm, struct test_vcpu *vcpu,
				  uint32_t msr)
{
	struct lv_run *run = vcpu->run;
	struct lv_regs regs;
	uint64_t v = 0;
	uint32_t half;

	vm_load(vm, GUEST_CODE_GPA, guest_rdmsr, GUEST_LEN(guest_rdmsr));
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_REGS, &regs);
	regs.rcx = msr;
	ioctl(vcpu->fd, LV_SET_REGS, &regs);
	for (int i = 0; i < 2; i++) {
		if (vcpu_run(vcpu) < 0 || run->exit_reason != LV_EXIT_IO ||
		    run->io.port != 0x50 + i)
			return ~0ULL;
		memcpy(&half, (uint8_t *)run + run->io.data_offset, 4);
		v |= (uint64_t)half << (32 * i);
	}
	return v;
}

/*
 * The MTRRs in the state (version 2): set, read back, refused when WRMSR
 * would refuse them (nothing changed then), restored into the vCPU of a
 * second VM, where the guest reads them with RDMSR; version-1 callers
 * still get and set their smaller state and leave the MTRRs alone.
 */
static void test_mtrr_state(int sys_fd, struct test_vcpu *vcpu)
{
	struct lv_vcpu_state st, got, bad;
	struct test_vm vm2;
	struct test_vcpu vcpu2;
	uint64_t mask;
	int ret;

	memset(&st, 0, sizeof(st));
	ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st);
	st.mtrr_def_type = 0xc06;			/* E, FE, WB */
	st.mtrr_fixed[0] = 0x0606060606060606ULL;
	st.mtrr_fixed[10] = 0x0001040506000000ULL;	/* UC WC WT WP WB UC */
	st.mtrr_var[0] = 0x80000000ULL | 6;		/* WB at 2 GiB */
	mask = ((1ULL << phys_bits()) - 1) & ~0x7fffffffULL;
	st.mtrr_var[1] = mask | 0x800;			/* 2 GiB, valid */
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st);
	tap_errno(ret, errno, 0, "LV_SET_VCPU_STATE with MTRRs");
	memset(&got, 0, sizeof(got));
	ioctl(vcpu->fd, LV_GET_VCPU_STATE, &got);
	tap_result(mtrrs_equal(&st, &got), "LV_GET_VCPU_STATE returns the MTRRs set");
	st = got;

	static const struct {
		const char *name;
		int field;		/* -1: def_type, 0-10 fixed, 100+n var n */
		uint64_t value;
	} bad_mtrrs[] = {
		{ "default type 2 (reserved)", -1, 0xc02 },
		{ "default type reserved bit 9", -1, 0x206 },
		{ "fixed-range type 8 in its last byte", 10, 0x0806060606060606ULL },
		{ "PHYSBASE0 reserved bit 8", 100, 0x80000106ULL },
		{ "PHYSMASK0 bit at the physical-address width", 101, 0 },
		{ "PHYSMASK0 reserved bit 0", 101, 0x801 },
	};
	for (size_t i = 0; i < sizeof(bad_mtrrs) / sizeof(bad_mtrrs[0]); i++) {
		char name[96];

		bad = st;
		if (bad_mtrrs[i].field < 0)
			bad.mtrr_def_type = bad_mtrrs[i].value;
		else if (bad_mtrrs[i].field < 100)
			bad.mtrr_fixed[bad_mtrrs[i].field] = bad_mtrrs[i].value;
		else
			bad.mtrr_var[bad_mtrrs[i].field - 100] = bad_mtrrs[i].value;
		if (i == 4)
			bad.mtrr_var[1] = (1ULL << phys_bits()) | mask | 0x800;
		bad.regs.rbx = 0x1234;	/* would change if accepted */
		snprintf(name, sizeof(name), "LV_SET_VCPU_STATE: MTRR %s -> EINVAL",
			 bad_mtrrs[i].name);
		ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
		tap_errno(ret, errno, EINVAL, name);
		ioctl(vcpu->fd, LV_GET_VCPU_STATE, &got);
		tap_result(vcpu_state_same(&st, &got), "%s: state unchanged", name);
	}
	bad = st;
	bad.padding = 1;
	tap_errno(ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad), errno, EINVAL,
		  "LV_SET_VCPU_STATE: padding not 0 -> EINVAL");

	/* Version 1: the smaller state; the MTRRs stay. */
	memset(&bad, 0xff, sizeof(bad));
	ret = ioctl(vcpu->fd, GET_VCPU_STATE_V1, &bad);
	tap_errno(ret, errno, 0, "version-1 LV_GET_VCPU_STATE");
	tap_result(bad.version == 1 && bad.size == STATE_V1_SIZE && bad.pkru == ~0U,
		   "version-1 state: version %u, size %u, nothing written past it",
		   bad.version, bad.size);
	bad.regs.rbx = 0x4321;
	ret = ioctl(vcpu->fd, SET_VCPU_STATE_V1, &bad);
	tap_errno(ret, errno, 0, "version-1 LV_SET_VCPU_STATE");
	ioctl(vcpu->fd, LV_GET_VCPU_STATE, &got);
	tap_result(got.regs.rbx == 0x4321 && mtrrs_equal(&st, &got),
		   "version-1 set: registers set, MTRRs kept");
	bad.version = 2;
	tap_errno(ioctl(vcpu->fd, SET_VCPU_STATE_V1, &bad), errno, EINVAL,
		  "version-1 ioctl with version 2 -> EINVAL");

	/* Into the vCPU of another VM: same state, and the guest sees it. */
	vm_create(sys_fd, &vm2);
	vm_add_ram(&vm2);
	vcpu_create(sys_fd, &vm2, 0, &vcpu2);
	ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st);
	ret = ioctl(vcpu2.fd, LV_SET_VCPU_STATE, &st);
	tap_errno(ret, errno, 0, "the state restored into a second VM");
	ioctl(vcpu2.fd, LV_GET_VCPU_STATE, &got);
	tap_result(mtrrs_equal(&st, &got), "the second vCPU has the MTRRs");
	tap_eq(0xc06, guest_rdmsr_value(&vm2, &vcpu2, MSR_MTRR_DEF_TYPE),
	       "the guest reads IA32_MTRR_DEF_TYPE");
	tap_eq(st.mtrr_fixed[10], guest_rdmsr_value(&vm2, &vcpu2, MSR_MTRR_FIX4K_F8000),
	       "the guest reads IA32_MTRR_FIX4K_F8000");
	tap_eq(mask | 0x800, guest_rdmsr_value(&vm2, &vcpu2, MSR_MTRR_PHYSMASK0),
	       "the guest reads IA32_MTRR_PHYSMASK0");
	close(vcpu2.fd);
	close(vm2.fd);
}

static void test_no_memory(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	int ret;

	new_vcpu(&vm, &vcpu, false);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	ret = vcpu_run(&vcpu);
	if (ret == 0)
		tap_result(vcpu.run->exit_reason == LV_EXIT_MMIO ||
			   vcpu.run->exit_reason == LV_EXIT_INTERNAL_ERROR,
			   "run without memory -> MMIO or internal-error exit (got %s)",
			   exit_reason_name(vcpu.run->exit_reason));
	else
		tap_result(errno != EINTR,
			   "run without memory -> a clear error (got %s)", strerror(errno));
	close(vcpu.fd);
	close(vm.fd);
}

static void test_bad_sregs(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_sregs s;
	int ret;

	new_vcpu(&vm, &vcpu, true);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	vm_load(&vm, GUEST_CODE_GPA, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	ioctl(vcpu.fd, LV_GET_SREGS, &s);
	s.cr0 = 0x80000010;	/* PG without PE */
	ret = ioctl(vcpu.fd, LV_SET_SREGS, &s);
	if (ret < 0) {
		tap_errno(ret, errno, EINVAL, "CR0.PG without CR0.PE -> EINVAL or failed entry");
	} else {
		ret = vcpu_run(&vcpu);
		tap_result(ret == 0 && vcpu.run->exit_reason == LV_EXIT_FAIL_ENTRY,
			   "CR0.PG without CR0.PE -> EINVAL or failed entry (run: %d, %s)",
			   ret, ret ? strerror(errno) : exit_reason_name(vcpu.run->exit_reason));
	}
	close(vcpu.fd);
	close(vm.fd);
}

/* Mutations of a valid segment state, one per rule of SDM 27.3.1.2-4. */
enum seg_base { RM, PM, LM };

#define NONCANON	0x8000000000000000ULL

static void seg_base_state(struct lv_sregs *s, enum seg_base base)
{
	if (base == RM)
		return;
	s->cr0 |= 0x1;				/* PE */
	if (base == PM)
		return;
	s->cr0 |= 0x80000000;			/* PG */
	s->cr4 |= 0x20;				/* PAE */
	s->efer = 0x500;			/* LME, LMA */
	s->cs.l = 1;
}

static void bad_cs_unusable(struct lv_sregs *s) { s->cs.present = 0; }
static void bad_cs_type(struct lv_sregs *s) { s->cs.type = 0xa; }
static void bad_cs_s(struct lv_sregs *s) { s->cs.s = 0; }
static void bad_cs_type3_dpl(struct lv_sregs *s)
{
	s->cs.type = 3;
	s->cs.dpl = 3;
	s->ss.dpl = 3;
}
static void bad_cs_dpl_ne_ss(struct lv_sregs *s) { s->ss.dpl = 3; }
static void bad_cs_conforming_dpl(struct lv_sregs *s)
{
	s->cs.type = 0xf;
	s->cs.dpl = 3;
}
static void bad_cs_base_high(struct lv_sregs *s) { s->cs.base = 1ULL << 32; }
static void bad_cs_l_and_d(struct lv_sregs *s) { s->cs.db = 1; }
static void bad_ss_type(struct lv_sregs *s) { s->ss.type = 0xb; }
static void bad_ss_dpl_real(struct lv_sregs *s)
{
	s->cs.dpl = 3;
	s->ss.dpl = 3;
}
static void bad_ds_not_accessed(struct lv_sregs *s) { s->ds.type = 2; }
static void bad_ds_exec_only(struct lv_sregs *s) { s->ds.type = 9; }
static void bad_ds_system(struct lv_sregs *s) { s->ds.s = 0; }
static void bad_es_base_high(struct lv_sregs *s) { s->es.base = 1ULL << 32; }
static void bad_fs_base(struct lv_sregs *s) { s->fs.base = NONCANON; }
static void bad_gs_limit_g0(struct lv_sregs *s) { s->gs.limit = 0xffffffff; }
static void bad_ss_limit_g1(struct lv_sregs *s)
{
	s->ss.limit = 0xffff0;
	s->ss.g = 1;
}
static void bad_ds_dpl_width(struct lv_sregs *s) { s->ds.dpl = 4; }
static void bad_es_type_width(struct lv_sregs *s) { s->es.type = 0x13; }
static void bad_fs_padding(struct lv_sregs *s) { s->fs.padding[0] = 1; }
static void bad_tr_unusable(struct lv_sregs *s) { s->tr.unusable = 1; }
static void bad_tr_available(struct lv_sregs *s) { s->tr.type = 9; }
static void bad_tr_tss16_ia32e(struct lv_sregs *s) { s->tr.type = 3; }
static void bad_tr_s(struct lv_sregs *s) { s->tr.s = 1; }
static void bad_tr_ti(struct lv_sregs *s) { s->tr.selector = 4; }
static void bad_tr_base(struct lv_sregs *s) { s->tr.base = NONCANON; }
static void bad_ldt_type(struct lv_sregs *s) { s->ldt.type = 3; }
static void bad_ldt_ti(struct lv_sregs *s) { s->ldt.selector = 0xc; }
static void bad_ldt_base(struct lv_sregs *s) { s->ldt.base = NONCANON; }
static void bad_gdt_base(struct lv_sregs *s) { s->gdt.base = NONCANON; }
static void bad_idt_base(struct lv_sregs *s) { s->idt.base = NONCANON; }
static void bad_idt_padding(struct lv_sregs *s) { s->idt.padding[1] = 1; }

static const struct {
	const char *name;
	enum seg_base base;
	void (*bad)(struct lv_sregs *s);
} bad_segs[] = {
	{ "CS not present (unusable)", RM, bad_cs_unusable },
	{ "CS type 10 (code, not accessed)", RM, bad_cs_type },
	{ "CS with S clear", PM, bad_cs_s },
	{ "CS type 3 with DPL 3", PM, bad_cs_type3_dpl },
	{ "CS type 11 DPL 0, SS DPL 3", PM, bad_cs_dpl_ne_ss },
	{ "CS conforming with DPL above SS's", PM, bad_cs_conforming_dpl },
	{ "CS base bit 32", RM, bad_cs_base_high },
	{ "CS.L and CS.D in IA-32e mode", LM, bad_cs_l_and_d },
	{ "SS type 11 (code)", PM, bad_ss_type },
	{ "SS DPL 3 in real mode", RM, bad_ss_dpl_real },
	{ "DS type 2 (not accessed)", PM, bad_ds_not_accessed },
	{ "DS type 9 (execute-only code)", PM, bad_ds_exec_only },
	{ "DS with S clear", RM, bad_ds_system },
	{ "ES base bit 32", PM, bad_es_base_high },
	{ "FS base not canonical", LM, bad_fs_base },
	{ "GS limit 0xffffffff with G clear", PM, bad_gs_limit_g0 },
	{ "SS limit 0xffff0 with G set", PM, bad_ss_limit_g1 },
	{ "DS DPL 4 (reserved bit)", PM, bad_ds_dpl_width },
	{ "ES type 0x13 (reserved bit)", RM, bad_es_type_width },
	{ "FS padding not zero", RM, bad_fs_padding },
	{ "TR unusable", RM, bad_tr_unusable },
	{ "TR type 9 (available TSS)", PM, bad_tr_available },
	{ "TR type 3 (16-bit TSS) in IA-32e mode", LM, bad_tr_tss16_ia32e },
	{ "TR with S set", PM, bad_tr_s },
	{ "TR selector with TI", PM, bad_tr_ti },
	{ "TR base not canonical", LM, bad_tr_base },
	{ "LDTR type 3", PM, bad_ldt_type },
	{ "LDTR selector with TI", PM, bad_ldt_ti },
	{ "LDTR base not canonical", LM, bad_ldt_base },
	{ "GDTR base not canonical", LM, bad_gdt_base },
	{ "IDTR base not canonical", RM, bad_idt_base },
	{ "IDTR padding not zero", RM, bad_idt_padding },
};

/* The tiny guest from its start: its first exit is OUT 42 to port 0x10. */
static bool runs_from_start(struct test_vcpu *vcpu)
{
	struct lv_run *run = vcpu->run;

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	return vcpu_run(vcpu) == 0 && run->exit_reason == LV_EXIT_IO &&
	       run->io.port == 0x10 &&
	       *((uint8_t *)run + run->io.data_offset) == 42;
}

/* Refused with EINVAL, the old state kept, and the guest runs with it. */
static void expect_refused(struct test_vcpu *vcpu, int ret, const char *name,
			   const struct lv_sregs *old)
{
	struct lv_sregs now;

	tap_errno(ret, errno, EINVAL, name);
	ioctl(vcpu->fd, LV_GET_SREGS, &now);
	tap_result(!memcmp(&now, old, sizeof(now)),
		   "%s: segment state unchanged", name);
	tap_result(runs_from_start(vcpu), "%s: the guest still runs", name);
}

static void test_bad_segments(struct test_vcpu *vcpu)
{
	struct lv_sregs good, s;
	char name[96];
	int ret;

	for (size_t i = 0; i < sizeof(bad_segs) / sizeof(bad_segs[0]); i++) {
		vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
		ioctl(vcpu->fd, LV_GET_SREGS, &good);
		s = good;
		seg_base_state(&s, bad_segs[i].base);
		bad_segs[i].bad(&s);
		snprintf(name, sizeof(name), "LV_SET_SREGS: %s -> EINVAL",
			 bad_segs[i].name);
		ret = ioctl(vcpu->fd, LV_SET_SREGS, &s);
		expect_refused(vcpu, ret, name, &good);
	}
}

/* A vm86 state: PE, the six segments 0xf3 at selector << 4, limit 0xffff. */
static void vm86_state(struct lv_vcpu_state *st)
{
	struct lv_segment *segs[] = { &st->sregs.cs, &st->sregs.ds,
				      &st->sregs.es, &st->sregs.fs,
				      &st->sregs.gs, &st->sregs.ss };

	for (size_t i = 0; i < 6; i++) {
		memset(segs[i], 0, sizeof(*segs[i]));
		segs[i]->selector = 0x100;
		segs[i]->base = 0x1000;
		segs[i]->limit = 0xffff;
		segs[i]->type = 3;
		segs[i]->s = 1;
		segs[i]->dpl = 3;
		segs[i]->present = 1;
	}
	st->sregs.cr0 |= 0x1;
	st->regs.rflags = 0x20002;		/* VM */
	st->regs.rip = 0;
}

static void test_vm86_state(int sys_fd, struct test_vcpu *vcpu)
{
	struct lv_vcpu_state st, bad;
	struct lv_sregs good;
	struct lv_regs regs;
	int ret;

	if (check_cap(sys_fd, LV_CAP_VCPU_STATE) <= 0) {
		tap_skip("vm86 and LV_SET_VCPU_STATE", "no LV_CAP_VCPU_STATE");
		return;
	}
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_SREGS, &good);
	memset(&st, 0, sizeof(st));
	ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st);

	bad = st;
	bad.sregs.ds.type = 2;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	expect_refused(vcpu, ret, "LV_SET_VCPU_STATE: DS not accessed -> EINVAL",
		       &good);

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	bad = st;
	bad.regs.rflags = 0x20002;
	bad.sregs.cr0 |= 0x1;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	expect_refused(vcpu, ret,
		       "LV_SET_VCPU_STATE: RFLAGS.VM with protected-mode segments -> EINVAL",
		       &good);

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	bad = st;
	vm86_state(&bad);
	bad.sregs.cr0 &= ~1ULL;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	expect_refused(vcpu, ret, "LV_SET_VCPU_STATE: RFLAGS.VM with CR0.PE clear -> EINVAL",
		       &good);

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	bad = st;
	vm86_state(&bad);
	bad.sregs.ss.base = 0;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	expect_refused(vcpu, ret, "LV_SET_VCPU_STATE: vm86 SS base not selector << 4 -> EINVAL",
		       &good);

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	bad = st;
	vm86_state(&bad);
	bad.sregs.cs.db = 1;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	expect_refused(vcpu, ret, "LV_SET_VCPU_STATE: vm86 CS with D set -> EINVAL",
		       &good);

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_REGS, &regs);
	regs.rflags |= 0x20000;
	ret = ioctl(vcpu->fd, LV_SET_REGS, &regs);
	expect_refused(vcpu, ret, "LV_SET_REGS: RFLAGS.VM with real-mode segments -> EINVAL",
		       &good);

	/* A valid vm86 state: accepted, and VM entry agrees. */
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	bad = st;
	vm86_state(&bad);
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	tap_errno(ret, errno, 0, "LV_SET_VCPU_STATE: a vm86 state is accepted");
	ret = vcpu_run(vcpu);
	tap_result(ret == 0 && vcpu->run->exit_reason != LV_EXIT_FAIL_ENTRY,
		   "vm86 state: VM entry accepts it (run %d, %s)", ret,
		   ret ? strerror(errno) : exit_reason_name(vcpu->run->exit_reason));
	ioctl(vcpu->fd, LV_GET_REGS, &regs);
	regs.rflags &= ~0x20000ULL;
	ret = ioctl(vcpu->fd, LV_SET_REGS, &regs);
	tap_errno(ret, errno, EINVAL,
		  "LV_SET_REGS: clearing RFLAGS.VM with vm86 segments -> EINVAL");
	/* Segments and RFLAGS.VM change together only in a whole state. */
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st);
	tap_errno(ret, errno, 0, "LV_SET_VCPU_STATE leaves vm86 for real mode");
	tap_result(runs_from_start(vcpu), "after vm86, real mode runs again");
}

/* Unusual states VM entry accepts: accepted here too, and they run. */
static void test_good_segments(struct test_vcpu *vcpu)
{
	struct lv_sregs s;
	int ret;

	/* 64-bit mode with null DS, ES, SS, FS and GS. */
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_SREGS, &s);
	seg_base_state(&s, LM);
	s.ds.unusable = s.es.unusable = s.ss.unusable = 1;
	s.fs.present = s.gs.present = 0;
	s.ds.type = s.es.type = 0;
	s.ds.base = 1ULL << 40;
	ret = ioctl(vcpu->fd, LV_SET_SREGS, &s);
	tap_errno(ret, errno, 0, "64-bit mode with unusable DS, ES, SS, FS, GS accepted");
	ret = vcpu_run(vcpu);
	tap_result(ret == 0 && vcpu->run->exit_reason != LV_EXIT_FAIL_ENTRY,
		   "64-bit unusable segments: VM entry accepts them (run %d, %s)",
		   ret, ret ? strerror(errno) : exit_reason_name(vcpu->run->exit_reason));

	/* Real mode, unrestricted: CS as a data segment (type 3, DPL 0). */
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_SREGS, &s);
	s.cs.type = 3;
	s.ds.limit = 0xffffffff;
	s.ds.g = 1;
	ret = ioctl(vcpu->fd, LV_SET_SREGS, &s);
	tap_errno(ret, errno, 0, "real mode with CS type 3 and a 4 GiB DS accepted");
	ret = vcpu_run(vcpu);
	tap_result(ret == 0 && vcpu->run->exit_reason == LV_EXIT_IO &&
		   vcpu->run->io.port == 0x10,
		   "real mode with CS type 3: the guest runs to its OUT");

	/*
	 * Protected mode at CPL 2, conforming CS (type 15) of DPL 1: CS.RPL
	 * is the CPL, as a far transfer into it leaves it.
	 */
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_SREGS, &s);
	seg_base_state(&s, PM);
	s.cs.type = 15;
	s.cs.dpl = 1;
	s.cs.selector = 2;
	s.ss.dpl = 2;
	s.ss.selector = 2;
	s.tr.type = 3;
	ret = ioctl(vcpu->fd, LV_SET_SREGS, &s);
	tap_errno(ret, errno, 0,
		  "protected mode, conforming CS DPL 1, SS DPL 2, 16-bit TSS accepted");
	ret = vcpu_run(vcpu);
	tap_result(ret == 0 && vcpu->run->exit_reason != LV_EXIT_FAIL_ENTRY,
		   "conforming CS: VM entry accepts it (run %d, %s)", ret,
		   ret ? strerror(errno) : exit_reason_name(vcpu->run->exit_reason));
}

/* Refused with EINVAL, general and system registers kept, the guest runs. */
static void expect_refused_all(struct test_vcpu *vcpu, int ret, const char *name,
			       const struct lv_regs *old_regs,
			       const struct lv_sregs *old)
{
	struct lv_regs now;

	ioctl(vcpu->fd, LV_GET_REGS, &now);
	tap_result(!memcmp(&now, old_regs, sizeof(now)),
		   "%s: registers unchanged", name);
	expect_refused(vcpu, ret, name, old);
}

/* Mutations of a valid system state that VM entry refuses (27.3.1.1). */
static void bad_cr3_width(struct lv_sregs *s) { s->cr3 = 1ULL << phys_bits(); }
static void bad_cr3_bit63(struct lv_sregs *s) { s->cr3 = 1ULL << 63; }
static void bad_pcide(struct lv_sregs *s) { s->cr4 |= 0x20000; }
static void bad_nw(struct lv_sregs *s) { s->cr0 |= 0x20000000; s->cr0 &= ~0x40000000ULL; }

static const struct {
	const char *name;
	enum seg_base base;
	void (*bad)(struct lv_sregs *s);
} bad_crs[] = {
	{ "CR3 bit at the physical-address width", RM, bad_cr3_width },
	{ "CR3 bit 63 in IA-32e mode", LM, bad_cr3_bit63 },
	{ "CR4.PCIDE outside IA-32e mode", PM, bad_pcide },
	{ "CR0.NW without CR0.CD", PM, bad_nw },
};

/*
 * RIP, CR3 and CR4 against the rest of the state: refused by each of the
 * three ioctls, nothing changed, and the guest still runs; what VM entry
 * accepts is accepted and runs.
 */
static void test_entry_regs(struct test_vcpu *vcpu)
{
	struct lv_vcpu_state st, bad;
	struct lv_sregs good, s;
	struct lv_regs regs, r;
	char name[96];
	int ret;

	for (size_t i = 0; i < sizeof(bad_crs) / sizeof(bad_crs[0]); i++) {
		vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
		ioctl(vcpu->fd, LV_GET_SREGS, &good);
		ioctl(vcpu->fd, LV_GET_REGS, &regs);
		s = good;
		seg_base_state(&s, bad_crs[i].base);
		bad_crs[i].bad(&s);
		snprintf(name, sizeof(name), "LV_SET_SREGS: %s -> EINVAL",
			 bad_crs[i].name);
		ret = ioctl(vcpu->fd, LV_SET_SREGS, &s);
		expect_refused_all(vcpu, ret, name, &regs, &good);

		vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
		ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st);
		bad = st;
		bad.sregs = s;
		snprintf(name, sizeof(name), "LV_SET_VCPU_STATE: %s -> EINVAL",
			 bad_crs[i].name);
		ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
		expect_refused_all(vcpu, ret, name, &regs, &good);
	}

	/* RIP bits 63:32 outside 64-bit code. */
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_SREGS, &good);
	ioctl(vcpu->fd, LV_GET_REGS, &regs);
	r = regs;
	r.rip = 1ULL << 32;
	ret = ioctl(vcpu->fd, LV_SET_REGS, &r);
	expect_refused_all(vcpu, ret, "LV_SET_REGS: RIP bit 32 in real mode -> EINVAL",
			   &regs, &good);

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st);
	bad = st;
	bad.regs.rip = 1ULL << 32;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	expect_refused_all(vcpu, ret, "LV_SET_VCPU_STATE: RIP bit 32 in real mode -> EINVAL",
			   &regs, &good);

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	bad = st;
	seg_base_state(&bad.sregs, LM);
	bad.sregs.cs.l = 0;			/* compatibility mode */
	bad.regs.rip = 1ULL << 32;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	expect_refused_all(vcpu, ret,
			   "LV_SET_VCPU_STATE: RIP bit 32 in compatibility mode -> EINVAL",
			   &regs, &good);

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	bad = st;
	seg_base_state(&bad.sregs, LM);
	bad.regs.rip = NONCANON;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	expect_refused_all(vcpu, ret,
			   "LV_SET_VCPU_STATE: RIP not canonical in 64-bit code -> EINVAL",
			   &regs, &good);

	/*
	 * 64-bit code at RIP 4 GiB is fine; leaving 64-bit mode with LV_SET_SREGS
	 * while RIP is there is not, and changes nothing.
	 */
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	bad = st;
	seg_base_state(&bad.sregs, LM);
	bad.regs.rip = 1ULL << 32;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &bad);
	tap_errno(ret, errno, 0, "LV_SET_VCPU_STATE: 64-bit code at RIP 4 GiB accepted");
	ioctl(vcpu->fd, LV_GET_SREGS, &s);
	ioctl(vcpu->fd, LV_GET_REGS, &r);
	ret = ioctl(vcpu->fd, LV_SET_SREGS, &good);
	tap_errno(ret, errno, EINVAL,
		  "LV_SET_SREGS: real mode while RIP is at 4 GiB -> EINVAL");
	ioctl(vcpu->fd, LV_GET_SREGS, &good);
	tap_result(!memcmp(&good, &s, sizeof(s)), "64-bit system registers kept");
	ioctl(vcpu->fd, LV_GET_REGS, &regs);
	r.rip = NONCANON;
	ret = ioctl(vcpu->fd, LV_SET_REGS, &r);
	tap_errno(ret, errno, EINVAL, "LV_SET_REGS: RIP not canonical in 64-bit code -> EINVAL");
	ioctl(vcpu->fd, LV_GET_REGS, &r);
	tap_eq(regs.rip, r.rip, "RIP kept");

	/* CR3 just below the physical-address width: accepted, and it runs. */
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	ioctl(vcpu->fd, LV_GET_SREGS, &s);
	s.cr3 = (1ULL << phys_bits()) - 0x1000;
	ret = ioctl(vcpu->fd, LV_SET_SREGS, &s);
	tap_errno(ret, errno, 0, "LV_SET_SREGS: CR3 below the physical-address width accepted");
	ret = vcpu_run(vcpu);
	tap_result(ret == 0 && vcpu->run->exit_reason == LV_EXIT_IO &&
		   vcpu->run->io.port == 0x10,
		   "CR3 at the top of the address width: the guest runs to its OUT");
}

static void test_segments(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_sregs s;
	int ret;

	new_vcpu(&vm, &vcpu, true);
	/* The state of a new vCPU (real mode at the reset vector) is valid. */
	ioctl(vcpu.fd, LV_GET_SREGS, &s);
	ret = ioctl(vcpu.fd, LV_SET_SREGS, &s);
	tap_errno(ret, errno, 0, "the reset state of a new vCPU is accepted");
	vm_load(&vm, GUEST_CODE_GPA, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	tap_result(runs_from_start(&vcpu), "the tiny guest runs from the start");

	test_bad_segments(&vcpu);
	test_vm86_state(sys_fd, &vcpu);
	test_good_segments(&vcpu);
	test_entry_regs(&vcpu);
	close(vcpu.fd);
	close(vm.fd);
}

static bool expect_exit(struct test_vcpu *vcpu, uint32_t reason, const char *name)
{
	int ret = vcpu_run(vcpu);

	if (ret < 0) {
		tap_fail(name, "LV_RUN failed: %s", strerror(errno));
		return false;
	}
	if (vcpu->run->exit_reason != reason) {
		tap_fail(name, "expected exit %s got %s", exit_reason_name(reason),
			 exit_reason_name(vcpu->run->exit_reason));
		return false;
	}
	tap_result(true, "%s", name);
	return true;
}

static void test_tiny_guest(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_run *run;
	struct lv_regs regs;
	uint8_t *data;

	new_vcpu(&vm, &vcpu, true);
	run = vcpu.run;
	vm_load(&vm, GUEST_CODE_GPA, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);

	if (expect_exit(&vcpu, LV_EXIT_IO, "OUT 42 -> IO exit")) {
		data = (uint8_t *)run + run->io.data_offset;
		tap_result(run->io.direction == LV_EXIT_IO_OUT && run->io.size == 1 &&
			   run->io.port == 0x10 && run->io.count == 1,
			   "IO exit fields: out, size 1, port 0x10, count 1 (got %u %u 0x%x %u)",
			   run->io.direction, run->io.size, run->io.port, run->io.count);
		tap_eq(LV_RUN_IO_DATA_OFFSET, run->io.data_offset, "io.data_offset");
		tap_eq(42, *data, "OUT data is 42");
	}
	if (expect_exit(&vcpu, LV_EXIT_IO, "IN from port 0x11 -> IO exit")) {
		tap_result(run->io.direction == LV_EXIT_IO_IN && run->io.size == 1 &&
			   run->io.port == 0x11 && run->io.count == 1,
			   "IN exit fields: in, size 1, port 0x11, count 1");
		*((uint8_t *)run + run->io.data_offset) = 0x99;
	}
	if (expect_exit(&vcpu, LV_EXIT_IO, "OUT of the IN value -> IO exit"))
		tap_eq(0x99, *((uint8_t *)run + run->io.data_offset),
		       "the guest got the value userspace supplied for IN");
	if (expect_exit(&vcpu, LV_EXIT_HLT, "HLT with IF=0 -> HLT exit")) {
		ioctl(vcpu.fd, LV_GET_REGS, &regs);
		tap_eq(GUEST_CODE_GPA + GUEST_LEN(guest_io_hlt), regs.rip,
		       "RIP after HLT points past it");
	}
	close(vcpu.fd);
	close(vm.fd);
}

int main(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;

	sys_fd = open_sys();
	require_run_guests(sys_fd);

	new_vcpu(&vm, &vcpu, true);
	test_regs(&vcpu);
	test_sregs(&vcpu);
	test_state(sys_fd, &vcpu);
	test_mtrr_state(sys_fd, &vcpu);
	close(vcpu.fd);
	close(vm.fd);

	test_no_memory();
	test_bad_sregs();
	test_tiny_guest();
	test_segments();
	tap_finish();
}
