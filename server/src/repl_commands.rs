//! The `:` commands of `hotwasm repl`: one table that the repl's dispatcher, its `:help` and
//! `hotwasm repl --help` ([`crate::cli`]) all read, so the help cannot drift from what runs.

use crate::protocol::Lang;

/// A `:` command of the repl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant is described by its row of COMMANDS.
pub enum Cmd {
    Help,
    Vars,
    Rollback,
    Undo,
    Reset,
    Load,
    Lang(Lang),
    Quit,
}

/// Every `:` command: the names that run it, what to type, what it does. The one list that
/// `:help`, `hotwasm repl --help` and the dispatcher ([`Cmd::parse`]) read.
pub const COMMANDS: &[(Cmd, &[&str], &str, &str)] = &[
    (Cmd::Help, &[":help", ":h", ":?"], ":help", "this text"),
    (
        Cmd::Vars,
        &[":vars"],
        ":vars",
        "every current var: the host's and those any eval or saved file defined (name, \
         signature, version as the pages count it, the journal entry that defined it, its C \
         prototype); `#include <hotwasm_vars.h>` declares them",
    ),
    (
        Cmd::Rollback,
        &[":rollback"],
        ":rollback NAME",
        "roll var NAME back one version on every page",
    ),
    (
        Cmd::Undo,
        &[":undo"],
        ":undo N",
        "roll code and state back to before journal entry #N on every page (each page restores \
         the memory snapshot it took before that patch; later entries are undone too and the \
         journal forgets them); `:undo N --code`: the code only",
    ),
    (
        Cmd::Reset,
        &[":reset"],
        ":reset",
        "start fresh C and C++ compiler sessions: later entries no longer see what earlier \
         entries declared (types, macros, functions); the pages keep running what they applied",
    ),
    (
        Cmd::Load,
        &[":load"],
        ":load FILE",
        "evaluate FILE (C, C++ or Rust by its extension)",
    ),
    (
        Cmd::Lang(Lang::C),
        &[":c"],
        ":c :cpp :rust",
        "switch the language of the next entries",
    ),
    (Cmd::Lang(Lang::Cpp), &[":cpp"], "", ""),
    (Cmd::Lang(Lang::Rust), &[":rust"], "", ""),
    (
        Cmd::Quit,
        &[":quit", ":q", ":exit"],
        ":quit",
        "leave (so does end of input, Ctrl-D)",
    ),
];

impl Cmd {
    /// The command a `:` word names.
    pub fn parse(word: &str) -> Option<Cmd> {
        COMMANDS
            .iter()
            .find(|(_, names, ..)| names.contains(&word))
            .map(|(cmd, ..)| *cmd)
    }
}

/// The command list, one per row, wrapped to the terminal's usual width.
pub fn commands_help() -> String {
    let mut out = String::new();
    for (_, _, usage, what) in COMMANDS.iter().filter(|(.., usage, _)| !usage.is_empty()) {
        let mut line = format!("  {usage:<16}");
        for word in what.split_whitespace() {
            if line.len() + word.len() > 96 {
                out.push_str(line.trim_end());
                out.push('\n');
                line = " ".repeat(18);
            }
            line.push_str(word);
            line.push(' ');
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
