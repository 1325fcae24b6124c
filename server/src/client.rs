//! The terminal client: `hotwasm eval FILE` and `hotwasm repl` connect to a running server
//! (token from `.hotwasm/token`), send evals and print results, page output, diagnostics as
//! `file:line:col: severity: message`, and timings.

use crate::cli::ConnArgs;
use crate::protocol::{ClientMsg, Lang, Role, ServerMsg, PROTOCOL_VERSION};
use std::io::BufRead;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// Why the client failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No app around the current directory (or `--project`).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// No token file.
    #[error(
        "cannot read {0} ({1}): start `hotwasm serve` for this app first (or pass --project DIR)"
    )]
    Token(String, std::io::Error),
    /// Could not connect.
    #[error(
        "cannot connect to {0}: {1}; is `hotwasm serve` running? (the URL is in .hotwasm/url)"
    )]
    Connect(String, Box<tungstenite::Error>),
    /// The connection broke.
    #[error("connection to the server lost: {0}")]
    Lost(Box<tungstenite::Error>),
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    /// The server refused something.
    #[error("server refused: {0}")]
    Refused(String),
}

impl From<tungstenite::Error> for ClientError {
    fn from(e: tungstenite::Error) -> Self {
        ClientError::Lost(Box::new(e))
    }
}

/// The root of the app around `project` (or the current directory): where `hotwasm serve`
/// writes `.hotwasm/token` and `.hotwasm/url`.
pub fn app_root(project: Option<&Path>) -> Result<PathBuf, crate::config::ConfigError> {
    crate::config::Config::find(project).map(|c| c.root)
}

/// Connects and says hello as a terminal client.
pub fn connect(conn: &ConnArgs) -> Result<Socket, ClientError> {
    let root = app_root(conn.project.as_deref())?;
    let token_path = root.join(".hotwasm/token");
    let token = std::fs::read_to_string(&token_path)
        .map_err(|e| ClientError::Token(token_path.display().to_string(), e))?;
    let url = conn.url.clone().unwrap_or_else(|| {
        std::fs::read_to_string(root.join(".hotwasm/url"))
            .map(|u| u.trim().to_string())
            .unwrap_or_else(|_| "ws://127.0.0.1:7888/repl".into())
    });
    let full = format!("{url}?token={}", token.trim());
    let (mut ws, _) =
        tungstenite::connect(&full).map_err(|e| ClientError::Connect(url.clone(), Box::new(e)))?;
    let hello = ClientMsg::Hello {
        protocol: PROTOCOL_VERSION,
        role: Role::Repl,
        journal_epoch: None,
        journal_seq: 0,
    };
    ws.send(Message::Text(
        serde_json::to_string(&hello).expect("serializes"),
    ))?;
    Ok(ws)
}

/// Sends one eval and prints everything until its result; returns whether it applied.
pub fn eval(ws: &mut Socket, id: &str, name: &str, source: String) -> Result<bool, ClientError> {
    let msg = ClientMsg::Eval {
        id: id.into(),
        lang: Lang::of_path(std::path::Path::new(name)).unwrap_or(Lang::C),
        source,
        name: Some(name.into()),
    };
    ws.send(Message::Text(
        serde_json::to_string(&msg).expect("serializes"),
    ))?;
    loop {
        let Message::Text(text) = ws.read()? else {
            continue;
        };
        let Ok(msg) = serde_json::from_str::<ServerMsg>(&text) else {
            continue;
        };
        match msg {
            ServerMsg::EvalResult {
                id: got,
                ok,
                diagnostics,
                raw_output,
                error,
                timings,
                pages,
                seq,
                ..
            } if got == id => {
                for d in &diagnostics {
                    println!(
                        "{}:{}:{}: {}: {}",
                        d.file, d.line, d.column, d.severity, d.message
                    );
                }
                if diagnostics.is_empty() && !ok && !raw_output.is_empty() {
                    print!("{raw_output}");
                }
                for p in &pages {
                    if !p.output.is_empty() {
                        print!("[page {}] {}", p.page, p.output);
                        if !p.output.ends_with('\n') {
                            println!();
                        }
                    }
                }
                match (ok, seq) {
                    (true, Some(seq)) => {
                        println!("ok: patch {seq} applied on {} page(s)", pages.len())
                    }
                    _ => println!("error: {}", error.unwrap_or_else(|| "failed".into())),
                }
                println!(
                    "time: compile {:.0} ms, check {:.1} ms, transfer {:.1} ms, apply {:.1} ms, total {:.0} ms",
                    timings.compile_ms, timings.check_ms, timings.transfer_ms, timings.apply_ms, timings.total_ms
                );
                return Ok(ok);
            }
            ServerMsg::Diagnostics {
                name, diagnostics, ..
            } => {
                println!("(watch) {name}:");
                for d in diagnostics {
                    println!(
                        "{}:{}:{}: {}: {}",
                        d.file, d.line, d.column, d.severity, d.message
                    );
                }
            }
            ServerMsg::Error { code, message } => {
                return Err(ClientError::Refused(format!("{code:?}: {message}")))
            }
            _ => {}
        }
    }
}

/// `hotwasm eval FILE`.
pub fn eval_file(conn: &ConnArgs, file: &std::path::Path) -> Result<bool, ClientError> {
    let source = std::fs::read_to_string(file)
        .map_err(|e| ClientError::Read(file.display().to_string(), e))?;
    let name = file
        .file_name()
        .map_or("eval.c".into(), |n| n.to_string_lossy().into_owned());
    let mut ws = connect(conn)?;
    eval(&mut ws, "1", &name, source)
}

/// What the repl says about entries in `lang`: the file name evals get, what to type, and
/// where statements to run once go.
fn repl_language(lang: Lang) -> (&'static str, &'static str, &'static str) {
    match lang {
        Lang::Rust => (
            "repl.rs",
            "Rust definitions (#[no_mangle] pub extern \"C\" fn ...)",
            "#[no_mangle] pub extern \"C\" fn hotwasm_main()",
        ),
        Lang::Cpp => (
            "repl.cpp",
            "C++ definitions (extern \"C\" functions are vars)",
            "extern \"C\" void hotwasm_main(void)",
        ),
        Lang::C => ("repl.c", "C definitions", "void hotwasm_main(void)"),
    }
}

/// `hotwasm repl`: entries end with a blank line or a line `;;`; a line `:c`, `:cpp` or
/// `:rust` switches the language; EOF quits.
pub fn repl(conn: &ConnArgs, lang: Lang) -> Result<(), ClientError> {
    let mut ws = connect(conn)?;
    let (mut name, what, main) = repl_language(lang);
    println!("hotwasm repl: enter {what}; end an entry with a blank line or `;;` (`:c`, `:cpp`, `:rust` switch). Statements to run once go in `{main}`.");
    let stdin = std::io::stdin();
    let mut entry = String::new();
    let mut n = 0;
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| ClientError::Read("stdin".into(), e))?;
        let switch = match line.trim() {
            ":c" => Some(Lang::C),
            ":cpp" => Some(Lang::Cpp),
            ":rust" => Some(Lang::Rust),
            _ => None,
        };
        if let Some(to) = switch.filter(|_| entry.trim().is_empty()) {
            let (file, what, main) = repl_language(to);
            name = file;
            println!("hotwasm repl: now {what}; statements to run once go in `{main}`.");
            continue;
        }
        let end = line.trim().is_empty() || line.trim() == ";;";
        if !end {
            entry.push_str(&line);
            entry.push('\n');
            continue;
        }
        if entry.trim().is_empty() {
            continue;
        }
        n += 1;
        eval(&mut ws, &n.to_string(), name, std::mem::take(&mut entry))?;
    }
    if !entry.trim().is_empty() {
        eval(&mut ws, "last", name, entry)?;
    }
    Ok(())
}

/// Asks a running server to reset its journal.
pub fn reset(conn: &ConnArgs) -> Result<String, ClientError> {
    let mut ws = connect(conn)?;
    ws.send(Message::Text(
        serde_json::to_string(&ClientMsg::JournalReset).expect("serializes"),
    ))?;
    loop {
        if let Message::Text(text) = ws.read()? {
            if let Ok(ServerMsg::JournalReset { journal_epoch }) = serde_json::from_str(&text) {
                return Ok(journal_epoch);
            }
        }
    }
}
