//! Where alerts and reports go: a mail server and its recipients, and/or a webhook. Kept as JSON
//! in the database's settings (the database file is its owner's only: the SMTP password has to
//! be sent as it is, so it cannot be kept as a hash), set with `hailong-server notify`.

use serde::{Deserialize, Serialize};

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP upgraded with STARTTLS (usually port 587); refused if the server cannot.
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or network, and never with a
    /// password.
    None,
}

impl std::str::FromStr for Security {
    type Err = String;

    fn from_str(s: &str) -> Result<Security, String> {
        match s {
            "starttls" => Ok(Security::Starttls),
            "tls" => Ok(Security::Tls),
            "none" => Ok(Security::None),
            _ => Err(format!(
                "{s:?} is not a connection security: starttls, tls or none"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    /// The certificate (PEM) of a commune's own CA that signed its mail server's certificate,
    /// trusted besides the system's roots.
    #[serde(default)]
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
}

/// The notifier's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub smtp: Option<Smtp>,
    #[serde(default)]
    pub webhook: Option<Webhook>,
    /// An alert for each negative rating.
    #[serde(default = "yes")]
    pub alerts: bool,
    /// The month's report on the first day of the next, the quarter's after a quarter.
    #[serde(default = "yes")]
    pub reports: bool,
    /// The messages' language: `vi` or `en`.
    #[serde(default = "vi")]
    pub lang: String,
}

fn yes() -> bool {
    true
}

fn vi() -> String {
    "vi".to_owned()
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            smtp: None,
            webhook: None,
            alerts: true,
            reports: true,
            lang: vi(),
        }
    }
}

/// A setting that cannot work, said before it is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSetting {
    #[error("{0:?} is not an e-mail address")]
    Address(String),
    #[error("no recipient: give at least one --to")]
    NoRecipient,
    #[error(
        "a password is never sent over an unencrypted connection: use --security starttls or tls"
    )]
    PasswordInClear,
    #[error(
        "{0:?} is not a webhook address: it must start with https:// (or http:// on this machine or network)"
    )]
    WebhookUrl(String),
    #[error("{0:?} is not a mail server name")]
    Host(String),
    #[error("the CA file {0}: {1}")]
    CaFile(String, String),
}

/// A plausible address: something@domain, no spaces or line breaks (they would end up in a
/// mail header).
fn is_address(text: &str) -> bool {
    let Some((user, domain)) = text.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
}

impl Smtp {
    pub fn check(&self) -> Result<(), BadSetting> {
        if self.host.trim().is_empty() || self.host.chars().any(|c| c.is_whitespace()) {
            return Err(BadSetting::Host(self.host.clone()));
        }
        for address in std::iter::once(&self.from).chain(&self.to) {
            if !is_address(address) {
                return Err(BadSetting::Address(address.clone()));
            }
        }
        if self.to.is_empty() {
            return Err(BadSetting::NoRecipient);
        }
        if self.security == Security::None && self.password.is_some() {
            return Err(BadSetting::PasswordInClear);
        }
        if let Some(path) = &self.ca_file {
            let bad = |why: String| BadSetting::CaFile(path.clone(), why);
            let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            lettre::transport::smtp::client::Certificate::from_pem(&pem)
                .map_err(|e| bad(e.to_string()))?;
        }
        Ok(())
    }
}

impl Webhook {
    pub fn check(&self) -> Result<(), BadSetting> {
        let url = self.url.trim();
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(())
        } else {
            Err(BadSetting::WebhookUrl(self.url.clone()))
        }
    }
}

impl Settings {
    /// Nothing sent: the settings of a server where none were set.
    pub fn off() -> Settings {
        Settings {
            alerts: false,
            reports: false,
            ..Settings::default()
        }
    }

    /// The settings as kept (`None`: never set, so nothing is sent).
    pub fn from_kept(json: Option<&str>) -> Result<Settings, serde_json::Error> {
        json.map_or(Ok(Settings::off()), serde_json::from_str)
    }

    /// Whether each negative rating is alerted: alerts on, and somewhere to send them.
    pub fn alerting(&self) -> bool {
        self.alerts && !self.channels().is_empty()
    }

    /// The channels set: `smtp`, `webhook`.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut channels = Vec::new();
        if self.smtp.is_some() {
            channels.push("smtp");
        }
        if self.webhook.is_some() {
            channels.push("webhook");
        }
        channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp() -> Smtp {
        Smtp {
            host: "smtp.example.vn".into(),
            port: 587,
            security: Security::Starttls,
            username: Some("ubnd".into()),
            password: Some("secret".into()),
            from: "hailong@example.vn".into(),
            to: vec!["chutich@example.vn".into()],
            ca_file: None,
        }
    }

    #[test]
    fn settings_that_cannot_work_are_refused_with_the_reason() {
        assert_eq!(smtp().check(), Ok(()));
        let mut clear = smtp();
        clear.security = Security::None;
        assert_eq!(clear.check(), Err(BadSetting::PasswordInClear));
        let mut header = smtp();
        header.to = vec!["a@b.vn\r\nBcc: x@y.vn".into()];
        assert!(matches!(header.check(), Err(BadSetting::Address(_))));
        let mut nobody = smtp();
        nobody.to.clear();
        assert_eq!(nobody.check(), Err(BadSetting::NoRecipient));
        assert!(
            Webhook {
                url: "ftp://x".into()
            }
            .check()
            .is_err()
        );
        let read: Settings =
            serde_json::from_str(r#"{"webhook": {"url": "https://x.vn/h"}}"#).unwrap();
        assert!(read.alerts && read.reports && read.lang == "vi");
        assert_eq!(read.channels(), ["webhook"]);
    }
}
