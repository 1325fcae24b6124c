//! [`Session`]: the parent side of candidate (a). One `hotwasm-clang-session` child per REPL
//! session keeps clang's translation unit alive; the parent sends framed requests
//! ([`crate::protocol`]) and waits for each answer under a deadline, killing the child (and
//! reporting it) if it overruns or dies.

use crate::protocol::{self, Linked, Ready, Request, Undone, PROTOCOL_VERSION};
use crate::EvalOutput;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// The language of a session (it must match the `-x` of its cc1 line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// C.
    C,
    /// C++.
    Cpp,
}

impl Lang {
    /// The `-x` value clang uses for it.
    pub fn clang_x(self) -> &'static str {
        match self {
            Lang::C => "c",
            Lang::Cpp => "c++",
        }
    }
}

/// Why a session could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The session binary was not found.
    #[error("the compiler session program {0} is missing: build it with `cargo build -p hotwasm-incremental`, or set HOTWASM_CLANG_SESSION to its path")]
    NoProgram(PathBuf),
    /// The program speaks another protocol version: it is from another build.
    #[error("the compiler session program {program} speaks protocol version {found}, this build speaks {wanted}: it is left from another build; rebuild it with `scripts/hotwasm` (it builds the session beside the hotwasm binary) or `cargo build -p hotwasm-incremental --bin hotwasm-clang-session` for the target directory it is in, or set HOTWASM_CLANG_SESSION to a matching one")]
    OtherVersion {
        /// The program's path.
        program: PathBuf,
        /// The version it reported (0: from before the handshake).
        found: u32,
        /// [`PROTOCOL_VERSION`].
        wanted: u32,
    },
    /// The cc1 line is for another language.
    #[error("the compiler command line compiles `-x {found}` but the session is {wanted}: learn the line from a probe of that language")]
    WrongLanguage {
        /// The `-x` the line has.
        found: String,
        /// The language asked for.
        wanted: &'static str,
    },
    /// clang refused to start.
    #[error("the compiler did not start: {0}")]
    Setup(String),
    /// The child could not be started or talked to.
    #[error("the compiler session failed: {0}")]
    Io(#[from] std::io::Error),
    /// The child sent something that is not the protocol.
    #[error("the compiler session sent a malformed answer: {0}")]
    Protocol(String),
    /// The child overran its deadline and was killed.
    #[error("the compiler took over {0:?} and was stopped; start a new session (its earlier inputs are replayed from the journal)")]
    TimedOut(Duration),
    /// The child died.
    #[error("the compiler session ended unexpectedly ({status}); start a new session. It said:\n{stderr}")]
    Died {
        /// Its exit status.
        status: String,
        /// The end of what it printed.
        stderr: String,
    },
}

/// Limits for a session child: a deadline per request and an address-space cap for the whole
/// session (so a preprocessor bomb ends the session, not the machine).
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Wall-clock limit of each request.
    pub timeout: Duration,
    /// `RLIMIT_AS` of the child, in bytes.
    pub address_space: Option<u64>,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            timeout: Duration::from_secs(60),
            address_space: None,
        }
    }
}

/// A live incremental compiler for one REPL session.
pub struct Session {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    frames: Receiver<std::io::Result<Option<Vec<u8>>>>,
    /// The thread keeping the end of the child's stderr (taken when the child is found dead).
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    timeout: Duration,
    /// Milliseconds clang took to set up.
    pub setup_ms: f64,
}

/// Most bytes of the child's stderr kept for an error message.
const STDERR_KEPT: usize = 64 << 10;

impl Session {
    /// The session program: `HOTWASM_CLANG_SESSION`, else beside the running executable (or one
    /// directory up, as for test and bench binaries in `target/*/deps`).
    pub fn default_program() -> PathBuf {
        if let Some(p) = std::env::var_os("HOTWASM_CLANG_SESSION") {
            return PathBuf::from(p);
        }
        let name = "hotwasm-clang-session";
        let exe = std::env::current_exe().unwrap_or_default();
        let dir = exe.parent().unwrap_or(Path::new("."));
        let beside = dir.join(name);
        if beside.exists() {
            return beside;
        }
        dir.parent().map(|d| d.join(name)).unwrap_or(beside)
    }

    /// Starts a session for `lang` with the `clang -cc1` arguments `cc1` (without `clang
    /// -cc1` itself; see [`crate::cc1::for_session`]).
    pub fn start(lang: Lang, cc1: &[String]) -> Result<Session, SessionError> {
        Session::start_with(&Session::default_program(), lang, cc1)
    }

    /// [`Session::start`] with an explicit session program.
    pub fn start_with(program: &Path, lang: Lang, cc1: &[String]) -> Result<Session, SessionError> {
        Session::start_limited(program, lang, cc1, SessionLimits::default())
    }

    /// [`Session::start_with`] under `limits`.
    pub fn start_limited(
        program: &Path,
        lang: Lang,
        cc1: &[String],
        limits: SessionLimits,
    ) -> Result<Session, SessionError> {
        Session::start_in(program, lang, cc1, limits, None)
    }

    /// [`Session::start_limited`] in the directory `cwd` (relative include paths and the files
    /// an eval reports resolve against it), or the caller's.
    pub fn start_in(
        program: &Path,
        lang: Lang,
        cc1: &[String],
        limits: SessionLimits,
        cwd: Option<&Path>,
    ) -> Result<Session, SessionError> {
        if let Some(x) = cc1.iter().skip_while(|a| *a != "-x").nth(1) {
            if x.trim_end_matches("-header") != lang.clang_x() {
                return Err(SessionError::WrongLanguage {
                    found: x.clone(),
                    wanted: lang.clang_x(),
                });
            }
        }
        if !program.exists() {
            return Err(SessionError::NoProgram(program.to_path_buf()));
        }
        let mut command = Command::new(program);
        command
            .args(cc1)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = cwd {
            command.current_dir(dir);
        }
        if let Some(bytes) = limits.address_space {
            hotwasm_pipeline::compile::process::cap_address_space(&mut command, bytes);
        }
        let mut child = command.spawn()?;
        let stdin = BufWriter::new(child.stdin.take().expect("piped"));
        let mut stdout = child.stdout.take().expect("piped");
        let (tx, frames) = mpsc::channel();
        std::thread::spawn(move || loop {
            let frame = protocol::read_frame(&mut stdout);
            let end = !matches!(frame, Ok(Some(_)));
            if tx.send(frame).is_err() || end {
                break;
            }
        });
        let mut pipe = child.stderr.take().expect("piped");
        let stderr = std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.extend_from_slice(&buf[..n]);
                let over = kept.len().saturating_sub(STDERR_KEPT);
                kept.drain(..over);
            }
            kept
        });
        let mut session = Session {
            child,
            stdin,
            frames,
            stderr: Some(stderr),
            timeout: limits.timeout,
            setup_ms: 0.0,
        };
        let ready: Ready = session.json_frame()?;
        if ready.protocol != PROTOCOL_VERSION {
            return Err(SessionError::OtherVersion {
                program: program.to_path_buf(),
                found: ready.protocol,
                wanted: PROTOCOL_VERSION,
            });
        }
        if !ready.ok {
            return Err(SessionError::Setup(ready.error));
        }
        session.setup_ms = ready.setup_ms;
        Ok(session)
    }

    /// The child's process id (for its memory use).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sets the deadline for each later request (60 s by default).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Compiles `text` as the next input: the declarations of every earlier successful input
    /// are visible to it.
    pub fn eval(&mut self, text: &str) -> Result<EvalOutput, SessionError> {
        self.send(&Request::Eval(text.to_string()))?;
        let mut out: EvalOutput = self.json_frame()?;
        out.object = self.frame()?;
        Ok(out)
    }

    /// Forgets the last `n` successful inputs (their names leave lookup); returns how many.
    pub fn undo(&mut self, n: u32) -> Result<u32, SessionError> {
        self.send(&Request::Undo(n))?;
        let undone: Undone = self.json_frame()?;
        Ok(undone.undone)
    }

    /// Runs wasm-ld inside the session process (`args[0]` is `wasm-ld`).
    pub fn link(&mut self, args: &[String]) -> Result<Linked, SessionError> {
        self.send(&Request::Link(args.to_vec()))?;
        self.json_frame()
    }

    /// Runs llvm-mc's object assembly inside the session process (`args[0]` is llvm-mc; the
    /// output goes to the `-o` file, as the process writes it).
    pub fn assemble(&mut self, args: &[String]) -> Result<Linked, SessionError> {
        self.send(&Request::Assemble(args.to_vec()))?;
        self.json_frame()
    }

    fn send(&mut self, request: &Request) -> Result<(), SessionError> {
        protocol::write_frame(&mut self.stdin, &request.encode()).map_err(|e| self.died(e))
    }

    fn frame(&mut self) -> Result<Vec<u8>, SessionError> {
        match self.frames.recv_timeout(self.timeout) {
            Ok(Ok(Some(frame))) => Ok(frame),
            Ok(Ok(None)) | Err(RecvTimeoutError::Disconnected) => {
                Err(self.died(std::io::ErrorKind::UnexpectedEof.into()))
            }
            Ok(Err(e)) => Err(self.died(e)),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                Err(SessionError::TimedOut(self.timeout))
            }
        }
    }

    fn json_frame<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, SessionError> {
        let frame = self.frame()?;
        serde_json::from_slice(&frame).map_err(|e| SessionError::Protocol(e.to_string()))
    }

    /// The error for a child that stopped answering: its status and last words when it died.
    fn died(&mut self, e: std::io::Error) -> SessionError {
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => {
                let stderr = self
                    .stderr
                    .take()
                    .and_then(|h| h.join().ok())
                    .unwrap_or_default();
                SessionError::Died {
                    status: status.to_string(),
                    stderr: String::from_utf8_lossy(&stderr).into_owned(),
                }
            }
            Err(_) => SessionError::Io(e),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
