/* SPDX-License-Identifier: GPL-2.0 */
/* Flags of the backends' guest entry functions, shared by C and assembly. */
#ifndef LV_RUN_FLAGS_H
#define LV_RUN_FLAGS_H

#define LV_RUN_VMRESUME_SHIFT		0
#define LV_RUN_LOAD_SPEC_CTRL_SHIFT	1
#define LV_RUN_RESTORE_SPEC_CTRL_SHIFT	2

#define LV_RUN_VMRESUME			(1 << LV_RUN_VMRESUME_SHIFT)
#define LV_RUN_LOAD_SPEC_CTRL		(1 << LV_RUN_LOAD_SPEC_CTRL_SHIFT)
#define LV_RUN_RESTORE_SPEC_CTRL	(1 << LV_RUN_RESTORE_SPEC_CTRL_SHIFT)

#endif /* LV_RUN_FLAGS_H */
