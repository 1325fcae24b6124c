//! An incremental session's object (issue 21) links in the session's own process when the caller
//! gives an in-process linker: the pipeline hands it the whole wasm-ld command line (late
//! binding's flags included, every file named in full, since that process runs in another
//! directory) and takes its output as the patch, byte for byte what a wasm-ld process links.
//! A linker that cannot run the link leaves it to a wasm-ld process.

use crate::late_binding::{host_manifest, repo_root, toolchain};
use hotwasm_pipeline::compile::{Compiled, InProcessLinker, SessionObject, SourceLang};
use hotwasm_pipeline::{Compiler, CompilerConfig};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A real wasm-ld, run from `/` rather than the work directory; keeps every command line.
struct FromElsewhere {
    lines: Vec<Vec<String>>,
    can_run: bool,
}

impl InProcessLinker for FromElsewhere {
    fn link(&mut self, argv: &[String]) -> Result<(bool, String), String> {
        self.lines.push(argv.to_vec());
        if !self.can_run {
            return Err("the session ended".into());
        }
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir("/")
            .output()
            .map_err(|e| e.to_string())?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into(),
        ))
    }
}

fn compiler(root: &Path) -> Compiler {
    Compiler::new(CompilerConfig {
        root: root.to_path_buf(),
        include_dirs: vec![repo_root().join("abi/include")],
        defines: Vec::new(),
        rust_prelude: None,
        plain_emcc: false,
        opt: "-O2".into(),
        timeout: Duration::from_secs(60),
        memory_bytes: 2 << 30,
    })
    .unwrap()
}

/// A wasm32 relocatable object of `source`, as a session emits one (position-independent).
fn object(dir: &Path, source: &str) -> Vec<u8> {
    std::fs::write(dir.join("s.c"), source).unwrap();
    let status = Command::new("emcc")
        .args(["-c", "-O2", "-sSIDE_MODULE=1", "s.c", "-o", "s.o"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(dir.join("s.o")).unwrap()
}

fn link(compiler: &Compiler, object: &[u8], linker: Option<&mut FromElsewhere>) -> Compiled {
    let work = tempfile::tempdir().unwrap();
    let object = SessionObject {
        lang: SourceLang::C,
        object,
        globals: Vec::new(),
        headers: Vec::new(),
    };
    let linker = linker.map(|l| l as &mut dyn InProcessLinker);
    compiler
        .link_session_object(object, work.path(), &host_manifest(), linker)
        .unwrap()
}

#[test]
fn a_session_object_links_in_the_given_process_with_the_same_bytes_as_a_wasm_ld_process() {
    toolchain();
    let project = tempfile::tempdir().unwrap();
    let compiler = compiler(project.path());
    let obj = object(
        project.path(),
        "int host_scale(int);\nint sq(int x) { return x * x; }\nint scaled_sq(int y) { return host_scale(sq(y)); }",
    );
    let by_process = link(&compiler, &obj, None);
    let mut linker = FromElsewhere {
        lines: Vec::new(),
        can_run: true,
    };
    let in_process = link(&compiler, &obj, Some(&mut linker));
    assert_eq!(linker.lines.len(), 1, "one link, in the given process");
    let line = &linker.lines[0];
    assert!(
        line.iter().any(|a| a.starts_with("--wrap")),
        "late binding's flags are on the line: {line:?}"
    );
    assert!(in_process.wasm == by_process.wasm, "the same patch bytes");
    assert_eq!(in_process.defined, by_process.defined);
}

#[test]
fn a_linker_that_cannot_run_the_link_leaves_it_to_a_wasm_ld_process() {
    toolchain();
    let project = tempfile::tempdir().unwrap();
    let compiler = compiler(project.path());
    let obj = object(project.path(), "int cube(int x) { return x * x * x; }");
    let by_process = link(&compiler, &obj, None);
    let mut gone = FromElsewhere {
        lines: Vec::new(),
        can_run: false,
    };
    let linked = link(&compiler, &obj, Some(&mut gone));
    assert_eq!(gone.lines.len(), 1, "the link was offered to it first");
    assert!(linked.wasm == by_process.wasm);
}
