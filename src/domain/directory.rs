//! The hotline's directory: responsible units, the two-level category tree, user accounts.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::access::Role;
use super::ticket::Channel;
use super::validation::{ValidationErrors, not_null, nullable, single_line};

text_enum! {
    /// What sort of body a unit is; bulletins rank units within their kind.
    pub enum UnitKind {
        /// A county or city department (人社局, 住建局 …).
        Department = "department",
        /// A township or street office (乡镇/街道).
        Township = "township",
        /// A public enterprise (供电公司, 移动公司, 银行 …).
        Enterprise = "enterprise",
        /// A hotline center itself.
        Center = "center",
    }
}

impl UnitKind {
    /// Whether a ticket's area (where it happened) may be a unit of this kind: the township or
    /// street office of the place, never a department or an enterprise.
    pub fn is_area(self) -> bool {
        self == UnitKind::Township
    }

    /// The problem with naming a unit of this kind as a ticket's area, if any.
    pub fn area_problem(self) -> Option<String> {
        (!self.is_area()).then(|| {
            format!("must be a township or street office (乡镇/街道), not a unit of kind `{self}`")
        })
    }
}

pub const UNIT_NAME_MAX: usize = 64;
pub const CATEGORY_NAME_MAX: usize = 32;
pub const DISPLAY_NAME_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;
/// Joins a first-level and a second-level category name: `城市管理—市容市政`.
pub const CATEGORY_SEPARATOR: char = '—';

/// A unit's short code: ASCII letters, digits, `-` and `_`, up to 32 characters. Codes are
/// stable identifiers for imports and other systems, so they never change once set.
pub fn unit_code(value: &str) -> Result<String, String> {
    let code = value.trim();
    if code.is_empty() || code.len() > 32 {
        return Err("must be 1 to 32 characters".into());
    }
    if !code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("may contain only ASCII letters, digits, '-' and '_'".into());
    }
    Ok(code.to_owned())
}

/// Usernames are case-insensitive: stored lower-case, 2 to 64 characters of `a-z 0-9 . _ -`,
/// starting with a letter or digit.
pub fn username(value: &str) -> Result<String, String> {
    let name = value.trim().to_lowercase();
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(2..=64).contains(&name.len()) || !valid_chars || !starts_well {
        return Err(
            "must be 2 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
                .into(),
        );
    }
    Ok(name)
}

pub fn password(value: &str) -> Result<String, String> {
    let count = value.chars().count();
    if count < PASSWORD_MIN {
        return Err(format!("must be at least {PASSWORD_MIN} characters"));
    }
    if count > PASSWORD_MAX {
        return Err(format!("must be at most {PASSWORD_MAX} characters"));
    }
    Ok(value.to_owned())
}

fn category_name(value: &str) -> Result<String, String> {
    let name = single_line(value, CATEGORY_NAME_MAX)?;
    if name.contains(CATEGORY_SEPARATOR) {
        return Err(format!("must not contain '{CATEGORY_SEPARATOR}'"));
    }
    Ok(name)
}

/// A category's name as bulletins print it.
pub fn category_full_name(parent: Option<&str>, name: &str) -> String {
    match parent {
        Some(parent) => format!("{parent}{CATEGORY_SEPARATOR}{name}"),
        None => name.to_owned(),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<Uuid>,
    pub sort_order: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub full_name: String,
    pub level: i32,
    pub default_unit_id: Option<Uuid>,
    pub sort_order: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub attachment: Attachment,
    pub active: bool,
    pub must_change_password: bool,
    /// Tokens are valid only for the generation they were issued in; a password change,
    /// deactivation or role change starts a new one.
    pub token_generation: i64,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether making `new_parent` the parent of `unit` would close a loop in the unit tree.
/// `parent_of` answers each unit's current parent.
pub fn creates_cycle(
    unit: Uuid,
    new_parent: Uuid,
    parent_of: impl Fn(Uuid) -> Option<Uuid>,
) -> bool {
    let mut current = Some(new_parent);
    let mut steps = 0usize;
    while let Some(id) = current {
        if id == unit {
            return true;
        }
        steps += 1;
        if steps > 10_000 {
            // Only an existing loop gets here; refuse rather than spin.
            return true;
        }
        current = parent_of(id);
    }
    false
}

/// Whether `unit` lies below `ancestor` in the unit tree (a sub-unit, at any depth).
pub fn lies_under(unit: Uuid, ancestor: Uuid, parent_of: impl Fn(Uuid) -> Option<Uuid>) -> bool {
    let mut current = parent_of(unit);
    // A tree is never deeper than its units; a loop in stored data ends the walk.
    for _ in 0..10_000 {
        match current {
            Some(id) if id == ancestor => return true,
            Some(id) => current = parent_of(id),
            None => return false,
        }
    }
    false
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub sort_order: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnitDraft {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<Uuid>,
    pub sort_order: i32,
}

impl UnitDraft {
    pub fn parse(input: UnitInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let code = errors.check("code", unit_code(&input.code));
        let name = errors.check("name", single_line(&input.name, UNIT_NAME_MAX));
        match (code, name) {
            (Some(code), Some(name)) if errors.is_empty() => Ok(Self {
                code,
                name,
                kind: input.kind,
                parent_id: input.parent_id,
                sort_order: input.sort_order,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitPatchInput {
    #[serde(default, deserialize_with = "not_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    pub kind: Option<UnitKind>,
    #[serde(default, deserialize_with = "nullable")]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "not_null")]
    pub sort_order: Option<i32>,
    #[serde(default, deserialize_with = "not_null")]
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitPatch {
    pub name: Option<String>,
    pub kind: Option<UnitKind>,
    pub parent_id: Option<Option<Uuid>>,
    pub sort_order: Option<i32>,
    pub active: Option<bool>,
}

impl UnitPatch {
    pub fn parse(input: UnitPatchInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = match input.name.as_deref() {
            Some(name) => errors.check("name", single_line(name, UNIT_NAME_MAX)),
            None => None,
        };
        errors.finish()?;
        Ok(Self {
            name,
            kind: input.kind,
            parent_id: input.parent_id,
            sort_order: input.sort_order,
            active: input.active,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub default_unit_id: Option<Uuid>,
    #[serde(default)]
    pub sort_order: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CategoryDraft {
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub default_unit_id: Option<Uuid>,
    pub sort_order: i32,
}

impl CategoryDraft {
    pub fn parse(input: CategoryInput) -> Result<Self, ValidationErrors> {
        let name = category_name(&input.name).map_err(|m| ValidationErrors::single("name", m))?;
        Ok(Self {
            name,
            parent_id: input.parent_id,
            default_unit_id: input.default_unit_id,
            sort_order: input.sort_order,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatchInput {
    #[serde(default, deserialize_with = "not_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub default_unit_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "not_null")]
    pub sort_order: Option<i32>,
    #[serde(default, deserialize_with = "not_null")]
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub default_unit_id: Option<Option<Uuid>>,
    pub sort_order: Option<i32>,
    pub active: Option<bool>,
}

impl CategoryPatch {
    pub fn parse(input: CategoryPatchInput) -> Result<Self, ValidationErrors> {
        let name = input
            .name
            .as_deref()
            .map(category_name)
            .transpose()
            .map_err(|m| ValidationErrors::single("name", m))?;
        Ok(Self {
            name,
            default_unit_id: input.default_unit_id,
            sort_order: input.sort_order,
            active: input.active,
        })
    }
}

/// What ties an account to the organisation: its role, the unit a unit handler belongs to, the
/// channel an integration registers on. The combination is checked as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment {
    pub role: Role,
    pub unit_id: Option<Uuid>,
    pub channel: Option<Channel>,
}

impl Attachment {
    pub fn check(self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match (self.role.requires_unit(), self.unit_id) {
            (true, None) => errors.add("unit_id", "a unit handler must belong to a unit"),
            (false, Some(_)) => errors.add("unit_id", "only unit handlers belong to a unit"),
            _ => {}
        }
        match (self.role.requires_channel(), self.channel) {
            (true, None) => errors.add(
                "channel",
                "an integration must have the channel it registers tickets on",
            ),
            (false, Some(_)) => errors.add("channel", "only integrations have a channel"),
            _ => {}
        }
        errors.finish().map(|()| self)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub unit_id: Option<Uuid>,
    #[serde(default)]
    pub channel: Option<Channel>,
    pub password: String,
    #[serde(default)]
    pub must_change_password: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserDraft {
    pub username: String,
    pub display_name: String,
    pub attachment: Attachment,
    pub password: String,
    pub must_change_password: bool,
}

impl UserDraft {
    pub fn parse(input: UserInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let username = errors.check("username", username(&input.username));
        let display_name = errors.check(
            "display_name",
            single_line(&input.display_name, DISPLAY_NAME_MAX),
        );
        let password = errors.check("password", password(&input.password));
        let attachment = Attachment {
            role: input.role,
            unit_id: input.unit_id,
            channel: input.channel,
        };
        if let Err(more) = attachment.check() {
            errors.merge(more);
        }
        match (username, display_name, password) {
            (Some(username), Some(display_name), Some(password)) if errors.is_empty() => Ok(Self {
                username,
                display_name,
                attachment,
                password,
                must_change_password: input.must_change_password,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatchInput {
    #[serde(default, deserialize_with = "not_null")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "nullable")]
    pub unit_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    pub channel: Option<Option<Channel>>,
    #[serde(default, deserialize_with = "not_null")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    pub must_change_password: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub unit_id: Option<Option<Uuid>>,
    pub channel: Option<Option<Channel>>,
    pub active: Option<bool>,
    pub password: Option<String>,
    pub must_change_password: Option<bool>,
}

impl UserPatch {
    pub fn parse(input: UserPatchInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let display_name = match input.display_name.as_deref() {
            Some(name) => errors.check("display_name", single_line(name, DISPLAY_NAME_MAX)),
            None => None,
        };
        let password = match input.password.as_deref() {
            Some(value) => errors.check("password", password(value)),
            None => None,
        };
        errors.finish()?;
        Ok(Self {
            display_name,
            role: input.role,
            unit_id: input.unit_id,
            channel: input.channel,
            active: input.active,
            password,
            must_change_password: input.must_change_password,
        })
    }

    /// The attachment an account has after this patch, checked as a whole.
    pub fn attachment_after(&self, current: Attachment) -> Result<Attachment, ValidationErrors> {
        Attachment {
            role: self.role.unwrap_or(current.role),
            unit_id: self.unit_id.unwrap_or(current.unit_id),
            channel: self.channel.unwrap_or(current.channel),
        }
        .check()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sub_units_lie_under_their_ancestors_only() {
        let (county, bureau, office, other) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
        );
        let parent_of = |id: Uuid| match id {
            id if id == bureau => Some(county),
            id if id == office => Some(bureau),
            _ => None,
        };
        assert!(lies_under(office, bureau, parent_of));
        assert!(lies_under(office, county, parent_of));
        assert!(!lies_under(bureau, office, parent_of));
        assert!(!lies_under(bureau, bureau, parent_of));
        assert!(!lies_under(other, county, parent_of));
        let looped = |id: Uuid| Some(if id == bureau { office } else { bureau });
        assert!(!lies_under(bureau, county, looped));
    }

    use super::*;

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn the_unit_tree_cannot_loop() {
        let county = Uuid::now_v7();
        let town = Uuid::now_v7();
        let village = Uuid::now_v7();
        let parent_of = |id: Uuid| {
            if id == town {
                Some(county)
            } else if id == village {
                Some(town)
            } else {
                None
            }
        };
        assert!(creates_cycle(county, village, parent_of));
        assert!(creates_cycle(town, town, parent_of));
        assert!(!creates_cycle(village, county, parent_of));
        assert!(!creates_cycle(county, Uuid::now_v7(), parent_of));
    }

    #[test]
    fn unit_codes_are_short_ascii() {
        assert_eq!(unit_code(" rsj ").unwrap(), "rsj");
        assert_eq!(unit_code("410329-rsj_1").unwrap(), "410329-rsj_1");
        assert!(unit_code("").is_err());
        assert!(unit_code("人社局").is_err());
        assert!(unit_code(&"a".repeat(33)).is_err());
    }

    #[test]
    fn usernames_are_lower_cased_and_restricted() {
        assert_eq!(username(" Agent.01 ").unwrap(), "agent.01");
        assert!(username("a").is_err());
        assert!(username("-dash").is_err());
        assert!(username("张三").is_err());
        assert!(username("with space").is_err());
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(password("short").is_err());
        assert!(password("long enough!").is_ok());
        assert!(password(&"x".repeat(PASSWORD_MAX + 1)).is_err());
    }

    #[test]
    fn category_names_cannot_contain_the_separator() {
        let input = CategoryInput {
            name: "城市管理—市容".into(),
            parent_id: None,
            default_unit_id: None,
            sort_order: 0,
        };
        assert_eq!(fields(&CategoryDraft::parse(input).unwrap_err()), ["name"]);
        assert_eq!(
            category_full_name(Some("城市管理"), "市容市政"),
            "城市管理—市容市政"
        );
        assert_eq!(category_full_name(None, "城市管理"), "城市管理");
    }

    #[test]
    fn unit_draft_reports_every_bad_field() {
        let input = UnitInput {
            code: "bad code".into(),
            name: " ".into(),
            kind: UnitKind::Department,
            parent_id: None,
            sort_order: 0,
        };
        assert_eq!(
            fields(&UnitDraft::parse(input).unwrap_err()),
            ["code", "name"]
        );
    }

    #[test]
    fn attachments_match_the_role() {
        let unit = Some(Uuid::now_v7());
        let ok = |role, unit_id, channel| {
            Attachment {
                role,
                unit_id,
                channel,
            }
            .check()
            .is_ok()
        };
        assert!(ok(Role::UnitHandler, unit, None));
        assert!(!ok(Role::UnitHandler, None, None));
        assert!(!ok(Role::Agent, unit, None));
        assert!(ok(Role::Integration, None, Some(Channel::UpperPlatform)));
        assert!(!ok(Role::Integration, None, None));
        assert!(!ok(Role::Agent, None, Some(Channel::Phone)));
        assert!(ok(Role::Admin, None, None));
    }

    #[test]
    fn a_patch_is_checked_against_the_account_it_changes() {
        let handler = Attachment {
            role: Role::UnitHandler,
            unit_id: Some(Uuid::now_v7()),
            channel: None,
        };
        let to_agent = UserPatch {
            role: Some(Role::Agent),
            ..UserPatch::default()
        };
        assert!(to_agent.attachment_after(handler).is_err());
        let to_agent_without_unit = UserPatch {
            role: Some(Role::Agent),
            unit_id: Some(None),
            ..UserPatch::default()
        };
        assert_eq!(
            to_agent_without_unit.attachment_after(handler).unwrap(),
            Attachment {
                role: Role::Agent,
                unit_id: None,
                channel: None
            }
        );
    }
}
