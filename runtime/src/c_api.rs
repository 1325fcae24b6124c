//! The C ABI of `abi/include/hotwasm.h`, for the JS client, patches and C/C++ hosts.
//! Every function returns a status and leaves its message for `hotwasm_last_error`.

use crate::error::HotError;
use crate::global;
use crate::value;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::AtomicPtr;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    static LIST_JSON: RefCell<CString> = RefCell::new(CString::default());
}

fn to_cstring(s: String) -> CString {
    CString::new(s.replace('\0', "\\0")).expect("NUL bytes were replaced")
}

pub(crate) fn fail(e: HotError) -> i32 {
    let status = e.status();
    LAST_ERROR.with(|cell| *cell.borrow_mut() = to_cstring(e.to_string()));
    status
}

fn ok() {
    LAST_ERROR.with(|cell| *cell.borrow_mut() = CString::default());
}

/// # Safety
/// `ptr` must be null or point to a NUL-terminated string valid for the call.
unsafe fn arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, HotError> {
    if ptr.is_null() {
        return Err(HotError::InvalidArgument(format!("{what} is NULL")));
    }
    // SAFETY: non-null and NUL-terminated per this function's contract.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| HotError::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// # Safety
/// As for [`arg`], for both strings.
unsafe fn names<'a>(
    name: *const c_char,
    signature: *const c_char,
) -> Result<(&'a str, &'a str), HotError> {
    // SAFETY: forwarded from this function's contract.
    unsafe { Ok((arg(name, "name")?, arg(signature, "signature")?)) }
}

fn status_of<T>(result: Result<T, HotError>, value: impl FnOnce(T) -> i32) -> i32 {
    match result {
        Ok(v) => {
            ok();
            value(v)
        }
        Err(e) => fail(e),
    }
}

/// The ABI version (`HOTWASM_ABI_VERSION`).
#[no_mangle]
pub extern "C" fn hotwasm_abi_version() -> i32 {
    hotwasm_abi::ABI_VERSION as i32
}

/// See `hotwasm.h`.
///
/// # Safety
/// `name` and `signature` must be NUL-terminated strings; `f` must be a function of that
/// signature that stays loaded for the rest of the program.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_define(
    name: *const c_char,
    signature: *const c_char,
    f: *mut c_void,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    let result = unsafe { names(name, signature) }.and_then(|(n, s)| {
        if f.is_null() {
            return Err(HotError::InvalidArgument(format!(
                "the function given for `{n}` is NULL"
            )));
        }
        // SAFETY: `f` is a function of signature `s` that stays loaded (this fn's contract).
        unsafe { global::define(n, s, f as usize) }
    });
    status_of(result, |()| 0)
}

/// See `hotwasm.h`.
///
/// # Safety
/// `name` and `signature` must be NUL-terminated strings; `slot` must be NULL or point to a
/// pointer-aligned cell that lives for the rest of the program and holds a function of that
/// signature (the host's default implementation). The runtime writes other functions of that
/// signature into it; the host reads it on every call (single-threaded, or atomically).
#[no_mangle]
pub unsafe extern "C" fn hotwasm_register_slot(
    name: *const c_char,
    signature: *const c_char,
    slot: *mut *mut c_void,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    let result = unsafe { names(name, signature) }.and_then(|(n, s)| {
        if slot.is_null() {
            return Err(HotError::InvalidArgument(format!(
                "the slot given for `{n}` is NULL"
            )));
        }
        // SAFETY: non-null, aligned and valid for the program's life per this function's
        // contract; an `AtomicPtr<()>` has the layout of `*mut c_void`.
        let cell = unsafe { AtomicPtr::from_ptr(slot.cast::<*mut ()>()) };
        // SAFETY: the cell holds a function of signature `s`, per this function's contract.
        unsafe { global::register_slot(n, s, cell) }
    });
    status_of(result, |()| 0)
}

/// See `hotwasm.h`.
///
/// # Safety
/// Each array has `count` elements and lives as long as the program; the names are sorted
/// NUL-terminated strings, the signatures NUL-terminated letters, and each slot 0 or the address
/// of a function of its signature.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_register_directory(
    names: *const *const c_char,
    signatures: *const *const c_char,
    slots: *mut *mut c_void,
    count: u32,
) -> i32 {
    if count > 0 && (names.is_null() || signatures.is_null() || slots.is_null()) {
        return fail(HotError::InvalidArgument(
            "the all-hot directory has a NULL array".into(),
        ));
    }
    // SAFETY: forwarded from this function's contract.
    let directory =
        unsafe { crate::directory::Directory::new(names, signatures, slots, count as usize) };
    global::set_directory(directory);
    ok();
    0
}

/// See `hotwasm.h`.
///
/// # Safety
/// `name` and `signature` must be NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_slot(
    name: *const c_char,
    signature: *const c_char,
) -> *mut *mut c_void {
    // SAFETY: forwarded from this function's contract.
    let result = unsafe { names(name, signature) }.and_then(|(n, s)| global::slot(n, s));
    match result {
        Ok(cell) => {
            ok();
            cell.as_ptr().cast::<*mut c_void>()
        }
        Err(e) => {
            fail(e);
            std::ptr::null_mut()
        }
    }
}

/// See `hotwasm.h`.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_unbound(name: *const c_char) -> ! {
    // SAFETY: forwarded from this function's contract.
    let name = unsafe { arg(name, "name") }.unwrap_or("(unnamed)");
    let e = HotError::Unbound {
        name: name.to_string(),
    };
    eprintln!("hotwasm: {e}");
    fail(e);
    std::process::abort()
}

/// See `hotwasm.h`.
///
/// # Safety
/// `name` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_lookup(name: *const c_char) -> *mut c_void {
    // SAFETY: forwarded from this function's contract.
    match unsafe { arg(name, "name") } {
        Ok(n) => global::lookup(n).map_or(std::ptr::null_mut(), |a| a as *mut c_void),
        Err(_) => std::ptr::null_mut(),
    }
}

/// See `hotwasm.h`.
///
/// # Safety
/// `path` and `manifest` must be NUL-terminated strings; the module at `path` must be a patch
/// built for this host (its constructors run).
#[no_mangle]
pub unsafe extern "C" fn hotwasm_apply(path: *const c_char, manifest: *const c_char) -> i32 {
    // SAFETY: forwarded from this function's contract.
    let result = unsafe { arg(path, "path").and_then(|p| Ok((p, arg(manifest, "manifest")?))) }
        // SAFETY: the module is a patch built for this host (this function's contract).
        .and_then(|(p, m)| unsafe { crate::loader::apply(p, m) });
    status_of(result, |id| id as i32)
}

/// See `hotwasm.h`.
///
/// # Safety
/// `symbol` must be a NUL-terminated string naming a `void(void)` function of the patch.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_run(patch_id: i32, symbol: *const c_char) -> i32 {
    // SAFETY: forwarded from this function's contract.
    let result = unsafe { arg(symbol, "symbol") }.and_then(|s| {
        let patch = u32::try_from(patch_id).map_err(|_| HotError::UnknownPatch {
            patch: patch_id.into(),
        })?;
        // SAFETY: the symbol names a `void(void)` function of the patch (this fn's contract).
        unsafe { crate::loader::run(patch, s) }
    });
    status_of(result, |()| 0)
}

/// See `hotwasm.h`.
///
/// # Safety
/// `name` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_rollback_var(name: *const c_char) -> i32 {
    // SAFETY: forwarded from this function's contract.
    let result = unsafe { arg(name, "name") }.and_then(global::rollback_var);
    status_of(result, |()| 0)
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_rollback_patch(patch_id: i32) -> i32 {
    let result = u32::try_from(patch_id)
        .map_err(|_| HotError::UnknownPatch {
            patch: patch_id.into(),
        })
        .and_then(global::rollback_patch);
    status_of(result, |n| n as i32)
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_list_json() -> *const c_char {
    let json = global::list_json();
    LIST_JSON.with(|cell| {
        *cell.borrow_mut() = to_cstring(json);
        cell.borrow().as_ptr()
    })
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_last_error() -> *const c_char {
    LAST_ERROR.with(|cell| cell.borrow().as_ptr())
}

/// Each export has exactly the type bindgen generated from `hotwasm.h`: a drift in the header
/// or here fails the build.
const _: () = {
    use crate::bindings as h;
    let _: [unsafe extern "C" fn() -> i32; 2] = [h::hotwasm_abi_version, hotwasm_abi_version];
    let _: [unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void) -> i32; 2] =
        [h::hotwasm_define, hotwasm_define];
    let _: [unsafe extern "C" fn(*const c_char, *const c_char, *mut *mut c_void) -> i32; 2] =
        [h::hotwasm_register_slot, hotwasm_register_slot];
    let _: [unsafe extern "C" fn(
        *const *const c_char,
        *const *const c_char,
        *mut *mut c_void,
        u32,
    ) -> i32; 2] = [h::hotwasm_register_directory, hotwasm_register_directory];
    let _: [unsafe extern "C" fn(*const c_char, *const c_char) -> *mut *mut c_void; 2] =
        [h::hotwasm_slot, hotwasm_slot];
    let _: [unsafe extern "C" fn(*const c_char) -> !; 2] = [h::hotwasm_unbound, hotwasm_unbound];
    let _: [unsafe extern "C" fn(*const c_char) -> *mut c_void; 2] =
        [h::hotwasm_lookup, hotwasm_lookup];
    let _: [unsafe extern "C" fn(*const c_char, *const c_char) -> i32; 2] =
        [h::hotwasm_apply, hotwasm_apply];
    let _: [unsafe extern "C" fn(*const c_char) -> i32; 2] =
        [h::hotwasm_rollback_var, hotwasm_rollback_var];
    let _: [unsafe extern "C" fn(i32) -> i32; 2] =
        [h::hotwasm_rollback_patch, hotwasm_rollback_patch];
    let _: [unsafe extern "C" fn() -> *const c_char; 2] = [h::hotwasm_list_json, hotwasm_list_json];
    let _: [unsafe extern "C" fn() -> *const c_char; 2] =
        [h::hotwasm_last_error, hotwasm_last_error];
};

// ---- State carried into a rebuilt host (`carry.rs`) -----------------------------------------

/// See `hotwasm.h`.
///
/// # Safety
/// `save` and `restore` must be functions that stay loaded for the program's life; `restore`
/// must only read the `len` bytes it is given.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_state_hooks(
    save: crate::bindings::hotwasm_save_hook,
    restore: crate::bindings::hotwasm_restore_hook,
) -> i32 {
    // SAFETY: forwarded from this function's contract.
    status_of(unsafe { crate::carry::set_hooks(save, restore) }, |()| 0)
}

/// See `hotwasm.h`.
///
/// # Safety
/// `bytes` must point to `len` readable bytes (or be NULL with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn hotwasm_state_put(bytes: *const c_void, len: u32) -> i32 {
    if bytes.is_null() && len != 0 {
        return fail(HotError::InvalidArgument(format!(
            "hotwasm_state_put: NULL bytes with length {len}"
        )));
    }
    let slice = if len == 0 {
        &[][..]
    } else {
        // SAFETY: non-null and `len` readable bytes per this function's contract.
        unsafe { std::slice::from_raw_parts(bytes.cast::<u8>(), len as usize) }
    };
    crate::carry::put(slice);
    ok();
    0
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_state_has_hooks() -> i32 {
    i32::from(crate::carry::has_hooks())
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_state_save() -> i32 {
    let result = crate::carry::save().and_then(|n| {
        i32::try_from(n)
            .map_err(|_| HotError::InvalidArgument(format!("saved state of {n} bytes: over 2 GiB")))
    });
    status_of(result, |n| n)
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_state_data() -> *const u8 {
    crate::carry::data_ptr()
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_state_reserve(len: u32) -> *mut u8 {
    crate::carry::reserve(len as usize)
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_state_restore(len: u32) -> i32 {
    status_of(crate::carry::restore(len as usize), |()| 0)
}

/// Each export has exactly the type bindgen generated from `hotwasm.h`: a drift in the header
/// or here fails the build.
const _: () = {
    use crate::bindings as h;
    let _: [unsafe extern "C" fn(h::hotwasm_save_hook, h::hotwasm_restore_hook) -> i32; 2] =
        [h::hotwasm_state_hooks, hotwasm_state_hooks];
    let _: [unsafe extern "C" fn(*const c_void, u32) -> i32; 2] =
        [h::hotwasm_state_put, hotwasm_state_put];
    let _: [unsafe extern "C" fn() -> i32; 3] = [
        h::hotwasm_state_has_hooks,
        hotwasm_state_has_hooks,
        hotwasm_state_save,
    ];
    let _: [unsafe extern "C" fn() -> i32; 1] = [h::hotwasm_state_save];
    let _: [unsafe extern "C" fn() -> *const u8; 2] = [h::hotwasm_state_data, hotwasm_state_data];
    let _: [unsafe extern "C" fn(u32) -> *mut u8; 2] =
        [h::hotwasm_state_reserve, hotwasm_state_reserve];
    let _: [unsafe extern "C" fn(u32) -> i32; 2] =
        [h::hotwasm_state_restore, hotwasm_state_restore];
};

// ---- Values of eval expressions (see `value.rs`).

thread_local! {
    static TAKEN_VALUE: RefCell<CString> = RefCell::new(CString::default());
}

/// # Safety
/// `ty` must be null or a NUL-terminated string valid for the call.
unsafe fn type_name(ty: *const c_char) -> String {
    if ty.is_null() {
        return "?".into();
    }
    // SAFETY: non-null and NUL-terminated per this function's contract.
    unsafe { CStr::from_ptr(ty) }.to_string_lossy().into_owned()
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_i64(ty: *const c_char, value: i64) {
    // SAFETY: forwarded from this function's contract.
    value::record(&unsafe { type_name(ty) }, value.to_string());
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_u64(ty: *const c_char, value: u64) {
    // SAFETY: forwarded from this function's contract.
    value::record(&unsafe { type_name(ty) }, value.to_string());
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_f64(ty: *const c_char, value: f64) {
    // SAFETY: forwarded from this function's contract.
    value::record(&unsafe { type_name(ty) }, value::f64_text(value));
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_f32(ty: *const c_char, value: f32) {
    // SAFETY: forwarded from this function's contract.
    value::record(&unsafe { type_name(ty) }, value::f32_text(value));
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_bool(ty: *const c_char, value: i32) {
    // SAFETY: forwarded from this function's contract.
    value::record(&unsafe { type_name(ty) }, (value != 0).to_string());
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_char(ty: *const c_char, value: i32) {
    // SAFETY: forwarded from this function's contract.
    value::record(&unsafe { type_name(ty) }, value::char_text(value));
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string; `value` is only printed, never read.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_ptr(ty: *const c_char, value: *const c_void) {
    // SAFETY: forwarded from this function's contract.
    value::record(&unsafe { type_name(ty) }, value::ptr_text(value as usize));
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string; `value` null or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_str(ty: *const c_char, value: *const c_char) {
    let text = if value.is_null() {
        "NULL".to_string()
    } else {
        // SAFETY: non-null and NUL-terminated per this function's contract; reading stops at
        // the NUL or after MAX_SHOWN bytes, whichever comes first.
        let bytes = unsafe { bounded_c_str(value.cast(), value::MAX_SHOWN) };
        value::str_text(bytes, bytes.len() == value::MAX_SHOWN)
    };
    // SAFETY: forwarded from this function's contract.
    value::record(&unsafe { type_name(ty) }, text);
}

/// The bytes of the NUL-terminated string at `p`, at most `max` of them.
///
/// # Safety
/// `p` must point to a NUL-terminated string, or to at least `max` readable bytes.
unsafe fn bounded_c_str<'a>(p: *const u8, max: usize) -> &'a [u8] {
    let mut n = 0;
    // SAFETY: each byte read lies before the NUL or within `max` (the contract).
    while n < max && unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    // SAFETY: the `n` bytes just read are readable.
    unsafe { std::slice::from_raw_parts(p, n) }
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string; `value` must point to `size` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_bytes(ty: *const c_char, value: *const c_void, size: usize) {
    let bytes: &[u8] = if value.is_null() || size == 0 {
        &[]
    } else {
        // SAFETY: `size` readable bytes at `value` (the contract).
        unsafe { std::slice::from_raw_parts(value.cast(), size) }
    };
    // SAFETY: forwarded from this function's contract.
    let ty = format!("{} ({size} bytes)", unsafe { type_name(ty) });
    value::record(&ty, value::bytes_text(bytes));
}

/// See `hotwasm.h`.
///
/// # Safety
/// `ty` must be null or a NUL-terminated string; `text` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_value_text(ty: *const c_char, text: *const c_char, len: usize) {
    let bytes: &[u8] = if text.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: `len` readable bytes at `text` (the contract).
        unsafe { std::slice::from_raw_parts(text.cast(), len) }
    };
    // SAFETY: forwarded from this function's contract.
    value::record(
        &unsafe { type_name(ty) },
        String::from_utf8_lossy(bytes).into_owned(),
    );
}

/// See `hotwasm.h`.
#[no_mangle]
pub extern "C" fn hotwasm_take_value() -> *const c_char {
    match value::take_json() {
        None => std::ptr::null(),
        Some(json) => TAKEN_VALUE.with(|cell| {
            *cell.borrow_mut() = to_cstring(json);
            cell.borrow().as_ptr()
        }),
    }
}

const _: () = {
    use crate::bindings as h;
    let _: [unsafe extern "C" fn(*const c_char, i64); 2] =
        [h::hotwasm_value_i64, hotwasm_value_i64];
    let _: [unsafe extern "C" fn(*const c_char, u64); 2] =
        [h::hotwasm_value_u64, hotwasm_value_u64];
    let _: [unsafe extern "C" fn(*const c_char, f64); 2] =
        [h::hotwasm_value_f64, hotwasm_value_f64];
    let _: [unsafe extern "C" fn(*const c_char, f32); 2] =
        [h::hotwasm_value_f32, hotwasm_value_f32];
    let _: [unsafe extern "C" fn(*const c_char, i32); 2] =
        [h::hotwasm_value_bool, hotwasm_value_bool];
    let _: [unsafe extern "C" fn(*const c_char, i32); 2] =
        [h::hotwasm_value_char, hotwasm_value_char];
    let _: [unsafe extern "C" fn(*const c_char, *const c_void); 2] =
        [h::hotwasm_value_ptr, hotwasm_value_ptr];
    let _: [unsafe extern "C" fn(*const c_char, *const c_char); 2] =
        [h::hotwasm_value_str, hotwasm_value_str];
    let _: [unsafe extern "C" fn(*const c_char, *const c_void, usize); 2] =
        [h::hotwasm_value_bytes, hotwasm_value_bytes];
    let _: [unsafe extern "C" fn(*const c_char, *const c_char, usize); 2] =
        [h::hotwasm_value_text, hotwasm_value_text];
    let _: [unsafe extern "C" fn() -> *const c_char; 2] =
        [h::hotwasm_take_value, hotwasm_take_value];
};
