#!/usr/bin/env bash
# Time to a good model, the figure a user feels: on the same machine one after the other,
#   (a) the book's PyTorch code as written (bench/d2l_finetune.py: train_fine_tuning + train_ch13, float32),
#   (b) graft train --recipe book, (c) graft train with its defaults,
# each on hotdog and flowers12 with Keras's ImageNet MobileNet v1 0.75; prints the wall-clock from the start of the
# process until the test accuracy first reaches the set's bar (0.98 hotdog, 0.95 flowers12) and the final accuracy.
# For graft the figures come from the lines it prints (each epoch's test accuracy for the book's recipe; the
# probe's test accuracy as soon as it is ready and the final model's for the default).
#   bench/time_to_accuracy.sh [sets...]   (default: hotdog flowers12)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GRAFT_SHARED:-../shared}
graft=${GRAFT:-./graft}
weights=$shared/models/keras-mobilenet_v1_0.75_224
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(hotdog flowers12)
out=runs/time_to_accuracy
mkdir -p "$out"
$graft --version > /dev/null
stamp() { /usr/bin/python3 -u -c 'import sys, time
t0 = time.time()
for line in sys.stdin:
    sys.stdout.write("%.1f\t%s" % (time.time() - t0, line)); sys.stdout.flush()'; }
for s in "${sets[@]}"; do
  bar=0.98; [ "$s" = flowers12 ] && bar=0.95
  /usr/bin/python3 -u bench/d2l_finetune.py --data "$shared/data/$s" --weights "$weights" 2>&1 | stamp > "$out/$s.d2l.log"
  $graft train --data "$shared/data/$s" --model mobilenet_v1_0.75 --weights "$weights" --recipe book --out "$out/$s-book" --overwrite --no-progress 2>&1 | stamp > "$out/$s.book.log"
  $graft train --data "$shared/data/$s" --model mobilenet_v1_0.75 --weights "$weights" --out "$out/$s-auto" --overwrite --no-progress 2>&1 | stamp > "$out/$s.auto.log"
  /usr/bin/python3 - "$out" "$s" "$bar" <<'PY'
import re, sys
out, s, bar = sys.argv[1], sys.argv[2], float(sys.argv[3])
def parse(name, pattern):
    points = []
    for line in open(f"{out}/{s}.{name}.log"):
        t, _, text = line.partition("\t")
        m = re.search(pattern, text)
        if m:
            points.append((float(t), float(m.group(1))))
    return points
runs = {"(a) d2l PyTorch fp32": parse("d2l", r"test acc ([0-9.]+)"),
        "(b) graft --recipe book": parse("book", r"^epoch \d+/\d+:.*test acc ([0-9.]+)"),
        "(c) graft default": parse("auto", r"(?:the probe is ready after [0-9.]+ s: test accuracy|\): test accuracy|^finetune[^:]*: test accuracy) ([0-9.]+)")}
print(f"{s} (bar {bar}):")
base = None
for name, pts in runs.items():
    first = next((t for t, a in pts if a >= bar), None)
    final = pts[-1][1] if pts else float("nan")
    total = pts[-1][0] if pts else float("nan")
    if name.startswith("(a)"):
        base = first
    speed = f", {base / first:.1f}x sooner than (a)" if base and first else ""
    print(f"  {name:26s} reaches {bar}: {('%.0f s' % first) if first else 'never':>7s}{speed}; final test accuracy {final:.4f} after {total:.0f} s")
PY
done
