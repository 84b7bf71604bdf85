//! The decisions: who may do what to a ticket in which state, and what it changes.

use chrono::{DateTime, DurationRound, Utc};
use uuid::Uuid;

use super::command::{
    Command, ContactRecord, Reassignment, ReplyContent, ReplyResult, Satisfaction,
};
use super::{
    Change, CloseReason, DispatchedUnit, ExtensionStatus, Lifecycle, MovedDeadline,
    SupervisionStatus, UrgeKind, is_open,
};
use crate::domain::access::{Actor, Permission, Role};
use crate::domain::calendar::{Due, Limit, WorkCalendar};
use crate::domain::notify::Notice;
use crate::domain::policy::{Policy, RefusedReturnClock};
use crate::domain::problem::ProblemCode;
use crate::domain::ticket::{
    Assignment, AssignmentRole, AssignmentStatus, Priority, TicketStatus, TicketType,
};
use crate::domain::validation::ValidationErrors;

/// What a decision needs to know besides the ticket's state.
pub struct Context<'a> {
    pub actor: Actor,
    pub now: DateTime<Utc>,
    pub ticket_type: TicketType,
    pub priority: Priority,
    pub policy: &'a Policy,
    pub calendar: &'a WorkCalendar,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The role may not do this at all (403).
    Forbidden(String),
    /// Something the command names is not on this ticket (404).
    NotFound(String),
    /// The ticket's state does not allow the action (409, naming the state).
    InvalidTransition {
        status: TicketStatus,
        action: &'static str,
    },
    /// The state allows the action in general but not now, for the reason given (409).
    Conflict { code: ProblemCode, detail: String },
    /// The command is well-formed but wrong for this ticket (422).
    Invalid(ValidationErrors),
}

/// Why a ticket's state does not allow an action, in the words every interface uses.
pub fn transition_refused(status: &str, action: &str) -> String {
    format!("a ticket in state `{status}` cannot be {action}")
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Forbidden(m) | Refusal::NotFound(m) => f.write_str(m),
            Refusal::InvalidTransition { status, action } => {
                f.write_str(&transition_refused(status.as_str(), action))
            }
            Refusal::Conflict { detail, .. } => f.write_str(detail),
            Refusal::Invalid(errors) => write!(f, "{errors}"),
        }
    }
}

/// How far ahead of the service's clock a contact time may be and still count as now.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

fn conflict(code: ProblemCode, detail: impl Into<String>) -> Refusal {
    Refusal::Conflict {
        code,
        detail: detail.into(),
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Refusal {
    Refusal::Invalid(ValidationErrors::single(field, message))
}

/// The changes a command makes, the state they lead to, and the text of a reply or opinion to
/// store beside the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub changes: Vec<Change>,
    pub content: Option<(Uuid, ReplyContent)>,
    pub next: Lifecycle,
    /// Who should hear of each change: one list per change, in their order.
    pub notices: Vec<Vec<Notice>>,
}

impl Decision {
    /// What `changes` make of `before`: the state they lead to and whom each concerns. Every
    /// decision is made here, whether a person's command or the ladder's firings produced it.
    pub fn new(
        before: &Lifecycle,
        changes: Vec<Change>,
        content: Option<(Uuid, ReplyContent)>,
        at: DateTime<Utc>,
        actor: Actor,
    ) -> Self {
        let mut next = before.clone();
        for change in &changes {
            next.apply(change, at, actor);
        }
        let notices = changes
            .iter()
            .map(|change| crate::domain::notify::notices(change, &next))
            .collect();
        Self {
            changes,
            content,
            next,
            notices,
        }
    }

    /// Each change with the notices it sends.
    pub fn recorded(&self) -> impl Iterator<Item = (&Change, &[Notice])> {
        self.changes
            .iter()
            .zip(self.notices.iter().map(Vec::as_slice))
    }
}

/// Where the units are at work: dispatched to, signed for, or replied and waiting for review.
const WITH_UNITS: &[TicketStatus] = &[
    TicketStatus::Dispatched,
    TicketStatus::Handling,
    TicketStatus::Replied,
];
/// Where the units' deadlines run.
const DEADLINES_RUN: &[TicketStatus] = &[TicketStatus::Dispatched, TicketStatus::Handling];

/// The state machine: who may give each command, and in which states of the ticket.
#[rustfmt::skip]
fn rule(command: &Command) -> (Permission, &'static [TicketStatus]) {
    use Permission as P;
    use TicketStatus as S;
    match command {
        Command::Answer { .. }           => (P::FrontDesk,        &[S::Registered]),
        Command::Dispatch { .. }         => (P::FrontDesk,        &[S::Registered, S::Returned]),
        // A duplicate found after dispatch as well, before a unit replied to it.
        Command::Merge { .. }            => (P::FrontDesk,        &[S::Registered, S::Dispatched, S::Handling, S::Returned]),
        Command::Invalidate { .. }       => (P::FrontDesk,        &[S::Registered]),
        // An assisting unit may still sign (and give its opinion) after the primary replied.
        Command::Sign                    => (P::HandleAssignment, WITH_UNITS),
        Command::AddOpinion { .. }       => (P::HandleAssignment, WITH_UNITS),
        Command::Return { .. }           => (P::HandleAssignment, DEADLINES_RUN),
        Command::RequestExtension { .. } => (P::HandleAssignment, &[S::Handling]),
        Command::Reply { .. }            => (P::HandleAssignment, &[S::Handling]),
        Command::ApproveExtension { .. } => (P::Review,           &[S::Handling]),
        Command::RejectExtension { .. }  => (P::Review,           &[S::Handling]),
        Command::Review { .. }           => (P::Review,           &[S::Replied]),
        Command::Pause { .. }            => (P::Review,           DEADLINES_RUN),
        Command::Resume                  => (P::Review,           DEADLINES_RUN),
        Command::Callback { .. }         => (P::FrontDesk,        &[S::AwaitingCallback]),
        Command::Urge { .. }             => (P::FrontDesk,        WITH_UNITS),
        Command::Supervise { .. }        => (P::Supervise,        WITH_UNITS),
        Command::CloseSupervision { .. } => (P::Supervise,        TicketStatus::ALL),
        // Before the primary unit signs: once it has, the office works with it instead.
        Command::Recall { .. }           => (P::FrontDesk,        &[S::Dispatched]),
        Command::DecideReturn { .. }     => (P::FrontDesk,        &[S::Returned]),
        Command::Reopen { .. }           => (P::Supervise,        &[S::Closed]),
        Command::Forward { .. }          => (P::HandleAssignment, DEADLINES_RUN),
    }
}

/// Whether the rules would take `command` from the context's actor now: what a screen offers
/// is exactly what [`decide`] accepts, decided once, here. Nothing is kept of the trial.
pub fn allows(state: &Lifecycle, command: Command, context: &Context<'_>) -> bool {
    decide(state, command, context, &mut Uuid::nil).is_ok()
}

/// Decides a command on a ticket: refused, or the changes to record.
pub fn decide(
    state: &Lifecycle,
    command: Command,
    ctx: &Context<'_>,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<Decision, Refusal> {
    let role = ctx.actor.role.ok_or_else(|| {
        Refusal::Forbidden("the service itself acts only through its own jobs".into())
    })?;
    let (permission, states) = rule(&command);
    if !role.may(permission) {
        return Err(Refusal::Forbidden(format!(
            "the role `{role}` may not do this"
        )));
    }
    if !states.contains(&state.progress.status) {
        return Err(Refusal::InvalidTransition {
            status: state.progress.status,
            action: command.action(),
        });
    }
    let mut content = None;
    let changes = match command {
        Command::Answer { text, article_ids } => answer(ctx, text, article_ids),
        Command::Dispatch {
            primary_unit_id,
            assisting_unit_ids,
            forced,
            note,
        } => {
            let units = std::iter::once((primary_unit_id, AssignmentRole::Primary)).chain(
                assisting_unit_ids
                    .into_iter()
                    .map(|unit| (unit, AssignmentRole::Assisting)),
            );
            dispatch(state, ctx, role, units, forced, note, new_id)?
        }
        Command::Sign => sign(state, ctx)?,
        Command::Return { reason } => hand_back(state, ctx, reason)?,
        Command::RequestExtension { due_at, reason } => {
            request_extension(state, ctx, due_at, reason, new_id())?
        }
        Command::ApproveExtension { request_id, note } => {
            let request = pending_request(state, request_id)?;
            vec![Change::ExtensionApproved {
                request_id,
                assignment_id: request.assignment_id,
                due_at: request.requested_due_at,
                note,
            }]
        }
        Command::RejectExtension { request_id, note } => {
            pending_request(state, request_id)?;
            vec![Change::ExtensionRejected { request_id, note }]
        }
        Command::Reply {
            result,
            content: reply,
        } => {
            let reply_id = new_id();
            let changes = self::reply(state, ctx, result, &reply, reply_id)?;
            content = Some((reply_id, reply));
            changes
        }
        Command::AddOpinion { content: opinion } => {
            let reply_id = new_id();
            let changes = add_opinion(state, ctx, reply_id)?;
            content = Some((reply_id, opinion));
            changes
        }
        Command::Review {
            accept: true,
            comment,
            ..
        } => vec![Change::ReviewAccepted {
            callback_due_at: ctx.calendar.end_of_next_working_day(ctx.now),
            comment,
        }],
        Command::Review {
            accept: false,
            comment,
            due_at,
        } => send_back(state, ctx, comment, due_at)?,
        Command::Callback {
            reached,
            satisfaction,
            resolved,
            comment,
            reopen,
        } => {
            let recorded = Change::CallbackRecorded {
                callback_id: new_id(),
                attempt: state.progress.callback_attempts + 1,
                reached,
                satisfaction,
                resolved,
                comment,
            };
            callback(state, ctx, recorded, satisfaction, reopen)
        }
        Command::Merge { into } => merge(state, into)?,
        Command::Invalidate { reason } => vec![Change::Invalidated { reason }],
        Command::Urge {
            assignment_id,
            note,
        } => urge(state, assignment_id, note, new_id())?,
        Command::Pause { reason } => pause(state, reason)?,
        Command::Resume => resume(state, ctx)?,
        Command::Supervise {
            unit_id,
            reason,
            deadline,
        } => supervise(state, ctx, unit_id, reason, deadline, new_id())?,
        Command::CloseSupervision {
            supervision_id,
            outcome,
        } => close_supervision(state, supervision_id, outcome)?,
        Command::Recall {
            reason,
            reassign_to,
        } => recall(state, ctx, role, reason, reassign_to, new_id)?,
        Command::DecideReturn { accept, reason } => decide_return(state, ctx, accept, reason)?,
        Command::Reopen { reason } => reopen(state, ctx, reason)?,
        Command::Forward { to, note } => forward(state, ctx, to, note, new_id())?,
    };
    let decision = Decision::new(state, changes, content, ctx.now, ctx.actor);
    // Whatever ends a pause (a reply, a return) says so on the timeline, as a resume does.
    let resumed = |c: &Change| matches!(c, Change::Resumed { .. });
    let ended_pause =
        state.progress.paused_at.is_some() && decision.next.progress.paused_at.is_none();
    if ended_pause && !decision.changes.iter().any(resumed) {
        let mut changes = decision.changes;
        changes.insert(0, Change::Resumed { moved: Vec::new() });
        return Ok(Decision::new(
            state,
            changes,
            decision.content,
            ctx.now,
            ctx.actor,
        ));
    }
    Ok(decision)
}

/// The changes a command makes, or why it may not be given now.
type Changes = Result<Vec<Change>, Refusal>;

/// The due times of a ticket of this type and priority counted from now.
fn due(ctx: &Context<'_>, deadline: Deadline) -> Due {
    let (limits, rule) = ctx.policy.limits_for(ctx.ticket_type, ctx.priority);
    let (limit, what) = match deadline {
        Deadline::Sign => (limits.sign, "sign"),
        Deadline::Reply => (limits.reply, "reply"),
        Deadline::Rework => (limits.reply, "reply (rework)"),
        Deadline::Reopened => (limits.reply, "reply (reopened)"),
    };
    ctx.calendar.due(ctx.now, limit, &format!("{rule} {what}"))
}

/// Which of the policy's limits a due time counts, and why it is set.
#[derive(Debug, Clone, Copy)]
enum Deadline {
    Sign,
    Reply,
    /// Sent back by the reviewer without a due time of their own.
    Rework,
    /// Reopened after a dissatisfied callback.
    Reopened,
}

fn answer(ctx: &Context<'_>, text: String, article_ids: Vec<Uuid>) -> Vec<Change> {
    let callback_due_at = ctx
        .policy
        .needs_callback_after_answer(ctx.ticket_type)
        .then(|| ctx.calendar.end_of_next_working_day(ctx.now));
    let mut changes = vec![Change::Answered {
        text,
        callback_due_at,
        article_ids,
    }];
    if callback_due_at.is_none() {
        changes.push(Change::Closed {
            reason: CloseReason::Answered,
        });
    }
    changes
}

fn dispatch(
    state: &Lifecycle,
    ctx: &Context<'_>,
    role: Role,
    units: impl Iterator<Item = (Uuid, AssignmentRole)>,
    forced: bool,
    note: Option<String>,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Changes {
    if forced && !role.may(Permission::ForceDispatch) {
        return Err(Refusal::Forbidden(format!(
            "a forced dispatch is the hotline office's decision, not the role `{role}`'s"
        )));
    }
    if state.progress.return_count >= ctx.policy.max_returns && !forced {
        return Err(conflict(
            ProblemCode::ForcedDispatchRequired,
            format!(
                "the ticket has been returned {} times: the hotline office decides, dispatching with `forced: true`",
                state.progress.return_count
            ),
        ));
    }
    let sign = due(ctx, Deadline::Sign);
    let reply = due(ctx, Deadline::Reply);
    let units = units
        .map(|(unit_id, role)| DispatchedUnit {
            assignment_id: new_id(),
            unit_id,
            role,
            sign: sign.clone(),
            reply: reply.clone(),
        })
        .collect();
    Ok(vec![Change::Dispatched {
        round: state.progress.current_round + 1,
        forced,
        note,
        units,
    }])
}

fn sign(state: &Lifecycle, ctx: &Context<'_>) -> Changes {
    let assignment = own_assignment(state, &ctx.actor)?;
    if assignment.status != AssignmentStatus::Dispatched {
        return Err(conflict(
            ProblemCode::AlreadySigned,
            "your unit has already signed for this ticket",
        ));
    }
    Ok(vec![Change::Signed {
        assignment_id: assignment.id,
    }])
}

/// 退单: the primary unit says the ticket is not theirs; a sub-unit gives a forward back to
/// its unit.
fn hand_back(state: &Lifecycle, ctx: &Context<'_>, reason: String) -> Changes {
    let own = own_assignment(state, &ctx.actor)?;
    if own.role == AssignmentRole::Forwarded {
        return Ok(vec![Change::ForwardReturned {
            assignment_id: own.id,
            reason,
        }]);
    }
    let assignment = own_primary(state, &ctx.actor, PrimaryWork::Return)?;
    if assignment.forced {
        return Err(conflict(
            ProblemCode::ForcedAssignment,
            "the hotline office dispatched this ticket with `forced`: it can no longer be returned",
        ));
    }
    Ok(vec![Change::Returned {
        assignment_id: assignment.id,
        reason,
    }])
}

fn request_extension(
    state: &Lifecycle,
    ctx: &Context<'_>,
    due_at: DateTime<Utc>,
    reason: String,
    request_id: Uuid,
) -> Changes {
    let assignment = own_primary(state, &ctx.actor, PrimaryWork::AskForMoreTime)?;
    if state.pending_extension().is_some() {
        return Err(conflict(
            ProblemCode::ExtensionPending,
            "an extension request is already waiting for a decision",
        ));
    }
    if due_at <= assignment.due_at() {
        return Err(invalid(
            "due_at",
            "must be later than the due time in force",
        ));
    }
    Ok(vec![Change::ExtensionRequested {
        request_id,
        assignment_id: assignment.id,
        requested_due_at: due_at,
        reason,
    }])
}

fn reply(
    state: &Lifecycle,
    ctx: &Context<'_>,
    result: ReplyResult,
    reply: &ReplyContent,
    reply_id: Uuid,
) -> Changes {
    let assignment = own_primary(state, &ctx.actor, PrimaryWork::Reply)?;
    if let Some(ContactRecord::Reached { at, .. }) = &reply.contact {
        // People write contact times to the minute, and their clocks drift a little.
        if *at > ctx.now + CLOCK_SKEW {
            return Err(invalid("contact.contacted_at", "must not be in the future"));
        }
        let dispatched_minute = assignment
            .dispatched_at
            .duration_trunc(chrono::TimeDelta::minutes(1))
            .unwrap_or(assignment.dispatched_at);
        if *at < dispatched_minute {
            return Err(invalid(
                "contact.contacted_at",
                "must be after the ticket was dispatched to the unit",
            ));
        }
    }
    Ok(vec![Change::Replied {
        assignment_id: assignment.id,
        reply_id,
        result,
        contacted: matches!(reply.contact, Some(ContactRecord::Reached { .. })),
    }])
}

fn add_opinion(state: &Lifecycle, ctx: &Context<'_>, reply_id: Uuid) -> Changes {
    let assignment = in_whose_name(state, own_assignment(state, &ctx.actor)?)?;
    if assignment.role != AssignmentRole::Assisting {
        return Err(conflict(
            ProblemCode::NotAssisting,
            "opinions come from assisting units; the primary unit replies",
        ));
    }
    match assignment.status {
        AssignmentStatus::Signed => Ok(vec![Change::OpinionAdded {
            assignment_id: assignment.id,
            reply_id,
        }]),
        AssignmentStatus::Dispatched => Err(conflict(
            ProblemCode::NotSigned,
            "sign for the ticket before giving an opinion",
        )),
        _ => Err(conflict(
            ProblemCode::NotSigned,
            "your unit has already given its opinion",
        )),
    }
}

/// The reviewer does not accept the reply and sends the ticket back to the primary unit.
fn send_back(
    state: &Lifecycle,
    ctx: &Context<'_>,
    comment: Option<String>,
    due_at: Option<DateTime<Utc>>,
) -> Changes {
    let primary = state.primary().ok_or_else(|| {
        conflict(
            ProblemCode::NoPrimary,
            "the ticket has no primary unit to send back to",
        )
    })?;
    let due = match due_at {
        Some(at) if at <= ctx.now => return Err(invalid("due_at", "must be in the future")),
        Some(at) => Due::set_by_hand(at, ctx.now, "set by the reviewer"),
        None => due(ctx, Deadline::Rework),
    };
    Ok(vec![Change::ReviewRejected {
        assignment_id: primary.id,
        due,
        reason: comment.unwrap_or_default(),
    }])
}

/// A callback attempt, and how the ticket goes on from what the citizen said.
fn callback(
    state: &Lifecycle,
    ctx: &Context<'_>,
    recorded: Change,
    satisfaction: Option<Satisfaction>,
    reopen: bool,
) -> Vec<Change> {
    let attempt = state.progress.callback_attempts + 1;
    let then = match satisfaction {
        None if attempt >= ctx.policy.max_callback_attempts => Some(Change::Closed {
            reason: CloseReason::Unreachable,
        }),
        None => None,
        Some(s) if s.is_satisfied() => Some(Change::Closed {
            reason: CloseReason::Satisfied,
        }),
        Some(_) if reopen => {
            let primary = state
                .primary()
                .filter(|a| a.status == AssignmentStatus::Replied);
            Some(Change::Reopened {
                assignment_id: primary.map(|a| a.id),
                due: primary.map(|_| due(ctx, Deadline::Reopened)),
                reason: None,
            })
        }
        Some(_) => Some(Change::Closed {
            reason: CloseReason::Dissatisfied,
        }),
    };
    std::iter::once(recorded).chain(then).collect()
}

/// 撤回 (and 改派): the dispatch of the round ends before its primary unit signed; with units
/// named, the ticket goes to them in a new round at once.
fn recall(
    state: &Lifecycle,
    ctx: &Context<'_>,
    role: Role,
    reason: String,
    reassign_to: Option<Reassignment>,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Changes {
    let assignment_ids = state
        .current_round()
        .filter(|a| is_open(a.status))
        .map(|a| a.id)
        .collect();
    let mut changes = vec![Change::Recalled {
        reason,
        assignment_ids,
    }];
    if let Some(to) = reassign_to {
        let units = std::iter::once((to.primary_unit_id, AssignmentRole::Primary)).chain(
            to.assisting_unit_ids
                .into_iter()
                .map(|unit| (unit, AssignmentRole::Assisting)),
        );
        changes.extend(dispatch(state, ctx, role, units, false, None, new_id)?);
    }
    Ok(changes)
}

/// 退单审核: accepted, the ticket waits to be dispatched again; refused, the primary unit
/// handles it after all, on the clock the policy says.
fn decide_return(
    state: &Lifecycle,
    ctx: &Context<'_>,
    accept: bool,
    reason: Option<String>,
) -> Changes {
    let returned = state
        .primary()
        .filter(|a| a.status == AssignmentStatus::Returned)
        .ok_or_else(|| Refusal::NotFound("the ticket's return is not on record".into()))?;
    if accept {
        return Ok(vec![Change::ReturnAccepted {
            assignment_id: returned.id,
            reason,
        }]);
    }
    let due = match ctx.policy.refused_return_clock {
        RefusedReturnClock::Continues => returned.reply_deadline.clone(),
        RefusedReturnClock::Restarts => due(ctx, Deadline::Reply),
    };
    Ok(vec![Change::ReturnRefused {
        assignment_id: returned.id,
        reason: reason.unwrap_or_default(),
        due,
    }])
}

/// 重新办理: within the policy's period after closing, back to the unit that replied (or to
/// registration, for a direct answer), with a new due time.
fn reopen(state: &Lifecycle, ctx: &Context<'_>, reason: String) -> Changes {
    let closed_at = state
        .progress
        .closed_at
        .ok_or_else(|| Refusal::NotFound("the ticket's closing is not on record".into()))?;
    let limit = ctx.policy.reopen_within;
    let until = ctx.calendar.due(closed_at, limit, "reopening").due_at;
    if ctx.now > until {
        return Err(conflict(
            ProblemCode::ReopenPeriodOver,
            format!(
                "a ticket may be reopened within {limit} of closing; this one closed at {closed_at}"
            ),
        ));
    }
    let primary = state
        .primary()
        .filter(|a| a.status == AssignmentStatus::Replied);
    Ok(vec![Change::Reopened {
        assignment_id: primary.map(|a| a.id),
        due: primary.map(|_| due(ctx, Deadline::Reopened)),
        reason: Some(reason),
    }])
}

fn merge(state: &Lifecycle, into: Option<(Uuid, bool)>) -> Changes {
    let (into_ticket_id, into_is_open) =
        into.ok_or_else(|| invalid("into_ticket_id", "no such ticket to merge into"))?;
    if into_ticket_id == state.ticket_id {
        return Err(invalid(
            "into_ticket_id",
            "a ticket cannot be merged into itself",
        ));
    }
    if !into_is_open {
        return Err(conflict(
            ProblemCode::MergeTargetClosed,
            "the ticket to merge into has already ended",
        ));
    }
    let ended_assignment_ids = state
        .current_round()
        .filter(|a| is_open(a.status))
        .map(|a| a.id)
        .collect();
    Ok(vec![Change::Merged {
        into_ticket_id,
        ended_assignment_ids,
    }])
}

fn urge(
    state: &Lifecycle,
    assignment_id: Option<Uuid>,
    note: Option<String>,
    urge_id: Uuid,
) -> Changes {
    let target = match assignment_id {
        Some(id) => state
            .current_round()
            .find(|a| {
                a.id == id
                    && a.status != AssignmentStatus::Returned
                    && a.status != AssignmentStatus::Closed
            })
            .ok_or_else(|| {
                Refusal::NotFound(format!("no current assignment {id} on this ticket"))
            })?,
        None => state.primary().ok_or_else(|| {
            conflict(
                ProblemCode::NoPrimary,
                "the ticket has no primary unit to urge",
            )
        })?,
    };
    Ok(vec![Change::Urged {
        urge_id,
        assignment_id: target.id,
        unit_id: target.unit_id,
        kind: UrgeKind::Manual,
        note,
        rung: None,
        timer: None,
    }])
}

fn pause(state: &Lifecycle, reason: String) -> Changes {
    if state.progress.paused_at.is_some() {
        return Err(conflict(
            ProblemCode::AlreadyPaused,
            "the ticket's deadlines are already stopped",
        ));
    }
    Ok(vec![Change::Paused { reason }])
}

fn resume(state: &Lifecycle, ctx: &Context<'_>) -> Changes {
    let paused_at = state
        .progress
        .paused_at
        .ok_or_else(|| conflict(ProblemCode::NotPaused, "the ticket's deadlines are running"))?;
    let moved = state
        .current_round()
        .filter(|a| is_open(a.status))
        .map(|a| MovedDeadline {
            assignment_id: a.id,
            sign: (a.status == AssignmentStatus::Dispatched)
                .then(|| self::moved(ctx.calendar, &a.sign_deadline, paused_at, ctx.now)),
            reply: self::moved(ctx.calendar, &a.reply_deadline, paused_at, ctx.now),
        })
        .collect();
    Ok(vec![Change::Resumed { moved }])
}

fn supervise(
    state: &Lifecycle,
    ctx: &Context<'_>,
    unit_id: Uuid,
    reason: String,
    deadline: DateTime<Utc>,
    supervision_id: Uuid,
) -> Changes {
    if !state.assignments.iter().any(|a| a.unit_id == unit_id) {
        return Err(invalid(
            "unit_id",
            "the unit has never been assigned this ticket",
        ));
    }
    if deadline <= ctx.now {
        return Err(invalid("deadline", "must be in the future"));
    }
    let open =
        |s: &&super::Supervision| s.unit_id == unit_id && s.status == SupervisionStatus::Open;
    if state.supervisions.iter().any(|s| open(&s)) {
        return Err(conflict(
            ProblemCode::AlreadySupervised,
            "the unit is already under supervision for this ticket",
        ));
    }
    Ok(vec![Change::SupervisionOpened {
        supervision_id,
        unit_id,
        reason,
        deadline,
        automatic: false,
    }])
}

fn close_supervision(state: &Lifecycle, supervision_id: Uuid, outcome: String) -> Changes {
    let supervision = state
        .supervisions
        .iter()
        .find(|s| s.id == supervision_id)
        .ok_or_else(|| {
            Refusal::NotFound(format!("no supervision {supervision_id} on this ticket"))
        })?;
    if supervision.status != SupervisionStatus::Open {
        return Err(conflict(
            ProblemCode::SupervisionClosed,
            "the supervision is already closed",
        ));
    }
    Ok(vec![Change::SupervisionClosed {
        supervision_id,
        outcome,
    }])
}

/// An extension request of this ticket still waiting for a decision.
fn pending_request(state: &Lifecycle, id: Uuid) -> Result<&super::ExtensionRequest, Refusal> {
    let request = state
        .extensions
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| Refusal::NotFound(format!("no extension request {id} on this ticket")))?;
    if request.status != ExtensionStatus::Pending {
        return Err(conflict(
            ProblemCode::ExtensionDecided,
            format!("the extension request is already {}", request.status),
        ));
    }
    Ok(request)
}

/// A deadline moved by the working time its clock stood still, counted the way its limit counts
/// (whole working days when a person set it).
fn moved(
    calendar: &WorkCalendar,
    due: &Due,
    paused_at: DateTime<Utc>,
    resumed_at: DateTime<Utc>,
) -> Due {
    let counting = due.limit.unwrap_or(Limit::WorkingDays(1));
    let stopped = calendar.working_time(paused_at, resumed_at, counting);
    Due {
        due_at: calendar.advance(due.due_at, stopped, counting),
        rule: format!(
            "{}; moved by a pause from {}",
            due.rule,
            paused_at.to_rfc3339()
        ),
        ..due.clone()
    }
}

/// The current round's assignment of the acting unit.
fn own_assignment<'a>(state: &'a Lifecycle, actor: &Actor) -> Result<&'a Assignment, Refusal> {
    actor
        .unit_id
        .and_then(|unit| state.assignment_of(unit))
        .filter(|a| a.status != AssignmentStatus::Returned && a.status != AssignmentStatus::Closed)
        .ok_or_else(|| {
            conflict(
                ProblemCode::NoOpenAssignment,
                "your unit has no open assignment on this ticket",
            )
        })
}

/// The assignment a unit works on: its own, or for a sub-unit, once it has signed for the
/// forward, the assignment of the unit that forwarded it.
fn in_whose_name<'a>(state: &'a Lifecycle, own: &'a Assignment) -> Result<&'a Assignment, Refusal> {
    let Some(from) = own.forwarded_from else {
        return Ok(own);
    };
    if own.status != AssignmentStatus::Signed {
        return Err(conflict(
            ProblemCode::NotSigned,
            "sign for the forwarded ticket before working on it",
        ));
    }
    state
        .assignments
        .iter()
        .find(|a| a.id == from)
        .ok_or_else(|| Refusal::NotFound("the forwarded assignment is not on record".into()))
}

/// 二级转办: to a sub-unit of the acting unit, not yet on the ticket in this round; a forward
/// made earlier of the same assignment ends.
fn forward(
    state: &Lifecycle,
    ctx: &Context<'_>,
    to: Option<(Uuid, bool)>,
    note: Option<String>,
    assignment_id: Uuid,
) -> Changes {
    let own = own_assignment(state, &ctx.actor)?;
    if own.role == AssignmentRole::Forwarded {
        return Err(conflict(
            ProblemCode::NotForwardable,
            "a forwarded ticket is worked on or handed back, not forwarded again",
        ));
    }
    if own.status != AssignmentStatus::Signed {
        return Err(conflict(
            ProblemCode::NotSigned,
            "sign for the ticket before forwarding it",
        ));
    }
    let (unit_id, under_actor) = to.ok_or_else(|| invalid("unit_id", "no such active unit"))?;
    if !under_actor {
        return Err(invalid("unit_id", "must be a sub-unit of your unit"));
    }
    if state.current_round().any(|a| a.unit_id == unit_id) {
        return Err(conflict(
            ProblemCode::NotForwardable,
            "that unit already has an assignment on this ticket in this round",
        ));
    }
    let ended_assignment_id = state
        .current_round()
        .find(|a| a.forwarded_from == Some(own.id) && is_open(a.status))
        .map(|a| a.id);
    Ok(vec![Change::Forwarded {
        assignment_id,
        from_assignment_id: own.id,
        unit_id,
        note,
        ended_assignment_id,
    }])
}

/// What a primary unit does with its own assignment, and what that needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrimaryWork {
    Return,
    AskForMoreTime,
    Reply,
}

impl PrimaryWork {
    fn wording(self) -> &'static str {
        match self {
            PrimaryWork::Return => "return it",
            PrimaryWork::AskForMoreTime => "ask for more time",
            PrimaryWork::Reply => "reply",
        }
    }

    /// A unit may hand a ticket back instead of signing for it (退单); the rest is work it signed
    /// for.
    fn needs_signature(self) -> bool {
        self != PrimaryWork::Return
    }
}

/// The acting unit's assignment, which must be the current primary one still being worked on.
fn own_primary<'a>(
    state: &'a Lifecycle,
    actor: &Actor,
    work: PrimaryWork,
) -> Result<&'a Assignment, Refusal> {
    let what = work.wording();
    let assignment = in_whose_name(state, own_assignment(state, actor)?)?;
    if assignment.role != AssignmentRole::Primary {
        return Err(conflict(
            ProblemCode::NotPrimary,
            format!("only the primary unit may {what}"),
        ));
    }
    if !is_open(assignment.status) {
        return Err(conflict(
            ProblemCode::NoOpenAssignment,
            "your unit's work on this ticket is done",
        ));
    }
    if work.needs_signature() && assignment.status != AssignmentStatus::Signed {
        return Err(conflict(
            ProblemCode::NotSigned,
            format!("sign for the ticket before you {what}"),
        ));
    }
    Ok(assignment)
}
