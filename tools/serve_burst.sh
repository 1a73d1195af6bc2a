#!/usr/bin/env bash
# Serve memory under a burst of large images, and after it: starts `graft serve` on a bundle, sends N concurrent
# uploads of a large photo-sized image (default 8 x a 7000x7000 JPEG, 49 megapixels: just under the serving pixel
# limit), samples the server's resident memory every 0.1 s, and prints it before, at the peak, and 5, 15 and 30 s
# after the burst. Bounded: one server, one burst, about a minute.
#   tools/serve_burst.sh BUNDLE [N=8] [SIDE=7000]
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$1; n=${2:-8}; side=${3:-7000}
graft=${GRAFT:-./graft}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
/usr/bin/python3 - "$work/big.jpg" "$side" <<'PY'
import sys, numpy as np
from PIL import Image
side = int(sys.argv[2])
rng = np.random.default_rng(0)
# a smooth gradient with noise: photo-like, so JPEG does not shrink it to nothing
y, x = np.mgrid[0:side, 0:side]
img = np.stack([(x * 255 // side), (y * 255 // side), ((x + y) * 127 // side)], -1).astype(np.uint8)
img = np.clip(img.astype(np.int16) + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)
Image.fromarray(img).save(sys.argv[1], quality=90)
PY
port=$((20000 + RANDOM % 20000))
$graft serve --model "$bundle" --port "$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.5; done
pid=$(pgrep -f "dev.graft.app.Main serve.*--port $port" | head -1)
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }
# one warm-up request so the model's first-call costs are not counted as the burst
curl -s --data-binary @"$work/big.jpg" "http://127.0.0.1:$port/predict" > /dev/null
before=$(rss)
peak=$before
start=$(date +%s.%N)
for i in $(seq "$n"); do curl -s -o "$work/r$i.json" -w "%{http_code}\n" --data-binary @"$work/big.jpg" "http://127.0.0.1:$port/predict" >> "$work/codes" & done
while [ "$(jobs -r | wc -l)" -gt 1 ]; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.1; done
wait $(jobs -p | grep -v "^$server$") 2>/dev/null || true
took=$(echo "$(date +%s.%N) - $start" | bc)
sleep 5; a5=$(rss); sleep 10; a15=$(rss); sleep 15; a30=$(rss)
echo "image: ${side}x${side} JPEG, $(du -k "$work/big.jpg" | cut -f1) KB; $n concurrent uploads answered $(sort "$work/codes" | uniq -c | xargs) in ${took%.*} s"
echo "server resident memory (MB): before $before, peak $peak, after 5 s $a5, after 15 s $a15, after 30 s $a30"
head -c 300 "$work/r1.json"; echo
