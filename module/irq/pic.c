// SPDX-License-Identifier: GPL-2.0
/*
 * The two cascaded 8259A PICs of a PC (Intel 8259A data sheet), with the
 * ELCR of the PIIX/ICH (ports 0x4d0/0x4d1) choosing edge or level per
 * input. The slave's output drives the master's input 2; the master's
 * output is INTR, which reaches vCPU 0 through LINT0 in ExtINT mode.
 * Pure logic: the caller (irqchip.c) holds the irqchip lock.
 */
#include <linux/bitops.h>
#include <linux/string.h>

#include "lightvisor.h"
#include "irq/lapic.h"
#include "irq/irqchip.h"

#define PIC_CASCADE_IRQ		2
#define PIC_SPURIOUS_IRQ	7

void lv_pic_reset(struct lv_pic *pic, bool master)
{
	u8 elcr = pic->elcr;

	memset(pic, 0, sizeof(*pic));
	/* Inputs 0-2 (timer, keyboard, cascade) and 8, 13 are edge only. */
	pic->elcr_mask = master ? 0xf8 : 0xde;
	pic->elcr = elcr & pic->elcr_mask;
}
EXPORT_SYMBOL_IF_KUNIT(lv_pic_reset);

/* Drive one input; edge inputs latch IRR on a rising edge. */
void lv_pic_set_input(struct lv_pic *pic, int irq, bool level)
{
	u8 mask = BIT(irq);

	if (pic->elcr & mask) {
		if (level)
			pic->irr |= mask;
		else
			pic->irr &= ~mask;
	} else if (level && !(pic->last_irr & mask)) {
		pic->irr |= mask;
	}
	if (level)
		pic->last_irr |= mask;
	else
		pic->last_irr &= ~mask;
}
EXPORT_SYMBOL_IF_KUNIT(lv_pic_set_input);

/* Priority of the highest set bit in @mask, 0 highest; 8 if none. */
static int lv_pic_priority(const struct lv_pic *pic, u8 mask)
{
	int p;

	if (!mask)
		return 8;
	for (p = 0; !(mask & BIT((p + pic->priority_add) & 7)); p++)
		;
	return p;
}

/**
 * lv_pic_get_irq() - the input this PIC would signal now
 * @pic: the PIC
 * @master: it is the master (special fully nested mode lets its cascade
 *	input interrupt a slave interrupt in service)
 *
 * Return: the input, or -1 if none beats what is in service.
 */
int lv_pic_get_irq(const struct lv_pic *pic, bool master)
{
	int req = lv_pic_priority(pic, pic->irr & ~pic->imr);
	u8 isr = pic->isr;

	if (req == 8)
		return -1;
	if (pic->special_mask)
		isr &= ~pic->imr;
	if (master && pic->special_fully_nested)
		isr &= ~BIT(PIC_CASCADE_IRQ);
	if (req < lv_pic_priority(pic, isr))
		return (req + pic->priority_add) & 7;
	return -1;
}
EXPORT_SYMBOL_IF_KUNIT(lv_pic_get_irq);

/* Propagate the slave's output to the master's cascade input. */
static void lv_pics_cascade(struct lv_pic pics[2])
{
	lv_pic_set_input(&pics[0], PIC_CASCADE_IRQ,
			 lv_pic_get_irq(&pics[1], false) >= 0);
}

/* Drive ISA line @irq (0..15). */
void lv_pics_set_irq(struct lv_pic pics[2], int irq, bool level)
{
	lv_pic_set_input(&pics[irq >> 3], irq & 7, level);
	lv_pics_cascade(pics);
}
EXPORT_SYMBOL_IF_KUNIT(lv_pics_set_irq);

/* INTR: the master has something to signal. */
bool lv_pics_output(struct lv_pic pics[2])
{
	return lv_pic_get_irq(&pics[0], true) >= 0;
}
EXPORT_SYMBOL_IF_KUNIT(lv_pics_output);

/* INTA for one PIC: the input goes in service (unless AEOI). */
static void lv_pic_intack(struct lv_pic *pic, int irq)
{
	u8 mask = BIT(irq);

	if (pic->auto_eoi) {
		if (pic->rotate_on_auto_eoi)
			pic->priority_add = (irq + 1) & 7;
	} else {
		pic->isr |= mask;
	}
	/* Level inputs stay requested while the line is high. */
	if (!(pic->elcr & mask))
		pic->irr &= ~mask;
}

/**
 * lv_pics_ack() - the CPU's interrupt acknowledge cycle
 * @pics: master and slave
 *
 * Return: the vector the PICs put on the bus; IRQ 7 (spurious) of the
 * chip concerned if the request went away.
 */
int lv_pics_ack(struct lv_pic pics[2])
{
	int irq = lv_pic_get_irq(&pics[0], true);
	int irq2, vector;

	if (irq < 0)
		return pics[0].irq_base + PIC_SPURIOUS_IRQ;
	lv_pic_intack(&pics[0], irq);
	if (irq == PIC_CASCADE_IRQ) {
		irq2 = lv_pic_get_irq(&pics[1], false);
		if (irq2 >= 0)
			lv_pic_intack(&pics[1], irq2);
		else
			irq2 = PIC_SPURIOUS_IRQ;
		vector = pics[1].irq_base + irq2;
	} else {
		vector = pics[0].irq_base + irq;
	}
	lv_pics_cascade(pics);
	return vector;
}
EXPORT_SYMBOL_IF_KUNIT(lv_pics_ack);

static void lv_pic_ocw2(struct lv_pic *pic, u8 val)
{
	int cmd = val >> 5, irq;

	switch (cmd) {
	case 0:			/* clear rotate in AEOI */
	case 4:			/* set rotate in AEOI */
		pic->rotate_on_auto_eoi = cmd == 4;
		break;
	case 1:			/* non-specific EOI */
	case 5:			/* rotate on non-specific EOI */
		irq = lv_pic_priority(pic, pic->isr);
		if (irq == 8)
			break;
		irq = (irq + pic->priority_add) & 7;
		pic->isr &= ~BIT(irq);
		if (cmd == 5)
			pic->priority_add = (irq + 1) & 7;
		break;
	case 3:			/* specific EOI */
	case 7:			/* rotate on specific EOI */
		irq = val & 7;
		pic->isr &= ~BIT(irq);
		if (cmd == 7)
			pic->priority_add = (irq + 1) & 7;
		break;
	case 6:			/* set priority: input val&7 lowest */
		pic->priority_add = ((val & 7) + 1) & 7;
		break;
	}
}

static void lv_pic_write_cmd(struct lv_pic *pic, bool master, u8 val)
{
	if (val & 0x10) {		/* ICW1 */
		u8 elcr = pic->elcr, last = pic->last_irr;

		lv_pic_reset(pic, master);
		pic->elcr = elcr;
		pic->last_irr = last;
		pic->init4 = val & 1;
		pic->single = val & 2;
		pic->init_state = 1;
	} else if (val & 0x08) {	/* OCW3 */
		if (val & 0x04)
			pic->poll = true;
		if (val & 0x02)
			pic->read_isr = val & 1;
		if (val & 0x40)
			pic->special_mask = (val >> 5) & 1;
	} else {
		lv_pic_ocw2(pic, val);
	}
}

static void lv_pic_write_data(struct lv_pic *pic, u8 val)
{
	switch (pic->init_state) {
	case 0:			/* OCW1 */
		pic->imr = val;
		break;
	case 1:			/* ICW2 */
		pic->irq_base = val & 0xf8;
		pic->init_state = pic->single ? (pic->init4 ? 3 : 0) : 2;
		break;
	case 2:			/* ICW3: cascade wiring, fixed on a PC */
		pic->init_state = pic->init4 ? 3 : 0;
		break;
	case 3:			/* ICW4 */
		pic->special_fully_nested = (val >> 4) & 1;
		pic->auto_eoi = (val >> 1) & 1;
		pic->init_state = 0;
		break;
	}
}

/**
 * lv_pic_write() - a guest write to a PIC port
 * @pics: master and slave
 * @chip: 0 master, 1 slave
 * @addr: 0 command port, 1 data port, 2 ELCR
 * @val: the byte
 */
void lv_pic_write(struct lv_pic pics[2], int chip, int addr, u8 val)
{
	struct lv_pic *pic = &pics[chip];

	if (addr == 2)
		pic->elcr = val & pic->elcr_mask;
	else if (addr == 0)
		lv_pic_write_cmd(pic, !chip, val);
	else
		lv_pic_write_data(pic, val);
	lv_pics_cascade(pics);
}
EXPORT_SYMBOL_IF_KUNIT(lv_pic_write);

/* A poll command: the request acknowledged as by INTA, as 0x80 | irq. */
static u8 lv_pic_poll(struct lv_pic pics[2], int chip)
{
	struct lv_pic *pic = &pics[chip];
	int irq = lv_pic_get_irq(pic, !chip);

	pic->poll = false;
	if (irq < 0)
		return 0;
	lv_pic_intack(pic, irq);
	lv_pics_cascade(pics);
	return 0x80 | irq;
}

u8 lv_pic_read(struct lv_pic pics[2], int chip, int addr)
{
	struct lv_pic *pic = &pics[chip];

	if (addr == 2)
		return pic->elcr;
	if (pic->poll)
		return lv_pic_poll(pics, chip);
	if (addr == 1)
		return pic->imr;
	return pic->read_isr ? pic->isr : pic->irr;
}
EXPORT_SYMBOL_IF_KUNIT(lv_pic_read);
