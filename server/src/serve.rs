//! `hotwasm serve`: reads the app's hotwasm.toml (flags override it), opens the journal, finds
//! the compiler, binds the listener, writes `.hotwasm/token` and `.hotwasm/url` in the app
//! root, prints the URL to open, starts the file watch and serves until killed.

use crate::cli::ServeArgs;
use crate::compile::{Compiler, CompilerConfig};
use crate::config::{Config, ConfigError};
use crate::home::{Home, HomeNotFound};
use crate::http::{accept_loop, Site};
use crate::hub::Hub;
use crate::journal::Journal;
use crate::security::{self, Names, COMPILER_MEMORY, COMPILE_TIMEOUT};
use crate::watch::WatchSet;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `--page hotwasm`: serve hotwasm's generic page even if the app has its own.
pub const GENERIC_PAGE: &str = "hotwasm";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No usable hotwasm.toml.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No hotwasm checkout (for the web client and the ABI headers).
    #[error(transparent)]
    Home(#[from] HomeNotFound),
    /// The port is taken or the address is not ours.
    #[error("cannot listen on {0}: {1}; pick another --port or [serve] port in hotwasm.toml (0 picks a free one) or stop the other server")]
    Bind(String, std::io::Error),
    /// The journal could not be opened.
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    /// `.hotwasm/token` could not be written.
    #[error("cannot write {0}: {1}; check the app directory's permissions")]
    Token(String, std::io::Error),
    /// The watch globs are not globs.
    #[error("{0}: {1}")]
    Watch(String, String),
}

/// What serve runs with: the config with the flags applied.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The app root.
    pub root: PathBuf,
    /// The HOT_RELOAD bundle directory.
    pub bundle: PathBuf,
    /// The host manifest.
    pub host_manifest: PathBuf,
    /// The journal directory.
    pub journal: PathBuf,
    /// Address and port.
    pub bind: String,
    /// Port (0: any free one).
    pub port: u16,
    /// The compiler's configuration.
    pub compiler: CompilerConfig,
    /// The HTTP site.
    pub site: Site,
    /// Patch watch globs (relative to the root); `None` when watching is off.
    pub watch: Option<WatchSet>,
    /// Host rebuild on save (`[build] host_watch`); `None` when watching is off or it is empty.
    pub host_watch: Option<crate::host_reload::HostWatch>,
    /// The config as last loaded (host rebuilds build with it; the config watch reloads it).
    pub config: Arc<std::sync::Mutex<Config>>,
    /// Whether to watch hotwasm.toml for edits (off with `--no-watch`).
    pub watch_config: bool,
    /// Whether the app is likely to send C++ (a C++ host, or C++ files watched): then the C++
    /// fast path and libraries are prepared at start-up instead of on the first C++ eval.
    pub warm_cpp: bool,
}

/// Where C/C++ patches find headers: `[patches] include_dirs`, the generated header of current
/// vars (`#include <hotwasm_vars.h>`, under `root`) and hotwasm's `abi/include`.
pub fn patch_include_dirs(config: &Config, root: &Path, home: &Home) -> Vec<PathBuf> {
    let mut include_dirs = config.include_dirs();
    include_dirs.push(crate::vars::include_dir(root));
    include_dirs.push(home.abi_include());
    include_dirs
}

impl Settings {
    /// `config` with `args` applied over it; hotwasm's own files from `home`.
    pub fn new(config: &Config, args: &ServeArgs, home: &Home) -> Result<Settings, ServeError> {
        let root = std::fs::canonicalize(&config.root).unwrap_or_else(|_| config.root.clone());
        let bundle = args
            .bundle
            .as_ref()
            .map_or_else(|| config.bundle_dir(true), |b| root.join(b));
        let host_manifest = args.host_manifest.as_ref().map_or_else(
            || bundle.join(crate::bundle::manifest::FILE_NAME),
            |p| root.join(p),
        );
        let include_dirs = patch_include_dirs(config, &root, home);
        let compiler = CompilerConfig {
            root: root.clone(),
            include_dirs,
            defines: config.patches.defines.clone(),
            rust_prelude: config.rust_prelude(),
            plain_emcc: args.plain_emcc,
            opt: format!("-O{}", args.opt.as_deref().unwrap_or(config.opt())),
            timeout: COMPILE_TIMEOUT,
            memory_bytes: COMPILER_MEMORY,
        };
        let generic_page = home.web().join("page");
        let page = match args.page.as_deref() {
            Some(GENERIC_PAGE) => None,
            Some(dir) => Some(root.join(dir)),
            None => config.page_dir(),
        };
        let site = Site {
            client: home.web(),
            roots: vec![page.unwrap_or_else(|| generic_page.clone()), bundle.clone()],
            generic_page,
            app_json: app_json(config, args.frame.as_deref()),
        };
        let watch = if args.no_watch {
            None
        } else {
            let excluded = config.rust_prelude().into_iter().collect();
            let set = WatchSet::new(&root, &config.watch(), excluded)
                .map_err(|e| ServeError::Watch(config.file.display().to_string(), e))?;
            Some(set)
        };
        let shared = Arc::new(std::sync::Mutex::new(config.clone()));
        let host_watch = if args.no_watch {
            None
        } else {
            crate::host_reload::HostWatch::new(&shared, home, &root)
                .map_err(|e| ServeError::Watch(config.file.display().to_string(), e))?
        };
        let warm_cpp = config.app.lang == crate::config::HostLang::Cpp
            || config.watch().iter().any(|g| {
                crate::compile::cpp::EXTENSIONS
                    .iter()
                    .any(|e| g.ends_with(&format!(".{e}")))
            });
        Ok(Settings {
            config: shared,
            watch_config: !args.no_watch,
            warm_cpp,
            journal: root.join(&args.journal),
            bind: args.bind.clone(),
            port: args.port.unwrap_or(config.port()),
            root,
            bundle,
            host_manifest,
            compiler,
            site,
            watch,
            host_watch,
        })
    }
}

/// `/hotwasm/app.json`: where the generic page finds the bundle and what it calls per frame.
pub fn app_json(config: &Config, frame: Option<&str>) -> String {
    let name = &config.app.name;
    let mut v = serde_json::json!({
        "name": name,
        "script": format!("/{name}.js"),
        "wasm": format!("/{name}.wasm"),
        "export_name": config.app.export_name,
    });
    if let Some(frame) = frame.or(config.serve.frame.as_deref()) {
        v["frame"] = frame.into();
    }
    // The page's undo-with-state settings (web/snapshots.js, web/applier.js).
    let (snapshots, budget_mb, on_trap) = config.snapshots();
    v["snapshots"] = snapshots.into();
    v["snapshot_budget_mb"] = budget_mb.into();
    v["on_trap"] = on_trap.as_str().into();
    v.to_string()
}

/// Runs the server until the process is killed.
pub fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let home = Home::find()?;
    let config = Config::find(args.project.as_deref())?;
    let settings = Settings::new(&config, &args, &home)?;
    run(settings)
}

/// Runs the server with `settings` until the process is killed.
pub fn run(settings: Settings) -> Result<(), ServeError> {
    let root = settings.root.clone();
    let journal = Journal::open(&settings.journal)?;
    let compiler = Compiler::new(settings.compiler.clone())
        .map(|mut c| {
            c.set_reporter(crate::sessions::file_reporter(&settings.compiler));
            c
        })
        .map_err(|e| e.to_string());
    if let Err(e) = &compiler {
        eprintln!("hotwasm: warning: {e}");
    }
    match crate::hub::read_host_manifest(&settings.host_manifest) {
        Ok(Some(_)) => {}
        Ok(None) => eprintln!(
            "hotwasm: warning: no host manifest at {} yet: patches may only import what the linker provides until the host is built (`HOT_RELOAD=1 scripts/emscripten-bundle.sh {}`)",
            settings.host_manifest.display(),
            root.display()
        ),
        Err(e) => eprintln!("hotwasm: warning: {e}"),
    }
    let addr = format!("{}:{}", settings.bind, settings.port);
    let listener = TcpListener::bind((settings.bind.as_str(), settings.port))
        .map_err(|e| ServeError::Bind(addr.clone(), e))?;
    let port = listener
        .local_addr()
        .map_err(|e| ServeError::Bind(addr, e))?
        .port();
    let token = security::random_hex(16);
    let dot = root.join(".hotwasm");
    let token_path = dot.join("token");
    security::write_token(&token_path, &token)
        .map_err(|e| ServeError::Token(token_path.display().to_string(), e))?;
    let host = if matches!(settings.bind.as_str(), "0.0.0.0" | "::" | "127.0.0.1") {
        "127.0.0.1".to_string()
    } else {
        settings.bind.clone()
    };
    let url_path = dot.join("url");
    std::fs::write(&url_path, format!("ws://{host}:{port}/repl\n"))
        .map_err(|e| ServeError::Token(url_path.display().to_string(), e))?;

    let hub = Arc::new(Hub::new(
        token.clone(),
        Names::new(&settings.bind, port),
        root.clone(),
        settings.host_manifest.clone(),
        compiler,
        journal,
    ));
    crate::vars::refresh(&hub);
    warm_up(&hub, settings.warm_cpp);
    if let Some(set) = settings.watch {
        match crate::watch::start(hub.clone(), set) {
            Ok(warnings) => {
                for w in warnings {
                    eprintln!("hotwasm: warning: not watching {w}");
                }
            }
            Err(e) => eprintln!(
                "hotwasm: warning: cannot watch the [patches] watch globs ({e}); save-to-reload is off"
            ),
        }
    }
    let mut rebuild = None;
    if let Some(w) = settings.host_watch {
        match crate::host_reload::start(hub.clone(), w) {
            Ok((warnings, queue)) => {
                for w in warnings {
                    eprintln!("hotwasm: warning: not watching {w}");
                }
                rebuild = Some(queue);
            }
            Err(e) => eprintln!(
                "hotwasm: warning: cannot watch the [build] host_watch globs ({e}); host rebuilds on save are off"
            ),
        }
    }
    if settings.watch_config {
        if let Err(e) = crate::config_watch::start(hub.clone(), settings.config.clone(), rebuild) {
            eprintln!(
                "hotwasm: warning: cannot watch {} ({e}): edits to it apply after a restart",
                crate::config::FILE_NAME
            );
        }
    }
    println!("hotwasm: open http://{host}:{port}/?token={token}");
    let _ = std::io::stdout().flush();
    accept_loop(listener, hub, Arc::new(settings.site));
    Ok(())
}

/// Learns the fast path, assembles the host vars' trampolines, prepares C++ (when `cpp`) and
/// builds the Rust prelude in the background, so the first eval is fast.
fn warm_up(hub: &Arc<Hub>, cpp: bool) {
    let Ok(c) = &hub.compiler else { return };
    if c.plain_emcc() {
        return;
    }
    let hub = hub.clone();
    std::thread::spawn(move || {
        if let Ok(c) = &hub.compiler {
            let host = hub.host().ok();
            // Patches of a host built with threads compile with -pthread (learnt separately).
            let threads = host.as_ref().is_some_and(|h| h.threads);
            match c.warm_up(threads) {
                // The host vars' trampolines, so the first eval of a host var is fast too.
                Ok(()) => {
                    if let Some(host) = &host {
                        let _ = c.warm_up_vars(host);
                    }
                }
                Err(e) => eprintln!("hotwasm: warning: {e}"),
            }
            if cpp {
                if let Err(e) = c.warm_up_cpp(threads) {
                    eprintln!("hotwasm: warning: C++ patches may be slow to start: {e}");
                }
            }
            if let Err(e) = c.warm_up_rust() {
                eprintln!("hotwasm: warning: Rust patches are off: {e}");
            }
        }
    });
}
