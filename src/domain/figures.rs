//! The figures every bulletin prints (DOMAIN.md, "The figures"), as pure functions of what
//! happened: the facts the timeline records, a period, and the instant the figures are taken.
//!
//! For a unit the figures count its primary assignments and what happened to them; for the
//! hotline, everything. A granted appeal (核减) takes one ticket out of one unit's figures.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::directory::UnitKind;
use super::lifecycle::Satisfaction;
use super::period::Period;
use super::ticket::{TicketStatus, TicketType};

/// A primary assignment: a unit given a ticket to answer for.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentFact {
    pub ticket_id: Uuid,
    pub unit_id: Uuid,
    pub dispatched_at: DateTime<Utc>,
    /// The sign deadline in force.
    pub sign_due_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    /// Still waiting for the unit's reply (dispatched or signed).
    pub open: bool,
    /// The reply due time in force now.
    pub due_at: DateTime<Utc>,
    pub ticket_closed_at: Option<DateTime<Utc>>,
}

/// A primary unit's reply, with the due time in force when it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyFact {
    pub ticket_id: Uuid,
    pub unit_id: Uuid,
    pub at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// Something that happened to a ticket, once, for a unit (or for the hotline alone).
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub ticket_id: Uuid,
    pub unit_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallbackFact {
    pub ticket_id: Uuid,
    /// The primary unit when the citizen was called back; none for a direct answer.
    pub unit_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub reached: bool,
    pub satisfaction: Option<Satisfaction>,
    pub resolved: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClosureFact {
    pub ticket_id: Uuid,
    /// The primary unit of the last round; none for a direct answer.
    pub unit_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// The citizen was called back (reached or not) before it closed.
    pub called_back: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UrgeFact {
    pub ticket_id: Uuid,
    pub unit_id: Uuid,
    pub at: DateTime<Utc>,
    pub system: bool,
}

/// What the figures of a period are computed from: every fact that may fall in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub assignments: Vec<AssignmentFact>,
    pub replies: Vec<ReplyFact>,
    /// Review rejections and callbacks that reopened a ticket (返工).
    pub reworks: Vec<Occurrence>,
    pub callbacks: Vec<CallbackFact>,
    pub closures: Vec<ClosureFact>,
    pub urges: Vec<UrgeFact>,
    pub supervisions: Vec<Occurrence>,
}

/// Registrations of a month counted by everything the bulletin breaks them down by.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeCount {
    /// The office's channel ([`super::channel`]).
    pub channel_code: String,
    pub ticket_type: TicketType,
    pub category_id: Option<Uuid>,
    pub area_unit_id: Option<Uuid>,
    pub status: TicketStatus,
    /// Given to a unit at least once (转办); otherwise answered directly or not yet handled.
    pub dispatched: bool,
    pub count: u64,
}

/// A ticket held up as typical (典型案例).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TypicalCase {
    pub ticket_id: Uuid,
    pub number: String,
    pub title: String,
    pub unit: Option<String>,
    pub positive: bool,
    pub note: String,
}

/// A granted appeal (核减), for the bulletin's notes.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Exemption {
    pub ticket_id: Uuid,
    pub number: String,
    pub unit_id: Uuid,
    pub unit: String,
    /// `dissatisfied_callback` or `overdue`.
    pub subject: String,
    pub reason: String,
    pub decision_note: Option<String>,
}

/// Tickets taken out of a unit's figures by a granted appeal: (unit, ticket).
pub type Exemptions = HashSet<(Uuid, Uuid)>;

/// The counts every rate is made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Figures {
    /// 承办量: primary assignments dispatched in the period.
    pub received: u64,
    /// Of those, signed by their sign deadline.
    pub responded: u64,
    /// Of those, whose ticket has closed.
    pub completed: u64,
    /// Primary replies made in the period.
    pub replies: u64,
    /// Of those, made by the due time in force.
    pub replies_on_time: u64,
    /// Review rejections and reopening callbacks in the period.
    pub reworks: u64,
    /// Tickets closed in the period.
    pub closed: u64,
    /// Of those, called back before closing.
    pub called_back: u64,
    /// Callbacks in the period that reached the citizen.
    pub callbacks_reached: u64,
    /// Of those, satisfied or basically satisfied.
    pub satisfied: u64,
    pub dissatisfied: u64,
    /// Of those, the problem resolved.
    pub resolved: u64,
    pub urges_system: u64,
    pub urges_manual: u64,
    /// 逾期: reply due times in force that passed in the period before the unit replied (or
    /// returned the ticket).
    pub overdue: u64,
    pub supervisions: u64,
    pub returns: u64,
}

/// The rates, each `None` when nothing was there to count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Rates {
    pub response_rate: Option<f64>,
    pub completion_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub rework_rate: Option<f64>,
    pub callback_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub dissatisfaction_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Figures {
    pub fn rates(&self) -> Rates {
        Rates {
            response_rate: ratio(self.responded, self.received),
            completion_rate: ratio(self.completed, self.received),
            on_time_rate: ratio(self.replies_on_time, self.replies),
            rework_rate: ratio(self.reworks, self.replies),
            callback_rate: ratio(self.called_back, self.closed),
            satisfaction_rate: ratio(self.satisfied, self.callbacks_reached),
            dissatisfaction_rate: ratio(self.dissatisfied, self.callbacks_reached),
            resolution_rate: ratio(self.resolved, self.callbacks_reached),
        }
    }

    pub fn urges(&self) -> u64 {
        self.urges_system + self.urges_manual
    }

    /// Adds another unit's figures (for a unit kind or a group).
    pub fn add(&mut self, other: &Figures) {
        let Figures {
            received,
            responded,
            completed,
            replies,
            replies_on_time,
            reworks,
            closed,
            called_back,
            callbacks_reached,
            satisfied,
            dissatisfied,
            resolved,
            urges_system,
            urges_manual,
            overdue,
            supervisions,
            returns,
        } = *other;
        self.received += received;
        self.responded += responded;
        self.completed += completed;
        self.replies += replies;
        self.replies_on_time += replies_on_time;
        self.reworks += reworks;
        self.closed += closed;
        self.called_back += called_back;
        self.callbacks_reached += callbacks_reached;
        self.satisfied += satisfied;
        self.dissatisfied += dissatisfied;
        self.resolved += resolved;
        self.urges_system += urges_system;
        self.urges_manual += urges_manual;
        self.overdue += overdue;
        self.supervisions += supervisions;
        self.returns += returns;
    }
}

/// The figures of a period, taken at `as_of`: for the hotline as a whole, for the tickets
/// given to units, and for every unit that had something happen (less what granted appeals
/// exempt).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeriodFigures {
    /// Every ticket: direct answers (直办) among them.
    pub hotline: Figures,
    /// The tickets given to units (转办), each fact counted once however many units shared it.
    pub dispatched: Figures,
    pub units: BTreeMap<Uuid, Figures>,
}

impl PeriodFigures {
    /// The units' figures summed by kind, over the units whose kind `kind_of` knows.
    pub fn by_kind(
        &self,
        kind_of: impl Fn(Uuid) -> Option<UnitKind>,
    ) -> BTreeMap<UnitKind, Figures> {
        let mut kinds: BTreeMap<UnitKind, Figures> = BTreeMap::new();
        for (unit, figures) in &self.units {
            if let Some(kind) = kind_of(*unit) {
                kinds.entry(kind).or_default().add(figures);
            }
        }
        kinds
    }
}

/// Counts one fact for the hotline and, when a unit had it, for the dispatched tickets and,
/// unless exempt, for the unit.
struct Tally<'a> {
    exemptions: &'a Exemptions,
    result: PeriodFigures,
}

impl Tally<'_> {
    fn count(&mut self, ticket: Uuid, unit: Option<Uuid>, add: impl Fn(&mut Figures)) {
        add(&mut self.result.hotline);
        if unit.is_some() {
            add(&mut self.result.dispatched);
        }
        if let Some(unit) = unit.filter(|u| !self.exemptions.contains(&(*u, ticket))) {
            add(self.result.units.entry(unit).or_default());
        }
    }
}

/// Everything up to `as_of` is known; what happens later is not counted, so a month can be
/// taken again as it stood at any instant since.
pub fn compute(
    facts: &Facts,
    period: &Period,
    as_of: DateTime<Utc>,
    exemptions: &Exemptions,
) -> PeriodFigures {
    let known = |at: Option<DateTime<Utc>>| at.filter(|at| *at <= as_of);
    let within = |at: DateTime<Utc>| period.contains(at) && at <= as_of;
    let mut tally = Tally {
        exemptions,
        result: PeriodFigures::default(),
    };
    for a in &facts.assignments {
        let unit = Some(a.unit_id);
        if within(a.dispatched_at) {
            let responded = known(a.signed_at).is_some_and(|s| s <= a.sign_due_at);
            let completed = known(a.ticket_closed_at).is_some();
            tally.count(a.ticket_id, unit, |f| {
                f.received += 1;
                f.responded += u64::from(responded);
                f.completed += u64::from(completed);
            });
        }
        if let Some(returned_at) = known(a.returned_at)
            && period.contains(returned_at)
        {
            tally.count(a.ticket_id, unit, |f| f.returns += 1);
        }
        // The due time in force now, when nothing answered it before it passed: still open, or
        // returned only after it.
        let unanswered = match known(a.returned_at) {
            Some(returned_at) => returned_at > a.due_at,
            None => a.open || a.returned_at.is_some(),
        };
        if unanswered && within(a.due_at) && a.due_at < as_of {
            tally.count(a.ticket_id, unit, |f| f.overdue += 1);
        }
    }
    for r in &facts.replies {
        if within(r.at) {
            let on_time = r.at <= r.due_at;
            tally.count(r.ticket_id, Some(r.unit_id), |f| {
                f.replies += 1;
                f.replies_on_time += u64::from(on_time);
            });
        }
        if r.at > r.due_at && within(r.due_at) {
            tally.count(r.ticket_id, Some(r.unit_id), |f| f.overdue += 1);
        }
    }
    for r in facts.reworks.iter().filter(|r| within(r.at)) {
        tally.count(r.ticket_id, r.unit_id, |f| f.reworks += 1);
    }
    for c in facts.callbacks.iter().filter(|c| within(c.at) && c.reached) {
        let satisfied = c.satisfaction.is_some_and(Satisfaction::is_satisfied);
        let dissatisfied = c.satisfaction == Some(Satisfaction::Dissatisfied);
        let resolved = c.resolved == Some(true);
        tally.count(c.ticket_id, c.unit_id, |f| {
            f.callbacks_reached += 1;
            f.satisfied += u64::from(satisfied);
            f.dissatisfied += u64::from(dissatisfied);
            f.resolved += u64::from(resolved);
        });
    }
    for c in facts.closures.iter().filter(|c| within(c.at)) {
        tally.count(c.ticket_id, c.unit_id, |f| {
            f.closed += 1;
            f.called_back += u64::from(c.called_back);
        });
    }
    for u in facts.urges.iter().filter(|u| within(u.at)) {
        tally.count(u.ticket_id, Some(u.unit_id), |f| {
            if u.system {
                f.urges_system += 1;
            } else {
                f.urges_manual += 1;
            }
        });
    }
    for s in facts.supervisions.iter().filter(|s| within(s.at)) {
        tally.count(s.ticket_id, s.unit_id, |f| f.supervisions += 1);
    }
    tally.result
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn july() -> Period {
        crate::domain::period::Month::parse("2026-07")
            .unwrap()
            .period(chrono_tz::Asia::Shanghai)
    }

    fn day(d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 7, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    const A: Uuid = Uuid::from_u128(0xA);
    const B: Uuid = Uuid::from_u128(0xB);

    fn ticket(n: u128) -> Uuid {
        Uuid::from_u128(1000 + n)
    }

    fn assignment(n: u128, unit: Uuid, dispatched: DateTime<Utc>) -> AssignmentFact {
        AssignmentFact {
            ticket_id: ticket(n),
            unit_id: unit,
            dispatched_at: dispatched,
            sign_due_at: dispatched + Duration::days(1),
            signed_at: None,
            returned_at: None,
            open: true,
            due_at: dispatched + Duration::days(10),
            ticket_closed_at: None,
        }
    }

    /// A small month with every figure's answer known by hand.
    fn month() -> Facts {
        let mut facts = Facts::default();
        // Unit A: four tickets received in July; one dispatched in June.
        let mut t1 = assignment(1, A, day(1, 9));
        t1.signed_at = Some(day(1, 10));
        t1.open = false;
        t1.ticket_closed_at = Some(day(5, 9));
        let mut t2 = assignment(2, A, day(2, 9));
        t2.signed_at = Some(day(4, 9)); // after its sign deadline
        t2.open = false;
        t2.ticket_closed_at = Some(day(20, 9));
        let mut t3 = assignment(3, A, day(10, 9)); // still open, due 20 July: overdue
        t3.signed_at = Some(day(10, 11));
        let mut t4 = assignment(4, A, day(25, 9)); // returned before its due time
        t4.open = false;
        t4.returned_at = Some(day(25, 15));
        let mut june = assignment(5, A, day(1, 9) - Duration::days(20));
        june.open = false;
        june.ticket_closed_at = Some(day(3, 9));
        // Unit B: one ticket received, replied late, due time inside July.
        let mut t6 = assignment(6, B, day(3, 9));
        t6.signed_at = Some(day(3, 9));
        t6.open = false;
        facts.assignments = vec![t1, t2, t3, t4, june, t6];
        facts.replies = vec![
            ReplyFact {
                ticket_id: ticket(1),
                unit_id: A,
                at: day(3, 9),
                due_at: day(11, 9),
            },
            ReplyFact {
                ticket_id: ticket(2),
                unit_id: A,
                at: day(10, 9),
                due_at: day(12, 9),
            },
            ReplyFact {
                ticket_id: ticket(5),
                unit_id: A,
                at: day(2, 9),
                due_at: day(1, 9) - Duration::days(10),
            },
            ReplyFact {
                ticket_id: ticket(6),
                unit_id: B,
                at: day(15, 9),
                due_at: day(13, 9),
            },
        ];
        facts.reworks = vec![Occurrence {
            ticket_id: ticket(2),
            unit_id: Some(A),
            at: day(8, 9),
        }];
        let callback = |n, unit, at, satisfaction: Option<Satisfaction>, resolved| CallbackFact {
            ticket_id: ticket(n),
            unit_id: Some(unit),
            at,
            reached: satisfaction.is_some(),
            satisfaction,
            resolved,
        };
        facts.callbacks = vec![
            callback(1, A, day(5, 9), Some(Satisfaction::Satisfied), Some(true)),
            callback(
                2,
                A,
                day(9, 9),
                Some(Satisfaction::Dissatisfied),
                Some(false),
            ),
            callback(2, A, day(20, 8), None, None),
            callback(
                2,
                A,
                day(20, 9),
                Some(Satisfaction::BasicallySatisfied),
                Some(true),
            ),
            callback(5, A, day(3, 9), Some(Satisfaction::Satisfied), Some(true)),
        ];
        facts.closures = vec![
            ClosureFact {
                ticket_id: ticket(1),
                unit_id: Some(A),
                at: day(5, 9),
                called_back: true,
            },
            ClosureFact {
                ticket_id: ticket(2),
                unit_id: Some(A),
                at: day(20, 9),
                called_back: true,
            },
            ClosureFact {
                ticket_id: ticket(5),
                unit_id: Some(A),
                at: day(3, 9),
                called_back: true,
            },
            ClosureFact {
                ticket_id: ticket(9),
                unit_id: None,
                at: day(6, 9),
                called_back: false,
            },
        ];
        facts.urges = vec![
            UrgeFact {
                ticket_id: ticket(3),
                unit_id: A,
                at: day(19, 9),
                system: true,
            },
            UrgeFact {
                ticket_id: ticket(3),
                unit_id: A,
                at: day(21, 9),
                system: false,
            },
        ];
        facts.supervisions = vec![Occurrence {
            ticket_id: ticket(3),
            unit_id: Some(A),
            at: day(27, 9),
        }];
        facts
    }

    fn as_of() -> DateTime<Utc> {
        day(31, 12)
    }

    #[test]
    fn every_figure_of_a_known_month() {
        let figures = compute(&month(), &july(), as_of(), &Exemptions::new());
        let a = figures.units[&A];
        assert_eq!(
            a,
            Figures {
                received: 4,
                responded: 2,
                completed: 2,
                replies: 3,
                replies_on_time: 2,
                reworks: 1,
                closed: 3,
                called_back: 3,
                callbacks_reached: 4,
                satisfied: 3,
                dissatisfied: 1,
                resolved: 3,
                urges_system: 1,
                urges_manual: 1,
                overdue: 1,
                supervisions: 1,
                returns: 1,
            }
        );
        let rates = a.rates();
        assert_eq!(rates.response_rate, Some(0.5));
        assert_eq!(rates.completion_rate, Some(0.5));
        assert_eq!(
            rates.on_time_rate,
            Some(2.0 / 3.0),
            "June's ticket replied late"
        );
        assert_eq!(rates.rework_rate, Some(1.0 / 3.0));
        assert_eq!(rates.callback_rate, Some(1.0));
        assert_eq!(rates.satisfaction_rate, Some(0.75));
        assert_eq!(rates.resolution_rate, Some(0.75));
        let b = figures.units[&B];
        assert_eq!(
            (b.received, b.responded, b.replies, b.replies_on_time),
            (1, 1, 1, 0)
        );
        assert_eq!(b.overdue, 1, "replied two days after its due time");
        assert_eq!(b.completed, 0);
        assert_eq!(figures.hotline.received, 5);
        assert_eq!(
            (figures.hotline.closed, figures.hotline.called_back),
            (4, 3),
            "a direct answer closed without a callback counts for the hotline"
        );
        let dispatched = figures.dispatched;
        assert_eq!(
            (
                dispatched.received,
                dispatched.closed,
                dispatched.called_back
            ),
            (5, 3, 3),
            "the direct answer is not among the dispatched tickets"
        );
        assert_eq!(dispatched.rates().callback_rate, Some(1.0));
        assert_eq!(figures.hotline.rates().callback_rate, Some(0.75));
    }

    #[test]
    fn nothing_after_the_instant_taken_is_known() {
        let early = compute(&month(), &july(), day(15, 12), &Exemptions::new());
        let a = early.units[&A];
        assert_eq!(a.received, 3, "the 25 July dispatch had not happened");
        assert_eq!(a.completed, 1, "ticket 2 closed on the 20th");
        assert_eq!(a.overdue, 0, "ticket 3 was due on the 20th");
        assert_eq!(a.returns, 0);
    }

    #[test]
    fn a_granted_appeal_takes_the_ticket_out_of_the_units_figures_only() {
        let exempt: Exemptions = [(A, ticket(3)), (B, ticket(6))].into_iter().collect();
        let figures = compute(&month(), &july(), as_of(), &exempt);
        let a = figures.units[&A];
        assert_eq!(
            (a.received, a.overdue, a.supervisions, a.urges()),
            (3, 0, 0, 0)
        );
        assert!(!figures.units.contains_key(&B), "nothing left of B");
        let all = compute(&month(), &july(), as_of(), &Exemptions::new());
        assert_eq!(
            figures.hotline, all.hotline,
            "the hotline's figures keep it"
        );
    }

    fn arbitrary_facts() -> impl Strategy<Value = Facts> {
        let instant =
            (0i64..90 * 24).prop_map(|h| day(1, 0) - Duration::days(30) + Duration::hours(h));
        let unit = prop_oneof![Just(A), Just(B), Just(Uuid::from_u128(0xC))];
        let assignment = (
            0u128..40,
            unit.clone(),
            instant.clone(),
            0i64..72,
            proptest::option::of(0i64..100),
            proptest::option::of(0i64..400),
            any::<bool>(),
            0i64..400,
            proptest::option::of(0i64..600),
        )
            .prop_map(
                |(n, unit, at, sign, signed, returned, open, due, closed)| AssignmentFact {
                    ticket_id: ticket(n),
                    unit_id: unit,
                    dispatched_at: at,
                    sign_due_at: at + Duration::hours(sign),
                    signed_at: signed.map(|h| at + Duration::hours(h)),
                    returned_at: returned.map(|h| at + Duration::hours(h)),
                    open,
                    due_at: at + Duration::hours(due),
                    ticket_closed_at: closed.map(|h| at + Duration::hours(h)),
                },
            );
        let reply = (0u128..40, unit.clone(), instant.clone(), -200i64..200).prop_map(
            |(n, unit, at, slack)| ReplyFact {
                ticket_id: ticket(n),
                unit_id: unit,
                at,
                due_at: at + Duration::hours(slack),
            },
        );
        let occurrence = (
            0u128..40,
            proptest::option::of(unit.clone()),
            instant.clone(),
        )
            .prop_map(|(n, unit_id, at)| Occurrence {
                ticket_id: ticket(n),
                unit_id,
                at,
            });
        let callback = (
            0u128..40,
            proptest::option::of(unit.clone()),
            instant.clone(),
            proptest::option::of(proptest::sample::select(Satisfaction::ALL)),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(|(n, unit_id, at, satisfaction, resolved)| CallbackFact {
                ticket_id: ticket(n),
                unit_id,
                at,
                reached: satisfaction.is_some(),
                satisfaction,
                resolved: resolved.filter(|_| satisfaction.is_some()),
            });
        let closure = (
            0u128..40,
            proptest::option::of(unit.clone()),
            instant.clone(),
            any::<bool>(),
        )
            .prop_map(|(n, unit_id, at, called_back)| ClosureFact {
                ticket_id: ticket(n),
                unit_id,
                at,
                called_back,
            });
        let urge =
            (0u128..40, unit, instant, any::<bool>()).prop_map(|(n, unit_id, at, system)| {
                UrgeFact {
                    ticket_id: ticket(n),
                    unit_id,
                    at,
                    system,
                }
            });
        (
            proptest::collection::vec(assignment, 0..30),
            proptest::collection::vec(reply, 0..30),
            proptest::collection::vec(occurrence.clone(), 0..10),
            proptest::collection::vec(callback, 0..30),
            proptest::collection::vec(closure, 0..30),
            proptest::collection::vec(urge, 0..20),
            proptest::collection::vec(occurrence, 0..10),
        )
            .prop_map(
                |(assignments, replies, reworks, callbacks, closures, urges, supervisions)| Facts {
                    assignments,
                    replies,
                    reworks,
                    callbacks,
                    closures,
                    urges,
                    supervisions,
                },
            )
    }

    proptest! {
        #[test]
        fn units_add_up_to_at_most_the_hotline_and_rates_stay_in_range(
            facts in arbitrary_facts(),
            as_of_hours in 0i64..90 * 24,
            exempt in proptest::collection::hash_set((prop_oneof![Just(A), Just(B)], (0u128..40).prop_map(ticket)), 0..10),
        ) {
            let as_of = day(1, 0) - Duration::days(30) + Duration::hours(as_of_hours);
            let without = compute(&facts, &july(), as_of, &Exemptions::new());
            let with = compute(&facts, &july(), as_of, &exempt);
            prop_assert_eq!(without.hotline, with.hotline);
            prop_assert_eq!(without.dispatched, with.dispatched);
            let (d, h) = (without.dispatched, without.hotline);
            prop_assert_eq!(d.received, h.received);
            prop_assert!(d.closed <= h.closed && d.called_back <= h.called_back);
            prop_assert!(d.callbacks_reached <= h.callbacks_reached && d.reworks <= h.reworks);
            let mut sum = Figures::default();
            for figures in without.units.values() {
                sum.add(figures);
            }
            // Facts without a unit count for the hotline alone.
            prop_assert!(sum.received == without.hotline.received);
            prop_assert!(sum.reworks <= without.hotline.reworks);
            prop_assert!(sum.closed <= without.hotline.closed);
            for (unit, figures) in &with.units {
                let full = without.units[unit];
                prop_assert!(figures.received <= full.received);
                prop_assert!(figures.overdue <= full.overdue);
            }
            for figures in without.units.values().chain([&without.hotline]) {
                prop_assert!(figures.responded <= figures.received);
                prop_assert!(figures.completed <= figures.received);
                prop_assert!(figures.replies_on_time <= figures.replies);
                prop_assert!(figures.called_back <= figures.closed);
                prop_assert!(figures.satisfied + figures.dissatisfied <= figures.callbacks_reached);
                prop_assert!(figures.resolved <= figures.callbacks_reached);
                let rates = figures.rates();
                for rate in [rates.response_rate, rates.completion_rate, rates.on_time_rate, rates.callback_rate, rates.satisfaction_rate, rates.resolution_rate].into_iter().flatten() {
                    prop_assert!((0.0..=1.0).contains(&rate));
                }
            }
        }

        #[test]
        fn facts_outside_the_period_change_nothing(facts in arbitrary_facts()) {
            let period = july();
            let as_of = day(31, 23) + Duration::days(60);
            let figures = compute(&facts, &period, as_of, &Exemptions::new());
            let mut inside = facts.clone();
            inside.urges.retain(|u| period.contains(u.at));
            inside.callbacks.retain(|c| period.contains(c.at));
            inside.closures.retain(|c| period.contains(c.at));
            inside.reworks.retain(|r| period.contains(r.at));
            inside.supervisions.retain(|s| period.contains(s.at));
            prop_assert_eq!(compute(&inside, &period, as_of, &Exemptions::new()), figures);
        }
    }
}
