//! Evidence files on a ticket: photos, call recordings, documents. Uploaded as multipart form
//! data (one file in the field `file`), checked by size and by content, stored under their
//! SHA-256, and served to whoever may see the ticket.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use uuid::Uuid;

use super::{AppState, Reply, found, parse_id, read, write_value};
use crate::api::Caller;
use crate::domain::access::{Role, TicketScope};
use crate::domain::evidence;
use crate::domain::lifecycle::is_open;
use crate::domain::problem::ProblemCode;
use crate::error::ApiError;
use crate::store::attachments::Attachment;
use crate::store::{self, DbConnection};

#[derive(Serialize)]
pub struct AttachmentView {
    id: Uuid,
    ticket_id: Uuid,
    reply_id: Option<Uuid>,
    unit_id: Option<Uuid>,
    file_name: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    uploaded_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        Self {
            id: a.id,
            ticket_id: a.ticket_id,
            reply_id: a.reply_id,
            unit_id: a.unit_id,
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size_bytes: a.size_bytes,
            sha256: a.sha256.clone(),
            uploaded_by: a.uploaded_by,
            created_at: a.created_at,
        }
    }
}

/// A unit adds evidence while it holds an assignment of the current round; hotline staff and the
/// registering integration may add it at any time.
fn may_upload(
    conn: &mut DbConnection,
    caller: &Caller,
    scope: TicketScope,
    ticket: Uuid,
) -> Result<(), ApiError> {
    let ticket = found(store::tickets::get(conn, ticket, scope), "ticket", ticket)?;
    if caller.role() != Role::UnitHandler {
        return Ok(());
    }
    let holds = store::lifecycle::assignments(conn, ticket.id)?
        .iter()
        .any(|a| {
            a.round == ticket.progress.current_round
                && Some(a.unit_id) == caller.unit_id()
                && (is_open(a.status)
                    || a.status == crate::domain::ticket::AssignmentStatus::Replied)
        });
    if holds {
        Ok(())
    } else {
        Err(ApiError::conflict(
            ProblemCode::NoOpenAssignment,
            "your unit has no current assignment on this ticket",
        ))
    }
}

/// `POST /api/v1/tickets/{id}/attachments`.
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    mut form: Multipart,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path, "ticket")?;
    may_attach(&state, &caller, id).await?;
    let limit = state.attachment_max_bytes;
    let mut upload: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form.next().await {
        let field = field.map_err(unreadable_form)?;
        if field.name() != Some("file") || upload.is_some() {
            return Err(ApiError::invalid_field(
                field.name().unwrap_or("form"),
                "send exactly one file, in the form field `file`",
            ));
        }
        let name = evidence::file_name(field.content_disposition().and_then(|d| d.get_filename()));
        upload = Some((name, read_field(field, limit).await?));
    }
    let (file_name, bytes) =
        upload.ok_or_else(|| ApiError::invalid_field("file", "the form has no file"))?;
    let attachment = keep_evidence(&state, &caller, id, file_name, bytes).await?;
    Reply::created(
        &AttachmentView::from(&attachment),
        format!("/api/v1/tickets/{id}/attachments/{}", attachment.id),
    )
}

pub(crate) fn unreadable_form(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::bad_request(
        ProblemCode::MalformedMultipart,
        format!("the form could not be read: {e}"),
    )
}

/// One field of a multipart form, refused once it holds more than `limit` bytes.
pub(crate) async fn read_field(
    mut field: actix_multipart::Field,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(unreadable_form)?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Refuses, before any file is read, a caller who may not add evidence to the ticket now.
pub(crate) async fn may_attach(
    state: &web::Data<AppState>,
    caller: &Caller,
    ticket: Uuid,
) -> Result<(), ApiError> {
    let scope = caller.ticket_scope()?;
    let checker = caller.clone();
    read(state, move |c| may_upload(c, &checker, scope, ticket)).await
}

/// Checks a file by its content, stores it once under its SHA-256 and records it as evidence
/// on the ticket, the uploader's unit its owner.
pub(crate) async fn keep_evidence(
    state: &web::Data<AppState>,
    caller: &Caller,
    ticket: Uuid,
    file_name: String,
    bytes: Vec<u8>,
) -> Result<Attachment, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::invalid_field("file", "the file is empty"));
    }
    let content_type = evidence::sniff(&bytes).ok_or_else(|| {
        ApiError::unsupported_media_type("a photo (JPEG, PNG, GIF, WebP, HEIC), a recording (WAV, AMR, MP3, M4A) or a document (PDF, Office)")
    })?;
    let size = bytes.len() as i64;
    let sha256 = state.files.put(bytes).await?;
    let uploader = caller.id();
    let unit = (caller.role() == Role::UnitHandler)
        .then(|| caller.unit_id())
        .flatten();
    write_value(state, caller, move |conn, now| {
        let attachment = Attachment {
            id: Uuid::now_v7(),
            ticket_id: ticket,
            reply_id: None,
            unit_id: unit,
            file_name,
            content_type: content_type.to_owned(),
            size_bytes: size,
            sha256,
            uploaded_by: Some(uploader),
            created_at: now,
        };
        store::attachments::insert(conn, &attachment)?;
        Ok(attachment)
    })
    .await
}

/// `GET /api/v1/tickets/{id}/attachments`.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let items = read(&state, move |c| {
        found(store::tickets::get(c, id, scope), "ticket", id)?;
        Ok(store::attachments::for_ticket(c, id)?)
    })
    .await?;
    let views: Vec<AttachmentView> = items.iter().map(AttachmentView::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": views })))
}

/// `GET /api/v1/tickets/{id}/attachments/{attachment_id}`: the file itself.
pub async fn download(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (ticket, attachment) = path.into_inner();
    serve(
        &state,
        &caller,
        &ticket,
        &attachment,
        Disposition::Attachment,
    )
    .await
}

/// How a browser is told to treat a served file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Saved as a file.
    Attachment,
    /// Shown in the page when it is a photo (the console shows evidence beside the reply).
    InlinePhoto,
}

/// An evidence file of a ticket the caller may read, with its name, type and digest.
pub(crate) async fn serve(
    state: &web::Data<AppState>,
    caller: &Caller,
    ticket: &str,
    attachment: &str,
    disposition: Disposition,
) -> Result<HttpResponse, ApiError> {
    let scope = caller.ticket_scope()?;
    let id = parse_id(ticket, "ticket")?;
    let attachment_id = parse_id(attachment, "attachment")?;
    let meta = read(state, move |c| {
        found(store::tickets::get(c, id, scope), "ticket", id)?;
        found(
            store::attachments::get(c, id, attachment_id),
            "attachment",
            attachment_id,
        )
    })
    .await?;
    let bytes = state.files.get(&meta.sha256).await?;
    let encoded: String = form_urlencoded::byte_serialize(meta.file_name.as_bytes()).collect();
    let kind = match disposition {
        Disposition::InlinePhoto if meta.content_type.starts_with("image/") => "inline",
        _ => "attachment",
    };
    Ok(HttpResponse::Ok()
        .content_type(meta.content_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("{kind}; filename*=UTF-8''{}", encoded.replace('+', "%20")),
        ))
        .insert_header((header::ETAG, format!("\"{}\"", meta.sha256)))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(bytes))
}
