//! Cross-site request forgery. A page on another site can make a browser post a form here;
//! two checks stop it:
//! - every POST must come from a page of this server: its `Origin` (or, when a browser sends
//!   none, its `Referer`) must be this server's own scheme, host and port;
//! - every form carries a token another site can neither read nor make. Behind sign-in it is
//!   derived from the session token, which only the browser holding the `HttpOnly` cookie
//!   has; on the sign-in form, from a pre-session cookie set with the form, so that no other
//!   site can sign a browser into an account of its choosing.

use crate::secrets;
use axum::http::{HeaderMap, header};

/// The pre-session cookie behind the sign-in form's token.
pub const SIGN_IN_COOKIE: &str = "hl_signin";

/// The token of a signed-in session's forms.
pub fn for_session(session_token: &str) -> String {
    secrets::hash(&format!("csrf-session:{session_token}"))
}

/// The token of the sign-in form, from its pre-session cookie.
pub fn for_sign_in(cookie: &str) -> String {
    secrets::hash(&format!("csrf-sign-in:{cookie}"))
}

/// Whether a form's token is the expected one, compared in constant time.
pub fn matches(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Whether the request comes from a page of this server: `Origin` if sent, else `Referer`
/// if sent (a browser that sends neither is left to the token check).
pub fn same_origin(headers: &HeaderMap, https: bool) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let scheme = if https { "https" } else { "http" };
    let own = format!("{scheme}://{host}");
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    if let Some(origin) = text(header::ORIGIN) {
        return origin.eq_ignore_ascii_case(&own);
    }
    match text(header::REFERER) {
        Some(referer) => {
            referer.len() >= own.len()
                && referer.is_char_boundary(own.len())
                && referer[..own.len()].eq_ignore_ascii_case(&own)
                && matches!(referer.as_bytes().get(own.len()), None | Some(b'/'))
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn only_this_servers_own_pages_may_post() {
        let host = (header::HOST, "192.168.1.10:8080");
        let ok = |pairs: &[(header::HeaderName, &str)]| same_origin(&headers(pairs), false);
        assert!(ok(&[
            host.clone(),
            (header::ORIGIN, "http://192.168.1.10:8080")
        ]));
        assert!(!ok(&[
            host.clone(),
            (header::ORIGIN, "http://evil.example")
        ]));
        assert!(!ok(&[host.clone(), (header::ORIGIN, "null")]));
        assert!(!ok(&[
            host.clone(),
            (header::ORIGIN, "https://192.168.1.10:8080")
        ]));
        assert!(ok(&[
            host.clone(),
            (header::REFERER, "http://192.168.1.10:8080/sign-in")
        ]));
        assert!(!ok(&[
            host.clone(),
            (header::REFERER, "http://192.168.1.10:80801/x")
        ]));
        assert!(!ok(&[
            host.clone(),
            (header::REFERER, "http://evil.example/192.168.1.10:8080")
        ]));
        assert!(
            ok(std::slice::from_ref(&host)),
            "no Origin and no Referer: the token decides"
        );
        assert!(
            !ok(&[(header::ORIGIN, "http://192.168.1.10:8080")]),
            "no Host"
        );
        assert!(same_origin(
            &headers(&[
                (header::HOST, "hailong.xa.vn"),
                (header::ORIGIN, "https://hailong.xa.vn")
            ]),
            true
        ));
    }

    #[test]
    fn tokens_are_bound_to_their_cookie_and_compared_whole() {
        let a = for_session("hs_a");
        assert_eq!(a, for_session("hs_a"));
        assert_ne!(a, for_session("hs_b"));
        assert_ne!(
            a,
            for_sign_in("hs_a"),
            "a sign-in token is no session token"
        );
        assert!(matches(&a, &a.clone()));
        assert!(!matches(&a, &a[..63]));
        assert!(!matches(&a, ""));
    }
}
