//! Relinks the host when the export list `scripts/emscripten-bundle.sh` wrote has changed
//! (the list reaches the linker through a file, which cargo does not see by itself).
fn main() {
    println!("cargo:rerun-if-env-changed=HOTWASM_EXPORT_LIST");
    if let Ok(paths) = std::env::var("HOTWASM_EXPORT_LIST") {
        for path in paths.split_whitespace() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
