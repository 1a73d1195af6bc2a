#!/usr/bin/env bash
# Does `--lr find` pick a rate in the good range? On each set: graft lr-find (the book's recipe, mean loss), then the
# same recipe trained at a grid of learning rates (seed 1); prints the suggestion and each rate's test accuracy.
# Usage: [LRS="1e-4 3e-4 1e-3 ..."] [SETS="flowers12:full"] bench/lr_find_check.sh      (MobileNet v1 0.75, ImageNet weights; flowers12 all, hotdog 100 per class)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GRAFT_SHARED:-../shared}
weights=$shared/models/keras-mobilenet_v1_0.75_224
common=(--model mobilenet_v1_0.75 --weights "$weights" --recipe book --loss mean --batch-size 32 --seed 1)
for s in ${SETS:-flowers12:full hotdog:100}; do
  data=${s%%:*}; n=${s##*:}
  extra=()
  [ "$n" = full ] || extra=(--per-class "$n")
  base=runs/lr_find_check/$data-$n
  mkdir -p "$base"
  ${GRAFT:-./graft} lr-find --data "$shared/data/$data" "${common[@]}" "${extra[@]}" --out "$base/sweep" > "$base/sweep.log" 2>&1
  suggestion=$(/usr/bin/python3 -c "import json,sys; print('%.3g' % json.load(open(sys.argv[1]))['suggested_mean_loss_lr'])" "$base/sweep/lr-find.json")
  echo "$s: lr-find suggests $suggestion (mean loss, batch 32)"
  for lr in ${LRS:-1e-4 1e-3 1e-2 3e-2} "$suggestion"; do
    out=$base/lr-$lr
    [ -f "$out/metrics.json" ] || ${GRAFT:-./graft} train --data "$shared/data/$data" "${common[@]}" "${extra[@]}" --lr "$lr" \
        --out "$out" --overwrite --no-progress > "$out.log" 2>&1 || true
    /usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print('  lr %s: test acc %.4f' % (sys.argv[2], m['test_acc']))" \
        "$out/metrics.json" "$lr" 2>/dev/null || echo "  lr $lr: failed (diverged?) see $out.log"
  done
done
