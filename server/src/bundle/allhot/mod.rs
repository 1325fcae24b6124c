//! All-hot mode (`[hot] mode = "all"`, docs/ALL-HOT.md): every function of a C/C++ host's own
//! sources is hot — `static` ones included, with no `HOTWASM_FN` — unless kept cold.
//!
//! The story of one all-hot build, around the ordinary compile and link of [`super::c_host`]:
//! 1. **plan** ([`plan`]): the functions the app's objects define ([`objects`]), minus those kept
//!    cold by `[hot] cold` / `cold_files`, names two files define (ambiguous `static`s) and
//!    types a var cannot have; each kept function gets a slot, in name order;
//! 2. **directory** ([`directory`]): a generated C file with the sorted names, their signatures
//!    and the slots, registered with the runtime by one constructor (no work per function);
//! 3. **link** as usual, at `-O1` (no binaryen inlining, dead-argument elimination or merging
//!    of identical functions, which would hide a function from its replacement) with the name
//!    section (`--profiling-funcs`); app sources compile with `-fno-inline`;
//! 4. **rewrite** ([`rewrite`]) the linked wasm: each hot function's body moves to a new
//!    function placed in the table, its slot is filled with that table index at instantiation,
//!    every direct call of it loads the slot and calls indirectly, and the function itself
//!    becomes a trampoline through the slot (so function pointers and exports see patches too);
//! 5. **manifest** ([`extend_manifest`]): the hot functions become host vars, the others are
//!    listed with the reason a patch cannot replace or call them.
//!
//! A Rust host ([`super::rust_host`]) takes the same steps in another order: its plan is the
//! app crate's functions in the linked wasm's name section ([`crate_fns`]), so it links, plans,
//! and links again with the directory when the functions changed; then the same rewrite.

pub mod crate_fns;
pub mod directory;
pub mod linkmap;
pub mod objects;
pub mod rewrite;

use super::{say, BuildError};
use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The plan's file name in the bundle directory (read back when the manifest is written).
pub const PLAN_FILE: &str = "hotwasm-allhot.json";

/// What an all-hot build makes hot and what it keeps cold.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    /// The hot functions in slot order (sorted by name).
    pub hot: Vec<HotFn>,
    /// The app's functions a patch can neither replace nor call, with why.
    pub cold: Vec<ColdFn>,
}

/// A function with a slot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HotFn {
    /// Its symbol name.
    pub name: String,
    /// Its signature letters.
    pub signature: String,
}

/// A function of the app that is not hot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColdFn {
    /// Its symbol name.
    pub name: String,
    /// Why it is not hot, and what to do about it.
    pub why: String,
}

/// Flags every app source compiles with in all-hot mode: no inlining of one app function into
/// another (a redefined function must change in every caller), no function specialization (its
/// clones, `test2.specialized.1` in Lua's liolib.c, are called instead of the function a patch
/// redefines, and their names are no C names), and `HOTWASM_FN` as a plain function (the rewrite
/// makes it hot like every other).
pub const COMPILE_FLAGS: [&str; 4] = [
    "-fno-inline",
    "-mllvm",
    "-funcspec-max-iters=0",
    "-DHOTWASM_ALL_HOT",
];

/// Flags the all-hot link adds: the name section the rewrite reads, with symbol names as the
/// objects spell them (C++ names mangled, as patches define them: wasm-ld demangles by
/// default), and `-O1` so binaryen's wasm-opt does not run (it would inline, drop arguments and
/// merge identical functions).
pub const LINK_FLAGS: [&str; 3] = ["--profiling-funcs", "-Wl,--no-demangle", "-O1"];

/// The link map's file name in the bundle directory (where the rewrite finds the addresses of
/// the app's globals).
pub const MAP_FILE: &str = "hotwasm-allhot.map";

/// Every flag the all-hot link adds ([`LINK_FLAGS`] and the link map into `bundle_dir`).
pub fn link_flags(bundle_dir: &Path) -> Vec<String> {
    let mut flags: Vec<String> = LINK_FLAGS.map(String::from).to_vec();
    flags.push(format!("-Wl,-Map={}", bundle_dir.join(MAP_FILE).display()));
    flags
}

/// Step 1: the plan for the objects compiled from `sources`.
pub fn plan(config: &Config, sources: &[PathBuf], objects: &[PathBuf]) -> Result<Plan, BuildError> {
    let cold_files = cold_files(config)?;
    let mut by_name: BTreeMap<String, Vec<objects::Defined>> = BTreeMap::new();
    for (source, object) in sources.iter().zip(objects) {
        for f in objects::defined(object, source).map_err(BuildError::Config)? {
            if is_hotwasm_internal(&f.name) {
                continue;
            }
            by_name.entry(f.name.clone()).or_default().push(f);
        }
    }
    let rel = |p: &Path| {
        p.strip_prefix(&config.root)
            .unwrap_or(p)
            .display()
            .to_string()
    };
    let mut plan = Plan::default();
    for (name, defs) in by_name {
        let cold = |why: String| ColdFn {
            name: name.clone(),
            why,
        };
        let files: Vec<String> = defs.iter().map(|d| rel(&d.source)).collect();
        if defs.len() > 1 && defs.iter().any(|d| d.local) {
            plan.cold.push(cold(format!(
                "`{name}` is defined in {}, so the name does not say which one a patch means: rename one of them (each keeps working, only the name is ambiguous)",
                files.join(" and ")
            )));
        } else if let Some(path) = standard_library_path(&name) {
            plan.cold.push(cold(format!(
                "`{path}` is the C++ standard library's: a patch cannot replace it (its header gives every file that uses it a copy of its own), so it is called directly"
            )));
        } else if config.hot.cold.contains(&name) {
            plan.cold.push(cold(format!(
                "`{name}` is kept cold by [hot] cold in {}: remove it there and rebuild the host to make it hot",
                config.file.display()
            )));
        } else if cold_files.contains(&defs[0].source) {
            plan.cold.push(cold(format!(
                "{} is kept cold by [hot] cold_files in {}: remove it there and rebuild the host to make `{name}` hot",
                files[0],
                config.file.display()
            )));
        } else if let Some(signature) = defs[0].signature.clone() {
            plan.hot.push(HotFn { name, signature });
        } else {
            plan.cold.push(cold(format!(
                "`{name}` takes or returns a type a hot function cannot have (a struct by value, SIMD or several results): wrap it in a function of integers, floats and pointers"
            )));
        }
    }
    Ok(plan)
}

/// The path of a C++ function in namespace `std` (libc++'s `std::__2` included): the template
/// instances and inline members the app's files compiled from the standard library's headers.
/// `None` for any other name.
fn standard_library_path(name: &str) -> Option<String> {
    crate::cpp_names::path_of(name).filter(|path| path.starts_with("std::"))
}

/// hotwasm's own functions (the registry plumbing `HOTWASM_FN` generates) and compiler
/// helpers, never hot.
fn is_hotwasm_internal(name: &str) -> bool {
    name.starts_with("hotwasm")
        || name.starts_with("__")
        || name.ends_with("_hotwasm_default")
        || name == "main"
}

fn cold_files(config: &Config) -> Result<Vec<PathBuf>, BuildError> {
    let mut out = Vec::new();
    for pattern in &config.hot.cold_files {
        let full = config.path(pattern);
        let matches = glob::glob(&full.to_string_lossy()).map_err(|e| {
            BuildError::Config(format!(
                "{}: [hot] cold_files: `{pattern}` is not a glob: {e}",
                config.file.display()
            ))
        })?;
        out.extend(matches.filter_map(Result::ok));
    }
    Ok(out)
}

/// Steps 1–2 for [`super::c_host`]: the plan, written to the bundle directory, and the
/// compiled directory object to link.
pub fn prepare(
    config: &Config,
    home: &crate::home::Home,
    cflags: &[String],
    sources: &[PathBuf],
    objects: &[PathBuf],
    bundle_dir: &Path,
) -> Result<(Plan, PathBuf), BuildError> {
    let plan = plan(config, sources, objects)?;
    say(&format!(
        "all-hot: {} functions hot, {} cold",
        plan.hot.len(),
        plan.cold.len()
    ));
    let object = directory::compile(&plan, home, cflags, bundle_dir)?;
    Ok((plan, object))
}

/// Step 4 for [`super::c_host`]: rewrites the linked `wasm` in place; functions of the plan the
/// linked host does not have (the linker dropped them: nothing calls them) move to `cold`.
/// The app's globals (`objects`' data symbols, addresses from the link map) are exported for
/// patches. Writes the final plan to the bundle directory.
pub fn finish(
    plan: Plan,
    objects: &[PathBuf],
    wasm: &Path,
    bundle_dir: &Path,
) -> Result<(), BuildError> {
    let objects: Vec<&Path> = objects.iter().map(PathBuf::as_path).collect();
    let globals = linkmap::data_symbols(&read_map(bundle_dir)?, &objects);
    finish_with(plan, globals.into_iter().collect(), wasm, bundle_dir)
}

/// Step 4 for a Rust host ([`super::rust_host`]): as [`finish`], exporting the statics of the
/// app's crates (`crates`), known by their mangled names, so a patch can use them by path.
pub fn finish_rust(
    plan: Plan,
    crates: &[String],
    wasm: &Path,
    bundle_dir: &Path,
) -> Result<(), BuildError> {
    let of_app = |name: &str| {
        name.starts_with("_R")
            && crate::compile::rust_paths::parse(name).is_some_and(|f| crates.contains(&f.krate))
    };
    let globals = linkmap::data_symbols_named(&read_map(bundle_dir)?, &of_app);
    finish_with(plan, globals.into_iter().collect(), wasm, bundle_dir)
}

fn read_map(bundle_dir: &Path) -> Result<String, BuildError> {
    let map_path = bundle_dir.join(MAP_FILE);
    std::fs::read_to_string(&map_path)
        .map_err(|e| BuildError::io(format!("reading {}", map_path.display()), e))
}

/// The rewrite of [`finish`] with the app's `globals` (name, offset) to export.
fn finish_with(
    mut plan: Plan,
    globals: Vec<(String, u32)>,
    wasm: &Path,
    bundle_dir: &Path,
) -> Result<(), BuildError> {
    let bytes = std::fs::read(wasm)
        .map_err(|e| BuildError::io(format!("reading {}", wasm.display()), e))?;
    let names: Vec<&str> = plan.hot.iter().map(|f| f.name.as_str()).collect();
    let rewritten = rewrite::rewrite(&bytes, &names, &globals, slots_kind())
        .map_err(|e| BuildError::Config(format!("all-hot rewrite of {}: {e}", wasm.display())))?;
    super::write_atomically(wasm, &rewritten.wasm)?;
    let missing: std::collections::BTreeSet<&str> =
        rewritten.missing.iter().map(String::as_str).collect();
    let (hot, gone): (Vec<HotFn>, Vec<HotFn>) = plan
        .hot
        .into_iter()
        .partition(|f| !missing.contains(f.name.as_str()));
    plan.hot = hot;
    plan.cold.extend(gone.into_iter().map(|f| ColdFn {
        why: format!("the linked host has no `{}`: nothing in the host calls it (the linker dropped it), the compiler folded it into its callers (a `static` function whose result it could compute), or another function of that name shadows it", f.name),
        name: f.name,
    }));
    say(&format!(
        "all-hot: rewrote {} ({} hot functions, {} call sites, {} globals exported to patches)",
        wasm.display(),
        plan.hot.len(),
        rewritten.call_sites,
        rewritten.globals
    ));
    let json = serde_json::to_vec_pretty(&plan)
        .map_err(|e| BuildError::Config(format!("writing the all-hot plan: {e}")))?;
    super::write_atomically(&bundle_dir.join(PLAN_FILE), &json)
}

/// The slots the rewrite uses: memory (the registry's), or — only to measure the alternative
/// (benches/allhot.mjs; such a host cannot apply patches to its functions) — table entries, with
/// `HOTWASM_ALLHOT_SLOTS=table` in the build's environment.
fn slots_kind() -> rewrite::Slots {
    if std::env::var("HOTWASM_ALLHOT_SLOTS").as_deref() == Ok("table") {
        say("all-hot: table slots (HOTWASM_ALLHOT_SLOTS=table: for measuring only, patches cannot replace functions of this host)");
        rewrite::Slots::Table
    } else {
        rewrite::Slots::Memory
    }
}

/// Step 5: adds the plan of an all-hot build in `bundle_dir` (if any) to the host manifest at
/// `manifest`: hot functions as vars, the others as `cold` with why.
pub fn extend_manifest(bundle_dir: &Path, manifest: &Path) -> Result<(), BuildError> {
    let Ok(text) = std::fs::read(bundle_dir.join(PLAN_FILE)) else {
        return Ok(());
    };
    let bad = |e: serde_json::Error| BuildError::Config(format!("the all-hot plan: {e}"));
    let plan: Plan = serde_json::from_slice(&text).map_err(bad)?;
    let mut json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(manifest)
            .map_err(|e| BuildError::io(format!("reading {}", manifest.display()), e))?,
    )
    .map_err(bad)?;
    let vars = json["vars"]
        .as_array_mut()
        .ok_or_else(|| BuildError::Config(format!("{} has no vars", manifest.display())))?;
    let known: std::collections::BTreeSet<String> = vars
        .iter()
        .filter_map(|v| v["name"].as_str().map(str::to_string))
        .collect();
    for f in plan.hot.iter().filter(|f| !known.contains(&f.name)) {
        vars.push(serde_json::json!({"name": f.name, "signature": f.signature}));
    }
    json["cold"] = serde_json::to_value(&plan.cold).map_err(bad)?;
    let out = serde_json::to_vec_pretty(&json).map_err(bad)?;
    super::write_atomically(manifest, &out)
}

/// Removes a stale plan (a build that is not all-hot must not extend its manifest).
pub fn forget(bundle_dir: &Path) {
    let _ = std::fs::remove_file(bundle_dir.join(PLAN_FILE));
}

#[cfg(test)]
mod tests {
    use super::standard_library_path;

    #[test]
    fn the_standard_librarys_instances_are_told_apart_from_the_apps_functions() {
        // What a three-line C++ app using std::string compiled into its own object (libc++).
        for std in [
            "_ZNKSt3__212basic_stringIcNS_11char_traitsIcEENS_9allocatorIcEEE13__get_pointerB8ne180100Ev",
            "_ZNSt3__2plB8ne180100IcNS_11char_traitsIcEENS_9allocatorIcEEEENS_12basic_stringIT_T0_T1_EEOS9_PKS6_",
            "_ZZNSt3__212basic_stringIcNS_11char_traitsIcEENS_9allocatorIcEEEC1B8ne180100EOS5_ENKUlRS5_E_clES7_",
        ] {
            let path = standard_library_path(std);
            assert!(path.as_deref().is_some_and(|p| p.starts_with("std::__2::")), "{std}: {path:?}");
        }
        for app in [
            "app_value",
            "_Z9app_valuei",
            "_ZNK3geo3Box4areaEv",
            "_ZN12_GLOBAL__N_15twiceEi",
            "_Z5twiceIiET_S0_",
            "_ZN4geo5stdlyEv",
        ] {
            assert_eq!(standard_library_path(app), None, "{app}");
        }
    }
}
