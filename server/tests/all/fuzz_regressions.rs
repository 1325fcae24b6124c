//! Every input the fuzz harness (fuzz/) ever flagged stays a test: the protocol decoder must
//! handle each saved input in `fuzz/regressions/` without panicking, and one that decodes must
//! survive an encode/decode round trip.

use hotwasm_server::protocol::{decode_client, ClientMsg};
use std::path::Path;

#[test]
fn saved_fuzz_inputs_decode_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions exists") {
        let path = entry.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("protocol-")
        {
            continue;
        }
        seen += 1;
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        if let Ok(msg) = decode_client(&text) {
            let again: ClientMsg = decode_client(&serde_json::to_string(&msg).unwrap())
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: re-encoded message does not decode: {e:?}",
                        path.display()
                    )
                });
            assert_eq!(
                std::mem::discriminant(&again),
                std::mem::discriminant(&msg),
                "{}",
                path.display()
            );
        }
    }
    assert!(
        seen > 0,
        "no protocol regression inputs found in {}",
        dir.display()
    );
}
