//! The HTTP surface. Handlers parse, authorize, call the domain and the store, and answer; the
//! route table below is the one list of routes, in the order of `openapi.yaml`, and a test holds
//! the two to each other.

mod assessment;
pub mod attachments;
mod audit;
pub mod auth;
mod caller;
pub mod categories;
pub mod channels;
pub mod deadlines;
mod directory;
pub mod events;
mod extract;
pub mod gate;
pub mod knowledge;
pub mod lifecycle;
mod notes;
pub mod notifications;
pub mod nuisance;
pub mod open311;
pub mod ops;
mod pagination;
pub mod queues;
pub mod reports;
pub mod tickets;
pub mod units;
pub mod users;
pub mod webhooks;

use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, Responder, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use extract::{ActionBody, IdempotencyKey, IfMatch, JsonBody, Query, parse_id};
pub use pagination::{Page, PageParams, decode_cursor, encode_cursor};

use crate::domain::access::{Access, Permission};
use crate::domain::directory::{Category, Unit, User};
use crate::domain::problem::ProblemCode;
use crate::error::ApiError;
pub use crate::state::{AppState, blocking};
use crate::store::idempotency::StoredResponse;
use crate::store::{self, DbConnection, StoreError};
pub use caller::{
    Admitted, Authenticated, Caller, authenticate, current_account, refuse_pending_password_change,
};
pub use gate::Rule;

/// One route of the table: what `openapi.yaml` must describe, and who may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub rule: Rule,
}

/// The route pattern a request matched, for logs and metrics (the raw path would carry ids).
#[derive(Debug, Clone, Copy)]
pub struct RoutePattern(pub &'static str);

/// A rule's access from its name in the table: `Public`, `Account`, `SignedIn`, or the
/// permission a caller's role must grant.
macro_rules! access {
    (Public) => {
        Access::Public
    };
    (Account) => {
        Access::Account
    };
    (SignedIn) => {
        Access::SignedIn
    };
    ($permission:ident) => {
        Access::Granted(Permission::$permission)
    };
}

macro_rules! rule {
    ($access:ident) => {
        Rule {
            access: access!($access),
            query: false,
        }
    };
    ($access:ident, query) => {
        Rule {
            access: access!($access),
            query: true,
        }
    };
}

/// The route wrapped in the gate of its rule.
fn guarded(route: actix_web::Route, rule: Rule) -> actix_web::Route {
    route.wrap(from_fn(
        move |req: actix_web::dev::ServiceRequest, next: Next<BoxBody>| gate::gate(rule, req, next),
    ))
}

/// Declares THE route table: each route with who may call it (`[Permission]`, or `Public`,
/// `Account`, `SignedIn`) and whether it reads query parameters (`, query`). Routes under one
/// prefix share a scope, so that routing a request compares only the patterns of its own scope.
macro_rules! route_table {
    (
        $($root:literal => { $($root_method:ident [$($root_rule:tt)+] : $root_handler:path),+ $(,)? }),* ;
        $($scope:literal { $($path:literal => { $($method:ident [$($rule:tt)+] : $handler:path),+ $(,)? }),* $(,)? })*
    ) => {
        /// Every route the service answers, by path and method.
        pub const ROUTES: &[Route] = &[
            $($(Route { method: stringify!($root_method), path: $root, rule: rule!($($root_rule)+) }),+,)*
            $($($(Route { method: stringify!($method), path: concat!($scope, $path), rule: rule!($($rule)+) }),+,)*)*
        ];

        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($root)
                        .app_data(RoutePattern($root))
                        $(.route(guarded(web::$root_method().to($root_handler), rule!($($root_rule)+))))+
                        .default_service(web::to(method_not_allowed)),
                );
            )*
            $(
                cfg.service(
                    web::scope($scope)
                        $(
                            .service(
                                web::resource($path)
                                    .app_data(RoutePattern(concat!($scope, $path)))
                                    $(.route(guarded(web::$method().to($handler), rule!($($rule)+))))+
                                    .default_service(web::to(method_not_allowed)),
                            )
                        )*
                        .default_service(web::to(route_not_found)),
                );
            )*
            cfg.default_service(web::to(route_not_found));
        }
    };
}

route_table! {
    "/healthz" => { get[Public]: ops::healthz },
    "/readyz" => { get[Public]: ops::readyz },
    "/metrics" => { get[Public]: ops::metrics },
    "/openapi.yaml" => { get[Public]: ops::openapi };

    "/api/v1/auth" {
        "/token" => { post[Public]: auth::issue_token },
        "/password" => { post[Account]: auth::change_password },
        "/me" => { get[SignedIn]: auth::me },
    }
    "/api/v1/users" {
        "" => { get[ManageUsers, query]: users::list, post[ManageUsers]: users::create },
        "/{id}" => { get[ManageUsers]: directory::get::<User>, patch[ManageUsers]: users::update },
    }
    "/api/v1/units" {
        "" => { get[ReadDirectory, query]: units::list, post[ManageDirectory]: units::create },
        "/{id}" => {
            get[ReadDirectory]: directory::get::<Unit>,
            patch[ManageDirectory]: units::update,
            delete[ManageDirectory]: directory::delete::<Unit>,
        },
    }
    "/api/v1/categories" {
        "" => {
            get[ReadDirectory, query]: categories::list,
            post[ManageDirectory]: categories::create,
        },
        "/{id}" => {
            get[ReadDirectory]: directory::get::<Category>,
            patch[ManageDirectory]: categories::update,
            delete[ManageDirectory]: directory::delete::<Category>,
        },
    }
    "/api/v1/channels" {
        "" => { get[ReadDirectory]: channels::list },
        "/{code}" => {
            get[ReadDirectory]: channels::get,
            put[ManageDirectory]: channels::put,
        },
    }
    "/api/v1/tickets" {
        "" => { get[ReadTickets, query]: tickets::list, post[RegisterTicket]: tickets::register },
        "/by-number/{number}" => { get[ReadTickets]: tickets::get_by_number },
        "/possible-duplicates" => { get[FrontDesk, query]: tickets::possible_duplicates },
        "/{id}" => { get[ReadTickets]: tickets::get, patch[EditTicket]: tickets::edit },
        "/{id}/events" => { get[ReadTickets, query]: tickets::events },
        "/{id}/dispatch-sheet" => { get[ReadTickets]: tickets::dispatch_sheet },
        "/{id}/caller" => { get[RevealCaller, query]: tickets::reveal_caller },
        "/{id}/notes" => { get[WriteNotes, query]: notes::list, post[WriteNotes]: notes::add },
        "/{id}/answer" => { post[FrontDesk]: lifecycle::answer },
        "/{id}/dispatch" => { post[FrontDesk]: lifecycle::dispatch::<lifecycle::Dispatch> },
        "/{id}/recall" => { post[FrontDesk]: lifecycle::dispatch::<lifecycle::Recall> },
        "/{id}/return-decision" => { post[FrontDesk]: lifecycle::perform::<lifecycle::DecideReturn> },
        "/{id}/reopen" => { post[Supervise]: lifecycle::perform::<lifecycle::Reopen> },
        "/{id}/sign" => { post[HandleAssignment]: lifecycle::perform::<lifecycle::Sign> },
        "/{id}/return" => { post[HandleAssignment]: lifecycle::perform::<lifecycle::Return> },
        "/{id}/forward" => { post[HandleAssignment]: lifecycle::forward },
        "/{id}/extension-requests" => {
            get[ReadTickets]: lifecycle::list_extension_requests,
            post[HandleAssignment]: lifecycle::perform::<lifecycle::RequestExtension>,
        },
        "/{id}/extension-requests/{request_id}/approve" => {
            post[Review]: lifecycle::perform_on::<lifecycle::ApproveExtension>,
        },
        "/{id}/extension-requests/{request_id}/reject" => {
            post[Review]: lifecycle::perform_on::<lifecycle::RejectExtension>,
        },
        "/{id}/attachments" => {
            get[ReadTickets]: attachments::list,
            post[AttachEvidence]: attachments::upload,
        },
        "/{id}/attachments/{attachment_id}" => { get[ReadTickets]: attachments::download },
        "/{id}/reply" => { post[HandleAssignment]: lifecycle::perform_with_evidence::<lifecycle::UnitReply> },
        "/{id}/opinions" => { post[HandleAssignment]: lifecycle::perform_with_evidence::<lifecycle::Opinion> },
        "/{id}/replies" => { get[ReadTickets]: lifecycle::list_replies },
        "/{id}/review" => { post[Review]: lifecycle::perform::<lifecycle::Review> },
        "/{id}/callbacks" => {
            get[ReadTickets]: lifecycle::list_callbacks,
            post[FrontDesk]: lifecycle::perform::<lifecycle::Callback>,
        },
        "/{id}/merge" => { post[FrontDesk]: lifecycle::merge },
        "/{id}/invalidate" => { post[FrontDesk]: lifecycle::perform::<lifecycle::Invalidate> },
        "/{id}/urges" => { get[ReadTickets]: lifecycle::list_urges, post[FrontDesk]: lifecycle::perform::<lifecycle::Urge> },
        "/{id}/supervisions" => {
            get[ReadTickets]: lifecycle::list_supervisions,
            post[Supervise]: lifecycle::perform::<lifecycle::Supervise>,
        },
        "/{id}/supervisions/{supervision_id}/close" => {
            post[Supervise]: lifecycle::perform_on::<lifecycle::CloseSupervision>,
        },
        "/{id}/pause" => { post[Review]: lifecycle::perform::<lifecycle::Pause> },
        "/{id}/resume" => { post[Review]: lifecycle::perform::<lifecycle::Resume> },
        "/{id}/typical" => {
            put[Assess]: assessment::flag_typical,
            delete[Assess]: assessment::unflag_typical,
        },
        "/{id}/appeals" => { post[Appeal]: assessment::file_appeal },
    }
    "/api/v1/articles" {
        "" => { get[ReadKnowledge, query]: knowledge::list, post[KeepKnowledge]: knowledge::create },
        "/upkeep" => { get[ReadAssessment, query]: knowledge::upkeep },
        "/{id}" => { get[ReadKnowledge]: knowledge::get, put[KeepKnowledge]: knowledge::edit },
        "/{id}/versions" => { get[KeepKnowledge]: knowledge::versions },
        "/{id}/submit" => { post[KeepKnowledge]: knowledge::submit },
        "/{id}/publish" => { post[KeepKnowledge]: knowledge::publish },
        "/{id}/reject" => { post[KeepKnowledge]: knowledge::reject },
        "/{id}/archive" => { post[KeepKnowledge]: knowledge::archive },
        "/{id}/review" => { post[KeepKnowledge]: knowledge::review },
    }
    "/api/v1/caller-history" {
        "" => { post[LookUpCaller]: tickets::caller_history },
    }
    "/api/v1/nuisance-numbers" {
        "" => { get[MarkNuisance, query]: nuisance::list, post[MarkNuisance]: nuisance::mark },
        "/{id}/lift" => { post[MarkNuisance]: nuisance::lift },
    }
    "/api/v1/audit-log" {
        "" => { get[ReadAudit, query]: audit::list },
    }
    "/api/v1/dashboard" {
        "" => { get[ReadWorkQueues]: queues::dashboard },
    }
    "/api/v1/extension-requests" {
        "" => { get[ReadWorkQueues, query]: queues::extension_requests },
    }
    "/api/v1/supervisions" {
        "" => { get[ReadSupervisions, query]: lifecycle::index },
    }
    "/api/v1/events" {
        "" => { get[FollowEvents, query]: events::feed },
    }
    "/api/v1/webhooks" {
        "" => { get[ManageWebhooks]: webhooks::list, post[ManageWebhooks]: webhooks::create },
        "/{id}" => {
            get[ManageWebhooks]: webhooks::get,
            patch[ManageWebhooks]: webhooks::update,
            delete[ManageWebhooks]: webhooks::delete,
        },
        "/{id}/secrets" => { post[ManageWebhooks]: webhooks::add_secret },
        "/{id}/secrets/{secret_id}" => { delete[ManageWebhooks]: webhooks::remove_secret },
        "/{id}/deliveries" => { get[ManageWebhooks, query]: webhooks::deliveries },
        "/{id}/deliveries/{delivery_id}/redeliver" => { post[ManageWebhooks]: webhooks::redeliver },
    }
    "/api/v1/notifications" {
        "" => { get[ReadNotifications, query]: notifications::list },
        "/read-all" => { post[ReadNotifications]: notifications::mark_all_read },
        "/{id}/read" => { post[ReadNotifications]: notifications::mark_read },
    }
    "/api/v1/calendar" {
        "/{year}" => { get[ReadDirectory]: deadlines::get_year, put[ManageDeadlines]: deadlines::put_year },
    }
    "/api/v1/sla-policies" {
        "" => { get[ReadDirectory]: deadlines::get_policy, put[ManageDeadlines]: deadlines::put_policy },
    }
    "/api/v1/ticket-counts" {
        "" => { get[ReadReports, query]: reports::ticket_counts },
    }
    "/api/v1/hot-spots" {
        "" => { get[ReadReports]: reports::hot_spots },
    }
    "/api/v1/figures" {
        "" => { get[ReadAssessment, query]: reports::figures },
    }
    "/api/v1/assessment" {
        "/rules" => { get[ReadReports, query]: assessment::get_rules },
        "/rules/versions" => { get[ReadReports]: assessment::rule_versions },
        "/rules/{month}" => { put[Assess]: assessment::put_rules },
        "/bonuses" => { get[ReadReports, query]: assessment::list_bonuses },
        "/bonuses/{month}/{unit_id}" => { put[Assess]: assessment::put_bonus },
    }
    "/api/v1/appeals" {
        "" => { get[ReadAssessment, query]: assessment::list_appeals },
        "/{id}" => { get[ReadAssessment]: assessment::get_appeal },
        "/{id}/grant" => { post[Assess]: assessment::grant },
        "/{id}/refuse" => { post[Assess]: assessment::refuse },
    }
    "/api/v1/reports" {
        "/monthly" => { get[ReadAssessment, query]: reports::monthly },
        "/bulletin" => { get[ReadReports, query]: reports::of_period },
        "/monthly/{month}/publish" => { post[Assess]: reports::publish },
    }
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pattern = req
        .app_data::<RoutePattern>()
        .map(|p| p.0)
        .unwrap_or_default();
    let allowed: Vec<String> = ROUTES
        .iter()
        .filter(|r| r.path == pattern)
        .map(|r| r.method.to_uppercase())
        .collect();
    Err(ApiError::method_not_allowed(&allowed.join(", ")))
}

async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::route_not_found(req.path()))
}

/// A JSON answer with its status and the headers a write may carry.
#[derive(Debug, Clone)]
pub struct Reply {
    status: StatusCode,
    body: String,
    location: Option<String>,
    etag: Option<String>,
    replayed: bool,
    not_cached: bool,
}

impl Reply {
    pub fn json(status: StatusCode, value: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Self {
            status,
            body: serde_json::to_string(value)
                .map_err(|e| ApiError::internal(format!("cannot serialize an answer: {e}")))?,
            location: None,
            etag: None,
            replayed: false,
            not_cached: false,
        })
    }

    pub fn ok(value: &impl Serialize) -> Result<Self, ApiError> {
        Self::json(StatusCode::OK, value)
    }

    pub fn created(value: &impl Serialize, location: String) -> Result<Self, ApiError> {
        let mut reply = Self::json(StatusCode::CREATED, value)?;
        reply.location = Some(location);
        Ok(reply)
    }

    /// A 201 whose body is JSON text already serialized (and stored) elsewhere.
    pub fn created_from_text(body: String, location: String) -> Self {
        Self {
            status: StatusCode::CREATED,
            body,
            location: Some(location),
            etag: None,
            replayed: false,
            not_cached: false,
        }
    }

    /// Marks the answer with a ticket's version, which `If-Match` later quotes back.
    pub fn with_version(mut self, version: i64) -> Self {
        self.etag = Some(etag(version));
        self
    }

    /// Where what was created can be read, if this answer created something.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's body, as it is sent.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Whether this is a stored answer given again for a retried idempotency key.
    pub fn is_replay(&self) -> bool {
        self.replayed
    }

    /// Keeps the answer out of every cache (personal information, tokens).
    pub fn not_cached(mut self) -> Self {
        self.not_cached = true;
        self
    }

    fn stored(&self, request_hash: &str) -> StoredResponse {
        StoredResponse {
            request_hash: request_hash.to_owned(),
            status_code: self.status.as_u16(),
            body: self.body.clone(),
            location: self.location.clone(),
            etag: self.etag.clone(),
        }
    }

    fn replay(stored: StoredResponse) -> Self {
        Self {
            status: StatusCode::from_u16(stored.status_code).unwrap_or(StatusCode::OK),
            body: stored.body,
            location: stored.location,
            etag: stored.etag,
            replayed: true,
            not_cached: false,
        }
    }
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

impl Responder for Reply {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type(mime_json());
        if let Some(location) = self
            .location
            .as_deref()
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            response.insert_header((header::LOCATION, location));
        }
        if let Some(etag) = self
            .etag
            .as_deref()
            .and_then(|e| HeaderValue::from_str(e).ok())
        {
            response.insert_header((header::ETAG, etag));
        }
        if self.replayed {
            response.insert_header(("idempotent-replayed", "true"));
        }
        if self.not_cached {
            response.insert_header((header::CACHE_CONTROL, "no-store"));
        }
        response.body(self.body)
    }
}

fn mime_json() -> HeaderValue {
    HeaderValue::from_static("application/json")
}

/// A `POST`'s idempotency key and the fingerprint of what it was sent with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// Why a write did not produce a reply: the client's or the server's problem, or a concurrent
/// request with the same idempotency key that committed first.
enum WriteError {
    Api(ApiError),
    LostRace,
}

impl<E: Into<ApiError>> From<E> for WriteError {
    fn from(error: E) -> Self {
        WriteError::Api(error.into())
    }
}

/// How long an idempotency key's answer is kept.
const IDEMPOTENCY_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// The stored answer, provided it was stored for the same request.
fn replay(stored: StoredResponse, idempotency: &Idempotency) -> Result<Reply, ApiError> {
    if stored.request_hash == idempotency.request_hash {
        Ok(Reply::replay(stored))
    } else {
        Err(ApiError::unprocessable(
            ProblemCode::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request in the last 24 hours",
        ))
    }
}

/// Runs one write transaction for `caller`. With an idempotency key, the first successful answer
/// is stored in the same transaction and returned again for a retry with the same body; the
/// same key with another body is refused (422). Errors are not stored: they changed nothing.
pub async fn write<F>(
    state: &web::Data<AppState>,
    caller: &Caller,
    idempotency: Option<Idempotency>,
    f: F,
) -> Result<Reply, ApiError>
where
    F: FnOnce(&mut DbConnection, DateTime<Utc>) -> Result<Reply, ApiError> + Send + 'static,
{
    write_within(state, caller, idempotency, state.request_budget(), f).await
}

/// [`write`] for the few writes that take as long as a report (publishing a month).
pub async fn write_within<F>(
    state: &web::Data<AppState>,
    caller: &Caller,
    idempotency: Option<Idempotency>,
    budget: Duration,
    f: F,
) -> Result<Reply, ApiError>
where
    F: FnOnce(&mut DbConnection, DateTime<Utc>) -> Result<Reply, ApiError> + Send + 'static,
{
    let state = state.clone();
    let user = caller.id();
    let now = state.now();
    let not_before = now - IDEMPOTENCY_WINDOW;
    let key = idempotency.clone();
    // The transaction may run on another request's thread: it logs under its own request.
    let span = tracing::Span::current();
    let transaction = move |conn: &mut DbConnection| -> Result<Reply, WriteError> {
        let _request = span.enter();
        let Some(idem) = &key else {
            return Ok(f(conn, now)?);
        };
        if let Some(stored) = store::idempotency::find(conn, user, &idem.key, not_before)? {
            return Ok(replay(stored, idem)?);
        }
        let reply = f(conn, now)?;
        let stored = reply.stored(&idem.request_hash);
        match store::idempotency::insert(conn, user, &idem.key, &stored, not_before, now) {
            Err(e) if e.is_duplicate_in("idempotency_keys") => Err(WriteError::LostRace),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(reply),
        }
    };
    let outcome = if state.db.commits_in_groups() {
        // Queued without holding a thread; the writer that finds the queue without a leader
        // starts one on a thread that may block.
        let store::Queued { answer, leader } = state.db.queue_write(transaction);
        if let Some(leader) = leader {
            actix_web::rt::task::spawn_blocking(move || leader.lead());
        }
        match actix_web::rt::time::timeout(budget, answer).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(WriteError::Api(ApiError::internal(
                "the write transaction panicked",
            ))),
            Err(_) => Err(WriteError::Api(ApiError::database_timeout(format!(
                "no answer within {} ms",
                budget.as_millis()
            )))),
        }
    } else {
        let db = state.db.clone();
        blocking(budget, move || Ok(db.write(transaction))).await?
    };
    match (outcome, idempotency) {
        (Ok(reply), _) => Ok(reply),
        (Err(WriteError::Api(error)), _) => Err(error),
        (Err(WriteError::LostRace), Some(idem)) => {
            blocking(budget, move || {
                let stored = state
                    .db
                    .read(|c| store::idempotency::find(c, user, &idem.key, not_before))?
                    .ok_or_else(|| ApiError::internal("a concurrent idempotent answer vanished"))?;
                replay(stored, &idem)
            })
            .await
        }
        (Err(WriteError::LostRace), None) => Err(ApiError::internal("lost a race without a key")),
    }
}

/// [`write`] without idempotency for a caller that wants the value the transaction made, not
/// an answer: the write queue carries answers, so the value is handed out beside it once the
/// transaction has committed.
pub async fn write_value<T, F>(
    state: &web::Data<AppState>,
    caller: &Caller,
    f: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection, DateTime<Utc>) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let made = std::sync::Arc::new(std::sync::Mutex::new(None));
    let slot = made.clone();
    write(state, caller, None, move |conn, now| {
        let value = f(conn, now)?;
        *slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(value);
        Reply::ok(&serde_json::Value::Null)
    })
    .await?;
    let value = made
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    value.ok_or_else(|| ApiError::internal("a committed write left no value"))
}

/// A read on a pooled connection, off the async workers.
pub async fn read<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let state = state.clone();
    blocking(state.request_budget(), move || state.db.read(f)).await
}

/// [`read`] for what may be a little stale (figures, counts, dashboards): on the read replica
/// while it keeps up, on the primary otherwise. Never for a read that follows the caller's own
/// write.
pub async fn read_stale<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    F: Fn(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let state = state.clone();
    blocking(state.request_budget(), move || state.db.read_stale(f)).await
}

/// A month named in a path: any other text names nothing, hence 404.
pub fn month_in(raw: &str) -> Result<crate::domain::period::Month, ApiError> {
    crate::domain::period::Month::parse(raw)
        .map_err(|m| ApiError::not_found(format!("no month {raw}: {m}")))
}

/// Maps "not found" to a 404 that names what was looked for.
pub fn found<T>(
    result: Result<T, StoreError>,
    what: &str,
    id: impl std::fmt::Display,
) -> Result<T, ApiError> {
    match result {
        Err(StoreError::NotFound) => Err(ApiError::not_found(format!("no {what} {id}"))),
        other => other.map_err(ApiError::from),
    }
}

/// A ticket or an article is filed under an active category and, for its area, an active
/// township or street office; both are read in one round trip.
pub fn check_filed_under(
    conn: &mut DbConnection,
    category: Option<Uuid>,
    area: Option<Uuid>,
) -> Result<(), ApiError> {
    let (category_active, area_kind) = store::tickets::referenced(conn, category, area)?;
    let mut errors = crate::domain::validation::ValidationErrors::new();
    if let Some(category) = category.filter(|_| category_active != Some(true)) {
        errors.add(
            "category_id",
            format!("no active category has the id {category}"),
        );
    }
    if let Some(area) = area {
        match area_kind {
            None => errors.add("area_unit_id", format!("no active unit has the id {area}")),
            Some(kind) => {
                if let Some(problem) = kind.area_problem() {
                    errors.add("area_unit_id", problem);
                }
            }
        }
    }
    Ok(errors.finish()?)
}

/// A reference a request makes must point at an existing, active record.
pub fn check_active(
    errors: &mut crate::domain::validation::ValidationErrors,
    field: &str,
    what: &str,
    id: Option<Uuid>,
    is_active: impl FnOnce(Uuid) -> Result<bool, StoreError>,
) -> Result<(), ApiError> {
    if let Some(id) = id
        && !is_active(id)?
    {
        errors.add(field, format!("no active {what} has the id {id}"));
    }
    Ok(())
}
