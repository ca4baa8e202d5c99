//! Signing in and out of the dashboard: the session cookie (HttpOnly, SameSite=Strict, Secure
//! over HTTPS), the limits on wrong passwords (per name and per address, counted before the
//! check, see `limits`), password checks a bounded number at a time, forms that carry a CSRF
//! token, and the same answer for a wrong name as for a wrong password.

use super::{csrf, html_response, lang_of, pages, problem_page, words::dash};
use crate::state::{Shared, with_db, with_reader};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use hailong_core::escape::Escaped;
use hailong_report::Lang;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Instant;

pub const SESSION_COOKIE: &str = "hl_session";

/// Longest user name looked at (as `user add` allows); a longer one is wrong without a check.
const NAME_MAX: usize = 64;

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A signed-in administrator, from a valid session cookie; anyone else is sent to sign in.
pub struct Session {
    pub user: String,
    pub lang: Lang,
    /// The CSRF token of this session's forms.
    pub csrf: String,
}

impl FromRequestParts<Shared> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Session, Response> {
        let lang = lang_of(&parts.headers);
        let token = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|t| t.len() <= 200)
            .map(str::to_owned);
        let Some(token) = token else {
            return Err(Redirect::to("/sign-in").into_response());
        };
        let csrf = csrf::for_session(&token);
        match with_reader(state, move |db| db.session_user(&token, Utc::now())).await {
            Ok(Some(user)) => Ok(Session { user, lang, csrf }),
            Ok(None) => Err(Redirect::to("/sign-in").into_response()),
            Err(_) => Err(problem_page(lang, StatusCode::INTERNAL_SERVER_ERROR, |d| {
                d.failed
            })),
        }
    }
}

/// The sign-in form, with its pre-session cookie (kept if the browser has a good one).
pub async fn form(headers: HeaderMap) -> Response {
    sign_in_page(&headers, StatusCode::OK, "", None)
}

/// The sign-in page with `problem`, its CSRF token from the browser's pre-session cookie, or
/// from a new one set with it.
fn sign_in_page(
    headers: &HeaderMap,
    status: StatusCode,
    name: &str,
    problem: Option<&str>,
) -> Response {
    let lang = lang_of(headers);
    let kept = cookie(headers, csrf::SIGN_IN_COOKIE)
        .filter(|c| c.len() == 67 && c.starts_with("si_"))
        .map(str::to_owned);
    let pre_session = kept.clone().unwrap_or_else(|| crate::secrets::token("si_"));
    let token = csrf::for_sign_in(&pre_session);
    let page = html_response(status, pages::sign_in(lang, name, problem, &token));
    if kept.is_some() {
        return page;
    }
    with_cookie(
        page,
        &format!(
            "{}={pre_session}; HttpOnly; SameSite=Strict; Path=/sign-in; Max-Age=86400",
            csrf::SIGN_IN_COOKIE
        ),
    )
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn sign_in(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<SignIn>, FormRejection>,
) -> Response {
    let d = dash(lang_of(&headers));
    let Ok(Form(form)) = form else {
        return sign_in_page(&headers, StatusCode::BAD_REQUEST, "", Some(d.stale_form));
    };
    let name = form.name.trim().to_owned();
    let shown: String = name.chars().take(NAME_MAX).collect();
    let expected = cookie(&headers, csrf::SIGN_IN_COOKIE).map(csrf::for_sign_in);
    if !expected.is_some_and(|e| csrf::matches(&e, &form.csrf)) {
        tracing::warn!(ip = %peer.ip(), "sign-in refused: no valid form token");
        return sign_in_page(&headers, StatusCode::FORBIDDEN, &shown, Some(d.stale_form));
    }
    let ip = peer.ip();
    // The attempt takes its places before the password is checked.
    let Some(attempt) = state.sign_in_limits.try_begin(&shown, ip, Instant::now()) else {
        tracing::warn!(%ip, "sign-in refused: too many failures");
        return sign_in_page(
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &shown,
            Some(d.too_many),
        );
    };
    let within_bounds =
        name.chars().count() <= NAME_MAX && form.password.len() <= crate::secrets::PASSWORD_MAX;
    let matched = if within_bounds {
        let wanted = name.clone();
        let Ok(stored) = with_reader(&state, move |db| db.password_hash(&wanted)).await else {
            return sign_in_page(
                &headers,
                StatusCode::INTERNAL_SERVER_ERROR,
                &shown,
                Some(d.failed),
            );
        };
        let Some(answer) = state.password_checks.check(form.password, stored) else {
            // Not this attempt's fault: its places are given back (dropped), nothing counted.
            tracing::warn!(%ip, "sign-in refused: password checks are all busy");
            return sign_in_page(
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                &shown,
                Some(d.busy),
            );
        };
        answer.await.unwrap_or(false)
    } else {
        false
    };
    if !matched {
        attempt.failed(Instant::now());
        tracing::warn!(%ip, "sign-in failed");
        return sign_in_page(&headers, StatusCode::UNAUTHORIZED, &shown, Some(d.wrong));
    }
    drop(attempt);
    let user = name.clone();
    let Ok(token) = with_db(&state, move |db| db.new_session(&user, Utc::now())).await else {
        return sign_in_page(
            &headers,
            StatusCode::INTERNAL_SERVER_ERROR,
            &shown,
            Some(d.failed),
        );
    };
    tracing::info!(user = %Escaped(&name), "signed in to the dashboard");
    let secure = if state.https { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        crate::db::SESSION_HOURS * 3600
    );
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

#[derive(Deserialize)]
pub struct SignOut {
    #[serde(default)]
    csrf: String,
}

/// Ends the session on the server and in the browser; only from this session's own form.
pub async fn sign_out(
    State(state): State<Shared>,
    headers: HeaderMap,
    form: Result<Form<SignOut>, FormRejection>,
) -> Response {
    let lang = lang_of(&headers);
    let token = cookie(&headers, SESSION_COOKIE).map(str::to_owned);
    let from_its_form = match (&token, &form) {
        (Some(token), Ok(Form(form))) => csrf::matches(&csrf::for_session(token), &form.csrf),
        _ => false,
    };
    if !from_its_form {
        return problem_page(lang, StatusCode::FORBIDDEN, |d| d.stale_form);
    }
    if let Some(token) = token {
        let _ = with_db(&state, move |db| db.end_session(&token)).await;
    }
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    with_cookie(Redirect::to("/sign-in").into_response(), &cookie)
}

pub fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
