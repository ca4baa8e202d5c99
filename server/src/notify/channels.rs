//! The two ways out: a mail through the office's SMTP server (lettre: STARTTLS or TLS checked
//! against the system's roots and the commune's own CA if set, UTF-8 headers encoded as MIME
//! words, a PDF attachment), and a
//! JSON POST to a webhook (reqwest) with an idempotency key, so a receiver that got a message
//! whose answer was lost can tell it is the same one. Both with timeouts: a mail server that
//! never answers holds nothing up but its own message.

use super::settings::{Security, Smtp, Webhook};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport};
use std::sync::Once;
use std::time::Duration;

/// How long one connection to a mail server or a webhook may take, all told.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A file sent with a mail.
pub struct File {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Sends one mail to every recipient; an error says why, in the mail server's words.
pub fn send_mail(
    smtp: &Smtp,
    subject: &str,
    text: &str,
    file: Option<File>,
    message_id: &str,
) -> Result<(), String> {
    let from: Mailbox = smtp.from.parse().map_err(|e| format!("from: {e}"))?;
    let mut builder = lettre::Message::builder()
        .from(from)
        .subject(subject)
        .message_id(Some(message_id.to_owned()));
    for to in &smtp.to {
        builder = builder.to(to.parse().map_err(|e| format!("to {to}: {e}"))?);
    }
    let body = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(text.to_owned());
    let mail = match file {
        None => builder.singlepart(body),
        Some(file) => {
            let kind = ContentType::parse(file.content_type).map_err(|e| e.to_string())?;
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(body)
                    .singlepart(Attachment::new(file.name).body(file.bytes, kind)),
            )
        }
    }
    .map_err(|e| e.to_string())?;
    // The system's roots, and the commune's own CA if it has one.
    let tls = || -> Result<TlsParameters, String> {
        let mut parameters = TlsParameters::builder(smtp.host.clone());
        if let Some(path) = &smtp.ca_file {
            let pem = std::fs::read(path).map_err(|e| format!("the CA file {path}: {e}"))?;
            let ca = Certificate::from_pem(&pem).map_err(|e| format!("the CA file {path}: {e}"))?;
            parameters = parameters.add_root_certificate(ca);
        }
        parameters.build().map_err(|e| e.to_string())
    };
    let mut transport = SmtpTransport::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .timeout(Some(TIMEOUT))
        .tls(match smtp.security {
            Security::Starttls => Tls::Required(tls()?),
            Security::Tls => Tls::Wrapper(tls()?),
            Security::None => Tls::None,
        });
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    transport
        .build()
        .send(&mail)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Posts `body` to the webhook; any 2xx answer means it has it.
pub fn post(webhook: &Webhook, body: &serde_json::Value, key: &str) -> Result<(), String> {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let client = reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let answer = client
        .post(webhook.url.trim())
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .map_err(|e| e.to_string())?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", answer.status()))
    }
}
