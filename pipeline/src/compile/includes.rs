//! Which files a compile read (from clang's `-MD` dependency file, which also lists `#embed`
//! inputs and is written even when compiling fails), and the rule that they must all lie in
//! the project, the Emscripten sysroot or clang's own headers.

use std::path::{Path, PathBuf};

/// Parses a Makefile-style dependency file into the paths it lists (the target is skipped).
pub fn parse_depfile(text: &str) -> Vec<String> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let body = match find_target_colon(&joined) {
        Some(at) => &joined[at + 1..],
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some(' ') | Some('#') | Some('\\')) => {
                cur.push(chars.next().expect("peeked"));
            }
            '$' if chars.peek() == Some(&'$') => {
                chars.next();
                cur.push('$');
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The `:` ending the target (an escaped `\:` or a drive letter does not occur on Unix).
fn find_target_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b':' && (i == 0 || bytes[i - 1] != b'\\'))
}

/// The first listed file (resolved against `cwd`) that is not under one of `allowed`, if any.
/// Paths are canonicalized so `..` and symlinks cannot step outside.
pub fn first_outside(deps: &[String], cwd: &Path, allowed: &[PathBuf]) -> Option<String> {
    deps.iter()
        .find(|dep| {
            let p = cwd.join(dep);
            let real = std::fs::canonicalize(&p).unwrap_or(p);
            !allowed.iter().any(|root| real.starts_with(root))
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_continuations_and_escaped_spaces() {
        let d = "/w/patch.o: eval.c /usr/a\\ b.h \\\n  /etc/passwd\n";
        assert_eq!(
            parse_depfile(d),
            vec!["eval.c", "/usr/a b.h", "/etc/passwd"]
        );
    }

    #[test]
    fn files_outside_the_allowed_roots_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join("ok.h"), "").unwrap();
        let deps = vec![
            "ok.h".to_string(),
            "../../../../../../../etc/passwd".to_string(),
        ];
        assert_eq!(
            first_outside(&deps[..1], &root, std::slice::from_ref(&root)),
            None
        );
        assert_eq!(
            first_outside(&deps, &root, std::slice::from_ref(&root)).as_deref(),
            Some("../../../../../../../etc/passwd")
        );
    }
}
