//! The urge ladder: deadlines that keep themselves. For every deadline being worked against —
//! a unit's signature, a unit's reply, the office's callback — a yellow urge when it is near, a
//! red one when it has passed, the reply marked overdue, and automatic supervision when a reply
//! is long overdue. Which rungs are due is decided here, from the state and the clock alone;
//! that each fires once is the database's business.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::calendar::{Due, Limit, WorkCalendar};
use super::lifecycle::{Change, Lifecycle, SupervisionStatus, UrgeKind, is_open};
pub use super::lifecycle::{Rung, Timer};
use super::policy::Ladder;
use super::ticket::{AssignmentRole, AssignmentStatus, Priority, TicketStatus};

impl Limit {
    /// The limit's length in the working time it counts.
    pub fn length(self) -> Duration {
        match self {
            Limit::WorkingDays(n) => Duration::days(i64::from(n)),
            Limit::WorkingHours(n) | Limit::Hours(n) => Duration::hours(i64::from(n)),
        }
    }
}

/// A deadline the ladder watches. `subject_id` is the assignment (sign, reply) or the ticket
/// (callback); with the timer, the rung and the due time it names one rung exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    pub ticket_id: Uuid,
    pub subject_id: Uuid,
    pub timer: Timer,
    pub due_at: DateTime<Utc>,
    /// When the deadline was set, where it matters: a deadline that was already near when it was
    /// set (a one-working-day signature) gets no yellow urge; the dispatch was the warning.
    pub set_at: Option<DateTime<Utc>>,
    pub unit_id: Option<Uuid>,
    pub primary: bool,
    pub urgent: bool,
}

/// The deadlines of a ticket being worked against now. A paused ticket has none.
pub fn watches(state: &Lifecycle, priority: Priority) -> Vec<Watch> {
    if state.progress.paused_at.is_some() {
        return Vec::new();
    }
    let urgent = priority == Priority::Urgent;
    let mut watched = Vec::new();
    if matches!(
        state.progress.status,
        TicketStatus::Dispatched | TicketStatus::Handling
    ) {
        for a in state.current_round() {
            watched.extend(assignment_watches(&WatchedAssignment {
                ticket_id: state.ticket_id,
                assignment_id: a.id,
                unit_id: a.unit_id,
                role: a.role,
                status: a.status,
                dispatched_at: a.dispatched_at,
                sign_due_at: a.sign_due_at(),
                due_at: a.due_at(),
                urgent,
            }));
        }
    }
    if let (TicketStatus::AwaitingCallback, Some(due_at)) =
        (state.progress.status, state.progress.callback_due_at)
    {
        watched.push(callback_watch(state.ticket_id, due_at, urgent));
    }
    watched
}

/// What the ladder needs to know of an assignment of the current round of a ticket that is
/// being worked on and not paused.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedAssignment {
    pub ticket_id: Uuid,
    pub assignment_id: Uuid,
    pub unit_id: Uuid,
    pub role: AssignmentRole,
    pub status: AssignmentStatus,
    pub dispatched_at: DateTime<Utc>,
    pub sign_due_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub urgent: bool,
}

/// An assignment's deadlines while the unit works on it: its signature while unsigned, its
/// reply while unreplied.
pub fn assignment_watches(a: &WatchedAssignment) -> Vec<Watch> {
    // A forward works against its unit's deadlines, which the unit's own assignment carries:
    // the unit stays the one urged.
    if !is_open(a.status) || a.role == AssignmentRole::Forwarded {
        return Vec::new();
    }
    let watch = |timer, due_at| Watch {
        ticket_id: a.ticket_id,
        subject_id: a.assignment_id,
        timer,
        due_at,
        set_at: Some(a.dispatched_at),
        unit_id: Some(a.unit_id),
        primary: a.role == AssignmentRole::Primary,
        urgent: a.urgent,
    };
    let mut watched = Vec::with_capacity(2);
    if a.status == AssignmentStatus::Dispatched {
        watched.push(watch(Timer::Sign, a.sign_due_at));
    }
    watched.push(watch(Timer::Reply, a.due_at));
    watched
}

/// The office's callback of a ticket awaiting one.
pub fn callback_watch(ticket_id: Uuid, due_at: DateTime<Utc>, urgent: bool) -> Watch {
    Watch {
        ticket_id,
        subject_id: ticket_id,
        timer: Timer::Callback,
        due_at,
        set_at: None,
        unit_id: None,
        primary: false,
        urgent,
    }
}

impl Ladder {
    /// How long before a deadline its unit is warned.
    pub fn warning(&self, urgent: bool) -> Limit {
        if urgent {
            self.warn_before_urgent
        } else {
            self.warn_before
        }
    }
}

/// Whether `from` is within the warning before `due_at`, in the working time it counts.
fn is_near(
    due_at: DateTime<Utc>,
    from: DateTime<Utc>,
    warn: Limit,
    calendar: &WorkCalendar,
) -> bool {
    calendar.working_time(from, due_at, warn) <= warn.length()
}

/// How a deadline looks to whoever works against it, by the nearness the ladder urges at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Light {
    /// Not near yet.
    Green,
    /// Near: the yellow urge's time has come.
    Yellow,
    /// Passed.
    Red,
}

pub fn light(
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
    urgent: bool,
    calendar: &WorkCalendar,
    ladder: &Ladder,
) -> Light {
    let warn = ladder.warning(urgent);
    if now >= due_at {
        Light::Red
    } else if due_at - now <= warn.length() + Duration::days(31)
        && is_near(due_at, now, warn, calendar)
    {
        Light::Yellow
    } else {
        Light::Green
    }
}

/// The rungs of a watch whose time has come at `now`, lowest first. A yellow urge that would
/// arrive together with the red one is not sent, nor one for a deadline that was near already
/// when it was set.
pub fn due_rungs(
    watch: &Watch,
    now: DateTime<Utc>,
    calendar: &WorkCalendar,
    ladder: &Ladder,
) -> Vec<Rung> {
    let warn = ladder.warning(watch.urgent);
    // Far from its deadline a watch cannot be near it in any working time: no day counting.
    if watch.due_at - now > warn.length() + Duration::days(31) {
        return Vec::new();
    }
    if now < watch.due_at {
        let near = |from| is_near(watch.due_at, from, warn, calendar);
        let came_near = near(now) && !watch.set_at.is_some_and(near);
        return if came_near {
            vec![Rung::Yellow]
        } else {
            Vec::new()
        };
    }
    let mut rungs = vec![Rung::Red];
    if watch.timer == Timer::Reply
        && watch.primary
        && calendar.working_time(watch.due_at, now, ladder.supervise_after)
            >= ladder.supervise_after.length()
    {
        rungs.push(Rung::Supervision);
    }
    rungs
}

/// A rung the database let fire (no other pass or instance fired it first).
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub watch: Watch,
    pub rung: Rung,
}

/// What firing rungs records on the ticket's timeline.
pub fn changes(
    state: &Lifecycle,
    firings: &[Firing],
    now: DateTime<Utc>,
    calendar: &WorkCalendar,
    ladder: &Ladder,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for Firing { watch, rung } in firings {
        match (watch.timer, rung, watch.unit_id) {
            (Timer::Callback, _, _) => changes.push(Change::CallbackReminded {
                rung: *rung,
                due_at: watch.due_at,
            }),
            (timer, Rung::Yellow | Rung::Red, Some(unit_id)) => {
                let when = if *rung == Rung::Yellow {
                    "is near"
                } else {
                    "has passed"
                };
                changes.push(Change::Urged {
                    urge_id: new_id(),
                    assignment_id: watch.subject_id,
                    unit_id,
                    kind: UrgeKind::System,
                    note: Some(format!("the {timer} deadline {when}")),
                    rung: Some(*rung),
                    timer: Some(timer),
                });
                if timer == Timer::Reply && *rung == Rung::Red && watch.primary {
                    changes.push(Change::MarkedOverdue {
                        assignment_id: watch.subject_id,
                        due_at: watch.due_at,
                    });
                }
            }
            (_, Rung::Supervision, Some(unit_id)) => {
                let supervised = state
                    .supervisions
                    .iter()
                    .any(|s| s.unit_id == unit_id && s.status == SupervisionStatus::Open);
                if !supervised {
                    let Due {
                        due_at: deadline, ..
                    } = calendar.due(now, ladder.supervision_deadline, "automatic supervision");
                    changes.push(Change::SupervisionOpened {
                        supervision_id: new_id(),
                        unit_id,
                        reason: format!(
                            "the reply has been overdue for {} since {}",
                            ladder.supervise_after,
                            watch.due_at.to_rfc3339()
                        ),
                        deadline,
                        automatic: true,
                    });
                }
            }
            _ => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Actor;
    use crate::domain::calendar::DayKind;
    use chrono::{NaiveDate, TimeZone};

    fn at(m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// National Day as the notices shape it: 1–7 October off, Sunday 27 September and
    /// Saturday 10 October worked.
    fn calendar() -> WorkCalendar {
        let mut days: Vec<(NaiveDate, DayKind)> = (1..=7)
            .map(|d| {
                (
                    NaiveDate::from_ymd_opt(2026, 10, d).unwrap(),
                    DayKind::Holiday,
                )
            })
            .collect();
        days.push((
            NaiveDate::from_ymd_opt(2026, 9, 27).unwrap(),
            DayKind::Workday,
        ));
        days.push((
            NaiveDate::from_ymd_opt(2026, 10, 10).unwrap(),
            DayKind::Workday,
        ));
        WorkCalendar::new(chrono_tz::Asia::Shanghai, days)
    }

    fn watch(timer: Timer, due_at: DateTime<Utc>, urgent: bool) -> Watch {
        Watch {
            ticket_id: Uuid::from_u128(1),
            subject_id: Uuid::from_u128(2),
            timer,
            due_at,
            set_at: None,
            unit_id: Some(Uuid::from_u128(3)),
            primary: true,
            urgent,
        }
    }

    fn rungs(w: &Watch, now: DateTime<Utc>) -> Vec<Rung> {
        due_rungs(w, now, &calendar(), &Ladder::default())
    }

    #[test]
    fn a_deadline_turns_yellow_when_near_in_working_time_and_red_when_passed() {
        let (calendar, ladder) = (calendar(), Ladder::default());
        let due = at(10, 9, 17);
        // A working day before: 8 hours of Thursday and 17 of Friday are more than one.
        assert_eq!(
            light(due, at(10, 8, 16), false, &calendar, &ladder),
            Light::Green
        );
        assert_eq!(
            light(due, at(10, 8, 18), false, &calendar, &ladder),
            Light::Yellow
        );
        assert_eq!(light(due, due, false, &calendar, &ladder), Light::Red);
        // Before the holidays a deadline just after them is near, eight days off.
        assert_eq!(
            light(at(10, 8, 10), at(9, 30, 12), false, &calendar, &ladder),
            Light::Yellow
        );
        // An urgent one is near in its last hour of clock time.
        assert_eq!(
            light(due, at(10, 9, 15), true, &calendar, &ladder),
            Light::Green
        );
        assert_eq!(
            light(due, at(10, 9, 16), true, &calendar, &ladder),
            Light::Yellow
        );
    }

    #[test]
    fn a_deadline_after_the_holiday_week_warns_one_working_day_before() {
        // Due Thursday 8 October 16:00: the last working day before it is Wednesday 30 September.
        let w = watch(Timer::Reply, at(10, 8, 16), false);
        assert!(
            rungs(&w, at(9, 30, 15)).is_empty(),
            "more than a working day ahead"
        );
        assert_eq!(
            rungs(&w, at(9, 30, 17)),
            [Rung::Yellow],
            "8 + 16 working hours = one working day"
        );
        assert_eq!(
            rungs(&w, at(10, 5, 12)),
            [Rung::Yellow],
            "still yellow through the holidays"
        );
        assert_eq!(rungs(&w, at(10, 8, 16)), [Rung::Red]);
    }

    #[test]
    fn the_make_up_saturday_counts_towards_supervision() {
        // Due Thursday 8 October 09:00; five working days late: 8 (from 09:00), 9, 10 (Saturday,
        // worked), 12, 13 → Wednesday 14 October 09:00.
        let w = watch(Timer::Reply, at(10, 8, 9), false);
        assert_eq!(rungs(&w, at(10, 14, 8)), [Rung::Red]);
        assert_eq!(rungs(&w, at(10, 14, 9)), [Rung::Red, Rung::Supervision]);
        let without_make_up = WorkCalendar::new(
            chrono_tz::Asia::Shanghai,
            (1..=7).map(|d| {
                (
                    NaiveDate::from_ymd_opt(2026, 10, d).unwrap(),
                    DayKind::Holiday,
                )
            }),
        );
        let ladder = Ladder::default();
        assert_eq!(
            due_rungs(&w, at(10, 14, 9), &without_make_up, &ladder),
            [Rung::Red],
            "a Saturday off does not count"
        );
        assert_eq!(
            due_rungs(&w, at(10, 15, 9), &without_make_up, &ladder),
            [Rung::Red, Rung::Supervision]
        );
    }

    #[test]
    fn urgent_tickets_warn_an_hour_before_around_the_clock() {
        let w = watch(Timer::Sign, at(10, 3, 10), true);
        assert!(rungs(&w, at(10, 3, 8)).is_empty());
        assert_eq!(
            rungs(&w, at(10, 3, 9)),
            [Rung::Yellow],
            "a holiday does not stop an urgent clock"
        );
        assert_eq!(rungs(&w, at(10, 3, 11)), [Rung::Red]);
    }

    #[test]
    fn a_deadline_near_from_the_start_gets_no_yellow_urge() {
        // A signature due one working day after a dispatch on Wednesday 30 September 09:00:
        // Thursday 8 October 09:00, after the holiday week.
        let mut sign = watch(Timer::Sign, at(10, 8, 9), false);
        sign.set_at = Some(at(9, 30, 9));
        assert!(rungs(&sign, at(9, 30, 10)).is_empty());
        assert!(rungs(&sign, at(10, 8, 8)).is_empty());
        assert_eq!(rungs(&sign, at(10, 8, 9)), [Rung::Red]);
        // A consultation's reply, two working days: warned once the second day begins.
        let mut reply = watch(Timer::Reply, at(10, 9, 9), false);
        reply.set_at = Some(at(9, 30, 9));
        assert!(rungs(&reply, at(9, 30, 10)).is_empty());
        assert_eq!(rungs(&reply, at(10, 8, 9)), [Rung::Yellow]);
        // An urgent reply (24 hours) is warned an hour before.
        let mut urgent = watch(Timer::Reply, at(10, 2, 9), true);
        urgent.set_at = Some(at(10, 1, 9));
        assert!(rungs(&urgent, at(10, 2, 7)).is_empty());
        assert_eq!(rungs(&urgent, at(10, 2, 8)), [Rung::Yellow]);
    }

    #[test]
    fn only_primary_replies_go_under_supervision() {
        let mut w = watch(Timer::Reply, at(9, 1, 9), false);
        w.primary = false;
        assert_eq!(rungs(&w, at(9, 30, 9)), [Rung::Red]);
        let sign = watch(Timer::Sign, at(9, 1, 9), false);
        assert_eq!(rungs(&sign, at(9, 30, 9)), [Rung::Red]);
    }

    #[test]
    fn far_deadlines_are_skipped_without_counting() {
        let w = watch(Timer::Reply, at(12, 31, 9), false);
        assert!(rungs(&w, at(9, 1, 9)).is_empty());
    }

    fn dispatched() -> Lifecycle {
        let calendar = calendar();
        let mut state = Lifecycle::registered(Uuid::from_u128(1));
        let due = |limit| calendar.due(at(9, 29, 9), limit, "test");
        state.apply(
            &Change::Dispatched {
                round: 1,
                forced: false,
                note: None,
                units: vec![super::super::lifecycle::DispatchedUnit {
                    assignment_id: Uuid::from_u128(2),
                    unit_id: Uuid::from_u128(3),
                    role: AssignmentRole::Primary,
                    sign: due(Limit::WorkingDays(1)),
                    reply: due(Limit::WorkingDays(2)),
                }],
            },
            at(9, 29, 9),
            Actor::system(),
        );
        state
    }

    #[test]
    fn open_assignments_are_watched_until_paused_or_done() {
        let mut state = dispatched();
        let timers: Vec<Timer> = watches(&state, Priority::Normal)
            .iter()
            .map(|w| w.timer)
            .collect();
        assert_eq!(timers, [Timer::Sign, Timer::Reply]);
        state.apply(
            &Change::Paused {
                reason: "等待司法鉴定".into(),
            },
            at(9, 29, 10),
            Actor::system(),
        );
        assert!(watches(&state, Priority::Normal).is_empty());
    }

    #[test]
    fn firing_records_urges_overdue_marks_and_supervision_once() {
        let state = dispatched();
        let calendar = calendar();
        let ladder = Ladder::default();
        let reply = watches(&state, Priority::Normal)
            .into_iter()
            .find(|w| w.timer == Timer::Reply)
            .unwrap();
        let firings: Vec<Firing> = [Rung::Red, Rung::Supervision]
            .into_iter()
            .map(|rung| Firing {
                watch: reply.clone(),
                rung,
            })
            .collect();
        let mut n = 100;
        let mut ids = || {
            n += 1;
            Uuid::from_u128(n)
        };
        let changes = changes(
            &state,
            &firings,
            at(10, 20, 9),
            &calendar,
            &ladder,
            &mut ids,
        );
        let kinds: Vec<&str> = changes.iter().map(|c| c.kind().as_str()).collect();
        assert_eq!(kinds, ["urged", "marked_overdue", "supervision_opened"]);
        let mut next = state.clone();
        for change in &changes {
            next.apply(change, at(10, 20, 9), Actor::system());
        }
        assert!(next.progress.overdue && next.supervised());
        assert_eq!(next.progress.urge_count, 1);
        let again = super::changes(
            &next,
            &firings[1..],
            at(10, 21, 9),
            &calendar,
            &ladder,
            &mut ids,
        );
        assert!(
            again.is_empty(),
            "a unit already under supervision is not supervised twice"
        );
    }
}
