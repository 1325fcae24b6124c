//! Entry point of the demo host: sets the world up and returns; the page drives the frames
//! (`demo_frame`), so a trap in a patched function is caught in JS and rolled back.
fn main() {
    particles::start();
}
