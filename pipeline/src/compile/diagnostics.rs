//! Clang's stderr turned into data: `file:line:col: severity: message` lines become
//! [`Diagnostic`]s; everything else (source excerpts, carets, "N errors generated") stays only in
//! the raw output, which is always kept word for word.

use crate::Diagnostic;

/// Every located diagnostic in clang's output, in order.
pub fn parse(stderr: &str) -> Vec<Diagnostic> {
    stderr.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Diagnostic> {
    for severity in ["fatal error", "error", "warning", "note", "remark"] {
        let marker = format!(": {severity}: ");
        let Some(at) = line.find(&marker) else {
            continue;
        };
        let location = &line[..at];
        let message = line[at + marker.len()..].to_string();
        let mut parts = location.rsplitn(3, ':');
        let column = parts.next()?.parse().ok()?;
        let line_no = parts.next()?.parse().ok()?;
        let file = parts.next()?.to_string();
        if file.is_empty() {
            return None;
        }
        return Some(Diagnostic {
            file,
            line: line_no,
            column,
            severity: severity.to_string(),
            message,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clang_output() {
        let err = "In file included from eval.c:1:\n\
                   eval.c:3:12: error: use of undeclared identifier 'y'\n    3 |   return y;\n      |          ^\n\
                   eval.c:1:5: warning: unused variable 'z' [-Wunused-variable]\n\
                   side-modules/a b.c:10:1: fatal error: 'x.h' file not found\n\
                   1 error generated.\n";
        let d = parse(err);
        assert_eq!(d.len(), 3);
        assert_eq!(
            (d[0].file.as_str(), d[0].line, d[0].column),
            ("eval.c", 3, 12)
        );
        assert_eq!(d[0].severity, "error");
        assert_eq!(d[0].message, "use of undeclared identifier 'y'");
        assert_eq!(d[1].severity, "warning");
        assert_eq!(d[2].file, "side-modules/a b.c");
        assert_eq!(d[2].severity, "fatal error");
    }

    #[test]
    fn lines_without_a_location_are_not_diagnostics() {
        assert!(parse("error: unable to open output file\nwasm-ld: error: x\n").is_empty());
    }
}
