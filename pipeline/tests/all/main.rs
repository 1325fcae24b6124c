//! The patch pipeline's integration tests, one binary: real toolchains (emcc's clang and
//! wasm-ld, rustc), no server. Patches that must run are loaded into a small host under Node
//! (`late_binding`: a var registry like the runtime's), in journal order.
//!
//! Where a new test goes: in the module of the behaviour it shows, named as a sentence. What the
//! pipeline does with one eval's text (compile, late binding, globals, includes, checks) belongs
//! here; what the server adds (delivery to pages, the journal, the protocol) goes to
//! server/tests/all. A new behaviour gets a new module here.

#[allow(dead_code)] // The late-binding benchmark and the server's C++ tests use the rest.
mod late_binding;

// Late binding: vars called through slots, globals that keep their storage.
mod globals_persist;
mod vars_are_late_bound;
// Hosts built with threads: -pthread patches, slot addresses in shared memory.
mod patches_for_a_threaded_host;
// An incremental session's object, linked in the session's process.
mod session_objects_link_in_process;

// Compiling: where includes resolve; the toolchain and the Rust prelude.
mod includes_resolve_beside_the_edited_file;
mod toolchain;

// Rust patches: the standard library code the host lacks.
mod rust_std_links_into_patches;
