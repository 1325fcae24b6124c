//! Runs one compiler process under limits: a wall-clock timeout that kills its whole process
//! group, an address-space cap (so a preprocessor bomb cannot take the machine down) and a cap
//! on how much of its stderr is kept.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

/// Most bytes of a child's stderr kept; the rest is read and dropped.
pub const MAX_STDERR: usize = 1 << 20;

/// What a finished process left behind.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stderr (at most [`MAX_STDERR`] bytes, lossily UTF-8).
    pub stderr: String,
}

/// Why a process did not finish by itself.
#[derive(Debug)]
pub enum RunError {
    /// It could not be started.
    Spawn(std::io::Error),
    /// It ran past the deadline and its process group was killed.
    TimedOut,
}

/// Limits for one child.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Address-space limit in bytes (`RLIMIT_AS`), if any. Node (emcc's wasm-opt) reserves
    /// far more address space than it uses, so emcc's link step runs without one.
    pub address_space: Option<u64>,
}

/// Runs `cmd` to completion or until `limits.timeout`, in its own process group.
pub fn run(cmd: Command, limits: Limits) -> Result<Finished, RunError> {
    run_to(cmd, limits, Stdio::null())
}

/// [`run`], with the child's stdout going to `stdout` (e.g. a file in the work directory).
pub fn run_to(mut cmd: Command, limits: Limits, stdout: Stdio) -> Result<Finished, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    cmd.process_group(0);
    if let Some(bytes) = limits.address_space {
        cap_address_space(&mut cmd, bytes);
    }
    let mut child = cmd.spawn().map_err(RunError::Spawn)?;
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = MAX_STDERR.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        kept
    });
    // Block until the child exits (or the deadline passes) instead of polling: a waiter thread
    // waits with `WNOWAIT`, which leaves the child a zombie, so its pid and process group stay
    // reserved until the `kill` below and the reaping `wait` after it.
    let pid = child.id();
    let (exited_tx, exited) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let r = loop {
            // SAFETY: `siginfo_t` is plain old data, valid when all zero.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: `waitid` writes only into the `siginfo_t` it is given; `WNOWAIT` does not
            // reap, so `child.wait()` below still owns reaping this pid.
            let r = unsafe {
                libc::waitid(
                    libc::P_PID,
                    pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            if r == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                break r;
            }
        };
        let _ = exited_tx.send(r);
    });
    let timed_out = matches!(
        exited.recv_timeout(limits.timeout),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout)
    );
    let pgid = pid as libc::pid_t;
    // Grandchildren (clang under emcc) may outlive the child; end the whole group either way.
    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names the process
    // group this child leads (created by `process_group(0)` above), never our own group, and
    // the unreaped leader keeps that group id from being reused.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    let status = child.wait().ok();
    let _ = waiter.join();
    let status = if timed_out { None } else { status };
    let status = match status {
        Some(s) => s,
        None => {
            let _ = reader.join();
            return Err(RunError::TimedOut);
        }
    };
    let stderr = reader.join().unwrap_or_default();
    Ok(Finished {
        status,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// Makes the child that `cmd` starts unable to map more than `bytes` of address space (a compile
/// bomb gets an allocation failure, not the machine's memory) and to write a core file.
pub fn cap_address_space(cmd: &mut Command, bytes: u64) {
    // SAFETY: the closure runs in the forked child before exec; it only calls
    // async-signal-safe `setrlimit` on stack data and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let cap = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &cap) != 0
                || libc::setrlimit(libc::RLIMIT_CORE, &no_core) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_process_past_its_deadline_is_killed_with_its_children() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & sleep 30"]);
        let started = Instant::now();
        let r = run(
            cmd,
            Limits {
                timeout: Duration::from_millis(200),
                address_space: None,
            },
        );
        assert!(matches!(r, Err(RunError::TimedOut)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn the_address_space_cap_applies_to_the_child() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "ulimit -v >&2"]);
        let r = run(
            cmd,
            Limits {
                timeout: Duration::from_secs(5),
                address_space: Some(256 << 20),
            },
        )
        .unwrap();
        assert!(r.status.success());
        assert_eq!(r.stderr.trim(), "262144");
    }
}
