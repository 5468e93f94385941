// SPDX-License-Identifier: Apache-2.0
/* A thread's bounded stock of free blocks of one size: see freelist.h. */
#include <pthread.h>
#include <stdlib.h>

#include "freelist.h"

/* The lists a thread has kept blocks in, linked through their @next, are
 * the value of this key in that thread: its destructor drains them when
 * the thread ends, while its thread-local lists are still there. */
static pthread_key_t freelist_key;
static pthread_once_t freelist_once = PTHREAD_ONCE_INIT;
static bool freelist_key_ok;

static void freelist_thread_exit(void *head)
{
	struct freelist *fl = head, *next;

	for (; fl; fl = next) {
		next = fl->next;
		freelist_drain(fl);
		fl->next = NULL;
		fl->linked = false;
	}
}

static void freelist_key_make(void)
{
	freelist_key_ok = pthread_key_create(&freelist_key,
					     freelist_thread_exit) == 0;
}

/* Puts @fl on its thread's lists to drain at exit.  False when it cannot
 * be (no key): then it keeps nothing. */
static bool freelist_link(struct freelist *fl)
{
	pthread_once(&freelist_once, freelist_key_make);
	if (!freelist_key_ok)
		return false;
	fl->next = pthread_getspecific(freelist_key);
	if (pthread_setspecific(freelist_key, fl) != 0) {
		fl->next = NULL;
		return false;
	}
	fl->linked = true;
	return true;
}

void *freelist_get(struct freelist *fl)
{
	if (fl->n > 0)
		return fl->obj[--fl->n];
	return malloc(fl->size);
}

void freelist_put(struct freelist *fl, void *p)
{
	if (!p)
		return;
	if (fl->n < fl->max && fl->n < FREELIST_MAX &&
	    (fl->linked || freelist_link(fl))) {
		fl->obj[fl->n++] = p;
		return;
	}
	free(p);
}

void freelist_drain(struct freelist *fl)
{
	while (fl->n > 0) {
		fl->n--;
		free(fl->obj[fl->n]);
		fl->obj[fl->n] = NULL;
	}
}
