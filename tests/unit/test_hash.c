// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's containers: the open-addressing hash table (probe runs,
 * deletion that shifts entries back, growth) and the intrusive heap,
 * each checked against a plain array that knows the answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include "harness.h"
#include "hash.h"
#include "heap.h"
#include "suites.h"

#define N	2000

/* Values are key + 1; keys are their own identity. */
static bool val_is(uintptr_t v, const void *key)
{
	return v == *(const uintptr_t *)key + 1;
}

/* A weak hash on purpose: runs of equal hashes, and runs that wrap. */
static __u64 weak(uintptr_t key)
{
	return key % 7 == 0 ? 5 : key / 3;
}

static uintptr_t find(const struct hash *h, uintptr_t key)
{
	return hash__find(h, weak(key), val_is, &key);
}

static void test_hash_against_array(void)
{
	struct hash *h = hash__new();
	static bool in[N];
	unsigned int seed = 1;
	int wrong = 0, present = 0;

	ASSERT_TRUE(h != NULL, "new");
	memset(in, 0, sizeof(in));
	ASSERT_EQ(find(h, 3), 0, "empty table");
	for (int round = 0; round < 20000; round++) {
		uintptr_t key = rand_r(&seed) % N;

		if (in[key]) {
			ASSERT_TRUE(hash__del(h, weak(key), key + 1), "delete present");
			in[key] = false;
		} else {
			ASSERT_EQ(hash__add(h, weak(key), key + 1), 0, "add");
			in[key] = true;
		}
		/* Every few steps, every key must be found exactly when in. */
		if (round % 997)
			continue;
		for (uintptr_t k = 0; k < N; k++)
			wrong += (find(h, k) != 0) != in[k];
	}
	for (uintptr_t k = 0; k < N; k++) {
		wrong += (find(h, k) != 0) != in[k];
		present += in[k];
	}
	ASSERT_EQ(wrong, 0, "lookups that disagree with the array");
	ASSERT_EQ(hash__len(h), present, "length");
	ASSERT_TRUE(!hash__del(h, weak(N + 5), N + 6), "delete absent");
	hash__free(h);
}

/* Everything at one hash: one run that wraps the end of the table. */
static void test_hash_one_run(void)
{
	struct hash *h = hash__new();
	int wrong = 0;

	for (uintptr_t k = 0; k < 12; k++)
		hash__add(h, 15, k + 1);	/* 16 slots: the run wraps at 15 */
	ASSERT_TRUE(hash__del(h, 15, 1), "delete the run's first");
	ASSERT_TRUE(hash__del(h, 15, 7), "delete from the middle");
	for (uintptr_t k = 0; k < 12; k++) {
		uintptr_t v = hash__find(h, 15, val_is, &k);

		wrong += k == 0 || k == 6 ? v != 0 : v != k + 1;
	}
	ASSERT_EQ(wrong, 0, "lookups after deletes in a wrapping run");
	hash__free(h);
}

static void test_hash_mix(void)
{
	/* Sequential inputs must spread over the low bits. */
	unsigned int seen = 0;

	for (__u64 i = 0; i < 64; i++)
		seen |= 1u << (hash__mix(i) & 31);
	ASSERT_TRUE(__builtin_popcount(seen) > 20, "low bits spread");
	ASSERT_TRUE(hash__mix(1) != hash__mix(2), "distinct");
}

struct item {
	struct heap_node node;
	bool gone;
};

static void test_heap_order(void)
{
	static struct item items[N];
	struct heap *h = heap__new(N), *other = heap__new(4);
	unsigned int seed = 7;
	__u64 last = 0;
	int out_of_order = 0, popped = 0, removed = 0;

	ASSERT_TRUE(h && other, "new");
	ASSERT_TRUE(heap__min(h) == NULL, "empty");
	memset(items, 0, sizeof(items));
	for (int i = 0; i < N; i++) {
		items[i].node.key = rand_r(&seed) % 500;	/* many equal keys */
		heap__push(h, &items[i].node);
	}
	ASSERT_EQ(heap__len(h), N, "all pushed");
	heap__del(other, &items[3].node);	/* not its heap: no effect */
	ASSERT_EQ(heap__len(h), N, "delete from the wrong heap ignored");
	for (int i = 0; i < N; i += 3) {
		heap__del(h, &items[i].node);
		items[i].gone = true;
		removed++;
	}
	for (int i = 1; i < N; i += 5)
		if (!items[i].gone)
			heap__rekey(h, &items[i].node, rand_r(&seed) % 500);
	ASSERT_EQ(heap__len(h), N - removed, "after deletes");
	for (struct heap_node *n; (n = heap__min(h)); popped++) {
		out_of_order += n->key < last;
		last = n->key;
		heap__del(h, n);
		ASSERT_TRUE(!heap__queued(n), "popped node is out");
	}
	ASSERT_EQ(out_of_order, 0, "keys out of order");
	ASSERT_EQ(popped, N - removed, "popped");
	heap__free(h);
	heap__free(other);
}

void suite_hash(void)
{
	harness_suite("hash");
	RUN(test_hash_against_array);
	RUN(test_hash_one_run);
	RUN(test_hash_mix);
	RUN(test_heap_order);
}
