//! hello-rust-deps is hello-rust with the crates a real service starts from: clap parses its flags and
//! environment, serde derives its JSON answer, serde_json writes it. Each request gets a numbered greeting.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

use clap::Parser;
use serde::Serialize;

/// A small JSON greeting server.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    listen: String,
    /// Who the greeting is for.
    #[arg(long, env = "GREETING_NAME", default_value = "world")]
    name: String,
}

#[derive(Serialize)]
struct Greeting<'a> {
    message: String,
    from: &'a str,
    request: u64,
}

fn answer(mut stream: TcpStream, args: &Args, request: u64) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    // Read the request head up to the blank line; the body, if any, is ignored.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let greeting = Greeting {
        message: format!("hello, {}", args.name),
        from: "a static Rust binary with crates",
        request,
    };
    let body = serde_json::to_string(&greeting)? + "\n";
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    )
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(&args.listen)?;
    eprintln!("listening on {}", args.listen);
    for (request, stream) in (1..).zip(listener.incoming()) {
        if let Err(error) = stream.and_then(|s| answer(s, &args, request)) {
            eprintln!("request failed: {}", error);
        }
    }
    Ok(())
}
