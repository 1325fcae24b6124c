//! The HTTP side: one thread per connection (at most [`MAX_CONNECTIONS`] at once) reads a request head, refuses foreign `Host`s,
//! serves the [`Site`] (GET only, no traversal, every HTML page with the token injected), and
//! hands `/repl` upgrades that carry the token and an acceptable `Origin` to [`crate::ws`].

use crate::hub::Hub;
use crate::security::{check_token, MAX_CONNECTIONS, MAX_FRAME, MAX_REQUEST_HEAD};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::WebSocket;

/// The placeholder in `.html` files replaced by the token.
pub const TOKEN_PLACEHOLDER: &str = "%HOTWASM_TOKEN%";

/// Where the web client lives on the site.
pub const CLIENT_PREFIX: &str = "/hotwasm/";

/// What the server serves over HTTP:
/// - `/hotwasm/app.json`: [`Site::app_json`] (the generic page reads it to find the bundle);
/// - `/hotwasm/`: the generic page; `/hotwasm/<path>`: hotwasm's `web/<path>` (the client);
/// - every other path: the app's page directory (or the generic page), then the bundle.
#[derive(Debug, Clone)]
pub struct Site {
    /// hotwasm's `web/` directory.
    pub client: PathBuf,
    /// The generic page's directory (`web/page`).
    pub generic_page: PathBuf,
    /// Roots of `/`, searched in order.
    pub roots: Vec<PathBuf>,
    /// The body of `/hotwasm/app.json`.
    pub app_json: String,
}

/// Accepts connections forever, each on a thread of its own while it lasts (an HTTP request,
/// or a WebSocket for its life); past [`MAX_CONNECTIONS`] open at once, a new one is answered
/// 503 naming the limit and closed.
pub fn accept_loop(listener: TcpListener, hub: Arc<Hub>, roots: Arc<Site>) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let Some(permit) = Permit::take(&open) else {
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let body = format!("the server already has {MAX_CONNECTIONS} connections open: close pages or terminals you no longer use, then retry\n");
            respond(
                &mut stream,
                Status::Unavailable,
                "text/plain",
                body.as_bytes(),
            );
            continue;
        };
        let (hub, roots) = (hub.clone(), roots.clone());
        std::thread::spawn(move || {
            handle(stream, &hub, &roots);
            drop(permit);
        });
    }
}

/// One open connection counted against [`MAX_CONNECTIONS`]; dropping it frees its place.
struct Permit(Arc<AtomicUsize>);

impl Permit {
    fn take(open: &Arc<AtomicUsize>) -> Option<Permit> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_CONNECTIONS).then_some(n + 1)
        })
        .ok()
        .map(|_| Permit(open.clone()))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads a request head (up to its blank line) and what came after it; `None` when the client
/// went away or sent a head over the limit (then it has been answered 431).
fn read_head(stream: &mut TcpStream) -> Option<(Vec<u8>, usize)> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some((buf, end + 4));
        }
        if buf.len() > MAX_REQUEST_HEAD {
            respond(
                stream,
                Status::HeadTooLarge,
                "text/plain",
                b"request head too large\n",
            );
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn handle(mut stream: TcpStream, hub: &Arc<Hub>, site: &Site) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some((buf, head_len)) = read_head(&mut stream) else {
        return;
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    if !matches!(
        req.parse(&buf[..head_len]),
        Ok(httparse::Status::Complete(_))
    ) {
        return respond(
            &mut stream,
            Status::BadRequest,
            "text/plain",
            b"malformed request\n",
        );
    }
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
    };
    if let Err(refusal) = hub.names.check_host(header("host")) {
        return respond(
            &mut stream,
            Status::Forbidden,
            "text/plain",
            format!("{refusal}\n").as_bytes(),
        );
    }
    let path = req.path.unwrap_or("/").to_string();
    if req.method != Some("GET") {
        return respond(
            &mut stream,
            Status::MethodNotAllowed,
            "text/plain",
            b"only GET is served\n",
        );
    }
    let route = path.split('?').next().unwrap_or("/");
    if route == "/repl" {
        let checks =
            check_token(&path, &hub.token).and_then(|_| hub.names.check_origin(header("origin")));
        if let Err(refusal) = checks {
            return respond(
                &mut stream,
                Status::Forbidden,
                "text/plain",
                format!("{refusal}\n").as_bytes(),
            );
        }
        let Some(key) = header("sec-websocket-key")
            .filter(|_| header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")))
        else {
            return respond(
                &mut stream,
                Status::BadRequest,
                "text/plain",
                b"expected a WebSocket upgrade\n",
            );
        };
        return upgrade(stream, hub, key, buf[head_len..].to_vec());
    }
    if route == "/hotwasm/vars.h" {
        let header = crate::vars::header_of_hub(hub);
        return respond(
            &mut stream,
            Status::Ok,
            "text/plain; charset=utf-8",
            header.as_bytes(),
        );
    }
    if route == "/hotwasm/app.json" {
        let build = hub.host_build.load(std::sync::atomic::Ordering::Relaxed);
        let body = app_json_of_build(&site.app_json, build);
        return respond(&mut stream, Status::Ok, "application/json", body.as_bytes());
    }
    let (roots, rest) = match route.strip_prefix("/hotwasm") {
        Some("" | "/") => (std::slice::from_ref(&site.generic_page), "/"),
        Some(rest) if rest.starts_with('/') => (std::slice::from_ref(&site.client), rest),
        _ => (site.roots.as_slice(), route),
    };
    serve_file(&mut stream, rest, hub, roots);
}

/// Answers a checked WebSocket upgrade (its `Sec-WebSocket-Key` is `key`; `rest` is what the
/// client sent after its request head) and serves the connection, frames bounded by MAX_FRAME.
fn upgrade(mut stream: TcpStream, hub: &Arc<Hub>, key: &str, rest: Vec<u8>) {
    let accept = derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    if stream.write_all(response.as_bytes()).is_err() {
        return;
    }
    let config = WebSocketConfig {
        max_message_size: Some(MAX_FRAME),
        max_frame_size: Some(MAX_FRAME),
        ..WebSocketConfig::default()
    };
    let ws = WebSocket::from_partially_read(stream, rest, Role::Server, Some(config));
    crate::ws::serve(hub.clone(), ws);
}

/// `/hotwasm/app.json` after `build` host rebuilds: the bundle's URLs carry `?build=N` (so no
/// cache hands a page the old host) and `build` says which host is current.
fn app_json_of_build(app_json: &str, build: u64) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(app_json) else {
        return app_json.to_string();
    };
    v["build"] = build.into();
    if build > 0 {
        for key in ["script", "wasm"] {
            if let Some(url) = v[key].as_str() {
                v[key] = format!("{url}?build={build}").into();
            }
        }
    }
    v.to_string()
}

fn serve_file(stream: &mut TcpStream, route: &str, hub: &Hub, roots: &[PathBuf]) {
    let rel = if route.ends_with('/') {
        format!("{route}index.html")
    } else {
        route.to_string()
    };
    let rel = percent_decode(&rel);
    let safe = rel.as_deref().is_some_and(|r| {
        r.starts_with('/')
            && r[1..]
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'))
    });
    let Some(rel) = rel.filter(|_| safe) else {
        return respond(stream, Status::NotFound, "text/plain", b"not found\n");
    };
    for root in roots {
        let Ok(root) = std::fs::canonicalize(root) else {
            continue;
        };
        let Ok(file) = std::fs::canonicalize(root.join(&rel[1..])) else {
            continue;
        };
        if !file.starts_with(&root) || !file.is_file() {
            continue;
        }
        let Ok(mut body) = std::fs::read(&file) else {
            continue;
        };
        let ty = content_type(&file);
        if ty.starts_with("text/html") {
            body = String::from_utf8_lossy(&body)
                .replace(TOKEN_PLACEHOLDER, &hub.token)
                .into_bytes();
        }
        return respond(stream, Status::Ok, ty, &body);
    }
    respond(stream, Status::NotFound, "text/plain", b"not found\n")
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.contains('\0'))
}

/// The content type for a file name.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "txt" | "c" | "h" | "rs" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Sent with every response, so the page is cross-origin isolated and an app built with
/// `-pthread` gets its `SharedArrayBuffer` (docs/THREADS.md); one page then behaves the same
/// whichever host it loads. `credentialless`, not `require-corp`: a page that loads a script,
/// font or image from another origin without a CORP header keeps working (it is fetched without
/// credentials) — `require-corp` would block it in an app that has no threads at all.
pub const CROSS_ORIGIN_ISOLATION: &str =
    "Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: credentialless\r\n";

/// Every status this server answers with: its code and reason phrase, in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 200.
    Ok,
    /// 400: a malformed request or a plain GET of `/repl`.
    BadRequest,
    /// 403: a foreign `Host` or `Origin`, or no token.
    Forbidden,
    /// 404.
    NotFound,
    /// 405: anything but GET.
    MethodNotAllowed,
    /// 431: a request head over [`MAX_REQUEST_HEAD`].
    HeadTooLarge,
    /// 503: more connections than [`MAX_CONNECTIONS`].
    Unavailable,
}

impl Status {
    /// The status code and its reason phrase.
    pub fn line(self) -> (u16, &'static str) {
        match self {
            Status::Ok => (200, "OK"),
            Status::BadRequest => (400, "Bad Request"),
            Status::Forbidden => (403, "Forbidden"),
            Status::NotFound => (404, "Not Found"),
            Status::MethodNotAllowed => (405, "Method Not Allowed"),
            Status::HeadTooLarge => (431, "Request Header Fields Too Large"),
            Status::Unavailable => (503, "Service Unavailable"),
        }
    }
}

fn respond(stream: &mut TcpStream, status: Status, ty: &str, body: &[u8]) {
    let (code, reason) = status.line();
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {ty}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n{CROSS_ORIGIN_ISOLATION}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_host_rebuild_app_json_names_the_bundle_by_its_build() {
        let app = r#"{"name":"a","script":"/a.js","wasm":"/a.wasm","export_name":"f"}"#;
        let v: serde_json::Value = serde_json::from_str(&app_json_of_build(app, 0)).unwrap();
        assert_eq!(
            (v["script"].as_str(), v["build"].as_u64()),
            (Some("/a.js"), Some(0))
        );
        let v: serde_json::Value = serde_json::from_str(&app_json_of_build(app, 3)).unwrap();
        assert_eq!(v["script"], "/a.js?build=3");
        assert_eq!(v["wasm"], "/a.wasm?build=3");
        assert_eq!(v["build"], 3);
    }
}
