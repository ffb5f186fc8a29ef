/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a caller's build fixes of the ABI: ioctl numbers (they carry the
 * argument's size), structure sizes and the offsets userspace relies on.
 * Listed once, compiled for 64-bit and for i386 (abi_layout32.c).
 */
#ifndef ABI_LAYOUT_H
#define ABI_LAYOUT_H

#include <stddef.h>
#include <linux/lightvisor.h>

#define LV_ABI_VALUES(X)						\
	X(LV_SET_MEMORY_REGION) X(LV_GET_DIRTY_LOG)			\
	X(LV_ASSIGN_PCI_DEVICE) X(LV_RELEASE_PCI_DEVICE)		\
	X(LV_MAP_PCI_BAR) X(LV_SET_DEVICE_IRQ)				\
	X(LV_GET_REGS) X(LV_SET_REGS) X(LV_GET_SREGS) X(LV_SET_SREGS)	\
	X(LV_INTERRUPT) X(LV_GET_VCPU_STATE) X(LV_SET_VCPU_STATE)	\
	X(LV_IOEVENTFD) X(sizeof(struct lv_ioeventfd))			\
	X(offsetof(struct lv_ioeventfd, fd))				\
	X(sizeof(struct lv_segment)) X(sizeof(struct lv_dtable))	\
	X(sizeof(struct lv_sregs)) X(sizeof(struct lv_vcpu_state))	\
	X(sizeof(struct lv_run))					\
	X(offsetof(struct lv_sregs, ldt)) X(offsetof(struct lv_sregs, cr0)) \
	X(offsetof(struct lv_vcpu_state, sregs))			\
	X(offsetof(struct lv_vcpu_state, pending_irq))			\
	X(offsetof(struct lv_vcpu_state, reserved))			\
	X(offsetof(struct lv_vcpu_state, pkru))				\
	X(offsetof(struct lv_vcpu_state, mtrr_def_type))		\
	X(offsetof(struct lv_vcpu_state, mtrr_var))			\
	X(offsetof(struct lv_run, hw_exit_reason))			\
	X(offsetof(struct lv_run, exit_qualification))			\
	X(offsetof(struct lv_run, io.data_offset))			\
	X(offsetof(struct lv_run, mmio.len))				\
	X(offsetof(struct lv_run, internal.data))			\
	X(offsetof(struct lv_run, hypercall.ret))

#endif /* ABI_LAYOUT_H */
