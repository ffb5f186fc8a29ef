/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the lightvisor ABI tests: TAP output and VM/vCPU setup.
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/lightvisor.h>

/* kselftest convention: the whole program was skipped. */
#define KSFT_SKIP	4

/* Where the tests put guest code; real mode, CS base 0. */
#define GUEST_CODE_GPA	0x1000
#define GUEST_MEM_SIZE	0x100000

struct test_vm {
	int fd;
	uint8_t *mem;
	size_t mem_size;
};

struct test_vcpu {
	int fd;
	int id;
	struct lv_run *run;
};

/* TAP; the plan is printed at the end by tap_finish(). */
/* Returns @ok, so a failure can be followed by diagnostics. */
bool tap_result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *name, const char *reason);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ret must be -1 with errno == expected; expected 0 means ret >= 0. */
bool __tap_errno(long ret, int err, int expected, const char *name);
/*
 * The call is evaluated before the errno argument: as plain function
 * arguments their order would be unspecified and errno could be stale.
 */
#define tap_errno(call, err, expected, name) ({			\
	long __ret = (call);						\
	int __err = (err);						\
	__tap_errno(__ret, __err, expected, name);			\
})
bool tap_eq(uint64_t expected, uint64_t got, const char *name);
int tap_finish(void) __attribute__((noreturn));
void skip_all(const char *reason) __attribute__((noreturn));

/* Opens /dev/lightvisor or skips the whole program. */
int open_sys(void);
int check_cap(int sys_fd, int cap);
/* Skips the whole program when guests cannot run. */
void require_run_guests(int sys_fd);

void vm_create(int sys_fd, struct test_vm *vm);
/* Guest RAM: slot 0, GUEST_MEM_SIZE bytes at guest-physical 0. */
void vm_add_ram(struct test_vm *vm);
void vm_load(struct test_vm *vm, uint64_t gpa, const void *code, size_t len);
void vcpu_create(int sys_fd, struct test_vm *vm, int id, struct test_vcpu *vcpu);
/* Real mode, CS:IP 0000:rip, RFLAGS 2 (interrupts off). */
void vcpu_setup_realmode(struct test_vcpu *vcpu, uint64_t rip);
/* LV_RUN; returns the ioctl result, errno preserved. */
int vcpu_run(struct test_vcpu *vcpu);
/*
 * Two vCPU states, @later read after @earlier, are the same: equal but
 * for the TSC, which runs on and must not go back.
 */
bool vcpu_state_same(const struct lv_vcpu_state *earlier,
		     const struct lv_vcpu_state *later);
const char *exit_reason_name(uint32_t reason);

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Anonymous private memory for a guest, or die. */
void *alloc_anon(size_t size);
/* A hex number from a sysfs file such as .../vendor; 0 or -1. */
int sysfs_read_hex(const char *dir, const char *file, unsigned long *val);
/* Does the PCI device at sysfs @dir have these IDs? */
bool pci_ids_are(const char *dir, unsigned long vendor, unsigned long device);
/*
 * The first device under /sys/bus/pci/devices whose directory @match
 * accepts: its name ("0000:00:04.0") in @bdf. Returns 0, or -1 if none.
 */
int find_pci_device(bool (*match)(const char *dir, void *arg), void *arg,
		    char *bdf, size_t len);
/* A PCI BAR of device BDF ("0000:00:02.0") mapped shared, or die. */
volatile uint8_t *map_pci_bar(const char *bdf, unsigned int bar,
			      size_t *size);
/* The number after "KEY:" or "KEY " in a /proc- or debugfs-style file; -1. */
long read_stat(const char *path, const char *key);
/* A /proc/meminfo field in KiB, -1 if absent. */
long meminfo_kb(const char *key);
/*
 * Free memory in KiB: MemFree and the pages free on the per-CPU lists,
 * which MemFree leaves out and which come and go by hundreds of KiB.
 */
long free_kb(void);
/*
 * Generic KASAN: freed slab objects wait in its quarantine, still counted
 * as slab, so a growth of SUnreclaim says nothing about leaks there.
 */
bool kernel_has_kasan_quarantine(void);

/* Guest code from guest_code.S (16-bit, position as noted there). */
#define DECLARE_GUEST(name)				\
	extern const uint8_t name[], name##_end[]
#define GUEST_LEN(name)	((size_t)(name##_end - name))

DECLARE_GUEST(guest_io_hlt);
DECLARE_GUEST(guest_loop);
DECLARE_GUEST(guest_rdmsr);
DECLARE_GUEST(guest_count);
DECLARE_GUEST(guest_irq);
DECLARE_GUEST(guest_cr0_cd);
DECLARE_GUEST(guest_cr0_read);
DECLARE_GUEST(guest_pkru);
DECLARE_GUEST(guest_dr);
DECLARE_GUEST(guest_sse);
DECLARE_GUEST(guest_sse_hold);
DECLARE_GUEST(guest_dr_tsc);

/* guest_irq layout, offsets from its load address GUEST_CODE_GPA. */
#define GUEST_IRQ_HANDLER40	0x100
#define GUEST_IRQ_HANDLER41	0x110
#define GUEST_IRQ_PORT		0x30
#define GUEST_COUNT_PORT	0x20

#endif /* TEST_UTIL_H */
