/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun's threads: pthread_create(), or a spare thread made ahead. A
 * prepared lvrun (--pool-prepared) makes its spares before its client
 * comes, and lvrun --incoming while the source's memory comes, so that
 * starting the guest creates no thread. A leaf.
 */
#ifndef LVRUN_THREADS_H
#define LVRUN_THREADS_H

#include <pthread.h>

/*
 * Makes @n more threads that wait until lvrun_thread_create() gives them
 * work. Any thread may call it, as often as it likes.
 */
void threads_make_spares(int n);

/*
 * As pthread_create() with default attributes: @fn(@arg) runs in a
 * joinable thread with the caller's signal mask, in a spare if one is
 * left. Returns 0 or an errno.
 */
int lvrun_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif /* LVRUN_THREADS_H */
