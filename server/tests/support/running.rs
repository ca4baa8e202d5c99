//! The real server, in-process, on a loopback port, for the tests and benches of both packages
//! (each includes this file with `#[path]`): `hailong_server::run` on a runtime of its own, its
//! commands run through `hailong_server::commands` on the same database, its log lines caught
//! as it writes them. Stopped (as by SIGTERM) or dropped at once (as by a crash) on demand.
//! Inside [`on_postgres`], every server a test starts keeps its data in a private PostgreSQL
//! instead of the SQLite file it is given (whose path then names only its files' folder).

#![allow(dead_code)] // each includer uses its own part

use hailong_server::cli::{Cli, Command};
use hailong_server::commands::{self, Console};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

thread_local! {
    /// The private PostgreSQL of the test running on this thread, inside `on_postgres`.
    static POSTGRES: std::cell::RefCell<Option<std::rc::Rc<hailong_testing::PrivatePostgres>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `test` with every server it starts on a private PostgreSQL (one database per server
/// file), stopped afterwards.
pub fn on_postgres(test: impl FnOnce()) {
    let postgres = hailong_testing::PrivatePostgres::start().expect("a private PostgreSQL");
    POSTGRES.with(|p| *p.borrow_mut() = Some(std::rc::Rc::new(postgres)));
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            POSTGRES.with(|p| p.borrow_mut().take());
        }
    }
    let _clear = Clear;
    test();
    let used = POSTGRES.with(|p| p.borrow().as_ref().is_some_and(|pg| pg.databases() > 0));
    assert!(used, "the test started no server on PostgreSQL");
}

/// Inside `on_postgres`: kills the private PostgreSQL as a power cut would and starts it
/// again (every server's connections break); `false` outside.
pub fn restart_postgres() -> bool {
    POSTGRES.with(|p| {
        let postgres = p.borrow().clone();
        postgres.is_some_and(|pg| {
            pg.restart().expect("PostgreSQL starts again");
            true
        })
    })
}

/// The PostgreSQL database standing for `db`, inside `on_postgres`.
pub fn postgres_url(db: &Path) -> Option<String> {
    POSTGRES.with(|p| {
        let postgres = p.borrow().clone()?;
        // One database per file: a restart finds the same one.
        let digest = db
            .to_string_lossy()
            .bytes()
            .fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
            });
        let name = format!("t{digest:016x}");
        let _ = postgres.create_database(&name);
        Some(postgres.url_of(&name))
    })
}

/// Runs `hailong-server ARGV` in-process with `input` on its standard input; what it said, as
/// a process would (exit code, output, errors). Nothing is read from a configuration file this
/// machine may have (/etc/hailong-server) unless ARGV names one with `--config`.
pub fn hailong_server_command(
    mut argv: Vec<std::ffi::OsString>,
    input: &str,
) -> std::process::Output {
    use std::os::unix::process::ExitStatusExt;
    if !argv.iter().any(|a| a == "--config") {
        argv.extend(["--config".into(), "/dev/null".into()]);
    }
    let mut stdout = Vec::new();
    let (code, stderr) = match <Cli as clap::Parser>::try_parse_from(&argv) {
        Err(e) => (2, e.to_string()),
        Ok(cli) => {
            let mut input = std::io::Cursor::new(input.as_bytes().to_vec());
            let said = commands::execute(
                cli,
                &mut Console {
                    out: &mut stdout,
                    input: &mut input,
                    prompts: false,
                },
            );
            match said {
                Ok(()) => (0, String::new()),
                Err(e) => (
                    i32::from(commands::exit_code(&e)),
                    format!("hailong-server: {e:#}"),
                ),
            }
        }
    };
    std::process::Output {
        status: std::process::ExitStatus::from_raw(code << 8),
        stdout,
        stderr: stderr.into_bytes(),
    }
}

pub struct RunningServer {
    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with `--tls-cert`.
    pub url: String,
    pub db: PathBuf,
    /// The PostgreSQL database it keeps its data in, inside `on_postgres`.
    pub postgres: Option<String>,
    /// The server's log lines, as it writes them.
    pub log: Receiver<String>,
    /// Resolves `run`'s shutdown: a clean stop.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Drops `run` where it stands: a crash.
    crash: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
    /// The options after `--db`, given again on a restart.
    extra: Vec<std::ffi::OsString>,
    address: std::net::SocketAddr,
}

/// Sends each line the server logs to a channel.
#[derive(Clone)]
struct LogLines(Sender<String>);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogLines {
    type Writer = LogLine;
    fn make_writer(&'a self) -> LogLine {
        LogLine(self.0.clone(), Vec::new())
    }
}

/// One event's text, sent as lines when written out.
struct LogLine(Sender<String>, Vec<u8>);

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        for line in String::from_utf8_lossy(&self.1).lines() {
            let _ = self.0.send(line.to_owned());
        }
    }
}

impl RunningServer {
    /// Serves `db` on a port the system picks.
    pub fn start(db: &Path) -> RunningServer {
        RunningServer::start_with(db, "127.0.0.1:0", &[])
    }

    /// Serves `db` on `listen` with `serve`'s options `extra` (`--tls-cert`, limits, backups).
    pub fn start_with(db: &Path, listen: &str, extra: &[&std::ffi::OsStr]) -> RunningServer {
        let mut args: Vec<std::ffi::OsString> =
            vec!["hailong-server".into(), "serve".into(), "--listen".into()];
        args.push(listen.into());
        let postgres = postgres_url(db);
        match &postgres {
            Some(url) => args.extend(["--database".into(), url.into()]),
            None => args.extend(["--db".into(), db.into()]),
        }
        let files = hailong_report::file::with_suffix(db, ".files");
        args.push("--files".into());
        args.push(files.into());
        args.extend(extra.iter().map(|a| a.to_os_string()));
        if !args.iter().any(|a| a == "--config") {
            args.extend(["--config".into(), "/dev/null".into()]);
        }
        let mut cli = <Cli as clap::Parser>::try_parse_from(&args).expect("serve's options");
        hailong_server::config::FileConfig::for_cli(&cli)
            .expect("the configuration file")
            .fill(&mut cli.command);
        let Command::Serve(serve) = cli.command else {
            unreachable!("a serve command")
        };
        let tls = serve.tls_cert.is_some();
        let config = commands::serve_config(&serve).expect("serve's configuration");
        let storage = match &postgres {
            None => hailong_server::Storage::sqlite(db).expect("the database opens"),
            Some(url) => tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(hailong_server::Storage::postgres(
                    url,
                    serve.files.as_deref().expect("--files is given"),
                ))
                .expect("the database opens"),
        };
        let listener = std::net::TcpListener::bind(serve.listen.expect("--listen is given"))
            .expect("a free port");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();

        let (lines, log) = std::sync::mpsc::channel();
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(
                    "warn,hailong_server=info,hailong_server::turns=debug",
                ))
                .with_ansi(false)
                .with_writer(LogLines(lines))
                .finish(),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (crash, crashed) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("server-{}", address.port()))
            .spawn(move || {
                tracing::dispatcher::with_default(&dispatch.clone(), || {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .on_thread_start(move || {
                            // Kept for the thread's life: the runtime's threads log here too.
                            std::mem::forget(tracing::dispatcher::set_default(&dispatch));
                        })
                        .build()
                        .unwrap();
                    let served = runtime.block_on(async move {
                        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                        let stopped = async {
                            let _ = stopped.await;
                        };
                        tokio::select! {
                            served = hailong_server::run(listener, storage, config, stopped) => {
                                served.map_err(|e| e.to_string())
                            }
                            _ = crashed => Ok(()),
                        }
                    });
                    // A crash leaves requests under way: they go with the runtime.
                    runtime.shutdown_timeout(Duration::from_secs(10));
                    served
                })
            })
            .unwrap();
        let url = if tls {
            format!("https://localhost:{}", address.port())
        } else {
            format!("http://{address}")
        };
        RunningServer {
            url,
            db: db.to_owned(),
            postgres,
            log,
            stop: Some(stop),
            crash: Some(crash),
            thread: Some(thread),
            extra: extra.iter().map(|a| a.to_os_string()).collect(),
            address,
        }
    }

    /// Runs `hailong-server ARGS --db DB` (or `--database URL`) on this server's database
    /// with `input` on its standard input; what it said, as a process would (exit code,
    /// output, errors).
    pub fn run_command(&self, args: &[&str], input: &str) -> std::process::Output {
        let mut argv: Vec<std::ffi::OsString> = vec!["hailong-server".into()];
        argv.extend(args.iter().map(Into::into));
        match &self.postgres {
            Some(url) => argv.extend(["--database".into(), url.into()]),
            None => argv.extend(["--db".into(), self.db.clone().into()]),
        }
        hailong_server_command(argv, input)
    }

    /// Runs a command that must succeed; its standard output.
    pub fn command(&self, args: &[&str]) -> String {
        let out = self.run_command(args, "");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// `hailong-server user add --name NAME` with `password` on standard input.
    pub fn add_user(&self, name: &str, password: &str) -> std::process::Output {
        self.run_command(&["user", "add", "--name", name], &format!("{password}\n"))
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
        self.address.to_string()
    }

    /// Drops the server where it stands, as a crash would: no request under way is answered,
    /// nothing waits for the writer. Returns once it is gone and its database unlocked.
    pub fn kill(&mut self) {
        if let Some(crash) = self.crash.take() {
            let _ = crash.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Stops it as SIGTERM does, checks it stopped cleanly, and returns the log lines it
    /// wrote since last read.
    pub fn stop(&mut self) -> Vec<String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = self
            .thread
            .take()
            .expect("running")
            .join()
            .expect("no panic");
        assert_eq!(served, Ok(()), "the server stopped cleanly");
        self.log.try_iter().collect()
    }

    /// Kills it, then starts it again on the same port and database.
    pub fn restart(mut self) -> RunningServer {
        self.kill();
        let extra: Vec<&std::ffi::OsStr> = self.extra.iter().map(|a| a.as_os_str()).collect();
        RunningServer::start_with(&self.db, &self.listen_address(), &extra)
    }

    /// Stops it, puts `backup` in place of its database with `restore --force`, and starts
    /// it again on the same port (as a commune would after replacing a broken disk).
    pub fn restored_from(mut self, backup: &Path) -> RunningServer {
        self.stop();
        let backup = backup.to_str().expect("a UTF-8 path");
        self.command(&["restore", "--force", "--from", backup]);
        let extra: Vec<&std::ffi::OsStr> = self.extra.iter().map(|a| a.as_os_str()).collect();
        RunningServer::start_with(&self.db, &self.listen_address(), &extra)
    }

    /// A new one-time pairing code for `counter`.
    pub fn pairing_code(&self, counter: &str) -> String {
        self.last_line(&["pair", "--counter", counter])
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.kill();
    }
}
