//! What an eval is written in ([`Lang`]) and what a compiler said about it ([`Diagnostic`]): the
//! pipeline's words that the wire protocol also speaks (the server's `protocol` re-exports them).

use serde::{Deserialize, Serialize};

/// The language of an eval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// C, compiled by clang through Emscripten.
    C,
    /// Rust: `#[no_mangle] pub extern "C" fn`s compiled against the `hotwasm_patch` prelude.
    Rust,
    /// C++: `extern "C"` functions are vars as in C; functions with C++ linkage are vars named by
    /// their mangled symbol (one per overload).
    Cpp,
}

/// Every eval language as on the wire ([`Lang::as_str`] keeps it whole).
pub const LANGS: [Lang; 3] = [Lang::C, Lang::Cpp, Lang::Rust];

impl Lang {
    /// As on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::C => "c",
            Lang::Cpp => "cpp",
            Lang::Rust => "rust",
        }
    }

    /// The language of a source file by its extension (`.c`; `.cpp`, `.cc`, `.cxx`, `.c++`;
    /// `.rs`), if it is one hotwasm compiles.
    pub fn of_path(path: &std::path::Path) -> Option<Lang> {
        if crate::compile::cpp::is_cpp_path(path) {
            return Some(Lang::Cpp);
        }
        match path.extension()?.to_str()? {
            "c" => Some(Lang::C),
            "rs" => Some(Lang::Rust),
            _ => None,
        }
    }

    /// The file name a text eval compiles as when the client names none.
    pub fn default_file_name(self) -> &'static str {
        match self {
            Lang::C => "eval.c",
            Lang::Cpp => "eval.cpp",
            Lang::Rust => "eval.rs",
        }
    }
}

/// One compiler diagnostic, parsed from clang's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line in the user's source.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// `error`, `warning`, `note` or `fatal error`.
    pub severity: String,
    /// The message, without the location prefix.
    pub message: String,
}
