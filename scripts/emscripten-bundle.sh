#!/usr/bin/env bash
# Builds an app's host for the browser, as its hotwasm.toml says (a thin wrapper of `hotwasm build`):
#   HOT_RELOAD=1 scripts/emscripten-bundle.sh [DIR]  → <out_dir>/hot/: MAIN_MODULE=2 host that can
#                                                     dlopen patches, plus hotwasm-host.json
#   scripts/emscripten-bundle.sh [DIR]               → <out_dir>/plain/: no dynamic linking, hot
#                                                     functions are direct calls
# DIR is the app (a directory holding hotwasm.toml, or below one); default: the current
# directory. E.g. `HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/particles`.
# Builds the hotwasm command first if needed; prints what it does and the sizes.
set -euo pipefail
args=(build)
[[ "${HOT_RELOAD:-0}" == 1 ]] && args+=(--hot)
[[ $# -gt 0 ]] && args+=(--project "$1")
exec "$(dirname "${BASH_SOURCE[0]}")/hotwasm" "${args[@]}"
