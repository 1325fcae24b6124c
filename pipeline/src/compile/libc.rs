//! The C library a C or C++ patch links itself: the part of Emscripten's PIC `libc.a` and
//! `libcompiler_rt.a` that the host does not export and that keeps no state.
//!
//! Decided by measurement (notes of issue 11, BENCHMARKS.md): a HOT_RELOAD host exports the C
//! library functions that keep state or reach Emscripten's JS (`scripts/libc-exports.txt`: the
//! heap, stdio output and its buffers, `errno`, the `rand` seed, `strtok`, the environment, the
//! clock and time zone), and the printf core (large, and already in every host). Every other
//! function of the C library is linked into the patch that calls it: the members of Emscripten's
//! archives it needs, transitively, extracted once per host as objects ([`PatchLibc::objects`]),
//! out of those that
//! 1. defines no symbol the host exports (the host's copy serves the patch),
//! 2. has no writable data (`.data`/`.bss` segments: a patch-local copy of such state would
//!    silently differ from the host's, e.g. a second `stdout` buffer), and
//! 3. needs only symbols the host exports, other such members define, or [`SHIMS`] provide.
//!
//! A library function that fails one of these is refused before sending, naming why and the fix
//! (export it from the host) — see [`PatchLibc::why_not`].

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

/// One archive member's name and where its data lies in the archive.
pub struct ArMember {
    /// Its file name.
    pub name: String,
    /// Where its bytes lie in the archive.
    pub data: std::ops::Range<usize>,
}

/// Walks a GNU archive's members (not the symbol index nor the long-names member), resolving
/// long names.
pub fn ar_members(ar: &[u8]) -> Option<Vec<ArMember>> {
    if !ar.starts_with(b"!<arch>\n") {
        return None;
    }
    let mut at = 8;
    let mut out = Vec::new();
    let mut long_names: Option<std::ops::Range<usize>> = None;
    while at + 60 <= ar.len() {
        let header = &ar[at..at + 60];
        let size: usize = std::str::from_utf8(&header[48..58])
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let data = at + 60..(at + 60 + size).min(ar.len());
        let raw = std::str::from_utf8(&header[..16]).ok()?.trim_end();
        if raw == "//" {
            long_names = Some(data.clone());
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
                data: data.clone(),
            });
        }
        at = data.end + data.end % 2;
    }
    Some(out)
}

/// The C library patches link, made for one host's exports: the linkable members extracted as
/// objects, and which member provides which symbol. A patch links exactly the members its
/// undefined symbols need, transitively, as plain objects: no archive for wasm-ld to index
/// (the filtered archives cost ~47 ms per link, measured; the needed objects next to nothing).
#[derive(Debug)]
pub struct PatchLibc {
    /// Linkable member (`lib:member`) → what it needs and the object file it was written to.
    members: HashMap<String, (Member, PathBuf)>,
    /// Symbol → the linkable member defining it.
    provider: HashMap<String, String>,
    /// Library symbols a patch cannot link, with why.
    refused: HashMap<String, NotLinkable>,
    /// The compiled [`shim_source`] object.
    shim: PathBuf,
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

/// Builds the [`ARCHIVES`] missing from `dirs` (Emscripten's PIC library directory, as the
/// learnt link line names it) with the `embuilder` beside `emcc`: on a machine whose Emscripten
/// cache has none yet (scripts/setup.sh builds them; a new `EM_CACHE` has none). Once per cache;
/// embuilder's progress goes to the server's stderr.
pub fn build_missing(emcc: &Path, dirs: &[PathBuf]) -> Result<(), CompileError> {
    let missing: Vec<String> = ARCHIVES
        .iter()
        .filter(|lib| !dirs.iter().any(|d| d.join(format!("lib{lib}.a")).is_file()))
        .map(|lib| format!("lib{lib}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let command = format!("embuilder build {} --pic", missing.join(" "));
    eprintln!("hotwasm: Emscripten's cache has no PIC {} for patches yet: building them once ({command}, about a minute each)", missing.join(" and "));
    let started = std::time::Instant::now();
    let status = std::process::Command::new(emcc.with_file_name("embuilder"))
        .arg("build")
        .args(&missing)
        .arg("--pic")
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| CompileError::Learn(format!("could not run `{command}`: {e}")))?;
    if !status.success() {
        return Err(CompileError::Learn(format!(
            "`{command}` failed ({status}): see its output above"
        )));
    }
    eprintln!(
        "hotwasm: built {} in {:.0} s",
        missing.join(" and "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Reads every member of [`ARCHIVES`] (found in `dirs`) as `lib:member` → (member, its bytes).
fn read_archives(dirs: &[PathBuf]) -> Result<BTreeMap<String, (Member, Vec<u8>)>, CompileError> {
    let mut members = BTreeMap::new();
    for lib in ARCHIVES {
        let file = format!("lib{lib}.a");
        let path = dirs
            .iter()
            .map(|d| d.join(&file))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                CompileError::Learn(format!(
                    "{file} is not in Emscripten's PIC library directory ({}): run `embuilder build libc libcompiler_rt --pic` (or `bash scripts/setup.sh`)",
                    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
                ))
            })?;
        let bytes = std::fs::read(&path).map_err(CompileError::Io)?;
        let bad = |why: &str| CompileError::Learn(format!("{}: {why}", path.display()));
        let list = ar_members(&bytes).ok_or_else(|| bad("not a GNU archive"))?;
        for m in list {
            let object = bytes[m.data.clone()].to_vec();
            let member =
                read_member(&object).map_err(|e| bad(&format!("member {}: {e}", m.name)))?;
            members.insert(format!("{lib}:{}", m.name), (member, object));
        }
    }
    Ok(members)
}

impl PatchLibc {
    /// Reads [`ARCHIVES`] from `dirs` (the learnt link line's `-L` directories), selects what a
    /// patch may link for `host` (one selection over both: libc members need compiler-rt's
    /// `__trunctfdf2`), and writes the linkable members into `out` as objects. `shim` is the
    /// compiled [`shim_source`].
    pub fn make(
        dirs: &[PathBuf],
        host: &HostManifest,
        out: &Path,
        shim: PathBuf,
    ) -> Result<PatchLibc, CompileError> {
        let exported: HashSet<&str> = host.exports.iter().map(String::as_str).collect();
        let exported = |s: &str| exported.contains(s);
        let read = read_archives(dirs)?;
        let plain: BTreeMap<String, Member> = read
            .iter()
            .map(|(k, (m, _))| (k.clone(), m.clone()))
            .collect();
        let (keep, mut refused) = select(&plain, &exported);
        let mut members = HashMap::new();
        let mut provider = HashMap::new();
        for (key, (member, object)) in read {
            if !keep.contains(&key) {
                continue;
            }
            let file = out.join(format!("{}.o", key.replace([':', '/'], "_")));
            std::fs::write(&file, object).map_err(CompileError::Io)?;
            for d in &member.defines {
                provider.entry(d.clone()).or_insert_with(|| key.clone());
            }
            members.insert(key, (member, file));
        }
        refused.retain(|s, _| !provider.contains_key(s) && !exported(s));
        Ok(PatchLibc {
            members,
            provider,
            refused,
            shim,
            key: exports_key(host),
        })
    }

    /// No C library for patches (making it failed): patches link as if every library function
    /// the host lacks were unknown, and the check refuses them by name.
    pub fn none(host: &HostManifest) -> PatchLibc {
        PatchLibc {
            members: HashMap::new(),
            provider: HashMap::new(),
            refused: HashMap::new(),
            shim: PathBuf::new(),
            key: exports_key(host),
        }
    }

    /// Whether this was made for `host`'s exports.
    pub fn fits(&self, host: &HostManifest) -> bool {
        self.key == exports_key(host)
    }

    /// Whether a patch links `symbol` from the C library.
    pub fn defines(&self, symbol: &str) -> bool {
        self.provider.contains_key(symbol)
    }

    /// Why a patch cannot link the C library's `symbol`, if it is one it cannot link.
    pub fn why_not(&self, symbol: &str) -> Option<String> {
        self.refused.get(symbol).map(|why| match why {
            NotLinkable::State => "it keeps state inside the C library, so a patch must share the host's copy".to_string(),
            NotLinkable::Needs(need) => format!("it needs `{need}`, which keeps state inside the C library or reaches Emscripten's JS, so a patch must share the host's copy"),
            NotLinkable::BesideHost(exported) => format!("it lives beside `{exported}`, which the host exports, so a patch must share the host's copy"),
        })
    }

    /// The objects to link with a patch whose undefined symbols are `undefined`: the members
    /// that define them and, transitively, what those need (plus the shim when one needs it).
    pub fn objects<'a>(&self, undefined: impl Iterator<Item = &'a str>) -> Vec<PathBuf> {
        let mut wanted: Vec<&str> = undefined
            .filter_map(|s| self.provider.get(s))
            .map(String::as_str)
            .collect();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut shim = false;
        while let Some(key) = wanted.pop() {
            if !seen.insert(key) {
                continue;
            }
            for need in &self.members[key].0.needs {
                match self.provider.get(need) {
                    Some(k) => wanted.push(k),
                    None => shim |= SHIMS.iter().any(|(alias, _, _)| alias == need),
                }
            }
        }
        let mut out: Vec<PathBuf> = seen.iter().map(|k| self.members[*k].1.clone()).collect();
        if shim {
            out.push(self.shim.clone());
        }
        out
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
    fn archive_members_are_read_with_long_names() {
        let header = |name: &str, size: usize| {
            format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 0)
        };
        let mut ar = b"!<arch>\n".to_vec();
        ar.extend(header("/", 4).bytes());
        ar.extend(0u32.to_be_bytes());
        let long = b"a_rather_long_member_name.o/\n";
        ar.extend(header("//", long.len()).bytes());
        ar.extend(long);
        if long.len() % 2 == 1 {
            ar.push(b'\n');
        }
        ar.extend(header("/0", 3).bytes());
        ar.extend(b"abc\n");
        ar.extend(header("b.o/", 2).bytes());
        ar.extend(b"bb");
        let members = ar_members(&ar).unwrap();
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a_rather_long_member_name.o", "b.o"]);
        assert_eq!(&ar[members[0].data.clone()], b"abc");
        assert_eq!(&ar[members[1].data.clone()], b"bb");
    }

    #[test]
    fn a_patch_links_exactly_the_members_its_calls_need() {
        let dir = tempfile::tempdir().unwrap();
        let key = |k: &str| (member(&[], &[], false), dir.path().join(k));
        let mut members = HashMap::new();
        let mut m = key("hypot");
        m.0 = member(&["hypot"], &["__sqrt_helper", "___errno_location"], false);
        members.insert("c:hypot.o".to_string(), m);
        let mut m = key("sqrth");
        m.0 = member(&["__sqrt_helper"], &[], false);
        members.insert("c:sqrth.o".to_string(), m);
        members.insert("c:qsort.o".to_string(), key("qsort"));
        let provider = [
            ("hypot", "c:hypot.o"),
            ("__sqrt_helper", "c:sqrth.o"),
            ("qsort", "c:qsort.o"),
        ]
        .map(|(s, k)| (s.to_string(), k.to_string()))
        .into();
        let libc = PatchLibc {
            members,
            provider,
            refused: HashMap::new(),
            shim: dir.path().join("shim"),
            key: 0,
        };
        let got = libc.objects(["hypot", "printf"].into_iter());
        assert_eq!(got, ["hypot", "sqrth", "shim"].map(|f| dir.path().join(f)));
        assert!(
            libc.objects(["printf"].into_iter()).is_empty(),
            "no C library call, no objects"
        );
    }

    #[test]
    fn the_shim_defines_each_alias_by_calling_the_exported_name() {
        let text = shim_source();
        assert!(text.contains("___errno_location(void) { return __errno_location(); }"));
    }
}
