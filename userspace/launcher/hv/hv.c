// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: what both hypervisor backends share.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "../log.h"
#include "hv.h"

static void hv_chip_set_line(struct irq_chip *chip, unsigned int gsi, int level)
{
	struct hv *hv = (struct hv *)((char *)chip - offsetof(struct hv, chip));

	hv->ops->set_irq_line(hv, gsi, level);
}

static void hv_init_common(struct hv *hv, const struct hv_ops *ops)
{
	memset(hv, 0, sizeof(*hv));
	hv->ops = ops;
	hv->sys_fd = -1;
	hv->vm_fd = -1;
	hv->chip = (struct irq_chip){ .name = ops->name, .set_line = hv_chip_set_line };
}

void hv_init(struct hv *hv, const struct hv_ops *ops, int nr_vcpus)
{
	hv_init_common(hv, ops);
	ops->open(hv, nr_vcpus);
}

void hv_init_prepared(struct hv *hv, const struct hv_ops *ops,
		      const struct hv_prepared *vm)
{
	hv_init_common(hv, ops);
	if (!ops->adopt)
		die("%s cannot take a VM prepared by another process", ops->name);
	ops->adopt(hv, vm);
}

void *hv_map_run(struct hv *hv, int vcpu_fd, int id)
{
	void *run = mmap(NULL, hv->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu_fd, 0);

	if (run == MAP_FAILED)
		die("mmap of vCPU %d run page failed: %s", id, strerror(errno));
	return run;
}
