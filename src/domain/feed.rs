//! The event feed: every ticket event in the order its transaction committed, resumed from an
//! opaque position. What commit order means on each database is the store's business; here is
//! what a follower is owed from it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::access::Role;
use super::ticket::{Channel, EventKind, TicketEvent};

/// Where an event stands in the feed: after every event of an earlier transaction and after the
/// events of its own transaction with smaller ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedPosition {
    pub transaction: i64,
    pub event: i64,
}

/// An event as the feed serves it: with its place in the feed and what identifies its ticket
/// to other systems.
#[derive(Debug, Clone)]
pub struct FeedEvent {
    pub position: FeedPosition,
    pub event: TicketEvent,
    pub ticket_number: String,
    pub channel: Channel,
    pub external_ref: Option<String>,
}

/// A ticket event as a CloudEvents 1.0 event (structured JSON mode).
#[derive(Serialize)]
pub struct CloudEvent {
    specversion: &'static str,
    /// The event's id: unique, stable, the same in the feed and in every webhook delivery.
    id: String,
    source: String,
    #[serde(rename = "type")]
    kind: String,
    /// The ticket's number.
    subject: String,
    time: DateTime<Utc>,
    datacontenttype: &'static str,
    data: EventData,
}

#[derive(Serialize)]
pub struct EventData {
    ticket_id: Uuid,
    ticket_number: String,
    ticket_version: i64,
    channel: Channel,
    external_ref: Option<String>,
    kind: EventKind,
    actor_role: Option<Role>,
    /// Who acted for a unit, when a unit acted.
    actor_unit_id: Option<Uuid>,
    assignment_id: Option<Uuid>,
    details: serde_json::Value,
}

impl From<FeedEvent> for CloudEvent {
    fn from(fed: FeedEvent) -> Self {
        let e = fed.event;
        CloudEvent {
            specversion: "1.0",
            id: e.id.to_string(),
            source: format!("/api/v1/tickets/{}", e.ticket_id),
            kind: format!("hotline.ticket.{}", e.kind.as_str()),
            subject: fed.ticket_number.clone(),
            time: e.created_at,
            datacontenttype: "application/json",
            data: EventData {
                ticket_id: e.ticket_id,
                ticket_number: fed.ticket_number,
                ticket_version: e.ticket_version,
                channel: fed.channel,
                external_ref: fed.external_ref,
                kind: e.kind,
                actor_role: e.actor.role,
                actor_unit_id: e.actor.unit_id,
                assignment_id: e.assignment_id,
                details: e.details,
            },
        }
    }
}

/// Which events a follower asks for, within what its role lets it follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// Empty: every kind.
    pub kinds: Vec<EventKind>,
    pub channel: Option<Channel>,
}

/// Where a follower resumes after a page of events served `after` its position: after the
/// page's last event when the page is full (more may follow); otherwise after `newest`, the
/// newest event it could have been served whether the filter kept it or not, so that a follower
/// of a rare kind does not read the same events again on every poll.
pub fn resume_after(
    after: FeedPosition,
    page: &[FeedPosition],
    full: bool,
    newest: Option<FeedPosition>,
) -> FeedPosition {
    let last_served = page.last().copied();
    let reached = if full {
        last_served
    } else {
        newest.max(last_served)
    };
    reached.map_or(after, |reached| reached.max(after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(transaction: i64, event: i64) -> FeedPosition {
        FeedPosition { transaction, event }
    }

    #[test]
    fn positions_order_by_transaction_then_event() {
        assert!(at(1, 9) < at(2, 1));
        assert!(at(2, 1) < at(2, 3));
        assert_eq!(FeedPosition::default(), at(0, 0));
    }

    #[test]
    fn a_full_page_resumes_after_its_last_event() {
        let page = [at(5, 1), at(5, 2)];
        assert_eq!(
            resume_after(at(4, 9), &page, true, Some(at(9, 9))),
            at(5, 2)
        );
    }

    #[test]
    fn a_page_that_is_not_full_resumes_after_the_newest_event_it_could_serve() {
        assert_eq!(
            resume_after(at(4, 9), &[at(5, 1)], false, Some(at(7, 3))),
            at(7, 3)
        );
        assert_eq!(resume_after(at(4, 9), &[], false, Some(at(7, 3))), at(7, 3));
    }

    #[test]
    fn a_follower_never_moves_back() {
        assert_eq!(resume_after(at(4, 9), &[], false, None), at(4, 9));
        assert_eq!(resume_after(at(8, 1), &[], false, Some(at(7, 3))), at(8, 1));
    }
}
