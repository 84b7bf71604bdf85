//! The assessment the hotline office keeps: rules by the month they take effect, bonuses
//! (附加分), typical cases (典型案例), and appeals (申诉) with their decisions.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, JsonBody, PageParams, Query, Reply, found, parse_id, read, write};
use crate::api::Caller;
use crate::domain::access::{Actor, Role, TicketScope};
use crate::domain::assessment::{Appeal, AppealInput, AppealStatus, AppealSubject, Rules};
use crate::domain::audit::AuditAction;
use crate::domain::notify::{Audience, Notice};
use crate::domain::period::Month;
use crate::domain::problem::ProblemCode;
use crate::domain::ticket::EventKind;
use crate::domain::validation::{ValidationErrors, optional_text, required_text};
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::events::{self, NewEvent};
use crate::store::reports::{Bonus, RulesVersion};
use crate::store::{self, DbConnection, StoreError};

use super::month_in;

#[derive(Serialize)]
struct RulesView {
    /// `null` for the built-in rules.
    effective_from: Option<Month>,
    created_by: Option<Uuid>,
    created_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    rules: Rules,
}

impl From<RulesVersion> for RulesView {
    fn from(v: RulesVersion) -> Self {
        Self {
            effective_from: v.effective_from,
            created_by: v.created_by,
            created_at: v.created_at,
            rules: v.rules,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthParam {
    month: Option<String>,
}

fn month_or_now(state: &AppState, raw: Option<&str>) -> Result<Month, ApiError> {
    match raw {
        Some(raw) => Month::parse(raw).map_err(|m| ApiError::invalid_field("month", m)),
        None => Ok(Month::of(state.now(), state.numbering.timezone)),
    }
}

/// `GET /api/v1/assessment/rules?month=`: the rules in force for a month (this one by default).
pub async fn get_rules(
    state: web::Data<AppState>,
    Query(params): Query<MonthParam>,
) -> Result<HttpResponse, ApiError> {
    let month = month_or_now(&state, params.month.as_deref())?;
    let version = read(&state, move |c| Ok(store::reports::rules_for(c, month)?)).await?;
    Ok(HttpResponse::Ok().json(RulesView::from(version)))
}

/// `GET /api/v1/assessment/rules/versions`: every stored version, oldest first.
pub async fn rule_versions(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let versions = read(&state, |c| Ok(store::reports::rules_versions(c)?)).await?;
    let items: Vec<RulesView> = versions.into_iter().map(RulesView::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// `PUT /api/v1/assessment/rules/{month}`: the rules in force from that month on.
pub async fn put_rules(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<Rules>,
) -> Result<Reply, ApiError> {
    let month = month_in(&path)?;
    let rules = body.validate(|input| input.check())?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        unknown_units(conn, &rules)?;
        let stored = store::reports::put_rules(conn, month, &rules, by, now)?;
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::AssessmentRulesSet, now)
                .with(serde_json::json!({ "effective_from": month })),
        )?;
        Reply::ok(&RulesView::from(stored))
    })
    .await
}

/// Refuses rules that leave ungraded a unit no code names.
fn unknown_units(conn: &mut DbConnection, rules: &Rules) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::new();
    for (g, group) in rules.groups.iter().enumerate() {
        for (i, code) in group.ungraded_units.iter().enumerate() {
            if store::units::find_by_code(conn, code.trim())?.is_none() {
                errors.add(
                    format!("groups[{g}].ungraded_units[{i}]"),
                    format!("no unit has the code `{}`", code.trim()),
                );
            }
        }
    }
    Ok(errors.finish()?)
}

#[derive(Serialize)]
struct BonusView {
    month: Month,
    unit_id: Uuid,
    points: f64,
    reason: String,
    set_by: Option<Uuid>,
    set_at: DateTime<Utc>,
}

fn bonus_view(month: Month, b: Bonus) -> BonusView {
    BonusView {
        month,
        unit_id: b.unit_id,
        points: b.points,
        reason: b.reason,
        set_by: b.set_by,
        set_at: b.set_at,
    }
}

/// `GET /api/v1/assessment/bonuses?month=`.
pub async fn list_bonuses(
    state: web::Data<AppState>,
    Query(params): Query<MonthParam>,
) -> Result<HttpResponse, ApiError> {
    let month = month_or_now(&state, params.month.as_deref())?;
    let bonuses = read(&state, move |c| Ok(store::reports::bonuses(c, month)?)).await?;
    let items: Vec<BonusView> = bonuses.into_iter().map(|b| bonus_view(month, b)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BonusInput {
    points: f64,
    reason: String,
}

/// `PUT /api/v1/assessment/bonuses/{month}/{unit_id}`: a unit's bonus (附加分) for a month, up
/// to what its group's rules allow.
pub async fn put_bonus(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: JsonBody<BonusInput>,
) -> Result<Reply, ApiError> {
    let (month, unit) = path.into_inner();
    let month = month_in(&month)?;
    let unit_id = parse_id(&unit, "unit")?;
    let (points, reason) = body.validate(|input| {
        let mut errors = ValidationErrors::new();
        let reason = errors.check("reason", required_text(&input.reason, 500));
        if !input.points.is_finite() || input.points < 0.0 {
            errors.add("points", "must be a number of at least 0");
        }
        errors
            .finish()
            .map(|()| (input.points, reason.unwrap_or_default()))
    })?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        let unit = found(store::units::get(conn, unit_id), "unit", unit_id)?;
        let rules = store::reports::rules_for(conn, month)?.rules;
        let group = rules.group_of(unit.kind).ok_or_else(|| {
            ApiError::conflict(
                ProblemCode::NotAssessed,
                format!(
                    "units of kind `{}` are in no assessment group in {month}",
                    unit.kind
                ),
            )
        })?;
        if points > group.bonus_max {
            return Err(ApiError::invalid_field(
                "points",
                format!(
                    "must be at most {} in the group {}",
                    group.bonus_max, group.name
                ),
            ));
        }
        let bonus = Bonus {
            unit_id,
            points,
            reason,
            set_by: Some(by),
            set_at: now,
        };
        store::reports::set_bonus(conn, month, &bonus)?;
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::BonusSet, now)
                .about(unit_id)
                .with(serde_json::json!({ "month": month, "points": bonus.points })),
        )?;
        Reply::ok(&bonus_view(month, bonus))
    })
    .await
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Polarity {
    Positive,
    Negative,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypicalInput {
    polarity: Polarity,
    note: String,
}

/// `PUT /api/v1/tickets/{id}/typical`: holds a ticket up as a typical case, for better or
/// worse; the bulletin of the month it is flagged in lists it.
pub async fn flag_typical(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<TypicalInput>,
) -> Result<Reply, ApiError> {
    let ticket_id = parse_id(&path, "ticket")?;
    let (note, polarity) = body.validate(|input| {
        required_text(&input.note, 2_000)
            .map(|note| (note, input.polarity))
            .map_err(|m| ValidationErrors::single("note", m))
    })?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        found(
            store::tickets::get(conn, ticket_id, TicketScope::All),
            "ticket",
            ticket_id,
        )?;
        let positive = matches!(polarity, Polarity::Positive);
        store::reports::flag_typical(conn, ticket_id, positive, &note, by, now)?;
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::TypicalCaseFlagged, now)
                .on_ticket(ticket_id)
                .with(serde_json::json!({ "positive": positive })),
        )?;
        Reply::ok(&serde_json::json!({
            "ticket_id": ticket_id,
            "polarity": if positive { "positive" } else { "negative" },
            "note": note,
            "flagged_by": by,
            "flagged_at": now,
        }))
    })
    .await
}

/// `DELETE /api/v1/tickets/{id}/typical`.
pub async fn unflag_typical(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = parse_id(&path, "ticket")?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        if !store::reports::unflag_typical(conn, ticket_id)? {
            return Err(ApiError::not_found(format!(
                "ticket {ticket_id} is not a typical case"
            )));
        }
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::TypicalCaseUnflagged, now).on_ticket(ticket_id),
        )?;
        Reply::ok(&serde_json::json!({}))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Records an appeal's step on the ticket's timeline and tells whom it concerns.
fn note_on_timeline(
    conn: &mut DbConnection,
    appeal: &Appeal,
    kind: EventKind,
    actor: Actor,
    audience: Audience,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let ticket = store::tickets::get(conn, appeal.ticket_id, TicketScope::All)?;
    let details = serde_json::json!({
        "appeal_id": appeal.id,
        "unit_id": appeal.unit_id,
        "subject": appeal.subject,
        "status": appeal.status,
    });
    events::append(
        conn,
        &NewEvent {
            ticket_id: appeal.ticket_id,
            ticket_version: ticket.version,
            kind,
            actor,
            assignment_id: None,
            details: &details,
            at: now,
        },
    )?;
    store::notifications::insert(
        conn,
        appeal.ticket_id,
        &[Notice { audience, kind }],
        &details,
        now,
    )
}

/// `POST /api/v1/tickets/{id}/appeals`: a unit appeals a dissatisfied callback or an overdue
/// mark on this ticket, with its reason and evidence.
pub async fn file_appeal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AppealInput>,
) -> Result<Reply, ApiError> {
    let unit_id = caller.unit_id().ok_or_else(|| {
        ApiError::forbidden(ProblemCode::Forbidden, "this account belongs to no unit")
    })?;
    let ticket_id = parse_id(&path, "ticket")?;
    let (subject, reason, attachment_ids) = body.validate(|input| input.parse())?;
    let actor = caller.actor();
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        found(
            store::tickets::get(conn, ticket_id, TicketScope::Unit(unit_id)),
            "ticket",
            ticket_id,
        )?;
        if !store::appeals::has_subject(conn, ticket_id, unit_id, subject, now)? {
            let what = match subject {
                AppealSubject::DissatisfiedCallback => {
                    "no callback found the citizen dissatisfied with this unit's handling"
                }
                AppealSubject::Overdue => "this unit's reply was never overdue on this ticket",
            };
            return Err(ApiError::conflict(ProblemCode::NothingToAppeal, what));
        }
        let appeal = Appeal {
            id: Uuid::now_v7(),
            ticket_id,
            unit_id,
            subject,
            reason,
            status: AppealStatus::Pending,
            filed_by: Some(by),
            filed_at: now,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            attachment_ids,
        };
        match store::appeals::insert(conn, &appeal) {
            Err(e) if e.is_duplicate_in("appeals") => {
                return Err(ApiError::conflict(
                    ProblemCode::AlreadyAppealed,
                    "this unit has appealed this already",
                ));
            }
            Err(StoreError::NotFound) => {
                return Err(ApiError::invalid_field(
                    "attachment_ids",
                    "must be attachments this unit uploaded to the ticket and has not used yet",
                ));
            }
            other => other?,
        }
        note_on_timeline(
            conn,
            &appeal,
            EventKind::AppealFiled,
            actor,
            Audience::Office,
            now,
        )?;
        Reply::created(&appeal, format!("/api/v1/appeals/{}", appeal.id))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealParams {
    status: Option<AppealStatus>,
    unit_id: Option<Uuid>,
    ticket_id: Option<Uuid>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The unit whose appeals a caller sees: a unit handler its own, the office any.
fn appeal_scope(caller: &Caller) -> Result<Option<Uuid>, ApiError> {
    match caller.role() {
        Role::UnitHandler => caller.unit_id().map(Some).ok_or_else(|| {
            ApiError::forbidden(ProblemCode::Forbidden, "this account belongs to no unit")
        }),
        _ => Ok(None),
    }
}

/// `GET /api/v1/appeals`: newest first.
pub async fn list_appeals(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<AppealParams>,
) -> Result<HttpResponse, ApiError> {
    let own = appeal_scope(&caller)?;
    if let (Some(own), Some(asked)) = (own, params.unit_id)
        && own != asked
    {
        return Err(ApiError::forbidden(
            ProblemCode::Forbidden,
            "a unit reads its own appeals only",
        ));
    }
    let paging = PageParams::new(params.limit, params.cursor);
    let before: Option<Uuid> = paging.after()?;
    let fetch = i64::from(paging.limit()?) + 1;
    let filter = store::appeals::AppealFilter {
        status: params.status,
        unit_id: own.or(params.unit_id),
        ticket_id: params.ticket_id,
    };
    let rows = read(&state, move |c| {
        Ok(store::appeals::list(c, &filter, before, fetch)?)
    })
    .await?;
    let page = paging.page(rows, |a| a.id, |a| a)?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /api/v1/appeals/{id}`.
pub async fn get_appeal(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let own = appeal_scope(&caller)?;
    let id = parse_id(&path, "appeal")?;
    let appeal = read(&state, move |c| {
        found(store::appeals::get(c, id), "appeal", id)
    })
    .await?;
    if own.is_some_and(|unit| unit != appeal.unit_id) {
        return Err(ApiError::not_found(format!("no appeal {id}")));
    }
    Ok(HttpResponse::Ok().json(appeal))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    #[serde(default)]
    note: Option<String>,
}

async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: super::ActionBody<DecisionInput>,
    status: AppealStatus,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path, "appeal")?;
    let note = body.validate(|input| {
        optional_text(input.note.as_deref(), 2_000).map_err(|m| ValidationErrors::single("note", m))
    })?;
    let actor = caller.actor();
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        found(store::appeals::get(conn, id), "appeal", id)?;
        if !store::appeals::decide(conn, id, status, by, note.as_deref(), now)? {
            return Err(ApiError::conflict(
                ProblemCode::AppealDecided,
                "the appeal was decided already",
            ));
        }
        let appeal = store::appeals::get(conn, id)?;
        note_on_timeline(
            conn,
            &appeal,
            EventKind::AppealDecided,
            actor,
            Audience::Unit(appeal.unit_id),
            now,
        )?;
        Reply::ok(&appeal)
    })
    .await
}

/// `POST /api/v1/appeals/{id}/grant`: the ticket leaves the unit's figures (核减).
pub async fn grant(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: super::ActionBody<DecisionInput>,
) -> Result<Reply, ApiError> {
    decide(state, caller, path, body, AppealStatus::Granted).await
}

/// `POST /api/v1/appeals/{id}/refuse`.
pub async fn refuse(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: super::ActionBody<DecisionInput>,
) -> Result<Reply, ApiError> {
    decide(state, caller, path, body, AppealStatus::Refused).await
}
