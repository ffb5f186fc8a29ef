// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: VM creation: guest memory, the board's devices, the image and
 * the initial vCPU state, over whichever hypervisor --hv chose.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <x86intrin.h>

#include "layout.h"
#include "log.h"
#include "lvrun.h"
#include "pool/client.h"
#include "pool/shape.h"

struct image {
	uint8_t *data;
	size_t size;
};

static void read_file(const char *path, struct image *img)
{
	struct stat st;
	int fd;
	size_t done = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open %s: %s", path, strerror(errno));
	if (st.st_size == 0)
		die("%s is empty", path);
	img->size = st.st_size;
	img->data = malloc(img->size);
	if (!img->data)
		die("out of memory");
	while (done < img->size) {
		ssize_t n = read(fd, img->data + done, img->size - done);

		if (n <= 0)
			die("cannot read %s: %s", path, n ? strerror(errno) : "short file");
		done += n;
	}
	close(fd);
}

#define SZ_2M		(2ULL << 20)

/* Anonymous memory aligned to 2 MiB, so huge pages can back all of it. */
static void *mmap_aligned_2m(uint64_t size)
{
	uint8_t *p, *aligned;
	uint64_t len = size + SZ_2M;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return p;
	aligned = (uint8_t *)(((uintptr_t)p + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
	if (aligned > p)
		munmap(p, aligned - p);
	if (aligned + size < p + len)
		munmap(aligned + size, p + len - (aligned + size));
	return aligned;
}

#define THP_POLICY	"/sys/kernel/mm/transparent_hugepage/enabled"

/* The THP policy in force, e.g. "always", or "" if there is no THP. */
static const char *thp_policy(void)
{
	static char buf[128];
	char *open, *close;
	FILE *f = fopen(THP_POLICY, "r");

	if (!f)
		return "";
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close)
		return "";
	*close = 0;
	return open + 1;
}

/*
 * madvise() failed (kernels built without CONFIG_ADVISE_SYSCALLS have
 * none): fall back to the THP policy (--thp) or to disabling THP for the
 * whole process (--no-thp), or explain why not.
 */
static void thp_fallback(bool want)
{
	const char *policy = thp_policy();
	int err = errno;

	if (want) {
		if (strcmp(policy, "always"))
			die("--thp: madvise(MADV_HUGEPAGE) failed (%s) and the THP policy\n"
			    "  is \"%s\", not \"always\": no transparent huge pages",
			    strerror(err), policy);
		trace("--thp: madvise failed (%s); THP policy \"always\" applies",
		      strerror(err));
		return;
	}
	if (!*policy || !strcmp(policy, "never"))
		return;
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		die("--no-thp: neither madvise(MADV_NOHUGEPAGE) (%s) nor\n"
		    "  prctl(PR_SET_THP_DISABLE) (%s) works", strerror(err),
		    strerror(errno));
	trace("--no-thp: madvise failed (%s); THP disabled by prctl", strerror(err));
}

static uint8_t *alloc_guest_memory(uint64_t *size)
{
	void *p;

	switch (opts.backing) {
	case BACKING_HUGETLB:
		*size = (*size + SZ_2M - 1) & ~(SZ_2M - 1);
		p = mmap(NULL, *size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			die("--hugepages: cannot map %llu MiB of 2 MiB huge pages: %s\n"
			    "  (reserve them first: echo N > /proc/sys/vm/nr_hugepages,\n"
			    "  or run without --hugepages)",
			    (unsigned long long)(*size >> 20), strerror(errno));
		return p;
	case BACKING_THP:
		p = mmap_aligned_2m(*size);
		if (p != MAP_FAILED && madvise(p, *size, MADV_HUGEPAGE))
			thp_fallback(true);
		break;
	case BACKING_NO_THP:
		p = mmap(NULL, *size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED && madvise(p, *size, MADV_NOHUGEPAGE))
			thp_fallback(false);
		break;
	default:
		p = mmap(NULL, *size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		break;
	}
	if (p == MAP_FAILED)
		die("cannot allocate %llu bytes of guest memory: %s",
		    (unsigned long long)*size, strerror(errno));
	return p;
}

/* The board's devices that depend neither on the guest nor on options. */
static void vm_create_fixed_devices(struct vm *vm)
{
	struct board_devices *d = &vm->dev;

	vm->pio.name = "port";
	vm->mmio.name = "MMIO";
	uart_init(&d->com1, &vm->pio, PORT_COM1, irq_line_get(&vm->hv.chip, IRQ_COM1),
		  STDOUT_FILENO);
	debug_exit_init(&d->debug_exit, &vm->pio);
	mmio_testdev_init(&d->testdev, &vm->mmio);
	reset_ctl_init(&d->reset, &vm->pio);
	acpi_pm_init(&d->pm, &vm->pio);
	legacy_ports_init(&d->legacy, &vm->pio);
	pci_host_init(&d->pci, &vm->pio);
}

/*
 * Those that do: the RTC (the time now), the boot marker (counting from
 * now) and virtio (--disk, --console, --net).
 */
static void vm_create_guest_devices(struct vm *vm)
{
	struct board_devices *d = &vm->dev;

	rtc_init(&d->rtc, &vm->pio, irq_line_get(&vm->hv.chip, IRQ_RTC),
		 vm->mem.size);
	guest_mark_init(&d->mark, &vm->pio);
	virtio_board_init(&d->virtio, &vm->mmio, &vm->hv.chip, vm->mem);
}

void vm_create_devices(struct vm *vm)
{
	vm_create_fixed_devices(vm);
	vm_create_guest_devices(vm);
}

static void vm_load(struct vm *vm, const struct image *img)
{
	static struct image initrds[LVRUN_MAX_INITRDS];
	struct load_ctx ctx;
	int i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.mem = vm->mem;
	ctx.image = (struct blob){ opts.image, img->data, img->size };
	ctx.cmdline = opts.cmdline;
	ctx.nr_virtio_mmio = vm->dev.virtio.nr_devs;
	ctx.nr_vcpus = vm->nr_vcpus;
	for (i = 0; i < opts.nr_initrds; i++) {
		read_file(opts.initrd[i], &initrds[i]);
		ctx.initrd[i] = (struct blob){ opts.initrd[i], initrds[i].data,
					       initrds[i].size };
	}
	ctx.nr_initrds = opts.nr_initrds;
	if (load_image(&ctx, vm->kind))
		die("%s", ctx.err);
	vm->entry = ctx.entry;
	for (i = 0; i < opts.nr_initrds; i++)
		free(initrds[i].data);
}

static void vcpu_init_state(struct vm *vm, struct vcpu *vcpu)
{
	struct lv_sregs sregs;
	struct lv_regs regs = vm->entry.regs;
	int id = vcpu->hv.id;

	/* Start from the hypervisor's reset state: fields lvrun ignores keep it. */
	vm->hv.ops->get_sregs(&vcpu->hv, &sregs);
	boot_sregs(&vm->entry, &sregs);
	if (vm->entry.all_vcpus_at_entry) {
		regs.rdi = id;
		regs.rsp = vm->mem.size - id * LM_STACK_PER_VCPU;
	}
	vm->hv.ops->set_sregs(&vcpu->hv, &sregs);
	vm->hv.ops->set_regs(&vcpu->hv, &regs);
}

/*
 * Which vCPUs run: all of them for lvrun's ELF64 guests; for the others
 * vCPU 0, and the rest only if an interrupt controller can send them
 * INIT-SIPI (they wait in the hypervisor until then).
 */
static bool vcpu_parked(const struct vm *vm, int id)
{
	if (id == 0 || vm->entry.all_vcpus_at_entry)
		return false;
	return vm->entry.mode == BOOT_REAL16 || !vm->hv.has_irqchip;
}

/* The vCPUs themselves: nothing in them depends on the guest yet. */
static void vm_create_vcpus(struct vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		vcpu->vm = vm;
		vcpu->pending_irq = -1;
		pthread_mutex_init(&vcpu->lock, NULL);
		vm->hv.ops->create_vcpu(&vm->hv, &vcpu->hv, i);
	}
}

/* Which run, and where they start: known once the image is loaded. */
static void vm_init_vcpus(struct vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		vcpu->parked = vcpu_parked(vm, i);
		if (i == 0 || vm->entry.all_vcpus_at_entry)
			vcpu_init_state(vm, vcpu);
	}
}

/*
 * Kernels get the hypervisor's interrupt controllers. lvrun's own ELF64
 * and real-mode guests only with --irqchip: they take events from
 * --irq-after-ms and end with a halt with interrupts off, which KVM's
 * local APIC keeps in the kernel instead of reporting it (lightvisor's
 * reports it either way).
 */
static bool vm_wants_irqchip(const struct vm *vm)
{
	return opts.irqchip || vm->kind == IMAGE_BZIMAGE ||
	       vm->kind == IMAGE_VMLINUX || vm->kind == IMAGE_MULTIBOOT;
}

/*
 * The VM itself: created here, or taken from lvd --shells (--pool-vm)
 * with its vCPUs and interrupt controllers already made, so that the
 * calls creating those only pick them up. @pool_sock: the request
 * vm_create() sent.
 */
static void vm_instantiate(struct vm *vm, int pool_sock)
{
	struct hv_prepared prepared;

	if (!opts.pool_vm) {
		hv_init(&vm->hv, opts.hv == HV_KVM ? &hv_kvm_ops : &hv_lightvisor_ops,
			vm->nr_vcpus);
		return;
	}
	pool_receive(pool_sock, opts.pool_vm, vm->nr_vcpus, vm_wants_irqchip(vm),
		     &prepared);
	hv_init_prepared(&vm->hv, &hv_lightvisor_ops, &prepared);
}

static void vm_add_memory(struct vm *vm, uint64_t size)
{
	vm->mem.size = size;
	vm->mem.host = alloc_guest_memory(&vm->mem.size);
	vm->mem_anonymous = true;
	vm->hv.ops->set_memory(&vm->hv, 0, vm->mem.host, vm->mem.size);
}

/*
 * What depends on the guest: the devices (only those that depend on it
 * when @fixed_devices_made), the image, the vCPUs' start.
 */
static void vm_finish(struct vm *vm, struct image *img, bool fixed_devices_made)
{
	if (fixed_devices_made)
		vm_create_guest_devices(vm);
	else
		vm_create_devices(vm);
	trace_phase("devices");
	vm_load(vm, img);
	trace_phase("load");
	vm_init_vcpus(vm);
	trace_phase("vcpu state");
	trace("%s image %s on %s, %llu KiB of memory, entry 0x%llx",
	      image_kind_name(vm->kind), opts.image, vm->hv.ops->name,
	      (unsigned long long)(vm->mem.size >> 10),
	      (unsigned long long)vm->entry.regs.rip);
	free(img->data);
}

/*
 * With --pool-vm the request goes out first: lvd answers while lvrun
 * reads the image, which does not need the VM. instantiate_ticks counts
 * only lvrun's own time on the VM, vCPUs and irqchip (the request, the
 * answer, the bind; or their creation).
 */
void vm_create(struct vm *vm)
{
	struct image img;
	uint64_t t0;
	int pool_sock = -1;

	vm->nr_vcpus = opts.nr_vcpus;
	if (opts.pool_vm) {
		t0 = __rdtsc();
		pool_sock = pool_request(opts.pool_vm, vm->nr_vcpus);
		vm->instantiate_ticks = __rdtsc() - t0;
	}
	read_file(opts.image, &img);
	vm->kind = image_detect(img.data, img.size);
	trace_phase("image read");

	t0 = __rdtsc();
	vm_instantiate(vm, pool_sock);
	trace_phase("VM");
	if (vm_wants_irqchip(vm))
		vm->hv.ops->create_irqchip(&vm->hv);
	vm_create_vcpus(vm);
	vm->instantiate_ticks += __rdtsc() - t0;
	trace_phase("vCPUs");
	vm_add_memory(vm, opts.mem_size ? opts.mem_size : image_default_mem(vm->kind));
	trace_phase("memory");
	vm_finish(vm, &img, false);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

/*
 * A prepared lvrun reserves its guest memory: every page is faulted in
 * (zeroed) now rather than while the image loads. Older kernels without
 * MADV_POPULATE_WRITE get each page touched.
 */
static void vm_prefault_memory(struct vm *vm)
{
	volatile uint8_t *p = vm->mem.host;
	uint64_t off;

	if (!madvise(vm->mem.host, vm->mem.size, MADV_POPULATE_WRITE))
		return;
	for (off = 0; off < vm->mem.size; off += 4096)
		p[off] = 0;
}

void vm_prepare_for_pool(struct vm *vm)
{
	vm->nr_vcpus = opts.nr_vcpus;
	hv_init(&vm->hv, &hv_lightvisor_ops, vm->nr_vcpus);
	if (opts.irqchip)
		vm->hv.ops->create_irqchip(&vm->hv);
	vm_create_vcpus(vm);
	vm_add_memory(vm, opts.mem_size);
	vm_prefault_memory(vm);
	vm_create_fixed_devices(vm);
	vm->prepared = (struct pool_shape){
		.nr_vcpus = vm->nr_vcpus, .mem_size = vm->mem.size,
		.irqchip = vm->hv.has_irqchip, .default_backing = true,
	};
}

void vm_create_prepared(struct vm *vm)
{
	struct pool_shape want;
	struct image img;
	char why[256];

	if (!opts.pool || opts.pool_listen_fd >= 0 || opts.hv != HV_LIGHTVISOR)
		die("pool: the client's options are not those of lvrun --pool");
	read_file(opts.image, &img);
	vm->kind = image_detect(img.data, img.size);
	trace_phase("image read");
	want = (struct pool_shape){
		.nr_vcpus = opts.nr_vcpus,
		.mem_size = opts.mem_size ? opts.mem_size : image_default_mem(vm->kind),
		.irqchip = vm_wants_irqchip(vm),
		.default_backing = opts.backing == BACKING_DEFAULT,
	};
	if (pool_shape_check(&vm->prepared, &want, why, sizeof(why)))
		die("--pool %s: %s", opts.pool, why);
	vm_finish(vm, &img, true);
}
