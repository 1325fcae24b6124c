//! State carried into a rebuilt host: the app's save/restore hooks and the byte buffer between
//! them and the JS client (the `hotwasm_state_*` functions of `hotwasm.h` wrap these).
//!
//! A host rebuild, as the page runs it:
//! 1. old host: [`save`] runs the app's save hook, which hands its bytes over with [`put`];
//!    the page copies them out of [`data`] and keeps them across the reload;
//! 2. new host, after `main`: the page writes them into [`reserve`] and calls [`restore`],
//!    which hands them to the app's restore hook;
//! 3. the page replays the journal entries that still fit the new host.
//!
//! The wasm host is single-threaded: hooks and buffer live in thread-locals.

use crate::bindings::{hotwasm_restore_hook, hotwasm_save_hook};
use crate::error::HotError;
use std::cell::{Cell, RefCell};

thread_local! {
    static HOOKS: Cell<Option<(hotwasm_save_hook, hotwasm_restore_hook)>> = const { Cell::new(None) };
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Registers the app's hooks (again: replaces them).
///
/// # Safety
/// `save` and `restore` must be functions that stay loaded for the program's life; `restore`
/// must only read the `len` bytes it is given.
pub unsafe fn set_hooks(
    save: hotwasm_save_hook,
    restore: hotwasm_restore_hook,
) -> Result<(), HotError> {
    if save.is_none() || restore.is_none() {
        return Err(HotError::InvalidArgument(
            "hotwasm_state_hooks needs both a save and a restore function".into(),
        ));
    }
    HOOKS.with(|h| h.set(Some((save, restore))));
    Ok(())
}

/// Whether the app registered hooks.
pub fn has_hooks() -> bool {
    HOOKS.with(Cell::get).is_some()
}

fn no_hooks() -> HotError {
    HotError::InvalidArgument(
        "the app registered no state hooks (hotwasm_state_hooks in C, hotwasm_runtime::keep_state in Rust): its state starts fresh in a rebuilt host".into(),
    )
}

/// What the save hook calls: the state to carry over (a copy; replaces an earlier one).
pub fn put(bytes: &[u8]) {
    BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.extend_from_slice(bytes);
    });
}

/// Runs the save hook; returns how many bytes it handed over (read them with [`data`]).
pub fn save() -> Result<usize, HotError> {
    let (save, _) = HOOKS.with(Cell::get).ok_or_else(no_hooks)?;
    put(&[]);
    if let Some(save) = save {
        // SAFETY: registered through `set_hooks`, whose contract keeps it loaded and callable.
        unsafe { save() };
    }
    Ok(BUFFER.with(|b| b.borrow().len()))
}

/// The buffer's bytes (what the last [`save`] or [`reserve`] left there), as a copy.
pub fn data() -> Vec<u8> {
    BUFFER.with(|b| b.borrow().clone())
}

/// The buffer's address (for the JS client, which reads `len` bytes there right after [`save`]).
pub fn data_ptr() -> *const u8 {
    BUFFER.with(|b| b.borrow().as_ptr())
}

/// Makes the buffer `len` zero bytes long and returns its address, for the JS client to fill.
pub fn reserve(len: usize) -> *mut u8 {
    BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.resize(len, 0);
        b.as_mut_ptr()
    })
}

/// Hands the buffer's first `len` bytes to the restore hook.
pub fn restore(len: usize) -> Result<(), HotError> {
    let (_, restore) = HOOKS.with(Cell::get).ok_or_else(no_hooks)?;
    let bytes = BUFFER.with(|b| {
        let b = b.borrow();
        b.get(..len).map(<[u8]>::to_vec)
    });
    let bytes = bytes.ok_or_else(|| {
        HotError::InvalidArgument(format!(
            "hotwasm_state_restore({len}): the buffer holds fewer bytes (call hotwasm_state_reserve first)"
        ))
    })?;
    let Some(restore) = restore else {
        return Err(no_hooks());
    };
    let len32 = u32::try_from(bytes.len())
        .map_err(|_| HotError::InvalidArgument("saved state over 4 GiB".into()))?;
    // SAFETY: registered through `set_hooks`; it reads the `len32` bytes of `bytes`, which
    // outlive the call (a copy, so the hook may call `put` or `reserve` meanwhile).
    let status = unsafe { restore(bytes.as_ptr(), len32) };
    if status == 0 {
        Ok(())
    } else {
        Err(HotError::InvalidArgument(format!(
            "the app's restore hook refused the saved state (it returned {status}): the app keeps the state it started with"
        )))
    }
}
