//! The patch manifest: which var each exported symbol of a patch implements, with what
//! signature. It travels beside the patch (in the JSON header of a patch frame) and is handed
//! to the runtime's `apply` as text, one entry per line: `<var> <symbol> <signature>`.

use crate::signature::{Signature, SignatureError};
use crate::symbol::is_c_identifier;
use std::fmt;

/// Most entries one patch may carry; a larger manifest is refused before any `dlsym`.
pub const MAX_ENTRIES: usize = 4096;

/// One function a patch provides.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PatchEntry {
    /// The var it defines or replaces (`step_body`).
    pub var: String,
    /// The symbol exported by the patch that implements it (`step_body__hw7`).
    pub symbol: String,
    /// Its signature in Emscripten letters.
    #[cfg_attr(feature = "serde", serde(with = "signature_letters"))]
    pub signature: Signature,
}

/// Every function of one patch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct PatchManifest {
    /// In the order the patch defines them.
    pub entries: Vec<PatchEntry>,
}

/// Why a manifest text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// A line without exactly three fields.
    MalformedLine {
        /// 1-based line number.
        line: usize,
        /// The line as given.
        text: String,
    },
    /// A var or symbol that is not a C identifier.
    BadName {
        /// 1-based line number.
        line: usize,
        /// The offending name.
        name: String,
    },
    /// The signature field did not parse.
    BadSignature {
        /// 1-based line number.
        line: usize,
        /// The parse error.
        error: SignatureError,
    },
    /// The same var or symbol twice in one patch.
    Duplicate {
        /// The repeated name.
        name: String,
    },
    /// More entries than a patch may have (`MAX_ENTRIES`).
    TooLarge {
        /// How many were given.
        entries: usize,
    },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::MalformedLine { line, text } => write!(
                f,
                "patch manifest line {line} is `{}`: each line must be `<var> <symbol> <signature>`",
                text.escape_debug()
            ),
            ManifestError::BadName { line, name } => write!(
                f,
                "patch manifest line {line}: `{}` is not a C identifier ([A-Za-z_][A-Za-z0-9_]*)",
                name.escape_debug()
            ),
            ManifestError::BadSignature { line, error } => {
                write!(f, "patch manifest line {line}: {error}")
            }
            ManifestError::Duplicate { name } => write!(
                f,
                "patch manifest names `{name}` twice: a patch defines each var once; merge the two definitions"
            ),
            ManifestError::TooLarge { entries } => write!(
                f,
                "patch manifest has {entries} entries, more than the {MAX_ENTRIES} one patch may carry: split the patch"
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

impl PatchManifest {
    /// Parses the line format, checking names, signatures and duplicates.
    pub fn parse(text: &str) -> Result<PatchManifest, ManifestError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            if entries.len() == MAX_ENTRIES {
                return Err(ManifestError::TooLarge {
                    entries: text.lines().filter(|l| !l.trim().is_empty()).count(),
                });
            }
            let fields: Vec<&str> = trimmed.split_whitespace().collect();
            let [var, symbol, sig] = fields[..] else {
                return Err(ManifestError::MalformedLine {
                    line,
                    text: raw.to_string(),
                });
            };
            for name in [var, symbol] {
                if !is_c_identifier(name) {
                    return Err(ManifestError::BadName {
                        line,
                        name: name.to_string(),
                    });
                }
            }
            let signature = Signature::parse(sig)
                .map_err(|error| ManifestError::BadSignature { line, error })?;
            entries.push(PatchEntry {
                var: var.to_string(),
                symbol: symbol.to_string(),
                signature,
            });
        }
        let manifest = PatchManifest { entries };
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks the rules `parse` enforces on a manifest built in code.
    pub fn validate(&self) -> Result<(), ManifestError> {
        if self.entries.len() > MAX_ENTRIES {
            return Err(ManifestError::TooLarge {
                entries: self.entries.len(),
            });
        }
        let mut seen = std::collections::HashSet::new();
        for e in &self.entries {
            for (line, name) in [(0, &e.var), (0, &e.symbol)] {
                if !is_c_identifier(name) {
                    return Err(ManifestError::BadName {
                        line,
                        name: name.clone(),
                    });
                }
            }
            if !seen.insert(("var", e.var.as_str())) {
                return Err(ManifestError::Duplicate {
                    name: e.var.clone(),
                });
            }
            if !seen.insert(("symbol", e.symbol.as_str())) {
                return Err(ManifestError::Duplicate {
                    name: e.symbol.clone(),
                });
            }
        }
        Ok(())
    }

    /// The line format `parse` reads.
    pub fn to_text(&self) -> String {
        self.entries
            .iter()
            .map(|e| format!("{} {} {}\n", e.var, e.symbol, e.signature))
            .collect()
    }
}

#[cfg(feature = "serde")]
pub(crate) mod signature_letters {
    use crate::Signature;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sig: &Signature, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(sig)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Signature, D::Error> {
        let letters = String::deserialize(d)?;
        Signature::parse(&letters).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "serde")]
pub(crate) use signature_letters as serde_signature;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_lines() {
        let text = "step step__hw1 vppf\nnew_fn new_fn__hw1 ii\n";
        let m = PatchManifest::parse(text).unwrap();
        assert_eq!(m.entries.len(), 2);
        assert_eq!(m.entries[0].signature.to_string(), "vppf");
        assert_eq!(m.to_text(), text);
    }

    #[test]
    fn blank_lines_and_spacing_are_tolerated() {
        let m = PatchManifest::parse("\n  a   a__hw1\tii  \n\n").unwrap();
        assert_eq!(m.entries[0].symbol, "a__hw1");
    }

    #[test]
    fn refuses_malformed_input_naming_the_line() {
        assert!(matches!(
            PatchManifest::parse("a b"),
            Err(ManifestError::MalformedLine { line: 1, .. })
        ));
        assert!(matches!(
            PatchManifest::parse("a b ii\nc d e f"),
            Err(ManifestError::MalformedLine { line: 2, .. })
        ));
        assert!(matches!(
            PatchManifest::parse("a-b c ii"),
            Err(ManifestError::BadName { line: 1, .. })
        ));
        assert!(matches!(
            PatchManifest::parse("a b iq"),
            Err(ManifestError::BadSignature { line: 1, .. })
        ));
        assert_eq!(
            PatchManifest::parse("a x ii\na y ii"),
            Err(ManifestError::Duplicate { name: "a".into() })
        );
        assert_eq!(
            PatchManifest::parse("a x ii\nb x ii"),
            Err(ManifestError::Duplicate { name: "x".into() })
        );
    }

    #[test]
    fn an_empty_manifest_is_a_patch_that_only_loads() {
        assert_eq!(PatchManifest::parse("  \n").unwrap().entries, vec![]);
        assert_eq!(PatchManifest::parse("").unwrap().to_text(), "");
    }

    #[test]
    fn refuses_huge_manifests() {
        let text: String = (0..MAX_ENTRIES + 1)
            .map(|i| format!("v{i} s{i} v\n"))
            .collect();
        assert!(matches!(
            PatchManifest::parse(&text),
            Err(ManifestError::TooLarge { .. })
        ));
    }
}
