/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel text symbols from a kallsyms file, for stacks and kprobe checks. */
#ifndef RACEWATCH_KSYMS_H
#define RACEWATCH_KSYMS_H

struct ksym {
	unsigned long addr;
	const char *name;
	const char *module;	/* NULL for vmlinux */
};

struct ksyms;

/* Text symbols (t/T) from path, normally /proc/kallsyms; NULL + errno. */
struct ksyms *ksyms__load(const char *path);
void ksyms__free(struct ksyms *ks);

/* The symbol containing addr (greatest address <= addr, and addr before the
 * next symbol of the same object or within 64 KiB of an object's last), or NULL. */
const struct ksym *ksyms__resolve(const struct ksyms *ks, unsigned long addr);
/* The first symbol with this exact name, or NULL. */
const struct ksym *ksyms__find(const struct ksyms *ks, const char *name);

#endif /* RACEWATCH_KSYMS_H */
