//! The lifecycle's actions on a ticket. Each is one transaction: the ticket is read and locked
//! (404 outside the caller's scope), `If-Match` is checked (412), the state machine decides
//! (403, 409, 422), and the ticket's next version is saved with its timeline entries; the
//! answer is the ticket as it now is.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tickets::{locked, ticket_reply};
use super::{
    ActionBody, AppState, IdempotencyKey, IfMatch, Page, PageParams, Query, Reply, check_active,
    found, parse_id, read, write,
};
use crate::api::Caller;
use crate::domain::access::TicketScope;
use crate::domain::lifecycle::{
    self, Command, Context, ExtensionRequest, Lifecycle, Refusal, Supervision, SupervisionStatus,
};
use crate::domain::problem::ProblemCode;
use crate::domain::ticket::Ticket;
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store::lifecycle::SupervisionFilter;
use crate::store::{self, DbConnection};

mod inputs;

use crate::domain::directory::lies_under;
pub use inputs::MergeTarget;
pub use inputs::{
    Action, ApproveExtension, Callback, CloseSupervision, DecideReturn, Dispatch, Invalidate,
    Opinion, Pause, Recall, RecordAction, RejectExtension, Reopen, RequestExtension, Resume,
    Return, Review, Sign, Supervise, UnitReply, Urge,
};
use inputs::{ForwardInput, MergeInput};

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Forbidden(detail) => ApiError::forbidden(ProblemCode::Forbidden, detail),
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
pub(crate) async fn act<F>(
    state: &web::Data<AppState>,
    caller: &Caller,
    ticket: &str,
    expected_version: Option<i64>,
    idempotency: Option<super::Idempotency>,
    prepare: F,
) -> Result<Reply, ApiError>
where
    F: FnOnce(&mut DbConnection, &Ticket, &Lifecycle, DateTime<Utc>) -> Result<Command, ApiError>
        + Send
        + 'static,
{
    let scope = caller.ticket_scope()?;
    let id = parse_id(ticket, "ticket")?;
    let actor = caller.actor();
    let timezone = state.numbering.timezone;
    write(state, caller, idempotency, move |conn, now| {
        let locked = locked(conn, id, scope, expected_version)?;
        let (ticket, before) = (&locked.ticket, &locked.lifecycle);
        let command = prepare(conn, ticket, before, now)?;
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
        let decision = lifecycle::decide(before, command, &context, &mut Uuid::now_v7)?;
        let saved = locked.save(conn, decision, actor, now)?;
        ticket_reply(&saved.ticket, &saved.lifecycle, scope)
    })
    .await
}

pub(crate) fn ready(
    command: Command,
) -> impl FnOnce(&mut DbConnection, &Ticket, &Lifecycle, DateTime<Utc>) -> Result<Command, ApiError>
{
    move |_, _, _, _| Ok(command)
}

type Path1 = web::Path<String>;
type Path2 = web::Path<(String, String)>;

/// The actions whose command follows from their body alone (see [`Action`]).
pub async fn perform<A: Action>(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<A::Body>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(A::command)?;
    act(&state, &caller, &path, version, idempotency, ready(command)).await
}

/// The actions on one record of the ticket that a second path id names (see [`RecordAction`]).
pub async fn perform_on<A: RecordAction>(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path2,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<A::Body>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let (ticket, record) = path.into_inner();
    let record = parse_id(&record, A::RECORD)?;
    let command = body.validate(|b| A::command(record, b))?;
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

/// `POST /tickets/{id}/answer`: answered on the spot (直办), citing the knowledge-base articles
/// used, each of which must be published and in force today.
pub async fn answer(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<<inputs::Answer as Action>::Body>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(inputs::Answer::command)?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        citations_checked(command, state.today()),
    )
    .await
}

/// A direct answer, once the articles it cites are found published and in force on `today`.
pub(crate) fn citations_checked(
    command: Command,
    today: chrono::NaiveDate,
) -> impl FnOnce(&mut DbConnection, &Ticket, &Lifecycle, DateTime<Utc>) -> Result<Command, ApiError>
{
    move |conn, _, _, _| {
        if let Command::Answer { article_ids, .. } = &command
            && !article_ids.is_empty()
        {
            let refused = store::knowledge::not_citable(conn, article_ids, today)?;
            if let Some(first) = refused.first() {
                return Err(ApiError::invalid_field(
                    "article_ids",
                    format!("{first} is not a published article in force"),
                ));
            }
        }
        Ok(command)
    }
}

/// `POST /tickets/{id}/dispatch`: to a primary unit and any assisting units.
pub async fn dispatch<A: Action>(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<A::Body>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(A::command)?;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        units_checked(command),
    )
    .await
}

/// A dispatch (or a recall that dispatches again), once its units are checked to be active
/// units, inside the transaction that decides it.
pub(crate) fn units_checked(
    command: Command,
) -> impl FnOnce(&mut DbConnection, &Ticket, &Lifecycle, DateTime<Utc>) -> Result<Command, ApiError>
{
    move |conn, _, _, _| {
        let units = match &command {
            Command::Dispatch {
                primary_unit_id,
                assisting_unit_ids,
                ..
            } => Some((*primary_unit_id, assisting_unit_ids.as_slice())),
            Command::Recall {
                reassign_to: Some(to),
                ..
            } => Some((to.primary_unit_id, to.assisting_unit_ids.as_slice())),
            _ => None,
        };
        if let Some((primary_unit_id, assisting_unit_ids)) = units {
            let mut errors = ValidationErrors::new();
            check_active(
                &mut errors,
                "primary_unit_id",
                "unit",
                Some(primary_unit_id),
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
    }
}

/// A reply or an opinion (see [`UnitReply`], [`Opinion`]): the evidence it names is
/// checked once the ticket is locked.
pub async fn perform_with_evidence<A: Action>(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<A::Body>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    let command = body.validate(A::command)?;
    let unit = caller.unit_id();
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        evidence_checked(command, unit),
    )
    .await
}

/// A reply or an opinion, once the evidence it names is found to be the replying unit's own,
/// on this ticket and not used yet.
pub(crate) fn evidence_checked(
    command: Command,
    unit: Option<Uuid>,
) -> impl FnOnce(&mut DbConnection, &Ticket, &Lifecycle, DateTime<Utc>) -> Result<Command, ApiError>
{
    move |conn, ticket, _, _| {
        if let Command::Reply { content, .. } | Command::AddOpinion { content } = &command {
            check_attachments(conn, ticket, unit, &content.attachment_ids)?;
        }
        Ok(command)
    }
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
    let prepare = merged_into(target, scope, caller.actor());
    act(&state, &caller, &path, version, idempotency, prepare).await
}

/// A merge once the ticket it goes into is found as the caller may see it; the kept ticket
/// names its duplicate in the same transaction.
pub(crate) fn merged_into(
    target: MergeTarget,
    scope: TicketScope,
    actor: crate::domain::access::Actor,
) -> impl FnOnce(&mut DbConnection, &Ticket, &Lifecycle, DateTime<Utc>) -> Result<Command, ApiError>
{
    move |conn, duplicate, _, now| {
        let found = match &target {
            MergeTarget::Id(id) => store::tickets::get(conn, *id, scope),
            MergeTarget::Number(number) => store::tickets::get_by_number(conn, number, scope),
        };
        let into = match found {
            Ok(ticket) => Some((ticket.id, !ticket.progress.status.is_final())),
            Err(store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        // The kept ticket names its duplicate. Written before the merge is decided, in the
        // same transaction: a merge refused undoes it.
        if let Some((kept, true)) = into.filter(|(kept, _)| *kept != duplicate.id) {
            store::tickets::record_duplicate(conn, kept, duplicate, actor, now)?;
        }
        Ok(Command::Merge { into })
    }
}

/// `POST /tickets/{id}/forward`: a unit hands its assignment to one of its sub-units (二级转办).
pub async fn forward(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
    IfMatch(version): IfMatch,
    key: IdempotencyKey,
    body: ActionBody<ForwardInput>,
) -> Result<Reply, ApiError> {
    let idempotency = key.with_fingerprint(body.fingerprint());
    // The note is checked now; where the unit lies in the tree, once the ticket is locked.
    let (unit_id, unplaced) = body.validate(|input| {
        Command::forward(None, input.note.as_deref()).map(|command| (input.unit_id, command))
    })?;
    let own_unit = caller.actor().unit_id;
    act(
        &state,
        &caller,
        &path,
        version,
        idempotency,
        forwarded_to(unit_id, own_unit, unplaced),
    )
    .await
}

/// A forward (二级转办) to `unit_id`, once that unit is found and placed in the tree against
/// the acting unit, inside the transaction that decides it.
pub(crate) fn forwarded_to(
    unit_id: Uuid,
    own_unit: Option<Uuid>,
    unplaced: Command,
) -> impl FnOnce(&mut DbConnection, &Ticket, &Lifecycle, DateTime<Utc>) -> Result<Command, ApiError>
{
    move |conn, _, _, _| {
        let to = if store::units::is_active(conn, unit_id)? {
            let parents: std::collections::HashMap<Uuid, Option<Uuid>> =
                store::units::parents(conn)?.into_iter().collect();
            let under = own_unit.is_some_and(|own| {
                lies_under(unit_id, own, |id| parents.get(&id).copied().flatten())
            });
            Some((unit_id, under))
        } else {
            None
        };
        Ok(match unplaced {
            Command::Forward { note, .. } => Command::Forward { to, note },
            other => other,
        })
    }
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
    kind: lifecycle::ReplyKind,
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
                    kind: r.kind,
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

pub async fn list_callbacks(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
) -> Result<HttpResponse, ApiError> {
    records(&state, &caller, &path, |c, id| {
        Ok(store::lifecycle::callbacks(c, id)?)
    })
    .await
}

pub async fn list_urges(
    state: web::Data<AppState>,
    caller: Caller,
    path: Path1,
) -> Result<HttpResponse, ApiError> {
    records(&state, &caller, &path, |c, id| {
        Ok(store::lifecycle::urges(c, id)?)
    })
    .await
}

/// Who sees which supervisions across tickets: the hotline office all, a unit its own.
pub fn supervision_scope(caller: &Caller) -> Result<Option<Uuid>, ApiError> {
    match caller.ticket_scope()? {
        TicketScope::All => Ok(None),
        TicketScope::Unit(unit) => Ok(Some(unit)),
        TicketScope::CreatedBy(_) => Err(ApiError::forbidden(
            ProblemCode::Forbidden,
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
