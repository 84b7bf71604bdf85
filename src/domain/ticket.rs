//! A citizen's request: what makes one valid, how it may be edited, how it is numbered.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::access::{Actor, Role};
use super::calendar::Due;
use super::channel::ChannelChoice;
use super::validation::{
    ValidationErrors, not_null, nullable, optional_single_line, required_text, single_line,
};

text_enum! {
    /// Where a request came in.
    pub enum Channel {
        /// A call to 12345.
        Phone = "phone",
        /// The web message board (网上留言).
        Web = "web",
        Wechat = "wechat",
        App = "app",
        /// The mayor's or county head's mailbox (市长信箱).
        Mailbox = "mailbox",
        /// Handed down by a provincial or city platform (上级交办).
        UpperPlatform = "upper_platform",
        Open311 = "open311",
        Other = "other",
    }
}

text_enum! {
    /// The nature of a request (诉求类型).
    pub enum TicketType {
        Consult = "consult",
        Help = "help",
        Complaint = "complaint",
        Report = "report",
        Suggestion = "suggestion",
        Praise = "praise",
        Other = "other",
    }
}

text_enum! {
    #[derive(Default)]
    pub enum Priority {
        #[default]
        Normal = "normal",
        Urgent = "urgent",
    }
}

text_enum! {
    /// Where a ticket stands in its lifecycle.
    pub enum TicketStatus {
        Registered = "registered",
        Dispatched = "dispatched",
        Handling = "handling",
        Returned = "returned",
        Replied = "replied",
        AwaitingCallback = "awaiting_callback",
        Closed = "closed",
        Merged = "merged",
        Invalid = "invalid",
    }
}

text_enum! {
    /// The orders a ticket list comes in.
    pub enum TicketOrder {
        /// Newest first (the default).
        Newest = "created",
        /// Earliest reply due time first; only tickets that have one (a unit's inbox).
        DueFirst = "due",
    }
}

text_enum! {
    /// What an event on the timeline records: registration and edits, then the lifecycle's
    /// changes (`domain::lifecycle::Change`).
    pub enum EventKind {
        Registered = "registered",
        Edited = "edited",
        Answered = "answered",
        Dispatched = "dispatched",
        Signed = "signed",
        Returned = "returned",
        ExtensionRequested = "extension_requested",
        ExtensionApproved = "extension_approved",
        ExtensionRejected = "extension_rejected",
        Replied = "replied",
        OpinionAdded = "opinion_added",
        ReviewAccepted = "review_accepted",
        ReviewRejected = "review_rejected",
        CallbackRecorded = "callback_recorded",
        Reopened = "reopened",
        Closed = "closed",
        Merged = "merged",
        Invalidated = "invalidated",
        Urged = "urged",
        MarkedOverdue = "marked_overdue",
        CallbackReminded = "callback_reminded",
        Paused = "paused",
        Resumed = "resumed",
        SupervisionOpened = "supervision_opened",
        SupervisionClosed = "supervision_closed",
        /// The office took back a dispatch its primary unit had not signed for (撤回).
        Recalled = "recalled",
        Forwarded = "forwarded",
        ForwardReturned = "forward_returned",
        /// The office agreed with a return: the ticket waits to be dispatched again.
        ReturnAccepted = "return_accepted",
        /// The office refused a return (退单不予认可): the unit handles the ticket after all.
        ReturnRefused = "return_refused",
        /// A duplicate was merged into this ticket (the duplicate's own timeline says `merged`).
        DuplicateMerged = "duplicate_merged",
        /// A unit appealed (申诉) against a mark on its figures; the lifecycle is unchanged.
        AppealFiled = "appeal_filed",
        AppealDecided = "appeal_decided",
    }
}

text_enum! {
    /// A unit's part in one dispatch round.
    pub enum AssignmentRole {
        /// 主办: answers for the ticket and replies.
        Primary = "primary",
        /// 协办: helps and gives its opinion.
        Assisting = "assisting",
        /// 二级转办: a sub-unit works on its parent unit's assignment in the parent's name; the
        /// parent keeps the responsibility and the due time.
        Forwarded = "forwarded",
    }
}

text_enum! {
    pub enum AssignmentStatus {
        /// Waiting for the unit to sign for it.
        Dispatched = "dispatched",
        Signed = "signed",
        Returned = "returned",
        Replied = "replied",
        /// Ended without a reply of its own (the ticket moved on or closed).
        Closed = "closed",
    }
}

/// One unit's share of one dispatch round.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub unit_id: Uuid,
    pub round: i32,
    pub role: AssignmentRole,
    pub status: AssignmentStatus,
    pub forced: bool,
    pub dispatched_by: Uuid,
    pub dispatched_at: DateTime<Utc>,
    /// When the unit must sign, and how that was worked out.
    pub sign_deadline: Due,
    /// The reply due time in force (moved by approved extensions and rework), and how.
    pub reply_deadline: Due,
    /// The due time set at dispatch, kept for scoring.
    pub original_due_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// For a forwarded assignment, the parent unit's assignment it works on.
    pub forwarded_from: Option<Uuid>,
}

impl Assignment {
    pub fn sign_due_at(&self) -> DateTime<Utc> {
        self.sign_deadline.due_at
    }

    pub fn due_at(&self) -> DateTime<Utc> {
        self.reply_deadline.due_at
    }
}

/// One entry of a ticket's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEvent {
    pub id: i64,
    pub ticket_id: Uuid,
    /// The ticket's version once this event was applied.
    pub ticket_version: i64,
    pub kind: EventKind,
    pub actor: Actor,
    pub assignment_id: Option<Uuid>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl TicketStatus {
    /// A unit works on the ticket against a due time: exactly the tickets that have one.
    pub const BEING_WORKED_ON: [TicketStatus; 2] =
        [TicketStatus::Dispatched, TicketStatus::Handling];

    /// Registration data may change until the ticket is (re)dispatched.
    pub fn is_editable(self) -> bool {
        matches!(self, TicketStatus::Registered | TicketStatus::Returned)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            TicketStatus::Closed | TicketStatus::Merged | TicketStatus::Invalid
        )
    }
}

pub const TITLE_MAX: usize = 200;
pub const CONTENT_MAX: usize = 10_000;
pub const NAME_MAX: usize = 64;
pub const ADDRESS_MAX: usize = 500;
pub const EXTERNAL_REF_MAX: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

impl GeoPoint {
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !(latitude.is_finite() && (-90.0..=90.0).contains(&latitude)) {
            errors.add("latitude", "must be between -90 and 90");
        }
        if !(longitude.is_finite() && (-180.0..=180.0).contains(&longitude)) {
            errors.add("longitude", "must be between -180 and 180");
        }
        errors.finish().map(|()| Self {
            latitude,
            longitude,
        })
    }

    fn from_parts(
        latitude: Option<f64>,
        longitude: Option<f64>,
    ) -> Result<Option<Self>, ValidationErrors> {
        match (latitude, longitude) {
            (None, None) => Ok(None),
            (Some(latitude), Some(longitude)) => Self::new(latitude, longitude).map(Some),
            // The one given is checked too, so that every problem is named at once.
            (Some(latitude), None) => {
                let mut errors = Self::new(latitude, 0.0).err().unwrap_or_default();
                errors.add("longitude", "latitude and longitude are given together");
                Err(errors)
            }
            (None, Some(longitude)) => {
                let mut errors = Self::new(0.0, longitude).err().unwrap_or_default();
                errors.add("latitude", "latitude and longitude are given together");
                Err(errors)
            }
        }
    }
}

/// A phone number as typed, reduced to its digits (and a leading `+`), so that the same caller
/// is recognised however the agent wrote it.
pub fn phone_number(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    let mut normalized = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => normalized.push(c),
            '+' if i == 0 => normalized.push(c),
            ' ' | '-' | '(' | ')' => {}
            _ => {
                return Err(
                    "may contain only digits, spaces, '-', '(', ')' and a leading '+'".into(),
                );
            }
        }
    }
    let digits = normalized.chars().filter(char::is_ascii_digit).count();
    if !(3..=20).contains(&digits) {
        return Err("must have 3 to 20 digits".into());
    }
    Ok(normalized)
}

/// The registration data of a ticket: what the agent wrote down and may still correct.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketDetails {
    pub ticket_type: TicketType,
    pub category_id: Option<Uuid>,
    pub title: String,
    pub content: String,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub confidential: bool,
    pub address: Option<String>,
    pub area_unit_id: Option<Uuid>,
    pub location: Option<GeoPoint>,
    pub priority: Priority,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// A channel's code ([`super::channel`]); the eight kinds are the codes of the channels every
    /// hotline starts with.
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    pub title: String,
    pub content: String,
    #[serde(default)]
    pub caller_name: Option<String>,
    #[serde(default)]
    pub caller_phone: Option<String>,
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub area_unit_id: Option<Uuid>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub priority: Option<Priority>,
}

/// Who is registering: integrations are bound to their own channel, staff default to the phone.
#[derive(Debug, Clone, Copy)]
pub struct Registrant {
    pub role: Role,
    pub own_channel: Option<Channel>,
}

/// A registration that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketDraft {
    pub channel: ChannelChoice,
    pub external_ref: Option<String>,
    pub details: TicketDetails,
}

impl TicketDraft {
    pub fn parse(input: RegistrationInput, by: Registrant) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let channel = ChannelChoice::new(input.channel.as_deref(), by.own_channel);
        let external_ref = errors
            .check(
                "external_ref",
                optional_single_line(input.external_ref.as_deref(), EXTERNAL_REF_MAX),
            )
            .flatten();
        let title = errors.check("title", single_line(&input.title, TITLE_MAX));
        let content = errors.check("content", required_text(&input.content, CONTENT_MAX));
        let caller_name = errors.check(
            "caller_name",
            optional_single_line(input.caller_name.as_deref(), NAME_MAX),
        );
        let caller_phone = errors.check(
            "caller_phone",
            match input.caller_phone.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(phone) => phone_number(phone).map(Some),
            },
        );
        let address = errors.check(
            "address",
            optional_single_line(input.address.as_deref(), ADDRESS_MAX),
        );
        let location = match GeoPoint::from_parts(input.latitude, input.longitude) {
            Ok(location) => location,
            Err(more) => {
                errors.merge(more);
                None
            }
        };
        match (title, content, caller_name, caller_phone, address) {
            (Some(title), Some(content), Some(caller_name), Some(caller_phone), Some(address))
                if errors.is_empty() =>
            {
                Ok(Self {
                    channel,
                    external_ref,
                    details: TicketDetails {
                        ticket_type: input.ticket_type,
                        category_id: input.category_id,
                        title,
                        content,
                        caller_name,
                        caller_phone,
                        confidential: input.confidential,
                        address,
                        area_unit_id: input.area_unit_id,
                        location,
                        priority: input.priority.unwrap_or_default(),
                    },
                })
            }
            _ => Err(errors),
        }
    }
}

/// A correction to registration data; absent fields stay, `null` clears a nullable one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditInput {
    #[serde(rename = "type", default, deserialize_with = "not_null")]
    pub ticket_type: Option<TicketType>,
    #[serde(default, deserialize_with = "nullable")]
    pub category_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "not_null")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub caller_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub caller_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "not_null")]
    pub confidential: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub area_unit_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    pub latitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub longitude: Option<Option<f64>>,
    #[serde(default, deserialize_with = "not_null")]
    pub priority: Option<Priority>,
}

/// Fields whose values are personal information: an edit records that they changed, never what
/// they changed from or to.
const PERSONAL_FIELDS: [&str; 2] = ["caller_name", "caller_phone"];

/// The outcome of applying an edit: the new details and, per changed field, the old and new
/// values for the timeline (personal fields by name only).
#[derive(Debug, Clone, PartialEq)]
pub struct Edited {
    pub details: TicketDetails,
    pub changes: serde_json::Value,
}

impl TicketDetails {
    /// Applies an edit, checking the result as a whole. `Ok(None)` when nothing would change.
    pub fn edit(&self, input: EditInput) -> Result<Option<Edited>, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(t) = input.ticket_type {
            next.ticket_type = t;
        }
        if let Some(c) = input.category_id {
            next.category_id = c;
        }
        if let Some(title) = input.title
            && let Some(t) = errors.check("title", single_line(&title, TITLE_MAX))
        {
            next.title = t;
        }
        if let Some(content) = input.content
            && let Some(c) = errors.check("content", required_text(&content, CONTENT_MAX))
        {
            next.content = c;
        }
        if let Some(name) = input.caller_name
            && let Some(n) = errors.check(
                "caller_name",
                optional_single_line(name.as_deref(), NAME_MAX),
            )
        {
            next.caller_name = n;
        }
        if let Some(phone) = input.caller_phone {
            let parsed = match phone.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(p) => phone_number(p).map(Some),
            };
            if let Some(p) = errors.check("caller_phone", parsed) {
                next.caller_phone = p;
            }
        }
        if let Some(c) = input.confidential {
            next.confidential = c;
        }
        if let Some(address) = input.address
            && let Some(a) = errors.check(
                "address",
                optional_single_line(address.as_deref(), ADDRESS_MAX),
            )
        {
            next.address = a;
        }
        if let Some(area) = input.area_unit_id {
            next.area_unit_id = area;
        }
        if input.latitude.is_some() || input.longitude.is_some() {
            let latitude = input.latitude.unwrap_or(self.location.map(|l| l.latitude));
            let longitude = input
                .longitude
                .unwrap_or(self.location.map(|l| l.longitude));
            match GeoPoint::from_parts(latitude, longitude) {
                Ok(location) => next.location = location,
                Err(more) => errors.merge(more),
            }
        }
        if let Some(p) = input.priority {
            next.priority = p;
        }
        errors.finish()?;
        let changes = self.changes_to(&next);
        if changes.as_object().is_some_and(|c| c.is_empty()) {
            return Ok(None);
        }
        Ok(Some(Edited {
            details: next,
            changes,
        }))
    }

    fn as_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let value = serde_json::json!({
            "type": self.ticket_type,
            "category_id": self.category_id,
            "title": self.title,
            "content": self.content,
            "caller_name": self.caller_name,
            "caller_phone": self.caller_phone,
            "confidential": self.confidential,
            "address": self.address,
            "area_unit_id": self.area_unit_id,
            "latitude": self.location.map(|l| l.latitude),
            "longitude": self.location.map(|l| l.longitude),
            "priority": self.priority,
        });
        match value {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a json! object literal is an object"),
        }
    }

    fn changes_to(&self, next: &TicketDetails) -> serde_json::Value {
        let before = self.as_json();
        let after = next.as_json();
        let mut changes = serde_json::Map::new();
        for (field, old) in &before {
            let new = &after[field];
            if old == new {
                continue;
            }
            let change = if PERSONAL_FIELDS.contains(&field.as_str()) {
                serde_json::json!({ "changed": true })
            } else {
                serde_json::json!({ "from": old, "to": new })
            };
            changes.insert(field.clone(), change);
        }
        serde_json::Value::Object(changes)
    }
}

/// A ticket as stored: registration data plus where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: Uuid,
    pub number: String,
    /// The kind of the channel it came in on.
    pub channel: Channel,
    /// The channel it came in on, as the office defines it ([`super::channel`]).
    pub channel_code: String,
    pub external_ref: Option<String>,
    pub details: TicketDetails,
    pub progress: Progress,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The nuisance mark (恶意骚扰) the caller's number had when the ticket was registered.
    pub nuisance_number_id: Option<Uuid>,
}

/// What a queue shows of a ticket: enough to pick the next one to work on and to see its
/// deadlines, without its content, address, the caller's phone or its lifecycle's records. Lists
/// read these columns alone.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketSummary {
    pub id: Uuid,
    pub number: String,
    pub channel: Channel,
    pub channel_code: String,
    /// What an integration calls the ticket: how it matches a list to its own records.
    pub external_ref: Option<String>,
    pub ticket_type: TicketType,
    pub category_id: Option<Uuid>,
    pub title: String,
    pub caller_name: Option<String>,
    pub confidential: bool,
    pub area_unit_id: Option<Uuid>,
    pub priority: Priority,
    pub status: TicketStatus,
    pub current_round: i32,
    pub primary_unit_id: Option<Uuid>,
    pub sign_due_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub supervised: bool,
    pub return_count: i32,
    pub urge_count: i32,
    pub callback_due_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Hands every field of [`Progress`], with its type and what it means, to the macro `$then`:
/// the struct is declared from this one list, and so are the columns that store it, so that a
/// new field is named here and nowhere else in the code.
macro_rules! progress_fields {
    ($then:ident) => {
        $then! {
            status: $crate::domain::ticket::TicketStatus,
            current_round: i32,
            return_count: i32,
            rework_count: i32,
            urge_count: i32,
            /// Callback attempts since the ticket last became due for a callback.
            callback_attempts: i32,
            /// The citizen was called back at least once, in any round (what the callback rate
            /// counts).
            called_back: bool,
            callback_due_at: Option<::chrono::DateTime<::chrono::Utc>>,
            merged_into_id: Option<::uuid::Uuid>,
            close_reason: Option<$crate::domain::lifecycle::CloseReason>,
            closed_at: Option<::chrono::DateTime<::chrono::Utc>>,
            /// The primary unit's reply is past due and not made.
            overdue: bool,
            /// Since when the deadlines are stopped (挂起), and why.
            paused_at: Option<::chrono::DateTime<::chrono::Utc>>,
            pause_reason: Option<String>,
            /// The current round's primary unit.
            primary_unit_id: Option<::uuid::Uuid>,
            /// When the primary unit must sign, while it has not.
            sign_due_at: Option<::chrono::DateTime<::chrono::Utc>>,
            /// When the primary unit's reply is due, while it is being worked on.
            due_at: Option<::chrono::DateTime<::chrono::Utc>>,
            /// Some unit's handling is under an open supervision.
            supervised: bool,
        }
    };
}
pub(crate) use progress_fields;

macro_rules! declare_progress {
    ($($(#[$meaning:meta])* $field:ident: $type:ty,)+) => {
        /// Where a ticket stands in its lifecycle, as the ticket's own columns keep it, so that
        /// lists, figures and the ladder read it without the ticket's assignments. The lifecycle
        /// keeps it current with every change; loading and saving a ticket copy it whole.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Progress {
            $($(#[$meaning])* pub $field: $type,)+
        }
    };
}

progress_fields!(declare_progress);

impl Progress {
    /// A ticket just registered.
    pub const REGISTERED: Progress = Progress {
        status: TicketStatus::Registered,
        current_round: 0,
        return_count: 0,
        rework_count: 0,
        urge_count: 0,
        callback_attempts: 0,
        called_back: false,
        callback_due_at: None,
        merged_into_id: None,
        close_reason: None,
        closed_at: None,
        overdue: false,
        paused_at: None,
        pause_reason: None,
        primary_unit_id: None,
        sign_due_at: None,
        due_at: None,
        supervised: false,
    };
}

impl TicketDraft {
    /// The ticket this draft registers as, on a channel of kind `channel` (what
    /// [`ChannelChoice::resolve`] found), numbered, by `by` at `at`.
    pub fn registered(
        self,
        channel: Channel,
        id: Uuid,
        number: String,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> Ticket {
        Ticket {
            id,
            number,
            channel,
            channel_code: self.channel.code,
            external_ref: self.external_ref,
            details: self.details,
            progress: Progress::REGISTERED,
            created_by: by,
            version: 1,
            created_at: at,
            updated_at: at,
            nuisance_number_id: None,
        }
    }
}

/// A ticket's human number: the local date as `YYMMDD`, then the day's sequence padded to
/// `digits` (e.g. `2408010123`). Numbers of one day sort in registration order as long as the
/// day stays within `10^digits` tickets; beyond that they only grow longer.
pub fn ticket_number(day: NaiveDate, sequence: i64, digits: usize) -> String {
    format!(
        "{:02}{:02}{:02}{:0width$}",
        day.year().rem_euclid(100),
        day.month(),
        day.day(),
        sequence,
        width = digits
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> RegistrationInput {
        serde_json::from_value(json).unwrap()
    }

    fn staff() -> Registrant {
        Registrant {
            role: Role::Agent,
            own_channel: None,
        }
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.errors().iter().map(|e| e.field.as_str()).collect()
    }

    fn minimal() -> serde_json::Value {
        serde_json::json!({"type": "complaint", "title": "噪音扰民", "content": "夜间施工"})
    }

    #[test]
    fn a_minimal_registration_defaults_to_a_normal_phone_call() {
        let draft = TicketDraft::parse(input(minimal()), staff()).unwrap();
        assert_eq!(draft.channel, ChannelChoice::new(None, None));
        assert_eq!(draft.channel.code, "phone");
        assert_eq!(draft.details.priority, Priority::Normal);
        assert_eq!(draft.details.caller_phone, None);
        assert!(!draft.details.confidential);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let mut json = minimal();
        json["title"] = " ".into();
        json["content"] = "".into();
        json["caller_phone"] = "call me".into();
        json["latitude"] = 91.0.into();
        json["longitude"] = 0.0.into();
        let errors = TicketDraft::parse(input(json), staff()).unwrap_err();
        assert_eq!(
            fields(&errors),
            ["title", "content", "caller_phone", "latitude"]
        );
    }

    #[test]
    fn half_a_location_is_refused() {
        let mut json = minimal();
        json["latitude"] = 34.4.into();
        let errors = TicketDraft::parse(input(json), staff()).unwrap_err();
        assert_eq!(fields(&errors), ["longitude"]);
    }

    #[test]
    fn integrations_are_bound_to_their_own_kind_of_channel() {
        let platform = Registrant {
            role: Role::Integration,
            own_channel: Some(Channel::UpperPlatform),
        };
        let draft = TicketDraft::parse(input(minimal()), platform).unwrap();
        assert_eq!(draft.channel.code, "upper_platform");
        assert_eq!(draft.channel.bound_to, Some(Channel::UpperPlatform));
        let mut json = minimal();
        json["channel"] = "province_12345".into();
        let draft = TicketDraft::parse(input(json), platform).unwrap();
        assert_eq!(draft.channel.code, "province_12345");
    }

    #[test]
    fn phone_numbers_are_reduced_to_digits() {
        assert_eq!(phone_number("138 1234 5678").unwrap(), "13812345678");
        assert_eq!(phone_number("0379-6866(1234)").unwrap(), "037968661234");
        assert_eq!(phone_number("+86 138").unwrap(), "+86138");
        assert!(phone_number("12").is_err());
        assert!(phone_number("1+2345").is_err());
        assert!(phone_number("abc").is_err());
    }

    #[test]
    fn numbers_carry_the_local_date_and_a_padded_sequence() {
        let day = NaiveDate::from_ymd_opt(2024, 8, 1).unwrap();
        assert_eq!(ticket_number(day, 123, 4), "2408010123");
        assert_eq!(ticket_number(day, 1, 4), "2408010001");
        assert_eq!(ticket_number(day, 12345, 4), "24080112345");
        assert_eq!(ticket_number(day, 7, 6), "240801000007");
    }

    #[test]
    fn an_edit_records_what_changed_but_not_personal_values() {
        let mut json = minimal();
        json["caller_phone"] = "13812345678".into();
        let details = TicketDraft::parse(input(json), staff()).unwrap().details;
        let edit: EditInput = serde_json::from_value(serde_json::json!({
            "title": "夜间施工噪音",
            "caller_phone": "13900000000",
            "priority": "urgent"
        }))
        .unwrap();
        let edited = details.edit(edit).unwrap().unwrap();
        assert_eq!(edited.details.title, "夜间施工噪音");
        assert_eq!(edited.details.priority, Priority::Urgent);
        assert_eq!(
            edited.changes,
            serde_json::json!({
                "title": {"from": "噪音扰民", "to": "夜间施工噪音"},
                "caller_phone": {"changed": true},
                "priority": {"from": "normal", "to": "urgent"},
            })
        );
        assert!(!edited.changes.to_string().contains("139"));
    }

    #[test]
    fn an_edit_that_changes_nothing_is_none() {
        let details = TicketDraft::parse(input(minimal()), staff())
            .unwrap()
            .details;
        let same: EditInput =
            serde_json::from_value(serde_json::json!({"title": " 噪音扰民 "})).unwrap();
        assert_eq!(details.edit(same).unwrap(), None);
    }

    #[test]
    fn an_edit_can_clear_and_must_keep_the_location_whole() {
        let mut json = minimal();
        json["latitude"] = 34.4.into();
        json["longitude"] = 112.4.into();
        json["address"] = "城关镇".into();
        let details = TicketDraft::parse(input(json), staff()).unwrap().details;
        let clear: EditInput = serde_json::from_value(
            serde_json::json!({"address": null, "latitude": null, "longitude": null}),
        )
        .unwrap();
        let edited = details.edit(clear).unwrap().unwrap().details;
        assert_eq!(edited.address, None);
        assert_eq!(edited.location, None);
        let half: EditInput =
            serde_json::from_value(serde_json::json!({"latitude": null})).unwrap();
        assert!(details.edit(half).is_err());
        let move_east: EditInput =
            serde_json::from_value(serde_json::json!({"longitude": 113.0})).unwrap();
        let moved = details.edit(move_east).unwrap().unwrap().details;
        assert_eq!(
            moved.location,
            Some(GeoPoint {
                latitude: 34.4,
                longitude: 113.0
            })
        );
    }

    #[test]
    fn only_registered_and_returned_tickets_are_editable() {
        let editable: Vec<TicketStatus> = TicketStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_editable())
            .collect();
        assert_eq!(editable, [TicketStatus::Registered, TicketStatus::Returned]);
    }
}
