//! The static slot behind every hot function, the types that may cross the hot-function ABI,
//! and the `hot_fn!` macro that declares a hot function.
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

    /// Appends one parameter letter; fails the build past `MAX_SIGNATURE` (32) letters.
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
///
/// Implemented for the integer and float types, `bool`, raw pointers and `()` (return only).
/// Implement it for a fieldless `#[repr(u8)]`/`#[repr(i32)]`/... enum with [`abi_enum!`](crate::abi_enum).
///
/// # Safety
/// A value of the type must pass through an `extern "C"` function on wasm32 as exactly one
/// wasm value of the type `LETTER` names (`i` i32, `j` i64, `f` f32, `d` f64, `p` pointer), or
/// be `()` with `LETTER` `v`: a patch built from C gets this type's values as that wasm type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross the hot-function ABI",
    label = "not an ABI type of hot functions",
    note = "use integers, bool, f32/f64, raw pointers (`*mut T` instead of `&mut T`), `()` as a return, or a fieldless #[repr(u8)]/#[repr(i32)] enum made one with hotwasm_runtime::abi_enum!"
)]
pub unsafe trait AbiType {
    /// `i`, `j`, `f`, `d`, `p`, or `v` for `()` (return only).
    const LETTER: u8;
}

macro_rules! abi_letters {
    ($($letter:literal => $($t:ty),+;)*) => {
        // SAFETY: each type's C ABI on wasm32 is the named wasm value type (integers up to 32
        // bits and bool widen to i32; usize/isize are 32-bit pointers).
        $($(unsafe impl AbiType for $t { const LETTER: u8 = $letter; })+)*
    };
}

abi_letters! {
    b'i' => i32, u32, i16, u16, i8, u8, bool;
    b'j' => i64, u64;
    b'f' => f32;
    b'd' => f64;
    b'p' => usize, isize;
    b'v' => ();
}

// SAFETY: raw pointers are one pointer-sized integer in the C ABI.
unsafe impl<T> AbiType for *const T {
    const LETTER: u8 = b'p';
}

// SAFETY: as for `*const T`.
unsafe impl<T> AbiType for *mut T {
    const LETTER: u8 = b'p';
}

/// Makes fieldless enums with a primitive `#[repr]` ABI types of hot functions: `i` for
/// `#[repr(u8/i8/u16/i16/u32/i32)]`, `j` for `#[repr(u64/i64)]`.
///
/// ```
/// #[derive(Clone, Copy, PartialEq, Debug)]
/// #[repr(u8)]
/// pub enum Mode { Calm = 0, Storm = 1 }
/// hotwasm_runtime::abi_enum!(Mode);
///
/// hotwasm_runtime::hot_fn! {
///     pub fn gravity(mode: Mode) -> f32 { if mode == Mode::Storm { 900.0 } else { 240.0 } }
/// }
/// # fn main() {
/// assert_eq!(gravity::SLOT.signature(), "fi");
/// assert_eq!(gravity(Mode::Storm), 900.0);
/// # }
/// ```
///
/// The build fails for a type that is not a fieldless enum (it must cast `as i64`) or whose
/// size is not that of a primitive `repr`. A patch written in C sees the enum as its integer
/// type; as for every patch (see `apply`), its author promises to return only
/// values that are variants of the enum.
#[macro_export]
macro_rules! abi_enum {
    ($($t:ty),+ $(,)?) => {$(
        const _: () = {
            // Only fieldless enums (and primitives, which already are ABI types) cast to i64.
            #[allow(dead_code)]
            fn abi_enum_takes_fieldless_enums(value: $t) -> i64 {
                value as i64
            }
            let size = ::core::mem::size_of::<$t>();
            ::core::assert!(
                size == 1 || size == 2 || size == 4 || size == 8,
                "abi_enum!: give the enum a primitive repr such as #[repr(u8)] or #[repr(i32)]"
            );
        };
        // SAFETY: a fieldless enum with a primitive repr passes as that integer, which widens
        // to one i32 (or is one i64) in the wasm32 C ABI; the checks above fail the build for
        // any other type.
        unsafe impl $crate::AbiType for $t {
            const LETTER: u8 = if ::core::mem::size_of::<$t>() == 8 { b'j' } else { b'i' };
        }
    )+};
}

/// The slot of one hot function declared in Rust: its name, signature and the cell holding the
/// address of its current implementation. The registry keeps a reference to the cell and
/// writes it; the hot function reads it.
pub struct HotSlot {
    name: &'static str,
    signature: SigLetters,
    current: AtomicPtr<()>,
}

impl HotSlot {
    /// A slot whose first implementation (the host's default) is `default`.
    ///
    /// # Safety
    /// `default` must be the address of an `extern "C" fn` whose parameter and return types
    /// have exactly the letters `signature`: calls through the slot transmute it to that type.
    pub const unsafe fn new(
        name: &'static str,
        signature: SigLetters,
        default: *const (),
    ) -> HotSlot {
        HotSlot {
            name,
            signature,
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

    /// The current implementation: the hot path, one atomic load.
    #[inline(always)]
    pub fn load(&self) -> *const () {
        self.current.load(Ordering::Acquire)
    }

    /// The cell the registry writes.
    #[cfg(feature = "hot-reload")]
    pub(crate) fn cell(&'static self) -> &'static AtomicPtr<()> {
        &self.current
    }
}

/// Declares hot functions.
///
/// ```
/// use hotwasm_runtime::hot_fn;
/// hot_fn! {
///     /// Doubles its argument.
///     pub fn double(x: i32) -> i32 { x * 2 }
///
///     /// Reads through a raw pointer: callers promise it is valid.
///     pub unsafe fn first(p: *const u8) -> u8 {
///         // SAFETY: the caller passes a valid pointer.
///         unsafe { *p }
///     }
/// }
/// fn main() {
///     assert_eq!(double(21), 42);
///     assert_eq!(double::SLOT.signature(), "ii");
///     // SAFETY: a pointer to a live byte.
///     assert_eq!(unsafe { first(&7) }, 7);
/// }
/// ```
///
/// Each declaration yields the function itself (a call through the slot with `hot-reload`, a
/// direct call without it) and a module of the same name holding `SLOT` and `default_impl`.
/// With `hot-reload`, the slot registers itself before `main` (a `.init_array` constructor),
/// so there is no list of hot functions to keep. Parameter and return types must be
/// [`AbiType`]s.
#[macro_export]
macro_rules! hot_fn {
    () => {};
    ($(#[$attr:meta])* $vis:vis unsafe fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block $($rest:tt)*) => {
        $crate::__hot_fn_one!([$(#[$attr])*] [$vis] [unsafe] $name ($($arg: $ty),*) ($($ret)?) $body);
        $crate::hot_fn!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block $($rest:tt)*) => {
        $crate::__hot_fn_one!([$(#[$attr])*] [$vis] [] $name ($($arg: $ty),*) ($($ret)?) $body);
        $crate::hot_fn!($($rest)*);
    };
}

/// One hot function (hot-reload build): the call through the slot, the slot and its
/// registration at start-up.
#[cfg(feature = "hot-reload")]
#[doc(hidden)]
#[macro_export]
macro_rules! __hot_fn_one {
    ([$($attr:tt)*] [$vis:vis] [$($unsafety:tt)?] $name:ident ($($arg:ident: $ty:ty),*) ($($ret:ty)?) $body:block) => {
        $($attr)*
        #[inline(always)]
        $vis $($unsafety)? fn $name($($arg: $ty),*) $(-> $ret)? {
            type F = $($unsafety)? extern "C" fn($($ty),*) $(-> $ret)?;
            let p = $name::SLOT.load();
            // SAFETY: the registry only stores addresses whose signature matched this var's
            // letters, which are derived from these very types; `F` and a data pointer have
            // the same size on every target hotwasm builds for. For an `unsafe fn`, the caller
            // upholds its contract, which every implementation shares.
            #[allow(unused_unsafe)]
            let r = unsafe { ::std::mem::transmute::<*const (), F>(p)($($arg),*) };
            r
        }

        #[allow(non_snake_case, dead_code)]
        $vis mod $name {
            #[allow(unused_imports)]
            use super::*;

            /// The host's own implementation.
            pub $($unsafety)? extern "C" fn default_impl($($arg: $ty),*) $(-> $ret)? $body

            /// The var's slot.
            // SAFETY: `default_impl` is an `extern "C" fn` of exactly these types, from which
            // the letters are computed.
            pub static SLOT: $crate::HotSlot = unsafe {
                $crate::HotSlot::new(
                    stringify!($name),
                    $crate::__hot_fn_sig!(($($ret)?) $($ty),*),
                    default_impl as *const (),
                )
            };

            extern "C" fn register() {
                $crate::register_at_startup(&SLOT);
            }

            /// Runs `register` before `main`, so the var exists before any code can patch it.
            #[used]
            #[cfg_attr(not(target_vendor = "apple"), link_section = ".init_array")]
            #[cfg_attr(target_vendor = "apple", link_section = "__DATA,__mod_init_func")]
            static REGISTER: extern "C" fn() = register;
        }
    };
}

/// One hot function (plain build): a direct call, no registration.
#[cfg(not(feature = "hot-reload"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __hot_fn_one {
    ([$($attr:tt)*] [$vis:vis] [$($unsafety:tt)?] $name:ident ($($arg:ident: $ty:ty),*) ($($ret:ty)?) $body:block) => {
        $($attr)*
        #[inline]
        $vis $($unsafety)? fn $name($($arg: $ty),*) $(-> $ret)? {
            // SAFETY: for an `unsafe fn`, the caller upholds its contract.
            #[allow(unused_unsafe)]
            let r = unsafe { $name::default_impl($($arg),*) };
            r
        }

        #[allow(non_snake_case, dead_code)]
        $vis mod $name {
            #[allow(unused_imports)]
            use super::*;

            /// The host's own implementation.
            #[inline(always)]
            pub $($unsafety)? extern "C" fn default_impl($($arg: $ty),*) $(-> $ret)? $body

            /// The var's slot (never read on the call path in a plain build).
            // SAFETY: `default_impl` is an `extern "C" fn` of exactly these types.
            pub static SLOT: $crate::HotSlot = unsafe {
                $crate::HotSlot::new(
                    stringify!($name),
                    $crate::__hot_fn_sig!(($($ret)?) $($ty),*),
                    default_impl as *const (),
                )
            };
        }
    };
}

/// The signature letters of a hot function's types.
#[doc(hidden)]
#[macro_export]
macro_rules! __hot_fn_sig {
    (() $($ty:ty),*) => { $crate::SigLetters::returning(b'v')$(.param(<$ty as $crate::AbiType>::LETTER))* };
    (($ret:ty) $($ty:ty),*) => {
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

    #[test]
    fn bool_and_repr_enums_are_abi_types() {
        #[allow(dead_code)]
        #[derive(Clone, Copy)]
        #[repr(u8)]
        enum Small {
            A,
            B,
        }
        #[allow(dead_code)]
        #[derive(Clone, Copy)]
        #[repr(i32)]
        enum Signed {
            Minus = -1,
            Plus = 1,
        }
        #[allow(dead_code)]
        #[derive(Clone, Copy)]
        #[repr(u64)]
        enum Wide {
            Big = 1 << 40,
        }
        crate::abi_enum!(Small, Signed, Wide);
        assert_eq!(<bool as AbiType>::LETTER, b'i');
        assert_eq!(<Small as AbiType>::LETTER, b'i');
        assert_eq!(<Signed as AbiType>::LETTER, b'i');
        assert_eq!(<Wide as AbiType>::LETTER, b'j');
    }
}
