//! The ticket lifecycle as a state machine.
//!
//! [`decide`] takes a ticket's lifecycle state, a command and who gives it, and either refuses
//! (naming why) or answers the changes to record. [`Lifecycle::apply`] applies one change; a
//! ticket's state is the changes on its timeline applied in order, so replaying the timeline
//! rebuilds it. Registration data (title, caller …) is not part of this state and never on the
//! timeline.

mod command;
mod decide;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use command::*;
pub use decide::{Context, Decision, Refusal, allows, decide, transition_refused};

use super::access::Actor;
use super::calendar::Due;
use super::ticket::{
    Assignment, AssignmentRole, AssignmentStatus, EventKind, Progress, TicketStatus,
};

text_enum! {
    /// How a ticket ended.
    pub enum CloseReason {
        /// Answered on the spot and no callback needed.
        Answered = "answered",
        /// The citizen was reached and satisfied or basically satisfied.
        Satisfied = "satisfied",
        /// The citizen was reached, dissatisfied, and the office closed it anyway.
        Dissatisfied = "dissatisfied",
        /// The allowed callback attempts all went unanswered.
        Unreachable = "unreachable",
    }
}

text_enum! {
    pub enum ExtensionStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        /// The ticket moved on (returned, replied, closed) before anyone decided.
        Withdrawn = "withdrawn",
    }
}

text_enum! {
    pub enum SupervisionStatus {
        Open = "open",
        Closed = "closed",
    }
}

text_enum! {
    /// The deadlines the urge ladder (`domain::ladder`) watches.
    pub enum Timer {
        Sign = "sign",
        Reply = "reply",
        Callback = "callback",
    }
}

text_enum! {
    /// How far past (or near) its deadline the ladder has found a timer.
    pub enum Rung {
        /// The deadline is near.
        Yellow = "yellow",
        /// The deadline has passed.
        Red = "red",
        /// A reply is so late that a supervisor steps in.
        Supervision = "supervision",
    }
}

text_enum! {
    pub enum UrgeKind {
        /// By hotline staff.
        Manual = "manual",
        /// Issued by the service before and after deadlines.
        System = "system",
    }
}

/// A unit's request for a later due time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub id: Uuid,
    pub assignment_id: Uuid,
    pub unit_id: Uuid,
    pub requested_due_at: DateTime<Utc>,
    pub reason: String,
    pub status: ExtensionStatus,
    pub requested_by: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// A formal escalation (督办) of a ticket to a unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supervision {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub reason: String,
    pub deadline: DateTime<Utc>,
    pub automatic: bool,
    pub status: SupervisionStatus,
    pub opened_by: Option<Uuid>,
    pub opened_at: DateTime<Utc>,
    pub outcome: Option<String>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// An assignment's deadlines after a pause: the sign deadline moves only while unsigned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MovedDeadline {
    pub assignment_id: Uuid,
    pub sign: Option<Due>,
    pub reply: Due,
}

/// One unit's share of a dispatch, as the `dispatched` change records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchedUnit {
    pub assignment_id: Uuid,
    pub unit_id: Uuid,
    pub role: AssignmentRole,
    pub sign: Due,
    pub reply: Due,
}

/// Something that happened to a ticket, as its timeline records it (the event's kind and
/// details). Who and when travel beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "details", rename_all = "snake_case")]
pub enum Change {
    /// Answered on the spot (直办); a callback is due when the policy wants one.
    Answered {
        text: String,
        callback_due_at: Option<DateTime<Utc>>,
        /// The knowledge-base articles the answer used.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        article_ids: Vec<Uuid>,
    },
    Dispatched {
        round: i32,
        forced: bool,
        note: Option<String>,
        units: Vec<DispatchedUnit>,
    },
    Signed {
        assignment_id: Uuid,
    },
    Returned {
        assignment_id: Uuid,
        reason: String,
    },
    ExtensionRequested {
        request_id: Uuid,
        assignment_id: Uuid,
        requested_due_at: DateTime<Utc>,
        reason: String,
    },
    ExtensionApproved {
        request_id: Uuid,
        assignment_id: Uuid,
        due_at: DateTime<Utc>,
        note: Option<String>,
    },
    ExtensionRejected {
        request_id: Uuid,
        note: Option<String>,
    },
    Replied {
        assignment_id: Uuid,
        reply_id: Uuid,
        result: ReplyResult,
        /// Whether the unit reached the citizen (the reply says how, or why not).
        contacted: bool,
    },
    OpinionAdded {
        assignment_id: Uuid,
        reply_id: Uuid,
    },
    ReviewAccepted {
        callback_due_at: DateTime<Utc>,
        comment: Option<String>,
    },
    /// Sent back for rework (退回重办) with a new due time.
    ReviewRejected {
        assignment_id: Uuid,
        due: Due,
        reason: String,
    },
    CallbackRecorded {
        callback_id: Uuid,
        attempt: i32,
        reached: bool,
        satisfaction: Option<Satisfaction>,
        resolved: Option<bool>,
        comment: Option<String>,
    },
    /// A dissatisfied callback sent the ticket back to work: to its primary unit with a new due
    /// time, or, when it was answered directly, back to registration.
    Reopened {
        assignment_id: Option<Uuid>,
        due: Option<Due>,
        /// A supervisor's reason for reopening a closed ticket (重新办理); none when a
        /// dissatisfied callback reopened it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// 撤回: the office took back the round's dispatch before its primary unit signed.
    Recalled {
        reason: String,
        /// The assignments it ended: their units are told.
        assignment_ids: Vec<Uuid>,
    },
    /// The office agreed with the primary unit's return.
    ReturnAccepted {
        assignment_id: Uuid,
        reason: Option<String>,
    },
    /// The office refused the primary unit's return: it handles the ticket, due as `due` says.
    ReturnRefused {
        assignment_id: Uuid,
        reason: String,
        due: Due,
    },
    Closed {
        reason: CloseReason,
    },
    Merged {
        into_ticket_id: Uuid,
        /// The assignments a dispatched duplicate still had: they end, and their units are
        /// told.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ended_assignment_ids: Vec<Uuid>,
    },
    Invalidated {
        reason: String,
    },
    Urged {
        urge_id: Uuid,
        assignment_id: Uuid,
        unit_id: Uuid,
        kind: UrgeKind,
        note: Option<String>,
        /// For the service's own urges: which rung of which deadline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rung: Option<Rung>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timer: Option<Timer>,
    },
    /// The primary unit's reply is past its due time and not made (逾期).
    MarkedOverdue {
        assignment_id: Uuid,
        due_at: DateTime<Utc>,
    },
    /// A callback is due soon or overdue: the hotline office is reminded.
    CallbackReminded {
        rung: Rung,
        due_at: DateTime<Utc>,
    },
    /// The deadlines stop (挂起), e.g. while a legal procedure or an inspection runs.
    Paused {
        reason: String,
    },
    /// The deadlines run again, each moved by the working time they were stopped.
    Resumed {
        moved: Vec<MovedDeadline>,
    },
    SupervisionOpened {
        supervision_id: Uuid,
        unit_id: Uuid,
        reason: String,
        deadline: DateTime<Utc>,
        automatic: bool,
    },
    SupervisionClosed {
        supervision_id: Uuid,
        outcome: String,
    },
    /// 二级转办: the unit's assignment went to one of its sub-units (a new assignment of its
    /// own, due as the unit's), which works on it in the unit's name.
    Forwarded {
        assignment_id: Uuid,
        from_assignment_id: Uuid,
        unit_id: Uuid,
        note: Option<String>,
        /// The unit's earlier forward of the same assignment, which this one ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended_assignment_id: Option<Uuid>,
    },
    /// The sub-unit handed a forwarded assignment back to the unit that forwarded it.
    ForwardReturned {
        assignment_id: Uuid,
        reason: String,
    },
}

impl Change {
    /// The kind as the timeline names it.
    pub fn kind(&self) -> EventKind {
        match self {
            Change::Answered { .. } => EventKind::Answered,
            Change::Dispatched { .. } => EventKind::Dispatched,
            Change::Signed { .. } => EventKind::Signed,
            Change::Returned { .. } => EventKind::Returned,
            Change::ExtensionRequested { .. } => EventKind::ExtensionRequested,
            Change::ExtensionApproved { .. } => EventKind::ExtensionApproved,
            Change::ExtensionRejected { .. } => EventKind::ExtensionRejected,
            Change::Replied { .. } => EventKind::Replied,
            Change::OpinionAdded { .. } => EventKind::OpinionAdded,
            Change::ReviewAccepted { .. } => EventKind::ReviewAccepted,
            Change::ReviewRejected { .. } => EventKind::ReviewRejected,
            Change::CallbackRecorded { .. } => EventKind::CallbackRecorded,
            Change::Reopened { .. } => EventKind::Reopened,
            Change::Closed { .. } => EventKind::Closed,
            Change::Merged { .. } => EventKind::Merged,
            Change::Invalidated { .. } => EventKind::Invalidated,
            Change::Urged { .. } => EventKind::Urged,
            Change::MarkedOverdue { .. } => EventKind::MarkedOverdue,
            Change::CallbackReminded { .. } => EventKind::CallbackReminded,
            Change::Paused { .. } => EventKind::Paused,
            Change::Resumed { .. } => EventKind::Resumed,
            Change::SupervisionOpened { .. } => EventKind::SupervisionOpened,
            Change::SupervisionClosed { .. } => EventKind::SupervisionClosed,
            Change::Recalled { .. } => EventKind::Recalled,
            Change::ReturnAccepted { .. } => EventKind::ReturnAccepted,
            Change::ReturnRefused { .. } => EventKind::ReturnRefused,
            Change::Forwarded { .. } => EventKind::Forwarded,
            Change::ForwardReturned { .. } => EventKind::ForwardReturned,
        }
    }

    /// Every kind a change of the lifecycle records.
    pub const KINDS: [EventKind; 28] = [
        EventKind::Answered,
        EventKind::Dispatched,
        EventKind::Signed,
        EventKind::Returned,
        EventKind::ExtensionRequested,
        EventKind::ExtensionApproved,
        EventKind::ExtensionRejected,
        EventKind::Replied,
        EventKind::OpinionAdded,
        EventKind::ReviewAccepted,
        EventKind::ReviewRejected,
        EventKind::CallbackRecorded,
        EventKind::Reopened,
        EventKind::Closed,
        EventKind::Merged,
        EventKind::Invalidated,
        EventKind::Urged,
        EventKind::MarkedOverdue,
        EventKind::CallbackReminded,
        EventKind::Paused,
        EventKind::Resumed,
        EventKind::SupervisionOpened,
        EventKind::SupervisionClosed,
        EventKind::Recalled,
        EventKind::ReturnAccepted,
        EventKind::ReturnRefused,
        EventKind::Forwarded,
        EventKind::ForwardReturned,
    ];

    /// The assignment the change is about, for indexing the timeline.
    pub fn assignment_id(&self) -> Option<Uuid> {
        match self {
            Change::Signed { assignment_id }
            | Change::Returned { assignment_id, .. }
            | Change::ExtensionRequested { assignment_id, .. }
            | Change::ExtensionApproved { assignment_id, .. }
            | Change::Replied { assignment_id, .. }
            | Change::OpinionAdded { assignment_id, .. }
            | Change::ReviewRejected { assignment_id, .. }
            | Change::Urged { assignment_id, .. }
            | Change::MarkedOverdue { assignment_id, .. }
            | Change::ReturnAccepted { assignment_id, .. }
            | Change::ReturnRefused { assignment_id, .. }
            | Change::Forwarded { assignment_id, .. }
            | Change::ForwardReturned { assignment_id, .. } => Some(*assignment_id),
            Change::Reopened { assignment_id, .. } => *assignment_id,
            _ => None,
        }
    }

    /// The `details` of the timeline entry.
    pub fn details(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => map.remove("details").unwrap_or_default(),
            _ => serde_json::Value::Null,
        }
    }

    /// Reads a timeline entry back; `None` for kinds outside the lifecycle (registration,
    /// edits).
    pub fn from_event(
        kind: EventKind,
        details: &serde_json::Value,
    ) -> Option<Result<Self, serde_json::Error>> {
        if !Self::KINDS.contains(&kind) {
            return None;
        }
        Some(serde_json::from_value(
            serde_json::json!({"kind": kind.as_str(), "details": details}),
        ))
    }
}

/// Where a ticket stands: its progress, with the rounds of assignments, extension requests and
/// supervisions it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    pub ticket_id: Uuid,
    pub progress: Progress,
    pub assignments: Vec<Assignment>,
    pub extensions: Vec<ExtensionRequest>,
    pub supervisions: Vec<Supervision>,
}

impl Lifecycle {
    /// A ticket just registered.
    pub fn registered(ticket_id: Uuid) -> Self {
        Self {
            ticket_id,
            progress: Progress::REGISTERED,
            assignments: Vec::new(),
            extensions: Vec::new(),
            supervisions: Vec::new(),
        }
    }

    /// Rebuilds a ticket's state from its timeline.
    pub fn replay<'a>(
        ticket_id: Uuid,
        timeline: impl IntoIterator<Item = (&'a Change, DateTime<Utc>, Actor)>,
    ) -> Self {
        let mut state = Self::registered(ticket_id);
        for (change, at, actor) in timeline {
            state.apply(change, at, actor);
        }
        state
    }

    /// The current round's assignments.
    pub fn current_round(&self) -> impl Iterator<Item = &Assignment> {
        self.assignments.iter().filter(move |a| {
            a.round == self.progress.current_round && self.progress.current_round > 0
        })
    }

    /// The current round's primary assignment.
    pub fn primary(&self) -> Option<&Assignment> {
        self.current_round()
            .find(|a| a.role == AssignmentRole::Primary)
    }

    /// The primary assignment while the unit still works on it (not yet replied, returned or
    /// ended).
    pub fn open_primary(&self) -> Option<&Assignment> {
        self.primary().filter(|a| is_open(a.status))
    }

    /// The current round's assignment of a unit.
    pub fn assignment_of(&self, unit: Uuid) -> Option<&Assignment> {
        self.current_round().find(|a| a.unit_id == unit)
    }

    pub fn pending_extension(&self) -> Option<&ExtensionRequest> {
        self.extensions
            .iter()
            .find(|e| e.status == ExtensionStatus::Pending)
    }

    pub fn supervised(&self) -> bool {
        self.supervisions
            .iter()
            .any(|s| s.status == SupervisionStatus::Open)
    }

    /// The primary unit of the current round.
    pub fn primary_unit_id(&self) -> Option<Uuid> {
        self.primary().map(|a| a.unit_id)
    }

    /// When the primary unit must sign, while it has not.
    pub fn sign_due_at(&self) -> Option<DateTime<Utc>> {
        self.primary()
            .filter(|a| a.status == AssignmentStatus::Dispatched)
            .map(Assignment::sign_due_at)
    }

    /// When the primary unit's reply is due, while it is being worked on.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.open_primary().map(Assignment::due_at)
    }

    fn assignment_mut(&mut self, id: Uuid) -> Option<&mut Assignment> {
        self.assignments.iter_mut().find(|a| a.id == id)
    }

    /// The deadlines stop mattering once nobody works against them.
    fn stop_clocks(&mut self) {
        self.progress.overdue = false;
        self.progress.paused_at = None;
        self.progress.pause_reason = None;
    }

    /// Ends whatever is still open: assignments of the round and pending requests.
    fn end_open_work(&mut self, at: DateTime<Utc>) {
        self.stop_clocks();
        for assignment in self.assignments.iter_mut().filter(|a| is_open(a.status)) {
            assignment.status = AssignmentStatus::Closed;
            assignment.closed_at = Some(at);
        }
        self.withdraw_pending_extension();
    }

    fn mark_returned(&mut self, id: Uuid, reason: &str, at: DateTime<Utc>) {
        if let Some(a) = self.assignment_mut(id) {
            a.status = AssignmentStatus::Returned;
            a.returned_at = Some(at);
            a.return_reason = Some(reason.to_owned());
        }
    }

    /// A sub-unit's forward ends with the work of the assignment it was forwarded from.
    fn end_forwards(&mut self, from: Uuid, at: DateTime<Utc>) {
        for forward in self
            .assignments
            .iter_mut()
            .filter(|a| a.forwarded_from == Some(from) && is_open(a.status))
        {
            forward.status = AssignmentStatus::Closed;
            forward.closed_at = Some(at);
        }
    }

    fn withdraw_pending_extension(&mut self) {
        for request in self
            .extensions
            .iter_mut()
            .filter(|e| e.status == ExtensionStatus::Pending)
        {
            request.status = ExtensionStatus::Withdrawn;
        }
    }

    fn finish(&mut self, status: TicketStatus, at: DateTime<Utc>) {
        self.progress.status = status;
        self.progress.closed_at = Some(at);
        self.progress.callback_due_at = None;
        self.end_open_work(at);
    }

    /// Applies one change, made by `actor` at `at`.
    pub fn apply(&mut self, change: &Change, at: DateTime<Utc>, actor: Actor) {
        self.apply_to_records(change, at, actor);
        self.progress.primary_unit_id = self.primary_unit_id();
        self.progress.sign_due_at = self.sign_due_at();
        self.progress.due_at = self.due_at();
        self.progress.supervised = self.supervised();
    }

    fn apply_to_records(&mut self, change: &Change, at: DateTime<Utc>, actor: Actor) {
        match change {
            Change::Answered {
                callback_due_at, ..
            } => {
                self.progress.status = TicketStatus::AwaitingCallback;
                self.progress.callback_due_at = *callback_due_at;
                self.progress.callback_attempts = 0;
            }
            Change::Dispatched {
                round,
                forced,
                units,
                ..
            } => {
                self.progress.current_round = *round;
                self.progress.status = TicketStatus::Dispatched;
                for unit in units {
                    self.assignments.push(Assignment {
                        id: unit.assignment_id,
                        ticket_id: self.ticket_id,
                        unit_id: unit.unit_id,
                        round: *round,
                        role: unit.role,
                        status: AssignmentStatus::Dispatched,
                        forced: *forced,
                        dispatched_by: actor.user_id.unwrap_or_default(),
                        dispatched_at: at,
                        sign_deadline: unit.sign.clone(),
                        reply_deadline: unit.reply.clone(),
                        original_due_at: unit.reply.due_at,
                        signed_at: None,
                        returned_at: None,
                        return_reason: None,
                        replied_at: None,
                        closed_at: None,
                        forwarded_from: None,
                    });
                }
            }
            Change::Signed { assignment_id } => {
                let mut primary_signed = false;
                if let Some(a) = self.assignment_mut(*assignment_id) {
                    a.status = AssignmentStatus::Signed;
                    a.signed_at = Some(at);
                    primary_signed = a.role == AssignmentRole::Primary;
                }
                if primary_signed && self.progress.status == TicketStatus::Dispatched {
                    self.progress.status = TicketStatus::Handling;
                }
            }
            Change::Returned {
                assignment_id,
                reason,
            } => {
                self.mark_returned(*assignment_id, reason, at);
                self.end_open_work(at);
                self.progress.status = TicketStatus::Returned;
                self.progress.return_count += 1;
            }
            Change::ExtensionRequested {
                request_id,
                assignment_id,
                requested_due_at,
                reason,
            } => {
                let unit_id = self
                    .assignments
                    .iter()
                    .find(|a| a.id == *assignment_id)
                    .map(|a| a.unit_id)
                    .unwrap_or_default();
                self.extensions.push(ExtensionRequest {
                    id: *request_id,
                    assignment_id: *assignment_id,
                    unit_id,
                    requested_due_at: *requested_due_at,
                    reason: reason.clone(),
                    status: ExtensionStatus::Pending,
                    requested_by: actor.user_id,
                    requested_at: at,
                    decided_by: None,
                    decided_at: None,
                    note: None,
                });
            }
            Change::ExtensionApproved {
                request_id,
                assignment_id,
                due_at,
                note,
            } => {
                self.decide_extension(*request_id, ExtensionStatus::Approved, note, at, actor);
                let due = Due::set_by_hand(*due_at, at, "extension approved");
                for a in self
                    .assignments
                    .iter_mut()
                    .filter(|a| a.id == *assignment_id || a.forwarded_from == Some(*assignment_id))
                {
                    a.reply_deadline = due.clone();
                }
                self.progress.overdue = self.progress.overdue && *due_at <= at;
            }
            Change::ExtensionRejected { request_id, note } => {
                self.decide_extension(*request_id, ExtensionStatus::Rejected, note, at, actor);
            }
            Change::Replied { assignment_id, .. } => {
                if let Some(a) = self.assignment_mut(*assignment_id) {
                    a.status = AssignmentStatus::Replied;
                    a.replied_at = Some(at);
                }
                self.end_forwards(*assignment_id, at);
                self.withdraw_pending_extension();
                self.stop_clocks();
                self.progress.status = TicketStatus::Replied;
            }
            Change::OpinionAdded { assignment_id, .. } => {
                if let Some(a) = self.assignment_mut(*assignment_id) {
                    a.status = AssignmentStatus::Replied;
                    a.replied_at = Some(at);
                }
                self.end_forwards(*assignment_id, at);
            }
            Change::ReviewAccepted {
                callback_due_at, ..
            } => {
                self.progress.status = TicketStatus::AwaitingCallback;
                self.progress.callback_due_at = Some(*callback_due_at);
                self.progress.callback_attempts = 0;
            }
            Change::ReviewRejected {
                assignment_id, due, ..
            } => {
                self.rework(Some(*assignment_id), Some(due));
            }
            Change::CallbackRecorded { .. } => {
                self.progress.callback_attempts += 1;
                self.progress.called_back = true;
            }
            Change::Reopened {
                assignment_id, due, ..
            } => {
                // A closed ticket (重新办理) is open again; one awaiting its callback never closed.
                self.progress.closed_at = None;
                self.progress.close_reason = None;
                self.rework(*assignment_id, due.as_ref());
            }
            Change::Recalled { .. } => {
                self.end_open_work(at);
                self.progress.status = TicketStatus::Registered;
            }
            Change::ReturnAccepted { .. } => {
                self.progress.status = TicketStatus::Registered;
            }
            Change::ReturnRefused {
                assignment_id, due, ..
            } => {
                if let Some(a) = self.assignment_mut(*assignment_id) {
                    a.status = AssignmentStatus::Signed;
                    a.signed_at = a.signed_at.or(Some(at));
                    a.closed_at = None;
                    a.reply_deadline = due.clone();
                }
                self.progress.status = TicketStatus::Handling;
            }
            Change::Closed { reason } => {
                self.progress.close_reason = Some(*reason);
                self.finish(TicketStatus::Closed, at);
            }
            Change::Merged { into_ticket_id, .. } => {
                self.progress.merged_into_id = Some(*into_ticket_id);
                self.finish(TicketStatus::Merged, at);
            }
            Change::Invalidated { .. } => {
                self.finish(TicketStatus::Invalid, at);
            }
            Change::Urged { .. } => {
                self.progress.urge_count += 1;
            }
            Change::MarkedOverdue { .. } => {
                self.progress.overdue = true;
            }
            Change::CallbackReminded { .. } => {}
            Change::Paused { reason } => {
                self.progress.paused_at = Some(at);
                self.progress.pause_reason = Some(reason.clone());
            }
            Change::Resumed { moved } => {
                for deadline in moved {
                    if let Some(a) = self.assignment_mut(deadline.assignment_id) {
                        if let Some(sign) = &deadline.sign {
                            a.sign_deadline = sign.clone();
                        }
                        a.reply_deadline = deadline.reply.clone();
                    }
                }
                self.progress.paused_at = None;
                self.progress.pause_reason = None;
                self.progress.overdue =
                    self.progress.overdue && self.due_at().is_some_and(|due| due <= at);
            }
            Change::SupervisionOpened {
                supervision_id,
                unit_id,
                reason,
                deadline,
                automatic,
            } => {
                self.supervisions.push(Supervision {
                    id: *supervision_id,
                    unit_id: *unit_id,
                    reason: reason.clone(),
                    deadline: *deadline,
                    automatic: *automatic,
                    status: SupervisionStatus::Open,
                    opened_by: actor.user_id,
                    opened_at: at,
                    outcome: None,
                    closed_by: None,
                    closed_at: None,
                });
            }
            Change::Forwarded {
                assignment_id,
                from_assignment_id,
                unit_id,
                ended_assignment_id,
                ..
            } => {
                if let Some(ended) = ended_assignment_id.and_then(|id| self.assignment_mut(id)) {
                    ended.status = AssignmentStatus::Closed;
                    ended.closed_at = Some(at);
                }
                if let Some(from) = self
                    .assignments
                    .iter()
                    .find(|a| a.id == *from_assignment_id)
                {
                    let forwarded = Assignment {
                        id: *assignment_id,
                        unit_id: *unit_id,
                        role: AssignmentRole::Forwarded,
                        status: AssignmentStatus::Dispatched,
                        dispatched_by: actor.user_id.unwrap_or_default(),
                        dispatched_at: at,
                        signed_at: None,
                        returned_at: None,
                        return_reason: None,
                        replied_at: None,
                        closed_at: None,
                        forwarded_from: Some(from.id),
                        ..from.clone()
                    };
                    self.assignments.push(forwarded);
                }
            }
            Change::ForwardReturned {
                assignment_id,
                reason,
            } => self.mark_returned(*assignment_id, reason, at),
            Change::SupervisionClosed {
                supervision_id,
                outcome,
            } => {
                if let Some(s) = self
                    .supervisions
                    .iter_mut()
                    .find(|s| s.id == *supervision_id)
                {
                    s.status = SupervisionStatus::Closed;
                    s.outcome = Some(outcome.clone());
                    s.closed_by = actor.user_id;
                    s.closed_at = Some(at);
                }
            }
        }
    }

    fn decide_extension(
        &mut self,
        request_id: Uuid,
        status: ExtensionStatus,
        note: &Option<String>,
        at: DateTime<Utc>,
        actor: Actor,
    ) {
        if let Some(request) = self.extensions.iter_mut().find(|e| e.id == request_id) {
            request.status = status;
            request.decided_by = actor.user_id;
            request.decided_at = Some(at);
            request.note = note.clone();
        }
    }

    /// Back to work: the primary unit handles again with a new due time (返工), or a ticket that
    /// was answered directly goes back to registration.
    fn rework(&mut self, assignment_id: Option<Uuid>, due: Option<&Due>) {
        self.progress.rework_count += 1;
        self.stop_clocks();
        self.progress.callback_due_at = None;
        self.progress.callback_attempts = 0;
        match (assignment_id, due) {
            (Some(id), Some(due)) => {
                if let Some(a) = self.assignment_mut(id) {
                    a.status = AssignmentStatus::Signed;
                    a.replied_at = None;
                    a.reply_deadline = due.clone();
                }
                self.progress.status = TicketStatus::Handling;
            }
            _ => self.progress.status = TicketStatus::Registered,
        }
    }
}

/// An assignment the unit still works on.
pub fn is_open(status: AssignmentStatus) -> bool {
    matches!(
        status,
        AssignmentStatus::Dispatched | AssignmentStatus::Signed
    )
}
