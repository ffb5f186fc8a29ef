// SPDX-License-Identifier: GPL-2.0
/*
 * abi_irqchip: the in-kernel interrupt controllers, CPUID and TSC calls.
 * Documented errnos for bad input to each new ioctl, then real-mode
 * guests (irq_guest.S) that use the local APIC through x2APIC MSRs:
 * TPR masking and nested EOI order, the timer in periodic, one-shot and
 * TSC-deadline mode (timed with the guest's TSC), INIT-SIPI-SIPI and
 * IPIs between two vCPUs, the PIC through ExtINT, I/O APIC edge and
 * level lines, MSIs and eventfd-raised lines, CPUID as set, and the
 * saved state.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "test_util.h"

DECLARE_GUEST(irq_guest);

/* Entry points and handlers in irq_guest.S, as blob offsets. */
#define BLOB		0x1000
#define E_PRIO		0x000
#define E_PERIODIC	0x200
#define E_ONESHOT	0x300
#define E_DEADLINE	0x400
#define E_SMP_BSP	0x500
#define E_PIC		0x600
#define E_IOAPIC	0x680
#define H_NEST36	0x700
#define H_TIMER		0x780
#define H_DEADLINE	0x7a0
#define H_NMI		0x7d0
#define H_PIC53		0x7e0
#define H_GENERIC(v)	(0x800 + ((v) - 0x30) * 0x20)
#define E_CPUID		0x1400

#define MAX_EVENTS	64

struct event {
	uint16_t port;
	uint32_t val;
};

struct trace {
	struct event ev[MAX_EVENTS];
	int n;
	uint32_t last_exit;
};

static void on_alarm(int sig)
{
	(void)sig;
}

static void alarm_ms(long ms)
{
	struct itimerval it = {
		.it_value = { ms / 1000, (ms % 1000) * 1000 },
		.it_interval = { ms / 1000, (ms % 1000) * 1000 },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

static void set_ivt(struct test_vm *vm, int vector, uint16_t offset)
{
	uint16_t entry[2] = { offset, 0 };

	memcpy(vm->mem + vector * 4, entry, sizeof(entry));
}

static void setup_vm(int sys_fd, struct test_vm *vm, bool irqchip)
{
	static const int generic[] = {
		0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x48, 0x49, 0x4a, 0x4b, 0x86,
	};
	unsigned int i;

	vm_create(sys_fd, vm);
	if (irqchip && ioctl(vm->fd, LV_CREATE_IRQCHIP, 0) < 0)
		die("LV_CREATE_IRQCHIP");
	vm_add_ram(vm);
	vm_load(vm, BLOB, irq_guest, GUEST_LEN(irq_guest));
	for (i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
		set_ivt(vm, generic[i], BLOB + H_GENERIC(generic[i]));
	set_ivt(vm, 2, BLOB + H_NMI);
	set_ivt(vm, 0x36, BLOB + H_NEST36);
	set_ivt(vm, 0x46, BLOB + H_TIMER);
	set_ivt(vm, 0x47, BLOB + H_DEADLINE);
	set_ivt(vm, 0x53, BLOB + H_PIC53);
}

static void close_vm(struct test_vm *vm, struct test_vcpu *vcpus, int n)
{
	int i;

	for (i = 0; i < n; i++)
		close(vcpus[i].fd);
	close(vm->fd);
}

/*
 * Run, recording OUTs, until an OUT to @stop_port (recorded), a HLT exit,
 * another exit (an error) or @timeout_ms. Returns 0 on @stop_port or HLT,
 * 1 on timeout, -1 on anything else.
 */
static int run_trace(struct test_vcpu *vcpu, struct trace *t, int stop_port,
		     long timeout_ms)
{
	struct lv_run *run = vcpu->run;
	int ret = -1;

	if (timeout_ms)
		alarm_ms(timeout_ms);
	for (;;) {
		if (vcpu_run(vcpu) < 0) {
			ret = errno == EINTR ? 1 : -1;
			break;
		}
		t->last_exit = run->exit_reason;
		if (run->exit_reason == LV_EXIT_HLT) {
			ret = 0;
			break;
		}
		if (run->exit_reason != LV_EXIT_IO ||
		    run->io.direction != LV_EXIT_IO_OUT)
			break;
		if (t->n < MAX_EVENTS) {
			uint32_t v = 0;

			memcpy(&v, (uint8_t *)run + run->io.data_offset, run->io.size);
			t->ev[t->n++] = (struct event){ run->io.port, v };
		}
		if (run->io.port == stop_port) {
			ret = 0;
			break;
		}
	}
	if (timeout_ms)
		alarm_ms(0);
	return ret;
}

static void trace_diag(const struct trace *t)
{
	char buf[512];
	int i, len = 0;

	for (i = 0; i < t->n && len < (int)sizeof(buf) - 16; i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %x:%x",
				t->ev[i].port, t->ev[i].val);
	tap_diag("events:%s (last exit %s)", len ? buf : " none",
		 exit_reason_name(t->last_exit));
}

static uint64_t trace_u64(const struct trace *t, int lo_port)
{
	uint64_t lo = 0, hi = 0;
	int i;

	for (i = 0; i < t->n; i++) {
		if (t->ev[i].port == lo_port)
			lo = t->ev[i].val;
		if (t->ev[i].port == lo_port + 1)
			hi = t->ev[i].val;
	}
	return hi << 32 | lo;
}

static int trace_count(const struct trace *t, int port, uint32_t val)
{
	int i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->ev[i].port == port && t->ev[i].val == val;
	return n;
}

static struct test_vcpu new_vcpu(int sys_fd, struct test_vm *vm, int id,
				 uint16_t entry)
{
	struct test_vcpu vcpu;

	vcpu_create(sys_fd, vm, id, &vcpu);
	vcpu_setup_realmode(&vcpu, BLOB + entry);
	return vcpu;
}

/* --- errnos --- */

static void test_irqchip_errors(int sys_fd)
{
	struct lv_irq_level lvl = { .line = 0, .level = 1 };
	struct lv_irqfd irqfd = { .fd = -1 };
	struct lv_msi msi = { .address = 0xfee00000, .data = 0x41 };
	struct lv_irqchip_state st;
	struct lv_lapic_state ls;
	struct lv_interrupt intr = { .vector = 0x40 };
	struct lv_tsc_control tc = { .flags = 1 };
	struct test_vcpu vcpu;
	struct test_vm vm;
	int efd;

	tap_result(check_cap(sys_fd, LV_CAP_IRQCHIP) > 0, "LV_CAP_IRQCHIP");
	tap_result(check_cap(sys_fd, LV_CAP_IRQFD) > 0, "LV_CAP_IRQFD");
	tap_result(check_cap(sys_fd, LV_CAP_SET_CPUID) > 0, "LV_CAP_SET_CPUID");
	tap_result(check_cap(sys_fd, LV_CAP_TSC_KHZ) > 0, "LV_CAP_TSC_KHZ: %d kHz",
		   check_cap(sys_fd, LV_CAP_TSC_KHZ));

	vm_create(sys_fd, &vm);
	vm_add_ram(&vm);
	tap_errno(ioctl(vm.fd, LV_IRQ_LINE, &lvl), errno, ENXIO,
		  "LV_IRQ_LINE without an irqchip -> ENXIO");
	tap_errno(ioctl(vm.fd, LV_SIGNAL_MSI, &msi), errno, ENXIO,
		  "LV_SIGNAL_MSI without an irqchip -> ENXIO");
	tap_errno(ioctl(vm.fd, LV_GET_IRQCHIP, &st), errno, ENXIO,
		  "LV_GET_IRQCHIP without an irqchip -> ENXIO");
	tap_errno(ioctl(vm.fd, LV_CREATE_IRQCHIP, 1), errno, EINVAL,
		  "LV_CREATE_IRQCHIP with a non-zero argument -> EINVAL");
	tap_errno(ioctl(vm.fd, LV_SET_TSC_OFFSET, &tc), errno, EINVAL,
		  "LV_SET_TSC_OFFSET with flags -> EINVAL");
	tc.flags = 0;
	tap_errno(ioctl(vm.fd, LV_SET_TSC_OFFSET, &tc), errno, 0,
		  "LV_SET_TSC_OFFSET");
	vcpu = new_vcpu(sys_fd, &vm, 0, E_PRIO);
	tap_errno(ioctl(vcpu.fd, LV_GET_LAPIC, &ls), errno, ENXIO,
		  "LV_GET_LAPIC without an irqchip -> ENXIO");
	tap_errno(ioctl(vm.fd, LV_CREATE_IRQCHIP, 0), errno, EBUSY,
		  "LV_CREATE_IRQCHIP after a vCPU -> EBUSY");
	close_vm(&vm, &vcpu, 1);

	vm_create(sys_fd, &vm);
	vm_add_ram(&vm);
	tap_errno(ioctl(vm.fd, LV_CREATE_IRQCHIP, 0), errno, 0, "LV_CREATE_IRQCHIP");
	tap_errno(ioctl(vm.fd, LV_CREATE_IRQCHIP, 0), errno, EEXIST,
		  "LV_CREATE_IRQCHIP twice -> EEXIST");
	lvl.line = LV_NR_IRQ_LINES;
	tap_errno(ioctl(vm.fd, LV_IRQ_LINE, &lvl), errno, EINVAL,
		  "LV_IRQ_LINE line 24 -> EINVAL");
	lvl = (struct lv_irq_level){ .line = 3, .level = 2 };
	tap_errno(ioctl(vm.fd, LV_IRQ_LINE, &lvl), errno, EINVAL,
		  "LV_IRQ_LINE level 2 -> EINVAL");
	lvl.level = 0;
	tap_errno(ioctl(vm.fd, LV_IRQ_LINE, &lvl), errno, 0, "LV_IRQ_LINE line 3 low");

	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, EBADF,
		  "LV_IRQFD fd -1 -> EBADF");
	irqfd.fd = vm.fd;
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, EINVAL,
		  "LV_IRQFD on a non-eventfd -> EINVAL");
	efd = eventfd(0, EFD_CLOEXEC);
	irqfd = (struct lv_irqfd){ .fd = efd, .line = 24 };
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, EINVAL,
		  "LV_IRQFD line 24 -> EINVAL");
	irqfd = (struct lv_irqfd){ .fd = efd, .line = 4, .flags = 2 };
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, EINVAL,
		  "LV_IRQFD unknown flags -> EINVAL");
	irqfd.flags = LV_IRQFD_DEASSIGN;
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, ENOENT,
		  "LV_IRQFD deassign of an unknown eventfd -> ENOENT");
	irqfd.flags = 0;
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, 0, "LV_IRQFD assign");
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, EEXIST,
		  "LV_IRQFD the same eventfd twice -> EEXIST");
	/* Left assigned: closing the VM must free it. */

	msi.address = 0xfed00000;
	tap_errno(ioctl(vm.fd, LV_SIGNAL_MSI, &msi), errno, EINVAL,
		  "LV_SIGNAL_MSI outside 0xFEExxxxx -> EINVAL");
	msi = (struct lv_msi){ .address = 0xfee00000, .data = 0x341 };
	tap_errno(ioctl(vm.fd, LV_SIGNAL_MSI, &msi), errno, EINVAL,
		  "LV_SIGNAL_MSI reserved delivery mode -> EINVAL");
	msi = (struct lv_msi){ .address = 0xfee00000, .data = 0x41, .flags = 1 };
	tap_errno(ioctl(vm.fd, LV_SIGNAL_MSI, &msi), errno, EINVAL,
		  "LV_SIGNAL_MSI flags -> EINVAL");

	memset(&st, 0, sizeof(st));
	tap_errno(ioctl(vm.fd, LV_GET_IRQCHIP, &st), errno, 0, "LV_GET_IRQCHIP");
	tap_eq(LV_IRQCHIP_STATE_VERSION, st.version, "irqchip state version");
	tap_eq(sizeof(st), st.size, "irqchip state size");
	tap_eq(1ULL << 16, st.ioapic.redir[7], "I/O APIC entries start masked");
	tap_errno(ioctl(vm.fd, LV_SET_IRQCHIP, &st), errno, 0,
		  "LV_SET_IRQCHIP of what GET returned");
	st.version = 99;
	tap_errno(ioctl(vm.fd, LV_SET_IRQCHIP, &st), errno, EINVAL,
		  "LV_SET_IRQCHIP wrong version -> EINVAL");
	st.version = LV_IRQCHIP_STATE_VERSION;
	st.size--;
	tap_errno(ioctl(vm.fd, LV_SET_IRQCHIP, &st), errno, EINVAL,
		  "LV_SET_IRQCHIP wrong size -> EINVAL");
	st.size++;
	st.pit[0].mode = 6;
	tap_errno(ioctl(vm.fd, LV_SET_IRQCHIP, &st), errno, EINVAL,
		  "LV_SET_IRQCHIP PIT mode 6 -> EINVAL");
	st.pit[0].mode = 2;
	st.reserved[3] = 1;
	tap_errno(ioctl(vm.fd, LV_SET_IRQCHIP, &st), errno, EINVAL,
		  "LV_SET_IRQCHIP reserved words -> EINVAL");

	vcpu = new_vcpu(sys_fd, &vm, 0, E_PRIO);
	tap_errno(ioctl(vcpu.fd, LV_INTERRUPT, &intr), errno, ENXIO,
		  "LV_INTERRUPT of a vector with an irqchip -> ENXIO");
	memset(&ls, 0, sizeof(ls));
	tap_errno(ioctl(vcpu.fd, LV_GET_LAPIC, &ls), errno, 0, "LV_GET_LAPIC");
	tap_eq(0xfee00900, ls.apic_base, "BSP: APIC at 0xfee00000, enabled, BSP flag");
	tap_eq(0x14, ls.regs[0x30 >> 4] & 0xff, "APIC version 0x14");
	tap_errno(ioctl(vcpu.fd, LV_SET_LAPIC, &ls), errno, 0,
		  "LV_SET_LAPIC of what GET returned");
	ls.version = 2;
	tap_errno(ioctl(vcpu.fd, LV_SET_LAPIC, &ls), errno, EINVAL,
		  "LV_SET_LAPIC wrong version -> EINVAL");
	ls.version = LV_LAPIC_STATE_VERSION;
	ls.size = 8;
	tap_errno(ioctl(vcpu.fd, LV_SET_LAPIC, &ls), errno, EINVAL,
		  "LV_SET_LAPIC wrong size -> EINVAL");
	ls.size = sizeof(ls);
	ls.apic_base = 0x2000 | 0x900;
	tap_errno(ioctl(vcpu.fd, LV_SET_LAPIC, &ls), errno, EINVAL,
		  "LV_SET_LAPIC: the APIC page on guest RAM -> EINVAL");
	ls.apic_base = 0xfee00000 | 0x400;	/* EXTD without EN */
	tap_errno(ioctl(vcpu.fd, LV_SET_LAPIC, &ls), errno, EINVAL,
		  "LV_SET_LAPIC: x2APIC without enable -> EINVAL");
	ls.apic_base = 0xfee00900;
	ls.reserved[0] = 1;
	tap_errno(ioctl(vcpu.fd, LV_SET_LAPIC, &ls), errno, EINVAL,
		  "LV_SET_LAPIC reserved words -> EINVAL");
	ls.reserved[0] = 0;
	ls.pending_sipi = 257;
	tap_errno(ioctl(vcpu.fd, LV_SET_LAPIC, &ls), errno, EINVAL,
		  "LV_SET_LAPIC SIPI vector 256 -> EINVAL");
	close_vm(&vm, &vcpu, 1);
	close(efd);
}

/* --- CPUID --- */

static struct lv_cpuid *supported_cpuid(int sys_fd)
{
	struct lv_cpuid *c = calloc(1, sizeof(*c) + LV_MAX_CPUID_ENTRIES *
				       sizeof(struct lv_cpuid_entry));

	c->nent = 1;
	tap_errno(ioctl(sys_fd, LV_GET_SUPPORTED_CPUID, c), errno, E2BIG,
		  "LV_GET_SUPPORTED_CPUID with room for 1 -> E2BIG");
	tap_result(c->nent > 1 && c->nent <= LV_MAX_CPUID_ENTRIES,
		   "... and says it needs %u entries", c->nent);
	c->nent = LV_MAX_CPUID_ENTRIES;
	tap_errno(ioctl(sys_fd, LV_GET_SUPPORTED_CPUID, c), errno, 0,
		  "LV_GET_SUPPORTED_CPUID");
	return c;
}

static struct lv_cpuid_entry *find_leaf(struct lv_cpuid *c, uint32_t fn,
					uint32_t index)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

static void test_cpuid(int sys_fd)
{
	struct lv_cpuid *c = supported_cpuid(sys_fd);
	struct lv_cpuid_entry *e1, *e6, *sig, *timing, saved;
	struct test_vcpu vcpu;
	struct test_vm vm;
	struct trace t = { .n = 0 };
	int khz = check_cap(sys_fd, LV_CAP_TSC_KHZ);

	e1 = find_leaf(c, 1, 0);
	sig = find_leaf(c, 0x40000000, 0);
	timing = find_leaf(c, 0x40000010, 0);
	if (!e1 || !sig || !timing) {
		tap_fail("supported CPUID has leaves 1, 0x40000000, 0x40000010", " ");
		return;
	}
	tap_eq(0x40000010, sig->eax, "0x40000000: highest hypervisor leaf 0x40000010");
	tap_result(!memcmp(&sig->ebx, "LightVisorLV", 4) &&
		   !memcmp(&sig->ecx, "tVis", 4) && !memcmp(&sig->edx, "orLV", 4),
		   "0x40000000: signature LightVisorLV");
	tap_eq(khz, timing->eax, "0x40000010: EAX is the TSC in kHz");
	tap_eq(1000000, timing->ebx, "0x40000010: EBX is the APIC bus, 1 GHz");
	tap_result(e1->edx & (1 << 9) && e1->ecx & (1 << 21) && e1->ecx & (1 << 24),
		   "supported leaf 1: APIC, x2APIC, TSC-deadline");
	tap_result(!(e1->ecx & (1 << 5)), "supported leaf 1: no VMX");
	e6 = find_leaf(c, 6, 0);
	tap_result(e6 && e6->eax == 1 << 2 && !(e6->ebx | e6->ecx | e6->edx),
		   "supported leaf 6: ARAT (the APIC timer always runs), nothing else");

	/* Without an irqchip the APIC bit is refused. */
	vm_create(sys_fd, &vm);
	tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, EINVAL,
		  "LV_SET_CPUID: APIC bit without an irqchip -> EINVAL");
	close(vm.fd);

	setup_vm(sys_fd, &vm, true);
	saved = *e1;
	e1->ecx |= 1 << 5;
	tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, EINVAL,
		  "LV_SET_CPUID: VMX bit -> EINVAL");
	*e1 = saved;
	if (e6) {
		e6->eax |= 1 << 1;
		tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, EINVAL,
			  "LV_SET_CPUID: leaf 6 with more than ARAT -> EINVAL");
		e6->eax = 1 << 2;
	}
	e1->flags = 0x80;
	tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, EINVAL,
		  "LV_SET_CPUID: unknown entry flags -> EINVAL");
	*e1 = saved;
	c->entries[c->nent] = *e1;
	c->nent++;
	tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, EINVAL,
		  "LV_SET_CPUID: a leaf twice -> EINVAL");
	c->nent--;
	sig->eax = 0x40000011;
	tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, EINVAL,
		  "LV_SET_CPUID: a higher hypervisor leaf than offered -> EINVAL");
	sig->eax = 0x40000010;
	c->nent = LV_MAX_CPUID_ENTRIES + 1;
	tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, E2BIG,
		  "LV_SET_CPUID: too many entries -> E2BIG");
	c->nent = (uint32_t)(find_leaf(c, 0x40000010, 0) - c->entries) + 1;
	/* A reduced leaf 1: no SSE3 (ECX bit 0), no TSC-deadline. */
	e1->ecx &= ~(1U | (1U << 24));
	e1->ebx = 0x00ff0000;
	tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, 0,
		  "LV_SET_CPUID with a reduced leaf 1");

	vcpu = new_vcpu(sys_fd, &vm, 0, E_CPUID);
	tap_errno(ioctl(vm.fd, LV_SET_CPUID, c), errno, EBUSY,
		  "LV_SET_CPUID after a vCPU -> EBUSY");
	run_trace(&vcpu, &t, -1, 5000);
	tap_eq(e1->eax, trace_u64(&t, 0x38) & 0xffffffff, "guest CPUID 1: EAX as set");
	tap_eq(0x00ff0000, trace_u64(&t, 0x39) & 0xffffffff,
	       "guest CPUID 1: EBX as set, APIC id 0 filled in");
	tap_eq(e1->ecx & ~(1U << 27), trace_u64(&t, 0x3a) & 0xffffffff,
	       "guest CPUID 1: ECX as set (OSXSAVE follows CR4)");
	tap_eq(e1->edx, trace_u64(&t, 0x3b) & 0xffffffff, "guest CPUID 1: EDX as set");
	tap_eq(0x40000010, trace_u64(&t, 0x3c) & 0xffffffff,
	       "guest CPUID 0x40000000: EAX as set");
	close_vm(&vm, &vcpu, 1);
	free(c);
}

/* --- priorities --- */

static void test_priorities(int sys_fd)
{
	static const struct event expect[] = {
		{ 0x31, 0x00 }, { 0x31, 0xaa }, { 0x30, 0x45 }, { 0x31, 0xbb },
		{ 0x30, 0x36 }, { 0x30, 0x86 }, { 0x31, 0x40 }, { 0x30, 0x63 },
		{ 0x31, 0xcc },
	};
	struct trace t = { .n = 0 };
	struct test_vcpu vcpu;
	struct test_vm vm;
	bool same;
	int ret, i;

	setup_vm(sys_fd, &vm, true);
	vcpu = new_vcpu(sys_fd, &vm, 0, E_PRIO);
	ret = run_trace(&vcpu, &t, -1, 5000);
	same = ret == 0 && t.n == (int)(sizeof(expect) / sizeof(expect[0]));
	for (i = 0; same && i < t.n; i++)
		same = t.ev[i].port == expect[i].port && t.ev[i].val == expect[i].val;
	if (!same)
		trace_diag(&t);
	tap_result(same, "TPR holds a lower class, lowering it delivers; 0x86 nests in 0x36, EOI ends 0x86 first (ISR still has 0x36)");
	close_vm(&vm, &vcpu, 1);
}

/*
 * Userspace lowers the TPR while an interrupt waits under it. At the stop
 * the guest has TPR class 5 and vector 0x45 pending: the entries before
 * ran with a TPR threshold of 4 (where the TPR shadow is used). The next
 * entry must take the new TPR (class 2) with a threshold that fits it
 * (VM entry fails if the threshold exceeds VTPR[7:4]); the guest then
 * goes on as in test_priorities.
 */
static void test_tpr_from_user(int sys_fd, bool via_sregs)
{
	struct trace t = { .n = 0 };
	struct lv_lapic_state ls;
	struct test_vcpu vcpu;
	struct lv_sregs sr;
	struct test_vm vm;
	int ret, i, got = -1, mark = -1;

	setup_vm(sys_fd, &vm, true);
	vcpu = new_vcpu(sys_fd, &vm, 0, E_PRIO);
	/* Stop at the second report on port 0x31: MARK 0xaa. */
	ret = run_trace(&vcpu, &t, 0x31, 5000);
	if (!ret)
		ret = run_trace(&vcpu, &t, 0x31, 5000);
	tap_result(!ret && t.n == 2 && t.ev[1].val == 0xaa,
	       "stopped with TPR class 5 and 0x45 held");
	if (via_sregs) {
		ret = ioctl(vcpu.fd, LV_GET_SREGS, &sr);
		tap_eq(5, ret ? -1 : (long)sr.cr8, "LV_GET_SREGS: CR8 is TPR[7:4]");
		sr.cr8 = 2;
		tap_errno(ioctl(vcpu.fd, LV_SET_SREGS, &sr), errno, 0,
			  "LV_SET_SREGS: CR8 2");
	} else {
		memset(&ls, 0, sizeof(ls));
		ret = ioctl(vcpu.fd, LV_GET_LAPIC, &ls);
		tap_eq(0x50, ret ? -1 : (long)ls.regs[0x80 >> 4],
		       "LV_GET_LAPIC: TPR 0x50");
		tap_result(!ret && (ls.regs[(0x200 >> 4) + 2] & (1U << 5)),
		       "LV_GET_LAPIC: 0x45 in IRR");
		ls.regs[0x80 >> 4] = 0xffffff20;	/* bits 31:8 ignored */
		tap_errno(ioctl(vcpu.fd, LV_SET_LAPIC, &ls), errno, 0,
			  "LV_SET_LAPIC: TPR 0x20");
	}
	ret = run_trace(&vcpu, &t, -1, 5000);
	for (i = 2; i < t.n; i++) {
		if (got < 0 && t.ev[i].port == 0x30 && t.ev[i].val == 0x45)
			got = i;
		if (mark < 0 && t.ev[i].port == 0x31 && t.ev[i].val == 0xbb)
			mark = i;
	}
	if (ret || got < 0 || mark < 0 || got > mark)
		trace_diag(&t);
	tap_result(!ret, via_sregs ? "after LV_SET_SREGS CR8 2: entries work, the guest runs to its HLT" :
	       "after LV_SET_LAPIC TPR 0x20: entries work, the guest runs to its HLT");
	tap_result(got >= 0 && got < mark,
	       "0x45 delivered before the guest's next report");
	close_vm(&vm, &vcpu, 1);
}

/* --- timer --- */

static void test_timer(int sys_fd)
{
	uint64_t khz = check_cap(sys_fd, LV_CAP_TSC_KHZ);
	struct trace t = { .n = 0 };
	struct test_vcpu vcpu;
	struct test_vm vm;
	uint64_t el;
	int ret;

	setup_vm(sys_fd, &vm, true);
	vcpu = new_vcpu(sys_fd, &vm, 0, E_PERIODIC);
	ret = run_trace(&vcpu, &t, -1, 20000);
	el = trace_u64(&t, 0x32);
	tap_diag("periodic 1 ms x 20: %llu TSC ticks, %llu expected",
		 (unsigned long long)el, (unsigned long long)(20 * khz));
	tap_result(ret == 0 && el >= 20 * khz,
		   "periodic timer: 20 interrupts take at least 20 periods");
	tap_result(ret == 0 && el < 20 * khz + 20 * khz / 2,
		   "periodic timer: ... and less than 30 (no lost or slow periods)");
	close_vm(&vm, &vcpu, 1);

	t.n = 0;
	setup_vm(sys_fd, &vm, true);
	vcpu = new_vcpu(sys_fd, &vm, 0, E_ONESHOT);
	ret = run_trace(&vcpu, &t, -1, 20000);
	el = trace_u64(&t, 0x32);
	tap_diag("one-shot 2 ms: %llu TSC ticks, %llu expected",
		 (unsigned long long)el, (unsigned long long)(2 * khz));
	tap_result(ret == 0 && el >= 2 * khz, "one-shot timer: not early");
	tap_result(ret == 0 && trace_count(&t, 0x31, 0) == 1,
		   "one-shot timer: current count 0 after expiry");
	close_vm(&vm, &vcpu, 1);

	t.n = 0;
	setup_vm(sys_fd, &vm, true);
	vcpu = new_vcpu(sys_fd, &vm, 0, E_DEADLINE);
	ret = run_trace(&vcpu, &t, -1, 20000);
	el = trace_u64(&t, 0x32);
	tap_diag("TSC deadline: handler ran %lld ticks after the deadline",
		 (long long)el);
	tap_result(ret == 0 && t.n >= 3 && (int64_t)el >= 0,
		   "TSC-deadline timer: the handler's TSC is at or past the deadline");
	tap_result(ret == 0 && trace_count(&t, 0x31, 0) == 1,
		   "TSC-deadline timer: IA32_TSC_DEADLINE reads 0 after firing");
	close_vm(&vm, &vcpu, 1);
}

/* --- SMP start-up and IPIs --- */

struct ap_run {
	struct test_vcpu *vcpu;
	struct trace t;
	int ret;
	volatile int done;
};

/* The AP's thread: the main thread's SIGALRM is not for it; SIGUSR1 is. */
static void *ap_thread(void *p)
{
	struct ap_run *ap = p;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ap->ret = run_trace(ap->vcpu, &ap->t, -1, 0);
	ap->done = 1;
	return NULL;
}

static void test_smp(int sys_fd)
{
	struct test_vcpu vcpus[2];
	struct ap_run ap = { .ret = -1 };
	struct trace t = { .n = 0 };
	struct test_vm vm;
	pthread_t thread;
	int i, ret = 0;

	setup_vm(sys_fd, &vm, true);
	vcpus[0] = new_vcpu(sys_fd, &vm, 0, E_SMP_BSP);
	vcpus[1] = new_vcpu(sys_fd, &vm, 1, E_PRIO);
	ap.vcpu = &vcpus[1];
	pthread_create(&thread, NULL, ap_thread, &ap);
	usleep(200000);
	tap_result(!ap.done && ap.t.n == 0,
		   "the AP does not run before INIT-SIPI-SIPI (LV_RUN waits)");
	/*
	 * Until the BSP reported its INIT-SIPI-SIPI and both IPIs from the
	 * AP arrived: on one host CPU the AP may send them before the BSP
	 * reaches its report.
	 */
	for (i = 0; i < 20 && ret >= 0 &&
	     !(trace_count(&t, 0x30, 0x48) && trace_count(&t, 0x30, 2) &&
	       trace_count(&t, 0x34, 0x34)); i++)
		ret = run_trace(&vcpus[0], &t, i ? 0x30 : 0x34, 1000);
	for (i = 0; i < 50 && !ap.done; i++)
		usleep(100000);
	while (!ap.done) {
		pthread_kill(thread, SIGUSR1);
		usleep(100000);
	}
	pthread_join(thread, NULL);
	tap_result(trace_count(&t, 0x34, 0x34) == 1, "the BSP sent INIT-SIPI-SIPI");
	tap_result(ap.ret == 0 && ap.t.n >= 1 && ap.t.ev[0].port == 0x35 &&
		   ap.t.ev[0].val == 1,
		   "the AP started at the SIPI vector (0x3000) and reads APIC id 1");
	if (ap.ret != 0)
		trace_diag(&ap.t);
	tap_result(trace_count(&t, 0x30, 0x48) == 1,
		   "fixed IPI from the AP reached the BSP's handler");
	tap_result(trace_count(&t, 0x30, 2) == 1,
		   "NMI IPI from the AP reached the BSP's NMI handler");
	if (!trace_count(&t, 0x30, 2) || !trace_count(&t, 0x30, 0x48))
		trace_diag(&t);
	close_vm(&vm, vcpus, 2);
}

/* --- device interrupts --- */

static int set_redir(struct test_vm *vm, int pin, uint64_t entry)
{
	struct lv_irqchip_state st;

	if (ioctl(vm->fd, LV_GET_IRQCHIP, &st) < 0)
		return -1;
	st.ioapic.redir[pin] = entry;
	return ioctl(vm->fd, LV_SET_IRQCHIP, &st);
}

static bool remote_irr(struct test_vm *vm, int pin)
{
	struct lv_irqchip_state st;

	if (ioctl(vm->fd, LV_GET_IRQCHIP, &st) < 0)
		return false;
	return st.ioapic.redir[pin] & (1 << 14);
}

static int line(struct test_vm *vm, uint32_t l, uint32_t level)
{
	struct lv_irq_level lvl = { .line = l, .level = level };

	return ioctl(vm->fd, LV_IRQ_LINE, &lvl);
}

/* Run until the next handler report; its vector, or -1 (timeout). */
static int next_irq(struct test_vcpu *vcpu, long ms)
{
	struct trace t = { .n = 0 };

	if (run_trace(vcpu, &t, 0x30, ms) || !t.n)
		return -1;
	return t.ev[t.n - 1].val;
}

static void test_pic(int sys_fd)
{
	struct trace t = { .n = 0 };
	struct test_vcpu vcpu;
	struct test_vm vm;

	setup_vm(sys_fd, &vm, true);
	vcpu = new_vcpu(sys_fd, &vm, 0, E_PIC);
	run_trace(&vcpu, &t, 0x31, 5000);
	tap_errno(line(&vm, 3, 1), errno, 0, "raise line 3");
	tap_eq(0x53, next_irq(&vcpu, 2000),
	       "PIC: IRQ 3 reaches the BSP as vector 0x53 through LINT0 ExtINT");
	line(&vm, 3, 0);
	tap_eq(-1, next_irq(&vcpu, 200), "PIC: no second interrupt after EOI");
	close_vm(&vm, &vcpu, 1);
}

static void test_ioapic_msi_irqfd(int sys_fd)
{
	struct lv_msi msi = { .address = 0xfee00000, .data = 0x4b };
	struct lv_irqfd irqfd;
	struct trace t = { .n = 0 };
	struct test_vcpu vcpu;
	struct test_vm vm;
	uint64_t one = 1;
	int efd;

	setup_vm(sys_fd, &vm, true);
	vcpu = new_vcpu(sys_fd, &vm, 0, E_IOAPIC);
	run_trace(&vcpu, &t, 0x31, 5000);
	tap_errno(set_redir(&vm, 5, 0x49 | (1 << 15)), errno, 0,
		  "pin 5: level, vector 0x49 (through LV_SET_IRQCHIP)");
	set_redir(&vm, 6, 0x4a);

	line(&vm, 5, 1);
	tap_eq(0x49, next_irq(&vcpu, 2000), "I/O APIC level line: delivered");
	tap_result(remote_irr(&vm, 5), "remote IRR set until the EOI");
	tap_eq(0x49, next_irq(&vcpu, 2000),
	       "line still high at the EOI: delivered again");
	line(&vm, 5, 0);
	tap_eq(-1, next_irq(&vcpu, 300), "line low at the EOI: not again");
	tap_result(!remote_irr(&vm, 5), "remote IRR clear after the EOI");

	line(&vm, 6, 1);
	tap_eq(0x4a, next_irq(&vcpu, 2000), "I/O APIC edge line: delivered");
	line(&vm, 6, 1);
	tap_eq(-1, next_irq(&vcpu, 300), "edge line held high: once only");
	line(&vm, 6, 0);
	line(&vm, 6, 1);
	tap_eq(0x4a, next_irq(&vcpu, 2000), "next rising edge: delivered");
	line(&vm, 6, 0);

	tap_eq(1, ioctl(vm.fd, LV_SIGNAL_MSI, &msi), "MSI to APIC 0: one APIC took it");
	tap_eq(0x4b, next_irq(&vcpu, 2000), "MSI delivered");
	msi.address = 0xfee05000;
	tap_eq(0, ioctl(vm.fd, LV_SIGNAL_MSI, &msi), "MSI to APIC 5: nobody took it");

	efd = eventfd(0, EFD_CLOEXEC);
	irqfd = (struct lv_irqfd){ .fd = efd, .line = 6 };
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, 0, "LV_IRQFD on line 6");
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	tap_eq(0x4a, next_irq(&vcpu, 2000), "eventfd write raised line 6");
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	tap_eq(0x4a, next_irq(&vcpu, 2000), "a second write raised it again");
	irqfd.flags = LV_IRQFD_DEASSIGN;
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, 0, "LV_IRQFD deassign");
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write");
	tap_eq(-1, next_irq(&vcpu, 300), "after deassign the eventfd raises nothing");
	tap_errno(ioctl(vm.fd, LV_IRQFD, &irqfd), errno, ENOENT,
		  "LV_IRQFD deassign twice -> ENOENT");
	close(efd);
	close_vm(&vm, &vcpu, 1);
}

int main(void)
{
	struct sigaction sa;
	int sys_fd = open_sys();

	require_run_guests(sys_fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	test_irqchip_errors(sys_fd);
	test_cpuid(sys_fd);
	test_priorities(sys_fd);
	test_tpr_from_user(sys_fd, false);
	test_tpr_from_user(sys_fd, true);
	test_timer(sys_fd);
	test_pic(sys_fd);
	test_ioapic_msi_irqfd(sys_fd);
	test_smp(sys_fd);
	tap_finish();
}
