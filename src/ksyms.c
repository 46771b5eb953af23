// SPDX-License-Identifier: GPL-2.0
/*
 * kallsyms parsing. Only text symbols are kept: stacks only contain code
 * addresses and kprobes only attach to code. Addresses read as zero without
 * CAP_SYSLOG (kptr_restrict); names still answer ksyms__find().
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ksyms.h"

/* Longest function we trust to run past an object's last symbol. */
#define KSYMS_MAX_TAIL	0x10000

struct ksyms {
	struct ksym *syms;
	size_t nr;
	size_t cap;
	/* Names live in one arena: a few hundred thousand small strings. */
	char *strs;
	size_t strs_len;
	size_t strs_cap;
};

static long strs_add(struct ksyms *ks, const char *s)
{
	size_t len = strlen(s) + 1;

	if (ks->strs_len + len > ks->strs_cap) {
		size_t cap = ks->strs_cap ? ks->strs_cap * 2 : 1 << 20;
		char *p;

		while (cap < ks->strs_len + len)
			cap *= 2;
		p = realloc(ks->strs, cap);
		if (!p)
			return -1;
		ks->strs = p;
		ks->strs_cap = cap;
	}
	memcpy(ks->strs + ks->strs_len, s, len);
	ks->strs_len += len;
	return ks->strs_len - len;
}

static int ksyms_add(struct ksyms *ks, unsigned long addr, const char *name,
		     const char *module)
{
	long name_off, mod_off = -1;

	if (ks->nr == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 4096;
		struct ksym *p = realloc(ks->syms, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ks->syms = p;
		ks->cap = cap;
	}
	name_off = strs_add(ks, name);
	if (module)
		mod_off = strs_add(ks, module);
	if (name_off < 0 || (module && mod_off < 0))
		return -ENOMEM;
	/* Offsets for now: the arena may still move. */
	ks->syms[ks->nr].addr = addr;
	ks->syms[ks->nr].name = (const char *)(uintptr_t)name_off;
	ks->syms[ks->nr].module = module ? (const char *)(uintptr_t)mod_off : NULL;
	ks->nr++;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct ksyms *ksyms__load(const char *path)
{
	char line[512], name[256], module[128];
	struct ksyms *ks;
	unsigned long addr;
	FILE *f;
	int err = 0;
	char type;

	f = fopen(path, "r");
	if (!f)
		return NULL;
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (fgets(line, sizeof(line), f)) {
		int n = sscanf(line, "%lx %c %255s [%127[^]]]", &addr, &type, name, module);

		if (n < 3) {
			err = -EINVAL;
			goto cleanup;
		}
		if (type != 't' && type != 'T')
			continue;
		err = ksyms_add(ks, addr, name, n == 4 ? module : NULL);
		if (err)
			goto cleanup;
	}
	for (size_t i = 0; i < ks->nr; i++) {
		ks->syms[i].name = ks->strs + (uintptr_t)ks->syms[i].name;
		if (ks->syms[i].module)
			ks->syms[i].module = ks->strs + (uintptr_t)ks->syms[i].module;
	}
	if (ks->nr)	/* qsort(NULL, 0, ...) is undefined: an empty file */
		qsort(ks->syms, ks->nr, sizeof(*ks->syms), cmp_addr);
cleanup:
	fclose(f);
	if (err) {
		ksyms__free(ks);
		errno = -err;
		return NULL;
	}
	return ks;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->strs);
	free(ks);
}

static bool same_object(const struct ksym *a, const struct ksym *b)
{
	if (!a->module || !b->module)
		return a->module == b->module;
	return !strcmp(a->module, b->module);
}

const struct ksym *ksyms__resolve(const struct ksyms *ks, unsigned long addr)
{
	size_t lo = 0, hi = ks->nr;

	/* Find the last symbol whose address is <= addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !ks->syms[lo - 1].addr)
		return NULL;
	/*
	 * kallsyms has no sizes. A symbol ends where the next one of the same
	 * object starts; after the last one of vmlinux or a module, only a
	 * short tail is believed. Else an address in a gap (the module area
	 * beyond vmlinux) would print as "last_symbol+0x3f4e0000", which
	 * leaks the distance between separately randomized regions.
	 */
	if (lo == ks->nr || !same_object(&ks->syms[lo - 1], &ks->syms[lo])) {
		if (addr - ks->syms[lo - 1].addr >= KSYMS_MAX_TAIL)
			return NULL;
	}
	return &ks->syms[lo - 1];
}

const struct ksym *ksyms__find(const struct ksyms *ks, const char *name)
{
	for (size_t i = 0; i < ks->nr; i++)
		if (!strcmp(ks->syms[i].name, name))
			return &ks->syms[i];
	return NULL;
}
