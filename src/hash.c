// SPDX-License-Identifier: GPL-2.0
/*
 * Open addressing with linear probing: one array, no per-entry allocation,
 * and a lookup touches one or two cache lines. Deletion shifts the entries
 * after the hole back instead of leaving tombstones, so a table that sees
 * adds and deletes forever (the engine's) never fills up with dead slots.
 */
#include <errno.h>
#include <stdlib.h>
#include "hash.h"

#define MIN_CAP		16

struct slot {
	__u64 hv;
	uintptr_t val;		/* 0: empty */
};

struct hash {
	struct slot *slots;
	size_t cap;		/* 0 or a power of two */
	size_t len;
};

struct hash *hash__new(void)
{
	return calloc(1, sizeof(struct hash));
}

void hash__free(struct hash *h)
{
	if (!h)
		return;
	free(h->slots);
	free(h);
}

size_t hash__len(const struct hash *h)
{
	return h->len;
}

static void place(struct slot *slots, size_t cap, __u64 hv, uintptr_t val)
{
	size_t i = hv & (cap - 1);

	while (slots[i].val)
		i = (i + 1) & (cap - 1);
	slots[i].hv = hv;
	slots[i].val = val;
}

static int grow(struct hash *h)
{
	size_t cap = h->cap ? h->cap * 2 : MIN_CAP;
	struct slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < h->cap; i++)
		if (h->slots[i].val)
			place(slots, cap, h->slots[i].hv, h->slots[i].val);
	free(h->slots);
	h->slots = slots;
	h->cap = cap;
	return 0;
}

int hash__add(struct hash *h, __u64 hv, uintptr_t val)
{
	/* At most 3/4 full; when growing fails, fill on while a slot is left
	 * empty, because probes stop only at an empty one. */
	if ((h->len + 1) * 4 > h->cap * 3 && grow(h) && h->len + 1 >= h->cap)
		return -ENOMEM;
	place(h->slots, h->cap, hv, val);
	h->len++;
	return 0;
}

uintptr_t hash__find(const struct hash *h, __u64 hv, hash_eq_fn eq, const void *key)
{
	if (!h->len)
		return 0;
	for (size_t i = hv & (h->cap - 1); h->slots[i].val; i = (i + 1) & (h->cap - 1))
		if (h->slots[i].hv == hv && eq(h->slots[i].val, key))
			return h->slots[i].val;
	return 0;
}

bool hash__del(struct hash *h, __u64 hv, uintptr_t val)
{
	size_t mask = h->cap - 1, i, j;

	if (!h->len)
		return false;
	for (i = hv & mask; h->slots[i].val != val; i = (i + 1) & mask)
		if (!h->slots[i].val)
			return false;
	/*
	 * Close the hole: an entry further along the run moves into it when
	 * its home slot is not after the hole (cyclically), or a lookup that
	 * starts at its home would stop at the hole and miss it.
	 */
	for (j = (i + 1) & mask; h->slots[j].val; j = (j + 1) & mask) {
		size_t home = h->slots[j].hv & mask;
		bool reachable = i <= j ? (home > i && home <= j) : (home > i || home <= j);

		if (!reachable) {
			h->slots[i] = h->slots[j];
			i = j;
		}
	}
	h->slots[i].val = 0;
	h->slots[i].hv = 0;
	h->len--;
	return true;
}
