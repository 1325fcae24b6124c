// Save this file while `hotwasm serve` runs: the plants turn red, the garden keeps growing.
#[no_mangle]
pub extern "C" fn leaf_color(height: f32) -> u32 {
    if height > 50.0 { 0xff2020d0 } else { 0xff4040f0 }
}
