//! `cargo run -p uniffi-bindgen -- generate --library <libsportello_mobile.so> --language kotlin
//! --out-dir <dir>`: the bindings generator at exactly the UniFFI version the library was built with
//! (a mismatch makes the generated code refuse the library at load time).

fn main() {
    uniffi::uniffi_bindgen_main();
}
