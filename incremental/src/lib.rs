//! hotwasm-incremental: the design spike of issue 21 ("one growing program").
//!
//! A REPL session is one C or C++ translation unit that every eval extends. Two ways to get
//! there are built here and measured side by side (`cargo bench -p hotwasm-incremental`,
//! docs/INCREMENTAL.md):
//!
//! - [`Session`] (candidate a): a long-lived child process, `hotwasm-clang-session`, keeps one
//!   clang `CompilerInstance` alive in incremental mode and answers each eval with a wasm32
//!   object plus what clang learnt (diagnostics, declarations, macros, statements, the final
//!   expression and its type). It speaks the framed [`protocol`].
//! - [`percall::PerCallSession`] (candidate b): one clang process per eval, the session's
//!   context carried as the text of earlier declarations, chosen by clang's `-ast-dump=json`.
//!
//! [`cc1`] turns the `clang -cc1` line emcc runs into what either needs.

pub mod cc1;
pub mod corpus;
pub mod link;
pub mod oneshot;
pub mod percall;
pub mod protocol;
pub mod report;
mod session;
pub mod spare;

pub use report::{Decl, Diagnostic, EvalOutput, Field, MacroChange};
pub use session::{Lang, Session, SessionError, SessionLimits};
