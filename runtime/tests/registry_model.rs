//! The registry against a simple model: random define / patch / rollback sequences must leave
//! every var pointing at exactly what the model says, and failed operations change nothing.
#![cfg(feature = "hot-reload")]

use hotwasm_abi::Signature;
use hotwasm_runtime::{HotError, Offer, Registry};
use proptest::prelude::*;
use std::collections::HashMap;

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

/// The registries here are only inspected, never called through: any address will do.
fn define(reg: &mut Registry, name: &str, sig: Signature, addr: usize) -> Result<(), HotError> {
    // SAFETY: nothing calls through this registry's slots; addresses are only compared.
    unsafe { reg.define(name, sig, addr) }
}

fn install(reg: &mut Registry, offers: Vec<Offer>) -> Result<u32, HotError> {
    // SAFETY: as for `define`.
    unsafe { reg.install(offers) }
}

#[derive(Debug, Clone)]
enum Op {
    Define {
        var: usize,
        sig: bool,
        addr: usize,
    },
    Patch {
        vars: Vec<(usize, bool)>,
        addr: usize,
    },
    RollbackVar {
        var: usize,
    },
    RollbackPatch {
        back: usize,
    },
    /// A trampoline asks for the var's slot (a pending var when unknown).
    Slot {
        var: usize,
        sig: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4usize, any::<bool>(), 1..1_000usize).prop_map(|(var, sig, addr)| Op::Define {
            var,
            sig,
            addr
        }),
        (
            prop::collection::vec((0..4usize, any::<bool>()), 0..4),
            1..1_000usize
        )
            .prop_map(|(vars, addr)| Op::Patch { vars, addr }),
        (0..4usize).prop_map(|var| Op::RollbackVar { var }),
        (0..6usize).prop_map(|back| Op::RollbackPatch { back }),
        (0..4usize, any::<bool>()).prop_map(|(var, sig)| Op::Slot { var, sig }),
    ]
}

fn sig(alt: bool) -> Signature {
    Signature::parse(if alt { "ddd" } else { "ii" }).unwrap()
}

/// A var's history in the model: (patch, address), oldest first.
type History = Vec<(Option<u32>, usize)>;

/// The model: per var whether it has the alternative signature, and its history.
#[derive(Default, Debug)]
struct Model {
    vars: HashMap<&'static str, (bool, History)>,
    patches: Vec<(u32, Vec<&'static str>)>,
    last: u32,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn registry_matches_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let mut reg = Registry::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Define { var, sig: alt, addr } => {
                    let name = NAMES[var];
                    let result = define(&mut reg, name, sig(alt), addr);
                    match model.vars.get_mut(name) {
                        Some((s, _)) if *s != alt => prop_assert!(matches!(result, Err(HotError::SignatureMismatch { .. })), "{result:?}"),
                        Some((_, hist)) => { prop_assert!(result.is_ok()); hist.push((None, addr)); }
                        None => { prop_assert!(result.is_ok()); model.vars.insert(name, (alt, vec![(None, addr)])); }
                    }
                }
                Op::Patch { vars, addr } => {
                    let offers: Vec<Offer> = vars.iter().enumerate().map(|(i, &(v, alt))| Offer {
                        var: NAMES[v].to_string(), signature: sig(alt), symbol: format!("{}__hw{}", NAMES[v], addr), addr: addr + i,
                    }).collect();
                    let mut seen = std::collections::HashSet::new();
                    let valid = vars.iter().all(|&(v, _)| seen.insert(v))
                        && vars.iter().all(|&(v, alt)| model.vars.get(NAMES[v]).is_none_or(|(s, _)| *s == alt));
                    let result = install(&mut reg, offers);
                    prop_assert_eq!(result.is_ok(), valid, "{:?}", result);
                    if let Ok(id) = result {
                        model.last += 1;
                        prop_assert_eq!(id, model.last);
                        for (i, &(v, alt)) in vars.iter().enumerate() {
                            model.vars.entry(NAMES[v]).or_insert((alt, vec![])).1.push((Some(id), addr + i));
                        }
                        model.patches.push((id, vars.iter().map(|&(v, _)| NAMES[v]).collect()));
                    }
                }
                Op::Slot { var, sig: alt } => {
                    let name = NAMES[var];
                    let result = reg.slot(name, sig(alt));
                    match model.vars.get(name) {
                        Some((s, _)) if *s != alt => prop_assert!(matches!(result, Err(HotError::SignatureMismatch { .. })), "{result:?}"),
                        Some((_, hist)) => {
                            let current = result.unwrap().load(std::sync::atomic::Ordering::Acquire) as usize;
                            prop_assert_eq!(current, hist.last().map_or(0, |h| h.1), "the slot holds the current version");
                        }
                        None => {
                            prop_assert!(result.unwrap().load(std::sync::atomic::Ordering::Acquire).is_null(), "a pending slot holds NULL");
                            model.vars.insert(name, (alt, vec![]));
                        }
                    }
                }
                Op::RollbackVar { var } => {
                    let name = NAMES[var];
                    let result = reg.rollback_var(name);
                    match model.vars.get_mut(name) {
                        None => prop_assert!(matches!(result, Err(HotError::UnknownVar { .. })), "unexpected result"),
                        Some((_, hist)) if hist.len() < 2 => prop_assert!(matches!(result, Err(HotError::NoHistory { .. })), "unexpected result"),
                        Some((_, hist)) => { prop_assert!(result.is_ok()); hist.pop(); }
                    }
                }
                Op::RollbackPatch { back } => {
                    let Some(&(id, ref names)) = model.patches.len().checked_sub(back + 1).map(|i| &model.patches[i]) else {
                        prop_assert!(matches!(reg.rollback_patch(10_000), Err(HotError::UnknownPatch { .. })), "unexpected result");
                        continue;
                    };
                    let names = names.clone();
                    reg.rollback_patch(id).unwrap();
                    model.patches.retain(|(p, _)| *p != id);
                    for name in names {
                        let hist = &mut model.vars.get_mut(name).unwrap().1;
                        if hist.len() > 1 {
                            if let Some(at) = hist.iter().position(|(p, _)| *p == Some(id)) { hist.remove(at); }
                        }
                    }
                    prop_assert!(matches!(reg.rollback_patch(id), Err(HotError::UnknownPatch { .. })), "unexpected result");
                }
            }
            for (name, (_, hist)) in &model.vars {
                prop_assert_eq!(reg.lookup(name), hist.last().map(|h| h.1), "var {}", name);
            }
            let listed = reg.list();
            prop_assert_eq!(listed.len(), model.vars.values().filter(|(_, h)| !h.is_empty()).count(), "pending vars are not listed");
            for v in listed {
                let patches: Vec<Option<u32>> = v.history.iter().map(|h| h.patch).collect();
                let expected: Vec<Option<u32>> = model.vars[v.name.as_str()].1.iter().map(|h| h.0).collect();
                prop_assert_eq!(patches, expected);
            }
        }
    }
}

#[test]
fn a_patch_with_one_bad_entry_changes_no_var() {
    let mut reg = Registry::new();
    define(&mut reg, "a", sig(false), 1).unwrap();
    define(&mut reg, "b", sig(false), 2).unwrap();
    let offers = vec![
        Offer {
            var: "a".into(),
            signature: sig(false),
            symbol: "a__hw1".into(),
            addr: 10,
        },
        Offer {
            var: "b".into(),
            signature: sig(true),
            symbol: "b__hw1".into(),
            addr: 20,
        },
    ];
    let err = install(&mut reg, offers).unwrap_err();
    assert_eq!(err.to_string(), "`b` has signature `ii` but the patch gives it `ddd`: keep the parameter and return types of the host's declaration, or give the new function another name");
    assert_eq!((reg.lookup("a"), reg.lookup("b")), (Some(1), Some(2)));
}

#[test]
fn names_must_be_c_identifiers_and_appear_once() {
    let mut reg = Registry::new();
    let offer = |var: &str| Offer {
        var: var.into(),
        signature: sig(false),
        symbol: "s".into(),
        addr: 1,
    };
    assert!(matches!(
        install(&mut reg, vec![offer("not an ident")]),
        Err(HotError::InvalidArgument(_))
    ));
    assert!(matches!(
        install(&mut reg, vec![offer("x"), offer("x")]),
        Err(HotError::InvalidArgument(_))
    ));
    assert!(reg.list().is_empty());
}

#[test]
fn a_patch_without_functions_gets_an_id_and_changes_no_var() {
    let mut reg = Registry::new();
    define(&mut reg, "a", sig(false), 1).unwrap();
    let id = install(&mut reg, vec![]).unwrap();
    assert_eq!(reg.lookup("a"), Some(1));
    assert_eq!(reg.rollback_patch(id).unwrap(), 0);
}

#[test]
fn pointers_and_i32_are_the_same_type_in_wasm32() {
    let mut reg = Registry::new();
    define(&mut reg, "p", Signature::parse("vpp").unwrap(), 1).unwrap();
    define(&mut reg, "p", Signature::parse("vii").unwrap(), 2).unwrap();
    assert_eq!(reg.lookup("p"), Some(2));
}
