//! Entry point of the particle demo: sets the world up and returns; the page drives the frames
//! (`demo_frame`), so a trap in a patched function is caught in JS and rolled back.
fn main() {
    particles::start();
    // Also links std's print path into the host, which Rust patches' `println!` imports.
    println!("particles: {} particles", particles::particle_count());
}
