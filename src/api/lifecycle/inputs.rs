//! The request bodies of the lifecycle's actions, and the command each one asks for.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::domain::lifecycle::{
    Command, ContactMethod, Reached, ReplyResult, ReviewDecision, Satisfaction,
};
use crate::domain::validation::ValidationErrors;

/// A lifecycle action whose command follows from its request body alone.
pub trait Action: 'static {
    type Body: DeserializeOwned + 'static;

    fn command(body: Self::Body) -> Result<Command, ValidationErrors>;
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub text: String,
    #[serde(default)]
    pub article_ids: Vec<Uuid>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyInput {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    pub reason: String,
}

/// 二级转办: to which sub-unit, with a note for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardInput {
    pub unit_id: Uuid,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionInput {
    pub due_at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    #[serde(default)]
    pub note: Option<String>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpinionInput {
    pub text: String,
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub decision: ReviewDecision,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
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

/// 撤回, or with units 改派.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecallInput {
    pub reason: String,
    #[serde(default)]
    pub primary_unit_id: Option<Uuid>,
    #[serde(default)]
    pub assisting_unit_ids: Vec<Uuid>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnDecisionInput {
    pub decision: ReturnDecision,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnDecision {
    Accept,
    Refuse,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgeInput {
    #[serde(default)]
    pub assignment_id: Option<Uuid>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuperviseInput {
    pub unit_id: Uuid,
    pub reason: String,
    pub deadline: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseSupervisionInput {
    pub outcome: String,
}

/// Declares the actions, each with its body and the command it builds from it.
macro_rules! actions {
    ($($(#[$doc:meta])* $name:ident($body:ident) => $command:expr;)+) => {
        $(
            $(#[$doc])*
            pub enum $name {}

            impl Action for $name {
                type Body = $body;

                fn command(body: $body) -> Result<Command, ValidationErrors> {
                    let build: fn($body) -> Result<Command, ValidationErrors> = $command;
                    build(body)
                }
            }
        )+
    };
}

actions! {
    /// `POST /tickets/{id}/answer`: answered on the spot (直办).
    Answer(AnswerInput) => |b| Command::answer(&b.text, &b.article_ids);
    /// `POST /tickets/{id}/dispatch`: to a primary unit and any assisting units.
    Dispatch(DispatchInput) => |b| {
        Command::dispatch(b.primary_unit_id, b.assisting_unit_ids, b.forced, b.note.as_deref())
    };
    /// `POST /tickets/{id}/sign`: the caller's unit signs for its assignment (签收).
    Sign(EmptyInput) => |_| Ok(Command::Sign);
    /// `POST /tickets/{id}/return`: the primary unit hands the ticket back (退单).
    Return(ReasonInput) => |b| Command::hand_back(&b.reason);
    /// `POST /tickets/{id}/extension-requests`: the primary unit asks for a later due time.
    RequestExtension(ExtensionInput) => |b| Command::request_extension(b.due_at, &b.reason);
    /// `POST /tickets/{id}/reply`: the primary unit's result, with its contact record (办结回复).
    UnitReply(ReplyInput) => |b| {
        let reached = b.contact.as_ref().map(|c| Reached {
            at: c.contacted_at,
            method: c.method,
            outcome: &c.outcome,
        });
        Command::reply(b.result, &b.text, reached, b.no_contact_reason.as_deref(), b.attachment_ids)
    };
    /// `POST /tickets/{id}/opinions`: an assisting unit's opinion (协办意见).
    Opinion(OpinionInput) => |b| Command::opinion(&b.text, b.attachment_ids);
    /// `POST /tickets/{id}/review`: accept the reply, or send it back for rework.
    Review(ReviewInput) => |b| Command::review(b.decision, b.comment.as_deref(), b.due_at);
    /// `POST /tickets/{id}/callbacks`: one callback attempt (回访).
    Callback(CallbackInput) => |b| {
        Command::callback(b.reached, b.satisfaction, b.resolved, b.comment.as_deref(), b.reopen)
    };
    /// `POST /tickets/{id}/invalidate`: not a real request (无效/骚扰).
    Invalidate(ReasonInput) => |b| Command::invalidate(&b.reason);
    /// `POST /tickets/{id}/urges`: a manual urge (催办) to the primary unit or a named assignment.
    Urge(UrgeInput) => |b| Command::urge(b.assignment_id, b.note.as_deref());
    /// `POST /tickets/{id}/pause`: stop the deadlines (挂起), with the reason.
    Pause(ReasonInput) => |b| Command::pause(&b.reason);
    /// `POST /tickets/{id}/resume`: the deadlines run again, moved by the working time they stood.
    Resume(EmptyInput) => |_| Ok(Command::Resume);
    /// `POST /tickets/{id}/recall`: take back a dispatch before it is signed (撤回); with units,
    /// dispatch it to them instead (改派).
    Recall(RecallInput) => |b| {
        let mut errors = ValidationErrors::new();
        let reassign_to = match b.primary_unit_id {
            Some(primary) => Some((primary, b.assisting_unit_ids)),
            None if !b.assisting_unit_ids.is_empty() => {
                errors.add("primary_unit_id", "is required with assisting_unit_ids");
                None
            }
            None => None,
        };
        errors.finish()?;
        Command::recall(&b.reason, reassign_to)
    };
    /// `POST /tickets/{id}/return-decision`: accept a return, or refuse it with a reason.
    DecideReturn(ReturnDecisionInput) => |b| {
        Command::decide_return(matches!(b.decision, ReturnDecision::Accept), b.reason.as_deref())
    };
    /// `POST /tickets/{id}/reopen`: a closed ticket back to work (重新办理), with the reason.
    Reopen(ReasonInput) => |b| Command::reopen(&b.reason);
    /// `POST /tickets/{id}/supervisions`: put a unit's handling under supervision (督办).
    Supervise(SuperviseInput) => |b| Command::supervise(b.unit_id, &b.reason, b.deadline);
}

/// A lifecycle action on one record of the ticket (an extension request, a supervision) that a
/// second path id names.
pub trait RecordAction: 'static {
    /// What the second path id names, as errors say it.
    const RECORD: &'static str;
    type Body: DeserializeOwned + 'static;

    fn command(record: Uuid, body: Self::Body) -> Result<Command, ValidationErrors>;
}

/// `POST /tickets/{id}/extension-requests/{request_id}/approve`.
pub enum ApproveExtension {}

impl RecordAction for ApproveExtension {
    const RECORD: &'static str = "extension request";
    type Body = DecisionInput;

    fn command(request: Uuid, body: DecisionInput) -> Result<Command, ValidationErrors> {
        Command::approve_extension(request, body.note.as_deref())
    }
}

/// `POST /tickets/{id}/extension-requests/{request_id}/reject`.
pub enum RejectExtension {}

impl RecordAction for RejectExtension {
    const RECORD: &'static str = "extension request";
    type Body = DecisionInput;

    fn command(request: Uuid, body: DecisionInput) -> Result<Command, ValidationErrors> {
        Command::reject_extension(request, body.note.as_deref())
    }
}

/// `POST /tickets/{id}/supervisions/{supervision_id}/close`: with its outcome.
pub enum CloseSupervision {}

impl RecordAction for CloseSupervision {
    const RECORD: &'static str = "supervision";
    type Body = CloseSupervisionInput;

    fn command(
        supervision: Uuid,
        body: CloseSupervisionInput,
    ) -> Result<Command, ValidationErrors> {
        Command::close_supervision(supervision, &body.outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
