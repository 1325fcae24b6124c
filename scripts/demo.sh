#!/usr/bin/env bash
# Starts the hotwasm demo (examples/particles): installs what is missing (first run only), builds
# the demo's host with HOT_RELOAD=1, starts the dev server on it, and prints the URL to open.
# Extra arguments go to `hotwasm serve` (e.g. --port 8000, --plain-emcc, --page hotwasm).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOTWASM_SKIP_BROWSER=1 bash "$ROOT/scripts/setup.sh"
HOT_RELOAD=1 bash "$ROOT/scripts/emscripten-bundle.sh" "$ROOT/examples/particles"
exec "$ROOT/scripts/hotwasm" serve --project "$ROOT/examples/particles" "$@"
