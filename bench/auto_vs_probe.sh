#!/usr/bin/env bash
# The default recipe (auto) against the linear probe, seeds 1-3, on hotdog (full and 25/50/100 per class) and
# flowers12 (full and 10/20 per class), MobileNet v1 0.75 with the real ImageNet weights. Writes one compare run per
# set under runs/auto_vs_probe/ and prints a markdown table (test accuracy per seed, mean, time per run).
# Usage: bench/auto_vs_probe.sh [sets...]   e.g. bench/auto_vs_probe.sh hotdog:25 flowers12:full
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GRAFT_SHARED:-../shared}
weights=$shared/models/keras-mobilenet_v1_0.75_224
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(hotdog:25 hotdog:50 hotdog:100 hotdog:full flowers12:10 flowers12:20 flowers12:full)
for s in "${sets[@]}"; do
  data=${s%%:*}; n=${s##*:}
  out=runs/auto_vs_probe/$data-$n
  extra=()
  [ "$n" = full ] || extra=(--per-class "$n")
  ${GRAFT:-./graft} compare --data "$shared/data/$data" --model mobilenet_v1_0.75 --weights "$weights" --recipe auto \
      --modes finetune,probe --seeds 1,2,3 --out "$out" --overwrite "${extra[@]}" > "$out.log" 2>&1 || { echo "failed: $s (see $out.log)"; exit 1; }
  /usr/bin/python3 - "$out/compare.json" "$s" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
modes = {m["mode"]: m for m in c["modes"]}
a, p = modes["finetune"], modes["probe"]
fmt = lambda m: ", ".join("%.3f" % r["test_acc"] for r in m["seeds"])
worst = min(ra["test_acc"] - rp["test_acc"] for ra, rp in zip(a["seeds"], p["seeds"]))
print("| %s | %s | %.4f | %s | %.4f | %+.2f | %+.2f | %.0f s / %.0f s |" % (sys.argv[2], fmt(a), a["test_acc"], fmt(p), p["test_acc"],
      100 * (a["test_acc"] - p["test_acc"]), 100 * worst, a["wall_seconds"], p["wall_seconds"]))
PY
done
