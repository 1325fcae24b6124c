//! spin's entry point: the page drives the frames (`spin_frame`).
fn main() {
    spin::start();
}
