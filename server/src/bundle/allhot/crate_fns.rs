//! Step 1 of an all-hot build for a Rust host: the plan, read from the linked wasm's name section
//! (a Rust host's app code reaches no object file the build keeps: cargo links through rustc,
//! with LTO). Every function whose symbol demangles to the app's crate is the app's
//! ([`hotwasm_pipeline::compile::rust_paths`]); generic instances, closures and trait methods
//! are listed cold with why, as are functions `[hot] cold` names by path.
//!
//! The directory is linked into the host, and the plan is known only after the link, so the
//! first all-hot build links twice (once to learn the functions, once with their directory);
//! later builds link again only when the set of functions changed.

use super::{directory, ColdFn, HotFn, Plan};
use crate::bundle::BuildError;
use crate::compile::rust_paths::{self, RustFn};
use crate::config::Config;
use crate::home::Home;
use hotwasm_abi::wasm::signature_of;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef};

/// The crate names of the app: its package's name as rustc spells a crate (`-` → `_`).
pub fn app_crates(config: &Config) -> Vec<String> {
    config
        .build
        .package
        .iter()
        .map(|p| p.replace('-', "_"))
        .collect()
}

/// Each function of the linked `wasm` with its name-section name and signature letters
/// (`None` when letters cannot say its type).
fn named_functions(wasm: &[u8]) -> Result<Vec<(String, Option<String>)>, String> {
    let bad = |e: wasmparser::BinaryReaderError| format!("reading the linked host: {e}");
    let mut types = Vec::new();
    let mut funcs: Vec<u32> = Vec::new();
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(bad)? {
            Payload::TypeSection(r) => {
                for ty in r.into_iter_err_on_gc_types() {
                    types.push(ty.map_err(bad)?);
                }
            }
            Payload::ImportSection(r) => {
                for import in r {
                    if let TypeRef::Func(t) = import.map_err(bad)?.ty {
                        funcs.push(t);
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for f in r {
                    funcs.push(f.map_err(bad)?);
                }
            }
            Payload::CustomSection(custom) => {
                let KnownCustom::Name(reader) = custom.as_known() else {
                    continue;
                };
                for sub in reader {
                    let Name::Function(map) = sub.map_err(bad)? else {
                        continue;
                    };
                    for naming in map {
                        let naming = naming.map_err(bad)?;
                        names.insert(naming.index, naming.name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    if names.is_empty() {
        return Err("the linked host has no name section (the all-hot link adds --profiling-funcs): a bug in hotwasm's all-hot build".into());
    }
    Ok(names
        .into_iter()
        .map(|(index, name)| {
            let signature = funcs
                .get(index as usize)
                .and_then(|t| types.get(*t as usize))
                .and_then(signature_of)
                .map(|s| s.to_string());
            (name, signature)
        })
        .collect())
}

/// The plan of the Rust host `wasm` of `config`: the functions of the app's crates.
pub fn plan(config: &Config, wasm: &[u8]) -> Result<Plan, String> {
    if !config.hot.cold_files.is_empty() {
        return Err(format!(
            "{}: [hot] cold_files names C/C++ source files; a Rust host keeps functions cold by path in [hot] cold (e.g. cold = [\"physics::advance\"])",
            config.file.display()
        ));
    }
    let crates = app_crates(config);
    let mut by_path: BTreeMap<String, Vec<(String, RustFn, Option<String>)>> = BTreeMap::new();
    let mut exported = Vec::new();
    for (name, signature) in named_functions(wasm)? {
        let Some(f) = rust_paths::parse(&name) else {
            if config.build.exports.contains(&name) && name != "main" {
                exported.push((name, signature));
            }
            continue;
        };
        if !crates.contains(&f.krate) || f.path == "main" {
            continue;
        }
        by_path
            .entry(f.path.clone())
            .or_default()
            .push((name, f, signature));
    }
    let mut plan = Plan::default();
    for (path, defs) in by_path {
        for (name, f, signature) in &defs {
            let cold = |why: String| ColdFn {
                name: name.clone(),
                why: format!("`{path}` is not hot: {why}"),
            };
            if let Some(why) = f.not_hot {
                plan.cold.push(cold(why.to_string()));
            } else if defs.len() > 1 {
                plan.cold.push(cold(format!("the host has {} functions of this path (the app's library and binary crates both define it?), so a patch's `{path}` does not say which: rename one", defs.len())));
            } else if config.hot.cold.contains(&path) {
                plan.cold.push(cold(format!(
                    "it is kept cold by [hot] cold in {}: remove it there and rebuild the host to make it hot",
                    config.file.display()
                )));
            } else if let Some(signature) = signature {
                plan.hot.push(HotFn {
                    name: name.clone(),
                    signature: signature.clone(),
                });
            } else {
                plan.cold.push(cold("it takes or returns a type a hot function cannot have (several results, SIMD): wrap it in a function of integers, floats and pointers".into()));
            }
        }
    }
    // The `#[no_mangle]` functions the page calls (`[build] exports`) are the app's too: hot by
    // their plain names, so a patch redefining one reaches the page's calls and the host's.
    for (name, signature) in exported {
        match signature {
            Some(signature) if !config.hot.cold.contains(&name) => {
                plan.hot.push(HotFn { name, signature })
            }
            _ => plan.cold.push(ColdFn {
                why: format!("`{name}` is kept cold by [hot] cold in {}, or takes or returns a type a hot function cannot have", config.file.display()),
                name,
            }),
        }
    }
    plan.hot.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(plan)
}

/// What all-hot adds to a Rust host's `RUSTFLAGS`: the directory object and the all-hot link
/// flags (`-O1`: no binaryen inlining or merging), as link args, and no inlining of the app's
/// functions into each other (a redefined function must change in every caller): rustc's MIR
/// inliner runs at `opt-level` 2 and 3 only, so the host compiles at `opt-level=1`, where LLVM's
/// inliner still runs, held back by an inline threshold no call meets (only `#[inline(always)]`
/// still inlines). Symbols use v0 mangling (`-C symbol-mangling-version=v0`, stable), which
/// spells a generic instance's type arguments (`spin::pick::<i32>`) where legacy mangling names
/// it as a plain function, so generic functions can be told apart and kept cold.
pub fn rustflags(bundle_dir: &Path, directory: &Path) -> String {
    let mut flags: Vec<String> = vec![
        "-C opt-level=1".into(),
        "-C symbol-mangling-version=v0".into(),
        format!("-C llvm-args=-inline-threshold={NO_INLINING}"),
        format!("-C link-arg={}", directory.display()),
    ];
    flags.extend(
        super::link_flags(bundle_dir)
            .into_iter()
            .map(|f| format!("-C link-arg={f}")),
    );
    format!(" {}", flags.join(" "))
}

/// An inline threshold no call meets, not even a call to a function with one caller (LLVM gives
/// those a bonus of 15,000).
const NO_INLINING: i32 = -100_000;

/// The directory object the next link of the Rust host in `bundle_dir` uses: the last plan's
/// (or an empty one before the first link).
pub fn directory_object(home: &Home, bundle_dir: &Path) -> Result<PathBuf, BuildError> {
    let object = bundle_dir.join("hotwasm-allhot.o");
    if object.is_file() && bundle_dir.join("hotwasm-allhot.c").is_file() {
        return Ok(object);
    }
    directory::compile(&Plan::default(), home, &cflags(home), bundle_dir)
}

/// Whether the directory linked into the host differs from `plan`'s; if so, writes and compiles
/// `plan`'s (the host must be linked again).
pub fn update_directory(plan: &Plan, home: &Home, bundle_dir: &Path) -> Result<bool, BuildError> {
    let linked = std::fs::read_to_string(bundle_dir.join("hotwasm-allhot.c")).unwrap_or_default();
    if linked == directory::source(plan) {
        return Ok(false);
    }
    directory::compile(plan, home, &cflags(home), bundle_dir)?;
    Ok(true)
}

fn cflags(home: &Home) -> Vec<String> {
    vec![
        "-O2".into(),
        "-fPIC".into(),
        format!("-I{}", home.abi_include().display()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, Function, FunctionSection, Instruction, Module, NameMap, NameSection,
        TypeSection, ValType,
    };

    /// A module of `i32 → i32` functions named `names` in its name section.
    fn module(names: &[&str]) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32], [ValType::I32]);
        let (mut funcs, mut code, mut map) =
            (FunctionSection::new(), CodeSection::new(), NameMap::new());
        for (i, name) in names.iter().enumerate() {
            funcs.function(0);
            let mut body = Function::new([]);
            body.instruction(&Instruction::LocalGet(0))
                .instruction(&Instruction::End);
            code.function(&body);
            map.append(i as u32, name);
        }
        let mut section = NameSection::new();
        section.functions(&map);
        let mut m = Module::new();
        m.section(&types)
            .section(&funcs)
            .section(&code)
            .section(&section);
        m.finish()
    }

    #[test]
    fn the_app_crates_plain_fns_are_hot_and_generic_closure_and_cold_ones_say_why() {
        let config = Config::parse(
            "[app]\nname = \"spin\"\nlang = \"rust\"\nexport_name = \"createSpin\"\n[build]\npackage = \"spin\"\nexports = [\"main\", \"spin_frame\"]\n[hot]\nmode = \"all\"\ncold = [\"checksum\"]\n",
            Path::new("/app/hotwasm.toml"),
        )
        .unwrap();
        let wasm = module(&[
            "_RNvNtCsj1f0hmlNGnl_4spin7physics7advance",
            "_RINvCsj1f0hmlNGnl_4spin4picklEB2_",
            "_RNCNvCsj1f0hmlNGnl_4spin5start0B3_",
            "_RNvCsj1f0hmlNGnl_4spin8checksum",
            "_RNvCsj1f0hmlNGnl_4spin4main",
            "_RNvNtCs9aZ_4core3fmt5write",
            "spin_frame",
            "spin_helper",
        ]);
        let plan = plan(&config, &wasm).unwrap();
        let hot: Vec<&str> = plan.hot.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            hot,
            ["_RNvNtCsj1f0hmlNGnl_4spin7physics7advance", "spin_frame"],
            "the crate's plain fns, and the #[no_mangle] ones the page calls"
        );
        assert_eq!(plan.hot[0].signature, "ii");
        let why = |name: &str| {
            plan.cold
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.why.clone())
                .unwrap_or_default()
        };
        assert!(why("_RINvCsj1f0hmlNGnl_4spin4picklEB2_").contains("it is generic"));
        assert!(why("_RNCNvCsj1f0hmlNGnl_4spin5start0B3_").contains("it is a closure"));
        assert!(why("_RNvCsj1f0hmlNGnl_4spin8checksum").contains("kept cold by [hot] cold"));
        assert_eq!(
            plan.cold.len(),
            3,
            "main, core's and unexported C-named functions are not listed"
        );
    }

    #[test]
    fn cold_files_in_a_rust_hosts_config_is_refused_naming_the_key_to_use() {
        let config = Config::parse(
            "[app]\nname = \"spin\"\nlang = \"rust\"\nexport_name = \"createSpin\"\n[build]\npackage = \"spin\"\n[hot]\nmode = \"all\"\ncold_files = [\"src/physics.rs\"]\n",
            Path::new("/app/hotwasm.toml"),
        )
        .unwrap();
        let e = plan(&config, &module(&["_RNvCsj1f0hmlNGnl_4spin4step"])).unwrap_err();
        assert!(
            e.contains("[hot] cold_files") && e.contains("[hot] cold"),
            "{e}"
        );
    }
}
