//! The real `hailong-server` binary as a process on a loopback port, for what only a process
//! shows (SIGTERM and SIGKILL, its open-file limit, its memory) and for the benches, which
//! measure the server alone (each includes this file with `#[path]`): start it, learn its
//! address, run its commands on the same database, read its log; it is killed when dropped.

#![allow(dead_code)] // each includer uses its own part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

pub struct ServerProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub binary: PathBuf,
    pub db: PathBuf,
    /// The server's log lines, as it writes them.
    pub log: Receiver<String>,
    /// The arguments after `--db`, given again on a restart.
    extra: Vec<std::ffi::OsString>,
}

impl ServerProcess {
    /// Starts `binary serve` on a port the system picks, with the database `db`.
    pub fn start(binary: &Path, db: &Path) -> ServerProcess {
        ServerProcess::start_with(binary, db, "127.0.0.1:0", &[])
    }

    /// Starts `binary serve --listen LISTEN EXTRA…`; with `--tls-cert` in `extra` its address
    /// is `https://localhost:PORT`.
    pub fn start_with(
        binary: &Path,
        db: &Path,
        listen: &str,
        extra: &[&std::ffi::OsStr],
    ) -> ServerProcess {
        ServerProcess::spawn(Command::new(binary), binary, db, listen, extra)
    }

    /// Starts it as `start` does, under an open-file limit of `open_files` (`ulimit -n`).
    pub fn start_limited(
        binary: &Path,
        db: &Path,
        open_files: u32,
        extra: &[&std::ffi::OsStr],
    ) -> ServerProcess {
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!("ulimit -n {open_files} && exec \"$0\" \"$@\""))
            .arg(binary);
        ServerProcess::spawn(shell, binary, db, "127.0.0.1:0", extra)
    }

    fn spawn(
        mut command: Command,
        binary: &Path,
        db: &Path,
        listen: &str,
        extra: &[&std::ffi::OsStr],
    ) -> ServerProcess {
        let tls = extra.iter().any(|a| *a == "--tls-cert");
        let mut child = command
            .args(["serve", "--listen", listen, "--db"])
            .arg(db)
            .args(extra)
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
        let url = match address.rsplit_once(':') {
            Some((_, port)) if tls => format!("https://localhost:{port}"),
            _ => format!("http://{address}"),
        };
        ServerProcess {
            child,
            url,
            binary: binary.to_owned(),
            db: db.to_owned(),
            log,
            extra: extra.iter().map(|a| a.to_os_string()).collect(),
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

    /// `hailong-server user add --name NAME` with `password` on standard input; its outcome
    /// (a refused name is refused before the password is read).
    pub fn add_user(&self, name: &str, password: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = Command::new(&self.binary)
            .args(["user", "add", "--name", name, "--db"])
            .arg(&self.db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hailong-server runs");
        let _ = writeln!(child.stdin.take().expect("a piped stdin"), "{password}");
        child.wait_with_output().expect("hailong-server runs")
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

    /// The address it listens on, `127.0.0.1:PORT`.
    pub fn listen_address(&self) -> String {
        let port = self
            .url
            .rsplit_once(':')
            .map(|(_, p)| p)
            .unwrap_or_default();
        format!("127.0.0.1:{port}")
    }

    /// Kills the server at once (SIGKILL: no clean stop) and waits for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks it to stop (SIGTERM), waits until it has, checks it exited cleanly, and returns
    /// the log lines it wrote since last read.
    pub fn stop(&mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
        // Every line it wrote, to its end: the reader may not have passed on the last ones yet
        // when the process is gone.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut lines = Vec::new();
        while let Ok(line) = self
            .log
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            lines.push(line);
        }
        lines
    }

    /// Kills it, then starts it again on the same port and database.
    pub fn restart(mut self) -> ServerProcess {
        self.kill();
        let extra: Vec<&std::ffi::OsStr> = self.extra.iter().map(|a| a.as_os_str()).collect();
        ServerProcess::start_with(&self.binary, &self.db, &self.listen_address(), &extra)
    }

    /// Stops it, puts `backup` in place of its database with `restore --force`, and starts
    /// it again on the same port (as a commune would after replacing a broken disk).
    pub fn restored_from(mut self, backup: &Path) -> ServerProcess {
        self.stop();
        let backup = backup.to_str().expect("a UTF-8 path");
        self.command(&["restore", "--force", "--from", backup]);
        let extra: Vec<&std::ffi::OsStr> = self.extra.iter().map(|a| a.as_os_str()).collect();
        ServerProcess::start_with(&self.binary, &self.db, &self.listen_address(), &extra)
    }

    /// A new one-time pairing code for `counter`.
    pub fn pairing_code(&self, counter: &str) -> String {
        self.last_line(&["pair", "--counter", counter])
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
