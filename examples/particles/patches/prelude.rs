//! The prelude crate of Rust patches: the demo's shared types and host functions, from the
//! same bindgen output the host uses (`runtime/src/bindings.rs`, generated from
//! `abi/include/hotwasm.h`), so a layout can never drift between host and patch.
//! The server compiles it once per toolchain into an rlib and every Rust patch starts with
//! `use hotwasm_patch::*;`.
#![allow(non_camel_case_types, non_upper_case_globals, dead_code)]

#[path = "../../../runtime/src/bindings.rs"]
mod bindings;

pub use bindings::{demo_random, demo_world, Particle, World};
