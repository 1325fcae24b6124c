#!/usr/bin/env bash
# Runs every check and test hotwasm has; the README's test command and what CI runs (.ci/run).
# Installs what is missing first (scripts/setup.sh), then: rustfmt, clippy, the demo's bundles,
# cargo tests (native runtime; the server with real emcc, WebSockets, `hotwasm init` apps built,
# served and live-edited), Node tests (real hosts + real side modules, the JS client), headless-
# Chromium tests (real pages, real server), and a bounded fuzz round.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Each step prints its title, and the seconds the previous one took (the CI time budget's split).
STEP_START=$SECONDS
STEP_NAME=""
step() {
  if [ -n "$STEP_NAME" ]; then printf '== took %ss: %s\n' "$((SECONDS - STEP_START))" "$STEP_NAME"; fi
  STEP_START=$SECONDS
  STEP_NAME="$*"
  printf '\n== %s\n' "$*"
}

step "setup (installs what is missing; seconds when nothing is)"
bash scripts/setup.sh
eval "$(bash scripts/setup.sh --print-env)"
export LIBCLANG_PATH="${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}"
# The checkout every hotwasm command (and test) serves web/ and abi/ from.
export HOTWASM_HOME="$ROOT"

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -q -- -D warnings

step "the demo's bundles: HOT_RELOAD=1 (MAIN_MODULE) and plain (examples/particles)"
HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/particles
bash scripts/emscripten-bundle.sh examples/particles

# The suites below run the command the bundles step just built (tests/lib/node-page.mjs), instead
# of asking cargo whether it is fresh once per file and per server.
export HOTWASM_BIN="${HOTWASM_CLI_TARGET_DIR:-$ROOT/target/hotwasm-cli}/cli/hotwasm"

step "cargo test (native runtime; server with real emcc and WebSockets; hotwasm init apps end to end)"
# --no-fail-fast: every test target runs and reports; the step fails at the end if any failed.
cargo test --workspace -q --no-fail-fast

step "cargo test: the runtime without hot-reload (plain hot_fn!, direct calls) and the demo's bindings"
cargo test -p hotwasm-runtime --no-default-features -q
cargo test -p particles -q

step "Node tests (runtime in real hosts, plain build, the JS client)"
node --experimental-websocket --test tests/node/ tests/node-client/

step "examples end to end (c-host, rust-host, cpp-host, large-host: build HOT_RELOAD, serve, a page, eval; statements and values in the C and Rust examples)"
node --experimental-websocket --test --test-concurrency=1 tests/examples/ tests/node-repl/

step "C++ patches and hosts end to end (the real server, the C++ example host under Node)"
node --experimental-websocket --test --test-concurrency=1 tests/cpp/

step "docs: every command and config snippet of README.md and docs/ as written; what clangd and rust-analyzer get"
node --experimental-websocket --test --test-concurrency=1 tests/docs/

# One headless Chromium for the browser suites (threads and Chromium steps): each test file gets a
# fresh context in it instead of launching its own browser (tests/browser/chromium-server.mjs).
exec {chromium_fd}< <(exec node tests/browser/chromium-server.mjs)
CHROMIUM_PID=$!
trap 'kill "$CHROMIUM_PID" 2>/dev/null || true' EXIT
read -r -u "$chromium_fd" HOTWASM_BROWSER_WS || { echo "tests/browser/chromium-server.mjs printed no endpoint: is Chromium installed (scripts/setup.sh)?" >&2; exit 1; }
export HOTWASM_BROWSER_WS

step "threads: the pthreads example (examples/threads-c) under Node and in headless Chromium, real -pthread patches"
node --experimental-websocket --test --test-concurrency=1 tests/threads/

step "headless Chromium tests (real pages, real server)"
# Their server: the debug build cargo test made (tests/browser/helpers.mjs ensureServer would ask
# cargo once per file and per server). The threads step above picks its own (the CLI build).
export HOTWASM_SERVER_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/hotwasm"
node --test --test-concurrency=1 tests/browser/

step "fuzz: a bounded round (10 s) of the manifest, signature, protocol and wasm readers"
cargo run -q -p hotwasm-fuzz -- --seconds 10
step "done"
printf '== all steps passed in %ss\n' "$SECONDS"
