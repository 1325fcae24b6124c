//! hotwasm-server: the `hotwasm` command and its dev server.
//!
//! Every command reads the app's `hotwasm.toml` through [`config`] and finds hotwasm's own
//! files through [`home`] and the toolchain through [`toolchain`]: [`init`] scaffolds an app,
//! [`bundle`] builds its host (`hotwasm build`), [`serve`] runs the dev server, [`client`] is
//! `hotwasm eval` and the connection of `hotwasm repl`, whose interactive loop is [`repl`].
//!
//! The server serves the app's page, its HOT_RELOAD bundle and hotwasm's web client over HTTP
//! ([`http`]), speaks the protocol of `docs/PROTOCOL.md` on the WebSocket at `/repl`, compiles
//! C, C++ and Rust evals and saved files ([`watch`], debounced by [`saves`]) with the patch
//! pipeline (the `hotwasm-pipeline` crate: [`compile`], [`inspect`], [`layout`]), delivers them
//! to every page, journals them on disk and replays them to pages that (re)connect. A save of
//! one of the host's own sources rebuilds the host and moves every page onto it with the app's
//! state ([`host_reload`]); an edited hotwasm.toml is reloaded ([`config_watch`]).
//!
//! Flow of one eval: [`ws`] reads it → [`eval`] compiles and checks it (the pipeline's
//! `Compiler::compile_eval` and `eval::check`) → [`hub`] journals it ([`journal`]) and queues it
//! for every page → [`ws`] sends it and routes the acks back → [`eval`] answers with
//! `eval_result` ([`protocol`]). An `undo` ([`undo`]) rolls every page back to before a journal
//! entry, code and memory, and the journal forgets what it undid. [`vars`] answers `vars` queries
//! and writes the generated header of current vars.
#![warn(missing_docs)]

pub mod bundle;
pub mod cli;
pub mod client;
pub mod config;
pub mod config_watch;
pub mod cpp_names;
pub mod editors;
pub mod eval;
pub mod host_reload;
pub mod http;
pub mod hub;
pub mod init;
pub mod journal;
pub mod protocol;
pub mod repl;
pub mod repl_commands;
pub mod rolled_back;
pub mod saves;
pub mod security;
pub mod serve;
pub mod session_eval;
pub mod session_stamp;
pub mod sessions;
pub mod undo;
pub mod vars;
pub mod watch;
pub mod ws;

/// The patch pipeline's modules, under the names the server's modules use.
pub use hotwasm_pipeline::{compile, home, inspect, layout, toolchain};
