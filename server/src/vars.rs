//! The current vars, computed from the host manifest and the journal as the pages' registries
//! hold them: the answer to a `vars` query, and the generated C header
//! (`<app>/.hotwasm/include/hotwasm_vars.h`, also served at `/hotwasm/vars.h`) that lets a later
//! eval call earlier evals' vars without retyping their prototypes.
//!
//! Versions count as the runtime's registry does (`hotwasm_list_json`): a host var starts at 1
//! (the host's own function), each journaled patch defining a var adds one, and each journaled
//! rollback takes one away unless only one is left.

use crate::journal::{Declarations, Entry, EntryKind, Include};
use crate::protocol::{Lang, VarInfo};
use hotwasm_abi::{HostManifest, Signature};
use hotwasm_pipeline::compile::{Compiler, CompilerConfig};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

pub use hotwasm_pipeline::vars_header::{include_dir, own_guard, HEADER};

/// One version of a var: the journal entry that defined it (`None`: the host's own).
#[derive(Debug, Clone)]
struct Version<'a> {
    seq: Option<u64>,
    source: Option<(&'a Declarations, Lang)>,
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
                declarations,
                lang,
                ..
            } => {
                for p in &manifest.entries {
                    let var = vars
                        .entry(p.var.clone())
                        .or_insert_with(|| (p.signature.clone(), Vec::new()));
                    var.1.push(Version {
                        seq: Some(e.seq),
                        source: Some((declarations, *lang)),
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
                Some((declared, Lang::C | Lang::Cpp)) => {
                    declared.printed.get(&name).map(|d| format!("{d};"))
                }
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

/// The text of `hotwasm_vars.h` for `vars`. `includes` are the `#include`s of the journal entries
/// that define a current version, as clang saw them (they come first, so the prototypes' types
/// are known; a quoted one that `resolves` says is not found from the include path is left as
/// a comment: it stood beside the eval's own file); `app_header_of(name)` names an app header
/// declaring a host var (then the app's own declaration stands and this header only names it).
pub fn header_text(
    vars: &[VarInfo],
    globals: &[GlobalDecl],
    includes: &[(&Include, Lang)],
    app_header_of: &dyn Fn(&str) -> Option<String>,
    resolves: &dyn Fn(&str) -> bool,
    local_type_of: &dyn Fn(&VarInfo) -> Option<String>,
) -> String {
    let mut out = String::from(
        "/* hotwasm_vars.h: every current var with its prototype, written by `hotwasm serve` after\n   each applied eval (also at /hotwasm/vars.h). Do not edit: it is rewritten.\n   `#include <hotwasm_vars.h>` in an eval to call vars earlier evals defined. */\n#ifndef HOTWASM_VARS_H\n#define HOTWASM_VARS_H\n#include <stdint.h>\n",
    );
    let mut seen: Vec<(&Include, Lang)> = Vec::new();
    for (inc, lang) in includes {
        let own = Path::new(&inc.name)
            .file_name()
            .is_some_and(|f| f == HEADER);
        if !own && !seen.contains(&(inc, *lang)) {
            seen.push((inc, *lang));
        }
    }
    for (inc, lang) in seen {
        if !inc.angled && !resolves(&inc.name) {
            out.push_str(&format!("/* not on the include path, so left out: {} (an eval included it from beside its own file) */\n", inc.name));
        } else if lang == Lang::Cpp {
            out.push_str(&format!("#ifdef __cplusplus\n{inc}\n#endif\n"));
        } else {
            out.push_str(&format!("{inc}\n"));
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
            declarations,
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
                // As clang printed it; a journal from before that was recorded: from the type.
                None => match declarations.printed.get(&name) {
                    Some(printed) => (origin, Some(format!("{printed};"))),
                    None => (origin, extern_declaration(&name, &ty)),
                },
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

/// The app's headers in `include_dirs` and the functions each declares, as clang read them
/// ([`Compiler::report_file`]): a host var one of them declares is only named by the generated
/// header. Each header is read once per modification time; one clang cannot read declares
/// nothing (a note says why). Read before taking the journal lock.
pub fn app_headers(compiler: &Compiler, threads: bool) -> Vec<(String, Vec<String>)> {
    type Cache = Mutex<HashMap<(PathBuf, bool), (SystemTime, Vec<String>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let lock = || cache.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    for path in header_files(compiler.include_dirs()) {
        let Some(modified) = std::fs::metadata(&path).and_then(|m| m.modified()).ok() else {
            continue;
        };
        let key = (path.clone(), threads);
        // Bound first: the guard of a `match` scrutinee would live through the arms.
        let cached = lock().get(&key).cloned();
        let functions = match cached {
            Some((at, functions)) if at == modified => functions,
            _ => {
                let functions = functions_declared(compiler, &path, threads);
                lock().insert(key, (modified, functions.clone()));
                functions
            }
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        out.extend(name.map(|n| (n, functions)));
    }
    out
}

/// The functions app header `path` declares, as clang read it; none (and a note) when clang
/// cannot read it on its own.
fn functions_declared(compiler: &Compiler, path: &Path, threads: bool) -> Vec<String> {
    match compiler.report_file(path, threads) {
        Ok(reported) => reported.functions,
        Err(why) => {
            eprintln!(
                "hotwasm: the vars header could not read {} with clang ({why}): a host var only it declares is declared again from its signature letters",
                path.display()
            );
            Vec::new()
        }
    }
}

/// [`app_headers`] of a project without a running server (an editor's first vars header): read
/// by a compiler of its patch settings `config`; none when there is no compiler.
pub fn app_headers_of(config: CompilerConfig, threads: bool) -> Vec<(String, Vec<String>)> {
    let reporter = crate::sessions::file_reporter(&config);
    match Compiler::new(config) {
        Ok(mut compiler) => {
            compiler.set_reporter(reporter);
            app_headers(&compiler, threads)
        }
        Err(_) => Vec::new(),
    }
}

/// The C and C++ headers directly in `include_dirs`, but hotwasm's own.
fn header_files(include_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = include_dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "h" || x == "hpp"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != HEADER && n != "hotwasm.h")
        })
        .collect();
    files.sort();
    files
}

/// The app header that declares the host function `var` as clang read it ([`app_headers`]),
/// when one does.
pub fn app_header_declaring(compiler: &Compiler, threads: bool, var: &str) -> Option<String> {
    app_headers(compiler, threads)
        .into_iter()
        .find(|(_, functions)| functions.iter().any(|f| f == var))
        .map(|(name, _)| name)
}

/// The header for the current state: `entries` of the journal, `host`'s vars, the app's
/// `headers` and the functions each declares ([`app_headers`]) and `include_dirs` (where a
/// quoted include must resolve).
pub fn header_for(
    host: &HostManifest,
    entries: &[Entry],
    headers: &[(String, Vec<String>)],
    include_dirs: &[PathBuf],
) -> String {
    let vars = current(host, entries);
    let includes: Vec<(&Include, Lang)> = entries
        .iter()
        .filter(|e| vars.iter().any(|v| v.defined_by_seq == Some(e.seq)))
        .flat_map(|e| match &e.kind {
            EntryKind::Patch {
                declarations, lang, ..
            } if *lang != Lang::Rust => declarations.includes.iter().map(|i| (i, *lang)).collect(),
            _ => Vec::new(),
        })
        .collect();
    let app_header_of = |var: &str| {
        headers
            .iter()
            .find(|(_, functions)| functions.iter().any(|f| f == var))
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
        &includes,
        &app_header_of,
        &resolves,
        &local_type_of,
    )
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
    let (include_dirs, headers) = match hub.compiler.as_ref() {
        Ok(c) => (c.include_dirs().to_vec(), app_headers(c, host.threads)),
        Err(_) => Default::default(),
    };
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

    /// A C patch defining `vars` (name, signature, the declaration clang printed, if recorded).
    fn patch(seq: u64, vars: &[(&str, &str, Option<&str>)]) -> Entry {
        let printed = vars
            .iter()
            .filter_map(|(v, _, d)| Some((v.to_string(), (*d)?.to_string())))
            .collect();
        Entry {
            seq,
            kind: EntryKind::Patch {
                manifest: PatchManifest {
                    entries: vars
                        .iter()
                        .map(|(v, s, _)| PatchEntry {
                            var: v.to_string(),
                            symbol: format!("{v}__hw{seq}"),
                            signature: sig(s),
                        })
                        .collect(),
                },
                run: None,
                source: String::new(),
                lang: Lang::C,
                name: "eval.c".into(),
                wasm: Arc::new(Vec::new()),
                declared_types: Vec::new(),
                declarations: Declarations {
                    printed,
                    includes: Vec::new(),
                },
            },
        }
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
            patch(1, &[("helper", "ii", Some("int helper(int v)"))]),
            patch(
                2,
                &[
                    ("step", "vf", Some("void step(float dt)")),
                    ("helper", "ii", Some("int helper(int v)")),
                ],
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
        let inc = |name: &str, angled| Include {
            name: name.into(),
            angled,
        };
        let includes = [
            inc("math.h", true),
            inc("app.h", false),
            inc("beside.h", false),
            inc("hotwasm_vars.h", true),
            inc("math.h", true),
        ];
        let includes: Vec<(&Include, Lang)> = includes.iter().map(|i| (i, Lang::C)).collect();
        let vars = [VarInfo {
            name: "f".into(),
            signature: "ii".into(),
            version: 1,
            prototype: Some("int f(int v);".into()),
            defined_by_seq: Some(1),
        }];
        let text = header_text(&vars, &[], &includes, &|_| None, &|f| f == "app.h", &|_| {
            None
        });
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
        assert!(at("#include <math.h>") < at("int f(int v);"));
        assert!(at("#include \"app.h\"") < at("int f(int v);"));
        assert!(!text.contains("#include \"beside.h\""), "{text}");
        assert!(text.contains("left out: beside.h"), "{text}");
        assert_eq!(text.matches("#include <math.h>").count(), 1, "{text}");
        assert!(!text.contains("\n#include <hotwasm_vars.h>\n"), "{text}");
    }

    #[test]
    fn a_var_whose_entry_recorded_no_declaration_is_declared_from_its_letters() {
        // A journal from before clang's declarations were recorded, or a saved file whose
        // report clang could not give.
        let entries = vec![patch(1, &[("old_helper", "ii", None)])];
        let vars = current(&HostManifest::default(), &entries);
        assert_eq!(vars[0].prototype, None);
        let header = header_for(&HostManifest::default(), &entries, &[], &[]);
        assert!(
            header.contains("#ifndef HOTWASM_OWN_old_helper\nint32_t old_helper(int32_t);\n#endif"),
            "{header}"
        );
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
        let entries = vec![patch(
            1,
            &[
                ("mk", "vpi", Some("pt mk(int a)")),
                ("sq", "ii", Some("int sq(int x)")),
            ],
        )];
        let host = HostManifest::default();
        let globals = vec![GlobalDecl {
            name: "counter".into(),
            comment: "counter (global, journal entry 1)".into(),
            declaration: extern_declaration("counter", "int"),
        }];
        let header = header_text(
            &current(&host, &entries),
            &globals,
            &[],
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
        let host = HostManifest::default();
        let mut recorded = patch(1, &[("mk", "vpi", Some("pt mk(int a)"))]);
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
        let old = patch(1, &[("mk", "vpi", Some("pt mk(int a)"))]);
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
