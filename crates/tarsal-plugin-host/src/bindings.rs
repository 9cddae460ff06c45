//! Host-side bindings generated from `wit/program.wit`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "plugin",
});

pub use tarsal::program::types as wit;
