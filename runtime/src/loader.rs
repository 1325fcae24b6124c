//! Applies a patch: load it, resolve every symbol, check every signature, swap every slot.

use crate::dl;
use crate::error::HotError;
use crate::registry::{self, Offer, PatchId};
use hotwasm_abi::PatchManifest;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Applies the side module at `path` (a path no earlier patch used: the dynamic linker returns
/// the already-loaded module for a known path) as described by `manifest_text`
/// (`<var> <symbol> <signature>` lines). All or nothing: on `Err` no var changed and the
/// previous code keeps running.
///
/// The sequence, in this order:
/// 1. parse the manifest and check every entry against the registry (name, signature);
/// 2. (wasm) read the module's own types: every manifest symbol must be an exported function
///    of exactly the claimed type, and every import must exist in the host;
/// 3. `dlopen(RTLD_NOW | RTLD_LOCAL)` of a path never loaded before;
/// 4. `dlsym` every symbol in *this* handle only, so no earlier definition can answer;
/// 5. swap every slot under the registry lock (re-checked there), as one patch.
pub fn apply(path: &str, manifest_text: &str) -> Result<PatchId, HotError> {
    let manifest = PatchManifest::parse(manifest_text)?;
    let mut offers: Vec<Offer> = manifest
        .entries
        .iter()
        .map(|e| Offer {
            var: e.var.clone(),
            signature: e.signature.clone(),
            symbol: e.symbol.clone(),
            addr: 0,
        })
        .collect();
    registry::global().check(&offers)?;

    #[cfg(target_os = "emscripten")]
    verify_module(path, &manifest)?;

    if LOADED_PATHS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(path)
    {
        return Err(HotError::PathReused {
            path: path.to_string(),
        });
    }
    let library = dl::open(path).map_err(|dlerror| HotError::Load {
        path: path.to_string(),
        dlerror,
    })?;
    for offer in &mut offers {
        offer.addr = library
            .symbol(&offer.symbol)
            .map_err(|dlerror| HotError::Symbol {
                var: offer.var.clone(),
                symbol: offer.symbol.clone(),
                dlerror,
            })?;
    }

    // The module is loaded now, whatever happens next: its path can never serve another patch.
    LOADED_PATHS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(path.to_string());

    // ---- HOST-STATE-MUTATING SECTION: one call, which validates again and then swaps all. ----
    registry::global().install(offers)
}

/// Paths `dlopen` has loaded: loading one again would silently return the old module.
static LOADED_PATHS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Step 2: the module's real export types and imports, before any of its code can run.
#[cfg(target_os = "emscripten")]
fn verify_module(path: &str, manifest: &PatchManifest) -> Result<(), HotError> {
    let bytes = std::fs::read(path).map_err(|e| HotError::Load {
        path: path.to_string(),
        dlerror: Some(format!(
            "cannot read it: {e}; write the patch to the virtual FS first"
        )),
    })?;
    let types = crate::wasm_types::read(path, &bytes)?;
    for e in &manifest.entries {
        let actual = types.exports.get(&e.symbol);
        if actual.map(|a| a.to_wasm32()) != Some(e.signature.to_wasm32()) {
            return Err(HotError::PatchTypes {
                symbol: e.symbol.clone(),
                claimed: e.signature.clone(),
                actual: actual.cloned(),
            });
        }
    }
    for import in &types.imports {
        if !types.exports.contains_key(import) && !dl::global_symbol_exists(import) {
            return Err(HotError::MissingImport {
                symbol: import.clone(),
            });
        }
    }
    Ok(())
}
