/* SPDX-License-Identifier: GPL-2.0 */
/* Host stand-in for <kunit/visibility.h>. */
#ifndef LV_HOST_KUNIT_VISIBILITY_H
#define LV_HOST_KUNIT_VISIBILITY_H
#define EXPORT_SYMBOL_IF_KUNIT(sym)
#define VISIBLE_IF_KUNIT
#endif
