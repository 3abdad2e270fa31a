//! `make invoke-<function> EVENT=<file>`: one step run by hand on the local stack, as
//! `cargo lambda invoke --data-file tests/events/<function>/<file>.json <function>` does against a
//! deployed watch. Starts connect-sim on a scenario, moto and the function, invokes it with the
//! event file, prints its output (or its error) and stops everything. Exit 1 on a function error.

use std::process::ExitCode;

use clap::Parser;
use local_stack::stack::{Options, Stack};

#[derive(Parser)]
#[command(about = "Invoke one step with an example event against the local stack")]
struct Args {
    /// The function (a directory of functions/).
    function: String,
    /// The event: tests/events/<function>/<event>.json.
    #[arg(long, default_value = "small")]
    event: String,
    /// A scenario of sim/scenarios/.
    #[arg(long, default_value = "small")]
    scenario: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let stack = match Stack::start(Options::new(&args.scenario, &[args.function.as_str()])).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("invoke: the local stack did not start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = stack.invoke_event_file(&args.function, &args.event).await;
    drop(stack);
    match result {
        Ok(out) => {
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.trim());
            ExitCode::FAILURE
        }
    }
}
