//! The command line: `hotwasm init`, `build`, `serve`, `eval`, `repl` and `journal reset`.
//! Every command that works on an app finds its `hotwasm.toml` from `--project DIR` or from the
//! current directory upward; flags given here override the config.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// hotwasm: live-edit C, C++ and Rust inside a running Emscripten WebAssembly app.
#[derive(Debug, Parser)]
#[command(
    name = "hotwasm",
    version,
    after_help = "Start here:\n  hotwasm init --lang c my-app     # a new app with one hot function\n  cd my-app && hotwasm build --hot # the HOT_RELOAD host\n  hotwasm serve                    # open the URL it prints, edit, save\n\nEvery command reads hotwasm.toml (see docs/ADOPTING.md)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new app (hotwasm.toml, one hot function, a patch to edit) in DIR.
    #[command(
        after_help = "Example:\n  hotwasm init --lang rust ~/my-app\n  HOT_RELOAD=1 ~/hotwasm/scripts/emscripten-bundle.sh ~/my-app && ~/hotwasm/scripts/hotwasm serve --project ~/my-app"
    )]
    Init(InitArgs),
    /// Build the app's host for the browser (HOT_RELOAD with --hot) as hotwasm.toml says.
    #[command(
        after_help = "Example:\n  hotwasm build --hot --project examples/particles   # → examples/particles/build/hot/\n  hotwasm build                                       # plain build of the app around the cwd\n  hotwasm build --check                               # check hotwasm.toml, write the editor files"
    )]
    Build(BuildArgs),
    /// Serve the app's page, its HOT_RELOAD bundle and the WebSocket; compile and deliver patches.
    #[command(
        after_help = "Example:\n  hotwasm serve --project examples/particles --port 8000\n  hotwasm serve --page hotwasm    # use hotwasm's generic page instead of the app's"
    )]
    Serve(ServeArgs),
    /// Evaluate one C (.c), C++ (.cpp/.cc) or Rust (.rs) file in every connected page.
    #[command(after_help = "Example:\n  hotwasm eval patches/colors.c")]
    Eval {
        /// The source file.
        file: PathBuf,
        /// Where the server is.
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Read C, C++ or Rust from the terminal and evaluate it (end an entry with a blank line or
    /// `;;`). On a terminal: line editing and history (the app's `.hotwasm/repl_history`).
    /// Lines starting with `:` are commands (listed below).
    #[command(after_help = format!(
        "Commands:\n{}\nExample:\n  hotwasm repl\n  c> int app_value(int frame) {{ return frame * 3; }}\n  ...> ;;\n  c> :vars\n  c> :rollback app_value\n  c> :undo 3\n  c> :load patches/colors.c\n  c> :cpp",
        crate::repl_commands::commands_help()
    ))]
    Repl {
        /// Entries are Rust (items, statements, a final expression): the same as `--lang rust`.
        #[arg(long)]
        rust: bool,
        /// The language of the entries (default `c`).
        #[arg(long, value_enum)]
        lang: Option<crate::protocol::Lang>,
        /// Where the server is.
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Manage the journal.
    #[command(
        after_help = "Example:\n  hotwasm journal reset --url ws://127.0.0.1:7888/repl   # a running server forgets every patch"
    )]
    Journal {
        /// What to do with it.
        #[command(subcommand)]
        action: JournalAction,
    },
    /// Print the wire protocol's message types and error codes as JSON (for the JS mirror's test).
    #[command(hide = true)]
    Protocol {
        /// JSON output (the only format).
        #[arg(long)]
        json: bool,
    },
}

/// The host language of a new app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitLang {
    /// A Rust host (a cargo package depending on hotwasm-runtime).
    Rust,
    /// A C host built with emcc.
    C,
    /// A C++ host built with em++.
    Cpp,
}

/// `hotwasm init` options.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The host language.
    #[arg(long, value_enum, default_value = "c")]
    pub lang: InitLang,
    /// The app's name (default: DIR's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Where to create the app (must not hold a hotwasm.toml yet).
    pub dir: PathBuf,
}

/// `hotwasm build` options.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// HOT_RELOAD build (MAIN_MODULE, the runtime, the host manifest) into `<out_dir>/hot`;
    /// without it a plain build into `<out_dir>/plain`.
    #[arg(long)]
    pub hot: bool,
    /// Build nothing: read hotwasm.toml (an unknown key or a bad value is an error), warn about
    /// each path it names that does not exist, and write the editor files (clangd,
    /// rust-analyzer).
    #[arg(long)]
    pub check: bool,
    /// The app (a directory holding hotwasm.toml, or below one); default: the current directory.
    #[arg(long, alias = "root")]
    pub project: Option<PathBuf>,
}

/// Journal actions.
#[derive(Debug, Subcommand)]
pub enum JournalAction {
    /// Forget every entry (a running server keeps its copy: pass --url so it resets its own).
    #[command(after_help = "Example:\n  hotwasm journal reset --url ws://127.0.0.1:7888/repl")]
    Reset {
        /// The journal directory (relative to the app root).
        #[arg(long, default_value = ".hotwasm/journal")]
        journal: PathBuf,
        /// A running server's WebSocket URL; when given, the server resets its journal.
        #[arg(long)]
        url: Option<String>,
        /// The app (for `.hotwasm/token`); default: the hotwasm.toml found from the cwd upward.
        #[arg(long, alias = "root")]
        project: Option<PathBuf>,
    },
}

/// Where a client connects.
#[derive(Debug, Args)]
pub struct ConnArgs {
    /// The server's WebSocket URL (default: `.hotwasm/url` of the app, else ws://127.0.0.1:7888/repl).
    #[arg(long)]
    pub url: Option<String>,
    /// The app holding `.hotwasm/token`; default: the hotwasm.toml found from the cwd upward.
    #[arg(long, alias = "root")]
    pub project: Option<PathBuf>,
}

/// `hotwasm serve` options; each one given overrides hotwasm.toml.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// The app (a directory holding hotwasm.toml, or below one); default: the current directory.
    #[arg(long, alias = "root")]
    pub project: Option<PathBuf>,
    /// Port (default `[serve] port`, else 7888; 0 picks a free one and the URL shows it).
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to bind; keep it on loopback unless you trust the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// The page directory (default `[serve] page`); `hotwasm` serves hotwasm's generic page.
    #[arg(long)]
    pub page: Option<String>,
    /// The export the generic page calls every animation frame (default `[serve] frame`).
    #[arg(long)]
    pub frame: Option<String>,
    /// The HOT_RELOAD bundle directory (default `<[build] out_dir>/hot`).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// The host manifest (default `<bundle>/hotwasm-host.json`).
    #[arg(long)]
    pub host_manifest: Option<PathBuf>,
    /// The journal directory (relative to the app root).
    #[arg(long, default_value = ".hotwasm/journal")]
    pub journal: PathBuf,
    /// Compile with plain emcc instead of the fast path.
    #[arg(long)]
    pub plain_emcc: bool,
    /// Optimisation level of patches (default `[patches] opt`, else 2).
    #[arg(long, value_parser = ["0", "1", "2", "3", "s", "z"])]
    pub opt: Option<String>,
    /// Do not watch the `[patches] watch` globs.
    #[arg(long)]
    pub no_watch: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_command_says_what_it_does_and_shows_an_example() {
        fn check(cmd: &clap::Command, path: &str) {
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let path = format!("{path} {}", sub.get_name());
                assert!(sub.get_about().is_some(), "`{path}` has no description");
                let help = sub
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(
                    help.contains("Example:\n  hotwasm"),
                    "`{path} --help` shows no example"
                );
                check(sub, &path);
            }
        }
        Cli::command().debug_assert();
        check(&Cli::command(), "hotwasm");
    }
}
