//! Linking one eval's object into a SIDE_MODULE: the wasm-ld process emcc would run, timed,
//! beside the same link run inside the session process ([`crate::Session::link`]), and the
//! archive member cache that spares that link reading whole archives ([`MemberCache`]).
//!
//! Decided by measurement (docs/INCREMENTAL.md, "Link: archive members"): a C++ patch using
//! `std::vector`, `std::sort` and `std::to_string` links 15 members of libc++ and libc++abi, but
//! handing wasm-ld the three archives (`-lc++-except -lc++abi-except -lunwind-except`) makes it
//! read their symbol indexes (tens of thousands of lazy symbols) on every link: ~47 ms of CPU
//! per link against ~26 ms with the same members given as objects (~17 ms with no library).
//! A pre-linked relocatable object of those members (`wasm-ld -r`) measured no faster than the
//! members themselves.

use hotwasm_pipeline::compile::cpp::libraries::archive_index;
use hotwasm_pipeline::compile::libc::{ar_members, read_member, Member};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// Runs the wasm-ld line `argv` as a process: (elapsed, success, what it printed).
pub fn wasm_ld_process(argv: &[String]) -> std::io::Result<(Duration, bool, String)> {
    let started = Instant::now();
    let out = Command::new(&argv[0]).args(&argv[1..]).output()?;
    let printed = String::from_utf8_lossy(&out.stderr).into_owned();
    Ok((started.elapsed(), out.status.success(), printed))
}

/// `argv` with its linker binary replaced by `wasm-ld` (what lld's in-process driver expects).
pub fn in_process_argv(argv: &[String]) -> Vec<String> {
    std::iter::once("wasm-ld".to_string())
        .chain(argv.iter().skip(1).cloned())
        .collect()
}

/// Bumped when what the cache writes changes, so an older layout is never read.
const CACHE_FORMAT: u32 = 1;

/// The archives a link line names by `-l`, read once per toolchain: each one's symbol index and
/// its members, written as objects on first need under a directory named by the archive's path,
/// size and modification time (a rebuilt or replaced toolchain gets a new one). A link line
/// whose `-l` archives are all cached is given the members its objects need instead
/// ([`MemberCache::members_for`]).
pub struct MemberCache {
    root: PathBuf,
    archives: Mutex<HashMap<PathBuf, Arc<Archive>>>,
}

/// One archive as the cache knows it.
struct Archive {
    /// Size and modification time when it was read: it is read again when either changes.
    stamp: (u64, Option<SystemTime>),
    /// Symbol → index in `members` of the member defining it (the first, as lld's lazy symbols).
    provider: HashMap<String, usize>,
    /// Member name and where it lies in `bytes`.
    members: Vec<(String, std::ops::Range<usize>)>,
    bytes: Vec<u8>,
    /// Where its members are written.
    dir: PathBuf,
    /// What each member defines and needs, read on first need.
    read: Mutex<HashMap<usize, Arc<Member>>>,
}

/// A link line the cache leaves as it is, and why (for tests and the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unchanged {
    /// It names no `-l` archive.
    NoArchives,
    /// Something on it is not understood well enough to pick members for it.
    Unsure(String),
}

impl MemberCache {
    /// A cache writing members under `root`.
    pub fn new(root: impl Into<PathBuf>) -> MemberCache {
        MemberCache {
            root: root.into(),
            archives: Mutex::new(HashMap::new()),
        }
    }

    /// The process's cache, under `$HOTWASM_CACHE/archive-members` (default `~/.cache/hotwasm`,
    /// where scripts/setup.sh keeps the toolchain), else the temp directory.
    pub fn global() -> &'static MemberCache {
        static CACHE: OnceLock<MemberCache> = OnceLock::new();
        CACHE.get_or_init(|| {
            let base = std::env::var_os("HOTWASM_CACHE")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/hotwasm")))
                .unwrap_or_else(std::env::temp_dir);
            MemberCache::new(base.join("archive-members"))
        })
    }

    /// `argv` (a wasm-ld line) with each `-l<name>` archive replaced by the members of it that
    /// the line's objects need, transitively, as lld would extract them: a symbol an object
    /// needs (strongly) and no earlier input defines comes from the first archive whose index
    /// has it. `Err` names what kept the line as it is.
    pub fn members_for(&self, argv: &[String]) -> Result<Vec<String>, Unchanged> {
        let line = Line::read(argv)?;
        if line.libs.is_empty() {
            return Err(Unchanged::NoArchives);
        }
        let archives = line
            .libs
            .iter()
            .map(|(_, name)| self.archive(&line.find(name)?))
            .collect::<Result<Vec<_>, _>>()?;
        // A wrapped name the archives define would change what they are asked for.
        let wraps = line
            .wrapped
            .iter()
            .flat_map(|n| [n.clone(), format!("__wrap_{n}"), format!("__real_{n}")]);
        let mut wraps = wraps;
        if let Some(name) = wraps.find(|n| archives.iter().any(|a| a.provider.contains_key(n))) {
            return Err(Unchanged::Unsure(format!(
                "the archives define the wrapped {name}"
            )));
        }
        let mut defined: HashSet<String> = HashSet::new();
        let mut wanted: Vec<String> = line.roots.clone();
        for object in &line.objects {
            let bytes = std::fs::read(object).map_err(|e| unsure(object, e))?;
            let member = read_member(&bytes).map_err(|e| unsure(object, e))?;
            defined.extend(member.defines);
            wanted.extend(member.needs);
        }
        let mut picked: Vec<Vec<usize>> = vec![Vec::new(); archives.len()];
        while let Some(symbol) = wanted.pop() {
            if defined.contains(&symbol) {
                continue;
            }
            let found = archives
                .iter()
                .enumerate()
                .find_map(|(a, ar)| ar.provider.get(&symbol).map(|m| (a, *m)));
            let Some((a, m)) = found else {
                // Not in any archive: the host provides it at load (or the link says it is missing).
                defined.insert(symbol);
                continue;
            };
            let member = archives[a].member(m)?;
            picked[a].push(m);
            defined.extend(member.defines.iter().cloned());
            defined.insert(symbol);
            wanted.extend(member.needs.iter().cloned());
        }
        let mut files = Vec::new();
        for (archive, members) in archives.iter().zip(&picked) {
            files.push(
                members
                    .iter()
                    .map(|m| archive.file(*m))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(line.with_members(argv, files))
    }

    /// The cached `path`, read (again) when it is new or changed.
    fn archive(&self, path: &Path) -> Result<Arc<Archive>, Unchanged> {
        let meta = std::fs::metadata(path).map_err(|e| unsure(path, e))?;
        let stamp = (meta.len(), meta.modified().ok());
        let mut archives = self.archives.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = archives.get(path).filter(|a| a.stamp == stamp) {
            return Ok(a.clone());
        }
        let started = Instant::now();
        let archive = Arc::new(Archive::read(path, stamp, &self.root)?);
        if started.elapsed() > Duration::from_secs(1) {
            eprintln!(
                "hotwasm: indexed {} for patch links in {:.1} s (once per toolchain)",
                path.display(),
                started.elapsed().as_secs_f64()
            );
        }
        archives.insert(path.to_path_buf(), archive.clone());
        Ok(archive)
    }
}

fn unsure(what: &Path, e: impl std::fmt::Display) -> Unchanged {
    Unchanged::Unsure(format!("{}: {e}", what.display()))
}

impl Archive {
    /// Reads the archive at `path` (whose size and time are `stamp`): its members and symbol
    /// index. Members are written under `root` when first needed.
    fn read(
        path: &Path,
        stamp: (u64, Option<SystemTime>),
        root: &Path,
    ) -> Result<Archive, Unchanged> {
        let bytes = std::fs::read(path).map_err(|e| unsure(path, e))?;
        let bad = |why: &str| Unchanged::Unsure(format!("{}: {why}", path.display()));
        let members: Vec<(String, std::ops::Range<usize>)> = ar_members(&bytes)
            .ok_or_else(|| bad("not a GNU archive"))?
            .into_iter()
            .map(|m| (m.name, m.data))
            .collect();
        let by_name: HashMap<&str, usize> = members
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i))
            .collect();
        if by_name.len() != members.len() {
            return Err(bad("two members share a name"));
        }
        let mut provider = HashMap::new();
        for (symbol, member) in archive_index(&bytes).ok_or_else(|| bad("no symbol index"))? {
            let m = *by_name
                .get(member.as_str())
                .ok_or_else(|| bad("its index names a missing member"))?;
            provider.entry(symbol).or_insert(m);
        }
        let dir = root.join(stamp_key(path, stamp));
        Ok(Archive {
            stamp,
            provider,
            members,
            bytes,
            dir,
            read: Mutex::new(HashMap::new()),
        })
    }

    /// What member `m` defines and needs.
    fn member(&self, m: usize) -> Result<Arc<Member>, Unchanged> {
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(member) = read.get(&m) {
            return Ok(member.clone());
        }
        let (name, range) = &self.members[m];
        let member = read_member(&self.bytes[range.clone()])
            .map_err(|e| Unchanged::Unsure(format!("{}({name}): {e}", self.dir.display())))?;
        let member = Arc::new(member);
        read.insert(m, member.clone());
        Ok(member)
    }

    /// Member `m` as an object file, written (atomically) when it is not there yet.
    fn file(&self, m: usize) -> Result<String, Unchanged> {
        let (name, range) = &self.members[m];
        let file = self.dir.join(format!("{m}-{name}"));
        if !file.is_file() {
            let write = || -> std::io::Result<()> {
                std::fs::create_dir_all(&self.dir)?;
                let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
                std::io::Write::write_all(&mut tmp, &self.bytes[range.clone()])?;
                tmp.persist(&file)?;
                Ok(())
            };
            write().map_err(|e| unsure(&file, e))?;
        }
        Ok(file.display().to_string())
    }
}

/// The cache directory's name for the archive at `path` with `stamp` (FNV-1a of both).
fn stamp_key(path: &Path, stamp: (u64, Option<SystemTime>)) -> String {
    let nanos = stamp
        .1
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let text = format!("{CACHE_FORMAT}\0{}\0{}\0{nanos}", path.display(), stamp.0);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    format!("{stem}-{h:016x}")
}

/// What a wasm-ld line links: its objects, its `-l` archives (argv index, name), its `-L`
/// directories and the symbols it asks for by name (`--export=`, `-u`).
struct Line {
    objects: Vec<PathBuf>,
    libs: Vec<(usize, String)>,
    dirs: Vec<PathBuf>,
    roots: Vec<String>,
    /// Names given to `--wrap=`.
    wrapped: Vec<String>,
}

/// Options of wasm-ld whose value is the next argument.
const WITH_VALUE: [&str; 6] = ["-o", "-mllvm", "-z", "-L", "-l", "-u"];

impl Line {
    /// Reads `argv`; refuses anything that changes how archives are read (`--whole-archive`
    /// around an archive, archives given by path, `--start-lib`, `--wrap`, response files).
    fn read(argv: &[String]) -> Result<Line, Unchanged> {
        let mut line = Line {
            objects: Vec::new(),
            libs: Vec::new(),
            dirs: Vec::new(),
            roots: Vec::new(),
            wrapped: Vec::new(),
        };
        let mut whole = false;
        let mut args = argv.iter().enumerate().skip(1);
        while let Some((i, a)) = args.next() {
            let refuse = || Err(Unchanged::Unsure(format!("the link line has `{a}`")));
            if WITH_VALUE.contains(&a.as_str()) {
                let value = args.next().map(|(_, v)| v.clone()).unwrap_or_default();
                match a.as_str() {
                    "-L" | "-l" => return refuse(),
                    "-u" => line.roots.push(value),
                    _ => {}
                }
            } else if let Some(dir) = a.strip_prefix("-L") {
                line.dirs.push(PathBuf::from(dir));
            } else if let Some(lib) = a.strip_prefix("-l") {
                if whole {
                    return refuse();
                }
                line.libs.push((i, lib.to_string()));
            } else if let Some(sym) = a
                .strip_prefix("--export=")
                .or_else(|| a.strip_prefix("--undefined="))
            {
                line.roots.push(sym.to_string());
            } else if a == "--whole-archive" {
                whole = true;
            } else if a == "--no-whole-archive" {
                whole = false;
            } else if a.starts_with("--start-lib") || a.starts_with('@') {
                return refuse();
            } else if let Some(name) = a.strip_prefix("--wrap=") {
                line.wrapped.push(name.to_string());
            } else if a == "--wrap" {
                return refuse();
            } else if !a.starts_with('-') {
                if a.ends_with(".a") || a.ends_with(".so") {
                    return refuse();
                }
                line.objects.push(PathBuf::from(a));
            }
        }
        Ok(line)
    }

    /// The archive `-l<name>` names: `lib<name>.a` in the first `-L` directory holding it.
    fn find(&self, name: &str) -> Result<PathBuf, Unchanged> {
        let file = format!("lib{name}.a");
        self.dirs
            .iter()
            .map(|d| d.join(&file))
            .find(|p| p.is_file())
            .ok_or_else(|| Unchanged::Unsure(format!("no {file} in the -L directories")))
    }

    /// `argv` with the `-l` argument of archive `k` replaced by `files[k]`.
    fn with_members(&self, argv: &[String], files: Vec<Vec<String>>) -> Vec<String> {
        let mut by_index: HashMap<usize, Vec<String>> =
            self.libs.iter().map(|(i, _)| *i).zip(files).collect();
        argv.iter()
            .enumerate()
            .flat_map(|(i, a)| by_index.remove(&i).unwrap_or_else(|| vec![a.clone()]))
            .collect()
    }
}
