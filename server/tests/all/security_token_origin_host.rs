//! The upgrade needs the per-run token, an own Origin (if any) and an own Host; the page HTML
//! gets the token injected; static files never leave their roots; the token file is private.
use crate::util;
use std::io::{Read, Write};
use std::net::TcpStream;
use util::*;

fn raw_request(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn upgrade(port: u16, path: &str, host: &str, origin: Option<&str>) -> String {
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n"
    );
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn the_upgrade_checks_token_origin_and_host() {
    let _dog = watchdog(60);
    let server = Server::start();
    let p = server.port;
    let host = format!("127.0.0.1:{p}");
    let good = format!("/repl?token={}", server.token);
    assert!(upgrade(p, &good, &host, None).starts_with("HTTP/1.1 101"));
    assert!(upgrade(
        p,
        &good,
        &format!("localhost:{p}"),
        Some(&format!("http://localhost:{p}"))
    )
    .starts_with("HTTP/1.1 101"));
    assert!(
        upgrade(p, "/repl", &host, None).starts_with("HTTP/1.1 403"),
        "missing token"
    );
    assert!(
        upgrade(p, "/repl?token=0000", &host, None).starts_with("HTTP/1.1 403"),
        "wrong token"
    );
    assert!(
        upgrade(p, &good, &host, Some("http://evil.example")).starts_with("HTTP/1.1 403"),
        "foreign origin"
    );
    assert!(upgrade(
        p,
        &good,
        &host,
        Some(&format!("http://127.0.0.1:{}", p + 1))
    )
    .starts_with("HTTP/1.1 403"));
    assert!(
        upgrade(p, &good, &format!("evil.example:{p}"), None).starts_with("HTTP/1.1 403"),
        "rebinding"
    );
}

#[test]
fn the_page_gets_the_token_and_rebinding_cannot_read_it() {
    let _dog = watchdog(60);
    let server = Server::start();
    let p = server.port;
    let page = raw_request(p, &format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n\r\n"));
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("text/html"));
    assert!(
        page.contains(&format!("content=\"{}\"", server.token)),
        "{page}"
    );
    let evil = raw_request(
        p,
        &format!("GET / HTTP/1.1\r\nHost: evil.example:{p}\r\n\r\n"),
    );
    assert!(evil.starts_with("HTTP/1.1 403") && !evil.contains(&server.token));
}

#[test]
fn static_files_have_types_and_never_escape_their_roots() {
    let _dog = watchdog(60);
    let server = Server::start();
    let p = server.port;
    std::fs::write(
        server.root.path().join("build/hot/app.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    let get = |path: &str| {
        raw_request(
            p,
            &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\n\r\n"),
        )
    };
    let wasm = get("/app.wasm");
    assert!(
        wasm.starts_with("HTTP/1.1 200") && wasm.contains("Content-Type: application/wasm"),
        "{wasm}"
    );
    for bad in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc/passwd",
        "/hotwasm-host.json/..",
    ] {
        let r = get(bad);
        assert!(
            r.starts_with("HTTP/1.1 404") && !r.contains("root:"),
            "{bad}: {r}"
        );
    }
    let post = raw_request(
        p,
        &format!("POST / HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nContent-Length: 0\r\n\r\n"),
    );
    assert!(post.starts_with("HTTP/1.1 405"));
}

#[test]
fn the_token_file_is_written_private_and_the_server_binds_loopback() {
    use std::os::unix::fs::PermissionsExt;
    let _dog = watchdog(60);
    let server = Server::start();
    let path = server.root.path().join(".hotwasm/token");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), server.token);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let cmdline = std::process::Command::new("ss").arg("-ltnH").output();
    if let Ok(out) = cmdline {
        let listing = String::from_utf8_lossy(&out.stdout);
        let ours: Vec<&str> = listing
            .lines()
            .filter(|l| l.contains(&format!(":{} ", server.port)))
            .collect();
        assert!(ours.iter().all(|l| l.contains("127.0.0.1:")), "{ours:?}");
    }
}

#[test]
fn the_client_routes_serve_hotwasm_web_and_app_json_under_the_same_checks() {
    let _dog = watchdog(60);
    let server = Server::start();
    let p = server.port;
    let get = |path: &str, host: &str| {
        raw_request(p, &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"))
    };
    let own = format!("127.0.0.1:{p}");
    let app = get("/hotwasm/app.json", &own);
    assert!(app.starts_with("HTTP/1.1 200"), "{app}");
    let body: serde_json::Value =
        serde_json::from_str(app.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["name"], "testapp");
    assert_eq!(body["script"], "/testapp.js");
    assert_eq!(body["wasm"], "/testapp.wasm");
    assert_eq!(body["export_name"], "createHotwasmApp");
    let client = get("/hotwasm/hotwasm-client.js", &own);
    assert!(
        client.starts_with("HTTP/1.1 200") && client.contains("text/javascript"),
        "{client}"
    );
    let page = get("/hotwasm/", &own);
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    for bad in [
        "/hotwasm/../Cargo.toml",
        "/hotwasm/%2e%2e/Cargo.toml",
        "/hotwasm/..%2fabi/include/hotwasm.h",
    ] {
        let r = get(bad, &own);
        assert!(r.starts_with("HTTP/1.1 404"), "{bad}: {r}");
    }
    let rebound = get("/hotwasm/app.json", "evil.example:80");
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
}
