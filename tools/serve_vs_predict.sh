#!/usr/bin/env bash
# Does `graft serve` (which decodes large photos at a reduced scale) answer as `graft predict` (which decodes every
# pixel)? Top-1 agreement and the largest probability difference on: the hotdog test set as it is; large photos
# made from its first PER_CLASS images per class by upscaling to LONG px on the long side (bicubic); the same with
# photo-like sensor noise added (Gaussian, sigma 6 grey levels), whose fine detail the reduced decode can alias.
# The large photos live in a temporary folder, removed at the end. Bounded: a few minutes.
#   tools/serve_vs_predict.sh BUNDLE [PER_CLASS=30] [LONG=4608]     (GRAFT=path/to/graft to run another build)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$1; per=${2:-30}; long=${3:-4608}
graft=${GRAFT:-./graft}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
test=../shared/data/hotdog/test
/usr/bin/python3 - "$test" "$work" "$per" "$long" <<'PY'
import sys, os, numpy as np
from PIL import Image
test, work, per, long = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(0)
for cls in sorted(os.listdir(test)):
    for name in sorted(os.listdir(os.path.join(test, cls)))[:per]:
        im = Image.open(os.path.join(test, cls, name)).convert("RGB")
        s = long / max(im.size)
        big = im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.BICUBIC)
        for kind in ("upscaled", "noisy"):
            os.makedirs(os.path.join(work, kind, cls), exist_ok=True)
            out = big
            if kind == "noisy":
                a = np.asarray(big).astype(np.float32) + rng.normal(0, 6, (big.size[1], big.size[0], 3))
                out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
            out.save(os.path.join(work, kind, cls, name), quality=92)
PY
port=$((20000 + RANDOM % 20000))
$graft serve --model "$bundle" --port "$port" --precision fp32 --top-k 2 > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 240); do curl -fs "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.5; done
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); bundle $bundle"
for set in "$test" "$work/upscaled" "$work/noisy"; do
  $graft predict --model "$bundle" --json --precision fp32 --top-k 2 "$set" 2> /dev/null > "$work/predict.jsonl"
  : > "$work/serve.jsonl"
  find "$set" -type f | sort | while read -r f; do
    printf '{"file":"%s","answer":%s}\n' "$f" "$(curl -s --data-binary @"$f" "http://127.0.0.1:$port/predict")" >> "$work/serve.jsonl"
  done
  /usr/bin/python3 - "$work/predict.jsonl" "$work/serve.jsonl" "$set" <<'PY'
import json, sys
from PIL import Image
pred = {}
for line in open(sys.argv[1]):
    j = json.loads(line)
    pred[j["file"]] = j["predictions"]
n = agree = 0
worst = 0.0
sizes = []
for line in open(sys.argv[2]):
    j = json.loads(line)
    p = pred[j["file"]]
    s = j["answer"]["predictions"]
    n += 1
    agree += p[0]["label"] == s[0]["label"]
    ps = {q["label"]: q["probability"] for q in s}
    worst = max(worst, abs(p[0]["probability"] - ps.get(p[0]["label"], 0.0)))
    sizes.append(Image.open(j["file"]).size)
big = max(sizes, key=lambda wh: wh[0] * wh[1])
print(f"{sys.argv[3].split('/')[-1]}: {n} images (largest {big[0]}x{big[1]}): top-1 agrees on {agree} of {n}; "
      f"largest |p(top-1) difference| {worst:.4f}")
PY
done
