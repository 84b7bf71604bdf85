//! Request parts parsed strictly: a body that is not JSON is a 400, JSON of the wrong shape
//! (wrong types, unknown or missing fields) a 422 that names the field, and query parameters
//! follow the same rules, so nothing a client sends is silently ignored.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{AppState, Idempotency};
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;

/// Removes serde_json's " at line 1 column 12" suffix: the field name says more.
fn without_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |i| &message[..i])
}

/// The field a serde error is about: its path, or for unknown and missing fields the field
/// itself, which serde only names in the message.
fn field_of(path: &str, message: &str) -> String {
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    let parent = if path == "." || path.is_empty() {
        ""
    } else {
        path
    };
    match named {
        // For an unknown field the path already ends with it.
        Some(name) if parent == name || parent.ends_with(&format!(".{name}")) => parent.to_owned(),
        Some(name) if parent.is_empty() => name.to_owned(),
        Some(name) => format!("{parent}.{name}"),
        None if parent.is_empty() => "body".to_owned(),
        None => parent.to_owned(),
    }
}

/// A JSON body deserialized into `T`, with the fingerprint of the request for idempotency.
/// With `EMPTY_IS_OBJECT`, a request without a body counts as `{}`: actions whose fields are
/// all optional (`/sign`, `/urges` …) need not send one.
pub struct JsonBody<T, const EMPTY_IS_OBJECT: bool = false> {
    value: T,
    fingerprint: String,
}

/// The body of a ticket action: JSON, or nothing at all for `{}`.
pub type ActionBody<T> = JsonBody<T, true>;

impl<T, const E: bool> JsonBody<T, E> {
    pub fn into_inner(self) -> T {
        self.value
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// SHA-256 of the method, path and body: two requests with the same fingerprint asked for the
/// same thing.
fn fingerprint(req: &HttpRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(req.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses a request body that must be one JSON object: not JSON at all is a 400, JSON of the
/// wrong shape a 422.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed_json("the request body is empty"));
    }
    // Syntax first, so that a shape error never hides broken JSON (or the reverse).
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::malformed_json(format!("the body is not valid JSON: {e}")))?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = without_position(&inner.to_string()).to_owned();
        match inner.classify() {
            serde_json::error::Category::Data => {
                ApiError::validation(ValidationErrors::single(field_of(&path, &message), message))
            }
            _ => ApiError::malformed_json(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::malformed_json(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

impl<T: DeserializeOwned + 'static, const EMPTY_IS_OBJECT: bool> FromRequest
    for JsonBody<T, EMPTY_IS_OBJECT>
{
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(256 * 1024, |s| s.body_limit);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let json = is_json(&req);
        let bytes = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::payload_too_large(limit));
            }
            if !json && !EMPTY_IS_OBJECT {
                return Err(ApiError::unsupported_media_type("application/json"));
            }
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large(limit)
                } else {
                    ApiError::bad_request("unreadable_body", "the request body could not be read")
                }
            })?;
            let value = if EMPTY_IS_OBJECT && bytes.is_empty() {
                parse_json(b"{}")?
            } else if !json {
                return Err(ApiError::unsupported_media_type("application/json"));
            } else {
                parse_json(&bytes)?
            };
            Ok(JsonBody {
                value,
                fingerprint: fingerprint(&req, &bytes),
            })
        })
    }
}

/// Query parameters deserialized into `T` (which should deny unknown fields).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = form_urlencoded_query(req.query_string());
        std::future::ready(parsed.map(Query))
    }
}

fn form_urlencoded_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        ApiError::validation(ValidationErrors::single(field_of(&path, &message), message))
    })
}

/// The `Idempotency-Key` header of a `POST`, if sent.
pub struct IdempotencyKey(Option<String>);

impl IdempotencyKey {
    /// The key together with the fingerprint of the request it came with.
    pub fn with_fingerprint(self, fingerprint: &str) -> Option<Idempotency> {
        self.0.map(|key| Idempotency {
            key,
            request_hash: fingerprint.to_owned(),
        })
    }
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get("idempotency-key") {
            None => Ok(None),
            Some(value) => match value.to_str().map(str::trim) {
                Ok(key) if !key.is_empty() && key.len() <= 255 => Ok(Some(key.to_owned())),
                _ => Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters",
                )),
            },
        };
        std::future::ready(key.map(IdempotencyKey))
    }
}

/// The version an `If-Match` header asks for (`"3"`, `W/"3"` or `3`); `*` or no header ask for
/// none.
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(header::IF_MATCH) {
            None => Ok(None),
            Some(value) => {
                let text = value.to_str().unwrap_or_default().trim();
                let text = text.strip_prefix("W/").unwrap_or(text);
                if text == "*" {
                    Ok(None)
                } else {
                    text.trim_matches('"').parse::<i64>().map(Some).map_err(|_| {
                        ApiError::bad_request(
                            "invalid_if_match",
                            "If-Match must quote a version this service sent as ETag, e.g. \"3\"",
                        )
                    })
                }
            }
        };
        std::future::ready(parsed.map(IfMatch))
    }
}

/// An id from the path; anything that is not a UUID names nothing, hence 404.
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("no {what} {raw}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        title: String,
        count: Option<u32>,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    fn field_error(json: &str) -> (u16, String) {
        let error = parse_json::<Sample>(json.as_bytes()).unwrap_err();
        let status = error.status().as_u16();
        (status, error.code().to_owned())
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_422() {
        assert_eq!(field_error("{"), (400, "malformed_json".into()));
        assert_eq!(field_error(""), (400, "malformed_json".into()));
        assert_eq!(
            field_error(r#"{"title":"x"} trailing"#),
            (400, "malformed_json".into())
        );
        assert_eq!(
            field_error(r#"{"title":1}"#),
            (422, "validation_failed".into())
        );
        assert_eq!(
            field_error(r#"{"title":"x","extra":1}"#),
            (422, "validation_failed".into())
        );
        assert_eq!(field_error(r#"{}"#), (422, "validation_failed".into()));
        assert_eq!(field_error("[]"), (422, "validation_failed".into()));
    }

    #[test]
    fn fields_are_named_from_path_or_message() {
        assert_eq!(
            field_of(".", "unknown field `extra`, expected one of `title`"),
            "extra"
        );
        assert_eq!(field_of(".", "missing field `title`"), "title");
        assert_eq!(
            field_of("count", "invalid type: string \"x\", expected u32"),
            "count"
        );
        assert_eq!(
            field_of("extra", "unknown field `extra`, expected `title`"),
            "extra"
        );
        assert_eq!(
            field_of("inner.x", "unknown field `x`, expected `flag`"),
            "inner.x"
        );
        assert_eq!(field_of("inner", "missing field `flag`"), "inner.flag");
        assert_eq!(field_of(".", "invalid type: sequence"), "body");
    }

    #[test]
    fn query_strings_are_strict_too() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Params {
            limit: Option<u32>,
            overdue: Option<bool>,
        }
        assert!(form_urlencoded_query::<Params>("limit=5&overdue=true").is_ok());
        assert!(form_urlencoded_query::<Params>("").is_ok());
        let unknown = form_urlencoded_query::<Params>("limt=5").unwrap_err();
        assert_eq!(unknown.status().as_u16(), 422);
        let bad = form_urlencoded_query::<Params>("limit=many").unwrap_err();
        assert_eq!(bad.status().as_u16(), 422);
    }
}
