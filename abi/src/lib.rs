//! The contract between the hotwasm dev server and the runtime inside the host.
//!
//! Everything both sides must agree on lives here once: Emscripten signature letters and
//! their parsing, the patch manifest that travels with every patch, the host manifest the
//! bundle script writes, and the versioned symbol names that keep Emscripten's linker from
//! binding a new patch to an old definition; with the `wasm` feature, the one reader of a
//! wasm module's exports and imports; with `json`, reading the host manifest file. Without features it has no dependencies, so the runtime
//! can link it into a wasm host at no cost.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod hash;
mod host_manifest;
mod patch_manifest;
mod signature;
mod symbol;
#[cfg(feature = "wasm")]
pub mod wasm;

pub use hash::fnv1a;
pub use host_manifest::{
    ColdFunction, FieldLayout, HostManifest, HostVar, LayoutInput, TypeLayout,
};
pub use patch_manifest::{ManifestError, PatchEntry, PatchManifest};
pub use signature::{Signature, SignatureError, ValType};
pub use symbol::{is_c_identifier, split_versioned_symbol, versioned_symbol, VERSION_SEPARATOR};

/// Version of the C ABI in `abi/include/hotwasm.h` (`HOTWASM_ABI_VERSION`).
pub const ABI_VERSION: u32 = 2;
