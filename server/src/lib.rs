//! hotwasm-server: the dev server of hotwasm.
//!
//! It serves the page and the HOT_RELOAD bundle over HTTP, speaks the protocol of
//! `docs/PROTOCOL.md` on the WebSocket at `/repl`, compiles C evals and saved files into
//! SIDE_MODULE patches, checks them against the host manifest, delivers them to every page,
//! journals them on disk and replays them to pages that (re)connect.
#![warn(missing_docs)]

pub mod compile;
pub mod inspect;
pub mod protocol;
