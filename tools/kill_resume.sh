#!/usr/bin/env bash
# Kills a training run with SIGKILL at a random moment, N times, resumes each one, and checks that every run
# ends with exactly the weights of an uninterrupted run with the same seed.
#   tools/kill_resume.sh [N=20]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(train --data ../shared/data/hotdog --model resnet18 --weights ../shared/fixtures/torchvision/resnet18_seed0.pth
      --epochs 2 --batch-size 4 --per-class 8 --test-per-class 2 --image-size 64 --momentum 0.9 --schedule cosine
      --lr 1e-5 --checkpoint-every 1 --seed 3 --no-progress)
# Waits until the run in $1 has written its first checkpoint (or has ended); prints the time.
first_checkpoint() {
  while kill -0 "$2" 2>/dev/null && [ ! -f "$1/checkpoint.safetensors" ]; do sleep 0.05; done
  date +%s.%N
}
./graft "${args[@]}" --out "$tmp/ref" > /dev/null &
pid=$!
t1=$(first_checkpoint "$tmp/ref" "$pid")
wait "$pid"
# kill points spread uniformly over most of the rest of a run after its first checkpoint
window=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
ref=$(sha256sum < "$tmp/ref/weights.safetensors")
same=0; resumed=0
for i in $(seq "$n"); do
  out="$tmp/run$i"
  ./graft "${args[@]}" --out "$out" > "$tmp/log$i" 2>&1 &
  pid=$!
  first_checkpoint "$out" "$pid" > /dev/null
  delay=$(awk -v s="$RANDOM" -v t="$window" 'BEGIN { srand(s); printf "%.2f", 0.8 * rand() * t }')
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  state="finished before the kill"
  if [ ! -f "$out/weights.safetensors" ]; then
    if [ -f "$out/checkpoint.safetensors" ]; then
      state="killed, resumed"
      ./graft train --resume "$out" --no-progress >> "$tmp/log$i" 2>&1
      resumed=$((resumed + 1))
    else
      state="killed before the first checkpoint, restarted"
      ./graft "${args[@]}" --out "$out" >> "$tmp/log$i" 2>&1
    fi
  fi
  got=$(sha256sum < "$out/weights.safetensors")
  if [ "$got" = "$ref" ]; then same=$((same + 1)); verdict=identical; else verdict=DIFFERENT; fi
  echo "run $i: kill ${delay}s after the first checkpoint: $state: final weights $verdict"
done
echo "resumed after SIGKILL: $resumed of $n runs; final weights identical to the uninterrupted run: $same of $n"
[ "$same" -eq "$n" ]
