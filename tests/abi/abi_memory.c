// SPDX-License-Identifier: GPL-2.0
/*
 * ABI tests of guest memory: slot add, move and delete; bad regions; reads
 * outside guest RAM and writes to read-only RAM exit as MMIO; two VMs are
 * isolated; a host page shared by slots of several VMs is unmapped from
 * all of them when the host replaces it; the dirty log reports exactly the
 * pages written; read faults copy nothing; a slot over the APIC base wins
 * over the APIC-access page; guest memory unmapped or replaced under a
 * running guest; VMs of killed processes leave nothing behind (measured
 * with /proc/meminfo counters: the test kernel has no kmemleak).
 *
 * Layout of the guest-physical space (real mode, first MiB): slot 0 is
 * 64 KiB of RAM at 0 holding the code (0x1000) and the stack (0x8000);
 * the other slots are placed by each test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

DECLARE_GUEST(mem_guest_write);
DECLARE_GUEST(mem_guest_read);
DECLARE_GUEST(mem_guest_store32);
DECLARE_GUEST(mem_guest_watch);

#define RAM_SIZE	0x10000ULL
#define PAGE		4096ULL

static int sys_fd;

struct mvm {
	struct test_vm vm;
	struct test_vcpu vcpu;
};

static int set_region(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		      uint64_t size, uint64_t hva)
{
	struct lv_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};

	return ioctl(vm_fd, LV_SET_MEMORY_REGION, &r);
}

static void *map_anon(size_t size, uint8_t fill)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, fill, size);
	return p;
}

/* A VM with 64 KiB of RAM at 0 and one vCPU in real mode. */
static void mvm_create(struct mvm *m)
{
	vm_create(sys_fd, &m->vm);
	m->vm.mem_size = RAM_SIZE;
	m->vm.mem = map_anon(RAM_SIZE, 0);
	if (set_region(m->vm.fd, 0, 0, 0, RAM_SIZE, (uintptr_t)m->vm.mem))
		die("LV_SET_MEMORY_REGION slot 0");
	vcpu_create(sys_fd, &m->vm, 0, &m->vcpu);
	vcpu_setup_realmode(&m->vcpu, GUEST_CODE_GPA);
}

static void mvm_destroy(struct mvm *m)
{
	close(m->vcpu.fd);
	close(m->vm.fd);
	munmap(m->vm.mem, m->vm.mem_size);
}

/* Load @code and start it with the given registers; returns the exit. */
static uint32_t run_code(struct mvm *m, const uint8_t *code, size_t len,
			 uint64_t ax, uint64_t bx, uint64_t cx, uint64_t seg,
			 uint64_t di, uint64_t bp)
{
	struct lv_regs regs = {
		.rax = ax, .rbx = bx, .rcx = cx, .rsi = seg, .rdi = di,
		.rbp = bp, .rsp = 0x8000, .rip = GUEST_CODE_GPA, .rflags = 2,
	};

	vm_load(&m->vm, GUEST_CODE_GPA, code, len);
	if (ioctl(m->vcpu.fd, LV_SET_REGS, &regs))
		die("LV_SET_REGS");
	if (vcpu_run(&m->vcpu))
		return ~0u;
	return m->vcpu.run->exit_reason;
}

#define RUN(m, g, ...) run_code(m, g, GUEST_LEN(g), __VA_ARGS__)

static uint64_t get_rax(struct mvm *m)
{
	struct lv_regs regs;

	if (ioctl(m->vcpu.fd, LV_GET_REGS, &regs))
		die("LV_GET_REGS");
	return regs.rax;
}

/* Guest reads the word at @gpa (< 1 MiB); ~0 if it did not halt. */
static uint64_t guest_read16(struct mvm *m, uint64_t gpa)
{
	if (RUN(m, mem_guest_read, 0, 0, 0, gpa >> 4, gpa & 15, 0) !=
	    LV_EXIT_HLT)
		return ~0ULL;
	return get_rax(m) & 0xffff;
}

/* Expect an MMIO read of 2 bytes at @gpa; answer it with @val. */
static void expect_mmio_read(struct mvm *m, uint64_t gpa, uint16_t val,
			     const char *name)
{
	struct lv_run *run = m->vcpu.run;
	uint32_t r = RUN(m, mem_guest_read, 0, 0, 0, gpa >> 4, gpa & 15, 0);

	if (r != LV_EXIT_MMIO) {
		tap_fail(name, "exit %s, expected MMIO", exit_reason_name(r));
		return;
	}
	if (run->mmio.phys_addr != gpa || run->mmio.is_write ||
	    run->mmio.len != 2) {
		tap_fail(name, "MMIO %s of %u bytes at %#llx",
			 run->mmio.is_write ? "write" : "read", run->mmio.len,
			 (unsigned long long)run->mmio.phys_addr);
		return;
	}
	memcpy(run->mmio.data, &val, 2);
	r = vcpu_run(&m->vcpu) ? ~0u : run->exit_reason;
	if (r != LV_EXIT_HLT) {
		tap_fail(name, "after the MMIO read: exit %s", exit_reason_name(r));
		return;
	}
	tap_eq(val, get_rax(m) & 0xffff, name);
}

static void test_region_checks(void)
{
	struct mvm m;
	uint8_t *mem = map_anon(0x20000, 0);
	uintptr_t hva = (uintptr_t)mem;
	int fd;

	mvm_create(&m);
	fd = m.vm.fd;
	tap_errno(set_region(fd, 1, 0, 0x20000, 0x10000, hva), errno, 0,
		  "add slot 1 at 0x20000");
	tap_errno(set_region(fd, 2, 0, 0x8000, 0x10000, hva + 0x10000), errno,
		  EEXIST, "slot overlapping slot 0: EEXIST");
	tap_errno(set_region(fd, 2, 0, 0x2f000, 0x2000, hva + 0x10000), errno,
		  EEXIST, "slot overlapping the end of slot 1: EEXIST");
	tap_errno(set_region(fd, 2, 0, 0x10000, 0x20000, hva), errno,
		  EEXIST, "slot enclosing slot 1: EEXIST");
	tap_errno(set_region(fd, 2, 0, 0x30001, 0x1000, hva), errno, EINVAL,
		  "misaligned guest address: EINVAL");
	tap_errno(set_region(fd, 2, 0, 0x30000, 0x1001, hva), errno, EINVAL,
		  "misaligned size: EINVAL");
	tap_errno(set_region(fd, 2, 0, 0x30000, 0x1000, hva + 8), errno, EINVAL,
		  "misaligned user address: EINVAL");
	tap_errno(set_region(fd, 2, 0, 0xfffffffffffff000ULL, 0x2000, hva),
		  errno, EINVAL, "guest range wrapping around 2^64: EINVAL");
	tap_errno(set_region(fd, 2, 0, 1ULL << 48, 0x1000, hva), errno, EINVAL,
		  "guest address beyond 2^48: EINVAL");
	tap_errno(set_region(fd, 2, 0, (1ULL << 48) - 0x1000, 0x2000, hva),
		  errno, EINVAL, "guest range crossing 2^48: EINVAL");
	tap_errno(set_region(fd, 2, 0, 0x100000, 1ULL << 62, hva), errno,
		  EINVAL, "absurd size (2^62): EINVAL");
	tap_errno(set_region(fd, 2, 0, 0x30000, 0x2000, 0xfffffffffffff000ULL),
		  errno, EINVAL, "user range wrapping around 2^64: EINVAL");
	tap_errno(set_region(fd, 2, 0, 0x30000, 0x1000, 0xffff888000000000ULL),
		  errno, EINVAL, "kernel address as user memory: EINVAL");
	tap_errno(set_region(fd, 64, 0, 0x30000, 0x1000, hva), errno, EINVAL,
		  "slot 64: EINVAL");
	tap_errno(set_region(fd, 2, 1U << 7, 0x30000, 0x1000, hva), errno,
		  EINVAL, "unknown flag: EINVAL");
	tap_errno(set_region(fd, 1, 0, 0x20000, 0x20000, hva), errno, EINVAL,
		  "resizing an existing slot: EINVAL");

	/* Move: same slot, memory and size, new guest address. */
	memset(mem, 0x11, 0x10000);
	tap_eq(0x1111, guest_read16(&m, 0x20010), "guest reads slot 1 at 0x20000");
	tap_errno(set_region(fd, 1, 0, 0x40000, 0x10000, hva), errno, 0,
		  "move slot 1 to 0x40000");
	expect_mmio_read(&m, 0x20010, 0xa5a5,
			 "old place of the moved slot is MMIO");
	tap_eq(0x1111, guest_read16(&m, 0x40010),
	       "guest reads the moved slot at its new place");
	tap_errno(set_region(fd, 1, 0, 0x40000, 0, hva), errno, 0,
		  "delete slot 1");
	expect_mmio_read(&m, 0x40010, 0x5a5a, "deleted slot reads as MMIO");
	tap_errno(set_region(fd, 1, 0, 0x40000, 0x10000, hva), errno, 0,
		  "add slot 1 again");
	tap_eq(0x1111, guest_read16(&m, 0x40020), "guest reads it again");

	/* Outside all slots: MMIO, with the value userspace gives. */
	expect_mmio_read(&m, 0x10000, 0x1234,
			 "read just past the end of RAM is MMIO");
	expect_mmio_read(&m, 0x9fffe, 0xabcd, "read far beyond RAM is MMIO");
	mvm_destroy(&m);
	munmap(mem, 0x20000);
}

static void test_readonly(void)
{
	struct mvm m;
	struct lv_run *run;
	uint8_t *ro = map_anon(0x4000, 0x77);
	uint32_t r, val = 0xdeadbeef;
	bool same = true;
	int i;

	if (check_cap(sys_fd, LV_CAP_READONLY_MEM) <= 0) {
		tap_skip("read-only memory", "no LV_CAP_READONLY_MEM");
		return;
	}
	mvm_create(&m);
	run = m.vcpu.run;
	tap_errno(set_region(m.vm.fd, 3, LV_MEM_READONLY, 0x60000, 0x4000,
			     (uintptr_t)ro), errno, 0, "add a read-only slot");
	tap_eq(0x7777, guest_read16(&m, 0x60010), "guest reads read-only memory");

	r = RUN(&m, mem_guest_store32, 0, val, 0, 0x6000, 0x1010, 0);
	if (r != LV_EXIT_MMIO) {
		tap_fail("write to read-only memory exits as MMIO", "exit %s",
			 exit_reason_name(r));
	} else {
		tap_result(run->mmio.phys_addr == 0x61010 && run->mmio.is_write &&
			   run->mmio.len == 4 && !memcmp(run->mmio.data, &val, 4),
			   "write to read-only memory exits as an MMIO write of 4 bytes at 0x61010 with the data (got %#llx, %u bytes, write %u)",
			   (unsigned long long)run->mmio.phys_addr, run->mmio.len,
			   run->mmio.is_write);
		r = vcpu_run(&m.vcpu) ? ~0u : run->exit_reason;
		tap_eq(LV_EXIT_HLT, r, "guest continues after the MMIO write");
	}
	for (i = 0; i < 0x4000; i++)
		same &= ro[i] == 0x77;
	tap_result(same, "read-only memory is unchanged");
	tap_eq(0x7777, guest_read16(&m, 0x61010),
	       "guest still reads the old value");
	mvm_destroy(&m);
	munmap(ro, 0x4000);
}

static void test_two_vms(void)
{
	struct mvm a, b;
	uint8_t *ma = map_anon(0x10000, 0xaa), *mb = map_anon(0x10000, 0xbb);

	mvm_create(&a);
	mvm_create(&b);
	if (set_region(a.vm.fd, 1, 0, 0x20000, 0x10000, (uintptr_t)ma) ||
	    set_region(b.vm.fd, 1, 0, 0x20000, 0x10000, (uintptr_t)mb))
		die("slot 1");
	tap_eq(0xaaaa, guest_read16(&a, 0x20000), "VM A reads its own memory");
	tap_eq(0xbbbb, guest_read16(&b, 0x20000), "VM B reads its own memory");
	tap_eq(LV_EXIT_HLT, RUN(&a, mem_guest_write, 0xcc, 0, 16, 0x2000, 0, 0x100),
	       "VM A writes all 16 pages of its slot");
	tap_eq(0xbbbb, guest_read16(&b, 0x20000), "VM B does not see A's writes");
	tap_result(ma[0] == 0xcc && mb[0] == 0xbb && ma[0xf000] == 0xcc &&
		   mb[0xf000] == 0xbb, "each VM's writes land in its own memory");
	/* Where B has no memory, it gets MMIO, not A's memory. */
	if (set_region(a.vm.fd, 2, 0, 0x50000, 0x10000, (uintptr_t)ma))
		die("slot 2");
	tap_eq(0xaacc, guest_read16(&a, 0x50000),
	       "VM A maps a second slot (same memory as its first)");
	expect_mmio_read(&b, 0x50000, 0x4242,
			 "VM B reads MMIO where only A has memory");
	mvm_destroy(&a);
	mvm_destroy(&b);
	munmap(ma, 0x10000);
	munmap(mb, 0x10000);
}

/* Replace the first page at @hva by a new one filled with @fill. */
static void replace_page(uint8_t *hva, uint8_t fill)
{
	if (mmap(hva, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap MAP_FIXED");
	memset(hva, fill, PAGE);
}

/*
 * One host page behind three guest mappings (two slots of VM A, one of
 * VM B, all in this process): when the host replaces the page, every
 * mapping must go, whichever VM and slot it belongs to, and a slot that
 * moved or went away must be tracked by its new place or not at all.
 */
static void test_shared_invalidation(void)
{
	uint8_t *mem = map_anon(0x2000, 0x11);
	struct mvm a, b;

	mvm_create(&a);
	mvm_create(&b);
	if (set_region(a.vm.fd, 1, 0, 0x20000, 0x2000, (uintptr_t)mem) ||
	    set_region(a.vm.fd, 2, 0, 0x50000, 0x2000, (uintptr_t)mem) ||
	    set_region(b.vm.fd, 1, 0, 0x30000, 0x2000, (uintptr_t)mem))
		die("slots");
	tap_result(guest_read16(&a, 0x20000) == 0x1111 &&
		   guest_read16(&a, 0x50000) == 0x1111 &&
		   guest_read16(&b, 0x30000) == 0x1111,
		   "one host page mapped by two slots of A and one of B");

	replace_page(mem, 0x22);
	tap_eq(0x2222, guest_read16(&a, 0x20000),
	       "page replaced: A's first slot sees the new page");
	tap_eq(0x2222, guest_read16(&a, 0x50000),
	       "page replaced: A's second slot sees the new page");
	tap_eq(0x2222, guest_read16(&b, 0x30000),
	       "page replaced: B's slot sees the new page");

	if (set_region(a.vm.fd, 2, 0, 0x70000, 0x2000, (uintptr_t)mem))
		die("move slot 2");
	tap_eq(0x2222, guest_read16(&a, 0x70000), "A's second slot moved");
	replace_page(mem, 0x33);
	tap_eq(0x3333, guest_read16(&a, 0x70000),
	       "page replaced again: the moved slot sees the new page");
	expect_mmio_read(&a, 0x50000, 0x4343,
			 "the moved slot's old place is MMIO");

	if (set_region(b.vm.fd, 1, 0, 0x30000, 0, (uintptr_t)mem))
		die("delete B's slot");
	replace_page(mem, 0x44);
	tap_eq(0x4444, guest_read16(&a, 0x20000),
	       "B's slot deleted, page replaced: A still sees the new page");
	expect_mmio_read(&b, 0x30000, 0x4545, "B's deleted slot is MMIO");

	mvm_destroy(&b);
	replace_page(mem, 0x55);
	tap_eq(0x5555, guest_read16(&a, 0x70000),
	       "B destroyed, page replaced: A still sees the new page");
	mvm_destroy(&a);
	munmap(mem, 0x2000);
}

static bool get_log(int vm_fd, uint32_t slot, uint64_t *bitmap)
{
	struct lv_dirty_log log = { .slot = slot };

	*bitmap = 0;
	log.bitmap = (uintptr_t)bitmap;
	return ioctl(vm_fd, LV_GET_DIRTY_LOG, &log) == 0;
}

static void check_log(struct mvm *m, uint64_t want, const char *name)
{
	uint64_t got;

	if (!get_log(m->vm.fd, 4, &got)) {
		tap_fail(name, "LV_GET_DIRTY_LOG: %s", strerror(errno));
		return;
	}
	tap_eq(want, got, name);
}

static void test_dirty_log(void)
{
	struct mvm m;
	uint8_t *mem = map_anon(0x10000, 0);
	uint64_t bitmap;
	int fd;

	if (check_cap(sys_fd, LV_CAP_DIRTY_LOG) <= 0) {
		tap_skip("dirty log", "no LV_CAP_DIRTY_LOG");
		return;
	}
	mvm_create(&m);
	fd = m.vm.fd;
	tap_errno(get_log(fd, 0, &bitmap) ? 0 : -1, errno, ENOENT,
		  "dirty log of a slot without logging: ENOENT");
	tap_errno(set_region(fd, 4, LV_MEM_LOG_DIRTY_PAGES, 0x80000, 0x10000,
			     (uintptr_t)mem), errno, 0,
		  "add a 16-page slot with dirty logging");
	check_log(&m, 0, "nothing dirty at first");

	/* Pages 1, 4, 7, 10, 13 written; page 15 only read. */
	RUN(&m, mem_guest_write, 0x31, 0, 5, 0x8100, 0x10, 0x300);
	tap_eq(0, guest_read16(&m, 0x8f000), "page 15 read");
	check_log(&m, 0x2492, "exactly pages 1, 4, 7, 10, 13 are dirty");
	check_log(&m, 0, "second get: nothing dirty");

	/* Again, now that the pages were mapped once: 4 and 0, then 4 twice. */
	RUN(&m, mem_guest_write, 0x32, 0, 1, 0x8400, 0x20, 0x100);
	RUN(&m, mem_guest_write, 0x33, 0, 1, 0x8000, 0x20, 0x100);
	RUN(&m, mem_guest_write, 0x34, 0, 2, 0x8400, 0x30, 0);
	tap_eq(0, guest_read16(&m, 0x81000) & 0xff00, "page 1 read again");
	check_log(&m, 0x0011, "exactly pages 0 and 4 are dirty");
	check_log(&m, 0, "second get: nothing dirty");
	tap_result(mem[0x1010] == 0x31 && mem[0x4020] == 0x32 &&
		   mem[0x20] == 0x33 && mem[0x4030] == 0x34,
		   "the writes reached memory");

	/* Logging switched off and on again by updating the flags. */
	tap_errno(set_region(fd, 4, 0, 0x80000, 0x10000, (uintptr_t)mem),
		  errno, 0, "dirty logging off");
	RUN(&m, mem_guest_write, 0x35, 0, 16, 0x8000, 0x40, 0x100);
	tap_errno(set_region(fd, 4, LV_MEM_LOG_DIRTY_PAGES, 0x80000, 0x10000,
			     (uintptr_t)mem), errno, 0, "dirty logging on again");
	RUN(&m, mem_guest_write, 0x36, 0, 1, 0x8f00, 0x40, 0x100);
	check_log(&m, 0x8000, "after re-enabling, only page 15 is dirty");
	mvm_destroy(&m);
	munmap(mem, 0x10000);
}

/*
 * Kilobytes of anonymous (copied or allocated) memory in the mapping that
 * holds @addr. It may have merged with a neighbour (the VM's own RAM,
 * say): compare it before and after.
 */
static long anon_kb(const void *addr)
{
	unsigned long start, end;
	char line[256];
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		die("/proc/self/smaps");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= (uintptr_t)addr && (uintptr_t)addr < end;
		else if (in && sscanf(line, "Anonymous: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* Every one of 16 pages from @gpa reads as @want in its word at 8. */
static bool guest_reads_pages(struct mvm *m, uint64_t gpa, uint16_t want)
{
	bool ok = true;
	int i;

	for (i = 0; i < 16; i++)
		ok &= guest_read16(m, gpa + i * PAGE + 8) == want;
	return ok;
}

/*
 * A read fault takes the host's page as it is: a guest reading pages of a
 * MAP_PRIVATE file, or anonymous memory never written, copies or
 * allocates nothing (a child forked from a snapshot owns only what its
 * guest writes). A write to a page it read makes the copy then, and
 * reaches the mapping; the file keeps its content; and when the host
 * itself writes a page the guest only read, the guest sees the new page.
 */
static void test_copy_on_read(void)
{
	char path[] = "/tmp/abi-memory-XXXXXX";
	static uint8_t buf[16 * PAGE];
	uint8_t *file_mem, *anon, byte = 0;
	long file_kb, anon_kb0;
	struct mvm m;
	int fd;

	fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp");
	unlink(path);
	memset(buf, 0x66, sizeof(buf));
	if (write(fd, buf, sizeof(buf)) != sizeof(buf))
		die("write");
	file_mem = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE, MAP_PRIVATE,
			fd, 0);
	anon = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (file_mem == MAP_FAILED || anon == MAP_FAILED)
		die("mmap");
	mvm_create(&m);
	if (set_region(m.vm.fd, 1, 0, 0x20000, sizeof(buf), (uintptr_t)file_mem) ||
	    set_region(m.vm.fd, 2, 0, 0x40000, sizeof(buf), (uintptr_t)anon))
		die("slots");
	file_kb = anon_kb(file_mem);
	anon_kb0 = anon_kb(anon);

	tap_result(guest_reads_pages(&m, 0x20000, 0x6666),
		   "copy on read: the guest reads 16 pages of a MAP_PRIVATE file");
	tap_eq(file_kb, anon_kb(file_mem), "copy on read: none of them copied (KiB)");
	tap_result(guest_reads_pages(&m, 0x40000, 0),
		   "copy on read: the guest reads 16 untouched anonymous pages as zeros");
	tap_eq(anon_kb0, anon_kb(anon), "copy on read: none of them allocated (KiB)");

	RUN(&m, mem_guest_write, 0x77, 0, 1, (0x20000 + 3 * PAGE) >> 4, 0x10, 0);
	RUN(&m, mem_guest_write, 0x78, 0, 1, (0x40000 + 5 * PAGE) >> 4, 0x10, 0);
	tap_result(file_mem[3 * PAGE + 0x10] == 0x77 &&
		   anon[5 * PAGE + 0x10] == 0x78,
		   "copy on read: writes to pages the guest had read reach the mapping");
	tap_eq(0x6677, guest_read16(&m, 0x20000 + 3 * PAGE + 0x10),
	       "copy on read: the guest reads its write to the file's page back");
	tap_eq(file_kb + 4, anon_kb(file_mem),
	       "copy on read: the written file page copied (KiB)");
	tap_eq(anon_kb0 + 4, anon_kb(anon),
	       "copy on read: the written anonymous page allocated (KiB)");
	if (pread(fd, &byte, 1, 3 * PAGE + 0x10) != 1)
		die("pread");
	tap_eq(0x66, byte, "copy on read: the file keeps its content");

	/* The host's own copy on write replaces pages the guest has mapped. */
	file_mem[7 * PAGE + 8] = 0x99;
	anon[9 * PAGE + 9] = 0x55;
	tap_eq(0x6699, guest_read16(&m, 0x20000 + 7 * PAGE + 8),
	       "copy on read: the host writes a file page the guest read: the guest sees it");
	tap_eq(0x5500, guest_read16(&m, 0x40000 + 9 * PAGE + 8),
	       "copy on read: the host writes a zero page the guest read: the guest sees it");

	mvm_destroy(&m);
	munmap(file_mem, sizeof(buf));
	munmap(anon, sizeof(buf));
	close(fd);
}

/*
 * A slot added over the APIC base of a VM with an irqchip wins over the
 * APIC-access page that the guest's first access there mapped (where the
 * CPU virtualizes APIC accesses): the guest then reads the slot's memory,
 * not the APIC, and runs code from it. The guest reaches it through DS
 * and CS, based at the APIC base.
 */
static void test_slot_over_apic(void)
{
	/* mov (%di),%eax; hlt: APIC registers are read 32 bits at a time. */
	static const uint8_t read_di[] = { 0x66, 0x8b, 0x05, 0xf4 };
	/* mov $0x12345678,%eax; hlt */
	static const uint8_t mov_eax_hlt[] = { 0x66, 0xb8, 0x78, 0x56, 0x34, 0x12,
					       0xf4 };
	uint8_t *ram = map_anon(PAGE, 0x77);
	struct lv_sregs sregs;
	struct lv_regs regs;
	struct mvm m;
	uint32_t r;

	vm_create(sys_fd, &m.vm);
	if (ioctl(m.vm.fd, LV_CREATE_IRQCHIP, 0) < 0)
		die("LV_CREATE_IRQCHIP");
	m.vm.mem_size = RAM_SIZE;
	m.vm.mem = map_anon(RAM_SIZE, 0);
	if (set_region(m.vm.fd, 0, 0, 0, RAM_SIZE, (uintptr_t)m.vm.mem))
		die("LV_SET_MEMORY_REGION slot 0");
	vcpu_create(sys_fd, &m.vm, 0, &m.vcpu);
	vcpu_setup_realmode(&m.vcpu, GUEST_CODE_GPA);
	if (ioctl(m.vcpu.fd, LV_GET_SREGS, &sregs))
		die("LV_GET_SREGS");
	sregs.ds.base = 0xfee00000;
	if (ioctl(m.vcpu.fd, LV_SET_SREGS, &sregs))
		die("LV_SET_SREGS");

	r = run_code(&m, read_di, sizeof(read_di), 0, 0, 0, 0, 0x30, 0);
	tap_result(r == LV_EXIT_HLT && (get_rax(&m) & 0xff) == 0x14,
		   "irqchip VM: the guest reads the APIC's version at 0xfee00030 (exit %s, %#llx)",
		   exit_reason_name(r), (unsigned long long)get_rax(&m));
	if (set_region(m.vm.fd, 1, 0, 0xfee00000, PAGE, (uintptr_t)ram))
		die("slot at the APIC base");
	r = run_code(&m, read_di, sizeof(read_di), 0, 0, 0, 0, 0x30, 0);
	tap_result(r == LV_EXIT_HLT && (get_rax(&m) & 0xffffffff) == 0x77777777,
		   "a slot added over the APIC base: the guest reads its memory, not the APIC (exit %s, %#llx)",
		   exit_reason_name(r), (unsigned long long)get_rax(&m));

	/* And runs code there: a fetch the APIC-access page would refuse. */
	memcpy(ram + 0x40, mov_eax_hlt, sizeof(mov_eax_hlt));
	sregs.cs.base = 0xfee00000;
	if (ioctl(m.vcpu.fd, LV_SET_SREGS, &sregs))
		die("LV_SET_SREGS");
	regs = (struct lv_regs){ .rip = 0x40, .rsp = 0x8000, .rflags = 2 };
	if (ioctl(m.vcpu.fd, LV_SET_REGS, &regs))
		die("LV_SET_REGS");
	r = vcpu_run(&m.vcpu) ? ~0u : m.vcpu.run->exit_reason;
	tap_result(r == LV_EXIT_HLT && (get_rax(&m) & 0xffffffff) == 0x12345678,
		   "... and runs code from it (exit %s, %#llx)",
		   exit_reason_name(r), (unsigned long long)get_rax(&m));
	mvm_destroy(&m);
	munmap(ram, PAGE);
}

/* --- guest memory changing under a running guest --- */

struct changer {
	pthread_t main;
	uint8_t *hva;
	bool unmap;		/* else replace with fresh memory holding 0x5a */
	volatile bool done;
};

static void on_usr1(int sig)
{
	(void)sig;
}

static void *changer_thread(void *arg)
{
	struct changer *c = arg;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int i;

	nanosleep(&ts, NULL);	/* let the guest spin in its loop */
	if (c->unmap) {
		munmap(c->hva, 0x2000);
	} else {
		uint8_t *p = mmap(c->hva, 0x2000, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		if (p != MAP_FAILED)
			p[0x10] = 0x5a;
	}
	/* Watchdog: the guest must notice within 10 s. */
	for (i = 0; i < 100 && !c->done; i++) {
		ts.tv_nsec = 100 * 1000 * 1000;
		nanosleep(&ts, NULL);
	}
	if (!c->done)
		pthread_kill(c->main, SIGUSR1);
	return NULL;
}

static void test_mapping_changes(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct changer c = { .main = pthread_self() };
	struct lv_run *run;
	pthread_t t;
	struct mvm m;
	uint32_t r;

	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: LV_RUN gets EINTR */
	mvm_create(&m);
	run = m.vcpu.run;
	c.hva = map_anon(0x2000, 0);
	if (set_region(m.vm.fd, 5, 0, 0x30000, 0x2000, (uintptr_t)c.hva))
		die("slot 5");

	/* Replaced: the spinning guest sees the new page. */
	pthread_create(&t, NULL, changer_thread, &c);
	r = RUN(&m, mem_guest_watch, 0, 0, 0, 0x3000, 0x10, 0);
	c.done = true;
	pthread_join(t, NULL);
	tap_result(r == LV_EXIT_IO && run->io.port == 0x10 &&
		   ((uint8_t *)run)[run->io.data_offset] == 0x5a,
		   "memory replaced (mmap MAP_FIXED) under a running guest: it sees the new page (exit %s)",
		   exit_reason_name(r));

	/* Unmapped: the guest's next access ends in an internal error. */
	c.unmap = true;
	c.done = false;
	pthread_create(&t, NULL, changer_thread, &c);
	r = RUN(&m, mem_guest_watch, 0, 0x5a, 0, 0x3000, 0x10, 0);
	c.done = true;
	pthread_join(t, NULL);
	tap_result(r == LV_EXIT_INTERNAL_ERROR &&
		   run->internal.suberror == LV_INTERNAL_ERROR_HOST_FAULT &&
		   run->internal.ndata >= 1 && run->internal.data[0] == 0x30010,
		   "memory unmapped under a running guest: internal error, host fault at 0x30010 (exit %s, suberror %u, data %#llx)",
		   exit_reason_name(r), run->internal.suberror,
		   (unsigned long long)run->internal.data[0]);
	r = RUN(&m, mem_guest_read, 0, 0, 0, 0x3000, 0x10, 0);
	tap_eq(LV_EXIT_INTERNAL_ERROR, r, "reading the unmapped slot again fails the same way");

	/* Memory back: the guest runs on. */
	if (mmap(c.hva, 0x2000, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		die("mmap");
	c.hva[0x10] = 0x42;
	tap_eq(0x42, guest_read16(&m, 0x30010), "with memory mapped again, the guest reads it");
	mvm_destroy(&m);
	munmap(c.hva, 0x2000);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR1, &sa, NULL);
}

/* --- VMs of killed processes --- */

/* Fork a process that runs a spinning guest; SIGKILL it while it runs. */
static bool kill_one_vm(void)
{
	int p[2], status;
	pid_t pid;
	char c;

	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		struct mvm m;
		uint8_t *extra = map_anon(0x40000, 1);

		close(p[0]);
		mvm_create(&m);
		if (set_region(m.vm.fd, 1, 0, 0x40000, 0x40000, (uintptr_t)extra))
			_exit(2);
		/* Fault in some pages, then spin. */
		RUN(&m, mem_guest_write, 7, 0, 64, 0x4000, 0, 0x100);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		RUN(&m, guest_loop, 0, 0, 0, 0, 0, 0);
		_exit(4);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		waitpid(pid, &status, 0);
		return false;
	}
	close(p[0]);
	usleep(20000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static void settle(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	/* Freed VMs may wait for RCU; slab caches are shrunk on drop. */
	sleep(1);
	if (fd >= 0) {
		if (write(fd, "3\n", 2) != 2)
			tap_diag("drop_caches: %s", strerror(errno));
		close(fd);
	}
	sleep(1);
}

#define KILL_ROUNDS	48

static void test_killed_processes(void)
{
	long free0, slab0, free1, slab1, free2, slab2;
	int i, killed = 0;

	for (i = 0; i < 8; i++)		/* warm up caches */
		killed += kill_one_vm();
	settle();
	free0 = free_kb();
	slab0 = meminfo_kb("SUnreclaim");
	for (i = 0; i < KILL_ROUNDS; i++)
		killed += kill_one_vm();
	settle();
	free1 = free_kb();
	slab1 = meminfo_kb("SUnreclaim");
	for (i = 0; i < KILL_ROUNDS; i++)
		killed += kill_one_vm();
	settle();
	free2 = free_kb();
	slab2 = meminfo_kb("SUnreclaim");

	tap_eq(8 + 2 * KILL_ROUNDS, killed,
	       "every process was killed while its guest ran");
	tap_diag("free (MemFree and per-CPU lists) %ld -> %ld -> %ld kB, SUnreclaim %ld -> %ld -> %ld kB over 2 x %d killed VMs",
		 free0, free1, free2, slab0, slab1, slab2, KILL_ROUNDS);
	/*
	 * A leak of one page per VM would cost 4 kB per round: 192 kB per
	 * batch. Allow well under that for noise, and require the second
	 * batch not to lose more than the first plus noise.
	 */
	tap_result(free0 - free2 < 2 * KILL_ROUNDS * 4 / 2,
		   "free memory after %d killed VMs: %ld kB lost (< %d)",
		   2 * KILL_ROUNDS, free0 - free2, 2 * KILL_ROUNDS * 4 / 2);
	tap_result(slab2 - slab0 < 2 * KILL_ROUNDS / 2,
		   "unreclaimable slab after %d killed VMs: %ld kB more (< %d)",
		   2 * KILL_ROUNDS, slab2 - slab0, 2 * KILL_ROUNDS / 2);
}

int main(void)
{
	sys_fd = open_sys();
	require_run_guests(sys_fd);

	test_region_checks();
	test_readonly();
	test_two_vms();
	test_shared_invalidation();
	test_dirty_log();
	test_copy_on_read();
	test_slot_over_apic();
	test_mapping_changes();
	test_killed_processes();
	return tap_finish();
}
