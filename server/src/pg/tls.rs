//! TLS to PostgreSQL, asked for in the database URL as libpq asks for it: `sslmode=require`,
//! `verify-ca` or `verify-full` (a database on another machine), with `sslrootcert=PEM` for
//! the CA that signed the database server's certificate if it is not one the system trusts.
//! Through rustls, the server's certificate is always checked, and its name (or address)
//! too, whichever of the three modes is asked: an encrypted connection to a server nobody
//! checked would hand the database's password to whoever answers. Without `sslmode` (or with
//! `disable` or `prefer`) no TLS is used: a database on the same machine.

use super::PgError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// The driver's settings from `url`, and how it makes TLS connections: none unless the URL
/// asks for it.
pub fn config_of(url: &str) -> Result<(tokio_postgres::Config, MakeRustls), PgError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let (mut mode, mut root) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => mode = Some(value.to_owned()),
            Some(("sslrootcert", value)) => root = Some(decoded(value)?),
            _ => kept.push(pair),
        }
    }
    let tls = match mode.as_deref() {
        None | Some("disable" | "prefer") => None,
        Some("require" | "verify-ca" | "verify-full") => Some(client_config(root.as_deref())?),
        Some(other) => {
            return Err(PgError::Url(format!(
                "sslmode={other}: use require, verify-full, or none"
            )));
        }
    };
    if tls.is_none() && root.is_some() {
        return Err(PgError::Url(
            "sslrootcert without sslmode=verify-full (or require)".into(),
        ));
    }
    let driver_url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config = tokio_postgres::Config::from_str(&driver_url)
        .map_err(|e| PgError::Url(super::described(&e)))?;
    config.ssl_mode(if tls.is_some() {
        SslMode::Require
    } else {
        SslMode::Disable
    });
    Ok((config, MakeRustls { config: tls }))
}

/// A percent-encoded URL value, decoded.
fn decoded(value: &str) -> Result<String, PgError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = value
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| PgError::Url(format!("a bad escape in {value}")))?;
                out.push(hex);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| PgError::Url(format!("{value} is not UTF-8")))
}

/// A client configuration that checks the server against the CA in `root` (PEM), or against
/// the system's trusted roots.
fn client_config(root: Option<&str>) -> Result<Arc<rustls::ClientConfig>, PgError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Url(e.to_string()))?;
    let config = match root {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|e| PgError::Url(format!("sslrootcert {path}: {e}")))?;
            for certificate in certificates {
                let certificate =
                    certificate.map_err(|e| PgError::Url(format!("sslrootcert {path}: {e}")))?;
                roots
                    .add(certificate)
                    .map_err(|e| PgError::Url(format!("sslrootcert {path}: {e}")))?;
            }
            if roots.is_empty() {
                return Err(PgError::Url(format!(
                    "sslrootcert {path}: no certificate in it"
                )));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            let verifier = rustls_platform_verifier::Verifier::new(provider)
                .map_err(|e| PgError::Url(format!("the system's trusted roots: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// Makes TLS connections to the database server, if the URL asked for them.
#[derive(Clone)]
pub struct MakeRustls {
    config: Option<Arc<rustls::ClientConfig>>,
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    /// Asked for each host even when TLS is off (then never used).
    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnect> {
        let Some(config) = self.config.clone() else {
            return Ok(RustlsConnect(None));
        };
        let name = ServerName::try_from(domain.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(RustlsConnect(Some((config, name))))
    }
}

/// One TLS connection to make, to the server named so; none when TLS is off.
pub struct RustlsConnect(Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>);

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let (config, name) = self.0.ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "TLS was not asked for")
            })?;
            let connector = tokio_rustls::TlsConnector::from(config);
            Ok(RustlsStream(connector.connect(name, stream).await?))
        })
    }
}

/// A TLS connection to the database server.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM without channel binding: the certificate, checked above, binds the server.
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_used_only_when_the_url_asks_and_libpqs_options_are_taken_out() {
        let plain = "postgres://hailong:pw@127.0.0.1:5432/hailong";
        let (config, make) = config_of(plain).unwrap();
        assert!(make.config.is_none());
        assert_eq!(config.get_ssl_mode(), SslMode::Disable);
        let (_, make) = config_of(&format!("{plain}?sslmode=prefer")).unwrap();
        assert!(make.config.is_none(), "prefer is no TLS, as before");
        let (config, make) =
            config_of(&format!("{plain}?sslmode=verify-full&application_name=x")).unwrap();
        assert!(make.config.is_some());
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        assert_eq!(config.get_application_name(), Some("x"));
        for bad in [
            format!("{plain}?sslmode=allow"),
            format!("{plain}?sslrootcert=%2Ftmp%2Fca.pem"),
            format!("{plain}?sslmode=verify-full&sslrootcert=%2Fnowhere%2Fca.pem"),
            format!("{plain}?sslmode=verify-full&sslrootcert=%ZZ"),
        ] {
            let Err(PgError::Url(said)) = config_of(&bad) else {
                panic!("{bad} was taken");
            };
            assert!(!said.contains("pw"), "the password is never said: {said}");
        }
    }
}
