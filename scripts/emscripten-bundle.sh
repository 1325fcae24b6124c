#!/usr/bin/env bash
# Builds the demo host for the browser.
#   HOT_RELOAD=1 scripts/emscripten-bundle.sh   → build/hot/:   MAIN_MODULE=2 host that can dlopen
#                                                 patches, plus hotwasm-host.json (the host manifest);
#                                                 it exports Rust's std for Rust patches unless
#                                                 HOTWASM_RUST_PATCHES=0 (C patches only, smaller)
#   scripts/emscripten-bundle.sh                → build/plain/: optimized build, no dynamic linking,
#                                                 hot functions are direct calls
# Prints what it built and the sizes. A missing tool is named with the command that installs it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

fail() { printf 'emscripten-bundle: %s\n' "$*" >&2; exit 1; }

# The toolchain scripts/setup.sh installs (it prints the environment; it does not install here).
if ! command -v emcc >/dev/null 2>&1; then
  eval "$(bash scripts/setup.sh --print-env)"
fi
command -v emcc >/dev/null 2>&1 && [[ -f "${EM_CONFIG:-/nonexistent}" ]] \
  || fail "emcc (Emscripten 3.1.69) is missing: run bash scripts/setup.sh"
command -v clang-19 >/dev/null 2>&1 || fail "clang-19 is missing: run bash scripts/setup.sh (apt-get install clang-19 lld-19 llvm-19)"
command -v wasm-ld-19 >/dev/null 2>&1 || fail "wasm-ld-19 is missing: run bash scripts/setup.sh (apt-get install lld-19)"
command -v node >/dev/null 2>&1 || fail "node is missing: apt-get install nodejs"
command -v cargo >/dev/null 2>&1 || fail "cargo is missing: install Rust with rustup"
rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-emscripten \
  || fail "the Rust target wasm32-unknown-emscripten is missing: run bash scripts/setup.sh (rustup target add wasm32-unknown-emscripten)"

HOT_RELOAD="${HOT_RELOAD:-0}"
TARGET=wasm32-unknown-emscripten
if [[ "$HOT_RELOAD" == 1 ]]; then MODE=hot; else MODE=plain; fi
OUT="$ROOT/build/${HOTWASM_OUT_NAME:-$MODE}"
TARGET_DIR="$ROOT/target/emscripten-${HOTWASM_OUT_NAME:-$MODE}"
mkdir -p "$OUT"

# The export list: the demo's own functions (+ with HOT_RELOAD the runtime's C ABI, every hot
# function's trampoline, and what patches may import from the C library).
list_names() { grep -v '^\s*#' "$@" | sed '/^\s*$/d'; }
names=$(list_names examples/particles/exports.txt)
if [[ "$MODE" == hot ]]; then
  abi=$(grep -o 'hotwasm_[a-z_]*(' abi/include/hotwasm.h | tr -d '(' | sort -u)
  hot=$(grep -o '^\s*pub fn [a-z_0-9]*' examples/particles/src/hot.rs | awk '{print $3}')
  names=$(printf '%s\n' "$names" "$abi" "$hot" "$(list_names examples/particles/patch-imports.txt)")
  if [[ "${HOTWASM_RUST_PATCHES:-1}" == 1 ]]; then
    # Rust patches import the std functions they use from the host (they carry no std of their
    # own). Export every externally visible standard-library symbol the host links, and the
    # allocator shim: computed from this toolchain's rlibs, handed to wasm-ld as
    # --export-if-defined (std code the host never links is not pulled in: see the README).
    command -v llvm-nm-19 >/dev/null 2>&1 || fail "llvm-nm-19 is missing: run bash scripts/setup.sh (apt-get install llvm-19)"
    rustlib="$(rustc --print sysroot)/lib/rustlib/$TARGET/lib"
    std_rlibs=$(ls "$rustlib"/lib{std,core,alloc,hashbrown,rustc_demangle,panic_unwind}-*.rlib)
    {
      for rlib in $std_rlibs; do llvm-nm-19 --defined-only --extern-only -j "$rlib" 2>/dev/null; done
      for rlib in $std_rlibs; do llvm-nm-19 --undefined-only -j "$rlib" 2>/dev/null; done | grep '7___rustc'
    } | grep -v -e ':$' -e '^$' | sort -u | sed 's/^/--export-if-defined=/' >"$OUT/rust-std-exports.rsp"
    rust_exports_rsp="$OUT/rust-std-exports.rsp"
  fi
fi
exports_json="$OUT/exported-functions.json"
printf '%s\n' "$names" | sort -u | awk 'BEGIN{printf "["} NR>1{printf ","} {printf "\"_%s\"", $0} END{print "]"}' >"$exports_json"

link=(
  -sMODULARIZE=1 -sEXPORT_NAME=createHotwasmDemo -sENVIRONMENT=web,node
  -sALLOW_MEMORY_GROWTH=1 -sWASM_BIGINT -sFILESYSTEM=1 -sEXIT_RUNTIME=0
  "-sEXPORTED_FUNCTIONS=@$exports_json"
  -sEXPORTED_RUNTIME_METHODS=FS,stringToNewUTF8,ccall,cwrap,UTF8ToString,stackSave,stackRestore,HEAPU8,HEAPU32,HEAPF32,wasmTable
  -Wno-version-check
)
features=()
if [[ "$MODE" == hot ]]; then
  # HOTWASM_EXPORT_ALL=1: MAIN_MODULE=1, every symbol exported (measured alternative; large).
  if [[ "${HOTWASM_EXPORT_ALL:-0}" == 1 ]]; then link+=(-sMAIN_MODULE=1); else link+=(-sMAIN_MODULE=2); fi
  link+=(-sALLOW_TABLE_GROWTH=1)
  [[ -n "${rust_exports_rsp:-}" ]] && link+=("-Wl,@$rust_exports_rsp")
  features=(--features hot-reload)
fi
rustflags=""
for flag in "${link[@]}"; do rustflags+=" -C link-arg=$flag"; done

start=$(date +%s.%N)
HOTWASM_EXPORT_LIST="$exports_json ${rust_exports_rsp:-}" RUSTFLAGS="$rustflags" CARGO_TARGET_DIR="$TARGET_DIR" \
  cargo build --release -q -p hotwasm-demo --target "$TARGET" "${features[@]}"
built="$TARGET_DIR/$TARGET/release"
cp "$built/hotwasm-demo.js" "$OUT/hotwasm-demo.js"
cp "$built/hotwasm_demo.wasm" "$OUT/hotwasm_demo.wasm"
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')

if [[ "$MODE" == hot ]]; then
  node scripts/host-manifest.mjs "$OUT" >"$OUT/hotwasm-host.json.tmp"
  mv "$OUT/hotwasm-host.json.tmp" "$OUT/hotwasm-host.json"
fi

size() { stat -c %s "$1" | awk '{printf "%.1f KB", $1/1024}'; }
echo "built $MODE host in ${secs}s: $OUT"
echo "  hotwasm_demo.wasm  $(size "$OUT/hotwasm_demo.wasm")"
echo "  hotwasm-demo.js    $(size "$OUT/hotwasm-demo.js")"
[[ "$MODE" == hot ]] && echo "  hotwasm-host.json  $(node -e 'const m=require(process.argv[1]); console.log(`${m.vars.length} vars, ${m.exports.length} exports`)' "$OUT/hotwasm-host.json")"
exit 0
