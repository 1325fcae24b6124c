//! What clang reads in one C or C++ source, from a fresh session of the same program REPL evals
//! go through: the file-scope globals (type and initializer as clang printed them) and the types
//! it declares. The pipeline's late binding of a saved file's globals asks for it
//! ([`hotwasm_pipeline::compile::globals::Reporter`]), and the server turns each session eval's
//! report into the same facts with [`globals`] and [`types`].

use crate::spare::Spares;
use crate::{EvalOutput, SessionLimits};
use hotwasm_pipeline::compile::cpp::includes_a_pch_header;
use hotwasm_pipeline::compile::globals::{Declarations, Declared, ReportJob, Reported, Reporter};
use hotwasm_pipeline::compile::SourceLang;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// Reads sources with a session each (started, given the text, ended), taken from spares
/// started ahead with the same arguments ([`crate::spare`]); the next spare starts after the
/// report, not beside it.
#[derive(Debug, Clone)]
pub struct FileReporter {
    /// The session program.
    pub program: PathBuf,
    /// Its limits.
    pub limits: SessionLimits,
    /// Sessions started ahead.
    spares: Arc<Spares>,
}

impl FileReporter {
    /// A reporter running `program` under `limits`.
    pub fn new(program: PathBuf, limits: SessionLimits) -> FileReporter {
        FileReporter {
            program,
            limits,
            spares: Arc::default(),
        }
    }

    /// The report of `text` from a session started with `args`.
    fn read(&self, job: &ReportJob, args: &[String]) -> Result<EvalOutput, String> {
        let lang = match job.lang {
            SourceLang::C => crate::Lang::C,
            SourceLang::Cpp => crate::Lang::Cpp,
        };
        let (mut session, _, refill) = self
            .spares
            .take_deferred(&self.program, lang, args, self.limits, Some(&job.cwd))
            .map_err(|e| e.to_string())?;
        let out = session.eval(&job.text).map_err(|e| e.to_string());
        drop(refill);
        out
    }
}

/// The precompiled header `args` start a session with (`-include-pch`), if any.
fn pch_of(args: &[String]) -> Option<&Path> {
    let at = args.iter().position(|a| a == "-include-pch")?;
    args.get(at + 1).map(Path::new)
}

/// `args` without `-include-pch`.
fn without_pch(args: &[String]) -> Vec<String> {
    let at = args.iter().position(|a| a == "-include-pch");
    let mut out = args.to_vec();
    if let Some(at) = at {
        out.drain(at..(at + 2).min(out.len()));
    }
    out
}

impl Reporter for FileReporter {
    /// With `-include-pch` in the job's arguments (the pipeline adds it as the file's compile
    /// does), the report counts only when clang says the file includes one of the precompiled
    /// headers; otherwise, and when a session refuses the file (stale: it is removed, so the
    /// pipeline builds it again), the file is read again without it.
    fn report(&self, job: &ReportJob) -> Result<Reported, String> {
        let out = match (pch_of(&job.args), self.read(job, &job.args)) {
            (None, read) => read?,
            (Some(_), Ok(out)) if includes_a_pch_header(&out.files) => out,
            (Some(pch), read) => {
                if read.is_err() {
                    let _ = std::fs::remove_file(pch);
                }
                self.read(job, &without_pch(&job.args))?
            }
        };
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
