#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A --perfetto trace, parsed whole (json), against the same run's NDJSON.

  perfetto-check.py TRACE.json RACEWATCH.json

Holds the structure of the Trace Event Format: an object with
traceEvents, every event with a known phase, pid and tid, timestamps in
microseconds; each filesystem process named "TYPE MAJ:MIN", each inode
track "ino N". And the content:
  - operation slices ("X", cat op): per inode exactly the NDJSON inode
    record's ops, each on its own inode's track, none overlapping another
    on that track;
  - invalidation slices: per inode exactly its "invalidations" but the
    bare ones (no operation around them: instants instead), each inside
    its operation's slice on the same track;
  - insert instants: per inode exactly its "inserts", on a track named
    for the inserting task;
  - window instants (cat race or window): exactly the NDJSON's window
    records, one each (verdict, inode, first page, operation, insert time
    to the nanosecond), races in cat race.
Prints one line of counts, or the first difference on stderr (exit 1).
"""
import json
import sys
from collections import Counter, defaultdict


def die(msg):
    print(f"perfetto-check: {msg}", file=sys.stderr)
    sys.exit(1)


def ns(us):
    """Microseconds as written (3 decimals) back to integer nanoseconds."""
    return round(us * 1000)


def main():
    with open(sys.argv[1]) as f:
        trace = json.load(f)
    if not isinstance(trace, dict) or not isinstance(trace.get('traceEvents'), list):
        die("not an object with a traceEvents array")
    events = trace['traceEvents']
    proc_names, thread_names = {}, {}
    for e in events:
        for key in ('ph', 'pid'):
            if key not in e:
                die(f"event without {key}: {e}")
        if e['ph'] not in ('M', 'X', 'i'):
            die(f"unexpected phase {e['ph']}")
        if e['ph'] == 'M':
            if e['name'] == 'process_name':
                proc_names[e['pid']] = e['args']['name']
            elif e['name'] == 'thread_name':
                thread_names[(e['pid'], e['tid'])] = e['args']['name']
            continue
        if 'tid' not in e or not isinstance(e.get('ts'), (int, float)):
            die(f"event without tid or numeric ts: {e}")
        if e['ph'] == 'X' and not isinstance(e.get('dur'), (int, float)):
            die(f"slice without dur: {e}")

    inodes, windows = {}, []
    with open(sys.argv[2]) as f:
        for line in f:
            r = json.loads(line)
            if r.get('type') == 'inode':
                inodes[(r['dev'], r['ino'])] = r
            elif r.get('type') == 'window':
                windows.append(r)
    if not inodes:
        die("no inode record in the NDJSON")

    def dev_of(pid):
        name = proc_names.get(pid)
        if not name:
            die(f"process {pid} has no name")
        return name.split(' ')[-1]

    ops, invals, inserts, bare = defaultdict(list), defaultdict(list), Counter(), Counter()
    got_windows = Counter()
    for e in events:
        if e['ph'] == 'M':
            continue
        cat, args, key = e.get('cat'), e.get('args', {}), (e['pid'], e['tid'])
        if cat == 'invalidation' and e['ph'] == 'i':
            bare[(dev_of(e['pid']), int(thread_names.get(key, 'ino 0').split(' ')[1]))] += 1
        elif cat in ('op', 'invalidation'):
            want = f"ino {args.get('ino')}" if cat == 'op' else None
            track = thread_names.get(key)
            if not track or not track.startswith('ino '):
                die(f"{cat} slice on a track not named for an inode: {key} {track}")
            if want and track != want:
                die(f"operation {args.get('op_id')} of ino {args.get('ino')} on track {track}")
            ino = int(track.split(' ')[1])
            (ops if cat == 'op' else invals)[(dev_of(e['pid']), ino)].append(e)
        elif cat == 'insert':
            if key not in thread_names:
                die(f"insert on an unnamed track {key}")
            inserts[(dev_of(e['pid']), args['ino'])] += 1
        elif cat in ('race', 'window'):
            if (cat == 'race') != (args['verdict'] == 'race'):
                die(f"window verdict {args['verdict']} in cat {cat}")
            got_windows[(args['verdict'], dev_of(e['pid']), args['ino'], args['first'],
                         args['op_id'], ns(e['ts']))] += 1
        elif cat != 'free':
            die(f"unexpected cat {cat}")

    n_ops = n_invals = n_inserts = 0
    for (dev, ino), r in inodes.items():
        o, iv = ops.get((dev, ino), []), invals.get((dev, ino), [])
        if len(o) != r['ops']:
            die(f"{dev} ino {ino}: {len(o)} operation slices, NDJSON ops {r['ops']}")
        if len(iv) != r['invalidations'] - r['bare_invalidations'] or \
                bare.get((dev, ino), 0) != r['bare_invalidations']:
            die(f"{dev} ino {ino}: {len(iv)} invalidation slices and {bare.get((dev, ino), 0)} "
                f"instants, NDJSON {r['invalidations']} of which {r['bare_invalidations']} bare")
        if inserts.get((dev, ino), 0) != r['inserts']:
            die(f"{dev} ino {ino}: {inserts.get((dev, ino), 0)} inserts, NDJSON {r['inserts']}")
        spans = sorted((ns(e['ts']), ns(e['ts']) + ns(e['dur']), e['args']['op_id']) for e in o)
        for a, b in zip(spans, spans[1:]):
            if b[0] < a[1]:
                die(f"{dev} ino {ino}: operations {a[2]} and {b[2]} overlap on one track")
        by_id = {s[2]: s for s in spans}
        for e in iv:
            s = by_id.get(e['args']['op_id'])
            t0, t1 = ns(e['ts']), ns(e['ts']) + ns(e['dur'])
            if not s or t0 < s[0] or t1 > s[1]:
                die(f"invalidation of operation {e['args']['op_id']} outside its slice")
        n_ops, n_invals, n_inserts = n_ops + len(o), n_invals + len(iv), n_inserts + r['inserts']
    extra = set(ops) - set(inodes)
    if extra:
        die(f"operation slices on inodes the NDJSON has no record of: {sorted(extra)[:3]}")

    want_windows = Counter((w['verdict'], w['dev'], w['ino'], w['first'], w['op']['id'], w['ts_ns'])
                           for w in windows)
    if got_windows != want_windows:
        missing = want_windows - got_windows
        extra = got_windows - want_windows
        die(f"windows differ: {sum(missing.values())} in the NDJSON only, "
            f"{sum(extra.values())} in the trace only; first {(list(missing) or list(extra))[0]}")
    races = sum(n for k, n in got_windows.items() if k[0] == 'race')
    print(f"{len(events)} events: {n_ops} operation slices, {n_invals} invalidations inside them, "
          f"{n_inserts} inserts, {len(windows)} windows ({races} race), as the NDJSON; "
          f"{len(proc_names)} filesystem processes, {len(thread_names)} named tracks")


if __name__ == '__main__':
    main()
