// SPDX-License-Identifier: GPL-2.0
/*
 * Spare threads: creating a thread (its stack mapped, cloned, scheduled)
 * is one of the dearest steps of lvrun's start, so a prepared lvrun does
 * it ahead. A spare waits on its own condition for a function, takes on
 * the signal mask its "creator" had (as a new thread inherits it) and
 * runs the function as its whole life.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "threads.h"
#include "warm.h"

struct spare {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t go;
	void *(*fn)(void *);
	void *arg;
	sigset_t mask;
};

static struct spare *spares;
static int nr_spares, next_spare;
static pthread_mutex_t spares_lock = PTHREAD_MUTEX_INITIALIZER;

static void *spare_thread(void *arg)
{
	struct spare *s = arg;

	/* Its work's first stack pages: faulted in now, not when it starts. */
	warm_stack();
	pthread_mutex_lock(&s->lock);
	while (!s->fn)
		pthread_cond_wait(&s->go, &s->lock);
	pthread_mutex_unlock(&s->lock);
	pthread_sigmask(SIG_SETMASK, &s->mask, NULL);
	return s->fn(s->arg);
}

void threads_make_spares(int n)
{
	int i, err;

	spares = calloc(n, sizeof(*spares));
	if (!spares)
		die("out of memory");
	for (i = 0; i < n; i++) {
		pthread_mutex_init(&spares[i].lock, NULL);
		pthread_cond_init(&spares[i].go, NULL);
		err = pthread_create(&spares[i].thread, NULL, spare_thread, &spares[i]);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
	nr_spares = n;
}

int lvrun_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	struct spare *s = NULL;

	pthread_mutex_lock(&spares_lock);
	if (next_spare < nr_spares)
		s = &spares[next_spare++];
	pthread_mutex_unlock(&spares_lock);
	if (!s)
		return pthread_create(thread, NULL, fn, arg);

	pthread_mutex_lock(&s->lock);
	pthread_sigmask(SIG_SETMASK, NULL, &s->mask);
	s->arg = arg;
	s->fn = fn;
	pthread_cond_signal(&s->go);
	pthread_mutex_unlock(&s->lock);
	*thread = s->thread;
	return 0;
}
