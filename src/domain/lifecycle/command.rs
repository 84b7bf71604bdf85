//! What can be asked of a ticket. Each command is built by a constructor that checks what can
//! be checked before anything is read from the database, naming every problem by the field of
//! the request that carries it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::validation::{ValidationErrors, optional_text, required_text};

pub const TEXT_MAX: usize = 5_000;
/// How many knowledge-base articles one direct answer may cite.
pub const CITATIONS_MAX: usize = 10;
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
    /// What a unit's written answer on a ticket is: the primary unit's reply, or an assisting
    /// unit's opinion.
    pub enum ReplyKind {
        Reply = "reply",
        /// 协办意见.
        Opinion = "opinion",
    }
}

impl ReplyKind {
    /// A reply carries the primary unit's result; an opinion has none.
    pub fn of(result: Option<ReplyResult>) -> Self {
        match result {
            Some(_) => ReplyKind::Reply,
            None => ReplyKind::Opinion,
        }
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

/// The units a recalled ticket goes to instead (改派).
#[derive(Debug, Clone, PartialEq)]
pub struct Reassignment {
    pub primary_unit_id: Uuid,
    pub assisting_unit_ids: Vec<Uuid>,
}

/// Everything that can be asked of a ticket after registration.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Answer {
        text: String,
        /// The knowledge-base articles the answer used (each counted as a use).
        article_ids: Vec<Uuid>,
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
    /// 撤回: the office takes back a dispatch its primary unit has not signed for; with units,
    /// 改派: and dispatches it to them at once.
    Recall {
        reason: String,
        reassign_to: Option<Reassignment>,
    },
    /// 退单审核: the office's decision on a return.
    DecideReturn {
        accept: bool,
        reason: Option<String>,
    },
    /// 重新办理: a supervisor sends a closed ticket back to work.
    Reopen {
        reason: String,
    },
    CloseSupervision {
        supervision_id: Uuid,
        outcome: String,
    },
    /// 二级转办: a unit hands its assignment to one of its sub-units, as found by the caller:
    /// `None` when no such active unit exists, otherwise its id and whether it lies under the
    /// acting unit in the unit tree.
    Forward {
        to: Option<(Uuid, bool)>,
        note: Option<String>,
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
            Command::Recall { .. } => "recalled",
            Command::DecideReturn { .. } => "given a decision on its return",
            Command::Reopen { .. } => "reopened",
            Command::Forward { .. } => "forwarded",
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

/// The units of a dispatch: each once, and not too many.
fn check_units(errors: &mut ValidationErrors, primary_unit_id: Uuid, assisting_unit_ids: &[Uuid]) {
    let mut seen = std::collections::BTreeSet::from([primary_unit_id]);
    if assisting_unit_ids.iter().any(|u| !seen.insert(*u)) {
        errors.add(
            "assisting_unit_ids",
            "must not repeat a unit or name the primary unit",
        );
    }
    if assisting_unit_ids.len() > MAX_ASSISTING_UNITS {
        errors.add(
            "assisting_unit_ids",
            format!("at most {MAX_ASSISTING_UNITS} units"),
        );
    }
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

text_enum! {
    pub enum ReviewDecision {
        Accept = "accept",
        /// Send back for rework (退回重办).
        Reject = "reject",
    }
}

/// When and how a unit says it reached the citizen, as written.
#[derive(Debug, Clone, Copy)]
pub struct Reached<'a> {
    pub at: DateTime<Utc>,
    pub method: ContactMethod,
    pub outcome: &'a str,
}

impl Command {
    pub fn answer(text: &str, article_ids: &[Uuid]) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let text = self::text(&mut errors, "text", text, TEXT_MAX);
        if article_ids.len() > CITATIONS_MAX {
            errors.add(
                "article_ids",
                format!("must cite at most {CITATIONS_MAX} articles"),
            );
        }
        let mut cited: Vec<Uuid> = Vec::with_capacity(article_ids.len());
        for id in article_ids {
            if !cited.contains(id) {
                cited.push(*id);
            }
        }
        errors.finish().map(|()| Command::Answer {
            text,
            article_ids: cited,
        })
    }

    pub fn dispatch(
        primary_unit_id: Uuid,
        assisting_unit_ids: Vec<Uuid>,
        forced: bool,
        note: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_units(&mut errors, primary_unit_id, &assisting_unit_ids);
        let note = optional(&mut errors, "note", note, REASON_MAX);
        errors.finish().map(|()| Command::Dispatch {
            primary_unit_id,
            assisting_unit_ids,
            forced,
            note,
        })
    }

    /// 退单: the unit hands the ticket back, saying why.
    pub fn hand_back(reason: &str) -> Result<Self, ValidationErrors> {
        required_reason(reason).map(|reason| Command::Return { reason })
    }

    pub fn invalidate(reason: &str) -> Result<Self, ValidationErrors> {
        required_reason(reason).map(|reason| Command::Invalidate { reason })
    }

    pub fn recall(
        reason: &str,
        reassign_to: Option<(Uuid, Vec<Uuid>)>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let reason = text(&mut errors, "reason", reason, REASON_MAX);
        let reassign_to = match reassign_to {
            Some((primary_unit_id, assisting_unit_ids)) => {
                check_units(&mut errors, primary_unit_id, &assisting_unit_ids);
                Some(Reassignment {
                    primary_unit_id,
                    assisting_unit_ids,
                })
            }
            None => None,
        };
        errors.finish()?;
        Ok(Command::Recall {
            reason,
            reassign_to,
        })
    }

    /// A refusal needs its reason (the unit reads it); an acceptance may give one.
    pub fn decide_return(accept: bool, reason: Option<&str>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let reason = match (accept, reason) {
            (false, reason) => Some(text(
                &mut errors,
                "reason",
                reason.unwrap_or_default(),
                REASON_MAX,
            )),
            (true, reason) => optional(&mut errors, "reason", reason, REASON_MAX),
        };
        errors.finish()?;
        Ok(Command::DecideReturn { accept, reason })
    }

    pub fn forward(to: Option<(Uuid, bool)>, note: Option<&str>) -> Result<Self, ValidationErrors> {
        optional_note(note).map(|note| Command::Forward { to, note })
    }

    pub fn reopen(reason: &str) -> Result<Self, ValidationErrors> {
        required_reason(reason).map(|reason| Command::Reopen { reason })
    }

    pub fn pause(reason: &str) -> Result<Self, ValidationErrors> {
        required_reason(reason).map(|reason| Command::Pause { reason })
    }

    pub fn request_extension(
        due_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<Self, ValidationErrors> {
        required_reason(reason).map(|reason| Command::RequestExtension {
            due_at: crate::domain::clock::micros(due_at),
            reason,
        })
    }

    pub fn approve_extension(
        request_id: Uuid,
        note: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        optional_note(note).map(|note| Command::ApproveExtension { request_id, note })
    }

    pub fn reject_extension(
        request_id: Uuid,
        note: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        optional_note(note).map(|note| Command::RejectExtension { request_id, note })
    }

    /// The primary unit's reply: its result and text, with either the record of reaching the
    /// citizen or why that was impossible.
    pub fn reply(
        result: ReplyResult,
        text: &str,
        reached: Option<Reached<'_>>,
        no_contact_reason: Option<&str>,
        attachment_ids: Vec<Uuid>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let text = self::text(&mut errors, "text", text, TEXT_MAX);
        let contact = match (reached, no_contact_reason.map(str::trim)) {
            (Some(reached), None | Some("")) => Some(ContactRecord::Reached {
                at: crate::domain::clock::micros(reached.at),
                method: reached.method,
                outcome: self::text(&mut errors, "contact.outcome", reached.outcome, REASON_MAX),
            }),
            (None, Some(reason)) if !reason.is_empty() => Some(ContactRecord::Impossible {
                reason: self::text(&mut errors, "no_contact_reason", reason, REASON_MAX),
            }),
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
        let attachment_ids = attachments(&mut errors, attachment_ids);
        errors.finish().map(|()| Command::Reply {
            result,
            content: ReplyContent {
                text,
                contact,
                attachment_ids,
            },
        })
    }

    /// An assisting unit's opinion (协办意见).
    pub fn opinion(text: &str, attachment_ids: Vec<Uuid>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let text = self::text(&mut errors, "text", text, TEXT_MAX);
        let attachment_ids = attachments(&mut errors, attachment_ids);
        errors.finish().map(|()| Command::AddOpinion {
            content: ReplyContent {
                text,
                contact: None,
                attachment_ids,
            },
        })
    }

    /// Accept the reply, or send it back with the reason and, if the reviewer sets one, a new
    /// due time (by default the ticket's reply limit again from now).
    pub fn review(
        decision: ReviewDecision,
        comment: Option<&str>,
        due_at: Option<DateTime<Utc>>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let comment = optional(&mut errors, "comment", comment, REASON_MAX);
        let accept = decision == ReviewDecision::Accept;
        if !accept && comment.is_none() {
            errors.add(
                "comment",
                "a rejected reply needs the reason it is sent back",
            );
        }
        if accept && due_at.is_some() {
            errors.add("due_at", "only a rejection sets a new due time");
        }
        errors.finish().map(|()| Command::Review {
            accept,
            comment,
            due_at: due_at.map(crate::domain::clock::micros),
        })
    }

    /// One callback attempt: a citizen reached records satisfaction and whether the problem was
    /// resolved; only a dissatisfied one's ticket may be reopened.
    pub fn callback(
        reached: bool,
        satisfaction: Option<Satisfaction>,
        resolved: Option<bool>,
        comment: Option<&str>,
        reopen: bool,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let comment = optional(&mut errors, "comment", comment, TEXT_MAX);
        if reached {
            if satisfaction.is_none() {
                errors.add(
                    "satisfaction",
                    "a callback that reached the citizen records their satisfaction",
                );
            }
            if resolved.is_none() {
                errors.add(
                    "resolved",
                    "a callback that reached the citizen records whether the problem was resolved",
                );
            }
        } else {
            if satisfaction.is_some() {
                errors.add(
                    "satisfaction",
                    "only a callback that reached the citizen has one",
                );
            }
            if resolved.is_some() {
                errors.add(
                    "resolved",
                    "only a callback that reached the citizen has one",
                );
            }
        }
        if reopen && satisfaction != Some(Satisfaction::Dissatisfied) {
            errors.add("reopen", "only a dissatisfied citizen's ticket is reopened");
        }
        errors.finish().map(|()| Command::Callback {
            reached,
            satisfaction,
            resolved,
            comment,
            reopen,
        })
    }

    pub fn urge(assignment_id: Option<Uuid>, note: Option<&str>) -> Result<Self, ValidationErrors> {
        optional_note(note).map(|note| Command::Urge {
            assignment_id,
            note,
        })
    }

    pub fn supervise(
        unit_id: Uuid,
        reason: &str,
        deadline: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        required_reason(reason).map(|reason| Command::Supervise {
            unit_id,
            reason,
            deadline: crate::domain::clock::micros(deadline),
        })
    }

    pub fn close_supervision(
        supervision_id: Uuid,
        outcome: &str,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let outcome = text(&mut errors, "outcome", outcome, TEXT_MAX);
        errors.finish().map(|()| Command::CloseSupervision {
            supervision_id,
            outcome,
        })
    }
}

fn required_reason(reason: &str) -> Result<String, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let reason = text(&mut errors, "reason", reason, REASON_MAX);
    errors.finish().map(|()| reason)
}

fn optional_note(note: Option<&str>) -> Result<Option<String>, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let note = optional(&mut errors, "note", note, REASON_MAX);
    errors.finish().map(|()| note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: ValidationErrors) -> Vec<String> {
        errors.errors().iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn a_reply_needs_a_contact_record_or_a_reason() {
        let at = "2026-11-20T10:00:00+08:00".parse().unwrap();
        let phone = Reached {
            at,
            method: ContactMethod::Phone,
            outcome: "已告知处理结果",
        };
        let reply = |reached, reason| {
            Command::reply(ReplyResult::Resolved, "已处理", reached, reason, vec![])
        };
        assert_eq!(fields(reply(None, None).unwrap_err()), ["contact"]);
        assert!(matches!(
            reply(Some(phone), None).unwrap(),
            Command::Reply {
                content: ReplyContent {
                    contact: Some(ContactRecord::Reached { .. }),
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            reply(None, Some("空号")).unwrap(),
            Command::Reply {
                content: ReplyContent {
                    contact: Some(ContactRecord::Impossible { .. }),
                    ..
                },
                ..
            }
        ));
        assert_eq!(
            fields(reply(Some(phone), Some("空号")).unwrap_err()),
            ["contact"]
        );
        assert_eq!(fields(reply(None, Some("  ")).unwrap_err()), ["contact"]);
    }

    #[test]
    fn dispatch_units_do_not_repeat() {
        let unit = Uuid::now_v7();
        let primary_again = Command::dispatch(unit, vec![unit], false, None);
        assert_eq!(fields(primary_again.unwrap_err()), ["assisting_unit_ids"]);
        let other = Uuid::now_v7();
        assert!(Command::dispatch(unit, vec![other, other], false, None).is_err());
    }

    #[test]
    fn a_callback_is_consistent_with_having_reached_the_citizen() {
        use Satisfaction::*;
        let callback = |reached, satisfaction, resolved, reopen| {
            Command::callback(reached, satisfaction, resolved, None, reopen)
        };
        assert_eq!(
            fields(callback(true, None, None, false).unwrap_err()),
            ["satisfaction", "resolved"]
        );
        assert_eq!(
            fields(callback(false, Some(Satisfied), None, false).unwrap_err()),
            ["satisfaction"]
        );
        assert_eq!(
            fields(callback(true, Some(Satisfied), Some(true), true).unwrap_err()),
            ["reopen"]
        );
        assert!(callback(true, Some(Dissatisfied), Some(false), true).is_ok());
        assert!(callback(false, None, None, false).is_ok());
    }

    #[test]
    fn a_rejected_review_gives_its_reason() {
        use ReviewDecision::*;
        assert_eq!(
            fields(Command::review(Reject, None, None).unwrap_err()),
            ["comment"]
        );
        assert!(Command::review(Reject, Some("未联系当事人"), None).is_ok());
        let due = "2026-11-30T00:00:00Z".parse().ok();
        assert_eq!(
            fields(Command::review(Accept, None, due).unwrap_err()),
            ["due_at"]
        );
    }
}
