// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "events.h"
#include "rates.h"

#define NS_PER_S	1000000000ULL

void rates__start(struct rates *r, const __u64 records[RW_REC_MAX], __u64 now_ns)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->last, records, sizeof(r->last));
	r->last_ns = now_ns;
}

bool rates__sample(struct rates *r, const __u64 records[RW_REC_MAX], __u64 now_ns,
		   __u64 per_s[RW_REC_MAX])
{
	__u64 elapsed = now_ns - r->last_ns;

	if (now_ns < r->last_ns || elapsed < NS_PER_S)
		return false;
	for (int t = 0; t < RW_REC_MAX; t++) {
		__u64 n = records[t] - r->last[t];

		per_s[t] = (__u64)((unsigned __int128)n * NS_PER_S / elapsed);
		if (per_s[t] > r->peak[t])
			r->peak[t] = per_s[t];
	}
	memcpy(r->last, records, sizeof(r->last));
	r->last_ns = now_ns;
	return true;
}

int rates__format(const __u64 counts[RW_REC_MAX], char *buf, size_t len)
{
	int off = 0;

	if (len)
		buf[0] = '\0';
	for (int t = 1; t < RW_REC_MAX; t++) {
		if (!counts[t])
			continue;
		off += snprintf(buf + off, (size_t)off < len ? len - off : 0, "%s%s %llu",
				off ? " " : "", events__type_name(t),
				(unsigned long long)counts[t]);
	}
	return off;
}
