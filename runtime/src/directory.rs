//! The all-hot directory (docs/ALL-HOT.md): every function of an all-hot host, given once at
//! start-up as three static arrays the build generated (names sorted, signatures, slots), and
//! adopted as a var only when something first names it — no allocation, no work per function
//! at start-up.

use crate::registry::Slot;
use hotwasm_abi::Signature;
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicPtr, Ordering};

/// The arrays of one host. Plain pointers into the host's static data.
pub struct Directory {
    names: *const *const c_char,
    signatures: *const *const c_char,
    slots: *mut *mut c_void,
    count: usize,
}

// SAFETY: the arrays are immutable static data of the host (the slots are only read here, and
// written through `AtomicPtr`s by the registry under its lock), valid for the program's life
// per `Directory::new`'s contract.
unsafe impl Send for Directory {}

/// One function of the directory.
pub struct Entry {
    /// Its signature letters (pointers are `i`: what the wasm type says).
    pub signature: Signature,
    /// Its slot, holding the host's own implementation until a patch replaces it.
    pub slot: Slot,
}

impl Directory {
    /// The directory of `count` functions.
    ///
    /// # Safety
    /// Each array has `count` elements and lives as long as the program; `names` are
    /// NUL-terminated, unique and sorted by their bytes; `signatures` are NUL-terminated
    /// signature letters; each slot is 0 (the function is not in the linked host) or holds the
    /// address of a function of exactly that signature.
    pub unsafe fn new(
        names: *const *const c_char,
        signatures: *const *const c_char,
        slots: *mut *mut c_void,
        count: usize,
    ) -> Directory {
        Directory {
            names,
            signatures,
            slots,
            count,
        }
    }

    fn name(&self, i: usize) -> &'static [u8] {
        // SAFETY: `i < count` and the names are static NUL-terminated strings (`new`).
        unsafe { CStr::from_ptr(*self.names.add(i)) }.to_bytes()
    }

    /// The function `name`, when the host has it (its slot is filled).
    pub fn find(&self, name: &str) -> Option<Entry> {
        let mut lo = 0;
        let mut hi = self.count;
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.name(mid).cmp(name.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.entry(mid),
            }
        }
        None
    }

    fn entry(&self, i: usize) -> Option<Entry> {
        // SAFETY: `i < count`; signatures are static strings and slots static cells (`new`); an
        // `AtomicPtr<()>` has the layout of `*mut c_void`.
        let (letters, slot) = unsafe {
            (
                CStr::from_ptr(*self.signatures.add(i)),
                AtomicPtr::from_ptr(self.slots.add(i).cast::<*mut ()>()),
            )
        };
        if slot.load(Ordering::Acquire).is_null() {
            return None;
        }
        let signature = Signature::parse(letters.to_str().ok()?).ok()?;
        Some(Entry { signature, slot })
    }
}
