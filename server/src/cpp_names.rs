//! C++ symbol names read with a maintained Itanium demangler (`cpp_demangle`): the path a
//! mangled name stands for, as a user writes it.

/// The qualified path of the C++ symbol `symbol` without return type and parameters
/// (`_ZNK3geo3Box4areaEv` → `geo::Box::area`); `None` for a name that is not a mangled C++ one.
pub fn path_of(symbol: &str) -> Option<String> {
    let parsed = cpp_demangle::Symbol::new(symbol).ok()?;
    let options = cpp_demangle::DemangleOptions::new()
        .no_params()
        .no_return_type();
    let path = parsed.demangle_with_options(&options).ok()?;
    let path = path.strip_suffix(" const").unwrap_or(&path);
    Some(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn mangled_names_read_as_the_paths_users_write() {
        assert_eq!(path_of("_Z9app_valuei").as_deref(), Some("app_value"));
        assert_eq!(
            path_of("_ZNK3geo3Box4areaEv").as_deref(),
            Some("geo::Box::area")
        );
        assert_eq!(path_of("app_value"), None);
    }
}
