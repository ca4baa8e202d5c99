//! The administrators' web dashboard at `/`: sign-in, this month's overview with a 12-month
//! trend, the pages by officer, by field and procedure, the negative ratings and the tablets,
//! and report downloads. Server-rendered HTML and one stylesheet: no script, no CDN.

mod csrf;
mod pages;
mod session;
mod trend;
mod words;

use crate::db::NegativeQuery;
use crate::figures::Breakdowns;
use crate::state::own_reader;
use crate::state::{Shared, blocking, report_file, with_db, with_reader};
use crate::storage::StoreError;
use crate::store::{Store, report_heading};
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hailong_core::escape::Escaped;
use hailong_core::invite::Invite;
use hailong_core::period::ReportPeriod;
use hailong_core::report::{Heading, Report};
use hailong_report::{Format, Lang};
use maud::Markup;
use pages::{Frame, Nav};
use serde::Deserialize;
use session::Session;
use words::{Dash, dash};

const LANG_COOKIE: &str = "hl_lang";
const STYLE: &str = include_str!("style.css");

pub fn router(state: Shared) -> Router<Shared> {
    Router::new()
        .route("/", get(overview))
        .route("/officers", get(officers))
        .route("/fields", get(fields))
        .route("/negatives", get(negatives))
        .route("/devices", get(devices))
        .route("/devices/pair", post(pair))
        .route("/communes", get(communes))
        .route("/export", get(export))
        .route("/sign-in", get(session::form).post(session::sign_in))
        .route("/sign-out", post(session::sign_out))
        .route("/lang/{code}", get(language))
        .route("/static/style.css", get(style))
        .route_layer(middleware::from_fn_with_state(state, posted_from_here))
        // A form is a few hundred bytes: nothing larger is read.
        .layer(DefaultBodyLimit::max(16 * 1024))
}

/// Refuses a form posted from a page that is not this server's (see `csrf`).
async fn posted_from_here(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if !safe && !csrf::same_origin(request.headers(), state.https) {
        let lang = lang_of(request.headers());
        tracing::warn!(path = %Escaped(request.uri().path()), "form refused: posted from another site");
        return problem_page(lang, StatusCode::FORBIDDEN, |d| d.stale_form);
    }
    next.run(request).await
}

/// A page that is not here (the API's own paths answer in JSON, see `api`).
pub async fn not_found(headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    problem_page(lang, StatusCode::NOT_FOUND, |d| d.not_found)
}

/// A page asked with a method it does not take (a form posted to a page, say).
pub async fn wrong_method(headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    problem_page(lang, StatusCode::METHOD_NOT_ALLOWED, |d| d.wrong_method)
}

/// `Query` whose refusal (a malformed or repeated parameter) is a page in the user's language.
struct PageQuery<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(PageQuery(value)),
            Err(_) => {
                let lang = lang_of(&parts.headers);
                Err(problem_page(lang, StatusCode::BAD_REQUEST, |d| {
                    d.bad_period
                }))
            }
        }
    }
}

/// A page that only says what went wrong (`words` picks the words), with `status`.
fn problem_page(lang: Lang, status: StatusCode, words: fn(&Dash) -> &'static str) -> Response {
    html_response(status, pages::problem(lang, words(dash(lang))))
}

/// The language chosen with the links at the top (a cookie); Vietnamese by default.
fn lang_of(headers: &HeaderMap) -> Lang {
    session::cookie(headers, LANG_COOKIE)
        .and_then(|code| code.parse().ok())
        .unwrap_or_default()
}

/// An HTML answer that no other site may frame, no cache keeps, and that loads nothing from
/// elsewhere.
fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

#[derive(Deserialize)]
struct LangQuery {
    back: Option<String>,
}

/// `/lang/en?back=/officers`: remembers the language and goes back (only to a page here).
async fn language(Path(code): Path<String>, PageQuery(query): PageQuery<LangQuery>) -> Response {
    let lang: Lang = code.parse().unwrap_or_default();
    let back = query
        .back
        .filter(|b| is_local_path(b))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = format!(
        "{LANG_COOKIE}={}; SameSite=Strict; Path=/; Max-Age=31536000",
        words::code(lang)
    );
    session::with_cookie(Redirect::to(&back).into_response(), &cookie)
}

/// Whether `back` (already percent-decoded) is a path on this server and nothing else: one
/// leading `/`, not `//` or `/\\` (another host to a browser), and only visible ASCII, so no
/// tab, line break or space a browser would drop or a header would refuse.
fn is_local_path(back: &str) -> bool {
    back.starts_with('/')
        && !back.starts_with("//")
        && !back.starts_with("/\\")
        && back.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

/// `?period=2026-Q4&commune=…`: a period (this month if none), and on a province's server
/// the commune whose own page it is (its server's device id), if any.
#[derive(Deserialize)]
struct PeriodQuery {
    period: Option<String>,
    commune: Option<String>,
}

/// The period asked for, or this month; `None` if it is not a period.
fn period_of(query: &PeriodQuery) -> Option<ReportPeriod> {
    match query.period.as_deref() {
        None | Some("") => Some(ReportPeriod::month_of(chrono::Local::now().date_naive())),
        Some(text) => text.parse().ok(),
    }
}

/// The commune `id` names: a commune's server paired here. `Ok(None)` if there is none.
fn commune_of(db: &dyn Store, id: &str) -> Result<Option<pages::Commune>, StoreError> {
    Ok(db.devices()?.into_iter().find_map(|device| {
        let unit_code = device.unit_code.filter(|_| device.id == id)?;
        Some(pages::Commune {
            id: device.id,
            name: device.counter,
            unit_code,
        })
    }))
}

/// A page about a period, of the whole server or of one commune: read on a connection of its
/// own, then rendered by `render`.
async fn period_page(
    state: Shared,
    session: Session,
    query: PeriodQuery,
    nav: Nav,
    keep: String,
    render: impl FnOnce(&Frame<'_>, &dyn Store, Heading) -> Result<Markup, StoreError> + Send + 'static,
) -> Response {
    let lang = session.lang;
    let Some(period) = period_of(&query) else {
        return problem_page(lang, StatusCode::BAD_REQUEST, |d| d.bad_period);
    };
    let rendered = blocking(move || {
        let db = own_reader(&state)?;
        let commune = match query.commune.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => match commune_of(&*db, id)? {
                Some(commune) => Some(commune),
                None => return Ok(None),
            },
            None => None,
        };
        let heading = report_heading(&*db, period)?;
        let unit = heading.unit.clone();
        let frame = Frame {
            lang,
            user: &session.user,
            unit: &unit,
            nav,
            period,
            csrf: &session.csrf,
            keep: &keep,
            communes: db.any_commune()?,
            commune: commune.as_ref(),
        };
        render(&frame, &*db, heading).map(Some)
    })
    .await;
    match rendered {
        Ok(Some(markup)) => html_response(StatusCode::OK, markup),
        Ok(None) => problem_page(lang, StatusCode::NOT_FOUND, |d| d.no_such_commune),
        Err(_) => problem_page(lang, StatusCode::INTERNAL_SERVER_ERROR, |d| d.failed),
    }
}

/// The twelve months ending with the period's last month.
fn trend_window(period: ReportPeriod) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let last = period.range().to;
    let first = ReportPeriod::month_of(last).step(-11).range().from;
    (first, last)
}

async fn overview(
    State(state): State<Shared>,
    session: Session,
    PageQuery(query): PageQuery<PeriodQuery>,
) -> Response {
    period_page(
        state,
        session,
        query,
        Nav::Overview,
        String::new(),
        |frame, db, _| {
            // The figures come from the daily counts, not from every rating; the scale is the
            // exports' (five levels if the commune ever used them).
            let range = frame.period.range();
            let mut totals = db.totals(range.from, range.to, frame.device())?;
            totals.scale = db.scale().map_err(|e| StoreError::Source(e.to_string()))?;
            let (from, to) = trend_window(frame.period);
            let found = db.monthly(from, to, frame.device())?;
            // Every month of the window, with no ratings where none came.
            let months = (0..12)
                .map(|i| {
                    let month = ReportPeriod::month_of(from).step(i).code();
                    let counts = found
                        .iter()
                        .find(|(m, _)| *m == month)
                        .map(|(_, c)| c.clone())
                        .unwrap_or_default();
                    (month, counts)
                })
                .collect::<Vec<_>>();
            Ok(pages::overview(frame, &totals, &months))
        },
    )
    .await
}

/// A page drawn from the period's whole report: every group and negative rating, counted as
/// the exports count them.
/// A page of a period's report, read from the counts the writer keeps (`Db::page_report`).
async fn report_page(
    state: Shared,
    session: Session,
    query: PeriodQuery,
    nav: Nav,
    breakdowns: Breakdowns,
    render: fn(&Frame<'_>, &Report) -> Markup,
) -> Response {
    period_page(
        state,
        session,
        query,
        nav,
        String::new(),
        move |frame, db, heading| {
            let report = db.page_report(heading, frame.device(), breakdowns)?;
            Ok(render(frame, &report))
        },
    )
    .await
}

async fn officers(
    State(state): State<Shared>,
    session: Session,
    PageQuery(query): PageQuery<PeriodQuery>,
) -> Response {
    report_page(
        state,
        session,
        query,
        Nav::Officers,
        Breakdowns::Officers,
        pages::officers,
    )
    .await
}

async fn fields(
    State(state): State<Shared>,
    session: Session,
    PageQuery(query): PageQuery<PeriodQuery>,
) -> Response {
    report_page(
        state,
        session,
        query,
        Nav::Fields,
        Breakdowns::Fields,
        pages::fields,
    )
    .await
}

/// `/negatives?period=…&officer=…&field=…&reason=late&page=2`: empty filters show all; an
/// unknown reason or a page past the end shows all reasons or the last page.
#[derive(Debug, Deserialize)]
struct NegativesQuery {
    period: Option<String>,
    commune: Option<String>,
    page: Option<usize>,
    officer: Option<String>,
    field: Option<String>,
    reason: Option<String>,
}

async fn negatives(
    State(state): State<Shared>,
    session: Session,
    PageQuery(query): PageQuery<NegativesQuery>,
) -> Response {
    let chosen = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let filter = pages::NegativeFilter {
        page: query.page.unwrap_or(1).max(1),
        officer: chosen(query.officer),
        field: chosen(query.field),
        reason: query.reason.and_then(|r| r.parse().ok()),
    };
    let period = PeriodQuery {
        period: query.period,
        commune: query.commune,
    };
    // Another period or language keeps the filters (from its first page).
    let kept: Vec<(&str, &str)> = [
        ("officer", filter.officer.as_deref()),
        ("field", filter.field.as_deref()),
        ("reason", filter.reason.map(|r| r.code())),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect();
    let keep = match serde_urlencoded::to_string(&kept) {
        Ok(query) if !query.is_empty() => format!("&{query}"),
        _ => String::new(),
    };
    period_page(
        state,
        session,
        period,
        Nav::Negatives,
        keep,
        move |frame, db, heading| {
            let range = heading.period.range();
            let per_page = pages::NEGATIVES_PER_PAGE as u64;
            let mut asked = NegativeQuery {
                device: frame.device().map(str::to_owned),
                officer: filter.officer.clone(),
                field: filter.field.clone(),
                reason: filter.reason,
                offset: (filter.page as u64 - 1) * per_page,
                limit: per_page,
            };
            let mut page = db.negatives_page(range, &asked)?;
            // Past the last page: the last page.
            let last = page.total.div_ceil(per_page).max(1);
            if filter.page as u64 > last {
                asked.offset = (last - 1) * per_page;
                page = db.negatives_page(range, &asked)?;
            }
            Ok(pages::negatives(frame, &page, &filter))
        },
    )
    .await
}

async fn devices(State(state): State<Shared>, session: Session) -> Response {
    let lang = session.lang;
    let read = with_reader(&state, |db| {
        let channels = db
            .notify_settings()?
            .and_then(|j| serde_json::from_str::<crate::notify::settings::Settings>(&j).ok())
            .map(|s| s.channels())
            .unwrap_or_default();
        Ok((
            db.devices()?,
            db.unit_name()?,
            (channels, db.queue_state()?),
        ))
    })
    .await;
    let backup_state = state
        .backups
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let link = state
        .upstream
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match read {
        Ok((devices, unit, notifications)) => {
            let communes = devices.iter().any(|d| d.unit_code.is_some());
            let frame = devices_frame(&session, &unit, communes);
            html_response(
                StatusCode::OK,
                pages::devices(&frame, &devices, &backup_state, &notifications, &link),
            )
        }
        Err(_) => problem_page(lang, StatusCode::INTERNAL_SERVER_ERROR, |d| d.failed),
    }
}

/// The frame of the tablets page and of the pairing code made from it.
fn devices_frame<'a>(session: &'a Session, unit: &'a str, communes: bool) -> Frame<'a> {
    Frame {
        lang: session.lang,
        user: &session.user,
        unit,
        nav: Nav::Devices,
        period: ReportPeriod::month_of(chrono::Local::now().date_naive()),
        csrf: &session.csrf,
        keep: "",
        communes,
        commune: None,
    }
}

#[derive(Deserialize)]
struct PairForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    counter: String,
}

/// How long a code made on the dashboard works, as `pair`'s default.
const PAIRING_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Makes a pairing code for a counter, from the tablets page's form only, and shows it with
/// its invitation (see `pairing_address`) as a QR code to scan at the counter.
async fn pair(
    State(state): State<Shared>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<PairForm>, FormRejection>,
) -> Response {
    let lang = session.lang;
    let Ok(Form(form)) = form else {
        return problem_page(lang, StatusCode::BAD_REQUEST, |d| d.bad_counter);
    };
    if !csrf::matches(&session.csrf, &form.csrf) {
        return problem_page(lang, StatusCode::FORBIDDEN, |d| d.stale_form);
    }
    let counter = form.counter.trim().to_owned();
    if counter.is_empty() || counter.chars().count() > 100 || counter.chars().any(char::is_control)
    {
        return problem_page(lang, StatusCode::BAD_REQUEST, |d| d.bad_counter);
    }
    let now = chrono::Utc::now();
    let label = counter.clone();
    let made = with_db(&state, move |db| {
        let code = db.new_pairing_code(&label, None, PAIRING_TTL, now)?;
        Ok((code, db.unit_name()?, db.any_commune()?))
    })
    .await;
    let Ok((code, unit, communes)) = made else {
        return problem_page(lang, StatusCode::INTERNAL_SERVER_ERROR, |d| d.failed);
    };
    tracing::info!(user = %Escaped(&session.user), counter = %Escaped(&counter), "pairing code made on the dashboard");
    let fingerprint = state
        .ca
        .as_deref()
        .and_then(|pem| crate::commune_ca::fingerprint(pem.as_bytes()).ok());
    let invitation = pairing_address(&state, &headers)
        .and_then(|server| Invite::new(&server, &code, fingerprint).ok())
        .map(|invite| invite.to_string())
        .and_then(|text| {
            let svg = crate::invitation::svg(&text, dash(lang).pair_qr_label).ok()?;
            Some((svg, text))
        });
    let valid_until = (now + PAIRING_TTL)
        .with_timezone(&chrono::Local)
        .format("%H:%M %d/%m/%Y")
        .to_string();
    let frame = devices_frame(&session, &unit, communes);
    html_response(
        StatusCode::OK,
        pages::pairing(&frame, &counter, &code, invitation.as_ref(), &valid_until),
    )
}

/// The address tablets reach this server at: `serve --address` (or the configuration's), else
/// the one this page was opened at, unless that is this machine's own loopback, which a tablet
/// cannot reach.
fn pairing_address(state: &Shared, headers: &HeaderMap) -> Option<String> {
    if let Some(address) = &state.address {
        return Some(address.to_string());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        return None;
    }
    let scheme = if state.https { "https" } else { "http" };
    Invite::check_server(&format!("{scheme}://{host}")).ok()
}

/// `/communes?period=…&sort=satisfied`: a province's communes side by side.
#[derive(Deserialize)]
struct CommunesQuery {
    period: Option<String>,
    sort: Option<String>,
}

async fn communes(
    State(state): State<Shared>,
    session: Session,
    PageQuery(query): PageQuery<CommunesQuery>,
) -> Response {
    let sort = query
        .sort
        .filter(|s| pages::COMMUNE_SORTS.contains(&s.as_str()))
        .unwrap_or_else(|| "name".to_owned());
    let keep = format!("&sort={sort}");
    period_page(
        state,
        session,
        PeriodQuery {
            period: query.period,
            commune: None,
        },
        Nav::Communes,
        keep,
        move |frame, db, _| {
            let range = frame.period.range();
            let totals = db.totals(range.from, range.to, None)?;
            let mut rows: Vec<pages::CommuneRow> = db
                .devices()?
                .into_iter()
                .filter_map(|device| {
                    let unit_code = device.unit_code?;
                    let group = totals
                        .by_device
                        .iter()
                        .find(|g| g.key.as_deref() == Some(device.id.as_str()));
                    Some(pages::CommuneRow {
                        id: device.id.clone(),
                        name: device.counter,
                        unit_code,
                        counts: group.map(|g| g.counts.clone()).unwrap_or_default(),
                        rated_dossiers: totals
                            .rated_by_device
                            .get(&device.id)
                            .copied()
                            .unwrap_or(0),
                        last_seen: device.last_seen,
                        waiting: device.queued.and_then(|q| u64::try_from(q).ok()),
                    })
                })
                .collect();
            sort_communes(&mut rows, &sort);
            Ok(pages::communes(frame, &rows, &sort))
        },
    )
    .await
}

/// Sorts the communes by a column: the name A to Z, figures from the highest, the latest
/// contact first; ties by name.
fn sort_communes(rows: &mut [pages::CommuneRow], sort: &str) {
    use std::cmp::Reverse;
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    match sort {
        "ratings" => rows.sort_by_key(|r| Reverse(r.counts.total())),
        "satisfied" => rows.sort_by_key(|r| Reverse(r.counts.satisfied_tenths())),
        "response" => rows.sort_by_key(|r| Reverse(r.counts.response_tenths(r.rated_dossiers))),
        "negatives" => rows.sort_by_key(|r| Reverse(r.negatives())),
        "contact" => rows.sort_by(|a, b| b.last_seen.cmp(&a.last_seen)),
        "waiting" => rows.sort_by_key(|r| Reverse(r.waiting)),
        _ => {}
    }
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
    period: Option<String>,
}

/// `/export?format=xlsx&period=2026-Q4`: the report file, in the dashboard's language.
async fn export(
    State(state): State<Shared>,
    session: Session,
    PageQuery(query): PageQuery<ExportQuery>,
) -> Response {
    let lang = session.lang;
    let format = query.format.as_deref().unwrap_or("").parse::<Format>();
    let period = period_of(&PeriodQuery {
        period: query.period,
        commune: None,
    });
    let (Ok(format), Some(period)) = (format, period) else {
        return problem_page(lang, StatusCode::BAD_REQUEST, |d| d.bad_period);
    };
    tracing::info!(user = %Escaped(&session.user), format = format.code(), period = %period.code(), "report downloaded");
    match report_file(&state, period, format, lang).await {
        Ok(response) => response,
        Err(status) => problem_page(lang, status, |d| d.failed),
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_paths_on_this_server_are_gone_back_to() {
        for ok in ["/", "/officers?period=2026-Q4", "/fields?period=2026-11"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example/x",
            "/\\evil.example",
            "/\tevil.example/x",
            "/\t/evil.example/x",
            "/\r\nSet-Cookie: x=1",
            "/ /evil.example",
            "/x\\y",
            "https://evil.example",
            "evil.example",
            "",
            "/đường",
            "/\u{7f}",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}
