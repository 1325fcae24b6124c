//! What a Rust function's mangled symbol says about it, for all-hot Rust hosts
//! (docs/ALL-HOT.md): its crate and its path inside the crate (`physics::step`), and whether it
//! is generic or a closure. A host's function and a patch's redefinition of it have different
//! symbols (each crate's name and hash go into them), so they are matched by this path.
//!
//! Symbols are demangled with `rustc-demangle` (rustc's own demangler, maintained with it), which
//! reads both manglings: v0 (`_RNv…`, rustc's default for this target since 1.9x) and legacy
//! (`_ZN…17h<hash>E`).

/// A Rust function as its symbol names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustFn {
    /// Its crate (`spin`).
    pub krate: String,
    /// Its path inside the crate, without crate name and hash (`physics::advance`,
    /// `Counter::bump` for an inherent method).
    pub path: String,
    /// Why a patch cannot redefine it, when it cannot (a generic instance, a closure, a trait
    /// method).
    pub not_hot: Option<&'static str>,
}

/// Why a generic function is not hot (also what a patch redefining one is told).
pub const GENERIC: &str = "it is generic: the host holds one compiled copy per type it is used with, and a patch cannot say which copy it replaces (all-hot Rust makes non-generic functions hot); make it non-generic, or move its body into a non-generic function it calls";

/// Why a closure is not hot.
pub const CLOSURE: &str =
    "it is a closure: it has no name a patch can define; redefine the function that creates it";

/// Why a trait method is not hot.
pub const TRAIT_METHOD: &str = "it is a trait method: a patch cannot implement a trait for a host type again; move its body into a plain function it calls";

use super::latebind::{Plan, VarUse};
use super::object::Symbols;
use hotwasm_abi::{HostManifest, Signature};
use std::collections::HashMap;

/// Reads a mangled Rust symbol; `None` when `symbol` is not one.
pub fn parse(symbol: &str) -> Option<RustFn> {
    let demangled = rustc_demangle::try_demangle(symbol).ok()?;
    let text = format!("{demangled:#}");
    let (text, not_hot) = match text.strip_prefix('<') {
        Some(inner) if inner.contains(" as ") => (inner.replacen('>', "", 1), Some(TRAIT_METHOD)),
        // `<spin::Counter>::bump`, an inherent method (v0).
        Some(inner) => match inner.split_once(">::") {
            Some((ty, rest)) => (format!("{ty}::{rest}"), None),
            None => (inner.to_string(), None),
        },
        None => (text, None),
    };
    let not_hot = not_hot
        .or_else(|| text.contains("{closure").then_some(CLOSURE))
        .or_else(|| text.contains('<').then_some(GENERIC));
    let (krate, path) = text.split_once("::")?;
    Some(RustFn {
        krate: krate.to_string(),
        path: path.to_string(),
        not_hot,
    })
}

/// `message` with each Rust var of `vars` (an all-hot host's functions, by their mangled names)
/// named as the user wrote it (`spin::physics::advance`).
pub fn demangle_vars(message: &str, vars: &[String]) -> String {
    vars.iter()
        .filter_map(|v| {
            rustc_demangle::try_demangle(v)
                .ok()
                .map(|d| (v, format!("{d:#}")))
        })
        .fold(message.to_string(), |m, (raw, named)| {
            m.replace(raw.as_str(), &named)
        })
}

/// The path a generic instance's symbol names, without its generic arguments
/// (`pick::<i32>` → `pick`, `Wrap<i32>::get` → `Wrap::get`), which is what a patch's definition
/// of the generic function is named by.
pub fn without_generics(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in path.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.replace("::::", "::").trim_end_matches("::").to_string()
}

/// The crate name a Rust patch is compiled as ([`super::rust::compile_command`]).
pub const PATCH_CRATE: &str = "hotwasm_eval";

/// An all-hot Rust host's functions by path: what a patch's definitions bind to.
#[derive(Debug, Default)]
pub struct HostPaths {
    /// Path → the host var (its mangled name) and its signature.
    hot: HashMap<String, (String, Signature)>,
    /// Path (without generic arguments) → why it is not hot.
    cold: HashMap<String, String>,
    /// The app's crate (`spin`), as its hot functions' symbols name it.
    krate: Option<String>,
}

impl HostPaths {
    /// The paths of `host`'s hot and cold Rust functions (none for other hosts). An all-hot
    /// Rust host is built with v0 mangling (`_R…`), which also keeps a C++ host's names
    /// (`_ZN3geo3Box4areaEv`, which legacy Rust demangling may read) out.
    pub fn of(host: &HostManifest) -> HostPaths {
        let v0 = |name: &str| name.starts_with("_R").then(|| parse(name)).flatten();
        let mut paths = HostPaths::default();
        for v in &host.vars {
            if let Some(f) = v0(&v.name).filter(|f| f.not_hot.is_none()) {
                paths.krate.get_or_insert(f.krate);
                paths
                    .hot
                    .insert(f.path, (v.name.clone(), v.signature.clone()));
            }
        }
        for c in &host.cold {
            if let Some(f) = v0(&c.name) {
                paths.cold.insert(without_generics(&f.path), c.why.clone());
            }
        }
        paths
    }

    /// The app's crate, when the host has hot Rust functions.
    pub fn krate(&self) -> Option<&str> {
        self.krate.as_deref()
    }

    /// Path → the symbol of the host's hot function of that path.
    pub fn hot_symbols(&self) -> HashMap<String, String> {
        self.hot
            .iter()
            .map(|(path, (var, _))| (path.clone(), var.clone()))
            .collect()
    }

    /// Path → why the host's function of that path is not hot.
    pub fn cold_reasons(&self) -> HashMap<String, String> {
        self.cold.clone()
    }

    /// Whether the host has no all-hot Rust functions.
    pub fn is_empty(&self) -> bool {
        self.hot.is_empty() && self.cold.is_empty()
    }

    /// Binds the patch's definitions to the host functions of the same path: a `#[no_mangle]`
    /// function the plan has as var `step` when the host has no var `step` but a hot `step`,
    /// and a mangled function of the patch's crate (`hotwasm_eval::physics::advance`). Returns
    /// the renames (the patch's symbol → the host var) for after the link; `plan.defines` keeps
    /// the patch's symbols until then, and the mangled ones join it only after the link (the
    /// late binding's wraps and trampolines are for calls by plain names).
    pub fn bind(&self, symbols: &Symbols, plan: &mut Plan, host: &HostManifest) -> Bound {
        let mut renames = Renames::new();
        let mut bound = Vec::new();
        for v in &mut plan.defines {
            if host.var(&v.name).is_none() {
                if let Some((var, signature)) = self.hot.get(&v.name) {
                    renames.insert(v.name.clone(), var.clone());
                    v.signature = same_or(signature, &v.signature);
                }
            }
        }
        for f in symbols.functions.iter().filter(|f| f.defined && !f.weak) {
            let Some(own) = parse(&f.name).filter(|p| p.krate == PATCH_CRATE) else {
                continue;
            };
            let (Some((var, signature)), Some(found)) = (self.hot.get(&own.path), &f.signature)
            else {
                continue;
            };
            if renames.values().any(|v| v == var) {
                continue; // also defined `#[no_mangle]`, as a Rust eval's functions are
            }
            renames.insert(f.name.clone(), var.clone());
            bound.push(VarUse {
                name: var.clone(),
                signature: same_or(signature, found),
            });
        }
        Bound {
            renames,
            defines: bound,
        }
    }

    /// Refuses a patch whose `source` defines a function of the same path as one of the host's
    /// that is not hot (a generic one: a patch's generic function is compiled only where it is
    /// used, so nothing would say the redefinition was ignored), naming why.
    pub fn refuse_not_hot(&self, source: &str) -> Result<(), String> {
        let Ok(file) = syn::parse_file(source) else {
            return Ok(()); // rustc reports the syntax error with its position.
        };
        let mut defined = Vec::new();
        fn_paths(&file.items, "", &mut defined);
        for path in defined {
            if self.hot.contains_key(&path) {
                continue;
            }
            if let Some(why) = self.cold.get(&path) {
                return Err(format!(
                    "the patch redefines the host's `{path}`, which a patch cannot replace: {why}"
                ));
            }
        }
        Ok(())
    }
}

/// The wasm-level signature of the host's var when the patch's has the same wasm types (the
/// check compares them; the host's letters keep its pointers as `p`).
fn same_or(host: &Signature, patch: &Signature) -> Signature {
    if host.same_in_wasm32(patch) {
        host.clone()
    } else {
        patch.clone()
    }
}

/// The linker arguments exporting the patch's mangled functions [`HostPaths::bind`] bound (a
/// `#[no_mangle]` one is exported already).
pub fn export_args(bound: &Bound) -> Vec<String> {
    bound
        .renames
        .keys()
        .filter(|n| parse(n).is_some())
        .map(|n| format!("--export={n}"))
        .collect()
}

/// After the link: the patch's exports, `defined` and `plan.defines` named by the host vars of
/// `renames` instead of the patch's own symbols.
pub fn rename_bound(
    wasm: Vec<u8>,
    mut defined: Vec<String>,
    plan: &mut Plan,
    bound: Bound,
) -> Result<(Vec<u8>, Vec<String>), super::CompileError> {
    if bound.renames.is_empty() {
        return Ok((wasm, defined));
    }
    let renames = &bound.renames;
    let wasm =
        super::rename::rename_exports(&wasm, renames).map_err(|e| super::CompileError::Link {
            stderr: e.to_string(),
        })?;
    let host_name = |n: &mut String| {
        if let Some(var) = renames.get(n.as_str()) {
            *n = var.clone();
        }
    };
    defined.iter_mut().for_each(host_name);
    plan.defines.iter_mut().for_each(|v| host_name(&mut v.name));
    defined.extend(bound.defines.iter().map(|v| v.name.clone()));
    plan.defines.extend(bound.defines);
    Ok((wasm, defined))
}

/// The patch's symbol → the host var it defines.
pub type Renames = HashMap<String, String>;

/// What [`HostPaths::bind`] bound.
#[derive(Debug, Default)]
pub struct Bound {
    /// The patch's symbol → the host var it defines.
    pub renames: Renames,
    /// The vars the patch's mangled functions define (added to the plan after the link).
    pub defines: Vec<VarUse>,
}

/// The paths of the functions `items` define, free ones and those of inline modules, below
/// `prefix`.
pub(super) fn fn_paths(items: &[syn::Item], prefix: &str, out: &mut Vec<String>) {
    for item in items {
        match item {
            syn::Item::Fn(f) => out.push(format!("{prefix}{}", f.sig.ident)),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    fn_paths(inner, &format!("{prefix}{}::", m.ident), out);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_in_a_module_is_named_by_its_path_without_crate_and_hash() {
        // As rustc 1.95 spells them for examples/allhot-rust (v0, and legacy).
        let f = parse("_RNvNtCsj1f0hmlNGnl_4spin7physics7advance").expect("a Rust symbol");
        assert_eq!(
            (f.krate.as_str(), f.path.as_str()),
            ("spin", "physics::advance")
        );
        assert_eq!(f.not_hot, None);
        let legacy = parse("_ZN4spin7physics7advance17h0123456789abcdefE").expect("legacy");
        assert_eq!(
            (legacy.krate.as_str(), legacy.path.as_str()),
            ("spin", "physics::advance")
        );
    }

    #[test]
    fn generic_instances_closures_and_trait_methods_are_not_hot_and_say_why() {
        // spin::pick::<i32>
        let pick = parse("_RINvCsj1f0hmlNGnl_4spin4picklEB2_").expect("a generic instance");
        assert_eq!(pick.not_hot, Some(GENERIC), "{pick:?}");
        assert_eq!(without_generics(&pick.path), "pick");
        let closure = parse("_RNCNvCs1a2b_4spin5start0B3_").expect("a closure");
        assert_eq!(closure.not_hot, Some(CLOSURE), "{closure:?}");
        assert_eq!(parse("main"), None, "not a Rust symbol");
        assert_eq!(without_generics("Wrap<i32>::get"), "Wrap::get");
    }
}
