//! One WebSocket connection at `/repl`: a thread that alternates between sending what the hub
//! queued for this client and reading (with a short timeout) what the client sent, and that
//! answers every malformed, unknown, binary or oversized frame with an `error`.

use crate::eval::{self, Input};
use crate::hub::{AckInfo, Hub, Out};
use crate::protocol::{decode_client, ClientMsg, ErrorCode, Lang, Role, PROTOCOL_VERSION};
use crate::security::MAX_SOURCE;
use hotwasm_abi::is_c_identifier;
use std::net::TcpStream;
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Error as WsError, Message, WebSocket};

/// How long a read waits before the thread checks its outgoing queue again.
const POLL: Duration = Duration::from_millis(2);

/// Serves one upgraded connection until it closes.
pub fn serve(hub: Arc<Hub>, mut ws: WebSocket<TcpStream>) {
    let (tx, rx) = channel();
    let id = hub.connect(tx);
    let _ = ws.get_ref().set_read_timeout(Some(POLL));
    let _ = ws
        .get_ref()
        .set_write_timeout(Some(Duration::from_secs(10)));
    let _ = ws.get_ref().set_nodelay(true);
    let _ = run(&hub, id, &mut ws, &rx);
    hub.disconnect(id);
}

// The error is dropped right away by `serve`; boxing it would only add noise.
#[allow(clippy::result_large_err)]
fn run(
    hub: &Arc<Hub>,
    id: u64,
    ws: &mut WebSocket<TcpStream>,
    rx: &Receiver<Out>,
) -> Result<(), WsError> {
    loop {
        loop {
            match rx.try_recv() {
                Ok(Out::Text(t)) => ws.write(Message::Text(t))?,
                Ok(Out::Patch(header, bytes)) => {
                    ws.write(Message::Text(header))?;
                    ws.write(Message::Binary(bytes.to_vec()))?;
                }
                Ok(Out::Close(code)) => {
                    ws.flush()?;
                    return close(ws, code);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Ok(()),
            }
        }
        ws.flush()?;
        match ws.read() {
            Ok(Message::Text(text)) => handle(hub, id, &text),
            Ok(Message::Binary(_)) => hub.send(
                id,
                Hub::error(
                    ErrorCode::BinaryFromClient,
                    "clients may not send binary frames: only the server sends patches",
                ),
            ),
            Ok(Message::Close(_)) => return Ok(()),
            Ok(_) => {}
            Err(WsError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(WsError::Capacity(e)) => {
                let msg = format!("frame refused ({e}): messages are limited to 1 MiB and eval sources to 256 KiB");
                if let Out::Text(t) = Hub::error(ErrorCode::TooLarge, msg) {
                    let _ = ws.write(Message::Text(t));
                }
                return close(ws, 1009);
            }
            Err(e) => return Err(e),
        }
    }
}

#[allow(clippy::result_large_err)] // As for `run`.
fn close(ws: &mut WebSocket<TcpStream>, code: u16) -> Result<(), WsError> {
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: "".into(),
    }));
    // Give the close frame a moment to leave; the client may already be gone.
    let until = Instant::now() + Duration::from_millis(200);
    while Instant::now() < until {
        match ws.read() {
            Err(WsError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}

fn handle(hub: &Arc<Hub>, id: u64, text: &str) {
    let msg = match decode_client(text) {
        Ok(m) => m,
        Err((code, message)) => return hub.send(id, Hub::error(code, message)),
    };
    match msg {
        ClientMsg::Hello {
            protocol,
            role,
            journal_epoch,
            journal_seq,
        } => on_hello(hub, id, protocol, role, journal_epoch, journal_seq),
        ClientMsg::Eval {
            id: eval_id,
            lang,
            source,
            name,
        } => on_eval(hub, id, eval_id, lang, source, name),
        ClientMsg::Ack {
            seq,
            ok,
            apply_ms,
            error,
            output,
            value,
        } => {
            hub.ack(
                id,
                seq,
                AckInfo {
                    ok,
                    apply_ms,
                    error,
                    output,
                    value,
                    at: Instant::now(),
                },
            );
        }
        ClientMsg::Rollback { var } | ClientMsg::Trap { var, .. } if !is_c_identifier(&var) => {
            hub.send(
                id,
                Hub::error(
                    ErrorCode::BadRequest,
                    format!("`{}` is not a var name", var.escape_debug()),
                ),
            );
        }
        ClientMsg::Rollback { var } => {
            if let Err(e) = hub.rollback(&var, None) {
                hub.send(id, Hub::error(ErrorCode::BadRequest, e.to_string()));
            }
            crate::vars::refresh(hub);
        }
        ClientMsg::Trap { seq, var, message } => {
            eprintln!(
                "hotwasm: page {id} trapped in `{var}` (patch {seq}): {message}; rolled back"
            );
            if let Err(e) = hub.rollback(&var, Some(id)) {
                hub.send(id, Hub::error(ErrorCode::BadRequest, e.to_string()));
            }
            crate::vars::refresh(hub);
        }
        ClientMsg::JournalReset => {
            if let Err(e) = hub.reset_journal() {
                hub.send(id, Hub::error(ErrorCode::BadRequest, e.to_string()));
            }
            crate::vars::refresh(hub);
        }
        ClientMsg::Ping => hub.send(id, Out::Text(crate::protocol::ServerMsg::Pong.to_json())),
        ClientMsg::Undo {
            id: undo_id,
            seq,
            state,
            trap,
        } => on_undo(hub, id, undo_id, seq, state, trap),
        ClientMsg::SessionReset { id: request } => {
            let after_seq = crate::sessions::reset(hub);
            let answer = crate::protocol::ServerMsg::SessionResetResult {
                id: request,
                after_seq,
            };
            hub.send(id, Out::Text(answer.to_json()));
        }
        ClientMsg::Vars { id: request } => {
            let vars = crate::vars::of_hub(hub);
            let answer = crate::protocol::ServerMsg::VarsResult { id: request, vars };
            hub.send(id, Out::Text(answer.to_json()));
        }
    }
}

/// A client's `hello`: refused (and closed) when it speaks another protocol version.
fn on_hello(
    hub: &Arc<Hub>,
    id: u64,
    protocol: u32,
    role: Role,
    journal_epoch: Option<String>,
    journal_seq: u64,
) {
    if protocol != PROTOCOL_VERSION {
        hub.send(
                id,
                Hub::error(
                    ErrorCode::ProtocolVersion,
                    format!("this server speaks protocol {PROTOCOL_VERSION}, not {protocol}: update the client"),
                ),
            );
        return hub.send(id, Out::Close(1002));
    }
    hub.hello(
        id,
        role == Role::Page,
        journal_epoch.as_deref(),
        journal_seq,
    );
}

/// A client's `eval`: checked (size, file name, queue room), then compiled and delivered on a
/// thread of its own; the `eval_result` goes back on this connection.
fn on_eval(
    hub: &Arc<Hub>,
    id: u64,
    eval_id: String,
    lang: Lang,
    source: String,
    name: Option<String>,
) {
    if source.len() > MAX_SOURCE {
        hub.send(
            id,
            Hub::refusal(
                ErrorCode::TooLarge,
                format!(
                    "source is {} bytes, over the 256 KiB limit: send one function at a time",
                    source.len()
                ),
                Some(eval_id),
            ),
        );
        return hub.send(id, Out::Close(1009));
    }
    let name = match name {
            None => lang.default_file_name().to_string(),
            Some(n) if is_safe_relative_name(&n) => n,
            Some(n) => {
                return hub.send(
                    id,
                    Hub::refusal(
                        ErrorCode::BadRequest,
                        format!("file name `{}` refused: use a name like `step.c` or the file's path in the app like `patches/step.c` (letters, digits, `.`, `_`, `-` between `/`; no `..`)", n.escape_debug()),
                        Some(eval_id),
                    ),
                )
            }
        };
    let Some(ticket) = hub.try_queue() else {
        return hub.send(
            id,
            Hub::refusal(
                ErrorCode::Busy,
                "too many compiles running or queued: retry in a moment",
                Some(eval_id),
            ),
        );
    };
    let hub = hub.clone();
    std::thread::spawn(move || {
        let outcome = eval::run(
            &hub,
            ticket,
            lang,
            Input::Text { source, name },
            Some(eval_id.clone()),
        );
        hub.send(id, Out::Text(outcome.into_result(eval_id).to_json()));
    });
}

/// A client's `undo`: checked, then run on a thread of its own (collecting the pages' acks
/// waits, and the asking page acks on this connection); the `undo_result` goes back here.
fn on_undo(hub: &Arc<Hub>, id: u64, undo_id: String, seq: u64, state: bool, trap: Option<String>) {
    if undo_id.len() > 128 || trap.as_ref().is_some_and(|t| t.len() > MAX_SOURCE) {
        return hub.send(
            id,
            Hub::error(
                ErrorCode::BadRequest,
                "undo refused: its id is over 128 bytes or its trap message over 256 KiB",
            ),
        );
    }
    // Collecting the pages' acks waits (and the asking page acks on this connection):
    // not on this connection's thread. A bounded number at a time.
    let Some(slot) = crate::undo::InFlight::enter() else {
        return hub.send(
            id,
            Hub::refusal(
                ErrorCode::Busy,
                "too many undos waiting for pages' answers: retry in a moment",
                Some(undo_id),
            ),
        );
    };
    let hub = hub.clone();
    std::thread::spawn(move || {
        let result = crate::undo::run(&hub, id, undo_id, seq, state, trap);
        drop(slot);
        crate::vars::refresh(&hub);
        hub.send(id, Out::Text(result.to_json()));
    });
}

/// An eval's `name`: a file name, or a path relative to the app (the editor tab's file, so
/// includes beside it resolve), each component of letters, digits, `.`, `_`, `-` and not
/// starting with `.` (so no `..`, no hidden files, no absolute paths), at most 128 bytes.
fn is_safe_relative_name(name: &str) -> bool {
    name.len() <= 128
        && name.split('/').all(|c| {
            !c.is_empty()
                && !c.starts_with('.')
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_names_may_be_app_relative_paths_but_never_leave_the_app() {
        for ok in ["eval.c", "patches/ball.c", "a/b-c/d_e.cpp", "x.rs"] {
            assert!(is_safe_relative_name(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x.c",
            "a/../b.c",
            "a//b.c",
            ".hidden.c",
            "a/.x/b.c",
            "a\\b.c",
            "a b.c",
            "patches/",
        ] {
            assert!(!is_safe_relative_name(bad), "{bad}");
        }
        assert!(!is_safe_relative_name(&"a".repeat(129)));
    }
}
