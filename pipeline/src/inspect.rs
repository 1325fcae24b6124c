//! Reads a linked patch (its exports with their types, its imports) and checks it against the
//! host manifest and what earlier patches defined: the check that decides whether it may be
//! sent. (Objects before linking are read by [`crate::compile::object`].)

use crate::compile::latebind::{self, Plan};
use hotwasm_abi::wasm::{self, LINKER_PROVIDED};
use hotwasm_abi::{HostManifest, PatchEntry, Signature};
use std::collections::HashMap;

/// The function a patch may define to run statements once per page after it applies.
pub use crate::compile::latebind::RUN_ONCE;

/// Why a wasm file or a patch was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
#[allow(missing_docs)] // Each variant's fields are what its message names.
pub enum InspectError {
    /// Not readable wasm.
    #[error("the compiled patch is not valid wasm: {0}; this is a toolchain bug, retry with --plain-emcc")]
    Invalid(String),
    /// A function type we cannot express in signature letters.
    #[error("`{name}` has a wasm type ({ty}) that Emscripten signature letters cannot express: use only int, long long, float, double and pointers, and return at most one value")]
    Unsupported { name: String, ty: String },
    /// A redefined var with another signature.
    #[error("`{var}` is declared with signature `{expected}` but the patch defines it as `{found}`: keep the declared parameter and return types (letters: i i32, j i64, f f32, d f64, p pointer, v void; return first)")]
    SignatureMismatch {
        var: String,
        expected: Signature,
        found: Signature,
    },
    /// An import the host does not export.
    #[error(
        "the patch uses `{symbol}`{module}, which the host does not export: {}",
        hint_for(symbol)
    )]
    UnknownImport { symbol: String, module: String },
    /// A C library function the host does not export and a patch cannot link itself.
    #[error("the patch calls `{symbol}` from the C library, which the host does not export, and {why}: export it from the host (add \"{symbol}\" to [build] exports in hotwasm.toml) and rebuild it with `hotwasm build --hot`")]
    LibraryNotExported { symbol: String, why: String },
    /// `hotwasm_main` with a signature other than `void(void)`.
    #[error("`hotwasm_main` must be `void hotwasm_main(void)` (signature `v`), not `{found}`")]
    BadRunOnce { found: Signature },
    /// A call to a var with another signature than the var's.
    #[error("`{var}` has signature `{expected}` but the patch calls it as `{found}`: declare it with the var's parameter and return types (letters: i i32, j i64, f f32, d f64, p pointer, v void; return first)")]
    CallMismatch {
        var: String,
        expected: Signature,
        found: Signature,
    },
    /// A global declared or defined with another type than its storage has.
    #[error("the global `{name}` is `{was}` but this patch declares it `{now}`: a global's storage lives as long as the app, so its type cannot change; use a new name, or reset the journal (`hotwasm journal reset`) and reload the page")]
    GlobalType {
        name: String,
        was: String,
        now: String,
    },
    /// A patch defines a host function that is not hot.
    #[error("`{0}` is a function of the host that is not hot, so a patch cannot replace it: make it hot in the host (hot_fn! in Rust, HOTWASM_FN in C/C++) and rebuild, or give the patch's function another name")]
    NotHot(String),
    /// A patch redefines a function of an all-hot host that is not hot.
    #[error("the host's `{name}` cannot be replaced: {why}")]
    ColdRedefined { name: String, why: String },
    /// A patch calls a function of an all-hot host that patches cannot reach.
    #[error("the patch calls the host's `{name}`, which a patch cannot reach: {why}")]
    ColdCalled { name: String, why: String },
    /// The host lacks the late-binding entry point.
    #[error("the host does not export `hotwasm_slot`, which every patch uses to call vars: rebuild the host with the current hotwasm runtime (HOT_RELOAD=1 scripts/emscripten-bundle.sh)")]
    NoLateBinding,
    /// Nothing to apply.
    #[error("the patch defines no non-static function and runs nothing: write a function definition, a statement or an expression")]
    Empty,
}

/// A global's storage as earlier patches defined it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownGlobal {
    /// Size in bytes.
    pub size: u64,
    /// Declared type text (`""` if it was not read).
    pub ty: String,
}

impl KnownGlobal {
    fn describe(&self) -> String {
        describe_type(&self.ty, self.size)
    }
}

fn describe_type(ty: &str, size: u64) -> String {
    if ty.is_empty() {
        format!("{size} bytes")
    } else {
        format!("{ty} ({size} bytes)")
    }
}

/// What earlier patches (the journal) defined and bound to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    /// Vars earlier patches defined or called, with their signatures.
    pub vars: HashMap<String, Signature>,
    /// Globals earlier patches defined.
    pub globals: HashMap<String, KnownGlobal>,
}

impl Known {
    /// Gathers the journal's knowledge: `manifest_vars` (every journaled manifest's entries) and
    /// the `hotwasm.vars`/`hotwasm.globals` sections of every journaled patch, oldest first.
    pub fn from_journal<'a>(
        manifest_vars: HashMap<String, Signature>,
        patches: impl IntoIterator<Item = &'a [u8]>,
    ) -> Known {
        let mut known = Known {
            vars: HashMap::new(),
            globals: HashMap::new(),
        };
        for wasm in patches {
            let (vars, globals) = latebind::read_sections(wasm);
            known.vars.extend(vars);
            for (name, (size, ty)) in globals {
                known
                    .globals
                    .entry(name)
                    .or_insert(KnownGlobal { size, ty });
            }
        }
        known.vars.extend(manifest_vars);
        known
    }
}

/// The C library's ways to start a thread (`std::thread` and C11 `thrd_create` reach
/// `pthread_create`): a patch that imports one is refused with the way out, not told to define it.
const STARTS_THREADS: [&str; 2] = ["pthread_create", "thrd_create"];

/// The next step for a patch that uses `symbol`, which the host does not export.
fn hint_for(symbol: &str) -> String {
    if symbol.starts_with("hotwasm_") {
        return "it is part of the hotwasm runtime (abi/include/hotwasm.h), which is newer than the host: rebuild the host with `hotwasm build --hot`".into();
    }
    if STARTS_THREADS.contains(&symbol) {
        return "it starts a thread, and a patch cannot start threads (docs/THREADS.md): start the thread in the host's own code, and let the patch replace the function that thread runs (every thread calls the new version)".into();
    }
    match crate::compile::cpp::hint_for_missing(symbol) {
        Some(hint) => hint.to_string(),
        None => "define it in the patch (as `static` if it is a helper), or export it from the host ([build] exports of hotwasm.toml) and rebuild it with `hotwasm build --hot`".into(),
    }
}

fn invalid(e: impl std::fmt::Display) -> InspectError {
    InspectError::Invalid(e.to_string())
}

/// What a linked patch exports and imports.
#[derive(Debug, Default)]
pub struct PatchShape {
    /// Exported functions with their signatures as wasm sees them (pointers are `i`).
    pub exports: HashMap<String, Signature>,
    /// Exported functions whose types letters cannot express, with the type.
    pub unsupported: HashMap<String, String>,
    /// Imports as `(module, name)`.
    pub imports: Vec<(String, String)>,
    /// Every export's name (functions, globals, ...).
    pub export_names: std::collections::HashSet<String>,
}

/// Validates a linked patch and reads its shape, with the reader the runtime uses too
/// (`hotwasm_abi::wasm`).
pub fn read_patch(bytes: &[u8]) -> Result<PatchShape, InspectError> {
    wasm::validate(bytes).map_err(invalid)?;
    let shape = wasm::read_module(bytes).map_err(invalid)?;
    Ok(PatchShape {
        exports: shape.exports,
        unsupported: shape.unsupported,
        imports: shape
            .imports
            .into_iter()
            .map(|i| (i.module, i.name))
            .collect(),
        export_names: shape.export_names,
    })
}

/// A patch that passed the check: its manifest and the symbol to run once, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// One entry per var the patch defines.
    pub entries: Vec<PatchEntry>,
    /// The renamed `hotwasm_main`, if defined.
    pub run: Option<String>,
    /// Vars the patch calls that nothing defines yet: calls trap until an eval defines them.
    pub pending: Vec<String>,
}

/// Checks a renamed patch: every defined var (`defined`, renamed by `symbol_of`) becomes a
/// manifest entry with the signature the host or an earlier patch gave it; every var it calls
/// has the signature it is called with; every global keeps its type; every import is the
/// linker's own or exported by the host.
pub fn check(
    shape: &PatchShape,
    defined: &[String],
    plan: &Plan,
    symbol_of: impl Fn(&str) -> String,
    host: &HostManifest,
    known: &Known,
) -> Result<Checked, InspectError> {
    let (entries, run) = check_definitions(shape, defined, &symbol_of, host, known)?;
    let pending = check_calls(plan, host, known)?;
    check_globals(plan, known)?;
    if entries.is_empty() && run.is_none() && plan.globals.is_empty() {
        return Err(InspectError::Empty);
    }
    check_imports(shape, defined, host, known)?;
    Ok(Checked {
        entries,
        run,
        pending,
    })
}

fn declared<'a>(host: &'a HostManifest, known: &'a Known, var: &str) -> Option<&'a Signature> {
    host.var(var)
        .map(|v| &v.signature)
        .or_else(|| known.vars.get(var))
}

fn check_definitions(
    shape: &PatchShape,
    defined: &[String],
    symbol_of: &impl Fn(&str) -> String,
    host: &HostManifest,
    known: &Known,
) -> Result<(Vec<PatchEntry>, Option<String>), InspectError> {
    let mut entries = Vec::new();
    let mut run = None;
    for var in defined {
        let symbol = symbol_of(var);
        let found = match shape.exports.get(&symbol) {
            Some(sig) => sig.clone(),
            None => {
                let ty = shape
                    .unsupported
                    .get(&symbol)
                    .cloned()
                    .unwrap_or_else(|| "not exported".into());
                return Err(InspectError::Unsupported {
                    name: var.clone(),
                    ty,
                });
            }
        };
        if var == RUN_ONCE {
            if found != Signature::parse("v").expect("valid") {
                return Err(InspectError::BadRunOnce { found });
            }
            run = Some(symbol);
            continue;
        }
        if let Some(why) = host.cold(var) {
            return Err(InspectError::ColdRedefined {
                name: var.clone(),
                why: why.to_string(),
            });
        }
        if host.var(var).is_none() && host.exports_symbol(var) {
            return Err(InspectError::NotHot(var.clone()));
        }
        let signature = match declared(host, known, var) {
            Some(expected) if !expected.same_in_wasm32(&found) => {
                return Err(InspectError::SignatureMismatch {
                    var: var.clone(),
                    expected: expected.clone(),
                    found,
                });
            }
            Some(expected) => expected.clone(),
            None => found,
        };
        entries.push(PatchEntry {
            var: var.clone(),
            symbol,
            signature,
        });
    }
    Ok((entries, run))
}

/// Every called var must be called with its signature; a name nothing defines is a pending var
/// unless a system header declares it (a library function the host lacks).
fn check_calls(
    plan: &Plan,
    host: &HostManifest,
    known: &Known,
) -> Result<Vec<String>, InspectError> {
    let mut pending = Vec::new();
    for call in &plan.calls {
        if let (Some(why), false) = (host.cold(&call.name), host.exports_symbol(&call.name)) {
            return Err(InspectError::ColdCalled {
                name: call.name.clone(),
                why: why.to_string(),
            });
        }
        match declared(host, known, &call.name) {
            Some(expected) if !expected.same_in_wasm32(&call.signature) => {
                return Err(InspectError::CallMismatch {
                    var: call.name.clone(),
                    expected: expected.clone(),
                    found: call.signature.clone(),
                });
            }
            Some(_) => {}
            None if plan.library.contains(&call.name) => {
                if let Some((_, why)) = plan.unlinkable.iter().find(|(n, _)| *n == call.name) {
                    return Err(InspectError::LibraryNotExported {
                        symbol: call.name.clone(),
                        why: why.clone(),
                    });
                }
                return Err(InspectError::UnknownImport {
                    symbol: call.name.clone(),
                    module: String::new(),
                });
            }
            None => pending.push(call.name.clone()),
        }
    }
    Ok(pending)
}

fn check_globals(plan: &Plan, known: &Known) -> Result<(), InspectError> {
    for g in &plan.globals {
        if let Some(was) = known.globals.get(&g.name) {
            let type_differs = !was.ty.is_empty() && !g.ty.is_empty() && was.ty != g.ty;
            if was.size != g.size || type_differs {
                return Err(InspectError::GlobalType {
                    name: g.name.clone(),
                    was: was.describe(),
                    now: describe_type(&g.ty, g.size),
                });
            }
        }
    }
    for u in &plan.global_uses {
        if let (Some(was), Some(ty)) = (known.globals.get(&u.name), &u.ty) {
            if !was.ty.is_empty() && was.ty != *ty {
                return Err(InspectError::GlobalType {
                    name: u.name.clone(),
                    was: was.describe(),
                    now: ty.clone(),
                });
            }
        }
    }
    Ok(())
}

fn check_imports(
    shape: &PatchShape,
    defined: &[String],
    host: &HostManifest,
    known: &Known,
) -> Result<(), InspectError> {
    for (module, name) in &shape.imports {
        let ok = match module.as_str() {
            "env" if name == "hotwasm_slot" && !host.exports_symbol(name) => {
                return Err(InspectError::NoLateBinding);
            }
            "env" => {
                // A preemptible definition the patch links in (C++ library code) is both
                // imported and exported: the loader binds it to the first definition.
                LINKER_PROVIDED.contains(&name.as_str())
                    || shape.export_names.contains(name)
                    || host.exports_symbol(name)
                    || host.var(name).is_some()
            }
            "GOT.mem" | "GOT.func" => {
                defined.contains(name)
                    || shape.export_names.contains(name)
                    || known.globals.contains_key(name)
                    || host.exports_symbol(name)
                    || host.var(name).is_some()
            }
            _ => false,
        };
        if !ok {
            let module = if module == "env" {
                String::new()
            } else {
                format!(" (from `{module}`)")
            };
            return Err(InspectError::UnknownImport {
                symbol: name.clone(),
                module,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotwasm_abi::HostVar;

    fn sig(s: &str) -> Signature {
        Signature::parse(s).unwrap()
    }

    fn host() -> HostManifest {
        HostManifest {
            version: 1,
            vars: vec![HostVar {
                name: "step".into(),
                signature: sig("vppf"),
            }],
            exports: vec!["demo_random".into(), "step".into()],
            layouts: Vec::new(),
            layout_inputs: Vec::new(),
            threads: false,
            cold: Vec::new(),
        }
    }

    fn shape(exports: &[(&str, &str)], imports: &[(&str, &str)]) -> PatchShape {
        PatchShape {
            exports: exports
                .iter()
                .map(|(n, s)| (n.to_string(), sig(s)))
                .collect(),
            unsupported: HashMap::new(),
            export_names: Default::default(),
            imports: imports
                .iter()
                .map(|(m, n)| (m.to_string(), n.to_string()))
                .collect(),
        }
    }

    fn ver(n: &str) -> String {
        hotwasm_abi::versioned_symbol(n, 3)
    }

    #[test]
    fn host_vars_keep_their_declared_letters_and_new_vars_are_allowed() {
        let s = shape(
            &[
                ("step__hw3", "viif"),
                ("helper__hw3", "ii"),
                ("hotwasm_main__hw3", "v"),
            ],
            &[("env", "memory"), ("env", "demo_random")],
        );
        let defined = vec![
            "step".to_string(),
            "helper".to_string(),
            "hotwasm_main".to_string(),
        ];
        let c = check(
            &s,
            &defined,
            &Plan::default(),
            ver,
            &host(),
            &Known::default(),
        )
        .unwrap();
        assert_eq!(c.entries[0].signature, sig("vppf"));
        assert_eq!(c.entries[1].symbol, "helper__hw3");
        assert_eq!(c.run.as_deref(), Some("hotwasm_main__hw3"));
    }

    #[test]
    fn a_patch_that_starts_a_thread_is_told_to_start_it_in_the_host() {
        let s = shape(&[("step__hw3", "vppf")], &[("env", "pthread_create")]);
        let e = check(
            &s,
            &["step".into()],
            &Plan::default(),
            ver,
            &host(),
            &Known::default(),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`pthread_create`"), "{text}");
        assert!(text.contains("a patch cannot start threads"), "{text}");
        assert!(!text.contains("define it in the patch"), "{text}");
    }

    #[test]
    fn a_signature_mismatch_names_both_signatures() {
        let s = shape(&[("step__hw3", "vii")], &[]);
        let e = check(
            &s,
            &["step".into()],
            &Plan::default(),
            ver,
            &host(),
            &Known::default(),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`vppf`") && text.contains("`vii`"), "{text}");
    }

    #[test]
    fn an_unknown_import_is_named() {
        let s = shape(&[("f__hw3", "i")], &[("env", "secret_fn")]);
        let e = check(
            &s,
            &["f".into()],
            &Plan::default(),
            ver,
            &host(),
            &Known::default(),
        )
        .unwrap_err();
        assert_eq!(
            e,
            InspectError::UnknownImport {
                symbol: "secret_fn".into(),
                module: String::new()
            }
        );
        assert!(e.to_string().contains("`secret_fn`"));
    }

    #[test]
    fn run_once_must_be_void_void() {
        let s = shape(&[("hotwasm_main__hw3", "ii")], &[]);
        let e = check(
            &s,
            &["hotwasm_main".into()],
            &Plan::default(),
            ver,
            &host(),
            &Known::default(),
        )
        .unwrap_err();
        assert!(matches!(e, InspectError::BadRunOnce { .. }));
    }

    fn var_use(name: &str, s: &str) -> latebind::VarUse {
        latebind::VarUse {
            name: name.into(),
            signature: sig(s),
        }
    }

    #[test]
    fn calls_keep_the_vars_signature_and_unknown_names_are_pending_unless_a_library_declares_them()
    {
        let s = shape(&[("f__hw3", "i")], &[("env", "hotwasm_slot")]);
        let mut host = host();
        host.exports.push("hotwasm_slot".into());
        let mut known = Known::default();
        known.vars.insert("helper".into(), sig("ii"));
        let mut plan = Plan {
            calls: vec![var_use("helper", "ii"), var_use("later", "i")],
            ..Plan::default()
        };
        let c = check(&s, &["f".into()], &plan, ver, &host, &known).unwrap();
        assert_eq!(c.pending, vec!["later".to_string()]);
        plan.calls[0] = var_use("helper", "iii");
        let e = check(&s, &["f".into()], &plan, ver, &host, &known).unwrap_err();
        assert!(
            e.to_string().contains("`ii`") && e.to_string().contains("`iii`"),
            "{e}"
        );
        plan.calls = vec![var_use("atoi", "ii")];
        plan.library = vec!["atoi".into()];
        let e = check(&s, &["f".into()], &plan, ver, &host, &known).unwrap_err();
        assert!(e.to_string().contains("`atoi`"), "{e}");
    }

    #[test]
    fn a_global_keeps_its_type_and_the_host_must_offer_hotwasm_slot() {
        let s = shape(&[("f__hw3", "i")], &[("env", "hotwasm_slot")]);
        let mut known = Known::default();
        known.globals.insert(
            "speed".into(),
            KnownGlobal {
                size: 4,
                ty: "int".into(),
            },
        );
        let plan = Plan {
            globals: vec![latebind::GlobalDef {
                name: "speed".into(),
                size: 8,
                ty: "long long".into(),
                init: "5".into(),
            }],
            ..Plan::default()
        };
        let e = check(&s, &["f".into()], &plan, ver, &host(), &known).unwrap_err();
        assert!(
            e.to_string().contains("`int (4 bytes)`")
                && e.to_string().contains("`long long (8 bytes)`"),
            "{e}"
        );
        let e = check(&s, &["f".into()], &Plan::default(), ver, &host(), &known).unwrap_err();
        assert_eq!(e, InspectError::NoLateBinding);
    }

    #[test]
    fn a_host_function_that_is_not_hot_cannot_be_redefined() {
        let s = shape(&[("demo_random__hw3", "fi")], &[]);
        let e = check(
            &s,
            &["demo_random".into()],
            &Plan::default(),
            ver,
            &host(),
            &Known::default(),
        )
        .unwrap_err();
        assert_eq!(e, InspectError::NotHot("demo_random".into()));
        assert!(e.to_string().contains("HOTWASM_FN"));
    }

    fn with_cold(mut host: HostManifest) -> HostManifest {
        host.cold.push(hotwasm_abi::ColdFunction {
            name: "fast_path".into(),
            why: "`fast_path` is kept cold by [hot] cold".into(),
        });
        host
    }

    #[test]
    fn an_all_hot_hosts_cold_function_cannot_be_redefined_and_the_refusal_says_why() {
        let s = shape(&[("fast_path__hw3", "ii")], &[]);
        let e = check(
            &s,
            &["fast_path".into()],
            &Plan::default(),
            ver,
            &with_cold(host()),
            &Known::default(),
        )
        .unwrap_err();
        assert!(matches!(e, InspectError::ColdRedefined { .. }), "{e:?}");
        assert!(e.to_string().contains("kept cold by [hot] cold"), "{e}");
    }

    #[test]
    fn a_call_to_a_cold_host_function_is_refused_before_sending_not_left_pending() {
        let s = shape(&[("f__hw3", "i")], &[("env", "hotwasm_slot")]);
        let mut host = with_cold(host());
        host.exports.push("hotwasm_slot".into());
        let plan = Plan {
            calls: vec![var_use("fast_path", "ii")],
            ..Plan::default()
        };
        let e = check(&s, &["f".into()], &plan, ver, &host, &Known::default()).unwrap_err();
        assert!(matches!(e, InspectError::ColdCalled { .. }), "{e:?}");
        assert!(e.to_string().contains("cannot reach"), "{e}");
    }

    #[test]
    fn garbage_is_not_wasm() {
        assert!(matches!(
            read_patch(b"\0asm garbage"),
            Err(InspectError::Invalid(_))
        ));
    }
}
