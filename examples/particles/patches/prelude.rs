//! The prelude crate of the demo's Rust patches: its shared types, host functions and hot
//! functions, from the same bindgen output the host uses (`src/bindings.rs`, generated from
//! `include/particles.h`), so a layout can never drift between host and patch.
//! The server compiles it once per toolchain into an rlib and adds `use hotwasm_patch::*;` to
//! every Rust patch (write it in a patch yourself too, so an editor sees these names).
#![allow(non_camel_case_types, non_upper_case_globals, dead_code)]

#[path = "../src/bindings.rs"]
mod bindings;

pub use bindings::*;
