//! Linking one eval's object into a SIDE_MODULE: the wasm-ld process emcc would run, timed,
//! beside the same link run inside the session process ([`crate::Session::link`]).

use std::process::Command;
use std::time::{Duration, Instant};

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
