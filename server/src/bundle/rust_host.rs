//! A Rust host: `cargo build --release -p <[build] package> --target wasm32-unknown-emscripten`
//! (with `--features hot-reload` for HOT_RELOAD) and the link flags as `-C link-arg`s, in a
//! target directory per mode, with thin LTO set explicitly (`CARGO_PROFILE_RELEASE_LTO=thin`:
//! without it an outside app's HOT_RELOAD host was 3× larger with 6× the exports), then the
//! binary's `.js` and `.wasm` copied to `<name>.js` / `<name>.wasm`. In all-hot mode
//! ([`crate_fns`]) the plan is read from that link, the host linked again when its directory
//! changed, and the copy rewritten.

use super::allhot::crate_fns;
use super::{say, BuildError, Built, TARGET};
use crate::config::Config;
use crate::home::Home;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The cargo feature a Rust host turns hot reload on with.
pub const HOT_FEATURE: &str = "hot-reload";

/// Builds the host and copies its output into `built`.
pub fn build(
    config: &Config,
    home: &Home,
    hot: bool,
    flags: &[String],
    built: &Built,
    link: super::Link,
) -> Result<(), BuildError> {
    crate::toolchain::require(home, "cargo")?;
    crate::toolchain::require_rust_target(home, &config.root)?;
    let package = config
        .build
        .package
        .as_deref()
        .ok_or_else(|| BuildError::Config("[build] package is missing".into()))?;
    let all_hot = hot && config.all_hot();
    super::allhot::forget(&built.dir);
    let target_dir = target_dir(config, hot, all_hot)?;
    let mut rustflags: String = flags.iter().map(|f| format!(" -C link-arg={f}")).collect();
    if all_hot {
        let directory = crate_fns::directory_object(home, &built.dir)?;
        rustflags.push_str(&crate_fns::rustflags(&built.dir, &directory));
    }
    if let Ok(extra) = std::env::var("RUSTFLAGS") {
        rustflags = format!("{extra}{rustflags}");
    }
    let mut cmd = Command::new("cargo");
    cmd.current_dir(&config.root)
        .args(["build", "--release", "-p", package, "--target", TARGET])
        .arg("--message-format=json-render-diagnostics")
        .env("RUSTFLAGS", rustflags)
        .env("CARGO_TARGET_DIR", &target_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if std::env::var_os("CARGO_PROFILE_RELEASE_LTO").is_none() {
        cmd.env("CARGO_PROFILE_RELEASE_LTO", "thin");
    }
    if hot {
        cmd.args(["--features", HOT_FEATURE]);
    }
    // Through the environment, which emcc appends to its command line and cargo does not
    // fingerprint: a link flag in RUSTFLAGS would rebuild every dependency. So the target
    // directory's last link is stamped with it, and a build of another flavour relinks.
    let mut emcc_cflags = std::env::var("EMCC_CFLAGS").unwrap_or_default();
    if link == super::Link::Fast {
        emcc_cflags = format!("{emcc_cflags} -O1").trim_start().to_string();
    }
    cmd.env("EMCC_CFLAGS", &emcc_cflags);
    let stamp = LinkStamp::at(&target_dir);
    stamp.relink_unless(&emcc_cflags, package);
    say(&format!(
        "cargo build --release -p {package} --target {TARGET}{} (thin LTO; a first build takes minutes) in {}",
        if hot { " --features hot-reload" } else { "" },
        target_dir.display()
    ));
    let mut link_now = || -> Result<(PathBuf, PathBuf), BuildError> {
        let (js, wasm) = cargo_artifact(&mut cmd, package, hot)?;
        stamp.write(&emcc_cflags, &js, &wasm);
        Ok((js, wasm))
    };
    let (js, wasm) = link_now()?;
    if !all_hot {
        return copy_renamed(&js, &wasm, built);
    }
    let (js, wasm, plan) = all_hot_link(config, home, built, (js, wasm), link_now)?;
    copy_renamed(&js, &wasm, built)?;
    super::allhot::finish_rust(
        plan,
        &crate_fns::app_crates(config),
        &built.wasm,
        &built.dir,
    )
}

/// An all-hot host after its first link (`linked`): its plan, and the binary linked with that
/// plan's directory — `linked` itself when its directory already was the plan's, else the one
/// `link_again` makes once the directory is updated.
fn all_hot_link(
    config: &Config,
    home: &Home,
    built: &Built,
    linked: (PathBuf, PathBuf),
    mut link_again: impl FnMut() -> Result<(PathBuf, PathBuf), BuildError>,
) -> Result<(PathBuf, PathBuf, super::allhot::Plan), BuildError> {
    let (mut js, mut wasm) = linked;
    let plan = all_hot_plan(config, &wasm)?;
    if crate_fns::update_directory(&plan, home, &built.dir)? {
        say("all-hot: the app's functions changed: linking again with their directory");
        remove_binary(&[js.clone(), wasm.clone()]);
        (js, wasm) = link_again()?;
        if all_hot_plan(config, &wasm)? != plan {
            return Err(BuildError::Config("all-hot: the second link of the Rust host has other functions than the first: a bug in hotwasm's all-hot build (rebuild to retry)".into()));
        }
    }
    say(&format!(
        "all-hot: {} functions of the app's crate hot, {} cold",
        plan.hot.len(),
        plan.cold.len()
    ));
    Ok((js, wasm, plan))
}

/// The all-hot plan of the linked Rust host `wasm`.
fn all_hot_plan(config: &Config, wasm: &Path) -> Result<super::allhot::Plan, BuildError> {
    let bytes = std::fs::read(wasm)
        .map_err(|e| BuildError::io(format!("reading {}", wasm.display()), e))?;
    crate_fns::plan(config, &bytes).map_err(BuildError::Config)
}

/// What the last link in a cargo target directory was given outside cargo's fingerprint (the
/// `EMCC_CFLAGS` emcc appends: `-O1` for `hotwasm serve`'s fast rebuilds), and the binary it
/// wrote. A build with other `EMCC_CFLAGS` removes that binary, so cargo links it again instead
/// of handing back the other flavour as fresh (it would, in 0.2 s).
struct LinkStamp(PathBuf);

impl LinkStamp {
    fn at(target_dir: &Path) -> LinkStamp {
        LinkStamp(target_dir.join("hotwasm-link.json"))
    }

    /// Removes the last link's binary when it was linked with other `emcc_cflags` (or when no
    /// stamp says how: a target directory of an older hotwasm, so `package`'s binary).
    fn relink_unless(&self, emcc_cflags: &str, package: &str) {
        let stamp: Option<serde_json::Value> = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let files: Vec<PathBuf> = match &stamp {
            Some(s) if s["emcc_cflags"] == emcc_cflags => return,
            Some(s) => ["js", "wasm"]
                .iter()
                .filter_map(|k| s[*k].as_str().map(PathBuf::from))
                .collect(),
            None => {
                let release = self.0.with_file_name(TARGET).join("release");
                let stem = package.replace('-', "_");
                vec![
                    release.join(format!("{package}.js")),
                    release.join(format!("{stem}.wasm")),
                ]
            }
        };
        if files.iter().any(|f| f.exists()) {
            say("the last link here was of another flavour (EMCC_CFLAGS differ): relinking");
        }
        remove_binary(&files);
    }

    /// Records the link that wrote `js` and `wasm`.
    fn write(&self, emcc_cflags: &str, js: &Path, wasm: &Path) {
        let stamp = serde_json::json!({"emcc_cflags": emcc_cflags, "js": js, "wasm": wasm});
        let _ = super::write_atomically(&self.0, stamp.to_string().as_bytes());
    }
}

/// Removes a linked binary's `files` so cargo links it again.
fn remove_binary(files: &[PathBuf]) {
    for file in files {
        // cargo checks its unit's own output in deps/ (named with `_`); the uplifted copy
        // beside it goes too.
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .replace('-', "_");
        let deps = file.with_file_name("deps").join(name);
        let _ = std::fs::remove_file(&deps);
        let _ = std::fs::remove_file(file);
    }
}

/// `$CARGO_TARGET_DIR/emscripten-<mode>`, else `<workspace target dir>/emscripten-<mode>` (an
/// all-hot host has its own: its flags differ, and sharing would rebuild every dependency).
fn target_dir(config: &Config, hot: bool, all_hot: bool) -> Result<PathBuf, BuildError> {
    let mode = match (hot, all_hot) {
        (true, true) => "emscripten-allhot",
        (true, false) => "emscripten-hot",
        (false, _) => "emscripten-plain",
    };
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir).join(mode));
    }
    let out = Command::new("cargo")
        .current_dir(&config.root)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .map_err(|e| BuildError::io("running cargo locate-project".into(), e))?;
    if !out.status.success() {
        return Err(BuildError::Config(format!(
            "{} is not inside a cargo package: {} (a Rust host needs its Cargo.toml at or above the app root)",
            config.root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let ws = manifest.parent().unwrap_or(&config.root).to_path_buf();
    Ok(ws.join("target").join(mode))
}

/// Runs cargo and returns the `.js` and `.wasm` of the package's binary.
fn cargo_artifact(
    cmd: &mut Command,
    package: &str,
    hot: bool,
) -> Result<(PathBuf, PathBuf), BuildError> {
    let mut child = cmd
        .spawn()
        .map_err(|e| BuildError::io("starting cargo".into(), e))?;
    let stderr = super::tee_stderr(&mut child);
    let mut found = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(files) = bin_artifact(&line) {
                found = Some(files);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| BuildError::io("waiting for cargo".into(), e))?;
    let output = stderr.join().unwrap_or_default();
    if !status.success() {
        let hint = if hot {
            format!(": see cargo's output above (a Rust host needs a `{HOT_FEATURE}` feature that enables `hotwasm-runtime/hot-reload`)")
        } else {
            ": see cargo's output above".into()
        };
        return Err(BuildError::Command {
            command: format!("cargo build -p {package}"),
            status: status.to_string(),
            hint,
            output,
        });
    }
    found.ok_or_else(|| {
        BuildError::Config(format!(
            "cargo built no binary for package `{package}`: a Rust host needs a `[[bin]]` (src/main.rs) so Emscripten writes its .js and .wasm"
        ))
    })
}

/// The `.js` and `.wasm` of a `compiler-artifact` message for a binary target.
fn bin_artifact(line: &str) -> Option<(PathBuf, PathBuf)> {
    let msg: serde_json::Value = serde_json::from_str(line).ok()?;
    if msg["reason"] != "compiler-artifact" {
        return None;
    }
    let kinds = msg["target"]["kind"].as_array()?;
    if !kinds.iter().any(|k| k == "bin") {
        return None;
    }
    let files: Vec<PathBuf> = msg["filenames"]
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .collect();
    let js = files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "js"))?;
    let wasm = files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))?;
    Some((js.clone(), wasm.clone()))
}

/// Copies the cargo output to `<name>.js` / `<name>.wasm`, pointing the JS at the new wasm name.
fn copy_renamed(js: &Path, wasm: &Path, built: &Built) -> Result<(), BuildError> {
    let text = std::fs::read_to_string(js)
        .map_err(|e| BuildError::io(format!("reading {}", js.display()), e))?;
    let old = wasm
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let new = built
        .wasm
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let text = rename_wasm_reference(&text, &old, &new).ok_or_else(|| {
        BuildError::Config(format!(
            "{} does not name {old} exactly once: cannot point it at {new}",
            js.display()
        ))
    })?;
    super::write_atomically(&built.js, text.as_bytes())?;
    std::fs::copy(wasm, &built.wasm).map_err(|e| {
        BuildError::io(
            format!("copying {} to {}", wasm.display(), built.wasm.display()),
            e,
        )
    })?;
    Ok(())
}

/// `js` with its one quoted reference to `old` (the wasm file) replaced by `new`.
pub fn rename_wasm_reference(js: &str, old: &str, new: &str) -> Option<String> {
    if old == new {
        return Some(js.to_string());
    }
    let quoted = |q: char, s: &str| format!("{q}{s}{q}");
    let hits: Vec<char> = ['\'', '"']
        .into_iter()
        .filter(|q| js.contains(&quoted(*q, old)))
        .collect();
    match hits.as_slice() {
        [q] if js.matches(&quoted(*q, old)).count() == 1 => {
            Some(js.replace(&quoted(*q, old), &quoted(*q, new)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_js_is_pointed_at_the_renamed_wasm() {
        let js = "var x;function findWasmBinary(){var f='my_game.wasm';return f}";
        assert_eq!(
            rename_wasm_reference(js, "my_game.wasm", "game.wasm").unwrap(),
            "var x;function findWasmBinary(){var f='game.wasm';return f}"
        );
        assert_eq!(rename_wasm_reference(js, "other.wasm", "p.wasm"), None);
        let twice = "'a.wasm';'a.wasm'";
        assert_eq!(rename_wasm_reference(twice, "a.wasm", "b.wasm"), None);
    }

    #[test]
    fn only_binary_artifacts_with_js_and_wasm_are_taken() {
        let bin = r#"{"reason":"compiler-artifact","target":{"kind":["bin"]},"filenames":["/t/a.js","/t/a.wasm"]}"#;
        assert_eq!(
            bin_artifact(bin),
            Some((PathBuf::from("/t/a.js"), PathBuf::from("/t/a.wasm")))
        );
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/liba.rlib"]}"#;
        assert_eq!(bin_artifact(lib), None);
        assert_eq!(bin_artifact("not json"), None);
    }
}
