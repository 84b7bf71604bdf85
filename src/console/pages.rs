//! The workbench: what is waiting for the signed-in person, as the dashboard counts it, and
//! the tickets behind the counts: a unit's tickets in hand by their due time, each with the
//! light the urge ladder sees it in, and the office's tickets waiting for dispatch.

use actix_web::{HttpResponse, web};

use super::session::Signed;
use super::{Chrome, ConsoleError, render};
use crate::api::queues::{Dashboard, dashboard_of};
use crate::api::{AppState, Caller, read};
use crate::domain::access::{Access, Permission, Role, TicketScope};
use crate::domain::calendar::{Limit, WorkCalendar};
use crate::domain::ladder::{self, Light};
use crate::domain::policy::Ladder;
use crate::domain::ticket::{Priority, TicketOrder, TicketStatus, TicketSummary};
use crate::reports::labels;
use crate::store;
use crate::store::queues::UnitCounts;
use crate::store::tickets::TicketFilter;
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A count on the workbench; `alarm`: it is work past a deadline.
pub struct Tile {
    pub label: &'static str,
    pub count: i64,
    pub alarm: Alarm,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Alarm {
    None,
    /// Due soon.
    Yellow,
    /// Past its deadline.
    Red,
}

impl Tile {
    fn new(label: &'static str, count: i64, alarm: Alarm) -> Self {
        Tile {
            label,
            count,
            alarm: if count == 0 { Alarm::None } else { alarm },
        }
    }

    pub fn class(&self) -> &'static str {
        match self.alarm {
            Alarm::None => "count",
            Alarm::Yellow => "count yellow",
            Alarm::Red => "count red",
        }
    }
}

/// One unit's row of the office's table: its name and the dashboard's counts.
pub struct UnitRow {
    pub name: String,
    pub counts: UnitCounts,
}

/// A ticket in a queue of the workbench.
pub struct QueueItem {
    pub path: String,
    pub number: String,
    pub title: String,
    pub status: &'static str,
    /// The deadline it is worked against, in words; empty when it has none.
    pub due: String,
    pub left: String,
    pub light: &'static str,
}

/// How many tickets a queue of the workbench shows, most pressing first.
const QUEUE_SHOWN: i64 = 50;

impl QueueItem {
    fn of(
        ticket: &TicketSummary,
        now: DateTime<Utc>,
        timezone: Tz,
        calendar: &WorkCalendar,
        ladder: &Ladder,
    ) -> Self {
        // Before the primary unit signs, its signature is what is due first.
        let due_at = match ticket.status {
            TicketStatus::Dispatched => ticket.sign_due_at.or(ticket.due_at),
            _ => ticket.due_at,
        };
        let urgent = ticket.priority == Priority::Urgent;
        let (due, left, light) = match due_at {
            Some(due_at) => {
                let light = ladder::light(due_at, now, urgent, calendar, ladder);
                (
                    format!(
                        "{} 前",
                        due_at.with_timezone(&timezone).format("%-m月%-d日 %H:%M")
                    ),
                    countdown(due_at, now, calendar),
                    match light {
                        Light::Green => "light green",
                        Light::Yellow => "light yellow",
                        Light::Red => "light red",
                    },
                )
            }
            None => (String::new(), String::new(), "light none"),
        };
        QueueItem {
            path: format!("/tickets/{}", ticket.id),
            number: ticket.number.clone(),
            title: ticket.title.clone(),
            status: labels::ticket_status(ticket.status),
            due,
            left,
            light,
        }
    }
}

/// What is left before `due_at` in working days and hours, or how long it has been overdue.
fn countdown(due_at: DateTime<Utc>, now: DateTime<Utc>, calendar: &WorkCalendar) -> String {
    if now >= due_at {
        let late = now - due_at;
        return match (late.num_days(), late.num_hours() % 24) {
            (0, 0) => "刚超期".to_owned(),
            (0, h) => format!("超期 {h} 小时"),
            (d, h) => format!("超期 {d} 天 {h} 小时"),
        };
    }
    let left = calendar.working_time(now, due_at, Limit::WorkingDays(1));
    match (left.num_hours() / 24, left.num_hours() % 24) {
        (0, 0) => "不足 1 小时".to_owned(),
        (0, h) => format!("剩 {h} 小时"),
        (d, 0) => format!("剩 {d} 个工作日"),
        (d, h) => format!("剩 {d} 个工作日 {h} 小时"),
    }
}

#[derive(Template)]
#[template(path = "console/workbench.html")]
struct Workbench {
    chrome: Chrome,
    /// Whether the account has work queues at all.
    has_queues: bool,
    tiles: Vec<Tile>,
    units: Vec<UnitRow>,
    /// Whether `units` is the office's view of every unit (else the handler's own).
    office: bool,
    /// The tickets behind the counts, a list for each kind of work.
    queues: Vec<Queue>,
}

/// A list of tickets waiting for the same kind of work.
pub struct Queue {
    pub title: &'static str,
    pub items: Vec<QueueItem>,
}

/// A queue as the database is asked for it.
struct QueueQuery {
    title: &'static str,
    filter: TicketFilter,
    order: TicketOrder,
}

impl QueueQuery {
    fn new(title: &'static str, statuses: &[TicketStatus], order: TicketOrder) -> Self {
        QueueQuery {
            title,
            filter: TicketFilter {
                statuses: statuses.to_vec(),
                ..TicketFilter::default()
            },
            order,
        }
    }
}

/// The queues a role works through: a unit its tickets in hand, the most pressing first; the
/// office the tickets waiting for dispatch, for review of a reply and for the callback, newest
/// first (only tickets in a unit's hands have a due time to order by); a supervisor also the
/// overdue ones, the longest overdue first.
fn queues_of(role: Role, scope: TicketScope) -> Vec<QueueQuery> {
    if let TicketScope::Unit(unit) = scope {
        let mut in_hand = QueueQuery::new(
            "在办工单（按时限）",
            &TicketStatus::BEING_WORKED_ON,
            TicketOrder::DueFirst,
        );
        in_hand.filter.unit_id = Some(unit);
        return vec![in_hand];
    }
    let mut queues = Vec::new();
    if role.may(Permission::FrontDesk) {
        queues.push(QueueQuery::new(
            "待派单",
            &[TicketStatus::Registered, TicketStatus::Returned],
            TicketOrder::Newest,
        ));
    }
    if role.may(Permission::Review) {
        queues.push(QueueQuery::new(
            "待审核答复",
            &[TicketStatus::Replied],
            TicketOrder::Newest,
        ));
    }
    if role.may(Permission::Supervise) {
        let mut overdue = QueueQuery::new("已超期", &[], TicketOrder::DueFirst);
        overdue.filter.overdue = Some(true);
        queues.push(overdue);
    }
    if role.may(Permission::FrontDesk) {
        queues.push(QueueQuery::new(
            "待回访",
            &[TicketStatus::AwaitingCallback],
            TicketOrder::Newest,
        ));
    }
    queues
}

/// `GET /`: the workbench.
pub async fn workbench(
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ConsoleError> {
    let chrome = Chrome::of(&state, signed.person());
    let role = signed.user.attachment.role;
    if !Access::Granted(Permission::ReadWorkQueues).admits(role) {
        return render(
            HttpResponse::Ok(),
            &Workbench {
                chrome,
                has_queues: false,
                tiles: Vec::new(),
                units: Vec::new(),
                office: false,
                queues: Vec::new(),
            },
        );
    }
    let caller = Caller { user: signed.user };
    let dashboard = dashboard_of(&state, &caller).await?;
    let scope = caller.ticket_scope()?;
    let timezone = state.numbering.timezone;
    let wanted = queues_of(role, scope);
    let (names, queued, calendar, ladder) = read(&state, move |c| {
        Ok(store::sql::planned_once(c, |c| {
            let names = store::units::names(c)?;
            let mut queued = Vec::with_capacity(wanted.len());
            for q in wanted {
                let tickets =
                    store::tickets::list(c, scope, &q.filter, q.order, None, QUEUE_SHOWN)?;
                queued.push((q.title, tickets));
            }
            let calendar = store::calendar::load(c, timezone)?;
            let ladder = store::policy::current(c)?.policy.ladder;
            Ok((names, queued, calendar, ladder))
        })?)
    })
    .await?;
    let now = state.now();
    let queues = queued
        .into_iter()
        .map(|(title, tickets)| Queue {
            title,
            items: tickets
                .iter()
                .map(|t| QueueItem::of(t, now, timezone, &calendar, &ladder))
                .collect(),
        })
        .collect();
    let Dashboard { office, units, .. } = dashboard;
    let tiles = match &office {
        Some(o) => vec![
            Tile::new("待派单", o.to_dispatch, Alarm::Yellow),
            Tile::new("退回待处理", o.returned, Alarm::Yellow),
            Tile::new("待签收", o.awaiting_sign, Alarm::None),
            Tile::new("今日到期", o.due_today, Alarm::Yellow),
            Tile::new("已超期", o.overdue, Alarm::Red),
            Tile::new("待审核", o.awaiting_review, Alarm::Yellow),
            Tile::new("待回访", o.awaiting_callback, Alarm::None),
            Tile::new("回访超期", o.callbacks_overdue, Alarm::Red),
            Tile::new(
                "延期申请待审批",
                o.extension_requests_pending,
                Alarm::Yellow,
            ),
            Tile::new("督办中", o.supervisions_open, Alarm::None),
        ],
        None => units
            .first()
            .map(|own| {
                let c = &own.counts;
                vec![
                    Tile::new("待签收", c.awaiting_sign, Alarm::Yellow),
                    Tile::new("在办", c.open, Alarm::None),
                    Tile::new("今日到期", c.due_today, Alarm::Yellow),
                    Tile::new("已超期", c.overdue, Alarm::Red),
                    Tile::new("延期申请中", c.extension_requests_pending, Alarm::None),
                    Tile::new("被督办", c.supervisions_open, Alarm::Red),
                ]
            })
            .unwrap_or_default(),
    };
    let units = units
        .into_iter()
        .map(|entry| UnitRow {
            name: names
                .get(&entry.unit_id)
                .cloned()
                .unwrap_or_else(|| entry.unit_id.to_string()),
            counts: entry.counts,
        })
        .collect();
    render(
        HttpResponse::Ok(),
        &Workbench {
            chrome,
            has_queues: true,
            tiles,
            units,
            office: office.is_some(),
            queues,
        },
    )
}
