//! Evidence files: metadata and checksum here, the bytes in the file store.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::attachments;
use super::sql::{At, Id};
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub reply_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = attachments)]
struct AttachmentRow {
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

impl AttachmentRow {
    fn into_attachment(self) -> Result<Attachment, StoreError> {
        Ok(Attachment {
            id: self.id,
            ticket_id: self.ticket_id,
            reply_id: self.reply_id,
            unit_id: self.unit_id,
            file_name: self.file_name,
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            uploaded_by: self.uploaded_by,
            created_at: self.created_at,
        })
    }
}

pub fn insert(conn: &mut DbConnection, a: &Attachment) -> Result<(), StoreError> {
    diesel::insert_into(attachments::table)
        .values((
            attachments::id.eq(Id(a.id)),
            attachments::ticket_id.eq(Id(a.ticket_id)),
            attachments::reply_id.eq(a.reply_id.map(Id)),
            attachments::unit_id.eq(a.unit_id.map(Id)),
            attachments::file_name.eq(&a.file_name),
            attachments::content_type.eq(&a.content_type),
            attachments::size_bytes.eq(a.size_bytes),
            attachments::sha256.eq(&a.sha256),
            attachments::uploaded_by.eq(a.uploaded_by.map(Id)),
            attachments::created_at.eq(At(a.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn for_ticket(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<Attachment>, StoreError> {
    attachments::table
        .filter(attachments::ticket_id.eq(Id(ticket_id)))
        .order((attachments::created_at.asc(), attachments::id.asc()))
        .select(AttachmentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AttachmentRow::into_attachment)
        .collect()
}

pub fn get(conn: &mut DbConnection, ticket_id: Uuid, id: Uuid) -> Result<Attachment, StoreError> {
    attachments::table
        .find(Id(id))
        .filter(attachments::ticket_id.eq(Id(ticket_id)))
        .select(AttachmentRow::as_select())
        .get_result(conn)?
        .into_attachment()
}
