// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_util.h"

static int tap_n;
static int tap_failed;

static void vtap(bool ok, const char *fmt, va_list ap, const char *why)
{
	flockfile(stdout);
	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	vprintf(fmt, ap);
	if (why)
		printf(" # %s", why);
	putchar('\n');
	fflush(stdout);
	funlockfile(stdout);
	if (!ok)
		tap_failed++;
}

bool tap_result(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtap(ok, fmt, ap, NULL);
	va_end(ap);
	return ok;
}

void tap_fail(const char *name, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tap_n++;
	tap_failed++;
	printf("not ok %d - %s # %s\n", tap_n, name, why);
	fflush(stdout);
}

void tap_skip(const char *name, const char *reason)
{
	printf("ok %d - %s # SKIP %s\n", ++tap_n, name, reason);
	fflush(stdout);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *errno_name(int err)
{
	static char buf[32];

	switch (err) {
	case 0: return "success";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case ENOTTY: return "ENOTTY";
	case ENODEV: return "ENODEV";
	case EBUSY: return "EBUSY";
	case EINTR: return "EINTR";
	case ENOENT: return "ENOENT";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

bool __tap_errno(long ret, int err, int expected, const char *name)
{
	int got = ret < 0 ? err : 0;

	if (got == expected && (expected == 0 || ret == -1)) {
		tap_result(true, "%s", name);
		return true;
	}
	tap_fail(name, "expected %s got %s (ret %ld)", errno_name(expected),
		 errno_name(got), ret);
	return false;
}

bool tap_eq(uint64_t expected, uint64_t got, const char *name)
{
	if (expected == got) {
		tap_result(true, "%s", name);
		return true;
	}
	tap_fail(name, "expected 0x%llx got 0x%llx", (unsigned long long)expected,
		 (unsigned long long)got);
	return false;
}

int tap_finish(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	exit(tap_failed ? 1 : 0);
}

void skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	exit(KSFT_SKIP);
}

void die(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": %s\n", strerror(errno));
	fflush(stdout);
	exit(1);
}

int open_sys(void)
{
	int fd = open("/dev/lightvisor", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		skip_all("/dev/lightvisor not available");
	return fd;
}

int check_cap(int sys_fd, int cap)
{
	return ioctl(sys_fd, LV_CHECK_CAP, cap);
}

void require_run_guests(int sys_fd)
{
	if (check_cap(sys_fd, LV_CAP_RUN_GUESTS) <= 0)
		skip_all("no VMX (LV_CAP_RUN_GUESTS is 0)");
}

void vm_create(int sys_fd, struct test_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->fd = ioctl(sys_fd, LV_CREATE_VM, 0);
	if (vm->fd < 0)
		die("LV_CREATE_VM");
}

void vm_add_ram(struct test_vm *vm)
{
	struct lv_memory_region r;

	vm->mem_size = GUEST_MEM_SIZE;
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap guest memory");
	r = (struct lv_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, LV_SET_MEMORY_REGION, &r) < 0)
		die("LV_SET_MEMORY_REGION");
}

void vm_load(struct test_vm *vm, uint64_t gpa, const void *code, size_t len)
{
	memcpy(vm->mem + gpa, code, len);
}

void vcpu_create(int sys_fd, struct test_vm *vm, int id, struct test_vcpu *vcpu)
{
	int size = ioctl(sys_fd, LV_GET_VCPU_MMAP_SIZE, 0);
	void *run;

	if (size < (int)sizeof(struct lv_run))
		die("LV_GET_VCPU_MMAP_SIZE returned %d", size);
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, LV_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		die("LV_CREATE_VCPU");
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED)
		die("mmap of the run page");
	vcpu->run = run;
}

static void seg(struct lv_segment *s, uint8_t type, uint8_t is_code_data)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffff;
	s->type = type;
	s->s = is_code_data;
	s->present = 1;
}

void vcpu_setup_realmode(struct test_vcpu *vcpu, uint64_t rip)
{
	struct lv_sregs sregs;
	struct lv_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rflags = 2;
	regs.rsp = 0x8000;
	/*
	 * RIP first: real mode refuses a RIP above 4 GiB the vCPU may have
	 * now. This may itself be refused (leaving virtual-8086 mode needs
	 * the new segments first); then it is only done after them.
	 */
	ioctl(vcpu->fd, LV_SET_REGS, &regs);
	if (ioctl(vcpu->fd, LV_GET_SREGS, &sregs) < 0)
		die("LV_GET_SREGS");
	seg(&sregs.cs, 0xb, 1);
	seg(&sregs.ds, 0x3, 1);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	seg(&sregs.tr, 0xb, 0);
	seg(&sregs.ldt, 0x2, 0);
	sregs.gdt = (struct lv_dtable){ .base = 0, .limit = 0xffff };
	sregs.idt = (struct lv_dtable){ .base = 0, .limit = 0x3ff };
	sregs.cr0 = 0x10;
	sregs.cr2 = sregs.cr3 = sregs.cr4 = sregs.cr8 = 0;
	sregs.efer = 0;
	if (ioctl(vcpu->fd, LV_SET_SREGS, &sregs) < 0)
		die("LV_SET_SREGS");
	if (ioctl(vcpu->fd, LV_SET_REGS, &regs) < 0)
		die("LV_SET_REGS");
}

int vcpu_run(struct test_vcpu *vcpu)
{
	return ioctl(vcpu->fd, LV_RUN, 0);
}

bool vcpu_state_same(const struct lv_vcpu_state *earlier,
		     const struct lv_vcpu_state *later)
{
	struct lv_vcpu_state a = *earlier;

	if (later->tsc < earlier->tsc)
		return false;
	a.tsc = later->tsc;
	return !memcmp(&a, later, sizeof(a));
}

const char *exit_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		"UNKNOWN", "IO", "MMIO", "HLT", "SHUTDOWN", "FAIL_ENTRY",
		"INTERNAL_ERROR", "INTR", "HYPERCALL", "IRQ_WINDOW_OPEN",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}

void *alloc_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	return p;
}

int sysfs_read_hex(const char *dir, const char *file, unsigned long *val)
{
	char path[512], buf[32];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	*val = strtoul(buf, NULL, 16);
	return 0;
}

bool pci_ids_are(const char *dir, unsigned long vendor, unsigned long device)
{
	unsigned long v, d;

	return !sysfs_read_hex(dir, "vendor", &v) &&
	       !sysfs_read_hex(dir, "device", &d) && v == vendor && d == device;
}

int find_pci_device(bool (*match)(const char *dir, void *arg), void *arg,
		    char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while (found && (e = readdir(d))) {
		char dir[300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", e->d_name);
		if (!match(dir, arg))
			continue;
		snprintf(bdf, len, "%s", e->d_name);
		found = 0;
	}
	closedir(d);
	return found;
}

volatile uint8_t *map_pci_bar(const char *bdf, unsigned int bar,
			      size_t *size)
{
	char path[400];
	void *p;
	off_t len;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u",
		 bdf, bar);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0)
		die("%s: empty", path);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap %s: %s", path, strerror(errno));
	close(fd);
	if (size)
		*size = len;
	return p;
}

long read_stat(const char *path, const char *key)
{
	char line[128];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && (line[n] == ':' || line[n] == ' '))
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

long meminfo_kb(const char *key)
{
	return read_stat("/proc/meminfo", key);
}

bool kernel_has_kasan_quarantine(void)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " kasan_quarantine_put\n") != NULL;
	fclose(f);
	return found;
}

long free_kb(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	long free = meminfo_kb("MemFree"), pages = 0, n;
	char line[256];

	if (!f || free < 0) {
		if (f)
			fclose(f);
		return -1;
	}
	/* Each CPU's free-page list of each zone: "count: N" under pagesets. */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			pages += n;
	fclose(f);
	return free + pages * (sysconf(_SC_PAGESIZE) / 1024);
}
