//! `keep_state` over the C ABI's byte buffer: what one host saves, the next one restores, as
//! the page drives it (`hotwasm_state_save` → copy out → `hotwasm_state_reserve` →
//! `hotwasm_state_restore`).

use hotwasm_runtime::{carry, keep_state};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct World {
    frame: u64,
    particles: Vec<(f32, f32)>,
    score: u32,
}

/// What the page does between two hosts: copy the saved bytes out, write them back in.
fn carry_over() -> Result<(), hotwasm_runtime::HotError> {
    let n = carry::save()?;
    let bytes = carry::data();
    assert_eq!(bytes.len(), n);
    let into = carry::reserve(n);
    // SAFETY: `reserve` returned a buffer of `n` bytes, not touched until `restore`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), into, n) };
    carry::restore(n)
}

#[test]
fn a_kept_value_is_saved_and_restored_through_the_byte_buffer() {
    let world = World {
        frame: 1234,
        particles: vec![(1.5, 2.5), (3.0, -4.0)],
        score: 77,
    };
    let restored = Rc::new(RefCell::new(None));
    let (saved, into) = (world.clone(), restored.clone());
    assert!(!carry::has_hooks());
    keep_state(
        move || saved.clone(),
        move |w: World| *into.borrow_mut() = Some(w),
    );
    assert!(carry::has_hooks());
    carry_over().unwrap();
    assert_eq!(restored.borrow().as_ref(), Some(&world));
}

#[test]
fn bytes_of_another_type_are_refused_and_nothing_is_restored() {
    // The old host kept a u8; the new one keeps a World.
    keep_state(|| 7u8, |_: u8| {});
    let n = carry::save().unwrap();
    let bytes = carry::data();
    let restored = Rc::new(RefCell::new(None));
    let into = restored.clone();
    keep_state(
        || World {
            frame: 0,
            particles: Vec::new(),
            score: 0,
        },
        move |w: World| *into.borrow_mut() = Some(w),
    );
    let at = carry::reserve(n);
    // SAFETY: `reserve` returned a buffer of `n` bytes.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), at, n) };
    let e = carry::restore(n).unwrap_err().to_string();
    assert!(e.contains("refused the saved state"), "{e}");
    assert!(restored.borrow().is_none());
}

#[test]
fn without_hooks_saving_says_how_to_register_them() {
    let e = carry::save().unwrap_err().to_string();
    assert!(e.contains("hotwasm_state_hooks"), "{e}");
    assert!(e.contains("keep_state"), "{e}");
}
