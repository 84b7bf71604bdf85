//! Every (state, action, role) pair against the lifecycle table, and random action sequences
//! against the invariants.

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::domain::access::Role;
use crate::domain::calendar::WorkCalendar;
use crate::domain::policy::Policy;
use crate::domain::problem::ProblemCode;
use crate::domain::ticket::{AssignmentRole, AssignmentStatus, Priority, TicketType};

const PRIMARY: u128 = 0xA1;
const ASSISTING: u128 = 0xA2;
const STRANGER: u128 = 0xA3;
/// A sub-unit of each of the units above (二级转办).
const SUB_UNIT: u128 = 0xB1;

fn unit(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 16, 1, 0, 0).unwrap()
}

/// A fixture: a ticket's state, a clock, the timeline so far, and an id counter.
struct Run {
    state: Lifecycle,
    now: DateTime<Utc>,
    timeline: Vec<(Change, DateTime<Utc>, Actor)>,
    next_id: u128,
    policy: Policy,
    calendar: WorkCalendar,
}

fn actor(role: Role, unit_id: Option<Uuid>) -> Actor {
    Actor::user(Uuid::from_u128(0xB000 + role as u128), role, unit_id)
}

fn staff(role: Role) -> Actor {
    actor(role, None)
}

fn handler(unit_n: u128) -> Actor {
    actor(Role::UnitHandler, Some(unit(unit_n)))
}

impl Run {
    fn new() -> Self {
        Self {
            state: Lifecycle::registered(Uuid::from_u128(1)),
            now: start(),
            timeline: Vec::new(),
            next_id: 0x1000,
            policy: Policy::default(),
            calendar: WorkCalendar::weekdays_only(chrono_tz::Asia::Shanghai),
        }
    }

    fn attempt(&mut self, by: Actor, command: Command) -> Result<Decision, Refusal> {
        self.now += Duration::minutes(7);
        let ctx = Context {
            actor: by,
            now: self.now,
            ticket_type: TicketType::Complaint,
            priority: Priority::Normal,
            policy: &self.policy,
            calendar: &self.calendar,
        };
        let mut counter = self.next_id;
        let mut ids = || {
            counter += 1;
            Uuid::from_u128(counter)
        };
        let result = decide(&self.state, command, &ctx, &mut ids);
        self.next_id = counter;
        if let Ok(decision) = &result {
            for change in &decision.changes {
                self.timeline.push((change.clone(), self.now, by));
            }
            self.state = decision.next.clone();
        }
        result
    }

    fn ok(&mut self, by: Actor, command: Command) -> &mut Self {
        if let Err(refusal) = self.attempt(by, command.clone()) {
            panic!(
                "{command:?} by {by:?} in {:?}: {refusal:?}",
                self.state.progress.status
            );
        }
        self
    }

    fn replayed(&self) -> Lifecycle {
        Lifecycle::replay(
            self.state.ticket_id,
            self.timeline.iter().map(|(c, at, a)| (c, *at, *a)),
        )
    }
}

fn dispatch(forced: bool) -> Command {
    Command::Dispatch {
        primary_unit_id: unit(PRIMARY),
        assisting_unit_ids: vec![unit(ASSISTING)],
        forced,
        note: None,
    }
}

fn reply() -> Command {
    Command::Reply {
        result: ReplyResult::Resolved,
        content: ReplyContent {
            text: "已处理".into(),
            contact: Some(ContactRecord::Impossible {
                reason: "空号".into(),
            }),
            attachment_ids: vec![],
        },
    }
}

fn opinion() -> Command {
    Command::AddOpinion {
        content: ReplyContent {
            text: "同意".into(),
            contact: None,
            attachment_ids: vec![],
        },
    }
}

fn callback(satisfaction: Option<Satisfaction>, reopen: bool) -> Command {
    Command::Callback {
        reached: satisfaction.is_some(),
        satisfaction,
        resolved: satisfaction.map(|s| s.is_satisfied()),
        comment: None,
        reopen,
    }
}

fn review(accept: bool) -> Command {
    Command::Review {
        accept,
        comment: (!accept).then(|| "未联系当事人".into()),
        due_at: None,
    }
}

/// A run brought to `status` the usual way.
fn brought_to(status: TicketStatus) -> Run {
    let mut run = Run::new();
    let dispatcher = staff(Role::Dispatcher);
    match status {
        TicketStatus::Registered => {}
        TicketStatus::Merged => {
            run.ok(
                staff(Role::Agent),
                Command::Merge {
                    into: Some((Uuid::from_u128(2), true)),
                },
            );
        }
        TicketStatus::Invalid => {
            run.ok(
                staff(Role::Agent),
                Command::Invalidate {
                    reason: "骚扰电话".into(),
                },
            );
        }
        _ => {
            run.ok(dispatcher, dispatch(false));
            match status {
                TicketStatus::Dispatched => {}
                TicketStatus::Returned => {
                    run.ok(
                        handler(PRIMARY),
                        Command::Return {
                            reason: "不属于本单位职责".into(),
                        },
                    );
                }
                _ => {
                    run.ok(handler(PRIMARY), Command::Sign);
                    if status != TicketStatus::Handling {
                        run.ok(handler(PRIMARY), reply());
                    }
                    if matches!(
                        status,
                        TicketStatus::AwaitingCallback | TicketStatus::Closed
                    ) {
                        run.ok(dispatcher, review(true));
                    }
                    if status == TicketStatus::Closed {
                        run.ok(
                            staff(Role::Agent),
                            callback(Some(Satisfaction::Satisfied), false),
                        );
                    }
                }
            }
        }
    }
    assert_eq!(run.state.progress.status, status);
    run
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Answer,
    Dispatch,
    Sign,
    Return,
    RequestExtension,
    ApproveExtension,
    RejectExtension,
    Reply,
    AddOpinion,
    Review,
    Callback,
    Merge,
    Invalidate,
    Urge,
    Supervise,
    CloseSupervision,
    Pause,
    Resume,
    Recall,
    DecideReturn,
    Reopen,
    Forward,
}

const KINDS: [Kind; 22] = [
    Kind::Answer,
    Kind::Dispatch,
    Kind::Sign,
    Kind::Return,
    Kind::RequestExtension,
    Kind::ApproveExtension,
    Kind::RejectExtension,
    Kind::Reply,
    Kind::AddOpinion,
    Kind::Review,
    Kind::Callback,
    Kind::Merge,
    Kind::Invalidate,
    Kind::Urge,
    Kind::Supervise,
    Kind::CloseSupervision,
    Kind::Pause,
    Kind::Resume,
    Kind::Recall,
    Kind::DecideReturn,
    Kind::Reopen,
    Kind::Forward,
];

/// The lifecycle table of the domain description, written out independently of the code.
fn table(kind: Kind) -> (&'static [Role], &'static [TicketStatus]) {
    use Role::*;
    use TicketStatus::*;
    const FRONT: &[Role] = &[Agent, Dispatcher, Supervisor];
    const OFFICE: &[Role] = &[Dispatcher, Supervisor];
    const UNIT: &[Role] = &[UnitHandler];
    const IN_PROGRESS: &[TicketStatus] = &[Dispatched, Handling, Replied];
    match kind {
        Kind::Answer => (FRONT, &[Registered]),
        Kind::Dispatch => (FRONT, &[Registered, Returned]),
        Kind::Sign => (UNIT, IN_PROGRESS),
        Kind::Return => (UNIT, &[Dispatched, Handling]),
        Kind::RequestExtension => (UNIT, &[Handling]),
        Kind::ApproveExtension | Kind::RejectExtension => (OFFICE, &[Handling]),
        Kind::Reply => (UNIT, &[Handling]),
        Kind::AddOpinion => (UNIT, IN_PROGRESS),
        Kind::Review => (OFFICE, &[Replied]),
        Kind::Callback => (FRONT, &[AwaitingCallback]),
        Kind::Merge => (FRONT, &[Registered, Dispatched, Handling, Returned]),
        Kind::Invalidate => (FRONT, &[Registered]),
        Kind::Urge => (FRONT, IN_PROGRESS),
        Kind::Supervise => (&[Supervisor], IN_PROGRESS),
        Kind::Pause | Kind::Resume => (OFFICE, &[Dispatched, Handling]),
        // Before the primary unit signs.
        Kind::Recall => (FRONT, &[Dispatched]),
        Kind::DecideReturn => (FRONT, &[Returned]),
        Kind::Reopen => (&[Supervisor], &[Closed]),
        Kind::Forward => (UNIT, &[Dispatched, Handling]),
        // Closing a supervision is possible whenever one is open, even after the ticket ended.
        Kind::CloseSupervision => (
            &[Supervisor],
            &[
                Dispatched,
                Handling,
                Returned,
                Replied,
                AwaitingCallback,
                Closed,
            ],
        ),
    }
}

/// Brings a run to `status` with what `kind` needs beforehand, and the command and unit to try.
fn prepared(status: TicketStatus, kind: Kind) -> (Run, Command, Option<u128>) {
    let mut run = brought_to(status);
    let supervisor = staff(Role::Supervisor);
    let mut supervision = None;
    if kind == Kind::CloseSupervision && status != TicketStatus::Registered {
        // Open one while it was possible: replay the path with a supervision at dispatch.
        let mut with = Run::new();
        if let Some(first) = run.timeline.first() {
            with.ok(
                first.2,
                match &first.0 {
                    Change::Dispatched { .. } => dispatch(false),
                    _ => Command::Invalidate { reason: "x".into() },
                },
            );
        }
        if with.state.progress.status == TicketStatus::Dispatched {
            let decision = with
                .attempt(
                    supervisor,
                    Command::Supervise {
                        unit_id: unit(PRIMARY),
                        reason: "久拖不决".into(),
                        deadline: start() + Duration::days(30),
                    },
                )
                .unwrap();
            if let Change::SupervisionOpened { supervision_id, .. } = decision.changes[0] {
                supervision = Some(supervision_id);
            }
            for (change, _, by) in run.timeline.iter().skip(1) {
                let command = match change {
                    Change::Returned { .. } => Command::Return {
                        reason: "不属于本单位职责".into(),
                    },
                    Change::Signed { .. } => Command::Sign,
                    Change::Replied { .. } => reply(),
                    Change::ReviewAccepted { .. } => review(true),
                    Change::CallbackRecorded { .. } => {
                        callback(Some(Satisfaction::Satisfied), false)
                    }
                    _ => continue,
                };
                with.ok(*by, command);
            }
            run = with;
        }
    }
    let mut request = None;
    if matches!(kind, Kind::ApproveExtension | Kind::RejectExtension)
        && status == TicketStatus::Handling
    {
        let decision = run
            .attempt(
                handler(PRIMARY),
                Command::RequestExtension {
                    due_at: start() + Duration::days(60),
                    reason: "需要现场勘验".into(),
                },
            )
            .unwrap();
        if let Change::ExtensionRequested { request_id, .. } = decision.changes[0] {
            request = Some(request_id);
        }
    }
    if kind == Kind::Resume && matches!(status, TicketStatus::Dispatched | TicketStatus::Handling) {
        run.ok(
            staff(Role::Dispatcher),
            Command::Pause {
                reason: "等待鉴定".into(),
            },
        );
    }
    if matches!(kind, Kind::AddOpinion | Kind::Forward)
        && matches!(
            status,
            TicketStatus::Dispatched | TicketStatus::Handling | TicketStatus::Replied
        )
    {
        run.ok(handler(ASSISTING), Command::Sign);
    }
    let acting_unit = match kind {
        Kind::Sign if status != TicketStatus::Dispatched => Some(ASSISTING),
        // A unit forwards what it signed for: the assisting unit has, in every state.
        Kind::AddOpinion | Kind::Forward => Some(ASSISTING),
        _ => Some(PRIMARY),
    };
    let command = match kind {
        Kind::Answer => Command::Answer {
            text: "已当场解答".into(),
            article_ids: vec![],
        },
        Kind::Dispatch => dispatch(false),
        Kind::Sign => Command::Sign,
        Kind::Return => Command::Return {
            reason: "不属于本单位职责".into(),
        },
        Kind::RequestExtension => Command::RequestExtension {
            due_at: start() + Duration::days(90),
            reason: "需要协调".into(),
        },
        Kind::ApproveExtension => Command::ApproveExtension {
            request_id: request.unwrap_or_default(),
            note: None,
        },
        Kind::RejectExtension => Command::RejectExtension {
            request_id: request.unwrap_or_default(),
            note: None,
        },
        Kind::Reply => reply(),
        Kind::AddOpinion => opinion(),
        Kind::Review => review(true),
        Kind::Callback => callback(Some(Satisfaction::Satisfied), false),
        Kind::Merge => Command::Merge {
            into: Some((Uuid::from_u128(2), true)),
        },
        Kind::Invalidate => Command::Invalidate {
            reason: "重复来电".into(),
        },
        Kind::Urge => Command::Urge {
            assignment_id: None,
            note: None,
        },
        Kind::Supervise => Command::Supervise {
            unit_id: unit(PRIMARY),
            reason: "久拖不决".into(),
            deadline: start() + Duration::days(30),
        },
        Kind::CloseSupervision => Command::CloseSupervision {
            supervision_id: supervision.unwrap_or_default(),
            outcome: "已办结".into(),
        },
        Kind::Pause => Command::Pause {
            reason: "等待鉴定".into(),
        },
        Kind::Resume => Command::Resume,
        Kind::Recall => Command::Recall {
            reason: "派错单位".into(),
            reassign_to: None,
        },
        Kind::DecideReturn => Command::DecideReturn {
            accept: true,
            reason: None,
        },
        Kind::Reopen => Command::Reopen {
            reason: "群众再次反映".into(),
        },
        Kind::Forward => Command::Forward {
            to: Some((unit(SUB_UNIT), true)),
            note: None,
        },
    };
    (run, command, acting_unit)
}

#[test]
fn every_state_action_and_role_follows_the_table() {
    let mut checked = 0;
    for status in TicketStatus::ALL.iter().copied() {
        for kind in KINDS {
            for role in Role::ALL.iter().copied() {
                let (mut run, command, acting_unit) = prepared(status, kind);
                let by = match role {
                    Role::UnitHandler => handler(acting_unit.unwrap_or(PRIMARY)),
                    other => staff(other),
                };
                let (roles, statuses) = table(kind);
                let result = run.attempt(by, command.clone());
                let context = format!("{kind:?} by {role} in {status}: {result:?}");
                if !roles.contains(&role) {
                    assert!(matches!(result, Err(Refusal::Forbidden(_))), "{context}");
                } else if kind == Kind::CloseSupervision
                    && matches!(
                        status,
                        TicketStatus::Registered | TicketStatus::Merged | TicketStatus::Invalid
                    )
                {
                    assert!(
                        matches!(result, Err(Refusal::NotFound(_))),
                        "no supervision could be opened: {context}"
                    );
                } else if !statuses.contains(&status) {
                    assert_eq!(
                        result,
                        Err(Refusal::InvalidTransition {
                            status,
                            action: command.action()
                        }),
                        "{context}"
                    );
                } else {
                    assert!(result.is_ok(), "{context}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 9 * KINDS.len() * 6);
}

#[test]
fn a_full_walk_with_return_extension_rework_and_reopen() {
    let mut run = Run::new();
    let dispatcher = staff(Role::Dispatcher);
    let agent = staff(Role::Agent);
    run.ok(dispatcher, dispatch(false));
    assert_eq!(run.state.progress.current_round, 1);
    assert!(run.state.sign_due_at().is_some());
    run.ok(
        handler(PRIMARY),
        Command::Return {
            reason: "非本单位职责".into(),
        },
    );
    assert_eq!(
        (run.state.progress.status, run.state.progress.return_count),
        (TicketStatus::Returned, 1)
    );
    assert!(
        run.state.assignments.iter().all(|a| !is_open(a.status)),
        "the whole round ended"
    );
    run.ok(
        dispatcher,
        Command::Dispatch {
            primary_unit_id: unit(ASSISTING),
            assisting_unit_ids: vec![],
            forced: false,
            note: Some("二次转办".into()),
        },
    );
    assert_eq!(run.state.progress.current_round, 2);
    run.ok(handler(ASSISTING), Command::Sign);
    assert_eq!(run.state.progress.status, TicketStatus::Handling);
    let due_before = run.state.due_at().unwrap();
    let requested = due_before + Duration::days(5);
    let decision = run
        .attempt(
            handler(ASSISTING),
            Command::RequestExtension {
                due_at: requested,
                reason: "需要现场勘验".into(),
            },
        )
        .unwrap();
    let Change::ExtensionRequested { request_id, .. } = decision.changes[0] else {
        panic!()
    };
    run.ok(
        dispatcher,
        Command::ApproveExtension {
            request_id,
            note: None,
        },
    );
    let primary = run.state.primary().unwrap().clone();
    assert_eq!(primary.due_at(), requested);
    assert_eq!(
        primary.original_due_at, due_before,
        "the original due time stays on record"
    );
    run.ok(handler(ASSISTING), reply());
    run.ok(dispatcher, review(false));
    assert_eq!(
        (run.state.progress.status, run.state.progress.rework_count),
        (TicketStatus::Handling, 1)
    );
    run.ok(handler(ASSISTING), reply());
    run.ok(dispatcher, review(true));
    assert!(run.state.progress.callback_due_at.is_some());
    run.ok(agent, callback(Some(Satisfaction::Dissatisfied), true));
    assert_eq!(
        (run.state.progress.status, run.state.progress.rework_count),
        (TicketStatus::Handling, 2)
    );
    run.ok(handler(ASSISTING), reply());
    run.ok(dispatcher, review(true));
    run.ok(
        agent,
        callback(Some(Satisfaction::BasicallySatisfied), false),
    );
    assert_eq!(run.state.progress.status, TicketStatus::Closed);
    assert_eq!(
        run.state.progress.close_reason,
        Some(CloseReason::Satisfied)
    );
    assert_eq!(run.replayed(), run.state);
}

#[test]
fn what_ends_a_pause_puts_its_resumption_on_the_timeline() {
    for (status, command) in [
        (TicketStatus::Handling, reply()),
        (
            TicketStatus::Handling,
            Command::Return {
                reason: "不属于本单位职责".into(),
            },
        ),
    ] {
        let mut run = brought_to(status);
        run.ok(
            staff(Role::Dispatcher),
            Command::Pause {
                reason: "等待司法鉴定".into(),
            },
        );
        let decision = run.attempt(handler(PRIMARY), command.clone()).unwrap();
        assert!(
            matches!(decision.changes.first(), Some(Change::Resumed { moved }) if moved.is_empty()),
            "{command:?}: {:?}",
            decision.changes
        );
        assert_eq!(decision.next.progress.paused_at, None);
        assert_eq!(
            decision
                .changes
                .iter()
                .filter(|c| matches!(c, Change::Resumed { .. }))
                .count(),
            1
        );
    }
}

#[test]
fn a_pause_moves_the_deadlines_by_the_working_time_it_lasted() {
    let mut run = brought_to(TicketStatus::Handling);
    let dispatcher = staff(Role::Dispatcher);
    let due = run.state.due_at().unwrap();
    // Monday 16 November: paused at 10:00, resumed on Wednesday at 10:00 = two working days.
    run.now = Utc.with_ymd_and_hms(2026, 11, 16, 1, 53, 0).unwrap();
    run.ok(
        dispatcher,
        Command::Pause {
            reason: "等待司法鉴定".into(),
        },
    );
    assert_eq!(run.state.progress.paused_at, Some(run.now));
    let again = run.attempt(dispatcher, Command::Pause { reason: "x".into() });
    assert!(matches!(
        again,
        Err(Refusal::Conflict {
            code: ProblemCode::AlreadyPaused,
            ..
        })
    ));
    run.now = Utc.with_ymd_and_hms(2026, 11, 18, 1, 53, 0).unwrap();
    run.ok(dispatcher, Command::Resume);
    assert_eq!(run.state.progress.paused_at, None);
    let moved = run.state.primary().unwrap();
    assert_eq!(moved.due_at(), due + Duration::days(2));
    assert!(moved.reply_deadline.rule.contains("moved by a pause"));
    let not_paused = run.attempt(dispatcher, Command::Resume);
    assert!(matches!(
        not_paused,
        Err(Refusal::Conflict {
            code: ProblemCode::NotPaused,
            ..
        })
    ));
    assert_eq!(run.replayed(), run.state);
}

#[test]
fn three_returns_make_the_office_decide() {
    let mut run = Run::new();
    let dispatcher = staff(Role::Dispatcher);
    for _ in 0..3 {
        run.ok(dispatcher, dispatch(false));
        run.ok(
            handler(PRIMARY),
            Command::Return {
                reason: "不属于本单位".into(),
            },
        );
    }
    let refused = run.attempt(dispatcher, dispatch(false));
    assert!(
        matches!(
            refused,
            Err(Refusal::Conflict {
                code: ProblemCode::ForcedDispatchRequired,
                ..
            })
        ),
        "{refused:?}"
    );
    let by_agent = run.attempt(staff(Role::Agent), dispatch(true));
    assert!(matches!(by_agent, Err(Refusal::Forbidden(_))));
    run.ok(dispatcher, dispatch(true));
    let returned = run.attempt(
        handler(PRIMARY),
        Command::Return {
            reason: "还是不属于".into(),
        },
    );
    assert!(matches!(
        returned,
        Err(Refusal::Conflict {
            code: ProblemCode::ForcedAssignment,
            ..
        })
    ));
}

#[test]
fn three_unanswered_callbacks_close_the_ticket() {
    let mut run = brought_to(TicketStatus::AwaitingCallback);
    run.ok(staff(Role::Agent), callback(None, false));
    run.ok(staff(Role::Agent), callback(None, false));
    assert_eq!(run.state.progress.status, TicketStatus::AwaitingCallback);
    run.ok(staff(Role::Agent), callback(None, false));
    assert_eq!(run.state.progress.status, TicketStatus::Closed);
    assert_eq!(
        run.state.progress.close_reason,
        Some(CloseReason::Unreachable)
    );
}

#[test]
fn direct_answers_close_or_wait_for_a_callback_by_policy() {
    let mut consult = Run::new();
    consult.policy.callback_after_direct_answer.clear();
    consult.ok(
        staff(Role::Agent),
        Command::Answer {
            text: "已解答".into(),
            article_ids: vec![],
        },
    );
    assert_eq!(
        (
            consult.state.progress.status,
            consult.state.progress.close_reason
        ),
        (TicketStatus::Closed, Some(CloseReason::Answered))
    );
    let mut complaint = Run::new();
    complaint.ok(
        staff(Role::Agent),
        Command::Answer {
            text: "已解答".into(),
            article_ids: vec![],
        },
    );
    assert_eq!(
        complaint.state.progress.status,
        TicketStatus::AwaitingCallback
    );
    complaint.ok(
        staff(Role::Agent),
        callback(Some(Satisfaction::Dissatisfied), true),
    );
    assert_eq!(
        complaint.state.progress.status,
        TicketStatus::Registered,
        "back to be dispatched or answered again"
    );
    assert_eq!(complaint.replayed(), complaint.state);
}

#[test]
fn units_act_only_on_their_own_assignments() {
    let mut run = brought_to(TicketStatus::Dispatched);
    let stranger = run.attempt(handler(STRANGER), Command::Sign);
    assert!(matches!(
        stranger,
        Err(Refusal::Conflict {
            code: ProblemCode::NoOpenAssignment,
            ..
        })
    ));
    run.ok(handler(ASSISTING), Command::Sign);
    let assisting_return = run.attempt(handler(ASSISTING), Command::Return { reason: "x".into() });
    assert!(matches!(
        assisting_return,
        Err(Refusal::Conflict {
            code: ProblemCode::NotPrimary,
            ..
        })
    ));
    run.ok(handler(PRIMARY), Command::Sign);
    let twice = run.attempt(handler(PRIMARY), Command::Sign);
    assert!(matches!(
        twice,
        Err(Refusal::Conflict {
            code: ProblemCode::AlreadySigned,
            ..
        })
    ));
    let primary_opinion = run.attempt(handler(PRIMARY), opinion());
    assert!(matches!(
        primary_opinion,
        Err(Refusal::Conflict {
            code: ProblemCode::NotAssisting,
            ..
        })
    ));
}

#[test]
fn a_reply_contact_cannot_predate_the_dispatch_or_lie_in_the_future() {
    let mut run = brought_to(TicketStatus::Handling);
    let with_contact = |at| Command::Reply {
        result: ReplyResult::Resolved,
        content: ReplyContent {
            text: "已处理".into(),
            contact: Some(ContactRecord::Reached {
                at,
                method: ContactMethod::Phone,
                outcome: "已告知".into(),
            }),
            attachment_ids: vec![],
        },
    };
    let future = run.attempt(handler(PRIMARY), with_contact(start() + Duration::days(3)));
    assert!(matches!(future, Err(Refusal::Invalid(_))));
    let past = run.attempt(handler(PRIMARY), with_contact(start() - Duration::days(3)));
    assert!(matches!(past, Err(Refusal::Invalid(_))));
    let dispatched = run.state.primary().unwrap().dispatched_at;
    let same_minute = dispatched
        .duration_trunc(chrono::TimeDelta::minutes(1))
        .unwrap();
    let now = run.now;
    run.ok(handler(PRIMARY), with_contact(same_minute.min(now)));
}

#[test]
fn every_change_reads_back_from_its_timeline_entry() {
    let dispatcher = staff(Role::Dispatcher);
    let agent = staff(Role::Agent);
    let supervisor = staff(Role::Supervisor);
    let mut long = Run::new();
    long.ok(dispatcher, dispatch(false));
    let opened = long
        .attempt(
            supervisor,
            Command::Supervise {
                unit_id: unit(PRIMARY),
                reason: "久拖".into(),
                deadline: start() + Duration::days(30),
            },
        )
        .unwrap();
    let Change::SupervisionOpened { supervision_id, .. } = opened.changes[0] else {
        panic!()
    };
    long.ok(
        agent,
        Command::Urge {
            assignment_id: None,
            note: Some("请尽快签收".into()),
        },
    )
    .ok(handler(PRIMARY), Command::Sign)
    .ok(handler(ASSISTING), Command::Sign)
    .ok(handler(ASSISTING), opinion());
    let asked = long
        .attempt(
            handler(PRIMARY),
            Command::RequestExtension {
                due_at: start() + Duration::days(50),
                reason: "勘验".into(),
            },
        )
        .unwrap();
    let Change::ExtensionRequested { request_id, .. } = asked.changes[0] else {
        panic!()
    };
    long.ok(
        dispatcher,
        Command::ApproveExtension {
            request_id,
            note: Some("同意".into()),
        },
    )
    .ok(handler(PRIMARY), reply())
    .ok(dispatcher, review(false))
    .ok(handler(PRIMARY), reply())
    .ok(dispatcher, review(true))
    .ok(agent, callback(Some(Satisfaction::Dissatisfied), true))
    .ok(handler(PRIMARY), reply())
    .ok(dispatcher, review(true))
    .ok(agent, callback(None, false))
    .ok(agent, callback(Some(Satisfaction::Satisfied), false))
    .ok(
        supervisor,
        Command::CloseSupervision {
            supervision_id,
            outcome: "已办结".into(),
        },
    );
    let mut returned = brought_to(TicketStatus::Handling);
    let asked = returned
        .attempt(
            handler(PRIMARY),
            Command::RequestExtension {
                due_at: start() + Duration::days(50),
                reason: "x".into(),
            },
        )
        .unwrap();
    let Change::ExtensionRequested { request_id, .. } = asked.changes[0] else {
        panic!()
    };
    returned
        .ok(
            dispatcher,
            Command::RejectExtension {
                request_id,
                note: None,
            },
        )
        .ok(
            handler(PRIMARY),
            Command::Return {
                reason: "非本单位".into(),
            },
        );
    returned.ok(dispatcher, dispatch(false)).ok(
        dispatcher,
        Command::Pause {
            reason: "鉴定".into(),
        },
    );
    returned.ok(dispatcher, Command::Resume);
    let mut answered = Run::new();
    answered.ok(
        agent,
        Command::Answer {
            text: "已解答".into(),
            article_ids: vec![],
        },
    );
    let mut office = brought_to(TicketStatus::Dispatched);
    office
        .ok(
            dispatcher,
            Command::Recall {
                reason: "派错单位".into(),
                reassign_to: Some(Reassignment {
                    primary_unit_id: unit(PRIMARY),
                    assisting_unit_ids: vec![unit(ASSISTING)],
                }),
            },
        )
        .ok(
            dispatcher,
            Command::Recall {
                reason: "补充材料后再派".into(),
                reassign_to: None,
            },
        )
        .ok(dispatcher, dispatch(false))
        .ok(
            handler(PRIMARY),
            Command::Return {
                reason: "非本单位".into(),
            },
        )
        .ok(
            dispatcher,
            Command::DecideReturn {
                accept: false,
                reason: Some("属你单位职责".into()),
            },
        )
        .ok(
            handler(PRIMARY),
            Command::Return {
                reason: "非本单位".into(),
            },
        )
        .ok(
            dispatcher,
            Command::DecideReturn {
                accept: true,
                reason: None,
            },
        );
    let mut forwarded = brought_to(TicketStatus::Handling);
    forwarded
        .ok(
            handler(PRIMARY),
            Command::Forward {
                to: Some((unit(SUB_UNIT), true)),
                note: Some("请社区核实".into()),
            },
        )
        .ok(handler(SUB_UNIT), Command::Sign)
        .ok(
            handler(SUB_UNIT),
            Command::Return {
                reason: "不在本社区".into(),
            },
        );
    let mut reopened = brought_to(TicketStatus::Closed);
    reopened.ok(
        supervisor,
        Command::Reopen {
            reason: "群众再次反映".into(),
        },
    );
    let timelines = [
        long,
        returned,
        answered,
        office,
        reopened,
        forwarded,
        brought_to(TicketStatus::Merged),
        brought_to(TicketStatus::Invalid),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for run in &timelines {
        for (change, _, _) in &run.timeline {
            let read = Change::from_event(change.kind(), &change.details())
                .unwrap()
                .unwrap();
            assert_eq!(&read, change);
            seen.insert(change.kind());
        }
        assert_eq!(run.replayed(), run.state);
    }
    // The ladder's own changes come from `ladder::changes`, not from a command.
    let assignment = Uuid::from_u128(7);
    let by_the_ladder = [
        Change::Urged {
            urge_id: Uuid::from_u128(8),
            assignment_id: assignment,
            unit_id: unit(PRIMARY),
            kind: UrgeKind::System,
            note: None,
            rung: Some(crate::domain::ladder::Rung::Red),
            timer: Some(crate::domain::ladder::Timer::Reply),
        },
        Change::MarkedOverdue {
            assignment_id: assignment,
            due_at: start(),
        },
        Change::CallbackReminded {
            rung: crate::domain::ladder::Rung::Yellow,
            due_at: start(),
        },
    ];
    for change in &by_the_ladder {
        let read = Change::from_event(change.kind(), &change.details())
            .unwrap()
            .unwrap();
        assert_eq!(&read, change);
        seen.insert(change.kind());
    }
    assert_eq!(
        seen.len(),
        Change::KINDS.len(),
        "every kind exercised: {seen:?}"
    );
    for kind in Change::KINDS {
        assert!(
            crate::domain::ticket::EventKind::ALL.contains(&kind),
            "{kind}"
        );
    }
    assert!(
        Change::from_event(
            crate::domain::ticket::EventKind::Registered,
            &serde_json::json!({})
        )
        .is_none()
    );
}

/// One random step: who acts and what they ask.
#[derive(Debug, Clone)]
struct Step {
    kind: usize,
    role: usize,
    unit: u128,
    flag: bool,
    satisfaction: usize,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0..KINDS.len(),
        0..10usize,
        prop_oneof![3 => Just(PRIMARY), 2 => Just(ASSISTING), 1 => Just(STRANGER), 1 => Just(SUB_UNIT)],
        any::<bool>(),
        0..4usize,
    )
        .prop_map(|(kind, role, unit, flag, satisfaction)| Step {
            kind,
            role,
            unit,
            flag,
            satisfaction,
        })
}

/// Mostly a role the table allows for the step's action, so that walks get far; sometimes any.
fn actor_for(step: &Step) -> Actor {
    let allowed = table(KINDS[step.kind]).0;
    let role = if step.role < 6 {
        allowed[step.role % allowed.len()]
    } else {
        Role::ALL[step.role - 4]
    };
    if role == Role::UnitHandler {
        handler(step.unit)
    } else {
        staff(role)
    }
}

fn command_for(run: &Run, step: &Step) -> Command {
    let satisfaction = [
        None,
        Some(Satisfaction::Satisfied),
        Some(Satisfaction::BasicallySatisfied),
        Some(Satisfaction::Dissatisfied),
    ][step.satisfaction];
    let request = run
        .state
        .pending_extension()
        .map(|e| e.id)
        .unwrap_or_default();
    let supervision = run
        .state
        .supervisions
        .iter()
        .find(|s| s.status == SupervisionStatus::Open)
        .map(|s| s.id)
        .unwrap_or_default();
    match KINDS[step.kind] {
        Kind::Answer => Command::Answer {
            text: "答".into(),
            article_ids: vec![],
        },
        Kind::Dispatch => Command::Dispatch {
            primary_unit_id: unit(step.unit),
            assisting_unit_ids: if step.unit == PRIMARY {
                vec![unit(ASSISTING)]
            } else {
                vec![]
            },
            forced: step.flag,
            note: None,
        },
        Kind::Sign => Command::Sign,
        Kind::Return => Command::Return {
            reason: "退".into(),
        },
        Kind::RequestExtension => Command::RequestExtension {
            due_at: run.now + Duration::days(40),
            reason: "延".into(),
        },
        Kind::ApproveExtension => Command::ApproveExtension {
            request_id: request,
            note: None,
        },
        Kind::RejectExtension => Command::RejectExtension {
            request_id: request,
            note: None,
        },
        Kind::Reply => reply(),
        Kind::AddOpinion => opinion(),
        Kind::Review => review(step.flag),
        Kind::Callback => callback(
            satisfaction,
            step.flag && satisfaction == Some(Satisfaction::Dissatisfied),
        ),
        Kind::Merge => Command::Merge {
            into: step.flag.then_some((Uuid::from_u128(2), true)),
        },
        Kind::Invalidate => Command::Invalidate {
            reason: "无效".into(),
        },
        Kind::Urge => Command::Urge {
            assignment_id: None,
            note: None,
        },
        Kind::Supervise => Command::Supervise {
            unit_id: unit(step.unit),
            reason: "督".into(),
            deadline: run.now + Duration::days(10),
        },
        Kind::CloseSupervision => Command::CloseSupervision {
            supervision_id: supervision,
            outcome: "结".into(),
        },
        Kind::Pause => Command::Pause {
            reason: "停".into(),
        },
        Kind::Resume => Command::Resume,
        Kind::Recall => Command::Recall {
            reason: "撤".into(),
            reassign_to: step.flag.then(|| Reassignment {
                primary_unit_id: unit(step.unit),
                assisting_unit_ids: vec![],
            }),
        },
        Kind::DecideReturn => Command::DecideReturn {
            accept: step.flag,
            reason: Some("定".into()),
        },
        Kind::Reopen => Command::Reopen {
            reason: "重".into(),
        },
        Kind::Forward => Command::Forward {
            to: Some((unit(SUB_UNIT), step.flag)),
            note: None,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_walks_keep_the_invariants(steps in proptest::collection::vec(step(), 1..60)) {
        let mut run = Run::new();
        let mut ended = None;
        for step in &steps {
            let by = actor_for(step);
            let command = command_for(&run, step);
            let before = run.state.clone();
            let result = run.attempt(by, command);
            if result.is_err() {
                prop_assert_eq!(&run.state, &before, "a refusal changes nothing");
            }
            let reopened = matches!(run.timeline.last(), Some((Change::Reopened { reason: Some(_), .. }, _, _)));
            if result.is_ok() && reopened && ended == Some(TicketStatus::Closed) {
                // 重新办理: the one way out of a final state.
                ended = None;
            }
            let state = &run.state;
            let open_primaries = state.assignments.iter().filter(|a| a.role == crate::domain::ticket::AssignmentRole::Primary && is_open(a.status)).count();
            prop_assert!(open_primaries <= 1, "open primaries: {}", open_primaries);
            for forward in state.assignments.iter().filter(|a| a.forwarded_from.is_some() && is_open(a.status)) {
                let from = state.assignments.iter().find(|a| Some(a.id) == forward.forwarded_from);
                prop_assert!(from.is_some_and(|a| is_open(a.status) && a.round == forward.round), "an open forward of an ended assignment");
                prop_assert_eq!(from.map(|a| a.due_at()), Some(forward.due_at()), "a forward is due as its unit");
            }
            if let Some(final_status) = ended {
                prop_assert_eq!(state.progress.status, final_status, "final states stay final");
            }
            if state.progress.status.is_final() {
                ended = Some(state.progress.status);
                prop_assert!(state.progress.closed_at.is_some());
            }
            match state.progress.status {
                TicketStatus::Dispatched => prop_assert_eq!(state.open_primary().map(|a| a.status), Some(crate::domain::ticket::AssignmentStatus::Dispatched)),
                TicketStatus::Handling => prop_assert_eq!(state.open_primary().map(|a| a.status), Some(crate::domain::ticket::AssignmentStatus::Signed)),
                _ => prop_assert!(state.open_primary().is_none(), "no open primary in {}", state.progress.status),
            }
            let count = |kinds: &[&str]| run.timeline.iter().filter(|(c, _, _)| kinds.contains(&c.kind().as_str())).count() as i32;
            prop_assert_eq!(state.progress.return_count, count(&["returned"]));
            prop_assert_eq!(state.progress.rework_count, count(&["review_rejected", "reopened"]));
            prop_assert_eq!(state.progress.urge_count, count(&["urged"]));
            prop_assert!(state.extensions.iter().filter(|e| e.status == ExtensionStatus::Pending).count() <= 1);
            // Lists read the tickets being worked on as those with a due time, and overdue
            // tickets among them.
            prop_assert_eq!(
                state.progress.due_at.is_some(),
                TicketStatus::BEING_WORKED_ON.contains(&state.progress.status),
                "a due time in {}", state.progress.status
            );
            if state.progress.overdue {
                prop_assert!(state.progress.due_at.is_some(), "overdue without a due time in {}", state.progress.status);
            }
            if state.progress.paused_at.is_some() {
                prop_assert!(matches!(state.progress.status, TicketStatus::Dispatched | TicketStatus::Handling), "paused in {}", state.progress.status);
            }
        }
        prop_assert_eq!(run.replayed(), run.state.clone());
    }
}

/// The random walks do reach every state, so the invariants are checked across the lifecycle.
#[test]
fn random_walks_reach_every_state_somewhere() {
    use proptest::test_runner::{Config, TestRng, TestRunner};
    // A fixed seed: whether 256 walks happen to reach every state must not depend on luck.
    let config = Config {
        cases: 256,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let reached = std::cell::RefCell::new(std::collections::BTreeSet::new());
    runner
        .run(&proptest::collection::vec(step(), 1..60), |steps| {
            let mut run = Run::new();
            for step in &steps {
                let by = actor_for(step);
                let command = command_for(&run, step);
                let _ = run.attempt(by, command);
                reached.borrow_mut().insert(run.state.progress.status);
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(reached.into_inner().len(), TicketStatus::ALL.len());
}

#[test]
fn a_sub_unit_works_a_forward_in_its_units_name() {
    let mut run = brought_to(TicketStatus::Handling);
    let primary = run.state.primary().unwrap().clone();
    // Forwarding needs a sub-unit, and is not the sub-unit's to repeat.
    let elsewhere = run.attempt(
        handler(PRIMARY),
        Command::Forward {
            to: Some((unit(STRANGER), false)),
            note: None,
        },
    );
    assert!(
        matches!(elsewhere, Err(Refusal::Invalid(_))),
        "{elsewhere:?}"
    );
    run.ok(
        handler(PRIMARY),
        Command::Forward {
            to: Some((unit(SUB_UNIT), true)),
            note: None,
        },
    );
    let forward = run.state.assignment_of(unit(SUB_UNIT)).unwrap().clone();
    assert_eq!(
        (forward.role, forward.status, forward.forwarded_from),
        (
            AssignmentRole::Forwarded,
            AssignmentStatus::Dispatched,
            Some(primary.id)
        )
    );
    assert_eq!(forward.due_at(), primary.due_at());
    assert_eq!(run.state.progress.primary_unit_id, Some(unit(PRIMARY)));
    // It signs before working on it, and cannot pass it further down.
    let early = run.attempt(handler(SUB_UNIT), reply());
    assert!(
        matches!(
            &early,
            Err(Refusal::Conflict {
                code: ProblemCode::NotSigned,
                ..
            })
        ),
        "{early:?}"
    );
    run.ok(handler(SUB_UNIT), Command::Sign);
    assert_eq!(run.state.progress.status, TicketStatus::Handling);
    let again = run.attempt(
        handler(SUB_UNIT),
        Command::Forward {
            to: Some((unit(0xB2), true)),
            note: None,
        },
    );
    assert!(
        matches!(
            &again,
            Err(Refusal::Conflict {
                code: ProblemCode::NotForwardable,
                ..
            })
        ),
        "{again:?}"
    );
    // Its request for more time and its reply are the unit's: the unit answers for them.
    let asked = run
        .attempt(
            handler(SUB_UNIT),
            Command::RequestExtension {
                due_at: start() + Duration::days(60),
                reason: "需要现场勘验".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        asked.changes[0],
        Change::ExtensionRequested { assignment_id, .. } if assignment_id == primary.id
    ));
    let request = run.state.pending_extension().unwrap().id;
    run.ok(
        staff(Role::Dispatcher),
        Command::ApproveExtension {
            request_id: request,
            note: None,
        },
    );
    assert_eq!(
        run.state.assignment_of(unit(SUB_UNIT)).unwrap().due_at(),
        run.state.primary().unwrap().due_at(),
        "the forward keeps the unit's due time"
    );
    run.ok(handler(SUB_UNIT), reply());
    assert_eq!(run.state.progress.status, TicketStatus::Replied);
    assert_eq!(
        run.state.primary().unwrap().status,
        AssignmentStatus::Replied
    );
    assert_eq!(
        run.state.assignment_of(unit(SUB_UNIT)).unwrap().status,
        AssignmentStatus::Closed
    );
}

#[test]
fn a_sub_unit_hands_a_forward_back_to_its_unit_alone() {
    let mut run = brought_to(TicketStatus::Handling);
    let forward = |run: &mut Run, to| {
        run.ok(
            handler(PRIMARY),
            Command::Forward {
                to: Some((unit(to), true)),
                note: None,
            },
        );
    };
    forward(&mut run, SUB_UNIT);
    // A second forward ends the first.
    forward(&mut run, 0xB2);
    assert_eq!(
        run.state.assignment_of(unit(SUB_UNIT)).unwrap().status,
        AssignmentStatus::Closed
    );
    let decision = run
        .attempt(
            handler(0xB2),
            Command::Return {
                reason: "不在本社区".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        decision.changes[0],
        Change::ForwardReturned { .. }
    ));
    assert_eq!(
        decision.notices[0]
            .iter()
            .map(|n| n.audience)
            .collect::<Vec<_>>(),
        [crate::domain::notify::Audience::Unit(unit(PRIMARY))]
    );
    assert_eq!(run.state.progress.status, TicketStatus::Handling);
    assert_eq!(run.state.progress.return_count, 0);
    assert_eq!(
        run.state.assignment_of(unit(0xB2)).unwrap().status,
        AssignmentStatus::Returned
    );
    // The same sub-unit cannot be given it again in the round; the unit still can reply.
    let again = run.attempt(
        handler(PRIMARY),
        Command::Forward {
            to: Some((unit(0xB2), true)),
            note: None,
        },
    );
    assert!(matches!(again, Err(Refusal::Conflict { .. })), "{again:?}");
    run.ok(handler(PRIMARY), reply());
    assert_eq!(run.state.progress.status, TicketStatus::Replied);
}
