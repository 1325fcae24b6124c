//! The current vars, computed from the host manifest and the journal as the pages' registries
//! hold them: the answer to a `vars` query, and the generated C header
//! (`<app>/.hotwasm/include/hotwasm_vars.h`, also served at `/hotwasm/vars.h`) that lets a later
//! eval call earlier evals' vars without retyping their prototypes.
//!
//! Versions count as the runtime's registry does (`hotwasm_list_json`): a host var starts at 1
//! (the host's own function), each journaled patch defining a var adds one, and each journaled
//! rollback takes one away unless only one is left.

use crate::journal::{Entry, EntryKind};
use crate::protocol::{Lang, VarInfo};
use hotwasm_abi::{HostManifest, Signature};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use hotwasm_pipeline::vars_header::{include_dir, own_guard, HEADER};

/// One version of a var: the journal entry that defined it (`None`: the host's own).
#[derive(Debug, Clone)]
struct Version<'a> {
    seq: Option<u64>,
    source: Option<(&'a str, Lang)>,
}

/// Every current var, sorted by name: the host's vars, then every var a journaled patch defined.
pub fn current(host: &HostManifest, entries: &[Entry]) -> Vec<VarInfo> {
    let mut vars: BTreeMap<String, (Signature, Vec<Version<'_>>)> = BTreeMap::new();
    for v in &host.vars {
        let host_version = Version {
            seq: None,
            source: None,
        };
        vars.insert(v.name.clone(), (v.signature.clone(), vec![host_version]));
    }
    for e in entries {
        match &e.kind {
            EntryKind::Patch {
                manifest,
                source,
                lang,
                ..
            } => {
                for p in &manifest.entries {
                    let var = vars
                        .entry(p.var.clone())
                        .or_insert_with(|| (p.signature.clone(), Vec::new()));
                    var.1.push(Version {
                        seq: Some(e.seq),
                        source: Some((source.as_str(), *lang)),
                    });
                }
            }
            EntryKind::Rollback { var } => {
                if let Some((_, history)) = vars.get_mut(var) {
                    if history.len() > 1 {
                        history.pop();
                    }
                }
            }
            // The entries it undid are gone from the journal: what is left is exact.
            EntryKind::Undo { .. } => {}
        }
    }
    vars.into_iter()
        .filter(|(_, (_, history))| !history.is_empty())
        .map(|(name, (signature, history))| {
            let top = history.last().expect("not empty");
            let prototype = match top.source {
                Some((text, Lang::C | Lang::Cpp)) => prototype_in(text, &name),
                _ => None,
            };
            VarInfo {
                version: history.len() as u32,
                defined_by_seq: top.seq,
                prototype,
                signature: signature.to_string(),
                name,
            }
        })
        .collect()
}

/// The C type a signature letter stands for.
fn c_type(letter: char) -> &'static str {
    match letter {
        'i' => "int32_t",
        'j' => "int64_t",
        'f' => "float",
        'd' => "double",
        'p' => "void *",
        _ => "void",
    }
}

/// A declaration of `name` from its signature letters (`ipf` → `int32_t name(void *, float);`).
pub fn prototype_from_letters(name: &str, signature: &Signature) -> String {
    let text = signature.to_string();
    let mut letters = text.chars();
    let ret = c_type(letters.next().unwrap_or('v'));
    let params: Vec<&str> = letters.map(c_type).collect();
    let params = if params.is_empty() {
        "void".to_string()
    } else {
        params.join(", ")
    };
    format!("{ret} {name}({params});")
}

/// `text` with comments and the insides of string and character literals blanked (same length,
/// same line breaks), so a scan for braces and names sees only code.
fn code_only(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = b[i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(b.len(), |p| i + p);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
                blank(&mut out, i, end);
                i = end;
            }
            q @ (b'"' | b'\'') => {
                let mut j = i + 1;
                while j < b.len() && b[j] != q && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                blank(&mut out, i + 1, end.saturating_sub(1).max(i + 1));
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The declaration of function `name` taken from the C or C++ `source` that defines it:
/// `int helper(int v) { ... }` → `int helper(int v);` (the definition's own text, whitespace
/// collapsed; `extern "C"` dropped). `None` when no top-level definition is found.
pub fn prototype_in(source: &str, name: &str) -> Option<String> {
    let code = code_only(source);
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut depth = 0i32;
    let mut start = 0usize;
    let mut i = 0usize;
    let mut line_start = true;
    while i < code.len() {
        let c = code[i];
        if line_start && c == b'#' {
            // A preprocessor line (with continuations) ends any declaration before it.
            while i < code.len() && !(code[i] == b'\n' && code[i - 1] != b'\\') {
                i += 1;
            }
            start = i;
            continue;
        }
        line_start = c == b'\n' || (line_start && c.is_ascii_whitespace());
        match c {
            b'{' => {
                depth += 1;
                start = i + 1;
            }
            b'}' => {
                depth -= 1;
                start = i + 1;
            }
            b';' if depth == 0 => start = i + 1,
            _ if depth == 0
                && code[i..].starts_with(name.as_bytes())
                && (i == 0 || !ident(code[i - 1]))
                && !code.get(i + name.len()).is_some_and(|c| ident(*c)) =>
            {
                if let Some(proto) = definition_at(source, &code, start, i + name.len()) {
                    return Some(proto);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// When `code[after_name..]` is `( params ) {`, the declaration text from `start`.
fn definition_at(source: &str, code: &[u8], start: usize, after_name: usize) -> Option<String> {
    let mut j = after_name;
    while code.get(j).is_some_and(u8::is_ascii_whitespace) {
        j += 1;
    }
    if code.get(j) != Some(&b'(') {
        return None;
    }
    let mut parens = 0;
    let close = (j..code.len()).find(|&k| {
        match code[k] {
            b'(' => parens += 1,
            b')' => parens -= 1,
            _ => {}
        }
        parens == 0
    })?;
    let after = String::from_utf8_lossy(&code[close + 1..]).into_owned();
    if !after.trim_start().starts_with('{') {
        return None;
    }
    let text = String::from_utf8_lossy(&code[start..=close]).into_owned();
    let mut words: Vec<&str> = text.split_whitespace().collect();
    // `extern "C"` (the literal was blanked to `" "`).
    if words.first() == Some(&"extern") && words.get(1).is_some_and(|w| w.starts_with('"')) {
        words.drain(..if words.get(1) == Some(&"\"") { 3 } else { 2 });
    }
    let _ = source;
    let decl = words.join(" ");
    (!decl.is_empty()).then(|| format!("{decl};"))
}

/// The `#include` lines of `source`, in order.
fn includes_of(source: &str) -> impl Iterator<Item = &str> {
    source.lines().map(str::trim).filter(|l| {
        l.strip_prefix('#')
            .is_some_and(|r| r.trim_start().starts_with("include"))
    })
}

/// The text of `hotwasm_vars.h` for `vars`. `sources` are the C/C++ texts of the journal entries
/// that define a current version (their `#include` lines come first, so the prototypes' types
/// are known; a quoted one that `resolves` says is not found from the include path is left as
/// a comment: it stood beside the eval's own file); `app_header_of(name)` names an app header
/// declaring a host var (then the app's own declaration stands and this header only names it).
pub fn header_text(
    vars: &[VarInfo],
    globals: &[GlobalDecl],
    sources: &[(&str, Lang)],
    app_header_of: &dyn Fn(&str) -> Option<String>,
    resolves: &dyn Fn(&str) -> bool,
    local_type_of: &dyn Fn(&VarInfo) -> Option<String>,
) -> String {
    let mut out = String::from(
        "/* hotwasm_vars.h: every current var with its prototype, written by `hotwasm serve` after\n   each applied eval (also at /hotwasm/vars.h). Do not edit: it is rewritten.\n   `#include <hotwasm_vars.h>` in an eval to call vars earlier evals defined. */\n#ifndef HOTWASM_VARS_H\n#define HOTWASM_VARS_H\n#include <stdint.h>\n",
    );
    let mut seen = Vec::new();
    for (text, lang) in sources {
        for inc in includes_of(text) {
            if inc.contains(HEADER) || seen.contains(&(inc, *lang)) {
                continue;
            }
            seen.push((inc, *lang));
        }
    }
    for (inc, lang) in &seen {
        let quoted = inc
            .split('"')
            .nth(1)
            .filter(|_| inc.matches('"').count() == 2);
        if let Some(file) = quoted.filter(|f| !resolves(f)) {
            out.push_str(&format!("/* not on the include path, so left out: {file} (an eval included it from beside its own file) */\n"));
        } else if *lang == Lang::Cpp {
            out.push_str(&format!("#ifdef __cplusplus\n{inc}\n#endif\n"));
        } else {
            out.push_str(inc);
            out.push('\n');
        }
    }
    out.push_str("#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for g in globals {
        out.push_str(&guarded(&g.name, &g.comment, g.declaration.as_deref()));
    }
    for v in vars {
        let origin = match v.defined_by_seq {
            Some(seq) => format!("version {}, journal entry {seq}", v.version),
            None => format!("host var, version {}", v.version),
        };
        if v.name.starts_with("_Z") {
            out.push_str(&format!(
                "/* {} ({origin}): a C++-linkage var; declare it in C++ as its eval did */\n",
                v.name
            ));
        } else if let Some(proto) = &v.prototype {
            match local_type_of(v) {
                Some(t) => out.push_str(&guarded(
                    &v.name,
                    &format!("{} ({origin}): its prototype `{proto}` names `{t}`, which that eval declared itself: declare both again where you use them", v.name),
                    None,
                )),
                None => out.push_str(&guarded(&v.name, &format!("{} ({origin})", v.name), Some(proto))),
            }
        } else if let Some(header) = app_header_of(&v.name) {
            out.push_str(&format!(
                "/* {} ({origin}, signature `{}`): declared in the app's {header} */\n",
                v.name, v.signature
            ));
        } else {
            let comment = format!(
                "{} ({origin}): from its signature letters `{}` (pointers are void *)",
                v.name, v.signature
            );
            // A name C cannot spell (a compiler's `_GLOBAL__sub_I_a.cpp`) is named, not declared.
            let proto = Signature::parse(&v.signature)
                .ok()
                .filter(|_| {
                    v.name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
                .map(|s| prototype_from_letters(&v.name, &s));
            out.push_str(&guarded(&v.name, &comment, proto.as_deref()));
        }
    }
    out.push_str("#ifdef __cplusplus\n}\n#endif\n#endif /* HOTWASM_VARS_H */\n");
    out
}

/// A global an eval defined, as the header declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalDecl {
    /// Its name.
    pub name: String,
    /// The comment above it (where it comes from, or why it is not declared).
    pub comment: String,
    /// `extern <type> <name>;`, when its type can be written here.
    pub declaration: Option<String>,
}

/// One declaration of the header, under its guard, or only its comment when it has none.
fn guarded(name: &str, comment: &str, declaration: Option<&str>) -> String {
    match declaration {
        Some(d) => format!(
            "/* {comment} */\n#ifndef {guard}\n{d}\n#endif\n",
            guard = own_guard(name)
        ),
        None => format!("/* {comment} */\n"),
    }
}

/// `extern` declaration text of a global named `name` whose type clang printed as `ty` (`int`,
/// `char *`, `unsigned int[4]`, `int (*)(void)`; older journals: tokens joined by spaces,
/// `int ( * ) ( void )`).
fn extern_declaration(name: &str, ty: &str) -> Option<String> {
    if ty.is_empty() {
        return None;
    }
    let pointer = ["( * )", "(*)"]
        .iter()
        .find_map(|p| ty.find(p).map(|at| (at, p.len())));
    let declarator = if let Some((at, len)) = pointer {
        format!("{}( * {name} ){}", &ty[..at], &ty[at + len..])
    } else if let Some(at) = ty.find('[') {
        format!("{} {name} {}", ty[..at].trim_end(), &ty[at..])
    } else {
        format!("{ty} {name}")
    };
    Some(format!("extern {declarator};"))
}

/// Whether `text` names any of `types` as a whole identifier.
fn mentions_any(text: &str, types: &[String]) -> Option<String> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    types
        .iter()
        .find(|t| {
            text.match_indices(t.as_str()).any(|(at, _)| {
                !text[..at].ends_with(ident) && !text[at + t.len()..].starts_with(ident)
            })
        })
        .cloned()
}

/// The globals the journal's C/C++ patches define (the first definition of each: it owns the
/// storage), declared `extern` unless their type is one the defining eval declared itself.
fn journal_globals(entries: &[Entry]) -> Vec<GlobalDecl> {
    let mut out: Vec<GlobalDecl> = Vec::new();
    for e in entries {
        let EntryKind::Patch {
            wasm,
            lang,
            declared_types: local_types,
            ..
        } = &e.kind
        else {
            continue;
        };
        if *lang == Lang::Rust {
            continue;
        }
        let (_, globals) = crate::compile::latebind::read_sections(wasm);
        let mut globals: Vec<_> = globals.into_iter().collect();
        globals.sort();
        for (name, (_, ty)) in globals {
            if out.iter().any(|g| g.name == name) || name.starts_with("hotwasm") {
                continue;
            }
            let origin = format!("{name} (global, journal entry {})", e.seq);
            let (comment, declaration) = match mentions_any(&ty, local_types) {
                Some(t) => (
                    format!("{origin}: its type `{ty}` names `{t}`, which that eval declared itself: declare it again where you use it"),
                    None,
                ),
                None => (origin, extern_declaration(&name, &ty)),
            };
            out.push(GlobalDecl {
                name,
                comment,
                declaration,
            });
        }
    }
    out
}

/// The app's headers in `include_dirs` (name, text): a host var one of them declares is only
/// named by the generated header. Read before taking the journal lock.
pub fn app_headers(include_dirs: &[PathBuf]) -> Vec<(String, String)> {
    include_dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "h" || x == "hpp"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != HEADER && n != "hotwasm.h")
        })
        .filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read_to_string(&p).ok()?))
        })
        .collect()
}

/// The app header (in `include_dirs`) that declares the host function `var`, when one does.
pub fn app_header_declaring(include_dirs: &[PathBuf], var: &str) -> Option<String> {
    app_headers(include_dirs)
        .into_iter()
        .find(|(_, text)| prototype_declared(text, var))
        .map(|(name, _)| name)
}

/// The header for the current state: `entries` of the journal, `host`'s vars, the app's
/// `headers` ([`app_headers`]) and `include_dirs` (where a quoted include must resolve).
pub fn header_for(
    host: &HostManifest,
    entries: &[Entry],
    headers: &[(String, String)],
    include_dirs: &[PathBuf],
) -> String {
    let vars = current(host, entries);
    let sources: Vec<(&str, Lang)> = entries
        .iter()
        .filter(|e| vars.iter().any(|v| v.defined_by_seq == Some(e.seq)))
        .filter_map(|e| match &e.kind {
            EntryKind::Patch { source, lang, .. } if *lang != Lang::Rust => {
                Some((source.as_str(), *lang))
            }
            _ => None,
        })
        .collect();
    let app_header_of = |var: &str| {
        headers
            .iter()
            .find(|(_, text)| prototype_declared(text, var))
            .map(|(name, _)| name.clone())
    };
    let resolves = |file: &str| include_dirs.iter().any(|d| d.join(file).is_file());
    let local_type_of = |v: &VarInfo| {
        let seq = v.defined_by_seq?;
        let types = entries.iter().find_map(|e| match &e.kind {
            EntryKind::Patch { declared_types, .. } if e.seq == seq => Some(declared_types),
            _ => None,
        })?;
        mentions_any(v.prototype.as_deref()?, types)
    };
    header_text(
        &vars,
        &journal_globals(entries),
        &sources,
        &app_header_of,
        &resolves,
        &local_type_of,
    )
}

/// Whether `text` names `var` followed by `(` (a declaration or a macro that makes one), the name
/// perhaps in parentheses as Lua's headers write it: `int (lua_gettop) (lua_State *L);`.
fn prototype_declared(text: &str, var: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(var).any(|(at, _)| {
        let after = text[at + var.len()..].trim_start();
        let after = after.strip_prefix(')').map_or(after, str::trim_start);
        !text[..at].ends_with(ident) && after.starts_with('(')
    })
}

/// The current vars of `hub` (its host manifest and journal).
pub fn of_hub(hub: &crate::hub::Hub) -> Vec<VarInfo> {
    let host = hub.host().unwrap_or_default();
    let state = hub.lock();
    current(&host, state.journal.entries())
}

/// The header text for `hub`'s current vars.
pub fn header_of_hub(hub: &crate::hub::Hub) -> String {
    let host = hub.host().unwrap_or_default();
    let include_dirs = hub
        .compiler
        .as_ref()
        .map(|c| c.include_dirs().to_vec())
        .unwrap_or_default();
    let headers = app_headers(&include_dirs);
    let state = hub.lock();
    header_for(&host, state.journal.entries(), &headers, &include_dirs)
}

/// Rewrites `hub`'s header file when its text changed: wherever the journal or the host
/// changes (an applied eval, a rollback or a trap's, an undo, a journal reset, a host reload)
/// and when the server starts, never on the compile path.
pub fn refresh(hub: &crate::hub::Hub) {
    write_header(&hub.root, &header_of_hub(hub));
}

/// Writes the header into `<root>/.hotwasm/include/` (atomically: a compile reading it never
/// sees half a file). Failures are reported, never fatal: the header is a convenience.
pub fn write_header(root: &Path, text: &str) {
    let dir = include_dir(root);
    if std::fs::read_to_string(dir.join(HEADER)).is_ok_and(|old| old == text) {
        return;
    }
    // A temp file of its own per writer, renamed over the header: concurrent evals never mix.
    let result = std::fs::create_dir_all(&dir).and_then(|_| {
        hotwasm_pipeline::files::write_atomically(&dir.join(HEADER), text.as_bytes())
    });
    if let Err(e) = result {
        eprintln!(
            "hotwasm: could not write {}: {e}; `#include <{HEADER}>` in evals will not see the latest vars",
            dir.join(HEADER).display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotwasm_abi::{HostVar, PatchEntry, PatchManifest};
    use std::sync::Arc;

    fn sig(s: &str) -> Signature {
        Signature::parse(s).unwrap()
    }

    fn patch(seq: u64, source: &str, vars: &[(&str, &str)]) -> Entry {
        Entry {
            seq,
            kind: EntryKind::Patch {
                manifest: PatchManifest {
                    entries: vars
                        .iter()
                        .map(|(v, s)| PatchEntry {
                            var: v.to_string(),
                            symbol: format!("{v}__hw{seq}"),
                            signature: sig(s),
                        })
                        .collect(),
                },
                run: None,
                source: source.into(),
                lang: Lang::C,
                name: "eval.c".into(),
                wasm: Arc::new(Vec::new()),
                declared_types: Vec::new(),
            },
        }
    }

    #[test]
    fn a_host_function_an_app_header_declares_in_parentheses_is_left_to_that_header() {
        let lua_h = "LUA_API int   (lua_gettop) (lua_State *L);\nint lua_gettopx(void);\n";
        assert!(prototype_declared(lua_h, "lua_gettop"));
        assert!(prototype_declared(
            "int lua_settop (lua_State *L, int idx);",
            "lua_settop"
        ));
        assert!(
            !prototype_declared(lua_h, "gettop"),
            "a longer name is not this one"
        );
        assert!(
            !prototype_declared("int (lua_gettop);", "lua_gettop"),
            "not a function"
        );
    }

    #[test]
    fn prototypes_are_the_definitions_own_text() {
        let src = "#include <stdio.h>\n/* int helper(int) { */\nstatic int twice(int v) { return v * 2; }\nint helper(int v)\n{ return twice(v) * 3; }\nconst char *name_of(const int *p, double (*f)(double)) { (void)p; (void)f; return \"x{\"; }\nint user(int v) { return helper(v); }\n";
        assert_eq!(
            prototype_in(src, "helper").as_deref(),
            Some("int helper(int v);")
        );
        assert_eq!(
            prototype_in(src, "name_of").as_deref(),
            Some("const char *name_of(const int *p, double (*f)(double));")
        );
        assert_eq!(
            prototype_in(src, "user").as_deref(),
            Some("int user(int v);")
        );
        assert_eq!(prototype_in(src, "absent"), None);
        let cpp = "extern \"C\" int f(int x) { return x; }\n";
        assert_eq!(prototype_in(cpp, "f").as_deref(), Some("int f(int x);"));
    }

    #[test]
    fn versions_count_as_the_registry_does() {
        let host = HostManifest {
            version: 1,
            vars: vec![HostVar {
                name: "step".into(),
                signature: sig("vf"),
            }],
            ..HostManifest::default()
        };
        let entries = vec![
            patch(1, "int helper(int v) { return v; }\n", &[("helper", "ii")]),
            patch(
                2,
                "void step(float dt) { (void)dt; }\nint helper(int v) { return v + 1; }\n",
                &[("step", "vf"), ("helper", "ii")],
            ),
            Entry {
                seq: 3,
                kind: EntryKind::Rollback {
                    var: "helper".into(),
                },
            },
            Entry {
                seq: 4,
                kind: EntryKind::Rollback {
                    var: "helper".into(),
                },
            },
        ];
        let vars = current(&host, &entries);
        let helper = vars.iter().find(|v| v.name == "helper").unwrap();
        assert_eq!((helper.version, helper.defined_by_seq), (1, Some(1)));
        assert_eq!(helper.prototype.as_deref(), Some("int helper(int v);"));
        let step = vars.iter().find(|v| v.name == "step").unwrap();
        assert_eq!((step.version, step.defined_by_seq), (2, Some(2)));
        let header = header_text(&vars, &[], &[], &|_| None, &|_| true, &|_| None);
        assert!(header.contains("int helper(int v);"), "{header}");
        let host_only = current(&host, &[]);
        assert_eq!(host_only[0].version, 1);
        let header = header_text(&host_only, &[], &[], &|_| None, &|_| true, &|_| None);
        assert!(header.contains("void step(float);"), "{header}");
        let header = header_text(
            &host_only,
            &[],
            &[],
            &|_| Some("app.h".into()),
            &|_| true,
            &|_| None,
        );
        assert!(
            !header.contains("void step(float);") && header.contains("app.h"),
            "{header}"
        );
    }

    #[test]
    fn includes_come_first_and_a_quoted_one_off_the_include_path_is_left_out() {
        let src = "#include <math.h>\n#include \"app.h\"\n#include \"beside.h\"\nint f(int v) { return v; }\n";
        let vars = [VarInfo {
            name: "f".into(),
            signature: "ii".into(),
            version: 1,
            prototype: Some("int f(int v);".into()),
            defined_by_seq: Some(1),
        }];
        let text = header_text(
            &vars,
            &[],
            &[(src, Lang::C)],
            &|_| None,
            &|f| f == "app.h",
            &|_| None,
        );
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
        assert!(at("#include <math.h>") < at("int f(int v);"));
        assert!(at("#include \"app.h\"") < at("int f(int v);"));
        assert!(!text.contains("#include \"beside.h\""), "{text}");
        assert!(text.contains("left out: beside.h"), "{text}");
    }

    #[test]
    fn letters_become_c_types() {
        assert_eq!(
            prototype_from_letters("f", &sig("ipjfd")),
            "int32_t f(void *, int64_t, float, double);"
        );
        assert_eq!(prototype_from_letters("g", &sig("v")), "void g(void);");
    }
    #[test]
    fn a_host_function_whose_name_c_cannot_spell_is_named_not_declared() {
        let var = |name: &str| HostVar {
            name: name.into(),
            signature: sig("v"),
        };
        let host = HostManifest {
            vars: vec![
                var("_GLOBAL__sub_I_b2World.cpp"),
                var("test2.specialized.1"),
                var("tick"),
            ],
            ..HostManifest::default()
        };
        let header = header_for(&host, &[], &[], &[]);
        assert!(
            !header.contains("void _GLOBAL__sub_I_b2World.cpp(void);"),
            "{header}"
        );
        assert!(
            !header.contains("void test2.specialized.1(void);"),
            "{header}"
        );
        assert!(
            header.contains("/* test2.specialized.1 (host var, version 1)"),
            "{header}"
        );
        assert!(header.contains("void tick(void);"), "{header}");
    }

    #[test]
    fn declarations_sit_under_own_guards_and_eval_local_types_are_named_not_used() {
        let src = "typedef struct { int x, y; } pt;\npt mk(int a) { pt p = {a, a}; return p; }\nint sq(int x) { return x * x; }\n";
        let entries = vec![patch(1, src, &[("mk", "vpi"), ("sq", "ii")])];
        let host = HostManifest::default();
        let globals = vec![GlobalDecl {
            name: "counter".into(),
            comment: "counter (global, journal entry 1)".into(),
            declaration: extern_declaration("counter", "int"),
        }];
        let header = header_text(
            &current(&host, &entries),
            &globals,
            &[(src, Lang::C)],
            &|_| None,
            &|_| true,
            &|v| mentions_any(v.prototype.as_deref()?, &["pt".to_string()]),
        );
        assert!(
            header.contains("#ifndef HOTWASM_OWN_sq\nint sq(int x);\n#endif"),
            "{header}"
        );
        assert!(
            header.contains("#ifndef HOTWASM_OWN_counter\nextern int counter;\n#endif"),
            "{header}"
        );
        assert!(!header.contains("pt mk(int a);\n"), "{header}");
        assert!(
            header.contains("names `pt`, which that eval declared itself"),
            "{header}"
        );
    }

    #[test]
    fn the_types_clang_reported_an_entry_declared_are_named_not_used_and_old_entries_declare_none()
    {
        let src = "typedef struct { int x, y; } pt;\npt mk(int a) { pt p = {a, a}; return p; }\n";
        let host = HostManifest::default();
        let mut recorded = patch(1, src, &[("mk", "vpi")]);
        if let EntryKind::Patch { declared_types, .. } = &mut recorded.kind {
            *declared_types = vec!["pt".into()];
        }
        let header = header_for(&host, &[recorded], &[], &[]);
        assert!(!header.contains("\npt mk(int a);\n"), "{header}");
        assert!(
            header.contains("names `pt`, which that eval declared itself"),
            "{header}"
        );
        // A journal written before the record: its entry declares no types of its own.
        let old = patch(1, src, &[("mk", "vpi")]);
        let header = header_for(&host, &[old], &[], &[]);
        assert!(header.contains("\npt mk(int a);\n"), "{header}");
    }

    #[test]
    fn extern_declarations_place_the_name_in_arrays_and_function_pointers() {
        assert_eq!(
            extern_declaration("n", "int").as_deref(),
            Some("extern int n;")
        );
        assert_eq!(
            extern_declaration("xs", "unsigned int [ 4 ]").as_deref(),
            Some("extern unsigned int xs [ 4 ];")
        );
        assert_eq!(
            extern_declaration("fp", "int ( * ) ( int )").as_deref(),
            Some("extern int ( * fp ) ( int );")
        );
        // As clang prints the types.
        assert_eq!(
            extern_declaration("xs", "unsigned int[4]").as_deref(),
            Some("extern unsigned int xs [4];")
        );
        assert_eq!(
            extern_declaration("fp", "int (*)(int)").as_deref(),
            Some("extern int ( * fp )(int);")
        );
        assert_eq!(extern_declaration("x", ""), None);
    }
}
