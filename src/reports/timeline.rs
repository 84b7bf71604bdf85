//! A ticket's timeline in words, as the console shows it: who did what, and when.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::labels;
use crate::domain::lifecycle::{Change, Rung, Timer};
use crate::domain::ticket::{Assignment, TicketEvent};

/// The names a timeline speaks of: units and accounts by id, and the ticket's assignments (an
/// event names an assignment, the reader wants its unit).
pub struct Names<'a> {
    pub units: &'a HashMap<Uuid, String>,
    pub users: &'a HashMap<Uuid, String>,
    pub assignments: &'a [Assignment],
    pub timezone: Tz,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: String,
    /// Who: the account (with its unit for a unit's staff), or 系统 for the service's own
    /// passes (the urge ladder).
    pub who: String,
    pub what: String,
}

impl Names<'_> {
    fn unit(&self, id: Uuid) -> String {
        self.units
            .get(&id)
            .cloned()
            .unwrap_or_else(|| "（已删除的单位）".to_owned())
    }

    fn unit_of(&self, assignment_id: Uuid) -> String {
        self.assignments
            .iter()
            .find(|a| a.id == assignment_id)
            .map(|a| self.unit(a.unit_id))
            .unwrap_or_else(|| "承办单位".to_owned())
    }

    pub fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.timezone)
            .format("%-m月%-d日 %H:%M")
            .to_string()
    }
}

/// `text` after `lead`, when there is any.
fn with(lead: &str, text: Option<&str>) -> String {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => format!("{lead}{text}"),
        None => String::new(),
    }
}

/// The event in words.
pub fn entry(event: &TicketEvent, names: &Names<'_>) -> Entry {
    let who = match event.actor.user_id {
        Some(user) => {
            let name = names
                .users
                .get(&user)
                .cloned()
                .unwrap_or_else(|| "（已删除的账号）".to_owned());
            match event.actor.unit_id {
                Some(unit) => format!("{} {name}", names.unit(unit)),
                None => name,
            }
        }
        None => "系统".to_owned(),
    };
    let verb = labels::event(event.kind);
    let what = match Change::from_event(event.kind, &event.details) {
        Some(Ok(change)) => describe(&change, names),
        // Registration, edits and the like say no more than their kind.
        _ => verb.to_owned(),
    };
    Entry {
        at: names.local(event.created_at),
        who,
        what,
    }
}

fn describe(change: &Change, names: &Names<'_>) -> String {
    let verb = labels::event(change.kind());
    match change {
        Change::Answered {
            text, article_ids, ..
        } => {
            let cited = if article_ids.is_empty() {
                String::new()
            } else {
                format!("（引用知识库 {} 篇）", article_ids.len())
            };
            format!("{verb}{cited}{}", with("：", Some(text)))
        }
        Change::Dispatched { units, note, .. } => {
            let to = units
                .iter()
                .map(|u| {
                    format!(
                        "{}（{}）",
                        names.unit(u.unit_id),
                        labels::assignment_role(u.role)
                    )
                })
                .collect::<Vec<_>>()
                .join("、");
            let due = units
                .first()
                .map(|u| format!("，{} 前答复", names.local(u.reply.due_at)))
                .unwrap_or_default();
            format!("{verb}给 {to}{due}{}", with("；", note.as_deref()))
        }
        Change::Signed { assignment_id } => format!("{} {verb}", names.unit_of(*assignment_id)),
        Change::Returned {
            assignment_id,
            reason,
        } => format!("{} {verb}：{reason}", names.unit_of(*assignment_id)),
        Change::ExtensionRequested {
            assignment_id,
            requested_due_at,
            reason,
            ..
        } => format!(
            "{} {verb}至 {}：{reason}",
            names.unit_of(*assignment_id),
            names.local(*requested_due_at)
        ),
        Change::ExtensionApproved { due_at, note, .. } => format!(
            "{verb}至 {}{}",
            names.local(*due_at),
            with("；", note.as_deref())
        ),
        Change::ExtensionRejected { note, .. } => {
            format!("{verb}{}", with("：", note.as_deref()))
        }
        Change::Replied {
            assignment_id,
            result,
            contacted,
            ..
        } => format!(
            "{} {verb}（{}，{}）",
            names.unit_of(*assignment_id),
            labels::reply_result(*result),
            if *contacted {
                "已联系诉求人"
            } else {
                "未联系诉求人"
            }
        ),
        Change::OpinionAdded { assignment_id, .. } => {
            format!("{} {verb}", names.unit_of(*assignment_id))
        }
        Change::ReviewAccepted {
            callback_due_at,
            comment,
        } => format!(
            "{verb}，{} 前回访{}",
            names.local(*callback_due_at),
            with("；", comment.as_deref())
        ),
        Change::ReviewRejected {
            assignment_id,
            due,
            reason,
        } => format!(
            "{verb}（{}，{} 前重新答复）：{reason}",
            names.unit_of(*assignment_id),
            names.local(due.due_at)
        ),
        Change::CallbackRecorded {
            attempt,
            reached,
            satisfaction,
            comment,
            ..
        } => {
            let outcome = match (reached, satisfaction) {
                (false, _) => "未联系上".to_owned(),
                (true, Some(s)) => labels::satisfaction(*s).to_owned(),
                (true, None) => "已联系".to_owned(),
            };
            format!(
                "第 {attempt} 次{verb}：{outcome}{}",
                with("；", comment.as_deref())
            )
        }
        Change::Reopened { due, reason, .. } => format!(
            "{verb}{}{}",
            due.as_ref()
                .map(|d| format!("，{} 前答复", names.local(d.due_at)))
                .unwrap_or_default(),
            with("：", reason.as_deref())
        ),
        Change::Recalled { reason, .. } => format!("{verb}：{reason}"),
        Change::ReturnAccepted {
            assignment_id,
            reason,
        } => format!(
            "{verb}（{}）{}",
            names.unit_of(*assignment_id),
            with("：", reason.as_deref())
        ),
        Change::ReturnRefused {
            assignment_id,
            reason,
            due,
        } => format!(
            "{verb}（{}，{} 前答复）：{reason}",
            names.unit_of(*assignment_id),
            names.local(due.due_at)
        ),
        Change::Closed { reason } => format!("{verb}（{}）", labels::close_reason(*reason)),
        Change::Merged { .. } => verb.to_owned(),
        Change::Invalidated { reason } => format!("{verb}：{reason}"),
        // The ladder's urges say which deadline and how near, in words of their own.
        Change::Urged {
            unit_id,
            rung: Some(rung),
            timer: Some(timer),
            ..
        } => format!(
            "{verb} {}（{}时限{}）",
            names.unit(*unit_id),
            match timer {
                Timer::Sign => "签收",
                Timer::Reply => "答复",
                Timer::Callback => "回访",
            },
            match rung {
                Rung::Yellow => "将到",
                Rung::Red | Rung::Supervision => "已过",
            }
        ),
        Change::Urged { unit_id, note, .. } => format!(
            "{verb} {}{}",
            names.unit(*unit_id),
            with("：", note.as_deref())
        ),
        Change::MarkedOverdue {
            assignment_id,
            due_at,
        } => format!(
            "{} {verb}（应于 {} 前答复）",
            names.unit_of(*assignment_id),
            names.local(*due_at)
        ),
        Change::CallbackReminded { due_at, .. } => {
            format!("{verb}（应于 {} 前回访）", names.local(*due_at))
        }
        Change::Paused { reason } => format!("{verb}：{reason}"),
        Change::Resumed { .. } => verb.to_owned(),
        Change::SupervisionOpened {
            unit_id,
            reason,
            deadline,
            automatic,
            ..
        } => {
            let why = if *automatic {
                "答复超期未办，自动督办".to_owned()
            } else {
                reason.clone()
            };
            format!(
                "{verb} {}（{} 前）：{why}",
                names.unit(*unit_id),
                names.local(*deadline)
            )
        }
        Change::SupervisionClosed { outcome, .. } => format!("{verb}：{outcome}"),
        Change::Forwarded { unit_id, note, .. } => format!(
            "{verb} {}{}",
            names.unit(*unit_id),
            with("：", note.as_deref())
        ),
        Change::ForwardReturned {
            assignment_id,
            reason,
        } => format!("{} {verb}：{reason}", names.unit_of(*assignment_id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::{Actor, Role};
    use crate::domain::calendar::{Due, Limit};
    use crate::domain::lifecycle::DispatchedUnit;
    use crate::domain::ticket::{AssignmentRole, AssignmentStatus, EventKind};

    fn at(hour: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 11, 16, hour, 0, 0).unwrap()
    }

    fn due(hour: u32) -> Due {
        Due {
            due_at: at(hour),
            limit: Some(Limit::WorkingDays(5)),
            rule: "complaint/normal reply".to_owned(),
            started_at: at(1),
            counted: Vec::new(),
            skipped: Vec::new(),
        }
    }

    fn event(kind: EventKind, actor: Actor, change: &Change) -> TicketEvent {
        TicketEvent {
            id: 1,
            ticket_id: Uuid::nil(),
            ticket_version: 1,
            kind,
            actor,
            assignment_id: None,
            details: change.details(),
            created_at: at(2),
        }
    }

    #[test]
    fn the_timeline_says_who_did_what_to_which_unit() {
        let (rsj, cgj, clerk, handler) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
        );
        let units = HashMap::from([(rsj, "人社局".to_owned()), (cgj, "城管局".to_owned())]);
        let users = HashMap::from([(clerk, "李强".to_owned()), (handler, "张三".to_owned())]);
        let assignment = Assignment {
            id: Uuid::from_u128(9),
            ticket_id: Uuid::nil(),
            unit_id: rsj,
            round: 1,
            role: AssignmentRole::Primary,
            status: AssignmentStatus::Returned,
            forced: false,
            dispatched_by: clerk,
            dispatched_at: at(1),
            sign_deadline: due(3),
            reply_deadline: due(9),
            original_due_at: at(9),
            signed_at: None,
            returned_at: Some(at(2)),
            return_reason: None,
            replied_at: None,
            closed_at: None,
            forwarded_from: None,
        };
        let names = Names {
            units: &units,
            users: &users,
            assignments: std::slice::from_ref(&assignment),
            timezone: chrono_tz::Asia::Shanghai,
        };
        let dispatched = Change::Dispatched {
            round: 1,
            forced: false,
            note: Some("请尽快核实".to_owned()),
            units: vec![
                DispatchedUnit {
                    assignment_id: assignment.id,
                    unit_id: rsj,
                    role: AssignmentRole::Primary,
                    sign: due(3),
                    reply: due(9),
                },
                DispatchedUnit {
                    assignment_id: Uuid::from_u128(10),
                    unit_id: cgj,
                    role: AssignmentRole::Assisting,
                    sign: due(3),
                    reply: due(9),
                },
            ],
        };
        let office = Actor::user(clerk, Role::Dispatcher, None);
        assert_eq!(
            entry(&event(EventKind::Dispatched, office, &dispatched), &names),
            Entry {
                at: "11月16日 10:00".to_owned(),
                who: "李强".to_owned(),
                what: "派单给 人社局（主办）、城管局（协办），11月16日 17:00 前答复；请尽快核实"
                    .to_owned(),
            }
        );
        let returned = Change::Returned {
            assignment_id: assignment.id,
            reason: "不属于本单位职责".to_owned(),
        };
        let unit = Actor::user(handler, Role::UnitHandler, Some(rsj));
        let words = entry(&event(EventKind::Returned, unit, &returned), &names);
        assert_eq!(words.who, "人社局 张三");
        assert_eq!(words.what, "人社局 退回：不属于本单位职责");
        // The service's own passes, and kinds outside the lifecycle.
        let system = Actor {
            user_id: None,
            role: None,
            unit_id: None,
        };
        let overdue = Change::MarkedOverdue {
            assignment_id: assignment.id,
            due_at: at(9),
        };
        let words = entry(&event(EventKind::MarkedOverdue, system, &overdue), &names);
        assert_eq!(words.who, "系统");
        assert_eq!(words.what, "人社局 超期（应于 11月16日 17:00 前答复）");
        let registered = TicketEvent {
            kind: EventKind::Registered,
            details: serde_json::json!({"title": "噪音"}),
            ..event(EventKind::Registered, office, &overdue)
        };
        assert_eq!(entry(&registered, &names).what, "登记");
    }
}
