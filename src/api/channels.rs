//! The channels an office counts its requests by (来源渠道): everyone reads them, administrators
//! define them. A channel is never deleted; an inactive one takes no new tickets.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{AppState, JsonBody, Reply, read, write};
use crate::api::Caller;
use crate::domain::audit::AuditAction;
use crate::domain::channel::{ChannelDefinition, ChannelDraft, ChannelInput};
use crate::domain::ticket::Channel;
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::{self, DbConnection};

#[derive(Serialize)]
pub struct ChannelView {
    code: String,
    name: String,
    kind: Channel,
    bulletin_row: String,
    own_section: bool,
    sort_order: i32,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ChannelDefinition> for ChannelView {
    fn from(c: ChannelDefinition) -> Self {
        Self {
            code: c.code,
            name: c.name,
            kind: c.kind,
            bulletin_row: c.bulletin_row,
            own_section: c.own_section,
            sort_order: c.sort_order,
            active: c.active,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// `GET /api/v1/channels`: every channel in the order the bulletin prints them (a short list,
/// whole).
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let channels = read(&state, |c| Ok(store::channels::all(c)?)).await?;
    let items: Vec<ChannelView> = channels.into_iter().map(ChannelView::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let lookup = code.clone();
    let channel = read(&state, move |c| Ok(store::channels::find(c, &lookup)?)).await?;
    match channel {
        Some(channel) => Ok(HttpResponse::Ok().json(ChannelView::from(channel))),
        None => Err(ApiError::not_found(format!(
            "no channel has the code `{code}`"
        ))),
    }
}

/// `PUT /api/v1/channels/{code}`: defines a channel (201) or replaces its definition (200); its
/// kind never changes.
pub async fn put(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ChannelInput>,
) -> Result<Reply, ApiError> {
    let code = path.into_inner();
    let draft = body.validate(|input| ChannelDraft::parse(&code, input))?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        let (channel, created) = define_channel(conn, now, by, &draft)?;
        let location = format!("/api/v1/channels/{}", channel.code);
        let view = ChannelView::from(channel);
        if created {
            Reply::created(&view, location)
        } else {
            Reply::ok(&view)
        }
    })
    .await
}

/// Defines a channel or replaces its definition, audited: the one way the API and the console
/// do it. `true` when it was created.
pub(crate) fn define_channel(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    by: Uuid,
    draft: &ChannelDraft,
) -> Result<(ChannelDefinition, bool), ApiError> {
    if let Some(current) = store::channels::find(conn, &draft.code)? {
        draft.check_change(&current)?;
    }
    let created = store::channels::put(conn, draft, now)?;
    audit::record(
        conn,
        &AuditEntry::new(by, AuditAction::ChannelDefined, now).with(serde_json::json!({
            "code": draft.code,
            "name": draft.name,
            "kind": draft.kind,
            "bulletin_row": draft.bulletin_row,
            "own_section": draft.own_section,
            "active": draft.active,
            "created": created,
        })),
    )?;
    let channel = store::channels::find(conn, &draft.code)?
        .ok_or_else(|| store::StoreError::corrupt("a channel just written vanished"))?;
    Ok((channel, created))
}
