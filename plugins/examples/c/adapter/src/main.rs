use std::io::Write;

use wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER;

fn main() {
    std::io::stdout()
        .write_all(WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)
        .expect("writing the adapter");
}
