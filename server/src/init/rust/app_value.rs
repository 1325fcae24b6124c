// Save this file while `hotwasm serve` runs: the app's own `app_value` (a plain fn, no marks) is
// replaced by its path, and the app calls the new one at once.
fn app_value(frame: i32) -> i32 {
    frame % 100
}
