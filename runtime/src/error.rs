//! Why a registry operation or a patch failed, in words that say what to do next.

use hotwasm_abi::{ManifestError, Signature, SignatureError};
use std::fmt;

/// Who claimed a signature for a var.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimant {
    /// A patch (or `define`) offering an implementation.
    Patch,
    /// A patch's trampoline asking for the var's slot (`hotwasm_slot`).
    SlotRequest,
    /// A host registering its slot (`hot_fn!`, `HOTWASM_FN`, `hotwasm_register_slot`).
    Host,
}

/// A failed registry operation or patch. On every failure no var changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HotError {
    /// An argument was unusable (null, not UTF-8, not an identifier).
    InvalidArgument(String),
    /// A signature string did not parse.
    BadSignature(SignatureError),
    /// No var of that name.
    UnknownVar {
        /// The name asked for.
        name: String,
    },
    /// A patch, a trampoline's slot request or a host slot disagrees with a var's signature.
    SignatureMismatch {
        /// The var.
        var: String,
        /// What the var has.
        expected: Signature,
        /// What was offered or asked for.
        found: Signature,
        /// Who offered or asked.
        by: Claimant,
    },
    /// A second host slot under the name of a var that already has one.
    DuplicateVar {
        /// The var.
        name: String,
    },
    /// A var was called while it had no implementation (pending).
    Unbound {
        /// The var.
        name: String,
    },
    /// The patch's own wasm types contradict its manifest.
    PatchTypes {
        /// The symbol whose type differs, or that is missing from the module.
        symbol: String,
        /// What the manifest claims.
        claimed: Signature,
        /// What the module really exports (`None`: no such exported function).
        actual: Option<Signature>,
    },
    /// A patch imports a symbol the host does not export.
    MissingImport {
        /// The imported name.
        symbol: String,
    },
    /// `dlopen` failed; `dlerror` is verbatim, or `None` when the system said nothing.
    Load {
        /// The path given.
        path: String,
        /// What `dlerror()` said.
        dlerror: Option<String>,
    },
    /// `dlsym` found no such symbol in the patch.
    Symbol {
        /// The var the symbol implements.
        var: String,
        /// The symbol.
        symbol: String,
        /// What `dlerror()` said.
        dlerror: Option<String>,
    },
    /// The manifest text was refused.
    Manifest(ManifestError),
    /// Nothing to roll back to.
    NoHistory {
        /// The var.
        var: String,
    },
    /// A patch was already loaded from this path; the dynamic linker would hand back that one.
    PathReused {
        /// The path given.
        path: String,
    },
    /// No applied patch with that id.
    UnknownPatch {
        /// The id given.
        patch: i64,
    },
}

impl HotError {
    /// The `hotwasm_status` code of `hotwasm.h` for this error.
    pub fn status(&self) -> i32 {
        use crate::bindings as b;
        match self {
            HotError::InvalidArgument(_) | HotError::BadSignature(_) => {
                b::hotwasm_status_HOTWASM_ERR_INVALID_ARGUMENT
            }
            HotError::UnknownVar { .. } | HotError::Unbound { .. } => {
                b::hotwasm_status_HOTWASM_ERR_UNKNOWN_VAR
            }
            HotError::DuplicateVar { .. } => b::hotwasm_status_HOTWASM_ERR_DUPLICATE_VAR,
            HotError::SignatureMismatch { .. } => b::hotwasm_status_HOTWASM_ERR_SIGNATURE,
            HotError::PatchTypes { .. } | HotError::MissingImport { .. } => {
                b::hotwasm_status_HOTWASM_ERR_PATCH_TYPES
            }
            HotError::Load { .. } | HotError::PathReused { .. } => {
                b::hotwasm_status_HOTWASM_ERR_LOAD
            }
            HotError::Symbol { .. } => b::hotwasm_status_HOTWASM_ERR_SYMBOL,
            HotError::Manifest(_) => b::hotwasm_status_HOTWASM_ERR_MANIFEST,
            HotError::NoHistory { .. } => b::hotwasm_status_HOTWASM_ERR_NO_HISTORY,
            HotError::UnknownPatch { .. } => b::hotwasm_status_HOTWASM_ERR_UNKNOWN_PATCH,
        }
    }
}

fn said(dlerror: &Option<String>) -> String {
    match dlerror {
        Some(text) => format!("the dynamic linker said: {text}"),
        None => "the dynamic linker failed and said nothing".to_string(),
    }
}

impl fmt::Display for HotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HotError::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            HotError::BadSignature(e) => write!(f, "{e}"),
            HotError::UnknownVar { name } => write!(
                f,
                "no var named `{name}`: declare it in the host (hot_fn! in Rust, HOTWASM_FN in C/C++) or define it in a patch first (hotwasm_list_json lists the vars)"
            ),
            HotError::SignatureMismatch { var, expected, found, by: Claimant::Patch } => write!(
                f,
                "`{var}` has signature `{expected}` but the patch gives it `{found}`: keep the parameter and return types of the host's declaration, or give the new function another name"
            ),
            HotError::SignatureMismatch { var, expected, found, by: Claimant::SlotRequest } => write!(
                f,
                "`{var}` has signature `{expected}` but the patch declares it as `{found}`: declare it with the var's parameter and return types (hotwasm_list_json lists every var's signature)"
            ),
            HotError::SignatureMismatch { var, expected, found, by: Claimant::Host } => write!(
                f,
                "`{var}` has signature `{expected}` (as a patch declared it before the host registered it) but the host declares it as `{found}`: make the declarations agree"
            ),
            HotError::DuplicateVar { name } => write!(
                f,
                "two hot functions are both named `{name}`: a var has one host declaration (hot_fn! or HOTWASM_FN) in the whole program; rename one of them"
            ),
            HotError::Unbound { name } => write!(
                f,
                "`{name}` was called but has no implementation yet: a patch declared it without any patch or the host defining it; define it (or make the caller's declaration `static` and define it in the same patch)"
            ),
            HotError::PatchTypes { symbol, claimed, actual: Some(actual) } => write!(
                f,
                "the patch's manifest says `{symbol}` is `{claimed}` but the module exports it as `{actual}`: the manifest does not describe this patch; rebuild it with the hotwasm server"
            ),
            HotError::PatchTypes { symbol, claimed, actual: None } => write!(
                f,
                "the patch's manifest lists `{symbol}` (`{claimed}`) but the module exports no such function: rebuild it with the hotwasm server"
            ),
            HotError::MissingImport { symbol } => write!(
                f,
                "the patch imports `{symbol}`, which the host does not export: export it from the host (the [build] exports of hotwasm.toml) and rebuild it, or define it in the patch"
            ),
            HotError::Load { path, dlerror } => write!(
                f,
                "could not load patch `{path}` ({}): check that it is a SIDE_MODULE built for this host",
                said(dlerror)
            ),
            HotError::Symbol { var, symbol, dlerror } => write!(
                f,
                "patch has no symbol `{symbol}` for var `{var}` ({}): the manifest does not match the patch; rebuild it",
                said(dlerror)
            ),
            HotError::Manifest(e) => write!(f, "{e}"),
            HotError::PathReused { path } => write!(
                f,
                "a patch was already loaded from `{path}`: the dynamic linker would return that module again; write every patch to a path of its own"
            ),
            HotError::NoHistory { var } => write!(
                f,
                "`{var}` runs its first version: there is nothing earlier to roll back to"
            ),
            HotError::UnknownPatch { patch } => write!(
                f,
                "no applied patch has id {patch}: hotwasm_list_json shows the patches behind each var"
            ),
        }
    }
}

impl std::error::Error for HotError {}

impl From<ManifestError> for HotError {
    fn from(e: ManifestError) -> Self {
        HotError::Manifest(e)
    }
}

impl From<SignatureError> for HotError {
    fn from(e: SignatureError) -> Self {
        HotError::BadSignature(e)
    }
}
