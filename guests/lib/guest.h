/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Freestanding library for lightvisor 64-bit test guests.
 *
 * The guests are started by lvrun in long mode (see lvrun --help): flat
 * 64-bit code segment 0x08, identity-mapped low 4 GiB, RDI = vCPU index,
 * interrupts off and no IDT until idt_init().
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_BASE		0x3f8
#define DEBUG_EXIT_PORT		0xf4
#define MMIO_TESTDEV		0xfe000000UL

/* Values for guest_exit(); lvrun then exits with (value << 1) | 1. */
#define GUEST_EXIT_PASS		0
#define GUEST_EXIT_FAIL		2
#define GUEST_EXIT_EXCEPTION	3

/* Hypercall ABI, see uapi/linux/lightvisor.h. */
#define LV_HC_NOP		0
#define LV_HC_VERSION		1
#define LV_HC_USER_BASE		0x10000
#define LV_HC_ENOSYS		38

#define X86_CR0_WP		(1UL << 16)
#define X86_CR0_AM		(1UL << 18)
#define X86_CR4_PGE		(1UL << 7)
#define X86_CR4_OSFXSR		(1UL << 9)
#define X86_CR4_OSXMMEXCPT	(1UL << 10)
#define X86_CR4_VMXE		(1UL << 13)
#define X86_CR4_OSXSAVE		(1UL << 18)

#define X86_RFLAGS_IF		(1UL << 9)

#define VEC_UD			6
#define VEC_GP			13
#define VEC_NMI			2

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outsb(uint16_t port, const void *buf, size_t n)
{
	asm volatile("cld; rep outsb" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline void insb(uint16_t port, void *buf, size_t n)
{
	asm volatile("cld; rep insb" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
			 uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
		     : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "memory");
}

static inline uint64_t vmcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
			      uint64_t a3)
{
	uint64_t ret;

	asm volatile("vmcall" : "=a"(ret)
		     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3) : "memory");
	return ret;
}

#define DEFINE_CR_ACCESSORS(n)						\
static inline uint64_t read_cr##n(void)					\
{									\
	uint64_t v;							\
	asm volatile("mov %%cr" #n ", %0" : "=r"(v));			\
	return v;							\
}									\
static inline void write_cr##n(uint64_t v)				\
{									\
	asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");		\
}

DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
DEFINE_CR_ACCESSORS(8)

static inline uint64_t read_rflags(void)
{
	uint64_t f;

	asm volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

static inline void sti_hlt(void)
{
	/* STI's interrupt shadow covers HLT: no wakeup can be lost between. */
	asm volatile("sti; hlt" : : : "memory");
}

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

/* serial.c */
void serial_putc(char c);
void serial_puts(const char *s);

/* printf.c */
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* exit.c */
void guest_exit(unsigned int code) __attribute__((noreturn));
void guest_halt(void) __attribute__((noreturn));

/* tap.c */
void tap_plan(int n);
bool tap_ok(bool cond, const char *name);
bool tap_eq(uint64_t expected, uint64_t got, const char *name);
void tap_skip(const char *name, const char *reason);
int tap_done(void);

/* idt.c */
struct irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_t)(struct irq_frame *f);

void idt_init(void);
void idt_set_handler(unsigned int vector, irq_handler_t fn);

/*
 * Fault recovery: an instruction placed between FAULT_BEGIN and label 1:
 * that faults makes the exception handler resume at 1: and record the
 * vector in fault_vector (-1 if nothing faulted).
 */
extern volatile uint64_t fault_fixup;
extern volatile int fault_vector;

#define FAULT_ASM_BEGIN	"leaq 1f(%%rip), %%r11\n\tmovq %%r11, fault_fixup(%%rip)\n\t"
#define FAULT_ASM_END	"\n1:\n\tmovq $0, fault_fixup(%%rip)"

static inline int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "rdmsr" FAULT_ASM_END
		     : "+a"(lo), "+d"(hi) : "c"(msr) : "r11", "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return fault_vector;
}

static inline int wrmsr_safe(uint32_t msr, uint64_t v)
{
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "wrmsr" FAULT_ASM_END
		     : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "r11", "memory");
	return fault_vector;
}

static inline int write_cr4_safe(uint64_t v)
{
	fault_vector = -1;
	asm volatile(FAULT_ASM_BEGIN "mov %0, %%cr4" FAULT_ASM_END
		     : : "r"(v) : "r11", "memory");
	return fault_vector;
}

#endif /* GUEST_H */
