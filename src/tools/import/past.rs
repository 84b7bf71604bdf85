//! A record translated into a ticket and the steps of its past, played through the lifecycle.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::access::{Actor, Role};
use crate::domain::directory::Unit;
use crate::domain::history::{self, Step};
use crate::domain::lifecycle::{Command, Reached, ReviewDecision};
use crate::domain::ticket::{Registrant, RegistrationInput, TicketDraft};
use crate::store::history::Past;

use super::{Importer, Record};

impl Importer<'_> {
    /// A record as a ticket with its past, or what is wrong with it.
    pub(super) fn past(&self, record: Record) -> Result<Past, String> {
        let d = &self.directory;
        let unit = |code: &str, field: &str| -> Result<&Unit, String> {
            d.units
                .get(code)
                .ok_or_else(|| format!("{field}: no unit has the code `{code}`"))
        };
        let category_id = record
            .category
            .as_deref()
            .map(|name| {
                d.categories
                    .get(name)
                    .map(|c| c.id)
                    .ok_or_else(|| format!("category: no category is named `{name}`"))
            })
            .transpose()?;
        let area_unit_id = record
            .area
            .as_deref()
            .map(|code| {
                unit(code, "area").and_then(|u| match u.kind.area_problem() {
                    Some(problem) => Err(format!("area: `{code}` {problem}")),
                    None => Ok(u.id),
                })
            })
            .transpose()?;
        let input = RegistrationInput {
            channel: record.channel,
            external_ref: Some(record.external_ref.clone()),
            ticket_type: record.ticket_type,
            category_id,
            title: record.title.clone(),
            content: record.content.clone(),
            caller_name: record.caller_name.clone(),
            caller_phone: record.caller_phone.clone(),
            confidential: record.confidential,
            address: record.address.clone(),
            area_unit_id,
            latitude: None,
            longitude: None,
            priority: record.priority,
        };
        let draft = TicketDraft::parse(
            input,
            Registrant {
                role: Role::Agent,
                own_channel: None,
            },
        )
        .map_err(|e| e.to_string())?;
        if record.external_ref.trim().is_empty() {
            return Err("external_ref: is required to import a ticket".into());
        }
        let as_role = |role: Role, unit_id: Option<Uuid>| Actor {
            user_id: Some(self.account),
            role: Some(role),
            unit_id,
        };
        let office = as_role(Role::Dispatcher, None);
        let mut steps: Vec<Timed> = Vec::new();
        let mut push = |stage: Stage, at: DateTime<Utc>, actor: Actor, command: Command| {
            steps.push(Timed {
                stage,
                step: Step { at, actor, command },
            })
        };
        if let Some(answer) = &record.answer {
            let command = Command::answer(&answer.text, &[]).map_err(|e| format!("answer: {e}"))?;
            push(Stage::Answer, answer.at, office, command);
        }
        let mut rounds: Vec<(DateTime<Utc>, Uuid)> = Vec::new();
        for (i, a) in record.assignments.iter().enumerate() {
            let primary = unit(&a.unit, &format!("assignments[{i}].unit"))?;
            let assisting = a
                .assisting
                .iter()
                .map(|code| unit(code, &format!("assignments[{i}].assisting")).map(|u| u.id))
                .collect::<Result<Vec<_>, _>>()?;
            let command = Command::dispatch(primary.id, assisting, false, None)
                .map_err(|e| format!("assignments[{i}]: {e}"))?;
            push(Stage::Dispatch, a.dispatched_at, office, command);
            rounds.push((a.dispatched_at, primary.id));
            let handler = as_role(Role::UnitHandler, Some(primary.id));
            if let Some(at) = a.signed_at {
                push(Stage::Sign, at, handler, Command::Sign);
            }
            if let Some(at) = a.returned_at {
                let command = Command::hand_back(a.return_reason.as_deref().unwrap_or_default())
                    .map_err(|e| format!("assignments[{i}].return_reason: {e}"))?;
                push(Stage::Return, at, handler, command);
            }
        }
        rounds.sort_by_key(|(at, _)| *at);
        for (i, r) in record.replies.iter().enumerate() {
            let unit_id = rounds
                .iter()
                .rev()
                .find(|(at, _)| *at <= r.at)
                .map(|(_, u)| *u)
                .ok_or_else(|| format!("replies[{i}]: no dispatch came before it"))?;
            let reached = match (r.contacted_at, r.contact_method) {
                (Some(at), Some(method)) => Some(Reached {
                    at,
                    method,
                    outcome: r.contact_outcome.as_deref().unwrap_or_default(),
                }),
                (Some(_), None) => {
                    return Err(format!(
                        "replies[{i}]: contact_method: is required with contacted_at"
                    ));
                }
                (None, _) => None,
            };
            let command = Command::reply(
                r.result,
                &r.text,
                reached,
                r.no_contact_reason.as_deref(),
                Vec::new(),
            )
            .map_err(|e| format!("replies[{i}]: {e}"))?;
            push(
                Stage::Reply,
                r.at,
                as_role(Role::UnitHandler, Some(unit_id)),
                command,
            );
        }
        for (i, r) in record.reviews.iter().enumerate() {
            let decision = if r.accept {
                ReviewDecision::Accept
            } else {
                ReviewDecision::Reject
            };
            let command = Command::review(decision, r.comment.as_deref(), None)
                .map_err(|e| format!("reviews[{i}]: {e}"))?;
            push(Stage::Review, r.at, office, command);
        }
        for (i, c) in record.callbacks.iter().enumerate() {
            let command = Command::callback(
                c.reached,
                c.satisfaction,
                c.resolved,
                c.comment.as_deref(),
                c.reopen,
            )
            .map_err(|e| format!("callbacks[{i}]: {e}"))?;
            push(Stage::Callback, c.at, as_role(Role::Agent, None), command);
        }
        steps.sort_by_key(|t| (t.step.at, t.stage));
        if let Some(first) = steps.first().filter(|t| t.step.at < record.registered_at) {
            return Err(format!(
                "{} is before the registration at {}",
                first.name(),
                record.registered_at
            ));
        }
        let names: Vec<String> = steps.iter().map(Timed::name).collect();
        // History may name a channel no longer in use: only an unknown code is refused.
        let kind = d
            .channels
            .get(&draft.channel.code)
            .map(|c| c.kind)
            .ok_or_else(|| format!("channel: no channel has the code `{}`", draft.channel.code))?;
        let ticket = draft.registered(
            kind,
            Uuid::now_v7(),
            String::new(),
            self.account,
            record.registered_at,
        );
        let rules = history::Rules {
            ticket_type: ticket.details.ticket_type,
            priority: ticket.details.priority,
            policy: &self.policy,
            calendar: &self.calendar,
        };
        let played = history::play(
            ticket.id,
            steps.into_iter().map(|t| t.step).collect(),
            &rules,
            &mut Uuid::now_v7,
        )
        .map_err(|refused| format!("{}: {}", names[refused.step], refused.refusal))?;
        Ok(Past {
            registered_by: as_role(Role::Agent, None),
            ticket,
            played,
        })
    }
}

/// What a record says happened, in the order the lifecycle takes steps given at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Answer,
    Dispatch,
    Sign,
    Return,
    Reply,
    Review,
    Callback,
}

/// One step of a record's past, with the stage it belongs to.
struct Timed {
    stage: Stage,
    step: Step,
}

impl Timed {
    /// The step as an error names it.
    fn name(&self) -> String {
        let what = match self.stage {
            Stage::Answer => "the answer",
            Stage::Dispatch => "the dispatch",
            Stage::Sign => "the signature",
            Stage::Return => "the return",
            Stage::Reply => "the reply",
            Stage::Review => "the review",
            Stage::Callback => "the callback",
        };
        format!("{what} at {}", self.step.at)
    }
}
