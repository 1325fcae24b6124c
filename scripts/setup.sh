#!/usr/bin/env bash
# Installs everything hotwasm needs on a Debian 12 machine, idempotently:
#   - bookworm's clang-19 / lld-19 / llvm-19 (Emscripten 3.1.69 drives them),
#   - Emscripten 3.1.69 unpacked from Debian trixie's architecture-independent package
#     into a user cache (never installed into the system),
#   - binaryen from npm (pinned), acorn for Emscripten's JS optimizer, our own EM_CONFIG,
#   - the Emscripten libraries patches link (PIC libc, compiler-rt, libc++), built into its cache,
#   - the wasm32-unknown-emscripten Rust target (via rust-toolchain.toml),
#   - Debian's chromium and npm's playwright-core for the browser tests.
# A second run checks stamps and returns in seconds.
# Prints `export` lines for the environment when called as `setup.sh --print-env`.
set -euo pipefail

HOTWASM_CACHE="${HOTWASM_CACHE:-$HOME/.cache/hotwasm}"
EMSCRIPTEN_VERSION="3.1.69+dfsg-3"
BINARYEN_VERSION="122.0.0"   # 120 rejects Rust 1.95 features; 132 breaks import minification.
EMSDK_DIR="$HOTWASM_CACHE/emscripten-3.1.69"
EMSCRIPTEN_ROOT="$EMSDK_DIR/usr/share/emscripten"
BINARYEN_DIR="$HOTWASM_CACHE/binaryen-$BINARYEN_VERSION"
EM_CONFIG_FILE="$HOTWASM_CACHE/emscripten-config.py"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

print_env() {
  cat <<ENV
export EM_CONFIG="$EM_CONFIG_FILE"
export EMSCRIPTEN_ROOT="$EMSCRIPTEN_ROOT"
export PATH="$EMSCRIPTEN_ROOT:$BINARYEN_DIR/node_modules/.bin:\$PATH"
export HOTWASM_CHROMIUM="/usr/bin/chromium"
ENV
}

if [[ "${1:-}" == "--print-env" ]]; then print_env; exit 0; fi

need_root_for_apt() {
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then echo sudo; else die "installing Debian packages needs root (run as root or install sudo)"; fi
  fi
}

apt_updated=0
apt_update_once() {
  if [[ $apt_updated -eq 0 ]]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    apt_updated=1
  fi
}

apt_install_missing() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    apt_update_once
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The configured Debian mirror URI (so no host name is written into this repo).
debian_mirror_uri() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(awk '/^URIs:/ {for (i=2;i<=NF;i++) if ($i !~ /security/) {print $i; exit}}' /etc/apt/sources.list.d/*.sources)
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
  fi
  [[ -n "$uri" ]] || die "no Debian mirror found in /etc/apt/sources.list(.d); configure apt first"
  printf '%s\n' "$uri"
}

install_emscripten() {
  if [[ -f "$EMSDK_DIR/.complete" ]]; then return; fi
  local work="$HOTWASM_CACHE/trixie-apt"
  rm -rf "$work" && mkdir -p "$work/lists/partial" "$work/parts" "$work/archives/partial"
  local mirror; mirror=$(debian_mirror_uri)
  cat >"$work/trixie.sources" <<SRC
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  local opts=(-oDir::Etc::SourceList="$work/trixie.sources" -oDir::Etc::SourceParts="$work/parts"
              -oDir::State::Lists="$work/lists" -oDir::Cache::Archives="$work/archives"
              -oAPT::Architecture=amd64 -oDebug::NoLocking=1 -oAPT::Sandbox::User=root)
  log "fetching the trixie package index (private lists; the system's apt state is untouched)"
  apt-get "${opts[@]}" update -qq
  log "downloading emscripten=$EMSCRIPTEN_VERSION (about 240 MB)"
  (cd "$work" && apt-get "${opts[@]}" download "emscripten=$EMSCRIPTEN_VERSION" -qq)
  local deb; deb=$(ls "$work"/emscripten_*.deb)
  rm -rf "$EMSDK_DIR" && mkdir -p "$EMSDK_DIR"
  log "unpacking $(basename "$deb")"
  dpkg -x "$deb" "$EMSDK_DIR"
  rm -rf "$work"
  touch "$EMSDK_DIR/.complete"
}

install_node_tools() {
  if [[ ! -x "$BINARYEN_DIR/node_modules/.bin/wasm-opt" ]]; then
    log "npm install binaryen@$BINARYEN_VERSION acorn"
    mkdir -p "$BINARYEN_DIR"
    (cd "$BINARYEN_DIR" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION" acorn@8 >/dev/null)
  fi
  # Emscripten's optimizer is an ES module: acorn must resolve from its own folder.
  if [[ ! -e "$EMSCRIPTEN_ROOT/node_modules/acorn" ]]; then
    mkdir -p "$EMSCRIPTEN_ROOT/node_modules"
    ln -sfn "$BINARYEN_DIR/node_modules/acorn" "$EMSCRIPTEN_ROOT/node_modules/acorn"
  fi
}

write_em_config() {
  local tmp="$EM_CONFIG_FILE.tmp"
  cat >"$tmp" <<CFG
# Written by hotwasm scripts/setup.sh; edits are overwritten.
# The package's prebuilt sysroot stays in its own cache folder (EMSCRIPTEN_ROOT/cache).
LLVM_ROOT = '/usr/bin'
LLVM_ADD_VERSION = '19'
CLANG_ADD_VERSION = '19'
BINARYEN_ROOT = '$BINARYEN_DIR/node_modules/binaryen'
NODE_JS = '$(command -v node)'
EMSCRIPTEN_ROOT = '$EMSCRIPTEN_ROOT'
FROZEN_CACHE = False
CFG
  if ! cmp -s "$tmp" "$EM_CONFIG_FILE" 2>/dev/null; then mv "$tmp" "$EM_CONFIG_FILE"; else rm -f "$tmp"; fi
}

# The libraries patches link, which Emscripten builds into its cache only on first use: the
# PIC C library and compiler-rt (C and C++ patches link what they call from them) and the C++
# libraries with wasm exceptions (C++ patches). A fresh cache has none; `hotwasm serve` builds
# the C ones on first need too, but the first eval would wait minutes for them.
PATCH_LIBRARIES=(libc libcompiler_rt libc++-except libc++abi-except libunwind-except)
build_patch_libraries() {
  local cache pic missing=() n=0 t0 out
  cache=$(EM_CONFIG="$EM_CONFIG_FILE" "$EMSCRIPTEN_ROOT/em-config" CACHE)
  pic="$cache/sysroot/lib/wasm32-emscripten/pic"
  for lib in "${PATCH_LIBRARIES[@]}"; do [[ -f "$pic/$lib.a" ]] || missing+=("$lib"); done
  [[ ${#missing[@]} -eq 0 ]] && return
  log "building the Emscripten libraries patches link into $cache, once: ${missing[*]} (minutes: libc++ takes longest)"
  out=$(mktemp)
  for lib in "${missing[@]}"; do
    n=$((n + 1)); t0=$SECONDS
    log "  [$n/${#missing[@]}] embuilder build $lib --pic"
    if ! EM_CONFIG="$EM_CONFIG_FILE" "$EMSCRIPTEN_ROOT/embuilder" build "$lib" --pic >"$out" 2>&1; then
      tail -20 "$out" >&2; rm -f "$out"
      die "embuilder build $lib --pic failed (its output is above)"
    fi
    log "  [$n/${#missing[@]}] $lib built in $((SECONDS - t0)) s"
  done
  rm -f "$out"
}

install_rust_target() {
  if ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-emscripten; then
    log "rustup target add wasm32-unknown-emscripten"
    (cd "$ROOT" && rustup target add wasm32-unknown-emscripten >/dev/null)
  fi
}

install_playwright() {
  if [[ ! -d "$ROOT/tests/browser/node_modules/playwright-core" ]]; then
    log "npm ci (playwright-core) in tests/browser"
    (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund --silent >/dev/null)
  fi
}

main() {
  command -v node >/dev/null || die "node is missing: apt-get install nodejs npm"
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup"
  SUDO=$(need_root_for_apt)
  mkdir -p "$HOTWASM_CACHE"
  # libclang-19-dev, llvm-19-dev, liblld-19-dev: the persistent compiler session (incremental/)
  apt_install_missing clang-19 lld-19 llvm-19 libclang1-19 chromium python3 binutils libclang-19-dev llvm-19-dev liblld-19-dev
  apt_install_missing clangd-19   # tests/docs/editors.test.mjs: clangd on patches with the written compile_commands.json
  install_emscripten
  install_node_tools
  write_em_config
  build_patch_libraries
  install_rust_target
  [[ "${HOTWASM_SKIP_BROWSER:-0}" == 1 ]] || install_playwright
  log "ready: emcc $(EM_CONFIG="$EM_CONFIG_FILE" "$EMSCRIPTEN_ROOT/emcc" --version 2>/dev/null | head -1 | sed 's/.*) //')"
}

main "$@"
