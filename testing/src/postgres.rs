//! A private PostgreSQL: `initdb` into a temporary folder, started on a free loopback port
//! with its socket in that folder, stopped (immediately, as a crash would) and removed when
//! dropped. PostgreSQL refuses to run as root, so under root (CI) its programs run as the
//! `postgres` system user and the folder is given to that user.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Where Debian's `postgresql` package puts the server's programs.
const BIN_DIRS: &[&str] = &[
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
];

#[derive(Debug)]
pub enum PostgresError {
    /// No PostgreSQL server programs on this machine.
    NotInstalled,
    Io(std::io::Error),
    /// A program failed: what it was, and what it said.
    Failed(String, String),
}

impl std::fmt::Display for PostgresError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostgresError::NotInstalled => write!(
                f,
                "no PostgreSQL server here: install Debian's postgresql package"
            ),
            PostgresError::Io(e) => write!(f, "{e}"),
            PostgresError::Failed(what, said) => write!(f, "{what} failed: {said}"),
        }
    }
}

impl std::error::Error for PostgresError {}

impl From<std::io::Error> for PostgresError {
    fn from(e: std::io::Error) -> Self {
        PostgresError::Io(e)
    }
}

/// A running private PostgreSQL; user `postgres`, no password (trust on loopback only).
pub struct PrivatePostgres {
    bin: PathBuf,
    /// Holds `data/`, the socket and `server.log`; removed last.
    dir: tempfile::TempDir,
    port: u16,
    /// The `postgres` user's id when this process is root: its programs run as that user.
    run_as: Option<u32>,
    running: std::cell::Cell<bool>,
    /// Databases made with `create_database`.
    made: std::cell::Cell<usize>,
    /// It takes TLS connections too (`server.crt` and `server.key` in its data folder).
    tls: bool,
}

impl PrivatePostgres {
    /// Makes and starts a new cluster.
    pub fn start() -> Result<PrivatePostgres, PostgresError> {
        PrivatePostgres::make(None)
    }

    /// Makes and starts a new cluster that takes TLS connections too, with the certificate
    /// chain `cert_pem` and its key `key_pem` (PEM); plain ones still work.
    pub fn start_with_tls(cert_pem: &str, key_pem: &str) -> Result<PrivatePostgres, PostgresError> {
        PrivatePostgres::make(Some((cert_pem, key_pem)))
    }

    fn make(tls: Option<(&str, &str)>) -> Result<PrivatePostgres, PostgresError> {
        let bin = BIN_DIRS
            .iter()
            .map(PathBuf::from)
            .find(|dir| dir.join("pg_ctl").is_file())
            .ok_or(PostgresError::NotInstalled)?;
        let dir = tempfile::Builder::new().prefix("hailong-pg-").tempdir()?;
        let run_as = if is_root() {
            let uid = postgres_uid()?;
            std::os::unix::fs::chown(dir.path(), Some(uid), None)?;
            Some(uid)
        } else {
            None
        };
        let mut pg = PrivatePostgres {
            bin,
            dir,
            port: free_port()?,
            run_as,
            running: std::cell::Cell::new(false),
            made: std::cell::Cell::new(0),
            tls: tls.is_some(),
        };
        let data = pg.data_dir();
        pg.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        if let Some((cert, key)) = tls {
            // Where PostgreSQL looks by default; the key readable by its owner alone, and that
            // owner the server's user.
            use std::os::unix::fs::PermissionsExt;
            for (name, pem) in [("server.crt", cert), ("server.key", key)] {
                let path = data.join(name);
                std::fs::write(&path, pem)?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                if let Some(uid) = pg.run_as {
                    std::os::unix::fs::chown(&path, Some(uid), None)?;
                }
            }
        }
        // The port was free when picked; another process may have taken it since.
        for _ in 0..3 {
            match pg.start_server() {
                Err(PostgresError::Failed(_, said)) if said.contains("already in use") => {
                    pg.port = free_port()?;
                }
                started => return started.map(|()| pg),
            }
        }
        pg.start_server()?;
        Ok(pg)
    }

    /// A connection string for database `postgres` as user `postgres`.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// A connection string for database `name` (made with [`PrivatePostgres::create_database`]).
    pub fn url_of(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Makes an empty database `name`, so tests of one cluster stay apart.
    pub fn create_database(&self, name: &str) -> Result<String, PostgresError> {
        let port = self.port.to_string();
        let socket = self.dir.path().to_owned();
        self.run(
            "createdb",
            &[
                "-h".as_ref(),
                socket.as_os_str(),
                "-p".as_ref(),
                port.as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                name.as_ref(),
            ],
        )?;
        self.made.set(self.made.get() + 1);
        Ok(self.url_of(name))
    }

    /// How many databases were made with `create_database`.
    pub fn databases(&self) -> usize {
        self.made.get()
    }

    /// Kills the server as a crash or a power cut would (`immediate`: no checkpoint, every
    /// connection dropped), then starts it again on the same port; it recovers from its WAL.
    pub fn restart(&self) -> Result<(), PostgresError> {
        self.stop()?;
        self.start_server()
    }

    /// Stops the server immediately.
    pub fn stop(&self) -> Result<(), PostgresError> {
        if self.running.get() {
            let data = self.data_dir();
            self.run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "-w".as_ref(),
                    "stop".as_ref(),
                ],
            )?;
            self.running.set(false);
        }
        Ok(())
    }

    fn start_server(&self) -> Result<(), PostgresError> {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        // fsync stays on: the faults tested against this server are crashes.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c ssl={}",
            self.port,
            self.dir.path().display(),
            if self.tls { "on" } else { "off" }
        );
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        )?;
        self.running.set(true);
        Ok(())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server's log so far, for a failing test to show.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<Output, PostgresError> {
        let path = self.bin.join(program);
        let mut command = match self.run_as {
            Some(_) => {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        command.args(args).current_dir(self.dir.path());
        let output = command.output()?;
        if output.status.success() {
            Ok(output)
        } else {
            let said = format!(
                "{}{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                self.log()
            );
            Err(PostgresError::Failed(program.to_owned(), said))
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("the private PostgreSQL did not stop: {e}");
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn postgres_uid() -> Result<u32, PostgresError> {
    let out = Command::new("id").args(["-u", "postgres"]).output()?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| PostgresError::Failed("id -u postgres".into(), "no postgres user".into()))
}

/// A loopback port free now (the kernel's choice), for the server to listen on.
fn free_port() -> Result<u16, PostgresError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
