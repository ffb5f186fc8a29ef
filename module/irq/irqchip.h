/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PC's interrupt routing and timers, in the kernel: I/O APIC, the two
 * 8259 PICs and the 8254 PIT, one set per VM that asked for them.
 */
#ifndef LV_IRQ_IRQCHIP_H
#define LV_IRQ_IRQCHIP_H

#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/lightvisor.h>

struct lv_vm;
struct lv_vcpu;
struct lv_apic_irq;

#define LV_IOAPIC_BASE		0xfec00000ULL
#define LV_IOAPIC_SIZE		0x20
#define LV_IOAPIC_VERSION	0x11
#define LV_PIT_HZ		1193182

/* One 8259A; the fields are those of struct lv_pic_state. */
struct lv_pic {
	u8 irr, imr, isr, priority_add, irq_base;
	bool read_isr, poll, special_mask;
	u8 init_state;
	bool auto_eoi, rotate_on_auto_eoi, special_fully_nested, init4, single;
	u8 elcr, elcr_mask, last_irr;
};

struct lv_ioapic {
	u32 id;
	u32 ioregsel;
	u32 line_levels;
	u64 redir[LV_NR_IRQ_LINES];
};

/* One 8254 counter; see struct lv_pit_channel_state. */
struct lv_pit_channel {
	u32 count;
	u16 latched_count;
	u8 count_latched;
	bool status_latched;
	u8 status, read_state, write_state, write_latch, rw_mode, mode;
	bool bcd, gate;
	ktime_t load_time;
};

/**
 * struct lv_pit - the 8254 and port 0x61
 * @lock: the channels (a mutex would do but the timer is hard-irq)
 * @ch: the three counters
 * @speaker: port 0x61 bits 1:0
 * @timer: channel 0's interrupt
 * @irqs: channel 0 interrupts since it was loaded (next expiry)
 * @vm: owner
 */
struct lv_pit {
	spinlock_t lock;
	struct lv_pit_channel ch[3];
	u8 speaker;
	struct hrtimer timer;
	u64 irqs;
	struct lv_vm *vm;
};

/**
 * struct lv_irqchip - a VM's interrupt controllers
 * @lock: PICs and I/O APIC (taken before any local APIC's lock)
 * @pic: master and slave
 * @ioapic: the I/O APIC
 * @pit: the PIT (its own lock; raises lines without holding it)
 * @irqfds_lock: @irqfds
 * @irqfds: eventfds that raise lines
 * @vm: owner
 * @apic_access_page: what the guest-physical page of the default APIC
 *	base maps to when the backend virtualizes APIC accesses
 *	(lv_caps.apic_access), else NULL; its contents are never used
 * @apic_access_off: an APIC moved away from the default base: the page
 *	is unmapped and stays so (each APIC's accesses are emulated)
 */
struct lv_irqchip {
	spinlock_t lock;
	struct lv_pic pic[2];
	struct lv_ioapic ioapic;
	struct lv_pit pit;
	spinlock_t irqfds_lock;
	struct list_head irqfds;
	struct lv_vm *vm;
	struct page *apic_access_page;
	bool apic_access_off;
};

/* pic.c: pure 8259 logic, caller holds the irqchip lock. */
void lv_pic_reset(struct lv_pic *pic, bool master);
void lv_pic_set_input(struct lv_pic *pic, int irq, bool level);
int lv_pic_get_irq(const struct lv_pic *pic, bool master);
bool lv_pics_output(struct lv_pic pics[2]);
int lv_pics_ack(struct lv_pic pics[2]);
void lv_pic_write(struct lv_pic pics[2], int chip, int addr, u8 val);
u8 lv_pic_read(struct lv_pic pics[2], int chip, int addr);
void lv_pics_set_irq(struct lv_pic pics[2], int irq, bool level);

/* ioapic.c: caller holds the irqchip lock. */
void lv_ioapic_reset(struct lv_ioapic *ioapic);
void lv_ioapic_set_irq(struct lv_ioapic *ioapic, struct lv_vm *vm, int pin,
		       bool level);
void lv_ioapic_eoi(struct lv_ioapic *ioapic, struct lv_vm *vm, int vector);
u32 lv_ioapic_read(struct lv_ioapic *ioapic, unsigned int off);
void lv_ioapic_write(struct lv_ioapic *ioapic, struct lv_vm *vm,
		     unsigned int off, u32 val);
void lv_ioapic_entry_to_irq(u64 entry, struct lv_apic_irq *irq);

/* pit.c */
void lv_pit_init(struct lv_pit *pit, struct lv_vm *vm);
void lv_pit_destroy(struct lv_pit *pit);
u8 lv_pit_read(struct lv_pit *pit, u16 port);
void lv_pit_write(struct lv_pit *pit, u16 port, u8 val);
u32 lv_pit_channel_count(const struct lv_pit_channel *c, ktime_t now);
bool lv_pit_channel_out(const struct lv_pit_channel *c, ktime_t now);
void lv_pit_get_state(struct lv_pit *pit, struct lv_irqchip_state *st);
int lv_pit_set_state(struct lv_pit *pit, const struct lv_irqchip_state *st);

/* irqchip.c: the VM's side */
int lv_irqchip_module_init(void);
void lv_irqchip_module_exit(void);
int lv_irqchip_create(struct lv_vm *vm);
void lv_irqchip_destroy(struct lv_vm *vm);
void lv_irqchip_free(struct lv_vm *vm);
int lv_irqchip_set_line(struct lv_vm *vm, u32 line, bool level);
void lv_irqchip_pit_pulse(struct lv_vm *vm);
void lv_irqchip_eoi(struct lv_vm *vm, int vector);
int lv_irqchip_extint_vector(struct lv_vcpu *vcpu);
bool lv_irqchip_extint_pending(struct lv_vcpu *vcpu);
bool lv_irqchip_pio(struct lv_vcpu *vcpu, u16 port, bool in, u8 size,
		    u32 *val);
bool lv_irqchip_fast_eoi(struct lv_vcpu *vcpu, u64 gpa);
bool lv_irqchip_mmio(struct lv_vcpu *vcpu, u64 gpa, bool write, u8 size,
		     u64 *val);
long lv_irqchip_vm_ioctl(struct lv_vm *vm, unsigned int cmd,
			 void __user *argp);
long lv_irqchip_vcpu_ioctl(struct lv_vcpu *vcpu, unsigned int cmd,
			   void __user *argp);
int lv_irqchip_vcpu_create(struct lv_vcpu *vcpu);
void lv_irqchip_vcpu_destroy(struct lv_vcpu *vcpu);
int lv_irqchip_get_interrupt(struct lv_vcpu *vcpu);
bool lv_irqchip_has_interrupt(struct lv_vcpu *vcpu);
bool lv_irqchip_has_event(struct lv_vcpu *vcpu);
int lv_irqchip_mp_state(struct lv_vcpu *vcpu);
int lv_irqchip_wait_for_sipi(struct lv_vcpu *vcpu);

#endif /* LV_IRQ_IRQCHIP_H */
