//! The var registry: name → slots, signature and version history.
//!
//! Every var's implementation lives in a slot, a pointer-sized cell holding the address of the
//! function that runs: a host-owned static (`hot_fn!`'s `HotSlot`, a C host's `HOTWASM_FN`
//! slot, both registered at start-up) or one the registry allocates for a var that a patch
//! defines or asks for first (`hotwasm_slot`). Calls through a slot never enter this module.
//!
//! Only this module writes slots. Every operation validates first and mutates after, so a
//! failed operation changes nothing.

use crate::directory::Directory;
use crate::error::{Claimant, HotError};
use hotwasm_abi::{is_c_identifier, Signature};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicPtr, Ordering};

/// Identifies one applied patch (the first is 1).
pub type PatchId = u32;

/// A slot: the cell a var's callers load the current implementation from.
pub type Slot = &'static AtomicPtr<()>;

/// One implementation a var has had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The patch that brought it; `None` for the host's own or a `define`d one.
    pub patch: Option<PatchId>,
    /// The symbol it was resolved from (the var's name for the host's own).
    pub symbol: String,
}

/// A var as listed for the page's history view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarInfo {
    /// Its name.
    pub name: String,
    /// Its signature letters.
    pub signature: String,
    /// Versions in order; the last one runs.
    pub history: Vec<VersionInfo>,
}

struct Version {
    addr: usize,
    info: VersionInfo,
}

struct Var {
    name: String,
    signature: Signature,
    /// Every slot that holds this var's current implementation. The first is the one
    /// [`Registry::slot`] hands out; a host slot registered for a pending var joins it.
    slots: Vec<Slot>,
    /// A host registered a slot of its own with its default implementation.
    host: bool,
    /// Versions in order; the last one runs. Empty while the var is pending (asked for by
    /// [`Registry::slot`] before anything defined it).
    history: Vec<Version>,
}

impl Var {
    fn current(&self) -> Option<usize> {
        self.history.last().map(|v| v.addr)
    }

    /// Writes the newest version into every slot.
    fn publish(&self) {
        let addr = self.current().unwrap_or(0) as *mut ();
        for slot in &self.slots {
            slot.store(addr, Ordering::Release);
        }
    }
}

/// One implementation offered for a var by a patch (or `define`).
#[derive(Debug, Clone)]
pub struct Offer {
    /// The var.
    pub var: String,
    /// The signature claimed for it.
    pub signature: Signature,
    /// The symbol it came from.
    pub symbol: String,
    /// The function's address.
    pub addr: usize,
}

/// All vars of one program. The process-wide instance is behind [`register`](crate::register),
/// [`apply`](crate::apply) and the C ABI.
#[derive(Default)]
pub struct Registry {
    /// In registration order (the order `list` reports).
    vars: Vec<Var>,
    index: BTreeMap<String, usize>,
    patches: BTreeMap<PatchId, Vec<String>>,
    last_patch: PatchId,
    /// An all-hot host's functions, adopted as vars when first named ([`Registry::adopt`]).
    directory: Option<Directory>,
}

fn new_slot() -> Slot {
    // A var a patch adds lives as long as the program, like the patch's code.
    Box::leak(Box::new(AtomicPtr::new(std::ptr::null_mut())))
}

fn check_name(name: &str) -> Result<(), HotError> {
    if is_c_identifier(name) {
        Ok(())
    } else {
        Err(HotError::InvalidArgument(format!(
            "`{}` is not a C identifier",
            name.escape_debug()
        )))
    }
}

impl Registry {
    /// An empty registry.
    pub const fn new() -> Registry {
        Registry {
            vars: Vec::new(),
            index: BTreeMap::new(),
            patches: BTreeMap::new(),
            last_patch: 0,
            directory: None,
        }
    }

    /// Sets the all-hot directory (a host gives it once, at start-up).
    pub fn set_directory(&mut self, directory: Directory) {
        self.directory = Some(directory);
    }

    /// Makes `name` a var when it is a function of the all-hot directory not yet registered:
    /// its slot and its default are the host's own, exactly as if the host had registered it at
    /// start-up. Unknown names and known vars are left alone.
    fn adopt(&mut self, name: &str) {
        if self.index.contains_key(name) {
            return;
        }
        let Some(entry) = self.directory.as_ref().and_then(|d| d.find(name)) else {
            return;
        };
        // SAFETY: the directory's contract: the slot holds a function of this signature.
        if let Err(e) = unsafe { self.register_slot(name, entry.signature, entry.slot) } {
            eprintln!("hotwasm: host function `{name}` cannot be made hot: {e}");
        }
    }

    fn var(&self, name: &str) -> Option<&Var> {
        self.index.get(name).map(|&i| &self.vars[i])
    }

    fn var_mut(&mut self, name: &str) -> Option<&mut Var> {
        self.index.get(name).map(|&i| &mut self.vars[i])
    }

    fn add_var(&mut self, name: &str, signature: Signature, slot: Slot) -> &mut Var {
        let at = self.vars.len();
        self.index.insert(name.to_string(), at);
        self.vars.push(Var {
            name: name.to_string(),
            signature,
            slots: vec![slot],
            host: false,
            history: Vec::new(),
        });
        &mut self.vars[at]
    }

    /// Adds a var whose implementation lives in `slot`, a cell the host owns; what the slot
    /// holds now is the host's default implementation. Registering the same slot again does
    /// nothing. A var that patches asked for before (pending) takes the host's slot and
    /// default.
    ///
    /// # Safety
    /// `slot` must hold the address of a function whose signature is `signature`: the registry
    /// lets callers call it with those types, and stores other functions of that signature into
    /// the slot from now on.
    pub unsafe fn register_slot(
        &mut self,
        name: &str,
        signature: Signature,
        slot: Slot,
    ) -> Result<(), HotError> {
        check_name(name)?;
        let addr = slot.load(Ordering::Acquire) as usize;
        if addr == 0 {
            return Err(HotError::InvalidArgument(format!(
                "the slot of `{name}` is empty: initialise it with the default implementation before registering it"
            )));
        }
        let default = Version {
            addr,
            info: VersionInfo {
                patch: None,
                symbol: name.to_string(),
            },
        };
        let Some(var) = self.var_mut(name) else {
            let var = self.add_var(name, signature, slot);
            var.host = true;
            var.history.push(default);
            return Ok(());
        };
        let same_signature = var.signature.same_in_wasm32(&signature);
        if same_signature && var.slots.iter().any(|s| std::ptr::eq(*s, slot)) {
            return Ok(());
        }
        if var.host {
            return Err(HotError::DuplicateVar {
                name: name.to_string(),
            });
        }
        if !same_signature {
            return Err(HotError::SignatureMismatch {
                var: name.to_string(),
                expected: var.signature.clone(),
                found: signature,
                by: Claimant::Host,
            });
        }
        if !var.history.is_empty() {
            return Err(HotError::InvalidArgument(format!(
                "`{name}` already has an implementation from a patch: a host registers its hot functions at start-up, before any patch is applied"
            )));
        }
        // ---- HOST-STATE-MUTATING SECTION ----
        var.host = true;
        var.slots.push(slot);
        var.history.push(default);
        var.publish();
        Ok(())
    }

    /// The slot of `name`, for a patch's trampolines and anything else that keeps a var's cell
    /// and calls through it: stable for the life of the program. An unknown name becomes a
    /// pending var of that signature whose slot holds NULL until a patch or the host defines
    /// it. A known var with another signature is refused, naming both.
    pub fn slot(&mut self, name: &str, signature: Signature) -> Result<Slot, HotError> {
        check_name(name)?;
        self.adopt(name);
        match self.var(name) {
            Some(var) if !var.signature.same_in_wasm32(&signature) => {
                Err(HotError::SignatureMismatch {
                    var: name.to_string(),
                    expected: var.signature.clone(),
                    found: signature,
                    by: Claimant::SlotRequest,
                })
            }
            Some(var) => Ok(var.slots[0]),
            None => Ok(self.add_var(name, signature, new_slot()).slots[0]),
        }
    }

    /// The current address of `name` (`None` for an unknown or pending var).
    pub fn lookup(&self, name: &str) -> Option<usize> {
        match self.var(name) {
            Some(var) => var.current(),
            None => self
                .directory
                .as_ref()?
                .find(name)
                .map(|e| e.slot.load(std::sync::atomic::Ordering::Acquire) as usize),
        }
    }

    /// Checks offers: names, signatures, no var twice. Changes nothing but adopting the host's
    /// own functions the offers name (all-hot hosts), so they are checked as the host's vars.
    pub fn check(&mut self, offers: &[Offer]) -> Result<(), HotError> {
        for o in offers {
            self.adopt(&o.var);
        }
        let mut seen = std::collections::BTreeSet::new();
        for o in offers {
            check_name(&o.var)?;
            if !seen.insert(o.var.as_str()) {
                return Err(HotError::InvalidArgument(format!(
                    "`{}` is defined twice in one patch",
                    o.var
                )));
            }
            if o.signature.params.len() + 1 > crate::slot::MAX_SIGNATURE {
                return Err(HotError::InvalidArgument(format!(
                    "`{}` has too many parameters",
                    o.var
                )));
            }
            if let Some(var) = self.var(&o.var) {
                if !var.signature.same_in_wasm32(&o.signature) {
                    return Err(HotError::SignatureMismatch {
                        var: o.var.clone(),
                        expected: var.signature.clone(),
                        found: o.signature.clone(),
                        by: Claimant::Patch,
                    });
                }
            }
        }
        Ok(())
    }

    /// Swaps every offer in as one patch, or none of them. Returns the patch's id. A patch with
    /// no offers (one that only defines globals, or only runs code) changes no var.
    ///
    /// # Safety
    /// Each offer's `addr` must be the address of a function whose signature is the offer's
    /// `signature`, loaded for the rest of the program: from the next call on, every caller of
    /// the var jumps there.
    pub unsafe fn install(&mut self, offers: Vec<Offer>) -> Result<PatchId, HotError> {
        self.check(&offers)?;
        // ---- HOST-STATE-MUTATING SECTION: everything below succeeds. ----
        self.last_patch += 1;
        let patch = self.last_patch;
        let mut vars = Vec::with_capacity(offers.len());
        for o in offers {
            let info = VersionInfo {
                patch: Some(patch),
                symbol: o.symbol,
            };
            self.push_version(&o.var, o.signature, info, o.addr);
            vars.push(o.var);
        }
        self.patches.insert(patch, vars);
        Ok(patch)
    }

    /// Defines a var outside any patch: a new var, or a new version of an existing one.
    ///
    /// # Safety
    /// As for [`install`](Registry::install): `addr` is a function of `signature` that stays
    /// loaded for the rest of the program.
    pub unsafe fn define(
        &mut self,
        name: &str,
        signature: Signature,
        addr: usize,
    ) -> Result<(), HotError> {
        let offer = Offer {
            var: name.to_string(),
            signature,
            symbol: name.to_string(),
            addr,
        };
        self.check(std::slice::from_ref(&offer))?;
        let info = VersionInfo {
            patch: None,
            symbol: offer.symbol,
        };
        self.push_version(name, offer.signature, info, addr);
        Ok(())
    }

    fn push_version(&mut self, name: &str, signature: Signature, info: VersionInfo, addr: usize) {
        let var = match self.index.get(name) {
            Some(&i) => &mut self.vars[i],
            None => self.add_var(name, signature, new_slot()),
        };
        var.history.push(Version { addr, info });
        var.publish();
    }

    /// Restores the previous implementation of `name`.
    pub fn rollback_var(&mut self, name: &str) -> Result<(), HotError> {
        let var = self.var_mut(name).ok_or_else(|| HotError::UnknownVar {
            name: name.to_string(),
        })?;
        if var.history.len() < 2 {
            return Err(HotError::NoHistory {
                var: name.to_string(),
            });
        }
        var.history.pop();
        var.publish();
        Ok(())
    }

    /// Takes patch `patch` out of every var's history; vars still running its code get the
    /// version before it. A var the patch added keeps its only version. Returns how many vars
    /// changed implementation.
    pub fn rollback_patch(&mut self, patch: PatchId) -> Result<usize, HotError> {
        let names = self.patches.remove(&patch).ok_or(HotError::UnknownPatch {
            patch: patch.into(),
        })?;
        let mut changed = 0;
        for name in names {
            let Some(var) = self.var_mut(&name) else {
                continue;
            };
            let Some(at) = var.history.iter().position(|v| v.info.patch == Some(patch)) else {
                continue;
            };
            if var.history.len() == 1 {
                continue;
            }
            let was_top = at + 1 == var.history.len();
            var.history.remove(at);
            if was_top {
                var.publish();
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Every var that has an implementation, with its history, in registration order.
    pub fn list(&self) -> Vec<VarInfo> {
        self.vars
            .iter()
            .filter(|v| !v.history.is_empty())
            .map(|v| VarInfo {
                name: v.name.clone(),
                signature: v.signature.to_string(),
                history: v.history.iter().map(|h| h.info.clone()).collect(),
            })
            .collect()
    }
}
