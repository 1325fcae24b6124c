//! hotwasm-pipeline: eval text (C, C++ or Rust) → a linked SIDE_MODULE patch, checked against
//! the running host's manifest. It compiles, binds late, renames and inspects; it knows nothing
//! of HTTP, WebSockets, threads or the journal's storage (the server crate serves and journals).
//!
//! The entry point is [`Compiler`]: [`Compiler::compile_eval`] turns one eval's [`eval::Source`]
//! into a [`compile::Compiled`] patch, and [`eval::check`] renames it for its journal sequence
//! number and checks it against the host and what earlier patches defined ([`inspect::Known`]).
//!
//! What lives where:
//! - [`eval`]: one eval's compile and its check; the steps in order.
//! - [`compile`]: C, C++ and Rust to a linked SIDE_MODULE (the fast path, plain emcc, rustc),
//!   under time and memory limits: late binding of vars and globals ([`compile::latebind`], [`compile::trampolines`]), the C and C++
//!   libraries a patch links, renaming exports ([`compile::rename`]); the one wasm rewrite
//!   ([`compile::rewrite`], wasm-encoder) and the toolchain probes kept once they succeed
//!   ([`compile::probe`]).
//! - [`inspect`]: reads a linked patch and checks it against the host manifest.
//! - [`layout`]: the memory layouts of shared types, read from clang's dump, and their check.
//! - [`vars_header`]: the generated header of current vars (a session's prelude declares them).
//! - [`lang`]: the eval languages and compiler diagnostics (the wire protocol speaks them too).
//! - [`toolchain`], [`home`]: finding the Emscripten/LLVM/Rust tools and hotwasm's checkout.
//! - [`files`]: the one atomic file write (the server's journal and `hotwasm build` use it too).
//!
//! Tests: unit tests beside each module; tests of the pipeline with a real toolchain in
//! `tests/` (see its top comment for where a new one goes).
#![warn(missing_docs)]

pub mod compile;
pub mod eval;
pub mod files;
pub mod home;
pub mod inspect;
pub mod lang;
pub mod layout;
pub mod toolchain;
pub mod vars_header;

pub use compile::{CompileError, Compiled, Compiler, CompilerConfig};
pub use lang::{Diagnostic, Lang, LANGS};
