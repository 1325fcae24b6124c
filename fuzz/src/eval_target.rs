//! The `eval` target: the eval parser path, i.e. clang's own parser in the incremental session
//! program (`hotwasm-clang-session`) that every C and C++ text eval goes through. Mutated REPL
//! inputs (issue 21's tricky corpus and more) are sent, as the input's second bit says, either
//! to one live C or C++ session (the console's growing session; each accepted input is undone,
//! so it stays at its prelude) or to a fresh one-shot session started for that input alone (a
//! named text eval, and the report of a saved file's globals). Properties: the session answers
//! every input (no crash, no malformed answer, within its deadline), an accepted input comes with
//! a wasm object, a refused one with an error diagnostic pointing into the input, and the live
//! session keeps working after it.
//!
//! Needs the toolchain (`emcc` on PATH, for the cc1 line) and the session program
//! (`HOTWASM_CLANG_SESSION`, else `target/debug/hotwasm-clang-session` of the workspace); without
//! them the target reports itself skipped.

use crate::{class, Outcome};
use hotwasm_incremental::{cc1, Lang, Session};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// The live sessions (C, C++), started on first use; `None` after one failed to start.
static SESSIONS: Mutex<Option<[Session; 2]>> = Mutex::new(None);

/// Every input each live session was given since it started (a finding there may need them
/// all: the session's state is their sum).
static HISTORY: Mutex<[Vec<Vec<u8>>; 2]> = Mutex::new([Vec::new(), Vec::new()]);

/// A live-session history file: each input (language byte first) as a little-endian `u32`
/// length and its bytes. `--replay` of a file named `*-history-*` replays them in order.
fn save_history(lang: usize, last: &[u8]) -> String {
    let mut history = HISTORY.lock().unwrap_or_else(|e| e.into_inner());
    let mut bytes = Vec::new();
    for input in history[lang].iter().map(Vec::as_slice).chain([last]) {
        bytes.extend((input.len() as u32).to_le_bytes());
        bytes.extend(input);
    }
    history[lang].clear();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crashes");
    let _ = std::fs::create_dir_all(&dir);
    let n = std::fs::read_dir(&dir).map_or(0, |d| d.count());
    let path = dir.join(format!("eval-history-{lang}-{n}.bin"));
    match std::fs::write(&path, bytes) {
        Ok(()) => format!(
            "; the live session's inputs since it started: {}",
            path.display()
        ),
        Err(_) => String::new(),
    }
}

/// Replays a history file ([`save_history`]) through fresh live sessions, in order.
pub fn replay_history(bytes: &[u8]) -> Outcome {
    *SESSIONS.lock().unwrap_or_else(|e| e.into_inner()) = None;
    if let Some(why) = unavailable() {
        return Err(why);
    }
    let mut rest = bytes;
    let mut last = String::new();
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let len = (u32::from_le_bytes(*len) as usize).min(tail.len());
        last = check_eval(&tail[..len])?;
        rest = &tail[len..];
    }
    Ok(last)
}

/// The session program.
pub fn program() -> PathBuf {
    std::env::var_os("HOTWASM_CLANG_SESSION").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/hotwasm-clang-session"),
        PathBuf::from,
    )
}

/// Why the target cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    let program = program();
    if !program.exists() {
        return Some(format!(
            "{} is missing: build it with `cargo build -p hotwasm-incremental --bin hotwasm-clang-session`",
            program.display()
        ));
    }
    let mut sessions = SESSIONS.lock().unwrap_or_else(|e| e.into_inner());
    if sessions.is_none() {
        *HISTORY.lock().unwrap_or_else(|e| e.into_inner()) = [Vec::new(), Vec::new()];
        match (start(Lang::C), start(Lang::Cpp)) {
            (Ok(c), Ok(cpp)) => *sessions = Some([c, cpp]),
            (Err(e), _) | (_, Err(e)) => return Some(e),
        }
    }
    None
}

fn emcc() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("emcc"))
        .find(|p| p.exists())
}

/// The session's cc1 line of `lang`, learnt from emcc once.
fn session_args(lang: Lang) -> Result<Vec<String>, String> {
    static LEARNT: Mutex<[Option<Vec<String>>; 2]> = Mutex::new([None, None]);
    let mut learnt = LEARNT.lock().unwrap_or_else(|e| e.into_inner());
    let slot = &mut learnt[usize::from(lang == Lang::Cpp)];
    if slot.is_none() {
        let emcc =
            emcc().ok_or("emcc is not on PATH: eval \"$(bash scripts/setup.sh --print-env)\"")?;
        let line =
            cc1::learn(&emcc, lang, &cc1::patch_flags(lang, "-O2")).map_err(|e| e.to_string())?;
        *slot = Some(line.for_session());
    }
    Ok(slot.clone().unwrap_or_default())
}

fn start(lang: Lang) -> Result<Session, String> {
    let args = session_args(lang)?;
    let mut session = Session::start_with(&program(), lang, &args).map_err(|e| e.to_string())?;
    session.set_timeout(Duration::from_secs(10));
    let prelude = session
        .eval("#include \"hotwasm.h\"\n")
        .map_err(|e| e.to_string())?;
    // Without hotwasm.h on the include path the session still parses; values are just not recorded.
    let _ = prelude;
    Ok(session)
}

/// One input: the first byte picks the language (bit 0) and the session (bit 1: a one-shot
/// session, as a named text eval gets), the rest is the eval's text.
pub fn check_eval(bytes: &[u8]) -> Outcome {
    let (lang, one_shot, text) = match bytes.split_first() {
        Some((b, rest)) => (
            usize::from(b & 1 == 1),
            b & 2 == 2,
            String::from_utf8_lossy(rest),
        ),
        None => (0, false, String::new().into()),
    };
    let text: String = text.chars().take(16 << 10).collect();
    if one_shot {
        return check_one_shot(if lang == 1 { Lang::Cpp } else { Lang::C }, &text);
    }
    let mut guard = SESSIONS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(sessions) = guard.as_mut() else {
        return Ok("skipped".into());
    };
    let session = &mut sessions[lang];
    let out = match session.eval(&text) {
        Ok(out) => out,
        Err(e) => {
            *guard = None; // started again for the next input
            drop(guard);
            let history = save_history(lang, bytes);
            let _ = unavailable();
            return Err(format!("the session did not answer: {e}{history}"));
        }
    };
    HISTORY.lock().unwrap_or_else(|e| e.into_inner())[lang].push(bytes.to_vec());
    if out.ok {
        session
            .undo(1)
            .map_err(|e| format!("undo after an accepted eval failed: {e}"))?;
    }
    judge(&out, &text)
}

/// A named text eval's path: a fresh session, its prelude, the text, the session ended.
fn check_one_shot(lang: Lang, text: &str) -> Outcome {
    if SESSIONS.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
        return Ok("skipped".into());
    }
    let mut session = start(lang)?;
    let out = session
        .eval(text)
        .map_err(|e| format!("the one-shot session did not answer: {e}"))?;
    judge(&out, text).map(|o| format!("once:{o}"))
}

/// The properties of one answer `out` to `text`.
fn judge(out: &hotwasm_incremental::EvalOutput, text: &str) -> Outcome {
    // clang ends a line at `\n`, `\r\n` and a lone `\r` (finding eval-5): count every one as
    // a break, an upper bound.
    let lines = text.matches(['\n', '\r']).count() as u32 + 2;
    if out.ok {
        if !out.object.starts_with(b"\0asm") {
            return Err("an accepted eval came without a wasm object".into());
        }
        let kinds: Vec<&str> = out.decls.iter().map(|d| d.kind.as_str()).take(4).collect();
        return Ok(format!("ok:{}", kinds.join(",")));
    }
    let errors = out.errors();
    let Some(first) = errors.first() else {
        return Err("a refused eval has no error diagnostic".into());
    };
    if first.file.starts_with("eval_") && (first.line == 0 || first.line > lines) {
        return Err(format!(
            "an error points at line {} of a {}-line input",
            first.line,
            lines - 1
        ));
    }
    Ok(class("err:", &first.message))
}

/// Seeds: the tricky inputs of issue 21 and a few REPL lines, each prefixed with its language.
pub fn eval_seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = hotwasm_incremental::corpus::cases()
        .iter()
        .map(|case| {
            let lang = u8::from(case.lang == Lang::Cpp);
            let mut bytes = vec![lang];
            bytes.extend(case.input.as_bytes());
            bytes
        })
        .collect();
    // The same cases as named evals: their setup and input in one text, in a one-shot session.
    for case in hotwasm_incremental::corpus::cases() {
        let mut bytes = vec![2 | u8::from(case.lang == Lang::Cpp)];
        bytes.extend(case.setup.join("\n").as_bytes());
        bytes.push(b'\n');
        bytes.extend(case.input.as_bytes());
        out.push(bytes);
    }
    for (lang, text) in [
        (0u8, "int sq(int x) { return x * x; }"),
        (0, "typedef struct { int a, b; } pair;\n#define TWICE(x) (2*(x))\npair p = {1, 2};\nTWICE(p.a)"),
        (1, "template <class T> T twice(T v) { return v + v; }\nstruct P { int x; P() : x{0} {} };\ntwice(3)"),
        (1, "#include <vector>\nstd::vector<int> v{1, 2, 3};\nv.size()"),
    ] {
        let mut bytes = vec![lang];
        bytes.extend(text.as_bytes());
        out.push(bytes);
    }
    out
}

/// Tokens worth splicing into C and C++ text.
pub const EVAL_DICT: &[&[u8]] = &[
    b"#define ",
    b"#ifdef DEBUG\n",
    b"#endif\n",
    b"#include <stdio.h>\n",
    b"\\\r\n",
    b"R\"(",
    b")\"",
    b"[[maybe_unused]] ",
    b"template <class T = int> ",
    b"operator=",
    b"[](int x){ return x; }(2)",
    b"struct ",
    b"{",
    b"}",
    b";",
    b"(",
    b")",
    b"::",
    b"extern \"C\" ",
    b"static ",
    b"inline ",
    b"namespace n { ",
    b"using ",
    b"goto l; l: ",
    b"return",
    b"sizeof",
    b"\n",
    b"int ",
    b"a * b",
    b"#pragma once\n",
    b"_Pragma(\"x\")",
    b"__builtin_trap()",
];
