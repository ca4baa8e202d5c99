//! The HTTP API (see docs/api.md): pairing, batch upload, summary, health. Errors are JSON
//! `{"error": "..."}` with the status that fits, a malformed query, an unknown path and a
//! wrong method included.

use crate::db::{Caller, DbError, Summary};
use crate::ingest::{Incoming, Ingested, Prepared};
use crate::pairing::PairError;
use crate::state::{Shared, WorkError, report_file, store_batch, with_db, with_reader};
use crate::storage::StoreError;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, Utc};
use hailong_core::batch::{BatchError, CheckedMisuse, decode_batch};
use hailong_core::escape::Escaped;
use hailong_core::period::{DateRange, ReportPeriod};
use hailong_core::report::{Group, counts_json};
use hailong_core::wire::{AppVersion, BatchResult, MAX_BATCH_BYTES, Order, Status};
use hailong_report::{Format, Lang};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Instant;

/// The API's routes (see docs/api.md); `app::router` puts them beside the dashboard's.
pub fn router() -> Router<Shared> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/devices/pair", post(pair))
        .route("/api/v1/ca.pem", get(ca))
        .route("/api/v1/ratings/batch", post(batch))
        .route("/api/v1/summary", get(summary))
        .route("/api/v1/export", get(export))
}

/// The commune CA's certificate. It is public: a tablet fetches it before it trusts this
/// server, and trusts it only if its SHA-256 is the fingerprint in the pairing invitation.
async fn ca(State(state): State<Shared>) -> Response {
    match &state.ca {
        Some(pem) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            pem.to_string(),
        )
            .into_response(),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "this server's certificate is not from a commune CA of its own",
        )
        .into_response(),
    }
}

/// Whether a path is the API's, so its errors are JSON rather than pages.
pub fn is_api(uri: &Uri) -> bool {
    uri.path().starts_with("/api/")
}

/// The API's 404.
pub fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "there is no such API path").into_response()
}

/// The API's 405 (each path takes the one method docs/api.md gives).
pub fn wrong_method() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this path does not take that method",
    )
    .into_response()
}

/// `Query` whose refusal (a malformed, repeated or out-of-range parameter) is the API's
/// JSON error with status 400.
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))
    }
}

/// An error answer: a status and words for the log and the caller.
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError(status, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "database error");
        let status = match e {
            DbError::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, "the server could not store or read the data")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sqlite(e) => e.into(),
            e @ StoreError::OutOfOrder(_) => ApiError::new(StatusCode::CONFLICT, e.to_string()),
            e @ (StoreError::Postgres(_) | StoreError::Source(_)) => {
                tracing::error!(error = %e, "database error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the server could not store or read the data",
                )
            }
        }
    }
}

impl From<WorkError> for ApiError {
    fn from(e: WorkError) -> Self {
        match e {
            WorkError::Store(e) => e.into(),
            WorkError::Lost => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the request failed")
            }
        }
    }
}

/// The caller behind `Authorization: Bearer TOKEN`.
async fn caller(state: &Shared, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let unauthorised = || ApiError::new(StatusCode::UNAUTHORIZED, "a valid bearer token is needed");
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(unauthorised)?
        .to_owned();
    with_reader(state, move |db| db.caller(&token))
        .await?
        .ok_or_else(unauthorised)
}

/// Reads a body of at most `limit` bytes, within the connection's body deadline.
async fn body_bytes(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    to_bytes(body, limit).await.map_err(|e| {
        let error = e.into_inner();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
        while let Some(c) = cause {
            if c.is::<crate::net::BodyTimedOut>() {
                return ApiError::new(StatusCode::REQUEST_TIMEOUT, c.to_string());
            }
            if c.is::<http_body_util::LengthLimitError>() {
                return ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is larger than {limit} bytes"),
                );
            }
            cause = c.source();
        }
        ApiError::new(StatusCode::BAD_REQUEST, "the body could not be read")
    })
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}"))
}

/// Reads a JSON body of at most `limit` bytes.
async fn json_body<T: serde::de::DeserializeOwned>(
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    serde_json::from_slice(&body_bytes(body, limit).await?).map_err(malformed)
}

/// A batch as parsed: its ratings, and its well-formed misuse presses.
struct Parsed {
    ratings: Vec<Ingested>,
    misuse: Vec<CheckedMisuse>,
    misuse_sent: u64,
    queued: Option<u64>,
    clock_skew: Option<i64>,
    acked_through: Option<u64>,
    app_version: Option<AppVersion>,
    order: Option<Order>,
}

/// Parses and checks a batch (`hailong_core::batch`): a bad rating is rejected alone, a bad
/// misuse press dropped, an unreadable count or time ignored; each of those logged, escaped.
fn parse_batch(bytes: &[u8]) -> Result<Parsed, ApiError> {
    let batch = decode_batch(bytes).map_err(|e| {
        let status = match e {
            BatchError::Malformed(_) => StatusCode::BAD_REQUEST,
            BatchError::TooManyRatings | BatchError::TooManyMisuse => StatusCode::PAYLOAD_TOO_LARGE,
        };
        ApiError::new(status, e.to_string())
    })?;
    for dropped in &batch.dropped {
        tracing::warn!(
            part = dropped.part,
            value = %Escaped::clipped(&dropped.value),
            error = dropped.error,
            "a part of a batch was left out"
        );
    }
    // The tablet's clock against the server's, taken as the batch arrives.
    let clock_skew = batch
        .sent_at
        .map(|sent| (sent - chrono::Utc::now().fixed_offset()).num_seconds());
    Ok(Parsed {
        ratings: batch
            .ratings
            .into_iter()
            .map(|rating| match rating {
                Ok(checked) => Ingested::Checked(Box::new(Prepared::new(checked))),
                Err(rejected) => Ingested::Rejected {
                    id: rejected.id,
                    error: rejected.error.to_owned(),
                },
            })
            .collect(),
        misuse: batch.misuse,
        misuse_sent: batch.misuse_sent,
        queued: batch.queued,
        clock_skew,
        acked_through: batch.acked_through,
        app_version: batch.app_version,
        order: batch.order,
    })
}

#[derive(Deserialize)]
struct PairRequest {
    code: String,
    device_name: String,
}

async fn pair(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Body,
) -> Result<Response, ApiError> {
    let ip = peer.ip();
    // The try takes its place before the code is looked up (see `limits`).
    let Some(attempt) = state.pair_limiter.try_begin(ip, Instant::now()) else {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many wrong pairing codes; wait and try again",
        ));
    };
    let request: PairRequest = json_body(body, 4096).await?;
    let outcome = with_db(&state, move |db| {
        db.pair(&request.code, &request.device_name, Utc::now())
    })
    .await?;
    match outcome {
        Ok((device_id, token)) => {
            tracing::info!(device = %device_id, "device paired");
            Ok((
                StatusCode::CREATED,
                Json(json!({ "device_id": device_id, "token": token })),
            )
                .into_response())
        }
        Err(e) => {
            attempt.failed(Instant::now());
            let status = match e {
                PairError::Unknown => StatusCode::UNAUTHORIZED,
                PairError::Used | PairError::Expired => StatusCode::GONE,
            };
            Err(ApiError::new(status, e.to_string()))
        }
    }
}

async fn batch(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<BatchResult>, ApiError> {
    let device_id = match caller(&state, &headers).await? {
        Caller::Device { id, .. } => id,
        Caller::Admin => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ratings are sent with a device token",
            ));
        }
    };
    let bytes = body_bytes(body, MAX_BATCH_BYTES).await?;
    let parsed = tokio::task::spawn_blocking(move || parse_batch(&bytes))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the request failed"))??;
    let Parsed {
        ratings,
        misuse,
        misuse_sent,
        queued,
        clock_skew,
        acked_through,
        app_version,
        order,
    } = parsed;
    let stored = store_batch(
        &state,
        Incoming {
            device_id: device_id.clone(),
            items: ratings,
            misuse,
            queued,
            clock_skew,
            acked_through,
            app_version,
            order,
        },
    )
    .await
    .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping"))??;
    let results = stored.results;
    let count = |status: Status| results.iter().filter(|r| r.status == status).count();
    tracing::info!(
        device = %device_id,
        accepted = count(Status::Accepted),
        duplicate = count(Status::Duplicate),
        conflict = count(Status::Conflict),
        rejected = count(Status::Rejected),
        "batch committed"
    );
    Ok(Json(BatchResult {
        results,
        misuse_received: misuse_sent,
        resend_after: stored.resend_after,
        in_order: true,
    }))
}

#[derive(Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

/// Refuses anyone but an administrator.
async fn require_admin(state: &Shared, headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    if caller(state, headers).await? != Caller::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("{what} needs an admin token"),
        ));
    }
    Ok(())
}

fn query_date(s: Option<String>, default: NaiveDate) -> Result<NaiveDate, ApiError> {
    match s {
        None => Ok(default),
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{s:?} is not a date of the form YYYY-MM-DD"),
            )
        }),
    }
}

/// `from` and `to` (each optional) as a range; from after to is a 400.
fn query_range(period: Period) -> Result<DateRange, ApiError> {
    let all = DateRange::all();
    let from = query_date(period.from, all.from)?;
    let to = query_date(period.to, all.to)?;
    DateRange::new(from, to).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "from is after to"))
}

async fn summary(
    State(state): State<Shared>,
    headers: HeaderMap,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_admin(&state, &headers, "the summary").await?;
    let range = query_range(period)?;
    let summary = with_reader(&state, move |db| db.summary(range.from, range.to)).await?;
    Ok(Json(summary_json(&summary)))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
    lang: Option<String>,
}

/// `GET /api/v1/export?format=xlsx&period=2026-Q1`: the report file, as an attachment.
async fn export(
    State(state): State<Shared>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers, "an export").await?;
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message);
    let format: Format = query.format.as_deref().unwrap_or("").parse().map_err(bad)?;
    let lang: Lang = query.lang.as_deref().unwrap_or("vi").parse().map_err(bad)?;
    let period = match query.period {
        Some(_) if query.from.is_some() || query.to.is_some() => {
            return Err(bad("give a period or from/to, not both".into()));
        }
        Some(p) => p.parse::<ReportPeriod>().map_err(|e| bad(e.to_string()))?,
        None => ReportPeriod::Range(query_range(Period {
            from: query.from,
            to: query.to,
        })?),
    };
    report_file(&state, period, format, lang)
        .await
        .map_err(|status| ApiError::new(status, "the report could not be made"))
}

/// The summary API's object (docs/api.md): the counts, and the counts per tablet and per
/// officer.
fn summary_json(summary: &Summary) -> Value {
    let mut object = counts_json(&summary.counts, summary.scale);
    let group = |rows: &[Group], key: &str, label: &str| -> Value {
        rows.iter()
            .map(|b| {
                let mut o = counts_json(&b.counts, summary.scale);
                o.insert(key.into(), json!(b.key));
                if key != label {
                    o.insert(label.into(), json!(b.label));
                }
                Value::Object(o)
            })
            .collect()
    };
    object.insert(
        "by_device".into(),
        group(&summary.by_device, "device_id", "counter"),
    );
    object.insert(
        "by_officer".into(),
        group(&summary.by_officer, "officer", "officer"),
    );
    Value::Object(object)
}
