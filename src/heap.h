/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An intrusive binary min-heap of fixed capacity: the node lives in the
 * caller's object, which finds itself again with container_of, and knows
 * its place, so that removing or re-keying any node is O(log n). Equal
 * keys come out in no particular order.
 */
#ifndef RACEWATCH_HEAP_H
#define RACEWATCH_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct heap_node {
	__u64 key;
	size_t pos;		/* private: index + 1 in the heap, 0 when out */
};

struct heap;

/* Room for cap nodes, allocated now: pushing never fails. */
struct heap *heap__new(size_t cap);
void heap__free(struct heap *h);
/* n->key must be set; n must not be in a heap; at most cap nodes. */
void heap__push(struct heap *h, struct heap_node *n);
void heap__del(struct heap *h, struct heap_node *n);
void heap__rekey(struct heap *h, struct heap_node *n, __u64 key);
/* The node with the smallest key, or NULL. */
struct heap_node *heap__min(const struct heap *h);
size_t heap__len(const struct heap *h);

static inline bool heap__queued(const struct heap_node *n)
{
	return n->pos != 0;
}

#endif /* RACEWATCH_HEAP_H */
