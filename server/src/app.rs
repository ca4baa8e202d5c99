//! The whole HTTP application: the API's routes beside the dashboard's, and the 404 and 405
//! that fit each (JSON on the API's paths, a page elsewhere).

use crate::state::Shared;
use crate::{api, web};
use axum::Router;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

pub fn router(state: Shared) -> Router {
    Router::new()
        .merge(api::router())
        .merge(web::router(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state)
}

async fn not_found(uri: Uri, headers: HeaderMap) -> Response {
    if api::is_api(&uri) {
        api::not_found()
    } else {
        web::not_found(headers).await
    }
}

async fn wrong_method(uri: Uri, headers: HeaderMap) -> Response {
    if api::is_api(&uri) {
        api::wrong_method()
    } else {
        web::wrong_method(headers).await
    }
}
