//! Evals that hold statements and expressions as well as definitions.
//!
//! C and C++: a top-level splitter ([`split`]) cuts the text into chunks (preprocessor lines,
//! function definitions, declarations, statements, a trailing expression). When there is any
//! statement or expression, [`c_family`] rewrites the text: every definition, declaration and
//! preprocessor line stays where it was (so top-level declarations such as `int counter = 0;`
//! stay globals), the statements are blanked there (newlines kept) and moved, in order, into a
//! generated `void hotwasm_main(void)` at the end, each behind a `#line` directive and indented
//! to its column, so diagnostics keep the user's lines. A trailing expression (no `;`) becomes
//! `HOTWASM_VALUE(expr);` (abi/include/hotwasm_value.h), which records its value and type.
//!
//! Rust: [`rust`] wraps the whole text in a block on its first line,
//! `fn hotwasm_main() { let hotwasm__v = { <text> }; <report> }`: items inside a block are still
//! items (`#[no_mangle]` functions in it are exported), every user token stays on its line,
//! and the block's value is reported with `Debug` and `type_name` (`()` prints nothing).
//!
//! Text with definitions only is returned unchanged (`None`), so saved files compile exactly
//! as they are.

/// One top-level piece of C or C++ text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// A preprocessor line (with its continuations).
    Preprocessor,
    /// A function definition (or a linkage/namespace block).
    Definition,
    /// A declaration: a global, a type, a prototype.
    Declaration,
    /// A statement, run once by the generated run-once function.
    Statement,
    /// The trailing expression (no `;`), whose value is printed.
    Expression,
}

/// A chunk: its kind and byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// What it is.
    pub kind: ChunkKind,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ident,
    Punct,
    Literal,
    Preprocessor,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

const PUNCT2: [&str; 19] = [
    "::", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=",
];

/// Tokens of C/C++ (`rust: false`) or Rust text; comments and whitespace are skipped.
fn tokenize(text: &str, rust: bool) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = skip_block_comment(b, i, rust);
            continue;
        }
        let was_line_start = line_start;
        line_start = false;
        let kind = if c == b'#' && was_line_start && !rust {
            i = skip_directive(b, i);
            Tok::Preprocessor
        } else if c == b'"' {
            i = skip_quoted(b, i, b'"');
            Tok::Literal
        } else if rust && c == b'r' && matches!(b.get(i + 1), Some(b'"' | b'#')) {
            i = skip_raw_string(b, i + 1);
            Tok::Literal
        } else if c == b'\'' {
            i = skip_char(b, i, rust);
            Tok::Literal
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            // A prefixed literal: L"x", u8"x", b"x", br"x".
            if matches!(b.get(i), Some(b'"' | b'\'')) {
                i = skip_quoted(b, i, b[i]);
                Tok::Literal
            } else {
                Tok::Ident
            }
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || b[i] == b'.'
                    || b[i] == b'_'
                    || (matches!(b[i], b'+' | b'-')
                        && matches!(b[i - 1], b'e' | b'E' | b'p' | b'P')))
            {
                i += 1;
            }
            Tok::Literal
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            i += if PUNCT2.contains(&two) { 2 } else { 1 };
            Tok::Punct
        };
        out.push(Token {
            kind,
            start,
            end: i.min(b.len()),
        });
    }
    out
}

fn skip_block_comment(b: &[u8], mut i: usize, nested: bool) -> usize {
    let mut depth = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
            if !nested && depth > 1 {
                depth = 1;
            }
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

fn skip_directive(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'\n' {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'\n') {
            i += 2;
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i = skip_block_comment(b, i, false);
        } else {
            i += 1;
        }
    }
    i
}

fn skip_quoted(b: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < b.len() && b[i] != quote && b[i] != b'\n' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    (i + 1).min(b.len())
}

/// A Rust raw string from its `#`s or quote (`i` is just past the `r`).
fn skip_raw_string(b: &[u8], mut i: usize) -> usize {
    let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
    i += hashes;
    if b.get(i) != Some(&b'"') {
        return i;
    }
    i += 1;
    while i < b.len() {
        if b[i] == b'"'
            && b[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

/// A char literal, or in Rust a lifetime (`'a` not closed by a quote right after).
fn skip_char(b: &[u8], i: usize, rust: bool) -> usize {
    if rust {
        let closes = match b.get(i + 1) {
            Some(b'\\') => true,
            Some(_) => {
                let ch_len = std::str::from_utf8(&b[i + 1..(i + 5).min(b.len())])
                    .ok()
                    .or_else(|| std::str::from_utf8(&b[i + 1..(i + 2).min(b.len())]).ok())
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                b.get(i + 1 + ch_len) == Some(&b'\'')
            }
            None => false,
        };
        if !closes {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            return j;
        }
    }
    skip_quoted(b, i, b'\'')
}

/// Keywords that start a statement.
const STATEMENT_KEYWORDS: [&str; 10] = [
    "if", "for", "while", "do", "switch", "return", "break", "continue", "goto", "else",
];

/// Keywords that start a declaration (C and C++).
const DECLARATION_KEYWORDS: [&str; 52] = [
    "typedef",
    "extern",
    "static",
    "struct",
    "union",
    "enum",
    "const",
    "volatile",
    "register",
    "inline",
    "_Thread_local",
    "thread_local",
    "_Static_assert",
    "static_assert",
    "auto",
    "signed",
    "unsigned",
    "short",
    "long",
    "int",
    "char",
    "float",
    "double",
    "void",
    "_Bool",
    "bool",
    "_Complex",
    "_Atomic",
    "_Alignas",
    "alignas",
    "__attribute__",
    "__extension__",
    "__typeof__",
    "typeof",
    "class",
    "namespace",
    "using",
    "template",
    "typename",
    "constexpr",
    "consteval",
    "constinit",
    "friend",
    "virtual",
    "explicit",
    "mutable",
    "decltype",
    "wchar_t",
    "char8_t",
    "char16_t",
    "char32_t",
    "__declspec",
];

/// Not the start of a declaration even though an identifier follows.
const EXPRESSION_KEYWORDS: [&str; 8] = [
    "sizeof",
    "return",
    "new",
    "delete",
    "throw",
    "co_return",
    "co_await",
    "alignof",
];

struct Splitter<'a> {
    text: &'a str,
    toks: Vec<Token>,
}

impl Splitter<'_> {
    fn s(&self, i: usize) -> &str {
        self.toks.get(i).map_or("", |t| &self.text[t.start..t.end])
    }

    fn is(&self, i: usize, word: &str) -> bool {
        self.s(i) == word
    }

    /// Where the chunk starting at token `i` ends (one past its last token), and whether it
    /// ended as a function definition; `None` if the text ends first.
    fn chunk_end(&self, i: usize) -> (usize, Option<bool>) {
        let first = self.s(i).to_string();
        let mut depth = 0i32;
        let (mut head_paren, mut head_eq, mut head_done, mut saw_while) =
            (false, false, false, false);
        let mut j = i;
        while j < self.toks.len() {
            let t = self.s(j);
            let at0 = depth == 0;
            match t {
                "(" | "[" | "{" => {
                    if at0 && t == "{" {
                        head_done = true;
                    }
                    if at0 && t == "(" && !head_done {
                        head_paren = true;
                    }
                    depth += 1;
                }
                ")" | "]" => depth -= 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        let next_else = self.is(j + 1, "else");
                        let ends = match first.as_str() {
                            "{" | "for" | "while" | "switch" => Some(false),
                            "if" | "else" if !next_else => Some(false),
                            "if" | "else" | "do" => None,
                            "extern" | "namespace" if !head_eq && !head_paren => Some(true),
                            _ if head_paren && !head_eq => Some(true),
                            _ => None,
                        };
                        if let Some(def) = ends {
                            return (j + 1, Some(def));
                        }
                    }
                }
                ";" if at0 => {
                    let waits = ((first == "if" || first == "else") && self.is(j + 1, "else"))
                        || (first == "do" && !saw_while);
                    if !waits {
                        return (j + 1, Some(false));
                    }
                }
                "=" if at0 && !head_done => head_eq = true,
                "while" if at0 && first == "do" && j > i => saw_while = true,
                _ => {}
            }
            j += 1;
        }
        (j, None)
    }

    /// Whether the tokens from `i` start a declaration: a declaration keyword, or a type name
    /// (`a`, `a::b`, `a<...>`) followed by a declarator name, optionally after `*`/`&`
    /// (`allow_pointer`; not for a trailing expression, where `a * b` is a product).
    fn is_declaration(&self, i: usize, allow_pointer: bool) -> bool {
        let first = self.s(i);
        if DECLARATION_KEYWORDS.contains(&first) {
            return true;
        }
        if self.toks[i].kind != Tok::Ident
            || EXPRESSION_KEYWORDS.contains(&first)
            || STATEMENT_KEYWORDS.contains(&first)
        {
            return false;
        }
        let mut j = i + 1;
        while self.is(j, "::") && self.toks.get(j + 1).is_some_and(|t| t.kind == Tok::Ident) {
            j += 2;
        }
        if self.is(j, "<") {
            let mut angle = 0;
            while j < self.toks.len() {
                match self.s(j) {
                    "<" => angle += 1,
                    ">" => angle -= 1,
                    ">>" => angle -= 2,
                    ";" | "{" | "}" => return false,
                    _ => {}
                }
                j += 1;
                if angle <= 0 {
                    break;
                }
            }
            while self.is(j, "::") && self.toks.get(j + 1).is_some_and(|t| t.kind == Tok::Ident) {
                j += 2;
            }
        }
        while allow_pointer && matches!(self.s(j), "*" | "&" | "&&" | "const") {
            j += 1;
        }
        self.toks.get(j).is_some_and(|t| t.kind == Tok::Ident)
            && !EXPRESSION_KEYWORDS.contains(&self.s(j))
    }

    fn classify(&self, i: usize, def: Option<bool>) -> ChunkKind {
        let first = self.s(i);
        match def {
            Some(true) => ChunkKind::Definition,
            // An empty `;` stays where it is.
            Some(false) if first == ";" => ChunkKind::Declaration,
            _ if first == "{" => ChunkKind::Statement,
            _ if STATEMENT_KEYWORDS.contains(&first) => ChunkKind::Statement,
            _ if self.is_declaration(i, def.is_some()) => ChunkKind::Declaration,
            Some(_) => ChunkKind::Statement,
            None => ChunkKind::Expression,
        }
    }
}

/// Cuts C or C++ `text` into top-level chunks, in order.
pub fn split(text: &str) -> Vec<Chunk> {
    let sp = Splitter {
        text,
        toks: tokenize(text, false),
    };
    let mut chunks = Vec::new();
    let mut i = 0;
    while i < sp.toks.len() {
        let t = sp.toks[i];
        if t.kind == Tok::Preprocessor {
            chunks.push(Chunk {
                kind: ChunkKind::Preprocessor,
                start: t.start,
                end: t.end,
            });
            i += 1;
            continue;
        }
        let (end, def) = sp.chunk_end(i);
        chunks.push(Chunk {
            kind: sp.classify(i, def),
            start: t.start,
            end: sp.toks[end - 1].end,
        });
        i = end;
    }
    chunks
}

/// What the top level of C/C++ `text` declares: `names`, each function it defines and each
/// declarator of its declarations (`int n = 0, *p;` → `n`, `p`; `int f(int);` → `f`), and
/// `types`, the type names it declares itself (`typedef struct {…} pt;` → `pt`, `struct s {…};`
/// → `s`). A scan, not a parser: a declarator inside parentheses (`int (*fp)(void);`) is missed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TopLevel {
    /// Function and global names, in order of appearance.
    pub names: Vec<String>,
    /// Type names (typedef names, struct/union/enum tags).
    pub types: Vec<String>,
}

/// See [`TopLevel`].
pub fn top_level(text: &str) -> TopLevel {
    let toks = tokenize(text, false);
    let mut out = TopLevel::default();
    for c in split(text) {
        let chunk: Vec<&str> = toks
            .iter()
            .filter(|t| t.start >= c.start && t.end <= c.end && t.kind != Tok::Preprocessor)
            .map(|t| &text[t.start..t.end])
            .collect();
        match c.kind {
            ChunkKind::Definition => {
                let head = &chunk[..chunk.iter().position(|&t| t == "{").unwrap_or(chunk.len())];
                if let Some(at) = head.iter().position(|&t| t == "(") {
                    push_name(&mut out.names, head[..at].last().copied());
                }
            }
            ChunkKind::Declaration => declarators(&chunk, &mut out),
            _ => {}
        }
    }
    out
}

fn is_name(t: &str) -> bool {
    t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && !DECLARATION_KEYWORDS.contains(&t)
        && !STATEMENT_KEYWORDS.contains(&t)
}

fn push_name(names: &mut Vec<String>, t: Option<&str>) {
    if let Some(t) = t.filter(|t| is_name(t)) {
        if !names.iter().any(|n| n == t) {
            names.push(t.to_string());
        }
    }
}

/// The declarators (and tags) of one top-level declaration's tokens.
fn declarators(chunk: &[&str], out: &mut TopLevel) {
    let is_typedef = chunk.first() == Some(&"typedef");
    let mut depth = 0usize;
    let mut in_initializer = false;
    for (i, &t) in chunk.iter().enumerate() {
        match t {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            "=" if depth == 0 => in_initializer = true,
            "," if depth == 0 => in_initializer = false,
            _ => {}
        }
        if in_initializer || (depth > 0 && t != "(" && t != "[" && t != "{") {
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chunk[p]);
        if matches!(prev, Some("struct" | "union" | "enum" | "class")) && depth <= 1 {
            push_name(&mut out.types, Some(t));
            continue;
        }
        let next = chunk.get(i + 1).copied();
        let ends_declarator = matches!(next, Some("=" | ";" | "," | "[" | "(") | None);
        if depth == 0 && ends_declarator && !matches!(prev, Some("struct" | "union" | "enum")) {
            let list = if is_typedef {
                &mut out.types
            } else {
                &mut out.names
            };
            push_name(list, Some(t));
        }
    }
}

/// Names the generated code uses (reserved: `hotwasm__` prefix).
const USER_MAIN: &str = "hotwasm__user_main";

/// The line (1-based) and column (1-based, in bytes) of byte `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = at - before.rfind('\n').map_or(0, |p| p + 1) + 1;
    (line, col)
}

/// The C/C++ text to compile for an eval of `text` (named `file` in diagnostics), or `None`
/// when it holds no statement and no expression. `value: false` runs a trailing expression as
/// a statement (for a `void` one, whose value cannot be held).
pub fn c_family(text: &str, file: &str, cpp: bool, value: bool) -> Option<String> {
    c_family_with(text, file, cpp, value, &[])
}

/// A piece of the text the run-once function runs: a statement, the trailing expression, or
/// the initializer of a global (`name = init;`, from the `=` to before the `;`).
struct Moved<'a> {
    start: usize,
    end: usize,
    kind: ChunkKind,
    assign_to: Option<&'a str>,
}

/// The single-declarator global `T name = init;` of chunk `c`, as the moved initializer, when
/// `c` is a declaration on one of `lines` (C's "initializer element is not a compile-time
/// constant": the global is declared without it and assigned in the run-once function).
fn dynamic_initializer<'a>(text: &'a str, c: &Chunk, lines: &[u32]) -> Option<Moved<'a>> {
    let (first, _) = line_col(text, c.start);
    let (last, _) = line_col(text, c.end);
    if c.kind != ChunkKind::Declaration
        || !lines
            .iter()
            .any(|&l| (first..=last).contains(&(l as usize)))
    {
        return None;
    }
    let chunk = &text[c.start..c.end];
    let toks = tokenize(chunk, false);
    let s = |i: usize| toks.get(i).map_or("", |t| &chunk[t.start..t.end]);
    let mut depth = 0;
    let mut eq = None;
    for i in 0..toks.len() {
        match s(i) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth -= 1,
            "=" if depth == 0 && eq.is_none() => eq = Some(i),
            "," if depth == 0 && eq.is_some() => return None,
            _ => {}
        }
    }
    let eq = eq?;
    let name = s(eq.checked_sub(1)?);
    let assignable = toks[eq - 1].kind == Tok::Ident
        && eq >= 2
        && !matches!(s(eq - 2), "const" | "typedef")
        && !matches!(s(0), "typedef" | "extern" | "constexpr")
        && s(toks.len() - 1) == ";";
    assignable.then(|| Moved {
        start: c.start + toks[eq].start,
        end: c.start + toks[toks.len() - 1].start,
        kind: ChunkKind::Statement,
        assign_to: Some(name),
    })
}

/// The text a moved chunk `c` of `text` becomes inside the run-once function, behind a `#line`
/// directive and indented to its column so diagnostics keep the user's place: a trailing
/// expression is wrapped in `HOTWASM_VALUE` (when `value`), a moved initializer becomes an
/// assignment, a statement stays as written.
fn moved_into_run_once(text: &str, c: &Moved, file_lit: &str, value: bool) -> String {
    let (line, col) = line_col(text, c.start);
    let chunk = &text[c.start..c.end];
    let indent = " ".repeat(col - 1);
    if c.kind == ChunkKind::Expression && value {
        // The macro's name on the line before, so the expression keeps its column too.
        return if line > 1 {
            format!(
                "#line {} \"{file_lit}\"\nHOTWASM_VALUE((\n{indent}{chunk}\n));\n",
                line - 1
            )
        } else {
            format!("#line {line} \"{file_lit}\"\nHOTWASM_VALUE(({chunk}\n));\n")
        };
    }
    if let Some(name) = &c.assign_to {
        // `= init` becomes `name = init;` at the initializer's line and column.
        return format!("#line {line} \"{file_lit}\"\n{indent}{name} {chunk};\n");
    }
    let end = if c.kind == ChunkKind::Expression {
        "\n;\n"
    } else {
        "\n"
    };
    format!("#line {line} \"{file_lit}\"\n{indent}{chunk}{end}")
}

/// [`c_family`], also moving into the run-once function the initializers of the globals
/// declared on `dynamic_lines` (see [`dynamic_initializer`]).
pub fn c_family_with(
    text: &str,
    file: &str,
    cpp: bool,
    value: bool,
    dynamic_lines: &[u32],
) -> Option<String> {
    let chunks = split(text);
    let mut moved: Vec<Moved> = chunks
        .iter()
        .filter_map(|c| match c.kind {
            ChunkKind::Statement | ChunkKind::Expression => Some(Moved {
                start: c.start,
                end: c.end,
                kind: c.kind,
                assign_to: None,
            }),
            _ => dynamic_initializer(text, c, dynamic_lines),
        })
        .collect();
    moved.sort_by_key(|m| m.start);
    if moved.is_empty() {
        return None;
    }
    let file_lit = file.replace('\\', "\\\\").replace('"', "\\\"");
    let defines_main = chunks.iter().any(|c| {
        c.kind == ChunkKind::Definition && {
            let head = &text[c.start..c.end];
            let head = &head[..head.find('{').unwrap_or(head.len())];
            tokenize(head, false)
                .iter()
                .any(|t| &head[t.start..t.end] == super::latebind::RUN_ONCE)
        }
    });
    let mut top = String::with_capacity(text.len() + 256);
    if defines_main {
        top.push_str(&format!(
            "#define {} {USER_MAIN}\n#line 1 \"{file_lit}\"\n",
            super::latebind::RUN_ONCE
        ));
    }
    let mut body = String::new();
    let mut has_value = false;
    let mut last = 0;
    for c in &moved {
        top.push_str(&text[last..c.start]);
        // Blank the moved chunk, keeping its newlines so later lines keep their numbers.
        top.extend(text[c.start..c.end].chars().filter(|&ch| ch == '\n'));
        last = c.end;
        has_value |= c.kind == ChunkKind::Expression && value;
        body.push_str(&moved_into_run_once(text, c, &file_lit, value));
    }
    top.push_str(&text[last..]);
    if !top.ends_with('\n') {
        top.push('\n');
    }
    if defines_main {
        top.push_str(&format!("#undef {}\n", super::latebind::RUN_ONCE));
    }
    if has_value {
        top.push_str("#include \"hotwasm_value.h\"\n");
    }
    top.push_str(if cpp { "extern \"C\" " } else { "" });
    top.push_str(&format!("void {}(void) {{\n", super::latebind::RUN_ONCE));
    if defines_main {
        top.push_str(&format!("{USER_MAIN}();\n"));
    }
    top.push_str(&body);
    top.push_str("}\n");
    Some(top)
}

/// Whether a compile failed only because the trailing expression is `void` (its value could
/// not be held): compile again with `value: false`.
pub fn failed_for_void_value(stderr: &str) -> bool {
    stderr.contains("hotwasm__tmp")
        && (stderr.contains("variable has incomplete type 'void'")
            || stderr.contains("cannot form a reference to 'void'"))
}

/// The lines of `file` where C refused a global's initializer as not constant (retry with
/// [`c_family_with`] and these lines).
pub fn non_constant_initializers(diagnostics: &[crate::Diagnostic], file: &str) -> Vec<u32> {
    diagnostics
        .iter()
        .filter(|d| {
            d.message
                .starts_with("initializer element is not a compile-time constant")
                && (d.file == file || d.file.ends_with(&format!("/{file}")))
        })
        .map(|d| d.line)
        .collect()
}

/// Rust items that may stand at the top of a patch.
const RUST_ITEM_WORDS: [&str; 17] = [
    "fn",
    "pub",
    "use",
    "struct",
    "enum",
    "union",
    "impl",
    "trait",
    "mod",
    "static",
    "const",
    "type",
    "extern",
    "async",
    "macro_rules",
    "#",
    "unsafe",
];

/// What [`rust`] puts before the user's first line (diagnostics on line 1 subtract its length
/// from their column: [`unshift_rust_columns`]).
pub const RUST_PREFIX: &str = "#[no_mangle] #[allow(non_snake_case, unused_braces, dead_code)] pub extern \"C\" fn hotwasm_main() { let hotwasm__v = { ";

/// Moves the columns of diagnostics on the first line of `file` back past [`RUST_PREFIX`].
pub fn unshift_rust_columns(diagnostics: &mut [crate::Diagnostic], file: &str) {
    let shift = RUST_PREFIX.chars().count() as u32;
    for d in diagnostics.iter_mut().filter(|d| {
        d.line == 1 && d.column > shift && (d.file == file || d.file.ends_with(&format!("/{file}")))
    }) {
        d.column -= shift;
    }
}

/// The Rust text to compile for an eval of `text`, or `None` when it holds items only.
pub fn rust(text: &str) -> Option<String> {
    if rust_items_only(text) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + RUST_REPORT.len() + 200);
    out.push_str(RUST_PREFIX);
    out.push_str(text);
    out.push_str("\n}; { #[allow(unused_imports)] use hotwasm__value::{ViaDebug as _, ViaNothing as _}; (&&hotwasm__value::W(&hotwasm__v)).hotwasm__report(); } }\n");
    out.push_str(RUST_REPORT);
    Some(out)
}

/// Whether every top-level chunk of Rust `text` starts like an item (`unsafe {` is a block).
fn rust_items_only(text: &str) -> bool {
    let toks = tokenize(text, true);
    let s = |i: usize| toks.get(i).map_or("", |t| &text[t.start..t.end]);
    let mut depth = 0i32;
    let mut chunk_start = true;
    for (i, _) in toks.iter().enumerate() {
        let t = s(i);
        if chunk_start && depth == 0 {
            let item = RUST_ITEM_WORDS.contains(&t) && !(t == "unsafe" && s(i + 1) == "{");
            if !item {
                return false;
            }
            chunk_start = false;
        }
        match t {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" => depth -= 1,
            "}" => {
                depth -= 1;
                // An item's body ends the item unless `;` or more expression follows.
                if depth == 0 && !matches!(s(i + 1), ";" | "." | "?" | "" | ")" | ",") {
                    chunk_start = !s(i + 1)
                        .starts_with(|c: char| !c.is_alphanumeric() && c != '#' && c != '_');
                }
            }
            ";" if depth == 0 => chunk_start = true,
            "#" if depth == 0 && s(i + 1) == "[" => {}
            _ => {}
        }
    }
    true
}

/// Reports the block's value: by `Debug` when the type has it (autoref specialization: the
/// `&W` impl wins when `T: Debug`), else its type only; `()` prints nothing.
const RUST_REPORT: &str = r#"#[allow(non_snake_case, dead_code)]
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

    fn kinds(text: &str) -> Vec<(ChunkKind, &str)> {
        split(text)
            .into_iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    use ChunkKind::*;

    #[test]
    fn definitions_declarations_statements_and_a_trailing_expression_are_told_apart() {
        let text = "#include <stdio.h>\nint counter = 0;\nint twice(int x) { return 2 * x; }\nstruct p { int x, y; };\ncounter++;\nprintf(\"%d\\n\", twice(counter));\nif (counter) { counter += 1; } else counter = 0;\ncounter * 2";
        assert_eq!(
            kinds(text),
            vec![
                (Preprocessor, "#include <stdio.h>"),
                (Declaration, "int counter = 0;"),
                (Definition, "int twice(int x) { return 2 * x; }"),
                (Declaration, "struct p { int x, y; };"),
                (Statement, "counter++;"),
                (Statement, "printf(\"%d\\n\", twice(counter));"),
                (
                    Statement,
                    "if (counter) { counter += 1; } else counter = 0;"
                ),
                (Expression, "counter * 2"),
            ]
        );
    }

    #[test]
    fn typedef_names_from_headers_start_declarations() {
        assert_eq!(
            kinds("size_t n = 3;\nFILE *f = 0;\nvec3 v;\nn = 4;\nx * y"),
            vec![
                (Declaration, "size_t n = 3;"),
                (Declaration, "FILE *f = 0;"),
                (Declaration, "vec3 v;"),
                (Statement, "n = 4;"),
                (Expression, "x * y"),
            ]
        );
    }

    #[test]
    fn braces_inside_initializers_loops_and_comments_do_not_cut_chunks() {
        let text = "int a[] = {1, 2}; /* ; } */\nfor (int i = 0; i < 2; i++) { a[i]++; }\ndo { a[0]--; } while (a[0] > 0);\nx = (struct p){1, 2};\nconst char *s = \"};\";\n'}'";
        assert_eq!(
            kinds(text),
            vec![
                (Declaration, "int a[] = {1, 2};"),
                (Statement, "for (int i = 0; i < 2; i++) { a[i]++; }"),
                (Statement, "do { a[0]--; } while (a[0] > 0);"),
                (Statement, "x = (struct p){1, 2};"),
                (Declaration, "const char *s = \"};\";"),
                (Expression, "'}'"),
            ]
        );
    }

    #[test]
    fn cpp_classes_namespaces_templates_and_qualified_types() {
        let text = "extern \"C\" { int f(void) { return 1; } }\nnamespace n { int g() { return 2; } }\nclass A { int x; };\nstd::vector<int> v;\nstd::string s = \"x\";\nint A::get() const { return x; }\nstd::cout << s;\nv.size()";
        assert_eq!(
            kinds(text),
            vec![
                (Definition, "extern \"C\" { int f(void) { return 1; } }"),
                (Definition, "namespace n { int g() { return 2; } }"),
                (Declaration, "class A { int x; };"),
                (Declaration, "std::vector<int> v;"),
                (Declaration, "std::string s = \"x\";"),
                (Definition, "int A::get() const { return x; }"),
                (Statement, "std::cout << s;"),
                (Expression, "v.size()"),
            ]
        );
    }

    #[test]
    fn definitions_only_are_left_unchanged() {
        assert_eq!(
            c_family(
                "#include <x.h>\nint f(void) { return 1; }\nint g = 2;\n",
                "a.c",
                false,
                true
            ),
            None
        );
        assert_eq!(
            rust("#[no_mangle]\npub extern \"C\" fn f() -> i32 { 1 }\nstatic X: i32 = 1;\nimpl A { fn a(&self) {} }\nconst C: [u8; 2] = [1, 2];\n"),
            None
        );
    }

    #[test]
    fn moved_statements_keep_their_lines_and_columns() {
        let out = c_family(
            "int g = 1;\n  g++;\nint f(void) { return g; }\nf()",
            "repl.c",
            false,
            true,
        )
        .expect("has statements");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "int g = 1;");
        assert_eq!(lines[1].trim(), "");
        assert_eq!(lines[2], "int f(void) { return g; }");
        assert!(out.contains("#line 2 \"repl.c\"\n  g++;\n"), "{out}");
        assert!(
            out.contains("#line 3 \"repl.c\"\nHOTWASM_VALUE((\nf()\n));"),
            "{out}"
        );
        assert!(out.contains("#include \"hotwasm_value.h\""), "{out}");
        let plain = c_family("f()", "repl.c", false, false).expect("expression");
        assert!(
            plain.contains("f()\n;") && !plain.contains("HOTWASM_VALUE"),
            "{plain}"
        );
    }

    #[test]
    fn a_global_with_a_non_constant_initializer_is_assigned_in_the_run_once_function() {
        let text = "int base = 2;\nint x = twice(base), y;\ndouble r =\n   sqrt(base);\nr";
        let out = c_family_with(text, "repl.c", false, true, &[3, 4]).expect("moved");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "int base = 2;");
        assert_eq!(
            lines[1], "int x = twice(base), y;",
            "two declarators stay as written"
        );
        assert_eq!(lines[2].trim_end(), "double r");
        assert_eq!(lines[3].trim_end(), ";");
        assert!(
            out.contains("#line 3 \"repl.c\"\n         r =\n   sqrt(base);\n"),
            "{out}"
        );
        let at = |needle: &str| out.find(needle).unwrap();
        assert!(
            at("r =\n") < at("HOTWASM_VALUE"),
            "the initializer runs before the statements after it"
        );
    }

    #[test]
    fn a_user_run_once_function_still_runs_before_the_statements() {
        let out = c_family("void hotwasm_main(void) { }\nx++;", "repl.c", false, true)
            .expect("has statements");
        assert!(out.starts_with("#define hotwasm_main hotwasm__user_main\n#line 1 \"repl.c\"\n"));
        assert!(
            out.contains("void hotwasm_main(void) {\nhotwasm__user_main();\n"),
            "{out}"
        );
    }

    #[test]
    fn rust_statements_are_wrapped_on_the_first_line() {
        let out = rust("let v = vec![1, 2];\nv").expect("statements");
        assert!(out.starts_with("#[no_mangle]"));
        assert_eq!(out.lines().nth(1), Some("v"));
        assert!(rust("println!(\"hi\");").is_some());
        assert!(rust("unsafe { X += 1; }").is_some());
        assert!(
            rust("fn f() -> char { 'a' }\nfn g<'a>(x: &'a str) -> &'a str { x }\nf()").is_some()
        );
        assert_eq!(rust("fn g<'a>(x: &'a str) -> &'a str { x }\n"), None);
    }
    #[test]
    fn top_level_names_functions_globals_and_types() {
        let t = top_level(
            "#include <stdio.h>\ntypedef struct { int x, y; } pt;\nstruct node { struct node *next; };\nint counter = 0, *p = &counter, q = sizeof(pt);\nstatic double scale[3];\nint (*fp)(int) = sq;\nint sq(int x);\npt mk(int a) { pt q = {a, a}; return q; }\ncounter += 1;\nsq(2)",
        );
        assert_eq!(t.names, ["counter", "p", "q", "scale", "sq", "mk"]);
        assert_eq!(t.types, ["pt", "node"]);
    }
}
