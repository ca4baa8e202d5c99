//! The real `hailong-server` binary on a loopback port, for the tests and benches of both
//! packages (each includes this file with `#[path]`): start it, learn its address, run its
//! commands on the same database, read its log; it is killed when dropped.

#![allow(dead_code)] // each includer uses its own part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

pub struct RunningServer {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub binary: PathBuf,
    pub db: PathBuf,
    /// The server's log lines, as it writes them.
    pub log: Receiver<String>,
}

impl RunningServer {
    /// Starts `binary serve` on a port the system picks, with the database `db`.
    pub fn start(binary: &Path, db: &Path) -> RunningServer {
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .env("HAILONG_LOG", "warn,hailong_server=info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("hailong-server starts");
        let (tx, log) = std::sync::mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().expect("a piped stderr"));
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let address = loop {
            let line = log
                .recv_timeout(Duration::from_secs(60))
                .expect("the server prints where it listens");
            if let Some(at) = line.find("address=") {
                break line[at + 8..].split_whitespace().next().unwrap().to_owned();
            }
        };
        RunningServer {
            child,
            url: format!("http://{address}"),
            binary: binary.to_owned(),
            db: db.to_owned(),
            log,
        }
    }

    /// Runs `hailong-server ARGS --db DB` on this server's database; its standard output.
    pub fn command(&self, args: &[&str]) -> String {
        let out = Command::new(&self.binary)
            .args(args)
            .arg("--db")
            .arg(&self.db)
            .output()
            .expect("hailong-server runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// What a command printed alone on its last line: a pairing code or a token.
    pub fn last_line(&self, args: &[&str]) -> String {
        self.command(args)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    /// A new one-time pairing code for `counter`.
    pub fn pairing_code(&self, counter: &str) -> String {
        self.last_line(&["pair", "--counter", counter])
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
