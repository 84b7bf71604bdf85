//! Internal notes (内部备注) on a ticket: read and written by the hotline's staff and the
//! ticket's units, never shown to integrations or on the timeline.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use uuid::Uuid;

use super::{AppState, JsonBody, PageParams, Query, Reply, found, parse_id, read, write};
use crate::api::Caller;
use crate::domain::validation::{ValidationErrors, required_text};
use crate::error::ApiError;
use crate::store;
use crate::store::notes::Note;

/// How long one note may be.
pub const NOTE_MAX: usize = 2_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    body: String,
}

/// `POST /api/v1/tickets/{id}/notes`.
pub async fn add(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<NoteInput>,
) -> Result<Reply, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let text = body.validate(|input| {
        required_text(&input.body, NOTE_MAX).map_err(|m| ValidationErrors::single("body", m))
    })?;
    let (writer, unit) = (caller.id(), caller.unit_id());
    write(&state, &caller, None, move |conn, now| {
        found(store::tickets::get(conn, id, scope), "ticket", id)?;
        let note = Note {
            id: Uuid::now_v7(),
            ticket_id: id,
            body: text,
            written_by: writer,
            unit_id: unit,
            created_at: now,
        };
        store::notes::insert(conn, &note)?;
        Reply::created(&note, format!("/api/v1/tickets/{id}/notes"))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteParams {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /api/v1/tickets/{id}/notes`: oldest first.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    Query(params): Query<NoteParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let paging = PageParams::new(params.limit, params.cursor);
    let after: Option<Uuid> = paging.after()?;
    let fetch = paging.fetch()?;
    let notes = read(&state, move |c| {
        found(store::tickets::get(c, id, scope), "ticket", id)?;
        Ok(store::notes::for_ticket(c, id, after, fetch)?)
    })
    .await?;
    let page = paging.page(notes, |n| n.id, |n| n)?;
    Ok(HttpResponse::Ok().json(page))
}
