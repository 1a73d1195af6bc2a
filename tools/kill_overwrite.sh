#!/usr/bin/env bash
# Replaces a finished run with `graft train --overwrite`, kills it with SIGKILL at a random moment, N times, and
# after each kill runs `graft predict` on the folder: it must work every time and give exactly the old run's
# answers or exactly the new run's, never a mix or an error. Each kill's moment and the state the folder was left
# in are printed (training the new run, writing its files beside the old ones, moving them into place, finished).
#   tools/kill_overwrite.sh [N=20]        (GRAFT=path/to/graft to run another build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
graft=${GRAFT:-./graft}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(train --data ../shared/data/hotdog --model resnet18 --weights ../shared/fixtures/torchvision/resnet18_seed0.pth
      --recipe book --epochs 2 --batch-size 4 --per-class 8 --test-per-class 2 --image-size 64 --checkpoint-every 1 --no-progress)
hot=(../shared/data/hotdog/test/hotdog/*); not=(../shared/data/hotdog/test/not-hotdog/*)
images=("${hot[@]:0:4}" "${not[@]:0:4}")
answers() { $graft predict --model "$1" --json --precision fp32 --top-k 2 "${images[@]}" 2> "$2"; }

$graft "${args[@]}" --seed 1 --lr 1e-4 --out "$tmp/old" > /dev/null
answers "$tmp/old" /dev/null > "$tmp/old.json"
start=$(date +%s.%N)
$graft "${args[@]}" --seed 2 --lr 1e-3 --out "$tmp/new" > /dev/null &
pid=$!
while kill -0 "$pid" 2>/dev/null && [ ! -d "$tmp/new/.graft-staging" ]; do sleep 0.01; done
writing=$(date +%s.%N)
wait "$pid"
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
finish=$(awk -v a="$writing" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
answers "$tmp/new" /dev/null > "$tmp/new.json"
cmp -s "$tmp/old.json" "$tmp/new.json" && { echo "the two runs predict the same: choose runs that differ"; exit 2; }
echo "one run takes ${took}s, of which ${finish}s writing its files and moving them into place; $(wc -l < "$tmp/old.json") images predicted per check"

ok=0; old=0; new=0
for i in $(seq "$n"); do
  run="$tmp/run$i"
  cp -a "$tmp/old" "$run"
  $graft "${args[@]}" --seed 2 --lr 1e-3 --out "$run" --overwrite > "$tmp/log$i" 2>&1 &
  pid=$!
  if [ $((i % 2)) -eq 1 ]; then
    # odd runs: a moment anywhere in the second half of the run (and a little past its end)
    delay=$(awk -v s="$RANDOM" -v t="$took" 'BEGIN { srand(s); printf "%.2f", t * (0.45 + 0.65 * rand()) }')
    sleep "$delay"
    when="${delay}s after the start"
  else
    # even runs: a moment in the last, shortest stage, once the new files start to be written beside the old ones
    # (they are written, synced, then moved into place): from when the staging folder appears to 1.3 times the
    # reference run's time for that stage
    while kill -0 "$pid" 2>/dev/null && [ ! -d "$run/.graft-staging" ]; do sleep 0.01; done
    delay=$(awk -v s="$RANDOM" -v f="$finish" 'BEGIN { srand(s); printf "%.2f", 1.3 * f * rand() }')
    sleep "$delay"
    when="${delay}s after it began writing its files"
  fi
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -d "$run/.graft-commit" ]; then state="killed while moving the new files into place"
  elif [ -d "$run/.graft-staging" ]; then state="killed while writing the new files beside the old ones"
  elif [ -d "$run/.graft-next" ]; then state="killed while the new run trained"
  else state="finished before the kill"; fi
  if answers "$run" "$tmp/err$i" > "$tmp/got$i.json"; then
    if cmp -s "$tmp/got$i.json" "$tmp/old.json"; then verdict="the old run's answers"; old=$((old + 1)); ok=$((ok + 1))
    elif cmp -s "$tmp/got$i.json" "$tmp/new.json"; then verdict="the new run's answers"; new=$((new + 1)); ok=$((ok + 1))
    else verdict="MIXED ANSWERS"; fi
  else
    verdict="PREDICT FAILED: $(tail -1 "$tmp/err$i")"
  fi
  echo "run $i: killed ${when}: $state: predict gave $verdict"
done
echo "predict worked after $ok of $n kills: the old run's answers $old times, the new run's $new times, anything else $((n - ok)) times"
[ "$ok" -eq "$n" ]
