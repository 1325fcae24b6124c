#!/usr/bin/env bash
# Regenerates runtime/src/bindings.rs from abi/include/hotwasm.h with bindgen.
set -euo pipefail
cd "$(dirname "$0")/.."
export LIBCLANG_PATH="${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}"
HOTWASM_BLESS=1 cargo test -q -p hotwasm-runtime --test bindings_are_current
echo "regenerated runtime/src/bindings.rs"
