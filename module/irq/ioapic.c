// SPDX-License-Identifier: GPL-2.0
/*
 * The I/O APIC (82093AA data sheet): 24 pins, each with a redirection
 * entry that turns an input into an interrupt message. Edge pins send on
 * a rising edge; level pins send while asserted, but only once until the
 * local APIC's EOI for that vector clears the entry's remote IRR.
 * The caller (irqchip.c) holds the irqchip lock; messages go to the
 * local APICs under it (their locks nest inside).
 */
#include <linux/bitops.h>
#include <linux/string.h>

#include "lightvisor.h"
#include "irq/lapic.h"
#include "irq/irqchip.h"

#define IOAPIC_REG_SELECT	0x00
#define IOAPIC_REG_WINDOW	0x10
#define IOAPIC_ID		0x00
#define IOAPIC_VER		0x01
#define IOAPIC_ARB		0x02
#define IOAPIC_REDIR_BASE	0x10

#define REDIR_DELIV_STATUS	BIT_ULL(12)
#define REDIR_REMOTE_IRR	BIT_ULL(14)
#define REDIR_LEVEL		BIT_ULL(15)
#define REDIR_MASKED		BIT_ULL(16)
/* Bits software may write: all but delivery status and remote IRR. */
#define REDIR_WRITABLE		(0xff00000000000fffULL | BIT_ULL(13) | \
				 REDIR_LEVEL | REDIR_MASKED)

void lv_ioapic_reset(struct lv_ioapic *ioapic)
{
	int i;

	memset(ioapic, 0, sizeof(*ioapic));
	for (i = 0; i < LV_NR_IRQ_LINES; i++)
		ioapic->redir[i] = REDIR_MASKED;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ioapic_reset);

/* The message a redirection entry describes. */
void lv_ioapic_entry_to_irq(u64 entry, struct lv_apic_irq *irq)
{
	*irq = (struct lv_apic_irq) {
		.vector = entry & 0xff,
		.delivery_mode = (entry >> 8) & 7,
		.logical = entry & BIT(11),
		.level = entry & REDIR_LEVEL,
		.assert = true,
		.dest = entry >> 56,
	};
}
EXPORT_SYMBOL_IF_KUNIT(lv_ioapic_entry_to_irq);

/* Send pin @pin's message; level pins then wait for the EOI. */
static void lv_ioapic_service(struct lv_ioapic *ioapic, struct lv_vm *vm,
			      int pin)
{
	u64 *entry = &ioapic->redir[pin];
	struct lv_apic_irq irq;

	if (*entry & REDIR_MASKED)
		return;
	if ((*entry & REDIR_LEVEL) && (*entry & REDIR_REMOTE_IRR))
		return;
	lv_ioapic_entry_to_irq(*entry, &irq);
	/* With no vCPUs (KUnit), count the message as accepted. */
	if ((vm ? lv_irq_deliver(vm, &irq, NULL) : 1) && (*entry & REDIR_LEVEL))
		*entry |= REDIR_REMOTE_IRR;
}

/* Drive input @pin. */
void lv_ioapic_set_irq(struct lv_ioapic *ioapic, struct lv_vm *vm, int pin,
		       bool level)
{
	u32 mask = BIT(pin);
	bool was = ioapic->line_levels & mask;

	if (level)
		ioapic->line_levels |= mask;
	else
		ioapic->line_levels &= ~mask;
	if (!level)
		return;
	if ((ioapic->redir[pin] & REDIR_LEVEL) || !was)
		lv_ioapic_service(ioapic, vm, pin);
}
EXPORT_SYMBOL_IF_KUNIT(lv_ioapic_set_irq);

/*
 * A local APIC ended a level-triggered @vector: clear remote IRR of the
 * pins that sent it; a line still asserted interrupts again.
 */
void lv_ioapic_eoi(struct lv_ioapic *ioapic, struct lv_vm *vm, int vector)
{
	int pin;

	for (pin = 0; pin < LV_NR_IRQ_LINES; pin++) {
		u64 *entry = &ioapic->redir[pin];

		if ((*entry & 0xff) != vector || !(*entry & REDIR_REMOTE_IRR))
			continue;
		*entry &= ~REDIR_REMOTE_IRR;
		if ((*entry & REDIR_LEVEL) && (ioapic->line_levels & BIT(pin)))
			lv_ioapic_service(ioapic, vm, pin);
	}
}
EXPORT_SYMBOL_IF_KUNIT(lv_ioapic_eoi);

static u32 lv_ioapic_read_reg(struct lv_ioapic *ioapic)
{
	u32 reg = ioapic->ioregsel & 0xff;
	int pin;

	switch (reg) {
	case IOAPIC_ID:
	case IOAPIC_ARB:
		return (ioapic->id & 0xf) << 24;
	case IOAPIC_VER:
		return LV_IOAPIC_VERSION | ((LV_NR_IRQ_LINES - 1) << 16);
	}
	pin = (reg - IOAPIC_REDIR_BASE) >> 1;
	if (reg < IOAPIC_REDIR_BASE || pin >= LV_NR_IRQ_LINES)
		return 0;
	return reg & 1 ? ioapic->redir[pin] >> 32 : (u32)ioapic->redir[pin];
}

/* MMIO read at offset @off (32-bit accesses). */
u32 lv_ioapic_read(struct lv_ioapic *ioapic, unsigned int off)
{
	if (off == IOAPIC_REG_SELECT)
		return ioapic->ioregsel;
	if (off == IOAPIC_REG_WINDOW)
		return lv_ioapic_read_reg(ioapic);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_ioapic_read);

static void lv_ioapic_write_reg(struct lv_ioapic *ioapic, struct lv_vm *vm,
				u32 val)
{
	u32 reg = ioapic->ioregsel & 0xff;
	int pin = (reg - IOAPIC_REDIR_BASE) >> 1;
	u64 *entry, old;

	if (reg == IOAPIC_ID) {
		ioapic->id = (val >> 24) & 0xf;
		return;
	}
	if (reg < IOAPIC_REDIR_BASE || pin >= LV_NR_IRQ_LINES)
		return;
	entry = &ioapic->redir[pin];
	old = *entry;
	if (reg & 1)
		*entry = (old & 0xffffffffULL) | ((u64)val << 32);
	else
		*entry = (old & ~0xffffffffULL) | val;
	*entry = (*entry & REDIR_WRITABLE) | (old & REDIR_REMOTE_IRR);
	/* An edge entry has no remote IRR. */
	if (!(*entry & REDIR_LEVEL))
		*entry &= ~REDIR_REMOTE_IRR;
	/* Unmasking a level pin that is asserted sends its message now. */
	if ((*entry & REDIR_LEVEL) && !(*entry & REDIR_MASKED) &&
	    (ioapic->line_levels & BIT(pin)))
		lv_ioapic_service(ioapic, vm, pin);
}

/* MMIO write at offset @off. */
void lv_ioapic_write(struct lv_ioapic *ioapic, struct lv_vm *vm,
		     unsigned int off, u32 val)
{
	if (off == IOAPIC_REG_SELECT)
		ioapic->ioregsel = val & 0xff;
	else if (off == IOAPIC_REG_WINDOW)
		lv_ioapic_write_reg(ioapic, vm, val);
}
EXPORT_SYMBOL_IF_KUNIT(lv_ioapic_write);
