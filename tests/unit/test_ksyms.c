// SPDX-License-Identifier: GPL-2.0
/* kallsyms symbolization against a fixture file. */
#include <errno.h>
#include <stdlib.h>
#include "harness.h"
#include "ksyms.h"
#include "suites.h"

static void test_resolve(void)
{
	struct ksyms *ks = ksyms__load(harness_fixture("kallsyms"));
	const struct ksym *s;

	ASSERT_TRUE(ks != NULL, "load fixture");
	if (!ks)
		return;
	s = ksyms__resolve(ks, 0xffffffff81200190);
	ASSERT_STREQ(s ? s->name : NULL, "__filemap_add_folio", "inside a static function");
	ASSERT_EQ(s ? 0xffffffff81200190 - s->addr : 0, 0x10, "offset");
	s = ksyms__resolve(ks, 0xffffffff81200500);
	ASSERT_STREQ(s ? s->name : NULL, "__filemap_add_folio", "data symbols are skipped");
	s = ksyms__resolve(ks, 0xffffffffc0100004);
	ASSERT_STREQ(s ? s->module : NULL, "ext4", "module name");
	ASSERT_TRUE(ksyms__resolve(ks, 0x1000) == NULL, "below the first symbol");
	/* No sizes in kallsyms: an object's last symbol gets a 64 KiB tail. */
	s = ksyms__resolve(ks, 0xffffffff8130fff0);
	ASSERT_STREQ(s ? s->name : NULL, "truncate_inode_pages_range", "vmlinux's last, in the tail");
	ASSERT_TRUE(ksyms__resolve(ks, 0xffffffff81310000) == NULL,
		    "past vmlinux's last symbol: a gap, not +0x10000");
	ASSERT_TRUE(ksyms__resolve(ks, 0xffffffffc0000000) == NULL, "module area before a module");
	s = ksyms__resolve(ks, 0xffffffffc0100810);
	ASSERT_STREQ(s ? s->name : NULL, "ext4_punch_hole", "the last symbol");
	ASSERT_TRUE(ksyms__resolve(ks, 0xffffffffc0110800) == NULL, "past the last symbol");
	ksyms__free(ks);
}

static void test_find(void)
{
	struct ksyms *ks = ksyms__load(harness_fixture("kallsyms"));

	ASSERT_TRUE(ks != NULL, "load fixture");
	if (!ks)
		return;
	ASSERT_TRUE(ksyms__find(ks, "ext4_punch_hole") != NULL, "module symbol by name");
	ASSERT_TRUE(ksyms__find(ks, "some_data") == NULL, "data symbol is not a kprobe target");
	ASSERT_TRUE(ksyms__find(ks, "ext4_punch") == NULL, "prefix is not a match");
	ksyms__free(ks);
	ksyms__free(NULL);
}

static void test_missing_file(void)
{
	ASSERT_TRUE(ksyms__load(harness_fixture("does-not-exist")) == NULL, "missing file");
	ASSERT_EQ(errno, ENOENT, "errno");
}

/* A masked /proc/kallsyms (bound to /dev/null) holds no symbol at all. */
static void test_empty_file(void)
{
	struct ksyms *ks = ksyms__load("/dev/null");

	ASSERT_TRUE(ks != NULL, "load an empty file");
	if (!ks)
		return;
	ASSERT_TRUE(ksyms__resolve(ks, 0xffffffff81200190) == NULL, "nothing resolves");
	ASSERT_TRUE(ksyms__find(ks, "ext4_punch_hole") == NULL, "nothing is found");
	ksyms__free(ks);
}

void suite_ksyms(void)
{
	harness_suite("ksyms");
	RUN(test_resolve);
	RUN(test_find);
	RUN(test_missing_file);
	RUN(test_empty_file);
}
