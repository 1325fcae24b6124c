//! [`keep_state`]: a Rust app's state carried into a rebuilt host as a serde value, encoded with
//! postcard over the C ABI's byte buffer (`carry.rs`, `hotwasm_state_hooks`).

use serde::{de::DeserializeOwned, Serialize};

/// Carries the value `save` returns into a rebuilt host, where `restore` gets it after `main`.
///
/// Call it once at start-up. When the dev server rebuilds the host (a save of one of its own
/// sources), every page calls `save` in the old host, loads the new host and calls `restore`
/// there with the decoded value, before replaying the patches that still fit. The new host must
/// decode what the old one encoded (postcard is not self-describing): after a change to `T` the
/// decode fails, the app keeps the state it started with and stderr says why. Without the
/// `hot-reload` feature this does nothing.
///
/// ```no_run
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Saved { frame: u64, score: u32 }
/// hotwasm_runtime::keep_state(
///     || Saved { frame: 1, score: 2 },
///     |s: Saved| println!("restored frame {} score {}", s.frame, s.score),
/// );
/// ```
pub fn keep_state<T, S, R>(save: S, restore: R)
where
    T: Serialize + DeserializeOwned + 'static,
    S: Fn() -> T + 'static,
    R: Fn(T) + 'static,
{
    #[cfg(feature = "hot-reload")]
    imp::install(
        Box::new(move || postcard::to_allocvec(&save()).map_err(|e| e.to_string())),
        Box::new(move |bytes| {
            let value = postcard::from_bytes::<T>(bytes).map_err(|e| {
                format!(
                    "the saved state does not decode as `{}` ({e}): did its type change? The app keeps the state it started with",
                    std::any::type_name::<T>()
                )
            })?;
            restore(value);
            Ok(())
        }),
    );
    #[cfg(not(feature = "hot-reload"))]
    let _ = (save, restore);
}

#[cfg(feature = "hot-reload")]
mod imp {
    use crate::carry;
    use std::cell::RefCell;

    type Save = Box<dyn Fn() -> Result<Vec<u8>, String>>;
    type Restore = Box<dyn Fn(&[u8]) -> Result<(), String>>;

    thread_local! {
        static HOOKS: RefCell<Option<(Save, Restore)>> = const { RefCell::new(None) };
    }

    pub(super) fn install(save: Save, restore: Restore) {
        HOOKS.with(|h| *h.borrow_mut() = Some((save, restore)));
        // SAFETY: both are functions of this crate, loaded for the program's life; `restore`
        // reads only the `len` bytes it is given.
        if let Err(e) = unsafe { carry::set_hooks(Some(save_hook), Some(restore_hook)) } {
            eprintln!("hotwasm: {e}");
        }
    }

    extern "C" fn save_hook() {
        let bytes = HOOKS.with(|h| h.borrow().as_ref().map(|(save, _)| save()));
        match bytes {
            Some(Ok(bytes)) => carry::put(&bytes),
            Some(Err(e)) => eprintln!("hotwasm: the app's state does not encode: {e}"),
            None => {}
        }
    }

    /// # Safety
    /// `bytes` must point to `len` readable bytes (the runtime's copy of the saved state).
    unsafe extern "C" fn restore_hook(bytes: *const u8, len: u32) -> i32 {
        // SAFETY: per this function's contract (`carry::restore` passes its own copy).
        let bytes = unsafe { std::slice::from_raw_parts(bytes, len as usize) };
        let result = HOOKS.with(|h| h.borrow().as_ref().map(|(_, restore)| restore(bytes)));
        match result {
            Some(Ok(())) => 0,
            Some(Err(e)) => {
                eprintln!("hotwasm: {e}");
                1
            }
            None => 1,
        }
    }
}
