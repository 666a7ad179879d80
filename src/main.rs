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
            eprintln!("shush: error: {}", said_once(&err));
            ExitCode::from(cmd::EXIT_ERROR)
        }
    }
}

/// The error and its causes, joined by `: ` as `{:#}` joins them, but each cause only when
/// the text so far does not already say it (many errors quote their cause in their own
/// message).
fn said_once(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let said = cause.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
    }
    text
}
