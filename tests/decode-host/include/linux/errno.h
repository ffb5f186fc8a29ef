/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host stand-in for <linux/errno.h>. The C library's <errno.h> includes
 * <linux/errno.h> itself, so take the values from the uapi headers.
 */
#ifndef LV_HOST_LINUX_ERRNO_H
#define LV_HOST_LINUX_ERRNO_H

#include <asm-generic/errno.h>

#endif
