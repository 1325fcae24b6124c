//! The host manifest (`hotwasm-host.json`: vars, signatures, exports), asked from the built
//! HOT_RELOAD host itself: `scripts/host-manifest.mjs` instantiates it under Node with
//! `noInitialRun` (constructors register the vars, `main` does not run) and calls
//! `_hotwasm_list_json()` for the vars; the exports are read here from the wasm with the one
//! reader hotwasm shares ([`hotwasm_abi::wasm`]); the shared types' layouts come measured
//! ([`super::layouts`]).

use super::{say, BuildError, Built};
use crate::home::Home;
use std::path::Path;
use std::process::Command;

/// The manifest's file name in the bundle directory.
pub const FILE_NAME: &str = "hotwasm-host.json";

/// Writes the manifest of `built` to `path` (checked to be a manifest this server reads).
pub fn write(
    home: &Home,
    built: &Built,
    path: &Path,
    layouts: super::layouts::Measured,
    threads: bool,
) -> Result<(), BuildError> {
    let script = home.script("host-manifest.mjs");
    say("reading the host manifest from the built host (node, noInitialRun)");
    let node = crate::toolchain::require(home, "node")?;
    let out = Command::new(node)
        .arg(&script)
        .arg(&built.js)
        .arg(&built.wasm)
        .output()
        .map_err(|e| BuildError::io(format!("running {}", script.display()), e))?;
    if !out.status.success() {
        return Err(BuildError::Command {
            command: format!("node {}", script.display()),
            status: out.status.to_string(),
            hint: format!(": {}", String::from_utf8_lossy(&out.stderr).trim()),
            output: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let vars: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        BuildError::Config(format!("{} printed no vars JSON: {e}", script.display()))
    })?;
    let bytes = std::fs::read(&built.wasm)
        .map_err(|e| BuildError::io(format!("reading {}", built.wasm.display()), e))?;
    let shape = hotwasm_abi::wasm::read_module(&bytes)
        .map_err(|e| BuildError::Config(format!("{}: {e}", built.wasm.display())))?;
    let manifest = serde_json::json!({
        "version": hotwasm_abi::HostManifest::VERSION,
        "vars": vars["vars"],
        "exports": shape.provided_to_patches(),
        "layouts": layouts.layouts,
        "layout_inputs": layouts.inputs,
        "threads": threads,
    });
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BuildError::Config(format!("writing the host manifest: {e}")))?;
    super::write_atomically(path, &text)?;
    hotwasm_abi::HostManifest::read(path)
        .map_err(BuildError::Config)?
        .ok_or_else(|| BuildError::Config(format!("{} was not written", path.display())))?;
    Ok(())
}
