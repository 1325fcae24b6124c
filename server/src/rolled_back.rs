//! Which journal entries a new wasm instance need not load because a later rollback undid them:
//! a patch that defines one var and nothing else, paired with the rollback that took that var
//! back from it. Replaying the pair would load the patch, make it live, then roll it back — and in
//! a threaded host a worker running meanwhile could call the patched code again (a trap on a
//! worker journals exactly such a rollback, docs/THREADS.md). Skipping both leaves the var where
//! the replay of the pair would: at the version before the patch.
//!
//! The pairing follows the registry's rule: a rollback of `v` pops the newest version of `v` still
//! live, so each var keeps a stack of the patches that defined it. A pair is skipped only if the
//! patch is nothing but that version: one var, no run-once function, no export but the var's own
//! symbol and the linker's `__` names (a global or a second function stays, with its rollback).

use crate::journal::{Entry, EntryKind};
use std::collections::{HashMap, HashSet};

/// The sequence numbers of the patches and rollbacks that cancel each other in `entries`.
pub fn cancelled_pairs(entries: &[Entry]) -> HashSet<u64> {
    let mut live: HashMap<&str, Vec<&Entry>> = HashMap::new();
    let mut cancelled = HashSet::new();
    for entry in entries {
        match &entry.kind {
            EntryKind::Patch { manifest, .. } => {
                for defined in &manifest.entries {
                    live.entry(defined.var.as_str()).or_default().push(entry);
                }
            }
            EntryKind::Rollback { var } => {
                let popped = live.get_mut(var.as_str()).and_then(Vec::pop);
                if let Some(patch) = popped.filter(|p| only_defines(p, var)) {
                    cancelled.insert(patch.seq);
                    cancelled.insert(entry.seq);
                }
            }
            EntryKind::Undo { .. } => {}
        }
    }
    cancelled
}

/// Whether `entry` is a patch whose only effect is a new version of `var`.
fn only_defines(entry: &Entry, var: &str) -> bool {
    let EntryKind::Patch {
        manifest,
        run,
        wasm,
        ..
    } = &entry.kind
    else {
        return false;
    };
    let [only] = manifest.entries.as_slice() else {
        return false;
    };
    if only.var != var || run.is_some() {
        return false;
    }
    hotwasm_abi::wasm::read_module(wasm).is_ok_and(|shape| {
        shape
            .export_names
            .iter()
            .all(|name| name.starts_with("__") || *name == only.symbol)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Lang;
    use hotwasm_abi::PatchManifest;
    use std::sync::Arc;

    /// A real (tiny) wasm module exporting `exports`, each a function `() -> ()`.
    fn module(exports: &[&str]) -> Vec<u8> {
        use wasm_encoder::{
            CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, Module,
            TypeSection,
        };
        let mut types = TypeSection::new();
        types.ty().function([], []);
        let mut functions = FunctionSection::new();
        let mut exported = ExportSection::new();
        let mut code = CodeSection::new();
        for (index, name) in exports.iter().enumerate() {
            functions.function(0);
            exported.export(name, ExportKind::Func, index as u32);
            let mut body = Function::new([]);
            body.instruction(&Instruction::End);
            code.function(&body);
        }
        let mut module = Module::new();
        module
            .section(&types)
            .section(&functions)
            .section(&exported)
            .section(&code);
        module.finish()
    }

    fn patch(seq: u64, manifest: &str, exports: &[&str], run: Option<&str>) -> Entry {
        Entry {
            seq,
            kind: EntryKind::Patch {
                manifest: PatchManifest::parse(manifest).unwrap(),
                run: run.map(str::to_string),
                source: String::new(),
                lang: Lang::C,
                name: "eval.c".into(),
                wasm: Arc::new(module(exports)),
                declared_types: Vec::new(),
                declarations: Default::default(),
            },
        }
    }

    fn rollback(seq: u64, var: &str) -> Entry {
        Entry {
            seq,
            kind: EntryKind::Rollback { var: var.into() },
        }
    }

    #[test]
    fn a_rolled_back_version_and_its_rollback_are_not_replayed() {
        let entries = [
            patch(1, "f f__hw1 ii", &["f__hw1"], None),
            patch(2, "f f__hw2 ii", &["f__hw2", "__wasm_call_ctors"], None),
            rollback(3, "f"),
        ];
        assert_eq!(cancelled_pairs(&entries), HashSet::from([2, 3]));
    }

    #[test]
    fn two_rollbacks_pop_two_versions_newest_first() {
        let entries = [
            patch(1, "f f__hw1 ii", &["f__hw1"], None),
            patch(2, "g g__hw2 ii", &["g__hw2"], None),
            patch(3, "f f__hw3 ii", &["f__hw3"], None),
            rollback(4, "f"),
            rollback(5, "f"),
        ];
        assert_eq!(cancelled_pairs(&entries), HashSet::from([1, 3, 4, 5]));
    }

    #[test]
    fn a_patch_that_does_more_than_one_version_is_replayed_with_its_rollback() {
        let two_vars = [
            patch(1, "f f__hw1 ii\ng g__hw1 ii", &["f__hw1", "g__hw1"], None),
            rollback(2, "f"),
        ];
        assert!(cancelled_pairs(&two_vars).is_empty());
        let with_global = [
            patch(1, "f f__hw1 ii", &["f__hw1", "counter"], None),
            rollback(2, "f"),
        ];
        assert!(cancelled_pairs(&with_global).is_empty());
        let with_statements = [
            patch(1, "f f__hw1 ii", &["f__hw1", "run"], Some("run")),
            rollback(2, "f"),
        ];
        assert!(cancelled_pairs(&with_statements).is_empty());
    }

    #[test]
    fn a_rollback_of_a_host_version_cancels_nothing() {
        let entries = [rollback(1, "f"), patch(2, "f f__hw2 ii", &["f__hw2"], None)];
        assert!(cancelled_pairs(&entries).is_empty());
    }
}
