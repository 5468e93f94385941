/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pools of fixed-size objects in slabs mmap'ed for them, not on the malloc
 * heap.  Objects that outlive a burst of transient heap use (heap.h), if
 * malloc'ed in the middle of it, would pin the pages around them and the
 * heap could not shrink back; packed in their own slabs they cost their
 * size.
 *
 * A slab is SLAB_SIZE bytes aligned to its size, so the slab of an object
 * is found by masking its address.  Objects are carved from a slab as
 * needed (untouched pages stay unpopulated) and recycled through a free
 * list; a slab that empties is unmapped, but for one kept to absorb churn.
 * The pool's lock makes this safe with several loop threads; it is taken
 * once per get and once per put.
 */
#ifndef MF_SLAB_H
#define MF_SLAB_H

#include <pthread.h>
#include <stddef.h>

#define SLAB_SIZE	(256u * 1024)

struct slab;

struct slab_pool {
	pthread_mutex_t lock;
	size_t obj_size;	/* a multiple of 64, far below SLAB_SIZE */
	struct slab *avail;	/* slabs with room */
	struct slab *spare;	/* an empty slab kept mapped */
};

/* A static pool of objects of @size bytes. */
#define SLAB_POOL_INIT(size)						\
	{ .lock = PTHREAD_MUTEX_INITIALIZER,				\
	  .obj_size = ((size) + 63) & ~(size_t)63 }

/* A zeroed object of @pool, owned by the caller until slab_put().  NULL on
 * ENOMEM. */
void *slab_get(struct slab_pool *pool);
/* Gives back @obj, which slab_get() of @pool returned. */
void slab_put(struct slab_pool *pool, void *obj);

#endif /* MF_SLAB_H */
