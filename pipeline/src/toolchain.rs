//! The toolchain `scripts/setup.sh` installs (Emscripten 3.1.69, clang/wasm-ld/llvm-nm 19, node),
//! made usable without the user evaluating anything: when `emcc` is not on `PATH`, this asks
//! `scripts/setup.sh --print-env` for the environment and adopts it, then checks every tool a
//! command needs, naming the one that is missing and the command that installs it.

use crate::home::Home;
use std::path::PathBuf;
use std::process::Command;

/// The Rust and Emscripten target of hosts and patches.
pub const TARGET: &str = "wasm32-unknown-emscripten";

/// A tool is missing or the setup could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    /// `setup.sh --print-env` failed.
    #[error("cannot ask {script} for the toolchain environment: {error}")]
    Setup {
        /// The script.
        script: String,
        /// What went wrong.
        error: String,
    },
    /// A tool is not installed.
    #[error("{tool} is missing: {fix}")]
    Missing {
        /// The tool.
        tool: &'static str,
        /// The command that installs it.
        fix: String,
    },
}

/// The one way hotwasm finds a tool: the first of `names` on `PATH` (list a versioned name
/// first, as Debian installs LLVM 19: `llvm-mc-19`, then `llvm-mc`).
pub fn find(names: &[&str]) -> Option<PathBuf> {
    names.iter().find_map(|n| which::which(n).ok())
}

/// Makes the toolchain's environment this process's own (so every child sees it): a no-op
/// when `emcc` is already on `PATH` with an `EM_CONFIG`. Call it before starting threads.
pub fn adopt_env(home: &Home) -> Result<(), ToolchainError> {
    if find(&["emcc"]).is_some() && std::env::var_os("EM_CONFIG").is_some() {
        return Ok(());
    }
    let script = home.script("setup.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--print-env")
        .output()
        .map_err(|e| ToolchainError::Setup {
            script: script.display().to_string(),
            error: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(ToolchainError::Setup {
            script: script.display().to_string(),
            error: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let path = std::env::var("PATH").unwrap_or_default();
    for (key, value) in parse_exports(&String::from_utf8_lossy(&out.stdout), &path) {
        // Single-threaded here (documented precondition), so changing the environment is sound.
        std::env::set_var(key, value);
    }
    Ok(())
}

/// `export KEY="VALUE"` lines → pairs, with `$PATH` expanded to `path`.
pub fn parse_exports(text: &str, path: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').replace("$PATH", path)))
        .collect()
}

/// The fix for anything `scripts/setup.sh` installs.
fn setup_fix(home: &Home, what: &str) -> String {
    format!("run `bash {}` ({what})", home.script("setup.sh").display())
}

/// `tool` on `PATH`, or an error naming the setup command.
pub fn require(home: &Home, tool: &'static str) -> Result<PathBuf, ToolchainError> {
    let what = match tool {
        "emcc" | "em++" => "it installs Emscripten 3.1.69",
        "node" => "or apt-get install nodejs",
        "cargo" | "rustc" | "rustup" => "and install Rust with rustup first",
        _ => "apt-get install clang-19 lld-19 llvm-19",
    };
    find(&[tool]).ok_or_else(|| ToolchainError::Missing {
        tool,
        fix: setup_fix(home, what),
    })
}

/// Checks that rustup has the `wasm32-unknown-emscripten` target for the toolchain used in
/// `dir` (its `rust-toolchain.toml` decides).
pub fn require_rust_target(home: &Home, dir: &std::path::Path) -> Result<(), ToolchainError> {
    let out = Command::new("rustc")
        .current_dir(dir)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let present = out
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|d| d.is_dir());
    if present {
        Ok(())
    } else {
        Err(ToolchainError::Missing {
            tool: "the Rust target wasm32-unknown-emscripten",
            fix: format!(
                "run `rustup target add wasm32-unknown-emscripten` in {} (or `bash {}`)",
                dir.display(),
                home.script("setup.sh").display()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines_become_pairs_with_path_expanded() {
        let text = "export EM_CONFIG=\"/c/em.py\"\nexport PATH=\"/em:/bin2:$PATH\"\nnoise\n";
        assert_eq!(
            parse_exports(text, "/usr/bin"),
            vec![
                ("EM_CONFIG".to_string(), "/c/em.py".to_string()),
                ("PATH".to_string(), "/em:/bin2:/usr/bin".to_string()),
            ]
        );
    }
}
