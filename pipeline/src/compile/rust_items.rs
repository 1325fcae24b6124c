//! Reads one Rust eval with syn's full grammar (never by scanning its text): its top-level
//! statements and items, and for each item what later evals of the session need — the names it
//! defines, the text a later eval compiles in its place, the signature of a function that
//! becomes a var, the field layout of a type, the type of a static.
//!
//! What a later eval compiles for each kind of item ([`super::rust_eval`] assembles it):
//! - a function without type or const parameters (and not `const`/`async`, no `impl Trait`)
//!   becomes a var: its eval exports it under its own name (`#[no_mangle]`, whatever its ABI),
//!   and later evals declare it in an `extern "Rust"` (or its own ABI's) block and call it
//!   through a safe wrapper of the same name, so every call is late-bound;
//! - a `static` keeps one storage: every eval defines it `#[no_mangle]`, and the first
//!   definition the dynamic linker saw is the one every later patch binds to;
//! - stateless items (struct, enum, union, trait, impl, type, const, use, mod, macro_rules, and
//!   functions that cannot be vars) are carried as their source text; an inherent `impl` is
//!   carried one associated item per block, so redefining one method replaces only that method;
//! - `thread_local!` keeps one storage like a `static` ([`thread_local`]); other item macros
//!   without a name are not carried.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use std::collections::HashSet;
use std::ops::Range;
use syn::{Item, Stmt};

mod thread_local;
pub use thread_local::whole_macros;

/// One eval, read.
#[derive(Debug, Default)]
pub struct Eval {
    /// Its items, in order.
    pub items: Vec<ItemInfo>,
    /// The byte ranges of its statements (and of its trailing expression), in order.
    pub statements: Vec<Range<usize>>,
    /// Every identifier its text names.
    pub idents: HashSet<String>,
}

/// An item of an eval.
#[derive(Debug, Clone)]
pub struct ItemInfo {
    /// Its bytes in the eval's text (attributes included).
    pub range: Range<usize>,
    /// Its 1-based line.
    pub line: usize,
    /// The names it defines (an impl block: `impl Type::method`, `impl Trait for Type`).
    pub names: Vec<String>,
    /// The names that make a later eval need it: its own names, or for an impl block the
    /// identifiers of its type and trait.
    pub anchors: Vec<String>,
    /// What it is, as far as later evals care.
    pub kind: Kind,
    /// Text the eval itself inserts before the item (`#[no_mangle]` of a var or a static).
    pub insert: Option<String>,
    /// Text the eval itself appends after the item (the end of a var's module).
    pub append: Option<String>,
    /// What the eval itself adds at the crate's top level for the item (a var's wrapper).
    pub own: Option<String>,
    /// What later evals compile in its place; `None`: it is not carried.
    pub carried: Option<String>,
    /// The identifiers `carried` names.
    pub idents: HashSet<String>,
}

/// The kinds of items later evals check a redefinition of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A function that is a var: its signature as compared (types, ABI, unsafety) and as shown.
    Var {
        /// Normalized tokens of the ABI, unsafety, parameter types and return type.
        signature: String,
        /// The signature as the user wrote it.
        shown: String,
    },
    /// A static: its mutability and type, normalized.
    Static {
        /// `mut T` or `T`.
        ty: String,
    },
    /// A struct, enum or union: what decides its layout (fields, variants, generics, `repr`).
    Type {
        /// Normalized tokens of those.
        layout: String,
    },
    /// Anything else.
    Other,
}

/// A syn parse error at its line and column (1-based) of the eval's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The line.
    pub line: u32,
    /// The column.
    pub column: u32,
    /// syn's message.
    pub message: String,
}

/// Reads `text` as the inside of a block: statements, items and a trailing expression.
pub fn read(text: &str) -> Result<Eval, ParseError> {
    let result = read_spanned(text);
    // The spans above live in a per-thread source map; nothing of them is kept.
    proc_macro2::extra::invalidate_current_thread_spans();
    result
}

fn read_spanned(text: &str) -> Result<Eval, ParseError> {
    if let Err(e) = text.parse::<TokenStream>() {
        let at = e.span().start();
        return Err(ParseError {
            line: at.line as u32,
            column: at.column as u32 + 1,
            message: "the text does not split into Rust tokens here: a bracket `(`, `[` or `{` is not closed (or one is closed that was not opened), or a string, character or comment is not terminated; complete it".into(),
        });
    }
    let stmts = syn::parse::Parser::parse_str(syn::Block::parse_within, text).map_err(|e| {
        let at = e.span().start();
        ParseError {
            line: at.line as u32,
            column: at.column as u32 + 1,
            message: e.to_string(),
        }
    })?;
    let mut eval = Eval::default();
    for stmt in &stmts {
        let tokens = stmt.to_token_stream();
        collect_idents(tokens.clone(), &mut eval.idents);
        let Some(range) = byte_range(&tokens) else {
            continue;
        };
        match stmt {
            Stmt::Item(item) => eval.items.extend(read_item(item, text, range)),
            Stmt::Macro(m) if thread_local::is_thread_local(&m.mac) => {
                let line = line_of(&tokens);
                match thread_local::items(&m.mac, range.clone(), line) {
                    Some(items) => eval.items.extend(items),
                    None => eval.items.push(uncarried(range, line)),
                }
            }
            Stmt::Macro(m) if is_item_macro(m) => {
                eval.items.push(uncarried(range, line_of(&tokens)))
            }
            _ => eval.statements.push(range),
        }
    }
    for item in eval.items.iter_mut().filter(|i| i.anchors.is_empty()) {
        item.anchors = item.names.clone();
    }
    Ok(eval)
}

/// An item that stays in its own eval and is not carried to later ones.
fn uncarried(range: Range<usize>, line: usize) -> ItemInfo {
    ItemInfo {
        line,
        range,
        names: Vec::new(),
        kind: Kind::Other,
        anchors: Vec::new(),
        insert: None,
        append: None,
        own: None,
        carried: None,
        idents: HashSet::new(),
    }
}

/// A brace-delimited macro at statement level without `;` (`thread_local! { … }`) declares
/// items, so it stays at the crate's top level.
fn is_item_macro(m: &syn::StmtMacro) -> bool {
    m.semi_token.is_none() && matches!(m.mac.delimiter, syn::MacroDelimiter::Brace(_))
}

/// The items later evals see for `item` (an inherent impl gives one per associated item).
fn read_item(item: &Item, text: &str, range: Range<usize>) -> Vec<ItemInfo> {
    let slice = text[range.clone()].to_string();
    let line = line_of(&item.to_token_stream());
    let one = |names: Vec<String>, kind: Kind, insert: Option<String>, carried: Option<String>| {
        let idents = carried.as_deref().map(idents_of).unwrap_or_default();
        ItemInfo {
            range: range.clone(),
            line,
            names,
            kind,
            anchors: Vec::new(),
            insert,
            append: None,
            own: None,
            carried,
            idents,
        }
    };
    let named = |ident: &syn::Ident| vec![ident.to_string()];
    match item {
        Item::Fn(f) => vec![read_fn(f, text, range.clone(), line)],
        Item::Static(s) => {
            let exported = has_attr(&s.attrs, &["no_mangle", "export_name"]);
            let insert = (!exported).then(|| "#[no_mangle] ".to_string());
            let symbol = export_name(&s.attrs).unwrap_or_else(|| s.ident.to_string());
            let carried = static_declaration(s, &symbol);
            let ty = format!("{} {}", mutability(&s.mutability), tokens(&s.ty));
            vec![one(
                named(&s.ident),
                Kind::Static { ty },
                insert,
                Some(carried),
            )]
        }
        Item::Struct(syn::ItemStruct { ident, .. })
        | Item::Enum(syn::ItemEnum { ident, .. })
        | Item::Union(syn::ItemUnion { ident, .. }) => {
            let layout = type_layout(item);
            vec![one(named(ident), Kind::Type { layout }, None, Some(slice))]
        }
        Item::Impl(i) => read_impl(i, text, range.clone(), line),
        Item::Trait(t) => vec![one(named(&t.ident), Kind::Other, None, Some(slice))],
        Item::TraitAlias(t) => vec![one(named(&t.ident), Kind::Other, None, Some(slice))],
        Item::Type(t) => vec![one(named(&t.ident), Kind::Other, None, Some(slice))],
        Item::Const(c) => vec![one(named(&c.ident), Kind::Other, None, Some(slice))],
        Item::Mod(m) => vec![one(named(&m.ident), Kind::Other, None, Some(slice))],
        Item::ExternCrate(c) => {
            let name = c.rename.as_ref().map_or(&c.ident, |(_, r)| r);
            vec![one(named(name), Kind::Other, None, Some(slice))]
        }
        Item::Use(u) => {
            let mut names = Vec::new();
            use_names(&u.tree, &mut names);
            vec![one(names, Kind::Other, None, Some(slice))]
        }
        Item::ForeignMod(m) => {
            let names = m
                .items
                .iter()
                .filter_map(|i| match i {
                    syn::ForeignItem::Fn(f) => Some(f.sig.ident.to_string()),
                    syn::ForeignItem::Static(s) => Some(s.ident.to_string()),
                    _ => None,
                })
                .collect();
            vec![one(names, Kind::Other, None, Some(slice))]
        }
        Item::Macro(m) => match &m.ident {
            Some(ident) => vec![one(
                named(ident),
                Kind::Other,
                None,
                Some(carried_macro(m, ident, slice)),
            )],
            None if thread_local::is_thread_local(&m.mac) => {
                thread_local::items(&m.mac, range.clone(), line)
                    .unwrap_or_else(|| vec![one(Vec::new(), Kind::Other, None, None)])
            }
            None => vec![one(Vec::new(), Kind::Other, None, None)],
        },
        _ => vec![one(Vec::new(), Kind::Other, None, None)],
    }
}

/// What a later eval compiles for `macro_rules! name`: the definition, and a `use` of it that
/// makes it a path-scoped item, so the later eval's own text (which comes first in its crate)
/// can invoke it; a `#[macro_export]` one is path-scoped at the crate's root already.
fn carried_macro(m: &syn::ItemMacro, ident: &syn::Ident, slice: String) -> String {
    if has_attr(&m.attrs, &["macro_export"]) {
        slice
    } else {
        format!("{slice}\n#[allow(unused_imports)] pub(crate) use {ident};")
    }
}

/// What decides the layout of a struct, enum or union: its tokens without visibility and
/// without attributes other than `repr` (derives and docs do not change a layout).
fn type_layout(item: &Item) -> String {
    let mut item = item.clone();
    match &mut item {
        Item::Struct(s) => {
            s.attrs.retain(|a| a.path().is_ident("repr"));
            s.vis = syn::Visibility::Inherited;
            s.fields.iter_mut().for_each(|f| {
                f.attrs.clear();
                f.vis = syn::Visibility::Inherited;
            });
        }
        Item::Enum(e) => {
            e.attrs.retain(|a| a.path().is_ident("repr"));
            e.vis = syn::Visibility::Inherited;
            e.variants.iter_mut().for_each(|v| {
                v.attrs.clear();
                v.fields.iter_mut().for_each(|f| f.attrs.clear());
            });
        }
        Item::Union(u) => {
            u.attrs.retain(|a| a.path().is_ident("repr"));
            u.vis = syn::Visibility::Inherited;
            u.fields.named.iter_mut().for_each(|f| {
                f.attrs.clear();
                f.vis = syn::Visibility::Inherited;
            });
        }
        _ => {}
    }
    tokens(&item)
}

/// A function: a var when it can be one (see the module doc), else carried as its text.
fn read_fn(f: &syn::ItemFn, text: &str, range: Range<usize>, line: usize) -> ItemInfo {
    let slice = text[range.clone()].to_string();
    let name = f.sig.ident.to_string();
    let symbol = export_name(&f.attrs).unwrap_or_else(|| name.clone());
    let mut info = ItemInfo {
        range,
        line,
        names: vec![name.clone()],
        kind: Kind::Other,
        anchors: Vec::new(),
        insert: None,
        append: None,
        own: None,
        carried: None,
        idents: HashSet::new(),
    };
    if name == super::latebind::RUN_ONCE || name == "main" {
        return info;
    }
    if !can_be_var(&f.sig) {
        info.idents = idents_of(&slice);
        info.carried = Some(slice);
        return info;
    }
    // The definition goes into a module of its own, so the function's name at the crate's top
    // level is the wrapper calling `__wrap_<symbol>`, the var's trampoline: calls from the eval's
    // own code are late-bound too (rustc cannot inline or fold them), as later evals' are.
    let export = if has_attr(&f.attrs, &["no_mangle", "export_name"]) {
        ""
    } else {
        "#[no_mangle] "
    };
    info.insert = Some(format!(
        "#[allow(non_snake_case)] mod hotwasm__own_{} {{ #[allow(unused_imports)] use super::*; {export}",
        name.trim_start_matches("r#")
    ));
    info.append = Some(" }".to_string());
    info.own = Some(declaration(&f.sig, &format!("__wrap_{symbol}")));
    let shown = byte_range(&f.sig.to_token_stream())
        .map(|r| text[r].to_string())
        .unwrap_or_else(|| tokens(&f.sig));
    info.kind = Kind::Var {
        signature: signature_key(&f.sig),
        shown,
    };
    let carried = declaration(&f.sig, &symbol);
    info.idents = idents_of(&carried);
    info.carried = Some(carried);
    info
}

/// Whether a function can be exported under its own name and declared in an extern block.
fn can_be_var(sig: &syn::Signature) -> bool {
    let only_lifetimes = sig
        .generics
        .params
        .iter()
        .all(|p| matches!(p, syn::GenericParam::Lifetime(_)));
    let mut idents = HashSet::new();
    collect_idents(sig.to_token_stream(), &mut idents);
    only_lifetimes
        && sig.constness.is_none()
        && sig.asyncness.is_none()
        && sig.variadic.is_none()
        && !idents.contains("impl")
}

/// What a later eval compiles for the var `sig` exported as `symbol`: an extern declaration of
/// the symbol and a safe wrapper of the function's own name calling it.
fn declaration(sig: &syn::Signature, symbol: &str) -> String {
    let abi = match &sig.abi {
        Some(syn::Abi { name: Some(n), .. }) => n.value(),
        Some(_) => "C".to_string(),
        None => "Rust".to_string(),
    };
    let name = &sig.ident;
    let generics = tokens(&sig.generics);
    let wherec = sig
        .generics
        .where_clause
        .as_ref()
        .map(tokens)
        .unwrap_or_default();
    let output = tokens(&sig.output);
    let types: Vec<String> = sig
        .inputs
        .iter()
        .map(|a| match a {
            syn::FnArg::Typed(t) => tokens(&t.ty),
            syn::FnArg::Receiver(r) => tokens(&r.ty),
        })
        .collect();
    let params: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| format!("hotwasm__a{i}: {t}"))
        .collect();
    let args: Vec<String> = (0..types.len()).map(|i| format!("hotwasm__a{i}")).collect();
    let unsafety = if sig.unsafety.is_some() {
        "unsafe "
    } else {
        ""
    };
    let params = params.join(", ");
    format!(
        "#[allow(warnings)] extern \"{abi}\" {{ #[link_name = \"{symbol}\"] fn hotwasm__late_{name}{generics}({params}) {output} {wherec}; }}\n\
         #[allow(warnings)] #[inline(always)] {unsafety}fn {name}{generics}({params}) {output} {wherec} {{ unsafe {{ hotwasm__late_{name}({}) }} }}",
        args.join(", ")
    )
}

/// What a later eval compiles for the static `s` exported as `symbol`: a declaration of the
/// storage the first eval defined, so the later patch defines none (and may copy std code). A
/// `static mut` is declared as it is (its uses are `unsafe` already); a `static` becomes a
/// `&'static` to the declared storage, so using it needs no `unsafe` either.
fn static_declaration(s: &syn::ItemStatic, symbol: &str) -> String {
    let (name, ty) = (&s.ident, tokens(&s.ty));
    match s.mutability {
        syn::StaticMutability::Mut(_) => {
            format!("extern \"Rust\" {{ #[link_name = \"{symbol}\"] static mut {name}: {ty}; }}")
        }
        _ => format!(
            "extern \"Rust\" {{ #[link_name = \"{symbol}\"] static hotwasm__late_{name}: {ty}; }}\n\
             #[allow(warnings)] static {name}: &'static {ty} = unsafe {{ &hotwasm__late_{name} }};"
        ),
    }
}

/// The parts of a function's signature a caller compiled against depends on.
fn signature_key(sig: &syn::Signature) -> String {
    let types: Vec<String> = sig
        .inputs
        .iter()
        .map(|a| match a {
            syn::FnArg::Typed(t) => tokens(&t.ty),
            syn::FnArg::Receiver(r) => tokens(&r.ty),
        })
        .collect();
    format!(
        "{} {} fn {}({}) {}",
        sig.abi.as_ref().map(tokens).unwrap_or_default(),
        if sig.unsafety.is_some() { "unsafe" } else { "" },
        tokens(&sig.generics),
        types.join(", "),
        tokens(&sig.output)
    )
}

/// An impl block: a trait impl as one item, an inherent impl one associated item per block.
fn read_impl(i: &syn::ItemImpl, text: &str, range: Range<usize>, line: usize) -> Vec<ItemInfo> {
    let self_ty = tokens(&i.self_ty);
    let mut header_idents = HashSet::new();
    collect_idents(i.self_ty.to_token_stream(), &mut header_idents);
    if let Some((_, path, _)) = &i.trait_ {
        collect_idents(path.to_token_stream(), &mut header_idents);
    }
    let anchors: Vec<String> = header_idents.into_iter().collect();
    let item = |names: Vec<String>, carried: String| ItemInfo {
        range: range.clone(),
        line,
        names,
        kind: Kind::Other,
        anchors: anchors.clone(),
        insert: None,
        append: None,
        own: None,
        idents: idents_of(&carried),
        carried: Some(carried),
    };
    if let Some((_, path, _)) = &i.trait_ {
        let name = format!("impl {} for {self_ty}", tokens(path));
        return vec![item(vec![name], text[range.clone()].to_string())];
    }
    let open = i.brace_token.span.open().byte_range().start;
    let header = &text[range.start..open];
    i.items
        .iter()
        .filter_map(|member| {
            let r = byte_range(&member.to_token_stream())?;
            let name = match member {
                syn::ImplItem::Fn(f) => f.sig.ident.to_string(),
                syn::ImplItem::Const(c) => c.ident.to_string(),
                syn::ImplItem::Type(t) => t.ident.to_string(),
                _ => tokens(member),
            };
            let carried = format!("{header}{{ {} }}", &text[r]);
            Some(item(vec![format!("impl {self_ty}::{name}")], carried))
        })
        .collect()
}

/// The names a `use` tree brings into scope (a glob brings none by name).
fn use_names(tree: &syn::UseTree, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(p) => use_names(&p.tree, out),
        syn::UseTree::Name(n) if n.ident != "self" => out.push(n.ident.to_string()),
        syn::UseTree::Name(_) => {}
        syn::UseTree::Rename(r) => out.push(r.rename.to_string()),
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_names(t, out)),
    }
}

fn has_attr(attrs: &[syn::Attribute], names: &[&str]) -> bool {
    attrs
        .iter()
        .any(|a| names.iter().any(|n| a.path().is_ident(n)))
}

/// The symbol of `#[export_name = "…"]`, if the attributes set one.
fn export_name(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("export_name") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

fn mutability(m: &syn::StaticMutability) -> &'static str {
    match m {
        syn::StaticMutability::Mut(_) => "mut",
        _ => "",
    }
}

/// A syntax node's tokens as one normalized string.
fn tokens(node: &impl ToTokens) -> String {
    node.to_token_stream().to_string()
}

/// The bytes from the first to the last token of `tokens` that carry a source position.
fn byte_range(tokens: &TokenStream) -> Option<Range<usize>> {
    let spans: Vec<Span> = tokens
        .clone()
        .into_iter()
        .map(|t| t.span())
        .filter(|s| s.start().line > 0)
        .collect();
    let first = spans.first()?.byte_range();
    let last = spans.last()?.byte_range();
    Some(first.start..last.end.max(first.end))
}

fn line_of(tokens: &TokenStream) -> usize {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or(1, |t| t.span().start().line)
}

/// Every identifier in `tokens`, groups included.
fn collect_idents(tokens: TokenStream, out: &mut HashSet<String>) {
    for t in tokens {
        match t {
            TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            TokenTree::Group(g) => collect_idents(g.stream(), out),
            _ => {}
        }
    }
}

/// The identifiers of generated or carried Rust text (lexed by proc-macro2, not scanned).
pub fn idents_of(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    if let Ok(ts) = text.parse::<TokenStream>() {
        collect_idents(ts, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_items_and_the_trailing_expression_are_told_apart_by_syn() {
        let text = "struct Pt { x: f64 }\nlet p = Pt { x: 1.0 };\nfn f(p: &Pt) -> f64 { p.x }\nstatic mut N: i32 = 0;\nf(&p)";
        let e = read(text).unwrap();
        let stmts: Vec<&str> = e.statements.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(stmts, ["let p = Pt { x: 1.0 };", "f(&p)"]);
        let items: Vec<&str> = e.items.iter().map(|i| &text[i.range.clone()]).collect();
        assert_eq!(
            items,
            [
                "struct Pt { x: f64 }",
                "fn f(p: &Pt) -> f64 { p.x }",
                "static mut N: i32 = 0;"
            ]
        );
        assert!(matches!(e.items[1].kind, Kind::Var { .. }));
        let insert = e.items[1].insert.as_deref().unwrap();
        assert!(insert.contains("mod hotwasm__own_f {") && insert.ends_with("#[no_mangle] "));
        assert!(e.items[1].own.as_deref().unwrap().contains("\"__wrap_f\""));
        assert_eq!(e.items[2].insert.as_deref(), Some("#[no_mangle] "));
    }

    #[test]
    fn a_var_is_carried_as_an_extern_declaration_and_a_wrapper() {
        let e = read("pub fn name(p: (i32, i32)) -> String { format!(\"{p:?}\") }").unwrap();
        let carried = e.items[0].carried.as_deref().unwrap();
        assert!(carried.contains("extern \"Rust\""), "{carried}");
        assert!(carried.contains("#[link_name = \"name\"]"), "{carried}");
        assert!(carried.contains("fn name"), "{carried}");
        assert!(idents_of(carried).contains("hotwasm__late_name"));
    }

    #[test]
    fn generic_and_const_functions_are_carried_as_text_not_vars() {
        let e = read("fn g<T: Copy>(t: T) -> T { t }\nconst fn c() -> i32 { 1 }").unwrap();
        assert!(e
            .items
            .iter()
            .all(|i| i.kind == Kind::Other && i.insert.is_none()));
        assert!(e.items[0].carried.as_deref().unwrap().starts_with("fn g<T"));
    }

    #[test]
    fn an_inherent_impl_is_carried_one_method_per_block() {
        let text = "impl Pt {\n    fn a(&self) -> i32 { 1 }\n    fn b(&self) -> i32 { 2 }\n}";
        let e = read(text).unwrap();
        let names: Vec<&str> = e.items.iter().map(|i| i.names[0].as_str()).collect();
        assert_eq!(names, ["impl Pt::a", "impl Pt::b"]);
        assert_eq!(
            e.items[1].carried.as_deref(),
            Some("impl Pt { fn b(&self) -> i32 { 2 } }")
        );
    }

    #[test]
    fn field_order_decides_a_layout_and_derives_do_not() {
        let layout = |t: &str| read(t).unwrap().items[0].kind.clone();
        let a = layout("#[derive(Debug)] pub struct P { pub x: i32, y: u8 }");
        assert_eq!(a, layout("struct P { x: i32, y: u8 }"));
        assert_ne!(a, layout("struct P { y: u8, x: i32 }"));
    }

    #[test]
    fn a_syntax_error_is_reported_at_its_line() {
        let e = read("let x = 1;\nlet y = ;\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn unbalanced_brackets_or_an_open_string_say_so_not_that_tokens_failed() {
        for text in ["fn broken( -> i32 { 1 }", "let s = \"open;", "vec![1, 2"] {
            let e = read(text).unwrap_err();
            assert!(e.message.contains("is not closed"), "{text}: {e:?}");
            assert_eq!(e.line, 1, "{text}");
        }
    }
}
