//! garden: plants grow a little every frame and are drawn into the page's canvas. How fast they
//! grow, their colour and when it rains are hot functions: edit them live, the garden (every
//! plant's height, the day count) carries on.

use hotwasm_runtime::hot_fn;
use std::cell::RefCell;

const PLANTS: usize = 40;
const WIDTH: usize = 320;
const HEIGHT: usize = 200;

hot_fn! {
    /// How many pixels a plant grows on `day`.
    pub fn growth(day: u32) -> f32 { 0.05 + (day % 7) as f32 * 0.01 }

    /// A plant's colour by its height (0xAABBGGRR).
    pub fn leaf_color(height: f32) -> u32 { if height > 100.0 { 0xff20a040 } else { 0xff30d060 } }

    /// Whether it rains on `day` (rain lets every plant grow twice as fast).
    pub fn rains(day: u32) -> bool { day % 10 == 0 }
}

struct Garden {
    heights: [f32; PLANTS],
    day: u32,
    pixels: Vec<u32>,
}

thread_local! {
    static GARDEN: RefCell<Garden> = RefCell::new(Garden {
        heights: [1.0; PLANTS],
        day: 0,
        pixels: vec![0; WIDTH * HEIGHT],
    });
}

extern "C" {
    /// Puts the RGBA pixels into the page's canvas (src/draw.js, linked with --js-library).
    fn garden_blit(pixels: *const u32, width: u32, height: u32);
}

/// Sets the garden up (hot functions registered themselves before `main`).
pub fn start() {}

/// One frame: a new day, every plant grows, the garden is drawn.
#[no_mangle]
pub extern "C" fn garden_frame() {
    GARDEN.with_borrow_mut(|g| {
        g.day += 1;
        let rain = if rains(g.day) { 2.0 } else { 1.0 };
        for h in g.heights.iter_mut() {
            *h = (*h + growth(g.day) * rain).min(HEIGHT as f32);
        }
        draw(g);
        // SAFETY: the pixels are WIDTH * HEIGHT u32s that live as long as the call.
        unsafe { garden_blit(g.pixels.as_ptr(), WIDTH as u32, HEIGHT as u32) };
    });
}

fn draw(g: &mut Garden) {
    g.pixels.fill(0xff302010);
    let column = WIDTH / PLANTS;
    for (i, h) in g.heights.iter().enumerate() {
        let color = leaf_color(*h);
        let top = HEIGHT - (*h as usize).min(HEIGHT);
        for y in top..HEIGHT {
            for x in i * column + 1..(i + 1) * column - 1 {
                g.pixels[y * WIDTH + x] = color;
            }
        }
    }
}

/// Days since start.
#[no_mangle]
pub extern "C" fn garden_day() -> u32 {
    GARDEN.with_borrow(|g| g.day)
}

/// The tallest plant's height in pixels.
#[no_mangle]
pub extern "C" fn garden_tallest() -> f32 {
    GARDEN.with_borrow(|g| g.heights.iter().copied().fold(0.0, f32::max))
}

/// The colour plant 0 is drawn with now (what a test checks after an edit).
#[no_mangle]
pub extern "C" fn garden_first_color() -> u32 {
    GARDEN.with_borrow(|g| leaf_color(g.heights[0]))
}
