//! The var registry: name → slot, signature and version history.
//!
//! Only this module writes slots. Every operation validates first and mutates after, so a
//! failed operation changes nothing. The hot call path never enters this module.

use crate::error::HotError;
use crate::slot::{HotSlot, SigLetters};
use hotwasm_abi::{is_c_identifier, Signature};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Identifies one applied patch (the first is 1).
pub type PatchId = u32;

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
    slot: &'static HotSlot,
    signature: Signature,
    history: Vec<Version>,
}

impl Var {
    fn restore_top(&self) {
        let top = self.history.last().expect("a var always keeps one version");
        // SAFETY: every address in the history passed the signature check against this var
        // when it was added, and patches are never unloaded (Emscripten's dlclose frees
        // nothing; the loader never calls it), so the code stays valid.
        unsafe { self.slot.store(top.addr as *const ()) }
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

/// All vars of one program. The process-wide instance is behind [`register`], [`apply`](crate::apply) etc.
#[derive(Default)]
pub struct Registry {
    vars: Vec<Var>,
    index: HashMap<String, usize>,
    patches: HashMap<PatchId, Vec<String>>,
    last_patch: PatchId,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a host-declared var. Registering the same slot again does nothing.
    pub fn register(&mut self, slot: &'static HotSlot) -> Result<(), HotError> {
        if let Some(&i) = self.index.get(slot.name()) {
            return if std::ptr::eq(self.vars[i].slot, slot) {
                Ok(())
            } else {
                Err(HotError::InvalidArgument(format!(
                    "two different slots are both named `{}`: give one hot function another name",
                    slot.name()
                )))
            };
        }
        let signature = Signature::parse(slot.signature())?;
        let addr = slot.default_impl() as usize;
        self.insert(
            slot,
            signature,
            VersionInfo {
                patch: None,
                symbol: slot.name().to_string(),
            },
            addr,
        );
        Ok(())
    }

    fn insert(
        &mut self,
        slot: &'static HotSlot,
        signature: Signature,
        info: VersionInfo,
        addr: usize,
    ) {
        self.index.insert(slot.name().to_string(), self.vars.len());
        self.vars.push(Var {
            slot,
            signature,
            history: vec![Version { addr, info }],
        });
    }

    /// The current address of `name`.
    pub fn lookup(&self, name: &str) -> Option<usize> {
        self.index
            .get(name)
            .map(|&i| self.vars[i].slot.load() as usize)
    }

    /// The slot of `name`, for callers that keep it and call through it.
    pub fn slot(&self, name: &str) -> Option<&'static HotSlot> {
        self.index.get(name).map(|&i| self.vars[i].slot)
    }

    /// Checks offers without changing anything: names, signatures, no var twice.
    pub fn check(&self, offers: &[Offer]) -> Result<(), HotError> {
        let mut seen = std::collections::HashSet::new();
        for o in offers {
            if !is_c_identifier(&o.var) {
                return Err(HotError::InvalidArgument(format!(
                    "`{}` is not a C identifier",
                    o.var.escape_debug()
                )));
            }
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
            if let Some(&i) = self.index.get(&o.var) {
                let var = &self.vars[i];
                if !var.signature.same_in_wasm32(&o.signature) {
                    return Err(HotError::SignatureMismatch {
                        var: o.var.clone(),
                        expected: var.signature.clone(),
                        found: o.signature.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Swaps every offer in as one patch, or none of them. Returns the patch's id.
    pub fn install(&mut self, offers: Vec<Offer>) -> Result<PatchId, HotError> {
        self.check(&offers)?;
        if offers.is_empty() {
            return Err(HotError::InvalidArgument(
                "a patch must offer at least one function".into(),
            ));
        }
        // ---- HOST-STATE-MUTATING SECTION: everything below succeeds. ----
        self.last_patch += 1;
        let patch = self.last_patch;
        let mut vars = Vec::with_capacity(offers.len());
        for o in offers {
            let info = VersionInfo {
                patch: Some(patch),
                symbol: o.symbol,
            };
            self.push_version(o.var.clone(), o.signature, info, o.addr);
            vars.push(o.var);
        }
        self.patches.insert(patch, vars);
        Ok(patch)
    }

    /// Defines a var outside any patch: a new var, or a swap of an existing one.
    pub fn define(
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
        self.push_version(offer.var, offer.signature, info, addr);
        Ok(())
    }

    fn push_version(&mut self, name: String, signature: Signature, info: VersionInfo, addr: usize) {
        match self.index.get(&name) {
            Some(&i) => {
                let var = &mut self.vars[i];
                var.history.push(Version { addr, info });
                var.restore_top();
            }
            None => {
                let letters = signature.to_string().bytes().skip(1).fold(
                    SigLetters::returning(signature.to_string().as_bytes()[0]),
                    SigLetters::param,
                );
                let name: &'static str = Box::leak(name.into_boxed_str());
                // A var a patch adds lives as long as the program, like the patch's code.
                let slot: &'static HotSlot =
                    Box::leak(Box::new(HotSlot::new(name, letters, addr as *const ())));
                self.insert(slot, signature, info, addr);
            }
        }
    }

    /// Restores the previous implementation of `name`.
    pub fn rollback_var(&mut self, name: &str) -> Result<(), HotError> {
        let &i = self.index.get(name).ok_or_else(|| HotError::UnknownVar {
            name: name.to_string(),
        })?;
        let var = &mut self.vars[i];
        if var.history.len() < 2 {
            return Err(HotError::NoHistory {
                var: name.to_string(),
            });
        }
        var.history.pop();
        var.restore_top();
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
            let var = &mut self.vars[self.index[&name]];
            let Some(at) = var.history.iter().position(|v| v.info.patch == Some(patch)) else {
                continue;
            };
            if var.history.len() == 1 {
                continue;
            }
            let was_top = at + 1 == var.history.len();
            var.history.remove(at);
            if was_top {
                var.restore_top();
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// Every var with its history.
    pub fn list(&self) -> Vec<VarInfo> {
        self.vars
            .iter()
            .map(|v| VarInfo {
                name: v.slot.name().to_string(),
                signature: v.signature.to_string(),
                history: v.history.iter().map(|h| h.info.clone()).collect(),
            })
            .collect()
    }
}

static GLOBAL: Mutex<Option<Registry>> = Mutex::new(None);

/// The process-wide registry. A panic while it was held cannot leave it half-changed (every
/// operation validates before it mutates), so a poisoned lock is taken over.
pub(crate) fn global() -> impl std::ops::DerefMut<Target = Registry> {
    struct Guard(MutexGuard<'static, Option<Registry>>);
    impl std::ops::Deref for Guard {
        type Target = Registry;
        fn deref(&self) -> &Registry {
            self.0.as_ref().expect("initialised on lock")
        }
    }
    impl std::ops::DerefMut for Guard {
        fn deref_mut(&mut self) -> &mut Registry {
            self.0.as_mut().expect("initialised on lock")
        }
    }
    let mut guard = GLOBAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    guard.get_or_insert_with(Registry::new);
    Guard(guard)
}

/// Registers a host-declared var (its `hot_fn!` module's `SLOT`).
pub fn register(slot: &'static HotSlot) -> Result<(), HotError> {
    global().register(slot)
}

/// The current implementation of a var.
pub fn lookup(name: &str) -> Option<usize> {
    global().lookup(name)
}

/// Defines a var (new) or swaps one (existing, same signature) outside any patch.
pub fn define(name: &str, signature: &str, addr: usize) -> Result<(), HotError> {
    let signature = Signature::parse(signature)?;
    global().define(name, signature, addr)
}

/// Swaps functions in as one patch, all or nothing.
pub fn swap(offers: Vec<Offer>) -> Result<PatchId, HotError> {
    global().install(offers)
}

/// Rolls one var back to its previous implementation.
pub fn rollback_var(name: &str) -> Result<(), HotError> {
    global().rollback_var(name)
}

/// Rolls back every var a patch changed.
pub fn rollback_patch(patch: PatchId) -> Result<usize, HotError> {
    global().rollback_patch(patch)
}

/// Every var with its history.
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
