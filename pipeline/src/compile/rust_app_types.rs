//! How a patch names the types of an app function's signature ([`super::rust_host_crate`]):
//! each path spelled from the crate root (`::std::sync::atomic::AtomicI32` for the `AtomicI32`
//! that the app's module imports with `use std::sync::atomic::AtomicI32;`), primitives and the
//! prelude's `String`, `Vec`, `Option`, `Result` and `Box` as written; anything else (a type of
//! the app's own crate, of a dependency, or imported by a glob) cannot be named, and the part
//! that cannot is given back for the message. Read from syn's tree, never from the text.

use super::rust_app_src::Module;
use std::collections::HashMap;

/// The names a module of the app gives types: its own items and its `use` imports.
pub struct Scope {
    /// Names the module's items define (a type of the app's).
    local: Vec<String>,
    /// Imported name → the full path it names (`AtomicI32` → `std::sync::atomic::AtomicI32`).
    imports: HashMap<String, Vec<String>>,
}

const PRIMITIVES: [&str; 17] = [
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32",
    "f64", "bool", "char", "str",
];
const PRELUDE: [&str; 5] = ["String", "Vec", "Option", "Result", "Box"];
const STD_CRATES: [&str; 3] = ["std", "core", "alloc"];

impl Scope {
    /// The names module `m` gives types.
    pub fn of(m: &Module) -> Scope {
        let mut scope = Scope {
            local: Vec::new(),
            imports: HashMap::new(),
        };
        for item in &m.items {
            let ident = match item {
                syn::Item::Struct(s) => Some(&s.ident),
                syn::Item::Enum(e) => Some(&e.ident),
                syn::Item::Union(u) => Some(&u.ident),
                syn::Item::Type(t) => Some(&t.ident),
                syn::Item::Trait(t) => Some(&t.ident),
                syn::Item::Mod(m) => Some(&m.ident),
                syn::Item::Use(u) => {
                    use_tree(&u.tree, Vec::new(), &mut scope.imports);
                    None
                }
                _ => None,
            };
            scope.local.extend(ident.map(|i| i.to_string()));
        }
        scope
    }

    /// `ty` as the patch names it (every path from `::std`, `::core` or `::alloc`), or the text
    /// of the part it cannot name.
    pub fn name(&self, ty: &syn::Type) -> Result<String, String> {
        let text = |t: &dyn quote::ToTokens| spelled(&quote::quote!(#t).to_string());
        match ty {
            syn::Type::Path(p) if p.qself.is_none() => self.name_path(&p.path),
            syn::Type::Reference(r) => {
                let lifetime = r
                    .lifetime
                    .as_ref()
                    .map(|l| format!("{l} "))
                    .unwrap_or_default();
                let m = if r.mutability.is_some() { "mut " } else { "" };
                Ok(format!("&{lifetime}{m}{}", self.name(&r.elem)?))
            }
            syn::Type::Ptr(p) => {
                let m = if p.mutability.is_some() {
                    "mut"
                } else {
                    "const"
                };
                Ok(format!("*{m} {}", self.name(&p.elem)?))
            }
            syn::Type::Slice(s) => Ok(format!("[{}]", self.name(&s.elem)?)),
            syn::Type::Array(a) => match &a.len {
                syn::Expr::Lit(_) => Ok(format!("[{}; {}]", self.name(&a.elem)?, text(&a.len))),
                _ => Err(text(ty)),
            },
            syn::Type::Tuple(t) => {
                let elems: Result<Vec<String>, String> =
                    t.elems.iter().map(|e| self.name(e)).collect();
                let elems = elems?;
                Ok(match elems.len() {
                    1 => format!("({},)", elems[0]),
                    _ => format!("({})", elems.join(", ")),
                })
            }
            syn::Type::Paren(p) => self.name(&p.elem),
            syn::Type::Group(g) => self.name(&g.elem),
            syn::Type::Never(_) => Ok("!".into()),
            _ => Err(text(ty)),
        }
    }

    fn name_path(&self, path: &syn::Path) -> Result<String, String> {
        let written = spelled(&quote::quote!(#path).to_string());
        let inner_or_written = |e: String| if e.is_empty() { written.clone() } else { e };
        let first = path
            .segments
            .first()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let single = path.segments.len() == 1 && path.leading_colon.is_none();
        let mut full: Vec<String> =
            if path.leading_colon.is_some() && STD_CRATES.contains(&first.as_str()) {
                Vec::new()
            } else if let Some(imported) = self
                .imports
                .get(&first)
                .filter(|_| path.leading_colon.is_none())
            {
                imported[..imported.len() - 1].to_vec()
            } else if STD_CRATES.contains(&first.as_str()) && !self.local.contains(&first) {
                Vec::new()
            } else if single
                && (PRIMITIVES.contains(&first.as_str()) || PRELUDE.contains(&first.as_str()))
                && !self.local.contains(&first)
            {
                return self
                    .with_args(&path.segments[0], first)
                    .map_err(inner_or_written);
            } else {
                return Err(written);
            };
        let mut segments = Vec::new();
        for (i, seg) in path.segments.iter().enumerate() {
            let ident = if i == 0 {
                self.imports
                    .get(&first)
                    .filter(|_| path.leading_colon.is_none())
                    .and_then(|p| p.last().cloned())
                    .unwrap_or(first.clone())
            } else {
                seg.ident.to_string()
            };
            segments.push(self.with_args(seg, ident).map_err(inner_or_written)?);
        }
        full.extend(segments);
        if !full
            .first()
            .is_some_and(|c| STD_CRATES.contains(&c.as_str()))
        {
            return Err(written);
        }
        Ok(format!("::{}", full.join("::")))
    }

    /// A path segment `ident` with its generic arguments named.
    fn with_args(&self, seg: &syn::PathSegment, ident: String) -> Result<String, String> {
        match &seg.arguments {
            syn::PathArguments::None => Ok(ident),
            syn::PathArguments::AngleBracketed(a) => {
                let mut args = Vec::new();
                for arg in &a.args {
                    match arg {
                        syn::GenericArgument::Type(t) => args.push(self.name(t)?),
                        syn::GenericArgument::Lifetime(l) => args.push(l.to_string()),
                        _ => return Err(String::new()),
                    }
                }
                Ok(format!("{ident}<{}>", args.join(", ")))
            }
            syn::PathArguments::Parenthesized(_) => Err(String::new()),
        }
    }
}

/// A type's tokens as a user writes them (`Option<Ball>`, not `Option < Ball >`), for messages.
fn spelled(tokens: &str) -> String {
    [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        ("& ", "&"),
        (" ,", ","),
    ]
    .iter()
    .fold(tokens.to_string(), |t, (from, to)| t.replace(from, to))
}

/// The names `tree` imports, each with the full path it names (a glob imports no name we know).
fn use_tree(tree: &syn::UseTree, mut at: Vec<String>, out: &mut HashMap<String, Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            at.push(p.ident.to_string());
            use_tree(&p.tree, at, out);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name != "self" {
                at.push(name.clone());
                out.insert(name, at);
            } else if let Some(last) = at.last().cloned() {
                out.insert(last, at);
            }
        }
        syn::UseTree::Rename(r) => {
            at.push(r.ident.to_string());
            out.insert(r.rename.to_string(), at);
        }
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_tree(t, at.clone(), out);
            }
        }
        syn::UseTree::Glob(_) => {}
    }
}
