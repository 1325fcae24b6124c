//! What clang reads in one C or C++ source, from a fresh session of the same program REPL evals
//! go through: the file-scope globals (type and initializer as clang printed them) and the types
//! it declares. The pipeline's late binding of a saved file's globals asks for it
//! ([`hotwasm_pipeline::compile::globals::Reporter`]), and the server turns each session eval's
//! report into the same facts with [`globals`] and [`types`].

use crate::{EvalOutput, Session, SessionLimits};
use hotwasm_pipeline::compile::globals::{Declarations, Declared, ReportJob, Reported, Reporter};
use hotwasm_pipeline::compile::SourceLang;
use std::path::PathBuf;

/// The clang kinds of a declaration that names a type.
const TYPE_KINDS: [&str; 7] = [
    "Record",
    "CXXRecord",
    "Enum",
    "Typedef",
    "TypeAlias",
    "ClassTemplate",
    "TypeAliasTemplate",
];

/// The file-scope globals of an eval or file (not `static` ones), as late binding wants them.
pub fn globals(out: &EvalOutput) -> Vec<Declared> {
    out.all_decls()
        .into_iter()
        .filter(|d| d.kind == "Var" && !d.is_static)
        .filter_map(|d| {
            Some(Declared {
                name: d.symbol.clone().or_else(|| d.name.clone())?,
                ty: d.ty.clone().unwrap_or_default(),
                init: d.init.clone().unwrap_or_default(),
                is_extern: !d.definition,
            })
        })
        .collect()
}

/// The names of the types an eval or file declares itself (an anonymous record by its
/// typedef's name).
pub fn types(out: &EvalOutput) -> Vec<String> {
    let mut names: Vec<String> = out
        .all_decls()
        .into_iter()
        .filter(|d| TYPE_KINDS.contains(&d.kind.as_str()))
        .flat_map(|d| [d.name.clone(), d.typedef_name.clone()])
        .flatten()
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// What the vars header repeats of an eval or file: each function and global it defines, by
/// symbol, with the declaration clang printed, and its own `#include`s.
pub fn declarations(out: &EvalOutput) -> Declarations {
    let printed = out
        .all_decls()
        .into_iter()
        .filter(|d| d.kind == "Function" || d.kind == "Var")
        .filter(|d| d.definition && !d.is_static)
        .filter_map(|d| Some((d.symbol.clone()?, d.declaration.clone()?)))
        .collect();
    Declarations {
        printed,
        includes: out.includes.clone(),
    }
}

/// The names of every function an eval or file declares or defines (its own text's, not its
/// headers').
pub fn functions(out: &EvalOutput) -> Vec<String> {
    out.all_decls()
        .into_iter()
        .filter(|d| d.kind == "Function")
        .filter_map(|d| d.name.clone())
        .collect()
}

/// Reads sources with a fresh `hotwasm-clang-session` each (started, given the text, ended).
#[derive(Debug, Clone)]
pub struct FileReporter {
    /// The session program.
    pub program: PathBuf,
    /// Its limits.
    pub limits: SessionLimits,
}

impl Reporter for FileReporter {
    fn report(&self, job: &ReportJob) -> Result<Reported, String> {
        let lang = match job.lang {
            SourceLang::C => crate::Lang::C,
            SourceLang::Cpp => crate::Lang::Cpp,
        };
        let mut session =
            Session::start_in(&self.program, lang, &job.args, self.limits, Some(&job.cwd))
                .map_err(|e| e.to_string())?;
        let out = session.eval(&job.text).map_err(|e| e.to_string())?;
        if !out.ok {
            let first = out.errors().first().map(|d| d.message.clone());
            return Err(format!(
                "it did not compile in a session: {}",
                first.unwrap_or_default()
            ));
        }
        Ok(Reported {
            globals: globals(&out),
            types: types(&out),
            declarations: declarations(&out),
            functions: functions(&out),
        })
    }
}
