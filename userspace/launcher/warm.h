/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page faults ahead: a prepared lvrun (--pool-prepared) takes now the
 * first-touch faults its client's guest start would take later. A leaf.
 */
#ifndef LVRUN_WARM_H
#define LVRUN_WARM_H

/*
 * Maps every page of lvrun's own code, data and heap into its page
 * tables, as if already used. Best effort: nothing on failure.
 */
void warm_own_mappings(void);

/* Touches the next WARM_STACK_BYTES of the calling thread's stack. */
void warm_stack(void);

#define WARM_STACK_BYTES	(64 << 10)

#endif /* LVRUN_WARM_H */
