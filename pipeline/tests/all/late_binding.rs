//! A REPL session against a real host under Node, without the server: each eval goes through
//! the production patch pipeline (`hotwasm_pipeline`: the rewrite-and-retry compile on the fast
//! path — clang, llvm-mc, wasm-ld — then the layout check, rename and check), in journal order; then Node instantiates the host (`tests/fixtures/late_binding_host.c`, built
//! once with emcc as a MAIN_MODULE), dlopens every accepted patch in order, installing each
//! patch's vars in their slots, and makes the calls the test asks for.
//!
//! The host stands in for the hotwasm runtime (a var registry with `hotwasm_slot`), so these
//! tests pin down what the compile pipeline guarantees: late-bound calls, stable function
//! pointers and persistent globals.

use hotwasm_abi::{HostManifest, HostVar, Signature};
use hotwasm_pipeline::compile::{CompileError, Compiled, Compiler, CompilerConfig};
use hotwasm_pipeline::eval::{self, Source};
use hotwasm_pipeline::inspect::Known;
use hotwasm_pipeline::{vars_header, Lang};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The host's vars and exports, as its manifest would list them.
pub fn host_manifest() -> HostManifest {
    HostManifest {
        version: 1,
        vars: vec![HostVar {
            name: "host_scale".into(),
            signature: Signature::parse("ii").unwrap(),
        }],
        exports: [
            "hotwasm_slot",
            "printf",
            "malloc",
            "free",
            "host_uses_scale",
            "memset",
            "memcpy",
            "memmove",
            "strlen",
            "abort",
            // The wasm exception tag C++ patches import (the fixture host itself has none, so
            // tests only compile and check C++ patches against it).
            "__cpp_exception",
        ]
        .map(String::from)
        .to_vec(),
        layouts: Vec::new(),
        layout_inputs: Vec::new(),
        threads: false,
        cold: Vec::new(),
    }
}

/// The hotwasm checkout these tests run in.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Puts the toolchain on PATH (once per test process), as every hotwasm command does.
pub fn toolchain() {
    static ENV: OnceLock<()> = OnceLock::new();
    ENV.get_or_init(|| {
        hotwasm_pipeline::toolchain::adopt_env(&hotwasm_pipeline::home::Home::at(repo_root()))
            .unwrap()
    });
}

/// The host, built once per `cargo test` target dir.
pub fn host_js() -> PathBuf {
    static HOST: OnceLock<PathBuf> = OnceLock::new();
    HOST.get_or_init(|| build_host("tests/fixtures/late_binding_host.c", "emcc", &[], &[]))
        .clone()
}

/// Builds the host `source` (relative to the repository; a file that includes
/// late_binding_host.c) with `compiler` (emcc or em++) and `flags`, exporting the loader's
/// functions and `exports`, unless its build is newer than the source.
pub fn build_host(source: &str, compiler: &str, flags: &[String], exports: &[&str]) -> PathBuf {
    toolchain();
    let src = repo_root().join(source);
    let stem = Path::new(source).file_stem().unwrap().to_string_lossy();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("host-{stem}"));
    std::fs::create_dir_all(&dir).unwrap();
    let js = dir.join("host.js");
    let fresh = |p: &Path| {
        let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        m(p).is_some() && m(p) >= m(&src)
    };
    if !fresh(&js) {
        let mut names: Vec<String> = [
            "main",
            "hotwasm_slot",
            "load_patch",
            "call_ii",
            "call_i",
            "host_uses_scale",
            "printf",
            "malloc",
            "free",
            "memset",
            "memcpy",
            "memmove",
            "strlen",
            "abort",
        ]
        .iter()
        .chain(exports)
        .map(|n| format!("_{n}"))
        .collect();
        names.sort();
        names.dedup();
        let out = Command::new(compiler)
            .args([
                "-O1",
                "-sMAIN_MODULE=2",
                "-sWASM_BIGINT",
                "-Wno-version-check",
                "-sEXPORTED_RUNTIME_METHODS=FS,ccall",
                "-sMODULARIZE",
                "-sEXPORT_NAME=createHost",
            ])
            .arg(format!("-sEXPORTED_FUNCTIONS={}", names.join(",")))
            .args(flags)
            .arg("-o")
            .arg(&js)
            .arg(&src)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{compiler}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    js
}

/// A sequence of evals and the calls made after each.
pub struct Session {
    compiler: Compiler,
    host_js: PathBuf,
    host: HostManifest,
    project: tempfile::TempDir,
    /// Accepted patches in order: (file name, "var symbol ..." definitions, wasm).
    patches: Vec<(String, String, Vec<u8>)>,
    manifest_vars: HashMap<String, Signature>,
    /// The JS the Node run executes, step by step.
    steps: Vec<String>,
    /// The last compile, for its timings.
    pub last: Option<Compiled>,
}

impl Session {
    /// A session with `-O2` patches on the C host.
    pub fn new() -> Session {
        Session::with_host(host_js(), host_manifest())
    }

    /// A session with `-O2` patches on the host built at `host_js` (see [`build_host`]),
    /// described by `host`.
    pub fn with_host(host_js: PathBuf, host: HostManifest) -> Session {
        toolchain();
        let project = tempfile::tempdir().unwrap();
        // The generated vars header every client eval includes, as the server keeps it (empty:
        // these sessions declare what they call).
        let vars_dir = vars_header::include_dir(project.path());
        std::fs::create_dir_all(&vars_dir).unwrap();
        std::fs::write(vars_dir.join(vars_header::HEADER), "").unwrap();
        let mut compiler = Compiler::new(CompilerConfig {
            root: project.path().to_path_buf(),
            include_dirs: vec![repo_root().join("abi/include"), vars_dir],
            defines: Vec::new(),
            rust_prelude: None,
            // HOTWASM_TEST_PLAIN_EMCC=1 runs the same sessions through plain emcc.
            plain_emcc: std::env::var_os("HOTWASM_TEST_PLAIN_EMCC").is_some(),
            opt: "-O2".into(),
            timeout: Duration::from_secs(60),
            memory_bytes: 2 << 30,
        })
        .unwrap();
        // A file's globals are read by clang, as the server reads them.
        compiler.set_reporter(std::sync::Arc::new(
            hotwasm_incremental::oneshot::FileReporter::new(
                hotwasm_incremental::Session::default_program(),
                Default::default(),
            ),
        ));
        Session {
            compiler,
            host_js,
            host,
            project,
            patches: Vec::new(),
            manifest_vars: HashMap::new(),
            steps: Vec::new(),
            last: None,
        }
    }

    /// The project directory (for files a source includes).
    pub fn project(&self) -> &Path {
        self.project.path()
    }

    /// Compiles, renames and checks `source` as the next journal entry; on success the patch is
    /// loaded at this point of the Node run. Returns the refusal otherwise.
    pub fn eval(&mut self, source: &str) -> Result<(), String> {
        self.eval_in(source, Lang::C, None)
    }

    /// [`Session::eval`] of a text that stands for project file `file` (relative to
    /// [`Session::project`]), as an editor tab's eval does.
    pub fn eval_as(&mut self, source: &str, file: &str) -> Result<(), String> {
        self.eval_in(source, Lang::C, Some(file))
    }

    /// [`Session::eval`] of C++ source.
    pub fn eval_cpp(&mut self, source: &str) -> Result<(), String> {
        self.eval_in(source, Lang::Cpp, None)
    }

    /// [`Session::eval`] of Rust source.
    pub fn eval_rust(&mut self, source: &str) -> Result<(), String> {
        self.eval_in(source, Lang::Rust, None)
    }

    /// Through the production pipeline, as the server runs it: the rewrite-and-retry compile
    /// ([`Compiler::compile_eval`]), then the check with its layout comparison and renaming.
    fn eval_in(&mut self, source: &str, lang: Lang, file: Option<&str>) -> Result<(), String> {
        let seq = self.patches.len() as u64 + 1;
        let work = tempfile::tempdir().unwrap();
        let name = file.unwrap_or(lang.default_file_name()).to_string();
        let src = Source::client_text(lang, source.to_string(), name, work.path())
            .map_err(|e| e.to_string())?;
        let compiled = self
            .compiler
            .compile_eval(lang, &src, work.path(), &self.host)
            .map_err(|e| match e {
                CompileError::Failed { diagnostics, .. } => diagnostics
                    .iter()
                    .map(|d| format!("{}:{}: {}: {}", d.file, d.line, d.severity, d.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
                e => e.to_string(),
            })?;
        let known = Known::from_journal(
            self.manifest_vars.clone(),
            self.patches.iter().map(|(_, _, w)| w.as_slice()),
        );
        let config_file = self.project.path().join("hotwasm.toml");
        let (wasm, checked) = eval::check(lang, &compiled, seq, &self.host, &known, &config_file)?;
        let defs: Vec<String> = checked
            .entries
            .iter()
            .map(|e| format!("{} {}", e.var, e.symbol))
            .collect();
        for e in &checked.entries {
            self.manifest_vars
                .insert(e.var.clone(), e.signature.clone());
        }
        let file = format!("patch-{seq}.so");
        self.steps.push(format!(
            "check(m.ccall('load_patch', 'number', ['string', 'string'], ['/{file}', {:?}]) === 0, 'load {file}');",
            defs.join(" ")
        ));
        self.patches.push((file, defs.join(" "), wasm));
        self.last = Some(compiled);
        Ok(())
    }

    /// At this point of the run, calls var `name` (an `int(int)`, or `int(void)` when `arg` is
    /// `None`) and records the result under `label`.
    pub fn call(&mut self, label: &str, name: &str, arg: Option<i32>) {
        let call = match arg {
            Some(a) => {
                format!("m.ccall('call_ii', 'number', ['string', 'number'], ['{name}', {a}])")
            }
            None => format!("m.ccall('call_i', 'number', ['string'], ['{name}'])"),
        };
        self.steps.push(format!("out[{label:?}] = {call};"));
    }

    /// At this point of the run, calls `int(int)` var `name` with `arg` and records under
    /// `label` the wall time of the call in microseconds.
    pub fn time_call(&mut self, label: &str, name: &str, arg: i32) {
        self.steps.push(format!(
            "{{ const t0 = process.hrtime.bigint(); m.ccall('call_ii', 'number', ['string', 'number'], ['{name}', {arg}]); out[{label:?}] = Number(process.hrtime.bigint() - t0) / 1000; }}"
        ));
    }

    /// At this point of the run, calls `int(int)` var `name` through the host's export `entry`
    /// (e.g. a host function that catches C++ exceptions) and records the result; an exception
    /// that reaches JS records -1 for a `WebAssembly.Exception`, -2 for any other error.
    pub fn call_via(&mut self, label: &str, entry: &str, name: &str, arg: i32) {
        self.steps.push(format!(
            "try {{ out[{label:?}] = m.ccall('{entry}', 'number', ['string', 'number'], ['{name}', {arg}]); }} \
             catch (e) {{ out[{label:?}] = e instanceof WebAssembly.Exception ? -1 : -2; }}"
        ));
    }

    /// At this point of the run, calls the host's own `host_uses_scale(arg)`.
    pub fn host_call(&mut self, label: &str, arg: i32) {
        self.steps.push(format!(
            "out[{label:?}] = m.ccall('host_uses_scale', 'number', ['number'], [{arg}]);"
        ));
    }

    /// Runs the host under Node with every step; returns the recorded results.
    pub fn run(&self) -> HashMap<String, i64> {
        let dir = tempfile::tempdir().unwrap();
        let mut js = format!(
            "const createHost = require({:?});\n\
             const check = (ok, what) => {{ if (!ok) {{ console.error('failed: ' + what); process.exit(2); }} }};\n\
             (async () => {{\n  const m = await createHost({{ print: s => console.error(s), printErr: s => console.error(s) }});\n  const out = {{}};\n",
            self.host_js.display().to_string()
        );
        for (file, _, wasm) in &self.patches {
            std::fs::write(dir.path().join(file), wasm).unwrap();
            js.push_str(&format!(
                "  m.FS.writeFile('/{file}', require('fs').readFileSync({:?}));\n",
                dir.path().join(file).display().to_string()
            ));
        }
        for step in &self.steps {
            js.push_str("  ");
            js.push_str(step);
            js.push('\n');
        }
        js.push_str("  console.log(JSON.stringify(out));\n})().catch(e => { console.error(e); process.exit(3); });\n");
        let script = dir.path().join("run.cjs");
        if let Some(keep) = std::env::var_os("HOTWASM_KEEP_RUN") {
            let keep = Path::new(&keep).join(format!(
                "{:?}",
                std::thread::current().name().unwrap_or("run")
            ));
            std::fs::create_dir_all(&keep).unwrap();
            for (file, _, wasm) in &self.patches {
                std::fs::write(keep.join(file), wasm).unwrap();
            }
            std::fs::write(keep.join("run.cjs"), &js).unwrap();
        }
        std::fs::write(&script, js).unwrap();
        let out = Command::new("node").arg(&script).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "node failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap() as i64))
            .collect()
    }
}
