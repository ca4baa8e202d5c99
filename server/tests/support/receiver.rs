//! A real HTTP receiver for the webhook's tests: keeps each request's headers and JSON body,
//! answers 200.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A request's header lines and JSON body.
pub type Request = (Vec<String>, serde_json::Value);

/// A real HTTP receiver: keeps each request's headers and JSON body, answers 200.
pub struct Receiver {
    got: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    pub fn start(listener: TcpListener) -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let keep = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let line = line.trim_end().to_owned();
                    if line.is_empty() {
                        break;
                    }
                    headers.push(line);
                }
                let length: usize = headers
                    .iter()
                    .find_map(|h| {
                        h.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|n| n.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                keep.lock()
                    .unwrap()
                    .push((headers, serde_json::from_slice(&body).unwrap()));
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .unwrap();
            }
        });
        Receiver { got }
    }

    pub fn received(&self) -> Vec<Request> {
        self.got.lock().unwrap().clone()
    }
}
