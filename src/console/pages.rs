//! The workbench: what is waiting for the signed-in person, as the dashboard counts it.

use actix_web::{HttpResponse, web};

use super::session::Signed;
use super::{Chrome, ConsoleError, render};
use crate::api::queues::{Dashboard, dashboard_of};
use crate::api::{AppState, Caller, read};
use crate::domain::access::{Access, Permission};
use crate::store;
use askama::Template;

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

/// One unit's row of the office's table.
pub struct UnitRow {
    pub name: String,
    pub awaiting_sign: i64,
    pub open: i64,
    pub due_today: i64,
    pub overdue: i64,
    pub extension_requests_pending: i64,
    pub supervisions_open: i64,
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
            },
        );
    }
    let caller = Caller { user: signed.user };
    let dashboard = dashboard_of(&state, &caller).await?;
    let names = read(&state, |c| Ok(store::units::names(c)?)).await?;
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
                    Tile::new("办理中", c.open, Alarm::None),
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
        .map(|entry| {
            let c = entry.counts;
            UnitRow {
                name: names
                    .get(&entry.unit_id)
                    .cloned()
                    .unwrap_or_else(|| entry.unit_id.to_string()),
                awaiting_sign: c.awaiting_sign,
                open: c.open,
                due_today: c.due_today,
                overdue: c.overdue,
                extension_requests_pending: c.extension_requests_pending,
                supervisions_open: c.supervisions_open,
            }
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
        },
    )
}
