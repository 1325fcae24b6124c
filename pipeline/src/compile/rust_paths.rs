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

#[cfg(test)]
mod tests {
    use super::*;

    fn v0(path: &[&str]) -> String {
        // `_RNvNtCs<hash>_<crate><module><fn>`: a function in a module of a crate.
        let mut s = String::from("_R");
        let (krate, rest) = path.split_first().expect("a crate");
        s.push_str(&"Nv".repeat(rest.len().min(1)));
        s.push_str(&"Nt".repeat(rest.len().saturating_sub(1)));
        s.push_str(&format!("Cs1a2b_{}{krate}", krate.len()));
        for seg in rest {
            s.push_str(&format!("{}{seg}", seg.len()));
        }
        s
    }

    #[test]
    fn a_function_in_a_module_is_named_by_its_path_without_crate_and_hash() {
        let f = parse(&v0(&["spin", "physics", "advance"])).expect("a Rust symbol");
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
        let pick = parse("_RINvCs1a2b_4spin4picklEB2_").expect("a generic instance");
        assert_eq!(pick.not_hot, Some(GENERIC), "{pick:?}");
        assert_eq!(without_generics(&pick.path), "pick");
        let closure = parse("_RNCNvCs1a2b_4spin5start0B3_").expect("a closure");
        assert_eq!(closure.not_hot, Some(CLOSURE), "{closure:?}");
        assert_eq!(parse("main"), None, "not a Rust symbol");
        assert_eq!(without_generics("Wrap<i32>::get"), "Wrap::get");
    }
}
