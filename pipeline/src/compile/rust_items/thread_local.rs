//! `thread_local!` in a Rust eval, kept for later evals like a `static`: one storage for the
//! whole session. The eval that writes the macro keeps it as written and exports, for each of
//! its statics `X`, a reference to the `LocalKey` (`hotwasm__tls_X`); later evals declare that
//! export and name `X` as a reference to it, so `X.with(…)`, `X.set(…)` and `X.get()` reach the
//! first eval's storage. The macro's body is read with syn's grammar (attributes, visibility,
//! `static NAME: Type = init;`), never by scanning its text.

use super::{idents_of, tokens, ItemInfo, Kind};
use std::collections::HashSet;
use std::ops::Range;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Expr, Ident, Token, Type, Visibility};

/// Whether `mac` is a `thread_local!` invocation (`thread_local!` or `std::thread_local!`).
pub fn is_thread_local(mac: &syn::Macro) -> bool {
    mac.path
        .segments
        .last()
        .is_some_and(|s| s.ident == "thread_local")
}

/// The statics one `thread_local!` body declares: `(name, type)` in order.
fn statics(body: proc_macro2::TokenStream) -> syn::Result<Vec<(Ident, Type)>> {
    let parse = |input: ParseStream| {
        let mut out = Vec::new();
        while !input.is_empty() {
            input.call(Attribute::parse_outer)?;
            input.parse::<Visibility>()?;
            input.parse::<Token![static]>()?;
            let name: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let ty: Type = input.parse()?;
            input.parse::<Token![=]>()?;
            input.parse::<Expr>()?; // an expression, or `const { … }`
            out.push((name, ty));
            if input.is_empty() {
                break;
            }
            input.parse::<Token![;]>()?;
        }
        Ok(out)
    };
    parse.parse2(body)
}

/// One item per static of the `thread_local!` invocation `mac` (the macro's bytes `range` in the
/// eval, at `line`): a static of the session whose storage is the first eval's. `None` when the
/// body is not the macro's grammar (rustc then says why, and nothing is carried).
pub fn items(mac: &syn::Macro, range: Range<usize>, line: usize) -> Option<Vec<ItemInfo>> {
    let statics = statics(mac.tokens.clone()).ok()?;
    Some(
        statics
            .into_iter()
            .map(|(name, ty)| {
                let ty = tokens(&ty);
                let key = format!("::std::thread::LocalKey<{ty}>");
                let symbol = format!("hotwasm__tls_{name}");
                let own = format!(
                    "#[no_mangle] #[allow(warnings)] pub static {symbol}: &'static {key} = &{name};"
                );
                let carried = format!(
                    "#[allow(warnings)] extern \"Rust\" {{ #[link_name = \"{symbol}\"] static hotwasm__late_{symbol}: &'static {key}; }}\n\
                     #[allow(warnings)] static {name}: &'static &'static {key} = unsafe {{ &hotwasm__late_{symbol} }};"
                );
                ItemInfo {
                    range: range.clone(),
                    line,
                    names: vec![name.to_string()],
                    anchors: Vec::new(),
                    kind: Kind::Static {
                        ty: format!("thread_local {ty}"),
                    },
                    insert: None,
                    append: None,
                    own: Some(own),
                    idents: idents_of(&carried),
                    carried: Some(carried),
                }
            })
            .collect(),
    )
}

/// Of `redeclared` (item indexes of statics an earlier eval defined with the same type), those
/// whose whole `thread_local!` is redeclared: a macro is left out (blanked) only when every
/// static in it is, since its statics share its text.
pub fn whole_macros(items: &[ItemInfo], redeclared: Vec<usize>) -> Vec<usize> {
    let kept: HashSet<usize> = redeclared.iter().copied().collect();
    redeclared
        .into_iter()
        .filter(|n| {
            items
                .iter()
                .enumerate()
                .filter(|(_, i)| i.range == items[*n].range)
                .all(|(m, _)| kept.contains(&m))
        })
        .collect()
}
