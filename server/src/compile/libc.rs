//! The C library a C or C++ patch links itself: the part of Emscripten's PIC `libc.a` and
//! `libcompiler_rt.a` that the host does not export and that keeps no state.
//!
//! Decided by measurement (notes of issue 11, BENCHMARKS.md): a HOT_RELOAD host exports the C
//! library functions that keep state or reach Emscripten's JS (`scripts/libc-exports.txt`: the
//! heap, stdio output and its buffers, `errno`, the `rand` seed, `strtok`, the environment, the
//! clock and time zone), and the printf core (large, and already in every host). Every other
//! function of the C library is linked into the patch that calls it, from archives made once per
//! host (`filtered`): each member of Emscripten's archives that
//! 1. defines no symbol the host exports (the host's copy serves the patch),
//! 2. has no writable data (`.data`/`.bss` segments: a patch-local copy of such state would
//!    silently differ from the host's, e.g. a second `stdout` buffer), and
//! 3. needs only symbols the host exports, other such members define, or [`SHIMS`] provide.
//!
//! A library function that fails one of these is refused before sending, naming why and the fix
//! (export it from the host) — see [`PatchLibc::why_not`].

use super::cpp::archive_index;
use super::CompileError;
use hotwasm_abi::HostManifest;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use wasmparser::{KnownCustom, Linking, Parser, Payload, SymbolFlags, SymbolInfo, TypeRef};

/// The archives patches may link parts of (`lib<name>.a` in Emscripten's PIC library directory).
pub const ARCHIVES: [&str; 2] = ["c", "compiler_rt"];

/// Symbols every module gets from the dynamic linker, never from the host's exports.
const LINKER_SYMBOLS: [&str; 5] = [
    "__memory_base",
    "__table_base",
    "__stack_pointer",
    "__indirect_function_table",
    "__heap_base",
];

/// Hidden libc-internal aliases of host exports, provided to patch-linked members by a shim
/// object ([`shim_source`]) that calls the exported name: `strtod` and friends set `errno`
/// through `___errno_location`, an alias of the `__errno_location` every host exports.
pub const SHIMS: [(&str, &str, &str); 1] = [("___errno_location", "__errno_location", "int *")];

/// The C text of the shim object (compiled once per server).
pub fn shim_source() -> String {
    let mut out = String::from("/* hotwasm: libc-internal aliases of host exports */\n");
    for (alias, exported, ret) in SHIMS {
        out.push_str(&format!(
            "{ret}{exported}(void);\n__attribute__((visibility(\"hidden\"))) {ret}{alias}(void) {{ return {exported}(); }}\n"
        ));
    }
    out
}

/// One member of an archive: what it defines and needs, and whether it has writable data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// Global symbols it defines (functions and data, weak ones included).
    pub defines: Vec<String>,
    /// Symbols it needs (strong undefined functions and data, not the linker's own).
    pub needs: Vec<String>,
    /// It has a `.data`, `.bss` or thread-local segment: state a patch-local copy would split.
    pub stateful: bool,
}

/// Reads one relocatable wasm object's definitions, needs and state.
pub fn read_member(object: &[u8]) -> Result<Member, String> {
    let mut funcs: Vec<Option<String>> = Vec::new();
    let mut member = Member::default();
    for payload in Parser::new(0).parse_all(object) {
        match payload.map_err(|e| e.to_string())? {
            Payload::ImportSection(r) => {
                for import in r {
                    let import = import.map_err(|e| e.to_string())?;
                    if let TypeRef::Func(_) = import.ty {
                        funcs.push(Some(import.name.to_string()));
                    }
                }
            }
            Payload::CustomSection(custom) => {
                let KnownCustom::Linking(linking) = custom.as_known() else {
                    continue;
                };
                for sub in linking.subsections() {
                    match sub.map_err(|e| e.to_string())? {
                        Linking::SegmentInfo(segments) => {
                            for s in segments {
                                let name = s.map_err(|e| e.to_string())?.name;
                                member.stateful |= [".data", ".bss", ".tdata", ".tbss"]
                                    .iter()
                                    .any(|p| name == *p || name.starts_with(&format!("{p}.")));
                            }
                        }
                        Linking::SymbolTable(symbols) => {
                            for s in symbols {
                                add_symbol(&mut member, s.map_err(|e| e.to_string())?, &funcs);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    member.defines.sort();
    member.defines.dedup();
    member.needs.sort();
    member.needs.dedup();
    member.needs.retain(|n| !member.defines.contains(n));
    Ok(member)
}

fn add_symbol(member: &mut Member, symbol: SymbolInfo<'_>, funcs: &[Option<String>]) {
    let (flags, name) = match symbol {
        SymbolInfo::Func { flags, index, name } => {
            let name = name
                .map(str::to_string)
                .or_else(|| funcs.get(index as usize).cloned().flatten());
            (flags, name)
        }
        SymbolInfo::Data { flags, name, .. } => (flags, Some(name.to_string())),
        _ => return,
    };
    let Some(name) = name else { return };
    if flags.contains(SymbolFlags::BINDING_LOCAL) || LINKER_SYMBOLS.contains(&name.as_str()) {
        return;
    }
    if !flags.contains(SymbolFlags::UNDEFINED) {
        member.defines.push(name);
    } else if !flags.contains(SymbolFlags::BINDING_WEAK) {
        member.needs.push(name);
    }
}

/// Why a library function cannot be linked into a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotLinkable {
    /// Its member keeps state (writable data).
    State,
    /// It needs `symbol`, which neither the host nor a linkable member provides.
    Needs(String),
    /// Its member defines `symbol` too, which the host exports (the member stays the host's).
    BesideHost(String),
}

/// Which members of `members` (archive member name → member) a patch may link, given the
/// symbols `exported` by the host: see the module documentation. Returns the linkable member
/// names and, for every symbol of a refused member, why.
pub fn select(
    members: &BTreeMap<String, Member>,
    exported: &dyn Fn(&str) -> bool,
) -> (BTreeSet<String>, HashMap<String, NotLinkable>) {
    let shimmed = |s: &str| SHIMS.iter().any(|(alias, _, _)| *alias == s);
    let mut refused: HashMap<String, NotLinkable> = HashMap::new();
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for (name, m) in members {
        if let Some(host_one) = m.defines.iter().find(|d| exported(d)) {
            for d in m.defines.iter().filter(|d| !exported(d)) {
                refused.insert(d.clone(), NotLinkable::BesideHost(host_one.clone()));
            }
            continue;
        }
        if m.stateful {
            for d in &m.defines {
                refused.insert(d.clone(), NotLinkable::State);
            }
            continue;
        }
        keep.insert(name.clone());
    }
    loop {
        let provided: HashSet<&str> = keep
            .iter()
            .flat_map(|k| members[k].defines.iter().map(String::as_str))
            .collect();
        let dropped: Vec<(String, String)> = keep
            .iter()
            .filter_map(|k| {
                members[k]
                    .needs
                    .iter()
                    .find(|n| !exported(n) && !provided.contains(n.as_str()) && !shimmed(n))
                    .map(|n| (k.clone(), n.clone()))
            })
            .collect();
        if dropped.is_empty() {
            break;
        }
        for (k, need) in dropped {
            keep.remove(&k);
            for d in &members[&k].defines {
                let why = match refused.get(&need) {
                    Some(NotLinkable::Needs(deeper)) => NotLinkable::Needs(deeper.clone()),
                    _ => NotLinkable::Needs(need.clone()),
                };
                refused.insert(d.clone(), why);
            }
        }
    }
    (keep, refused)
}

/// One archive member's place in the archive file.
struct ArMember {
    name: String,
    /// Header and data (with its padding byte), as in the archive.
    span: std::ops::Range<usize>,
    data: std::ops::Range<usize>,
}

/// Walks a GNU archive's members (not the symbol index nor the long-names member), resolving
/// long names; also returns the long-names member's span.
fn ar_members(ar: &[u8]) -> Option<(Vec<ArMember>, Option<std::ops::Range<usize>>)> {
    if !ar.starts_with(b"!<arch>\n") {
        return None;
    }
    let mut at = 8;
    let mut out = Vec::new();
    let mut long_names: Option<std::ops::Range<usize>> = None;
    let mut long_span = None;
    while at + 60 <= ar.len() {
        let header = &ar[at..at + 60];
        let size: usize = std::str::from_utf8(&header[48..58])
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let data = at + 60..at + 60 + size;
        let end = (data.end + data.end % 2).min(ar.len());
        let raw = std::str::from_utf8(&header[..16]).ok()?.trim_end();
        if raw == "//" {
            long_names = Some(data.clone());
            long_span = Some(at..end);
        } else if raw != "/" {
            let name = match raw.strip_prefix('/') {
                Some(offset) => {
                    let table = &ar[long_names.clone()?];
                    let rest = table.get(offset.parse::<usize>().ok()?..)?;
                    let stop = rest.iter().position(|b| *b == b'/' || *b == b'\n')?;
                    String::from_utf8_lossy(&rest[..stop]).into_owned()
                }
                None => raw.trim_end_matches('/').to_string(),
            };
            out.push(ArMember {
                name,
                span: at..end,
                data,
            });
        }
        at = end;
    }
    Some((out, long_span))
}

/// A GNU archive holding the members of `ar` named in `keep`, with a symbol index of what
/// they define (read from `ar`'s own index).
pub fn filter_archive(ar: &[u8], keep: &BTreeSet<String>) -> Option<Vec<u8>> {
    let (members, long_span) = ar_members(ar)?;
    let index = archive_index(ar)?;
    let kept: Vec<&ArMember> = members.iter().filter(|m| keep.contains(&m.name)).collect();
    let symbols: Vec<(&str, &str)> = index
        .iter()
        .filter(|(_, m)| keep.contains(m))
        .map(|(s, m)| (s.as_str(), m.as_str()))
        .collect();
    let index_len = 4 + 4 * symbols.len() + symbols.iter().map(|(s, _)| s.len() + 1).sum::<usize>();
    let mut at = 8 + 60 + index_len + index_len % 2;
    at += long_span.as_ref().map_or(0, |s| s.len());
    let mut offsets: HashMap<&str, u32> = HashMap::new();
    for m in &kept {
        offsets.insert(m.name.as_str(), u32::try_from(at).ok()?);
        at += m.span.len();
    }
    let mut out = Vec::with_capacity(at);
    out.extend_from_slice(b"!<arch>\n");
    out.extend(
        format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            "/", 0, 0, 0, 0, index_len
        )
        .bytes(),
    );
    out.extend(u32::try_from(symbols.len()).ok()?.to_be_bytes());
    for (_, m) in &symbols {
        out.extend(offsets.get(m)?.to_be_bytes());
    }
    for (s, _) in &symbols {
        out.extend(s.bytes());
        out.push(0);
    }
    if index_len % 2 == 1 {
        out.push(b'\n');
    }
    if let Some(span) = long_span {
        out.extend_from_slice(&ar[span]);
    }
    for m in kept {
        out.extend_from_slice(&ar[m.span.clone()]);
    }
    Some(out)
}

/// The C library patches link, made for one host's exports.
#[derive(Debug)]
pub struct PatchLibc {
    /// The filtered archives and the shim object.
    inputs: Vec<PathBuf>,
    /// Symbols the filtered archives define.
    defined: HashSet<String>,
    /// Library symbols a patch cannot link, with why.
    refused: HashMap<String, NotLinkable>,
    /// Which host exports this was made for.
    key: u64,
}

/// The key of a host's export set.
pub fn exports_key(host: &HostManifest) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut names: Vec<&str> = host.exports.iter().map(String::as_str).collect();
    names.sort_unstable();
    for b in names.iter().flat_map(|n| n.bytes().chain([0])) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl PatchLibc {
    /// Reads [`ARCHIVES`] from `dirs` (the learnt link line's `-L` directories), selects what a
    /// patch may link for `host`, and writes the filtered archives into `out` (plus `shim`, the
    /// compiled [`shim_source`] object, linked with them).
    pub fn make(
        dirs: &[PathBuf],
        host: &HostManifest,
        out: &Path,
        shim: PathBuf,
    ) -> Result<PatchLibc, CompileError> {
        let key = exports_key(host);
        let exported: HashSet<&str> = host.exports.iter().map(String::as_str).collect();
        let exported = |s: &str| exported.contains(s);
        let mut archives = Vec::new();
        let mut members = BTreeMap::new();
        for lib in ARCHIVES {
            let file = format!("lib{lib}.a");
            let path = dirs
                .iter()
                .map(|d| d.join(&file))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    CompileError::Learn(format!(
                        "{file} is not in Emscripten's PIC library directory ({}): run `embuilder build libc compiler-rt --pic`",
                        dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
                    ))
                })?;
            let bytes = std::fs::read(&path).map_err(CompileError::Io)?;
            let bad = |why: &str| CompileError::Learn(format!("{}: {why}", path.display()));
            let (list, _) = ar_members(&bytes).ok_or_else(|| bad("not a GNU archive"))?;
            for m in &list {
                let member = read_member(&bytes[m.data.clone()])
                    .map_err(|e| bad(&format!("member {}: {e}", m.name)))?;
                members.insert(format!("{lib}:{}", m.name), member);
            }
            archives.push((lib, path, bytes));
        }
        // One selection over both archives: libc members need compiler-rt's (`__trunctfdf2`).
        let (keep, mut refused) = select(&members, &exported);
        let defined: HashSet<String> = keep
            .iter()
            .flat_map(|k| members[k].defines.iter().cloned())
            .collect();
        let mut inputs = vec![shim];
        for (lib, path, bytes) in archives {
            let prefix = format!("{lib}:");
            let mine: BTreeSet<String> = keep
                .iter()
                .filter_map(|k| k.strip_prefix(&prefix).map(String::from))
                .collect();
            let filtered = filter_archive(&bytes, &mine).ok_or_else(|| {
                CompileError::Learn(format!(
                    "{}: its symbol index is unreadable",
                    path.display()
                ))
            })?;
            let target = out.join(format!("libhotwasm-{lib}-{key:016x}.a"));
            std::fs::write(&target, filtered).map_err(CompileError::Io)?;
            inputs.push(target);
        }
        refused.retain(|s, _| !defined.contains(s) && !exported(s));
        Ok(PatchLibc {
            inputs,
            defined,
            refused,
            key,
        })
    }

    /// Whether this was made for `host`'s exports.
    pub fn fits(&self, host: &HostManifest) -> bool {
        self.key == exports_key(host)
    }

    /// Whether a patch links `symbol` from the C library.
    pub fn defines(&self, symbol: &str) -> bool {
        self.defined.contains(symbol)
    }

    /// Whether `symbol` is a C library symbol (linkable or refused): never a var.
    pub fn knows(&self, symbol: &str) -> bool {
        self.defined.contains(symbol) || self.refused.contains_key(symbol)
    }

    /// Why a patch cannot link the C library's `symbol`, if it is one it cannot link.
    pub fn why_not(&self, symbol: &str) -> Option<String> {
        self.refused.get(symbol).map(|why| match why {
            NotLinkable::State => "it keeps state inside the C library, so a patch must share the host's copy".to_string(),
            NotLinkable::Needs(need) => format!("it needs `{need}`, which keeps state inside the C library or reaches Emscripten's JS, so a patch must share the host's copy"),
            NotLinkable::BesideHost(exported) => format!("it lives beside `{exported}`, which the host exports, so a patch must share the host's copy"),
        })
    }

    /// Linker arguments adding the filtered archives (after `--no-whole-archive`: emcc links a
    /// SIDE_MODULE's inputs whole) when an object with these undefined symbols needs them.
    pub fn link_args<'a>(&self, mut undefined: impl Iterator<Item = &'a str>) -> Vec<String> {
        if !undefined.any(|s| self.defines(s)) {
            return Vec::new();
        }
        std::iter::once("--no-whole-archive".to_string())
            .chain(self.inputs.iter().map(|p| p.display().to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(defines: &[&str], needs: &[&str], stateful: bool) -> Member {
        Member {
            defines: defines.iter().map(|s| s.to_string()).collect(),
            needs: needs.iter().map(|s| s.to_string()).collect(),
            stateful,
        }
    }

    #[test]
    fn stateful_members_and_what_needs_them_are_refused_and_exported_ones_left_to_the_host() {
        let members: BTreeMap<String, Member> = [
            ("rand.o", member(&["rand", "srand"], &[], true)),
            ("hypot.o", member(&["hypot"], &["sqrt"], false)),
            ("sqrt.o", member(&["sqrt"], &[], false)),
            ("printf.o", member(&["printf"], &["__stdout_FILE"], false)),
            ("stdout.o", member(&["__stdout_FILE"], &[], true)),
            ("rnd.o", member(&["shuffle"], &["rand_internal"], false)),
            ("ri.o", member(&["rand_internal"], &[], true)),
            (
                "strtod.o",
                member(&["strtod"], &["___errno_location"], false),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let exported = |s: &str| s == "printf" || s == "sqrt";
        let (keep, why) = select(&members, &exported);
        assert_eq!(
            keep.into_iter().collect::<Vec<_>>(),
            ["hypot.o", "strtod.o"],
            "hypot needs the host's sqrt; strtod gets errno from the shim"
        );
        assert_eq!(why["rand"], NotLinkable::State);
        assert_eq!(why["shuffle"], NotLinkable::Needs("rand_internal".into()));
        assert!(
            !why.contains_key("printf"),
            "the host's printf serves patches"
        );
    }

    #[test]
    fn a_filtered_archive_keeps_the_chosen_members_and_their_index() {
        let header = |name: &str, size: usize| {
            format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 0)
        };
        let names = b"a_fn\0b_fn\0";
        let index_len = 4 + 8 + names.len();
        let a_at = (8 + 60 + index_len + index_len % 2) as u32;
        let b_at = a_at + 60 + 2;
        let mut ar = b"!<arch>\n".to_vec();
        ar.extend(header("/", index_len).bytes());
        ar.extend(2u32.to_be_bytes());
        ar.extend(a_at.to_be_bytes());
        ar.extend(b_at.to_be_bytes());
        ar.extend(names);
        ar.extend(header("a.o/", 2).bytes());
        ar.extend(b"aa");
        ar.extend(header("b.o/", 3).bytes());
        ar.extend(b"bbb\n");
        let keep: BTreeSet<String> = ["b.o".to_string()].into();
        let filtered = filter_archive(&ar, &keep).unwrap();
        assert_eq!(
            archive_index(&filtered),
            Some(vec![("b_fn".to_string(), "b.o".to_string())])
        );
        let (members, _) = ar_members(&filtered).unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(&filtered[members[0].data.clone()], b"bbb");
    }

    #[test]
    fn the_shim_defines_each_alias_by_calling_the_exported_name() {
        let text = shim_source();
        assert!(text.contains("___errno_location(void) { return __errno_location(); }"));
    }
}
#[cfg(test)]
mod probe {
    #[test]
    #[ignore]
    fn print_selection() {
        let host: hotwasm_abi::HostManifest = serde_json::from_str(
            &std::fs::read_to_string(std::env::var("HOST_JSON").unwrap()).unwrap(),
        )
        .unwrap();
        let dirs = vec![std::path::PathBuf::from(
            "/root/.emscripten_cache/sysroot/lib/wasm32-emscripten/pic",
        )];
        let out = tempfile::tempdir().unwrap();
        let t = std::time::Instant::now();
        let l = super::PatchLibc::make(&dirs, &host, out.path(), out.path().join("x.o")).unwrap();
        eprintln!("made in {:?}", t.elapsed());
        for n in std::env::var("NAMES").unwrap().split_whitespace() {
            let state = if host.exports_symbol(n) {
                "HOST".to_string()
            } else if l.defines(n) {
                "PATCH".into()
            } else {
                format!("NO: {:?}", l.why_not(n))
            };
            eprintln!("{n:20} {state}");
        }
    }
}
