#!/usr/bin/env bash
# Each regulariser and schedule of the fastai / Keras toolbox against graft's default recipe, seeds 1-3, MobileNet v1
# 0.75 with the real ImageNet weights, on flowers12 (all 60 per class) and hotdog (100 per class). One train run per
# (set, variant, seed) under runs/options/; prints a markdown table: test accuracy per seed, mean, spread (max - min),
# how often the fine-tuned network was kept over the probe, the fine-tuned candidate's validation accuracy (mean),
# and the mean time per run. The default rows are run with --tta 4, so TTA's figure costs no extra training.
# Usage: [SETS="flowers12:full"] [SEEDS="1"] bench/practitioner_options.sh [variant...]   variants: default ls mixup cutmix onecycle lrfind
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GRAFT_SHARED:-../shared}
weights=$shared/models/keras-mobilenet_v1_0.75_224
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(default ls mixup cutmix onecycle lrfind)
sets=(${SETS:-flowers12:full hotdog:100})
flags() {
  case "$1" in
    default) echo "--tta 4" ;;
    ls) echo "--label-smoothing 0.1" ;;
    mixup) echo "--mixup 0.4" ;;
    cutmix) echo "--cutmix 1.0" ;;
    onecycle) echo "--schedule one-cycle" ;;
    lrfind) echo "--lr find" ;;
    *) echo "unknown variant $1" >&2; exit 2 ;;
  esac
}
echo "| set | variant | flags | test acc per seed | mean | spread | fine-tuned kept | fine-tuned val acc | TTA (4 views) | time per run |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for s in "${sets[@]}"; do
  data=${s%%:*}; n=${s##*:}
  extra=()
  [ "$n" = full ] || extra=(--per-class "$n")
  for v in "${variants[@]}"; do
    for seed in ${SEEDS:-1 2 3}; do
      out=runs/options/$data-$n/$v-seed$seed
      [ -f "$out/metrics.json" ] && continue
      mkdir -p "$(dirname "$out")"
      # shellcheck disable=SC2046
      ${GRAFT:-./graft} train --data "$shared/data/$data" --model mobilenet_v1_0.75 --weights "$weights" --seed "$seed" \
          $(flags "$v") --out "$out" --overwrite --no-progress "${extra[@]}" > "$out.log" 2>&1 || { echo "failed: $s $v $seed (see $out.log)"; exit 1; }
    done
    files=(); for seed in ${SEEDS:-1 2 3}; do files+=("runs/options/$data-$n/$v-seed$seed/metrics.json"); done
    /usr/bin/python3 - "$s" "$v" "$(flags "$v")" "${files[@]}" <<'PY'
import json, re, sys
s, v, fl, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
ms = [json.load(open(f)) for f in files]
acc = [m["test_acc"] for m in ms]
kept = sum(1 for m in ms if (m.get("selection") or "").startswith("kept the fine-tuned"))
ft = []
for m in ms:
    g = re.search(r"fine-tuned accuracy ([0-9.]+)", m.get("selection") or "")
    if g: ft.append(float(g.group(1)))
tta = [m["test_acc_tta"] for m in ms if m.get("test_acc_tta") is not None]
n = len(ms)
print("| %s | %s | `%s` | %s | %.4f | %.3f | %d/%d | %s | %s | %.0f s |" % (s, v, fl, ", ".join("%.3f" % a for a in acc), sum(acc) / n,
      max(acc) - min(acc), kept, n, "%.3f" % (sum(ft) / len(ft)) if ft else "-",
      ("%.4f" % (sum(tta) / len(tta))) if tta else "-", sum(m["seconds"] for m in ms) / n))
PY
  done
done
