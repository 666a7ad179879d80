//! The `shush` binary: parse the command line, run, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = shush::cli::Cli::parse();
    match shush::app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                // The reader went away (`shush scan | head`): stop quietly.
                return ExitCode::from(shush::app::EXIT_CLEAN);
            }
            eprintln!("shush: error: {err:#}");
            ExitCode::from(shush::app::EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
