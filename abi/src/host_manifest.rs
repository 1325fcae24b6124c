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
    /// Whether the host was built with threads (`-pthread`: its memory is shared), so patches
    /// must be compiled and linked with `-pthread` too (false in manifests written before it was
    /// recorded, and for every host without threads).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub threads: bool,
    /// The app's own functions a patch can neither replace nor call, with why (all-hot hosts,
    /// docs/ALL-HOT.md: kept cold by the config, a `static` name two files define, folded away
    /// by the compiler). Empty in every other host.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub cold: Vec<ColdFunction>,
}

/// A function of the app that is not hot, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ColdFunction {
    /// Its symbol name.
    pub name: String,
    /// Why it is not hot, and what to do about it.
    pub why: String,
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

    /// Why the app's function `name` is not hot, when the host lists it as cold.
    pub fn cold(&self, name: &str) -> Option<&str> {
        self.cold
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.why.as_str())
    }

    /// Whether the host exports `symbol` to patches.
    pub fn exports_symbol(&self, symbol: &str) -> bool {
        self.exports.iter().any(|e| e == symbol)
    }
}

#[cfg(feature = "json")]
impl HostManifest {
    /// Reads the host manifest a HOT_RELOAD build writes (`hotwasm-host.json`) at `path`.
    ///
    /// `Ok(None)` if there is no such file yet; an error naming the file and the fix if it is
    /// there but not a host manifest of this format version.
    pub fn read(path: &std::path::Path) -> Result<Option<HostManifest>, String> {
        const FIX: &str = "rebuild the host with `hotwasm build --hot` in the app (or HOT_RELOAD=1 scripts/emscripten-bundle.sh <app dir>)";
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(format!(
                    "cannot read the host manifest {}: {e}",
                    path.display()
                ))
            }
        };
        let manifest = serde_json::from_str::<HostManifest>(&text).map_err(|e| {
            format!(
                "the host manifest {} is not valid ({e}): {FIX}",
                path.display()
            )
        })?;
        if manifest.version != HostManifest::VERSION {
            return Err(format!(
                "the host manifest {} has format version {}, this server reads version {}: {FIX}",
                path.display(),
                manifest.version,
                HostManifest::VERSION
            ));
        }
        Ok(Some(manifest))
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[test]
    fn host_manifest_reads_and_explains_bad_files() {
        let dir = std::env::temp_dir().join(format!("hotwasm-abi-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hotwasm-host.json");
        let _ = std::fs::remove_file(&path);
        assert_eq!(HostManifest::read(&path), Ok(None));
        std::fs::write(
            &path,
            r#"{"version":1,"vars":[{"name":"step","signature":"vppf"}],"exports":["printf"]}"#,
        )
        .unwrap();
        let m = HostManifest::read(&path).unwrap().unwrap();
        assert_eq!(m.var("step").unwrap().signature.to_string(), "vppf");
        assert!(m.exports_symbol("printf"));
        assert!(
            !m.threads,
            "a manifest without `threads` is a host without threads"
        );
        std::fs::write(
            &path,
            r#"{"version":1,"vars":[],"exports":[],"threads":true}"#,
        )
        .unwrap();
        assert!(HostManifest::read(&path).unwrap().unwrap().threads);
        for bad in [
            r#"{"version":1,"vars":[{"name":"step","signature":"q"}],"exports":[]}"#,
            r#"{"vars":[]}"#,
            r#"{"version":2,"vars":[],"exports":[]}"#,
            "not json",
        ] {
            std::fs::write(&path, bad).unwrap();
            let e = HostManifest::read(&path).unwrap_err();
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(
                e.contains("rebuild the host with `hotwasm build --hot`"),
                "{e}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
