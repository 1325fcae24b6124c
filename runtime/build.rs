//! Test binaries export their symbols (`-rdynamic`) so that native patch fixtures can call
//! host functions and read host globals, as side modules do in the wasm host.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-tests=-rdynamic");
    }
}
