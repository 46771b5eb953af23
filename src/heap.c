// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include "heap.h"

struct heap {
	size_t len, cap;
	struct heap_node *nodes[];
};

struct heap *heap__new(size_t cap)
{
	struct heap *h = calloc(1, sizeof(*h) + cap * sizeof(h->nodes[0]));

	if (h)
		h->cap = cap;
	return h;
}

void heap__free(struct heap *h)
{
	free(h);
}

size_t heap__len(const struct heap *h)
{
	return h->len;
}

struct heap_node *heap__min(const struct heap *h)
{
	return h->len ? h->nodes[0] : NULL;
}

static void set(struct heap *h, size_t i, struct heap_node *n)
{
	h->nodes[i] = n;
	n->pos = i + 1;
}

static void sift_up(struct heap *h, size_t i)
{
	struct heap_node *n = h->nodes[i];

	while (i) {
		size_t parent = (i - 1) / 2;

		if (h->nodes[parent]->key <= n->key)
			break;
		set(h, i, h->nodes[parent]);
		i = parent;
	}
	set(h, i, n);
}

static void sift_down(struct heap *h, size_t i)
{
	struct heap_node *n = h->nodes[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len && h->nodes[child + 1]->key < h->nodes[child]->key)
			child++;
		if (n->key <= h->nodes[child]->key)
			break;
		set(h, i, h->nodes[child]);
		i = child;
	}
	set(h, i, n);
}

void heap__push(struct heap *h, struct heap_node *n)
{
	if (heap__queued(n) || h->len >= h->cap)
		return;		/* a caller bug; never corrupt the heap for it */
	set(h, h->len++, n);
	sift_up(h, h->len - 1);
}

void heap__del(struct heap *h, struct heap_node *n)
{
	struct heap_node *moved;
	size_t i = n->pos - 1;

	if (!heap__queued(n) || i >= h->len || h->nodes[i] != n)
		return;		/* not in this heap */
	n->pos = 0;
	if (i == --h->len)
		return;
	/* The last node fills the hole, then finds its place either way. */
	moved = h->nodes[h->len];
	set(h, i, moved);
	sift_up(h, i);
	sift_down(h, moved->pos - 1);
}

void heap__rekey(struct heap *h, struct heap_node *n, __u64 key)
{
	n->key = key;
	if (!heap__queued(n) || n->pos > h->len || h->nodes[n->pos - 1] != n)
		return;
	sift_up(h, n->pos - 1);
	sift_down(h, n->pos - 1);
}
