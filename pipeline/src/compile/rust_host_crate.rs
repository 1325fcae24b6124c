//! What a Rust patch of an all-hot Rust host may call and use of the app's crate by path
//! (docs/ALL-HOT.md, "Rust hosts"): `hotwasm_host`, a crate generated from the app's own
//! sources (read with syn, [`super::rust_app_src`]) that mirrors the app's module tree with
//! `unsafe extern "Rust"` declarations, one per hot function and per static the host exports,
//! each bound by `#[link_name]` to the host's symbol (its v0 mangled name, as the host manifest
//! lists it). The patch glob-imports the crate at its root, so:
//! - `physics::advance(3)` or `step(2)` in a patch is a call of the host's symbol, which the late
//!   binding turns into a call through the host function's slot (always its newest version), as
//!   for a C patch calling a hot host function;
//! - `FRAMES.load(…)` reads the host's static at the address the host exports it at;
//! - a patch's own definition of the same path shadows the import (a glob import always yields
//!   to an item of the module), so redefining `step` still replaces it.
//!
//! A function whose signature names a type the patch cannot name (a type of the app's crate, of
//! a dependency, or imported by a glob) is left out, as is a function the host does not have hot
//! (generic, kept cold); a patch naming one is refused before rustc runs, naming the function,
//! why and what to do ([`HostCrate::refuse_unreachable`]).

use super::rust_app_src::Module;
use super::rust_app_types::Scope;
use super::rust_paths::HostPaths;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// The crate name a patch sees the host's items under.
pub const CRATE: &str = "hotwasm_host";

/// The generated crate and what it leaves out.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct HostCrate {
    /// The crate's source text.
    pub text: String,
    /// Path in the app's crate → why a patch cannot name it.
    pub left_out: BTreeMap<String, String>,
    /// The statics among `left_out`: named by a single name too (`WORLD.x`), where a function
    /// counts as named only where it is called.
    pub statics_left_out: Vec<String>,
    /// How many functions and statics it declares.
    pub declared: usize,
    /// The app's modules it mirrors (`physics::`), the root (`""`) first.
    pub modules: Vec<String>,
    /// The names it declares at its root: functions, statics and modules.
    pub roots: Vec<String>,
}

/// The host's symbols by the app path they name: functions (hot vars) and statics (exports).
#[derive(Debug, Default)]
pub struct HostSymbols {
    /// Path → the hot function's symbol.
    pub functions: HashMap<String, String>,
    /// Path → why that function is not hot.
    pub cold: HashMap<String, String>,
    /// Path → the exported static's symbol.
    pub statics: HashMap<String, String>,
    /// `#[no_mangle]` names the host has as vars.
    pub plain: Vec<String>,
}

impl HostSymbols {
    /// What `host` has of the app crate `krate`.
    pub fn of(paths: &HostPaths, host: &hotwasm_abi::HostManifest, krate: &str) -> HostSymbols {
        let mut out = HostSymbols {
            functions: paths.hot_symbols(),
            cold: paths.cold_reasons(),
            ..HostSymbols::default()
        };
        for name in host.exports.iter().filter(|n| n.starts_with("_R")) {
            if let Some(f) = super::rust_paths::parse(name) {
                if f.krate == krate && f.not_hot.is_none() && !out.functions.contains_key(&f.path) {
                    out.statics.insert(f.path, name.clone());
                }
            }
        }
        out.plain = host
            .vars
            .iter()
            .filter(|v| super::rust::is_user_symbol(&v.name))
            .map(|v| v.name.clone())
            .collect();
        out
    }
}

/// The crate for the app whose modules are `modules`, bound to `symbols`.
pub fn generate(modules: &[Module], symbols: &HostSymbols) -> HostCrate {
    let mut out = HostCrate::default();
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for m in modules {
        let scope = Scope::of(m);
        let mut body = String::new();
        for item in &m.items {
            match item {
                syn::Item::Fn(f) => declare_fn(
                    &m.prefix, &f.sig, &f.attrs, &scope, symbols, &mut body, &mut out,
                ),
                syn::Item::Static(s) => {
                    declare_static(&m.prefix, s, &scope, symbols, &mut body, &mut out)
                }
                _ => {}
            }
        }
        bodies.entry(m.prefix.clone()).or_default().push_str(&body);
    }
    out.text = nest(&bodies);
    out.modules = bodies.into_keys().collect();
    let top = out.modules.iter().filter_map(|m| m.split("::").next());
    out.roots
        .extend(top.filter(|t| !t.is_empty()).map(String::from));
    out.roots.sort();
    out.roots.dedup();
    out
}

/// The modules' bodies nested as `pub mod a { … pub mod b { … } }`, from their prefixes.
fn nest(bodies: &BTreeMap<String, String>) -> String {
    fn write(prefix: &str, bodies: &BTreeMap<String, String>, out: &mut String) {
        out.push_str(bodies.get(prefix).map(String::as_str).unwrap_or_default());
        for child in bodies.keys().filter(|k| {
            k.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.matches("::").count() == 1)
        }) {
            let name = child[prefix.len()..].trim_end_matches("::");
            let _ = writeln!(out, "pub mod {name} {{");
            write(child, bodies, out);
            out.push_str("}\n");
        }
    }
    let mut out = String::from(
        "//! The app's functions and statics, as a patch calls them (generated by hotwasm).\n#![allow(warnings)]\n",
    );
    write("", bodies, &mut out);
    out
}

fn declare_fn(
    prefix: &str,
    sig: &syn::Signature,
    attrs: &[syn::Attribute],
    scope: &Scope,
    symbols: &HostSymbols,
    body: &mut String,
    out: &mut HostCrate,
) {
    let path = format!("{prefix}{}", sig.ident);
    let no_mangle = attrs.iter().any(|a| a.path().is_ident("no_mangle"));
    let symbol = if no_mangle {
        let name = sig.ident.to_string();
        symbols.plain.contains(&name).then_some(name)
    } else {
        symbols.functions.get(&path).cloned()
    };
    let Some(symbol) = symbol else {
        let why = match symbols.cold.get(&path) {
            Some(why) => why.clone(),
            None if no_mangle => format!("`{path}` is a `#[no_mangle]` function that is not in [build] exports, so it is not hot: add it there and rebuild the host with `hotwasm build --hot`"),
            None => format!("the linked host has no `{path}`: nothing in the host calls it (the linker dropped it), or it is newer than the host (rebuild it with `hotwasm build --hot`)"),
        };
        out.left_out.insert(path, why);
        return;
    };
    match fn_declaration(sig, scope, &symbol) {
        Ok(decl) => {
            body.push_str(&decl);
            out.declared += 1;
            if prefix.is_empty() {
                out.roots.push(path);
            }
        }
        Err(why) => {
            let item = format!("the host's `{path}`");
            out.left_out.insert(path, why(&item));
        }
    }
}

/// Why a signature cannot be declared: given the item as written, the message.
type Refusal = Box<dyn Fn(&str) -> String>;

/// `unsafe extern "Rust" { #[link_name = "symbol"] pub safe fn name(a0: T, …) -> R; }` for the
/// app function `sig`, its types named as the patch names them; its ABI kept.
fn fn_declaration(sig: &syn::Signature, scope: &Scope, symbol: &str) -> Result<String, Refusal> {
    let has_types = sig
        .generics
        .params
        .iter()
        .any(|p| !matches!(p, syn::GenericParam::Lifetime(_)));
    if has_types || sig.asyncness.is_some() || sig.variadic.is_some() {
        return Err(Box::new(|item| {
            format!("{item} is generic, async or variadic: a patch can call only plain functions of the host")
        }));
    }
    let mut params = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        let syn::FnArg::Typed(t) = input else {
            return Err(Box::new(|item| format!("{item} is a method")));
        };
        params.push(format!("a{i}: {}", scope.name(&t.ty).map_err(unnameable)?));
    }
    let output = match &sig.output {
        syn::ReturnType::Default => String::new(),
        syn::ReturnType::Type(_, ty) => format!(" -> {}", scope.name(ty).map_err(unnameable)?),
    };
    let abi = match &sig.abi {
        Some(syn::Abi { name: Some(n), .. }) => n.value(),
        Some(_) => "C".to_string(),
        None => "Rust".to_string(),
    };
    let safety = if sig.unsafety.is_some() { "" } else { "safe " };
    let lifetimes = &sig.generics;
    let name = &sig.ident;
    Ok(format!(
        "unsafe extern \"{abi}\" {{ #[link_name = \"{symbol}\"] pub {safety}fn {name}{}({}){output}; }}\n",
        quote::quote!(#lifetimes),
        params.join(", ")
    ))
}

fn unnameable(ty: String) -> Refusal {
    Box::new(move |item| {
        format!("{item} uses `{ty}`, a type the patch cannot name (it is the app's own, a dependency's, or imported by a glob): a patch can call host functions whose parameters and result are primitives and standard library types; wrap the call in a host function of such types, rebuild the host, and call that")
    })
}

fn declare_static(
    prefix: &str,
    s: &syn::ItemStatic,
    scope: &Scope,
    symbols: &HostSymbols,
    body: &mut String,
    out: &mut HostCrate,
) {
    let path = format!("{prefix}{}", s.ident);
    let Some(symbol) = symbols.statics.get(&path) else {
        return;
    };
    let name = &s.ident;
    match scope.name(&s.ty) {
        Ok(ty) => {
            let decl = match s.mutability {
                syn::StaticMutability::Mut(_) => format!("pub static mut {name}: {ty};"),
                _ => format!("pub safe static {name}: {ty};"),
            };
            let _ = writeln!(
                body,
                "unsafe extern \"Rust\" {{ #[link_name = \"{symbol}\"] {decl} }}"
            );
            out.declared += 1;
            if prefix.is_empty() {
                out.roots.push(path);
            }
        }
        Err(ty) => {
            let why = unnameable(ty)(&format!("the host's static `{path}`"));
            out.statics_left_out.push(path.clone());
            out.left_out.insert(path, why);
        }
    }
}

impl HostCrate {
    /// Refuses a patch (`source`) that names a function or static of the host the crate leaves
    /// out, when the patch does not define that path itself: the message names it, why and what
    /// to do (rustc would only say it cannot find it).
    pub fn refuse_unreachable(&self, source: &str) -> Result<(), String> {
        if self.left_out.is_empty() {
            return Ok(());
        }
        let Ok(file) = syn::parse_file(source) else {
            return Ok(()); // rustc reports the syntax error with its position.
        };
        let mut defined = Vec::new();
        super::rust_paths::fn_paths(&file.items, "", &mut defined);
        let mut named = Named::default();
        syn::visit::Visit::visit_file(&mut named, &file);
        drop(file);
        proc_macro2::extra::invalidate_current_thread_spans();
        let statics = named
            .names
            .into_iter()
            .filter(|n| self.statics_left_out.contains(n));
        for path in named.paths.into_iter().chain(statics) {
            if defined.contains(&path) {
                continue;
            }
            if let Some(why) = self.left_out.get(&path) {
                return Err(format!(
                    "the patch names the host's `{path}`, which a patch cannot reach: {why}"
                ));
            }
        }
        Ok(())
    }
}

impl HostCrate {
    /// `source` with a glob import of the host's module of the same path inside each inline
    /// module the patch writes (`pub mod physics { … }`), which would otherwise hide the host's
    /// whole module: the patch's `physics::height` and, inside it, `height` still name the host's
    /// functions the patch does not redefine. Each import goes just before the module's closing
    /// brace, on its line, so the user's lines keep their numbers.
    pub fn open_modules(&self, source: &str) -> String {
        let Ok(file) = syn::parse_file(source) else {
            return source.to_string();
        };
        let mut at = Vec::new();
        self.module_ends(&file.items, "", &mut at);
        let starts: Vec<usize> = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut inserts: Vec<(usize, String)> = at
            .into_iter()
            .filter_map(|(pos, prefix)| {
                let line = starts.get(pos.line.checked_sub(1)?)?;
                let byte = source[*line..].char_indices().nth(pos.column)?.0 + line;
                let path = prefix.trim_end_matches("::");
                Some((
                    byte,
                    format!("#[allow(unused_imports)] pub use ::{CRATE}::{path}::*; "),
                ))
            })
            .collect();
        // The spans live in a per-thread source map; nothing of them is kept.
        proc_macro2::extra::invalidate_current_thread_spans();
        inserts.sort_by_key(|i| std::cmp::Reverse(i.0));
        let mut out = source.to_string();
        for (byte, text) in inserts {
            out.insert_str(byte, &text);
        }
        out
    }

    /// Where the inline modules of `items` below `prefix` close, for those the host has.
    fn module_ends(
        &self,
        items: &[syn::Item],
        prefix: &str,
        out: &mut Vec<(proc_macro2::LineColumn, String)>,
    ) {
        for item in items {
            let syn::Item::Mod(m) = item else { continue };
            let Some((brace, inner)) = &m.content else {
                continue;
            };
            let path = format!("{prefix}{}::", m.ident);
            if self.modules.contains(&path) {
                out.push((brace.span.close().start(), path.clone()));
            }
            self.module_ends(inner, &path, out);
        }
    }
}

/// The paths a patch names in expressions (`physics::collide`, `crate::step`: without a leading
/// `crate::` or `self::`), also inside macro calls whose arguments are expressions
/// (`println!("{}", f(x))`).
/// Inside a module of the patch, a path is also read from that module (`height` in the patch's
/// `mod physics` is `physics::height`).
#[derive(Default)]
struct Named {
    paths: Vec<String>,
    /// Single names (a static's, or a local variable's).
    names: Vec<String>,
    module: String,
}

impl Named {
    fn record(&mut self, path: &syn::Path) {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .skip_while(|s| s == "crate" || s == "self")
            .collect();
        let path = segments.join("::");
        if !self.module.is_empty() {
            self.paths.push(format!("{}{path}", self.module));
        }
        self.paths.push(path);
    }
}

impl<'ast> syn::visit::Visit<'ast> for Named {
    /// A path of several segments (`physics::height`, `crate::step`); a single name only when
    /// it is called (below), so a local variable of a left-out function's name is no call of it.
    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        if e.path.segments.len() > 1 {
            self.record(&e.path);
        } else if let Some(name) = e.path.get_ident() {
            self.names.push(name.to_string());
        }
        syn::visit::visit_expr_path(self, e);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            if p.path.segments.len() == 1 {
                self.record(&p.path);
            }
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let outer = self.module.clone();
        self.module = format!("{outer}{}::", m.ident);
        syn::visit::visit_item_mod(self, m);
        self.module = outer;
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        use syn::parse::Parser;
        let args = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(exprs) = args.parse2(m.tokens.clone()) {
            for e in &exprs {
                self.visit_expr(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(prefix: &str, text: &str) -> Module {
        Module {
            prefix: prefix.into(),
            items: syn::parse_file(text).unwrap().items,
            file: "src/lib.rs".into(),
        }
    }

    fn symbols() -> HostSymbols {
        let mut s = HostSymbols::default();
        for (path, sym) in [
            ("step", "_R1"),
            ("physics::advance", "_R2"),
            ("physics::collide", "_R3"),
            ("lens", "_R4"),
        ] {
            s.functions.insert(path.into(), sym.into());
        }
        s.statics.insert("FRAMES".into(), "_R5".into());
        s.cold.insert("pick".into(), "it is generic".into());
        s
    }

    #[test]
    fn functions_and_statics_are_declared_by_path_with_std_types_named_from_the_root() {
        let modules = [
            module("", "use std::sync::atomic::{AtomicI32, Ordering};\nstatic FRAMES: AtomicI32 = AtomicI32::new(0);\nfn step(n: i32) -> i32 { n }\nfn lens(v: &[String], m: &std::collections::HashMap<u8, Vec<f64>>) -> Option<usize> { None }\nfn pick<T>(a: T) -> T { a }\nmod physics;\n"),
            module("physics::", "pub struct Ball;\npub fn advance(s: i32) -> i32 { s }\npub fn collide(b: &Option<Ball>) -> i32 { 0 }\n"),
        ];
        let krate = generate(&modules, &symbols());
        assert_eq!(krate.declared, 4, "{}", krate.text);
        assert_eq!(krate.roots, ["FRAMES", "lens", "physics", "step"]);
        for want in [
            "#[link_name = \"_R5\"] pub safe static FRAMES: ::std::sync::atomic::AtomicI32;",
            "#[link_name = \"_R1\"] pub safe fn step(a0: i32) -> i32;",
            "pub safe fn lens(a0: &[String], a1: &::std::collections::HashMap<u8, Vec<f64>>) -> Option<usize>;",
            "pub mod physics {\nunsafe extern \"Rust\" { #[link_name = \"_R2\"] pub safe fn advance(a0: i32) -> i32; }\n}",
        ] {
            assert!(krate.text.contains(want), "missing {want} in\n{}", krate.text);
        }
        let why = &krate.left_out["physics::collide"];
        assert!(
            why.starts_with(
                "the host's `physics::collide` uses `Ball`, a type the patch cannot name"
            ),
            "{why}"
        );
        assert!(krate.left_out["pick"].contains("generic"));
    }

    #[test]
    fn a_patch_naming_a_left_out_function_is_refused_unless_it_defines_that_path() {
        let modules = [module(
            "physics::",
            "pub struct Ball;\npub fn collide(b: &Ball) -> i32 { 0 }\n",
        )];
        let krate = generate(&modules, &symbols());
        let e = krate
            .refuse_unreachable("fn f() { println!(\"{}\", physics::collide(&x)); }")
            .unwrap_err();
        assert!(
            e.contains("`physics::collide`") && e.contains("Ball"),
            "{e}"
        );
        krate
            .refuse_unreachable("pub mod physics { pub fn collide(b: &u8) -> i32 { 1 } }\nfn f() { physics::collide(&1); }")
            .expect("the patch's own physics::collide");
        krate
            .refuse_unreachable("fn f() { step(1); }")
            .expect("reachable");
        let inside = krate
            .refuse_unreachable("pub mod physics { pub fn advance(s: i32) -> i32 { collide(&s) } }")
            .unwrap_err();
        assert!(inside.contains("`physics::collide`"), "{inside}");
        let mut local = HostCrate::default();
        local.left_out.insert("count".into(), "not hot".into());
        local
            .refuse_unreachable("fn f() -> i32 { let count = 1; count }")
            .expect("a local variable of a left-out function's name");
        assert!(local.refuse_unreachable("fn f() { count(); }").is_err());
    }

    #[test]
    fn a_static_of_an_unnameable_type_and_a_function_the_host_lacks_are_refused_by_name() {
        let modules = [module(
            "",
            "struct World { x: i32 }\nstatic WORLD: World = World { x: 1 };\nfn gone() {}\n#[no_mangle] pub extern \"C\" fn unlisted() {}\n",
        )];
        let mut symbols = symbols();
        symbols.statics.insert("WORLD".into(), "_R6".into());
        let krate = generate(&modules, &symbols);
        let e = krate
            .refuse_unreachable("fn f() -> i32 { WORLD.x }")
            .unwrap_err();
        assert!(e.contains("the host's static `WORLD` uses `World`"), "{e}");
        let e = krate.refuse_unreachable("fn f() { gone() }").unwrap_err();
        assert!(e.contains("the linked host has no `gone`"), "{e}");
        let e = krate
            .refuse_unreachable("fn f() { unlisted() }")
            .unwrap_err();
        assert!(e.contains("not in [build] exports"), "{e}");
    }

    #[test]
    fn a_patchs_module_of_a_host_modules_path_still_sees_the_host_functions_it_does_not_define() {
        let modules = [
            module("", "mod physics;\nfn step(n: i32) -> i32 { n }\n"),
            module("physics::", "pub fn advance(s: i32) -> i32 { s }\n"),
        ];
        let krate = generate(&modules, &symbols());
        let source = "pub mod physics {\n    pub fn other() -> i32 { 1 }\n}\nmod mine { }\n";
        assert_eq!(
            krate.open_modules(source),
            "pub mod physics {\n    pub fn other() -> i32 { 1 }\n#[allow(unused_imports)] pub use ::hotwasm_host::physics::*; }\nmod mine { }\n"
        );
    }
}
