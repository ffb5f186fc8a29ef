/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals that the KUnit module (tests/kunit/) calls are exported only
 * when the kernel has KUnit, into the kernel's KUnit-only namespace.
 */
#ifndef LIGHTVISOR_KUNIT_EXPORT_H
#define LIGHTVISOR_KUNIT_EXPORT_H

#include <linux/export.h>

#if IS_ENABLED(CONFIG_KUNIT) && __has_include(<kunit/visibility.h>)
#include <kunit/visibility.h>
#define EXPORT_SYMBOL_IF_LV_KUNIT(sym)	EXPORT_SYMBOL_IF_KUNIT(sym)
#else
#define EXPORT_SYMBOL_IF_LV_KUNIT(sym)
#endif

#endif /* LIGHTVISOR_KUNIT_EXPORT_H */
