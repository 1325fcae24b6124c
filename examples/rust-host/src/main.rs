//! The garden's entry point: the page drives the days (`garden_frame`).
fn main() {
    garden::start();
}
