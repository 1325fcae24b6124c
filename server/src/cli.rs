//! The command line: `hotwasm serve`, `eval`, `repl` and `journal reset`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// hotwasm: live-edit C and Rust inside a running Emscripten WebAssembly app.
#[derive(Debug, Parser)]
#[command(name = "hotwasm", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the page, the bundle and the WebSocket; compile and deliver patches.
    Serve(ServeArgs),
    /// Evaluate one C file, or one Rust file (`.rs`), in every connected page.
    Eval {
        /// The C or Rust (`.rs`) file.
        file: PathBuf,
        /// Where the server is.
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Read C (or Rust, with --rust) from the terminal and evaluate it (end an entry with a
    /// blank line or `;;`).
    Repl {
        /// Entries are Rust (`#[no_mangle] pub extern "C" fn ...`) instead of C.
        #[arg(long)]
        rust: bool,
        /// Where the server is.
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Manage the journal.
    Journal {
        /// What to do with it.
        #[command(subcommand)]
        action: JournalAction,
    },
}

/// Journal actions.
#[derive(Debug, Subcommand)]
pub enum JournalAction {
    /// Forget every entry (a running server keeps its copy: send `journal_reset` to it instead).
    Reset {
        /// The journal directory.
        #[arg(long, default_value = ".hotwasm/journal")]
        journal: PathBuf,
        /// A running server's WebSocket URL; when given, the server resets its journal.
        #[arg(long)]
        url: Option<String>,
        /// The project root (for `.hotwasm/token`).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

/// Where a client connects.
#[derive(Debug, Args)]
pub struct ConnArgs {
    /// The server's WebSocket URL (default: `.hotwasm/url`, else ws://127.0.0.1:7888/repl).
    #[arg(long)]
    pub url: Option<String>,
    /// The project root holding `.hotwasm/token`.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
}

/// `hotwasm serve` options.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Port (0 picks a free one; the URL printed has the real port).
    #[arg(long, default_value_t = 7888)]
    pub port: u16,
    /// Address to bind; keep it on loopback unless you trust the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// The project directory.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Static files of the page (relative to the root).
    #[arg(long, default_value = "web")]
    pub web: PathBuf,
    /// The HOT_RELOAD bundle (relative to the root).
    #[arg(long, default_value = "build/hot")]
    pub bundle: PathBuf,
    /// The host manifest (default `<bundle>/hotwasm-host.json`).
    #[arg(long)]
    pub host_manifest: Option<PathBuf>,
    /// The journal directory (relative to the root).
    #[arg(long, default_value = ".hotwasm/journal")]
    pub journal: PathBuf,
    /// Compile with plain emcc instead of the fast path.
    #[arg(long)]
    pub plain_emcc: bool,
    /// Optimisation level of patches (C: clang/emcc -O<n>; Rust: opt-level).
    #[arg(long, default_value = "2", value_parser = ["0", "1", "2", "3", "s", "z"])]
    pub opt: String,
    /// Do not watch side-modules/.
    #[arg(long)]
    pub no_watch: bool,
}
