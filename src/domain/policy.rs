//! The service-level policy: how long units have to sign and to reply, per ticket type and
//! priority, and the other numbers the lifecycle turns on. Defaults follow published provincial
//! and municipal rules; they are data an administrator can change, not law.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::calendar::Limit;
use super::ticket::{Priority, TicketType};
use super::validation::ValidationErrors;

/// Sign and reply limits for one kind of ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub sign: Limit,
    pub reply: Limit,
}

/// One row of the limits table: a type (or every type) at a priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitRule {
    /// `None` applies to every type.
    #[serde(rename = "type")]
    pub ticket_type: Option<TicketType>,
    pub priority: Priority,
    pub sign: Limit,
    pub reply: Limit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The most specific matching row wins (a type beats "every type").
    pub limits: Vec<LimitRule>,
    /// Ticket types that need a callback after a direct answer (直办); others close at once.
    pub callback_after_direct_answer: BTreeSet<TicketType>,
    /// Unanswered callback attempts after which a ticket closes as unreachable.
    pub max_callback_attempts: i32,
    /// Returns after which the hotline office must dispatch with `forced` (and the unit can no
    /// longer return).
    pub max_returns: i32,
    /// When the service urges and escalates on its own.
    pub ladder: Ladder,
    /// How long after it closed a supervisor may send a ticket back to work (重新办理).
    #[serde(default = "default_reopen_within")]
    pub reopen_within: Limit,
    /// The primary unit's reply clock when the office refuses its return.
    #[serde(default)]
    pub refused_return_clock: RefusedReturnClock,
}

fn default_reopen_within() -> Limit {
    Limit::WorkingDays(20)
}

/// What a refused return (退单不予认可) does to the unit's reply clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusedReturnClock {
    /// The due time the unit had stands: a wrong return gains the unit no time
    /// (退单不合理的，办理时限连续计算).
    #[default]
    Continues,
    /// The reply limit counts again from the refusal.
    Restarts,
}

/// The urge ladder's thresholds: a yellow urge when a deadline is this close, a red one when it
/// has passed, automatic supervision when a reply is this late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ladder {
    pub warn_before: Limit,
    pub warn_before_urgent: Limit,
    pub supervise_after: Limit,
    /// How long an automatic supervision gives the unit.
    pub supervision_deadline: Limit,
}

impl Default for Ladder {
    fn default() -> Self {
        Self {
            warn_before: Limit::WorkingDays(1),
            warn_before_urgent: Limit::Hours(1),
            supervise_after: Limit::WorkingDays(5),
            supervision_deadline: Limit::WorkingDays(3),
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        use super::calendar::Limit::{Hours, WorkingDays};
        let rule = |ticket_type, sign, reply| LimitRule {
            ticket_type,
            priority: Priority::Normal,
            sign,
            reply,
        };
        Self {
            limits: vec![
                rule(None, WorkingDays(1), WorkingDays(10)),
                rule(Some(TicketType::Consult), WorkingDays(1), WorkingDays(2)),
                rule(Some(TicketType::Complaint), WorkingDays(1), WorkingDays(15)),
                rule(Some(TicketType::Report), WorkingDays(1), WorkingDays(15)),
                LimitRule {
                    ticket_type: None,
                    priority: Priority::Urgent,
                    sign: Hours(1),
                    reply: Hours(24),
                },
            ],
            callback_after_direct_answer: [
                TicketType::Help,
                TicketType::Complaint,
                TicketType::Report,
            ]
            .into_iter()
            .collect(),
            max_callback_attempts: 3,
            max_returns: 3,
            ladder: Ladder::default(),
            reopen_within: default_reopen_within(),
            refused_return_clock: RefusedReturnClock::default(),
        }
    }
}

impl Policy {
    /// The limits for a ticket, and the rule they came from (for explanations).
    pub fn limits_for(&self, ticket_type: TicketType, priority: Priority) -> (Limits, String) {
        let specific = self
            .limits
            .iter()
            .find(|r| r.priority == priority && r.ticket_type == Some(ticket_type));
        let general = || {
            self.limits
                .iter()
                .find(|r| r.priority == priority && r.ticket_type.is_none())
        };
        match specific.or_else(general) {
            Some(rule) => (
                Limits {
                    sign: rule.sign,
                    reply: rule.reply,
                },
                format!(
                    "{}/{}",
                    rule.ticket_type.map_or("any type", TicketType::as_str),
                    priority
                ),
            ),
            // A policy without a row for this priority: the defaults, which have a general row
            // for every priority.
            None => Policy::default().limits_for(ticket_type, priority),
        }
    }

    /// Checks a policy as a whole before it takes effect.
    pub fn check(self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut seen = BTreeSet::new();
        for (i, rule) in self.limits.iter().enumerate() {
            if !seen.insert((rule.ticket_type, rule.priority)) {
                errors.add(
                    format!("limits[{i}]"),
                    "repeats a type and priority of an earlier row",
                );
            }
            check_limit(&mut errors, &format!("limits[{i}].sign"), rule.sign);
            check_limit(&mut errors, &format!("limits[{i}].reply"), rule.reply);
        }
        for priority in Priority::ALL {
            if !seen.contains(&(None, *priority)) {
                errors.add(
                    "limits",
                    format!("needs a row for every type (`type: null`) at priority `{priority}`"),
                );
            }
        }
        for (field, value) in [
            ("max_callback_attempts", self.max_callback_attempts),
            ("max_returns", self.max_returns),
        ] {
            if !(1..=10).contains(&value) {
                errors.add(field, "must be between 1 and 10");
            }
        }
        check_limit(&mut errors, "ladder.warn_before", self.ladder.warn_before);
        check_limit(
            &mut errors,
            "ladder.warn_before_urgent",
            self.ladder.warn_before_urgent,
        );
        check_limit(
            &mut errors,
            "ladder.supervise_after",
            self.ladder.supervise_after,
        );
        check_limit(
            &mut errors,
            "ladder.supervision_deadline",
            self.ladder.supervision_deadline,
        );
        errors.finish().map(|()| self)
    }

    pub fn needs_callback_after_answer(&self, ticket_type: TicketType) -> bool {
        self.callback_after_direct_answer.contains(&ticket_type)
    }
}

/// A limit of at least one and at most a year of its unit.
fn check_limit(errors: &mut ValidationErrors, field: &str, limit: Limit) {
    let (amount, most) = match limit {
        Limit::WorkingDays(n) => (n, 250),
        Limit::WorkingHours(n) => (n, 2_000),
        Limit::Hours(n) => (n, 8_760),
    };
    if !(1..=most).contains(&amount) {
        errors.add(
            format!("{field}.amount"),
            format!("must be between 1 and {most}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::Limit::{Hours, WorkingDays};

    #[test]
    fn the_default_table_matches_the_published_rules() {
        let policy = Policy::default();
        let limits = |t, p| policy.limits_for(t, p).0;
        assert_eq!(
            limits(TicketType::Consult, Priority::Normal),
            Limits {
                sign: WorkingDays(1),
                reply: WorkingDays(2)
            }
        );
        for t in [
            TicketType::Help,
            TicketType::Suggestion,
            TicketType::Other,
            TicketType::Praise,
        ] {
            assert_eq!(
                limits(t, Priority::Normal),
                Limits {
                    sign: WorkingDays(1),
                    reply: WorkingDays(10)
                },
                "{t}"
            );
        }
        for t in [TicketType::Complaint, TicketType::Report] {
            assert_eq!(
                limits(t, Priority::Normal),
                Limits {
                    sign: WorkingDays(1),
                    reply: WorkingDays(15)
                },
                "{t}"
            );
        }
        for t in TicketType::ALL {
            assert_eq!(
                limits(*t, Priority::Urgent),
                Limits {
                    sign: Hours(1),
                    reply: Hours(24)
                },
                "{t}"
            );
        }
    }

    #[test]
    fn rules_name_where_they_came_from() {
        let policy = Policy::default();
        assert_eq!(
            policy.limits_for(TicketType::Complaint, Priority::Normal).1,
            "complaint/normal"
        );
        assert_eq!(
            policy.limits_for(TicketType::Help, Priority::Normal).1,
            "any type/normal"
        );
        assert_eq!(
            policy.limits_for(TicketType::Consult, Priority::Urgent).1,
            "any type/urgent"
        );
    }

    #[test]
    fn a_policy_missing_a_priority_falls_back_to_the_defaults() {
        let policy = Policy {
            limits: vec![],
            ..Policy::default()
        };
        assert_eq!(
            policy.limits_for(TicketType::Help, Priority::Urgent).0,
            Limits {
                sign: Hours(1),
                reply: Hours(24)
            }
        );
    }

    #[test]
    fn a_policy_is_checked_as_a_whole() {
        assert!(Policy::default().check().is_ok());
        let mut policy = Policy::default();
        policy.limits.retain(|r| r.priority == Priority::Normal);
        policy.limits.push(policy.limits[1].clone());
        policy.limits[0].reply = WorkingDays(0);
        policy.max_returns = 0;
        policy.ladder.supervise_after = Hours(0);
        let errors = policy.check().unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "limits[0].reply.amount",
                "limits[4]",
                "limits",
                "max_returns",
                "ladder.supervise_after.amount"
            ]
        );
    }

    #[test]
    fn a_policy_reads_and_writes_as_json() {
        let json = serde_json::to_value(Policy::default()).unwrap();
        assert_eq!(
            json["limits"][0],
            serde_json::json!({"type": null, "priority": "normal", "sign": {"unit": "working_days", "amount": 1}, "reply": {"unit": "working_days", "amount": 10}})
        );
        assert_eq!(
            json["ladder"]["warn_before_urgent"],
            serde_json::json!({"unit": "hours", "amount": 1})
        );
        let back: Policy = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, Policy::default());
        let mut unknown = json;
        unknown["surprise"] = true.into();
        assert!(serde_json::from_value::<Policy>(unknown).is_err());
    }

    #[test]
    fn consultations_answered_on_the_spot_need_no_callback() {
        let policy = Policy::default();
        assert!(!policy.needs_callback_after_answer(TicketType::Consult));
        assert!(policy.needs_callback_after_answer(TicketType::Complaint));
    }
}
