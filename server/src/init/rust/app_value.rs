// Save this file while `hotwasm serve` runs: the app calls the new app_value at once.
#[no_mangle]
pub extern "C" fn app_value(frame: i32) -> i32 {
    frame % 100
}
