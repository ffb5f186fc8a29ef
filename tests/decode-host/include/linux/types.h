/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <linux/types.h>: just what the decoder uses. */
#ifndef LV_HOST_LINUX_TYPES_H
#define LV_HOST_LINUX_TYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define fallthrough	__attribute__((__fallthrough__))

#endif
