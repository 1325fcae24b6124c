//! Vars register themselves and share one slot mechanism: `hot_fn!` slots exist before
//! `main`, host-owned C slots and patch trampolines' slots (`hotwasm_slot`) are the same cells,
//! unknown names become pending vars, and signatures are checked naming both. Also: `bool`,
//! `#[repr]` enums and `unsafe fn` in `hot_fn!`.
#![cfg(feature = "hot-reload")]

use hotwasm_runtime::{abi_enum, bindings as c, hot_fn, list, lookup, rollback_var, HotError};
use std::ffi::{c_void, CStr, CString};
use std::sync::atomic::Ordering;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Weather {
    Calm = 0,
    Storm = 1,
}
abi_enum!(Weather);

hot_fn! {
    /// Never registered by hand: its constructor did it before `main`.
    fn r_answer() -> i32 { 42 }

    /// An enum parameter and a bool result.
    fn r_is_stormy(w: Weather, strength: u8) -> bool { w == Weather::Storm && strength > 3 }

    /// Reads through a pointer its callers vouch for.
    unsafe fn r_read(p: *const i32) -> i32 {
        // SAFETY: the caller passes a valid pointer (this fn's contract).
        unsafe { *p }
    }
}

extern "C" fn forty_three() -> i32 {
    43
}

extern "C" fn times_ten(x: i32) -> i32 {
    x * 10
}

extern "C" fn plus_one(x: i32) -> i32 {
    x + 1
}

fn addr_of_plus_one() -> usize {
    let f: extern "C" fn(i32) -> i32 = plus_one;
    f as usize
}

fn addr_of_forty_three() -> usize {
    let f: extern "C" fn() -> i32 = forty_three;
    f as usize
}

fn addr_of_times_ten() -> usize {
    let f: extern "C" fn(i32) -> i32 = times_ten;
    f as usize
}

fn last_error() -> String {
    // SAFETY: hotwasm_last_error returns a NUL-terminated string valid until the next call.
    unsafe { CStr::from_ptr(c::hotwasm_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

#[test]
fn hot_fn_vars_exist_before_main_with_letters_from_their_types() {
    let vars = list();
    let find = |n: &str| {
        vars.iter()
            .find(|v| v.name == n)
            .map(|v| v.signature.clone())
    };
    assert_eq!(find("r_answer").as_deref(), Some("i"));
    assert_eq!(find("r_is_stormy").as_deref(), Some("iii"));
    assert_eq!(find("r_read").as_deref(), Some("ip"));
    assert!(r_is_stormy(Weather::Storm, 5));
    assert!(!r_is_stormy(Weather::Calm, 5));
    // SAFETY: a pointer to a live i32.
    assert_eq!(unsafe { r_read(&7) }, 7);
}

#[test]
fn a_patch_slot_is_the_host_slot_so_a_redefinition_reaches_both() {
    let slot = hotwasm_runtime::slot("r_answer", "i").unwrap();
    // SAFETY: forty_three is an extern "C" fn() -> i32, the var's signature.
    unsafe { hotwasm_runtime::define("r_answer", "i", addr_of_forty_three()) }.unwrap();
    assert_eq!(r_answer(), 43);
    assert_eq!(slot.load(Ordering::Acquire) as usize, addr_of_forty_three());
    rollback_var("r_answer").unwrap();
    assert_eq!(r_answer(), 42);
    assert_eq!(
        slot.load(Ordering::Acquire) as usize,
        lookup("r_answer").unwrap()
    );
}

#[test]
fn an_unknown_name_becomes_a_pending_var_that_a_definition_fills() {
    let name = cstr("r_pending");
    let sig = cstr("ii");
    // SAFETY: valid NUL-terminated strings.
    let slot = unsafe { c::hotwasm_slot(name.as_ptr(), sig.as_ptr()) };
    assert!(!slot.is_null(), "{}", last_error());
    // SAFETY: hotwasm_slot returns a cell valid for the program's life.
    assert!(unsafe { *slot }.is_null(), "pending: no implementation yet");
    assert_eq!(lookup("r_pending"), None);
    assert!(
        list().iter().all(|v| v.name != "r_pending"),
        "pending vars are not listed"
    );
    // Asked again, the same cell.
    // SAFETY: valid NUL-terminated strings.
    let again = unsafe { c::hotwasm_slot(name.as_ptr(), sig.as_ptr()) };
    assert_eq!(again, slot);
    // SAFETY: times_ten is an extern "C" fn(i32) -> i32.
    unsafe { hotwasm_runtime::define("r_pending", "ii", addr_of_times_ten()) }.unwrap();
    // SAFETY: the slot now holds times_ten, an extern "C" fn(i32) -> i32.
    let f: extern "C" fn(i32) -> i32 = unsafe { std::mem::transmute(*slot) };
    assert_eq!(f(4), 40);
}

#[test]
fn a_slot_asked_with_another_signature_is_refused_naming_both() {
    let name = cstr("r_answer");
    let sig = cstr("dd");
    // SAFETY: valid NUL-terminated strings.
    let slot = unsafe { c::hotwasm_slot(name.as_ptr(), sig.as_ptr()) };
    assert!(slot.is_null());
    let err = last_error();
    assert!(err.contains("`i`") && err.contains("`dd`"), "{err}");
    assert!(matches!(
        hotwasm_runtime::slot("r_answer", "dd"),
        Err(HotError::SignatureMismatch { .. })
    ));
}

static mut C_SLOT: *mut c_void = std::ptr::null_mut();
static mut C_SLOT_TWIN: *mut c_void = std::ptr::null_mut();

#[test]
fn a_host_owned_c_slot_registers_once_and_a_second_owner_is_refused() {
    let name = cstr("r_c_var");
    let sig = cstr("ii");
    // SAFETY: single test touching C_SLOT; it holds an extern "C" fn(i32) -> i32 for the rest
    // of the program, as hotwasm_register_slot requires.
    unsafe {
        C_SLOT = addr_of_times_ten() as *mut c_void;
        let slot = &raw mut C_SLOT;
        assert_eq!(
            c::hotwasm_register_slot(name.as_ptr(), sig.as_ptr(), slot),
            0
        );
        assert_eq!(
            c::hotwasm_register_slot(name.as_ptr(), sig.as_ptr(), slot),
            0,
            "again: nothing"
        );
        assert_eq!(c::hotwasm_slot(name.as_ptr(), sig.as_ptr()), slot);
        C_SLOT_TWIN = addr_of_times_ten() as *mut c_void;
        let status = c::hotwasm_register_slot(name.as_ptr(), sig.as_ptr(), &raw mut C_SLOT_TWIN);
        assert_eq!(status, c::hotwasm_status_HOTWASM_ERR_DUPLICATE_VAR);
        assert!(
            last_error().contains("two hot functions"),
            "{}",
            last_error()
        );
        // A new version is written into the host's own cell.
        hotwasm_runtime::define("r_c_var", "ii", addr_of_plus_one()).unwrap();
        assert_eq!(C_SLOT as usize, addr_of_plus_one());
    }
    rollback_var("r_c_var").unwrap();
    assert_eq!(lookup("r_c_var"), Some(addr_of_times_ten()));
    // SAFETY: read after the registry's last write, on this thread.
    assert_eq!(unsafe { C_SLOT } as usize, addr_of_times_ten());
}

#[test]
fn a_host_slot_registered_after_a_patch_asked_for_it_fills_the_pending_var() {
    let pending = hotwasm_runtime::slot("r_late_host", "ii").unwrap();
    static mut LATE: *mut c_void = std::ptr::null_mut();
    let name = cstr("r_late_host");
    let sig = cstr("ii");
    // SAFETY: LATE holds an extern "C" fn(i32) -> i32 from now on.
    unsafe {
        LATE = addr_of_times_ten() as *mut c_void;
        assert_eq!(
            c::hotwasm_register_slot(name.as_ptr(), sig.as_ptr(), &raw mut LATE),
            0,
            "{}",
            last_error()
        );
    }
    assert_eq!(
        pending.load(Ordering::Acquire) as usize,
        addr_of_times_ten()
    );
    assert_eq!(lookup("r_late_host"), Some(addr_of_times_ten()));
}

#[test]
fn bad_registrations_are_refused_with_the_fix() {
    let sig = cstr("ii");
    // SAFETY: valid strings; NULL slots are refused before use.
    unsafe {
        let status =
            c::hotwasm_register_slot(cstr("r_null").as_ptr(), sig.as_ptr(), std::ptr::null_mut());
        assert_eq!(status, c::hotwasm_status_HOTWASM_ERR_INVALID_ARGUMENT);
        static mut EMPTY: *mut c_void = std::ptr::null_mut();
        let status =
            c::hotwasm_register_slot(cstr("r_empty").as_ptr(), sig.as_ptr(), &raw mut EMPTY);
        assert_eq!(status, c::hotwasm_status_HOTWASM_ERR_INVALID_ARGUMENT);
        assert!(
            last_error().contains("default implementation"),
            "{}",
            last_error()
        );
        assert!(c::hotwasm_slot(cstr("not a name").as_ptr(), sig.as_ptr()).is_null());
        assert!(c::hotwasm_slot(cstr("r_x").as_ptr(), cstr("iv").as_ptr()).is_null());
    }
}
