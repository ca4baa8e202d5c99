//! HTTPS without a public CA: `hailong-server tls init` makes the commune's own CA once and a
//! certificate for the server's names and LAN addresses signed by it. Run again, it renews the
//! server's certificate with the same CA, so tablets that pinned the CA at pairing keep
//! trusting the server. The CA's key never leaves the server's folder.
//!
//! The CA's name is made from its own key, so the CA can be signed again from `ca.key` alone
//! and its certificate stays the issuer of every server certificate it signs.

use hailong_core::invite::Fingerprint;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How long the server's certificate lasts; renew it before then (docs/deploy.md).
pub const SERVER_DAYS: i64 = 2 * 365;
/// How long the CA lasts: the life of the office's devices.
const CA_YEARS: i32 = 20;

/// A day as rcgen takes it.
macro_rules! date {
    ($day:expr) => {{
        let day: chrono::NaiveDate = $day;
        rcgen::date_time_ymd(
            chrono::Datelike::year(&day),
            chrono::Datelike::month(&day) as u8,
            chrono::Datelike::day(&day) as u8,
        )
    }};
}

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("give at least one --name or --address that tablets reach the server by")]
    NoNames,
    #[error("{0:?} is not a name a certificate can hold")]
    BadName(String),
    #[error("{0} is there but {1} is not: put it back, or move both aside to make a new CA")]
    HalfThere(PathBuf, PathBuf),
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, String),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("cannot make the certificate: {0}")]
    Make(#[from] rcgen::Error),
}

/// The files `tls init` keeps in its folder.
#[derive(Debug, Clone)]
pub struct Files {
    pub ca: PathBuf,
    pub ca_key: PathBuf,
    /// The server's certificate followed by the CA's.
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Files {
    pub fn in_dir(dir: &Path) -> Files {
        Files {
            ca: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        }
    }
}

/// What `init` did.
#[derive(Debug)]
pub struct Made {
    pub files: Files,
    /// False when the CA was there already (a renewal).
    pub new_ca: bool,
    pub fingerprint: Fingerprint,
    pub not_after: chrono::NaiveDate,
}

/// Makes the CA if the folder has none, then a server certificate for `names` (DNS names or
/// IP addresses) valid from `today` for [`SERVER_DAYS`].
pub fn init(dir: &Path, names: &[String], today: chrono::NaiveDate) -> Result<Made, CaError> {
    if names.is_empty() {
        return Err(CaError::NoNames);
    }
    for name in names {
        let ok = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b));
        if !ok {
            return Err(CaError::BadName(name.clone()));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| CaError::Write(dir.to_owned(), e))?;
    let files = Files::in_dir(dir);
    let (ca_key, new_ca) = match (files.ca.exists(), files.ca_key.exists()) {
        (true, true) => (read_key(&files.ca_key)?, false),
        (false, false) => (KeyPair::generate()?, true),
        (true, false) => return Err(CaError::HalfThere(files.ca.clone(), files.ca_key.clone())),
        (false, true) => return Err(CaError::HalfThere(files.ca_key.clone(), files.ca.clone())),
    };
    let ca = ca_params(&ca_key, today)?.self_signed(&ca_key)?;
    if new_ca {
        write_private(&files.ca_key, ca_key.serialize_pem().as_bytes())?;
        write_private(&files.ca, ca.pem().as_bytes())?;
    }
    let ca_pem = read(&files.ca)?;

    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].clone());
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let not_after = today + chrono::Duration::days(SERVER_DAYS);
    params.not_before = date!(today - chrono::Duration::days(1));
    params.not_after = date!(not_after);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    // The key first: a certificate is never left beside a key it does not go with for long.
    write_private(&files.key, key.serialize_pem().as_bytes())?;
    write_private(&files.cert, format!("{}{}", cert.pem(), ca_pem).as_bytes())?;
    Ok(Made {
        fingerprint: fingerprint(ca_pem.as_bytes())
            .map_err(|e| CaError::Read(files.ca.clone(), e))?,
        files,
        new_ca,
        not_after,
    })
}

/// The CA's name and constraints, the same each time for the same key.
fn ca_params(key: &KeyPair, today: chrono::NaiveDate) -> Result<CertificateParams, CaError> {
    let id = Sha256::digest(key.public_key_der());
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        format!(
            "Hài Lòng CA nội bộ {:02x}{:02x}{:02x}{:02x}",
            id[0], id[1], id[2], id[3]
        ),
    );
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = date!(today - chrono::Duration::days(1));
    params.not_after = rcgen::date_time_ymd(chrono::Datelike::year(&today) + CA_YEARS, 1, 1);
    Ok(params)
}

/// The SHA-256 of the first certificate in a PEM text: what an invitation carries.
pub fn fingerprint(pem: &[u8]) -> Result<Fingerprint, String> {
    let der = CertificateDer::from_pem_slice(pem).map_err(|e| e.to_string())?;
    Ok(Fingerprint(Sha256::digest(der.as_ref()).into()))
}

/// The CA certificate in `path`, and its fingerprint.
pub fn read_ca(path: &Path) -> Result<(String, Fingerprint), CaError> {
    let pem = read(path)?;
    let fingerprint = fingerprint(pem.as_bytes()).map_err(|e| CaError::Read(path.to_owned(), e))?;
    Ok((pem, fingerprint))
}

fn read(path: &Path) -> Result<String, CaError> {
    std::fs::read_to_string(path).map_err(|e| CaError::Read(path.to_owned(), e.to_string()))
}

fn read_key(path: &Path) -> Result<KeyPair, CaError> {
    KeyPair::from_pem(&read(path)?).map_err(|e| CaError::Read(path.to_owned(), e.to_string()))
}

/// Writes `bytes` owner-only, whole or not at all (a temporary file renamed over the old one).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CaError> {
    let temp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = hailong_report::file::create_private(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| CaError::Write(path.to_owned(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
    }

    #[test]
    fn a_renewal_keeps_the_ca_and_its_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["hailong.local".to_owned(), "192.168.1.10".to_owned()];
        let first = init(dir.path(), &names, today()).unwrap();
        assert!(first.new_ca);
        let ca = std::fs::read(&first.files.ca).unwrap();
        let key = std::fs::read(&first.files.key).unwrap();
        for file in [&first.files.ca_key, &first.files.key, &first.files.cert] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{}", file.display());
        }
        let again = init(dir.path(), &names, today() + chrono::Duration::days(700)).unwrap();
        assert!(!again.new_ca);
        assert_eq!(again.fingerprint, first.fingerprint);
        assert_eq!(std::fs::read(&first.files.ca).unwrap(), ca);
        assert_ne!(std::fs::read(&first.files.key).unwrap(), key);
        assert_eq!(
            again.not_after,
            today() + chrono::Duration::days(700 + SERVER_DAYS)
        );
        // The chain is the server's certificate, then the CA's.
        let chain = std::fs::read_to_string(&again.files.cert).unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(chain.ends_with(&String::from_utf8(ca).unwrap()));
    }

    #[test]
    fn a_ca_half_gone_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let made = init(dir.path(), &["10.0.0.2".to_owned()], today()).unwrap();
        std::fs::remove_file(&made.files.ca_key).unwrap();
        let error = init(dir.path(), &["10.0.0.2".to_owned()], today()).unwrap_err();
        assert!(matches!(error, CaError::HalfThere(..)), "{error}");
        assert!(made.files.ca.exists());
        assert!(matches!(
            init(dir.path(), &[], today()),
            Err(CaError::NoNames)
        ));
        assert!(matches!(
            init(dir.path(), &["bad name".to_owned()], today()),
            Err(CaError::BadName(_))
        ));
    }
}
