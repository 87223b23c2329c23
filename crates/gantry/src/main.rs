//! gantry: the command line. Glue only: parses arguments, calls the library
//! crates, prints results and maps outcomes to exit codes (0 ok, 1 the job
//! found problems or failed, 2 usage or configuration error).

mod cli;
mod client;
mod drift;
mod run_cmd;
mod scan_cmd;
mod server_cmd;
mod tf_args;
mod tf_cmd;
mod validate;

use std::process::ExitCode;

use clap::Parser;

/// How a command ended badly.
pub enum Failure {
    /// The job ran and failed, or found problems: exit 1.
    Failed(anyhow::Error),
    /// The command was used wrongly or the configuration is invalid: exit 2.
    Usage(anyhow::Error),
    /// Already reported (diagnostics printed): exit with this code.
    Reported(u8),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Failed(e)
    }
}

pub type CmdResult = Result<(), Failure>;

fn main() -> ExitCode {
    // State backends implemented outside gantry-iac.
    gantry_iac::state::backend::register_backend("s3", gantry_aws::backend::s3_backend);
    let outcome = cli::dispatch(cli::Cli::parse());
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Failed(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Reported(code)) => ExitCode::from(code),
    }
}
