// SPDX-License-Identifier: GPL-2.0
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include "racewatch.h"
#include "cli.h"
#include "probe.h"
#include "version.h"

/* One line per mechanism, as the attach plan would find it: "yes", or
 * "no" with the probe's reason. */
static void mechanisms(FILE *out)
{
	struct plan_probes probes;
	struct probe_ctx probe;
	const char *why;
	int err = probe__init(&probe);

	if (err) {
		fprintf(out, "attach: none (the kernel has no BTF: CONFIG_DEBUG_INFO_BTF)\n");
		return;
	}
	probe__fill(&probe, &probes);
	why = probes.fentry_unusable(probes.ctx);
	fprintf(out, "attach fentry: %s%s%s\n", why ? "no (" : "yes", why ? why : "", why ? ")" : "");
	why = probes.kprobe_unusable(probes.ctx);
	fprintf(out, "attach kprobe: %s%s%s\n", why ? "no (" : "yes", why ? why : "", why ? ")" : "");
	/* The one tracepoint every plan needs: the page-cache insert's. */
	why = probes.tracepoint_missing(probes.ctx, "filemap", "mm_filemap_add_to_page_cache");
	fprintf(out, "attach tracepoint: %s%s%s\n", why ? "no (" : "yes", why ? why : "",
		why ? ")" : "");
	probe__fini(&probe);
}

int version__print(FILE *out, bool privileged)
{
	struct utsname u;

	fprintf(out, "racewatch %s\n", RACEWATCH_VERSION);
	fprintf(out, "record version %d (NDJSON \"v\", trace_marker v=)\n", RW_ABI_VERSION);
	fprintf(out, "libbpf %u.%u\n", libbpf_major_version(), libbpf_minor_version());
	fprintf(out, "kernel %s\n", uname(&u) ? "?" : u.release);
	if (privileged)
		mechanisms(out);
	else
		fprintf(out, "attach: not probed (needs root, or CAP_BPF+CAP_PERFMON)\n");
	return fflush(out) || ferror(out) ? RW_EXIT_FAILURE : RW_EXIT_OK;
}
