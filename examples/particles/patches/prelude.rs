//! The prelude crate of the demo's Rust patches: its shared types, host functions and hot
//! functions, from the same bindgen output the host uses (`src/bindings.rs`, generated from
//! `include/particles.h`), so a layout can never drift between host and patch.
//! The server compiles it once per toolchain into an rlib and every Rust patch starts with
//! `use hotwasm_patch::*;`.
#![allow(non_camel_case_types, non_upper_case_globals, dead_code)]

#[path = "../src/bindings.rs"]
mod bindings;

pub use bindings::*;
