#!/usr/bin/env bash
# graft serve against hostile clients on loopback, bounded (about 90 s): 300 connections that each send one byte
# every 5 s, then a burst of 200 uploads of a 4 MB photo at once, while an ordinary client keeps asking for a
# prediction of a small photo and times each answer; the server's resident memory is sampled throughout.
#   tools/serve_attack.sh BUNDLE [DRIPS=300] [BURST=200]       (GRAFT=path/to/graft to measure another build)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$1; drips=${2:-300}; burst=${3:-200}
graft=${GRAFT:-./graft}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
ulimit -n 4096
/usr/bin/python3 - "$work/big.jpg" <<'PY'
import sys, numpy as np
from PIL import Image
side = 3300
rng = np.random.default_rng(0)
y, x = np.mgrid[0:side, 0:side]
img = np.stack([(x * 255 // side), (y * 255 // side), ((x + y) * 127 // side)], -1).astype(np.uint8)
img = np.clip(img.astype(np.int16) + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)
Image.fromarray(img).save(sys.argv[1], quality=90)
PY
photos=(../shared/data/hotdog/test/hotdog/*.jpg); small=${photos[0]}
port=$((20000 + RANDOM % 20000))
$graft serve --model "$bundle" --port "$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 240); do curl -fs "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.5; done
pid=$(pgrep -f "dev.graft.app.Main serve.*--port $port" | head -1)
curl -s --data-binary @"$small" "http://127.0.0.1:$port/predict" > /dev/null   # warm-up
echo "$graft serve: $(nproc) cores, $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d" " -f1 /proc/loadavg)"
/usr/bin/python3 tools/serve_attack.py "$port" "$pid" "$work/big.jpg" "$small" "$drips" "$burst" 75
echo "after the attack: health $(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health"), a prediction \
$(curl -s -m 30 -o /dev/null -w '%{http_code} in %{time_total} s' --data-binary @"$small" "http://127.0.0.1:$port/predict")"
grep -c "internal error" "$work/serve.log" | sed 's/^/internal errors logged: /' || true
