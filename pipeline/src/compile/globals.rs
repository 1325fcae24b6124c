//! Persistent globals: the declared type and initializer of the external globals a C or C++
//! source defines or declares at file scope, as clang read them — never scanned from the text.
//!
//! The object file says which globals a patch defines and their sizes; clang's report adds what
//! the user wrote, so that re-evaluating `int speed = 5;` keeps the running value, editing it to
//! `= 10` takes effect, and `long speed;` is refused naming both types. An incremental session
//! reports them with each eval; a saved file is read by a [`Reporter`] (the server's one-shot
//! run of the same session program) while its object compiles.

use super::SourceLang;
use std::path::PathBuf;

/// One file-scope declaration of a global.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The symbol name.
    pub name: String,
    /// The declared type as clang prints it, e.g. `unsigned int[4]`.
    pub ty: String,
    /// The initializer as clang read it (`""` when there is none).
    pub init: String,
    /// Declared `extern` (a use, not a definition).
    pub is_extern: bool,
}

/// What clang reported a source declares at file scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reported {
    /// Its globals.
    pub globals: Vec<Declared>,
    /// The types it declares itself (records, typedefs, enums, aliases), by name.
    pub types: Vec<String>,
    /// What the vars header repeats of it: declarations as clang printed them, its includes.
    pub declarations: Declarations,
    /// Every function it declares or defines, by name (the functions an app header declares).
    pub functions: Vec<String>,
}

/// One `#include` directive of a source, as clang's preprocessor saw it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Include {
    /// The header's name as spelled between the brackets or quotes.
    pub name: String,
    /// `<name>` rather than `"name"`.
    pub angled: bool,
}

impl std::fmt::Display for Include {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.angled {
            true => write!(f, "#include <{}>", self.name),
            false => write!(f, "#include \"{}\"", self.name),
        }
    }
}

/// What the vars header repeats of a source so a later one can use what it defines, as clang
/// read it (never cut from the text).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Declarations {
    /// Each function and global it defines, by symbol: the declaration clang printed
    /// (`int helper(int v)`, `extern unsigned int xs[4]`), without `;`.
    pub printed: std::collections::BTreeMap<String, String>,
    /// Its own `#include` directives, in order.
    pub includes: Vec<Include>,
}

/// A source for a [`Reporter`] to read.
#[derive(Debug, Clone)]
pub struct ReportJob {
    /// Its language.
    pub lang: SourceLang,
    /// The compiler's session arguments ([`super::Compiler::session_args`]) with the source's
    /// own directory as an `-iquote` directory.
    pub args: Vec<String>,
    /// The directory the compile runs in (the project root).
    pub cwd: PathBuf,
    /// The text.
    pub text: String,
}

/// Reads a C or C++ source's file-scope declarations with clang.
pub trait Reporter: Send + Sync + std::fmt::Debug {
    /// The report of `job`, or why clang could not give it.
    fn report(&self, job: &ReportJob) -> Result<Reported, String>;
}
