//! Open311 GeoReport v2 under `/open311/v2/`, from the same data as the API: services are the
//! category tree's leaves (their first level as `group`), requests are tickets that are not
//! confidential, shown without the caller's name, phone or email; `api_key` on a POST is an
//! integration account's token, and the request is registered on its channel. Each path ends in
//! `.xml` or `.json`; errors take the specification's `errors` shape with their HTTP status.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::caller::{Caller, authenticate_token};
use super::{AppState, RoutePattern, read, write};
use crate::domain::access::{Permission, Role};
use crate::domain::directory::{Category, UnitKind};
use crate::domain::open311::{
    self, AREA_ATTRIBUTE, Format, MAX_REQUESTS, RequestForm, TYPE_ATTRIBUTE,
};
use crate::domain::ticket::{EventKind, TicketDraft, TicketType};
use crate::error::ApiError;
use crate::reports::labels;
use crate::store;
use crate::store::categories::CategoryFilter;
use crate::store::open311::{RequestFilter, RequestRow};
use crate::store::units::UnitFilter;

/// Categories and units the façade names; a hotline has hundreds at most.
const DIRECTORY_LIMIT: i64 = 10_000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    macro_rules! resource {
        ($path:literal) => {
            web::resource($path).app_data(RoutePattern(concat!("/open311/v2", $path)))
        };
    }
    cfg.service(
        web::scope("/open311/v2")
            .service(resource!("/discovery.{format}").route(web::get().to(discovery)))
            .service(resource!("/services.{format}").route(web::get().to(services)))
            .service(resource!("/services/{code}.{format}").route(web::get().to(definition)))
            .service(
                resource!("/requests.{format}")
                    .route(web::get().to(requests))
                    .route(web::post().to(post_request)),
            )
            .service(resource!("/requests/{id}.{format}").route(web::get().to(request)))
            .service(resource!("/tokens/{token}.{format}").route(web::get().to(token)))
            .service(resource!("/servicerequestupdates.{format}").route(web::get().to(updates)))
            .default_service(web::to(|| async {
                failure(
                    Format::Json,
                    StatusCode::NOT_FOUND,
                    "no such Open311 resource",
                )
            })),
    );
}

/// An answer in the format asked for.
fn answer(format: Format, status: StatusCode, root: &str, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(format.content_type())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(open311::render(format, root, body))
}

fn failure(format: Format, status: StatusCode, description: &str) -> HttpResponse {
    answer(
        format,
        status,
        "errors",
        &open311::errors(status.as_u16(), description),
    )
}

/// A refusal or failure of the service, in the specification's shape, keeping its status and
/// its `Retry-After`.
fn failed(format: Format, error: &ApiError) -> HttpResponse {
    let mut response = failure(format, error.status(), error.detail());
    let base = actix_web::ResponseError::error_response(error);
    if let Some(retry) = base.headers().get(header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    response
}

/// The format a path's suffix asks for; anything else names nothing.
fn format_of(raw: &str) -> Result<Format, HttpResponse> {
    Format::parse(raw).ok_or_else(|| {
        failure(
            Format::Json,
            StatusCode::NOT_FOUND,
            "a path ends in .xml or .json",
        )
    })
}

macro_rules! format_or_answer {
    ($raw:expr) => {
        match format_of($raw) {
            Ok(format) => format,
            Err(response) => return response,
        }
    };
}

fn w3c(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.numbering.timezone).to_rfc3339()
}

/// `GET /open311/v2/discovery.{format}`.
pub async fn discovery(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let format = format_or_answer!(&path);
    let info = request.connection_info();
    let base = format!("{}://{}/open311/v2", info.scheme(), info.host());
    let changeset = "2026-12-01T00:00:00+08:00";
    let body = json!({
        "changeset": changeset,
        "contact": state.hotline_name,
        "key_service": "api_key: the token of an integration account (hotline mint-token)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    });
    answer(format, StatusCode::OK, "discovery", &body)
}

/// The active categories, and which are services: those with no active category under them.
fn service_tree(categories: Vec<Category>) -> (Vec<Category>, HashMap<Uuid, Category>) {
    let parents: std::collections::HashSet<Uuid> =
        categories.iter().filter_map(|c| c.parent_id).collect();
    let by_id: HashMap<Uuid, Category> = categories.iter().map(|c| (c.id, c.clone())).collect();
    let leaves = categories
        .into_iter()
        .filter(|c| !parents.contains(&c.id))
        .collect();
    (leaves, by_id)
}

fn active_categories(conn: &mut store::DbConnection) -> Result<Vec<Category>, ApiError> {
    let filter = CategoryFilter {
        active: Some(true),
        ..CategoryFilter::default()
    };
    Ok(store::categories::list(
        conn,
        &filter,
        None,
        DIRECTORY_LIMIT,
    )?)
}

fn service_view(service: &Category, by_id: &HashMap<Uuid, Category>) -> Value {
    json!({
        "service_code": service.id.to_string(),
        "service_name": service.name,
        "description": service.full_name,
        "metadata": true,
        "type": "realtime",
        "keywords": "",
        "group": service.parent_id.and_then(|p| by_id.get(&p)).map(|p| p.name.clone()),
    })
}

/// `GET /open311/v2/services.{format}`.
pub async fn services(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let format = format_or_answer!(&path);
    match read(&state, active_categories).await {
        Ok(categories) => {
            let (services, by_id) = service_tree(categories);
            let body = Value::Array(services.iter().map(|s| service_view(s, &by_id)).collect());
            answer(format, StatusCode::OK, "services", &body)
        }
        Err(error) => failed(format, &error),
    }
}

/// The service `code` names, if it is one.
fn service_named(conn: &mut store::DbConnection, code: &str) -> Result<Option<Category>, ApiError> {
    let Ok(id) = Uuid::parse_str(code) else {
        return Ok(None);
    };
    let (services, _) = service_tree(active_categories(conn)?);
    Ok(services.into_iter().find(|s| s.id == id))
}

fn townships(conn: &mut store::DbConnection) -> Result<Vec<(Uuid, String)>, ApiError> {
    let filter = UnitFilter {
        kind: Some(UnitKind::Township),
        active: Some(true),
        ..UnitFilter::default()
    };
    Ok(store::units::list(conn, &filter, None, DIRECTORY_LIMIT)?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// `GET /open311/v2/services/{code}.{format}`: the attributes a request of the service may
/// carry: its type, and the township it is in.
pub async fn definition(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (code, raw_format) = path.into_inner();
    let format = format_or_answer!(&raw_format);
    let found = read(&state, move |c| {
        Ok(service_named(c, &code)?.map(|s| (s, townships(c))))
    })
    .await;
    let (service, townships) = match found {
        Ok(Some((service, Ok(townships)))) => (service, townships),
        Ok(Some((_, Err(error)))) | Err(error) => return failed(format, &error),
        Ok(None) => return failure(format, StatusCode::NOT_FOUND, "no such service_code"),
    };
    let mut attributes = vec![json!({
        "variable": true,
        "code": TYPE_ATTRIBUTE,
        "datatype": "singlevaluelist",
        "required": false,
        "datatype_description": "",
        "order": 1,
        "description": "诉求类型（不填为举报）",
        "values": TicketType::ALL.iter().map(|t| json!({"key": t.as_str(), "name": labels::ticket_type(*t)})).collect::<Vec<_>>(),
    })];
    if !townships.is_empty() {
        attributes.push(json!({
            "variable": true,
            "code": AREA_ATTRIBUTE,
            "datatype": "singlevaluelist",
            "required": false,
            "datatype_description": "",
            "order": 2,
            "description": "所在乡镇（街道）",
            "values": townships.iter().map(|(id, name)| json!({"key": id.to_string(), "name": name})).collect::<Vec<_>>(),
        }));
    }
    let body = json!({
        "service_code": service.id.to_string(),
        "attributes": attributes,
    });
    answer(format, StatusCode::OK, "service_definition", &body)
}

/// What a request list shows beside each ticket: its service's name and its primary unit's.
struct Names {
    services: HashMap<Uuid, String>,
    units: HashMap<Uuid, String>,
}

fn names(conn: &mut store::DbConnection) -> Result<Names, ApiError> {
    let filter = CategoryFilter::default();
    let services = store::categories::list(conn, &filter, None, DIRECTORY_LIMIT)?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let units = store::units::list(conn, &UnitFilter::default(), None, DIRECTORY_LIMIT)?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(Names { services, units })
}

fn request_view(state: &AppState, row: &RequestRow, names: &Names) -> Value {
    json!({
        "service_request_id": row.number,
        "status": open311::status(row.status),
        "status_notes": open311::status_notes(row.status),
        "service_name": row.category_id.and_then(|c| names.services.get(&c)).cloned().unwrap_or_default(),
        "service_code": row.category_id.map(|c| c.to_string()).unwrap_or_default(),
        "description": row.content,
        "agency_responsible": row.primary_unit_id.and_then(|u| names.units.get(&u)).cloned().unwrap_or_default(),
        "service_notice": "",
        "requested_datetime": w3c(state, row.created_at),
        "updated_datetime": w3c(state, row.updated_at),
        "expected_datetime": row.due_at.map(|at| w3c(state, at)),
        "address": row.address.clone().unwrap_or_default(),
        "address_id": "",
        "zipcode": "",
        "lat": row.latitude,
        "long": row.longitude,
        "media_url": "",
    })
}

fn list_param(params: &HashMap<String, String>, name: &str) -> Vec<String> {
    params
        .get(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn date_param(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, String> {
    params
        .get(name)
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            DateTime::parse_from_rfc3339(v.trim())
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| format!("{name} is a W3C date and time, such as 2026-11-01T00:00:00Z"))
        })
        .transpose()
}

/// The span `start_date`–`end_date` asks for (see [`open311::span`]).
fn span_of(
    params: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let start = date_param(params, "start_date")?;
    let end = date_param(params, "end_date")?;
    open311::span(start, end, now)
}

/// `GET /open311/v2/requests.{format}`: by `service_request_id` (which overrides the rest), or
/// by `service_code`, `status` and `start_date`–`end_date` (the last 90 days when not given,
/// 90 days at most), newest first, 1,000 at most.
pub async fn requests(
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let format = format_or_answer!(&path);
    let params = params.into_inner();
    let mut filter = RequestFilter {
        numbers: list_param(&params, "service_request_id"),
        ..RequestFilter::default()
    };
    if filter.numbers.is_empty() {
        for code in list_param(&params, "service_code") {
            match Uuid::parse_str(&code) {
                Ok(id) => filter.category_ids.push(id),
                Err(_) => {
                    return failure(
                        format,
                        StatusCode::BAD_REQUEST,
                        &format!("service_code `{code}` names no service"),
                    );
                }
            }
        }
        for status in list_param(&params, "status") {
            match open311::statuses_of(&status) {
                Some(statuses) => filter.statuses.extend_from_slice(statuses),
                None => {
                    return failure(format, StatusCode::BAD_REQUEST, "status is open or closed");
                }
            }
        }
        match span_of(&params, state.now()) {
            Ok((from, to)) => {
                filter.from = Some(from);
                filter.to = Some(to);
            }
            Err(problem) => return failure(format, StatusCode::BAD_REQUEST, &problem),
        }
    }
    let listed = read(&state, move |c| {
        Ok((
            store::open311::requests(c, &filter, MAX_REQUESTS)?,
            names(c)?,
        ))
    })
    .await;
    match listed {
        Ok((rows, names)) => {
            let body = Value::Array(
                rows.iter()
                    .map(|r| request_view(&state, r, &names))
                    .collect(),
            );
            answer(format, StatusCode::OK, "service_requests", &body)
        }
        Err(error) => failed(format, &error),
    }
}

/// `GET /open311/v2/requests/{id}.{format}`: one request by its ticket number.
pub async fn request(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (number, raw_format) = path.into_inner();
    let format = format_or_answer!(&raw_format);
    let filter = RequestFilter {
        numbers: vec![number],
        ..RequestFilter::default()
    };
    let found = read(&state, move |c| {
        Ok((store::open311::requests(c, &filter, 1)?, names(c)?))
    })
    .await;
    match found {
        Ok((rows, _)) if rows.is_empty() => {
            failure(format, StatusCode::NOT_FOUND, "no such service_request_id")
        }
        Ok((rows, names)) => answer(
            format,
            StatusCode::OK,
            "service_requests",
            &json!([request_view(&state, &rows[0], &names)]),
        ),
        Err(error) => failed(format, &error),
    }
}

/// `GET /open311/v2/tokens/{token}.{format}`: the request a POST's token stands for.
/// Requests are registered at once, so every token has its request.
pub async fn token(state: web::Data<AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (token, raw_format) = path.into_inner();
    let format = format_or_answer!(&raw_format);
    let Ok(id) = Uuid::parse_str(&token) else {
        return failure(format, StatusCode::NOT_FOUND, "no such token");
    };
    match read(&state, move |c| {
        Ok(store::open311::request_by_id(c, id)
            .map(Some)
            .or_else(|e| match e {
                store::StoreError::NotFound => Ok(None),
                other => Err(other),
            })?)
    })
    .await
    {
        Ok(Some(row)) => answer(
            format,
            StatusCode::OK,
            "service_requests",
            &json!([{ "service_request_id": row.number, "token": token }]),
        ),
        Ok(None) => failure(format, StatusCode::NOT_FOUND, "no such token"),
        Err(error) => failed(format, &error),
    }
}

/// `GET /open311/v2/servicerequestupdates.{format}`: the extension FixMyStreet reads, each
/// update an event a citizen would be told of, oldest first, between `start_date` and
/// `end_date` (90 days at most), 1,000 at most.
pub async fn updates(
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let format = format_or_answer!(&path);
    let params = params.into_inner();
    let (from, to) = match span_of(&params, state.now()) {
        Ok(span) => span,
        Err(problem) => return failure(format, StatusCode::BAD_REQUEST, &problem),
    };
    let kinds: Vec<EventKind> = EventKind::ALL
        .iter()
        .copied()
        .filter(|k| open311::update_of(*k).is_some())
        .collect();
    match read(&state, move |c| {
        Ok(store::open311::updates(c, &kinds, from, to, MAX_REQUESTS)?)
    })
    .await
    {
        Ok(rows) => {
            let body = Value::Array(
                rows.iter()
                    .filter_map(|r| {
                        let (status, description) = open311::update_of(r.kind)?;
                        Some(json!({
                            "update_id": r.event_id.to_string(),
                            "service_request_id": r.number,
                            "status": status,
                            "updated_datetime": w3c(&state, r.at),
                            "description": description,
                            "media_url": "",
                        }))
                    })
                    .collect(),
            );
            answer(format, StatusCode::OK, "service_request_updates", &body)
        }
        Err(error) => failed(format, &error),
    }
}

/// `POST /open311/v2/requests.{format}`, form-encoded as the specification and its clients
/// send it: registered at once on the integration's channel; the answer names the request.
pub async fn post_request(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let format = format_or_answer!(&path);
    let form = RequestForm::from_pairs(form_urlencoded::parse(&body).into_owned());
    let Some(key) = form.api_key.clone() else {
        return failure(
            format,
            StatusCode::FORBIDDEN,
            "api_key is required to post a request",
        );
    };
    let user = match authenticate_token(&state, &key).await {
        Ok(user) => user,
        Err(_) => return failure(format, StatusCode::FORBIDDEN, "api_key is not valid"),
    };
    let caller = Caller { user };
    if caller.role() != Role::Integration || !caller.role().may(Permission::RegisterTicket) {
        return failure(
            format,
            StatusCode::FORBIDDEN,
            "api_key is not an integration's",
        );
    }
    let Some(code) = form.service_code.clone() else {
        return failure(format, StatusCode::BAD_REQUEST, "service_code is required");
    };
    let looked_up = read(&state, move |c| service_named(c, &code)).await;
    let service = match looked_up {
        Ok(Some(service)) => service,
        Ok(None) => {
            return failure(
                format,
                StatusCode::BAD_REQUEST,
                "service_code names no service",
            );
        }
        Err(error) => return failed(format, &error),
    };
    let area = match form.attribute(AREA_ATTRIBUTE).map(Uuid::parse_str) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            return failure(
                format,
                StatusCode::BAD_REQUEST,
                "attribute[area] is not one of the area's values",
            );
        }
    };
    let input = match open311::registration(&form, service.id, &service.name, area) {
        Ok(input) => input,
        Err((field, problem)) => {
            return failure(
                format,
                StatusCode::BAD_REQUEST,
                &format!("{field}: {problem}"),
            );
        }
    };
    let draft = match TicketDraft::parse(input, caller.registrant()) {
        Ok(draft) => draft,
        Err(errors) => return failure(format, StatusCode::BAD_REQUEST, &errors.to_string()),
    };
    let actor = caller.actor();
    let numbering = state.numbering;
    let phone_index = state.phone_index.clone();
    let registered = write(&state, &caller, None, move |conn, now| {
        let registration = super::tickets::registration_transaction(
            conn,
            &draft,
            actor,
            numbering,
            &phone_index,
            now,
        )?;
        super::Reply::ok(&json!([{
            "service_request_id": registration.ticket.number,
            "token": registration.ticket.id.to_string(),
            "service_notice": "已受理，请记下诉求编号以便查询办理进度",
            "account_id": "",
        }]))
    })
    .await;
    match registered {
        Ok(reply) => {
            state
                .metrics
                .tickets_registered
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let body: Value = serde_json::from_str(reply.body()).unwrap_or(Value::Null);
            answer(format, StatusCode::OK, "service_requests", &body)
        }
        Err(error) if error.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            failure(format, StatusCode::BAD_REQUEST, error.detail())
        }
        Err(error) => failed(format, &error),
    }
}
