//! Layout fingerprints: the memory layout (size, alignment, field offsets) of the types a host
//! shares with its patches, read from clang's own record-layout dump
//! (`-fdump-record-layouts -fdump-record-layouts-canonical`), and the check that refuses a patch
//! whose view of a shared type differs from the running host's.
//!
//! The host side is measured when the host is built (`hotwasm build`, in the server crate); the patch side
//! comes free with the patch's own compile: clang dumps the layout of every record the patch
//! needed laid out (the ones it reads fields of, takes `sizeof` of, or holds by value), and
//! only those are compared.
//!
//! The dump costs a C compile ~2 ms and a std-heavy C++ one ~20 ms, so a compile asks for it
//! only when it can find something ([`Verified::wants`]): when a file the host's layouts were
//! measured from changed since the build, or when the patch names a shared type no earlier
//! compile of its language has shown laid out as the host has it (the patch flags could
//! differ from the host's: another `-D`, another `-std`).

use hotwasm_abi::{FieldLayout, TypeLayout};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The clang `-cc1` flags that make a compile dump its record layouts to stdout (with
/// canonical field types, so `int32_t` and `int` compare equal).
pub const DUMP_FLAGS: [&str; 2] = ["-fdump-record-layouts", "-fdump-record-layouts-canonical"];

/// The same, dumping every complete record of the translation unit (the host's headers).
pub const DUMP_ALL_FLAGS: [&str; 2] = [
    "-fdump-record-layouts-complete",
    "-fdump-record-layouts-canonical",
];

const AST_BLOCK: &str = "*** Dumping AST Record Layout";

/// The layouts in a clang record-layout dump. Relative paths in it (of anonymous records)
/// resolve against `cwd`. An anonymous record gets the name of its `typedef`; one without
/// (a nested anonymous struct or union) is not listed on its own: its fields are part of the
/// type it is nested in. The first layout of each name wins.
pub fn parse_dump(text: &str, cwd: &Path) -> Vec<TypeLayout> {
    let mut files = Files::default();
    let mut out: Vec<TypeLayout> = Vec::new();
    let mut current: Option<Block> = None;
    for line in text.lines() {
        if line.starts_with("*** Dumping") {
            finish(current.take(), &mut out);
            if line.starts_with(AST_BLOCK) {
                current = Some(Block::default());
            }
            continue;
        }
        if let Some(block) = &mut current {
            block.line(line, cwd, &mut files);
        }
    }
    finish(current, &mut out);
    out
}

fn finish(block: Option<Block>, out: &mut Vec<TypeLayout>) {
    let Some(Block {
        name: Some(name),
        size: Some(size),
        align: Some(align),
        fields,
        ..
    }) = block
    else {
        return;
    };
    if !out.iter().any(|l| l.name == name) {
        out.push(TypeLayout {
            name,
            size,
            align,
            fields,
        });
    }
}

/// One `*** Dumping AST Record Layout` block being read.
#[derive(Default)]
struct Block {
    /// `None` until the header line; stays `None` for an anonymous record without a typedef.
    name: Option<String>,
    header_seen: bool,
    size: Option<u64>,
    align: Option<u64>,
    fields: Vec<FieldLayout>,
    /// The path of the field at each depth so far.
    path: Vec<String>,
}

impl Block {
    fn line(&mut self, line: &str, cwd: &Path, files: &mut Files) {
        let Some((left, right)) = line.split_once('|') else {
            return;
        };
        let right = right.strip_prefix(' ').unwrap_or(right);
        let left = left.trim();
        if left.is_empty() {
            for item in right.trim().trim_matches(['[', ']']).split(',') {
                match item.trim().split_once('=') {
                    Some(("sizeof", v)) => self.size = v.trim().parse().ok(),
                    Some(("align", v)) => self.align = v.trim().parse().ok(),
                    _ => {}
                }
            }
            return;
        }
        if !self.header_seen {
            self.header_seen = true;
            self.name = record_name(right.trim(), cwd, files);
            return;
        }
        let depth = (right.len() - right.trim_start().len()) / 2;
        let (offset, bits) = match left.split_once(':') {
            Some((o, b)) => (o, Some(b.to_string())),
            None => (left, None),
        };
        let Ok(offset) = offset.parse() else {
            return;
        };
        let (name, ty) = field_name_and_type(&anonymous(right.trim()));
        self.path.truncate(depth.saturating_sub(1));
        self.path.push(name);
        self.fields.push(FieldLayout {
            name: self.path.join("."),
            offset,
            bits,
            ty,
        });
    }
}

/// The name of the record a block's header line names (`struct Ball` → `Ball`), or `None` for
/// an anonymous record without a typedef.
fn record_name(text: &str, cwd: &Path, files: &mut Files) -> Option<String> {
    let bare = ["struct ", "union ", "class "]
        .iter()
        .find_map(|k| text.strip_prefix(k))
        .unwrap_or(text);
    match bare.strip_prefix("(unnamed at ") {
        Some(rest) => {
            let loc = rest.strip_suffix(')')?;
            let (file, line_col) = loc.rsplit_once(':').and_then(|(f, c)| {
                let (file, line) = f.rsplit_once(':')?;
                Some((file, (line.parse().ok()?, c.parse().ok()?)))
            })?;
            files.typedef_name(&cwd.join(file), line_col)
        }
        None if bare.contains("(unnamed at ") => None,
        None => Some(bare.to_string()),
    }
}

/// A type as the layouts compare it, by structure: `(unnamed at path:3:9)` → `(unnamed)`, and
/// a scope before it dropped (`union pthread_attr_t::(unnamed at …)` → `union (unnamed)`): where
/// an anonymous record is written and what scope C++ (but not C) names it by are not part of the
/// layout — its fields, listed after it, are compared one by one. C's `_Bool` is C++'s `bool`.
fn anonymous(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("(unnamed at ") {
        out.push_str(without_scope(&rest[..at]));
        out.push_str("(unnamed)");
        rest = match rest[at..].find(')') {
            Some(end) => &rest[at + end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    bool_spelled_as_in_cpp(&out)
}

/// `union Outer<A, B>::` → `union `: the scope qualifier ending `text`, if any, left out.
fn without_scope(text: &str) -> &str {
    let Some(scoped) = text.strip_suffix("::") else {
        return text;
    };
    let mut depth = 0usize;
    for (i, c) in scoped.char_indices().rev() {
        match c {
            '>' => depth += 1,
            '<' => depth = depth.saturating_sub(1),
            c if c.is_whitespace() && depth == 0 => return &scoped[..i + 1],
            _ => {}
        }
    }
    ""
}

/// `_Bool` (C) → `bool` (C++), as a whole word.
fn bool_spelled_as_in_cpp(text: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_Bool") {
        let after = &rest[at + "_Bool".len()..];
        let whole = !rest[..at].ends_with(word) && !after.starts_with(word);
        out.push_str(&rest[..at]);
        out.push_str(if whole { "bool" } else { "_Bool" });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A field line's path element and type: `float x` → (`x`, `float`); a base class
/// `struct Shape (primary base)` → (`(base Shape)`, `struct Shape`); `(Shape vtable pointer)`
/// → (`(vtable pointer)`, ``); an anonymous member `union Outer::(unnamed)` → (`(anonymous)`, ..).
fn field_name_and_type(text: &str) -> (String, String) {
    let text = text.strip_suffix(" (empty)").unwrap_or(text);
    for kind in [" (base)", " (primary base)", " (virtual base)"] {
        if let Some(ty) = text.strip_suffix(kind) {
            let bare = ty.split_once(' ').map_or(ty, |(_, n)| n);
            return (format!("(base {bare})"), ty.to_string());
        }
    }
    if text.ends_with("vtable pointer)") || text.ends_with("vftable pointer)") {
        return ("(vtable pointer)".into(), String::new());
    }
    match text.rsplit_once(' ') {
        Some((ty, name)) if !name.contains("(unnamed)") => (name.to_string(), ty.to_string()),
        _ => ("(anonymous)".into(), text.to_string()),
    }
}

/// Header texts read so far, for naming anonymous records by their typedef.
#[derive(Default)]
struct Files(HashMap<PathBuf, Option<String>>);

impl Files {
    /// The typedef name of the anonymous record written at `line:column` of `file`
    /// (`typedef struct { ... } Name;`), if it is one.
    fn typedef_name(&mut self, file: &Path, (line, column): (usize, usize)) -> Option<String> {
        let text = self
            .0
            .entry(file.to_path_buf())
            .or_insert_with(|| std::fs::read_to_string(file).ok())
            .as_deref()?;
        let start = text
            .split_inclusive('\n')
            .take(line.checked_sub(1)?)
            .map(str::len)
            .sum::<usize>()
            + column.checked_sub(1)?;
        if !text.get(..start)?.trim_end().ends_with("typedef") {
            return None;
        }
        let after = &text.get(start..)?[closing_brace(text.get(start..)?)? + 1..];
        let name: String = after
            .trim_start_matches(|c: char| c.is_whitespace())
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    }
}

/// The byte index of the `}` closing the first `{` of `text`, skipping comments.
fn closing_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < bytes.len() {
        match &bytes[i..] {
            [b'/', b'/', ..] => i += text[i..].find('\n')?,
            [b'/', b'*', ..] => i += text[i..].find("*/")? + 1,
            [b'{', ..] => depth += 1,
            [b'}', ..] => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The hash a [`hotwasm_abi::LayoutInput`] records of `path`'s content (`None`: unreadable).
pub fn file_hash(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(format!("{:016x}", hotwasm_abi::fnv1a(&bytes)))
}

/// Whether every file the host's layouts were measured from still has the content it had then.
pub fn inputs_unchanged(host: &hotwasm_abi::HostManifest) -> bool {
    host.layout_inputs
        .iter()
        .all(|i| file_hash(Path::new(&i.path)).as_deref() == Some(i.hash.as_str()))
}

/// Which shared types compiles have already shown laid out as the host has them, per host
/// build and patch language: such a type needs no dump again while its headers are unchanged.
#[derive(Debug, Default)]
pub struct Verified(Mutex<HashSet<(u64, &'static str, String)>>);

/// A compile's layout dump, when [`Verified::wants`] one.
#[derive(Debug, Clone, Copy)]
pub struct Dump {
    /// The host build's layouts (their fingerprint).
    host: u64,
    /// The patch language.
    lang: &'static str,
    /// Whether the files the host measured are unchanged (so agreeing layouts verify the flags).
    inputs_unchanged: bool,
}

impl Verified {
    /// Whether a `lang` compile of `text` against `host` should dump its layouts.
    pub fn wants(
        &self,
        host: &hotwasm_abi::HostManifest,
        text: &str,
        lang: &'static str,
    ) -> Option<Dump> {
        if host.layouts.is_empty() {
            return None;
        }
        let dump = Dump {
            host: hotwasm_abi::fnv1a(format!("{:?}", host.layouts).as_bytes()),
            lang,
            inputs_unchanged: inputs_unchanged(host),
        };
        if !dump.inputs_unchanged {
            return Some(dump);
        }
        let words: HashSet<&str> = identifiers(text).collect();
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        host.layouts
            .iter()
            .any(|l| {
                words.contains(simple_name(&l.name))
                    && !seen.contains(&(dump.host, lang, l.name.clone()))
            })
            .then_some(dump)
    }

    /// Remembers the shared types `patch` laid out as the host has them.
    pub fn record(&self, dump: Dump, host: &[TypeLayout], patch: &[TypeLayout]) {
        if !dump.inputs_unchanged {
            return;
        }
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for p in patch {
            if host.iter().any(|h| h == p) {
                seen.insert((dump.host, dump.lang, p.name.clone()));
            }
        }
    }
}

/// The identifiers of a C, C++ or Rust text (and some numbers' digits: harmless).
pub fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// The simple name of a record (`app::W<int>` → `W`), as its header would write it.
pub fn simple_name(name: &str) -> &str {
    let base = name.split('<').next().unwrap_or(name);
    base.rsplit("::").next().unwrap_or(base).trim()
}

/// Checks the patch's layouts against the host's: every type both know must agree on size,
/// alignment and every field's offset, bits and canonical type. The error names each differing
/// type, its fields with both offsets, and the fix.
pub fn check(host: &[TypeLayout], patch: &[TypeLayout]) -> Result<(), String> {
    let differing: Vec<String> = patch
        .iter()
        .filter_map(|p| {
            let h = host.iter().find(|h| h.name == p.name)?;
            (h != p).then(|| {
                format!(
                    "the patch's layout of `{}` differs from the running host's: {}",
                    p.name,
                    differences(h, p)
                )
            })
        })
        .collect();
    if differing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}. A header the patch shares with the host changed after the host was built (or \
         [patches] defines lay it out unlike the host's flags), so the patch would read and write \
         the wrong bytes of the running app; it was not sent. Rebuild the host with `hotwasm \
         build --hot` (then reload the page) to use the new layout, or undo the header change",
        differing.join("; and ")
    ))
}

/// Why a patch journaled against the `old` host does not fit the `new` one, if its `source`
/// names a shared type whose layout changed between them (the patch was compiled with the old
/// layout; the new host's code uses the new one).
pub fn misfit(old: &[TypeLayout], new: &[TypeLayout], source: &str) -> Option<String> {
    let words: HashSet<&str> = identifiers(source).collect();
    old.iter()
        .filter(|o| words.contains(simple_name(&o.name)))
        .find_map(|o| {
            let n = new.iter().find(|n| n.name == o.name)?;
            (n != o).then(|| {
                format!(
                    "it was compiled with the old layout of `{}`: {}",
                    o.name,
                    differences(n, o).replace("the host", "the new host")
                )
            })
        })
}

/// How the patch's `p` differs from the host's `h`, fields first (at most a few of them).
fn differences(h: &TypeLayout, p: &TypeLayout) -> String {
    const SHOWN: usize = 4;
    let mut diffs = Vec::new();
    for pf in &p.fields {
        match h.fields.iter().find(|hf| hf.name == pf.name) {
            None => diffs.push(format!(
                "field `{}` ({}) is at offset {} in the patch but the host has no such field",
                pf.name,
                pf.ty,
                at(pf)
            )),
            Some(hf) if hf.ty != pf.ty => diffs.push(format!(
                "field `{}` is `{}` at offset {} in the patch but `{}` at offset {} in the host",
                pf.name,
                pf.ty,
                at(pf),
                hf.ty,
                at(hf)
            )),
            Some(hf) if hf.offset != pf.offset || hf.bits != pf.bits => diffs.push(format!(
                "field `{}` ({}) is at offset {} in the patch but at offset {} in the host",
                pf.name,
                pf.ty,
                at(pf),
                at(hf)
            )),
            Some(_) => {}
        }
    }
    for hf in h
        .fields
        .iter()
        .filter(|hf| !p.fields.iter().any(|pf| pf.name == hf.name))
    {
        diffs.push(format!(
            "field `{}` ({}, at offset {} in the host) is gone from the patch's view",
            hf.name,
            hf.ty,
            at(hf)
        ));
    }
    let more = diffs.len().saturating_sub(SHOWN);
    diffs.truncate(SHOWN);
    if more > 0 {
        diffs.push(format!("{more} more field(s) differ"));
    }
    if h.size != p.size || h.align != p.align {
        diffs.push(format!(
            "its size is {} bytes (align {}) in the patch but {} bytes (align {}) in the host",
            p.size, p.align, h.size, h.align
        ));
    }
    diffs.join(", ")
}

fn at(f: &FieldLayout) -> String {
    match &f.bits {
        Some(bits) => format!("{} (bits {bits})", f.offset),
        None => f.offset.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BALL: &str = "
*** Dumping AST Record Layout
         0 | struct Ball
         0 |   float x
         4 |   float y
         8 |   int hits
           | [sizeof=12, align=4]

*** Dumping IRgen Record Layout
Record: RecordDecl 0x1 <a.h:6:9, line:10:1> line:6:16 struct Ball definition
|-FieldDecl 0x2 <line:7:3, col:9> col:9 x 'float'
";

    #[test]
    fn a_dump_gives_each_record_with_its_fields_and_skips_irgen_blocks() {
        let l = parse_dump(BALL, Path::new("/"));
        assert_eq!(l.len(), 1);
        assert_eq!((l[0].name.as_str(), l[0].size, l[0].align), ("Ball", 12, 4));
        let f: Vec<_> = l[0]
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.offset, f.ty.as_str()))
            .collect();
        assert_eq!(
            f,
            vec![("x", 0, "float"), ("y", 4, "float"), ("hits", 8, "int")]
        );
    }

    #[test]
    fn nested_records_bases_bitfields_and_anonymous_members_get_paths() {
        let dump = "
*** Dumping AST Record Layout
         0 | struct app::D
         0 |   struct app::Base (primary base)
         0 |     (Base vtable pointer)
         4 |     int b
         8 |   union app::D::(unnamed at /x/d.h:5:41) un
         8 |     int u1
    12:0-2 |   unsigned int bf
        16 |   struct Inner in
        16 |     short s
           | [sizeof=24, dsize=24, align=8,
           |  nvsize=24, nvalign=8]
";
        let l = parse_dump(dump, Path::new("/"));
        let names: Vec<_> = l[0].fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "(base app::Base)",
                "(base app::Base).(vtable pointer)",
                "(base app::Base).b",
                "un",
                "un.u1",
                "bf",
                "in",
                "in.s"
            ]
        );
        // By structure: the scope C++ names an anonymous member by is not part of its type.
        assert_eq!(l[0].fields[3].ty, "union (unnamed)");
        assert_eq!(l[0].fields[5].bits.as_deref(), Some("0-2"));
        assert_eq!((l[0].size, l[0].align), (24, 8));
    }

    #[test]
    fn an_anonymous_typedef_struct_is_named_by_its_typedef() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.h"),
            "#include <stdint.h>\ntypedef struct { /* } */ int a; struct { int b; } in; } Anon;\nstruct { int c; } var;\n",
        )
        .unwrap();
        let dump = "
*** Dumping AST Record Layout
         0 | struct (unnamed at a.h:2:9)
         0 |   int a
           | [sizeof=8, align=4]

*** Dumping AST Record Layout
         0 | struct (unnamed at a.h:3:1)
         0 |   int c
           | [sizeof=4, align=4]
";
        let l = parse_dump(dump, dir.path());
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].name, "Anon");
    }

    #[test]
    fn a_moved_field_is_refused_naming_it_with_both_offsets_and_the_fix() {
        let host = parse_dump(BALL, Path::new("/"));
        let patch = parse_dump(
            &BALL
                .replace(
                    "         8 |   int hits",
                    "         8 |   float mass\n        12 |   int hits",
                )
                .replace("sizeof=12", "sizeof=16"),
            Path::new("/"),
        );
        let e = check(&host, &patch).unwrap_err();
        assert!(e.contains("`Ball`"), "{e}");
        assert!(
            e.contains(
                "field `mass` (float) is at offset 8 in the patch but the host has no such field"
            ),
            "{e}"
        );
        assert!(
            e.contains(
                "field `hits` (int) is at offset 12 in the patch but at offset 8 in the host"
            ),
            "{e}"
        );
        assert!(
            e.contains("16 bytes (align 4) in the patch but 12 bytes"),
            "{e}"
        );
        assert!(e.contains("`hotwasm build --hot`"), "{e}");
        assert_eq!(check(&host, &host), Ok(()));
        assert_eq!(
            check(&host, &[]),
            Ok(()),
            "types the patch does not lay out"
        );
    }

    #[test]
    fn a_dump_is_wanted_after_a_header_change_or_for_a_type_not_yet_seen_laid_out() {
        let dir = tempfile::tempdir().unwrap();
        let header = dir.path().join("a.h");
        std::fs::write(&header, "struct Ball { int hits; };").unwrap();
        let host = hotwasm_abi::HostManifest {
            layouts: parse_dump(BALL, Path::new("/")),
            layout_inputs: vec![hotwasm_abi::LayoutInput {
                path: header.display().to_string(),
                hash: file_hash(&header).unwrap(),
            }],
            ..Default::default()
        };
        let v = Verified::default();
        let uses = "int f(Ball *b) { return b->hits; }";
        assert!(v.wants(&host, "int f(int x) { return x; }", "c").is_none());
        let dump = v.wants(&host, uses, "c").expect("Ball not seen yet");
        v.record(dump, &host.layouts, &host.layouts);
        assert!(v.wants(&host, uses, "c").is_none(), "seen in C");
        assert!(v.wants(&host, uses, "cpp").is_some(), "not seen in C++");
        std::fs::write(&header, "struct Ball { int hits; int more; };").unwrap();
        let any = v.wants(&host, "int f(int x) { return x; }", "c");
        assert!(any.is_some(), "a header changed: every compile dumps");
        let no_layouts = hotwasm_abi::HostManifest::default();
        assert!(v.wants(&no_layouts, uses, "c").is_none());
    }

    #[test]
    fn a_journaled_patch_naming_a_changed_type_does_not_fit_the_new_host() {
        let old = parse_dump(BALL, Path::new("/"));
        let new = parse_dump(
            &BALL.replace(
                "         8 |   int hits",
                "         8 |   float mass\n        12 |   int hits",
            ),
            Path::new("/"),
        );
        let uses = "uint32_t ball_color(const Ball *b) { return b->hits; }";
        let why = misfit(&old, &new, uses).expect("Ball changed");
        assert!(
            why.contains("old layout of `Ball`: field `hits` (int) is at offset 8 in the patch but at offset 12 in the new host"),
            "{why}"
        );
        assert_eq!(misfit(&old, &new, "int f(int x) { return x; }"), None);
        assert_eq!(misfit(&old, &old, uses), None);
        assert_eq!(misfit(&old, &[], uses), None, "a host without layouts");
    }

    #[test]
    fn simple_names_drop_namespaces_and_template_arguments() {
        assert_eq!(simple_name("app::W<std::pair<int, int>>"), "W");
        assert_eq!(simple_name("Ball"), "Ball");
    }
}
