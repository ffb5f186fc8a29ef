/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lightvisor tracepoints: every VM exit (reason, guest RIP, qualification)
 * and every return to userspace. Off, they cost a static branch.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lightvisor

#if !defined(LV_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define LV_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(lv_exit,
	TP_PROTO(unsigned int vcpu_id, u32 reason, u64 rip, u64 qual),
	TP_ARGS(vcpu_id, reason, rip, qual),

	TP_STRUCT__entry(
		__field(unsigned int, vcpu_id)
		__field(u32, reason)
		__field(u64, rip)
		__field(u64, qual)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->reason = reason;
		__entry->rip = rip;
		__entry->qual = qual;
	),

	TP_printk("vcpu %u reason %#x rip %#llx qualification %#llx",
		  __entry->vcpu_id, __entry->reason, __entry->rip,
		  __entry->qual)
);

TRACE_EVENT(lv_exit_to_user,
	TP_PROTO(unsigned int vcpu_id, u32 exit_reason, int ret),
	TP_ARGS(vcpu_id, exit_reason, ret),

	TP_STRUCT__entry(
		__field(unsigned int, vcpu_id)
		__field(u32, exit_reason)
		__field(int, ret)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu_id;
		__entry->exit_reason = exit_reason;
		__entry->ret = ret;
	),

	TP_printk("vcpu %u lv_run.exit_reason %u ret %d",
		  __entry->vcpu_id, __entry->exit_reason, __entry->ret)
);

#endif /* LV_TRACE_H */

/* Out of tree: found through the module directory on the include path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
