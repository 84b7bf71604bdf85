use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::users;
use super::sql::{At, Id};
use super::{DbConnection, StoreError, contains_pattern, lower};
use crate::domain::access::Role;
use crate::domain::directory::{Attachment, User};
use crate::domain::ticket::Channel;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: Uuid,
    username: String,
    display_name: String,
    role: Role,
    unit_id: Option<Uuid>,
    channel: Option<Channel>,
    active: bool,
    must_change_password: bool,
    token_generation: i64,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl UserRow {
    fn into_user(self) -> Result<User, StoreError> {
        Ok(User {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            attachment: Attachment {
                role: self.role,
                unit_id: self.unit_id,
                channel: self.channel,
            },
            active: self.active,
            must_change_password: self.must_change_password,
            token_generation: self.token_generation,
            last_login_at: self.last_login_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// An account to create, its password already hashed.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub attachment: Attachment,
    pub password_hash: &'a str,
    pub must_change_password: bool,
}

/// Inserts an account; `Duplicate { table: "users" }` when the username is taken.
pub fn insert(
    conn: &mut DbConnection,
    new: &NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(Id(id)),
            users::username.eq(new.username),
            users::display_name.eq(new.display_name),
            users::password_hash.eq(new.password_hash),
            users::role.eq(new.attachment.role),
            users::unit_id.eq(new.attachment.unit_id.map(Id)),
            users::channel.eq(new.attachment.channel),
            users::active.eq(true),
            users::must_change_password.eq(new.must_change_password),
            users::created_at.eq(At(now)),
            users::updated_at.eq(At(now)),
        ))
        .execute(conn)?;
    get(conn, id)
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<User, StoreError> {
    users::table
        .find(Id(id))
        .select(UserRow::as_select())
        .get_result(conn)?
        .into_user()
}

/// The account and its password hash, for signing in.
pub fn find_credentials(
    conn: &mut DbConnection,
    username: &str,
) -> Result<Option<(User, String)>, StoreError> {
    let row: Option<(UserRow, String)> = users::table
        .filter(users::username.eq(username))
        .select((UserRow::as_select(), users::password_hash))
        .get_result(conn)
        .optional()?;
    row.map(|(user, hash)| Ok((user.into_user()?, hash)))
        .transpose()
}

pub fn password_hash(conn: &mut DbConnection, id: Uuid) -> Result<String, StoreError> {
    Ok(users::table
        .find(Id(id))
        .select(users::password_hash)
        .get_result(conn)?)
}

pub fn count_with_role(conn: &mut DbConnection, role: Role) -> Result<i64, StoreError> {
    Ok(users::table
        .filter(users::role.eq(role))
        .count()
        .get_result(conn)?)
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub unit_id: Option<Uuid>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

/// Accounts in username order, after `after`.
pub fn list(
    conn: &mut DbConnection,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<User>, StoreError> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(users::unit_id.eq(Id(unit)));
    }
    if let Some(active) = filter.active {
        query = query.filter(users::active.eq(active));
    }
    if let Some(q) = filter.q.as_deref() {
        let pattern = contains_pattern(q);
        query = query.filter(
            lower(users::username)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::display_name).like(pattern).escape('\\')),
        );
    }
    if let Some(after) = after {
        query = query.filter(users::username.gt(after.to_owned()));
    }
    query
        .order(users::username.asc())
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(UserRow::into_user)
        .collect()
}

/// A change to an account. A new password, a deactivation or a new role also ends every token
/// issued so far.
#[derive(Default)]
pub struct UserChanges<'a> {
    pub display_name: Option<&'a str>,
    pub attachment: Option<Attachment>,
    pub active: Option<bool>,
    pub password_hash: Option<&'a str>,
    pub must_change_password: Option<bool>,
}

pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    changes: &UserChanges<'_>,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    #[derive(AsChangeset)]
    #[diesel(table_name = users)]
    struct Changes<'a> {
        display_name: Option<&'a str>,
        role: Option<Role>,
        unit_id: Option<Option<Id>>,
        channel: Option<Option<Channel>>,
        active: Option<bool>,
        password_hash: Option<&'a str>,
        must_change_password: Option<bool>,
        updated_at: At,
    }
    let attachment = changes.attachment;
    let ends_tokens =
        changes.password_hash.is_some() || changes.active == Some(false) || attachment.is_some();
    let row = Changes {
        display_name: changes.display_name,
        role: attachment.map(|a| a.role),
        unit_id: attachment.map(|a| a.unit_id.map(Id)),
        channel: attachment.map(|a| a.channel),
        active: changes.active,
        password_hash: changes.password_hash,
        must_change_password: changes.must_change_password,
        updated_at: At(now),
    };
    let updated = diesel::update(users::table.find(Id(id)))
        .set(&row)
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    if ends_tokens {
        diesel::update(users::table.find(Id(id)))
            .set(users::token_generation.eq(users::token_generation + 1))
            .execute(conn)?;
    }
    get(conn, id)
}

pub fn record_login(
    conn: &mut DbConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(users::table.find(Id(id)))
        .set(users::last_login_at.eq(At(now)))
        .execute(conn)?;
    Ok(())
}

/// The display names of the accounts `ids`: what a timeline prints for who did what.
pub fn names(
    conn: &mut DbConnection,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    let ids: Vec<Id> = ids.iter().copied().map(Id).collect();
    let rows: Vec<(Uuid, String)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
