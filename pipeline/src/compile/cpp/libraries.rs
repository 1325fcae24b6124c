//! The C++ libraries a patch links itself (Emscripten's PIC `-except` archives), the symbols
//! they define (read from each archive's GNU symbol index), and the part of them a C++ host
//! exports so that its exception ABI is the one patches bind to.

use super::{CppError, LIBRARIES};
use std::collections::HashSet;
use std::path::PathBuf;

/// Arguments appended to the learnt `wasm-ld` line of a C++ patch: the libraries of
/// [`LIBRARIES`], found through the `-L` directory emcc itself passed (Emscripten's PIC library
/// cache). Fails, naming the command that builds them, when one is missing.
pub fn link_args(learnt_link: &[String]) -> Result<Vec<String>, CppError> {
    let dirs = library_dirs(learnt_link);
    let mut args = Vec::new();
    for lib in LIBRARIES {
        let file = format!("lib{lib}.a");
        if !dirs.iter().any(|d| d.join(&file).is_file()) {
            return Err(CppError::LibraryMissing {
                library: file,
                searched: dirs.iter().map(|d| d.display().to_string()).collect(),
            });
        }
        args.push(format!("-l{lib}"));
    }
    Ok(args)
}

/// The C++ libraries a patch links, and the symbols they define: a call from the patch to one of
/// those is a library call the link resolves, never a var.
#[derive(Debug, Clone)]
pub struct Libraries {
    /// `-l<name>` for each of [`LIBRARIES`] (the learnt link line already has their `-L`).
    pub link_args: Vec<String>,
    defined: HashSet<String>,
}

impl Libraries {
    /// Finds [`LIBRARIES`] in the `-L` directories of the learnt `wasm-ld` line (Emscripten's PIC
    /// library cache) and reads their symbol indexes. Fails naming the command that builds them.
    pub fn find(learnt_link: &[String]) -> Result<Libraries, CppError> {
        let link_args = link_args(learnt_link)?;
        let dirs = library_dirs(learnt_link);
        let mut defined = HashSet::new();
        for lib in LIBRARIES {
            let file = format!("lib{lib}.a");
            let Some(path) = dirs.iter().map(|d| d.join(&file)).find(|p| p.is_file()) else {
                continue;
            };
            let bytes = std::fs::read(&path).map_err(|e| CppError::Archive {
                path: path.display().to_string(),
                why: e.to_string(),
            })?;
            let names = archive_symbols(&bytes).ok_or_else(|| CppError::Archive {
                path: path.display().to_string(),
                why: "it has no GNU symbol index".into(),
            })?;
            defined.extend(names);
        }
        Ok(Libraries { link_args, defined })
    }

    /// Whether one of the libraries defines `symbol`.
    pub fn defines(&self, symbol: &str) -> bool {
        self.defined.contains(symbol)
    }

    /// Whether an object whose undefined symbols are `undefined` needs the libraries at all. A patch
    /// that calls nothing of them links without them, as fast as C (the archives' indexes alone
    /// cost wasm-ld about 45 ms per link, measured).
    pub fn needed_by<'a>(&self, mut undefined: impl Iterator<Item = &'a str>) -> bool {
        undefined.any(|s| self.defines(s))
    }

    /// Whether `name` may be a var of a C++ patch: anything the libraries do not define.
    pub fn is_var_name(&self, name: &str) -> bool {
        !self.defines(name)
    }
}

fn library_dirs(learnt_link: &[String]) -> Vec<PathBuf> {
    learnt_link
        .iter()
        .filter_map(|a| a.strip_prefix("-L"))
        .map(PathBuf::from)
        .collect()
}

/// The names in a GNU-format archive's symbol index, or `None` when it has none.
pub fn archive_symbols(archive: &[u8]) -> Option<Vec<String>> {
    Some(
        archive_index(archive)?
            .into_iter()
            .map(|(s, _)| s)
            .collect(),
    )
}

/// A GNU-format archive's symbol index as `(symbol, member file name)` pairs (the `/` member: a
/// big-endian count, that many member offsets, then the NUL-terminated names; long member names
/// live in the `//` member), or `None` when it has none.
pub fn archive_index(archive: &[u8]) -> Option<Vec<(String, String)>> {
    let member = |at: usize| -> Option<(&[u8], &[u8])> {
        let header = archive.get(at..at + 60)?;
        let size: usize = std::str::from_utf8(&header[48..58])
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some((&header[..16], archive.get(at + 60..at + 60 + size)?))
    };
    if !archive.starts_with(b"!<arch>\n") {
        return None;
    }
    let (name, index) = member(8)?;
    if !name.starts_with(b"/ ") {
        return None;
    }
    // The long-names member, if any, follows the index.
    let after_index = 8 + 60 + index.len() + index.len() % 2;
    let long_names = member(after_index)
        .filter(|(n, _)| n.starts_with(b"// "))
        .map(|(_, body)| body);
    let member_name = |at: usize| -> Option<String> {
        let (raw, _) = member(at)?;
        let raw = std::str::from_utf8(raw).ok()?.trim_end();
        let name = match raw.strip_prefix('/') {
            Some(offset) if !offset.is_empty() => {
                let table = long_names?;
                let start: usize = offset.parse().ok()?;
                let rest = table.get(start..)?;
                let end = rest.iter().position(|b| *b == b'/' || *b == b'\n')?;
                String::from_utf8_lossy(&rest[..end]).into_owned()
            }
            _ => raw.trim_end_matches('/').to_string(),
        };
        Some(name)
    };
    let count = u32::from_be_bytes(index.get(..4)?.try_into().ok()?) as usize;
    let offsets = index.get(4..4 + 4 * count)?;
    let names = index.get(4 + 4 * count..)?;
    let mut out = Vec::with_capacity(count);
    for (i, symbol) in names.split(|b| *b == 0).take(count).enumerate() {
        let at = u32::from_be_bytes(offsets[4 * i..4 * i + 4].try_into().ok()?) as usize;
        out.push((
            String::from_utf8_lossy(symbol).into_owned(),
            member_name(at)?,
        ));
    }
    Some(out)
}

/// Members of libc++abi and libunwind that make up the C++ exception ABI: what a C++ host exports
/// (when it links them) so that host code catching `std::exception` matches what a patch throws
/// (typeinfo objects are compared by address) and one exception runtime serves both.
pub const HOST_ABI_MEMBERS: [(&str, &[&str]); 2] = [
    (
        "c++abi-except",
        &[
            "cxa_exception.o",
            "cxa_exception_storage.o",
            "cxa_personality.o",
            "cxa_handlers.o",
            "stdlib_exception.o",
            "stdlib_stdexcept.o",
            "stdlib_typeinfo.o",
            "private_typeinfo.o",
        ],
    ),
    ("unwind-except", &["Unwind-wasm.o"]),
];

/// The symbols a HOT_RELOAD C++ host exports (as `--export-if-defined=<symbol>`) so that its own
/// C++ exception ABI is the one patches bind to: every symbol [`HOST_ABI_MEMBERS`] define, read
/// from the archives in `dirs` (Emscripten's library directories). Measured on a small C++ host:
/// +24.6 KB wasm, +54 KB JS.
pub fn host_abi_exports(dirs: &[PathBuf]) -> Result<Vec<String>, CppError> {
    let mut out = Vec::new();
    for (lib, members) in HOST_ABI_MEMBERS {
        let file = format!("lib{lib}.a");
        let path = dirs
            .iter()
            .map(|d| d.join(&file))
            .find(|p| p.is_file())
            .ok_or_else(|| CppError::LibraryMissing {
                library: file.clone(),
                searched: dirs.iter().map(|d| d.display().to_string()).collect(),
            })?;
        let archive_error = |why: String| CppError::Archive {
            path: path.display().to_string(),
            why,
        };
        let bytes = std::fs::read(&path).map_err(|e| archive_error(e.to_string()))?;
        let index = archive_index(&bytes)
            .ok_or_else(|| archive_error("it has no GNU symbol index".into()))?;
        out.extend(
            index
                .into_iter()
                .filter(|(_, m)| members.contains(&m.as_str()))
                .map(|(s, _)| s),
        );
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Name prefixes of the C++ ABI data a class's identity lives in: typeinfo (`_ZTI`), its name
/// (`_ZTS`), the vtable (`_ZTV`) and the VTT (`_ZTT`).
pub const HOST_TYPE_PREFIXES: [&str; 4] = ["_ZTI", "_ZTS", "_ZTV", "_ZTT"];

/// The typeinfo, type names, vtables and VTTs a C++ host object defines (weak ones included:
/// classes without a key function, templates), which a HOT_RELOAD C++ host exports so that a patch
/// binds to the host's copy: `typeid`, `dynamic_cast` and `catch` compare typeinfo by address, so a
/// patch-local copy of a host class's typeinfo would make `catch (HostError &)` miss what the host
/// throws and `dynamic_cast<HostCircle *>` fail on the host's objects, and a class whose key
/// function the host defines has its typeinfo and vtable in the host only.
pub fn host_type_symbols(object: &[u8]) -> Result<Vec<String>, String> {
    let member = crate::compile::libc::read_member(object)?;
    Ok(member
        .defines
        .into_iter()
        .filter(|s| HOST_TYPE_PREFIXES.iter().any(|p| s.starts_with(p)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_libraries_name_the_command_that_builds_them() {
        let e = link_args(&["wasm-ld".into(), "-L/nonexistent/pic".into()]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("libc++-except.a") && text.contains("embuilder"),
            "{text}"
        );
    }

    #[test]
    fn archive_symbol_index_is_read() {
        let header = |name: &str, size: usize| {
            format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 0)
        };
        let names = b"_Znwm\0__cxa_throw\0";
        let index_len = 4 + 8 + names.len();
        let member_at = (8 + 60 + index_len + index_len % 2) as u32;
        let mut ar = b"!<arch>\n".to_vec();
        ar.extend(header("/", index_len).bytes());
        ar.extend(2u32.to_be_bytes());
        ar.extend(member_at.to_be_bytes());
        ar.extend(member_at.to_be_bytes());
        ar.extend(names);
        if index_len % 2 == 1 {
            ar.push(b'\n');
        }
        ar.extend(header("new.o/", 2).bytes());
        ar.extend(b"xx");
        assert_eq!(
            archive_index(&ar),
            Some(vec![
                ("_Znwm".to_string(), "new.o".to_string()),
                ("__cxa_throw".to_string(), "new.o".to_string())
            ])
        );
        assert_eq!(archive_symbols(b"not an archive"), None);
    }
}
