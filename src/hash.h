/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small open-addressing hash table (linear probing) of non-zero values.
 * The caller hashes its keys and compares them: the table keeps each value
 * with its 64-bit hash, so that growing never calls back. Keys are unique
 * in a table; its users keep them so. A value is a pointer, or an index
 * plus one: whatever the caller's equality function understands.
 */
#ifndef RACEWATCH_HASH_H
#define RACEWATCH_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

struct hash;

/* Does val, stored in the table, have this key? */
typedef bool (*hash_eq_fn)(uintptr_t val, const void *key);

struct hash *hash__new(void);
void hash__free(struct hash *h);
/* Add val (non-zero) under hash hv: 0, or -ENOMEM when the table is full
 * and cannot grow. */
int hash__add(struct hash *h, __u64 hv, uintptr_t val);
/* The value stored under hv whose key eq() says is key; 0 when none. */
uintptr_t hash__find(const struct hash *h, __u64 hv, hash_eq_fn eq, const void *key);
/* Remove val, which was added under hv; false when it is not there. */
bool hash__del(struct hash *h, __u64 hv, uintptr_t val);
size_t hash__len(const struct hash *h);

/* Mix 64 bits so that every input bit moves every output bit: page indexes,
 * inode numbers and op ids are sequential, and the table uses low bits.
 * (The 64-bit finalizer of MurmurHash3.) Inline: it runs several times
 * per record. */
static inline __u64 hash__mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Odd constants to spread a key's words apart before one mix of them all. */
#define HASH_K1		0x9e3779b97f4a7c15ULL
#define HASH_K2		0xc2b2ae3d27d4eb4fULL

#endif /* RACEWATCH_HASH_H */
