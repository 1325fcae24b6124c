//! The printed value of an eval's final expression: the generated run-once code records it
//! through the `hotwasm_value_*` C functions, formatted here (so patches need no printf and
//! floats print as the shortest text that reads back the same), and the page takes it as JSON
//! after the run-once function returns.

use std::cell::RefCell;

/// Longest string or byte dump shown; the rest is elided with `…`.
pub const MAX_SHOWN: usize = 4096;

/// Longest value text kept (a page's ack must stay far below the server's 1 MiB frame limit,
/// whatever a Rust `Debug` prints); the rest is elided with `…`.
pub const MAX_TEXT: usize = 16 * 1024;

/// Bytes of a struct shown in hex.
const MAX_BYTES_SHOWN: usize = 64;

thread_local! {
    static VALUE: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Records `text` of type `ty` as the current value, replacing any earlier one.
pub fn record(ty: &str, text: String) {
    let (ty, text) = (bounded(ty.to_string()), bounded(text));
    VALUE.with(|v| *v.borrow_mut() = Some((ty, text)));
}

/// `s` cut to at most [`MAX_TEXT`] bytes (at a char boundary), then `…`.
fn bounded(mut s: String) -> String {
    if s.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// Takes the recorded value, if any, as JSON `{"type":…,"text":…}`.
pub fn take_json() -> Option<String> {
    VALUE.with(|v| v.borrow_mut().take()).map(|(ty, text)| {
        format!(
            "{{\"type\":{},\"text\":{}}}",
            json_string(&ty),
            json_string(&text)
        )
    })
}

/// A JSON string literal of `s`.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A double as the shortest text that reads back the same (`42.0`, `0.1`, `1e300`, `inf`).
pub fn f64_text(v: f64) -> String {
    format!("{v:?}")
}

/// A float as the shortest text that reads back the same float.
pub fn f32_text(v: f32) -> String {
    format!("{v:?}")
}

/// A C `char` (its value as an int) in quotes, escaped: `'A'`, `'\n'`, `'\xff'`.
pub fn char_text(v: i32) -> String {
    let byte = v as u8;
    if byte.is_ascii() {
        format!("'{}'", (byte as char).escape_default())
    } else {
        format!("'\\x{byte:02x}'")
    }
}

/// C string bytes, quoted and escaped; at most [`MAX_SHOWN`] bytes, then `…`.
pub fn str_text(bytes: &[u8], truncated: bool) -> String {
    let mut s = format!("{:?}", String::from_utf8_lossy(bytes));
    if truncated {
        s.push('…');
    }
    s
}

/// A pointer: `NULL` or its address in hex.
pub fn ptr_text(addr: usize) -> String {
    if addr == 0 {
        "NULL".into()
    } else {
        format!("0x{addr:x}")
    }
}

/// A struct's bytes: `{01 00 00 00 …}` (at most 64 of them).
pub fn bytes_text(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes
        .iter()
        .take(MAX_BYTES_SHOWN)
        .map(|b| format!("{b:02x}"))
        .collect();
    let more = if bytes.len() > MAX_BYTES_SHOWN {
        " …"
    } else {
        ""
    };
    format!("{{{}{more}}}", shown.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_the_shortest_round_trip_text() {
        assert_eq!(f64_text(0.1), "0.1");
        assert_eq!(f64_text(42.0), "42.0");
        assert_eq!(f32_text(0.1f32), "0.1");
        assert_eq!(f64_text(1e300), "1e300");
    }

    #[test]
    fn chars_and_strings_are_quoted_and_escaped() {
        assert_eq!(char_text(65), "'A'");
        assert_eq!(char_text(10), "'\\n'");
        assert_eq!(char_text(-1), "'\\xff'");
        assert_eq!(str_text(b"hi \"x\"\n", false), "\"hi \\\"x\\\"\\n\"");
        assert_eq!(str_text(b"ab", true), "\"ab\"…");
    }

    #[test]
    fn a_taken_value_is_json_and_gone() {
        record("int", "42".into());
        assert_eq!(
            take_json().as_deref(),
            Some("{\"type\":\"int\",\"text\":\"42\"}")
        );
        assert_eq!(take_json(), None);
        record("char *", "\"a\\\"\n\"".into());
        assert_eq!(
            take_json().as_deref(),
            Some("{\"type\":\"char *\",\"text\":\"\\\"a\\\\\\\"\\n\\\"\"}")
        );
    }

    #[test]
    fn a_huge_text_is_cut_so_the_ack_stays_small() {
        record("Vec<u8>", "é".repeat(MAX_TEXT));
        let json = take_json().unwrap();
        assert!(json.len() < MAX_TEXT + 100, "{}", json.len());
        assert!(json.ends_with("…\"}"), "{}", &json[json.len() - 10..]);
    }

    #[test]
    fn pointers_and_bytes() {
        assert_eq!(ptr_text(0), "NULL");
        assert_eq!(ptr_text(0x10a0), "0x10a0");
        assert_eq!(bytes_text(&[1, 0, 255]), "{01 00 ff}");
    }
}
