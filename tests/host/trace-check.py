#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""racewatch's trace_marker lines in a `trace-cmd report` against its NDJSON.

  trace-check.py REPORT.txt RACEWATCH.json PAGE_SIZE INSTANCE

Only the lines of ftrace instance INSTANCE count (trace-cmd report prefixes
each with "INSTANCE:"); the global buffer's are another capture's. With
INSTANCE "-", REPORT is one instance's text as `trace-cmd show -B` prints
it, without prefixes.

The capture ran on trace clock "mono" with filemap:mm_filemap_add_to_page_cache
enabled. Checks, each of which fails with one line on stderr (exit 1):
  - every window record of the NDJSON has exactly one marker line, and every
    marker line one record (verdict, inode, first page, operation, insert
    time, inserter);
  - the SUMMARY line comes last, once, and its counts are the NDJSON
    summary's and the number of window lines;
  - the lines are in time order, and each window's line comes after the
    kernel's own insert event of its page: same device, inode, offset and
    inserting thread, at the window's insert_ns (within 1 ms).
Prints one line of counts on success.
"""
import json
import re
import sys

MARK = re.compile(r'^.*?\s(\d+\.\d+): (?:print:\s+)?tracing_mark_write: racewatch: (\S+) (.*)$')
ADD = re.compile(r'^\s*(.*)-(\d+)\s+\[\d+\]\s+(?:\S+\s+)?(\d+\.\d+): mm_filemap_add_to_page_cache: '
                 r'dev (\d+):(\d+) ino ([0-9a-f]+) .*ofs=(\d+)')
INSERT_SLACK_NS = 1_000_000


def die(msg):
    print(f"trace-check: {msg}", file=sys.stderr)
    sys.exit(1)


def fields(rest):
    out = {}
    for tok in rest.split(' '):
        key, sep, val = tok.partition('=')
        if not sep:
            die(f"not key=value: {tok!r} in {rest[:200]!r}")
        if key in out:
            die(f"key {key} twice in {rest[:200]!r}")
        out[key] = val
    return out


def to_ns(ts):
    sec, frac = ts.split('.')
    return int(sec) * 1_000_000_000 + int(frac.ljust(9, '0'))


def main():
    report, ndjson, page_size, instance = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    marks, adds = [], {}
    prefix = re.compile(r'^\s*' + re.escape(instance) + r':\s' if instance != '-' else r'')
    with open(report, errors='replace') as f:
        for line in f:
            m = prefix.match(line)
            if not m or line.startswith('#'):
                continue
            line = line[m.end():]
            m = MARK.match(line)
            if m:
                marks.append((to_ns(m.group(1)), m.group(2), fields(m.group(3))))
                continue
            a = ADD.match(line)
            if a:
                key = (f"{a.group(4)}:{a.group(5)}", int(a.group(6), 16), int(a.group(7)))
                adds.setdefault(key, []).append((to_ns(a.group(3)), int(a.group(2))))

    windows, summary = [], None
    with open(ndjson) as f:
        for line in f:
            r = json.loads(line)
            if r.get('type') == 'window':
                windows.append(r)
            elif r.get('type') == 'summary':
                summary = r
    if summary is None:
        die("no summary record in the NDJSON")
    if not windows:
        die("racewatch reported no window: nothing to check")

    kinds = [k for _, k, _ in marks]
    if kinds.count('SUMMARY') != 1 or kinds[-1] != 'SUMMARY':
        die(f"want one SUMMARY line, last; got {kinds.count('SUMMARY')}, last {kinds[-1] if kinds else None}")
    times = [t for t, _, _ in marks]
    if times != sorted(times):
        die("marker lines out of time order")

    def key_of(verdict, dev, ino, first, op_id, insert_ns, tid):
        return (verdict, dev, int(ino), int(first), int(op_id), int(insert_ns), int(tid))

    want = {}
    for w in windows:
        k = key_of(w['verdict'], w['dev'], w['ino'], w['first'], w['op']['id'], w['ts_ns'],
                   w['inserter']['tid'])
        want[k] = want.get(k, 0) + 1
    got = {}
    matched_adds = 0
    for t, kind, f in marks[:-1]:
        if kind not in ('RACE', 'WINDOW') or (kind == 'RACE') != (f['verdict'] == 'race'):
            die(f"line kind {kind} with verdict {f.get('verdict')}")
        first = int(f['pages'].split('-')[0])
        k = key_of(f['verdict'], f['dev'], f['ino'], first, f['op_id'], f['insert_ns'],
                   f['inserter_tid'])
        got[k] = got.get(k, 0) + 1
        insert_ns = int(f['insert_ns'])
        if t < insert_ns:
            die(f"line at {t} before its insert at {insert_ns}")
        events = adds.get((f['dev'], int(f['ino']), first * page_size), [])
        if not any(tid == int(f['inserter_tid']) and abs(ts - insert_ns) <= INSERT_SLACK_NS and ts <= t
                   for ts, tid in events):
            die(f"no mm_filemap_add_to_page_cache of dev {f['dev']} ino {f['ino']} page {first} by "
                f"tid {f['inserter_tid']} at {insert_ns} (events of that page: {events[:4]})")
        matched_adds += 1
    if got != want:
        only_json = [k for k in want if want[k] != got.get(k, 0)]
        only_trace = [k for k in got if got[k] != want.get(k, 0)]
        die(f"windows differ: {len(only_json)} keys off in the NDJSON, {len(only_trace)} in the "
            f"trace; first {(only_json or only_trace)[0]}")

    s = marks[-1][2]
    json_windows = sum(summary['verdicts'].values())
    checks = {'window_lines': len(marks) - 1, 'windows': json_windows,
              'race': summary['verdicts']['race'], 'race_class': summary['race_class']}
    for key, val in checks.items():
        if int(s[key]) != val:
            die(f"SUMMARY {key}={s[key]}, want {val}")
    print(f"{len(windows)} windows, {len(marks) - 1} window lines, each once and after its "
          f"kernel insert event ({matched_adds} matched); SUMMARY windows={s['windows']} "
          f"race={s['race']} race_class={s['race_class']} last")


if __name__ == '__main__':
    main()
