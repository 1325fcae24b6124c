//! `hotwasm repl`: reads entries (ended by a blank line or a line `;;`), evaluates each in the
//! connected pages and prints every page's outcome and output, diagnostics with the source line
//! and a caret, and timings. On a terminal it edits lines and keeps a history in the app's
//! `.hotwasm/repl_history` (rustyline); from a pipe it reads plain lines. Lines starting with `:`
//! are commands (`:help`).

use crate::cli::ConnArgs;
use crate::client::{self, ClientError, Socket};
use crate::protocol::Lang;
use crate::repl_commands::{commands_help, Cmd};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

const INTRO: &str = "\
Enter definitions, declarations and statements; end an entry with a blank line or a line `;;`.
Statements run once on every page; an entry that ends with an expression (no `;`) prints its
value with its type (`= 42 (int)`). Top-level declarations (`int counter = 0;`) are globals.
C/C++ entries see what earlier entries defined without declaring it again (`sq(9)`, `counter`).";

/// What `:help` prints.
fn help() -> String {
    format!(
        "{INTRO}\nCommands (at the start of an entry):\n{}",
        commands_help()
    )
}

/// `hotwasm repl` in `lang` against the server of the app `conn` finds.
pub fn run(conn: &ConnArgs, lang: Lang) -> Result<(), ClientError> {
    let root = client::app_root(conn.project.as_deref())?;
    let mut ws = client::connect(conn)?;
    client::welcome(&mut ws)?;
    let mut session = Session {
        ws,
        lang,
        defined: BTreeMap::new(),
        entries: 0,
    };
    let mut input = Input::open(&root);
    let (_, what, _) = language(lang);
    println!("hotwasm repl: enter {what}, statements or an expression; end an entry with a blank line or `;;`; `:help` lists commands.");
    let mut entry = String::new();
    loop {
        let prompt = if entry.is_empty() {
            client::print_pending_host_news(&mut session.ws);
            session.prompt()
        } else {
            "...> "
        };
        let Some(line) = input.read(prompt) else {
            break;
        };
        let trimmed = line.trim();
        if entry.trim().is_empty() && trimmed.starts_with(':') && !trimmed.starts_with("::") {
            entry.clear();
            if session.command(trimmed)? == Flow::Quit {
                break;
            }
            continue;
        }
        if !(trimmed.is_empty() || trimmed == ";;") {
            entry.push_str(&line);
            entry.push('\n');
            continue;
        }
        if !entry.trim().is_empty() {
            session.eval_entry(std::mem::take(&mut entry))?;
        }
        entry.clear();
    }
    if !entry.trim().is_empty() {
        session.eval_entry(entry)?;
    }
    input.save();
    Ok(())
}

/// What the repl says about entries in `lang`: the file name evals get, what to type, and
/// where statements to run once go.
fn language(lang: Lang) -> (&'static str, &'static str, &'static str) {
    match lang {
        Lang::Rust => (
            "repl.rs",
            "Rust items (fn, struct, enum, impl, trait, use, static: later entries use them)",
            "#[no_mangle] pub extern \"C\" fn hotwasm_main()",
        ),
        Lang::Cpp => (
            "repl.cpp",
            "C++ declarations and definitions (types, templates, functions: later entries use them)",
            "extern \"C\" void hotwasm_main(void)",
        ),
        Lang::C => ("repl.c", "C declarations and definitions (types, macros, functions: later entries use them)", "void hotwasm_main(void)"),
    }
}

/// Whether the loop goes on.
#[derive(PartialEq, Eq)]
enum Flow {
    Go,
    Quit,
}

/// One connection and what this session knows about vars.
struct Session {
    ws: Socket,
    lang: Lang,
    /// Vars this session's entries defined → their version as this session counts it.
    defined: BTreeMap<String, u32>,
    entries: u32,
}

impl Session {
    fn prompt(&self) -> &'static str {
        match self.lang {
            Lang::C => "c> ",
            Lang::Cpp => "cpp> ",
            Lang::Rust => "rust> ",
        }
    }

    /// Runs one `:` command line.
    fn command(&mut self, line: &str) -> Result<Flow, ClientError> {
        let (cmd, arg) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let arg = arg.trim();
        let Some(parsed) = Cmd::parse(cmd) else {
            println!("unknown command {cmd}; `:help` lists the commands");
            return Ok(Flow::Go);
        };
        match parsed {
            Cmd::Help => println!("{}", help()),
            Cmd::Quit => return Ok(Flow::Quit),
            Cmd::Lang(lang) => {
                self.lang = lang;
                let (_, what, _) = language(self.lang);
                println!("hotwasm repl: now {what}, statements or an expression.");
            }
            Cmd::Vars => self.print_vars()?,
            Cmd::Rollback if !arg.is_empty() => match client::rollback(&mut self.ws, arg)? {
                Ok(()) => {
                    println!("rolled back {arg} on every page");
                    if let Some(v) = self.defined.get_mut(arg) {
                        *v = v.saturating_sub(1);
                    }
                }
                Err(why) => println!("error: rollback of {arg} refused: {why}"),
            },
            Cmd::Load if !arg.is_empty() => self.load(Path::new(arg))?,
            Cmd::Undo => self.undo(arg)?,
            Cmd::Reset => {
                let after = client::session_reset(&mut self.ws)?;
                println!("fresh compiler sessions: entries after #{after} start a new program");
            }
            Cmd::Rollback => println!("usage: :rollback NAME"),
            Cmd::Load => println!("usage: :load FILE"),
        }
        Ok(Flow::Go)
    }

    /// `:undo N [--code]`.
    fn undo(&mut self, arg: &str) -> Result<(), ClientError> {
        let mut words = arg.split_whitespace();
        let seq = words
            .next()
            .map(|w| w.trim_start_matches('#').parse::<u64>());
        let code_only = words.any(|w| w == "--code");
        let Some(Ok(seq)) = seq else {
            println!("usage: :undo N [--code]   (N: the patch's journal seq, e.g. from eval results or the page's history)");
            return Ok(());
        };
        match client::undo(&mut self.ws, seq, !code_only)? {
            Ok(result) => client::print_undo(&result),
            Err(why) => println!("error: undo refused: {why}"),
        }
        Ok(())
    }

    /// `:vars`: the server's answer to a `vars` query (exact versions, every client's vars).
    fn print_vars(&mut self) -> Result<(), ClientError> {
        let vars = client::vars(&mut self.ws)?;
        println!("vars ({}):", vars.len());
        for v in &vars {
            let origin = v
                .defined_by_seq
                .map_or("host".to_string(), |seq| format!("entry {seq}"));
            let proto = v.prototype.as_deref().unwrap_or("");
            println!(
                "  {}  {}  version {}  ({origin})  {proto}",
                v.name, v.signature, v.version
            );
        }
        Ok(())
    }

    /// `:load FILE`: evaluates the file, its language by extension.
    fn load(&mut self, file: &Path) -> Result<(), ClientError> {
        let source = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                println!("error: cannot read {}: {e}", file.display());
                return Ok(());
            }
        };
        let Some(lang) = Lang::of_path(file) else {
            println!(
                "error: {} is not .c, .cpp (.cc, .cxx, .c++) or .rs: cannot tell its language",
                file.display()
            );
            return Ok(());
        };
        let name = file
            .file_name()
            .map_or("load.c".into(), |n| n.to_string_lossy().into_owned());
        self.send(&name, lang, source)
    }

    fn eval_entry(&mut self, source: String) -> Result<(), ClientError> {
        let (name, _, _) = language(self.lang);
        self.send(name, self.lang, source)
    }

    fn send(&mut self, name: &str, lang: Lang, source: String) -> Result<(), ClientError> {
        self.entries += 1;
        let defines = defined_functions(&source, lang);
        if client::eval(&mut self.ws, &self.entries.to_string(), name, lang, source)? {
            for var in defines {
                *self.defined.entry(var).or_default() += 1;
            }
        }
        Ok(())
    }
}

/// The functions with external linkage `source` defines, by a scan of its top level (the
/// server's manifest is not sent back to terminals): C `type name(...) {` not `static`;
/// C++ only inside or after `extern "C"`; Rust `#[no_mangle] ... fn name`. `hotwasm_main` is not
/// a var.
fn defined_functions(source: &str, lang: Lang) -> Vec<String> {
    let mut names = Vec::new();
    let mut head = String::new();
    let mut depth = 0usize;
    let mut extern_c_block = false;
    for c in source.chars() {
        match c {
            '{' if depth == 0 => {
                let h = head.trim();
                if lang == Lang::Cpp && h.ends_with("extern \"C\"") {
                    extern_c_block = true;
                    head.clear();
                    continue;
                }
                if let Some(name) = function_name(h, lang, extern_c_block) {
                    names.push(name);
                }
                head.clear();
                depth += 1;
            }
            '{' => depth += 1,
            '}' if depth == 0 => {
                extern_c_block = false;
                head.clear();
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    head.clear();
                }
            }
            ';' if depth == 0 => head.clear(),
            _ if depth == 0 => head.push(c),
            _ => {}
        }
    }
    names.retain(|n| n != "hotwasm_main");
    names
}

/// The name a definition head (`int f(int x)`, `#[no_mangle] pub extern "C" fn f(x: i32)`)
/// gives a var, if it is one.
fn function_name(head: &str, lang: Lang, in_extern_c: bool) -> Option<String> {
    let before_paren = head.split('(').next()?;
    if !head.contains('(') || before_paren.contains('=') {
        return None;
    }
    let ident = |s: &str| {
        let name: String = s
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
    };
    match lang {
        Lang::Rust => (head.contains("no_mangle") && before_paren.contains("fn "))
            .then(|| ident(before_paren))
            .flatten(),
        Lang::C | Lang::Cpp => {
            let words: Vec<&str> = before_paren.split_whitespace().collect();
            let c_linkage = lang == Lang::C || in_extern_c || head.contains("extern \"C\"");
            (c_linkage && words.len() >= 2 && !words.contains(&"static"))
                .then(|| ident(before_paren))
                .flatten()
        }
    }
}

/// Where lines come from: an editor with history on a terminal, plain lines otherwise.
enum Input {
    Editor {
        editor: Box<rustyline::DefaultEditor>,
        history: PathBuf,
    },
    Plain(std::io::Lines<std::io::StdinLock<'static>>),
}

impl Input {
    /// An editor when stdin is a terminal (history from `root/.hotwasm/repl_history`).
    fn open(root: &Path) -> Input {
        let history = root.join(".hotwasm/repl_history");
        if std::io::stdin().is_terminal() {
            match rustyline::DefaultEditor::new() {
                Ok(mut editor) => {
                    // No history yet on the first run.
                    let _ = editor.load_history(&history);
                    return Input::Editor {
                        editor: Box::new(editor),
                        history,
                    };
                }
                Err(e) => eprintln!("hotwasm: no line editing ({e}); reading plain lines"),
            }
        }
        Input::Plain(std::io::stdin().lock().lines())
    }

    /// The next line, or None at end of input (Ctrl-D; Ctrl-C drops the current line).
    fn read(&mut self, prompt: &str) -> Option<String> {
        match self {
            Input::Editor { editor, history } => loop {
                match editor.readline(prompt) {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            let _ = editor.add_history_entry(line.as_str());
                            let _ = editor.save_history(history);
                        }
                        return Some(line);
                    }
                    Err(rustyline::error::ReadlineError::Interrupted) => continue,
                    Err(_) => return None,
                }
            },
            Input::Plain(lines) => lines.next()?.ok(),
        }
    }

    /// Writes the history file (the editor also writes it after every line).
    fn save(&mut self) {
        if let Input::Editor { editor, history } = self {
            if let Err(e) = editor.save_history(history) {
                eprintln!("hotwasm: cannot write {}: {e}", history.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl_commands::COMMANDS;

    #[test]
    fn every_command_the_repl_runs_is_listed_by_help_and_by_repl_help() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let repl_help = cli
            .find_subcommand_mut("repl")
            .expect("a repl subcommand")
            .render_long_help()
            .to_string();
        for (cmd, names, ..) in COMMANDS {
            for name in *names {
                assert_eq!(Cmd::parse(name), Some(*cmd), "{name}");
            }
            // Each command is shown by its first name (`:help`, `:c`, …).
            for shown in [help(), repl_help.clone()] {
                assert!(
                    shown.contains(names[0]),
                    "{} missing from:\n{shown}",
                    names[0]
                );
            }
        }
        assert!(repl_help.contains(":undo N"), "{repl_help}");
        assert_eq!(Cmd::parse(":nope"), None);
    }

    #[test]
    fn the_scan_finds_the_vars_an_entry_defines_but_not_static_or_main() {
        let c = "static int h(int x) { return x; }\nint twice(int x) {\n  return 2 * x;\n}\nint n = 3;\nvoid hotwasm_main(void) { }\nstruct s { int a; };\n";
        assert_eq!(defined_functions(c, Lang::C), ["twice"]);
        let cpp = "namespace { int t(int x) { return x; } }\nextern \"C\" int a(int x) { return t(x); }\nextern \"C\" {\nint b(void) { return 1; }\n}\n";
        assert_eq!(defined_functions(cpp, Lang::Cpp), ["a", "b"]);
        let rs = "#[no_mangle]\npub extern \"C\" fn r(x: i32) -> i32 { x }\nfn private() {}\n";
        assert_eq!(defined_functions(rs, Lang::Rust), ["r"]);
    }
}
