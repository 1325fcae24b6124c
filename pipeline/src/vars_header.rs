//! The generated header of current vars (`hotwasm_vars.h`) as the pipeline sees it: its name,
//! where it lives, and the guard an eval defines to leave its own names out. Every client C/C++
//! eval includes it first ([`crate::eval`]); the server writes it as the journal changes.

use std::path::{Path, PathBuf};

/// The header's file name (in [`include_dir`], and what evals `#include`).
pub const HEADER: &str = "hotwasm_vars.h";

/// Where the generated header lives: on every C/C++ patch's include path.
pub fn include_dir(root: &Path) -> PathBuf {
    root.join(".hotwasm").join("include")
}

/// The macro an eval defines to leave `name`'s declaration out of the header (the eval declares
/// or defines `name` itself, perhaps with a new signature, which the check then judges).
pub fn own_guard(name: &str) -> String {
    format!("HOTWASM_OWN_{name}")
}
