//! The raw C interface of cxx/session.cpp, and safe wrappers over it. Only this module is
//! unsafe; buffers the C++ side hands out are copied and freed here.

use std::ffi::{c_char, c_int, c_uint, c_void, CString};

#[repr(C)]
struct Buf {
    data: *mut c_char,
    len: usize,
}

impl Buf {
    fn empty() -> Buf {
        Buf {
            data: std::ptr::null_mut(),
            len: 0,
        }
    }

    /// Copies the bytes out and frees the buffer.
    fn take(mut self) -> Vec<u8> {
        let bytes = if self.data.is_null() {
            Vec::new()
        } else {
            // SAFETY: the C++ side filled `data` with `len` initialised bytes from malloc.
            unsafe { std::slice::from_raw_parts(self.data as *const u8, self.len) }.to_vec()
        };
        // SAFETY: `self` came from the C++ side (or is null/empty, which hw_buf_free accepts).
        unsafe { hw_buf_free(&mut self) };
        bytes
    }
}

extern "C" {
    fn hw_buf_free(b: *mut Buf);
    fn hw_session_protocol() -> c_uint;
    fn hw_session_new(argc: c_int, argv: *const *const c_char, err: *mut Buf) -> *mut c_void;
    fn hw_session_free(s: *mut c_void);
    fn hw_session_eval(
        s: *mut c_void,
        text: *const c_char,
        len: usize,
        report: *mut Buf,
        object: *mut Buf,
    ) -> c_int;
    fn hw_session_undo(s: *mut c_void, n: c_uint) -> c_uint;
    fn hw_wasm_ld(argc: c_int, argv: *const *const c_char, messages: *mut Buf) -> c_int;
    fn hw_llvm_mc(argc: c_int, argv: *const *const c_char, messages: *mut Buf) -> c_int;
}

/// The protocol version the C++ half was built for.
pub fn protocol_version() -> u32 {
    // SAFETY: a function of no arguments returning a constant.
    unsafe { hw_session_protocol() }
}

/// C strings for `args` and the pointer array over them (kept alive together).
fn c_args(args: &[String]) -> Result<(Vec<CString>, Vec<*const c_char>), String> {
    let owned = args
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| format!("argument {a:?} holds a NUL byte")))
        .collect::<Result<Vec<_>, _>>()?;
    let ptrs = owned.iter().map(|c| c.as_ptr()).collect();
    Ok((owned, ptrs))
}

/// One clang CompilerInstance in incremental mode.
pub struct Session(*mut c_void);

impl Session {
    /// Starts clang with these cc1 arguments.
    pub fn new(args: &[String]) -> Result<Session, String> {
        let (_owned, ptrs) = c_args(args)?;
        let mut err = Buf::empty();
        // SAFETY: `ptrs` holds `args.len()` valid NUL-terminated strings that `_owned` keeps
        // alive for the call; `err` is a valid out-buffer.
        let s = unsafe { hw_session_new(ptrs.len() as c_int, ptrs.as_ptr(), &mut err) };
        let message = String::from_utf8_lossy(&err.take()).into_owned();
        if s.is_null() {
            Err(message)
        } else {
            Ok(Session(s))
        }
    }

    /// Compiles one input: (JSON report, wasm32 object).
    pub fn eval(&mut self, text: &str) -> (Vec<u8>, Vec<u8>) {
        let (mut report, mut object) = (Buf::empty(), Buf::empty());
        // SAFETY: `self.0` is a live session; `text` is valid for `text.len()` bytes (the C++
        // side copies it); both out-buffers are valid.
        unsafe {
            hw_session_eval(
                self.0,
                text.as_ptr() as *const c_char,
                text.len(),
                &mut report,
                &mut object,
            )
        };
        (report.take(), object.take())
    }

    /// Forgets the last `n` inputs; returns how many were forgotten.
    pub fn undo(&mut self, n: u32) -> u32 {
        // SAFETY: `self.0` is a live session.
        unsafe { hw_session_undo(self.0, n) }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from hw_session_new and is freed once, here.
        unsafe { hw_session_free(self.0) }
    }
}

/// Runs lld's wasm linker in this process: (success, messages).
pub fn wasm_ld(args: &[String]) -> (bool, String) {
    let (_owned, ptrs) = match c_args(args) {
        Ok(a) => a,
        Err(e) => return (false, e),
    };
    let mut messages = Buf::empty();
    // SAFETY: as in `Session::new`: valid strings kept alive by `_owned`, a valid out-buffer.
    let ok = unsafe { hw_wasm_ld(ptrs.len() as c_int, ptrs.as_ptr(), &mut messages) };
    (
        ok == 1,
        String::from_utf8_lossy(&messages.take()).into_owned(),
    )
}

/// Runs llvm-mc's object assembly in this process (the trampolines' command line): (success,
/// messages).
pub fn llvm_mc(args: &[String]) -> (bool, String) {
    let (_owned, ptrs) = match c_args(args) {
        Ok(a) => a,
        Err(e) => return (false, e),
    };
    let mut messages = Buf::empty();
    // SAFETY: as in `wasm_ld`: valid strings kept alive by `_owned`, a valid out-buffer.
    let ok = unsafe { hw_llvm_mc(ptrs.len() as c_int, ptrs.as_ptr(), &mut messages) };
    (
        ok == 1,
        String::from_utf8_lossy(&messages.take()).into_owned(),
    )
}
