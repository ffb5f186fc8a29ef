// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun's lightvisor backend: /dev/lightvisor.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <x86intrin.h>

#include "../log.h"
#include "hv.h"

/* /dev/lightvisor, checked for what lvrun needs. */
static void lv_open_device(struct hv *hv, int nr_vcpus)
{
	int ret;

	hv->sys_fd = open("/dev/lightvisor", O_RDWR | O_CLOEXEC);
	if (hv->sys_fd < 0)
		die("cannot open /dev/lightvisor: %s", strerror(errno));

	ret = ioctl(hv->sys_fd, LV_GET_API_VERSION, 0);
	if (ret < 0)
		die_ioctl("LV_GET_API_VERSION");
	if (ret != LV_API_VERSION)
		die("lightvisor API version %d, lvrun needs %d", ret, LV_API_VERSION);

	ret = ioctl(hv->sys_fd, LV_CHECK_CAP, LV_CAP_RUN_GUESTS);
	if (ret < 0)
		die_ioctl("LV_CHECK_CAP(LV_CAP_RUN_GUESTS)");
	if (ret == 0)
		die("this CPU cannot run lightvisor guests (no usable VMX)");

	ret = ioctl(hv->sys_fd, LV_CHECK_CAP, LV_CAP_MAX_VCPUS);
	if (ret < 0)
		die_ioctl("LV_CHECK_CAP(LV_CAP_MAX_VCPUS)");
	if (ret > 0 && nr_vcpus > ret)
		die("--vcpus %d: lightvisor supports at most %d", nr_vcpus, ret);

	ret = ioctl(hv->sys_fd, LV_GET_VCPU_MMAP_SIZE, 0);
	if (ret < 0)
		die_ioctl("LV_GET_VCPU_MMAP_SIZE");
	if ((size_t)ret < sizeof(struct lv_run))
		die("LV_GET_VCPU_MMAP_SIZE returned %d, less than struct lv_run", ret);
	hv->run_size = ret;
}

static void lv_open(struct hv *hv, int nr_vcpus)
{
	lv_open_device(hv, nr_vcpus);
	hv->vm_fd = ioctl(hv->sys_fd, LV_CREATE_VM, 0);
	if (hv->vm_fd < 0)
		die_ioctl("LV_CREATE_VM");
}

/*
 * Binding makes the VM ours alone: from here on its creator gets EIO for
 * everything, and its memory can only be ours.
 */
static void lv_adopt(struct hv *hv, const struct hv_prepared *vm)
{
	uint64_t t0 = __rdtsc(), t1;

	lv_open_device(hv, vm->nr_vcpus);
	hv->vm_fd = vm->vm_fd;
	t1 = __rdtsc();
	if (ioctl(hv->vm_fd, LV_BIND_VM, 0)) {
		switch (errno) {
		case EIO:
		case EALREADY:
			die("the prepared VM is bound to another process already");
		case EINVAL:
			die("the prepared VM was not created for handing over (LV_VM_UNBOUND)");
		case ENOTTY:
			die("this lightvisor cannot bind a VM (no LV_BIND_VM)");
		default:
			die_ioctl("LV_BIND_VM");
		}
	}
	trace("LV_BIND_VM: %llu TSC ticks (opening the device before: %llu)",
	      (unsigned long long)(__rdtsc() - t1), (unsigned long long)(t1 - t0));
	hv->prepared = malloc(sizeof(*hv->prepared));
	if (!hv->prepared)
		die("out of memory");
	*hv->prepared = *vm;
}

static void lv_set_memory(struct hv *hv, uint64_t gpa, void *host, uint64_t size)
{
	struct lv_memory_region region = {
		.slot = 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(hv->vm_fd, LV_SET_MEMORY_REGION, &region) < 0)
		die_ioctl("LV_SET_MEMORY_REGION");
}

/* The same slot again, with or without the log: lightvisor allows that. */
static int lv_log_dirty(struct hv *hv, uint64_t gpa, void *host, uint64_t size,
			bool on)
{
	struct lv_memory_region region = {
		.slot = 0,
		.flags = on ? LV_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	return ioctl(hv->vm_fd, LV_SET_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

static int lv_get_dirty_log(struct hv *hv, uint64_t *bitmap)
{
	struct lv_dirty_log log = { .slot = 0, .bitmap = (uintptr_t)bitmap };

	return ioctl(hv->vm_fd, LV_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

/* Local APICs, I/O APIC, PICs and PIT in the kernel. */
static void lv_create_irqchip(struct hv *hv)
{
	int ret;

	if (hv->prepared) {
		if (!hv->prepared->irqchip)
			die("the prepared VM has no in-kernel interrupt controller");
		hv->has_irqchip = true;
		return;
	}
	ret = ioctl(hv->sys_fd, LV_CHECK_CAP, LV_CAP_IRQCHIP);

	if (ret < 0)
		die_ioctl("LV_CHECK_CAP(LV_CAP_IRQCHIP)");
	if (ret == 0)
		die("this lightvisor has no in-kernel interrupt controller");
	if (ioctl(hv->vm_fd, LV_CREATE_IRQCHIP, 0) < 0)
		die_ioctl("LV_CREATE_IRQCHIP");
	hv->has_irqchip = true;
}

/* Lines 0-15 drive the PICs and the I/O APIC, 16-23 the I/O APIC. */
static void lv_set_irq_line(struct hv *hv, unsigned int gsi, int level)
{
	struct lv_irq_level irq = { .line = gsi, .level = level };

	if (!hv->has_irqchip) {
		trace("irq: line %u -> %d dropped (no interrupt controller)",
		      gsi, level);
		return;
	}
	if (ioctl(hv->vm_fd, LV_IRQ_LINE, &irq) < 0)
		die_ioctl("LV_IRQ_LINE");
}

static void lv_create_vcpu(struct hv *hv, struct hv_vcpu *vcpu, int id)
{
	struct lv_run *run;

	vcpu->id = id;
	if (hv->prepared) {
		if (id >= hv->prepared->nr_vcpus)
			die("the prepared VM has %d vCPU(s), no vCPU %d",
			    hv->prepared->nr_vcpus, id);
		vcpu->fd = hv->prepared->vcpu_fds[id];
	} else {
		vcpu->fd = ioctl(hv->vm_fd, LV_CREATE_VCPU, id);
		if (vcpu->fd < 0)
			die_ioctl("LV_CREATE_VCPU");
	}
	run = hv_map_run(hv, vcpu->fd, id);
	vcpu->run = run;
	vcpu->immediate_exit = &run->immediate_exit;
}

static void lv_get_sregs(struct hv_vcpu *vcpu, struct lv_sregs *sregs)
{
	if (ioctl(vcpu->fd, LV_GET_SREGS, sregs) < 0)
		die_ioctl("LV_GET_SREGS");
}

static void lv_set_sregs(struct hv_vcpu *vcpu, const struct lv_sregs *sregs)
{
	if (ioctl(vcpu->fd, LV_SET_SREGS, sregs) < 0)
		die_ioctl("LV_SET_SREGS");
}

static void lv_set_regs(struct hv_vcpu *vcpu, const struct lv_regs *regs)
{
	if (ioctl(vcpu->fd, LV_SET_REGS, regs) < 0)
		die_ioctl("LV_SET_REGS");
}

static enum hv_exit_reason lv_exit_reason(uint32_t reason)
{
	switch (reason) {
	case LV_EXIT_IO:		return HV_EXIT_IO;
	case LV_EXIT_MMIO:		return HV_EXIT_MMIO;
	case LV_EXIT_HLT:		return HV_EXIT_HLT;
	case LV_EXIT_SHUTDOWN:		return HV_EXIT_SHUTDOWN;
	case LV_EXIT_FAIL_ENTRY:	return HV_EXIT_FAIL_ENTRY;
	case LV_EXIT_INTERNAL_ERROR:	return HV_EXIT_INTERNAL;
	case LV_EXIT_INTR:		return HV_EXIT_INTR;
	case LV_EXIT_HYPERCALL:		return HV_EXIT_HYPERCALL;
	case LV_EXIT_IRQ_WINDOW_OPEN:	return HV_EXIT_IRQ_WINDOW;
	default:			return HV_EXIT_UNKNOWN;
	}
}

static int lv_run(struct hv_vcpu *vcpu, struct hv_exit *exit)
{
	struct lv_run *run = vcpu->run;
	int ret = ioctl(vcpu->fd, LV_RUN, 0);

	run->immediate_exit = 0;
	if (ret < 0)
		return -1;
	exit->raw_reason = run->exit_reason;
	exit->hw_reason = run->hw_exit_reason;
	exit->reason = lv_exit_reason(run->exit_reason);
	switch (exit->reason) {
	case HV_EXIT_IO:
		exit->io.port = run->io.port;
		exit->io.out = run->io.direction == LV_EXIT_IO_OUT;
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
	case HV_EXIT_HYPERCALL:
		exit->hypercall.nr = run->hypercall.nr;
		memcpy(exit->hypercall.args, run->hypercall.args,
		       sizeof(exit->hypercall.args));
		exit->hypercall.ret = (uint64_t *)&run->hypercall.ret;
		break;
	case HV_EXIT_FAIL_ENTRY:
		exit->fail_entry.reason = run->fail_entry.hardware_entry_failure_reason;
		exit->fail_entry.cpu = run->fail_entry.cpu;
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

static int lv_queue(struct hv_vcpu *vcpu, unsigned int vector, uint32_t flags)
{
	struct lv_interrupt irq = { .vector = vector, .flags = flags };

	if (ioctl(vcpu->fd, LV_INTERRUPT, &irq) == 0)
		return 0;
	if (errno == EBUSY)
		return -EBUSY;
	die_ioctl("LV_INTERRUPT");
}

static int lv_queue_irq(struct hv_vcpu *vcpu, unsigned int vector)
{
	return lv_queue(vcpu, vector, 0);
}

static int lv_queue_nmi(struct hv_vcpu *vcpu)
{
	return lv_queue(vcpu, 0, LV_INTERRUPT_NMI);
}

static void lv_request_irq_window(struct hv_vcpu *vcpu, bool on)
{
	((struct lv_run *)vcpu->run)->request_interrupt_window = on;
}

static int lv_ioctl(int fd, unsigned long cmd, const void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int lv_get_vcpu_state(struct hv *hv, struct hv_vcpu *vcpu,
			     struct hv_vcpu_state *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	ret = lv_ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st->cpu) ?:
	      lv_ioctl(vcpu->fd, LV_GET_XSAVE, &st->fpu);
	if (!ret && hv->has_irqchip)
		ret = lv_ioctl(vcpu->fd, LV_GET_LAPIC, &st->lapic);
	return ret;
}

/*
 * The local APIC last: LV_SET_VCPU_STATE sets IA32_APIC_BASE, which
 * decides how LV_SET_LAPIC reads the APIC ID.
 */
static int lv_set_vcpu_state(struct hv *hv, struct hv_vcpu *vcpu,
			     const struct hv_vcpu_state *st)
{
	int ret = lv_ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st->cpu) ?:
		  lv_ioctl(vcpu->fd, LV_SET_XSAVE, &st->fpu);

	if (!ret && hv->has_irqchip)
		ret = lv_ioctl(vcpu->fd, LV_SET_LAPIC, &st->lapic);
	return ret;
}

static int lv_get_irqchip(struct hv *hv, struct lv_irqchip_state *st)
{
	memset(st, 0, sizeof(*st));
	return lv_ioctl(hv->vm_fd, LV_GET_IRQCHIP, st);
}

static int lv_set_irqchip(struct hv *hv, const struct lv_irqchip_state *st)
{
	return lv_ioctl(hv->vm_fd, LV_SET_IRQCHIP, st);
}

static void read_cpu_features(struct hv *hv, struct hv_cpu_features *f)
{
	struct {
		struct lv_cpuid head;
		struct lv_cpuid_entry e[LV_MAX_CPUID_ENTRIES];
	} t;
	uint32_t i;

	memset(f, 0, sizeof(*f));
	memset(&t, 0, sizeof(t));
	t.head.nent = LV_MAX_CPUID_ENTRIES;
	if (ioctl(hv->sys_fd, LV_GET_SUPPORTED_CPUID, &t) < 0)
		die_ioctl("LV_GET_SUPPORTED_CPUID");
	for (i = 0; i < t.head.nent; i++) {
		const struct lv_cpuid_entry *e = &t.e[i];

		if (e->function == 1) {
			f->leaf1_ecx = e->ecx;
			f->leaf1_edx = e->edx;
		} else if (e->function == 7 && e->index == 0) {
			f->leaf7_ebx = e->ebx;
			f->leaf7_ecx = e->ecx;
			f->leaf7_edx = e->edx;
		}
	}
	f->tsc_khz = ioctl(hv->sys_fd, LV_CHECK_CAP, LV_CAP_TSC_KHZ);
}

/*
 * What the module offers does not change while it is loaded: read once.
 * A migration's source asks again while its guest is paused.
 */
static void lv_cpu_features(struct hv *hv, struct hv_cpu_features *f)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct hv_cpu_features cached;
	static bool have;

	pthread_mutex_lock(&lock);
	if (!have)
		read_cpu_features(hv, &cached);
	have = true;
	*f = cached;
	pthread_mutex_unlock(&lock);
}

/*
 * Each vCPU's TSC moves by @delta from where it is. The VM-wide
 * LV_SET_TSC_OFFSET would not do: a guest that wrote IA32_TSC has an
 * offset of its own on that vCPU, which lightvisor does not report.
 * LV_GET_VCPU_STATE reads the guest's TSC and LV_SET_VCPU_STATE sets it,
 * which loses the microseconds between the two calls. The vCPUs are
 * parked with nothing pending, so the rest of the state goes back as it
 * was.
 */
static int lv_shift_tsc(struct hv *hv, struct hv_vcpu *const *vcpus, int n,
			int64_t delta)
{
	struct lv_vcpu_state st;
	int i;

	(void)hv;
	for (i = 0; i < n; i++) {
		memset(&st, 0, sizeof(st));
		if (ioctl(vcpus[i]->fd, LV_GET_VCPU_STATE, &st) < 0)
			return -1;
		st.tsc += delta;
		if (ioctl(vcpus[i]->fd, LV_SET_VCPU_STATE, &st) < 0)
			return -1;
	}
	return 0;
}

/* 0 if the module has @cap, else -1 with errno EOPNOTSUPP. */
static int lv_require_cap(struct hv *hv, int cap)
{
	if (ioctl(hv->sys_fd, LV_CHECK_CAP, cap) > 0)
		return 0;
	errno = EOPNOTSUPP;
	return -1;
}

static int lv_ioeventfd(struct hv *hv, uint64_t addr, unsigned int len,
			bool pio, bool match, uint64_t datamatch, int fd,
			bool assign)
{
	struct lv_ioeventfd io = {
		.datamatch = match ? datamatch : 0,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (pio ? LV_IOEVENTFD_PIO : 0) |
			 (match ? LV_IOEVENTFD_DATAMATCH : 0) |
			 (assign ? 0 : LV_IOEVENTFD_DEASSIGN),
	};

	if (lv_require_cap(hv, LV_CAP_IOEVENTFD))
		return -1;
	return ioctl(hv->vm_fd, LV_IOEVENTFD, &io) < 0 ? -1 : 0;
}

static int lv_irqfd(struct hv *hv, unsigned int gsi, int fd, bool assign)
{
	struct lv_irqfd irqfd = {
		.fd = fd,
		.line = gsi,
		.flags = assign ? 0 : LV_IRQFD_DEASSIGN,
	};

	if (lv_require_cap(hv, LV_CAP_IRQFD))
		return -1;
	return ioctl(hv->vm_fd, LV_IRQFD, &irqfd) < 0 ? -1 : 0;
}

static int lv_irq_status(struct hv *hv, uint64_t status_gpa, uint64_t ack_gpa,
			 _Atomic uint32_t *word, bool assign)
{
	struct lv_irq_status st = {
		.status_gpa = status_gpa,
		.ack_gpa = ack_gpa,
		.word = (uintptr_t)word,
		.flags = assign ? 0 : LV_IRQ_STATUS_DEASSIGN,
	};

	if (lv_require_cap(hv, LV_CAP_IRQ_STATUS))
		return -1;
	return ioctl(hv->vm_fd, LV_IRQ_STATUS, &st) < 0 ? -1 : 0;
}

const struct hv_ops hv_lightvisor_ops = {
	.name = "lightvisor",
	.open = lv_open,
	.adopt = lv_adopt,
	.set_memory = lv_set_memory,
	.create_irqchip = lv_create_irqchip,
	.set_irq_line = lv_set_irq_line,
	.create_vcpu = lv_create_vcpu,
	.get_sregs = lv_get_sregs,
	.set_sregs = lv_set_sregs,
	.set_regs = lv_set_regs,
	.run = lv_run,
	.queue_irq = lv_queue_irq,
	.queue_nmi = lv_queue_nmi,
	.request_irq_window = lv_request_irq_window,
	.get_vcpu_state = lv_get_vcpu_state,
	.set_vcpu_state = lv_set_vcpu_state,
	.get_irqchip = lv_get_irqchip,
	.set_irqchip = lv_set_irqchip,
	.cpu_features = lv_cpu_features,
	.shift_tsc = lv_shift_tsc,
	.log_dirty = lv_log_dirty,
	.get_dirty_log = lv_get_dirty_log,
	.ioeventfd = lv_ioeventfd,
	.irqfd = lv_irqfd,
	.irq_status = lv_irq_status,
};
