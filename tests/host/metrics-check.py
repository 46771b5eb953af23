#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A --metrics file, parsed by the Prometheus client's own parser, against
the same run's NDJSON (Debian's python3, where python3-prometheus-client
lives).

  metrics-check.py METRICS RACEWATCH.json|- UP(0|1)

With "-" (a file taken while racewatch runs) only racewatch_up and the
families' presence are held.

Holds: racewatch_up is UP; windows by verdict, operations and candidate
inserts summed over filesystems equal the NDJSON's summary verdicts, its
inode records' ops and inserts; every filesystem label is one the NDJSON
names; lost counts are all 0; roles by mechanism equal the summary's plan.
Prints one line of counts, or the first difference on stderr (exit 1).
"""
import json
import sys
from collections import Counter

from prometheus_client.parser import text_string_to_metric_families


def die(msg):
    print(f"metrics-check: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    path, ndjson, up = sys.argv[1], sys.argv[2], int(sys.argv[3])
    samples = {}
    with open(path) as f:
        for fam in text_string_to_metric_families(f.read()):
            for s in fam.samples:
                samples.setdefault(s.name, []).append((s.labels, s.value))

    if [v for _, v in samples.get('racewatch_up', [])] != [up]:
        die(f"racewatch_up {samples.get('racewatch_up')}, want {up}")
    if ndjson == '-':
        want = {'racewatch_windows_total', 'racewatch_pages_total', 'racewatch_operations_total',
                'racewatch_candidate_inserts_total', 'racewatch_lost_total', 'racewatch_roles',
                'racewatch_metrics_write_errors_total'}
        if not want <= set(samples):
            die(f"families missing: {sorted(want - set(samples))}")
        print(f"up {up}, every family")
        return
    summary, ops, inserts, fs_names = None, 0, 0, set()
    with open(ndjson) as f:
        for line in f:
            r = json.loads(line)
            if r.get('type') == 'summary':
                summary = r
            elif r.get('type') == 'inode':
                ops += r['ops']
                inserts += r['inserts']
                fs_names.add(r['fs'])
    if summary is None:
        die("no summary in the NDJSON")

    def total(name, **match):
        return sum(v for labels, v in samples.get(name, [])
                   if all(labels.get(k) == want for k, want in match.items()))

    for verdict, n in summary['verdicts'].items():
        got = total('racewatch_windows_total', verdict=verdict)
        if got != n:
            die(f"windows verdict={verdict}: metrics {got}, NDJSON {n}")
    if total('racewatch_pages_total') < total('racewatch_windows_total'):
        die("fewer pages than windows")
    if total('racewatch_operations_total') != ops:
        die(f"operations: metrics {total('racewatch_operations_total')}, NDJSON inodes {ops}")
    if total('racewatch_candidate_inserts_total') != inserts:
        die(f"candidate inserts: metrics {total('racewatch_candidate_inserts_total')}, NDJSON {inserts}")
    fs_labels = {l['fs'] for name in ('racewatch_windows_total', 'racewatch_operations_total')
              for l, _ in samples.get(name, [])}
    if not fs_labels <= fs_names:
        die(f"fs labels {sorted(fs_labels)} beyond the NDJSON's {sorted(fs_names)}")
    lost = {l['reason']: v for l, v in samples.get('racewatch_lost_total', []) if v}
    if lost:
        die(f"lost: {lost}")
    plan = Counter(r['mech'] for r in summary['plan'].values())
    for labels, v in samples.get('racewatch_roles', []):
        want = plan.get(labels['mechanism'], 0)
        if v != want:
            die(f"roles mechanism={labels['mechanism']}: metrics {v}, plan {want}")
    print(f"up {up}, windows {int(total('racewatch_windows_total'))} "
          f"(race {int(total('racewatch_windows_total', verdict='race'))}), operations {ops}, "
          f"candidate inserts {inserts}, fs {','.join(sorted(fs_labels))}, no loss, roles as the plan")


if __name__ == '__main__':
    main()
