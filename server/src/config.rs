//! The host's configuration file, `/etc/hailong-server/server.toml` as the Debian package
//! installs it: where the data is, where to listen, the address tablets use, HTTPS and backups.
//! `serve` and every other subcommand read it, so that on the server's host
//! `hailong-server pair --counter "Quầy 1"` needs no `--db`; what a command line gives wins
//! over the file. A file named with `--config` (or `HAILONG_SERVER_CONFIG`) must exist; the
//! default one is read only if it does. Relative paths in it are relative to its folder.

use crate::cli::{Cli, Command, Database, NotifyCommand, TlsCommand, UpstreamCommand, UserCommand};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the package puts the file.
pub const DEFAULT_PATH: &str = "/etc/hailong-server/server.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("the configuration file {0} is not right: {1}")]
    Parse(PathBuf, String),
}

/// What the file holds; every part optional.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The SQLite database file (a commune's).
    pub db: Option<PathBuf>,
    /// A PostgreSQL URL (a province's). It may hold a password: the package makes the file
    /// readable by root and the server's user only.
    pub database: Option<String>,
    /// With `database`: the folder for the server's own files.
    pub files: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    /// The address tablets reach this server at, e.g. `https://192.168.1.10:8443`: what a
    /// pairing invitation (and its QR code) holds.
    pub address: Option<String>,
    pub tls: Option<TlsFiles>,
    pub backups: Option<BackupFiles>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain, the server's certificate first (PEM).
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The commune CA's certificate, when `hailong-server tls init` made the certificate:
    /// tablets pin it at pairing.
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupFiles {
    pub dir: PathBuf,
    /// `24h`, `7d`, as `--backup-every`.
    pub every: Option<String>,
    pub keep: Option<u16>,
}

impl FileConfig {
    /// The file `cli` names, or the default one if it exists, or nothing.
    pub fn for_cli(cli: &Cli) -> Result<FileConfig, ConfigError> {
        match &cli.config {
            Some(path) => FileConfig::read(path),
            None if Path::new(DEFAULT_PATH).exists() => FileConfig::read(Path::new(DEFAULT_PATH)),
            None => Ok(FileConfig::default()),
        }
    }

    pub fn read(path: &Path) -> Result<FileConfig, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_owned(), e))?;
        let mut config: FileConfig = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse(path.to_owned(), e.to_string()))?;
        let folder = path.parent().unwrap_or(Path::new("."));
        config.resolve(folder);
        Ok(config)
    }

    /// Relative paths become the file's folder's.
    fn resolve(&mut self, folder: &Path) {
        let at = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = folder.join(&*p);
            }
        };
        self.db.iter_mut().for_each(at);
        self.files.iter_mut().for_each(at);
        if let Some(tls) = &mut self.tls {
            at(&mut tls.cert);
            at(&mut tls.key);
            tls.ca.iter_mut().for_each(at);
        }
        if let Some(backups) = &mut self.backups {
            at(&mut backups.dir);
        }
    }

    /// Fills what `command` leaves out from the file.
    pub fn fill(&self, command: &mut Command) {
        match command {
            Command::Serve(args) => {
                self.fill_database(&mut args.database);
                args.listen = args.listen.or(self.listen);
                args.files = args.files.take().or_else(|| self.files.clone());
                args.address = args.address.take().or_else(|| self.address.clone());
                if args.tls_cert.is_none()
                    && let Some(tls) = &self.tls
                {
                    args.tls_cert = Some(tls.cert.clone());
                    args.tls_key = Some(tls.key.clone());
                    args.tls_ca = args.tls_ca.take().or_else(|| tls.ca.clone());
                }
                if args.backups.backup_dir.is_none()
                    && let Some(backups) = &self.backups
                {
                    args.backups.backup_dir = Some(backups.dir.clone());
                    args.backups.backup_every = args
                        .backups
                        .backup_every
                        .take()
                        .or_else(|| backups.every.clone());
                    args.backups.backup_keep = args.backups.backup_keep.or(backups.keep);
                }
            }
            Command::Pair {
                database,
                address,
                ca,
                ..
            } => {
                self.fill_database(database);
                *address = address.take().or_else(|| self.address.clone());
                if ca.is_none() {
                    *ca = self.tls.as_ref().and_then(|t| t.ca.clone());
                }
            }
            Command::Backup { db, .. } | Command::Restore { db, .. } => {
                *db = db.take().or_else(|| self.db.clone());
            }
            Command::Tls {
                action: TlsCommand::Init { dir, .. },
            } => {
                // The folder the file's certificate is in, if it names one.
                *dir = dir.take().or_else(|| {
                    self.tls
                        .as_ref()
                        .and_then(|t| t.cert.parent().map(Path::to_owned))
                });
            }
            other => {
                if let Some(database) = database_of(other) {
                    self.fill_database(database);
                }
            }
        }
    }

    fn fill_database(&self, database: &mut Database) {
        if database.db.is_none() && database.database.is_none() {
            database.db = self.db.clone();
            database.database = self.database.clone();
        }
    }
}

/// The database options of a command that has them (the rest of `fill`'s match).
pub(crate) fn database_of(command: &mut Command) -> Option<&mut Database> {
    Some(match command {
        Command::AdminToken { database, .. }
        | Command::Devices { database }
        | Command::Revoke { database, .. }
        | Command::Unit { database, .. }
        | Command::Export { database, .. }
        | Command::User {
            action: UserCommand::Add { database, .. },
        }
        | Command::Upstream {
            action: UpstreamCommand::Pair { database, .. } | UpstreamCommand::Show { database },
        } => database,
        Command::Notify { action } => match action {
            NotifyCommand::Smtp { database, .. }
            | NotifyCommand::Webhook { database, .. }
            | NotifyCommand::Options { database, .. }
            | NotifyCommand::Off { database, .. }
            | NotifyCommand::Show { database }
            | NotifyCommand::Test { database } => database,
        },
        Command::Serve(_)
        | Command::Pair { .. }
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Tls { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parsed(args: &[&str], config: &FileConfig) -> Command {
        let mut cli = Cli::try_parse_from(args).unwrap();
        config.fill(&mut cli.command);
        cli.command
    }

    #[test]
    fn the_packages_file_reads_with_paths_from_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "db = \"data/hailong.db\"\nlisten = \"0.0.0.0:8443\"\n\
             address = \"https://192.168.1.10:8443\"\n\
             [tls]\ncert = \"/var/lib/hailong-server/tls/server.pem\"\nkey = \"tls/server.key\"\n\
             ca = \"tls/ca.pem\"\n[backups]\ndir = \"/var/backups/hailong\"\nkeep = 30\n",
        )
        .unwrap();
        let config = FileConfig::read(&path).unwrap();
        assert_eq!(config.db, Some(dir.path().join("data/hailong.db")));
        let tls = config.tls.as_ref().unwrap();
        assert_eq!(
            tls.cert,
            Path::new("/var/lib/hailong-server/tls/server.pem")
        );
        assert_eq!(tls.key, dir.path().join("tls/server.key"));
        assert_eq!(config.backups.as_ref().unwrap().keep, Some(30));

        let Command::Serve(serve) = parsed(&["hailong-server", "serve"], &config) else {
            panic!()
        };
        assert_eq!(serve.database.db, config.db);
        assert_eq!(serve.listen, Some("0.0.0.0:8443".parse().unwrap()));
        assert_eq!(serve.tls_key, Some(dir.path().join("tls/server.key")));
        assert_eq!(serve.tls_ca, Some(dir.path().join("tls/ca.pem")));
        assert_eq!(serve.backups.backup_keep, Some(30));

        let Command::Pair {
            database,
            address,
            ca,
            ..
        } = parsed(&["hailong-server", "pair", "--counter", "Quầy 1"], &config)
        else {
            panic!()
        };
        assert_eq!(database.db, config.db);
        assert_eq!(address.as_deref(), Some("https://192.168.1.10:8443"));
        assert_eq!(ca, Some(dir.path().join("tls/ca.pem")));

        let Command::Notify {
            action: NotifyCommand::Show { database },
        } = parsed(&["hailong-server", "notify", "show"], &config)
        else {
            panic!()
        };
        assert_eq!(database.db, config.db);
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let config = FileConfig {
            db: Some("/var/lib/hailong-server/hailong.db".into()),
            listen: Some("0.0.0.0:8443".parse().unwrap()),
            ..FileConfig::default()
        };
        let Command::Serve(serve) = parsed(
            &[
                "hailong-server",
                "serve",
                "--database",
                "postgres://p@localhost/h",
                "--listen",
                "127.0.0.1:9000",
            ],
            &config,
        ) else {
            panic!()
        };
        assert_eq!(serve.database.db, None);
        assert_eq!(
            serve.database.database.as_deref(),
            Some("postgres://p@localhost/h")
        );
        assert_eq!(serve.listen, Some("127.0.0.1:9000".parse().unwrap()));
    }

    #[test]
    fn a_mistake_in_the_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "db = \"x.db\"\nlisten = \"everywhere\"\n").unwrap();
        let error = FileConfig::read(&path).unwrap_err().to_string();
        assert!(
            error.contains("server.toml") && error.contains("listen"),
            "{error}"
        );
        std::fs::write(&path, "dbb = \"x.db\"\n").unwrap();
        let error = FileConfig::read(&path).unwrap_err().to_string();
        assert!(error.contains("dbb"), "{error}");
        let missing = FileConfig::read(&dir.path().join("none.toml")).unwrap_err();
        assert!(matches!(missing, ConfigError::Read(..)));
    }
}
