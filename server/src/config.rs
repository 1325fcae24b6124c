//! `hotwasm.toml`, the project config every command reads: how to build the host, where
//! patches find headers and a Rust prelude, what to watch, which page to serve. This module is
//! its one reader: it finds the file (`--project DIR` or upward from the current directory),
//! refuses unknown keys naming the key and the file, fills the defaults and resolves every
//! relative path against the app root (the directory holding the file).

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The config's file name.
pub const FILE_NAME: &str = "hotwasm.toml";

/// Why there is no usable config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No `hotwasm.toml` in the start directory or any parent.
    #[error("no hotwasm.toml in {0} or its parents: create one with `hotwasm init DIR` — see docs/ADOPTING.md (or pass --project DIR)")]
    NotFound(String),
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    /// The TOML is malformed, has an unknown key, a value of the wrong type or a value that
    /// cannot work.
    #[error("{file}{at}: {message}")]
    Invalid {
        /// The config file.
        file: String,
        /// `:line:column` where the `toml` crate located the problem, or "".
        at: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The host's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostLang {
    /// A Rust package built with cargo.
    Rust,
    /// C sources built with emcc.
    C,
    /// C++ (and C) sources built with em++.
    Cpp,
}

impl HostLang {
    /// As written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            HostLang::Rust => "rust",
            HostLang::C => "c",
            HostLang::Cpp => "cpp",
        }
    }
}

/// `[app]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Output base name: `<out>/hot/<name>.js` and `<name>.wasm`.
    pub name: String,
    /// The host's language.
    pub lang: HostLang,
    /// The MODULARIZE factory's name.
    #[serde(default = "default_export_name")]
    pub export_name: String,
}

/// `[build]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Build {
    /// Rust: the cargo package with the host binary.
    pub package: Option<String>,
    /// C/C++: source globs.
    pub sources: Vec<String>,
    /// C/C++: compile flags (both modes).
    pub cflags: Vec<String>,
    /// Extra emcc link flags.
    pub ldflags: Vec<String>,
    /// Functions the page calls (no leading underscore).
    pub exports: Vec<String>,
    /// Extra `EXPORTED_RUNTIME_METHODS`.
    pub runtime_methods: Vec<String>,
    /// Output directory (`hot/` and `plain/` under it).
    pub out_dir: Option<String>,
    /// Globs of the host's own sources.
    pub host_watch: Vec<String>,
}

/// `[patches]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Patches {
    /// `-I` directories for C/C++ patches; the types their headers name are shared (their
    /// layouts are recorded by the host build and checked per patch: [`crate::layout`]).
    pub include_dirs: Vec<String>,
    /// `-D` definitions for C/C++ patches.
    pub defines: Vec<String>,
    /// The Rust prelude file.
    pub rust_prelude: Option<String>,
    /// Globs of files compiled and delivered on save.
    pub watch: Option<Vec<String>>,
    /// Optimisation level of patches.
    pub opt: Option<String>,
}

/// `[hot]`: which functions of a HOT_RELOAD host patches may replace (docs/ALL-HOT.md).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Hot {
    /// `"all"`: every function of the app's sources is hot unless kept cold; `"marked"` (the
    /// default when the key is absent, so existing apps keep building as before): only
    /// `HOTWASM_FN` / `hot_fn!` functions.
    pub mode: Option<HotMode>,
    /// Functions kept cold in `"all"` mode (direct calls; a patch redefining one is refused).
    pub cold: Vec<String>,
    /// Source files (globs, relative to the app root) whose functions are all kept cold.
    pub cold_files: Vec<String>,
}

/// `[hot] mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HotMode {
    /// Every function of the app's sources, unless kept cold.
    All,
    /// Only the marked functions.
    Marked,
}

/// `[serve]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Serve {
    /// The app's own page directory; `None` → hotwasm's generic page.
    pub page: Option<String>,
    /// The port.
    pub port: Option<u16>,
    /// The export the generic page calls once per animation frame.
    pub frame: Option<String>,
    /// How many linear-memory snapshots a page keeps (one before each patch; newest survive).
    pub snapshots: Option<u32>,
    /// The most memory a page's snapshots may hold in all, in MiB.
    pub snapshot_budget_mb: Option<u32>,
    /// What a page does when a patched function traps.
    pub on_trap: Option<OnTrap>,
}

/// `[serve] on_trap`: what a page does when a patched function traps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnTrap {
    /// Undo the trapping call (the page's copy of memory before it, while a patch is new) and
    /// roll the trapping var back one version.
    State,
    /// Roll the trapping var back one version; the trapping call's writes stay.
    Code,
}

impl OnTrap {
    /// As written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            OnTrap::State => "state",
            OnTrap::Code => "code",
        }
    }
}

/// Default of `[serve] snapshots`.
pub const DEFAULT_SNAPSHOTS: u32 = 8;
/// Default of `[serve] snapshot_budget_mb`.
pub const DEFAULT_SNAPSHOT_BUDGET_MB: u32 = 512;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    app: App,
    #[serde(default)]
    build: Build,
    #[serde(default)]
    patches: Patches,
    #[serde(default)]
    serve: Serve,
    #[serde(default)]
    hot: Hot,
}

fn default_export_name() -> String {
    "createHotwasmApp".into()
}

/// Default patch watch globs.
pub const DEFAULT_WATCH: [&str; 4] = [
    "patches/**/*.c",
    "patches/**/*.cpp",
    "patches/**/*.cc",
    "patches/**/*.rs",
];
/// Default port of `hotwasm serve`.
pub const DEFAULT_PORT: u16 = 7888;
/// Patch optimisation levels.
pub const OPT_LEVELS: [&str; 6] = ["0", "1", "2", "3", "s", "z"];

/// A loaded config: every path absolute.
#[derive(Debug, Clone)]
pub struct Config {
    /// The app root (the directory holding `hotwasm.toml`).
    pub root: PathBuf,
    /// The config file.
    pub file: PathBuf,
    /// `[app]`.
    pub app: App,
    /// `[build]` as written (globs stay relative to the root; use the methods for paths).
    pub build: Build,
    /// `[patches]` as written.
    pub patches: Patches,
    /// `[serve]` as written.
    pub serve: Serve,
    /// `[hot]` as written.
    pub hot: Hot,
}

impl Config {
    /// Finds and loads the config: in `project` (or the current directory) or its parents.
    pub fn find(project: Option<&Path>) -> Result<Config, ConfigError> {
        let start = match project {
            Some(p) => p.to_path_buf(),
            None => std::env::current_dir().map_err(|e| ConfigError::Read(".".into(), e))?,
        };
        let start = std::fs::canonicalize(&start).unwrap_or(start);
        let file = start
            .ancestors()
            .map(|d| d.join(FILE_NAME))
            .find(|f| f.is_file())
            .ok_or_else(|| ConfigError::NotFound(start.display().to_string()))?;
        Config::load(&file)
    }

    /// Loads the config at `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ConfigError::Read(file.display().to_string(), e))?;
        Config::parse(&text, file)
    }

    /// Parses `text` as the config at `file` (whose directory is the app root).
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let invalid = |at: String, message: String| ConfigError::Invalid {
            file: file.display().to_string(),
            at,
            message,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(String::new(), |s| line_col(text, s.start));
            invalid(at, e.message().trim_end().to_string())
        })?;
        let root = file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let config = Config {
            root,
            file: file.to_path_buf(),
            app: raw.app,
            build: raw.build,
            patches: raw.patches,
            serve: raw.serve,
            hot: raw.hot,
        };
        config.validate().map_err(|m| invalid(String::new(), m))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        };
        if !name_ok(&self.app.name) {
            return Err(format!(
                "[app] name = {:?}: use letters, digits, `-`, `_` or `.` (it names the output files)",
                self.app.name
            ));
        }
        if !hotwasm_abi::is_c_identifier(&self.app.export_name) {
            return Err(format!(
                "[app] export_name = {:?} must be a JavaScript identifier (letters, digits, `_`)",
                self.app.export_name
            ));
        }
        match self.app.lang {
            HostLang::Rust if self.build.package.is_none() => {
                return Err("[app] lang = \"rust\" needs [build] package = \"<cargo package of the host>\"".into())
            }
            HostLang::C | HostLang::Cpp if self.build.sources.is_empty() => {
                return Err(format!(
                    "[app] lang = \"{}\" needs [build] sources = [\"src/*.c\", ...] (globs relative to {})",
                    self.app.lang.as_str(),
                    self.root.display()
                ))
            }
            _ => {}
        }
        for name in &self.build.exports {
            if !hotwasm_abi::is_c_identifier(name) || name.starts_with('_') {
                return Err(format!(
                    "[build] exports: {name:?} is not a C function name (write it without a leading underscore)"
                ));
            }
        }
        if let Some(opt) = &self.patches.opt {
            if !OPT_LEVELS.contains(&opt.as_str()) {
                return Err(format!(
                    "[patches] opt = {opt:?}: use one of {}",
                    OPT_LEVELS.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// `rel` resolved against the app root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The output directory (`[build] out_dir`, default `build`).
    pub fn out_dir(&self) -> PathBuf {
        self.path(self.build.out_dir.as_deref().unwrap_or("build"))
    }

    /// Whether every function of the app is hot (`[hot] mode = "all"`).
    pub fn all_hot(&self) -> bool {
        self.hot.mode == Some(HotMode::All)
    }

    /// Where a build of this mode goes: `<out_dir>/hot` or `<out_dir>/plain`.
    pub fn bundle_dir(&self, hot: bool) -> PathBuf {
        self.out_dir().join(if hot { "hot" } else { "plain" })
    }

    /// The patch include directories, absolute.
    pub fn include_dirs(&self) -> Vec<PathBuf> {
        self.patches
            .include_dirs
            .iter()
            .map(|d| self.path(d))
            .collect()
    }

    /// The Rust prelude file, absolute.
    pub fn rust_prelude(&self) -> Option<PathBuf> {
        self.patches.rust_prelude.as_deref().map(|p| self.path(p))
    }

    /// The patch watch globs (relative to the root).
    pub fn watch(&self) -> Vec<String> {
        self.patches
            .watch
            .clone()
            .unwrap_or_else(|| DEFAULT_WATCH.iter().map(|s| s.to_string()).collect())
    }

    /// The app's page directory, absolute, if it has one.
    pub fn page_dir(&self) -> Option<PathBuf> {
        self.serve.page.as_deref().map(|p| self.path(p))
    }

    /// The port (`[serve] port`, default 7888).
    pub fn port(&self) -> u16 {
        self.serve.port.unwrap_or(DEFAULT_PORT)
    }

    /// Snapshots a page keeps (`[serve] snapshots`, default 8), their budget in MiB
    /// (`snapshot_budget_mb`, default 512) and what a trap does (`on_trap`, default `state`).
    pub fn snapshots(&self) -> (u32, u32, OnTrap) {
        (
            self.serve.snapshots.unwrap_or(DEFAULT_SNAPSHOTS),
            self.serve
                .snapshot_budget_mb
                .unwrap_or(DEFAULT_SNAPSHOT_BUDGET_MB),
            self.serve.on_trap.unwrap_or(OnTrap::State),
        )
    }

    /// The patch optimisation level (`[patches] opt`, default `2`).
    pub fn opt(&self) -> &str {
        self.patches.opt.as_deref().unwrap_or("2")
    }
}

/// `:line:column` (1-based) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!(":{line}:{column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL_RUST: &str =
        "[app]\nname = \"game\"\nlang = \"rust\"\n[build]\npackage = \"game-host\"\n";

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/apps/x/hotwasm.toml"))
    }

    #[test]
    fn hot_mode_is_marked_unless_all_is_written_and_a_misspelt_mode_is_refused() {
        let app = "[app]\nname = \"a\"\nlang = \"c\"\n[build]\nsources = [\"src/*.c\"]\n";
        assert!(
            !parse(app).unwrap().all_hot(),
            "no [hot]: marked-only, as before"
        );
        let all = parse(&format!(
            "{app}[hot]\nmode = \"all\"\ncold = [\"f\"]\ncold_files = [\"src/fast/*.c\"]\n"
        ))
        .unwrap();
        assert!(all.all_hot());
        assert_eq!(all.hot.cold, vec!["f".to_string()]);
        let e = parse(&format!("{app}[hot]\nmode = \"everything\"\n")).unwrap_err();
        assert!(e.to_string().contains("everything"), "{e}");
    }

    #[test]
    fn a_minimal_config_gets_the_documented_defaults() {
        let c = parse(MINIMAL_RUST).unwrap();
        assert_eq!(c.root, Path::new("/apps/x"));
        assert_eq!(c.app.export_name, "createHotwasmApp");
        assert_eq!(c.bundle_dir(true), Path::new("/apps/x/build/hot"));
        assert_eq!(c.bundle_dir(false), Path::new("/apps/x/build/plain"));
        assert_eq!(c.port(), 7888);
        assert_eq!(c.opt(), "2");
        assert_eq!(c.watch(), DEFAULT_WATCH.map(String::from).to_vec());
        assert_eq!(c.page_dir(), None);
        assert_eq!(c.rust_prelude(), None);
        assert_eq!(c.snapshots(), (8, 512, OnTrap::State));
    }

    #[test]
    fn relative_paths_resolve_against_the_app_root() {
        let c = parse(&format!(
            "{MINIMAL_RUST}out_dir = \"out\"\n[patches]\ninclude_dirs = [\"include\", \"/abs\"]\nrust_prelude = \"patches/prelude.rs\"\n[serve]\npage = \"web\"\n"
        ))
        .unwrap();
        assert_eq!(c.bundle_dir(true), Path::new("/apps/x/out/hot"));
        assert_eq!(
            c.include_dirs(),
            vec![PathBuf::from("/apps/x/include"), PathBuf::from("/abs")]
        );
        assert_eq!(
            c.rust_prelude(),
            Some(PathBuf::from("/apps/x/patches/prelude.rs"))
        );
        assert_eq!(c.page_dir(), Some(PathBuf::from("/apps/x/web")));
    }

    #[test]
    fn an_unknown_key_is_refused_naming_the_key_the_file_and_the_line() {
        let e = parse(&format!("{MINIMAL_RUST}[serve]\nprot = 8000\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/apps/x/hotwasm.toml:7:1"), "{e}");
        assert!(e.contains("unknown field `prot`"), "{e}");
        assert!(e.contains("`port`"), "{e}");
        let e = parse(&format!("{MINIMAL_RUST}[extra]\na = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `extra`"), "{e}");
    }

    #[test]
    fn missing_or_wrongly_typed_values_are_refused_with_the_fix() {
        for (text, expect) in [
            ("[app]\nname = \"a\"\n", "missing field `lang`"),
            (
                "[app]\nname = \"a\"\nlang = \"go\"\n",
                "unknown variant `go`",
            ),
            (
                "[app]\nname = \"a\"\nlang = \"rust\"\n",
                "needs [build] package",
            ),
            (
                "[app]\nname = \"a\"\nlang = \"c\"\n",
                "needs [build] sources",
            ),
            (
                "[app]\nname = \"a b\"\nlang = \"c\"\n[build]\nsources = [\"*.c\"]\n",
                "[app] name",
            ),
            (
                &format!("{MINIMAL_RUST}exports = [\"_main\"]\n"),
                "without a leading underscore",
            ),
            (
                &format!("{MINIMAL_RUST}[patches]\nopt = \"4\"\n"),
                "use one of",
            ),
            (
                &format!("{MINIMAL_RUST}[serve]\nport = \"x\"\n"),
                "invalid type",
            ),
            (
                &format!("{MINIMAL_RUST}[serve]\non_trap = \"panic\"\n"),
                "expected `state` or `code`",
            ),
            (
                &format!("{MINIMAL_RUST}[serve]\nsnapshots = -1\n"),
                "invalid value",
            ),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(expect), "{text:?}: {e}");
            assert!(e.starts_with("/apps/x/hotwasm.toml"), "{e}");
        }
    }

    #[test]
    fn the_config_is_found_in_the_project_dir_or_its_parents() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join(FILE_NAME), MINIMAL_RUST).unwrap();
        let deep = root.join("src/a/b");
        std::fs::create_dir_all(&deep).unwrap();
        let c = Config::find(Some(&deep)).unwrap();
        assert_eq!(c.root, root);
        assert_eq!(c.file, root.join(FILE_NAME));
    }

    #[test]
    fn without_a_config_the_error_names_the_dir_and_how_to_create_one() {
        let dir = tempfile::tempdir().unwrap();
        let e = Config::find(Some(dir.path())).unwrap_err().to_string();
        let shown = std::fs::canonicalize(dir.path()).unwrap();
        assert!(
            e.contains(&format!(
                "no hotwasm.toml in {} or its parents",
                shown.display()
            )),
            "{e}"
        );
        assert!(e.contains("hotwasm init DIR"), "{e}");
        assert!(e.contains("docs/ADOPTING.md"), "{e}");
    }
}
