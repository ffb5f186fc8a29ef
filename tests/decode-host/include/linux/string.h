/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/string.h>: the C library's. */
#ifndef DECODE_HOST_LINUX_STRING_H
#define DECODE_HOST_LINUX_STRING_H

#include <string.h>

#endif
