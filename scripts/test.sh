#!/usr/bin/env bash
# Runs every check and test hotwasm has; the README's test command and what CI runs.
# Installs what is missing first (scripts/setup.sh), then: rustfmt, clippy, both bundles,
# cargo tests (native runtime + server with real emcc), Node tests (real host + real side
# modules), headless-Chromium tests (real page, real server).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
step() { printf '\n== %s\n' "$*"; }

step "setup (installs what is missing; seconds when nothing is)"
bash scripts/setup.sh
eval "$(bash scripts/setup.sh --print-env)"
export LIBCLANG_PATH="${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}"

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -q -- -D warnings

step "bundles: HOT_RELOAD=1 (MAIN_MODULE) and plain"
HOT_RELOAD=1 bash scripts/emscripten-bundle.sh
bash scripts/emscripten-bundle.sh

step "cargo test (native runtime, server with real emcc and WebSockets)"
cargo test --workspace -q

step "Node tests (runtime in the real host, plain build, JS client)"
node --experimental-websocket --test tests/node/ tests/node-client/

step "headless Chromium tests (real page, real server)"
node --test --test-concurrency=1 tests/browser/

