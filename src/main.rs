//! The `scimd` binary: parse the command line, hand over to the library.

use clap::Parser;

/// See Cargo.toml: glibc malloc let a long-running server's resident memory
/// creep with fragmentation; jemalloc's background purging keeps it flat.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let cli = scimd::cli::Cli::parse();
    // The server logs at info by default; commands stay quiet so their output
    // is only what they print.
    let default_level = match cli.command {
        None | Some(scimd::cli::Command::Serve) => "info",
        Some(_) => "warn",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
        .init();
    if let Err(e) = scimd::cli::run(cli) {
        eprintln!("scimd: {}", e.message);
        std::process::exit(e.code);
    }
}
