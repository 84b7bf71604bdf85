//! The administrator's screens: accounts, units, the category tree, the working-day calendar
//! year by year, and the SLA policy. Each page lists what is there with a form to add and one to
//! change the entry picked; each form is checked by the domain's own parsers and stored through
//! the API's own write steps (`api::users::add_user`, `api::units::change_unit` …), so the
//! console and the API refuse and audit alike.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Datelike;
use uuid::Uuid;

use super::intake::Choice;
use super::session::{Signed, check_form_token};
use super::{Chrome, ConsoleError, render};
use crate::api::{AppState, Caller, read, write_value};
use crate::domain::access::{Permission, Role};
use crate::domain::calendar::{
    DayInput, DayKind, Limit, LimitUnit, SpecialDay, YearInput, parse_year,
};
use crate::domain::channel::{ChannelDefinition, ChannelDraft, ChannelInput};
use crate::domain::directory::{
    CategoryDraft, CategoryInput, CategoryPatch, CategoryPatchInput, UnitDraft, UnitInput,
    UnitKind, UnitPatch, UnitPatchInput, UserDraft, UserInput, UserPatch, UserPatchInput,
};
use crate::domain::policy::{Ladder, LimitRule, Policy, RefusedReturnClock};
use crate::domain::ticket::{Channel, Priority, TicketType};
use crate::error::ApiError;
use crate::reports::labels;
use crate::store;
use crate::store::categories::CategoryFilter;
use crate::store::units::UnitFilter;
use crate::store::users::UserFilter;

/// How many accounts, units and categories a page lists; a search narrows a longer list.
const LISTED: i64 = 1000;

/// The caller, if their role may do what the page is for.
pub(super) fn admin(signed: &Signed, permission: Permission) -> Result<Caller, ConsoleError> {
    let caller = Caller {
        user: signed.user.clone(),
    };
    caller.require(permission)?;
    Ok(caller)
}

pub(super) fn see_other(path: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, path.into()))
        .finish()
}

/// Back to a list, narrowed to the entry just stored.
fn back_to(list: &str, q: &str) -> HttpResponse {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    see_other(format!("{list}?q={q}"))
}

/// An id picked from a list, or none when the list's empty choice was kept.
fn picked_id(field: &str, raw: &str) -> Result<Option<Uuid>, ApiError> {
    match raw.trim() {
        "" => Ok(None),
        id => Uuid::parse_str(id)
            .map(Some)
            .map_err(|_| ApiError::invalid_field(field, format!("`{id}` is not an id"))),
    }
}

/// A value of a closed set picked from a list.
fn picked<T: FromStr<Err = crate::domain::UnknownValue>>(
    field: &str,
    raw: &str,
) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|e: crate::domain::UnknownValue| ApiError::invalid_field(field, e.to_string()))
}

fn whole_number<T: FromStr>(field: &str, raw: &str) -> Result<T, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::invalid_field(field, format!("`{raw}` is not a whole number")))
}

/// A list's choices, the one `selected` marked.
pub struct Picked {
    pub choices: Vec<Choice>,
    pub selected: String,
}

impl Picked {
    fn of(choices: Vec<Choice>, selected: impl Into<String>) -> Self {
        Picked {
            choices,
            selected: selected.into(),
        }
    }
}

fn role_choices() -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| Choice {
            value: r.as_str().to_owned(),
            label: labels::role(*r).to_owned(),
        })
        .collect()
}

pub(super) fn channel_choices() -> Vec<Choice> {
    Channel::ALL
        .iter()
        .map(|c| Choice {
            value: c.as_str().to_owned(),
            label: labels::channel(*c).to_owned(),
        })
        .collect()
}

fn unit_kind_choices() -> Vec<Choice> {
    UnitKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str().to_owned(),
            label: labels::unit_kind(*k).to_owned(),
        })
        .collect()
}

fn unit_choices(units: &[crate::domain::directory::Unit]) -> Vec<Choice> {
    units
        .iter()
        .filter(|u| u.active)
        .map(|u| Choice {
            value: u.id.to_string(),
            label: u.name.clone(),
        })
        .collect()
}

/// Every unit, active or not, by code: the lists, the names and the tree the pages show.
fn every_unit(
    c: &mut crate::store::DbConnection,
) -> Result<Vec<crate::domain::directory::Unit>, ApiError> {
    Ok(store::units::list(c, &UnitFilter::default(), None, LISTED)?)
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// The id of the entry whose form is open.
    edit: Option<String>,
}

impl ListQuery {
    fn parts(self, what: &str) -> Result<(String, Option<Uuid>), ApiError> {
        let edit = match self.edit.as_deref() {
            Some(raw) => Some(crate::api::parse_id(raw, what)?),
            None => None,
        };
        Ok((self.q, edit))
    }
}

// ---- Accounts -------------------------------------------------------------------------------

pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub name: String,
    pub role: &'static str,
    pub unit: String,
    pub active: bool,
    pub must_change_password: bool,
    pub last_login: String,
}

/// The account being changed, as its form starts.
pub struct UserShown {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Picked,
    pub unit: Picked,
    pub channel: Picked,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "console/admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    form_token: String,
    q: String,
    rows: Vec<UserRow>,
    editing: Option<UserShown>,
    roles: Vec<Choice>,
    units: Vec<Choice>,
    channels: Vec<Choice>,
}

fn local_time(state: &AppState, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&state.numbering.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// `GET /admin/users`: every account (or those matching `q`), and the forms to add one or
/// change the one picked by `edit`.
pub async fn users(
    state: web::Data<AppState>,
    signed: Signed,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admin(&signed, Permission::ManageUsers)?;
    let (q, edit) = query.into_inner().parts("user")?;
    let filter = UserFilter {
        q: Some(q.trim().to_owned()).filter(|q| !q.is_empty()),
        ..UserFilter::default()
    };
    let (accounts, units, editing) = read(&state, move |c| {
        let editing = match edit {
            Some(id) => Some(crate::api::found(store::users::get(c, id), "user", id)?),
            None => None,
        };
        Ok((
            store::users::list(c, &filter, None, LISTED)?,
            every_unit(c)?,
            editing,
        ))
    })
    .await?;
    let unit_names: HashMap<Uuid, &str> = units.iter().map(|u| (u.id, u.name.as_str())).collect();
    let rows = accounts
        .iter()
        .map(|u| UserRow {
            id: u.id,
            username: u.username.clone(),
            name: u.display_name.clone(),
            role: labels::role(u.attachment.role),
            unit: u
                .attachment
                .unit_id
                .and_then(|id| unit_names.get(&id).copied())
                .or(u.attachment.channel.map(labels::channel))
                .unwrap_or("")
                .to_owned(),
            active: u.active,
            must_change_password: u.must_change_password,
            last_login: u
                .last_login_at
                .map(|at| local_time(&state, at))
                .unwrap_or_default(),
        })
        .collect();
    let unit_list = unit_choices(&units);
    let editing = editing.map(|u| UserShown {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        role: Picked::of(role_choices(), u.attachment.role.as_str()),
        unit: Picked::of(
            unit_list.clone(),
            u.attachment
                .unit_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        ),
        channel: Picked::of(
            channel_choices(),
            u.attachment.channel.map(|c| c.as_str()).unwrap_or_default(),
        ),
        active: u.active,
    });
    render(
        HttpResponse::Ok(),
        &UsersPage {
            chrome: Chrome::of(&state, signed.person()),
            form_token: signed.form_token.clone(),
            q,
            rows,
            editing,
            roles: role_choices(),
            units: unit_list,
            channels: channel_choices(),
        },
    )
}

#[derive(serde::Deserialize)]
pub struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    password: String,
    /// A checkbox: present when ticked.
    active: Option<String>,
}

fn picked_channel(raw: &str) -> Result<Option<Channel>, ApiError> {
    match raw.trim() {
        "" => Ok(None),
        channel => picked("channel", channel).map(Some),
    }
}

/// `POST /admin/users`: a new account with a one-time password, to be changed at first
/// sign-in.
pub async fn add_user(
    state: web::Data<AppState>,
    signed: Signed,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageUsers)?;
    let form = form.into_inner();
    let input = UserInput {
        username: form.username,
        display_name: form.display_name,
        role: picked("role", &form.role)?,
        unit_id: picked_id("unit_id", &form.unit_id)?,
        channel: picked_channel(&form.channel)?,
        password: form.password,
        must_change_password: true,
    };
    let draft = UserDraft::parse(input).map_err(ApiError::validation)?;
    let hash = crate::api::users::password_hash(&state, draft.password.clone()).await?;
    let by = caller.id();
    let user = write_value(&state, &caller, move |conn, now| {
        crate::api::users::add_user(conn, now, by, &draft, &hash)
    })
    .await?;
    Ok(back_to("/admin/users", &user.username))
}

/// `POST /admin/users/{id}`: what the form changed, and a new one-time password if one is
/// given.
pub async fn change_user(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<String>,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageUsers)?;
    let id = crate::api::parse_id(&path, "user")?;
    let form = form.into_inner();
    let current = read(&state, move |c| {
        crate::api::found(store::users::get(c, id), "user", id)
    })
    .await?;
    let role: Role = picked("role", &form.role)?;
    let unit_id = picked_id("unit_id", &form.unit_id)?;
    let channel = picked_channel(&form.channel)?;
    let active = form.active.is_some();
    let password = Some(form.password).filter(|p| !p.is_empty());
    let input = UserPatchInput {
        display_name: Some(form.display_name).filter(|n| *n != current.display_name),
        role: Some(role).filter(|r| *r != current.attachment.role),
        unit_id: Some(unit_id).filter(|u| *u != current.attachment.unit_id),
        channel: Some(channel).filter(|c| *c != current.attachment.channel),
        active: Some(active).filter(|a| *a != current.active),
        must_change_password: password.as_ref().map(|_| true),
        password,
    };
    let patch = UserPatch::parse(input).map_err(ApiError::validation)?;
    crate::api::users::change_user(&state, &caller, id, patch).await?;
    Ok(back_to("/admin/users", &current.username))
}

// ---- Units ----------------------------------------------------------------------------------

pub struct UnitShownRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub parent: String,
    pub sort_order: i32,
    pub active: bool,
}

pub struct UnitShown {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: Picked,
    pub parent: Picked,
    pub sort_order: i32,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "console/admin_units.html")]
struct UnitsPage {
    chrome: Chrome,
    form_token: String,
    q: String,
    rows: Vec<UnitShownRow>,
    editing: Option<UnitShown>,
    kinds: Vec<Choice>,
    parents: Vec<Choice>,
}

/// `GET /admin/units`: every unit by code, and the forms to add one or change the one picked.
pub async fn units(
    state: web::Data<AppState>,
    signed: Signed,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admin(&signed, Permission::ManageDirectory)?;
    let (q, edit) = query.into_inner().parts("unit")?;
    let all = read(&state, every_unit).await?;
    let names: HashMap<Uuid, &str> = all.iter().map(|u| (u.id, u.name.as_str())).collect();
    let wanted = q.trim().to_lowercase();
    let rows = all
        .iter()
        .filter(|u| {
            wanted.is_empty()
                || u.name.to_lowercase().contains(&wanted)
                || u.code.to_lowercase().contains(&wanted)
        })
        .map(|u| UnitShownRow {
            id: u.id,
            code: u.code.clone(),
            name: u.name.clone(),
            kind: labels::unit_kind(u.kind),
            parent: u
                .parent_id
                .and_then(|p| names.get(&p).copied())
                .unwrap_or("")
                .to_owned(),
            sort_order: u.sort_order,
            active: u.active,
        })
        .collect();
    let parents = unit_choices(&all);
    let editing = match edit {
        Some(id) => {
            let unit = all
                .iter()
                .find(|u| u.id == id)
                .ok_or_else(|| ApiError::not_found(format!("no unit has the id {id}")))?;
            Some(UnitShown {
                id,
                code: unit.code.clone(),
                name: unit.name.clone(),
                kind: Picked::of(unit_kind_choices(), unit.kind.as_str()),
                parent: Picked::of(
                    parents
                        .iter()
                        .filter(|p| p.value != id.to_string())
                        .cloned()
                        .collect(),
                    unit.parent_id.map(|p| p.to_string()).unwrap_or_default(),
                ),
                sort_order: unit.sort_order,
                active: unit.active,
            })
        }
        None => None,
    };
    render(
        HttpResponse::Ok(),
        &UnitsPage {
            chrome: Chrome::of(&state, signed.person()),
            form_token: signed.form_token.clone(),
            q,
            rows,
            editing,
            kinds: unit_kind_choices(),
            parents,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct UnitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    sort_order: String,
    active: Option<String>,
}

fn sort_order(raw: &str) -> Result<i32, ApiError> {
    if raw.trim().is_empty() {
        Ok(0)
    } else {
        whole_number("sort_order", raw)
    }
}

/// `POST /admin/units`.
pub async fn add_unit(
    state: web::Data<AppState>,
    signed: Signed,
    form: web::Form<UnitForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageDirectory)?;
    let form = form.into_inner();
    let draft = UnitDraft::parse(UnitInput {
        code: form.code,
        name: form.name,
        kind: picked("kind", &form.kind)?,
        parent_id: picked_id("parent_id", &form.parent_id)?,
        sort_order: sort_order(&form.sort_order)?,
    })
    .map_err(ApiError::validation)?;
    let by = caller.id();
    let unit = write_value(&state, &caller, move |conn, now| {
        crate::api::units::add_unit(conn, now, by, &draft)
    })
    .await?;
    Ok(back_to("/admin/units", &unit.code))
}

/// `POST /admin/units/{id}`.
pub async fn change_unit(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<String>,
    form: web::Form<UnitForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageDirectory)?;
    let id = crate::api::parse_id(&path, "unit")?;
    let form = form.into_inner();
    let patch = UnitPatch::parse(UnitPatchInput {
        name: Some(form.name),
        kind: Some(picked("kind", &form.kind)?),
        parent_id: Some(picked_id("parent_id", &form.parent_id)?),
        sort_order: Some(sort_order(&form.sort_order)?),
        active: Some(form.active.is_some()),
    })
    .map_err(ApiError::validation)?;
    let by = caller.id();
    let unit = write_value(&state, &caller, move |conn, now| {
        crate::api::units::change_unit(conn, now, by, id, &patch)
    })
    .await?;
    Ok(back_to("/admin/units", &unit.code))
}

// ---- Categories -----------------------------------------------------------------------------

pub struct CategoryRow {
    pub id: Uuid,
    pub full_name: String,
    pub level: i32,
    pub default_unit: String,
    pub sort_order: i32,
    pub active: bool,
}

pub struct CategoryShown {
    pub id: Uuid,
    pub full_name: String,
    pub name: String,
    pub default_unit: Picked,
    pub sort_order: i32,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "console/admin_categories.html")]
struct CategoriesPage {
    chrome: Chrome,
    form_token: String,
    q: String,
    rows: Vec<CategoryRow>,
    editing: Option<CategoryShown>,
    first_levels: Vec<Choice>,
    units: Vec<Choice>,
}

/// `GET /admin/categories`: the tree, each child right after its parent, with the unit each
/// suggests for dispatch.
pub async fn categories(
    state: web::Data<AppState>,
    signed: Signed,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admin(&signed, Permission::ManageDirectory)?;
    let (q, edit) = query.into_inner().parts("category")?;
    let filter = CategoryFilter {
        q: Some(q.trim().to_owned()).filter(|q| !q.is_empty()),
        ..CategoryFilter::default()
    };
    let (found, first_levels, units, editing) = read(&state, move |c| {
        let editing = match edit {
            Some(id) => Some(crate::api::found(
                store::categories::get(c, id),
                "category",
                id,
            )?),
            None => None,
        };
        Ok((
            store::categories::list(c, &filter, None, LISTED)?,
            store::categories::list(
                c,
                &CategoryFilter {
                    level: Some(1),
                    active: Some(true),
                    ..CategoryFilter::default()
                },
                None,
                LISTED,
            )?,
            every_unit(c)?,
            editing,
        ))
    })
    .await?;
    let unit_names: HashMap<Uuid, &str> = units.iter().map(|u| (u.id, u.name.as_str())).collect();
    let unit_list = unit_choices(&units);
    let editing = editing.map(|category| CategoryShown {
        id: category.id,
        full_name: category.full_name,
        name: category.name,
        default_unit: Picked::of(
            unit_list.clone(),
            category
                .default_unit_id
                .map(|u| u.to_string())
                .unwrap_or_default(),
        ),
        sort_order: category.sort_order,
        active: category.active,
    });
    let rows = found
        .into_iter()
        .map(|c| CategoryRow {
            id: c.id,
            default_unit: c
                .default_unit_id
                .and_then(|u| unit_names.get(&u).copied())
                .unwrap_or("")
                .to_owned(),
            full_name: c.full_name,
            level: c.level,
            sort_order: c.sort_order,
            active: c.active,
        })
        .collect();
    render(
        HttpResponse::Ok(),
        &CategoriesPage {
            chrome: Chrome::of(&state, signed.person()),
            form_token: signed.form_token.clone(),
            q,
            rows,
            editing,
            first_levels: first_levels
                .into_iter()
                .map(|c| Choice {
                    value: c.id.to_string(),
                    label: c.name,
                })
                .collect(),
            units: unit_list,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    default_unit_id: String,
    #[serde(default)]
    sort_order: String,
    active: Option<String>,
}

/// `POST /admin/categories`.
pub async fn add_category(
    state: web::Data<AppState>,
    signed: Signed,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageDirectory)?;
    let form = form.into_inner();
    let draft = CategoryDraft::parse(CategoryInput {
        name: form.name,
        parent_id: picked_id("parent_id", &form.parent_id)?,
        default_unit_id: picked_id("default_unit_id", &form.default_unit_id)?,
        sort_order: sort_order(&form.sort_order)?,
    })
    .map_err(ApiError::validation)?;
    let by = caller.id();
    let category = write_value(&state, &caller, move |conn, now| {
        crate::api::categories::add_category(conn, now, by, &draft)
    })
    .await?;
    Ok(back_to("/admin/categories", &category.name))
}

/// `POST /admin/categories/{id}`.
pub async fn change_category(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<String>,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageDirectory)?;
    let id = crate::api::parse_id(&path, "category")?;
    let form = form.into_inner();
    let patch = CategoryPatch::parse(CategoryPatchInput {
        name: Some(form.name),
        default_unit_id: Some(picked_id("default_unit_id", &form.default_unit_id)?),
        sort_order: Some(sort_order(&form.sort_order)?),
        active: Some(form.active.is_some()),
    })
    .map_err(ApiError::validation)?;
    let by = caller.id();
    let category = write_value(&state, &caller, move |conn, now| {
        crate::api::categories::change_category(conn, now, by, id, &patch)
    })
    .await?;
    Ok(back_to("/admin/categories", &category.name))
}

// ---- Channels -------------------------------------------------------------------------------

/// A channel as the page lists it and as its form is filled.
pub struct ChannelShown {
    pub code: String,
    pub name: String,
    pub kind: Picked,
    pub kind_label: &'static str,
    pub bulletin_row: String,
    pub own_section: bool,
    pub sort_order: i32,
    pub active: bool,
}

impl ChannelShown {
    fn of(c: ChannelDefinition) -> Self {
        Self {
            kind: Picked::of(channel_choices(), c.kind.as_str()),
            kind_label: labels::channel(c.kind),
            code: c.code,
            name: c.name,
            bulletin_row: c.bulletin_row,
            own_section: c.own_section,
            sort_order: c.sort_order,
            active: c.active,
        }
    }
}

#[derive(Template)]
#[template(path = "console/admin_channels.html")]
struct ChannelsPage {
    chrome: Chrome,
    form_token: String,
    rows: Vec<ChannelShown>,
    editing: Option<ChannelShown>,
    kinds: Vec<Choice>,
}

#[derive(serde::Deserialize)]
pub struct ChannelQuery {
    /// The code of the channel whose form is open.
    edit: Option<String>,
}

/// `GET /admin/channels`: the channels in the bulletin's order, the rows they count in and
/// which are reported apart.
pub async fn channels(
    state: web::Data<AppState>,
    signed: Signed,
    query: web::Query<ChannelQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admin(&signed, Permission::ManageDirectory)?;
    let edit = query.into_inner().edit;
    let all = read(&state, |c| Ok(store::channels::all(c)?)).await?;
    let editing = match edit {
        None => None,
        Some(code) => Some(
            all.iter()
                .find(|c| c.code == code)
                .cloned()
                .map(ChannelShown::of)
                .ok_or_else(|| ApiError::not_found(format!("no channel has the code `{code}`")))?,
        ),
    };
    render(
        HttpResponse::Ok(),
        &ChannelsPage {
            chrome: Chrome::of(&state, signed.person()),
            form_token: signed.form_token.clone(),
            rows: all.into_iter().map(ChannelShown::of).collect(),
            editing,
            kinds: channel_choices(),
        },
    )
}

#[derive(serde::Deserialize)]
pub struct ChannelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    bulletin_row: String,
    #[serde(default)]
    sort_order: String,
    own_section: Option<String>,
    active: Option<String>,
}

/// `POST /admin/channels`: defines a channel or replaces its definition (the form of an
/// existing one sends its code back).
pub async fn define_channel(
    state: web::Data<AppState>,
    signed: Signed,
    form: web::Form<ChannelForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageDirectory)?;
    let form = form.into_inner();
    let input = ChannelInput {
        name: form.name,
        kind: picked("kind", &form.kind)?,
        bulletin_row: Some(form.bulletin_row).filter(|row| !row.trim().is_empty()),
        own_section: form.own_section.is_some(),
        sort_order: sort_order(&form.sort_order)?,
        active: form.active.is_some(),
    };
    let draft = ChannelDraft::parse(form.code.trim(), input).map_err(ApiError::validation)?;
    let by = caller.id();
    write_value(&state, &caller, move |conn, now| {
        crate::api::channels::define_channel(conn, now, by, &draft)
    })
    .await?;
    Ok(see_other("/admin/channels"))
}

// ---- The calendar ---------------------------------------------------------------------------

/// A special day as the page lists it.
pub struct DayShown {
    pub day: String,
    pub weekday: &'static str,
    pub name: String,
}

#[derive(Template)]
#[template(path = "console/admin_calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    form_token: String,
    year: i32,
    holidays: Vec<DayShown>,
    workdays: Vec<DayShown>,
    holidays_text: String,
    workdays_text: String,
}

#[derive(serde::Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

fn weekday(day: chrono::NaiveDate) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        [day.weekday().num_days_from_monday() as usize]
}

/// `GET /admin/calendar?year=`: a year's holidays and make-up working days (this year's when
/// none is named), as lists and as the text the form edits.
pub async fn calendar(
    state: web::Data<AppState>,
    signed: Signed,
    query: web::Query<YearQuery>,
) -> Result<HttpResponse, ConsoleError> {
    admin(&signed, Permission::ManageDeadlines)?;
    let year = match query.into_inner().year {
        Some(raw) => crate::api::deadlines::parse_year_path(&raw)?,
        None => state.today().year(),
    };
    let days = read(&state, move |c| Ok(store::calendar::year(c, year)?)).await?;
    let shown = |kind: DayKind| -> Vec<DayShown> {
        days.iter()
            .filter(|d| d.kind == kind)
            .map(|d| DayShown {
                day: d.day.to_string(),
                weekday: weekday(d.day),
                name: d.name.clone().unwrap_or_default(),
            })
            .collect()
    };
    let text = |list: &[DayShown]| -> String {
        list.iter()
            .map(|d| format!("{} {}", d.day, d.name).trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let holidays = shown(DayKind::Holiday);
    let workdays = shown(DayKind::Workday);
    render(
        HttpResponse::Ok(),
        &CalendarPage {
            chrome: Chrome::of(&state, signed.person()),
            form_token: signed.form_token.clone(),
            year,
            holidays_text: text(&holidays),
            workdays_text: text(&workdays),
            holidays,
            workdays,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct YearForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    workdays: String,
}

/// Days written one a line, `2026-10-01 国庆节`, the name optional.
fn day_lines(field: &str, text: &str) -> Result<Vec<DayInput>, ApiError> {
    text.lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(number, line)| {
            let (day, name) = line
                .split_once(char::is_whitespace)
                .map_or((line, ""), |(d, n)| (d, n.trim()));
            let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                ApiError::invalid_field(
                    field,
                    format!(
                        "line {}: `{day}` is not a date written as 2026-10-01",
                        number + 1
                    ),
                )
            })?;
            Ok(DayInput {
                day,
                name: Some(name.to_owned()).filter(|n| !n.is_empty()),
            })
        })
        .collect()
}

/// `POST /admin/calendar/{year}`: the year's days replaced at once, as the API's `PUT` does.
pub async fn replace_year(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<String>,
    form: web::Form<YearForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageDeadlines)?;
    let year = crate::api::deadlines::parse_year_path(&path)?;
    let days: Vec<SpecialDay> = parse_year(
        year,
        YearInput {
            holidays: day_lines("holidays", &form.holidays)?,
            workdays: day_lines("workdays", &form.workdays)?,
        },
    )
    .map_err(ApiError::validation)?;
    let by = caller.id();
    write_value(&state, &caller, move |conn, now| {
        crate::api::deadlines::replace_year(conn, now, by, year, &days)
    })
    .await?;
    Ok(see_other(format!("/admin/calendar?year={year}")))
}

// ---- The SLA policy -------------------------------------------------------------------------

/// A limit's two fields: how many, and of what.
pub struct LimitShown {
    pub amount: String,
    pub unit: Picked,
}

fn limit_unit_choices() -> Vec<Choice> {
    LimitUnit::ALL
        .iter()
        .map(|u| Choice {
            value: u.as_str().to_owned(),
            label: labels::limit_unit(*u).to_owned(),
        })
        .collect()
}

impl LimitShown {
    fn of(limit: Option<Limit>) -> Self {
        LimitShown {
            amount: limit.map(|l| l.amount().to_string()).unwrap_or_default(),
            unit: Picked::of(
                limit_unit_choices(),
                limit.map_or(LimitUnit::WorkingDays, Limit::unit).as_str(),
            ),
        }
    }
}

/// A row of the limits table; blank rows let one be added.
pub struct RuleShown {
    pub index: usize,
    pub ticket_type: Picked,
    pub priority: Picked,
    pub sign: LimitShown,
    pub reply: LimitShown,
}

/// A ticket type's box in the list of those that need a callback after a direct answer.
pub struct TypeChecked {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "console/admin_policy.html")]
struct PolicyPage {
    chrome: Chrome,
    form_token: String,
    version: String,
    rules: Vec<RuleShown>,
    callback_types: Vec<TypeChecked>,
    max_callback_attempts: i32,
    max_returns: i32,
    /// The ladder's limits and the reopening window: field name, label, limit.
    limits: Vec<(&'static str, &'static str, LimitShown)>,
    refused_return_clock: Picked,
}

/// Blank rows under the limits in force, for new ones.
const BLANK_RULES: usize = 2;

/// The limits of the policy that are not in its table, by the form field that carries each.
const NAMED_LIMITS: [(&str, &str); 5] = [
    ("warn_before", "到期前黄灯提醒"),
    ("warn_before_urgent", "紧急件到期前提醒"),
    ("supervise_after", "超期后自动督办"),
    ("supervision_deadline", "自动督办的办理期限"),
    ("reopen_within", "办结后可重新办理的期限"),
];

fn named_limit(policy: &Policy, field: &str) -> Limit {
    match field {
        "warn_before" => policy.ladder.warn_before,
        "warn_before_urgent" => policy.ladder.warn_before_urgent,
        "supervise_after" => policy.ladder.supervise_after,
        "supervision_deadline" => policy.ladder.supervision_deadline,
        _ => policy.reopen_within,
    }
}

fn type_choices() -> Vec<Choice> {
    std::iter::once(Choice {
        value: String::new(),
        label: "所有类型".to_owned(),
    })
    .chain(TicketType::ALL.iter().map(|t| Choice {
        value: t.as_str().to_owned(),
        label: labels::ticket_type(*t).to_owned(),
    }))
    .collect()
}

fn priority_choices() -> Vec<Choice> {
    Priority::ALL
        .iter()
        .map(|p| Choice {
            value: p.as_str().to_owned(),
            label: labels::priority(*p).to_owned(),
        })
        .collect()
}

fn clock_label(clock: RefusedReturnClock) -> &'static str {
    match clock {
        RefusedReturnClock::Continues => "原办理时限连续计算",
        RefusedReturnClock::Restarts => "自不予认可时重新计算",
    }
}

fn clock_text(clock: RefusedReturnClock) -> &'static str {
    match clock {
        RefusedReturnClock::Continues => "continues",
        RefusedReturnClock::Restarts => "restarts",
    }
}

const CLOCKS: [RefusedReturnClock; 2] =
    [RefusedReturnClock::Continues, RefusedReturnClock::Restarts];

/// `GET /admin/policy`: the policy in force as a form.
pub async fn policy(
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ConsoleError> {
    admin(&signed, Permission::ManageDeadlines)?;
    let current = read(&state, |c| Ok(store::policy::current(c)?)).await?;
    let policy = &current.policy;
    let rules = policy
        .limits
        .iter()
        .map(Some)
        .chain(std::iter::repeat_n(None, BLANK_RULES))
        .enumerate()
        .map(|(index, rule): (usize, Option<&LimitRule>)| RuleShown {
            index,
            ticket_type: Picked::of(
                type_choices(),
                rule.and_then(|r| r.ticket_type)
                    .map(|t| t.as_str())
                    .unwrap_or_default(),
            ),
            priority: Picked::of(
                priority_choices(),
                rule.map_or(Priority::Normal, |r| r.priority).as_str(),
            ),
            sign: LimitShown::of(rule.map(|r| r.sign)),
            reply: LimitShown::of(rule.map(|r| r.reply)),
        })
        .collect();
    render(
        HttpResponse::Ok(),
        &PolicyPage {
            chrome: Chrome::of(&state, signed.person()),
            form_token: signed.form_token.clone(),
            version: match (current.version, current.created_at) {
                (Some(version), Some(at)) => {
                    format!("第 {version} 版，{} 起施行", local_time(&state, at))
                }
                _ => "内置默认规则（尚未修改）".to_owned(),
            },
            rules,
            callback_types: TicketType::ALL
                .iter()
                .map(|t| TypeChecked {
                    value: t.as_str(),
                    label: labels::ticket_type(*t),
                    checked: policy.callback_after_direct_answer.contains(t),
                })
                .collect(),
            max_callback_attempts: policy.max_callback_attempts,
            max_returns: policy.max_returns,
            limits: NAMED_LIMITS
                .iter()
                .map(|(field, label)| {
                    (
                        *field,
                        *label,
                        LimitShown::of(Some(named_limit(policy, field))),
                    )
                })
                .collect(),
            refused_return_clock: Picked::of(
                CLOCKS
                    .iter()
                    .map(|c| Choice {
                        value: clock_text(*c).to_owned(),
                        label: clock_label(*c).to_owned(),
                    })
                    .collect(),
                clock_text(policy.refused_return_clock),
            ),
        },
    )
}

/// The policy a submitted form states. Its fields repeat (`callback`, one per ticked type) and
/// are numbered (`rule3_sign_amount`), so the body is read as the pairs it is.
fn policy_of(fields: &[(String, String)]) -> Result<Policy, ApiError> {
    let one: BTreeMap<&str, &str> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let field = |name: &str| one.get(name).copied().unwrap_or("");
    let limit = |prefix: &str| -> Result<Option<Limit>, ApiError> {
        let amount = field(&format!("{prefix}_amount"));
        if amount.trim().is_empty() {
            return Ok(None);
        }
        let unit: LimitUnit = picked(&format!("{prefix}_unit"), field(&format!("{prefix}_unit")))?;
        Ok(Some(Limit::of(
            unit,
            whole_number(&format!("{prefix}_amount"), amount)?,
        )))
    };
    let required = |prefix: &str| -> Result<Limit, ApiError> {
        limit(prefix)?
            .ok_or_else(|| ApiError::invalid_field(&format!("{prefix}_amount"), "is required"))
    };
    let mut limits = Vec::new();
    for index in 0.. {
        let prefix = format!("rule{index}");
        if !one.contains_key(format!("{prefix}_priority").as_str()) {
            break;
        }
        let (sign, reply) = (
            limit(&format!("{prefix}_sign"))?,
            limit(&format!("{prefix}_reply"))?,
        );
        match (sign, reply) {
            (None, None) => continue,
            (Some(sign), Some(reply)) => limits.push(LimitRule {
                ticket_type: match field(&format!("{prefix}_type")) {
                    "" => None,
                    raw => Some(picked(&format!("{prefix}_type"), raw)?),
                },
                priority: picked(
                    &format!("{prefix}_priority"),
                    field(&format!("{prefix}_priority")),
                )?,
                sign,
                reply,
            }),
            _ => {
                return Err(ApiError::invalid_field(
                    &prefix,
                    "a row needs both a sign limit and a reply limit, or neither to remove it",
                ));
            }
        }
    }
    let callback_after_direct_answer = fields
        .iter()
        .filter(|(k, _)| k == "callback")
        .map(|(_, v)| picked::<TicketType>("callback", v))
        .collect::<Result<_, _>>()?;
    let refused_return_clock = CLOCKS
        .into_iter()
        .find(|c| clock_text(*c) == field("refused_return_clock"))
        .ok_or_else(|| ApiError::invalid_field("refused_return_clock", "pick one of the list"))?;
    Ok(Policy {
        limits,
        callback_after_direct_answer,
        max_callback_attempts: whole_number(
            "max_callback_attempts",
            field("max_callback_attempts"),
        )?,
        max_returns: whole_number("max_returns", field("max_returns"))?,
        ladder: Ladder {
            warn_before: required("warn_before")?,
            warn_before_urgent: required("warn_before_urgent")?,
            supervise_after: required("supervise_after")?,
            supervision_deadline: required("supervision_deadline")?,
        },
        reopen_within: required("reopen_within")?,
        refused_return_clock,
    })
}

/// `POST /admin/policy`: a new version of the policy, for dispatches from now on.
pub async fn replace_policy(
    state: web::Data<AppState>,
    signed: Signed,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    let fields = form.into_inner();
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    check_form_token(csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageDeadlines)?;
    let policy = policy_of(&fields)?.check().map_err(ApiError::validation)?;
    let by = caller.id();
    write_value(&state, &caller, move |conn, now| {
        crate::api::deadlines::replace_policy(conn, now, by, &policy)
    })
    .await?;
    Ok(see_other("/admin/policy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(text).unwrap()
    }

    #[test]
    fn the_policy_form_reads_back_into_the_policy_it_shows() {
        let policy = Policy::default();
        let mut fields = vec![
            (
                "max_callback_attempts".to_owned(),
                policy.max_callback_attempts.to_string(),
            ),
            ("max_returns".to_owned(), policy.max_returns.to_string()),
            ("refused_return_clock".to_owned(), "continues".to_owned()),
        ];
        for (index, rule) in policy.limits.iter().enumerate() {
            let p = format!("rule{index}");
            fields.push((
                format!("{p}_type"),
                rule.ticket_type
                    .map(|t| t.as_str())
                    .unwrap_or("")
                    .to_owned(),
            ));
            fields.push((format!("{p}_priority"), rule.priority.as_str().to_owned()));
            for (part, limit) in [("sign", rule.sign), ("reply", rule.reply)] {
                fields.push((format!("{p}_{part}_amount"), limit.amount().to_string()));
                fields.push((format!("{p}_{part}_unit"), limit.unit().as_str().to_owned()));
            }
        }
        let blank = policy.limits.len();
        fields.push((format!("rule{blank}_priority"), "normal".to_owned()));
        fields.push((format!("rule{blank}_sign_amount"), String::new()));
        for t in &policy.callback_after_direct_answer {
            fields.push(("callback".to_owned(), t.as_str().to_owned()));
        }
        for (field, _) in NAMED_LIMITS {
            let limit = named_limit(&policy, field);
            fields.push((format!("{field}_amount"), limit.amount().to_string()));
            fields.push((format!("{field}_unit"), limit.unit().as_str().to_owned()));
        }
        assert_eq!(policy_of(&fields).unwrap(), policy);
    }

    #[test]
    fn a_half_filled_row_or_a_word_for_a_number_is_refused() {
        let base = "max_callback_attempts=3&max_returns=3&refused_return_clock=continues\
             &warn_before_amount=1&warn_before_unit=working_days\
             &warn_before_urgent_amount=1&warn_before_urgent_unit=hours\
             &supervise_after_amount=5&supervise_after_unit=working_days\
             &supervision_deadline_amount=3&supervision_deadline_unit=working_days\
             &reopen_within_amount=20&reopen_within_unit=working_days";
        assert!(policy_of(&pairs(base)).is_ok());
        let half =
            format!("{base}&rule0_priority=normal&rule0_sign_amount=1&rule0_sign_unit=hours");
        assert!(policy_of(&pairs(&half)).is_err());
        let word = base.replace("max_returns=3", "max_returns=three");
        assert!(policy_of(&pairs(&word)).is_err());
        let unknown_unit = base.replace(
            "reopen_within_unit=working_days",
            "reopen_within_unit=weeks",
        );
        assert!(policy_of(&pairs(&unknown_unit)).is_err());
    }

    #[test]
    fn calendar_lines_read_a_date_and_an_optional_name() {
        let days = day_lines("holidays", "2026-10-01 国庆节\n\n  2026-10-02\n").unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].name.as_deref(), Some("国庆节"));
        assert_eq!(days[1].name, None);
        assert!(day_lines("holidays", "10月1日 国庆节").is_err());
    }
}
