// Save this file while `hotwasm serve` runs: spin's own `step` (a plain private fn, no marks) is
// replaced by its path, and the host's next frame shows step + 1.
fn step(n: i32) -> i32 {
    n % 100 + 1
}
