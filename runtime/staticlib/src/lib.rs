//! The hotwasm runtime for C and C++ hosts: links the registry, the patch loader and the C
//! ABI of `abi/include/hotwasm.h` into `libhotwasm_runtime.a`. Build it for the host's target:
//!
//! ```sh
//! cargo build --release -p hotwasm-runtime-staticlib --target wasm32-unknown-emscripten
//! ```
//!
//! and link `target/wasm32-unknown-emscripten/release/libhotwasm_runtime.a` into the emcc
//! build (the flags are in docs/ADOPTING.md). Hot functions are declared with `HOTWASM_FN`
//! of `abi/include/hotwasm_hot.h`.

// The C ABI's `#[no_mangle]` functions live in the runtime; naming the crate links them in.
pub use runtime::*;
