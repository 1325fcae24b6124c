//! The hotwasm demo: a particle simulation drawn into an RGBA framebuffer, whose behaviour
//! (motion, colour, spawning, background) lives in hot functions that patches replace while
//! the particles, the frame counter and the score carry on.

mod exports;
mod hot;
mod render;
mod state;

pub use hotwasm_runtime::bindings::{Particle, World};

/// Registers the hot functions and builds the world. With `--hotwasm-manifest` on the
/// command line (used by the bundle script under Node) it prints the vars as JSON instead.
pub fn start() {
    hot::register_all();
    if std::env::args().any(|a| a == "--hotwasm-manifest") {
        println!("{}", hot::vars_json());
        return;
    }
    state::init(640, 400, 3000);
}
