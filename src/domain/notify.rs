//! Who should hear of a change: the unit it concerns, or the hotline office. Each notice lands in
//! that audience's feed, with one read mark shared by its people.

use uuid::Uuid;

use super::lifecycle::{Change, Lifecycle};
use super::ticket::EventKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Unit(Uuid),
    /// Agents, dispatchers and supervisors of the hotline.
    Office,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub audience: Audience,
    /// What happened, as the timeline names it.
    pub kind: EventKind,
}

/// The notices a change sends; `after` is the ticket's state once it is applied.
pub fn notices(change: &Change, after: &Lifecycle) -> Vec<Notice> {
    let to_unit = |unit| Notice {
        audience: Audience::Unit(unit),
        kind: change.kind(),
    };
    let to_office = || Notice {
        audience: Audience::Office,
        kind: change.kind(),
    };
    let unit_of_assignment = |id: Uuid| {
        after
            .assignments
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.unit_id)
    };
    match change {
        Change::Dispatched { units, .. } => units.iter().map(|u| to_unit(u.unit_id)).collect(),
        Change::Urged { unit_id, .. } => vec![to_unit(*unit_id)],
        Change::SupervisionOpened { unit_id, .. } => vec![to_unit(*unit_id)],
        Change::SupervisionClosed { supervision_id, .. } => after
            .supervisions
            .iter()
            .filter(|s| s.id == *supervision_id)
            .map(|s| to_unit(s.unit_id))
            .collect(),
        Change::Recalled { assignment_ids, .. }
        | Change::Merged {
            ended_assignment_ids: assignment_ids,
            ..
        } => assignment_ids
            .iter()
            .filter_map(|id| unit_of_assignment(*id))
            .map(to_unit)
            .collect(),
        Change::ReviewRejected { assignment_id, .. }
        | Change::ExtensionApproved { assignment_id, .. }
        | Change::ReturnAccepted { assignment_id, .. }
        | Change::ReturnRefused { assignment_id, .. }
        | Change::Reopened {
            assignment_id: Some(assignment_id),
            ..
        } => unit_of_assignment(*assignment_id)
            .map(to_unit)
            .into_iter()
            .collect(),
        Change::ExtensionRejected { request_id, .. } => after
            .extensions
            .iter()
            .filter(|e| e.id == *request_id)
            .map(|e| to_unit(e.unit_id))
            .collect(),
        Change::ReviewAccepted { .. } | Change::Paused { .. } | Change::Resumed { .. } => {
            after.primary_unit_id().map(to_unit).into_iter().collect()
        }
        Change::Returned { .. }
        | Change::ExtensionRequested { .. }
        | Change::Replied { .. }
        | Change::CallbackReminded { .. }
        | Change::Reopened {
            assignment_id: None,
            ..
        } => vec![to_office()],
        Change::Forwarded {
            unit_id,
            ended_assignment_id,
            ..
        } => std::iter::once(*unit_id)
            .chain(ended_assignment_id.and_then(unit_of_assignment))
            .map(to_unit)
            .collect(),
        Change::ForwardReturned { assignment_id, .. } => after
            .assignments
            .iter()
            .find(|a| a.id == *assignment_id)
            .and_then(|a| a.forwarded_from)
            .and_then(unit_of_assignment)
            .map(to_unit)
            .into_iter()
            .collect(),
        Change::MarkedOverdue { assignment_id, .. } => {
            let mut notices = vec![to_office()];
            notices.extend(unit_of_assignment(*assignment_id).map(to_unit));
            notices
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Actor;
    use crate::domain::calendar::{Limit, WorkCalendar};
    use crate::domain::lifecycle::DispatchedUnit;
    use crate::domain::ticket::AssignmentRole;
    use chrono::Utc;

    #[test]
    fn units_hear_of_their_work_and_the_office_of_its_own() {
        let calendar = WorkCalendar::weekdays_only(chrono_tz::Asia::Shanghai);
        let now = Utc::now();
        let (primary, assisting) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let unit = |n: u128, unit_id, role| DispatchedUnit {
            assignment_id: Uuid::from_u128(n),
            unit_id,
            role,
            sign: calendar.due(now, Limit::WorkingDays(1), "t"),
            reply: calendar.due(now, Limit::WorkingDays(2), "t"),
        };
        let dispatched = Change::Dispatched {
            round: 1,
            forced: false,
            note: None,
            units: vec![
                unit(1, primary, AssignmentRole::Primary),
                unit(2, assisting, AssignmentRole::Assisting),
            ],
        };
        let mut state = Lifecycle::registered(Uuid::from_u128(99));
        state.apply(&dispatched, now, Actor::system());
        let audiences: Vec<Audience> = notices(&dispatched, &state)
            .into_iter()
            .map(|n| n.audience)
            .collect();
        assert_eq!(
            audiences,
            [Audience::Unit(primary), Audience::Unit(assisting)]
        );
        let returned = Change::Returned {
            assignment_id: Uuid::from_u128(1),
            reason: "x".into(),
        };
        assert_eq!(
            notices(&returned, &state),
            [Notice {
                audience: Audience::Office,
                kind: EventKind::Returned
            }]
        );
        // The office decides extension requests: it hears of each as it is filed.
        let more_time = Change::ExtensionRequested {
            request_id: Uuid::from_u128(5),
            assignment_id: Uuid::from_u128(1),
            requested_due_at: now,
            reason: "x".into(),
        };
        assert_eq!(
            notices(&more_time, &state),
            [Notice {
                audience: Audience::Office,
                kind: EventKind::ExtensionRequested
            }]
        );
        let overdue = Change::MarkedOverdue {
            assignment_id: Uuid::from_u128(1),
            due_at: now,
        };
        let audiences: Vec<Audience> = notices(&overdue, &state)
            .into_iter()
            .map(|n| n.audience)
            .collect();
        assert_eq!(audiences, [Audience::Office, Audience::Unit(primary)]);
        assert!(
            notices(
                &Change::Signed {
                    assignment_id: Uuid::from_u128(1)
                },
                &state
            )
            .is_empty()
        );
    }
}
