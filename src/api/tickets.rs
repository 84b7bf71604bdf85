//! Tickets: registration, reading, listing, correction before dispatch, the timeline, and the
//! audited look at a caller's identity.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    AppState, IdempotencyKey, IfMatch, JsonBody, PageParams, Query, Reply, check_filed_under, etag,
    found, parse_id, read, write,
};
use crate::api::Caller;
use crate::domain::access::{Actor, CallerVisibility, Role, TicketScope};
use crate::domain::audit::AuditAction;
use crate::domain::calendar::Due;
use crate::domain::caller::PhoneIndex;
use crate::domain::lifecycle::{ExtensionRequest, Lifecycle, Supervision};
use crate::domain::masking::{mask_name, mask_phone};
use crate::domain::problem::ProblemCode;
use crate::domain::search::{self, Snippet};
use crate::domain::ticket::{
    Assignment, AssignmentRole, AssignmentStatus, Channel, EditInput, EventKind, Priority,
    RegistrationInput, Ticket, TicketDetails, TicketDraft, TicketEvent, TicketOrder, TicketStatus,
    TicketSummary, TicketType,
};
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::tickets::{ListCursor, TicketFilter};
use crate::store::{self, DbConnection};

/// A ticket as a caller may see it, whole with its lifecycle's records: the caller's name and
/// phone masked (or, for a unit looking at a confidential ticket, absent).
#[derive(Serialize)]
pub struct TicketView {
    id: Uuid,
    number: String,
    channel: Channel,
    /// The office's channel ([`crate::domain::channel`]); `channel` is its kind.
    channel_code: String,
    external_ref: Option<String>,
    #[serde(rename = "type")]
    ticket_type: TicketType,
    category_id: Option<Uuid>,
    title: String,
    content: String,
    caller_name: Option<String>,
    caller_phone: Option<String>,
    caller_hidden: bool,
    confidential: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    area_unit_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    longitude: Option<f64>,
    priority: Priority,
    status: TicketStatus,
    current_round: i32,
    primary_unit_id: Option<Uuid>,
    sign_due_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    overdue: bool,
    supervised: bool,
    return_count: i32,
    rework_count: i32,
    urge_count: i32,
    merged_into_id: Option<Uuid>,
    close_reason: Option<crate::domain::lifecycle::CloseReason>,
    created_by: Uuid,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    callback_attempts: i32,
    callback_due_at: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    pause_reason: Option<String>,
    nuisance_number_id: Option<Uuid>,
    assignments: Vec<AssignmentView>,
    extension_requests: Vec<ExtensionRequest>,
    supervisions: Vec<Supervision>,
}

impl TicketView {
    pub fn new(ticket: &Ticket, scope: TicketScope, parts: &Lifecycle) -> Self {
        let d = &ticket.details;
        let hidden = scope.caller_visibility(d.confidential) == CallerVisibility::Hidden;
        Self {
            id: ticket.id,
            number: ticket.number.clone(),
            channel: ticket.channel,
            channel_code: ticket.channel_code.clone(),
            external_ref: ticket.external_ref.clone(),
            ticket_type: d.ticket_type,
            category_id: d.category_id,
            title: d.title.clone(),
            content: d.content.clone(),
            caller_name: d.caller_name.as_deref().filter(|_| !hidden).map(mask_name),
            caller_phone: d
                .caller_phone
                .as_deref()
                .filter(|_| !hidden)
                .map(mask_phone),
            caller_hidden: hidden,
            confidential: d.confidential,
            address: d.address.clone(),
            area_unit_id: d.area_unit_id,
            latitude: d.location.map(|l| l.latitude),
            longitude: d.location.map(|l| l.longitude),
            priority: d.priority,
            status: ticket.progress.status,
            current_round: ticket.progress.current_round,
            primary_unit_id: ticket.progress.primary_unit_id,
            sign_due_at: ticket.progress.sign_due_at,
            due_at: ticket.progress.due_at,
            overdue: ticket.progress.overdue,
            supervised: ticket.progress.supervised,
            return_count: ticket.progress.return_count,
            rework_count: ticket.progress.rework_count,
            urge_count: ticket.progress.urge_count,
            merged_into_id: ticket.progress.merged_into_id,
            close_reason: ticket.progress.close_reason,
            created_by: ticket.created_by,
            version: ticket.version,
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            closed_at: ticket.progress.closed_at,
            callback_attempts: ticket.progress.callback_attempts,
            callback_due_at: ticket.progress.callback_due_at,
            paused_at: ticket.progress.paused_at,
            pause_reason: ticket.progress.pause_reason.clone(),
            nuisance_number_id: ticket.nuisance_number_id,
            assignments: parts.assignments.iter().map(AssignmentView::from).collect(),
            extension_requests: parts.extensions.clone(),
            supervisions: parts.supervisions.clone(),
        }
    }
}

/// A ticket as a queue shows it (`GET /api/v1/tickets`): the caller's name masked, or absent when
/// the caller is hidden from the viewer.
#[derive(Serialize)]
pub struct TicketListItem {
    id: Uuid,
    number: String,
    channel: Channel,
    /// The office's channel ([`crate::domain::channel`]); `channel` is its kind.
    channel_code: String,
    external_ref: Option<String>,
    #[serde(rename = "type")]
    ticket_type: TicketType,
    category_id: Option<Uuid>,
    title: String,
    caller_name: Option<String>,
    confidential: bool,
    area_unit_id: Option<Uuid>,
    priority: Priority,
    status: TicketStatus,
    current_round: i32,
    primary_unit_id: Option<Uuid>,
    sign_due_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    overdue: bool,
    supervised: bool,
    return_count: i32,
    urge_count: i32,
    callback_due_at: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// With a question (`q`): where the title or content holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Snippet>,
}

impl TicketListItem {
    fn with_snippet(self, snippet: Option<Snippet>) -> Self {
        Self { snippet, ..self }
    }

    fn new(ticket: TicketSummary, scope: TicketScope) -> Self {
        let hidden = scope.caller_visibility(ticket.confidential) == CallerVisibility::Hidden;
        Self {
            id: ticket.id,
            number: ticket.number,
            channel: ticket.channel,
            channel_code: ticket.channel_code,
            external_ref: ticket.external_ref,
            ticket_type: ticket.ticket_type,
            category_id: ticket.category_id,
            title: ticket.title,
            caller_name: ticket
                .caller_name
                .as_deref()
                .filter(|_| !hidden)
                .map(mask_name),
            confidential: ticket.confidential,
            area_unit_id: ticket.area_unit_id,
            priority: ticket.priority,
            status: ticket.status,
            current_round: ticket.current_round,
            primary_unit_id: ticket.primary_unit_id,
            sign_due_at: ticket.sign_due_at,
            due_at: ticket.due_at,
            overdue: ticket.overdue,
            supervised: ticket.supervised,
            return_count: ticket.return_count,
            urge_count: ticket.urge_count,
            callback_due_at: ticket.callback_due_at,
            paused_at: ticket.paused_at,
            version: ticket.version,
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            snippet: None,
        }
    }
}

#[derive(Serialize)]
struct AssignmentView {
    id: Uuid,
    unit_id: Uuid,
    round: i32,
    role: AssignmentRole,
    status: AssignmentStatus,
    forced: bool,
    dispatched_by: Uuid,
    dispatched_at: DateTime<Utc>,
    sign_due_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    original_due_at: DateTime<Utc>,
    /// How the sign and reply due times were worked out.
    deadlines: Deadlines,
    signed_at: Option<DateTime<Utc>>,
    returned_at: Option<DateTime<Utc>>,
    return_reason: Option<String>,
    replied_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    /// For a sub-unit's forward (二级转办), the unit's assignment it works on.
    forwarded_from_id: Option<Uuid>,
}

#[derive(Serialize)]
struct Deadlines {
    sign: Due,
    reply: Due,
}

impl From<&Assignment> for AssignmentView {
    fn from(a: &Assignment) -> Self {
        Self {
            id: a.id,
            unit_id: a.unit_id,
            round: a.round,
            role: a.role,
            status: a.status,
            forced: a.forced,
            dispatched_by: a.dispatched_by,
            dispatched_at: a.dispatched_at,
            sign_due_at: a.sign_due_at(),
            due_at: a.due_at(),
            original_due_at: a.original_due_at,
            deadlines: Deadlines {
                sign: a.sign_deadline.clone(),
                reply: a.reply_deadline.clone(),
            },
            signed_at: a.signed_at,
            returned_at: a.returned_at,
            return_reason: a.return_reason.clone(),
            replied_at: a.replied_at,
            closed_at: a.closed_at,
            forwarded_from_id: a.forwarded_from,
        }
    }
}

/// The ticket as it now is, whole, marked with its version: what every change answers.
pub fn ticket_reply(
    ticket: &Ticket,
    lifecycle: &Lifecycle,
    scope: TicketScope,
) -> Result<Reply, ApiError> {
    Reply::ok(&TicketView::new(ticket, scope, lifecycle)).map(|r| r.with_version(ticket.version))
}

/// A ticket locked for a change, when the caller's `If-Match` (if any) names its version.
pub fn locked(
    conn: &mut DbConnection,
    id: Uuid,
    scope: TicketScope,
    expected_version: Option<i64>,
) -> Result<store::lifecycle::Locked, ApiError> {
    let locked = found(store::lifecycle::lock(conn, id, scope), "ticket", id)?;
    if let Some(expected) = expected_version.filter(|v| *v != locked.ticket.version) {
        return Err(ApiError::version_mismatch(expected, locked.ticket.version));
    }
    Ok(locked)
}

/// Category and area must exist and be active when a ticket is filed under them. Only the values
/// a request sets are checked: a category deactivated later does not block editing the title.
fn check_references(
    conn: &mut DbConnection,
    details: &TicketDetails,
    before: Option<&TicketDetails>,
) -> Result<(), ApiError> {
    let category = details
        .category_id
        .filter(|c| before.is_none_or(|b| b.category_id != Some(*c)));
    let area = details
        .area_unit_id
        .filter(|a| before.is_none_or(|b| b.area_unit_id != Some(*a)));
    check_filed_under(conn, category, area)
}

/// `POST /api/v1/tickets`: registers a ticket (201), or answers the one already registered with
/// the same `(channel, external_ref)` (200).
pub async fn register(
    state: web::Data<AppState>,
    caller: Caller,
    idempotency: IdempotencyKey,
    body: JsonBody<RegistrationInput>,
) -> Result<Reply, ApiError> {
    // Refused before the body is looked at.
    caller.ticket_scope()?;
    let idempotency = idempotency.with_fingerprint(body.fingerprint());
    let registrant = caller.registrant();
    let draft = body.validate(|input| TicketDraft::parse(input, registrant))?;
    register_draft(&state, &caller, idempotency, draft).await
}

/// Registers a checked draft in one transaction with its event: 201 with the ticket's address,
/// or 200 with the ticket already registered under the same `(channel, external_ref)`.
pub(crate) async fn register_draft(
    state: &web::Data<AppState>,
    caller: &Caller,
    idempotency: Option<super::Idempotency>,
    draft: TicketDraft,
) -> Result<Reply, ApiError> {
    let scope = caller.ticket_scope()?;
    let actor = caller.actor();
    let numbering = state.numbering;
    let phone_index = state.phone_index.clone();
    let reply = write(state, caller, idempotency, move |conn, now| {
        let registration =
            registration_transaction(conn, &draft, actor, numbering, &phone_index, now)?;
        let ticket = &registration.ticket;
        let view = TicketView::new(ticket, scope, &Lifecycle::registered(ticket.id));
        let reply = if registration.created {
            Reply::created(&view, format!("/api/v1/tickets/{}", ticket.id))?
        } else {
            Reply::ok(&view)?
        };
        Ok(reply.with_version(ticket.version))
    })
    .await?;
    if reply.status() == actix_web::http::StatusCode::CREATED && !reply.is_replay() {
        state
            .metrics
            .tickets_registered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(reply)
}

/// What registering writes, inside the caller's transaction: the references checked, then the
/// ticket and its event. The benchmark measures exactly this without HTTP.
pub fn registration_transaction(
    conn: &mut DbConnection,
    draft: &TicketDraft,
    actor: Actor,
    numbering: store::tickets::Numbering,
    phone_index: &PhoneIndex,
    now: DateTime<Utc>,
) -> Result<store::tickets::Registration, ApiError> {
    check_references(conn, &draft.details, None)?;
    let channel = store::channels::find(conn, &draft.channel.code)?;
    let kind = draft.channel.resolve(channel.as_ref())?;
    let phone_key = phone_key(phone_index, draft.details.caller_phone.as_deref());
    Ok(store::tickets::register(
        conn,
        draft,
        kind,
        actor,
        numbering,
        phone_key.as_deref(),
        now,
    )?)
}

/// The indexed form of a ticket's caller number: empty for a number too short to identify a
/// caller, so that the background pass does not look at it again.
fn phone_key(index: &PhoneIndex, phone: Option<&str>) -> Option<String> {
    phone.map(|p| index.key_of(p).unwrap_or_default())
}

pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let (ticket, parts) = read(&state, move |c| with_lifecycle(c, id, scope)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(ticket.version)))
        .json(TicketView::new(&ticket, scope, &parts)))
}

/// A ticket inside the caller's scope, with its lifecycle's records.
pub(crate) fn with_lifecycle(
    c: &mut DbConnection,
    id: Uuid,
    scope: TicketScope,
) -> Result<(Ticket, Lifecycle), ApiError> {
    let ticket = found(store::tickets::get(c, id, scope), "ticket", id)?;
    let parts = store::lifecycle::load(c, &ticket)?;
    Ok((ticket, parts))
}

/// The printable 交办单 (`text/html`), for whoever may read the ticket: the caller masked or
/// hidden as in the ticket's JSON.
pub async fn dispatch_sheet(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let (ticket, parts, category, area, units, channel) = read(&state, move |c| {
        let (ticket, parts) = with_lifecycle(c, id, scope)?;
        let channel = store::channels::find(c, &ticket.channel_code)?.map(|c| c.name);
        let category = match ticket.details.category_id {
            Some(id) => Some(store::categories::get(c, id)?.full_name),
            None => None,
        };
        let units = store::units::names(c)?;
        let area = ticket
            .details
            .area_unit_id
            .and_then(|id| units.get(&id).cloned());
        Ok((ticket, parts, category, area, units, channel))
    })
    .await?;
    let html = crate::reports::sheet::render(&crate::reports::sheet::Sheet {
        hotline_name: &state.hotline_name,
        ticket: &ticket,
        channel: channel.as_deref(),
        assignments: &parts.assignments,
        category: category.as_deref(),
        area: area.as_deref(),
        unit_names: &units,
        caller: scope.caller_visibility(ticket.details.confidential),
        timezone: state.numbering.timezone,
        printed_at: state.now(),
    });
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub async fn get_by_number(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.ticket_scope()?;
    let number = path.into_inner();
    let (ticket, parts) = read(&state, move |c| {
        let ticket = found(
            store::tickets::get_by_number(c, &number, scope),
            "ticket numbered",
            &number,
        )?;
        let parts = store::lifecycle::load(c, &ticket)?;
        Ok((ticket, parts))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(ticket.version)))
        .json(TicketView::new(&ticket, scope, &parts)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    unit_id: Option<String>,
    category_id: Option<Uuid>,
    area_unit_id: Option<Uuid>,
    #[serde(rename = "type")]
    ticket_type: Option<String>,
    channel: Option<String>,
    priority: Option<Priority>,
    created_from: Option<String>,
    created_to: Option<String>,
    due_before: Option<String>,
    overdue: Option<bool>,
    supervised: Option<bool>,
    q: Option<String>,
    sort: Option<TicketOrder>,
    limit: Option<u32>,
    cursor: Option<String>,
    format: Option<ListFormat>,
}

/// A list as a page of JSON, or the whole of it as a file to open in a spreadsheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ListFormat {
    Json,
    Csv,
    Xlsx,
}

/// The most tickets one export holds: a month of a county's work; wider lists are narrowed by
/// their registration dates.
const EXPORT_MAX: usize = 10_000;

/// `a,b,c` into values of `T`, each checked.
pub(super) fn comma_list<T>(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
) -> Vec<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let Some(value) = value else {
        return Vec::new();
    };
    value
        .split(',')
        .filter_map(|v| match v.parse::<T>() {
            Ok(parsed) => Some(parsed),
            Err(e) => {
                errors.add(field, e.to_string());
                None
            }
        })
        .collect()
}

/// An RFC 3339 instant, or a date meaning the start of that day in the hotline's time zone.
pub(super) fn instant(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    tz: chrono_tz::Tz,
) -> Option<DateTime<Utc>> {
    let value = value?;
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Some(instant.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => match tz
            .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
        {
            Some(start) => Some(start.with_timezone(&Utc)),
            None => {
                errors.add(field, "the day has no midnight in the hotline's time zone");
                None
            }
        },
        Err(_) => {
            errors.add(
                field,
                "must be an RFC 3339 time (2026-11-22T09:30:00+08:00) or a date (2026-11-22)",
            );
            None
        }
    }
}

fn filter_from(
    params: &ListParams,
    caller: &Caller,
    tz: chrono_tz::Tz,
) -> Result<TicketFilter, ApiError> {
    let mut errors = ValidationErrors::new();
    let unit_id = match params.unit_id.as_deref() {
        None => None,
        Some("me") => match caller.unit_id() {
            Some(unit) => Some(unit),
            None => {
                errors.add(
                    "unit_id",
                    "`me` means the caller's unit, and this account has none",
                );
                None
            }
        },
        Some(raw) => match Uuid::parse_str(raw) {
            Ok(unit) => Some(unit),
            Err(_) => {
                errors.add("unit_id", "must be a unit id or `me`");
                None
            }
        },
    };
    let filter = TicketFilter {
        statuses: comma_list(&mut errors, "status", params.status.as_deref()),
        unit_id,
        category_id: params.category_id,
        area_unit_id: params.area_unit_id,
        types: comma_list(&mut errors, "type", params.ticket_type.as_deref()),
        channels: comma_list(&mut errors, "channel", params.channel.as_deref()),
        priority: params.priority,
        created_from: instant(
            &mut errors,
            "created_from",
            params.created_from.as_deref(),
            tz,
        ),
        created_to: instant(&mut errors, "created_to", params.created_to.as_deref(), tz),
        due_before: instant(&mut errors, "due_before", params.due_before.as_deref(), tz),
        overdue: params.overdue,
        supervised: params.supervised,
        q: params
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned),
    };
    if filter.q.as_deref().is_some_and(|q| q.chars().count() > 100) {
        errors.add("q", "must be at most 100 characters");
    }
    errors.finish()?;
    Ok(filter)
}

/// `GET /api/v1/tickets`: newest first, filtered, inside the caller's scope whatever they ask.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.ticket_scope()?;
    let filter = filter_from(&params, &caller, state.numbering.timezone)?;
    let order = params.sort.unwrap_or(TicketOrder::Newest);
    if let Some(format @ (ListFormat::Csv | ListFormat::Xlsx)) = params.format {
        if params.limit.is_some() || params.cursor.is_some() {
            return Err(ApiError::invalid_field(
                "format",
                "an export holds the whole list: it takes no limit or cursor",
            ));
        }
        return export(&state, &caller, scope, filter, order, format).await;
    }
    let paging = PageParams::new(params.limit, params.cursor);
    // A cursor names the order it was made for, so that it cannot be read in another one.
    let after = match paging.after::<(TicketOrder, ListCursor)>()? {
        Some((made_for, cursor)) if made_for == order => Some(cursor),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "cursor",
                "was handed out for another sort order",
            ));
        }
        None => None,
    };
    let fetch = paging.fetch()?;
    let rows = read(&state, move |c| {
        let tickets = store::tickets::list(c, scope, &filter, order, after, fetch)?;
        let Some(q) = filter.q.as_deref() else {
            return Ok(tickets.into_iter().map(|t| (t, None)).collect::<Vec<_>>());
        };
        let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
        let contents = store::tickets::contents(c, &ids)?;
        Ok(tickets
            .into_iter()
            .map(|t| {
                let content = contents.get(&t.id).map_or("", String::as_str);
                let snippet = search::first_snippet([t.title.as_str(), content], q);
                (t, snippet)
            })
            .collect())
    })
    .await?;
    let page = paging.page(
        rows,
        |(t, _)| (order, ListCursor::of(order, t)),
        |(t, snippet)| TicketListItem::new(t, scope).with_snippet(snippet),
    )?;
    Ok(HttpResponse::Ok().json(page))
}

/// `PATCH /api/v1/tickets/{id}`: corrects registration data until the ticket is dispatched.
pub async fn edit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    IfMatch(expected): IfMatch,
    body: JsonBody<EditInput>,
) -> Result<Reply, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let (input, shape) = body.into_parts();
    let actor = caller.actor();
    let phone_index = state.phone_index.clone();
    write(&state, &caller, None, move |conn, now| {
        let locked = locked(conn, id, scope, expected)?;
        let ticket = &locked.ticket;
        if !ticket.progress.status.is_editable() {
            return Err(ApiError::invalid_transition(
                ticket.progress.status.as_str(),
                "edited",
            ));
        }
        let Some(edited) = shape.answer(ticket.details.edit(input))? else {
            return ticket_reply(ticket, &locked.lifecycle, scope);
        };
        check_references(conn, &edited.details, Some(&ticket.details))?;
        let phone_key = phone_key(&phone_index, edited.details.caller_phone.as_deref());
        let saved = store::tickets::save_details(
            conn,
            ticket,
            &edited.details,
            phone_key.as_deref(),
            actor,
            &edited.changes,
            now,
        )?;
        ticket_reply(&saved, &locked.lifecycle, scope)
    })
    .await
}

#[derive(Serialize)]
struct EventView {
    id: i64,
    kind: EventKind,
    ticket_version: i64,
    actor: ActorView,
    assignment_id: Option<Uuid>,
    details: serde_json::Value,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct ActorView {
    user_id: Option<Uuid>,
    role: Option<Role>,
    unit_id: Option<Uuid>,
    system: bool,
}

impl From<Actor> for ActorView {
    fn from(actor: Actor) -> Self {
        Self {
            user_id: actor.user_id,
            role: actor.role,
            unit_id: actor.unit_id,
            system: actor.user_id.is_none(),
        }
    }
}

impl From<TicketEvent> for EventView {
    fn from(e: TicketEvent) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            ticket_version: e.ticket_version,
            actor: e.actor.into(),
            assignment_id: e.assignment_id,
            details: e.details,
            created_at: e.created_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /api/v1/tickets/{id}/events`: the timeline, oldest first.
pub async fn events(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    Query(params): Query<EventParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let paging = PageParams::new(params.limit, params.cursor);
    let after: Option<i64> = paging.after()?;
    let fetch = paging.fetch()?;
    let rows = read(&state, move |c| {
        let ticket = found(store::tickets::get(c, id, scope), "ticket", id)?;
        Ok(store::events::list(c, &ticket, after, fetch)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(paging.page(rows, |e| e.id, EventView::from)?))
}

#[derive(Serialize)]
struct CallerIdentity {
    ticket_id: Uuid,
    caller_name: Option<String>,
    caller_phone: Option<String>,
}

/// `GET /api/v1/tickets/{id}/caller`: the caller's name and phone whole, for whoever must contact
/// them; every answer is written to the audit log first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealParams {
    reason: Option<String>,
}

/// How long the reason given for seeing a caller whole may be.
const REVEAL_REASON_MAX: usize = 200;

pub async fn reveal_caller(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    Query(params): Query<RevealParams>,
) -> Result<Reply, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let viewer = caller.id();
    let reason = crate::domain::validation::optional_single_line(
        params.reason.as_deref(),
        REVEAL_REASON_MAX,
    )
    .map_err(|problem| ApiError::invalid_field("reason", problem))?;
    write(&state, &caller, None, move |conn, now| {
        let ticket = found(store::tickets::get(conn, id, scope), "ticket", id)?;
        if scope.caller_visibility(ticket.details.confidential) == CallerVisibility::Hidden {
            return Err(ApiError::forbidden(
                ProblemCode::Confidential,
                "the caller of a confidential ticket is not disclosed to units",
            ));
        }
        audit::record(
            conn,
            &AuditEntry::new(viewer, AuditAction::CallerRevealed, now)
                .on_ticket(id)
                .with(serde_json::json!({ "reason": reason })),
        )?;
        Reply::ok(&CallerIdentity {
            ticket_id: id,
            caller_name: ticket.details.caller_name.clone(),
            caller_phone: ticket.details.caller_phone.clone(),
        })
        .map(Reply::not_cached)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateParams {
    pub category_id: Uuid,
    pub area_unit_id: Option<Uuid>,
    pub address: Option<String>,
    pub within_days: Option<u32>,
}

#[derive(Serialize)]
pub struct PossibleDuplicate {
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub status: TicketStatus,
    pub area_unit_id: Option<Uuid>,
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
    pub same_area: bool,
    pub address_similarity: Option<f64>,
}

/// How many of a category's recent open tickets intake compares a call with.
const DUPLICATE_CANDIDATES: i64 = 500;

/// `GET /api/v1/tickets/possible-duplicates`: open tickets of the call's category registered in
/// the last days, from the same township or a similar address, likeliest first, so that the
/// agent can merge the call instead of registering it again.
pub async fn possible_duplicates(
    state: web::Data<AppState>,
    Query(params): Query<DuplicateParams>,
) -> Result<HttpResponse, ApiError> {
    let items = duplicates_of(&state, params).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// The open tickets a call may repeat, likeliest first (see [`possible_duplicates`]).
pub(crate) async fn duplicates_of(
    state: &web::Data<AppState>,
    params: DuplicateParams,
) -> Result<Vec<PossibleDuplicate>, ApiError> {
    use crate::domain::duplicates::{DEFAULT_DAYS, Intake, Likeness, MAX_DAYS};
    let days = params.within_days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::invalid_field(
            "within_days",
            format!("must be between 1 and {MAX_DAYS}"),
        ));
    }
    let address = crate::domain::validation::optional_single_line(params.address.as_deref(), 200)
        .map_err(|problem| ApiError::invalid_field("address", problem))?;
    let since = state.now() - chrono::Duration::days(i64::from(days));
    let category = params.category_id;
    let candidates = read(state, move |c| {
        Ok(store::tickets::open_in_category_since(
            c,
            category,
            since,
            DUPLICATE_CANDIDATES,
        )?)
    })
    .await?;
    let intake = Intake {
        area_unit_id: params.area_unit_id,
        address: address.as_deref(),
    };
    let mut alike: Vec<(Likeness, store::tickets::OpenTicket)> = candidates
        .into_iter()
        .filter_map(|t| Likeness::of(&intake, t.area_unit_id, t.address.as_deref()).map(|l| (l, t)))
        .collect();
    alike.sort_by(|(a, x), (b, y)| {
        b.rank()
            .total_cmp(&a.rank())
            .then(y.created_at.cmp(&x.created_at))
    });
    Ok(alike
        .into_iter()
        .take(20)
        .map(|(likeness, t)| PossibleDuplicate {
            id: t.id,
            number: t.number,
            title: t.title,
            status: t.status,
            area_unit_id: t.area_unit_id,
            address: t.address,
            created_at: t.created_at,
            same_area: likeness.same_area,
            address_similarity: likeness.address_similarity,
        })
        .collect())
}

/// The whole filtered list as CSV or XLSX, the caller's name masked as in lists and no phone.
/// Every export is written to the audit log, with the filter it was made with, before the file
/// is sent.
async fn export(
    state: &web::Data<AppState>,
    caller: &Caller,
    scope: TicketScope,
    filter: TicketFilter,
    order: TicketOrder,
    format: ListFormat,
) -> Result<HttpResponse, ApiError> {
    let described = format!("{filter:?}");
    let (tickets, categories, units, channels) = read(state, move |conn| {
        let mut tickets: Vec<TicketSummary> = Vec::new();
        let mut after = None;
        loop {
            let page = store::tickets::list(conn, scope, &filter, order, after, 200)?;
            let done = page.len() < 200;
            after = page.last().map(|t| ListCursor::of(order, t));
            tickets.extend(page);
            if tickets.len() > EXPORT_MAX {
                return Err(ApiError::invalid_field(
                    "format",
                    format!(
                        "the list holds more than {EXPORT_MAX} tickets; narrow it, by created_from and created_to for instance"
                    ),
                ));
            }
            if done {
                break;
            }
        }
        let categories = store::categories::full_names(conn)?;
        let units = store::units::names(conn)?;
        let channels: std::collections::HashMap<String, String> = store::channels::all(conn)?
            .into_iter()
            .map(|c| (c.code, c.name))
            .collect();
        Ok((tickets, categories, units, channels))
    })
    .await?;
    let exporter = caller.id();
    let rows = tickets.len();
    let kind = if format == ListFormat::Csv {
        "csv"
    } else {
        "xlsx"
    };
    write(state, caller, None, move |conn, now| {
        audit::record(
            conn,
            &AuditEntry::new(exporter, AuditAction::TicketsExported, now)
                .with(serde_json::json!({ "format": kind, "rows": rows, "filter": described })),
        )?;
        Reply::ok(&serde_json::json!({}))
    })
    .await?;
    let timezone = state.numbering.timezone;
    let name = |map: &std::collections::HashMap<Uuid, String>, id: Option<Uuid>| {
        id.and_then(|id| map.get(&id).cloned()).unwrap_or_default()
    };
    let at = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            t.with_timezone(&timezone)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
    };
    use crate::reports::labels;
    use crate::reports::tables::{Cell, Table};
    let table = Table {
        name: "tickets",
        title: "工单清单".into(),
        header: [
            "编号",
            "登记时间",
            "渠道",
            "类型",
            "分类",
            "标题",
            "来电人",
            "属地",
            "状态",
            "主办单位",
            "办理时限",
            "超期",
            "督办",
            "催办次数",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect(),
        rows: tickets
            .into_iter()
            .map(|t| {
                let item = TicketListItem::new(t, scope);
                vec![
                    Cell::Text(item.number),
                    Cell::Text(at(Some(item.created_at))),
                    Cell::Text(
                        channels
                            .get(&item.channel_code)
                            .cloned()
                            .unwrap_or_else(|| labels::channel(item.channel).into()),
                    ),
                    Cell::Text(labels::ticket_type(item.ticket_type).into()),
                    Cell::Text(name(&categories, item.category_id)),
                    Cell::Text(item.title),
                    Cell::Text(item.caller_name.unwrap_or_default()),
                    Cell::Text(name(&units, item.area_unit_id)),
                    Cell::Text(labels::ticket_status(item.status).into()),
                    Cell::Text(name(&units, item.primary_unit_id)),
                    Cell::Text(at(item.due_at)),
                    Cell::Text(if item.overdue { "是" } else { "" }.into()),
                    Cell::Text(if item.supervised { "是" } else { "" }.into()),
                    Cell::Count(item.urge_count.max(0) as u64),
                ]
            })
            .collect(),
    };
    let (body, content_type, extension) = match format {
        ListFormat::Csv => (
            crate::reports::csv::table(&table),
            "text/csv; charset=utf-8",
            "csv",
        ),
        _ => (
            crate::reports::xlsx::workbook("工单清单", std::slice::from_ref(&table))
                .map_err(|e| ApiError::internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let stamp = state.now().with_timezone(&timezone).format("%Y%m%d-%H%M");
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"tickets-{stamp}.{extension}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerHistoryInput {
    phone: String,
}

/// How many of a caller's tickets the history lists (the count covers them all).
const CALLER_HISTORY_SHOWN: i64 = 20;

/// `POST /api/v1/caller-history`: the caller's earlier tickets by phone number, while the call
/// is live. The number travels in the body, not the address, and is found through the keyed
/// index; every look-up is written to the audit log with the number masked.
pub async fn caller_history(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CallerHistoryInput>,
) -> Result<Reply, ApiError> {
    let phone = body.into_inner()?.phone;
    let history = look_up_caller(&state, &caller, &phone).await?;
    Reply::ok(&history).map(Reply::not_cached)
}

/// A caller's earlier tickets and any nuisance mark in force on the number.
#[derive(Serialize)]
pub struct CallerHistory {
    pub count: i64,
    pub tickets: Vec<store::tickets::CallerTicket>,
    pub nuisance: Option<super::nuisance::MarkView>,
}

/// Looks a caller up by phone through the keyed index, writing the look-up to the audit log
/// with the number masked, in one transaction.
pub(crate) async fn look_up_caller(
    state: &web::Data<AppState>,
    caller: &Caller,
    phone: &str,
) -> Result<CallerHistory, ApiError> {
    caller.require(crate::domain::access::Permission::LookUpCaller)?;
    let Some(normalized) = crate::domain::caller::normalized_phone(phone) else {
        return Err(ApiError::invalid_field(
            "phone",
            "must hold at least five digits of a phone number",
        ));
    };
    let key = state.phone_index.key_of_normalized(&normalized);
    let viewer = caller.id();
    let masked = mask_phone(&normalized);
    super::write_value(state, caller, move |conn, now| {
        let (count, tickets) = store::tickets::by_caller(conn, &key, CALLER_HISTORY_SHOWN)?;
        // The agent is warned while the call is live.
        let nuisance = store::nuisance::in_force(conn, &key, now)?;
        audit::record(
            conn,
            &AuditEntry::new(viewer, AuditAction::CallerLookedUp, now)
                .with(serde_json::json!({ "phone": masked, "found": count })),
        )?;
        Ok(CallerHistory {
            count,
            tickets,
            nuisance: nuisance.map(|m| super::nuisance::MarkView::new(m, now)),
        })
    })
    .await
}
