#!/usr/bin/env bash
# Starts the hotwasm demo: installs what is missing (first run only), builds the demo host with
# HOT_RELOAD=1, builds and starts the dev server, and prints the URL to open.
# Extra arguments go to `hotwasm serve` (e.g. --port 8000, --plain-emcc).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
HOTWASM_SKIP_BROWSER=1 bash scripts/setup.sh
eval "$(bash scripts/setup.sh --print-env)"
HOT_RELOAD=1 bash scripts/emscripten-bundle.sh
cargo build --release -q -p hotwasm-server
exec target/release/hotwasm serve --root "$ROOT" "$@"
