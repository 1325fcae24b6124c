//! Applies a patch: load it, resolve every symbol, check every signature, swap every slot.

use crate::dl;
use crate::error::HotError;
use crate::global::global;
use crate::registry::{Offer, PatchId};
use hotwasm_abi::PatchManifest;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// Applies the side module at `path` (a path no earlier patch used: the dynamic linker returns
/// the already-loaded module for a known path) as described by `manifest_text`
/// (`<var> <symbol> <signature>` lines). All or nothing: on `Err` no var changed and the
/// previous code keeps running.
///
/// The sequence, in this order:
/// 1. parse the manifest and check every entry against the registry (name, signature);
/// 2. (wasm) read the module's own types: every manifest symbol must be an exported function
///    of exactly the claimed type, and every import must exist in the host, in an applied
///    patch or in the module itself (external globals are shared through Emscripten's GOT);
/// 3. `dlopen(RTLD_NOW | RTLD_LOCAL)` of a path never loaded before;
/// 4. `dlsym` every symbol in *this* handle only, so no earlier definition can answer;
/// 5. swap every slot under the registry lock (re-checked there), as one patch.
///
/// # Safety
/// Loading the module runs its constructors, and from the next call on every var it offers
/// runs its code: the module must be a patch built for this host (by the hotwasm server),
/// whose functions really have the manifest's signatures (in wasm hosts the loader checks the
/// module's own types; natively it cannot).
pub unsafe fn apply(path: &str, manifest_text: &str) -> Result<PatchId, HotError> {
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
    global().check(&offers)?;

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
    // The module is loaded now, whatever happens next: its path can never serve another patch.
    LOADED_PATHS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(path.to_string());
    for offer in &mut offers {
        offer.addr = library
            .symbol(&offer.symbol)
            .map_err(|dlerror| HotError::Symbol {
                var: offer.var.clone(),
                symbol: offer.symbol.clone(),
                dlerror,
            })?;
    }

    // ---- HOST-STATE-MUTATING SECTION: one call, which validates again and then swaps all. ----
    // SAFETY: every address was resolved in the loaded module, which is never unloaded; its
    // signature is the manifest's (checked against the module's types in wasm hosts, and
    // vouched for by this function's caller).
    let patch = unsafe { global().install(offers)? };
    LIBRARIES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(patch, library);
    #[cfg(target_os = "emscripten")]
    LOADED_PATHS_BY_PATCH
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(patch, path.to_string());
    Ok(patch)
}

/// Each applied patch's path, to read the type of a function to run once.
#[cfg(target_os = "emscripten")]
static LOADED_PATHS_BY_PATCH: Mutex<BTreeMap<PatchId, String>> = Mutex::new(BTreeMap::new());

/// Each applied patch's library, to run its one-shot functions.
static LIBRARIES: Mutex<BTreeMap<PatchId, dl::Library>> = Mutex::new(BTreeMap::new());

/// Calls `symbol`, a `void(void)` function of applied patch `patch`, looked up in that patch
/// only, then flushes stdout so what it printed reaches the page.
///
/// # Safety
/// Runs the patch's code: natively `symbol` must name a `void(void)` function (in wasm hosts
/// its type is checked first).
pub unsafe fn run(patch: PatchId, symbol: &str) -> Result<(), HotError> {
    let addr = {
        let libraries = LIBRARIES.lock().unwrap_or_else(|p| p.into_inner());
        let library = libraries.get(&patch).ok_or(HotError::UnknownPatch {
            patch: patch.into(),
        })?;
        library.symbol(symbol).map_err(|dlerror| HotError::Symbol {
            var: "(run once)".to_string(),
            symbol: symbol.to_string(),
            dlerror,
        })?
    };
    #[cfg(target_os = "emscripten")]
    {
        let bytes = std::fs::read(
            LOADED_PATHS_BY_PATCH
                .lock()
                .unwrap_or_else(|p| p.into_inner())[&patch]
                .clone(),
        );
        let sig = bytes
            .ok()
            .and_then(|b| crate::wasm_types::read("", &b).ok())
            .and_then(|t| t.exports.get(symbol).cloned());
        if sig.as_ref().map(|s| s.to_string()) != Some("v".to_string()) {
            return Err(HotError::InvalidArgument(format!(
                "`{symbol}` must be a `void {symbol}(void)` function to run once"
            )));
        }
    }
    // SAFETY: the symbol comes from a loaded patch that is never unloaded; under wasm its type
    // was just checked to be void(void); natively the caller vouches for it.
    let f: extern "C" fn() = unsafe { std::mem::transmute::<usize, extern "C" fn()>(addr) };
    f();
    // SAFETY: fflush(NULL) flushes every open output stream; always valid.
    unsafe { libc::fflush(std::ptr::null_mut()) };
    // Emscripten's TTY holds a line without its newline until the stream is synced.
    #[cfg(target_os = "emscripten")]
    // SAFETY: fsync on the standard output descriptor; an error only means nothing to flush.
    unsafe {
        libc::fsync(1)
    };
    Ok(())
}

/// Looks `symbol` up in applied patch `patch`, so the dynamic linker adds it to the function
/// table now, on this thread (the loader thread: docs/THREADS.md); a missing one is reported
/// when it is used.
#[cfg(target_os = "emscripten")]
pub fn look_up(patch: PatchId, symbol: &str) {
    if let Some(library) = LIBRARIES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&patch)
    {
        let _ = library.symbol(symbol);
    }
}

/// Paths `dlopen` has loaded: loading one again would silently return the old module.
static LOADED_PATHS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Whether an applied patch exports `name`. Patches load `RTLD_LOCAL`, so `RTLD_DEFAULT` misses
/// their exports, but Emscripten's process-wide GOT binds a later patch's `GOT.*` import to the
/// first module that exported the name (how an `extern` global of an earlier eval is shared).
#[cfg(target_os = "emscripten")]
fn exported_by_a_patch(name: &str) -> bool {
    LIBRARIES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .any(|library| library.symbol(name).is_ok())
}

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
        let provided = types.export_names.contains(import)
            || dl::global_symbol_exists(import)
            || exported_by_a_patch(import);
        if !provided {
            return Err(HotError::MissingImport {
                symbol: import.clone(),
            });
        }
    }
    Ok(())
}
