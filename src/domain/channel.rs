//! The channels an office counts its requests by (来源渠道), as its administrator defines them.
//!
//! A channel's kind is one of the fixed [`Channel`] values: what integrations are bound to and
//! what the event feed scopes by. Its code is the office's own name for a source, such as the
//! provincial 12345 platform, the national government service platform or the People's Daily
//! message board, all three handed down from above (`upper_platform`). The bulletin counts by
//! code, folds codes into the rows an office prints, and gives a section of its own to the
//! channels that ask for one (the mayor's mailbox, 市长信箱). The eight kinds are also the codes
//! of the eight channels every hotline starts with.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::ticket::Channel;
use super::validation::{ValidationErrors, not_null, single_line};

pub const CODE_MAX: usize = 40;
pub const NAME_MAX: usize = 40;

/// A channel as the office defines it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDefinition {
    pub code: String,
    pub name: String,
    pub kind: Channel,
    /// The row of the bulletin's channel table this channel counts in; channels sharing one are
    /// added together.
    pub bulletin_row: String,
    /// Whether the bulletin gives the channel a section of its own: its types, completion and
    /// satisfaction.
    pub own_section: bool,
    pub sort_order: i32,
    /// Inactive channels take no new tickets; their tickets keep counting under them.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `PUT /api/v1/channels/{code}`: the whole definition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    pub name: String,
    pub kind: Channel,
    /// Defaults to the name.
    #[serde(default, deserialize_with = "not_null")]
    pub bulletin_row: Option<String>,
    #[serde(default)]
    pub own_section: bool,
    #[serde(default)]
    pub sort_order: i32,
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

/// A checked definition, ready to be stored under its code.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDraft {
    pub code: String,
    pub name: String,
    pub kind: Channel,
    pub bulletin_row: String,
    pub own_section: bool,
    pub sort_order: i32,
    pub active: bool,
}

/// Codes are lower-case letters, digits and underscores, starting with a letter: they travel in
/// URLs, query strings and import files.
pub fn check_code(code: &str) -> Result<(), String> {
    let well_formed = code.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed || code.len() > CODE_MAX {
        return Err(format!(
            "a channel code is 1 to {CODE_MAX} lower-case letters, digits and underscores, \
             starting with a letter"
        ));
    }
    Ok(())
}

impl ChannelDraft {
    pub fn parse(code: &str, input: ChannelInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check("code", check_code(code));
        let name = errors.check("name", single_line(&input.name, NAME_MAX));
        let bulletin_row = match input.bulletin_row.as_deref() {
            None => name.clone(),
            Some(row) => errors.check("bulletin_row", single_line(row, NAME_MAX)),
        };
        match (name, bulletin_row) {
            (Some(name), Some(bulletin_row)) if errors.is_empty() => Ok(Self {
                code: code.to_owned(),
                name,
                kind: input.kind,
                bulletin_row,
                own_section: input.own_section,
                sort_order: input.sort_order,
                active: input.active,
            }),
            _ => Err(errors),
        }
    }

    /// What changing `current` into this draft may not do: a channel's tickets were registered
    /// under its kind, and integrations and the event feed go by it.
    pub fn check_change(&self, current: &ChannelDefinition) -> Result<(), ValidationErrors> {
        if self.kind != current.kind {
            return Err(ValidationErrors::single(
                "kind",
                format!(
                    "channel `{}` is of kind `{}`; a kind cannot change once tickets may have \
                     been registered under it: define a new channel instead",
                    current.code, current.kind
                ),
            ));
        }
        Ok(())
    }
}

/// The channel a registration asks for: a code, or by default the registrant's own kind's or the
/// phone's.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelChoice {
    pub code: String,
    /// An integration registers on channels of its own kind only.
    pub bound_to: Option<Channel>,
}

impl ChannelChoice {
    pub fn new(asked: Option<&str>, bound_to: Option<Channel>) -> Self {
        let code = match asked.map(str::trim) {
            Some(code) => code.to_owned(),
            None => bound_to.unwrap_or(Channel::Phone).as_str().to_owned(),
        };
        Self { code, bound_to }
    }

    /// The kind the ticket registers under, given the definition found for the code (if any).
    pub fn resolve(&self, found: Option<&ChannelDefinition>) -> Result<Channel, ValidationErrors> {
        let refuse = |message: String| Err(ValidationErrors::single("channel", message));
        match found {
            None => refuse(format!(
                "no channel has the code `{}`; `GET /api/v1/channels` lists them",
                self.code
            )),
            Some(c) if !c.active => refuse(format!(
                "channel `{}` is no longer in use and takes no new tickets",
                c.code
            )),
            Some(c) => match self.bound_to {
                Some(own) if own != c.kind => refuse(format!(
                    "this client registers tickets on channels of its own kind `{own}` only; \
                     `{}` is of kind `{}`",
                    c.code, c.kind
                )),
                _ => Ok(c.kind),
            },
        }
    }
}

/// The eight channels every hotline starts with, as the migrations write them: one of each kind,
/// named as the bulletins print them, each its own row.
#[cfg(test)]
pub fn starting_set() -> Vec<ChannelDefinition> {
    let names = [
        "12345电话",
        "网站留言",
        "微信",
        "手机APP",
        "领导信箱",
        "上级交办",
        "开放接口",
        "其他渠道",
    ];
    Channel::ALL
        .iter()
        .zip(names)
        .zip((10..).step_by(10))
        .map(|((kind, name), sort_order)| ChannelDefinition {
            code: kind.as_str().into(),
            name: name.into(),
            kind: *kind,
            bulletin_row: name.into(),
            own_section: false,
            sort_order,
            active: true,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(value: serde_json::Value) -> ChannelInput {
        serde_json::from_value(value).unwrap()
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.errors().iter().map(|e| e.field.as_str()).collect()
    }

    fn defined(code: &str, kind: Channel, active: bool) -> ChannelDefinition {
        ChannelDefinition {
            code: code.into(),
            name: code.into(),
            kind,
            bulletin_row: code.into(),
            own_section: false,
            sort_order: 0,
            active,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_definition_names_its_row_after_itself_unless_told() {
        let draft = ChannelDraft::parse(
            "province_12345",
            input(json!({"name": "省级12345热线", "kind": "upper_platform"})),
        )
        .unwrap();
        assert_eq!(draft.bulletin_row, "省级12345热线");
        assert!(draft.active);
        assert!(!draft.own_section);
        let draft = ChannelDraft::parse(
            "people_daily",
            input(json!({"name": "人民网留言板", "kind": "web", "bulletin_row": "上级交办"})),
        )
        .unwrap();
        assert_eq!(draft.bulletin_row, "上级交办");
    }

    #[test]
    fn codes_names_and_rows_are_checked_field_by_field() {
        for bad in [
            "",
            "Phone",
            "9lives",
            "with space",
            "省长信箱",
            &"a".repeat(41),
        ] {
            let errors =
                ChannelDraft::parse(bad, input(json!({"name": "x", "kind": "web"}))).unwrap_err();
            assert_eq!(fields(&errors), ["code"], "{bad:?}");
        }
        let errors = ChannelDraft::parse(
            "ok",
            input(json!({"name": " ", "kind": "web", "bulletin_row": "a\nb"})),
        )
        .unwrap_err();
        assert_eq!(fields(&errors), ["name", "bulletin_row"]);
        assert!(
            serde_json::from_value::<ChannelInput>(json!({"name": "x", "kind": "fax"})).is_err()
        );
        assert!(
            serde_json::from_value::<ChannelInput>(
                json!({"name": "x", "kind": "web", "bulletin_row": null})
            )
            .is_err()
        );
    }

    #[test]
    fn a_kind_never_changes() {
        let current = defined("mailbox", Channel::Mailbox, true);
        let same = ChannelDraft::parse(
            "mailbox",
            input(json!({"name": "市长信箱", "kind": "mailbox"})),
        )
        .unwrap();
        assert!(same.check_change(&current).is_ok());
        let other =
            ChannelDraft::parse("mailbox", input(json!({"name": "x", "kind": "web"}))).unwrap();
        assert_eq!(fields(&other.check_change(&current).unwrap_err()), ["kind"]);
    }

    #[test]
    fn a_registration_goes_to_an_active_channel_of_the_registrants_kind() {
        let staff = ChannelChoice::new(None, None);
        assert_eq!(staff.code, "phone");
        assert_eq!(
            staff.resolve(Some(&defined("phone", Channel::Phone, true))),
            Ok(Channel::Phone)
        );
        assert!(staff.resolve(None).is_err());
        assert!(
            staff
                .resolve(Some(&defined("phone", Channel::Phone, false)))
                .is_err()
        );

        let platform = ChannelChoice::new(None, Some(Channel::UpperPlatform));
        assert_eq!(platform.code, "upper_platform");
        let relayed = ChannelChoice::new(Some("province_12345"), Some(Channel::UpperPlatform));
        assert_eq!(
            relayed.resolve(Some(&defined(
                "province_12345",
                Channel::UpperPlatform,
                true
            ))),
            Ok(Channel::UpperPlatform)
        );
        let elsewhere = ChannelChoice::new(Some("wechat"), Some(Channel::UpperPlatform));
        let errors = elsewhere
            .resolve(Some(&defined("wechat", Channel::Wechat, true)))
            .unwrap_err();
        assert_eq!(fields(&errors), ["channel"]);
    }
}
