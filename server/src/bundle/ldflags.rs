//! The Emscripten settings (`-sNAME=VALUE`) an app adds in `[build] ldflags`, read before the
//! link: lists hotwasm sets itself are merged (`EXPORTED_RUNTIME_METHODS`) or refused naming
//! the config key that adds to them (`EXPORTED_FUNCTIONS`), and settings this toolchain cannot
//! link are refused with the reason and what works instead.

/// One `-s` setting: its name, its value (`1` when none is written) and the flags it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// `ASSERTIONS`.
    pub name: String,
    /// `1`, `"ccall,cwrap"`, ...
    pub value: String,
    /// The flags it was written in (`-sA=1`, or `-s` and `A=1`).
    pub flags: std::ops::Range<usize>,
}

/// The `-s` settings of `flags` (`-sNAME=V`, `-sNAME`, `-s NAME=V`), in order.
pub fn settings(flags: &[String]) -> Vec<Setting> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        let (text, span) = match flags[i].strip_prefix("-s") {
            Some("") if i + 1 < flags.len() => (flags[i + 1].as_str(), i..i + 2),
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => (rest, i..i + 1),
            _ => {
                i += 1;
                continue;
            }
        };
        let (name, value) = text.split_once('=').unwrap_or((text, "1"));
        out.push(Setting {
            name: name.to_string(),
            value: value.to_string(),
            flags: span.clone(),
        });
        i = span.end;
    }
    out
}

/// The names of a list setting's value: `a,b`, `['a','b']` or `["a", "b"]`.
fn list_items(value: &str) -> Vec<String> {
    value
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|item| item.trim().trim_matches(['\'', '"']).trim().to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

/// Settings that make emcc 3.1.69 rewrite the linked wasm with binaryen's
/// `wasm-emscripten-finalize` (`finalize_wasm` in its tools/emscripten.py), with what to use
/// instead. The binaryen scripts/setup.sh installs (npm's) has no such program.
const NEEDS_FINALIZE: [(&str, &str, &str); 6] = [
    ("STACK_OVERFLOW_CHECK", "2", "use -sSTACK_OVERFLOW_CHECK=1 (what -sASSERTIONS=1 turns on): it checks the stack cookie at exit and on calls from JS"),
    ("DYNCALLS", "1", "leave it out: hotwasm hosts call through the table with -sWASM_BIGINT"),
    ("ASYNCIFY", "1", "leave it out (it needs dynCalls); JSPI (-sJSPI) needs no rewrite"),
    ("EMULATE_FUNCTION_POINTER_CASTS", "1", "leave it out and fix the casts the linker warns about"),
    ("WASM2JS", "1", "leave it out: hotwasm loads patches as wasm"),
    ("WASM_BIGINT", "0", "leave it out: hotwasm links every host and patch with -sWASM_BIGINT"),
];

/// Why `flags` cannot link with a binaryen that has no `wasm-emscripten-finalize`, naming each
/// setting (and `-sASSERTIONS=2`, which turns on `-sSTACK_OVERFLOW_CHECK=2` unless a lower one
/// is given) and what works instead; `None` when nothing needs it.
pub fn needs_finalize(flags: &[String]) -> Option<String> {
    let set = settings(flags);
    let value = |name: &str| {
        set.iter()
            .rev()
            .find(|s| s.name == name)
            .map(|s| s.value.as_str())
    };
    let mut why = Vec::new();
    for (name, bad, instead) in NEEDS_FINALIZE {
        let Some(v) = value(name) else { continue };
        // `0` is the one bad value of a setting hotwasm needs on; otherwise `bad` and above.
        let hit = match (v.parse::<u32>(), bad.parse::<u32>()) {
            (Ok(v), Ok(0)) => v == 0,
            (Ok(v), Ok(bad)) => v >= bad,
            _ => false,
        };
        if hit {
            why.push(format!("-s{name}={v}: {instead}"));
        }
    }
    let assertions = value("ASSERTIONS").and_then(|v| v.parse::<u32>().ok());
    if assertions.is_some_and(|a| a >= 2) && value("STACK_OVERFLOW_CHECK").is_none() {
        why.push("-sASSERTIONS=2 (it turns on -sSTACK_OVERFLOW_CHECK=2): add -sSTACK_OVERFLOW_CHECK=1, or use -sASSERTIONS=1".into());
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// `flags` with `-sEXPORTED_RUNTIME_METHODS` taken out, and the methods it named (merged into
/// hotwasm's own list by the caller: a second setting would replace it). Refused, naming the
/// key to use: a list in a file (`@file`) and `-sEXPORTED_FUNCTIONS` (hotwasm's export list
/// holds the app's `[build] exports` and what patches need).
pub fn take_runtime_methods(
    flags: &[String],
    config_file: &str,
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut methods = Vec::new();
    let mut taken = Vec::new();
    for s in settings(flags) {
        match s.name.as_str() {
            "EXPORTED_FUNCTIONS" => return Err(format!(
                "{config_file}: [build] ldflags sets -sEXPORTED_FUNCTIONS, which would replace the list hotwasm links with (the app's exports and what patches need): name the functions in [build] exports instead (without the leading `_`)"
            )),
            "EXPORTED_RUNTIME_METHODS" if s.value.starts_with('@') => return Err(format!(
                "{config_file}: [build] ldflags reads -sEXPORTED_RUNTIME_METHODS from a file, which would replace the methods the hotwasm client needs: name the methods in [build] runtime_methods instead"
            )),
            "EXPORTED_RUNTIME_METHODS" => {
                methods.extend(list_items(&s.value));
                taken.extend(s.flags);
            }
            _ => {}
        }
    }
    let rest = flags
        .iter()
        .enumerate()
        .filter(|(i, _)| !taken.contains(i))
        .map(|(_, f)| f.clone())
        .collect();
    Ok((methods, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn settings_are_read_in_every_spelling_emcc_takes() {
        let got = settings(&flags(&[
            "-O2",
            "-sASSERTIONS",
            "-s",
            "STACK_SIZE=1MB",
            "-sX=a=b",
            "-shared",
        ]));
        let names: Vec<(&str, &str)> = got
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(
            names,
            [("ASSERTIONS", "1"), ("STACK_SIZE", "1MB"), ("X", "a=b")]
        );
        assert_eq!(got[1].flags, 2..4);
    }

    #[test]
    fn settings_that_need_wasm_emscripten_finalize_are_named_with_what_works() {
        assert_eq!(
            needs_finalize(&flags(&["-sASSERTIONS=1", "-sSTACK_OVERFLOW_CHECK=1"])),
            None
        );
        let why = needs_finalize(&flags(&["-sASSERTIONS=1", "-sSTACK_OVERFLOW_CHECK=2"])).unwrap();
        assert!(
            why.starts_with("-sSTACK_OVERFLOW_CHECK=2: use -sSTACK_OVERFLOW_CHECK=1"),
            "{why}"
        );
        let why = needs_finalize(&flags(&["-sASSERTIONS=2"])).unwrap();
        assert!(
            why.contains("-sASSERTIONS=2 (it turns on -sSTACK_OVERFLOW_CHECK=2)"),
            "{why}"
        );
        assert_eq!(
            needs_finalize(&flags(&["-sASSERTIONS=2", "-sSTACK_OVERFLOW_CHECK=1"])),
            None
        );
        assert!(needs_finalize(&flags(&["-sWASM_BIGINT=0"])).is_some());
        assert_eq!(needs_finalize(&flags(&["-sWASM_BIGINT"])), None);
    }

    #[test]
    fn runtime_methods_in_ldflags_are_taken_out_for_merging_and_export_lists_refused() {
        let (methods, rest) = take_runtime_methods(
            &flags(&[
                "-sEXPORTED_RUNTIME_METHODS=['addFunction', \"getValue\"]",
                "-O2",
                "-s",
                "EXPORTED_RUNTIME_METHODS=setValue",
            ]),
            "app/hotwasm.toml",
        )
        .unwrap();
        assert_eq!(methods, ["addFunction", "getValue", "setValue"]);
        assert_eq!(rest, ["-O2"]);
        let e = take_runtime_methods(&flags(&["-sEXPORTED_FUNCTIONS=_main"]), "app/hotwasm.toml")
            .unwrap_err();
        assert!(
            e.contains("app/hotwasm.toml: [build] ldflags sets -sEXPORTED_FUNCTIONS")
                && e.contains("[build] exports"),
            "{e}"
        );
        let e =
            take_runtime_methods(&flags(&["-sEXPORTED_RUNTIME_METHODS=@m.txt"]), "h").unwrap_err();
        assert!(e.contains("[build] runtime_methods"), "{e}");
    }
}
