// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: VM creation, guest memory, image loading and initial vCPU state.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lvrun.h"

#define DEFAULT_MEM_REALMODE	(2ULL << 20)
#define DEFAULT_MEM_ELF		(16ULL << 20)

#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

#define GDT_SEL_CODE64	0x08
#define GDT_SEL_DATA	0x10
#define GDT_SEL_TSS	0x18

struct image {
	uint8_t *data;
	size_t size;
};

void vm_open(struct vm *vm)
{
	int ret;

	vm->sys_fd = open("/dev/lightvisor", O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0)
		die("cannot open /dev/lightvisor: %s", strerror(errno));

	ret = ioctl(vm->sys_fd, LV_GET_API_VERSION, 0);
	if (ret < 0)
		die_ioctl("LV_GET_API_VERSION");
	if (ret != LV_API_VERSION)
		die("lightvisor API version %d, lvrun needs %d", ret, LV_API_VERSION);

	ret = ioctl(vm->sys_fd, LV_CHECK_CAP, LV_CAP_RUN_GUESTS);
	if (ret < 0)
		die_ioctl("LV_CHECK_CAP(LV_CAP_RUN_GUESTS)");
	if (ret == 0)
		die("this CPU cannot run lightvisor guests (no usable VMX)");

	ret = ioctl(vm->sys_fd, LV_CHECK_CAP, LV_CAP_MAX_VCPUS);
	if (ret < 0)
		die_ioctl("LV_CHECK_CAP(LV_CAP_MAX_VCPUS)");
	if (ret > 0 && opts.nr_vcpus > ret)
		die("--vcpus %d: lightvisor supports at most %d", opts.nr_vcpus, ret);

	ret = ioctl(vm->sys_fd, LV_GET_VCPU_MMAP_SIZE, 0);
	if (ret < 0)
		die_ioctl("LV_GET_VCPU_MMAP_SIZE");
	if ((size_t)ret < sizeof(struct lv_run))
		die("LV_GET_VCPU_MMAP_SIZE returned %d, less than struct lv_run", ret);
	vm->run_size = ret;

	vm->vm_fd = ioctl(vm->sys_fd, LV_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		die_ioctl("LV_CREATE_VM");
	if (opts.irqchip && ioctl(vm->vm_fd, LV_CREATE_IRQCHIP, 0) < 0)
		die_ioctl("LV_CREATE_IRQCHIP");
}

static void read_image(const char *path, struct image *img)
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

static bool is_elf(const struct image *img)
{
	return img->size >= SELFMAG && !memcmp(img->data, ELFMAG, SELFMAG);
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

static uint8_t *alloc_guest_memory(struct vm *vm)
{
	void *p;

	switch (opts.backing) {
	case BACKING_HUGETLB:
		vm->mem_size = (vm->mem_size + SZ_2M - 1) & ~(SZ_2M - 1);
		p = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			die("--hugepages: cannot map %llu MiB of 2 MiB huge pages: %s\n"
			    "  (reserve them first: echo N > /proc/sys/vm/nr_hugepages,\n"
			    "  or run without --hugepages)",
			    (unsigned long long)(vm->mem_size >> 20), strerror(errno));
		return p;
	case BACKING_THP:
		p = mmap_aligned_2m(vm->mem_size);
		if (p != MAP_FAILED && madvise(p, vm->mem_size, MADV_HUGEPAGE))
			thp_fallback(true);
		break;
	case BACKING_NO_THP:
		p = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED && madvise(p, vm->mem_size, MADV_NOHUGEPAGE))
			thp_fallback(false);
		break;
	default:
		p = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		break;
	}
	if (p == MAP_FAILED)
		die("cannot allocate %llu bytes of guest memory: %s",
		    (unsigned long long)vm->mem_size, strerror(errno));
	return p;
}

/* Guest memory is one slot at guest-physical 0. */
static void vm_setup_memory(struct vm *vm)
{
	struct lv_memory_region region;

	vm->mem = alloc_guest_memory(vm);

	region = (struct lv_memory_region){
		.slot = 0,
		.flags = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, LV_SET_MEMORY_REGION, &region) < 0)
		die_ioctl("LV_SET_MEMORY_REGION");
}

static void load_realmode(struct vm *vm, const struct image *img)
{
	if (img->size > vm->mem_size - REALMODE_LOAD_ADDR ||
	    img->size > 0xa0000 - REALMODE_LOAD_ADDR)
		die("real-mode image too big (%zu bytes)", img->size);
	memcpy(vm->mem + REALMODE_LOAD_ADDR, img->data, img->size);
	vm->entry = REALMODE_LOAD_ADDR;
}

static bool range_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static void load_elf64(struct vm *vm, const struct image *img, const char *path)
{
	const Elf64_Ehdr *eh = (const void *)img->data;
	int i;

	if (img->size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
		die("%s: not a little-endian x86-64 ELF64 image", path);
	if (eh->e_type != ET_EXEC)
		die("%s: not an ELF executable (position-independent images are not supported)",
		    path);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > img->size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > img->size - eh->e_phoff)
		die("%s: bad program header table", path);

	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(img->data + eh->e_phoff +
						      i * sizeof(Elf64_Phdr));

		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > img->size ||
		    ph->p_filesz > img->size - ph->p_offset)
			die("%s: segment %d lies outside the file", path, i);
		if (ph->p_paddr >= vm->mem_size || ph->p_memsz > vm->mem_size - ph->p_paddr)
			die("%s: segment %d (0x%llx+0x%llx) does not fit in guest memory",
			    path, i, (unsigned long long)ph->p_paddr,
			    (unsigned long long)ph->p_memsz);
		if (range_overlaps(ph->p_paddr, ph->p_memsz, 0, LM_RESERVED_END))
			die("%s: segment %d overlaps 0-0x%llx, reserved for lvrun",
			    path, i, LM_RESERVED_END);
		memcpy(vm->mem + ph->p_paddr, img->data + ph->p_offset, ph->p_filesz);
		memset(vm->mem + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		trace("loaded segment %d at 0x%llx, file 0x%llx bytes, memory 0x%llx bytes",
		      i, (unsigned long long)ph->p_paddr,
		      (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
	}
	vm->entry = eh->e_entry;
	if (vm->entry >= vm->mem_size)
		die("%s: entry point 0x%llx is outside guest memory", path,
		    (unsigned long long)vm->entry);
}

static void put_u64(struct vm *vm, uint64_t gpa, uint64_t val)
{
	memcpy(vm->mem + gpa, &val, sizeof(val));
}

/*
 * Identity map the low 4 GiB with 2 MiB pages: it covers all RAM lvrun
 * accepts (at most 3G) and the MMIO test device at 0xfe000000.
 */
static void build_page_tables(struct vm *vm)
{
	int gb, i;

	put_u64(vm, LM_PML4_ADDR, LM_PDPT_ADDR | PTE_P | PTE_RW);
	for (gb = 0; gb < 4; gb++) {
		uint64_t pd = LM_PD_ADDR + gb * 0x1000ULL;

		put_u64(vm, LM_PDPT_ADDR + gb * 8, pd | PTE_P | PTE_RW);
		for (i = 0; i < 512; i++)
			put_u64(vm, pd + i * 8,
				(((uint64_t)gb << 30) + ((uint64_t)i << 21)) |
				PTE_P | PTE_RW | PTE_PS);
	}
}

/* A GDT with a 64-bit code segment, a flat data segment and a TSS. */
static void build_gdt(struct vm *vm)
{
	uint64_t tss_lo, tss = LM_TSS_ADDR, tss_limit = 0x67;

	put_u64(vm, LM_GDT_ADDR + 0x00, 0);
	put_u64(vm, LM_GDT_ADDR + GDT_SEL_CODE64, 0x00af9b000000ffffULL);
	put_u64(vm, LM_GDT_ADDR + GDT_SEL_DATA, 0x00cf93000000ffffULL);
	/* 64-bit busy TSS descriptor (type 0xb), 16 bytes. */
	tss_lo = (tss_limit & 0xffff) | ((tss & 0xffffff) << 16) |
		 (0x8bULL << 40) | (((tss >> 24) & 0xff) << 56);
	put_u64(vm, LM_GDT_ADDR + GDT_SEL_TSS, tss_lo);
	put_u64(vm, LM_GDT_ADDR + GDT_SEL_TSS + 8, tss >> 32);
	/* An empty I/O bitmap: the I/O map base lies past the limit. */
	memset(vm->mem + LM_TSS_ADDR, 0, 0x68);
	vm->mem[LM_TSS_ADDR + 0x66] = 0x68;
}

void vm_load_image(struct vm *vm, const char *path)
{
	struct image img;

	read_image(path, &img);
	vm->kind = is_elf(&img) ? IMAGE_ELF64 : IMAGE_REALMODE;
	vm->mem_size = opts.mem_size;
	if (!vm->mem_size)
		vm->mem_size = vm->kind == IMAGE_ELF64 ? DEFAULT_MEM_ELF : DEFAULT_MEM_REALMODE;
	if (vm->kind == IMAGE_ELF64 &&
	    vm->mem_size < LM_RESERVED_END + opts.nr_vcpus * LM_STACK_PER_VCPU)
		die("--mem too small for %d vCPU stacks", opts.nr_vcpus);

	vm_setup_memory(vm);
	if (vm->kind == IMAGE_ELF64) {
		load_elf64(vm, &img, path);
		build_page_tables(vm);
		build_gdt(vm);
	} else {
		load_realmode(vm, &img);
	}
	trace("%s image %s, %llu KiB of memory, entry 0x%llx",
	      vm->kind == IMAGE_ELF64 ? "ELF64" : "real-mode", path,
	      (unsigned long long)(vm->mem_size >> 10), (unsigned long long)vm->entry);
	free(img.data);
}

static void set_seg(struct lv_segment *seg, uint16_t sel, uint64_t base,
		    uint32_t limit, uint8_t type, uint8_t s)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->base = base;
	seg->limit = limit;
	seg->type = type;
	seg->s = s;
	seg->present = 1;
}

static void setup_realmode_sregs(struct lv_sregs *sregs)
{
	set_seg(&sregs->cs, 0, 0, 0xffff, 0xb, 1);
	set_seg(&sregs->ds, 0, 0, 0xffff, 0x3, 1);
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;
	set_seg(&sregs->tr, 0, 0, 0xffff, 0xb, 0);
	set_seg(&sregs->ldt, 0, 0, 0xffff, 0x2, 0);
	sregs->gdt = (struct lv_dtable){ .base = 0, .limit = 0xffff };
	sregs->idt = (struct lv_dtable){ .base = 0, .limit = 0x3ff };
	sregs->cr0 = CR0_ET;
	sregs->cr2 = 0;
	sregs->cr3 = 0;
	sregs->cr4 = 0;
	sregs->cr8 = 0;
	sregs->efer = 0;
}

static void setup_longmode_sregs(struct lv_sregs *sregs)
{
	set_seg(&sregs->cs, GDT_SEL_CODE64, 0, 0xffffffff, 0xb, 1);
	sregs->cs.l = 1;
	sregs->cs.g = 1;
	set_seg(&sregs->ds, GDT_SEL_DATA, 0, 0xffffffff, 0x3, 1);
	sregs->ds.db = 1;
	sregs->ds.g = 1;
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;
	set_seg(&sregs->tr, GDT_SEL_TSS, LM_TSS_ADDR, 0x67, 0xb, 0);
	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.unusable = 1;
	sregs->gdt = (struct lv_dtable){ .base = LM_GDT_ADDR, .limit = 0x27 };
	sregs->idt = (struct lv_dtable){ .base = 0, .limit = 0 };
	sregs->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs->cr2 = 0;
	sregs->cr3 = LM_PML4_ADDR;
	sregs->cr4 = CR4_PAE;
	sregs->cr8 = 0;
	sregs->efer = EFER_LME | EFER_LMA;
}

static void vcpu_init_state(struct vm *vm, struct vcpu *vcpu)
{
	struct lv_sregs sregs;
	struct lv_regs regs;

	/* Start from the module's reset state so fields lvrun ignores keep it. */
	if (ioctl(vcpu->fd, LV_GET_SREGS, &sregs) < 0)
		die_ioctl("LV_GET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = vm->entry;

	if (vm->kind == IMAGE_ELF64) {
		setup_longmode_sregs(&sregs);
		regs.rdi = vcpu->id;
		regs.rsp = vm->mem_size - vcpu->id * LM_STACK_PER_VCPU;
	} else {
		setup_realmode_sregs(&sregs);
		regs.rsp = REALMODE_LOAD_ADDR;
		regs.rdx = 0x80;	/* boot drive, as a BIOS would pass */
	}

	if (ioctl(vcpu->fd, LV_SET_SREGS, &sregs) < 0)
		die_ioctl("LV_SET_SREGS");
	if (ioctl(vcpu->fd, LV_SET_REGS, &regs) < 0)
		die_ioctl("LV_SET_REGS");
}

void vm_create_vcpus(struct vm *vm)
{
	int i;

	vm->nr_vcpus = opts.nr_vcpus;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		void *run;

		vcpu->id = i;
		vcpu->pending_irq = -1;
		pthread_mutex_init(&vcpu->lock, NULL);
		/* Real-mode images are single-threaded boot sectors. */
		vcpu->parked = vm->kind == IMAGE_REALMODE && i > 0;

		vcpu->fd = ioctl(vm->vm_fd, LV_CREATE_VCPU, i);
		if (vcpu->fd < 0)
			die_ioctl("LV_CREATE_VCPU");
		run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   vcpu->fd, 0);
		if (run == MAP_FAILED)
			die("mmap of vCPU %d run page failed: %s", i, strerror(errno));
		vcpu->run = run;
		vcpu_init_state(vm, vcpu);
	}
}
