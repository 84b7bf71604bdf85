//! The lifecycle's actions on a ticket. Each is one transaction: the ticket is read and locked
//! (404 outside the caller's scope), `If-Match` is checked (412), the state machine decides
//! (403, 409, 422), and the ticket's next version is saved with its timeline entries; the
//! answer is the ticket as it now is.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tickets::ticket_reply;
use super::{
    ActionBody, AppState, IdempotencyKey, IfMatch, Page, PageParams, Query, Reply, check_active,
    found, parse_id, read, write,
};
use crate::auth::Caller;
use crate::domain::access::TicketScope;
use crate::domain::ladder::{Rung, Timer};
use crate::domain::lifecycle::{
    self, AnswerInput, CallbackInput, CloseSupervisionInput, Command, Context, DecisionInput,
    DispatchInput, EmptyInput, ExtensionInput, ExtensionRequest, Lifecycle, MergeInput,
    MergeTarget, OpinionInput, ReasonInput, Refusal, ReplyInput, ReviewInput, SuperviseInput,
    Supervision, SupervisionStatus, UrgeInput,
};
use crate::domain::ticket::Ticket;
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store::lifecycle::SupervisionFilter;
use crate::store::{self, DbConnection};

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Forbidden(detail) => ApiError::forbidden("forbidden", detail),
            Refusal::NotFound(detail) => ApiError::not_found(detail),
            Refusal::InvalidTransition { status, action } => {
                ApiError::invalid_transition(status.as_str(), action)
            }
            Refusal::Conflict { code, detail } => ApiError::conflict(code, detail),
            Refusal::Invalid(errors) => ApiError::validation(errors),
        }
    }
}

/// Runs one command on one ticket. `prepare` turns the request into the command once the ticket
/// is locked, checking what needs the database (active units, attachments, the merge target).
async fn act<F>(
    state: &web::Data<AppState>,
    caller: &Caller,
    ticket: &str,
    expected_version: Option<i64>,
    idempotency: Option<super::Idempotency>,
    prepare: F,
) -> Result<Reply, ApiError>
where
    F: FnOnce(&mut DbConnection, &Ticket, &Lifecycle) -> Result<Command, ApiError> + Send + 'static,
{
    let scope = caller.ticket_scope()?;
    let id = parse_id(ticket, "ticket")?;
    let actor = caller.actor();
    let timezone = state.numbering.timezone;
    write(state, caller, idempotency, move |conn, now| {
        let ticket = found(store::tickets::lock(conn, id, scope), "ticket", id)?;
        if let Some(expected) = expected_version.filter(|v| *v != ticket.version) {
            return Err(ApiError::version_mismatch(expected, ticket.version));
        }
        let before = store::lifecycle::load(conn, &ticket)?;
        let command = prepare(conn, &ticket, &before)?;
        let calendar = store::calendar::load(conn, timezone)?;
        let policy = store::policy::current(conn)?.policy;
        let context = Context {
            actor,
            now,
            ticket_type: ticket.details.ticket_type,
            priority: ticket.details.priority,
            policy: &policy,
            calendar: &calendar,
        };
        let decision = lifecycle::decide(&before, command, &context, &mut Uuid::now_v7)?;
        let saved = store::lifecycle::save(conn, &ticket, &before, &decision, actor, now)?;
        ticket_reply(conn, &saved, scope)
    })
    .await
}

fn ready(
    command: Command,
) -> impl FnOnce(&mut DbConnection, &Ticket, &Lifecycle) -> Result<Command, ApiError> {
    move |_, _, _| Ok(command)
}

type Path1 = web::Path<String>;
type Path2 = web::Path<(String, String)>;

/// `POST /tickets/{id}/answer`: answered on the spot (直办).
pub async fn answer(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<AnswerInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    act(&state, &caller, &path, version, idempotency, ready(command)).await
}

/// `POST /tickets/{id}/dispatch`: to a primary unit and any assisting units.
pub async fn dispatch(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<DispatchInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        move |conn, _, _| {
            if let Command::Dispatch {
                primary_unit_id,
                assisting_unit_ids,
                ..
            } = &command
            {
                let mut errors = ValidationErrors::new();
                check_active(
                    &mut errors,
                    "primary_unit_id",
                    "unit",
                    Some(*primary_unit_id),
                    |u| store::units::is_active(conn, u),
                )?;
                for unit in assisting_unit_ids {
                    check_active(
                        &mut errors,
                        "assisting_unit_ids",
                        "unit",
                        Some(*unit),
                        |u| store::units::is_active(conn, u),
                    )?;
                }
                errors.finish()?;
            }
            Ok(command)
        },
    )
    .await
}

/// `POST /tickets/{id}/sign`: the caller's unit signs for its assignment (签收).
pub async fn sign(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<EmptyInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    body.into_inner()?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        ready(Command::Sign),
    )
    .await
}

/// `POST /tickets/{id}/return`: the primary unit hands the ticket back (退单).
pub async fn return_ticket(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<ReasonInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let reason = body.validate(|input| input.reason())?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        ready(Command::Return { reason }),
    )
    .await
}

/// `POST /tickets/{id}/extension-requests`: the primary unit asks for a later due time.
pub async fn request_extension(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<ExtensionInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    act(&state, &caller, &path, version, idempotency, ready(command)).await
}

fn request_id(raw: &str) -> Result<Uuid, ApiError> {
    parse_id(raw, "extension request")
}

/// `POST /tickets/{id}/extension-requests/{request_id}/approve`.
pub async fn approve_extension(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path2,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<DecisionInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let (ticket, request) = path.into_inner();
    let command = Command::ApproveExtension {
        request_id: request_id(&request)?,
        note: body.validate(|input| input.note())?,
    };
    act(
        &state,
        &caller,
        &ticket,
        version,
        idempotency,
        ready(command),
    )
    .await
}

/// `POST /tickets/{id}/extension-requests/{request_id}/reject`.
pub async fn reject_extension(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path2,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<DecisionInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let (ticket, request) = path.into_inner();
    let command = Command::RejectExtension {
        request_id: request_id(&request)?,
        note: body.validate(|input| input.note())?,
    };
    act(
        &state,
        &caller,
        &ticket,
        version,
        idempotency,
        ready(command),
    )
    .await
}

/// Evidence named by a reply or opinion must belong to the ticket, have been uploaded by the
/// replying unit, and not be evidence of another reply yet.
fn check_attachments(
    conn: &mut DbConnection,
    ticket: &Ticket,
    unit: Option<Uuid>,
    ids: &[Uuid],
) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let available = store::attachments::for_ticket(conn, ticket.id)?;
    for id in ids {
        let usable = available
            .iter()
            .any(|a| a.id == *id && a.reply_id.is_none() && a.unit_id == unit);
        if !usable {
            return Err(ApiError::invalid_field(
                "attachment_ids",
                format!(
                    "{id} is not evidence your unit uploaded to this ticket and has not used yet"
                ),
            ));
        }
    }
    Ok(())
}

/// `POST /tickets/{id}/reply`: the primary unit's result, with its contact record (办结回复).
pub async fn reply(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<ReplyInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    let unit = caller.unit_id();
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        move |conn, ticket, _| {
            if let Command::Reply { content, .. } = &command {
                check_attachments(conn, ticket, unit, &content.attachment_ids)?;
            }
            Ok(command)
        },
    )
    .await
}

/// `POST /tickets/{id}/opinions`: an assisting unit's opinion (协办意见).
pub async fn add_opinion(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<OpinionInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    let unit = caller.unit_id();
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        move |conn, ticket, _| {
            if let Command::AddOpinion { content } = &command {
                check_attachments(conn, ticket, unit, &content.attachment_ids)?;
            }
            Ok(command)
        },
    )
    .await
}

/// `POST /tickets/{id}/review`: accept the reply, or send it back for rework.
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<ReviewInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    act(&state, &caller, &path, version, idempotency, ready(command)).await
}

/// `POST /tickets/{id}/callbacks`: one callback attempt (回访).
pub async fn callback(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<CallbackInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    act(&state, &caller, &path, version, idempotency, ready(command)).await
}

/// `POST /tickets/{id}/merge`: a duplicate (重复件) goes into another open ticket.
pub async fn merge(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<MergeInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let target = body.validate(|input| input.target())?;
    let scope = caller.ticket_scope()?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        move |conn, _, _| {
            let found = match &target {
                MergeTarget::Id(id) => store::tickets::get(conn, *id, scope),
                MergeTarget::Number(number) => store::tickets::get_by_number(conn, number, scope),
            };
            let into = match found {
                Ok(ticket) => Some((ticket.id, !ticket.status.is_final())),
                Err(store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            Ok(Command::Merge { into })
        },
    )
    .await
}

/// `POST /tickets/{id}/invalidate`: not a real request (无效/骚扰).
pub async fn invalidate(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<ReasonInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let reason = body.validate(|input| input.reason())?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        ready(Command::Invalidate { reason }),
    )
    .await
}

/// `POST /tickets/{id}/urges`: a manual urge (催办) to the primary unit or a named assignment.
pub async fn urge(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<UrgeInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    act(&state, &caller, &path, version, idempotency, ready(command)).await
}

/// `POST /tickets/{id}/pause`: stop the deadlines (挂起), with the reason.
pub async fn pause(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<ReasonInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let reason = body.validate(|input| input.reason())?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        ready(Command::Pause { reason }),
    )
    .await
}

/// `POST /tickets/{id}/resume`: the deadlines run again, moved by the working time they stood.
pub async fn resume(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<EmptyInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    body.into_inner()?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        ready(Command::Resume),
    )
    .await
}

/// `POST /tickets/{id}/supervisions`: put a unit's handling under supervision (督办).
pub async fn supervise(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<SuperviseInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(|input| input.command())?;
    act(&state, &caller, &path, version, idempotency, ready(command)).await
}

/// `POST /tickets/{id}/supervisions/{supervision_id}/close`: with its outcome.
pub async fn close_supervision(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path2,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<CloseSupervisionInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let (ticket, supervision) = path.into_inner();
    let command = Command::CloseSupervision {
        supervision_id: parse_id(&supervision, "supervision")?,
        outcome: body.validate(|input| input.outcome())?,
    };
    act(
        &state,
        &caller,
        &ticket,
        version,
        idempotency,
        ready(command),
    )
    .await
}

/// Reads one of a ticket's record lists, inside the caller's scope.
async fn records<T, F>(
    state: &web::Data<AppState>,
    caller: &Caller,
    ticket: &str,
    load: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConnection, Uuid) -> Result<Vec<T>, ApiError> + Send + 'static,
{
    let scope = caller.ticket_scope()?;
    let id = parse_id(ticket, "ticket")?;
    let items = read(state, move |c| {
        found(store::tickets::get(c, id, scope), "ticket", id)?;
        load(c, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn list_extension_requests(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
) -> Result<HttpResponse, ApiError> {
    records::<ExtensionRequest, _>(&state, &caller, &path, |c, id| {
        Ok(store::lifecycle::extension_requests(c, id)?)
    })
    .await
}

pub async fn list_supervisions(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
) -> Result<HttpResponse, ApiError> {
    records::<Supervision, _>(&state, &caller, &path, |c, id| {
        Ok(store::lifecycle::supervisions(c, id)?)
    })
    .await
}

#[derive(Serialize)]
struct ReplyView {
    id: Uuid,
    kind: &'static str,
    assignment_id: Uuid,
    unit_id: Uuid,
    result: Option<lifecycle::ReplyResult>,
    text: String,
    contact: Option<ContactView>,
    no_contact_reason: Option<String>,
    attachment_ids: Vec<Uuid>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct ContactView {
    contacted_at: DateTime<Utc>,
    method: lifecycle::ContactMethod,
    outcome: String,
}

pub async fn list_replies(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
) -> Result<HttpResponse, ApiError> {
    records(&state, &caller, &path, |c, id| {
        let evidence = store::attachments::for_ticket(c, id)?;
        let views = store::lifecycle::replies(c, id)?
            .into_iter()
            .map(|r| {
                let (contact, no_contact_reason) = match r.contact {
                    Some(lifecycle::ContactRecord::Reached {
                        at,
                        method,
                        outcome,
                    }) => (
                        Some(ContactView {
                            contacted_at: at,
                            method,
                            outcome,
                        }),
                        None,
                    ),
                    Some(lifecycle::ContactRecord::Impossible { reason }) => (None, Some(reason)),
                    None => (None, None),
                };
                ReplyView {
                    id: r.id,
                    kind: if r.result.is_some() {
                        "reply"
                    } else {
                        "opinion"
                    },
                    assignment_id: r.assignment_id,
                    unit_id: r.unit_id,
                    result: r.result,
                    text: r.text,
                    contact,
                    no_contact_reason,
                    attachment_ids: evidence
                        .iter()
                        .filter(|a| a.reply_id == Some(r.id))
                        .map(|a| a.id)
                        .collect(),
                    created_by: r.created_by,
                    created_at: r.created_at,
                }
            })
            .collect();
        Ok(views)
    })
    .await
}

#[derive(Serialize)]
struct CallbackView {
    id: Uuid,
    attempt: i32,
    reached: bool,
    satisfaction: Option<lifecycle::Satisfaction>,
    resolved: Option<bool>,
    comment: Option<String>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

pub async fn list_callbacks(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
) -> Result<HttpResponse, ApiError> {
    records(&state, &caller, &path, |c, id| {
        Ok(store::lifecycle::callbacks(c, id)?
            .into_iter()
            .map(|r| CallbackView {
                id: r.id,
                attempt: r.attempt,
                reached: r.reached,
                satisfaction: r.satisfaction,
                resolved: r.resolved,
                comment: r.comment,
                created_by: r.created_by,
                created_at: r.created_at,
            })
            .collect())
    })
    .await
}

#[derive(Serialize)]
struct UrgeView {
    id: Uuid,
    assignment_id: Uuid,
    unit_id: Uuid,
    kind: lifecycle::UrgeKind,
    note: Option<String>,
    timer: Option<Timer>,
    rung: Option<Rung>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

pub async fn list_urges(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
) -> Result<HttpResponse, ApiError> {
    records(&state, &caller, &path, |c, id| {
        Ok(store::lifecycle::urges(c, id)?
            .into_iter()
            .map(|r| UrgeView {
                id: r.id,
                assignment_id: r.assignment_id,
                unit_id: r.unit_id,
                kind: r.kind,
                note: r.note,
                timer: r.timer,
                rung: r.rung,
                created_by: r.created_by,
                created_at: r.created_at,
            })
            .collect())
    })
    .await
}

/// Who sees which supervisions across tickets: the hotline office all, a unit its own.
pub fn supervision_scope(caller: &Caller) -> Result<Option<Uuid>, ApiError> {
    match caller.ticket_scope()? {
        TicketScope::All => Ok(None),
        TicketScope::Unit(unit) => Ok(Some(unit)),
        TicketScope::CreatedBy(_) => Err(ApiError::forbidden(
            "forbidden",
            "integrations see no supervisions",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionParams {
    status: Option<SupervisionStatus>,
    unit_id: Option<Uuid>,
    /// Open supervisions whose deadline has passed.
    overdue: Option<bool>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct SupervisionEntry {
    ticket_id: Uuid,
    ticket_number: String,
    ticket_title: String,
    #[serde(flatten)]
    supervision: Supervision,
}

/// `GET /api/v1/supervisions`: supervisions across tickets, newest first; the hotline office
/// sees all, a unit its own.
pub async fn index(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<SupervisionParams>,
) -> Result<HttpResponse, ApiError> {
    let own_unit = supervision_scope(&caller)?;
    let paging = PageParams::new(params.limit, params.cursor);
    let after: Option<(DateTime<Utc>, Uuid)> = paging.after()?;
    let fetch = paging.fetch()?;
    if let (Some(own), Some(asked)) = (own_unit, params.unit_id)
        && own != asked
    {
        return Ok(HttpResponse::Ok().json(Page::<SupervisionEntry> {
            items: vec![],
            next_cursor: None,
        }));
    }
    let filter = SupervisionFilter {
        status: params.status,
        unit_id: own_unit.or(params.unit_id),
        overdue_at: params.overdue.filter(|o| *o).map(|_| state.now()),
    };
    let rows = read(&state, move |c| {
        Ok(store::lifecycle::supervision_list(
            c, &filter, after, fetch,
        )?)
    })
    .await?;
    let page = paging.page(
        rows,
        |(_, _, _, s)| (s.opened_at, s.id),
        |(ticket_id, ticket_number, ticket_title, supervision)| SupervisionEntry {
            ticket_id,
            ticket_number,
            ticket_title,
            supervision,
        },
    )?;
    Ok(HttpResponse::Ok().json(page))
}
