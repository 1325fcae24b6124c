//! The static slot behind every hot function, and the `hot_fn!` macro that declares one.
//!
//! A call of a hot function is one atomic load of the slot and one indirect call: no name
//! lookup, hash, lock or allocation. The signature letters are computed from the Rust types at
//! compile time, so a declaration cannot disagree with its own signature.

use std::sync::atomic::{AtomicPtr, Ordering};

/// The longest signature (return letter plus parameters) a hot function may have.
pub const MAX_SIGNATURE: usize = 32;

/// Signature letters built at compile time from the types of a hot function.
#[derive(Clone, Copy)]
pub struct SigLetters {
    bytes: [u8; MAX_SIGNATURE],
    len: usize,
}

impl SigLetters {
    /// Starts a signature with its return letter.
    pub const fn returning(letter: u8) -> SigLetters {
        let mut bytes = [0u8; MAX_SIGNATURE];
        bytes[0] = letter;
        SigLetters { bytes, len: 1 }
    }

    /// Appends one parameter letter; fails the build past [`MAX_SIGNATURE`].
    pub const fn param(mut self, letter: u8) -> SigLetters {
        assert!(
            self.len < MAX_SIGNATURE,
            "a hot function may have at most 31 parameters"
        );
        assert!(
            letter != b'v',
            "`()` is not a parameter type of a hot function"
        );
        self.bytes[self.len] = letter;
        self.len += 1;
        self
    }

    /// The letters, e.g. `"vppf"`.
    pub const fn as_str(&self) -> &str {
        match std::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(s) => s,
            Err(_) => panic!("signature letters are ASCII"),
        }
    }
}

/// A Rust type that may cross the hot-function ABI, with its Emscripten letter.
pub trait AbiType {
    /// `i`, `j`, `f`, `d`, `p`, or `v` for `()` (return only).
    const LETTER: u8;
}

macro_rules! abi_letters {
    ($($letter:literal => $($t:ty),+;)*) => {
        $($(impl AbiType for $t { const LETTER: u8 = $letter; })+)*
    };
}

abi_letters! {
    b'i' => i32, u32, i16, u16, i8, u8;
    b'j' => i64, u64;
    b'f' => f32;
    b'd' => f64;
    b'p' => usize, isize;
    b'v' => ();
}

impl<T> AbiType for *const T {
    const LETTER: u8 = b'p';
}

impl<T> AbiType for *mut T {
    const LETTER: u8 = b'p';
}

/// The slot of one var: its name, signature and the address of its current implementation.
pub struct HotSlot {
    name: &'static str,
    signature: SigLetters,
    default: *const (),
    current: AtomicPtr<()>,
}

// SAFETY: `default` is the address of an `extern "C" fn`, immutable code that any thread may
// call; the mutable part is an atomic.
unsafe impl Sync for HotSlot {}

impl HotSlot {
    /// A slot whose first implementation is `default`, the address of an `extern "C" fn`
    /// whose signature is `signature`.
    pub const fn new(name: &'static str, signature: SigLetters, default: *const ()) -> HotSlot {
        HotSlot {
            name,
            signature,
            default,
            current: AtomicPtr::new(default as *mut ()),
        }
    }

    /// The var's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The var's signature letters.
    pub fn signature(&self) -> &str {
        self.signature.as_str()
    }

    /// The host's own implementation.
    pub fn default_impl(&self) -> *const () {
        self.default
    }

    /// The current implementation: the hot path, one atomic load.
    #[inline(always)]
    pub fn load(&self) -> *const () {
        self.current.load(Ordering::Acquire)
    }

    /// Points the slot at another implementation.
    ///
    /// # Safety
    /// `f` must be the address of a function with exactly this slot's signature that stays
    /// loaded for as long as the slot may point at it; otherwise the next call through the slot
    /// runs code with the wrong arguments or jumps to freed memory.
    #[cfg(feature = "hot-reload")]
    pub(crate) unsafe fn store(&self, f: *const ()) {
        self.current.store(f as *mut (), Ordering::Release)
    }
}

/// Declares hot functions.
///
/// ```
/// use hotwasm_runtime::hot_fn;
/// hot_fn! {
///     /// Doubles its argument.
///     pub fn double(x: i32) -> i32 { x * 2 }
/// }
/// fn main() {
///     assert_eq!(double(21), 42);
///     assert_eq!(double::SLOT.signature(), "ii");
/// }
/// ```
///
/// Each declaration yields the function itself (a call through the slot with `hot-reload`, a
/// direct call without it) and a module of the same name holding `SLOT` (register it with
/// [`register`](crate::register)) and `default_impl`. With `hot-reload`, the host also exports
/// a C symbol of the var's name that calls the current version, so patches can call it.
#[cfg(feature = "hot-reload")]
#[macro_export]
macro_rules! hot_fn {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block)*) => {$(
        $(#[$attr])*
        #[inline(always)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            type F = extern "C" fn($($ty),*) $(-> $ret)?;
            let f: F = {
                let p = $name::SLOT.load();
                // SAFETY: the registry only stores addresses whose signature matched this
                // var's letters, which are derived from these very types; `F` and a data
                // pointer have the same size on every target hotwasm builds for.
                unsafe { ::std::mem::transmute::<*const (), F>(p) }
            };
            f($($arg),*)
        }

        #[allow(non_snake_case, dead_code)]
        $vis mod $name {
            #[allow(unused_imports)]
            use super::*;

            /// The host's own implementation.
            pub extern "C" fn default_impl($($arg: $ty),*) $(-> $ret)? $body

            /// The var's slot; register it at start-up.
            pub static SLOT: $crate::HotSlot = $crate::HotSlot::new(
                stringify!($name),
                $crate::hot_fn!(@sig ($($ret)?) $($ty),*),
                default_impl as *const (),
            );

            /// The var under its C name, for patches: calls the current version.
            #[export_name = stringify!($name)]
            pub extern "C" fn trampoline($($arg: $ty),*) $(-> $ret)? {
                super::$name($($arg),*)
            }
        }
    )*};
    (@sig () $($ty:ty),*) => { $crate::SigLetters::returning(b'v')$(.param(<$ty as $crate::AbiType>::LETTER))* };
    (@sig ($ret:ty) $($ty:ty),*) => {
        $crate::SigLetters::returning(<$ret as $crate::AbiType>::LETTER)$(.param(<$ty as $crate::AbiType>::LETTER))*
    };
}

/// Declares hot functions (plain build: direct calls, no slot on the call path).
#[cfg(not(feature = "hot-reload"))]
#[macro_export]
macro_rules! hot_fn {
    ($($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block)*) => {$(
        $(#[$attr])*
        #[inline]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            $name::default_impl($($arg),*)
        }

        #[allow(non_snake_case, dead_code)]
        $vis mod $name {
            #[allow(unused_imports)]
            use super::*;

            /// The host's own implementation.
            #[inline(always)]
            pub extern "C" fn default_impl($($arg: $ty),*) $(-> $ret)? $body

            /// The var's slot (never read on the call path in a plain build).
            pub static SLOT: $crate::HotSlot = $crate::HotSlot::new(
                stringify!($name),
                $crate::hot_fn!(@sig ($($ret)?) $($ty),*),
                default_impl as *const (),
            );
        }
    )*};
    (@sig () $($ty:ty),*) => { $crate::SigLetters::returning(b'v')$(.param(<$ty as $crate::AbiType>::LETTER))* };
    (@sig ($ret:ty) $($ty:ty),*) => {
        $crate::SigLetters::returning(<$ret as $crate::AbiType>::LETTER)$(.param(<$ty as $crate::AbiType>::LETTER))*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_built_at_compile_time() {
        const SIG: SigLetters = SigLetters::returning(b'v')
            .param(b'p')
            .param(b'p')
            .param(b'f');
        assert_eq!(SIG.as_str(), "vppf");
        assert_eq!(<*const u8 as AbiType>::LETTER, b'p');
        assert_eq!(<u64 as AbiType>::LETTER, b'j');
    }
}
