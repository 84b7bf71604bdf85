//! Request parts parsed strictly: a body that is not JSON is a 400, JSON of the wrong shape
//! (wrong types, unknown or missing fields) a 422 that names the field, and query parameters
//! follow the same rules, so nothing a client sends is silently ignored.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{AppState, Idempotency};
use crate::domain::problem::ProblemCode;
use crate::domain::validation::{CONTROL_CHARACTERS, ValidationErrors, has_control_characters};
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
///
/// A body of the wrong shape still yields a `T`: every field that could not be read is noted
/// and given a stand-in, so that the domain's own checks run on the rest and one 422 names
/// every problem at once ([`JsonBody::validate`]).
pub struct JsonBody<T, const EMPTY_IS_OBJECT: bool = false> {
    value: T,
    fingerprint: String,
    shape: Shape,
}

/// The body of a ticket action: JSON, or nothing at all for `{}`.
pub type ActionBody<T> = JsonBody<T, true>;

/// What was wrong with a body's shape: the problems, and the fields that got stand-ins.
#[derive(Debug, Default)]
pub struct Shape {
    errors: ValidationErrors,
    stood_in: Vec<String>,
    control_characters: bool,
}

impl Shape {
    /// The checked value when the shape was right; otherwise one 422 with the shape's problems
    /// and those the checks found in fields read as sent.
    pub fn answer<U>(self, checked: Result<U, ValidationErrors>) -> Result<U, ApiError> {
        if self.errors.is_empty() {
            return Ok(checked?);
        }
        let mut errors = self.errors;
        if let Err(found) = checked {
            for error in found.into_errors() {
                if !self.stood_in.iter().any(|f| covers(f, &error.field)) {
                    errors.add(error.field, error.message);
                }
            }
        }
        Err(ApiError::validation(errors))
    }

    fn stood_in_for(&self, field: &str) -> bool {
        self.stood_in.iter().any(|f| covers(f, field))
    }
}

/// Whether `field` is `outer` or lies inside it.
fn covers(outer: &str, field: &str) -> bool {
    field == outer
        || field
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with(['.', '[']))
}

impl<T, const E: bool> JsonBody<T, E> {
    /// The body, when its shape was right; 422 naming every problem otherwise.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.shape.errors.finish()?;
        Ok(self.value)
    }

    /// Runs the domain's checks on the body and answers every problem at once: those of the
    /// shape, and those the checks found in the fields that were read as sent.
    pub fn validate<U>(
        self,
        check: impl FnOnce(T) -> Result<U, ValidationErrors>,
    ) -> Result<U, ApiError> {
        let (value, shape) = self.into_parts();
        shape.answer(check(value))
    }

    /// The body and the problems of its shape, for checks that need the database first (an
    /// edit is checked against the record it changes).
    pub fn into_parts(self) -> (T, Shape) {
        (self.value, self.shape)
    }

    /// Whether some text of the body holds control characters.
    pub fn has_control_characters(&self) -> bool {
        self.shape.control_characters
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
    crate::store::files::hex(&hasher.finalize())
}

/// A body read as far as it goes: 400 when it is not one JSON object; otherwise `T`, with the
/// problems of its shape (control characters in text, unknown fields, missing fields, wrong
/// types and values) collected, each field at fault given a stand-in.
fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, Shape), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed_json("the request body is empty"));
    }
    let mut value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed_json(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::invalid_field("body", "must be a JSON object"));
    }
    integral_numbers_as_integers(&mut value);
    let mut shape = Shape::default();
    mark_control_characters(&value, String::new(), &mut shape);
    shape.control_characters = !shape.errors.is_empty();
    // Each round repairs one field; a body has far fewer problems than this.
    for _ in 0..64 {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(parsed) => return Ok((parsed, shape)),
            Err(error) => error,
        };
        let path: Vec<Segment> = error.path().iter().cloned().collect();
        let message = without_position(&error.inner().to_string()).to_owned();
        let field = field_of(&error.path().to_string(), &message);
        let repaired = repair::<T>(&mut value, &path, &message);
        if !shape.stood_in_for(&field) {
            shape.errors.add(field.clone(), message);
        }
        shape.stood_in.push(field);
        if !repaired {
            break;
        }
    }
    Err(ApiError::validation(shape.errors))
}

/// JSON does not tell `1.0` from `1`, and neither does the contract's `type: integer`; serde
/// does, so a whole number written with a fraction is read as the integer it is.
fn integral_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// Notes every string with control characters (which PostgreSQL may not even store) as a
/// problem of its field; the text stays as sent, so nothing reads it as something else.
fn mark_control_characters(value: &Value, path: String, shape: &mut Shape) {
    match value {
        Value::String(text) if has_control_characters(text) => {
            shape.errors.add(path.clone(), CONTROL_CHARACTERS);
            shape.stood_in.push(path);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                mark_control_characters(item, format!("{path}[{i}]"), shape);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let key = key.replace(|c: char| c.is_control(), "");
                let nested = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                mark_control_characters(item, nested, shape);
            }
        }
        _ => {}
    }
}

/// The value at `path`, if every step of it is a key or an index.
fn at_path<'v>(value: &'v mut Value, path: &[Segment]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, segment| match segment {
        Segment::Map { key } => v.get_mut(key.as_str()),
        Segment::Seq { index } => v.get_mut(*index),
        _ => None,
    })
}

/// Makes the field a deserialization error is about readable: an unknown field goes, a missing
/// or ill-formed one gets the first stand-in its type accepts. `false` when it cannot.
fn repair<T: DeserializeOwned>(value: &mut Value, path: &[Segment], message: &str) -> bool {
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    if let Some(name) = named("unknown field `") {
        let parent = match path.last() {
            Some(Segment::Map { key }) if *key == name => &path[..path.len() - 1],
            _ => path,
        };
        return at_path(value, parent)
            .and_then(Value::as_object_mut)
            .is_some_and(|fields| fields.remove(&name).is_some());
    }
    let target: Vec<Segment> = match named("missing field `") {
        Some(name) => path
            .iter()
            .cloned()
            .chain([Segment::Map { key: name }])
            .collect(),
        None => path.to_vec(),
    };
    let Some((last, parent)) = target.split_last() else {
        return false;
    };
    let mut candidates = stand_ins(message);
    let mut tried = 0;
    while let Some(candidate) = candidates.pop() {
        match (last, at_path(value, parent)) {
            (Segment::Map { key }, Some(Value::Object(fields))) => {
                fields.insert(key.clone(), candidate);
            }
            (Segment::Seq { index }, Some(Value::Array(items))) if *index < items.len() => {
                items[*index] = candidate;
            }
            _ => return false,
        }
        match refusal_at::<T>(value, &target) {
            None => return true,
            // An enum names its variants only once it is given a string.
            Some(refusal) if tried == 0 => candidates.extend(named_variant(&refusal)),
            Some(_) => {}
        }
        tried += 1;
    }
    false
}

/// Why the value at `target` still stops deserialization, if it does; `None` when what fails
/// now, if anything, is another field or a field inside it.
fn refusal_at<T: DeserializeOwned>(value: &Value, target: &[Segment]) -> Option<String> {
    let error = serde_path_to_error::deserialize::<_, T>(value).err()?;
    let path: Vec<String> = error.path().iter().map(ToString::to_string).collect();
    let target: Vec<String> = target.iter().map(ToString::to_string).collect();
    let inner = error.into_inner().to_string();
    let inside = inner.starts_with("missing field `") || inner.starts_with("unknown field `");
    (path == target && !inside).then_some(inner)
}

/// The first variant an enum's error offers (``expected one of `consult`, `help` ``).
fn named_variant(message: &str) -> Option<Value> {
    message
        .split_once("expected ")
        .and_then(|(_, rest)| rest.split('`').nth(1))
        .map(|variant| Value::String(variant.to_owned()))
}

/// Values that various field types accept, to be tried from the end: the first variant an
/// enum names in its error, then the neutral value of each JSON type and of the text formats
/// this API uses (UUIDs, times, days, months).
fn stand_ins(message: &str) -> Vec<Value> {
    let mut candidates = vec![
        Value::Null,
        Value::String("2000-01".into()),
        Value::String("2000-01-01".into()),
        Value::String("2000-01-01T00:00:00Z".into()),
        Value::String("00000000-0000-0000-0000-000000000000".into()),
        Value::Object(serde_json::Map::new()),
        Value::Array(Vec::new()),
        Value::Bool(false),
        Value::from(0),
        Value::String(String::new()),
    ];
    candidates.extend(named_variant(message));
    candidates
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
                    ApiError::bad_request(
                        ProblemCode::UnreadableBody,
                        "the request body could not be read",
                    )
                }
            })?;
            let (value, shape) = if EMPTY_IS_OBJECT && bytes.is_empty() {
                parse_body(b"{}")?
            } else if !json {
                return Err(ApiError::unsupported_media_type("application/json"));
            } else {
                parse_body(&bytes)?
            };
            Ok(JsonBody {
                value,
                fingerprint: fingerprint(&req, &bytes),
                shape,
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

/// Reads the parameters into `T`; when some are wrong, leaves each out in turn to find the
/// others that are, so that one 422 names them all.
fn form_urlencoded_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut errors = ValidationErrors::new();
    loop {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
        let error = match serde_path_to_error::deserialize::<_, T>(deserializer) {
            Ok(parsed) if errors.is_empty() => return Ok(parsed),
            Ok(_) => break,
            Err(error) => error,
        };
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        let field = field_of(&path, &message);
        let before = pairs.len();
        pairs.retain(|(name, _)| *name != field);
        errors.add(field, message);
        if pairs.len() == before {
            break;
        }
    }
    Err(ApiError::validation(errors))
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
                Ok(key)
                    if !key.is_empty()
                        && key.len() <= 255
                        && key.bytes().all(|b| (0x20..=0x7E).contains(&b)) =>
                {
                    Ok(Some(key.to_owned()))
                }
                _ => Err(ApiError::bad_request(
                    ProblemCode::InvalidIdempotencyKey,
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
                version_asked(value.to_str().unwrap_or_default().trim()).ok_or_else(|| {
                    ApiError::bad_request(
                        ProblemCode::InvalidIfMatch,
                        "If-Match must quote a version this service sent as ETag, e.g. \"3\"",
                    )
                })
            }
        };
        std::future::ready(parsed.map(IfMatch))
    }
}

/// What `If-Match` asks for: `*` (any version, `Some(None)`), or one version written `"3"`,
/// `W/"3"` or `3`; `None` for anything else.
fn version_asked(text: &str) -> Option<Option<i64>> {
    if text == "*" {
        return Some(None);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text);
    let digits = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Some)
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

    fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
        let (value, shape) = parse_body(bytes)?;
        shape.errors.finish()?;
        Ok(value)
    }

    fn problems(error: ApiError) -> Vec<(String, String)> {
        let response = actix_web::ResponseError::error_response(&error);
        let bytes = actix_web::rt::System::new()
            .block_on(actix_web::body::to_bytes(response.into_body()))
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_owned(),
                    e["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Registration {
        #[serde(rename = "type")]
        kind: Kind,
        title: String,
        content: String,
        phone: Option<String>,
        id: Option<Uuid>,
        inner: Option<Inner>,
        tags: Option<Vec<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Consult,
        Complaint,
    }

    fn check(r: Registration) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if r.title.trim().is_empty() {
            errors.add("title", "must not be empty");
        }
        if r.content.trim().is_empty() {
            errors.add("content", "must not be empty");
        }
        if r.phone
            .is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit()))
        {
            errors.add("phone", "must be digits");
        }
        errors.finish()
    }

    fn all_problems(json: &str) -> Vec<String> {
        let (value, shape) = parse_body::<Registration>(json.as_bytes()).unwrap();
        let error = shape.answer(check(value)).unwrap_err();
        problems(error).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn every_problem_is_named_at_once_shape_and_rules_together() {
        // Shape problems come first, in the order of the fields' names, then the rules'.
        assert_eq!(
            all_problems(r#"{"type":"bogus","title":"","content":"c","phone":"abc"}"#),
            ["type", "title", "phone"]
        );
        assert_eq!(
            all_problems(r#"{"type":7,"extra":1,"id":"x","inner":{"flag":"yes"},"phone":"1"}"#),
            ["extra", "id", "inner.flag", "type", "title", "content"]
        );
        assert_eq!(
            all_problems(
                r#"{"type":"consult","title":"t","content":"a\u0000b","tags":["ok","\u0007"]}"#
            ),
            ["content", "tags[1]"]
        );
        assert_eq!(
            all_problems(r#"{"type":"consult","title":"t","content":"c","inner":{}}"#),
            ["inner.flag"]
        );
    }

    #[test]
    fn a_right_body_keeps_its_text_as_sent() {
        let (value, shape) = parse_body::<Registration>(
            r#"{"type":"complaint","title":"路灯\t不亮","content":"第一行\n第二行"}"#.as_bytes(),
        )
        .unwrap();
        assert!(shape.errors.is_empty());
        assert_eq!(value.title, "路灯\t不亮");
        assert_eq!(value.content, "第一行\n第二行");
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        #[derive(Debug, Deserialize)]
        struct Limits {
            amount: u32,
            share: f64,
        }
        let (value, shape) =
            parse_body::<Limits>(r#"{"amount": 15.0, "share": 2.0}"#.as_bytes()).unwrap();
        assert!(shape.errors.is_empty());
        assert_eq!((value.amount, value.share), (15, 2.0));
        let (_, shape) = parse_body::<Limits>(r#"{"amount": 1.5, "share": 2}"#.as_bytes()).unwrap();
        assert_eq!(shape.errors.errors()[0].field, "amount");
    }

    #[test]
    fn control_characters_are_flagged_and_never_cleaned() {
        #[derive(Debug, Deserialize)]
        struct Credentials {
            username: String,
        }
        let (value, shape) =
            parse_body::<Credentials>(r#"{"username":"ag\u0000ent"}"#.as_bytes()).unwrap();
        assert!(shape.control_characters);
        assert_eq!(value.username, "ag\u{0}ent");
    }

    fn field_error(json: &str) -> (u16, String) {
        let error = parse_json::<Sample>(json.as_bytes()).unwrap_err();
        let status = error.status().as_u16();
        (status, error.code().as_str().to_owned())
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
    fn if_match_takes_what_etag_sends_and_nothing_else() {
        assert_eq!(version_asked("\"3\""), Some(Some(3)));
        assert_eq!(version_asked("W/\"12\""), Some(Some(12)));
        assert_eq!(version_asked("7"), Some(Some(7)));
        assert_eq!(version_asked("*"), Some(None));
        for wrong in [
            "",
            "\"\"",
            "\"\"3\"",
            "+3",
            "-3",
            "3.0",
            "W/3x",
            "abc",
            "\"3",
            &"9".repeat(19),
        ] {
            assert_eq!(version_asked(wrong), None, "{wrong}");
        }
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
        let several = form_urlencoded_query::<Params>("limt=5&overdue=maybe&limit=x").unwrap_err();
        let fields: Vec<String> = problems(several).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields.len(), 3, "{fields:?}");
        for name in ["limt", "overdue", "limit"] {
            assert!(fields.contains(&name.to_owned()), "{fields:?}");
        }
    }
}
