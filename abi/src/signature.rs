//! Emscripten signature letters: `i` i32, `j` i64, `f` f32, `d` f64, `p` pointer, `v` void,
//! return type first (`ii` is `int(int)`).

use std::fmt;

/// One value type of a hot function's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    /// `i`: 32-bit integer.
    I32,
    /// `j`: 64-bit integer.
    I64,
    /// `f`: 32-bit float.
    F32,
    /// `d`: 64-bit float.
    F64,
    /// `p`: pointer; an `i32` in wasm32 and a machine word natively.
    Ptr,
}

impl ValType {
    /// The Emscripten letter for this type.
    pub const fn letter(self) -> char {
        match self {
            ValType::I32 => 'i',
            ValType::I64 => 'j',
            ValType::F32 => 'f',
            ValType::F64 => 'd',
            ValType::Ptr => 'p',
        }
    }

    /// The type a letter names (`v` is not a value type).
    pub const fn from_letter(letter: char) -> Option<ValType> {
        Some(match letter {
            'i' => ValType::I32,
            'j' => ValType::I64,
            'f' => ValType::F32,
            'd' => ValType::F64,
            'p' => ValType::Ptr,
            _ => return None,
        })
    }

    /// The type as wasm32 sees it: a pointer is an `i32` there.
    pub const fn in_wasm32(self) -> ValType {
        match self {
            ValType::Ptr => ValType::I32,
            other => other,
        }
    }
}

/// A function signature: an optional return type and the parameter types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    /// `None` for `v` (void).
    pub ret: Option<ValType>,
    /// Parameters in order.
    pub params: Vec<ValType>,
}

/// Why a signature string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The string was empty; a signature needs at least the return letter.
    Empty,
    /// A letter that is not one of `v i j f d p`.
    UnknownLetter {
        /// The whole signature as given.
        signature: String,
        /// The offending character.
        letter: char,
        /// Its position (0 is the return type).
        position: usize,
    },
    /// `v` stands anywhere but first.
    VoidParameter {
        /// The whole signature as given.
        signature: String,
    },
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Empty => write!(
                f,
                "empty signature: give the return letter first, then one letter per parameter (e.g. `ii` for int(int), `v` for void(void))"
            ),
            SignatureError::UnknownLetter { signature, letter, position } => write!(
                f,
                "signature `{signature}` has `{letter}` at position {position}: use Emscripten letters i (i32), j (i64), f (f32), d (f64), p (pointer), v (void, return only)"
            ),
            SignatureError::VoidParameter { signature } => write!(
                f,
                "signature `{signature}` has `v` as a parameter: `v` may only stand first, as the return type; a function without parameters is just `v` or `i`"
            ),
        }
    }
}

impl std::error::Error for SignatureError {}

impl Signature {
    /// Parses Emscripten letters, return type first.
    pub fn parse(letters: &str) -> Result<Signature, SignatureError> {
        let mut chars = letters.chars();
        let first = chars.next().ok_or(SignatureError::Empty)?;
        let ret =
            match first {
                'v' => None,
                other => Some(ValType::from_letter(other).ok_or_else(|| {
                    SignatureError::UnknownLetter {
                        signature: letters.to_string(),
                        letter: other,
                        position: 0,
                    }
                })?),
            };
        let mut params = Vec::new();
        for (i, c) in chars.enumerate() {
            if c == 'v' {
                return Err(SignatureError::VoidParameter {
                    signature: letters.to_string(),
                });
            }
            params.push(
                ValType::from_letter(c).ok_or_else(|| SignatureError::UnknownLetter {
                    signature: letters.to_string(),
                    letter: c,
                    position: i + 1,
                })?,
            );
        }
        Ok(Signature { ret, params })
    }

    /// Whether two signatures are the same function type in wasm32, where a pointer is an `i32`.
    /// This is the check that decides whether a patch may replace a var.
    pub fn same_in_wasm32(&self, other: &Signature) -> bool {
        self.ret.map(ValType::in_wasm32) == other.ret.map(ValType::in_wasm32)
            && self.params.len() == other.params.len()
            && self
                .params
                .iter()
                .zip(&other.params)
                .all(|(a, b)| a.in_wasm32() == b.in_wasm32())
    }

    /// The same signature with pointers written as `i`, as read back from a wasm type.
    pub fn to_wasm32(&self) -> Signature {
        Signature {
            ret: self.ret.map(ValType::in_wasm32),
            params: self.params.iter().map(|t| t.in_wasm32()).collect(),
        }
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char(self.ret.map_or('v', ValType::letter))?;
        for p in &self.params {
            f.write_char(p.letter())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Signature {
    type Err = SignatureError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Signature::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_letter() {
        for s in ["v", "i", "ii", "vppf", "jjd", "dfp", "pipjfd"] {
            assert_eq!(Signature::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn return_type_comes_first() {
        let sig = Signature::parse("fi").unwrap();
        assert_eq!(sig.ret, Some(ValType::F32));
        assert_eq!(sig.params, vec![ValType::I32]);
    }

    #[test]
    fn rejects_bad_letters_with_position() {
        let err = Signature::parse("iix").unwrap_err();
        assert_eq!(
            err,
            SignatureError::UnknownLetter {
                signature: "iix".into(),
                letter: 'x',
                position: 2
            }
        );
        assert!(err.to_string().contains("Emscripten letters"));
        assert_eq!(Signature::parse(""), Err(SignatureError::Empty));
        assert!(matches!(
            Signature::parse("iv"),
            Err(SignatureError::VoidParameter { .. })
        ));
    }

    #[test]
    fn pointer_is_i32_in_wasm32_only_for_the_check() {
        let p = Signature::parse("pp").unwrap();
        let i = Signature::parse("ii").unwrap();
        assert_ne!(p, i);
        assert!(p.same_in_wasm32(&i));
        assert!(!p.same_in_wasm32(&Signature::parse("jp").unwrap()));
        assert!(!i.same_in_wasm32(&Signature::parse("iii").unwrap()));
        assert_eq!(p.to_wasm32().to_string(), "ii");
    }
}
