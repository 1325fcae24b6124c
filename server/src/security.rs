//! What keeps the dev server from being a remote-code-execution service: the per-run token,
//! the `Origin` and `Host` checks (cross-site WebSocket hijacking, DNS rebinding) and the size,
//! time, memory and concurrency limits.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// Largest eval `source`.
pub const MAX_SOURCE: usize = 256 * 1024;
/// Largest WebSocket frame or message from a client.
pub const MAX_FRAME: usize = 1 << 20;
/// Wall-clock limit of one compiler process.
pub const COMPILE_TIMEOUT: Duration = Duration::from_secs(10);
/// Address-space cap of the compiler.
pub const COMPILER_MEMORY: u64 = 1 << 30;
/// Compiles running at once.
pub const MAX_COMPILES: usize = 2;
/// Compiles waiting for a slot before more get `busy`.
pub const MAX_QUEUED: usize = 4;
/// How long an eval waits for page acks.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections (HTTP requests in progress and WebSockets) open at once; more are refused
/// with 503. Each is a thread; a page or a terminal holds one.
pub const MAX_CONNECTIONS: usize = 256;
/// Largest HTTP request head.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// `n` random bytes from the OS as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("/dev/urandom is readable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the token to `path` with mode 0600 (replacing any earlier file).
pub fn write_token(path: &Path, token: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(token.as_bytes())
}

/// Why a request was refused (answered with 403).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// No or a wrong token on the WebSocket upgrade.
    #[error("missing or wrong token: open the URL the server printed, or read .hotwasm/token")]
    Token,
    /// A foreign `Origin`.
    #[error("origin `{0}` is not this server: only pages it serves may connect")]
    Origin(String),
    /// A `Host` that is not this server's own name (DNS rebinding).
    #[error("host `{0}` is not this server's name: use http://127.0.0.1:<port>/ or http://localhost:<port>/")]
    Host(String),
}

/// The names this server answers to.
#[derive(Debug, Clone)]
pub struct Names {
    port: u16,
    hosts: Vec<String>,
}

impl Names {
    /// The loopback names plus the bind address (unless it is a wildcard).
    pub fn new(bind: &str, port: u16) -> Names {
        let mut hosts = vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
            "[::1]".to_string(),
        ];
        let bind = if bind.contains(':') && !bind.starts_with('[') {
            format!("[{bind}]")
        } else {
            bind.to_string()
        };
        if !matches!(bind.as_str(), "0.0.0.0" | "[::]") && !hosts.contains(&bind) {
            hosts.push(bind);
        }
        Names { port, hosts }
    }

    /// Checks the `Host` header.
    pub fn check_host(&self, host: Option<&str>) -> Result<(), Refusal> {
        let host = host.unwrap_or("");
        let ok = self
            .hosts
            .iter()
            .any(|h| host.eq_ignore_ascii_case(&format!("{h}:{}", self.port)));
        if ok {
            Ok(())
        } else {
            Err(Refusal::Host(host.to_string()))
        }
    }

    /// Checks the `Origin` header, if present.
    pub fn check_origin(&self, origin: Option<&str>) -> Result<(), Refusal> {
        let Some(origin) = origin else { return Ok(()) };
        let ok = self
            .hosts
            .iter()
            .any(|h| origin.eq_ignore_ascii_case(&format!("http://{h}:{}", self.port)));
        if ok {
            Ok(())
        } else {
            Err(Refusal::Origin(origin.to_string()))
        }
    }
}

/// Compares the `token` query parameter of `path` with `token` in constant time.
pub fn check_token(path: &str, token: &str) -> Result<(), Refusal> {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let given = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or("");
    let same = given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(Refusal::Token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins() {
        let n = Names::new("127.0.0.1", 7888);
        assert!(n.check_host(Some("127.0.0.1:7888")).is_ok());
        assert!(n.check_host(Some("localhost:7888")).is_ok());
        assert!(n.check_host(Some("[::1]:7888")).is_ok());
        assert!(n.check_host(Some("evil.example:7888")).is_err());
        assert!(n.check_host(Some("127.0.0.1:80")).is_err());
        assert!(n.check_host(None).is_err());
        assert!(n.check_origin(None).is_ok());
        assert!(n.check_origin(Some("http://localhost:7888")).is_ok());
        assert!(n.check_origin(Some("http://evil.example")).is_err());
        assert!(n.check_origin(Some("null")).is_err());
    }

    #[test]
    fn tokens() {
        assert!(check_token("/repl?token=abc", "abc").is_ok());
        assert!(check_token("/repl?x=1&token=abc", "abc").is_ok());
        assert!(check_token("/repl?token=abd", "abc").is_err());
        assert!(check_token("/repl", "abc").is_err());
        assert_eq!(random_hex(16).len(), 32);
    }

    #[test]
    fn the_token_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".hotwasm/token");
        write_token(&p, "t").unwrap();
        write_token(&p, "t2").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "t2");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
