// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the board's virtio-mmio window. Devices take the slots in
 * creation order (--disk in order, then --console virtio, then --net); the
 * remaining slots decode as empty (DeviceID 0), so a guest can probe them all.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../log.h"
#include "../options.h"
#include "virtio.h"

static const unsigned int slot_irqs[VIRTIO_MMIO_SLOTS] = VIRTIO_MMIO_IRQS;

static uint64_t slot_base(unsigned int slot)
{
	return VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SLOT_SIZE;
}

void virtio_board_init(struct virtio_board *vb, struct bus *mmio,
		       struct irq_chip *chip, struct guest_mem mem)
{
	unsigned int slot;
	int i;

	vb->nr_devs = 0;
	for (i = 0; i < opts.nr_disks; i++) {
		struct virtio_blk *blk = &vb->blk[i];

		slot = vb->nr_devs;
		if (virtio_blk_init(blk, i, opts.disk[i].path, opts.disk[i].ro, mmio,
				    slot_base(slot), irq_line_get(chip, slot_irqs[slot]),
				    mem))
			die("cannot attach --disk %s", opts.disk[i].path);
		vb->devs[vb->nr_devs++] = &blk->dev;
	}
	if (opts.console == CONSOLE_VIRTIO) {
		slot = vb->nr_devs;
		virtio_console_init(&vb->console, mmio, slot_base(slot),
				    irq_line_get(chip, slot_irqs[slot]), mem,
				    STDOUT_FILENO);
		vb->devs[vb->nr_devs++] = &vb->console.dev;
	}
	if (opts.net.tap) {
		slot = vb->nr_devs;
		if (virtio_net_init(&vb->net, opts.net.tap, opts.net.mac, mmio,
				    slot_base(slot), irq_line_get(chip, slot_irqs[slot]),
				    mem))
			die("cannot attach --net tap=%s", opts.net.tap);
		vb->devs[vb->nr_devs++] = &vb->net.dev;
	}
	for (slot = vb->nr_devs; slot < VIRTIO_MMIO_SLOTS; slot++)
		virtio_empty_slot_init(mmio, slot_base(slot));
}

void virtio_board_start(struct virtio_board *vb, struct hv *hv)
{
	unsigned int i;

	for (i = 0; i < vb->nr_devs; i++) {
		if (opts.virtio_notify == VIRTIO_NOTIFY_KERNEL)
			vb->devs[i]->hv = hv;
		virtio_dev_start(vb->devs[i]);
	}
	if (opts.console == CONSOLE_VIRTIO)
		virtio_console_start_input(&vb->console, STDIN_FILENO);
}
