//! A Rust eval as one step of a growing program, as evcxr keeps one: the items of every earlier
//! eval of the session (the journal's Rust entries, in order) stay usable by name, and the
//! eval's own items are kept for the evals after it. [`super::rust_items`] reads each eval with
//! syn; this module assembles the crate rustc compiles:
//!
//! 1. the eval's text where it was written (line 1 is the user's line 1), its statements blanked
//!    out and `#[no_mangle]` inserted before each function that becomes a var and each static;
//! 2. when the eval runs something, `hotwasm_main` holding the same text with its items blanked
//!    out instead, one line below, so its statements and trailing expression keep their own
//!    lines and columns in the block whose value is reported;
//! 3. what earlier evals left (extern declarations of their vars with safe wrappers, their
//!    statics, their stateless items as text), minus what this eval redefines, each behind
//!    `#[allow(warnings)]`.
//!
//! A diagnostic is moved back to the user's line and column ([`Assembled::user_position`]).
//! A redefinition that earlier evals' compiled code could not survive is refused before rustc
//! runs: a function whose signature changed, a type whose layout changed, a static whose type
//! changed, each named with the eval that defined it and the way out.

use super::rust_items::{self, Eval, ItemInfo, Kind};
use super::{CompileError, Compiled, Compiler};
use crate::Diagnostic;
use hotwasm_abi::HostManifest;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The first line of the run-once function around the eval's statements.
const RUN_PREFIX: &str = "#[no_mangle] #[allow(non_snake_case, unused_braces, dead_code, unused_variables, unused_mut)] pub extern \"C\" fn hotwasm_main() { let hotwasm__v = {";

/// The crate rustc compiles for an eval, and how its lines map back to the user's text.
#[derive(Debug)]
pub struct Assembled {
    /// The crate's text.
    pub text: String,
    /// Lines 1..=this are the user's lines.
    user_lines: u32,
    /// The line where the user's line 1 sits again inside `hotwasm_main`, if there is one.
    run_first_line: Option<u32>,
    /// Text inserted on a user line: (line, 1-based column, length in chars).
    inserts: Vec<(u32, u32, u32)>,
}

/// A carried item and the earlier eval (0-based, in session order) it came from.
#[derive(Debug, Clone)]
struct Carried {
    item: ItemInfo,
    eval: usize,
}

impl Assembled {
    /// Where a generated (line, column) sits in the user's text; `None` for generated lines.
    pub fn user_position(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        if (1..=self.user_lines).contains(&line) {
            let shift: u32 = self
                .inserts
                .iter()
                .filter(|(l, c, _)| *l == line && *c <= column)
                .map(|(_, c, n)| (*n).min(column - c))
                .sum();
            return Some((line, column - shift));
        }
        let first = self.run_first_line?;
        (first..first + self.user_lines)
            .contains(&line)
            .then(|| (line - first + 1, column))
    }

    /// Moves `diagnostics` of `file` to the user's lines; one on a generated line says so.
    pub fn map_diagnostics(&self, diagnostics: &mut [Diagnostic], file: &str) {
        for d in diagnostics
            .iter_mut()
            .filter(|d| d.file == file || d.file.ends_with(&format!("/{file}")))
        {
            match self.user_position(d.line, d.column) {
                Some((line, column)) => (d.line, d.column) = (line, column),
                None => {
                    d.message = format!("in what earlier evals defined: {}", d.message);
                    (d.line, d.column) = (1, 1);
                }
            }
        }
    }
}

/// Earlier evals, read once each (by their text's hash) for the server's life.
fn read_cached(text: &str) -> Option<Arc<Eval>> {
    static CACHE: Mutex<Option<HashMap<u64, Arc<Eval>>>> = Mutex::new(None);
    let key = hotwasm_abi::fnv1a(text.as_bytes());
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    let map = cache.get_or_insert_with(HashMap::new);
    if let Some(e) = map.get(&key) {
        return Some(e.clone());
    }
    let eval = Arc::new(rust_items::read(text).ok()?);
    if map.len() >= 4096 {
        map.clear();
    }
    map.insert(key, eval.clone());
    Some(eval)
}

/// What the earlier evals leave, later definitions replacing earlier ones of the same name.
fn context(earlier: &[String]) -> Vec<Carried> {
    let mut out: Vec<Carried> = Vec::new();
    for (i, text) in earlier.iter().enumerate() {
        let Some(eval) = read_cached(text) else {
            continue;
        };
        for item in eval.items.iter().filter(|i| i.carried.is_some()) {
            out.retain(|c| {
                let replaced = c.item.names.iter().any(|n| item.names.contains(n));
                let repeated = item.names.is_empty() && c.item.carried == item.carried;
                !replaced && !repeated
            });
            out.push(Carried {
                item: item.clone(),
                eval: i,
            });
        }
    }
    out
}

/// Refuses a redefinition that code compiled by earlier evals would misread.
fn check_redefinitions(eval: &Eval, carried: &[Carried]) -> Result<(), String> {
    for item in &eval.items {
        for old in carried
            .iter()
            .filter(|c| c.item.names.iter().any(|n| item.names.contains(n)))
        {
            let name = &item.names[0];
            let which = format!(
                "an earlier eval (the {} Rust eval of this session)",
                ordinal(old.eval + 1)
            );
            let undo = "or undo the evals from that one on (`:undo`)";
            match (&old.item.kind, &item.kind) {
                (
                    Kind::Var {
                        signature: a,
                        shown,
                    },
                    Kind::Var {
                        signature: b,
                        shown: new,
                    },
                ) if a != b => {
                    return Err(format!("`{name}` was defined by {which} as `{shown}`, and code compiled since calls it with that signature; this eval defines `{new}` (line {}), so it was refused: keep the old signature, give the new function another name, {undo}", item.line));
                }
                (Kind::Type { layout: a }, Kind::Type { layout: b }) if a != b => {
                    return Err(format!("the type `{name}` was defined by {which} with another layout (fields, their types or order, generics or `repr`), and functions compiled since read it with that layout; this eval redefines it (line {}), so it was refused: keep the fields as they were (methods, derives and impls may change), use a new type name, {undo}", item.line));
                }
                (Kind::Static { ty: a }, Kind::Static { ty: b }) if a != b => {
                    return Err(format!("the static `{name}` was defined by {which} as `{}`, and its storage keeps that type; this eval declares it `{}` (line {}), so it was refused: keep its type, use a new name, {undo}", a.trim(), b.trim(), item.line));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `text` with every byte of `ranges` but newlines turned into spaces.
fn blank(text: &str, ranges: impl Iterator<Item = std::ops::Range<usize>>) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for r in ranges {
        for b in &mut bytes[r] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    // Only whole UTF-8 sequences were replaced (ranges are token bounds), so this is text;
    // a multi-byte character became several spaces, which only columns after it can notice.
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The carried items the eval can reach: those its text names, then those their text names, and
/// so on (an impl block is reached through its type or trait; an item without a name, a glob
/// `use`, always). Leaving out the rest keeps rustc's work proportional to what the eval uses,
/// and a static out of patches that do not name it (a patch defining one cannot also copy std
/// code: [`super::rust::std_linker_args`]).
fn needed<'a>(eval: &'a Eval, kept: &[&'a Carried]) -> Vec<&'a Carried> {
    let mut reached: HashSet<&str> = eval.idents.iter().map(String::as_str).collect();
    let mut taken = vec![false; kept.len()];
    loop {
        let mut grew = false;
        for (c, taken) in kept.iter().zip(taken.iter_mut()) {
            let anchors = &c.item.anchors;
            if !*taken
                && (anchors.is_empty() || anchors.iter().any(|a| reached.contains(a.as_str())))
            {
                *taken = true;
                grew = true;
                reached.extend(c.item.idents.iter().map(String::as_str));
            }
        }
        if !grew {
            break;
        }
    }
    kept.iter()
        .zip(taken)
        .filter(|(_, t)| *t)
        .map(|(c, _)| *c)
        .collect()
}

/// Assembles the crate for the eval `text` after the evals `earlier` (see the module doc).
pub fn assemble(text: &str, earlier: &[String]) -> Result<Assembled, CompileError> {
    assemble_for(text, earlier, &|_| false)
}

/// [`assemble`] for a host that has the root items `host_has` names (an all-hot Rust host's
/// functions, statics and modules, which a patch reaches by path through `hotwasm_host`): an
/// earlier eval's item of such a name is not carried, so the eval calls the host's symbol,
/// whose slot holds the newest version (the earlier eval's, unless something newer replaced or
/// rolled it back), instead of the earlier eval's own definition or symbol.
pub fn assemble_for(
    text: &str,
    earlier: &[String],
    host_has: &dyn Fn(&str) -> bool,
) -> Result<Assembled, CompileError> {
    let eval = rust_items::read(text).map_err(parse_failure)?;
    let context = context(earlier);
    check_redefinitions(&eval, &context).map_err(CompileError::RustSession)?;
    let redeclared = redeclared_statics(&eval, &context);
    let own: HashSet<&String> = eval
        .items
        .iter()
        .enumerate()
        .filter(|(n, _)| !redeclared.contains(n))
        .flat_map(|(_, i)| &i.names)
        .collect();
    let kept: Vec<&Carried> = context
        .iter()
        .filter(|c| !c.item.names.iter().any(|n| own.contains(n) || host_has(n)))
        .collect();
    let mut out = String::with_capacity(text.len() * 2 + 4096);
    let inserts = write_items(&mut out, text, &eval, &redeclared);
    let user_lines = text.lines().count().max(1) as u32;
    let run_first_line = write_run_once(&mut out, text, &eval, user_lines);
    let owned = eval
        .items
        .iter()
        .enumerate()
        .filter(|(n, _)| !redeclared.contains(n));
    for own in owned.filter_map(|(_, i)| i.own.as_deref()) {
        out.push_str(own);
        out.push('\n');
    }
    for c in needed(&eval, &kept) {
        out.push_str("#[allow(warnings)]\n");
        out.push_str(c.item.carried.as_deref().unwrap_or_default());
        out.push('\n');
    }
    Ok(Assembled {
        text: out,
        user_lines,
        run_first_line,
        inserts,
    })
}

/// syn's refusal of the text as a compile failure at its line and column.
fn parse_failure(e: rust_items::ParseError) -> CompileError {
    CompileError::Failed {
        diagnostics: vec![Diagnostic {
            file: String::new(),
            line: e.line,
            column: e.column,
            severity: "error".into(),
            message: e.message.clone(),
        }],
        stderr: format!(
            "error: {} (line {}, column {})\n",
            e.message, e.line, e.column
        ),
    }
}

/// The eval's statics that an earlier eval defined with the same type: they keep the storage
/// they have, so the eval declares them as later evals do instead of defining them.
fn redeclared_statics(eval: &Eval, context: &[Carried]) -> Vec<usize> {
    let redeclared = eval
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i.kind, Kind::Static { .. }))
        .filter(|(_, i)| {
            context
                .iter()
                .any(|c| matches!(c.item.kind, Kind::Static { .. }) && c.item.names == i.names)
        })
        .map(|(n, _)| n)
        .collect();
    rust_items::whole_macros(&eval.items, redeclared)
}

/// Part 1 of the crate: the eval's text on its own lines, statements (and redeclared statics)
/// blanked, each item's insert and append written around it. Returns where text was inserted.
fn write_items(
    out: &mut String,
    text: &str,
    eval: &Eval,
    redeclared: &[usize],
) -> Vec<(u32, u32, u32)> {
    let blanked = eval
        .statements
        .iter()
        .cloned()
        .chain(redeclared.iter().map(|n| eval.items[*n].range.clone()));
    let top = blank(text, blanked);
    let mut inserts = Vec::new();
    let mut at = 0;
    for (n, item) in eval.items.iter().enumerate() {
        if redeclared.contains(&n) {
            continue;
        }
        if let Some(insert) = &item.insert {
            out.push_str(&top[at..item.range.start]);
            let line_start = top[..item.range.start].rfind('\n').map_or(0, |i| i + 1);
            let column = top[line_start..item.range.start].chars().count() as u32 + 1;
            inserts.push((item.line as u32, column, insert.chars().count() as u32));
            out.push_str(insert);
            at = item.range.start;
        }
        if let Some(append) = &item.append {
            // After the item's last token: only later text on that line moves (rarely any).
            out.push_str(&top[at..item.range.end]);
            out.push_str(append);
            at = item.range.end;
        }
    }
    out.push_str(&top[at..]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    inserts
}

/// Part 2: `hotwasm_main` around the eval's statements (its items blanked), when the eval runs
/// something or defines no var (an eval of items only then runs an empty function, so it is
/// accepted), unless the eval defines `hotwasm_main` itself. Returns the line where the user's
/// line 1 sits in it.
fn write_run_once(out: &mut String, text: &str, eval: &Eval, user_lines: u32) -> Option<u32> {
    let defines_run = eval
        .items
        .iter()
        .any(|i| i.names.iter().any(|n| n == super::latebind::RUN_ONCE));
    let defines_var = eval
        .items
        .iter()
        .any(|i| matches!(i.kind, Kind::Var { .. }));
    if defines_run || (eval.statements.is_empty() && defines_var) {
        return None;
    }
    out.push_str(RUN_PREFIX);
    out.push('\n');
    out.push_str(&blank(text, eval.items.iter().map(|i| i.range.clone())));
    out.push_str("\n}; { #[allow(unused_imports)] use hotwasm__value::{ViaDebug as _, ViaNothing as _}; (&&hotwasm__value::W(&hotwasm__v)).hotwasm__report(); } }\n");
    out.push_str(REPORT);
    Some(user_lines + 2)
}

impl Compiler {
    /// Compiles a client's Rust eval `text` (named `name`) after the session's earlier Rust
    /// evals `earlier` ([`assemble`]), diagnostics at the user's own lines.
    pub fn compile_rust_eval(
        &self,
        text: &str,
        name: &str,
        earlier: &[String],
        work: &Path,
        host: &HostManifest,
    ) -> Result<Compiled, CompileError> {
        let host_crate = self.host_crate_for(host)?;
        let host_has = |name: &str| {
            host_crate
                .as_ref()
                .is_some_and(|b| b.krate.roots.iter().any(|r| r == name))
        };
        let assembled = match assemble_for(text, earlier, &host_has) {
            Ok(a) => a,
            Err(CompileError::Failed {
                mut diagnostics,
                stderr,
            }) => {
                diagnostics
                    .iter_mut()
                    .for_each(|d| d.file = name.to_string());
                return Err(CompileError::Failed {
                    diagnostics,
                    stderr: format!("{name}: {stderr}"),
                });
            }
            Err(e) => return Err(e),
        };
        let mut compiled = self.compile_rust(&assembled.text, name, work, host);
        match &mut compiled {
            Ok(c) => assembled.map_diagnostics(&mut c.diagnostics, name),
            Err(CompileError::Failed { diagnostics, .. }) => {
                assembled.map_diagnostics(diagnostics, name)
            }
            Err(_) => {}
        }
        compiled
    }
}

/// Reports the block's value: by `Debug` when the type has it (autoref specialization: the
/// `&W` impl wins when `T: Debug`), else its type only; `()` prints nothing.
const REPORT: &str = r#"#[allow(non_snake_case, dead_code)]
mod hotwasm__value {
    extern "C" {
        fn hotwasm_value_text(ty: *const u8, text: *const u8, len: usize);
    }
    pub struct W<'a, T>(pub &'a T);
    pub trait ViaDebug { fn hotwasm__report(&self); }
    impl<T: ::core::fmt::Debug> ViaDebug for &W<'_, T> {
        fn hotwasm__report(&self) { send(::core::any::type_name::<T>(), &::std::format!("{:?}", self.0)) }
    }
    pub trait ViaNothing { fn hotwasm__report(&self); }
    impl<T> ViaNothing for W<'_, T> {
        fn hotwasm__report(&self) { send(::core::any::type_name::<T>(), "(no Debug)") }
    }
    /// `alloc::vec::Vec<i32>` → `Vec<i32>`: module paths dropped.
    fn short(ty: &str) -> ::std::string::String {
        let mut out = ::std::string::String::new();
        let mut word = ::std::string::String::new();
        let mut chars = ty.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ':' && chars.peek() == Some(&':') {
                chars.next();
                word.clear();
            } else if c.is_ascii_alphanumeric() || c == '_' {
                word.push(c);
            } else {
                out.push_str(&word);
                word.clear();
                out.push(c);
            }
        }
        out.push_str(&word);
        out
    }
    fn send(ty: &str, text: &str) {
        if ty == "()" { return; }
        let mut ty = short(ty);
        ty.push('\0');
        // SAFETY: `ty` is NUL-terminated and `text` is `text.len()` bytes, both live for the call.
        unsafe { hotwasm_value_text(ty.as_ptr(), text.as_ptr(), text.len()) }
    }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn earlier(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn statements_keep_their_lines_inside_the_run_once_function() {
        let a = assemble("fn sq(x: i64) -> i64 { x * x }\nlet y = sq(3);\ny + 1", &[]).unwrap();
        let lines: Vec<&str> = a.text.lines().collect();
        let insert = "#[allow(non_snake_case)] mod hotwasm__own_sq { #[allow(unused_imports)] use super::*; #[no_mangle] ";
        assert_eq!(
            lines[0],
            format!("{insert}fn sq(x: i64) -> i64 {{ x * x }} }}")
        );
        assert_eq!(lines[1].trim(), "");
        let n = insert.len() as u32;
        assert_eq!(a.user_position(1, n + 1), Some((1, 1)));
        assert_eq!(a.user_position(1, n + 4), Some((1, 4)));
        let run = a.run_first_line.unwrap();
        assert_eq!(lines[run as usize - 2], RUN_PREFIX);
        assert_eq!(lines[run as usize], "let y = sq(3);");
        assert_eq!(a.user_position(run + 1, 5), Some((2, 5)));
    }

    #[test]
    fn earlier_items_are_carried_and_this_evals_own_replace_them() {
        let e = earlier(&["struct Pt { x: i32 }\nfn f() -> i32 { 1 }\nconst K: i32 = 2;"]);
        let a = assemble("const K: i32 = 3;\nf() + K + Pt { x: 1 }.x", &e).unwrap();
        assert!(a.text.contains("struct Pt { x: i32 }"));
        assert!(a.text.contains("#[link_name = \"f\"]"));
        assert_eq!(a.text.matches("const K").count(), 1, "{}", a.text);
    }

    #[test]
    fn a_changed_signature_is_refused_naming_both() {
        let e = earlier(&["fn f(x: i32) -> i32 { x }"]);
        let err = assemble("fn f(x: i64) -> i64 { x }", &e)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fn f(x: i32) -> i32") && err.contains("fn f(x: i64) -> i64"),
            "{err}"
        );
        assert!(assemble("fn f(y: i32) -> i32 { y + 1 }", &e).is_ok());
    }

    #[test]
    fn a_changed_layout_is_refused_and_a_new_derive_is_not() {
        let e = earlier(&["struct Pt { x: i32, y: i32 }"]);
        let err = assemble("struct Pt { x: i64, y: i32 }", &e)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`Pt`") && err.contains("layout"), "{err}");
        assert!(assemble("#[derive(Debug)] struct Pt { x: i32, y: i32 }", &e).is_ok());
    }

    #[test]
    fn only_what_the_eval_reaches_is_carried() {
        let e = earlier(&[
            "struct A { x: i32 }\nimpl A { fn get(&self) -> i32 { self.x + B } }\nconst B: i32 = 1;",
            "struct Unused;\nfn other() {}",
        ]);
        let a = assemble("A { x: 1 }.get()", &e).unwrap();
        assert!(
            a.text.contains("struct A") && a.text.contains("fn get") && a.text.contains("const B")
        );
        assert!(
            !a.text.contains("Unused") && !a.text.contains("fn other"),
            "{}",
            a.text
        );
    }

    #[test]
    fn a_static_is_carried_only_where_it_is_named() {
        let e = earlier(&["static mut N: i32 = 0;"]);
        assert!(!assemble("1 + 1", &e).unwrap().text.contains("static mut N"));
        let a = assemble("unsafe { N += 1; N }", &e).unwrap();
        assert!(
            a.text.contains("#[link_name = \"N\"] static mut N: i32;"),
            "{}",
            a.text
        );
        let again = assemble("static mut N: i32 = 5;", &e).unwrap();
        assert!(
            !again.text.contains("= 5"),
            "a redefinition keeps the storage: {}",
            again.text
        );
        assert!(again.text.contains("static mut N: i32;"), "{}", again.text);
    }

    #[test]
    fn a_thread_local_is_kept_for_later_evals_as_one_storage() {
        let first = "thread_local! {\n    static COUNT: std::cell::Cell<i32> = std::cell::Cell::new(0);\n    static NAME: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };\n}";
        let a = assemble(first, &[]).unwrap();
        assert!(
            a.text.contains("thread_local! {"),
            "the eval keeps its macro: {}",
            a.text
        );
        assert!(
            a.text.contains("pub static hotwasm__tls_COUNT: &'static ::std::thread::LocalKey<std :: cell :: Cell < i32 >> = &COUNT;"),
            "and exports its key: {}",
            a.text
        );
        let e = earlier(&[first]);
        let later = assemble("COUNT.with(|c| c.set(c.get() + 1));\nCOUNT.get()", &e).unwrap();
        assert!(
            later.text.contains("#[link_name = \"hotwasm__tls_COUNT\"]")
                && later
                    .text
                    .contains("static COUNT: &'static &'static ::std::thread::LocalKey<"),
            "a later eval names the first eval's storage: {}",
            later.text
        );
        assert!(!later.text.contains("thread_local!"), "{}", later.text);
        assert!(
            !later.text.contains("hotwasm__tls_NAME"),
            "only what it names: {}",
            later.text
        );
        let again = assemble(first, &e).unwrap();
        assert!(
            !again.text.contains("thread_local!") && !again.text.contains("= &COUNT;"),
            "the same thread_local again keeps the storage: {}",
            again.text
        );
        let err = assemble(
            "thread_local! { static COUNT: std::cell::Cell<i64> = std::cell::Cell::new(0); }",
            &e,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`COUNT`") && err.contains("Cell < i64 >"),
            "{err}"
        );
    }

    #[test]
    fn a_macro_rules_macro_is_kept_for_later_evals() {
        let e = earlier(&["macro_rules! twice { ($x:expr) => { 2 * $x }; }"]);
        let a = assemble("twice!(21)", &e).unwrap();
        assert!(a.text.contains("macro_rules! twice"), "{}", a.text);
        assert!(
            a.text.contains("pub(crate) use twice;"),
            "path-scoped, so the eval's text before it can invoke it: {}",
            a.text
        );
    }
}
