//! Late binding and persistent globals end to end in a real app: the C example host
//! (examples/c-host, copied and built with `HOT_RELOAD=1 scripts/emscripten-bundle.sh`, so its
//! registry is the real hotwasm runtime), the real `hotwasm serve`, and a Node page attached with
//! the public web client (`late_binding_real_app.mjs` beside this file holds the steps: redefine a callee, mutual
//! recursion across evals, a stored function pointer, a global bumped by three evals, initializer
//! rules, a refused type change, a redefined host var; the app keeps running throughout).
use std::path::Path;
use std::process::Command;

use crate::util;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "build" {
                copy_dir(&src, &dst);
            }
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[test]
fn vars_and_globals_are_late_bound_in_a_real_app_under_node() {
    let _dog = util::watchdog(1200);
    let root = util::repo_root();
    let app = Path::new(env!("CARGO_TARGET_TMPDIR")).join("late-binding-app");
    copy_dir(&root.join("examples/c-host"), &app);
    let env = util::toolchain_env();
    let built = Command::new("bash")
        .arg(root.join("scripts/emscripten-bundle.sh"))
        .arg(&app)
        .env("HOT_RELOAD", "1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .status()
        .unwrap();
    assert!(built.success(), "building the C example host failed");
    let out = Command::new("node")
        .arg("--experimental-websocket")
        .arg(root.join("server/tests/all/late_binding_real_app.mjs"))
        .arg(&app)
        .arg(app.join("build/hot/bounce.js"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The page's script reports each step it saw hold, in order, and ends with the app's frame
    // count checked: every claim above, not only that Node exited.
    let done = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ok: "))
        .unwrap_or_else(|| panic!("the page reported no steps:\n{stdout}"));
    let steps: Vec<&str> = done.split("; ").collect();
    assert_eq!(
        steps,
        [
            "redefine a callee: an earlier caller sees it",
            "mutual recursion across two evals",
            "a stored function pointer follows a redefinition",
            "a global bumped by three evals",
            "an initializer change takes effect, the same text keeps the value",
            "a type change is refused naming both types",
            "a redefined host var reaches the host",
        ]
    );
}
