/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun: interrupt lines. A device holds a struct irq_line and sets its
 * level; where the interrupt controller lives (in the hypervisor, as KVM's
 * in-kernel irqchip, or nowhere yet) is the chip's business.
 */
#ifndef LVRUN_IRQ_H
#define LVRUN_IRQ_H

#include <stdint.h>

struct irq_chip {
	const char *name;
	/* Sets GSI @gsi to @level (0 or 1). Called with the device's lock held. */
	void (*set_line)(struct irq_chip *chip, unsigned int gsi, int level);
};

struct irq_line {
	struct irq_chip *chip;
	unsigned int gsi;
	int level;		/* last level set, part of the device's state */
};

static inline struct irq_line irq_line_get(struct irq_chip *chip, unsigned int gsi)
{
	return (struct irq_line){ .chip = chip, .gsi = gsi, .level = 0 };
}

/* Edge-triggered ISA lines see an edge when the level rises. */
static inline void irq_line_set(struct irq_line *line, int level)
{
	level = !!level;
	if (!line->chip || line->level == level)
		return;
	line->level = level;
	line->chip->set_line(line->chip, line->gsi, level);
}

/*
 * A restored device takes up the level its line had at the save. The
 * interrupt controllers' restored state has it already: nothing is sent,
 * which would make an edge the guest never saw.
 */
static inline void irq_line_restore(struct irq_line *line, int level)
{
	line->level = !!level;
}

#endif /* LVRUN_IRQ_H */
