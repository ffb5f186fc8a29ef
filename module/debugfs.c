// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/lightvisor/stats: module-wide counters; exits: VM
 * exits by reason, with the ticks each reason cost (make bench);
 * mitigations: what the backend does against CPU vulnerabilities.
 *
 * One file for the module, not a directory per VM: creating debugfs
 * entries is a large part of what a new VM costs elsewhere, and VM
 * creation is a hot path here.
 */
#include <linux/debugfs.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>

#include "lightvisor.h"

DEFINE_PER_CPU(struct lv_stats, lv_stats);
DEFINE_PER_CPU(struct lv_exit_stat [LV_MAX_EXIT_STATS], lv_exit_stats);
atomic_t lv_nr_vms = ATOMIC_INIT(0);
atomic_t lv_nr_vcpus = ATOMIC_INIT(0);

static struct dentry *lv_debugfs_dir;

static int lv_stats_show(struct seq_file *m, void *unused)
{
	struct lv_stats sum = {};
	int cpu;

	for_each_possible_cpu(cpu) {
		struct lv_stats *s = per_cpu_ptr(&lv_stats, cpu);

		sum.entries += s->entries;
		sum.exits_to_user += s->exits_to_user;
		sum.tdp_faults += s->tdp_faults;
		sum.tdp_2m_maps += s->tdp_2m_maps;
		sum.halts += s->halts;
		sum.dev_irqs += s->dev_irqs;
		sum.dev_irqs_dropped += s->dev_irqs_dropped;
		sum.ioeventfd_signals += s->ioeventfd_signals;
		sum.irq_status_accesses += s->irq_status_accesses;
		sum.l1d_flushes += s->l1d_flushes;
		sum.fast_eois += s->fast_eois;
	}
	seq_printf(m, "vms %d\nvcpus %d\n", atomic_read(&lv_nr_vms),
		   atomic_read(&lv_nr_vcpus));
	seq_printf(m, "entries %llu\nexits_to_user %llu\n", sum.entries,
		   sum.exits_to_user);
	seq_printf(m, "tdp_faults %llu\ntdp_2m_maps %llu\nhalts %llu\n",
		   sum.tdp_faults, sum.tdp_2m_maps, sum.halts);
	/* The same two under their first, Intel-only names. */
	seq_printf(m, "ept_faults %llu\nept_2m_maps %llu\n", sum.tdp_faults,
		   sum.tdp_2m_maps);
	seq_printf(m, "dev_irqs %llu\ndev_irqs_dropped %llu\n", sum.dev_irqs,
		   sum.dev_irqs_dropped);
	seq_printf(m, "ioeventfd_signals %llu\n", sum.ioeventfd_signals);
	seq_printf(m, "irq_status_accesses %llu\n", sum.irq_status_accesses);
	seq_printf(m, "l1d_flushes %llu\n", sum.l1d_flushes);
	seq_printf(m, "fast_eois %llu\n", sum.fast_eois);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lv_stats);

/*
 * exits: "reason name count ticks" for each reason seen, since load;
 * LV_EXIT_STAT_MMIO is MMIO_EMULATED, the faults that were MMIO.
 */
static int lv_exits_show(struct seq_file *m, void *unused)
{
	unsigned int r;
	int cpu;

	for (r = 0; r < LV_MAX_EXIT_STATS; r++) {
		struct lv_exit_stat sum = {};
		const char *name;

		for_each_possible_cpu(cpu) {
			struct lv_exit_stat *s = &per_cpu(lv_exit_stats, cpu)[r];

			sum.count += s->count;
			sum.ticks += s->ticks;
		}
		if (!sum.count)
			continue;
		if (r == LV_EXIT_STAT_MMIO)
			name = "MMIO_EMULATED";
		else
			name = lv_vendor->exit_reason_name ?
			       lv_vendor->exit_reason_name(r) : NULL;
		seq_printf(m, "%u %s %llu %llu\n", r, name ?: "?", sum.count,
			   sum.ticks);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lv_exits);

/*
 * mitigations: what the backend does against CPU vulnerabilities. It
 * follows the kernel's own choices (mitigations=, l1tf=, ...), so tests
 * compare it with /sys/devices/system/cpu/vulnerabilities.
 */
static int lv_mitigations_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "ibpb_exit_to_user %s\n",
		   lv_ibpb_exit_to_user() ? "on" : "off");
	if (lv_vendor->show_mitigations)
		lv_vendor->show_mitigations(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lv_mitigations);

void lv_debugfs_init(void)
{
	lv_debugfs_dir = debugfs_create_dir("lightvisor", NULL);
	debugfs_create_file("stats", 0444, lv_debugfs_dir, NULL,
			    &lv_stats_fops);
	debugfs_create_file("exits", 0444, lv_debugfs_dir, NULL,
			    &lv_exits_fops);
	debugfs_create_file("mitigations", 0444, lv_debugfs_dir, NULL,
			    &lv_mitigations_fops);
}

void lv_debugfs_exit(void)
{
	debugfs_remove(lv_debugfs_dir);
}
