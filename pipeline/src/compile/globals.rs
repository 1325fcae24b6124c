//! Persistent globals: the declared type and initializer text of the external globals a C
//! source defines or declares at file scope, read from the user's own text (not headers).
//!
//! The object file says which globals a patch defines and their sizes; this scanner adds what
//! the user wrote, so that re-evaluating `int speed = 5;` keeps the running value, editing it to
//! `= 10` takes effect, and `long speed;` is refused naming both types. It is a tokenizer and a
//! brace counter, not a C parser: it only looks at file-scope declarations whose declarator
//! names one of the given symbols.

/// One file-scope declaration of a global.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The symbol name.
    pub name: String,
    /// The declared type as tokens joined by single spaces, e.g. `unsigned int [ 4 ]`.
    pub ty: String,
    /// The initializer tokens joined by single spaces (`""` when there is none).
    pub init: String,
    /// Declared `extern` (a use, not a definition).
    pub is_extern: bool,
}

/// The file-scope declarations in `source` of any of `names`.
pub fn scan(source: &str, names: &[&str]) -> Vec<Declared> {
    let tokens = tokenize(source);
    let mut out = Vec::new();
    for stmt in statements(&tokens) {
        declarations(stmt, names, &mut out);
    }
    out
}

/// Splits the file-scope token stream into declaration statements, skipping function bodies.
fn statements(tokens: &[String]) -> Vec<&[String]> {
    let mut out = Vec::new();
    let (mut start, mut depth, mut i) = (0, 0usize, 0);
    while i < tokens.len() {
        let t = tokens[i].as_str();
        match t {
            "{" | "(" | "[" if depth > 0 => depth += 1,
            "}" | ")" | "]" if depth > 0 => depth -= 1,
            "(" | "[" => depth += 1,
            "{" => {
                let stmt = &tokens[start..i];
                let aggregate = has_top_level(stmt, "=")
                    || stmt
                        .iter()
                        .any(|t| matches!(t.as_str(), "struct" | "union" | "enum"))
                        && stmt.last().map(String::as_str) != Some(")");
                if aggregate {
                    depth += 1;
                } else {
                    // A function body: skip to its closing brace; no `;` follows it.
                    i = matching_close(tokens, i);
                    start = i + 1;
                }
            }
            ";" if depth == 0 => {
                out.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn matching_close(tokens: &[String], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

fn has_top_level(stmt: &[String], what: &str) -> bool {
    split_top_level(stmt, what).len() > 1
}

/// Splits at `sep` outside any brackets.
fn split_top_level<'a>(stmt: &'a [String], sep: &str) -> Vec<&'a [String]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in stmt.iter().enumerate() {
        match t.as_str() {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            s if s == sep && depth == 0 => {
                parts.push(&stmt[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&stmt[start..]);
    parts
}

fn declarations(stmt: &[String], names: &[&str], out: &mut Vec<Declared>) {
    let is = |w: &str| stmt.iter().any(|t| t == w);
    if stmt.is_empty() || is("typedef") || is("static") {
        return;
    }
    let is_extern = is("extern");
    let mut specifiers: Option<Vec<&str>> = None;
    for declarator in split_top_level(stmt, ",") {
        let mut sides = split_top_level(declarator, "=").into_iter();
        let left = sides.next().unwrap_or_default();
        let init = sides
            .next()
            .map(|_| {
                let at = declarator.iter().position(|t| t == "=").unwrap_or(0);
                join(&declarator[at + 1..])
            })
            .unwrap_or_default();
        let Some(at) = left.iter().position(|t| names.contains(&t.as_str())) else {
            continue;
        };
        let own_start = if specifiers.is_none() {
            // The declarator starts at the name or at the pointer/paren tokens just before it.
            let mut s = at;
            while s > 0 && matches!(left[s - 1].as_str(), "*" | "(") {
                s -= 1;
            }
            specifiers = Some(
                left[..s]
                    .iter()
                    .map(String::as_str)
                    .filter(|t| *t != "extern")
                    .collect(),
            );
            s
        } else {
            0
        };
        let mut ty: Vec<&str> = specifiers.clone().unwrap_or_default();
        ty.extend(
            left[own_start..]
                .iter()
                .enumerate()
                .filter(|(i, _)| own_start + i != at)
                .map(|(_, t)| t.as_str()),
        );
        out.push(Declared {
            name: left[at].clone(),
            ty: ty.join(" "),
            init,
            is_extern,
        });
    }
}

fn join(tokens: &[String]) -> String {
    tokens.join(" ")
}

/// C tokens without comments and preprocessor lines; string and character literals are one
/// token each; every other punctuation character is its own token.
fn tokenize(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if line_start && c == '#' {
            // A preprocessor line, with its `\` continuations.
            while i < chars.len() && chars[i] != '\n' {
                if chars[i] == '\\' && chars.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
                i += 1;
            }
            continue;
        }
        line_start = false;
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '"' || c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c && chars[i] != '\n' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(chars[start..i.min(chars.len())].iter().collect());
        } else if c.is_alphanumeric() || c == '_' || c == '.' && is_digit(chars.get(i + 1)) {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

fn is_digit(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str, name: &str) -> Declared {
        let found = scan(src, &[name]);
        assert_eq!(found.len(), 1, "{found:?}");
        found.into_iter().next().unwrap()
    }

    #[test]
    fn reads_type_and_initializer_of_simple_globals() {
        let d = one("#include <x.h>\nint counter = 5;\n", "counter");
        assert_eq!(
            (d.ty.as_str(), d.init.as_str(), d.is_extern),
            ("int", "5", false)
        );
        let d = one("unsigned long long big;", "big");
        assert_eq!((d.ty.as_str(), d.init.as_str()), ("unsigned long long", ""));
        let d = one("extern int counter;", "counter");
        assert_eq!((d.ty.as_str(), d.is_extern), ("int", true));
    }

    #[test]
    fn arrays_pointers_and_aggregates_keep_their_shape() {
        let d = one("float v[3] = { 1, 2.5f, 3 };", "v");
        assert_eq!(
            (d.ty.as_str(), d.init.as_str()),
            ("float [ 3 ]", "{ 1 , 2.5f , 3 }")
        );
        let d = one("const char *name = \"a;b\";", "name");
        assert_eq!(
            (d.ty.as_str(), d.init.as_str()),
            ("const char *", "\"a;b\"")
        );
        let d = one("struct P { int x; int y; } origin = { 1, 2 };", "origin");
        assert_eq!(d.ty, "struct P { int x ; int y ; }");
        let d = one("int (*op)(int, int) = 0;", "op");
        assert_eq!(d.ty, "int ( * ) ( int , int )");
    }

    #[test]
    fn several_declarators_share_the_specifiers() {
        let found = scan("int a = 1, *b = &a, c;", &["a", "b", "c"]);
        let got: Vec<_> = found
            .iter()
            .map(|d| (d.name.as_str(), d.ty.as_str(), d.init.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("a", "int", "1"), ("b", "int *", "& a"), ("c", "int", "")]
        );
    }

    #[test]
    fn function_bodies_comments_and_statics_are_skipped() {
        let src = "/* int counter = 1; */\nstatic int hidden = 3;\n\
                   int f(void) { int counter = 2; return counter; }\n\
                   struct S make(void) { struct S s = {0}; return s; }\n\
                   // int counter = 4;\nint counter = 7;\n";
        let d = one(src, "counter");
        assert_eq!(d.init, "7");
        assert!(scan(src, &["hidden"]).is_empty());
    }
}
