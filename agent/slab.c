// SPDX-License-Identifier: Apache-2.0
/* Slab pools of fixed-size objects: see slab.h. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "slab.h"

/* At the start of every slab; objects follow from SLAB_HDR on. */
struct slab {
	struct slab *prev, *next;	/* on the pool's avail while not full */
	void *free;		/* released objects, linked through their
				 * first word */
	size_t carved;		/* objects taken from fresh memory so far */
	size_t used;		/* objects live */
};

#define SLAB_HDR	((sizeof(struct slab) + 63) & ~(size_t)63)

static size_t slab_objs(const struct slab_pool *pool)
{
	return (SLAB_SIZE - SLAB_HDR) / pool->obj_size;
}

/* A new slab, aligned to its size.  NULL on ENOMEM. */
static struct slab *slab_new(void)
{
	size_t len = 2 * SLAB_SIZE, lead;
	uint8_t *p, *sl;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Keep the aligned SLAB_SIZE in the middle, give back the rest. */
	sl = (uint8_t *)(((uintptr_t)p + SLAB_SIZE - 1) &
			 ~(uintptr_t)(SLAB_SIZE - 1));
	lead = (size_t)(sl - p);
	if (lead)
		munmap(p, lead);
	if (len - lead - SLAB_SIZE)
		munmap(sl + SLAB_SIZE, len - lead - SLAB_SIZE);
	memset(sl, 0, sizeof(struct slab));
	return (struct slab *)sl;
}

static void slab_link(struct slab_pool *pool, struct slab *sl)
{
	sl->prev = NULL;
	sl->next = pool->avail;
	if (sl->next)
		sl->next->prev = sl;
	pool->avail = sl;
}

static void slab_unlink(struct slab_pool *pool, struct slab *sl)
{
	if (sl->prev)
		sl->prev->next = sl->next;
	else
		pool->avail = sl->next;
	if (sl->next)
		sl->next->prev = sl->prev;
	sl->prev = sl->next = NULL;
}

void *slab_get(struct slab_pool *pool)
{
	struct slab *sl;
	void *obj;

	pthread_mutex_lock(&pool->lock);
	sl = pool->avail;
	if (!sl) {
		sl = pool->spare;
		pool->spare = NULL;
		if (!sl)
			sl = slab_new();
		if (!sl) {
			pthread_mutex_unlock(&pool->lock);
			return NULL;
		}
		slab_link(pool, sl);
	}
	if (sl->free) {
		obj = sl->free;
		sl->free = *(void **)obj;
	} else {
		obj = (uint8_t *)sl + SLAB_HDR + sl->carved++ * pool->obj_size;
	}
	if (++sl->used == slab_objs(pool))
		slab_unlink(pool, sl);
	pthread_mutex_unlock(&pool->lock);
	memset(obj, 0, pool->obj_size);
	return obj;
}

void slab_put(struct slab_pool *pool, void *obj)
{
	struct slab *sl = (struct slab *)((uintptr_t)obj &
					  ~(uintptr_t)(SLAB_SIZE - 1));

	pthread_mutex_lock(&pool->lock);
	if (sl->used == slab_objs(pool))
		slab_link(pool, sl);	/* was full: has room again */
	*(void **)obj = sl->free;
	sl->free = obj;
	if (--sl->used == 0) {
		slab_unlink(pool, sl);
		if (!pool->spare) {
			/* Reused from the start: no free list to walk. */
			sl->free = NULL;
			sl->carved = 0;
			pool->spare = sl;
		} else {
			munmap(sl, SLAB_SIZE);
		}
	}
	pthread_mutex_unlock(&pool->lock);
}
