//! Appeals (申诉): a unit contests a dissatisfied callback or an overdue mark; a supervisor
//! grants or refuses; a granted appeal takes the ticket out of the unit's figures.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{appeals, assignments, attachments, callbacks, replies};
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::assessment::{Appeal, AppealStatus, AppealSubject};
use crate::domain::lifecycle::{ReplyKind, Satisfaction};
use crate::domain::ticket::{AssignmentRole, AssignmentStatus};

/// An appeal as its row holds it; its evidence lives on the attachments.
#[derive(Queryable, Selectable)]
#[diesel(table_name = appeals)]
struct AppealRow {
    id: Uuid,
    ticket_id: Uuid,
    unit_id: Uuid,
    subject: AppealSubject,
    reason: String,
    status: AppealStatus,
    filed_by: Option<Uuid>,
    filed_at: DateTime<Utc>,
    decided_by: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    decision_note: Option<String>,
}

impl AppealRow {
    fn into_appeal(self, attachment_ids: Vec<Uuid>) -> Appeal {
        Appeal {
            id: self.id,
            ticket_id: self.ticket_id,
            unit_id: self.unit_id,
            subject: self.subject,
            reason: self.reason,
            status: self.status,
            filed_by: self.filed_by,
            filed_at: self.filed_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            decision_note: self.decision_note,
            attachment_ids,
        }
    }
}

fn with_evidence(conn: &mut DbConnection, rows: Vec<AppealRow>) -> Result<Vec<Appeal>, StoreError> {
    let ids: Vec<Id> = rows.iter().map(|r| Id(r.id)).collect();
    let evidence: Vec<(Option<Uuid>, Uuid)> = attachments::table
        .filter(attachments::appeal_id.eq_any(ids))
        .order(attachments::created_at.asc())
        .select((attachments::appeal_id, attachments::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let attachment_ids = evidence
                .iter()
                .filter(|(appeal, _)| *appeal == Some(row.id))
                .map(|(_, attachment)| *attachment)
                .collect();
            row.into_appeal(attachment_ids)
        })
        .collect())
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Appeal, StoreError> {
    let row: AppealRow = appeals::table
        .find(Id(id))
        .select(AppealRow::as_select())
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
    let mut query = appeals::table.select(AppealRow::as_select()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(appeals::status.eq(status));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(appeals::unit_id.eq(Id(unit)));
    }
    if let Some(ticket) = filter.ticket_id {
        query = query.filter(appeals::ticket_id.eq(Id(ticket)));
    }
    if let Some(before) = before {
        query = query.filter(appeals::id.lt(Id(before)));
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
    let (ticket, unit) = (Id(ticket_id), Id(unit_id));
    let found: i64 = match subject {
        AppealSubject::DissatisfiedCallback => callbacks::table
            .filter(callbacks::ticket_id.eq(ticket))
            .filter(callbacks::unit_id.eq(unit))
            .filter(callbacks::satisfaction.eq(Some(Satisfaction::Dissatisfied)))
            .count()
            .get_result(conn)?,
        AppealSubject::Overdue => {
            let late_replies: i64 = replies::table
                .filter(replies::ticket_id.eq(ticket))
                .filter(replies::unit_id.eq(unit))
                .filter(replies::kind.eq(ReplyKind::Reply))
                .filter(replies::created_at.nullable().gt(replies::due_at))
                .count()
                .get_result(conn)?;
            let past_due: i64 = assignments::table
                .filter(assignments::ticket_id.eq(ticket))
                .filter(assignments::unit_id.eq(unit))
                .filter(assignments::role.eq(AssignmentRole::Primary))
                .filter(
                    assignments::status
                        .eq_any([AssignmentStatus::Dispatched, AssignmentStatus::Signed])
                        .and(assignments::due_at.lt(At(now)))
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
            appeals::id.eq(Id(appeal.id)),
            appeals::ticket_id.eq(Id(appeal.ticket_id)),
            appeals::unit_id.eq(Id(appeal.unit_id)),
            appeals::subject.eq(appeal.subject),
            appeals::reason.eq(&appeal.reason),
            appeals::status.eq(appeal.status),
            appeals::filed_by.eq(appeal.filed_by.map(Id)),
            appeals::filed_at.eq(At(appeal.filed_at)),
        ))
        .execute(conn)?;
    if !appeal.attachment_ids.is_empty() {
        let ids: Vec<Id> = appeal.attachment_ids.iter().copied().map(Id).collect();
        let wanted = ids.len();
        let linked = diesel::update(
            attachments::table
                .filter(attachments::id.eq_any(ids))
                .filter(attachments::ticket_id.eq(Id(appeal.ticket_id)))
                .filter(attachments::unit_id.eq(Id(appeal.unit_id)))
                .filter(attachments::reply_id.is_null())
                .filter(attachments::appeal_id.is_null()),
        )
        .set(attachments::appeal_id.eq(Id(appeal.id)))
        .execute(conn)?;
        if linked != wanted {
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
            .find(Id(id))
            .filter(appeals::status.eq(AppealStatus::Pending)),
    )
    .set((
        appeals::status.eq(status),
        appeals::decided_by.eq(Some(Id(by))),
        appeals::decided_at.eq(Some(At(now))),
        appeals::decision_note.eq(note),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}
