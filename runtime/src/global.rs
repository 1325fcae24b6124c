//! The process-wide registry and the Rust API over it (the C ABI in `c_api.rs` wraps the same
//! functions).

use crate::error::HotError;
use crate::registry::{Offer, PatchId, Registry, Slot, VarInfo};
use crate::slot::HotSlot;
use hotwasm_abi::Signature;
use std::sync::{Mutex, MutexGuard};

static GLOBAL: Mutex<Registry> = Mutex::new(Registry::new());

/// The process-wide registry, locked. The lock policy of this crate: a panic while a lock was
/// held cannot leave the registry half-changed (every operation validates before it mutates,
/// and the mutating sections do not panic), so a poisoned lock is taken over — never
/// `unwrap`ped or `expect`ed.
pub(crate) fn global() -> MutexGuard<'static, Registry> {
    GLOBAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Registers a hot function declared with [`hot_fn!`](crate::hot_fn) (its module's `SLOT`).
/// `hot_fn!` does this itself before `main`; registering a slot again does nothing.
pub fn register(slot: &'static HotSlot) -> Result<(), HotError> {
    let signature = Signature::parse(slot.signature())?;
    // SAFETY: `HotSlot::new`'s contract: the slot holds a function of exactly these letters.
    unsafe { global().register_slot(slot.name(), signature, slot.cell()) }
}

/// What `hot_fn!`'s constructor calls: [`register`], reporting a failure on stderr (a
/// constructor has no caller to return it to). The function keeps working; it cannot be
/// patched.
#[doc(hidden)]
pub fn register_at_startup(slot: &'static HotSlot) {
    if let Err(e) = register(slot) {
        eprintln!(
            "hotwasm: hot function `{}` cannot be patched: {e}",
            slot.name()
        );
    }
}

/// Registers a var whose implementation lives in a host-owned `slot` (what C hosts do with
/// `hotwasm_register_slot`).
///
/// # Safety
/// `slot` must hold the address of a function whose signature is `signature`; the registry
/// stores other functions of that signature into it from now on.
pub unsafe fn register_slot(name: &str, signature: &str, slot: Slot) -> Result<(), HotError> {
    let signature = Signature::parse(signature)?;
    // SAFETY: forwarded from this function's contract.
    unsafe { global().register_slot(name, signature, slot) }
}

/// Sets the all-hot directory of this host (its build generated the call).
pub(crate) fn set_directory(directory: crate::directory::Directory) {
    global().set_directory(directory);
}

/// The slot of var `name` (created pending when unknown): what a patch's trampolines call
/// through. Stable for the life of the program.
pub fn slot(name: &str, signature: &str) -> Result<Slot, HotError> {
    let signature = Signature::parse(signature)?;
    global().slot(name, signature)
}

/// The current implementation of a var (`None`: unknown, or pending).
pub fn lookup(name: &str) -> Option<usize> {
    global().lookup(name)
}

/// Defines a var (new) or swaps one (existing, same signature) outside any patch.
///
/// # Safety
/// `addr` must be the address of a function whose signature is `signature`, loaded for the rest
/// of the program: every caller of the var jumps there from the next call on.
pub unsafe fn define(name: &str, signature: &str, addr: usize) -> Result<(), HotError> {
    let signature = Signature::parse(signature)?;
    // SAFETY: forwarded from this function's contract.
    unsafe { global().define(name, signature, addr) }
}

/// Swaps functions in as one patch, all or nothing.
///
/// # Safety
/// Every offer's `addr` must be a function of the offer's signature, loaded for the rest of the
/// program.
pub unsafe fn swap(offers: Vec<Offer>) -> Result<PatchId, HotError> {
    // SAFETY: forwarded from this function's contract.
    unsafe { global().install(offers) }
}

/// Rolls one var back to its previous implementation.
pub fn rollback_var(name: &str) -> Result<(), HotError> {
    global().rollback_var(name)
}

/// Rolls back every var a patch changed.
pub fn rollback_patch(patch: PatchId) -> Result<usize, HotError> {
    global().rollback_patch(patch)
}

/// Every var that has an implementation, with its history.
pub fn list() -> Vec<VarInfo> {
    global().list()
}

/// [`list`] as the JSON `hotwasm_list_json` returns. Names and symbols are C identifiers, so
/// they need no escaping; the signature is letters.
pub fn list_json() -> String {
    let vars: Vec<String> = list()
        .iter()
        .map(|v| {
            let history: Vec<String> = v
                .history
                .iter()
                .map(|h| {
                    let patch = h.patch.map_or("null".to_string(), |p| p.to_string());
                    format!(r#"{{"patch":{patch},"symbol":"{}"}}"#, h.symbol)
                })
                .collect();
            format!(
                r#"{{"name":"{}","signature":"{}","version":{},"history":[{}]}}"#,
                v.name,
                v.signature,
                v.history.len(),
                history.join(",")
            )
        })
        .collect();
    format!("[{}]", vars.join(","))
}
