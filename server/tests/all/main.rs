//! The server's integration tests, one binary (one link of the server): the real `hotwasm`
//! binary on a loopback port with real emcc, real WebSocket clients as pages and terminals
//! (`util`), and `hotwasm init` apps built and live-edited.
//!
//! Where a new test goes: in the module of the behaviour it shows, named as a sentence
//! (`a_page_that_reconnects_gets_every_entry_once`). A test of the patch pipeline alone (compile,
//! late binding, checks; no server) goes to pipeline/tests/all instead; a Node or Chromium test
//! of the web client to tests/ (see tests/README.md). A new behaviour gets a new module here.

mod util;
// The pipeline's late-binding harness (a host under Node, no server): C++ patches use it too.
#[path = "../../../pipeline/tests/all/late_binding.rs"]
#[allow(dead_code)] // Shared with the pipeline's tests; these use a subset.
mod late_binding;

// Serving: who may connect and what bad input gets.
mod hostile_inputs;
mod security_token_origin_host;
mod stale_session_program;

// An eval through the server: compiled, checked, delivered, answered.
mod eval_delivers_to_every_page;
mod eval_refuses_bad_patches;
mod fast_path_matches_emcc;
mod layout_changes_are_refused;
mod layouts_are_compared_by_structure;
mod named_evals_read_precompiled_headers;
mod one_growing_program;
mod statements_and_expressions;
mod vars_from_clang;
mod vars_query_and_header;

// Languages beyond C.
mod cpp_patches;
mod cpp_runtime_in_every_host;
mod rust_evals_keep_their_items;
mod rust_patches;

// The journal: kept across restarts, undone on every page.
mod journal_survives_restart;
mod reload_replays_definitions_not_commands;
mod undo_forgets_entries_on_every_page;

// Saved files and whole apps.
mod file_watch_delivers_saves;
mod init_apps_live_edit_on_the_first_try;
mod late_binding_in_a_real_app;

// What adopters and a fresh machine hit (issue 20): wedged queue, config edits, build flavours.
mod field_reports;

// Clients: the terminal REPL; inputs the fuzzer once found.
mod fuzz_regressions;
mod terminal_repl;
