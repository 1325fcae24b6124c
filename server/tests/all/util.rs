//! Shared test helpers: start the real `hotwasm` binary on an ephemeral port in a temporary
//! project, connect real tungstenite clients as pages or terminals, and a watchdog so that a
//! hang fails loudly instead of stalling the suite.
//!
//! Tests that compile need emcc: they take the environment from `scripts/setup.sh --print-env`
//! themselves (the documented test command sources it too).

use serde_json::{json, Value};
use std::io::BufRead;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// Aborts the whole test process if the test runs longer than `secs`; dropping the returned
/// guard (at the end of the test) cancels it, so a finished test never leaves a timer behind.
#[must_use = "the watchdog is cancelled when the guard is dropped: bind it with `let _dog = ...`"]
pub fn watchdog(secs: u64) -> Watchdog {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            rx.recv_timeout(Duration::from_secs(secs))
        {
            eprintln!("watchdog: test still running after {secs} s; aborting");
            std::process::abort();
        }
    });
    Watchdog(tx)
}

/// Cancels its watchdog when dropped.
pub struct Watchdog(#[allow(dead_code)] std::sync::mpsc::Sender<()>);

/// The hotwasm checkout these tests run in.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The toolchain environment printed by `scripts/setup.sh --print-env`.
pub fn toolchain_env() -> Vec<(String, String)> {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/setup.sh"))
        .arg("--print-env")
        .output()
        .unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    hotwasm_pipeline::toolchain::parse_exports(&String::from_utf8_lossy(&out.stdout), &path)
}

/// The hotwasm.toml of a test project: a C app whose patches see `include/` (the demo's
/// `particles.h`; hotwasm's own `abi/include` is always there), whose page is
/// `web/`, whose bundle is `build/hot/`, and whose `patches/` are watched.
pub const CONFIG: &str = r#"[app]
name = "testapp"
lang = "c"
[build]
sources = ["src/*.c"]
[patches]
include_dirs = ["include"]
rust_prelude = "examples/particles/patches/prelude.rs"
watch = ["patches/**/*.c", "patches/**/*.rs"]
[serve]
page = "web"
"#;

pub const HOST_MANIFEST: &str = r#"{"version":1,
 "vars":[{"name":"step_particle","signature":"vppf"},{"name":"particle_color","signature":"ipp"},
         {"name":"spawn_particle","signature":"vpp"},{"name":"background_color","signature":"ip"}],
 "exports":["step_particle","particle_color","spawn_particle","background_color","demo_random","demo_world",
            "printf","iprintf","puts","malloc","free","memcpy","memset","hotwasm_lookup","hotwasm_slot",
            "hotwasm_value_i64","hotwasm_value_u64","hotwasm_value_f64","hotwasm_value_f32","hotwasm_value_bool",
            "hotwasm_value_char","hotwasm_value_ptr","hotwasm_value_str","hotwasm_value_bytes","hotwasm_value_text"]}"#;

pub struct Server {
    pub child: Child,
    pub root: tempfile::TempDir,
    pub port: u16,
    pub token: String,
    pub args: Vec<String>,
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(tempfile::tempdir().unwrap(), &["--no-watch"])
    }

    /// Starts a server on `root` (a project dir that gets hotwasm.toml, the header, page and
    /// manifest).
    pub fn start_with(root: tempfile::TempDir, extra: &[&str]) -> Server {
        Self::start_with_env(root, extra, &[])
    }

    /// [`Server::start_with`] with extra environment variables for the server.
    pub fn start_with_env(root: tempfile::TempDir, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let r = root.path();
        std::fs::create_dir_all(r.join("include")).unwrap();
        std::fs::create_dir_all(r.join("web")).unwrap();
        std::fs::create_dir_all(r.join("build/hot")).unwrap();
        std::fs::create_dir_all(r.join("patches")).unwrap();
        std::fs::copy(
            repo_root().join("examples/particles/include/particles.h"),
            r.join("include/particles.h"),
        )
        .unwrap();
        std::fs::write(
            r.join("web/index.html"),
            "<meta name=\"hotwasm-token\" content=\"%HOTWASM_TOKEN%\">\n",
        )
        .unwrap();
        std::fs::write(r.join("build/hot/hotwasm-host.json"), HOST_MANIFEST).unwrap();
        if !r.join("hotwasm.toml").exists() {
            std::fs::write(r.join("hotwasm.toml"), CONFIG).unwrap();
        }
        let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::spawn_env(root, args, env)
    }

    /// Serves an app as it is: its own hotwasm.toml and built host manifest, none of the test
    /// project's files.
    #[allow(dead_code)] // not every test binary serves an app
    pub fn serve_app(root: tempfile::TempDir, extra: &[&str]) -> Server {
        Self::spawn(root, extra.iter().map(|s| s.to_string()).collect())
    }

    fn spawn(root: tempfile::TempDir, args: Vec<String>) -> Server {
        Self::spawn_env(root, args, Vec::new())
    }

    fn spawn_env(root: tempfile::TempDir, args: Vec<String>, env: Vec<(String, String)>) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotwasm"));
        cmd.arg("serve")
            .arg("--port")
            .arg("0")
            .arg("--project")
            .arg(root.path())
            .args(&args);
        cmd.envs(toolchain_env())
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server printed its URL");
        let url = line
            .strip_prefix("hotwasm: open http://127.0.0.1:")
            .expect(&line);
        let (port, token) = url.split_once("/?token=").unwrap();
        Server {
            child,
            root,
            port: port.parse().unwrap(),
            token: token.to_string(),
            args,
        }
    }

    /// Kills the server (like kill -9) and starts another on the same project.
    /// Kills the server with SIGKILL (`Child::kill`: no clean shutdown) and starts it again on
    /// the same project.
    pub fn restart(mut self) -> Server {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let root = std::mem::replace(&mut self.root, tempfile::tempdir().unwrap());
        let args = self.args.clone();
        Self::spawn(root, args)
    }

    /// A server whose project has the Rust prelude crate and the real HOT_RELOAD host manifest.
    #[allow(dead_code)] // not every test binary starts one
    pub fn start_rust(env: &[(&str, &str)], args: &[&str]) -> Server {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let repo = repo_root();
        for f in [
            "examples/particles/patches/prelude.rs",
            "examples/particles/src/bindings.rs",
            "rust-toolchain.toml",
        ] {
            std::fs::create_dir_all(r.join(f).parent().unwrap()).unwrap();
            std::fs::copy(repo.join(f), r.join(f)).unwrap();
        }
        let server = Self::start_with_env(root, args, env);
        let manifest = particles_manifest();
        std::fs::copy(
            manifest,
            server.root.path().join("build/hot/hotwasm-host.json"),
        )
        .unwrap();
        server
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/repl?token={}", self.port, self.token)
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo's HOT_RELOAD host manifest (the Rust tests check patches against the real host).
pub fn particles_manifest() -> PathBuf {
    let manifest = repo_root().join("examples/particles/build/hot/hotwasm-host.json");
    assert!(
        manifest.is_file(),
        "{} is missing: run HOT_RELOAD=1 bash scripts/emscripten-bundle.sh examples/particles",
        manifest.display()
    );
    manifest
}

pub fn connect_raw(url: &str) -> Socket {
    let (ws, _) = tungstenite::connect(url).unwrap();
    ws.get_ref_tcp()
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    ws
}

trait TcpOf {
    fn get_ref_tcp(&self) -> &TcpStream;
}
impl TcpOf for Socket {
    fn get_ref_tcp(&self) -> &TcpStream {
        match self.get_ref() {
            MaybeTlsStream::Plain(s) => s,
            _ => unreachable!("plain ws"),
        }
    }
}

pub fn send(ws: &mut Socket, v: Value) {
    ws.send(Message::Text(v.to_string())).unwrap();
}

/// The next JSON text message.
pub fn recv(ws: &mut Socket) -> Value {
    loop {
        match ws.read().unwrap() {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Binary(_) => panic!("unexpected binary frame"),
            _ => {}
        }
    }
}

/// Reads JSON messages until one of type `ty`.
pub fn recv_type(ws: &mut Socket, ty: &str) -> Value {
    loop {
        let v = recv(ws);
        if v["type"] == ty {
            return v;
        }
    }
}

/// A terminal client that said hello.
pub fn repl(server: &Server) -> Socket {
    let mut ws = connect_raw(&server.url());
    send(
        &mut ws,
        json!({"type":"hello","protocol":1,"role":"repl","journal_epoch":null,"journal_seq":0}),
    );
    recv_type(&mut ws, "welcome");
    ws
}

/// Sends an eval and waits for its result.
pub fn eval(ws: &mut Socket, id: &str, source: &str) -> Value {
    eval_lang(ws, id, "c", source)
}

/// Sends an eval in `lang` (`"c"` or `"rust"`) and waits for its result.
pub fn eval_lang(ws: &mut Socket, id: &str, lang: &str, source: &str) -> Value {
    send(
        ws,
        json!({"type":"eval","id":id,"lang":lang,"source":source}),
    );
    loop {
        let v = recv(ws);
        if v["type"] == "eval_result" && v["id"] == id {
            return v;
        }
        assert_ne!(v["type"], "error", "{v}");
    }
}

/// What a page received.
#[derive(Debug, Clone)]
pub struct Received {
    pub header: Value,
    pub wasm: Vec<u8>,
}

/// A page: a thread that validates every patch with wasmparser and acks it.
pub struct Page {
    pub received: Arc<Mutex<Vec<Received>>>,
    pub replay_done: Arc<Mutex<Option<u64>>>,
    pub messages: Arc<Mutex<Vec<Value>>>,
}

impl Page {
    pub fn connect(server: &Server, epoch: Option<&str>, seq: u64) -> Page {
        let mut ws = connect_raw(&server.url());
        send(
            &mut ws,
            json!({"type":"hello","protocol":1,"role":"page","journal_epoch":epoch,"journal_seq":seq}),
        );
        let page = Page {
            received: Arc::default(),
            replay_done: Arc::default(),
            messages: Arc::default(),
        };
        let (received, done, messages) = (
            page.received.clone(),
            page.replay_done.clone(),
            page.messages.clone(),
        );
        std::thread::spawn(move || loop {
            let msg = match ws.read() {
                Ok(Message::Text(t)) => serde_json::from_str::<Value>(&t).unwrap(),
                Ok(_) => continue,
                Err(_) => return,
            };
            messages.lock().unwrap().push(msg.clone());
            match msg["type"].as_str().unwrap() {
                "patch" => {
                    let Ok(Message::Binary(wasm)) = ws.read() else {
                        panic!("patch header without binary frame")
                    };
                    assert_eq!(wasm.len() as u64, msg["size"].as_u64().unwrap());
                    let ok = wasmparser::Validator::new_with_features(
                        wasmparser::WasmFeatures::default()
                            | wasmparser::WasmFeatures::LEGACY_EXCEPTIONS,
                    )
                    .validate_all(&wasm)
                    .is_ok();
                    let seq = msg["seq"].clone();
                    received
                        .lock()
                        .unwrap()
                        .push(Received { header: msg, wasm });
                    let ack = json!({"type":"ack","seq":seq,"ok":ok,"apply_ms":0.25,"error":null,"output":"applied\n"});
                    if ws.send(Message::Text(ack.to_string())).is_err() {
                        return;
                    }
                }
                "rollback" => {
                    let ack = json!({"type":"ack","seq":msg["seq"],"ok":true,"apply_ms":0.1,"error":null,"output":""});
                    let _ = ws.send(Message::Text(ack.to_string()));
                }
                "undo" => {
                    let ack = json!({"type":"ack","seq":msg["journal_seq"],"ok":true,"apply_ms":0.1,"error":null,"output":""});
                    let _ = ws.send(Message::Text(ack.to_string()));
                }
                "replay_done" => *done.lock().unwrap() = msg["count"].as_u64(),
                _ => {}
            }
        });
        page
    }

    /// Waits until the replay finished and returns its count.
    pub fn wait_replay(&self) -> u64 {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(n) = *self.replay_done.lock().unwrap() {
                return n;
            }
            assert!(Instant::now() < until, "no replay_done");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn patches(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Export names of a wasm module with their function type indices resolved to (params, results).
pub fn exports(wasm: &[u8]) -> Vec<(String, String)> {
    use wasmparser::{Parser, Payload, TypeRef};
    let (mut types, mut funcs, mut out) = (Vec::new(), Vec::new(), Vec::new());
    for p in Parser::new(0).parse_all(wasm) {
        match p.unwrap() {
            Payload::TypeSection(r) => types.extend(
                r.into_iter_err_on_gc_types()
                    .map(|t| format!("{:?}", t.unwrap())),
            ),
            Payload::ImportSection(r) => {
                for i in r {
                    if let TypeRef::Func(t) = i.unwrap().ty {
                        funcs.push(t)
                    }
                }
            }
            Payload::FunctionSection(r) => funcs.extend(r.into_iter().map(|f| f.unwrap())),
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.unwrap();
                    if e.kind == wasmparser::ExternalKind::Func {
                        out.push((
                            e.name.to_string(),
                            types[funcs[e.index as usize] as usize].clone(),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    out.sort();
    out
}

pub fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
