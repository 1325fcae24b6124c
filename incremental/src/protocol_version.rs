//! The version of the framed protocol between the server and `hotwasm-clang-session`, the one
//! fact both sides are built from: the library reads it as `protocol::PROTOCOL_VERSION`, and
//! build.rs gives it to the session's C++ half as `-DHOTWASM_SESSION_PROTOCOL`, which the
//! program's Ready frame reports. Raise it whenever a request, an answer or the report changes.

/// The protocol version (0 is what a program from before the handshake had reports).
pub const PROTOCOL_VERSION: u32 = 1;
