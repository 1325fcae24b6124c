#!/usr/bin/env bash
# One command for every hotwasm benchmark: builds what is needed, runs each bench (a failing one
# is recorded as a failed row with its error, the others still run), keeps raw outputs under
# build/bench/, rewrites BENCHMARKS.md, and exits non-zero at the end if anything failed.
#
#   bash scripts/bench.sh
#   bash scripts/bench.sh --only "md-threads md-threads-browser"
# --only runs just the named benchmarks that print their own markdown (steps named md-…) and
# replaces their sections in BENCHMARKS.md, stamped with when and where they ran (outputs in
# build/bench-only/); the rest of the file stays as the last full run wrote it.
# Knobs (environment): FUZZ_SECONDS (60), LATENCY_EVALS (50), SOAK_PATCHES (1000),
#   FANOUT_CLIENTS (50), MEMORY_EVALS (200), BENCH_SKIP (space-separated step names to skip).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ONLY=""
case "${1:-}" in
  --only) ONLY="${2:?bench.sh: --only needs a list of md-… step names, e.g. --only \"md-threads\"}" ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) echo "bench.sh: unknown argument '$1'; try --help" >&2; exit 2 ;;
esac
for name in $ONLY; do
  grep -q "^step $name " "$0" || { echo "bench.sh: --only: no step '$name' (steps it can run: $(grep -o '^step md-[a-z-]*' "$0" | cut -d' ' -f2 | tr '\n' ' '))" >&2; exit 2; }
  [[ $name == md-* ]] || { echo "bench.sh: --only runs steps named md-… (they print their own section); '$name' feeds the full report: run bash scripts/bench.sh" >&2; exit 2; }
done
OUT=build/bench
[ -n "$ONLY" ] && OUT=build/bench-only
mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.json "$OUT"/status.tsv
cut -d' ' -f1-3 /proc/loadavg >"$OUT/loadavg"
: "${FUZZ_SECONDS:=60}" "${LATENCY_EVALS:=50}" "${SOAK_PATCHES:=1000}" "${FANOUT_CLIENTS:=50}" "${MEMORY_EVALS:=200}" "${BENCH_SKIP:=}"
export FUZZ_SECONDS LATENCY_EVALS SOAK_PATCHES FANOUT_CLIENTS MEMORY_EVALS

if ! env_text=$(bash scripts/setup.sh --print-env 2>"$OUT/setup.err"); then
  echo "bench: scripts/setup.sh --print-env failed; run bash scripts/setup.sh first" >&2
  cat "$OUT/setup.err" >&2
fi
eval "$env_text"

date -u +%Y-%m-%dT%H:%M:%SZ >"$OUT/started"
failed=0
# step NAME TIMEOUT_S COMMAND... : runs COMMAND with output in $OUT/NAME.log; one status row.
step() {
  local name=$1 limit=$2
  shift 2
  if [ -n "$ONLY" ] && [[ " $ONLY " != *" $name "* ]]; then return 0; fi
  if [[ " $BENCH_SKIP " == *" $name "* ]]; then
    printf '%s\tskipped\t0\t%s\n' "$name" "$*" >>"$OUT/status.tsv"
    return 0
  fi
  echo "== $name: $*" >&2
  local t0 rc
  t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  local dt
  dt=$(echo "$(date +%s.%N) - $t0" | bc)
  if [ $rc -eq 0 ]; then
    printf '%s\tok\t%.1f\t%s\n' "$name" "$dt" "$*" >>"$OUT/status.tsv"
  else
    [ $rc -eq 124 ] && echo "bench.sh: timed out after ${limit} s" >>"$OUT/$name.log"
    printf '%s\tfailed(%d)\t%.1f\t%s\n' "$name" "$rc" "$dt" "$*" >>"$OUT/status.tsv"
    failed=1
    echo "   FAILED ($rc): see $OUT/$name.log" >&2
    tail -5 "$OUT/$name.log" >&2
  fi
}

# --- builds
step build-server 900 cargo build -p hotwasm-server
# Where the HOT_RELOAD overhead goes (issue 18): size split per example and the large host's start-up
# by phase. They leave builds with function names, so they run before the bundles are built for sizes.
step md-size-split 2400 node benches/size-split.mjs
step md-startup-split 1800 node benches/startup-split.mjs --runs 7
step bundle-hot 900 env HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/particles
step bundle-plain 900 bash scripts/emscripten-bundle.sh examples/particles
# Sizes of the demo's two builds (paths relative to examples/particles, as the report reads them).
step sizes 60 bash -c 'cd examples/particles && for f in build/{plain,hot}/particles.{wasm,js}; do printf "%s\t%s\t%s\n" "$f" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"; done'

# --- existing benchmarks
step call-overhead-native 900 cargo bench -p hotwasm-runtime --bench call_overhead
step call-overhead-wasm 900 cargo bench -p hotwasm-runtime --bench call_overhead --target wasm32-unknown-emscripten
step apply 900 node tests/node/bench-apply.mjs
step compile 1800 cargo bench -p hotwasm-pipeline --bench compile
step cpp-latency 1800 bash -c 'HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/cpp-host >/dev/null && node --experimental-websocket tests/cpp/eval-latency.bench.mjs'
step late-binding 900 cargo bench -p hotwasm-pipeline --bench late_binding
step latency 2400 node tests/browser/bench-latency.mjs --evals "$LATENCY_EVALS" --lang both
# Eval→value: a one-line C expression (`6*7`) through the fast path to one Node page and back.
step eval-value 1200 bash -c 'HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/c-host >/dev/null && node --experimental-websocket benches/eval-value.mjs --evals 40 --json build/bench/eval-value.json'

# The C library in patches (issue 11): patch size and compile time of libc-calling evals, against
# a no-libc eval under the same load (examples/c-host under Node).
step libc 1200 bash -c 'HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/c-host >/dev/null && node --experimental-websocket benches/libc.mjs --evals 9 --json build/bench/libc.json'

# --- new measurements (benches/)
step soak 1800 node benches/soak.mjs --patches "$SOAK_PATCHES" --json "$OUT/soak.json"
step fanout 600 node --experimental-websocket benches/fanout.mjs --clients "$FANOUT_CLIENTS" --json "$OUT/fanout.json"
step server-memory 1200 node --experimental-websocket benches/server-memory.mjs --evals "$MEMORY_EVALS" --json "$OUT/server-memory.json"
# The large host (1,000 hot functions, ~5 MB of wasm): sizes, startup, registration, apply, exports.
step scale 3600 node --experimental-websocket benches/scale.mjs --json "$OUT/scale.json"

# Undo with state: snapshot and restore time of 16 MB and 256 MB of linear memory (headless Chromium).
step snapshot 600 node benches/snapshot.mjs --json "$OUT/snapshot.json"

# Host restart (issue 13): save a demo host source → the page runs the rebuilt host with its world
# restored and the compatible patch replayed (a temp copy of the demo; target ≤ 20 s warm).
step host-reload 1800 node benches/host-reload.mjs --runs 3 --json "$OUT/host-reload.json"

# --- benchmarks that print their own markdown section (steps named md-…; benches/report.mjs renders them)
# All-hot mode (issue 18): start-up, frame and call cost, all-hot vs marked-only vs plain.
step md-allhot-large 3000 node benches/allhot.mjs --bulk 1000 --runs 5
step md-allhot-bounce 1800 node benches/allhot.mjs --app examples/c-host --frame bounce_frame --runs 9
step md-allhot-rust-demo 1800 node benches/allhot.mjs --app examples/rust-host --frame garden_frame --runs 15
step md-allhot-rust-calls 1800 node benches/allhot.mjs --app examples/allhot-rust --frame spin_frame --loop spin_call_loop --runs 15
step md-allhot-threads 1800 node benches/allhot-threads.mjs --runs 5
# Real third-party programs (Lua 5.4, Box2D 2.3; sources fetched with cargo): ~20 min cold.
step md-allhot-real 3600 node benches/allhot-real.mjs --runs 11
# Rust evals that keep their items (issue 21): session evals against today's path, interleaved.
step md-rust-session 1800 cargo bench -p hotwasm-pipeline --bench rust_session

# One growing program (issue 21): C/C++ evals through the persistent clang session against today's
# path, in the same run; the session's memory after 1,000 evals.
step md-session 2400 bash -c 'HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/c-host >/dev/null && HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/cpp-host >/dev/null && node --experimental-websocket benches/session.mjs --evals 30 --memory-evals 1000'
# Threads (issue 19): apply→live on every thread with busy/asleep workers, call cost on a worker,
# what cross-origin isolation changes (Node, then headless Chromium with the real server).
step md-threads 1200 node benches/threads.mjs 20
step md-threads-browser 900 node --experimental-websocket benches/threads-browser.mjs 20

# --- fuzzing (stable Rust; cargo-fuzz needs nightly)
step fuzz-build 900 cargo build --profile fuzz -p hotwasm-fuzz
# Inputs that once were findings (fuzz/regressions/<target>-<what>.*) must stay handled.
step fuzz-regressions 120 bash -c 'set -e; for f in fuzz/regressions/*; do [ -e "$f" ] || continue; t=$(basename "$f"); target/fuzz/hotwasm-fuzz --replay "$f" --target "${t%%-*}"; done'
step fuzz $((FUZZ_SECONDS + 120)) target/fuzz/hotwasm-fuzz --seconds "$FUZZ_SECONDS" --corpus build/fixtures

date -u +%Y-%m-%dT%H:%M:%SZ >"$OUT/finished"
if [ -n "$ONLY" ]; then
  node benches/splice.mjs "$OUT" BENCHMARKS.md || failed=1
  echo "bench: replaced the sections of $ONLY in BENCHMARKS.md (raw outputs in $OUT/)" >&2
  column -t -s $'\t' "$OUT/status.tsv" | cut -c1-140 >&2
  exit $failed
fi
if ! node benches/report.mjs "$OUT" >BENCHMARKS.md.tmp 2>"$OUT/report.err"; then
  echo "bench: the report generator failed:" >&2
  cat "$OUT/report.err" >&2
  failed=1
fi
[ -s BENCHMARKS.md.tmp ] && mv BENCHMARKS.md.tmp BENCHMARKS.md
rm -f BENCHMARKS.md.tmp
echo "bench: wrote BENCHMARKS.md (raw outputs in $OUT/)" >&2
column -t -s $'\t' "$OUT/status.tsv" | cut -c1-140 >&2
exit $failed
