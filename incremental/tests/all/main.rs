//! Integration tests of hotwasm-incremental with the real clang-19 and emcc (one binary).
//! A new test goes in the module of the behaviour it shows: `classification` (what clang says an
//! eval is), `persistence` (what later evals still see), `undo_and_errors` (inputs that leave
//! or fail), `unfinished_inputs` (inputs that end inside a construct), `objects` (the wasm32
//! objects and their link), `percall` (candidate b), `spares` (one-shot sessions started ahead).
//! Needs `eval "$(bash scripts/setup.sh --print-env)"`.

mod classification;
mod objects;
mod percall;
mod persistence;
mod spares;
mod undo_and_errors;
mod unfinished_inputs;
mod util;
