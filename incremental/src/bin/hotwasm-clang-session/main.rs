//! `hotwasm-clang-session <clang -cc1 arguments…>`: one persistent incremental clang for one
//! REPL session (candidate a of issue 21). It reads framed requests on stdin and answers each on
//! stdout (hotwasm_incremental::protocol); clang's C++ API is reached through [`ffi`].

mod ffi;

use hotwasm_incremental::protocol::{self, Linked, Ready, Request, Undone};
use std::io::{self, BufReader, BufWriter, Write};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let started = Instant::now();
    let session = ffi::Session::new(&args);
    let ready = match &session {
        Ok(_) => Ready {
            protocol: ffi::protocol_version(),
            ok: true,
            error: String::new(),
            setup_ms: started.elapsed().as_secs_f64() * 1e3,
        },
        Err(e) => Ready {
            protocol: ffi::protocol_version(),
            ok: false,
            error: e.clone(),
            setup_ms: 0.0,
        },
    };
    if send_json(&mut out, &ready).is_err() {
        return;
    }
    let Ok(mut session) = session else { return };
    let mut input = BufReader::new(io::stdin().lock());
    while let Ok(Some(frame)) = protocol::read_frame(&mut input) {
        if answer(&mut session, &frame, &mut out).is_err() {
            break;
        }
    }
}

fn answer(session: &mut ffi::Session, frame: &[u8], out: &mut impl Write) -> io::Result<()> {
    match Request::decode(frame)? {
        Request::Eval(text) => {
            let (report, object) = session.eval(&text);
            protocol::write_frame(out, &report)?;
            protocol::write_frame(out, &object)
        }
        Request::Undo(n) => send_json(
            out,
            &Undone {
                undone: session.undo(n),
            },
        ),
        Request::Link(args) => {
            let (ok, messages) = ffi::wasm_ld(&args);
            send_json(out, &Linked { ok, messages })
        }
        Request::Assemble(args) => {
            let (ok, messages) = ffi::llvm_mc(&args);
            send_json(out, &Linked { ok, messages })
        }
    }
}

fn send_json(out: &mut impl Write, value: &impl serde::Serialize) -> io::Result<()> {
    protocol::write_frame(out, &serde_json::to_vec(value).expect("serialisable"))
}
