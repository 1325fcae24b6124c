//! Versioned symbol names.
//!
//! Emscripten's dynamic linker keeps the first definition of a symbol for the life of the
//! program, so a second patch exporting `step` could bind to the first `step`. The server
//! therefore renames every function a patch defines to `<name>__hw<version>` and the manifest
//! maps each var to that symbol; the loader resolves it in that patch's handle only.

/// What separates a var's name from its version in a patch symbol.
pub const VERSION_SEPARATOR: &str = "__hw";

/// The symbol that implements `var` in patch `version`.
pub fn versioned_symbol(var: &str, version: u64) -> String {
    format!("{var}{VERSION_SEPARATOR}{version}")
}

/// Splits `name__hw12` into `("name", 12)`; `None` for a symbol that is not versioned.
pub fn split_versioned_symbol(symbol: &str) -> Option<(&str, u64)> {
    let at = symbol.rfind(VERSION_SEPARATOR)?;
    let digits = &symbol[at + VERSION_SEPARATOR.len()..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || at == 0 {
        return None;
    }
    Some((&symbol[..at], digits.parse().ok()?))
}

/// A C identifier: what var names and patch symbols must be (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_c_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b == b'_' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_names_round_trip() {
        let s = versioned_symbol("step_body", 42);
        assert_eq!(s, "step_body__hw42");
        assert_eq!(split_versioned_symbol(&s), Some(("step_body", 42)));
        assert_eq!(split_versioned_symbol("a__hw1__hw2"), Some(("a__hw1", 2)));
    }

    #[test]
    fn plain_names_are_not_versioned() {
        assert_eq!(split_versioned_symbol("step"), None);
        assert_eq!(split_versioned_symbol("step__hw"), None);
        assert_eq!(split_versioned_symbol("__hw3"), None);
        assert_eq!(split_versioned_symbol("step__hw3x"), None);
    }

    #[test]
    fn identifiers() {
        assert!(is_c_identifier("_a1"));
        assert!(is_c_identifier("body_color"));
        assert!(!is_c_identifier("1a"));
        assert!(!is_c_identifier(""));
        assert!(!is_c_identifier("a b"));
        assert!(!is_c_identifier("a\nb"));
    }
}
