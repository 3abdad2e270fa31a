use std::io::Write;
use std::net::SocketAddr;

use clap::Parser;

/// Routes Lambda invocations to `cargo lambda watch` and everything else to moto.
#[derive(Parser)]
struct Args {
    /// Loopback address to listen on (moto's MOTO_PORT).
    #[arg(long)]
    listen: SocketAddr,
    /// moto server base URL.
    #[arg(long)]
    moto: String,
    /// `cargo lambda watch` base URL.
    #[arg(long)]
    lambda: String,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        eprintln!("lambda-adapter: listens on loopback only");
        std::process::exit(2);
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("lambda-adapter: cannot listen on {}: {e}", args.listen);
            std::process::exit(2);
        }
    };
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("listening on http://{local}");
    let _ = std::io::stdout().flush();
    let app =
        local_stack::adapter::router(local_stack::adapter::Adapter::new(args.moto, args.lambda));
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("lambda-adapter: {e}");
        std::process::exit(1);
    }
}
