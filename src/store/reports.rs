//! What bulletins are made of beyond the figures: registrations counted by what they are broken
//! down by, the assessment rules in force, bonuses, typical cases, and published bulletins.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{
    appeals, assessment_bonuses, assessment_rules, callbacks, published_bulletins, ticket_events,
    tickets, typical_cases, units,
};
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::assessment::AppealStatus;
use crate::domain::assessment::Rules;
use crate::domain::figures::{Exemption, TypicalCase, VolumeCount};
use crate::domain::lifecycle::Satisfaction;
use crate::domain::period::{Month, Period};
use crate::domain::ticket::{EventKind, TicketStatus, TicketType};

type VolumeRow = (
    String,
    TicketType,
    Option<Uuid>,
    Option<Uuid>,
    TicketStatus,
    i32,
    i64,
);

/// The tickets registered in `period`, counted by channel, type, category, place, status and
/// whether they were ever dispatched.
pub fn volume(conn: &mut DbConnection, period: &Period) -> Result<Vec<VolumeCount>, StoreError> {
    let rows: Vec<VolumeRow> = tickets::table
        .filter(tickets::created_at.ge(At(period.from)))
        .filter(tickets::created_at.lt(At(period.to)))
        .group_by((
            tickets::channel_code,
            tickets::ticket_type,
            tickets::category_id,
            tickets::area_unit_id,
            tickets::status,
            tickets::current_round,
        ))
        .select((
            tickets::channel_code,
            tickets::ticket_type,
            tickets::category_id,
            tickets::area_unit_id,
            tickets::status,
            tickets::current_round,
            count_star(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(channel_code, ticket_type, category_id, area_unit_id, status, round, count)| {
                VolumeCount {
                    channel_code,
                    ticket_type,
                    category_id,
                    area_unit_id,
                    status,
                    dispatched: round > 0,
                    count: count as u64,
                }
            },
        )
        .collect())
}

/// The callbacks that reached the citizen on the tickets registered in `period` on the channels
/// `codes`: each one's channel and what the citizen said. Read from the channel's tickets (an
/// index holds them by channel and time), so that a small channel costs little in a big year.
pub fn channel_callbacks(
    conn: &mut DbConnection,
    period: &Period,
    codes: &[String],
) -> Result<Vec<(String, Option<Satisfaction>)>, StoreError> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tickets::table
        .inner_join(callbacks::table)
        .filter(tickets::channel_code.eq_any(codes))
        .filter(tickets::created_at.ge(At(period.from)))
        .filter(tickets::created_at.lt(At(period.to)))
        .filter(callbacks::reached.eq(true))
        .select((tickets::channel_code, callbacks::satisfaction))
        .load(conn)?)
}

/// When each ticket of `period` was registered.
pub fn registered_at(
    conn: &mut DbConnection,
    period: &Period,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    Ok(tickets::table
        .filter(tickets::created_at.ge(At(period.from)))
        .filter(tickets::created_at.lt(At(period.to)))
        .select(tickets::created_at)
        .load(conn)?)
}

/// How many tickets closed in `period`.
pub fn closed_count(conn: &mut DbConnection, period: &Period) -> Result<u64, StoreError> {
    let count: i64 = tickets::table
        .filter(tickets::status.eq(TicketStatus::Closed))
        .filter(tickets::closed_at.ge(At(period.from)))
        .filter(tickets::closed_at.lt(At(period.to)))
        .count()
        .get_result(conn)?;
    Ok(count as u64)
}

/// How many times units handed their work on to their sub-units (二次转办) in `period`.
pub fn forwards(conn: &mut DbConnection, period: &Period) -> Result<u64, StoreError> {
    let count: i64 = ticket_events::table
        .filter(ticket_events::kind.eq(EventKind::Forwarded))
        .filter(ticket_events::created_at.ge(At(period.from)))
        .filter(ticket_events::created_at.lt(At(period.to)))
        .count()
        .get_result(conn)?;
    Ok(count as u64)
}

/// A version of the assessment rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesVersion {
    /// `None` for the built-in rules, in force until the first version is stored.
    pub effective_from: Option<Month>,
    pub rules: Rules,
    pub created_by: Option<Uuid>,
    pub created_at: Option<DateTime<Utc>>,
}

fn rules_version(
    (effective_from, body, created_by, created_at): (Month, String, Option<Uuid>, DateTime<Utc>),
) -> Result<RulesVersion, StoreError> {
    Ok(RulesVersion {
        effective_from: Some(effective_from),
        rules: serde_json::from_str(&body).map_err(StoreError::corrupt)?,
        created_by,
        created_at: Some(created_at),
    })
}

/// The rules in force for `month`: the latest version taking effect in or before it.
pub fn rules_for(conn: &mut DbConnection, month: Month) -> Result<RulesVersion, StoreError> {
    let row = assessment_rules::table
        .filter(assessment_rules::effective_from.le(month))
        .order(assessment_rules::effective_from.desc())
        .select((
            assessment_rules::effective_from,
            assessment_rules::body,
            assessment_rules::created_by,
            assessment_rules::created_at,
        ))
        .limit(1)
        .get_result(conn)
        .optional()?;
    match row {
        Some(row) => rules_version(row),
        None => Ok(RulesVersion {
            effective_from: None,
            rules: Rules::default(),
            created_by: None,
            created_at: None,
        }),
    }
}

/// Every stored version, oldest first.
pub fn rules_versions(conn: &mut DbConnection) -> Result<Vec<RulesVersion>, StoreError> {
    assessment_rules::table
        .order(assessment_rules::effective_from.asc())
        .select((
            assessment_rules::effective_from,
            assessment_rules::body,
            assessment_rules::created_by,
            assessment_rules::created_at,
        ))
        .load(conn)?
        .into_iter()
        .map(rules_version)
        .collect()
}

/// Stores the rules in force from `month` on, replacing a version of that same month.
pub fn put_rules(
    conn: &mut DbConnection,
    month: Month,
    rules: &Rules,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<RulesVersion, StoreError> {
    let body = serde_json::to_string(rules).map_err(StoreError::corrupt)?;
    diesel::delete(assessment_rules::table.filter(assessment_rules::effective_from.eq(month)))
        .execute(conn)?;
    diesel::insert_into(assessment_rules::table)
        .values((
            assessment_rules::effective_from.eq(month),
            assessment_rules::body.eq(body),
            assessment_rules::created_by.eq(Some(Id(by))),
            assessment_rules::created_at.eq(At(now)),
        ))
        .execute(conn)?;
    Ok(RulesVersion {
        effective_from: Some(month),
        rules: rules.clone(),
        created_by: Some(by),
        created_at: Some(now),
    })
}

/// A unit's bonus (附加分) for a month.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = assessment_bonuses)]
pub struct Bonus {
    pub unit_id: Uuid,
    pub points: f64,
    pub reason: String,
    pub set_by: Option<Uuid>,
    pub set_at: DateTime<Utc>,
}

pub fn bonuses(conn: &mut DbConnection, month: Month) -> Result<Vec<Bonus>, StoreError> {
    Ok(assessment_bonuses::table
        .filter(assessment_bonuses::month.eq(month))
        .order(assessment_bonuses::unit_id.asc())
        .select(Bonus::as_select())
        .load(conn)?)
}

pub fn bonus_points(
    conn: &mut DbConnection,
    month: Month,
) -> Result<HashMap<Uuid, f64>, StoreError> {
    Ok(bonuses(conn, month)?
        .into_iter()
        .map(|b| (b.unit_id, b.points))
        .collect())
}

/// Sets (or replaces) a unit's bonus for a month.
pub fn set_bonus(conn: &mut DbConnection, month: Month, bonus: &Bonus) -> Result<(), StoreError> {
    diesel::delete(
        assessment_bonuses::table
            .filter(assessment_bonuses::month.eq(month))
            .filter(assessment_bonuses::unit_id.eq(Id(bonus.unit_id))),
    )
    .execute(conn)?;
    diesel::insert_into(assessment_bonuses::table)
        .values((
            assessment_bonuses::month.eq(month),
            assessment_bonuses::unit_id.eq(Id(bonus.unit_id)),
            assessment_bonuses::points.eq(bonus.points),
            assessment_bonuses::reason.eq(&bonus.reason),
            assessment_bonuses::set_by.eq(bonus.set_by.map(Id)),
            assessment_bonuses::set_at.eq(At(bonus.set_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Flags a ticket as a typical case, or changes its flag.
pub fn flag_typical(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    positive: bool,
    note: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    unflag_typical(conn, ticket_id)?;
    diesel::insert_into(typical_cases::table)
        .values((
            typical_cases::ticket_id.eq(Id(ticket_id)),
            typical_cases::polarity.eq(if positive { "positive" } else { "negative" }),
            typical_cases::note.eq(note),
            typical_cases::flagged_by.eq(Some(Id(by))),
            typical_cases::flagged_at.eq(At(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// `true` when the ticket was flagged.
pub fn unflag_typical(conn: &mut DbConnection, ticket_id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(typical_cases::table.find(Id(ticket_id))).execute(conn)? > 0)
}

/// The cases flagged in `period`, oldest first.
pub fn typical_cases(
    conn: &mut DbConnection,
    period: &Period,
) -> Result<Vec<TypicalCase>, StoreError> {
    let rows: Vec<(Uuid, String, String, String, Option<String>, String)> = typical_cases::table
        .inner_join(
            tickets::table
                .left_join(units::table.on(units::id.nullable().eq(tickets::primary_unit_id))),
        )
        .filter(typical_cases::flagged_at.ge(At(period.from)))
        .filter(typical_cases::flagged_at.lt(At(period.to)))
        .order((
            typical_cases::flagged_at.asc(),
            typical_cases::ticket_id.asc(),
        ))
        .select((
            typical_cases::ticket_id,
            tickets::number,
            tickets::title,
            typical_cases::polarity,
            units::name.nullable(),
            typical_cases::note,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(ticket_id, number, title, polarity, unit, note)| TypicalCase {
                ticket_id,
                number,
                title,
                unit,
                positive: polarity == "positive",
                note,
            },
        )
        .collect())
}

/// Every granted appeal, with what the bulletin's notes show of it.
pub fn granted_appeals(conn: &mut DbConnection) -> Result<Vec<Exemption>, StoreError> {
    type Row = (Uuid, String, Uuid, String, String, String, Option<String>);
    let rows: Vec<Row> = appeals::table
        .inner_join(tickets::table)
        .inner_join(units::table.on(units::id.eq(appeals::unit_id)))
        .filter(appeals::status.eq(AppealStatus::Granted))
        .order(appeals::decided_at.asc())
        .select((
            appeals::ticket_id,
            tickets::number,
            appeals::unit_id,
            units::name,
            appeals::subject,
            appeals::reason,
            appeals::decision_note,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(ticket_id, number, unit_id, unit, subject, reason, decision_note)| Exemption {
                ticket_id,
                number,
                unit_id,
                unit,
                subject,
                reason,
                decision_note,
            },
        )
        .collect())
}

/// The JSON body of the month's published bulletin, as frozen.
pub fn published(conn: &mut DbConnection, month: Month) -> Result<Option<String>, StoreError> {
    Ok(published_bulletins::table
        .find(month)
        .select(published_bulletins::body)
        .get_result(conn)
        .optional()?)
}

/// Whether the month's bulletin was published, without reading it.
pub fn is_published(conn: &mut DbConnection, month: Month) -> Result<bool, StoreError> {
    Ok(
        diesel::select(diesel::dsl::exists(published_bulletins::table.find(month)))
            .get_result(conn)?,
    )
}

/// Freezes a month's bulletin (its JSON body); `Duplicate` when the month was published already.
pub fn publish(
    conn: &mut DbConnection,
    month: Month,
    body: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(published_bulletins::table)
        .values((
            published_bulletins::month.eq(month),
            published_bulletins::body.eq(body),
            published_bulletins::published_by.eq(Some(Id(by))),
            published_bulletins::published_at.eq(At(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The months published, newest first.
pub fn published_months(
    conn: &mut DbConnection,
) -> Result<Vec<(Month, DateTime<Utc>)>, StoreError> {
    Ok(published_bulletins::table
        .order(published_bulletins::month.desc())
        .select((
            published_bulletins::month,
            published_bulletins::published_at,
        ))
        .load(conn)?)
}
