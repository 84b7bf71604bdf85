//! Every error a client can see, as RFC 9457 problem details with a stable `code`.
//!
//! The policy, in one place: what the client sent wrong is a 4xx that names the problem and
//! changes nothing; a database that cannot be reached is a 503 with `Retry-After`; anything else
//! is a 500 whose details go to the log (with the request id) and never to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::problem::ProblemCode;
use crate::domain::validation::{FieldError, ValidationErrors};
use crate::store::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Boxed: errors travel through every handler's `Result`, and the happy path should not pay
/// for their size.
#[derive(Debug)]
pub struct ApiError(Box<Details>);

#[derive(Debug)]
struct Details {
    status: StatusCode,
    code: ProblemCode,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    extra: serde_json::Map<String, serde_json::Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// What the log gets for a server-side failure; never sent.
    internal: Option<String>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
    #[serde(flatten)]
    extra: &'a serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: ProblemCode,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self(Box::new(Details {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            extra: serde_json::Map::new(),
            headers: Vec::new(),
            internal: None,
        }))
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn code(&self) -> ProblemCode {
        self.0.code
    }

    /// Why, in the words the problem document gives.
    pub fn detail(&self) -> &str {
        &self.0.detail
    }

    /// Whether the refusal names `field` among the invalid ones.
    pub fn names_field(&self, field: &str) -> bool {
        self.0.errors.iter().any(|e| e.field == field)
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.0.headers.push((name, value));
        }
        self
    }

    pub fn with_field(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.0.extra.insert(key.to_owned(), value.into());
        self
    }

    /// 400: the body is not JSON at all.
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::MalformedJson,
            "Malformed JSON",
            detail,
        )
    }

    pub fn bad_request(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
    }

    /// 422 with one entry per offending field.
    pub fn validation(errors: ValidationErrors) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::ValidationFailed,
            "Validation failed",
            errors.to_string(),
        );
        error.0.errors = errors.into_errors();
        error
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(ValidationErrors::single(field, message))
    }

    /// 422: a well-formed request that cannot be honoured as asked (e.g. a reused idempotency key).
    pub fn unprocessable(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "Unprocessable request",
            detail,
        )
    }

    pub fn unauthorized(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, "Unauthorized", detail)
            .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"hotline\"")
    }

    pub fn forbidden(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, "Forbidden", detail)
    }

    /// 404, also for whatever lies outside the caller's scope: existence is not leaked.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ProblemCode::NotFound,
            "Not found",
            detail,
        )
    }

    pub fn route_not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ProblemCode::RouteNotFound,
            "No such route",
            format!("no route matches {path}; see /openapi.yaml"),
        )
    }

    pub fn method_not_allowed(allowed: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ProblemCode::MethodNotAllowed,
            "Method not allowed",
            format!("this route accepts {allowed}"),
        )
        .with_header(header::ALLOW, allowed)
    }

    pub fn conflict(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict", detail)
    }

    /// 409: the ticket's state does not allow the action; the state is named.
    pub fn invalid_transition(state: &str, action: &str) -> Self {
        Self::conflict(
            ProblemCode::InvalidTransition,
            crate::domain::lifecycle::transition_refused(state, action),
        )
        .with_field("ticket_status", state)
    }

    /// 412: the `If-Match` version is not the current one.
    pub fn version_mismatch(expected: i64, current: i64) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            ProblemCode::VersionMismatch,
            "Version mismatch",
            format!("If-Match asked for version {expected}, the ticket is at version {current}"),
        )
        .with_field("current_version", current)
        .with_header(header::ETAG, &format!("\"{current}\""))
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::PayloadTooLarge,
            "Payload too large",
            format!("the body exceeds the limit of {limit} bytes"),
        )
    }

    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::UnsupportedMediaType,
            "Unsupported media type",
            format!("send the body as {expected}"),
        )
    }

    pub fn rate_limited(retry_after_seconds: u64, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            "Too many requests",
            detail,
        )
        .with_header(header::RETRY_AFTER, &retry_after_seconds.to_string())
    }

    /// What the environment did, not the client: the status, the code and what to tell the
    /// client, a `Retry-After`, and the cause for the log only.
    fn retry_later(
        status: StatusCode,
        code: ProblemCode,
        detail: &str,
        retry_after_seconds: &str,
        reason: String,
    ) -> Self {
        let title = if status == StatusCode::INSUFFICIENT_STORAGE {
            "Insufficient storage"
        } else {
            "Service unavailable"
        };
        let mut error = Self::new(status, code, title, detail)
            .with_header(header::RETRY_AFTER, retry_after_seconds);
        error.0.internal = Some(reason);
        error
    }

    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::Unavailable,
            "the database is unreachable or busy; retry shortly",
            "1",
            reason.into(),
        )
    }

    /// 503: the evidence store failed, refused or was too slow; nothing was recorded.
    pub fn evidence_store_unavailable(reason: impl Into<String>) -> Self {
        Self::retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::EvidenceStoreUnavailable,
            "the store of evidence files is unreachable, slow or refusing; no file was recorded: \
             retry shortly",
            "5",
            reason.into(),
        )
    }

    /// 503: the database did not answer within the request's time.
    pub fn database_timeout(reason: impl Into<String>) -> Self {
        Self::retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::DatabaseTimeout,
            "the database did not answer in time; whether a change was made is unknown: \
             retry with the same Idempotency-Key",
            "2",
            reason.into(),
        )
    }

    /// 507: the disk under the database or the evidence files is full; nothing was written.
    pub fn storage_full(reason: impl Into<String>) -> Self {
        Self::retry_later(
            StatusCode::INSUFFICIENT_STORAGE,
            ProblemCode::StorageFull,
            "the service's storage is full; nothing was written, reads still work: retry once \
             space has been freed",
            "60",
            reason.into(),
        )
    }

    /// 503: the storage refuses writes for now; reads still work.
    pub fn storage_read_only(reason: impl Into<String>) -> Self {
        Self::retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::StorageReadOnly,
            "the service's storage accepts no writes right now; nothing was written, reads \
             still work: retry later",
            "60",
            reason.into(),
        )
    }

    pub fn internal(reason: impl Into<String>) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ProblemCode::Internal,
            "Internal error",
            "the service failed; the request id identifies it in the log",
        );
        error.0.internal = Some(reason.into());
        error
    }
}

/// A read the replica could not do for the database's sake (503) is tried on the primary.
impl crate::store::replica::Outage for ApiError {
    fn is_outage(&self) -> bool {
        self.0.status == StatusCode::SERVICE_UNAVAILABLE
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.0.status.as_u16(),
            self.0.code,
            self.0.detail
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        let this = &self.0;
        match (&this.internal, this.status.is_server_error()) {
            (Some(reason), true)
                if matches!(
                    this.status,
                    StatusCode::SERVICE_UNAVAILABLE | StatusCode::INSUFFICIENT_STORAGE
                ) =>
            {
                tracing::warn!(code = this.code.as_str(), reason = %reason, status = this.status.as_u16(), "answering");
            }
            (Some(reason), true) => {
                tracing::error!(code = this.code.as_str(), reason = %reason, "request failed")
            }
            _ => tracing::debug!(
                code = this.code.as_str(),
                status = this.status.as_u16(),
                "request refused"
            ),
        }
        let problem = Problem {
            kind: format!("/problems/{}", this.code),
            title: this.title,
            status: this.status.as_u16(),
            detail: &this.detail,
            code: this.code.as_str(),
            errors: &this.errors,
            extra: &this.extra,
        };
        let mut response = HttpResponse::build(this.status);
        response.content_type(PROBLEM_JSON);
        for (name, value) in &this.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(serde_json::to_string(&problem).unwrap_or_else(|_| "{}".into()))
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(reason) => Self::unavailable(reason),
            StoreError::Timeout(reason) => Self::database_timeout(reason),
            StoreError::EvidenceStore(reason) => Self::evidence_store_unavailable(reason),
            StoreError::StorageFull(reason) => Self::storage_full(reason),
            StoreError::ReadOnly(reason) => Self::storage_read_only(reason),
            StoreError::NotFound => Self::not_found("no such resource"),
            StoreError::Archived { before } => Self::conflict(
                ProblemCode::PeriodArchived,
                format!(
                    "ticket events before {} have been archived out of the database, so figures \
                     of a period beginning earlier cannot be computed; a bulletin published \
                     for such a month stands as published",
                    before.to_rfc3339()
                ),
            ),
            StoreError::Duplicate { table } => Self::conflict(
                ProblemCode::AlreadyExists,
                format!("a record with the same unique key already exists in {table}"),
            ),
            StoreError::MissingReference(_) => Self::conflict(
                ProblemCode::ReferenceConflict,
                "the change refers to a record that does not exist or is still referred to",
            ),
            other => Self::internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        StoreError::from(error).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value, HttpResponse) {
        let response = error.error_response();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        let mut rebuilt = HttpResponse::build(status);
        for (name, value) in headers.iter() {
            rebuilt.insert_header((name.clone(), value.clone()));
        }
        (
            status,
            serde_json::from_slice(&bytes).unwrap(),
            rebuilt.finish(),
        )
    }

    #[actix_web::test]
    async fn validation_problems_list_each_field() {
        let mut errors = ValidationErrors::new();
        errors.add("title", "must not be empty");
        errors.add("caller_phone", "must have 3 to 20 digits");
        let (status, body, response) = body_of(ApiError::validation(errors)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["type"], "/problems/validation_failed");
        assert_eq!(body["status"], 422);
        assert_eq!(body["errors"][1]["field"], "caller_phone");
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }

    #[actix_web::test]
    async fn server_failures_do_not_leak_their_cause() {
        let (status, body, _) =
            body_of(StoreError::Corrupt("row 7 has status `lost`".into()).into()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("lost"));
    }

    #[actix_web::test]
    async fn an_unreachable_database_asks_to_retry() {
        let (status, body, response) =
            body_of(StoreError::Unavailable("timed out waiting for connection".into()).into())
                .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "unavailable");
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }

    #[actix_web::test]
    async fn version_mismatch_names_the_current_version() {
        let (status, body, response) = body_of(ApiError::version_mismatch(3, 5)).await;
        assert_eq!(status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(body["current_version"], 5);
        assert_eq!(response.headers().get(header::ETAG).unwrap(), "\"5\"");
    }
}
