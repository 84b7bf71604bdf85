//! What can be asked of a ticket, and the request bodies that ask it, checked before anything
//! is read from the database.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::validation::{ValidationErrors, optional_text, required_text};

pub const TEXT_MAX: usize = 5_000;
pub const REASON_MAX: usize = 1_000;
pub const MAX_ASSISTING_UNITS: usize = 20;

text_enum! {
    /// The primary unit's result (办理结果).
    pub enum ReplyResult {
        Resolved = "resolved",
        PartiallyResolved = "partially_resolved",
        /// Explained to the citizen (解释说明): nothing to fix, or not the unit's to fix.
        Explained = "explained",
        Unresolvable = "unresolvable",
    }
}

text_enum! {
    /// How a unit reached the citizen.
    pub enum ContactMethod {
        Phone = "phone",
        /// A visit on site (上门/现场).
        Visit = "visit",
        Sms = "sms",
        Wechat = "wechat",
        Other = "other",
    }
}

text_enum! {
    pub enum Satisfaction {
        Satisfied = "satisfied",
        BasicallySatisfied = "basically_satisfied",
        Dissatisfied = "dissatisfied",
    }
}

impl Satisfaction {
    pub fn is_satisfied(self) -> bool {
        matches!(
            self,
            Satisfaction::Satisfied | Satisfaction::BasicallySatisfied
        )
    }
}

/// When and how the unit reached the citizen, or why it could not: a reply without one is
/// refused ("与当事人联系 … 杜绝虚假结案").
#[derive(Debug, Clone, PartialEq)]
pub enum ContactRecord {
    Reached {
        at: DateTime<Utc>,
        method: ContactMethod,
        outcome: String,
    },
    Impossible {
        reason: String,
    },
}

/// The text and evidence of a reply or an opinion, stored beside the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyContent {
    pub text: String,
    pub contact: Option<ContactRecord>,
    pub attachment_ids: Vec<Uuid>,
}

/// Everything that can be asked of a ticket after registration.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Answer {
        text: String,
    },
    Dispatch {
        primary_unit_id: Uuid,
        assisting_unit_ids: Vec<Uuid>,
        forced: bool,
        note: Option<String>,
    },
    Sign,
    Return {
        reason: String,
    },
    RequestExtension {
        due_at: DateTime<Utc>,
        reason: String,
    },
    ApproveExtension {
        request_id: Uuid,
        note: Option<String>,
    },
    RejectExtension {
        request_id: Uuid,
        note: Option<String>,
    },
    Reply {
        result: ReplyResult,
        content: ReplyContent,
    },
    AddOpinion {
        content: ReplyContent,
    },
    Review {
        accept: bool,
        comment: Option<String>,
        due_at: Option<DateTime<Utc>>,
    },
    Callback {
        reached: bool,
        satisfaction: Option<Satisfaction>,
        resolved: Option<bool>,
        comment: Option<String>,
        reopen: bool,
    },
    /// Merge into another ticket, as found by the caller: `None` when it does not exist (for
    /// them), otherwise its id and whether it can still take duplicates.
    Merge {
        into: Option<(Uuid, bool)>,
    },
    Invalidate {
        reason: String,
    },
    Urge {
        assignment_id: Option<Uuid>,
        note: Option<String>,
    },
    /// Stop the deadlines (挂起).
    Pause {
        reason: String,
    },
    /// Let them run again, each moved by the working time it was stopped.
    Resume,
    Supervise {
        unit_id: Uuid,
        reason: String,
        deadline: DateTime<Utc>,
    },
    CloseSupervision {
        supervision_id: Uuid,
        outcome: String,
    },
}

impl Command {
    /// The action as refusals and the roles table name it.
    pub fn action(&self) -> &'static str {
        match self {
            Command::Answer { .. } => "answered",
            Command::Dispatch { .. } => "dispatched",
            Command::Sign => "signed",
            Command::Return { .. } => "returned",
            Command::RequestExtension { .. } => "given an extension request",
            Command::ApproveExtension { .. } => "given an extension",
            Command::RejectExtension { .. } => "refused an extension",
            Command::Reply { .. } => "replied to",
            Command::AddOpinion { .. } => "given an opinion",
            Command::Review { .. } => "reviewed",
            Command::Callback { .. } => "called back",
            Command::Merge { .. } => "merged",
            Command::Invalidate { .. } => "invalidated",
            Command::Urge { .. } => "urged",
            Command::Pause { .. } => "paused",
            Command::Resume => "resumed",
            Command::Supervise { .. } => "put under supervision",
            Command::CloseSupervision { .. } => "released from supervision",
        }
    }
}

fn text(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) -> String {
    errors
        .check(field, required_text(value, max))
        .unwrap_or_default()
}

fn optional(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    errors.check(field, optional_text(value, max)).flatten()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub text: String,
}

impl AnswerInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let text = text(&mut errors, "text", &self.text, TEXT_MAX);
        errors.finish().map(|()| Command::Answer { text })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchInput {
    pub primary_unit_id: Uuid,
    #[serde(default)]
    pub assisting_unit_ids: Vec<Uuid>,
    #[serde(default)]
    pub forced: bool,
    #[serde(default)]
    pub note: Option<String>,
}

impl DispatchInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut seen = std::collections::BTreeSet::from([self.primary_unit_id]);
        if self.assisting_unit_ids.iter().any(|u| !seen.insert(*u)) {
            errors.add(
                "assisting_unit_ids",
                "must not repeat a unit or name the primary unit",
            );
        }
        if self.assisting_unit_ids.len() > MAX_ASSISTING_UNITS {
            errors.add(
                "assisting_unit_ids",
                format!("at most {MAX_ASSISTING_UNITS} units"),
            );
        }
        let note = optional(&mut errors, "note", self.note.as_deref(), REASON_MAX);
        errors.finish().map(|()| Command::Dispatch {
            primary_unit_id: self.primary_unit_id,
            assisting_unit_ids: self.assisting_unit_ids,
            forced: self.forced,
            note,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyInput {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    pub reason: String,
}

impl ReasonInput {
    pub fn reason(self) -> Result<String, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let reason = text(&mut errors, "reason", &self.reason, REASON_MAX);
        errors.finish().map(|()| reason)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    pub due_at: DateTime<Utc>,
    pub reason: String,
}

impl ExtensionInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let reason = text(&mut errors, "reason", &self.reason, REASON_MAX);
        errors.finish().map(|()| Command::RequestExtension {
            due_at: crate::domain::clock::micros(self.due_at),
            reason,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    #[serde(default)]
    pub note: Option<String>,
}

impl DecisionInput {
    pub fn note(self) -> Result<Option<String>, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let note = optional(&mut errors, "note", self.note.as_deref(), REASON_MAX);
        errors.finish().map(|()| note)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub contacted_at: DateTime<Utc>,
    pub method: ContactMethod,
    pub outcome: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    pub result: ReplyResult,
    pub text: String,
    #[serde(default)]
    pub contact: Option<ContactInput>,
    #[serde(default)]
    pub no_contact_reason: Option<String>,
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

fn attachments(errors: &mut ValidationErrors, ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = std::collections::BTreeSet::new();
    if ids.iter().any(|id| !seen.insert(*id)) {
        errors.add("attachment_ids", "must not repeat an attachment");
    }
    if ids.len() > 50 {
        errors.add("attachment_ids", "at most 50 attachments");
    }
    ids
}

impl ReplyInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let text = text(&mut errors, "text", &self.text, TEXT_MAX);
        let contact = match (
            self.contact,
            self.no_contact_reason.as_deref().map(str::trim),
        ) {
            (Some(contact), None | Some("")) => {
                let outcome = text_field(&mut errors, "contact.outcome", &contact.outcome);
                Some(ContactRecord::Reached {
                    at: crate::domain::clock::micros(contact.contacted_at),
                    method: contact.method,
                    outcome,
                })
            }
            (None, Some(reason)) if !reason.is_empty() => {
                let reason = text_field(&mut errors, "no_contact_reason", reason);
                Some(ContactRecord::Impossible { reason })
            }
            (Some(_), Some(_)) => {
                errors.add(
                    "contact",
                    "give either the contact record or why contact was impossible, not both",
                );
                None
            }
            _ => {
                errors.add(
                    "contact",
                    "a reply needs the contact record (when and how the citizen was reached) or no_contact_reason",
                );
                None
            }
        };
        let attachment_ids = attachments(&mut errors, self.attachment_ids);
        errors.finish().map(|()| Command::Reply {
            result: self.result,
            content: ReplyContent {
                text,
                contact,
                attachment_ids,
            },
        })
    }
}

fn text_field(errors: &mut ValidationErrors, field: &str, value: &str) -> String {
    text(errors, field, value, REASON_MAX)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpinionInput {
    pub text: String,
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

impl OpinionInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let text = text(&mut errors, "text", &self.text, TEXT_MAX);
        let attachment_ids = attachments(&mut errors, self.attachment_ids);
        errors.finish().map(|()| Command::AddOpinion {
            content: ReplyContent {
                text,
                contact: None,
                attachment_ids,
            },
        })
    }
}

text_enum! {
    pub enum ReviewDecision {
        Accept = "accept",
        /// Send back for rework (退回重办).
        Reject = "reject",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: ReviewDecision,
    #[serde(default)]
    pub comment: Option<String>,
    /// For a rejection: the new due time; by default the ticket's reply limit again from now.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
}

impl ReviewInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let comment = optional(&mut errors, "comment", self.comment.as_deref(), REASON_MAX);
        let accept = self.decision == ReviewDecision::Accept;
        if !accept && comment.is_none() {
            errors.add(
                "comment",
                "a rejected reply needs the reason it is sent back",
            );
        }
        if accept && self.due_at.is_some() {
            errors.add("due_at", "only a rejection sets a new due time");
        }
        errors.finish().map(|()| Command::Review {
            accept,
            comment,
            due_at: self.due_at.map(crate::domain::clock::micros),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackInput {
    pub reached: bool,
    #[serde(default)]
    pub satisfaction: Option<Satisfaction>,
    #[serde(default)]
    pub resolved: Option<bool>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub reopen: bool,
}

impl CallbackInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let comment = optional(&mut errors, "comment", self.comment.as_deref(), TEXT_MAX);
        if self.reached {
            if self.satisfaction.is_none() {
                errors.add(
                    "satisfaction",
                    "a callback that reached the citizen records their satisfaction",
                );
            }
            if self.resolved.is_none() {
                errors.add(
                    "resolved",
                    "a callback that reached the citizen records whether the problem was resolved",
                );
            }
        } else {
            if self.satisfaction.is_some() {
                errors.add(
                    "satisfaction",
                    "only a callback that reached the citizen has one",
                );
            }
            if self.resolved.is_some() {
                errors.add(
                    "resolved",
                    "only a callback that reached the citizen has one",
                );
            }
        }
        if self.reopen && self.satisfaction != Some(Satisfaction::Dissatisfied) {
            errors.add("reopen", "only a dissatisfied citizen's ticket is reopened");
        }
        errors.finish().map(|()| Command::Callback {
            reached: self.reached,
            satisfaction: self.satisfaction,
            resolved: self.resolved,
            comment,
            reopen: self.reopen,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeInput {
    #[serde(default)]
    pub into_ticket_id: Option<Uuid>,
    #[serde(default)]
    pub into_number: Option<String>,
}

/// Which ticket a merge goes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeTarget {
    Id(Uuid),
    Number(String),
}

impl MergeInput {
    pub fn target(self) -> Result<MergeTarget, ValidationErrors> {
        match (
            self.into_ticket_id,
            self.into_number
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        ) {
            (Some(id), None) => Ok(MergeTarget::Id(id)),
            (None, Some(number)) => Ok(MergeTarget::Number(number)),
            _ => Err(ValidationErrors::single(
                "into_ticket_id",
                "name the ticket to merge into by into_ticket_id or into_number (one of them)",
            )),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgeInput {
    #[serde(default)]
    pub assignment_id: Option<Uuid>,
    #[serde(default)]
    pub note: Option<String>,
}

impl UrgeInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let note = optional(&mut errors, "note", self.note.as_deref(), REASON_MAX);
        errors.finish().map(|()| Command::Urge {
            assignment_id: self.assignment_id,
            note,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperviseInput {
    pub unit_id: Uuid,
    pub reason: String,
    pub deadline: DateTime<Utc>,
}

impl SuperviseInput {
    pub fn command(self) -> Result<Command, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let reason = text(&mut errors, "reason", &self.reason, REASON_MAX);
        errors.finish().map(|()| Command::Supervise {
            unit_id: self.unit_id,
            reason,
            deadline: crate::domain::clock::micros(self.deadline),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseSupervisionInput {
    pub outcome: String,
}

impl CloseSupervisionInput {
    pub fn outcome(self) -> Result<String, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let outcome = text(&mut errors, "outcome", &self.outcome, TEXT_MAX);
        errors.finish().map(|()| outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: ValidationErrors) -> Vec<String> {
        errors.errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn a_reply_needs_a_contact_record_or_a_reason() {
        let parse = |json: serde_json::Value| {
            serde_json::from_value::<ReplyInput>(json)
                .unwrap()
                .command()
        };
        let bare = parse(serde_json::json!({"result": "resolved", "text": "已处理"}));
        assert_eq!(fields(bare.unwrap_err()), ["contact"]);
        let reached = parse(serde_json::json!({
            "result": "resolved", "text": "已处理",
            "contact": {"contacted_at": "2026-11-20T10:00:00+08:00", "method": "phone", "outcome": "已告知处理结果"}
        }))
        .unwrap();
        assert!(matches!(
            reached,
            Command::Reply {
                content: ReplyContent {
                    contact: Some(ContactRecord::Reached { .. }),
                    ..
                },
                ..
            }
        ));
        let impossible = parse(
            serde_json::json!({"result": "explained", "text": "t", "no_contact_reason": "空号"}),
        )
        .unwrap();
        assert!(matches!(
            impossible,
            Command::Reply {
                content: ReplyContent {
                    contact: Some(ContactRecord::Impossible { .. }),
                    ..
                },
                ..
            }
        ));
        let both = parse(serde_json::json!({
            "result": "resolved", "text": "t", "no_contact_reason": "空号",
            "contact": {"contacted_at": "2026-11-20T10:00:00+08:00", "method": "phone", "outcome": "o"}
        }));
        assert_eq!(fields(both.unwrap_err()), ["contact"]);
        let blank_reason = parse(
            serde_json::json!({"result": "resolved", "text": "t", "no_contact_reason": "  "}),
        );
        assert_eq!(fields(blank_reason.unwrap_err()), ["contact"]);
    }

    #[test]
    fn dispatch_units_do_not_repeat() {
        let unit = Uuid::now_v7();
        let input = DispatchInput {
            primary_unit_id: unit,
            assisting_unit_ids: vec![unit],
            forced: false,
            note: None,
        };
        assert_eq!(fields(input.command().unwrap_err()), ["assisting_unit_ids"]);
        let other = Uuid::now_v7();
        let twice = DispatchInput {
            primary_unit_id: unit,
            assisting_unit_ids: vec![other, other],
            forced: false,
            note: None,
        };
        assert!(twice.command().is_err());
    }

    #[test]
    fn a_callback_is_consistent_with_having_reached_the_citizen() {
        let parse = |json: serde_json::Value| {
            serde_json::from_value::<CallbackInput>(json)
                .unwrap()
                .command()
        };
        assert_eq!(
            fields(parse(serde_json::json!({"reached": true})).unwrap_err()),
            ["satisfaction", "resolved"]
        );
        assert_eq!(
            fields(
                parse(serde_json::json!({"reached": false, "satisfaction": "satisfied"}))
                    .unwrap_err()
            ),
            ["satisfaction"]
        );
        assert_eq!(
            fields(parse(serde_json::json!({"reached": true, "satisfaction": "satisfied", "resolved": true, "reopen": true})).unwrap_err()),
            ["reopen"]
        );
        assert!(parse(serde_json::json!({"reached": true, "satisfaction": "dissatisfied", "resolved": false, "reopen": true})).is_ok());
        assert!(parse(serde_json::json!({"reached": false})).is_ok());
    }

    #[test]
    fn a_rejected_review_gives_its_reason() {
        let parse = |json: serde_json::Value| {
            serde_json::from_value::<ReviewInput>(json)
                .unwrap()
                .command()
        };
        assert_eq!(
            fields(parse(serde_json::json!({"decision": "reject"})).unwrap_err()),
            ["comment"]
        );
        assert!(
            parse(serde_json::json!({"decision": "reject", "comment": "未联系当事人"})).is_ok()
        );
        assert_eq!(
            fields(
                parse(serde_json::json!({"decision": "accept", "due_at": "2026-11-30T00:00:00Z"}))
                    .unwrap_err()
            ),
            ["due_at"]
        );
    }

    #[test]
    fn a_merge_names_exactly_one_target() {
        let parse =
            |json: serde_json::Value| serde_json::from_value::<MergeInput>(json).unwrap().target();
        assert!(parse(serde_json::json!({})).is_err());
        assert_eq!(
            parse(serde_json::json!({"into_number": " 2611220001 "})).unwrap(),
            MergeTarget::Number("2611220001".into())
        );
        let id = Uuid::now_v7();
        assert!(parse(serde_json::json!({"into_ticket_id": id, "into_number": "1"})).is_err());
    }
}
