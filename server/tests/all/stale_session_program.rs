//! A compiler session program left from another build (an older `hotwasm-clang-session` in the
//! target directory beside a newer server) is refused at its handshake with an error naming its
//! path and how to rebuild it, instead of failing later in confusing ways.

use crate::util::*;

#[test]
fn a_c_eval_with_a_session_program_of_another_protocol_version_says_which_program_to_rebuild() {
    let _dog = watchdog(120);
    let bin = tempfile::tempdir().unwrap();
    // What a program built before the handshake had answers: a Ready frame without `protocol`.
    let mut frame = Vec::new();
    hotwasm_incremental::protocol::write_frame(
        &mut frame,
        br#"{"ok":true,"error":"","setup_ms":1.0}"#,
    )
    .unwrap();
    std::fs::write(bin.path().join("ready.bin"), frame).unwrap();
    let program = bin.path().join("hotwasm-clang-session");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\ncat '{}'\ncat >/dev/null\n",
            bin.path().join("ready.bin").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let program_path = program.display().to_string();
    let server = Server::start_with_env(
        tempfile::tempdir().unwrap(),
        &[],
        &[("HOTWASM_CLANG_SESSION", &program_path)],
    );
    let mut ws = repl(&server);
    let r = eval(&mut ws, "c1", "int x = 1;");
    assert_eq!(r["ok"], false, "{r}");
    let text = r.to_string();
    assert!(text.contains(&program_path), "{text}");
    assert!(text.contains("speaks protocol version 0"), "{text}");
    assert!(text.contains("rebuild it with `scripts/hotwasm`"), "{text}");
}
