//! A ticket's past played through the lifecycle: imported records and generated data become
//! timelines the same rules would have written, step by step at the times they happened, and
//! a step the rules refuse is an error in the data.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::access::Actor;
use super::calendar::WorkCalendar;
use super::lifecycle::{Command, Context, Decision, Lifecycle, Refusal, decide};
use super::policy::Policy;
use super::ticket::{Priority, TicketType};

/// One thing done to a ticket: by whom, when.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub command: Command,
}

/// A ticket's timeline as the rules decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Played {
    /// Each step's decision, with when and by whom, in order.
    pub decisions: Vec<(Decision, DateTime<Utc>, Actor)>,
    pub state: Lifecycle,
}

/// The step the rules refused, counted from zero, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub step: usize,
    pub refusal: Refusal,
}

/// What the rules need to know of the ticket itself.
pub struct Rules<'a> {
    pub ticket_type: TicketType,
    pub priority: Priority,
    pub policy: &'a Policy,
    pub calendar: &'a WorkCalendar,
}

/// Plays `steps` on a newly registered ticket. Steps must come in time order; each is decided
/// at its own time, so deadlines follow the calendar of the day.
pub fn play(
    ticket_id: Uuid,
    steps: Vec<Step>,
    rules: &Rules<'_>,
    new_id: &mut dyn FnMut() -> Uuid,
) -> Result<Played, Refused> {
    let mut state = Lifecycle::registered(ticket_id);
    let mut decisions = Vec::with_capacity(steps.len());
    for (i, step) in steps.into_iter().enumerate() {
        let context = Context {
            actor: step.actor,
            now: step.at,
            ticket_type: rules.ticket_type,
            priority: rules.priority,
            policy: rules.policy,
            calendar: rules.calendar,
        };
        let decision = decide(&state, step.command, &context, new_id)
            .map_err(|refusal| Refused { step: i, refusal })?;
        state = decision.next.clone();
        decisions.push((decision, step.at, step.actor));
    }
    Ok(Played { decisions, state })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Role;
    use crate::domain::lifecycle::{
        ContactMethod, Reached, ReplyResult, ReviewDecision, Satisfaction,
    };
    use crate::domain::ticket::TicketStatus;
    use chrono::{Duration, TimeZone};

    fn monday(hour: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 11, 16, hour, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_past_plays_to_the_state_its_timeline_replays_to_and_refusals_name_the_step() {
        let unit = Uuid::from_u128(7);
        let office = Actor {
            user_id: None,
            role: Some(Role::Dispatcher),
            unit_id: None,
        };
        let handler = Actor {
            user_id: None,
            role: Some(Role::UnitHandler),
            unit_id: Some(unit),
        };
        let reply = Command::reply(
            ReplyResult::Resolved,
            "已处理",
            Some(Reached {
                at: monday(11),
                method: ContactMethod::Phone,
                outcome: "已告知",
            }),
            None,
            vec![],
        );
        let callback =
            Command::callback(true, Some(Satisfaction::Satisfied), Some(true), None, false);
        let steps = vec![
            Step {
                at: monday(9),
                actor: office,
                command: Command::dispatch(unit, vec![], false, None).unwrap(),
            },
            Step {
                at: monday(10),
                actor: handler,
                command: Command::Sign,
            },
            Step {
                at: monday(12),
                actor: handler,
                command: reply.unwrap(),
            },
            Step {
                at: monday(13),
                actor: office,
                command: Command::review(ReviewDecision::Accept, None, None).unwrap(),
            },
            Step {
                at: monday(13) + Duration::days(1),
                actor: office,
                command: callback.unwrap(),
            },
        ];
        let policy = Policy::default();
        let calendar = WorkCalendar::weekdays_only(chrono_tz::Asia::Shanghai);
        let rules = Rules {
            ticket_type: TicketType::Complaint,
            priority: Priority::Normal,
            policy: &policy,
            calendar: &calendar,
        };
        let played = play(Uuid::from_u128(1), steps.clone(), &rules, &mut Uuid::now_v7).unwrap();
        assert_eq!(played.state.progress.status, TicketStatus::Closed);
        let timeline: Vec<_> = played
            .decisions
            .iter()
            .flat_map(|(d, at, actor)| d.changes.iter().map(move |c| (c, *at, *actor)))
            .collect();
        assert_eq!(
            Lifecycle::replay(Uuid::from_u128(1), timeline),
            played.state
        );

        let mut out_of_order = steps;
        out_of_order.swap(1, 2);
        let refused =
            play(Uuid::from_u128(2), out_of_order, &rules, &mut Uuid::now_v7).unwrap_err();
        assert_eq!(refused.step, 1, "a reply before the signature");
    }
}
