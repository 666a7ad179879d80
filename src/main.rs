//! The `shush` binary: parse the command line, run, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = shush::cli::Cli::parse();
    match shush::app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if shush::app::is_broken_pipe(&err) {
                // The reader went away (`shush rules list | head`): stop quietly. (A scan
                // handles this itself, so that its exit code still reports findings.)
                return ExitCode::from(shush::app::EXIT_CLEAN);
            }
            eprintln!("shush: error: {err:#}");
            ExitCode::from(shush::app::EXIT_ERROR)
        }
    }
}
