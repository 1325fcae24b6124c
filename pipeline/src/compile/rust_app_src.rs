//! The app crate's sources as syn reads them, for what a patch of an all-hot Rust host may call
//! by path ([`super::rust_host_crate`]): its crate roots (from `cargo metadata`, as cargo itself
//! knows them) and each module of the crate, followed from `mod name;` to its file by the rules
//! rustc uses (`name.rs` or `name/mod.rs` beside the parent's directory, or `#[path]`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// One module of the app crate: its path (`""` for the crate root, `physics::` below it) and
/// its items (inline modules are modules of their own).
pub struct Module {
    /// The module's path with a trailing `::` (`""` at the root).
    pub prefix: String,
    /// The items written in it.
    pub items: Vec<syn::Item>,
    /// The file it is written in.
    pub file: PathBuf,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Module({:?}, {} items)", self.prefix, self.items.len())
    }
}

/// The source files of the library and binary targets of the package at `root` whose crate name
/// is `krate` (`cargo metadata --no-deps`, run in `root`).
pub fn crate_roots(root: &Path, krate: &str) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("cargo")
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("running `cargo metadata` in {}: {e}", root.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo metadata` in {} failed: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("reading `cargo metadata`'s output: {e}"))?;
    let mut roots = Vec::new();
    for target in meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
    {
        let kinds = target["kind"].as_array().into_iter().flatten();
        let code = kinds
            .filter_map(|k| k.as_str())
            .any(|k| matches!(k, "lib" | "rlib" | "cdylib" | "staticlib" | "bin"));
        let name = target["name"]
            .as_str()
            .unwrap_or_default()
            .replace('-', "_");
        if code && name == krate {
            if let Some(src) = target["src_path"].as_str() {
                roots.push(PathBuf::from(src));
            }
        }
    }
    if roots.is_empty() {
        return Err(format!(
            "no library or binary target named `{krate}` in the package at {}",
            root.display()
        ));
    }
    Ok(roots)
}

/// Every module of the crate whose root file is `root`: the root, inline modules, and modules in
/// files of their own. A module file that is missing (a `#[cfg]`'d-out one) is skipped; a file
/// that does not parse is an error naming it.
pub fn modules(root: &Path) -> Result<Vec<Module>, String> {
    let dir = root.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut out = Vec::new();
    let read = read_file(root, String::new(), dir, &mut out);
    // The spans live in a per-thread source map; no location of them is asked for later.
    proc_macro2::extra::invalidate_current_thread_spans();
    read.map(|()| out)
}

fn read_file(
    file: &Path,
    prefix: String,
    dir: PathBuf,
    out: &mut Vec<Module>,
) -> Result<(), String> {
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let parsed = syn::parse_file(&text).map_err(|e| {
        let at = e.span().start();
        format!("{}:{}:{}: {e}", file.display(), at.line, at.column + 1)
    })?;
    read_items(parsed.items, prefix, dir, file, out)
}

/// The module `prefix` made of `items`, whose child modules' files are in `dir`.
fn read_items(
    items: Vec<syn::Item>,
    prefix: String,
    dir: PathBuf,
    file: &Path,
    out: &mut Vec<Module>,
) -> Result<(), String> {
    let mut children = Vec::new();
    for item in &items {
        if let syn::Item::Mod(m) = item {
            children.push(m.clone());
        }
    }
    out.push(Module {
        prefix: prefix.clone(),
        items,
        file: file.to_path_buf(),
    });
    for m in children {
        let name = m.ident.to_string();
        let child = format!("{prefix}{name}::");
        let explicit = path_attr(&m.attrs).map(|p| dir.join(p));
        match m.content {
            Some((_, inner)) => {
                let sub = explicit.unwrap_or_else(|| dir.join(&name));
                read_items(inner, child, sub, file, out)?;
            }
            None => {
                let candidates = match explicit {
                    Some(p) => vec![p],
                    None => vec![
                        dir.join(format!("{name}.rs")),
                        dir.join(&name).join("mod.rs"),
                    ],
                };
                if let Some(file) = candidates.into_iter().find(|f| f.is_file()) {
                    let sub = if file.file_name().is_some_and(|n| n == "mod.rs") {
                        file.parent().unwrap_or(&dir).to_path_buf()
                    } else {
                        dir.join(&name)
                    };
                    read_file(&file, child, sub, out)?;
                }
            }
        }
    }
    Ok(())
}

/// The value of a `#[path = "…"]` attribute.
fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_in_files_and_inline_modules_are_read_with_their_paths() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        std::fs::write(
            src.join("lib.rs"),
            "mod physics;\nmod inline { pub fn a() {} mod deeper; }\n#[cfg(test)] mod tests;\nfn step() {}\n",
        )
        .unwrap();
        std::fs::write(src.join("physics.rs"), "mod detail;\npub fn advance() {}\n").unwrap();
        std::fs::create_dir_all(src.join("physics")).unwrap();
        std::fs::write(src.join("physics/detail.rs"), "fn d() {}\n").unwrap();
        std::fs::create_dir_all(src.join("inline")).unwrap();
        std::fs::write(src.join("inline/deeper.rs"), "fn e() {}\n").unwrap();
        let got: Vec<String> = modules(&src.join("lib.rs"))
            .unwrap()
            .into_iter()
            .map(|m| format!("{}{}", m.prefix, m.items.len()))
            .collect();
        assert_eq!(
            got,
            [
                "4",
                "physics::2",
                "physics::detail::1",
                "inline::2",
                "inline::deeper::1"
            ]
        );
    }
}
