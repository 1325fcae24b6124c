//! Late binding: every call from patch code to a var reaches the var's current implementation,
//! and every external global a patch defines keeps one storage for the program's life.
//!
//! How a patch is linked (the fast path and plain emcc alike):
//! 1. The source is compiled with default visibility and `-fsemantic-interposition`, so clang
//!    never inlines or otherwise binds a call to an external function of the same file: each
//!    such call, and each address-take, stays a relocation against the function's symbol.
//!    External globals are reached through `GOT.mem`.
//! 2. [`plan`] reads the object: the vars it defines (external, non-weak functions) and the vars
//!    it calls (undefined functions that are not plain host exports such as `printf`), each
//!    with its signature.
//! 3. For each var, a trampoline object ([`super::trampolines::trampoline_asm`]): `__wrap_<name>` calls through
//!    `*slot`, where `slot = hotwasm_slot("<name>", "<sig>")` is fetched once by a constructor
//!    that runs before the user's own. For each defined global, a globals object
//!    ([`super::trampolines::global_asm`]) whose constructor copies the patch's initial value into the shared
//!    storage when its initializer differs from the one that storage last got.
//! 4. `wasm-ld --wrap=<var>` for every var: calls and address-takes of `<var>` in the user's
//!    object now reach `__wrap_<var>`, while the definition stays exported as `<var>` (renamed to
//!    `<var>__hwN` after linking). A pointer to a var is the trampoline's table slot: stable, and
//!    it always calls the current version.
//!
//! The small objects are assembled with llvm-mc once per (name, signature) and cached for the
//! server's life ([`super::trampolines::Cache`]), so re-evaluating the same functions adds only
//! their link.
//!
//! Globals: the first patch that defines `g` provides its storage (Emscripten's GOT is
//! first-definition-wins) and every later patch, defining or declaring `g`, binds to it. A
//! companion 8-byte global `__hotwasm_initkey_<g>` holds a hash of the type and initializer text
//! of the definition whose initial value the storage last received.

use super::globals;
use super::object::Symbols;
use hotwasm_abi::{HostManifest, Signature};
use std::collections::HashMap;
use std::path::PathBuf;

/// The function a patch may define to run statements once per page after it applies.
pub const RUN_ONCE: &str = "hotwasm_main";

/// Custom section listing `<name> <signature>` for every var a patch binds to.
pub const VARS_SECTION: &str = "hotwasm.vars";
/// Custom section listing `<name> <size> <type>` for every global a patch defines.
pub const GLOBALS_SECTION: &str = "hotwasm.globals";

/// A var a patch defines or calls, with the signature its slot is fetched with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarUse {
    /// The var's name.
    pub name: String,
    /// Host letters when the host declares the var, else the wasm type's (pointers are `i`).
    pub signature: Signature,
}

/// A global a patch defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalDef {
    /// The symbol name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The declared type text (`""` when clang's report did not give it).
    pub ty: String,
    /// The initializer text.
    pub init: String,
}

/// A global a patch uses without defining it (`extern`), with its declared type if read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalUse {
    /// The symbol name.
    pub name: String,
    /// The declared type text, if the declaration was in the user's file.
    pub ty: Option<String>,
}

/// What a patch binds to, read from its object before linking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Vars the patch defines (external, non-weak, visible functions; not `hotwasm_main`).
    pub defines: Vec<VarUse>,
    /// Vars the patch calls or takes the address of without defining them.
    pub calls: Vec<VarUse>,
    /// Of `calls`, the names a system header declares: library functions the host lacks.
    pub library: Vec<String>,
    /// Of `library`, the C library functions a patch cannot link itself, with why
    /// ([`super::libc::PatchLibc::why_not`]).
    pub unlinkable: Vec<(String, String)>,
    /// Globals the patch defines (C only).
    pub globals: Vec<GlobalDef>,
    /// Globals the patch uses without defining them.
    pub global_uses: Vec<GlobalUse>,
}

impl Plan {
    /// Every var the patch binds to: its definitions, then its calls.
    pub fn vars(&self) -> impl Iterator<Item = &VarUse> {
        self.defines.iter().chain(&self.calls)
    }
}

/// Reads which vars the Rust object `symbols` defines and uses (no C declarations: Rust globals
/// are shared by [`super::rust::share_statics`]); only names passing `is_var_name` can be vars
/// (Rust: not mangled).
pub fn plan(symbols: &Symbols, host: &HostManifest, is_var_name: &dyn Fn(&str) -> bool) -> Plan {
    plan_declared(symbols, host, None, is_var_name)
}

/// The data symbols an object defines or uses (not private ones): whose declarations
/// [`plan_declared`] wants.
pub fn data_names(symbols: &Symbols) -> Vec<&str> {
    symbols
        .data
        .iter()
        .filter(|d| !d.private)
        .map(|d| d.name.as_str())
        .collect()
}

/// Reads which vars and globals the object `symbols` defines and uses, with the globals'
/// declarations as clang reported them (`None` for Rust); only names passing `is_var_name` can
/// be vars.
pub fn plan_declared(
    symbols: &Symbols,
    host: &HostManifest,
    declared: Option<&[globals::Declared]>,
    is_var_name: &dyn Fn(&str) -> bool,
) -> Plan {
    let source = declared;
    let slot_signature = |name: &str, wasm: &Signature| match host.var(name) {
        Some(v) if v.signature.same_in_wasm32(wasm) => v.signature.clone(),
        _ => wasm.clone(),
    };
    let mut plan = Plan::default();
    for f in symbols.functions.iter().filter(|f| is_var_name(&f.name)) {
        let Some(sig) = &f.signature else { continue };
        if f.defined {
            if !f.weak && !f.hidden && f.name != RUN_ONCE {
                plan.defines.push(VarUse {
                    name: f.name.clone(),
                    signature: slot_signature(&f.name, sig),
                });
            }
        } else if host.var(&f.name).is_some() || !host.exports_symbol(&f.name) {
            plan.calls.push(VarUse {
                name: f.name.clone(),
                signature: slot_signature(&f.name, sig),
            });
        }
    }
    let declared = declared.unwrap_or_default();
    let find = |name: &str, ext: bool| {
        declared
            .iter()
            .rfind(|d| d.name == name && d.is_extern == ext)
    };
    for d in symbols.data.iter().filter(|d| !d.private) {
        match d.size {
            Some(size) if source.is_some() => {
                let decl = find(&d.name, false);
                plan.globals.push(GlobalDef {
                    name: d.name.clone(),
                    size,
                    ty: decl.map(|d| d.ty.clone()).unwrap_or_default(),
                    init: decl.map(|d| d.init.clone()).unwrap_or_default(),
                });
            }
            Some(_) => {}
            None => plan.global_uses.push(GlobalUse {
                name: d.name.clone(),
                ty: find(&d.name, true).map(|d| d.ty.clone()),
            }),
        }
    }
    plan
}

/// Marks as library functions the calls that one of `headers` (system headers the compile read)
/// declares, so the check can say "the host does not export it" instead of treating a missing
/// libc function as a var still to be defined.
pub fn mark_library_calls(plan: &mut Plan, host: &HostManifest, headers: &[PathBuf]) {
    let unknown: Vec<&VarUse> = plan
        .calls
        .iter()
        .filter(|c| host.var(&c.name).is_none())
        .collect();
    if unknown.is_empty() {
        return;
    }
    let texts: Vec<String> = headers
        .iter()
        .filter_map(|h| std::fs::read_to_string(h).ok())
        .collect();
    plan.library = unknown
        .into_iter()
        // hotwasm's own ABI functions are never vars: missing ones mean an older host.
        .filter(|c| c.name.starts_with("hotwasm_") || texts.iter().any(|t| mentions(t, &c.name)))
        .map(|c| c.name.clone())
        .collect();
}

/// Marks as library functions the calls to C library functions a patch cannot link itself
/// (`why_not` says why), also those no header declares (`__small_printf`, which LLVM writes for
/// `printf`), so the check names them and the fix instead of treating them as vars.
pub fn mark_unlinkable_calls(plan: &mut Plan, why_not: impl Fn(&str) -> Option<String>) {
    for call in &plan.calls {
        if let Some(why) = why_not(&call.name) {
            if !plan.library.contains(&call.name) {
                plan.library.push(call.name.clone());
            }
            plan.unlinkable.push((call.name.clone(), why));
        }
    }
}

/// Whether `text` holds `word` as a whole identifier.
fn mentions(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word)
        .any(|(at, _)| !text[..at].ends_with(ident) && !text[at + word.len()..].starts_with(ident))
}

/// `--wrap=<name>` for every var.
pub fn wrap_flags(plan: &Plan) -> Vec<String> {
    plan.vars().map(|v| format!("--wrap={}", v.name)).collect()
}

/// FNV-1a of the global's type and initializer text: which definition's initial value the
/// storage holds.
pub fn init_key(g: &GlobalDef) -> u64 {
    hotwasm_abi::fnv1a(&[g.ty.as_bytes(), &[0], g.init.as_bytes()].concat())
}

/// The companion global holding the init key of global `name`.
pub fn init_key_symbol(name: &str) -> String {
    format!("__hotwasm_initkey_{name}")
}

/// Reads a linked patch's `hotwasm.vars` and `hotwasm.globals` sections (for the journal: what
/// earlier patches bound to). Lines that do not parse are skipped.
pub fn read_sections(wasm: &[u8]) -> (HashMap<String, Signature>, HashMap<String, (u64, String)>) {
    let mut vars = HashMap::new();
    let mut globals = HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::CustomSection(c)) = payload else {
            continue;
        };
        let text = String::from_utf8_lossy(c.data());
        if c.name() == VARS_SECTION {
            for line in text.lines() {
                if let Some((name, sig)) = line.split_once(' ') {
                    if let Ok(sig) = Signature::parse(sig) {
                        vars.insert(name.to_string(), sig);
                    }
                }
            }
        } else if c.name() == GLOBALS_SECTION {
            for line in text.lines() {
                let mut parts = line.splitn(3, ' ');
                if let (Some(name), Some(Ok(size)), ty) =
                    (parts.next(), parts.next().map(str::parse), parts.next())
                {
                    globals.insert(name.to_string(), (size, ty.unwrap_or_default().to_string()));
                }
            }
        }
    }
    (vars, globals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::object::{Data, Function};
    use hotwasm_abi::HostVar;

    fn sig(s: &str) -> Signature {
        Signature::parse(s).unwrap()
    }

    fn func(name: &str, defined: bool, s: &str) -> Function {
        Function {
            name: name.into(),
            defined,
            weak: false,
            hidden: false,
            signature: Some(sig(s)),
        }
    }

    fn host() -> HostManifest {
        HostManifest {
            version: 1,
            vars: vec![HostVar {
                name: "step".into(),
                signature: sig("vppf"),
            }],
            exports: vec!["printf".into(), "step".into()],
            layouts: Vec::new(),
            layout_inputs: Vec::new(),
            threads: false,
            cold: Vec::new(),
        }
    }

    #[test]
    fn vars_are_strong_definitions_and_calls_that_are_not_plain_host_exports() {
        let mut weak = func("inline_helper", true, "ii");
        weak.weak = true;
        let symbols = Symbols {
            functions: vec![
                func("a", true, "ii"),
                func("hotwasm_main", true, "v"),
                weak,
                func("printf", false, "iii"),
                func("step", false, "viif"),
                func("later", false, "i"),
            ],
            data: vec![
                Data {
                    name: "counter".into(),
                    size: Some(4),
                    private: false,
                },
                Data {
                    name: "shared".into(),
                    size: None,
                    private: false,
                },
            ],
        };
        // As clang reports `extern int shared; int counter = 3;`.
        let declared = [
            globals::Declared {
                name: "shared".into(),
                ty: "int".into(),
                init: String::new(),
                is_extern: true,
            },
            globals::Declared {
                name: "counter".into(),
                ty: "int".into(),
                init: "3".into(),
                is_extern: false,
            },
        ];
        let p = plan_declared(&symbols, &host(), Some(&declared), &|_| true);
        let names = |v: &[VarUse]| v.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&p.defines), ["a"]);
        assert_eq!(names(&p.calls), ["step", "later"]);
        assert_eq!(
            p.calls[0].signature,
            sig("vppf"),
            "host letters for host vars"
        );
        assert_eq!(
            p.globals,
            [GlobalDef {
                name: "counter".into(),
                size: 4,
                ty: "int".into(),
                init: "3".into()
            }]
        );
        assert_eq!(p.global_uses[0].ty.as_deref(), Some("int"));
    }

    #[test]
    fn the_init_key_follows_type_and_initializer_text() {
        let g = |ty: &str, init: &str| GlobalDef {
            name: "g".into(),
            size: 4,
            ty: ty.into(),
            init: init.into(),
        };
        assert_eq!(init_key(&g("int", "5")), init_key(&g("int", "5")));
        assert_ne!(init_key(&g("int", "5")), init_key(&g("int", "10")));
        assert_ne!(init_key(&g("int", "")), init_key(&g("unsigned", "")));
    }

    #[test]
    fn whole_identifiers_only_are_mentions() {
        assert!(mentions("int atoi(const char *);", "atoi"));
        assert!(!mentions("int atoi_l(const char *);", "atoi"));
        assert!(!mentions("long xatoi;", "atoi"));
    }
}
