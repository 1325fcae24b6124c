//! Where hotwasm itself lives (its checkout): the ABI headers C hosts and patches include, the
//! generic web client and page served at `/hotwasm/`, the runtime crate C hosts link, and the
//! scripts. Found from `HOTWASM_HOME`, else the checkout this binary was built from, else the
//! directories above the running executable (`<checkout>/target/<profile>/hotwasm`), so every
//! command works from any directory.

use std::path::{Path, PathBuf};

/// A file every hotwasm checkout has.
const MARKER: &str = "abi/include/hotwasm.h";

/// The hotwasm checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home(PathBuf);

/// No hotwasm checkout was found.
#[derive(Debug, thiserror::Error)]
#[error("cannot find the hotwasm checkout (a directory with {MARKER}): tried {0}; set HOTWASM_HOME=<your hotwasm clone>")]
pub struct HomeNotFound(String);

impl Home {
    /// Finds the checkout.
    pub fn find() -> Result<Home, HomeNotFound> {
        let mut tried = Vec::new();
        let env = std::env::var_os("HOTWASM_HOME").map(PathBuf::from);
        let built = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf);
        let exe = std::env::current_exe().ok().and_then(|e| {
            e.ancestors()
                .find(|d| d.join(MARKER).is_file())
                .map(Path::to_path_buf)
        });
        for dir in [env, built, exe].into_iter().flatten() {
            if dir.join(MARKER).is_file() {
                return Ok(Home(std::fs::canonicalize(&dir).unwrap_or(dir)));
            }
            tried.push(dir.display().to_string());
        }
        Err(HomeNotFound(tried.join(", ")))
    }

    /// A checkout at `dir` (tests).
    pub fn at(dir: impl Into<PathBuf>) -> Home {
        Home(dir.into())
    }

    /// The checkout's root.
    pub fn root(&self) -> &Path {
        &self.0
    }

    /// `abi/include`: the registry ABI header and the C/C++ hot-function macros.
    pub fn abi_include(&self) -> PathBuf {
        self.0.join("abi/include")
    }

    /// `abi/include/hotwasm.h`.
    pub fn abi_header(&self) -> PathBuf {
        self.0.join(MARKER)
    }

    /// `web/`: the web client and the generic page, served at `/hotwasm/`.
    pub fn web(&self) -> PathBuf {
        self.0.join("web")
    }

    /// `scripts/<name>`.
    pub fn script(&self, name: &str) -> PathBuf {
        self.0.join("scripts").join(name)
    }
}
