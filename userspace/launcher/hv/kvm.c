// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun's KVM backend: /dev/kvm with KVM's in-kernel irqchip.
 *
 * KVM keeps the PICs, the I/O APIC, the local APICs and the PIT in the
 * kernel (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2). lvrun has no interrupt
 * controller of its own, so the split irqchip (local APICs in the kernel,
 * I/O APIC and PICs in the VMM) has nothing to split to; devices raise
 * their ISA lines with KVM_IRQ_LINE, which drives both the PIC and the I/O
 * APIC pin as on a PC.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "../layout.h"
#include "../log.h"
#include "hv.h"

struct kvm_priv {
	struct kvm_cpuid2 *cpuid;
};

static struct kvm_cpuid2 *kvm_supported_cpuid(int sys_fd)
{
	struct kvm_cpuid2 *cpuid;
	int n = 64;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			die("out of memory");
		cpuid->nent = n;
		if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			return cpuid;
		free(cpuid);
		if (errno != E2BIG)
			die_ioctl("KVM_GET_SUPPORTED_CPUID");
		n *= 2;
	}
}

static void kvm_open(struct hv *hv, int nr_vcpus)
{
	struct kvm_priv *priv = calloc(1, sizeof(*priv));
	int ret;

	if (!priv)
		die("out of memory");
	hv->priv = priv;
	hv->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (hv->sys_fd < 0)
		die("cannot open /dev/kvm: %s", strerror(errno));
	ret = ioctl(hv->sys_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION)
		die("KVM API version %d, lvrun needs %d", ret, KVM_API_VERSION);
	ret = ioctl(hv->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (ret > 0 && nr_vcpus > ret)
		die("--vcpus %d: KVM supports at most %d", nr_vcpus, ret);
	if (ioctl(hv->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	    ioctl(hv->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) <= 0)
		die("KVM lacks the in-kernel irqchip or PIT");
	ret = ioctl(hv->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run))
		die_ioctl("KVM_GET_VCPU_MMAP_SIZE");
	hv->run_size = ret;
	priv->cpuid = kvm_supported_cpuid(hv->sys_fd);

	hv->vm_fd = ioctl(hv->sys_fd, KVM_CREATE_VM, 0);
	if (hv->vm_fd < 0)
		die_ioctl("KVM_CREATE_VM");
	/*
	 * VMX without unrestricted guest runs real mode through a TSS and an
	 * identity-mapped page table of KVM's; place them where no RAM is.
	 */
	if (ioctl(hv->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		die_ioctl("KVM_SET_TSS_ADDR");
	{
		uint64_t idmap = KVM_IDENTITY_MAP_ADDR;

		if (ioctl(hv->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
			die_ioctl("KVM_SET_IDENTITY_MAP_ADDR");
	}
}

static void kvm_set_memory(struct hv *hv, uint64_t gpa, void *host, uint64_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(hv->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die_ioctl("KVM_SET_USER_MEMORY_REGION");
}

static void kvm_create_irqchip(struct hv *hv)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(hv->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die_ioctl("KVM_CREATE_IRQCHIP");
	if (ioctl(hv->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		die_ioctl("KVM_CREATE_PIT2");
	hv->has_irqchip = true;
}

static void kvm_set_irq_line(struct hv *hv, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	/* A guest without one may still enable a device's interrupt. */
	if (!hv->has_irqchip) {
		trace("irq: line %u -> %d dropped (no interrupt controller)",
		      gsi, level);
		return;
	}
	if (ioctl(hv->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		die_ioctl("KVM_IRQ_LINE");
}

/*
 * KVM emulates the TSC-deadline timer but leaves its CPUID bit out of the
 * supported table: the VMM sets it when KVM_CAP_TSC_DEADLINE_TIMER says
 * so, as KVM's API documents. lightvisor offers the bit with its irqchip;
 * a guest without it programs its timer through the APIC's initial-count
 * register instead (an MMIO exit each time), so the two would not boot
 * the same guest.
 */
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)
/*
 * Nor does it set the hypervisor-present bit (VMMs do, and lightvisor
 * does): without it Linux takes the vCPU for bare metal, checks its
 * microcode against the errata lists and turns the TSC-deadline timer
 * off again, with an error on the console.
 */
#define CPUID1_ECX_HYPERVISOR	(1u << 31)

static bool kvm_has_tsc_deadline(struct hv *hv)
{
	return hv->has_irqchip &&
	       ioctl(hv->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
}

/* KVM's local APIC timer counts at 1 GHz unless told otherwise. */
#define KVM_APIC_BUS_KHZ	1000000u
#define CPUID_TSC_CRYSTAL	0x15

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Leaf 0x15 as lightvisor gives it: TSC = crystal * EBX / EAX with the
 * APIC timer's clock as the crystal, so the guest calibrates neither its
 * TSC nor its APIC timer against the PIT (a VM exit per port read is too
 * slow for Linux's PIT loop). Guests multiply crystal kHz by EBX in 32
 * bits, so EBX stays small enough for that.
 */
static void kvm_tsc_crystal_leaf(int fd, struct kvm_cpuid_entry2 *e)
{
	int khz = ioctl(fd, KVM_GET_TSC_KHZ, 0);
	uint64_t tsc = khz > 0 ? (uint64_t)khz : 0, g, num, den;
	uint64_t max_num = UINT32_MAX / KVM_APIC_BUS_KHZ;

	g = gcd64(tsc ? tsc : 1, KVM_APIC_BUS_KHZ);
	num = tsc / g;
	den = KVM_APIC_BUS_KHZ / g;
	if (num > max_num) {
		den = den * max_num / num;
		if (!den)
			den = 1;
		num = (tsc * den + KVM_APIC_BUS_KHZ / 2) / KVM_APIC_BUS_KHZ;
	}
	*e = (struct kvm_cpuid_entry2){
		.function = CPUID_TSC_CRYSTAL,
		.eax = den, .ebx = num, .ecx = KVM_APIC_BUS_KHZ * 1000u,
	};
}

/*
 * KVM reports the host's topology; each vCPU needs its own APIC ID. The
 * TSC/crystal leaf is added (the host may lack it) and leaf 0 raised to it.
 */
static void kvm_set_cpuid(struct hv *hv, int fd, int id)
{
	struct kvm_priv *priv = hv->priv;
	struct kvm_cpuid2 *c = priv->cpuid;
	size_t sz = sizeof(*c) + (c->nent + 1) * sizeof(c->entries[0]);
	struct kvm_cpuid2 *mine = malloc(sz);
	struct kvm_cpuid_entry2 *crystal = NULL;
	bool tsc_deadline = kvm_has_tsc_deadline(hv);
	uint32_t i;

	if (!mine)
		die("out of memory");
	memcpy(mine, c, sz - sizeof(c->entries[0]));
	for (i = 0; i < mine->nent; i++) {
		struct kvm_cpuid_entry2 *e = &mine->entries[i];

		if (e->function == 0 && e->eax < CPUID_TSC_CRYSTAL)
			e->eax = CPUID_TSC_CRYSTAL;
		else if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | ((uint32_t)id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = id;
		else if (e->function == CPUID_TSC_CRYSTAL)
			crystal = e;
		if (e->function == 1)
			e->ecx |= CPUID1_ECX_HYPERVISOR |
				  (tsc_deadline ? CPUID1_ECX_TSC_DEADLINE : 0);
	}
	if (!crystal)
		crystal = &mine->entries[mine->nent++];
	kvm_tsc_crystal_leaf(fd, crystal);
	if (ioctl(fd, KVM_SET_CPUID2, mine) < 0)
		die_ioctl("KVM_SET_CPUID2");
	free(mine);
}

static void kvm_create_vcpu(struct hv *hv, struct hv_vcpu *vcpu, int id)
{
	struct kvm_run *run;

	vcpu->id = id;
	vcpu->fd = ioctl(hv->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		die_ioctl("KVM_CREATE_VCPU");
	kvm_set_cpuid(hv, vcpu->fd, id);
	run = hv_map_run(hv, vcpu->fd, id);
	vcpu->run = run;
	vcpu->immediate_exit = &run->immediate_exit;
}

static void seg_from_kvm(struct lv_segment *l, const struct kvm_segment *k)
{
	*l = (struct lv_segment){
		.base = k->base, .limit = k->limit, .selector = k->selector,
		.type = k->type, .s = k->s, .dpl = k->dpl, .present = k->present,
		.avl = k->avl, .l = k->l, .db = k->db, .g = k->g,
		.unusable = k->unusable,
	};
}

static void seg_to_kvm(struct kvm_segment *k, const struct lv_segment *l)
{
	*k = (struct kvm_segment){
		.base = l->base, .limit = l->limit, .selector = l->selector,
		.type = l->type, .s = l->s, .dpl = l->dpl, .present = l->present,
		.avl = l->avl, .l = l->l, .db = l->db, .g = l->g,
		.unusable = l->unusable,
	};
}

static void kvm_get_sregs(struct hv_vcpu *vcpu, struct lv_sregs *s)
{
	struct kvm_sregs k;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &k) < 0)
		die_ioctl("KVM_GET_SREGS");
	seg_from_kvm(&s->cs, &k.cs);
	seg_from_kvm(&s->ds, &k.ds);
	seg_from_kvm(&s->es, &k.es);
	seg_from_kvm(&s->fs, &k.fs);
	seg_from_kvm(&s->gs, &k.gs);
	seg_from_kvm(&s->ss, &k.ss);
	seg_from_kvm(&s->tr, &k.tr);
	seg_from_kvm(&s->ldt, &k.ldt);
	s->gdt = (struct lv_dtable){ .base = k.gdt.base, .limit = k.gdt.limit };
	s->idt = (struct lv_dtable){ .base = k.idt.base, .limit = k.idt.limit };
	s->cr0 = k.cr0;
	s->cr2 = k.cr2;
	s->cr3 = k.cr3;
	s->cr4 = k.cr4;
	s->cr8 = k.cr8;
	s->efer = k.efer;
	s->apic_base = k.apic_base;
}

static void kvm_set_sregs(struct hv_vcpu *vcpu, const struct lv_sregs *s)
{
	struct kvm_sregs k;

	/* Keep what lvrun does not model (the pending-interrupt bitmap). */
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &k) < 0)
		die_ioctl("KVM_GET_SREGS");
	seg_to_kvm(&k.cs, &s->cs);
	seg_to_kvm(&k.ds, &s->ds);
	seg_to_kvm(&k.es, &s->es);
	seg_to_kvm(&k.fs, &s->fs);
	seg_to_kvm(&k.gs, &s->gs);
	seg_to_kvm(&k.ss, &s->ss);
	seg_to_kvm(&k.tr, &s->tr);
	seg_to_kvm(&k.ldt, &s->ldt);
	k.gdt = (struct kvm_dtable){ .base = s->gdt.base, .limit = s->gdt.limit };
	k.idt = (struct kvm_dtable){ .base = s->idt.base, .limit = s->idt.limit };
	k.cr0 = s->cr0;
	k.cr2 = s->cr2;
	k.cr3 = s->cr3;
	k.cr4 = s->cr4;
	k.cr8 = s->cr8;
	k.efer = s->efer;
	if (s->apic_base)
		k.apic_base = s->apic_base;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &k) < 0)
		die_ioctl("KVM_SET_SREGS");
}

static void kvm_set_regs(struct hv_vcpu *vcpu, const struct lv_regs *r)
{
	struct kvm_regs k = {
		.rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx,
		.rsi = r->rsi, .rdi = r->rdi, .rsp = r->rsp, .rbp = r->rbp,
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11,
		.r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
		.rip = r->rip, .rflags = r->rflags,
	};

	if (ioctl(vcpu->fd, KVM_SET_REGS, &k) < 0)
		die_ioctl("KVM_SET_REGS");
}

static enum hv_exit_reason kvm_exit_reason(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO:		return HV_EXIT_IO;
	case KVM_EXIT_MMIO:		return HV_EXIT_MMIO;
	case KVM_EXIT_HLT:		return HV_EXIT_HLT;
	case KVM_EXIT_SHUTDOWN:		return HV_EXIT_SHUTDOWN;
	case KVM_EXIT_FAIL_ENTRY:	return HV_EXIT_FAIL_ENTRY;
	case KVM_EXIT_INTERNAL_ERROR:	return HV_EXIT_INTERNAL;
	case KVM_EXIT_INTR:		return HV_EXIT_INTR;
	case KVM_EXIT_IRQ_WINDOW_OPEN:	return HV_EXIT_IRQ_WINDOW;
	default:			return HV_EXIT_UNKNOWN;
	}
}

static int kvm_run_vcpu(struct hv_vcpu *vcpu, struct hv_exit *exit)
{
	struct kvm_run *run = vcpu->run;
	int ret = ioctl(vcpu->fd, KVM_RUN, 0);

	run->immediate_exit = 0;
	if (ret < 0)
		return -1;
	exit->raw_reason = run->exit_reason;
	exit->hw_reason = 0;
	exit->reason = kvm_exit_reason(run->exit_reason);
	switch (exit->reason) {
	case HV_EXIT_IO:
		exit->io.port = run->io.port;
		exit->io.out = run->io.direction == KVM_EXIT_IO_OUT;
		exit->io.size = run->io.size;
		exit->io.count = run->io.count;
		exit->io.data = (uint8_t *)run + run->io.data_offset;
		break;
	case HV_EXIT_MMIO:
		exit->mmio.gpa = run->mmio.phys_addr;
		exit->mmio.write = run->mmio.is_write;
		exit->mmio.len = run->mmio.len;
		exit->mmio.data = run->mmio.data;
		break;
	case HV_EXIT_FAIL_ENTRY:
		exit->fail_entry.reason = run->fail_entry.hardware_entry_failure_reason;
		exit->fail_entry.cpu = run->fail_entry.cpu;
		exit->hw_reason = run->fail_entry.hardware_entry_failure_reason;
		break;
	case HV_EXIT_INTERNAL:
		exit->internal.suberror = run->internal.suberror;
		exit->internal.ndata = run->internal.ndata;
		exit->internal.data = (const uint64_t *)run->internal.data;
		break;
	default:
		break;
	}
	return 0;
}

static int kvm_queue_irq(struct hv_vcpu *vcpu, unsigned int vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	if (ioctl(vcpu->fd, KVM_INTERRUPT, &irq) == 0)
		return 0;
	if (errno == EEXIST)
		return -EBUSY;
	die_ioctl("KVM_INTERRUPT");
}

static int kvm_queue_nmi(struct hv_vcpu *vcpu)
{
	if (ioctl(vcpu->fd, KVM_NMI, 0) < 0)
		die_ioctl("KVM_NMI");
	return 0;
}

static void kvm_request_irq_window(struct hv_vcpu *vcpu, bool on)
{
	((struct kvm_run *)vcpu->run)->request_interrupt_window = on;
}

/* KVM_VCPU_TSC_OFFSET (Linux 5.16 and later): one vCPU's offset. */
static int kvm_tsc_offset_attr(int fd, unsigned long req, uint64_t *offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)offset,
	};

	return ioctl(fd, req, &attr);
}

/*
 * Each vCPU's own offset moves by @delta, so vCPUs the guest set apart
 * (by writing IA32_TSC) stay apart. Writing IA32_TSC from here instead
 * would go through KVM's TSC synchronisation, which may snap the value
 * back to the other vCPUs'.
 */
static int kvm_shift_tsc(struct hv *hv, struct hv_vcpu *const *vcpus, int n,
			 int64_t delta)
{
	uint64_t offset;
	int i;

	(void)hv;
	for (i = 0; i < n; i++) {
		if (kvm_tsc_offset_attr(vcpus[i]->fd, KVM_GET_DEVICE_ATTR, &offset))
			return -1;
		offset += delta;
		if (kvm_tsc_offset_attr(vcpus[i]->fd, KVM_SET_DEVICE_ATTR, &offset))
			return -1;
	}
	return 0;
}

/* 0 if KVM has extension @cap, else -1 with errno EOPNOTSUPP. */
static int kvm_require_cap(struct hv *hv, int cap)
{
	if (ioctl(hv->sys_fd, KVM_CHECK_EXTENSION, cap) > 0)
		return 0;
	errno = EOPNOTSUPP;
	return -1;
}

static int kvm_ioeventfd(struct hv *hv, uint64_t addr, unsigned int len,
			 bool pio, bool match, uint64_t datamatch, int fd,
			 bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = match ? datamatch : 0,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (match ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (kvm_require_cap(hv, KVM_CAP_IOEVENTFD))
		return -1;
	return ioctl(hv->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -1 : 0;
}

/* With KVM's default routing, GSIs 0-23 are the I/O APIC's (and PICs') pins. */
static int kvm_irqfd(struct hv *hv, unsigned int gsi, int fd, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (kvm_require_cap(hv, KVM_CAP_IRQFD))
		return -1;
	if (!hv->has_irqchip) {
		errno = ENXIO;
		return -1;
	}
	return ioctl(hv->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -1 : 0;
}

/* KVM has no such register: the device's exit handler serves it. */
static int kvm_irq_status(struct hv *hv, uint64_t status_gpa, uint64_t ack_gpa,
			  _Atomic uint32_t *word, bool assign)
{
	(void)hv;
	(void)status_gpa;
	(void)ack_gpa;
	(void)word;
	(void)assign;
	errno = EOPNOTSUPP;
	return -1;
}

const struct hv_ops hv_kvm_ops = {
	.name = "kvm",
	.open = kvm_open,
	.set_memory = kvm_set_memory,
	.create_irqchip = kvm_create_irqchip,
	.set_irq_line = kvm_set_irq_line,
	.create_vcpu = kvm_create_vcpu,
	.get_sregs = kvm_get_sregs,
	.set_sregs = kvm_set_sregs,
	.set_regs = kvm_set_regs,
	.run = kvm_run_vcpu,
	.queue_irq = kvm_queue_irq,
	.queue_nmi = kvm_queue_nmi,
	.request_irq_window = kvm_request_irq_window,
	.shift_tsc = kvm_shift_tsc,
	.ioeventfd = kvm_ioeventfd,
	.irqfd = kvm_irqfd,
	.irq_status = kvm_irq_status,
};
