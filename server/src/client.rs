//! The terminal client: `hotwasm eval FILE` and `hotwasm repl` connect to a running server
//! (token from `.hotwasm/token`), send evals and print results, page output, diagnostics as
//! `file:line:col: severity: message` with the source line and a caret, and timings. The
//! interactive loop of `hotwasm repl` is [`crate::repl`].

use crate::cli::ConnArgs;
use crate::protocol::{ClientMsg, Diagnostic, Lang, Role, ServerMsg, PROTOCOL_VERSION};
use hotwasm_abi::HostVar;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The WebSocket to the server.
pub type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

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

/// Reads the server's `welcome` (the answer to [`connect`]'s hello): the host's hot vars.
pub fn welcome(ws: &mut Socket) -> Result<Vec<HostVar>, ClientError> {
    reply(ws, |msg| match msg {
        ServerMsg::Welcome { host_vars, .. } => Some(host_vars),
        _ => None,
    })
}

/// Reads messages until `pick` takes one (its answer) or the server refuses (an `error`).
fn reply<T>(ws: &mut Socket, pick: impl Fn(ServerMsg) -> Option<T>) -> Result<T, ClientError> {
    loop {
        let Message::Text(text) = ws.read()? else {
            continue;
        };
        match serde_json::from_str::<ServerMsg>(&text) {
            Ok(ServerMsg::Error { code, message, .. }) => {
                return Err(ClientError::Refused(format!("{code:?}: {message}")))
            }
            Ok(msg) => {
                if let Some(answer) = pick(msg) {
                    return Ok(answer);
                }
            }
            Err(_) => {}
        }
    }
}

/// Asks every page to roll `var` back one version; `Ok(Err(why))` when the server refused.
/// A `ping` after the `rollback` tells when the server has handled it (it answers a
/// rollback only when it refuses it).
pub fn rollback(ws: &mut Socket, var: &str) -> Result<Result<(), String>, ClientError> {
    for msg in [ClientMsg::Rollback { var: var.into() }, ClientMsg::Ping] {
        ws.send(Message::Text(
            serde_json::to_string(&msg).expect("serializes"),
        ))?;
    }
    let mut refused = None;
    loop {
        let Message::Text(text) = ws.read()? else {
            continue;
        };
        match serde_json::from_str::<ServerMsg>(&text) {
            Ok(ServerMsg::Error { message, .. }) => refused = Some(message),
            Ok(ServerMsg::Pong) => return Ok(refused.map_or(Ok(()), Err)),
            _ => {}
        }
    }
}

/// Asks every page to undo journal entry `seq` and every later one (with `state`, memory too);
/// waits for the server's `undo_result` (it comes once every page answered). `Ok(Err(why))` when
/// the server refused the message itself.
pub fn undo(
    ws: &mut Socket,
    seq: u64,
    state: bool,
) -> Result<Result<ServerMsg, String>, ClientError> {
    let id = format!("repl-undo-{seq}-{}", std::process::id());
    let msg = ClientMsg::Undo {
        id: id.clone(),
        seq,
        state,
        trap: None,
    };
    ws.send(Message::Text(
        serde_json::to_string(&msg).expect("serializes"),
    ))?;
    loop {
        let Message::Text(text) = ws.read()? else {
            continue;
        };
        match serde_json::from_str::<ServerMsg>(&text) {
            Ok(ServerMsg::Error { message, .. }) => return Ok(Err(message)),
            Ok(r @ ServerMsg::UndoResult { .. }) => {
                if matches!(&r, ServerMsg::UndoResult { id: got, .. } if *got == id) {
                    return Ok(Ok(r));
                }
            }
            _ => {}
        }
    }
}

/// Prints an `undo_result` the way the repl shows results: what was undone, each page's answer.
pub fn print_undo(result: &ServerMsg) {
    let ServerMsg::UndoResult {
        ok,
        seq,
        state,
        undone,
        pages,
        error,
        ..
    } = result
    else {
        return;
    };
    let what = if *state { "code and state" } else { "code" };
    if undone.is_empty() {
        println!("error: {}", error.as_deref().unwrap_or("nothing undone"));
        return;
    }
    let list: Vec<String> = undone.iter().map(|s| format!("#{s}")).collect();
    println!(
        "{} {what} back to before #{seq}: undid {} on {} page(s)",
        if *ok { "ok" } else { "partly:" },
        list.join(", "),
        pages.len()
    );
    for p in pages.iter().filter(|p| !p.ok) {
        println!(
            "  page {}: {}",
            p.page,
            p.error.as_deref().unwrap_or("failed")
        );
    }
}

/// Asks the server for every current var (`vars` → `vars_result`): host vars and every var the
/// journal defines, with exact versions.
pub fn vars(ws: &mut Socket) -> Result<Vec<crate::protocol::VarInfo>, ClientError> {
    let msg = ClientMsg::Vars { id: "vars".into() };
    ws.send(Message::Text(
        serde_json::to_string(&msg).expect("serializes"),
    ))?;
    reply(ws, |msg| match msg {
        ServerMsg::VarsResult { vars, .. } => Some(vars),
        _ => None,
    })
}

/// Asks the server for fresh C and C++ compiler sessions (`:reset`); returns the last journal
/// entry the old sessions held.
pub fn session_reset(ws: &mut Socket) -> Result<u64, ClientError> {
    let msg = ClientMsg::SessionReset { id: "reset".into() };
    ws.send(Message::Text(
        serde_json::to_string(&msg).expect("serializes"),
    ))?;
    reply(ws, |msg| match msg {
        ServerMsg::SessionResetResult { after_seq, .. } => Some(after_seq),
        _ => None,
    })
}

/// Prints one diagnostic as `file:line:col: severity: message`; when it points into `name`,
/// also the source line and a caret under the column.
fn print_diagnostic(d: &Diagnostic, name: &str, source: &str) {
    println!(
        "{}:{}:{}: {}: {}",
        d.file, d.line, d.column, d.severity, d.message
    );
    let line = (d.line as usize)
        .checked_sub(1)
        .filter(|_| d.file == name || d.file.ends_with(&format!("/{name}")))
        .and_then(|i| source.lines().nth(i));
    if let Some(text) = line {
        // Keep tabs so the caret lines up however the terminal shows them.
        let pad: String = text
            .chars()
            .take((d.column as usize).saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        println!("{:>5} | {text}", d.line);
        println!("      | {pad}^");
    }
}

/// Prints an `eval_result`: diagnostics (with carets into `source`), each page's outcome and
/// output, the overall outcome and the timings.
fn print_result(msg: ServerMsg, name: &str, source: &str) -> bool {
    let ServerMsg::EvalResult {
        ok,
        diagnostics,
        raw_output,
        error,
        timings,
        pages,
        seq,
        ..
    } = msg
    else {
        return false;
    };
    for d in &diagnostics {
        print_diagnostic(d, name, source);
    }
    if diagnostics.is_empty() && !ok && !raw_output.is_empty() {
        print!("{raw_output}");
    }
    for p in &pages {
        match &p.error {
            None if p.ok => println!("[page {}] ok, applied in {:.1} ms", p.page, p.apply_ms),
            e => println!(
                "[page {}] failed: {}",
                p.page,
                e.as_deref().unwrap_or("no reason given")
            ),
        }
        for line in p.output.lines() {
            println!("[page {}] {line}", p.page);
        }
    }
    for line in value_lines(&pages) {
        println!("{line}");
    }
    match (ok, seq) {
        (true, Some(seq)) => println!("ok: patch {seq} applied on {} page(s)", pages.len()),
        _ => println!("error: {}", error.unwrap_or_else(|| "failed".into())),
    }
    println!(
        "time: compile {:.0} ms, check {:.1} ms, transfer {:.1} ms, apply {:.1} ms, total {:.0} ms",
        timings.compile_ms,
        timings.check_ms,
        timings.transfer_ms,
        timings.apply_ms,
        timings.total_ms
    );
    ok
}

/// The printed value of an eval's final expression: `= 42 (int)` once when every page that
/// has one agrees, else one line per page (`[page 3] = 41 (int)`).
pub fn value_lines(pages: &[crate::protocol::PageOutcome]) -> Vec<String> {
    let show = |v: &crate::protocol::EvalValue| format!("= {} ({})", v.text, v.ty);
    let valued: Vec<_> = pages
        .iter()
        .filter_map(|p| p.value.as_ref().map(|v| (p.page, v)))
        .collect();
    match valued.first() {
        None => Vec::new(),
        Some((_, first))
            if valued.len() == pages.len() && valued.iter().all(|(_, v)| v == first) =>
        {
            vec![show(first)]
        }
        Some(_) => valued
            .iter()
            .map(|(page, v)| format!("[page {page}] {}", show(v)))
            .collect(),
    }
}

/// Sends one eval of `source` (in `lang`, diagnostics naming `name`) and prints everything
/// until its result; returns whether it applied.
pub fn eval(
    ws: &mut Socket,
    id: &str,
    name: &str,
    lang: Lang,
    source: String,
) -> Result<bool, ClientError> {
    let msg = ClientMsg::Eval {
        id: id.into(),
        lang,
        source: source.clone(),
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
            ServerMsg::EvalResult { id: ref got, .. } if got == id => {
                return Ok(print_result(msg, name, &source));
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
            ServerMsg::Error { code, message, .. } => {
                return Err(ClientError::Refused(format!("{code:?}: {message}")))
            }
            msg @ (ServerMsg::HostBuild { .. } | ServerMsg::HostReload { .. }) => {
                print_host_news(&msg)
            }
            _ => {}
        }
    }
}

/// Prints the host rebuild news that arrived while the terminal waited for input (the repl calls
/// it before each prompt), without waiting for more. Other messages are not for this moment and
/// are dropped, as between evals.
pub fn print_pending_host_news(ws: &mut Socket) {
    let MaybeTlsStream::Plain(stream) = ws.get_mut() else {
        return;
    };
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    while let Ok(Message::Text(text)) = ws.read() {
        if let Ok(msg) = serde_json::from_str::<ServerMsg>(&text) {
            print_host_news(&msg);
        }
    }
    if let MaybeTlsStream::Plain(stream) = ws.get_mut() {
        let _ = stream.set_nonblocking(false);
    }
}

/// A host rebuild the server reported meanwhile: started, failed, or done with the journal
/// entries the new host could not take.
fn print_host_news(msg: &ServerMsg) {
    match msg {
        ServerMsg::HostBuild {
            status: crate::protocol::HostBuildStatus::Building,
            files,
            ..
        } => println!("(host) {} changed: rebuilding the host", files.join(", ")),
        ServerMsg::HostBuild {
            error, raw_output, ..
        } => {
            println!(
                "(host) {}",
                error.as_deref().unwrap_or("the host build failed")
            );
            print!("{raw_output}");
        }
        ServerMsg::HostReload { build, dropped } => {
            println!("(host) new host (build {build}): the pages reload onto it");
            for d in dropped {
                println!("(host) journal entry #{} dropped: {}", d.seq, d.reason);
            }
        }
        _ => {}
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
    let lang = Lang::of_path(file).unwrap_or(Lang::C);
    eval(&mut ws, "1", &name, lang, source)
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

#[cfg(test)]
mod tests {
    use super::value_lines;
    use crate::protocol::{EvalValue, PageOutcome};

    fn page(page: u64, value: Option<(&str, &str)>) -> PageOutcome {
        PageOutcome {
            page,
            ok: true,
            apply_ms: 0.0,
            error: None,
            output: String::new(),
            value: value.map(|(ty, text)| EvalValue {
                ty: ty.into(),
                text: text.into(),
            }),
        }
    }

    #[test]
    fn one_value_line_when_every_page_agrees_else_one_per_page() {
        let same = [page(1, Some(("int", "42"))), page(2, Some(("int", "42")))];
        assert_eq!(value_lines(&same), vec!["= 42 (int)"]);
        let differ = [page(1, Some(("int", "41"))), page(2, Some(("int", "42")))];
        assert_eq!(
            value_lines(&differ),
            vec!["[page 1] = 41 (int)", "[page 2] = 42 (int)"]
        );
        assert!(value_lines(&[page(1, None)]).is_empty());
    }
}
