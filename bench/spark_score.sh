#!/usr/bin/env bash
# Images/s of the Spark score job at local[1] and local[2] against graft predict on the same machine and images
# (the hotdog test set, copied REPEAT times), each pinned to the same cores (taskset), and where the time goes:
# the fixed cost (JVM, Spark start-up, model loading) against the steady rate. Every configuration runs on the
# 438 images and on REPEAT x 438: the difference gives the steady (marginal) rate, the rest is the fixed cost.
# It also checks that Spark and graft predict agree on every image (top-1 label, probabilities within 1e-5).
#
#   bench/spark_score.sh [--repeat N] [--rounds R] [--bundle DIR] [--update-docs]
#
# --bundle: the bundle to score with (default: graft's probe on hotdog with MobileNet v1 0.75, trained once into
# the work folder). --repeat: copies of the test set in the large run (default 3). --rounds: runs per measurement,
# the median kept (default 3; about 10-15 minutes on 2 cores). --update-docs: writes the table into
# docs/SPARK.md between its spark_score markers. Spark: $SPARK_HOME/bin/spark-submit when SPARK_HOME is set,
# else Spark's own jars from Maven (the version the spark module builds against) run by SparkSubmit in one JVM.
# Run it on a quiet machine: the figures are only as good as the machine is idle.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${GRAFT_SHARED:-../shared}
repeat=3
rounds=3
bundle=""
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --bundle) bundle=$2; shift 2 ;;
    --update-docs) update=1; shift ;;
    *) echo "usage: bench/spark_score.sh [--repeat N] [--rounds R] [--bundle DIR] [--update-docs]" >&2; exit 2 ;;
  esac
done
[ "$(nproc)" -ge 2 ] || { echo "needs at least 2 cores" >&2; exit 2; }
work=${BENCH_WORK:-$root/runs/spark_score}
mkdir -p "$work"
export LC_ALL=C.UTF-8 SPARK_LOCAL_IP=127.0.0.1 DJL_OFFLINE=true
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000

# the jars: graft's CLI ($GRAFT, default ./graft) and the Spark module's jar ($GRAFT_SPARK_JAR, default
# spark/target/graft-spark.jar, rebuilt from this tree when the sources are newer)
graft=${GRAFT:-./graft}
$graft --version >/dev/null
jar=${GRAFT_SPARK_JAR:-spark/target/graft-spark.jar}
if [ -z "${GRAFT_SPARK_JAR:-}" ] && { [ ! -f "$jar" ] || [ -n "$(find spark/src/main spark/pom.xml core/src/main -newer "$jar" -print -quit)" ]; }; then
  echo "building $jar" >&2
  mvn -q -B -DskipTests -pl core,spark -am package >&2
fi

# the Spark runtime
if [ -n "${SPARK_HOME:-}" ]; then
  submit=("$SPARK_HOME/bin/spark-submit" --driver-memory 2g)
  spark_desc="spark-submit from $SPARK_HOME"
else
  rt=spark/target/spark-runtime
  mkdir -p "$rt"
  if [ ! -s "$rt/classpath.txt" ]; then
    version=$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' spark/pom.xml)
    cat > "$rt/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.bench</groupId><artifactId>spark-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-mllib_2.13</artifactId><version>$version</version></dependency>
  </dependencies>
</project>
EOF
    mvn -q -B -f "$rt/pom.xml" dependency:build-classpath -Dmdep.outputFile=classpath.txt >&2
  fi
  submit=(java -Xmx2g -XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/sun.nio.ch=ALL-UNNAMED -cp "$(cat "$rt/classpath.txt")"
          org.apache.spark.deploy.SparkSubmit)
  spark_desc="Spark $(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' spark/pom.xml) jars from Maven, SparkSubmit in one JVM"
fi

# the bundle
if [ -z "$bundle" ]; then
  bundle=$work/probe-bundle
  if [ ! -f "$bundle/model.json" ]; then
    echo "training the probe bundle (graft train --mode probe, MobileNet v1 0.75, hotdog)" >&2
    $graft train --data "$shared/data/hotdog" --mode probe --model mobilenet_v1_0.75 \
        --weights "$shared/models/keras-mobilenet_v1_0.75_224" --out "$bundle" --overwrite > "$work/train.log" 2>&1
  fi
fi

# the images: the test set once (small) and REPEAT times (large), under distinct names
small=$work/images-1x
large=$work/images-${repeat}x
if [ ! -d "$small" ]; then
  mkdir -p "$small"
  cp -r "$shared/data/hotdog/test/." "$small/"
fi
if [ ! -d "$large" ]; then
  for i in $(seq 1 "$repeat"); do
    mkdir -p "$large/copy$i"
    cp -r "$shared/data/hotdog/test/." "$large/copy$i/"
  done
fi
n_small=$(find "$small" -name '*.jpg' | wc -l)
n_large=$(find "$large" -name '*.jpg' | wc -l)

results=$work/results.tsv
printf 'tool\tcores\timages\tround\twall_s\tscore_s\tload_s\tread_s\tforward_s\n' > "$results"
now() { date +%s.%N; }
pin() { case "$1" in 1) echo "taskset -c 0" ;; *) echo "taskset -c 0-$(($1 - 1))" ;; esac; }

run_predict() { # cores set n round
  local t0 t1
  t0=$(now)
  $(pin "$1") $graft predict --model "$bundle" --json --top-k 2 --threads "$1" --batch-size 16 "$2" > "$work/predict-$1-$3.jsonl" \
      2> "$work/predict-$1-$3.log" || { echo "graft predict failed, see $work/predict-$1-$3.log" >&2; exit 1; }
  t1=$(now)
  printf 'graft predict\t%s\t%s\t%s\t%s\t\t\t\t\n' "$1" "$3" "$4" "$(awk "BEGIN{print $t1 - $t0}")" >> "$results"
}

run_spark() { # cores set n round
  local t0 t1 log=$work/spark-$1-$3.log
  t0=$(now)
  $(pin "$1") "${submit[@]}" --master "local[$1]" --conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1 \
      --conf spark.driver.bindAddress=127.0.0.1 --class dev.graft.spark.ScoreJob "$jar" \
      --bundle "$bundle" --input "$2" --output "$work/spark-$1-$3" --format csv --overwrite --top-k 2 --threads 1 > "$log" 2>&1 \
      || { echo "the Spark job failed, see $log" >&2; exit 1; }
  t1=$(now)
  # graft-spark: scored N image(s) (B bad) from ... in S s (...); time: ... model loaded L time(s), X s; read+decode R task-s, forward F task-s
  python3 - "$log" "$1" "$3" "$4" "$(awk "BEGIN{print $t1 - $t0}")" >> "$results" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
s = re.search(r"scored (\d+) image\(s\) .* in ([\d.]+) s", text)
t = re.search(r"model loaded \d+ time\(s\), ([\d.]+) s; read\+decode ([\d.]+) task-s, forward ([\d.]+) task-s", text)
print("\t".join(["spark score", sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], s.group(2), t.group(1), t.group(2), t.group(3)]))
PY
}

echo "graft predict vs Spark score ($spark_desc), $n_small and $n_large images, $rounds round(s)" >&2
for r in $(seq 1 "$rounds"); do
  for cores in 1 2; do
    for set in "$small:$n_small" "$large:$n_large"; do
      echo "round $r: $cores core(s), ${set##*:} images" >&2
      run_predict "$cores" "${set%%:*}" "${set##*:}" "$r"
      run_spark "$cores" "${set%%:*}" "${set##*:}" "$r"
    done
  done
done

table=$work/spark_score.md
python3 - "$results" "$work" "$n_small" "$n_large" "$spark_desc" > "$table" <<'PY'
import csv, glob, json, os, statistics, subprocess, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
work, n_small, n_large, spark_desc = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def med(tool, cores, n, key):
    v = [float(r[key]) for r in rows if r["tool"] == tool and r["cores"] == str(cores) and r["images"] == str(n) and r[key]]
    return statistics.median(v) if v else float("nan")

# agreement: graft predict's JSON lines against Spark's CSV, on the large set at 2 cores
def agreement(cores):
    want = {}
    for line in open(os.path.join(work, "predict-%d-%d.jsonl" % (cores, n_large))):
        if line.startswith("{"):
            j = json.loads(line)
            if "predictions" in j:
                want[os.path.realpath(j["file"])] = j["predictions"]
    same, total, worst = 0, 0, 0.0
    for part in glob.glob(os.path.join(work, "spark-%d-%d" % (cores, n_large), "*.csv")):
        for r in csv.DictReader(open(part)):
            path = os.path.realpath(r["path"][len("file:"):] if r["path"].startswith("file:") else r["path"])
            p = want.get(path)
            total += 1
            if p is None or r["error"]:
                continue
            top = json.loads(r["top_k"])
            if top[0]["label"] == p[0]["label"]:
                same += 1
            for a in top:
                b = next(x for x in p if x["label"] == a["label"])
                worst = max(worst, abs(a["probability"] - b["probability"]))
    return same, total, len(want), worst

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
load = open("/proc/loadavg").read().split()[:3]
print("Measured by `bench/spark_score.sh` on %s, %d cores (load average before the table: %s); %s; MobileNet v1 0.75 "
      "probe bundle, hotdog test images (%d, and %d = copies), batch 16, fp32/auto precision, both pinned to the same cores "
      "with taskset. Spark: `--threads 1` (one libtorch thread per task, `local[N]` runs N tasks); graft predict: "
      "`--threads N`." % (cpu, os.cpu_count(), " ".join(load), spark_desc, n_small, n_large))
print()
print("| cores | tool | wall s (%d / %d images) | images/s end to end (%d) | images/s steady | fixed cost s | Spark: model loading s | Spark: scoring s (read+decode / forward, task-s) |"
      % (n_small, n_large, n_large))
print("|---|---|---|---|---|---|---|---|")
steady = {}
for cores in (1, 2):
    for tool in ("graft predict", "spark score"):
        ws, wl = med(tool, cores, n_small, "wall_s"), med(tool, cores, n_large, "wall_s")
        rate = (n_large - n_small) / (wl - ws) if wl > ws else float("nan")
        fixed = ws - n_small / rate if rate == rate else float("nan")
        steady[(tool, cores)] = rate
        extra = "| | |"
        if tool == "spark score":
            extra = "| %.1f | %.1f (%.1f / %.1f) |" % (med(tool, cores, n_large, "load_s"), med(tool, cores, n_large, "score_s"),
                                                     med(tool, cores, n_large, "read_s"), med(tool, cores, n_large, "forward_s"))
        print("| %d | %s | %.1f / %.1f | %.1f | %.1f | %.1f %s" % (cores, tool, ws, wl, n_large / wl, rate, fixed, extra))
print()
for cores in (1, 2):
    p, s = steady[("graft predict", cores)], steady[("spark score", cores)]
    print("- %d core(s): Spark's steady rate is %.1f%% %s graft predict's (overhead target: at most 10%%)."
          % (cores, abs(100 * (1 - s / p)), "below" if s < p else "above"))
for cores in (1, 2):
    same, total, n, worst = agreement(cores)
    print("- agreement at %d core(s), %d images: %d of %d Spark rows have graft predict's top-1 (predict scored %d); "
          "largest probability difference %.2g." % (cores, n_large, same, total, n, worst))
PY
cat "$table"
if [ "$update" = 1 ]; then
  python3 - docs/SPARK.md "$table" <<'PY'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(doc).read()
b, e = "<!-- spark_score:begin -->", "<!-- spark_score:end -->"
i, j = text.index(b) + len(b), text.index(e)
open(doc, "w").write(text[:i] + "\n" + table + "\n" + text[j:])
print("docs/SPARK.md updated", file=sys.stderr)
PY
fi
