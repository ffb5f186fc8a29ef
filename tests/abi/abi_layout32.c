// SPDX-License-Identifier: GPL-2.0
/*
 * Compiled for i386 to assembly only (no 32-bit libc needed): the build
 * turns the values into abi_layout32.h, so the 64-bit test can compare
 * what a 32-bit caller passes with what the kernel expects.
 */
#include "abi_layout.h"

#define VALUE(x) x,

const unsigned int lv_abi_values_32[] = { LV_ABI_VALUES(VALUE) };
