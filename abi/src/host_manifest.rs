//! The host manifest, written next to the HOT_RELOAD bundle: the hot vars the host declares
//! (with their signatures), the symbols it exports to patches and the layouts of the types it
//! shares with them. The server checks every patch against it before sending.

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
    /// The layouts of the types the host shares with patches, as the host was built (empty in
    /// manifests written before layouts were recorded: no layout is checked then).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub layouts: Vec<TypeLayout>,
    /// The files those layouts were measured from (the shared headers and every project header
    /// they include), with a hash of their content then: while none changed, a patch's view can
    /// differ from the host's only through its compile flags.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub layout_inputs: Vec<LayoutInput>,
}

/// One file the shared layouts were measured from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LayoutInput {
    /// Its absolute path.
    pub path: String,
    /// The 64-bit FNV-1a hash of its content, in hex (a change detector, not security).
    pub hash: String,
}

/// The memory layout of one record type (struct, union or class) as one compiler saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TypeLayout {
    /// Its name as patches write it (`Ball`, `app::Planet`, `std::vector<int>`; the typedef
    /// name of an anonymous `typedef struct { ... } Name`).
    pub name: String,
    /// `sizeof`, in bytes.
    pub size: u64,
    /// `alignof`, in bytes.
    pub align: u64,
    /// Every field, nested records' fields included (after their own entry), in memory order.
    pub fields: Vec<FieldLayout>,
}

/// One field of a [`TypeLayout`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FieldLayout {
    /// Its path from the outer type: `hits`, `pos.x` for a field of a nested record,
    /// `(base Shape)` for a base class, `(vtable pointer)`.
    pub name: String,
    /// Its offset from the start of the outer type, in bytes.
    pub offset: u64,
    /// For a bit-field, its bits within the byte at `offset` onwards (`0-2`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub bits: Option<String>,
    /// Its canonical type (`float`, `int *`, `struct Vec2`).
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub ty: String,
}

impl HostManifest {
    /// The current format version.
    pub const VERSION: u32 = 1;

    /// The declared var of that name.
    pub fn var(&self, name: &str) -> Option<&HostVar> {
        self.vars.iter().find(|v| v.name == name)
    }

    /// The layout the host has for the shared type `name`.
    pub fn layout(&self, name: &str) -> Option<&TypeLayout> {
        self.layouts.iter().find(|l| l.name == name)
    }

    /// Whether the host exports `symbol` to patches.
    pub fn exports_symbol(&self, symbol: &str) -> bool {
        self.exports.iter().any(|e| e == symbol)
    }
}
