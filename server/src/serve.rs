//! `hotwasm serve`: opens the journal, finds the compiler, binds the listener, writes
//! `.hotwasm/token` and `.hotwasm/url`, prints the URL to open, starts the file watch and
//! serves until killed.

use crate::cli::ServeArgs;
use crate::compile::{Compiler, CompilerConfig};
use crate::http::{accept_loop, Roots};
use crate::hub::Hub;
use crate::journal::Journal;
use crate::security::{self, Names, COMPILER_MEMORY, COMPILE_TIMEOUT};
use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The project root does not exist.
    #[error("project root {0}: {1}; pass --root <project dir>")]
    Root(String, std::io::Error),
    /// The port is taken or the address is not ours.
    #[error("cannot listen on {0}: {1}; pick another --port (0 picks a free one) or stop the other server")]
    Bind(String, std::io::Error),
    /// The journal could not be opened.
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    /// `.hotwasm/token` could not be written.
    #[error("cannot write {0}: {1}; check the project directory's permissions")]
    Token(String, std::io::Error),
}

/// Runs the server until the process is killed.
pub fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let root = std::fs::canonicalize(&args.root)
        .map_err(|e| ServeError::Root(args.root.display().to_string(), e))?;
    let bundle = root.join(&args.bundle);
    let host_manifest = args
        .host_manifest
        .clone()
        .map_or_else(|| bundle.join("hotwasm-host.json"), |p| root.join(p));
    let journal = Journal::open(&root.join(&args.journal))?;
    let config = CompilerConfig {
        root: root.clone(),
        include_dirs: vec![root.join("abi/include")],
        plain_emcc: args.plain_emcc,
        opt: format!("-O{}", args.opt),
        timeout: COMPILE_TIMEOUT,
        memory_bytes: COMPILER_MEMORY,
    };
    let compiler = Compiler::new(config).map_err(|e| e.to_string());
    if let Err(e) = &compiler {
        eprintln!("hotwasm: warning: {e}");
    }
    match crate::hub::read_host_manifest(&host_manifest) {
        Ok(Some(_)) => {}
        Ok(None) => eprintln!(
            "hotwasm: warning: no host manifest at {} yet: patches may only import what the linker provides until the bundle is built (HOT_RELOAD=1 scripts/emscripten-bundle.sh)",
            host_manifest.display()
        ),
        Err(e) => eprintln!("hotwasm: warning: {e}"),
    }
    let addr = format!("{}:{}", args.bind, args.port);
    let listener = TcpListener::bind((args.bind.as_str(), args.port))
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
    let host = if matches!(args.bind.as_str(), "0.0.0.0" | "::" | "127.0.0.1") {
        "127.0.0.1".to_string()
    } else {
        args.bind.clone()
    };
    let url_path = dot.join("url");
    std::fs::write(&url_path, format!("ws://{host}:{port}/repl\n"))
        .map_err(|e| ServeError::Token(url_path.display().to_string(), e))?;

    let hub = Arc::new(Hub::new(
        token.clone(),
        Names::new(&args.bind, port),
        root.clone(),
        host_manifest,
        compiler,
        journal,
    ));
    if let Ok(c) = &hub.compiler {
        if !c.plain_emcc() {
            let hub = hub.clone();
            std::thread::spawn(move || {
                if let Ok(c) = &hub.compiler {
                    if let Err(e) = c.warm_up() {
                        eprintln!("hotwasm: warning: {e}");
                    }
                    if let Err(e) = c.warm_up_rust() {
                        eprintln!("hotwasm: warning: Rust patches are off: {e}");
                    }
                }
            });
        }
    }
    if !args.no_watch {
        if let Err(e) = crate::watch::start(hub.clone()) {
            eprintln!("hotwasm: warning: not watching side-modules/ ({e}); save-to-reload is off");
        }
    }
    let roots = Arc::new(Roots(vec![root.join(&args.web), bundle]));
    println!("hotwasm: open http://{host}:{port}/?token={token}");
    let _ = std::io::stdout().flush();
    accept_loop(listener, hub, roots);
    Ok(())
}
