//! The `scimd` binary: parse the command line, hand over to the library.

use clap::Parser;

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
