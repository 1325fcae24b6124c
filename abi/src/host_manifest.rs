//! The host manifest, written next to the HOT_RELOAD bundle: the hot vars the host declares
//! (with their signatures) and the symbols it exports to patches. The server checks every
//! patch against it before sending.

use crate::signature::Signature;

/// A hot function declared by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HostVar {
    /// Its name, which patches use to replace it.
    pub name: String,
    /// Its signature in Emscripten letters.
    #[cfg_attr(
        feature = "serde",
        serde(with = "crate::patch_manifest::serde_signature")
    )]
    pub signature: Signature,
}

/// What the host offers to patches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HostManifest {
    /// Format version; bump when a field changes meaning.
    pub version: u32,
    /// The hot functions, in declaration order.
    pub vars: Vec<HostVar>,
    /// Every function and global the host exports, by the name a patch imports it with.
    pub exports: Vec<String>,
}

impl HostManifest {
    /// The current format version.
    pub const VERSION: u32 = 1;

    /// The declared var of that name.
    pub fn var(&self, name: &str) -> Option<&HostVar> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// Whether the host exports `symbol` to patches.
    pub fn exports_symbol(&self, symbol: &str) -> bool {
        self.exports.iter().any(|e| e == symbol)
    }
}
