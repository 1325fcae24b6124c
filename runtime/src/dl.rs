//! Raw `dlopen`/`dlsym`, and the one helper that turns `dlerror()` into a value.
//!
//! `libloading` does not support Emscripten, so this calls libc directly. Handles are never
//! closed: Emscripten's `dlclose` frees nothing, and code a slot may still point at must stay.

use std::ffi::{c_void, CStr, CString};

/// A loaded patch. Deliberately has no `Drop`: patch code lives for the rest of the program.
pub(crate) struct Library {
    handle: *mut c_void,
}

// SAFETY: a dl handle is an opaque token the C library accepts from any thread; this type only
// passes it to dlsym, which is thread-safe.
unsafe impl Send for Library {}

/// What `dlerror()` says now: `Some(text)` verbatim, `None` when it says nothing.
fn take_dlerror() -> Option<String> {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by the C library that stays
    // valid until the next dl* call on this thread; it is copied out before any such call.
    unsafe {
        let msg = libc::dlerror();
        (!msg.is_null()).then(|| CStr::from_ptr(msg).to_string_lossy().into_owned())
    }
}

fn c_string(s: &str) -> Result<CString, Option<String>> {
    CString::new(s).map_err(|_| Some(format!("`{}` contains a NUL byte", s.escape_debug())))
}

/// Opens `path` with `RTLD_NOW | RTLD_LOCAL`: the patch's symbols are resolved now and do not
/// become global, so a later patch can never bind to them by name.
pub(crate) fn open(path: &str) -> Result<Library, Option<String>> {
    let c_path = c_string(path)?;
    take_dlerror();
    // SAFETY: c_path is a valid NUL-terminated string for the duration of the call. Loading a
    // library runs its constructors; patches are built by the hotwasm server for this host.
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        Err(take_dlerror())
    } else {
        Ok(Library { handle })
    }
}

impl Library {
    /// The address of `name` in this library only.
    pub(crate) fn symbol(&self, name: &str) -> Result<usize, Option<String>> {
        let c_name = c_string(name)?;
        take_dlerror();
        // SAFETY: handle came from a successful dlopen and is never closed; c_name is valid.
        let addr = unsafe { libc::dlsym(self.handle, c_name.as_ptr()) };
        if addr.is_null() {
            Err(take_dlerror())
        } else {
            Ok(addr as usize)
        }
    }
}

/// Whether the running program (host and global libraries) defines `name`. Patches, loaded
/// `RTLD_LOCAL`, are not searched.
#[cfg_attr(not(target_os = "emscripten"), allow(dead_code))]
pub(crate) fn global_symbol_exists(name: &str) -> bool {
    let Ok(c_name) = c_string(name) else {
        return false;
    };
    take_dlerror();
    // SAFETY: RTLD_DEFAULT is a valid pseudo-handle for dlsym; c_name is valid.
    let addr = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c_name.as_ptr()) };
    !addr.is_null()
}
