//! A pairing invitation: the commune server's address, a one-time pairing code and, when the
//! server's HTTPS certificate comes from the commune's own CA, that CA's SHA-256 fingerprint.
//! `hailong-server pair` prints it as text and as a QR code; the counter's USB scanner types it
//! into the kiosk (or an administrator does), which pairs with it in one step and from then on
//! trusts only the CA with that fingerprint.
//!
//! The text is ASCII only, so that a scanner in keyboard mode types it on any layout:
//! `hailong:pair?server=https://192.168.1.10:8443&code=K7QM2XPA&ca=<64 hex digits>`.

use std::fmt;
use std::str::FromStr;

const SCHEME: &str = "hailong:pair?";
/// A server address longer than this is not one an office types or scans.
const ADDRESS_MAX: usize = 200;
const CODE_MAX: usize = 64;

/// The SHA-256 of a CA certificate's DER bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl FromStr for Fingerprint {
    type Err = InviteError;

    /// 64 hex digits, in either case, with or without `:` between the bytes (as `openssl x509
    /// -fingerprint -sha256` prints them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits: Vec<u8> = s.bytes().filter(|&b| b != b':').collect();
        if digits.len() != 64 {
            return Err(InviteError::Fingerprint);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| InviteError::Fingerprint)?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| InviteError::Fingerprint)?;
        }
        Ok(Fingerprint(bytes))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error("not a pairing invitation (it begins with {SCHEME})")]
    NotAnInvite,
    #[error("the invitation has no server address, or one that is not http:// or https://")]
    Server,
    #[error("the invitation has no pairing code, or a code with other than letters and digits")]
    Code,
    #[error("the invitation's CA fingerprint is not 64 hexadecimal digits")]
    Fingerprint,
    #[error("the invitation has a part it does not know: {0}")]
    Unknown(String),
}

impl InviteError {
    /// A code for the kiosk's screen, which shows the words.
    pub fn code(&self) -> &'static str {
        match self {
            InviteError::NotAnInvite | InviteError::Unknown(_) => "bad_invite",
            InviteError::Server => "bad_address",
            InviteError::Code => "bad_invite",
            InviteError::Fingerprint => "bad_invite",
        }
    }
}

/// What a tablet needs to pair, in one string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// `http://` or `https://`, host and port, no trailing slash.
    pub server: String,
    pub code: String,
    /// The commune CA's fingerprint; `None` for a server with a public certificate (or plain
    /// HTTP), which the tablet checks against the system's roots.
    pub ca: Option<Fingerprint>,
}

impl Invite {
    /// An invitation, its parts checked as a tablet will check them.
    pub fn new(server: &str, code: &str, ca: Option<Fingerprint>) -> Result<Invite, InviteError> {
        let server = Invite::check_server(server)?;
        if !valid_code(code) {
            return Err(InviteError::Code);
        }
        Ok(Invite {
            server,
            code: code.to_owned(),
            ca,
        })
    }

    /// A server address as an invitation holds it (trimmed, no trailing slash), or why not.
    pub fn check_server(server: &str) -> Result<String, InviteError> {
        let server = server.trim().trim_end_matches('/');
        if valid_server(server) {
            Ok(server.to_owned())
        } else {
            Err(InviteError::Server)
        }
    }

    /// Whether `text` is meant as an invitation (so a form can treat it as one, not as a code).
    pub fn looks_like(text: &str) -> bool {
        text.trim_start()
            .get(..SCHEME.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(SCHEME))
    }
}

fn valid_server(server: &str) -> bool {
    let rest = server
        .strip_prefix("https://")
        .or_else(|| server.strip_prefix("http://"));
    // Letters, digits and the characters of a host, an IPv6 literal, a port and a path: nothing
    // that would end a query part (& # ?) or that a scanner could not type.
    rest.is_some_and(|rest| {
        !rest.is_empty()
            && server.len() <= ADDRESS_MAX
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_:[]/%".contains(&b))
    })
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= CODE_MAX
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl fmt::Display for Invite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}server={}&code={}", self.server, self.code)?;
        if let Some(ca) = &self.ca {
            write!(f, "&ca={ca}")?;
        }
        Ok(())
    }
}

impl FromStr for Invite {
    type Err = InviteError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if !Invite::looks_like(text) {
            return Err(InviteError::NotAnInvite);
        }
        let (mut server, mut code, mut ca) = (None, None, None);
        for part in text[SCHEME.len()..].split('&') {
            match part.split_once('=') {
                Some(("server", value)) if server.is_none() => server = Some(value),
                Some(("code", value)) if code.is_none() => code = Some(value),
                Some(("ca", value)) if ca.is_none() => ca = Some(value.parse()?),
                _ => {
                    return Err(InviteError::Unknown(
                        crate::escape::Escaped::clipped(part).to_string(),
                    ));
                }
            }
        }
        Invite::new(
            server.ok_or(InviteError::Server)?,
            code.ok_or(InviteError::Code)?,
            ca,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINGERPRINT: &str = "3f9a00112233445566778899aabbccddeeff00112233445566778899aabbccdd";

    #[test]
    fn an_invitation_reads_back_what_was_written() {
        let ca: Fingerprint = FINGERPRINT.parse().unwrap();
        let invite = Invite::new("https://192.168.1.10:8443/", "K7QM2XPA", Some(ca)).unwrap();
        let text = invite.to_string();
        assert_eq!(
            text,
            format!("hailong:pair?server=https://192.168.1.10:8443&code=K7QM2XPA&ca={FINGERPRINT}")
        );
        assert!(text.is_ascii());
        assert_eq!(text.parse::<Invite>().unwrap(), invite);
        let plain = Invite::new("http://[fe80::1]:8080", "abc-123", None).unwrap();
        assert_eq!(plain.to_string().parse::<Invite>().unwrap(), plain);
    }

    #[test]
    fn a_scanner_in_upper_case_or_with_spaces_around_still_pairs() {
        let text = format!(
            "  HAILONG:PAIR?server=https://may-chu.xa:8443&code=AB12&ca={}\n",
            FINGERPRINT.to_uppercase()
        );
        let invite: Invite = text.parse().unwrap();
        assert_eq!(invite.server, "https://may-chu.xa:8443");
        assert_eq!(invite.ca.unwrap().to_string(), FINGERPRINT);
    }

    #[test]
    fn fingerprints_are_read_as_openssl_prints_them() {
        let colons = FINGERPRINT
            .as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap().to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(
            colons.parse::<Fingerprint>().unwrap().to_string(),
            FINGERPRINT
        );
        assert_eq!("3f9a".parse::<Fingerprint>(), Err(InviteError::Fingerprint));
        let not_hex = format!("zz{}", &FINGERPRINT[2..]);
        assert_eq!(
            not_hex.parse::<Fingerprint>(),
            Err(InviteError::Fingerprint)
        );
    }

    #[test]
    fn broken_invitations_are_refused_with_what_is_wrong() {
        let cases = [
            ("K7QM2XPA", InviteError::NotAnInvite),
            ("hailong:pair?code=AB12", InviteError::Server),
            ("hailong:pair?server=ftp://x&code=AB12", InviteError::Server),
            (
                "hailong:pair?server=https://x?y&code=AB12",
                InviteError::Server,
            ),
            ("hailong:pair?server=https://x", InviteError::Code),
            ("hailong:pair?server=https://x&code=a b", InviteError::Code),
            (
                "hailong:pair?server=https://x&code=AB&ca=12",
                InviteError::Fingerprint,
            ),
            (
                "hailong:pair?server=https://x&code=AB&code=CD",
                InviteError::Unknown("code=CD".into()),
            ),
            (
                "hailong:pair?server=https://x&code=AB&pin=1",
                InviteError::Unknown("pin=1".into()),
            ),
        ];
        for (text, error) in cases {
            assert_eq!(text.parse::<Invite>(), Err(error), "{text}");
        }
    }
}
