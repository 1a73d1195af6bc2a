#!/usr/bin/env bash
# graft check, measured (docs/DATA_CHECK.md): MobileNet v1 0.75 with its ImageNet weights on the shared sets.
#  clean   graft check on flowers12, hotdog and sketch7 as they are (cold feature cache, then flowers12 again warm);
#          every flagged pair and every image's nearest neighbour above cosine 0.74 judged by pixels (same photo?)
#  noise   5% and 10% of the training labels of flowers12 and hotdog replaced by another class (a CSV pointing at the
#          shared files): precision and recall of the flagged label errors
#  dups    20 test images of flowers12, sketch7 and hotdog copied into the training rows, JPEG re-encoded, resized to
#          60%, cropped to 90%, flipped or brightened by 10% (4 of each): how many of the 20 pairs are found
#  place   a solid grey image, a "no image" text card and a 1x1 pixel image added to one class: flagged as outliers?
# Everything it writes goes to $OUT (default /tmp/graft-data-check), outside the repository; the shared images are
# read in place. Seeded (SEED, default 1): the same command gives the same files and numbers.
# Usage: nice bench/data_check.sh [clean] [noise] [dups] [place]      (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$(cd "${GRAFT_SHARED:-../shared}" && pwd)
weights=$shared/models/keras-mobilenet_v1_0.75_224
out=${OUT:-/tmp/graft-data-check}
seed=${SEED:-1}
graft=${GRAFT:-./graft}
py=/usr/bin/python3
tools=bench/data_check.py
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(clean noise dups place)
mkdir -p "$out"
# the feature cache of these runs, so that the first clean run measures the feature pass cold
export GRAFT_HOME=$out/home
model=(--model mobilenet_v1_0.75 --weights "$weights")
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; flags: $(grep -m1 flags /proc/cpuinfo | grep -o -w -E 'avx2|avx512f|avx512_bf16|amx_bf16' | tr '\n' ' ')"

check() { # name, then the data options
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  $graft check "$@" "${model[@]}" --seed "$seed" --out "$out/$name" --overwrite > "$out/$name.log" 2>&1 || { echo "failed: $name (see $out/$name.log)"; exit 1; }
  local t1; t1=$(date +%s.%N)
  printf '%s: %.0f s wall; %s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$(grep -E '^features:' "$out/$name.log" | head -1)"
  grep -o '<h2>Timing</h2><p>[^<]*' "$out/$name/check.html" | sed 's/<[^>]*>//g; s/^Timing/  timing: /'
}

for step in "${steps[@]}"; do
  case $step in
    clean)
      rm -rf "$out/home/features"
      for set in flowers12 hotdog sketch7; do
        check "clean-$set" --data "$shared/data/$set"
        grep '^data check' "$out/clean-$set.log"
      done
      check clean-flowers12-warm --data "$shared/data/flowers12"
      for set in flowers12 hotdog sketch7; do
        $py $tools judge-pairs "$out/clean-$set/check.json" 0.74 "$out/clean-$set/pairs.json"
        echo "pairs $set: $($py $tools score-pairs "$out/clean-$set/pairs.json" 0.90)"
      done
      ;;
    noise)
      for set in flowers12 hotdog; do
        for rate in 0.05 0.10; do
          name=noise-$set-$rate
          mkdir -p "$out/$name-data"
          $py $tools noisy "$shared/data/$set" "$rate" "$seed" "$out/$name-data/labels.csv" "$out/$name-data/truth.json"
          check "$name" --labels "$out/$name-data/labels.csv" --data "$shared/data/$set"
          echo "labels $set $rate: $($py $tools score-labels "$out/$name/check.json" "$out/$name-data/truth.json")"
        done
      done
      ;;
    dups)
      for set in flowers12 sketch7 hotdog; do
        name=dups-$set
        rm -rf "$out/$name-data"
        $py $tools duplicates "$shared/data/$set" 20 "$seed" "$out/$name-data/copies" "$out/$name-data/labels.csv" "$out/$name-data/truth.json"
        # the CSV lists the shared images and the copies made here: --data / lets it name both (graft reads CSV rows
        # only inside the folder the user names)
        check "$name" --labels "$out/$name-data/labels.csv" --data /
        echo "duplicates $set: $($py $tools score-duplicates "$out/$name/check.json" "$out/$name-data/truth.json")"
      done
      ;;
    place)
      for sc in flowers12:daisy hotdog:hotdog sketch7:house; do
        set=${sc%%:*}; cls=${sc##*:}
        name=place-$set
        rm -rf "$out/$name-data"
        $py $tools placeholders "$shared/data/$set" "$cls" "$out/$name-data/images" "$out/$name-data/labels.csv" "$out/$name-data/truth.json"
        check "$name" --labels "$out/$name-data/labels.csv" --data /
        echo "placeholders $set ($cls): $($py $tools score-outliers "$out/$name/check.json" "$out/$name-data/truth.json")"
      done
      ;;
    *) echo "unknown step $step (clean, noise, dups, place)"; exit 2 ;;
  esac
done
