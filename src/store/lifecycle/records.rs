//! The records a change carries beside the timeline (an urge, a callback, a reply or an
//! opinion with its evidence), as rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::access::Actor;
use crate::domain::lifecycle::{Change, ContactRecord, Decision, ReplyKind, ReplyResult, UrgeKind};
use crate::store::schema::{attachments, callbacks, replies, urges};
use crate::store::sql::{At, Id, Written};
use crate::store::{DbConnection, StoreError};

#[derive(Insertable)]
#[diesel(table_name = urges, treat_none_as_null = true)]
pub struct UrgeInsert {
    id: Id,
    ticket_id: Id,
    assignment_id: Id,
    unit_id: Id,
    kind: UrgeKind,
    note: Option<String>,
    created_by: Option<Id>,
    created_at: At,
    rung: Option<&'static str>,
    timer: Option<&'static str>,
}

#[derive(Insertable)]
#[diesel(table_name = callbacks, treat_none_as_null = true)]
pub struct CallbackInsert {
    id: Id,
    ticket_id: Id,
    attempt: i32,
    reached: bool,
    satisfaction: Option<&'static str>,
    resolved: Option<bool>,
    comment: Option<String>,
    created_by: Option<Id>,
    created_at: At,
    unit_id: Option<Id>,
}

#[derive(Insertable)]
#[diesel(table_name = replies, treat_none_as_null = true)]
pub struct ReplyInsert {
    id: Id,
    ticket_id: Id,
    assignment_id: Id,
    unit_id: Id,
    kind: ReplyKind,
    result: Option<&'static str>,
    body: String,
    contacted_at: Option<At>,
    contact_method: Option<&'static str>,
    contact_outcome: Option<String>,
    no_contact_reason: Option<String>,
    created_by: Option<Id>,
    created_at: At,
    /// The due time in force when a primary unit replied, for the on-time rate.
    due_at: Option<At>,
}

/// A row a change carries beside the timeline.
pub enum Record {
    Urge(UrgeInsert),
    Callback(CallbackInsert),
    /// A reply or an opinion, with the evidence to link to it.
    Reply(ReplyInsert, Vec<Uuid>),
    /// The knowledge-base articles a direct answer used.
    Citations {
        article_ids: Vec<Uuid>,
        by: Uuid,
        at: DateTime<Utc>,
    },
}

/// The row a change carries beside the timeline, if any: an urge, a callback, or the text of a
/// reply or an opinion.
pub fn record(
    ticket_id: Uuid,
    change: &Change,
    decision: &Decision,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Option<Record>, StoreError> {
    let by = actor.user_id.map(Id);
    Ok(match change {
        Change::Answered { article_ids, .. } if !article_ids.is_empty() => {
            let by = actor
                .user_id
                .ok_or_else(|| StoreError::corrupt("articles are cited by a user"))?;
            Some(Record::Citations {
                article_ids: article_ids.clone(),
                by,
                at: now,
            })
        }
        Change::Urged {
            urge_id,
            assignment_id,
            unit_id,
            kind,
            note,
            rung,
            timer,
        } => Some(Record::Urge(UrgeInsert {
            id: Id(*urge_id),
            ticket_id: Id(ticket_id),
            assignment_id: Id(*assignment_id),
            unit_id: Id(*unit_id),
            kind: *kind,
            note: note.clone(),
            created_by: by,
            created_at: At(now),
            rung: rung.written(),
            timer: timer.written(),
        })),
        Change::CallbackRecorded {
            callback_id,
            attempt,
            reached,
            satisfaction,
            resolved,
            comment,
        } => Some(Record::Callback(CallbackInsert {
            id: Id(*callback_id),
            ticket_id: Id(ticket_id),
            attempt: *attempt,
            reached: *reached,
            satisfaction: satisfaction.written(),
            resolved: *resolved,
            comment: comment.clone(),
            created_by: by,
            created_at: At(now),
            unit_id: decision.next.primary_unit_id().map(Id),
        })),
        Change::Replied {
            assignment_id,
            reply_id,
            result,
            ..
        } => Some(reply(
            ticket_id,
            *assignment_id,
            *reply_id,
            Some(*result),
            decision,
            actor,
            now,
        )?),
        Change::OpinionAdded {
            assignment_id,
            reply_id,
        } => Some(reply(
            ticket_id,
            *assignment_id,
            *reply_id,
            None,
            decision,
            actor,
            now,
        )?),
        _ => None,
    })
}

#[allow(clippy::too_many_arguments)]
fn reply(
    ticket_id: Uuid,
    assignment_id: Uuid,
    reply_id: Uuid,
    result: Option<ReplyResult>,
    decision: &Decision,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Record, StoreError> {
    let (_, content) = decision
        .content
        .as_ref()
        .filter(|(id, _)| *id == reply_id)
        .ok_or_else(|| StoreError::corrupt("a reply without its text"))?;
    let assignment = decision
        .next
        .assignments
        .iter()
        .find(|a| a.id == assignment_id)
        .ok_or_else(|| StoreError::corrupt("a reply to an unknown assignment"))?;
    let (contacted_at, method, outcome, no_contact) = match &content.contact {
        Some(ContactRecord::Reached {
            at,
            method,
            outcome,
        }) => (
            Some(At(*at)),
            Some(method.written()),
            Some(outcome.clone()),
            None,
        ),
        Some(ContactRecord::Impossible { reason }) => (None, None, None, Some(reason.clone())),
        None => (None, None, None, None),
    };
    Ok(Record::Reply(
        ReplyInsert {
            id: Id(reply_id),
            ticket_id: Id(ticket_id),
            assignment_id: Id(assignment_id),
            unit_id: Id(assignment.unit_id),
            kind: ReplyKind::of(result),
            result: result.written(),
            body: content.text.clone(),
            contacted_at,
            contact_method: method,
            contact_outcome: outcome,
            no_contact_reason: no_contact,
            created_by: actor.user_id.map(Id),
            created_at: At(now),
            due_at: result.is_some().then(|| At(assignment.due_at())),
        },
        content.attachment_ids.clone(),
    ))
}

/// Writes a change's record, linking a reply's evidence to it.
pub(super) fn write_record(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    record: Record,
) -> Result<(), StoreError> {
    match record {
        Record::Urge(row) => {
            diesel::insert_into(urges::table)
                .values(row)
                .execute(conn)?;
        }
        Record::Callback(row) => {
            diesel::insert_into(callbacks::table)
                .values(row)
                .execute(conn)?;
        }
        Record::Citations {
            article_ids,
            by,
            at,
        } => crate::store::knowledge::cite(conn, ticket_id, &article_ids, by, at)?,
        Record::Reply(row, attachment_ids) => {
            let reply_id = row.id;
            diesel::insert_into(replies::table)
                .values(row)
                .execute(conn)?;
            if !attachment_ids.is_empty() {
                let ids: Vec<Id> = attachment_ids.iter().copied().map(Id).collect();
                let wanted = ids.len();
                let linked = diesel::update(
                    attachments::table
                        .filter(attachments::id.eq_any(ids))
                        .filter(attachments::ticket_id.eq(Id(ticket_id)))
                        .filter(attachments::reply_id.is_null()),
                )
                .set(attachments::reply_id.eq(reply_id))
                .execute(conn)?;
                if linked != wanted {
                    return Err(StoreError::corrupt(
                        "attachments were checked but could not be linked",
                    ));
                }
            }
        }
    }
    Ok(())
}
