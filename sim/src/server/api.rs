//! The Connect API: one route per row of the operation table, all behind the front door, which
//! hands each route's handler an admitted call.

use axum::extract::{Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::Uri;
use axum::middleware::{from_fn_with_state, map_request};
use axum::response::{IntoResponse, Response};
use axum::routing::on;
use axum::{Extension, Router};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::front_door::{front_door, AdmittedCall, SentPath};
use crate::ops::{dispatch, OPERATIONS};
use crate::sim::{lock, Shared};
use crate::wire::{decode_component, json_response};

/// The routes of every operation. What matches none (or a route with another method) is still
/// seen by the front door, which answers `UnknownOperationException`.
pub fn routes(sim: Shared) -> Router {
    let operations = OPERATIONS
        .iter()
        .fold(Router::new(), |router, spec| {
            router.route(spec.path, on(spec.method, operation))
        })
        .layer(from_fn_with_state(sim.clone(), front_door))
        .with_state(sim);
    // A layer on a router's fallback runs before the inner router matches: the canonical path
    // is what the routes see.
    Router::new()
        .fallback_service(operations)
        .layer(map_request(canonical_path))
}

/// Runs an admitted call's operation.
async fn operation(
    State(sim): State<Shared>,
    Extension(call): Extension<AdmittedCall>,
) -> Response {
    let result = dispatch(&mut lock(&sim).world, &call.as_call());
    match result {
        Ok(body) => json_response(200, &body),
        Err(e) => e.into_response(),
    }
}

/// Characters a path segment keeps as they are: RFC 3986's unreserved ones.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Rewrites the path the way the service reads it: each segment percent-decoded (`+` as a
/// space), empty segments dropped, and encoded again one way, so that `/instance//ID/` is
/// `/instance/ID` and a label may hold an encoded `/`. A path with a segment that is not UTF-8
/// stays as sent (it routes to nothing). The path as sent is kept for messages.
async fn canonical_path(mut request: Request) -> Request {
    let sent = request.uri().path().to_string();
    if let Some(uri) = canonical_uri(request.uri()) {
        *request.uri_mut() = uri;
    }
    request.extensions_mut().insert(SentPath(sent));
    request
}

fn canonical_uri(uri: &Uri) -> Option<Uri> {
    let segments: Option<Vec<String>> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode_component)
        .collect();
    let path: String = segments?
        .iter()
        .map(|s| format!("/{}", utf8_percent_encode(s, SEGMENT)))
        .collect();
    let path = if path.is_empty() { "/".into() } else { path };
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(path: &str) -> Option<String> {
        let uri: Uri = path.parse().ok()?;
        canonical_uri(&uri).map(|u| u.to_string())
    }

    #[test]
    fn paths_are_read_segment_by_segment() {
        assert_eq!(
            canonical("/instance//abc/").as_deref(),
            Some("/instance/abc")
        );
        assert_eq!(
            canonical("/inst%61nce/abc").as_deref(),
            Some("/instance/abc")
        );
        assert_eq!(
            canonical("/instance/arn%3Aaws%3Aconnect%3Aus-east-1%3A1%3Ainstance%2Fabc?x=1")
                .as_deref(),
            Some("/instance/arn%3Aaws%3Aconnect%3Aus-east-1%3A1%3Ainstance%2Fabc?x=1")
        );
        assert_eq!(canonical("/users/a+b").as_deref(), Some("/users/a%20b"));
        assert_eq!(canonical("/").as_deref(), Some("/"));
        assert_eq!(canonical("/users/%FF"), None);
    }
}
