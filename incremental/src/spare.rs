//! Spare sessions: a `hotwasm-clang-session` started ahead of need, so a one-shot session (a
//! named text eval, a saved file's report) does not wait for the process to start, load clang
//! and open its precompiled headers (~150 ms, docs/INCREMENTAL.md). A spare is used only by a
//! request with exactly what it was started with: the same session program file (path, size,
//! modification time: a rebuilt toolchain is a new key), language, cc1 arguments (flags, the
//! `-iquote` directory, the `-include-pch` file), directory and limits; any other request starts
//! its own session. Taking a spare starts the next one for the same key in the background.

use crate::{Lang, Session, SessionError, SessionLimits};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// Most spares kept at once (one per key; the oldest goes first).
const KEPT: usize = 4;

/// What a spare was started with; a request uses it only when all of it is equal.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    program: PathBuf,
    identity: Option<(u64, SystemTime)>,
    lang: Lang,
    args: Vec<String>,
    cwd: Option<PathBuf>,
    timeout: Duration,
    address_space: Option<u64>,
}

impl Key {
    fn new(
        program: &Path,
        lang: Lang,
        args: &[String],
        limits: SessionLimits,
        cwd: Option<&Path>,
    ) -> Key {
        let identity = std::fs::metadata(program)
            .ok()
            .and_then(|m| Some((m.len(), m.modified().ok()?)));
        Key {
            program: program.to_path_buf(),
            identity,
            lang,
            args: args.to_vec(),
            cwd: cwd.map(Path::to_path_buf),
            timeout: limits.timeout,
            address_space: limits.address_space,
        }
    }

    /// A session started with this key, given an empty first input: clang reads what the
    /// precompiled header makes visible before it is needed.
    fn start(&self) -> Result<Session, SessionError> {
        let limits = SessionLimits {
            timeout: self.timeout,
            address_space: self.address_space,
        };
        let mut session = Session::start_in(
            &self.program,
            self.lang,
            &self.args,
            limits,
            self.cwd.as_deref(),
        )?;
        session.eval("")?;
        Ok(session)
    }
}

type Starting = JoinHandle<Result<Session, SessionError>>;

/// Starts the next spare of a taken session's key when dropped ([`Spares::take_deferred`]).
#[must_use = "the next spare starts when this is dropped: keep it until the request is done"]
pub struct Refill<'a> {
    spares: &'a Spares,
    key: Option<Key>,
}

impl Drop for Refill<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.spares.prepare(key);
        }
    }
}

/// The spare sessions of one server (or one reporter), by what they were started with.
#[derive(Default)]
pub struct Spares {
    ready: Mutex<Vec<(Key, Starting)>>,
}

impl std::fmt::Debug for Spares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.ready.lock().map_or(0, |r| r.len());
        write!(f, "Spares({n})")
    }
}

/// Whether a session came from a spare or was started for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Taken from the spares (started ahead with the same key).
    Spare,
    /// Started for this request (no spare had its key, or the spare had died).
    Started,
}

impl Spares {
    /// A session of `program` for `lang` with the cc1 `args` in `cwd` under `limits`, after an
    /// empty first input: the spare started with exactly these (waiting for it if it is still
    /// starting), else one started now. The next spare for the same is started in the
    /// background at once.
    pub fn take(
        &self,
        program: &Path,
        lang: Lang,
        args: &[String],
        limits: SessionLimits,
        cwd: Option<&Path>,
    ) -> Result<(Session, Origin), SessionError> {
        let (session, origin, _refill) = self.take_deferred(program, lang, args, limits, cwd)?;
        Ok((session, origin))
    }

    /// [`Spares::take`], but the next spare starts when the returned [`Refill`] is dropped:
    /// after the request, so its start does not compete with the request for the CPU.
    pub fn take_deferred(
        &self,
        program: &Path,
        lang: Lang,
        args: &[String],
        limits: SessionLimits,
        cwd: Option<&Path>,
    ) -> Result<(Session, Origin, Refill<'_>), SessionError> {
        let key = Key::new(program, lang, args, limits, cwd);
        let spare = {
            let mut ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
            let at = ready.iter().position(|(k, _)| *k == key);
            at.map(|i| ready.remove(i).1)
        };
        let taken = spare.and_then(|h| h.join().ok()).and_then(Result::ok);
        let (session, origin) = match taken {
            Some(session) => (session, Origin::Spare),
            None => (key.start()?, Origin::Started),
        };
        let refill = Refill {
            spares: self,
            key: Some(key),
        };
        Ok((session, origin, refill))
    }

    /// Starts a spare for `key` in the background (dropping the oldest beyond [`KEPT`]).
    fn prepare(&self, key: Key) {
        let mut ready = self.ready.lock().unwrap_or_else(|e| e.into_inner());
        if ready.iter().any(|(k, _)| *k == key) {
            return;
        }
        let starting = std::thread::spawn({
            let key = key.clone();
            move || key.start()
        });
        ready.push((key, starting));
        let over = ready.len().saturating_sub(KEPT);
        ready.drain(..over);
    }
}
