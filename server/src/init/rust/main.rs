fn main() {
    {{crate}}::start();
}
