//! The SLA policy in force: the newest stored version, or the built-in default before any.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::sla_policies;
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::policy::Policy;

/// A policy with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersion {
    pub policy: Policy,
    /// `None` for the built-in default.
    pub version: Option<i64>,
    pub created_by: Option<Uuid>,
    pub created_at: Option<DateTime<Utc>>,
}

pub fn current(conn: &mut DbConnection) -> Result<PolicyVersion, StoreError> {
    let row: Option<(i64, String, Option<Uuid>, DateTime<Utc>)> = sla_policies::table
        .order(sla_policies::id.desc())
        .select((
            sla_policies::id,
            sla_policies::body,
            sla_policies::created_by,
            sla_policies::created_at,
        ))
        .limit(1)
        .load(conn)?
        .pop();
    match row {
        None => Ok(PolicyVersion {
            policy: Policy::default(),
            version: None,
            created_by: None,
            created_at: None,
        }),
        Some((id, body, created_by, created_at)) => Ok(PolicyVersion {
            policy: serde_json::from_str(&body).map_err(StoreError::corrupt)?,
            version: Some(id),
            created_by,
            created_at: Some(created_at),
        }),
    }
}

/// Stores a new version; the earlier ones stay on record.
pub fn replace(
    conn: &mut DbConnection,
    policy: &Policy,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<PolicyVersion, StoreError> {
    diesel::insert_into(sla_policies::table)
        .values((
            sla_policies::body.eq(serde_json::to_string(policy).map_err(StoreError::corrupt)?),
            sla_policies::created_by.eq(Id(by)),
            sla_policies::created_at.eq(At(now)),
        ))
        .execute(conn)?;
    current(conn)
}
