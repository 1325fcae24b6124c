//! The wire protocol of `docs/PROTOCOL.md`, version 1: JSON text frames in both directions
//! (`ClientMsg`, `ServerMsg`), patch bytes in a binary frame right after a `patch` header.
//! `web/protocol.js` mirrors this file (`hotwasm protocol --json` prints what it must match).

use hotwasm_abi::{HostVar, PatchEntry};
/// The eval language and compiler diagnostics are the patch pipeline's; the protocol speaks them.
pub use hotwasm_pipeline::{Diagnostic, Lang, LANGS};
use serde::{Deserialize, Serialize};

/// The protocol version spoken here.
pub const PROTOCOL_VERSION: u32 = 1;

/// Which kind of client said `hello`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A running app: receives patches and acks them.
    Page,
    /// A terminal or editor client: sends evals, receives results.
    Repl,
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// First message: who the client is and which journal entries a page already applied.
    Hello {
        /// Must be [`PROTOCOL_VERSION`].
        protocol: u32,
        /// Page or terminal client.
        role: Role,
        /// The journal epoch the page's `journal_seq` belongs to, if any.
        journal_epoch: Option<String>,
        /// The last journal entry the page applied (0 if none).
        #[serde(default)]
        journal_seq: u64,
    },
    /// Compile `source` and deliver it to every page.
    Eval {
        /// Chosen by the client, echoed in `eval_result`.
        id: String,
        /// Source language.
        lang: Lang,
        /// Definitions, declarations, statements and a final expression (docs/PROTOCOL.md,
        /// "Evals: statements and expressions").
        source: String,
        /// File name used in diagnostics (default `eval.c` / `eval.rs`).
        #[serde(default)]
        name: Option<String>,
    },
    /// A page's answer to a `patch` or `rollback`.
    Ack {
        /// The journal entry acknowledged.
        seq: u64,
        /// Whether it applied.
        ok: bool,
        /// How long applying took on the page.
        #[serde(default)]
        apply_ms: f64,
        /// Why it did not apply.
        #[serde(default)]
        error: Option<String>,
        /// What `hotwasm_main` printed.
        #[serde(default)]
        output: String,
        /// The printed value of the eval's final expression, if it ended with one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<EvalValue>,
    },
    /// Roll one var back one version on every page.
    Rollback {
        /// The var to roll back.
        var: String,
    },
    /// A page caught a trap in a patched function and rolled `var` back itself.
    Trap {
        /// The patch that trapped.
        seq: u64,
        /// The var rolled back.
        var: String,
        /// The trap message.
        message: String,
    },
    /// Forget every journal entry.
    JournalReset,
    /// Liveness check.
    Ping,
    /// Roll every page back to just before journal entry `seq`: the code, and with `state` the
    /// app's memory too (each page restores the snapshot it took before that patch). The journal
    /// forgets the undone entries; the server answers `undo_result`.
    Undo {
        /// Chosen by the client, echoed in `undo_result`.
        id: String,
        /// The first journal entry to undo (it and every later one are undone).
        seq: u64,
        /// Restore memory as well as code.
        state: bool,
        /// Set by a page that caught a trap in patch `seq` and already restored its own state:
        /// the trap message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trap: Option<String>,
    },
    /// List the current vars (answered with `vars_result`).
    Vars {
        /// Chosen by the client, echoed in `vars_result`.
        id: String,
    },
    /// Start fresh C and C++ compiler sessions: later evals no longer see what earlier evals
    /// declared (the pages keep running what they applied). Answered with `session_reset_result`.
    SessionReset {
        /// Chosen by the client, echoed in `session_reset_result`.
        id: String,
    },
}

/// One current var, as a `vars_result` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VarInfo {
    /// The var's name (C++-linkage vars by their mangled symbol).
    pub name: String,
    /// Its signature letters (`ii`: int(int); return first).
    pub signature: String,
    /// Its version as the pages' registries count it: a host var starts at 1, each patch
    /// defining it adds one, each rollback takes one away.
    pub version: u32,
    /// Its C declaration from the source that defined the current version, when that was C or
    /// C++ (absent for host vars and Rust).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prototype: Option<String>,
    /// The journal entry that defined the current version (absent: the host's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defined_by_seq: Option<u64>,
}

/// Where the time of an eval went, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Server-side compile.
    pub compile_ms: f64,
    /// Reading the patch and checking it against the host manifest.
    pub check_ms: f64,
    /// Sending to the last ack, minus the slowest page's apply.
    pub transfer_ms: f64,
    /// The slowest page's apply.
    pub apply_ms: f64,
    /// From receiving `eval` to sending `eval_result`.
    pub total_ms: f64,
}

/// One page's outcome for a patch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageOutcome {
    /// The server's id of the page connection.
    pub page: u64,
    /// Whether it applied.
    pub ok: bool,
    /// Its apply time.
    pub apply_ms: f64,
    /// Why it failed (or timed out).
    pub error: Option<String>,
    /// What `hotwasm_main` printed there.
    pub output: String,
    /// The value of the eval's final expression there, if it ended with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<EvalValue>,
}

/// The printed value of an eval's final expression on one page (the ack's `value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalValue {
    /// Its type as the language names it (`int`, `double`, `const char *`, `Vec<i32>`).
    #[serde(rename = "type")]
    pub ty: String,
    /// Its value as text (`42`, `0.1`, `"hi"`, `true`, `0x10a0`, a Rust `Debug` text).
    pub text: String,
}

/// How far an eval got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Failed compiling.
    Compile,
    /// Failed the manifest/host check.
    Check,
    /// Failed delivering (a page refused it or timed out).
    Deliver,
    /// Delivered and acked by every page.
    Done,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// Answer to `hello`.
    Welcome {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
        /// This server's crate version.
        server_version: String,
        /// The current journal epoch.
        journal_epoch: String,
        /// Entries in the journal.
        journal_len: u64,
        /// The host's hot vars.
        host_vars: Vec<HostVar>,
        /// Host builds this server made (`host_reload`'s `build`): a page that reconnects with
        /// an older one missed a `host_reload` and reloads onto the current host.
        #[serde(default)]
        host_build: u64,
    },
    /// A patch; the next frame on the socket is its binary of `size` bytes.
    Patch {
        /// Journal sequence number.
        seq: u64,
        /// The eval that produced it (null for file-watch and replay).
        eval_id: Option<String>,
        /// Which var each exported symbol implements.
        manifest: Vec<PatchEntry>,
        /// Bytes in the following binary frame.
        size: u64,
        /// Unique virtual-FS path to write the patch to.
        path: String,
        /// Symbol to call once after apply (`hotwasm_main` renamed), if any.
        run: Option<String>,
        /// Whether this is a journal replay.
        replay: bool,
    },
    /// Roll `var` back one version.
    Rollback {
        /// Journal sequence number.
        seq: u64,
        /// The var.
        var: String,
        /// Whether this is a journal replay.
        replay: bool,
    },
    /// Answer to `eval`.
    EvalResult {
        /// The eval's id.
        id: String,
        /// Whether every page applied the patch.
        ok: bool,
        /// How far it got.
        stage: Stage,
        /// Parsed compiler diagnostics.
        diagnostics: Vec<Diagnostic>,
        /// Compiler stderr word for word.
        raw_output: String,
        /// What went wrong, in words.
        error: Option<String>,
        /// Where the time went.
        timings: Timings,
        /// Each page's outcome.
        pages: Vec<PageOutcome>,
        /// The journal entry, if the patch was delivered.
        seq: Option<u64>,
    },
    /// A file-watch compile failed.
    Diagnostics {
        /// The file (relative to the project root).
        name: String,
        /// Parsed diagnostics.
        diagnostics: Vec<Diagnostic>,
        /// Compiler stderr word for word.
        raw_output: String,
    },
    /// Every journal entry after the page's `journal_seq` was sent.
    ReplayDone {
        /// How many.
        count: u64,
    },
    /// The journal was cleared.
    JournalReset {
        /// The new epoch.
        journal_epoch: String,
    },
    /// Answer to `ping`.
    Pong,
    /// Undo every patch applied from journal entry `seq` on (see `ClientMsg::Undo`).
    Undo {
        /// The first journal entry undone.
        seq: u64,
        /// Restore memory as well as code.
        state: bool,
        /// This undo's own journal entry (what the page acks, and its journal position after).
        journal_seq: u64,
        /// Whether this is a journal replay.
        replay: bool,
    },
    /// Answer to `undo`.
    UndoResult {
        /// The request's id.
        id: String,
        /// Whether every page undid it (with `state`, restored its snapshot).
        ok: bool,
        /// The first journal entry undone.
        seq: u64,
        /// Whether memory was asked for too.
        state: bool,
        /// The journal entries undone (forgotten), oldest first.
        undone: Vec<u64>,
        /// The undo's own journal entry, if it was journaled.
        journal_seq: Option<u64>,
        /// Each page's outcome.
        pages: Vec<PageOutcome>,
        /// What went wrong, in words.
        error: Option<String>,
    },
    // ---- host rebuilds (`[build] host_watch`, `host_reload.rs`) ----
    /// The host is being rebuilt after a save of one of its sources, or the rebuild failed (the
    /// old host keeps running).
    HostBuild {
        /// `building` or `failed`.
        status: HostBuildStatus,
        /// The saved host sources (relative to the app root) that started it.
        files: Vec<String>,
        /// Why it failed, in words.
        #[serde(default)]
        error: Option<String>,
        /// The compiler's located errors.
        #[serde(default)]
        diagnostics: Vec<Diagnostic>,
        /// The compiler's output word for word.
        #[serde(default)]
        raw_output: String,
    },
    /// A new host was built: pages save the app's state (state hooks), load the new host,
    /// restore the state and replay the journal entries that fit it (every one but `dropped`,
    /// which the journal forgot).
    HostReload {
        /// This server's count of host builds (cache-busting: `/hotwasm/app.json` names the
        /// bundle with `?build=`).
        build: u64,
        /// Journal entries that no longer fit the new host, with the reason.
        dropped: Vec<DroppedEntry>,
    },
    /// Answer to `vars`: every current var (host and journal), sorted by name.
    VarsResult {
        /// The `vars` request's id.
        id: String,
        /// The vars.
        vars: Vec<VarInfo>,
    },
    /// Answer to `session_reset`: the sessions start afresh after journal entry `after_seq`.
    SessionResetResult {
        /// The `session_reset` request's id.
        id: String,
        /// The last journal entry the old sessions held (later evals do not see it or earlier ones).
        after_seq: u64,
    },
    /// A message was refused.
    Error {
        /// Machine-readable reason.
        code: ErrorCode,
        /// What to do about it.
        message: String,
        /// The refused `eval`'s (or `undo`'s) id, so a client waiting for its answer gets one;
        /// absent for other messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// Where a host rebuild is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostBuildStatus {
    /// The build started.
    Building,
    /// The build failed; the old host keeps running.
    Failed,
}

/// A journal entry a new host cannot take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedEntry {
    /// Its journal sequence number.
    pub seq: u64,
    /// Why, naming the var or symbol and both versions.
    pub reason: String,
}

/// Why a message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a valid message of a known type.
    BadJson,
    /// A `type` this server does not know.
    UnknownType,
    /// Over a size limit.
    TooLarge,
    /// Clients may not send binary frames.
    BinaryFromClient,
    /// `hello` with another protocol version.
    ProtocolVersion,
    /// Too many compiles running or queued.
    Busy,
    /// Well-formed but not acceptable (e.g. a bad var name).
    BadRequest,
}

/// Every client message `type`, in declaration order ([`ClientMsg::type_name`] keeps it whole).
pub const CLIENT_TYPES: [&str; 10] = [
    "hello",
    "eval",
    "ack",
    "rollback",
    "trap",
    "journal_reset",
    "ping",
    "undo",
    "vars",
    "session_reset",
];

/// Every server message `type`, in declaration order ([`ServerMsg::type_name`] keeps it whole).
pub const SERVER_TYPES: [&str; 15] = [
    "welcome",
    "patch",
    "rollback",
    "eval_result",
    "diagnostics",
    "replay_done",
    "journal_reset",
    "pong",
    "undo",
    "undo_result",
    "host_build",
    "host_reload",
    "vars_result",
    "session_reset_result",
    "error",
];

/// Every error code.
pub const ERROR_CODES: [ErrorCode; 7] = [
    ErrorCode::BadJson,
    ErrorCode::UnknownType,
    ErrorCode::TooLarge,
    ErrorCode::BinaryFromClient,
    ErrorCode::ProtocolVersion,
    ErrorCode::Busy,
    ErrorCode::BadRequest,
];

impl ClientMsg {
    /// This message's `type` (a new variant does not compile until it is named here and in
    /// [`CLIENT_TYPES`]).
    pub fn type_name(&self) -> &'static str {
        match self {
            ClientMsg::Hello { .. } => "hello",
            ClientMsg::Eval { .. } => "eval",
            ClientMsg::Ack { .. } => "ack",
            ClientMsg::Rollback { .. } => "rollback",
            ClientMsg::Trap { .. } => "trap",
            ClientMsg::JournalReset => "journal_reset",
            ClientMsg::Ping => "ping",
            ClientMsg::Undo { .. } => "undo",
            ClientMsg::Vars { .. } => "vars",
            ClientMsg::SessionReset { .. } => "session_reset",
        }
    }
}

impl ErrorCode {
    /// As on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::BinaryFromClient => "binary_from_client",
            ErrorCode::ProtocolVersion => "protocol_version",
            ErrorCode::Busy => "busy",
            ErrorCode::BadRequest => "bad_request",
        }
    }
}

/// What the JS mirror (`web/protocol.js`) must match, as JSON: the version, the message types
/// of both directions and the error codes (`hotwasm protocol --json`).
pub fn mirror_json() -> String {
    serde_json::json!({
        "protocol": PROTOCOL_VERSION,
        "client_types": CLIENT_TYPES,
        "server_types": SERVER_TYPES,
        "error_codes": ERROR_CODES.map(ErrorCode::as_str),
        "langs": LANGS.map(Lang::as_str),
    })
    .to_string()
}

impl ServerMsg {
    /// This message's `type` (a new variant does not compile until it is named here and in
    /// [`SERVER_TYPES`]).
    pub fn type_name(&self) -> &'static str {
        match self {
            ServerMsg::Welcome { .. } => "welcome",
            ServerMsg::Patch { .. } => "patch",
            ServerMsg::Rollback { .. } => "rollback",
            ServerMsg::EvalResult { .. } => "eval_result",
            ServerMsg::Diagnostics { .. } => "diagnostics",
            ServerMsg::ReplayDone { .. } => "replay_done",
            ServerMsg::JournalReset { .. } => "journal_reset",
            ServerMsg::Pong => "pong",
            ServerMsg::HostBuild { .. } => "host_build",
            ServerMsg::HostReload { .. } => "host_reload",
            ServerMsg::Error { .. } => "error",
            ServerMsg::Undo { .. } => "undo",
            ServerMsg::UndoResult { .. } => "undo_result",
            ServerMsg::VarsResult { .. } => "vars_result",
            ServerMsg::SessionResetResult { .. } => "session_reset_result",
        }
    }

    /// The JSON text of this message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }
}

/// Decodes a client text frame, telling `bad_json` from `unknown_type`.
pub fn decode_client(text: &str) -> Result<ClientMsg, (ErrorCode, String)> {
    match serde_json::from_str::<ClientMsg>(text) {
        Ok(msg) => Ok(msg),
        Err(e) => {
            let ty = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
            match ty {
                Some(t) if !CLIENT_TYPES.contains(&t.as_str()) => Err((
                    ErrorCode::UnknownType,
                    format!(
                        "unknown message type `{}`: this server speaks protocol {PROTOCOL_VERSION} (see docs/PROTOCOL.md)",
                        t.escape_debug()
                    ),
                )),
                _ => Err((
                    ErrorCode::BadJson,
                    format!("not a valid protocol message ({e}): send one JSON object with a `type` field, as in docs/PROTOCOL.md"),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotwasm_abi::Signature;

    fn round_trip_server(msg: ServerMsg) {
        let text = msg.to_json();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], msg.type_name(), "{text}");
        assert!(SERVER_TYPES.contains(&msg.type_name()), "{text}");
        let back: ServerMsg = serde_json::from_str(&text).unwrap();
        assert_eq!(back, msg, "{text}");
    }

    fn round_trip_client(msg: ClientMsg) {
        let text = serde_json::to_string(&msg).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], msg.type_name(), "{text}");
        assert!(CLIENT_TYPES.contains(&msg.type_name()), "{text}");
        assert_eq!(decode_client(&text).unwrap(), msg, "{text}");
    }

    #[test]
    fn every_message_round_trips() {
        let sig = Signature::parse("vppf").unwrap();
        round_trip_client(ClientMsg::Hello {
            protocol: 1,
            role: Role::Page,
            journal_epoch: Some("e1".into()),
            journal_seq: 3,
        });
        round_trip_client(ClientMsg::Eval {
            id: "1".into(),
            lang: Lang::C,
            source: "int f(void){return 1;}".into(),
            name: None,
        });
        round_trip_client(ClientMsg::Ack {
            seq: 2,
            ok: false,
            apply_ms: 1.5,
            error: Some("x".into()),
            output: "hi".into(),
            value: Some(EvalValue {
                ty: "int".into(),
                text: "42".into(),
            }),
        });
        round_trip_client(ClientMsg::Rollback { var: "f".into() });
        round_trip_client(ClientMsg::Trap {
            seq: 1,
            var: "f".into(),
            message: "oob".into(),
        });
        round_trip_client(ClientMsg::JournalReset);
        round_trip_client(ClientMsg::SessionReset { id: "r".into() });
        round_trip_client(ClientMsg::Ping);
        round_trip_client(ClientMsg::Undo {
            id: "u1".into(),
            seq: 3,
            state: true,
            trap: None,
        });
        round_trip_client(ClientMsg::Undo {
            id: "trap-1".into(),
            seq: 3,
            state: true,
            trap: Some("unreachable".into()),
        });
        round_trip_server(ServerMsg::Undo {
            seq: 3,
            state: false,
            journal_seq: 7,
            replay: true,
        });
        round_trip_server(ServerMsg::UndoResult {
            id: "u1".into(),
            ok: true,
            seq: 3,
            state: true,
            undone: vec![3, 4],
            journal_seq: Some(7),
            pages: vec![],
            error: None,
        });
        round_trip_server(ServerMsg::Welcome {
            protocol: 1,
            server_version: "0.1.0".into(),
            journal_epoch: "e".into(),
            journal_len: 2,
            host_vars: vec![HostVar {
                name: "step".into(),
                signature: sig.clone(),
            }],
            host_build: 1,
        });
        round_trip_server(ServerMsg::Patch {
            seq: 4,
            eval_id: None,
            manifest: vec![PatchEntry {
                var: "step".into(),
                symbol: "step__hw4".into(),
                signature: sig,
            }],
            size: 10,
            path: "/hotwasm/patch-4.so".into(),
            run: Some("hotwasm_main__hw4".into()),
            replay: true,
        });
        round_trip_server(ServerMsg::Rollback {
            seq: 5,
            var: "step".into(),
            replay: false,
        });
        round_trip_server(ServerMsg::EvalResult {
            id: "1".into(),
            ok: true,
            stage: Stage::Done,
            diagnostics: vec![Diagnostic {
                file: "eval.c".into(),
                line: 1,
                column: 2,
                severity: "warning".into(),
                message: "m".into(),
            }],
            raw_output: String::new(),
            error: None,
            timings: Timings {
                compile_ms: 1.0,
                ..Timings::default()
            },
            pages: vec![PageOutcome {
                page: 1,
                ok: true,
                apply_ms: 0.5,
                error: None,
                output: String::new(),
                value: None,
            }],
            seq: Some(4),
        });
        round_trip_server(ServerMsg::Diagnostics {
            name: "a.c".into(),
            diagnostics: vec![],
            raw_output: "e".into(),
        });
        round_trip_server(ServerMsg::ReplayDone { count: 3 });
        round_trip_server(ServerMsg::JournalReset {
            journal_epoch: "e2".into(),
        });
        round_trip_server(ServerMsg::Pong);
        round_trip_server(ServerMsg::SessionResetResult {
            id: "r".into(),
            after_seq: 4,
        });
        round_trip_server(ServerMsg::HostBuild {
            status: HostBuildStatus::Failed,
            files: vec!["src/main.c".into()],
            error: Some("emcc failed".into()),
            diagnostics: vec![],
            raw_output: "src/main.c:1:1: error: x".into(),
        });
        round_trip_server(ServerMsg::HostReload {
            build: 2,
            dropped: vec![DroppedEntry {
                seq: 3,
                reason: "r".into(),
            }],
        });
        round_trip_server(ServerMsg::Error {
            code: ErrorCode::Busy,
            message: "m".into(),
            id: None,
        });
        round_trip_server(ServerMsg::Error {
            code: ErrorCode::Busy,
            message: "m".into(),
            id: Some("e1".into()),
        });
    }

    #[test]
    fn the_mirror_lists_every_type_and_code_as_serde_writes_them() {
        for lang in LANGS {
            assert_eq!(
                serde_json::to_value(lang).unwrap(),
                serde_json::Value::from(lang.as_str())
            );
        }
        use std::path::Path;
        for (file, lang) in [
            ("a.c", Some(Lang::C)),
            ("a.cpp", Some(Lang::Cpp)),
            ("a.cc", Some(Lang::Cpp)),
            ("a.rs", Some(Lang::Rust)),
            ("a.h", None),
        ] {
            assert_eq!(Lang::of_path(Path::new(file)), lang, "{file}");
        }
        for code in ERROR_CODES {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
        let m: serde_json::Value = serde_json::from_str(&mirror_json()).unwrap();
        assert_eq!(m["protocol"], PROTOCOL_VERSION);
        assert_eq!(
            m["client_types"].as_array().unwrap().len(),
            CLIENT_TYPES.len()
        );
        assert_eq!(m["server_types"][3], "eval_result");
        assert_eq!(
            m["server_types"].as_array().unwrap().len(),
            SERVER_TYPES.len()
        );
        assert_eq!(m["error_codes"][6], "bad_request");
    }

    #[test]
    fn wire_shape_matches_the_protocol_document() {
        let v: serde_json::Value = serde_json::from_str(&ServerMsg::Pong.to_json()).unwrap();
        assert_eq!(v, serde_json::json!({"type": "pong"}));
        let hello =
            r#"{"type":"hello","protocol":1,"role":"page","journal_epoch":null,"journal_seq":0}"#;
        assert!(matches!(
            decode_client(hello),
            Ok(ClientMsg::Hello {
                role: Role::Page,
                ..
            })
        ));
        let reset = r#"{"type":"journal_reset"}"#;
        assert_eq!(decode_client(reset), Ok(ClientMsg::JournalReset));
        let patch: serde_json::Value = serde_json::from_str(
            &ServerMsg::Patch {
                seq: 1,
                eval_id: None,
                manifest: vec![PatchEntry {
                    var: "f".into(),
                    symbol: "f__hw1".into(),
                    signature: Signature::parse("ii").unwrap(),
                }],
                size: 1,
                path: "/p".into(),
                run: None,
                replay: false,
            }
            .to_json(),
        )
        .unwrap();
        assert_eq!(
            patch["manifest"][0],
            serde_json::json!({"var":"f","symbol":"f__hw1","signature":"ii"})
        );
    }

    #[test]
    fn tells_bad_json_from_unknown_types() {
        assert_eq!(decode_client("{").unwrap_err().0, ErrorCode::BadJson);
        assert_eq!(
            decode_client(r#"{"type":"launch_missiles"}"#)
                .unwrap_err()
                .0,
            ErrorCode::UnknownType
        );
        assert_eq!(
            decode_client(r#"{"type":"eval"}"#).unwrap_err().0,
            ErrorCode::BadJson
        );
        assert_eq!(decode_client("[1,2]").unwrap_err().0, ErrorCode::BadJson);
    }
}
