#!/usr/bin/env bash
# Inference on graft's engines against PyTorch at its best, alternating within each round, equal threads:
#   bench/onnx_bench.sh [rounds=2] [threads=2]          (MODELS="resnet18 vit_b_16" narrows the models)
# Per model: images/s at batch 64, and latency at batch 1 (p50 and p95 over the timed iterations), for
#   torch-fp32  graft on libtorch, float32          (graft bench --mode infer --precision fp32)
#   torch-auto  graft on libtorch, its default      (--precision auto: bf16 where the CPU computes it natively)
#   ort         graft on ONNX Runtime 1.20, float32 (--engine onnxruntime: the network exported to ONNX in memory)
#   pytorch     PyTorch 1.13 float32 at its best    (bench/torch_bench.py --channels-last --fold-batchnorm)
# with each run's peak RSS. Needs Debian's python3-torch / python3-torchvision (/usr/bin/python3). Weights are
# random (the speed does not depend on them), MobileNet v1 0.75 is Keras's with its real weights.
# The machine may be shared: read the ratios (same round, one run after the other), not the absolute numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
threads=${2:-2}
graft=${GRAFT:-./graft}
shared=${GRAFT_SHARED:-../shared}
models=${MODELS:-resnet18 mobilenet_v1_0.75 mobilenet_v2 mobilenet_v3_large efficientnet_b0 convnext_tiny vit_b_16}
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 OMP_NUM_THREADS=$threads
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
$graft --version >/dev/null
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_bf16|amx_bf16)$' | tr '\n' ' ')
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores visible; flags: $flags; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for m in $models; do
    echo "round $r, $m: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    w=""; [ "$m" = mobilenet_v1_0.75 ] && w="--weights $shared/models/keras-mobilenet_v1_0.75_224"
    # SHORT=1: fewer timed iterations, for a machine that others share
    case "$m" in
      vit_b_16|convnext_tiny) n64=2; n1=10 ;;
      *) n64=4; n1=30 ;;
    esac
    if [ -n "${SHORT:-}" ]; then n64=$(( (n64 + 1) / 2 )); n1=$(( n1 / 2 )); fi
    b64="--warmup 1 --iterations $n64"; b1="--warmup 3 --iterations $n1"
    for batch in 64 1; do
      it=$b64; [ "$batch" = 1 ] && it=$b1
      g="--model $m $w --mode infer --batch-size $batch --image-size 224 $it --threads $threads --json"
      $graft bench $g --precision fp32 >> "$out/$m.$batch.torch-fp32.jsonl"
      $graft bench $g --precision auto >> "$out/$m.$batch.torch-auto.jsonl"
      $graft bench $g --engine onnxruntime >> "$out/$m.$batch.ort.jsonl"
      # torch.fx cannot trace ViT for the fold, and ViT and ConvNeXt have no BatchNorm to fold
      fold="--fold-batchnorm"; case "$m" in vit_*|convnext_*) fold="" ;; esac
      /usr/bin/python3 bench/torch_bench.py --model "$m" --mode infer --batch-size "$batch" $it --threads "$threads" \
        --channels-last $fold >> "$out/$m.$batch.pytorch.jsonl" || echo '{"error": "torch_bench.py failed"}' >> "$out/$m.$batch.pytorch.jsonl"
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); raw results in $out"
/usr/bin/python3 - "$out" $models <<'PY'
import json, os, statistics, sys
out, models = sys.argv[1], sys.argv[2:]
impls = ["torch-fp32", "torch-auto", "ort", "pytorch"]
def runs(m, b, i):
    f = os.path.join(out, f"{m}.{b}.{i}.jsonl")
    return [json.loads(l) for l in open(f)] if os.path.exists(f) else []
def med(rs, k):
    v = [r[k] for r in rs if k in r]
    return statistics.median(v) if v else float("nan")
print("\n| model | batch 64 images/s: graft libtorch fp32 / graft libtorch auto (precision) / graft ONNX Runtime / PyTorch fp32 | "
      "graft's best / PyTorch | batch 1 p50 ms (p95): libtorch fp32 / libtorch auto / ONNX Runtime / PyTorch | best graft p50 / PyTorch p50 | "
      "peak RSS MB at batch 64: fp32 / auto / ORT / PyTorch |")
print("|---|---|---|---|---|---|")
for m in models:
    thr = {i: med(runs(m, 64, i), "median") for i in impls}
    prec = next((r["precision"] for r in runs(m, 64, "torch-auto")), "?")
    lat = {i: (med(runs(m, 1, i), "p50_ms"), med(runs(m, 1, i), "p95_ms")) for i in impls}
    rss = {i: med(runs(m, 64, i), "peak_rss_mb") for i in impls}
    best = max(("torch-fp32", "torch-auto", "ort"), key=lambda i: thr[i])
    best_lat = min(("torch-fp32", "torch-auto", "ort"), key=lambda i: lat[i][0])
    name = {"torch-fp32": "libtorch fp32", "torch-auto": "libtorch " + prec, "ort": "ONNX Runtime"}
    print(f"| {m} | {thr['torch-fp32']:.1f} / {thr['torch-auto']:.1f} ({prec}) / {thr['ort']:.1f} / {thr['pytorch']:.1f} | "
          f"**{thr[best] / thr['pytorch']:.2f}** ({name[best]}) | "
          + " / ".join(f"{lat[i][0]:.1f} ({lat[i][1]:.1f})" for i in impls)
          + f" | **{lat[best_lat][0] / lat['pytorch'][0]:.2f}** ({name[best_lat]}) | "
          + " / ".join(f"{rss[i]:.0f}" for i in impls) + " |")
PY
