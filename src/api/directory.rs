//! What the directory's records (units, categories, user accounts) share over HTTP: reading one
//! by id, deleting one that nothing refers to yet, and the answer to a name already taken.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use uuid::Uuid;

use super::{AppState, found, parse_id, read, write};
use crate::api::Caller;
use crate::domain::audit::AuditAction;
use crate::domain::problem::ProblemCode;
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::{DbConnection, StoreError};

/// A record of the directory as the API serves it.
pub trait Entry: Send + 'static {
    /// What paths and errors call it: `unit`.
    const NAME: &'static str;
    /// The table it is stored in, whose unique keys name it.
    const TABLE: &'static str;
    type View: Serialize;

    fn load(conn: &mut DbConnection, id: Uuid) -> Result<Self, StoreError>
    where
        Self: Sized;
    fn view(&self) -> Self::View;
}

/// A record that may be deleted while nothing refers to it; otherwise it is deactivated.
pub trait Removable: Entry {
    const REMOVED: AuditAction;
    /// What to do instead when something refers to it.
    const IN_USE: &'static str;

    fn remove(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError>;
}

/// `GET …/{id}`.
pub async fn get<E: Entry>(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, E::NAME)?;
    let entry = read(&state, move |c| found(E::load(c, id), E::NAME, id)).await?;
    Ok(HttpResponse::Ok().json(entry.view()))
}

/// `DELETE …/{id}`: a mistaken entry goes; one that has been used is refused (409 `in_use`).
pub async fn delete<E: Removable>(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, E::NAME)?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        found(E::load(conn, id), E::NAME, id)?;
        // A savepoint, so that a refused delete leaves the transaction usable on PostgreSQL.
        match diesel::Connection::transaction(conn, |c| E::remove(c, id)) {
            Err(StoreError::MissingReference(_)) => {
                Err(ApiError::conflict(ProblemCode::InUse, E::IN_USE))
            }
            other => other.map_err(ApiError::from),
        }?;
        audit::record(conn, &AuditEntry::new(by, E::REMOVED, now).about(id))?;
        super::Reply::ok(&serde_json::json!({}))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A write refused because a unique name of `E` is taken answers 409 `already_exists`,
/// saying which; any other failure answers as it is.
pub fn taken<E: Entry>(error: StoreError, detail: impl FnOnce() -> String) -> ApiError {
    if error.is_duplicate_in(E::TABLE) {
        ApiError::conflict(ProblemCode::AlreadyExists, detail())
    } else {
        error.into()
    }
}
