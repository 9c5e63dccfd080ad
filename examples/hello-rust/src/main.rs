//! hello-rust is an HTTP server on the standard library alone: no crates.
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    // Read the request head up to the blank line; the body, if any, is ignored.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let body = "hello from a static Rust binary\n";
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    )
}

fn main() -> std::io::Result<()> {
    let addr = std::env::var("LISTEN_ADDR").unwrap_or_else(|_| "0.0.0.0:8080".to_string());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("listening on {}", addr);
    for stream in listener.incoming() {
        if let Err(error) = stream.and_then(answer) {
            eprintln!("request failed: {}", error);
        }
    }
    Ok(())
}
