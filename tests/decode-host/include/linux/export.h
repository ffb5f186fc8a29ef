/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/export.h>: nothing to export in a program. */
#ifndef LV_HOST_LINUX_EXPORT_H
#define LV_HOST_LINUX_EXPORT_H
#endif
