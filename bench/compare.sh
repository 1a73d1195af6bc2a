#!/usr/bin/env bash
# Runs graft and PyTorch alternately on the same workloads, several rounds, with equal thread counts, and prints
# per workload both medians, the ratio graft/PyTorch, peak RSS, and the share of the machine's peak float32 GFLOP/s.
#   bench/compare.sh [rounds=3] [threads=2] [set=book|backbones|bf16|tune]     (MODELS="m1 m2" narrows backbones, bf16, tune)
# tune: graft with the kernels tuned for this machine against PyTorch channels-last + folded ("tuned" rows), and
# graft's fixed choices (--no-tune) against PyTorch contiguous ("fixed" rows): the faster PyTorch is its best.
# Sets: book (ResNet-18, MobileNet v1, the image pipeline, a ResNet-18 epoch on real JPEGs), backbones (train
# batch 32 and inference batch 64 of MobileNetV3-large, EfficientNet-B0, ConvNeXt-tiny, ViT-B/16), bf16 (graft
# --precision bf16 against PyTorch float32 as the book runs it and against PyTorch under torch.autocast(bf16)).
# Needs Debian's python3-torch and python3-torchvision (/usr/bin/python3). graft runs as its launcher runs it
# (jemalloc where installed, else glibc told to keep freed memory; both asked for transparent huge pages;
# GRAFT_ALLOCATOR=glibc, GRAFT_HUGE_PAGES=off to compare); PyTorch runs with glibc's allocator told to keep freed
# memory and to use transparent huge pages (its fastest here), the networks in channels-last memory
# order with BatchNorm folded for inference: its best settings here (and what graft does by default).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-2}
set=${3:-book}
graft=${GRAFT:-./graft}
data=${GRAFT_SHARED:-../shared}/data/hotdog
export OMP_NUM_THREADS=$threads
torch_env=(MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 GLIBC_TUNABLES=glibc.malloc.hugetlb=1)
out=$(mktemp -d)
mb="--model mobilenet_v1_0.75"
mbw="--weights ${GRAFT_SHARED:-../shared}/models/keras-mobilenet_v1_0.75_224"
case "$set" in
  book) workloads=(
    "resnet18 train 32|--model resnet18 --mode train --batch-size 32 --precision fp32|--model resnet18 --mode train --batch-size 32 --channels-last"
    "resnet18 infer 64|--model resnet18 --mode infer --batch-size 64 --precision fp32|--model resnet18 --mode infer --batch-size 64 --channels-last --fold-batchnorm"
    "mobilenet_v1 train 128|$mb $mbw --mode train --batch-size 128 --iterations 5 --warmup 2 --precision fp32|$mb --mode train --batch-size 128 --iterations 5 --warmup 2 --channels-last"
    "mobilenet_v1 infer 64|$mb $mbw --mode infer --batch-size 64 --precision fp32|$mb --mode infer --batch-size 64 --channels-last --fold-batchnorm"
    "pipeline 32|--mode pipeline --batch-size 32 --iterations 3 --warmup 1 --data $data|--mode pipeline --batch-size 32 --iterations 3 --warmup 1 --data $data"
    "resnet18 epoch 32|--model resnet18 --mode epoch --batch-size 32 --precision fp32 --data $data|--model resnet18 --mode epoch --batch-size 32 --iterations 0 --channels-last --data $data"
  ) ;;
  backbones) workloads=()
    for m in ${MODELS:-mobilenet_v3_large efficientnet_b0 convnext_tiny vit_b_16}; do
      it="--iterations 5 --warmup 2"
      workloads+=("$m train 32|--model $m --mode train --batch-size 32 --image-size 224 $it --precision fp32|--model $m --mode train --batch-size 32 $it --channels-last")
      workloads+=("$m infer 64|--model $m --mode infer --batch-size 64 --image-size 224 $it --precision fp32|--model $m --mode infer --batch-size 64 $it --channels-last --fold-batchnorm")
    done ;;
  bf16) workloads=()
    for m in ${MODELS:-resnet18 mobilenet_v1_0.75 mobilenet_v3_large efficientnet_b0 convnext_tiny vit_b_16}; do
      it="--iterations 4 --warmup 2"
      # graft's MobileNet v1 is Keras's, defined by its model files
      gw=""; [ "$m" = mobilenet_v1_0.75 ] && gw=$mbw
      workloads+=("$m train 32 bf16 vs fp32|--model $m --mode train --batch-size 32 --image-size 224 $it --precision bf16 $gw|--model $m --mode train --batch-size 32 $it")
      workloads+=("$m train 32 bf16 vs autocast|--model $m --mode train --batch-size 32 --image-size 224 $it --precision bf16 $gw|--model $m --mode train --batch-size 32 $it --channels-last --autocast")
      workloads+=("$m infer 64 bf16 vs fp32|--model $m --mode infer --batch-size 64 --image-size 224 $it --precision bf16 $gw|--model $m --mode infer --batch-size 64 $it")
      workloads+=("$m infer 64 bf16 vs autocast|--model $m --mode infer --batch-size 64 --image-size 224 $it --precision bf16 $gw|--model $m --mode infer --batch-size 64 $it --channels-last --fold-batchnorm --autocast")
    done ;;
  tune) workloads=()
    # graft tuned for this machine (the default), graft's fixed choices (--no-tune), and PyTorch both ways: channels-last
    # with BatchNorm folded, and contiguous; "PyTorch at its best" is the faster of the two
    it="--iterations ${ITERATIONS:-5} --warmup 2"
    for m in ${MODELS:-resnet18 mobilenet_v1_0.75 mobilenet_v2}; do
      gw=""; [ "$m" = mobilenet_v1_0.75 ] && gw=$mbw
      for use in "train 32" "infer 64"; do
        u=${use% *}; b=${use#* }
        fold=""; [ "$u" = infer ] && fold="--fold-batchnorm"
        workloads+=("$m $use tuned|--model $m --mode $u --batch-size $b --image-size 224 $it --precision fp32 $gw|--model $m --mode $u --batch-size $b $it --channels-last $fold")
        workloads+=("$m $use fixed|--model $m --mode $u --batch-size $b --image-size 224 $it --precision fp32 --no-tune $gw|--model $m --mode $u --batch-size $b $it")
      done
    done ;;
  *) echo "unknown set $set (book, backbones, bf16, tune)"; exit 2 ;;
esac
$graft --version >/dev/null
grep -o -m1 -E 'avx512_bf16|amx_bf16' /proc/cpuinfo >/dev/null && bf16=native || bf16="emulated (no AVX512-BF16/AMX on this CPU)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); bfloat16: $bf16"
for r in $(seq "$rounds"); do
  # peak: libtorch's own matmul (MKL); Debian's python3-torch multiplies with the reference BLAS (~5 GFLOP/s)
  $graft bench --mode matmul --threads "$threads" --iterations 5 --json >> "$out/matmul.jsonl"
  for w in "${workloads[@]}"; do
    IFS='|' read -r name g p <<< "$w"
    key=$(echo "$name" | tr ' ' '_')
    $graft bench $g --threads "$threads" --workers "$threads" --json >> "$out/$key.graft.jsonl"
    env "${torch_env[@]}" /usr/bin/python3 bench/torch_bench.py $p --threads "$threads" --workers "$threads" >> "$out/$key.torch.jsonl"
  done
done
/usr/bin/python3 - "$out" "${workloads[@]}" <<'PY'
import json, statistics, sys, os
out = sys.argv[1]
# GFLOP per image, forward, at 224x224: 2 x the multiply-adds of torchvision's and TensorFlow's tables
flops = {"resnet18": 3.64, "mobilenet_v1": 0.63, "mobilenet_v1_0.75": 0.63, "mobilenet_v2": 0.60, "mobilenet_v3_large": 0.44, "efficientnet_b0": 0.78, "convnext_tiny": 8.92,
         "vit_b_16": 35.12}
peak = statistics.median(json.loads(l)["median"] for l in open(os.path.join(out, "matmul.jsonl")))
print(f"peak float32 matmul: {peak:.0f} GFLOP/s")
allocators = sorted({json.loads(l).get("allocator", "?") for f in os.listdir(out) if f.endswith(".graft.jsonl") for l in open(os.path.join(out, f))})
print(f"graft's allocator: {', '.join(allocators)}; PyTorch's: glibc, freed memory kept")
print(f"{'workload':34s} {'graft img/s':>12s} {'PyTorch img/s':>14s} {'ratio':>6s} {'graft %peak':>11s} {'graft RSS MB':>12s} {'torch RSS MB':>12s}")
rows, waits = {}, []
for w in sys.argv[2:]:
    name = w.split("|")[0]
    key = name.replace(" ", "_")
    g = [json.loads(l) for l in open(os.path.join(out, key + ".graft.jsonl"))]
    t = [json.loads(l) for l in open(os.path.join(out, key + ".torch.jsonl"))]
    gm = statistics.median(x["median"] for x in g)
    if any("error" in x for x in t):
        print(f"{name:34s} {gm:12.2f}   PyTorch failed: {next(x['error'] for x in t if 'error' in x)}")
        continue
    tm = statistics.median(x["median"] for x in t)
    f = flops.get(name.split()[0])
    mult = 3 if "train" in name or "epoch" in name else 1
    gp = f"{100 * gm * f * mult / peak:.0f}%" if f else "-"
    rows[name] = (gm, tm)
    if "wait_seconds" in g[0]:
        waits.append(f"{name}: graft waited for data {100 * statistics.median(x['wait_seconds'] / x['total_seconds'] for x in g):.1f}% of the epoch")
    print(f"{name:34s} {gm:12.2f} {tm:14.2f} {gm / tm:6.2f} {gp:>11s} {max(x['peak_rss_mb'] for x in g):12.0f} {max(x['peak_rss_mb'] for x in t):12.0f}")
if "resnet18 epoch 32" in rows and "resnet18 train 32" in rows:
    e, c = rows["resnet18 epoch 32"], rows["resnet18 train 32"]
    print(f"epoch on real JPEGs / compute-only, ResNet-18 batch 32: graft {e[0] / c[0]:.3f}, PyTorch {e[1] / c[1]:.3f}")
for line in waits:
    print(line)
PY
