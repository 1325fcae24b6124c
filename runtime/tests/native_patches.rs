//! The real loader against real shared objects built from `tests/fixtures/`:
//! redefine, add a var, signature mismatch, missing symbol, not a library, rollback,
//! patches reaching host state, and many patches in a row.
#![cfg(feature = "hot-reload")]

mod util;

use hotwasm_runtime::{apply, hot_fn, lookup, rollback_patch, rollback_var, HotError};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

hot_fn! {
    /// The var most fixtures redefine.
    fn t_add(a: i32, b: i32) -> i32 { a + b }
    /// Reads host state; `host_state.c` redefines it.
    fn t_state(by: i32) -> i32 { by }
    /// Redefined hundreds of times in a row.
    fn t_gen() -> i32 { -1 }
}

/// Host data and a host function the `host_state.c` patch uses.
#[no_mangle]
pub static t_host_counter: AtomicI32 = AtomicI32::new(0);

#[no_mangle]
pub extern "C" fn t_host_bump(by: i32) -> i32 {
    t_host_counter.fetch_add(by, Ordering::SeqCst) + by
}

/// `t_add` is shared by several tests; they take turns.
static T_ADD: Mutex<()> = Mutex::new(());

fn setup() -> std::sync::MutexGuard<'static, ()> {
    let guard = T_ADD.lock().unwrap_or_else(|p| p.into_inner());
    // Back to the host's own `t_add`, whatever an earlier test left.
    while rollback_var("t_add").is_ok() {}
    guard
}

/// Applies the shared object at `path`.
fn apply_file(path: &str, manifest: &str) -> Result<u32, HotError> {
    // SAFETY: every file these tests apply is a fixture of tests/fixtures built for this test
    // binary, whose symbols have the signatures the tests' manifests give them (or garbage the
    // loader refuses before running anything).
    unsafe { apply(path, manifest) }
}

fn load(fixture: &str, manifest: &str) -> Result<u32, HotError> {
    apply_file(&util::unique_copy(&util::build(fixture, &[])), manifest)
}

fn run_once(patch: u32, symbol: &str) -> Result<(), HotError> {
    // SAFETY: `hotwasm_main` of run_once.c is `void hotwasm_main(void)`; other names are not
    // found in the patch, so nothing runs.
    unsafe { hotwasm_runtime::run(patch, symbol) }
}

#[test]
fn a_patch_redefines_a_var_and_the_next_call_runs_it() {
    let _g = setup();
    assert_eq!(t_add(1, 2), 3);
    load("add_plus_100", "t_add t_add__hw1 iii").unwrap();
    assert_eq!(t_add(1, 2), 103);
    load("add_times_2", "t_add t_add__hw2 iii").unwrap();
    assert_eq!(t_add(1, 2), 6);
}

#[test]
fn a_patch_can_add_a_var_and_redefine_another_at_once() {
    let _g = setup();
    load(
        "new_var_triple",
        "t_triple t_triple__hw4 ii\nt_add t_add__hw4 iii",
    )
    .unwrap();
    assert_eq!(t_add(2, 1), 7);
    let triple = lookup("t_triple").expect("the patch added t_triple");
    // SAFETY: `t_triple` was registered with signature `ii`, i.e. int(int).
    let triple: extern "C" fn(i32) -> i32 = unsafe { std::mem::transmute(triple) };
    assert_eq!(triple(5), 15);
}

#[test]
fn a_signature_mismatch_is_refused_and_the_old_code_keeps_running() {
    let _g = setup();
    load("add_plus_100", "t_add t_add__hw1 iii").unwrap();
    let err = load("add_wrong_signature", "t_add t_add__hw3 ddd").unwrap_err();
    assert!(matches!(err, HotError::SignatureMismatch { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("`t_add` has signature `iii`") && msg.contains("`ddd`"),
        "{msg}"
    );
    assert_eq!(t_add(1, 2), 103);
}

#[test]
fn a_missing_symbol_changes_nothing_even_when_other_entries_resolve() {
    let _g = setup();
    let err = load(
        "new_var_triple",
        "t_add t_add__hw4 iii\nt_other t_no_such_symbol__hw4 ii",
    )
    .unwrap_err();
    match &err {
        HotError::Symbol {
            var,
            symbol,
            dlerror,
        } => {
            assert_eq!(
                (var.as_str(), symbol.as_str()),
                ("t_other", "t_no_such_symbol__hw4")
            );
            assert!(
                dlerror
                    .as_deref()
                    .unwrap_or("")
                    .contains("t_no_such_symbol__hw4"),
                "{dlerror:?}"
            );
        }
        other => panic!("expected a symbol error, got {other:?}"),
    }
    assert_eq!(
        t_add(1, 2),
        3,
        "t_add resolved but must not have been swapped"
    );
    assert!(lookup("t_other").is_none());
}

#[test]
fn a_file_that_is_not_a_library_is_refused_with_the_linker_message() {
    let _g = setup();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.so");
    std::fs::write(&path, b"\0asm this is not a shared object").unwrap();
    let err = apply_file(path.to_str().unwrap(), "t_add t_add__hw1 iii").unwrap_err();
    match &err {
        HotError::Load {
            dlerror: Some(text),
            ..
        } => assert!(!text.is_empty()),
        other => panic!("expected a load error, got {other:?}"),
    }
    assert!(err.to_string().contains("SIDE_MODULE"), "{err}");
    assert_eq!(t_add(1, 2), 3);
}

#[test]
fn an_unresolved_import_is_refused_at_load_time_naming_it() {
    let _g = setup();
    let err = load("needs_missing_import", "t_add t_add__hw6 iii").unwrap_err();
    assert!(err.to_string().contains("t_no_such_host_function"), "{err}");
    assert_eq!(t_add(1, 2), 3);
}

#[test]
fn rollback_restores_the_previous_version_then_runs_out() {
    let _g = setup();
    let first = load("add_plus_100", "t_add t_add__hw1 iii").unwrap();
    let second = load("add_times_2", "t_add t_add__hw2 iii").unwrap();
    assert_eq!(t_add(1, 2), 6);
    // Taking out a patch that is not on top leaves the running code alone...
    assert_eq!(rollback_patch(first).unwrap(), 0);
    assert_eq!(t_add(1, 2), 6);
    // ...and then rolling back the var skips it.
    rollback_var("t_add").unwrap();
    assert_eq!(t_add(1, 2), 3);
    assert!(matches!(
        rollback_var("t_add"),
        Err(HotError::NoHistory { .. })
    ));
    assert!(matches!(
        rollback_patch(second),
        Err(HotError::UnknownPatch { .. }) | Ok(0)
    ));
    assert!(matches!(
        rollback_patch(9_999),
        Err(HotError::UnknownPatch { .. })
    ));
}

#[test]
fn a_patch_reads_and_writes_host_state_and_calls_the_host() {
    let _g = setup();
    t_host_counter.store(5, Ordering::SeqCst);
    // (run_once also writes t_host_counter; both tests hold the same lock.)
    load("host_state", "t_state t_state__hw5 ii").unwrap();
    // counter 5 → +1000 by the patch → +7 by t_host_bump (returns 1012) → + counter 1012.
    assert_eq!(t_state(7), 2024);
    assert_eq!(
        t_host_counter.load(Ordering::SeqCst),
        1012,
        "the host sees the patch's writes"
    );
}

#[test]
fn two_hundred_patches_in_a_row_the_last_one_wins() {
    let _g = setup();
    for generation in 1..=200 {
        let n = generation.to_string();
        let lib = util::build("counter_generation", &[("GEN", &n)]);
        apply_file(&util::unique_copy(&lib), &format!("t_gen t_gen__hw{n} i")).unwrap();
    }
    assert_eq!(t_gen(), 200);
}

#[test]
fn loading_a_second_patch_from_the_same_path_is_refused() {
    let _g = setup();
    let path = util::unique_copy(&util::build("add_plus_100", &[]));
    apply_file(&path, "t_add t_add__hw1 iii").unwrap();
    // A new file at the same path (a new inode: the loaded one stays mapped).
    std::fs::remove_file(&path).unwrap();
    std::fs::copy(util::build("add_times_2", &[]), &path).unwrap();
    let err = apply_file(&path, "t_add t_add__hw2 iii").unwrap_err();
    assert!(matches!(err, HotError::PathReused { .. }), "{err:?}");
    assert!(err.to_string().contains("path of its own"), "{err}");
    assert_eq!(t_add(1, 2), 103, "the first patch keeps running");
}

#[test]
fn a_patch_runs_its_hotwasm_main_once_on_request() {
    let _g = setup();
    let patch = load("run_once", "t_run t_run__hw8 i").unwrap();
    run_once(patch, "hotwasm_main").unwrap();
    assert_eq!(t_host_counter.load(Ordering::SeqCst), 4242);
    let err = run_once(patch, "no_such_fn").unwrap_err();
    assert!(matches!(err, HotError::Symbol { .. }), "{err:?}");
    assert!(matches!(
        run_once(9_999, "hotwasm_main"),
        Err(HotError::UnknownPatch { .. })
    ));
}

extern "C" fn scale_by_3(x: i32) -> i32 {
    x * 3
}

#[test]
fn a_patch_constructor_takes_slots_during_dlopen_and_its_calls_follow_later_definitions() {
    let _g = setup();
    // slot_caller.c asks for `host_scale` (unknown here: pending), for it again with another
    // signature (refused) and for `not_defined_yet` (pending) from a constructor, which runs
    // inside dlopen, before the patch's functions are swapped in.
    load(
        "slot_caller",
        "scale_plus_one scale_plus_one__hw2 ii\nslot_checks slot_checks__hw2 i",
    )
    .unwrap();
    let call = |name: &str, x: i32| {
        let addr = lookup(name).unwrap();
        // SAFETY: both vars were applied with signature `ii` from slot_caller.c.
        let f: extern "C" fn(i32) -> i32 = unsafe { std::mem::transmute(addr) };
        f(x)
    };
    let checks = lookup("slot_checks").unwrap();
    // SAFETY: slot_checks is `int32_t slot_checks(void)`.
    let checks: extern "C" fn() -> i32 = unsafe { std::mem::transmute(checks) };
    assert_eq!(checks(), 7);
    let scale: extern "C" fn(i32) -> i32 = scale_by_3;
    // SAFETY: scale_by_3 is an extern "C" fn(i32) -> i32, the signature the patch asked for.
    unsafe { hotwasm_runtime::define("host_scale", "ii", scale as usize) }.unwrap();
    assert_eq!(
        call("scale_plus_one", 5),
        16,
        "the patch calls the var defined after it"
    );
}
