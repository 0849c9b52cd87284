//! Exports simnet's libc overrides (see `src/sim/determinism.rs`) in the dynamic
//! symbol table of every binary, test and benchmark, so that code which finds
//! `getrandom` through `dlsym(RTLD_DEFAULT, …)` (the getrandom crate, std's hash
//! keys) reaches the override too. Outside a simulation the overrides pass
//! every call through to the operating system.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        for symbol in ["getrandom", "getentropy", "clock_gettime"] {
            println!("cargo:rustc-link-arg=-Wl,--export-dynamic-symbol={symbol}");
        }
    }
}
