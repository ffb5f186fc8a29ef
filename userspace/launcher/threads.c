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
	struct spare *next;	/* in the list of spares not yet given work */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t go;
	void *(*fn)(void *);
	void *arg;
	sigset_t mask;
};

static struct spare *spares;
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

	for (i = 0; i < n; i++) {
		struct spare *s = calloc(1, sizeof(*s));

		if (!s)
			die("out of memory");
		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->go, NULL);
		err = pthread_create(&s->thread, NULL, spare_thread, s);
		if (err)
			die("pthread_create: %s", strerror(err));
		pthread_mutex_lock(&spares_lock);
		s->next = spares;
		spares = s;
		pthread_mutex_unlock(&spares_lock);
	}
}

int lvrun_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	struct spare *s;

	pthread_mutex_lock(&spares_lock);
	s = spares;
	if (s)
		spares = s->next;
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
