//! Candidate (b): one clang process per eval with `-fincremental-extensions`.
//!
//! Each eval compiles `context + eval` as a fresh translation unit. Two cc1 processes run side by
//! side: one emits the object, one dumps the AST as JSON. The report is read from the AST (the
//! declarations whose location lies in the eval's part of the file), and the context grows by
//! the eval's text with clang-located edits ([`context_edits`]): top-level statements removed,
//! function bodies turned into `;`, variable definitions into `extern` declarations, out-of-line
//! member definitions dropped. Preprocessor lines stay, so macros and includes carry over.
//!
//! Limits found (see docs/INCREMENTAL.md): clang 19's AST dump does not record whether a
//! top-level statement lacked its `;`, so the final expression is guessed (the last statement,
//! when it is an expression of non-void type); a dump of `<vector>` is ~490 MB of JSON, so
//! standard headers must come from a precompiled header (`-include-pch`), whose declarations the
//! dump leaves out.

use crate::cc1::Learnt;
use crate::report::{Decl, Diagnostic, EvalOutput};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A session of candidate (b).
pub struct PerCallSession {
    learnt: Learnt,
    dir: tempfile::TempDir,
    context: String,
    count: u32,
    extra: Vec<String>,
    ext: &'static str,
}

/// Timings of one eval of candidate (b).
#[derive(Debug, Clone, Copy, Default)]
pub struct PerCallTimes {
    /// The object-emitting cc1 process.
    pub compile: Duration,
    /// The AST-dumping cc1 process (run beside it).
    pub ast: Duration,
    /// Reading the dump and growing the context.
    pub analyse: Duration,
    /// Wall clock of the whole eval.
    pub total: Duration,
}

impl PerCallSession {
    /// A session compiling with the cc1 line of `learnt`, plus `extra` cc1 flags (e.g.
    /// `-include-pch std.pch`).
    pub fn new(learnt: &Learnt, extra: &[String]) -> std::io::Result<PerCallSession> {
        let ext = if learnt.cc1.iter().any(|a| a == "c++") {
            "cpp"
        } else {
            "c"
        };
        Ok(PerCallSession {
            learnt: learnt.clone(),
            dir: tempfile::tempdir()?,
            context: String::new(),
            count: 0,
            extra: extra.to_vec(),
            ext,
        })
    }

    /// The object path of the last eval.
    pub fn object_path(&self) -> PathBuf {
        self.dir.path().join(format!("eval_{}.o", self.count))
    }

    /// Compiles `text` after the session's context; on success the context grows.
    pub fn eval(&mut self, text: &str) -> std::io::Result<(EvalOutput, PerCallTimes)> {
        let started = Instant::now();
        self.count += 1;
        let n = self.count;
        let src = self.dir.path().join(format!("eval_{n}.{}", self.ext));
        let obj = self.object_path();
        let full = format!("{}{text}\n", self.context);
        std::fs::write(&src, &full)?;
        let mut compile = self.command(self.learnt.for_process(&src, &obj));
        let mut ast_line = self.learnt.for_process(&src, Path::new("/dev/null"));
        for a in ast_line.iter_mut().filter(|a| *a == "-emit-obj") {
            *a = "-ast-dump=json".into();
        }
        let mut ast = self.command(ast_line);
        let t = Instant::now();
        let compiling = compile.spawn_output();
        let dump = ast.output()?;
        let ast_time = t.elapsed();
        let (compiled, compile_time) = compiling.join()?;
        let t = Instant::now();
        let mut out = EvalOutput {
            ok: compiled.status.success(),
            input: n,
            diagnostics: parse_diagnostics(&String::from_utf8_lossy(&compiled.stderr)),
            ..EvalOutput::default()
        };
        if out.ok {
            let tree: Value = serde_json::from_slice(&dump.stdout)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            let base = self.context.len();
            let located = main_file_decls(&tree, &src.display().to_string(), base);
            out.decls = located.iter().map(|l| to_decl(l.node)).collect();
            mark_final_expression(&mut out.decls);
            out.object = std::fs::read(&obj)?;
            self.context = apply_edits(&full, &context_edits(&located), base);
        }
        let times = PerCallTimes {
            compile: compile_time,
            ast: ast_time,
            analyse: t.elapsed(),
            total: started.elapsed(),
        };
        Ok((out, times))
    }

    fn command(&self, line: Vec<String>) -> Command {
        let mut cmd = Command::new(&line[0]);
        cmd.args(&line[1..])
            .args(&self.extra)
            .current_dir(self.dir.path());
        cmd
    }
}

/// Runs a command on a thread so another can run beside it.
trait SpawnOutput {
    fn spawn_output(&mut self) -> Joined;
}

/// A command running on its own thread; its output and how long it ran.
struct Joined(std::thread::JoinHandle<std::io::Result<(Output, Duration)>>);

impl Joined {
    fn join(self) -> std::io::Result<(Output, Duration)> {
        self.0
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("compile thread panicked")))
    }
}

impl SpawnOutput for Command {
    fn spawn_output(&mut self) -> Joined {
        let started = Instant::now();
        let child = self
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn();
        Joined(std::thread::spawn(move || {
            let out = child?.wait_with_output()?;
            Ok((out, started.elapsed()))
        }))
    }
}

/// Clang's `file:line:col: severity: message` lines (a one-shot compile prints only text).
fn parse_diagnostics(stderr: &str) -> Vec<Diagnostic> {
    stderr
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(5, ':');
            let file = parts.next()?.to_string();
            let line = parts.next()?.trim().parse().ok()?;
            let column = parts.next()?.trim().parse().ok()?;
            let severity = parts.next()?.trim().to_string();
            let message = parts.next()?.trim().to_string();
            Some(Diagnostic {
                severity,
                file,
                line,
                column,
                message,
                undeclared: None,
            })
        })
        .collect()
}

/// A top-level declaration of the eval with its byte offsets in the compiled file.
pub struct Located<'a> {
    node: &'a Value,
    begin: usize,
    end: usize,
    name_end: usize,
    body: Option<(usize, usize)>,
    init_begin: Option<usize>,
}

/// The top-level declarations located in `main` at or after byte `base`. clang's JSON dump
/// names a location's file only when it changes, so the walk follows document order.
fn main_file_decls<'a>(tree: &'a Value, main: &str, base: usize) -> Vec<Located<'a>> {
    let mut file = String::new();
    let mut out = Vec::new();
    for node in tree["inner"].as_array().into_iter().flatten() {
        if node["isImplicit"].as_bool() == Some(true) {
            track_files(node, &mut file);
            continue;
        }
        let begin_file = {
            let mut f = file.clone();
            track_files(&node["loc"], &mut f);
            f
        };
        let begin = offset(&node["range"]["begin"]);
        let end = offset_end(&node["range"]["end"]);
        track_files(node, &mut file);
        let (Some(begin), Some(end)) = (begin, end) else {
            continue;
        };
        if begin_file != main || begin < base {
            continue;
        }
        let body = node["inner"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["kind"] == "CompoundStmt");
        let body = body.and_then(|b| {
            Some((
                offset(&b["range"]["begin"])?,
                offset_end(&b["range"]["end"])?,
            ))
        });
        let init_begin = (node["kind"] == "VarDecl" && node.get("init").is_some())
            .then(|| {
                node["inner"]
                    .as_array()
                    .and_then(|i| i.last())
                    .and_then(|i| offset(&i["range"]["begin"]))
            })
            .flatten();
        let name_end = offset_end(&node["loc"]).unwrap_or(begin);
        out.push(Located {
            node,
            begin,
            end,
            name_end,
            body,
            init_begin,
        });
    }
    out
}

/// Follows every `file` a node's locations name, in document order.
fn track_files(v: &Value, file: &mut String) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "file" {
                    if let Some(f) = child.as_str() {
                        *file = f.to_string();
                    }
                } else {
                    track_files(child, file);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| track_files(i, file)),
        _ => {}
    }
}

/// A location's byte offset (its expansion when it comes from a macro).
fn offset(loc: &Value) -> Option<usize> {
    let loc = loc.get("expansionLoc").unwrap_or(loc);
    loc["offset"].as_u64().map(|o| o as usize)
}

/// One past the last byte of the token at `loc`.
fn offset_end(loc: &Value) -> Option<usize> {
    let l = loc.get("expansionLoc").unwrap_or(loc);
    Some(offset(loc)? + l["tokLen"].as_u64()? as usize)
}

fn to_decl(node: &Value) -> Decl {
    let kind = node["kind"].as_str().unwrap_or_default();
    let inner = node["inner"].as_array();
    let first = inner.and_then(|i| i.first());
    let mut d = Decl {
        kind: kind.strip_suffix("Decl").unwrap_or(kind).to_string(),
        name: node["name"].as_str().map(String::from),
        ty: node["type"]["qualType"].as_str().map(String::from),
        definition: inner.is_some_and(|i| i.iter().any(|c| c["kind"] == "CompoundStmt"))
            || node["completeDefinition"].as_bool() == Some(true)
            || (kind == "VarDecl" && node["storageClass"] != "extern"),
        is_static: node["storageClass"] == "static",
        inline: node["inline"].as_bool() == Some(true),
        has_init: node.get("init").is_some(),
        symbol: node["mangledName"].as_str().map(String::from),
        params: inner
            .into_iter()
            .flatten()
            .filter(|c| c["kind"] == "ParmVarDecl")
            .filter_map(|c| c["type"]["qualType"].as_str().map(String::from))
            .collect(),
        ..Decl::default()
    };
    if kind == "TopLevelStmtDecl" {
        if let Some(stmt) = first {
            d.statement = stmt["kind"].as_str().map(String::from);
            d.expr_type = stmt["type"]["qualType"].as_str().map(String::from);
        }
    }
    if matches!(kind, "LinkageSpecDecl" | "NamespaceDecl") {
        d.members = inner
            .into_iter()
            .flatten()
            .filter(|c| c["isImplicit"].as_bool() != Some(true))
            .map(to_decl)
            .collect();
    }
    d
}

/// The AST dump does not say which statement lacked its `;`: the last top-level statement is
/// taken for the value when it is an expression of non-void type.
fn mark_final_expression(decls: &mut [Decl]) {
    if let Some(last) = decls.last_mut() {
        if last.kind == "TopLevelStmt" && last.expr_type.as_deref().is_some_and(|t| t != "void") {
            last.semi_missing = true;
        }
    }
}

/// A replacement of bytes `start..end` of the compiled file.
type Edit = (usize, usize, &'static str);

/// What the context keeps of each declaration of the eval (see the module comment).
fn context_edits(decls: &[Located<'_>]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for d in decls {
        let kind = d.node["kind"].as_str().unwrap_or_default();
        let templated = d
            .node
            .get("inner")
            .is_some_and(|_| kind.ends_with("TemplateDecl"));
        let inline =
            d.node["inline"].as_bool() == Some(true) || d.node["constexpr"].as_bool() == Some(true);
        match kind {
            "TopLevelStmtDecl" => edits.push((d.begin, d.end, "")),
            _ if templated || inline => {}
            "CXXMethodDecl" | "CXXConstructorDecl" | "CXXDestructorDecl" | "CXXConversionDecl" => {
                edits.push((d.begin, d.end, ""))
            }
            "FunctionDecl" => {
                if let Some((b, e)) = d.body {
                    edits.push((b, e, ";"));
                }
            }
            "VarDecl" if d.node["storageClass"] != "static" => {
                edits.push((d.begin, d.begin, "extern "));
                if d.init_begin.is_some() {
                    edits.push((d.name_end, d.end, ""));
                }
            }
            _ => {}
        }
    }
    edits
}

/// The context after an eval: `full` with `edits` (all at or after `base`) applied. A removed
/// statement leaves its `;` behind: an empty declaration, harmless at file scope.
fn apply_edits(full: &str, edits: &[Edit], base: usize) -> String {
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut text = full.to_string();
    for (start, end, with) in sorted {
        let end = end.min(text.len());
        if start >= base
            && start <= end
            && text.is_char_boundary(start)
            && text.is_char_boundary(end)
        {
            text.replace_range(start..end, with);
        }
    }
    text
}
