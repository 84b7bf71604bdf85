//! Appeals (申诉): a unit contests a dissatisfied callback or an overdue mark; a supervisor
//! grants or refuses; a granted appeal takes the ticket out of the unit's figures.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{appeals, assignments, attachments, callbacks, replies};
use super::{DbConnection, StoreError, from_db, parse_opt_uuid, parse_text, parse_uuid, to_db};
use crate::domain::assessment::{Appeal, AppealStatus, AppealSubject};
use crate::domain::ticket::{AssignmentRole, AssignmentStatus};

type AppealRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
    Option<String>,
);

fn columns() -> (
    appeals::id,
    appeals::ticket_id,
    appeals::unit_id,
    appeals::subject,
    appeals::reason,
    appeals::status,
    appeals::filed_by,
    appeals::filed_at,
    appeals::decided_by,
    appeals::decided_at,
    appeals::decision_note,
) {
    (
        appeals::id,
        appeals::ticket_id,
        appeals::unit_id,
        appeals::subject,
        appeals::reason,
        appeals::status,
        appeals::filed_by,
        appeals::filed_at,
        appeals::decided_by,
        appeals::decided_at,
        appeals::decision_note,
    )
}

fn with_evidence(conn: &mut DbConnection, rows: Vec<AppealRow>) -> Result<Vec<Appeal>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let evidence: Vec<(Option<String>, String)> = attachments::table
        .filter(attachments::appeal_id.eq_any(&ids))
        .order(attachments::created_at.asc())
        .select((attachments::appeal_id, attachments::id))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(
                id,
                ticket,
                unit,
                subject,
                reason,
                status,
                filed_by,
                filed_at,
                decided_by,
                decided_at,
                note,
            )| {
                let attachment_ids = evidence
                    .iter()
                    .filter(|(appeal, _)| appeal.as_deref() == Some(id.as_str()))
                    .map(|(_, a)| parse_uuid(a))
                    .collect::<Result<_, _>>()?;
                Ok(Appeal {
                    id: parse_uuid(&id)?,
                    ticket_id: parse_uuid(&ticket)?,
                    unit_id: parse_uuid(&unit)?,
                    subject: parse_text(&subject)?,
                    reason,
                    status: parse_text(&status)?,
                    filed_by: parse_opt_uuid(filed_by.as_deref())?,
                    filed_at: from_db(filed_at),
                    decided_by: parse_opt_uuid(decided_by.as_deref())?,
                    decided_at: decided_at.map(from_db),
                    decision_note: note,
                    attachment_ids,
                })
            },
        )
        .collect()
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Appeal, StoreError> {
    let row: AppealRow = appeals::table
        .find(id.to_string())
        .select(columns())
        .get_result(conn)?;
    with_evidence(conn, vec![row])?
        .pop()
        .ok_or(StoreError::NotFound)
}

#[derive(Debug, Default, Clone)]
pub struct AppealFilter {
    pub status: Option<AppealStatus>,
    pub unit_id: Option<Uuid>,
    pub ticket_id: Option<Uuid>,
}

/// Appeals newest first, before the appeal `before` (a page's cursor).
pub fn list(
    conn: &mut DbConnection,
    filter: &AppealFilter,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Appeal>, StoreError> {
    let mut query = appeals::table.select(columns()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(appeals::status.eq(status.as_str()));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(appeals::unit_id.eq(unit.to_string()));
    }
    if let Some(ticket) = filter.ticket_id {
        query = query.filter(appeals::ticket_id.eq(ticket.to_string()));
    }
    if let Some(before) = before {
        query = query.filter(appeals::id.lt(before.to_string()));
    }
    let rows = query.order(appeals::id.desc()).limit(limit).load(conn)?;
    with_evidence(conn, rows)
}

/// Whether the unit has what it would appeal against on this ticket: a dissatisfied callback
/// while it was the primary unit, or a reply due time that passed before it replied.
pub fn has_subject(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    unit_id: Uuid,
    subject: AppealSubject,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (ticket, unit) = (ticket_id.to_string(), unit_id.to_string());
    let found: i64 = match subject {
        AppealSubject::DissatisfiedCallback => callbacks::table
            .filter(callbacks::ticket_id.eq(&ticket))
            .filter(callbacks::unit_id.eq(&unit))
            .filter(callbacks::satisfaction.eq("dissatisfied"))
            .count()
            .get_result(conn)?,
        AppealSubject::Overdue => {
            let late_replies: i64 = replies::table
                .filter(replies::ticket_id.eq(&ticket))
                .filter(replies::unit_id.eq(&unit))
                .filter(replies::kind.eq("reply"))
                .filter(replies::created_at.nullable().gt(replies::due_at))
                .count()
                .get_result(conn)?;
            let past_due: i64 = assignments::table
                .filter(assignments::ticket_id.eq(&ticket))
                .filter(assignments::unit_id.eq(&unit))
                .filter(assignments::role.eq(AssignmentRole::Primary.as_str()))
                .filter(
                    assignments::status
                        .eq_any([
                            AssignmentStatus::Dispatched.as_str(),
                            AssignmentStatus::Signed.as_str(),
                        ])
                        .and(assignments::due_at.lt(to_db(now)))
                        .or(assignments::returned_at
                            .nullable()
                            .gt(assignments::due_at.nullable())),
                )
                .count()
                .get_result(conn)?;
            late_replies + past_due
        }
    };
    Ok(found > 0)
}

/// Files an appeal with its evidence; `Duplicate` when the unit appealed this already.
pub fn insert(conn: &mut DbConnection, appeal: &Appeal) -> Result<(), StoreError> {
    diesel::insert_into(appeals::table)
        .values((
            appeals::id.eq(appeal.id.to_string()),
            appeals::ticket_id.eq(appeal.ticket_id.to_string()),
            appeals::unit_id.eq(appeal.unit_id.to_string()),
            appeals::subject.eq(appeal.subject.as_str()),
            appeals::reason.eq(&appeal.reason),
            appeals::status.eq(appeal.status.as_str()),
            appeals::filed_by.eq(appeal.filed_by.map(|u| u.to_string())),
            appeals::filed_at.eq(to_db(appeal.filed_at)),
        ))
        .execute(conn)?;
    if !appeal.attachment_ids.is_empty() {
        let ids: Vec<String> = appeal.attachment_ids.iter().map(Uuid::to_string).collect();
        let linked = diesel::update(
            attachments::table
                .filter(attachments::id.eq_any(&ids))
                .filter(attachments::ticket_id.eq(appeal.ticket_id.to_string()))
                .filter(attachments::unit_id.eq(appeal.unit_id.to_string()))
                .filter(attachments::reply_id.is_null())
                .filter(attachments::appeal_id.is_null()),
        )
        .set(attachments::appeal_id.eq(appeal.id.to_string()))
        .execute(conn)?;
        if linked != ids.len() {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

/// Decides a pending appeal; `false` when it was decided already.
pub fn decide(
    conn: &mut DbConnection,
    id: Uuid,
    status: AppealStatus,
    by: Uuid,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let updated = diesel::update(
        appeals::table
            .find(id.to_string())
            .filter(appeals::status.eq(AppealStatus::Pending.as_str())),
    )
    .set((
        appeals::status.eq(status.as_str()),
        appeals::decided_by.eq(Some(by.to_string())),
        appeals::decided_at.eq(Some(to_db(now))),
        appeals::decision_note.eq(note),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}
