/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/minmax.h>. */
#ifndef LV_HOST_LINUX_MINMAX_H
#define LV_HOST_LINUX_MINMAX_H
#define min_t(type, a, b)	((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#endif
