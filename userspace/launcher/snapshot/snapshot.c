// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: saving a VM to a snapshot file and building one from it.
 *
 * Sections: "machine" (the VM's shape and the CPU features its guest may
 * have seen), "vcpu" per vCPU (the hypervisor's state and lvrun's queued
 * events), "irqchip", and one per device, each holding that device's
 * state struct. Guest memory follows, page aligned, so that a restore
 * maps it MAP_PRIVATE from the file: pages load on first touch and
 * restore time does not grow with memory size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <x86intrin.h>

#include "../log.h"
#include "../lvrun.h"
#include "format.h"
#include "snapshot.h"

struct snap_vcpu {
	struct hv_vcpu_state hv;
	int32_t pending_irq;	/* lvrun's queued interrupt, or -1 */
	uint8_t pending_nmi;
	uint8_t parked;		/* never started: nothing could start it */
	uint8_t halted;		/* halted for good with interrupts off */
	uint8_t padding;
};

/* --- Devices ---------------------------------------------------------- */

/* Each device's state struct, saved and restored through its own calls. */
struct snap_device {
	const char *name;
	uint32_t size;
	void (*save)(struct board_devices *d, void *state);
	int (*restore)(struct board_devices *d, const void *state);
};

static void uart_s(struct board_devices *d, void *s) { uart_save(&d->com1, s); }
static int uart_r(struct board_devices *d, const void *s)
{
	return uart_restore(&d->com1, s);
}

static void rtc_s(struct board_devices *d, void *s) { rtc_save(&d->rtc, s); }
static int rtc_r(struct board_devices *d, const void *s)
{
	return rtc_restore(&d->rtc, s);
}

static void testdev_s(struct board_devices *d, void *s)
{
	mmio_testdev_save(&d->testdev, s);
}

static int testdev_r(struct board_devices *d, const void *s)
{
	mmio_testdev_restore(&d->testdev, s);
	return 0;
}

static void reset_s(struct board_devices *d, void *s) { reset_ctl_save(&d->reset, s); }
static int reset_r(struct board_devices *d, const void *s)
{
	reset_ctl_restore(&d->reset, s);
	return 0;
}

static void pm_s(struct board_devices *d, void *s) { acpi_pm_save(&d->pm, s); }
static int pm_r(struct board_devices *d, const void *s)
{
	acpi_pm_restore(&d->pm, s);
	return 0;
}

static void legacy_s(struct board_devices *d, void *s)
{
	legacy_ports_save(&d->legacy, s);
}

static int legacy_r(struct board_devices *d, const void *s)
{
	legacy_ports_restore(&d->legacy, s);
	return 0;
}

/*
 * Not here: debug-exit and the boot marker hold nothing of the guest's,
 * and the PCI host bridge only an assigned device, which cannot be saved.
 */
static const struct snap_device snap_devices[] = {
	{ "uart0", sizeof(struct uart_state), uart_s, uart_r },
	{ "rtc", sizeof(struct rtc_state), rtc_s, rtc_r },
	{ "mmio-testdev", sizeof(struct mmio_testdev_state), testdev_s, testdev_r },
	{ "reset", sizeof(struct reset_ctl_state), reset_s, reset_r },
	{ "acpi-pm", sizeof(struct acpi_pm_state), pm_s, pm_r },
	{ "legacy", sizeof(struct legacy_ports_state), legacy_s, legacy_r },
};

#define NR_SNAP_DEVICES	(sizeof(snap_devices) / sizeof(snap_devices[0]))

/* Room for any device's state. */
union snap_device_state {
	struct uart_state uart;
	struct rtc_state rtc;
	struct mmio_testdev_state testdev;
	struct reset_ctl_state reset;
	struct acpi_pm_state pm;
	struct legacy_ports_state legacy;
};

/* --- Save ------------------------------------------------------------- */

void snapshot_describe(struct vm *vm, struct snap_machine *m)
{
	memset(m, 0, sizeof(*m));
	m->nr_vcpus = vm->nr_vcpus;
	m->has_irqchip = vm->hv.has_irqchip;
	m->mem_size = vm->mem.size;
	m->image_kind = vm->kind;
	vm->hv.ops->cpu_features(&vm->hv, &m->cpu);
}

static int save_vcpus(struct vm *vm, struct snap_buf *b, char *err, size_t errlen)
{
	struct snap_vcpu *sv = calloc(1, sizeof(*sv));
	int i, ret = 0;

	if (!sv)
		die("out of memory for a snapshot");
	for (i = 0; i < vm->nr_vcpus && !ret; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		memset(sv, 0, sizeof(*sv));
		ret = vm->hv.ops->get_vcpu_state(&vm->hv, &vcpu->hv, &sv->hv);
		if (ret) {
			snprintf(err, errlen, "vCPU %d: cannot read its state: %s",
				 i, strerror(-ret));
			break;
		}
		pthread_mutex_lock(&vcpu->lock);
		sv->pending_irq = vcpu->pending_irq;
		sv->pending_nmi = vcpu->pending_nmi;
		pthread_mutex_unlock(&vcpu->lock);
		sv->parked = vcpu->parked;
		sv->halted = vcpu->halted;
		snap_buf_add(b, "vcpu", i, sv, sizeof(*sv));
	}
	free(sv);
	return ret;
}

static int save_state(struct vm *vm, struct snap_buf *b, char *err, size_t errlen)
{
	struct snap_machine m;
	union snap_device_state *dev;
	unsigned int i;
	int ret;

	snapshot_describe(vm, &m);
	snap_buf_add(b, "machine", 0, &m, sizeof(m));
	ret = save_vcpus(vm, b, err, errlen);
	if (ret)
		return ret;
	if (vm->hv.has_irqchip) {
		struct lv_irqchip_state chip;

		ret = vm->hv.ops->get_irqchip(&vm->hv, &chip);
		if (ret) {
			snprintf(err, errlen, "cannot read the interrupt controllers: %s",
				 strerror(-ret));
			return ret;
		}
		snap_buf_add(b, "irqchip", 0, &chip, sizeof(chip));
	}
	dev = malloc(sizeof(*dev));
	if (!dev)
		die("out of memory for a snapshot");
	for (i = 0; i < NR_SNAP_DEVICES; i++) {
		memset(dev, 0, snap_devices[i].size);
		snap_devices[i].save(&vm->dev, dev);
		snap_buf_add(b, snap_devices[i].name, 0, dev, snap_devices[i].size);
	}
	free(dev);
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	unsigned int i;

	for (i = 0; i < SNAP_PAGE / sizeof(*q); i++)
		if (q[i])
			return false;
	return true;
}

static int write_all(int fd, const void *p, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p = (const uint8_t *)p + n;
		len -= n;
		off += n;
	}
	return 0;
}

/* Memory after the sections; all-zero pages stay holes (they read as 0). */
static int write_file(int fd, const struct snap_buf *b, const struct guest_mem *mem)
{
	const struct snap_header *h = (const void *)b->p;
	uint64_t off;

	if (write_all(fd, b->p, b->len, 0))
		return -1;
	for (off = 0; off < mem->size; off += SNAP_PAGE)
		if (!page_is_zero(mem->host + off) &&
		    write_all(fd, mem->host + off, SNAP_PAGE, h->mem_offset + off))
			return -1;
	if (ftruncate(fd, h->mem_offset + mem->size) || fsync(fd))
		return -1;
	return 0;
}

int snapshot_savable(struct vm *vm, char *err, size_t errlen)
{
	if (!vm->hv.ops->get_vcpu_state) {
		snprintf(err, errlen, "snapshots need --hv lightvisor (not %s)",
			 vm->hv.ops->name);
		return -EOPNOTSUPP;
	}
	if (opts.assign) {
		snprintf(err, errlen, "a VM with an assigned PCI device cannot be saved");
		return -EOPNOTSUPP;
	}
	if (vm->dev.virtio.nr_devs) {
		snprintf(err, errlen, "a VM with virtio devices cannot be saved (yet)");
		return -EOPNOTSUPP;
	}
	return 0;
}

int snapshot_state(struct vm *vm, struct snap_buf *b, char *err, size_t errlen)
{
	int ret;

	snap_buf_init(b);
	ret = save_state(vm, b, err, errlen);
	if (ret) {
		snap_buf_free(b);
		return ret;
	}
	snap_buf_finish_unsealed(b, vm->mem.size);
	return 0;
}

int snapshot_save(struct vm *vm, const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	struct snap_buf b;
	int fd, ret;

	ret = snapshot_savable(vm, err, errlen);
	if (ret)
		return ret;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "path too long");
		return -ENAMETOOLONG;
	}
	ret = snapshot_state(vm, &b, err, errlen);
	if (ret)
		return ret;
	snap_seal(b.p, b.len);	/* a file at rest */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_file(fd, &b, &vm->mem)) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(-ret));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path)) {
		ret = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path,
			 strerror(errno));
		unlink(tmp);
	}
out:
	snap_buf_free(&b);
	return ret;
}

/* --- Restore ---------------------------------------------------------- */

/* What a snapshot holds, found by snap_parse(); points into its buffer. */
struct snap_contents {
	const struct snap_machine *machine;
	const struct snap_vcpu *vcpu[LVRUN_MAX_VCPUS];
	const struct lv_irqchip_state *irqchip;
	const void *dev[NR_SNAP_DEVICES];
};

static int found_once(const void **slot, const struct snap_found *s,
		      uint32_t size, char *err, size_t errlen)
{
	if (s->size != size) {
		snprintf(err, errlen, "section %s %u: %u bytes, expected %u",
			 s->name, s->instance, s->size, size);
		return -1;
	}
	if (*slot) {
		snprintf(err, errlen, "section %s %u appears twice", s->name,
			 s->instance);
		return -1;
	}
	*slot = s->data;
	return 0;
}

static int snap_collect(const struct snap_found *s, void *arg, char *err,
			size_t errlen)
{
	struct snap_contents *c = arg;
	unsigned int i;

	if (!strcmp(s->name, "vcpu")) {
		if (s->instance >= LVRUN_MAX_VCPUS) {
			snprintf(err, errlen, "vcpu section for vCPU %u", s->instance);
			return -1;
		}
		return found_once((const void **)&c->vcpu[s->instance], s,
				  sizeof(struct snap_vcpu), err, errlen);
	}
	if (s->instance) {
		snprintf(err, errlen, "section %s with instance %u", s->name,
			 s->instance);
		return -1;
	}
	if (!strcmp(s->name, "machine"))
		return found_once((const void **)&c->machine, s,
				  sizeof(struct snap_machine), err, errlen);
	if (!strcmp(s->name, "irqchip"))
		return found_once((const void **)&c->irqchip, s,
				  sizeof(struct lv_irqchip_state), err, errlen);
	for (i = 0; i < NR_SNAP_DEVICES; i++)
		if (!strcmp(s->name, snap_devices[i].name))
			return found_once(&c->dev[i], s, snap_devices[i].size,
					  err, errlen);
	snprintf(err, errlen, "unknown section '%s' (a newer lvrun's snapshot?)",
		 s->name);
	return -1;
}

/* Everything a restore needs is there, once, and fits together. */
static int snap_complete(const struct snap_contents *c, uint64_t mem_size,
			 char *err, size_t errlen)
{
	const struct snap_machine *m = c->machine;
	unsigned int i;

	if (!m) {
		snprintf(err, errlen, "no machine section");
		return -1;
	}
	if (!m->nr_vcpus || m->nr_vcpus > LVRUN_MAX_VCPUS ||
	    m->has_irqchip > 1 || m->mem_size != mem_size || m->padding) {
		snprintf(err, errlen, "bad machine section (%u vCPUs, %llu bytes)",
			 m->nr_vcpus, (unsigned long long)m->mem_size);
		return -1;
	}
	for (i = 0; i < LVRUN_MAX_VCPUS; i++)
		if (!c->vcpu[i] != (i >= m->nr_vcpus)) {
			snprintf(err, errlen, "vcpu section %u %s", i,
				 c->vcpu[i] ? "for a vCPU the machine lacks" : "missing");
			return -1;
		}
	if (!c->irqchip != !m->has_irqchip) {
		snprintf(err, errlen, "irqchip section %s", c->irqchip ?
			 "without an interrupt controller" : "missing");
		return -1;
	}
	for (i = 0; i < NR_SNAP_DEVICES; i++)
		if (!c->dev[i]) {
			snprintf(err, errlen, "device section %s missing",
				 snap_devices[i].name);
			return -1;
		}
	return 0;
}

/* The guest may have seen any feature the saving host offered. */
int snapshot_check_host(struct vm *vm, const struct snap_machine *m, char *err,
			size_t errlen)
{
	struct hv_cpu_features host, missing;

	vm->hv.ops->cpu_features(&vm->hv, &host);
	if (hv_cpu_features_missing(&m->cpu, &host, &missing)) {
		snprintf(err, errlen,
			 "the guest may use CPU features this host lacks: "
			 "CPUID.1 ECX %#x EDX %#x, CPUID.7.0 EBX %#x ECX %#x EDX %#x",
			 missing.leaf1_ecx, missing.leaf1_edx, missing.leaf7_ebx,
			 missing.leaf7_ecx, missing.leaf7_edx);
		return -EOPNOTSUPP;
	}
	if (m->cpu.tsc_khz != host.tsc_khz)
		warn("guest saved with a %u kHz TSC, this host's runs at %u kHz",
		     m->cpu.tsc_khz, host.tsc_khz);
	return 0;
}

/* Reads the header and sections of @fd; dies with a message if bad. */
static uint8_t *read_sections(int fd, const char *path, size_t *len,
			      struct snap_header *h)
{
	uint8_t head[sizeof(struct snap_header)];
	char err[256];
	struct stat st;
	uint8_t *p;
	ssize_t n;

	if (fstat(fd, &st))
		die("%s: %s", path, strerror(errno));
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		die("cannot read %s: %s", path, strerror(errno));
	*len = snap_check_header(head, n, st.st_size, err, sizeof(err));
	if (!*len)
		die("%s: %s", path, err);
	memcpy(h, head, sizeof(*h));
	p = malloc(*len);
	if (!p)
		die("out of memory for %s", path);
	if (pread(fd, p, *len, 0) != (ssize_t)*len)
		die("cannot read %s: %s", path, strerror(errno));
	return p;
}

/* A vCPU's queued events, as lvrun held them at the save. */
static void restore_queued_events(struct vcpu *vcpu, const struct snap_vcpu *sv)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->pending_irq = sv->pending_irq;
	vcpu->pending_nmi = sv->pending_nmi;
	pthread_mutex_unlock(&vcpu->lock);
}

static int restore_vcpus(struct vm *vm, const struct snap_contents *c,
			 char *err, size_t errlen)
{
	int i, ret;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		const struct snap_vcpu *sv = c->vcpu[i];

		if (sv->pending_irq < -1 || sv->pending_irq > 255 ||
		    sv->pending_nmi > 1 || sv->parked > 1 || sv->halted > 1) {
			snprintf(err, errlen, "vCPU %d: bad queued events", i);
			return -EINVAL;
		}
		ret = vm->hv.ops->set_vcpu_state(&vm->hv, &vcpu->hv, &sv->hv);
		if (ret) {
			snprintf(err, errlen, "vCPU %d: its state is refused: %s", i,
				 strerror(-ret));
			return ret;
		}
		restore_queued_events(vcpu, sv);
		vcpu->halted = sv->halted;
		vcpu->parked = sv->parked || sv->halted;
	}
	return 0;
}

/* Returns the name of the first device that refused its state, or NULL. */
static const char *restore_devices(struct vm *vm, const struct snap_contents *c)
{
	unsigned int i;

	for (i = 0; i < NR_SNAP_DEVICES; i++)
		if (snap_devices[i].restore(&vm->dev, c->dev[i]))
			return snap_devices[i].name;
	return NULL;
}

/*
 * What a VM was restored from, kept for reset: the sections, which
 * snap_contents points into. One VM per process.
 */
static struct {
	uint8_t *sections;
	struct snap_contents c;
	int fd;			/* the snapshot, for mapping its memory again */
	uint64_t mem_offset;
} origin;

/* Guest memory, copy-on-write from the snapshot, at @addr (or anywhere). */
static void *map_snapshot_memory(void *addr, uint64_t size, int fd, uint64_t offset)
{
	return mmap(addr, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_NORESERVE | (addr ? MAP_FIXED : 0), fd, offset);
}

/*
 * Parses and checks the header and sections at @p into @c; a file's
 * checksum too when @sealed.
 */
static int parse_state(const uint8_t *p, size_t len, uint64_t mem_size,
		       bool sealed, struct snap_contents *c, char *err,
		       size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if ((sealed ? snap_parse(p, len, snap_collect, c, err, errlen) :
	     snap_parse_unsealed(p, len, snap_collect, c, err, errlen)) ||
	    snap_complete(c, mem_size, err, errlen))
		return -EINVAL;
	return 0;
}

void snapshot_build(struct vm *vm, const struct snap_machine *m)
{
	int i;

	vm_create_devices(vm);
	if (m->has_irqchip)
		vm->hv.ops->create_irqchip(&vm->hv);
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		vcpu->vm = vm;
		pthread_mutex_init(&vcpu->lock, NULL);
		vm->hv.ops->create_vcpu(&vm->hv, &vcpu->hv, i);
	}
}

/*
 * Gives @vm, built by snapshot_build() for @c's machine, the state of
 * @c's devices, interrupt controllers and vCPUs.
 */
static int apply_state(struct vm *vm, const struct snap_contents *c, char *err,
		       size_t errlen)
{
	const char *dev;
	int ret;

	/* Each vCPU's TSC is where it was saved. */
	ret = restore_vcpus(vm, c, err, errlen);
	if (ret)
		return ret;
	trace_phase("vCPUs' state");
	if (c->irqchip) {
		ret = vm->hv.ops->set_irqchip(&vm->hv, c->irqchip);
		if (ret) {
			snprintf(err, errlen, "the interrupt controllers' state is refused: %s",
				 strerror(-ret));
			return ret;
		}
	}
	dev = restore_devices(vm, c);
	if (dev) {
		snprintf(err, errlen, "device %s: a state it cannot be in", dev);
		return -EINVAL;
	}
	return 0;
}

void vm_restore(struct vm *vm, const char *path)
{
	struct snap_contents c;
	struct snap_header h;
	char err[256];
	uint8_t *sections;
	size_t len;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	sections = read_sections(fd, path, &len, &h);
	trace_phase("snapshot read");
	if (parse_state(sections, len, h.mem_size, true, &c, err, sizeof(err)))
		die("%s: %s", path, err);
	trace_phase("snapshot parsed");
	if (opts.hv != HV_LIGHTVISOR)
		die("--restore needs --hv lightvisor");

	vm->nr_vcpus = c.machine->nr_vcpus;
	vm->kind = c.machine->image_kind;
	hv_init(&vm->hv, &hv_lightvisor_ops, vm->nr_vcpus);
	if (snapshot_check_host(vm, c.machine, err, sizeof(err)))
		die("%s: %s", path, err);
	trace_phase("VM made, host checked");

	/* Copy-on-write from the file: pages are read when first touched. */
	vm->mem.size = h.mem_size;
	vm->mem.host = map_snapshot_memory(NULL, h.mem_size, fd, h.mem_offset);
	if (vm->mem.host == MAP_FAILED)
		die("cannot map the memory of %s: %s", path, strerror(errno));
	vm->hv.ops->set_memory(&vm->hv, 0, vm->mem.host, vm->mem.size);
	trace_phase("memory mapped");

	snapshot_build(vm, c.machine);
	trace_phase("devices, irqchip, vCPUs made");
	if (apply_state(vm, &c, err, sizeof(err)))
		die("snapshot %s: %s", path, err);
	trace_phase("state applied");
	trace("restored %s: %d vCPUs, %llu KiB of memory", path, vm->nr_vcpus,
	      (unsigned long long)(vm->mem.size >> 10));
	origin.sections = sections;
	origin.c = c;
	origin.fd = fd;
	origin.mem_offset = h.mem_offset;
}

int snapshot_load(struct vm *vm, const uint8_t *p, size_t len, char *err,
		  size_t errlen)
{
	struct snap_contents c;
	const struct snap_machine *m;
	int ret;

	ret = parse_state(p, len, vm->mem.size, false, &c, err, errlen);
	if (ret)
		return ret;
	m = c.machine;
	if ((int)m->nr_vcpus != vm->nr_vcpus ||
	    m->image_kind != (uint32_t)vm->kind ||
	    !!m->has_irqchip != vm->hv.has_irqchip) {
		snprintf(err, errlen, "the state's machine (%u vCPUs%s) is not the one announced (%d vCPUs%s)",
			 m->nr_vcpus, m->has_irqchip ? ", irqchip" : "",
			 vm->nr_vcpus, vm->hv.has_irqchip ? ", irqchip" : "");
		return -EINVAL;
	}
	ret = snapshot_check_host(vm, m, err, errlen);
	if (ret)
		return ret;
	return apply_state(vm, &c, err, errlen);
}

/* Every vCPU thread is where it was at the save: running, or not. */
static int reset_check_vcpus(struct vm *vm, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		const struct snap_vcpu *sv = origin.c.vcpu[i];
		const struct vcpu *vcpu = &vm->vcpus[i];

		if (vcpu->halted != sv->halted ||
		    vcpu->parked != (sv->parked || sv->halted)) {
			snprintf(err, errlen,
				 "vCPU %d %s since the snapshot: its thread cannot go back",
				 i, vcpu->halted ? "halted for good" : "started");
			return -EBUSY;
		}
	}
	return 0;
}

int snapshot_reset(struct vm *vm, char *err, size_t errlen)
{
	const struct snap_contents *c = &origin.c;
	uint64_t t0, t1;
	const char *dev;
	int i, ret;

	if (!origin.sections) {
		snprintf(err, errlen, "reset needs a VM restored or forked from a snapshot");
		return -EOPNOTSUPP;
	}
	ret = reset_check_vcpus(vm, err, errlen);
	if (ret)
		return ret;
	/*
	 * Memory is mapped privately from the file: mapping the file again
	 * in place drops the pages the guest wrote (and the hypervisor's
	 * mappings of them, through its mmu_notifier), so the guest reads the
	 * file's again. Pages it never touched cost nothing. (Not
	 * MADV_DONTNEED: kernels without ADVISE_SYSCALLS lack it.)
	 */
	t0 = __rdtsc();
	if (map_snapshot_memory(vm->mem.host, vm->mem.size, origin.fd,
				origin.mem_offset) == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "cannot map the snapshot's memory again: %s",
			 strerror(errno));
		return ret;
	}
	t1 = __rdtsc();
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vm->hv.ops->set_vcpu_state(&vm->hv, &vm->vcpus[i].hv,
						 &c->vcpu[i]->hv);
		if (ret) {
			snprintf(err, errlen, "vCPU %d: its saved state is refused: %s",
				 i, strerror(-ret));
			return ret;
		}
		restore_queued_events(&vm->vcpus[i], c->vcpu[i]);
	}
	if (c->irqchip) {
		ret = vm->hv.ops->set_irqchip(&vm->hv, c->irqchip);
		if (ret) {
			snprintf(err, errlen, "the interrupt controllers' state is refused: %s",
				 strerror(-ret));
			return ret;
		}
	}
	dev = restore_devices(vm, c);
	if (dev) {
		snprintf(err, errlen, "device %s refused its saved state", dev);
		return -EINVAL;
	}
	trace("reset: memory mapped again in %llu TSC ticks, the state set in %llu",
	      (unsigned long long)(t1 - t0), (unsigned long long)(__rdtsc() - t1));
	return 0;
}
