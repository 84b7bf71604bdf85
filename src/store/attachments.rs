//! Evidence files: metadata and checksum here, the bytes in the file store.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::attachments;
use super::{DbConnection, StoreError, from_db, parse_opt_uuid, parse_uuid, to_db};

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
    id: String,
    ticket_id: String,
    reply_id: Option<String>,
    unit_id: Option<String>,
    file_name: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    uploaded_by: Option<String>,
    created_at: NaiveDateTime,
}

impl AttachmentRow {
    fn into_attachment(self) -> Result<Attachment, StoreError> {
        Ok(Attachment {
            id: parse_uuid(&self.id)?,
            ticket_id: parse_uuid(&self.ticket_id)?,
            reply_id: parse_opt_uuid(self.reply_id.as_deref())?,
            unit_id: parse_opt_uuid(self.unit_id.as_deref())?,
            file_name: self.file_name,
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            uploaded_by: parse_opt_uuid(self.uploaded_by.as_deref())?,
            created_at: from_db(self.created_at),
        })
    }
}

pub fn insert(conn: &mut DbConnection, a: &Attachment) -> Result<(), StoreError> {
    diesel::insert_into(attachments::table)
        .values((
            attachments::id.eq(a.id.to_string()),
            attachments::ticket_id.eq(a.ticket_id.to_string()),
            attachments::reply_id.eq(a.reply_id.map(|r| r.to_string())),
            attachments::unit_id.eq(a.unit_id.map(|u| u.to_string())),
            attachments::file_name.eq(&a.file_name),
            attachments::content_type.eq(&a.content_type),
            attachments::size_bytes.eq(a.size_bytes),
            attachments::sha256.eq(&a.sha256),
            attachments::uploaded_by.eq(a.uploaded_by.map(|u| u.to_string())),
            attachments::created_at.eq(to_db(a.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn for_ticket(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<Attachment>, StoreError> {
    attachments::table
        .filter(attachments::ticket_id.eq(ticket_id.to_string()))
        .order((attachments::created_at.asc(), attachments::id.asc()))
        .select(AttachmentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AttachmentRow::into_attachment)
        .collect()
}

pub fn get(conn: &mut DbConnection, ticket_id: Uuid, id: Uuid) -> Result<Attachment, StoreError> {
    attachments::table
        .find(id.to_string())
        .filter(attachments::ticket_id.eq(ticket_id.to_string()))
        .select(AttachmentRow::as_select())
        .get_result(conn)?
        .into_attachment()
}
