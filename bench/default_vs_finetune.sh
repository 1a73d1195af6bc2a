#!/usr/bin/env bash
# Issue 19's table: graft's default (auto, medium), --quality fast, the linear probe, and a hand-made fine-tune sweep
# (SGD momentum 0.9, cosine, 10 epochs, batch 32, weight decay 1e-4, the book's augmentation, BatchNorm training,
# Xavier head at 10x) at three mean-loss rates spanning 30x, on each set and seed, MobileNet v1 0.75 with its real
# ImageNet weights. The test sets are never used for a choice inside a run; the sweep's best rate is picked on test
# (an oracle). Every run's metrics.json is kept under runs/default_vs_finetune/<set>/<variant>-seed<N>/.
# Prints one line per run as it goes, then the markdown table with the targets checked, and the CPU.
#
# Usage: bench/default_vs_finetune.sh [sets...]      e.g. SEEDS="1 2 3" RATES="1e-3 5.5e-3 3e-2" bench/default_vs_finetune.sh sketch7 flowers12 hotdog
#   VARIANTS="default fast probe sweep" (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GRAFT_SHARED:-../shared}
weights=$shared/models/keras-mobilenet_v1_0.75_224
graft=${GRAFT:-./graft}
seeds=${SEEDS:-1 2 3}
rates=${RATES:-1e-3 5.5e-3 3e-2}
variants=${VARIANTS:-default fast probe sweep}
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(hotdog flowers12 sketch7)
root=runs/default_vs_finetune
mkdir -p "$root"
results=$root/results.tsv
[ -f "$results" ] || echo -e "set\tvariant\tseed\ttest_acc\tseconds\tkept" > "$results"

run() {  # set variant seed args...
  local set=$1 variant=$2 seed=$3; shift 3
  local out=$root/$set/$variant-seed$seed
  if [ -f "$out/metrics.json" ]; then return; fi
  mkdir -p "$root/$set"
  local t0=$(date +%s.%N)
  if ! $graft train --data "$shared/data/$set" --model mobilenet_v1_0.75 --weights "$weights" --seed "$seed" \
        --out "$out" --overwrite --no-progress "$@" > "$out.log" 2>&1; then
    echo "failed: $set $variant seed $seed (see $out.log)"; return
  fi
  local t1=$(date +%s.%N)
  /usr/bin/python3 - "$out/metrics.json" "$set" "$variant" "$seed" "$(echo "$t1 - $t0" | bc)" >> "$results" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
sel = m.get("selection") or ""
kept = "probe" if sel.startswith("kept the probe") else ("fine-tune" if sel else "-")
print("%s\t%s\t%s\t%.4f\t%.1f\t%s" % (sys.argv[2], sys.argv[3], sys.argv[4], m["test_acc"], float(sys.argv[5]), kept))
PY
  tail -1 "$results"
}

for set in "${sets[@]}"; do
  for seed in $seeds; do
    for v in $variants; do
      case $v in
        default) run "$set" default "$seed" ;;
        fast) run "$set" fast "$seed" --quality fast ;;
        probe) run "$set" probe "$seed" --mode probe ;;
        sweep) for lr in $rates; do
                 run "$set" "sgd-$lr" "$seed" --recipe book --mode finetune --loss mean --lr "$lr" --momentum 0.9 \
                     --schedule cosine --epochs 10 --batch-size 32 --weight-decay 1e-4
               done ;;
      esac
    done
  done
done

/usr/bin/python3 - "$results" "${sets[@]}" <<'PY'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
sets = sys.argv[2:]
acc = collections.defaultdict(dict)
sec = collections.defaultdict(dict)
kept = collections.defaultdict(dict)
for s, v, seed, a, t, k in rows:
    acc[(s, v)][seed] = float(a); sec[(s, v)][seed] = float(t); kept[(s, v)][seed] = k
mean = lambda d: statistics.mean(d.values()) if d else float("nan")
print("| set | default: per seed (kept) | mean | probe: per seed | mean | fast: mean | sweep best rate (oracle): mean | "
      "default - probe | worst seed vs probe | default - oracle | time per run: default / fast / probe / one 10-epoch run |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for s in sets:
    seeds = sorted(acc[(s, "default")])
    sweeps = [v for (ss, v) in acc if ss == s and v.startswith("sgd-")]
    if not seeds or not sweeps:
        continue
    oracle = max(sweeps, key=lambda v: mean(acc[(s, v)]))
    d, p, o = mean(acc[(s, "default")]), mean(acc[(s, "probe")]), mean(acc[(s, oracle)])
    worst = min(acc[(s, "default")][x] - acc[(s, "probe")].get(x, float("nan")) for x in seeds)
    per = ", ".join("%.3f (%s)" % (acc[(s, "default")][x], kept[(s, "default")][x]) for x in seeds)
    pp = ", ".join("%.3f" % acc[(s, "probe")].get(x, float("nan")) for x in seeds)
    print("| %s | %s | %.4f | %s | %.4f | %.4f | %s: %.4f | %+.2f | %+.2f | %+.2f | %.0f s / %.0f s / %.0f s / %.0f s |" % (
        s, per, d, pp, p, mean(acc[(s, "fast")]), oracle, o, 100 * (d - p), 100 * worst, 100 * (d - o),
        mean(sec[(s, "default")]), mean(sec[(s, "fast")]), mean(sec[(s, "probe")]), mean(sec[(s, oracle)])))
    checks = [("mean >= probe", d >= p), ("no seed > 0.5 below the probe", worst >= -0.005), ("within 1 point of the oracle", d >= o - 0.01),
              ("time <= 3x a 10-epoch run", mean(sec[(s, "default")]) <= 3 * mean(sec[(s, oracle)])),
              ("fast <= probe + 60 s", mean(sec[(s, "fast")]) <= mean(sec[(s, "probe")]) + 60)]
    if s == "sketch7":
        checks.append(("beats the probe by half the oracle's margin", d - p >= 0.5 * (o - p)))
    print("  %s: %s" % (s, "; ".join("%s %s" % (n, "met" if ok else "NOT met") for n, ok in checks)))
PY
grep -m1 "model name" /proc/cpuinfo
grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_bf16|amx_bf16)$' | tr '\n' ' '; echo
