//! Signing in and out of the dashboard: the session cookie (HttpOnly, SameSite=Strict, Secure
//! over HTTPS), a per-address limit on wrong passwords, and the same answer for a wrong name
//! as for a wrong password.

use super::{html_response, lang_of, pages, words::dash};
use crate::api::{Shared, with_db, with_reader};
use crate::secrets;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use hailong_report::Lang;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Instant;

pub const SESSION_COOKIE: &str = "hl_session";

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
        match with_reader(state, move |db| db.session_user(&token, Utc::now())).await {
            Ok(Some(user)) => Ok(Session { user, lang }),
            Ok(None) => Err(Redirect::to("/sign-in").into_response()),
            Err(_) => Err(html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::problem(lang, dash(lang).failed),
            )),
        }
    }
}

pub async fn form(headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    html_response(StatusCode::OK, pages::sign_in(lang, "", None))
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

pub async fn sign_in(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    let lang = lang_of(&headers);
    let d = dash(lang);
    let ip = peer.ip();
    let name = form.name.trim().to_owned();
    if !state.sign_in_limiter.allowed(ip, Instant::now()) {
        tracing::warn!(%ip, "sign-in refused: too many failures");
        return html_response(
            StatusCode::TOO_MANY_REQUESTS,
            pages::sign_in(lang, &name, Some(d.too_many)),
        );
    }
    let wanted = name.clone();
    let Ok(stored) = with_reader(&state, move |db| db.password_hash(&wanted)).await else {
        return html_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::sign_in(lang, &name, Some(d.failed)),
        );
    };
    // argon2 takes tens of milliseconds: off the async threads.
    let password = form.password;
    let matched =
        tokio::task::spawn_blocking(move || secrets::verify_password(&password, stored.as_deref()))
            .await
            .unwrap_or(false);
    if !matched {
        state.sign_in_limiter.failed(ip, Instant::now());
        tracing::warn!(%ip, "sign-in failed");
        return html_response(
            StatusCode::UNAUTHORIZED,
            pages::sign_in(lang, &name, Some(d.wrong)),
        );
    }
    let user = name.clone();
    let Ok(token) = with_db(&state, move |db| db.new_session(&user, Utc::now())).await else {
        return html_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::sign_in(lang, &name, Some(d.failed)),
        );
    };
    tracing::info!(user = %name, "signed in to the dashboard");
    let secure = if state.https { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        crate::db::SESSION_HOURS * 3600
    );
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

pub async fn sign_out(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE).map(str::to_owned) {
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
