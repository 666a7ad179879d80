//! The `shush` binary: parse the command line, run, map the outcome to an exit code.

mod cmd;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cmd::cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if cmd::is_broken_pipe(&err) {
                // The reader went away (`shush rules list | head`): stop quietly. (A scan
                // handles this itself, so that its exit code still reports findings.)
                return ExitCode::from(cmd::EXIT_CLEAN);
            }
            eprintln!("shush: error: {err:#}");
            ExitCode::from(cmd::EXIT_ERROR)
        }
    }
}
