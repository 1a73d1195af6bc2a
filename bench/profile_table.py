#!/usr/bin/env python3
"""Sums chrome traces of libtorch operators (graft bench --profile, bench/torch_bench.py --profile) per operator.

    bench/profile_table.py graft.json torch.json [--iterations N] [--top 25]

Prints, per operator name, its self time (its own time, not the operators it called) in ms per timed
iteration, for each trace side by side, so the operators where one side loses are in the first rows.
"""
import argparse
import collections
import json


def self_times(path):
    with open(path) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e and e.get("cat", "cpu_op") in ("cpu_op", "operator", "Operator"):
            by_thread[(e.get("pid"), e.get("tid"))].append(e)
    totals = collections.Counter()
    counts = collections.Counter()
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, name, child time]
        def close(until):
            while stack and stack[-1][0] <= until:
                end, name, child, dur = stack.pop()
                totals[name] += dur - child
                if stack:
                    stack[-1][2] += dur
        for e in evs:
            ts, dur = float(e["ts"]), float(e["dur"])
            close(ts)
            stack.append([ts + dur, e["name"], 0.0, dur])
            counts[e["name"]] += 1
        close(float("inf"))
    return totals, counts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("traces", nargs="+")
    p.add_argument("--iterations", type=int, default=10, help="timed iterations in each trace")
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args()
    sides = [self_times(t) for t in a.traces]
    names = collections.Counter()
    for totals, _ in sides:
        for k, v in totals.items():
            names[k] = max(names[k], v)
    print("| operator | " + " | ".join(f"{t}: ms/iter (calls/iter)" for t in a.traces) + " |")
    print("|---|" + "---|" * len(sides))
    for name, _ in names.most_common(a.top):
        cells = [f"{s[0][name] / 1000 / a.iterations:.1f} ({s[1][name] / a.iterations:.0f})" for s in sides]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("| total | " + " | ".join(f"{sum(s[0].values()) / 1000 / a.iterations:.1f}" for s in sides) + " |")


if __name__ == "__main__":
    main()
