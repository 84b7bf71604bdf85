//! A ticket as the console shows it: what was asked, where it stands, each unit's deadlines with
//! how they were worked out, and the timeline in words. Whoever may read the ticket through the
//! API may open its page, and no one else: another unit's ticket is not found.

use actix_web::{HttpResponse, web};
use askama::Template;
use uuid::Uuid;

use super::actions::{Offer, offers};
use super::session::Signed;
use super::{Chrome, ConsoleError, render};
use crate::api::tickets::with_lifecycle;
use crate::api::{AppState, Caller, parse_id, read};
use crate::domain::access::CallerVisibility;
use crate::domain::calendar::{Due, SkipReason};
use crate::domain::lifecycle::Context;
use crate::domain::masking::{mask_name, mask_phone};
use crate::reports::labels;
use crate::reports::timeline::{self, Entry, Names};
use crate::store;

/// A unit's part in the current round.
pub struct UnitPart {
    pub unit: String,
    pub role: &'static str,
    pub status: &'static str,
    pub sign_due: String,
    pub reply_due: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    number: String,
    title: String,
    status: &'static str,
    ticket_type: &'static str,
    channel: &'static str,
    priority: &'static str,
    category: String,
    registered_at: String,
    caller: String,
    address: String,
    content: String,
    overdue: bool,
    supervised: bool,
    parts: Vec<UnitPart>,
    timeline: Vec<Entry>,
    /// What the viewer may do now, and what the forms carry back.
    offers: Vec<Offer>,
    path: String,
    version: i64,
    form_token: String,
}

/// A due time with how it was worked out, so that whoever reads it can check it.
fn explained(due: &Due, names: &Names<'_>) -> String {
    let limit = match due.limit {
        Some(limit) => {
            let weekends = due
                .skipped
                .iter()
                .filter(|s| s.reason == SkipReason::Weekend)
                .count();
            let holidays = due.skipped.len() - weekends;
            let skipped = match (weekends, holidays) {
                (0, 0) => String::new(),
                (w, 0) => format!("，不计周末 {w} 天"),
                (0, h) => format!("，不计节假日 {h} 天"),
                (w, h) => format!("，不计周末 {w} 天、节假日 {h} 天"),
            };
            format!(
                "{}，自 {} 起{skipped}",
                labels::limit(limit),
                names.local(due.started_at)
            )
        }
        None => "人工指定".to_owned(),
    };
    format!("{} 前（{limit}）", names.local(due.due_at))
}

/// `GET /tickets/{id}`.
pub async fn ticket(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let chrome = Chrome::of(&state, signed.person());
    let form_token = signed.form_token.clone();
    let caller = Caller { user: signed.user };
    let scope = caller.ticket_scope()?;
    let id = parse_id(&path, "ticket")?;
    let timezone = state.numbering.timezone;
    let (ticket, parts, category, units, users, events, calendar, policy) =
        read(&state, move |c| {
            let (ticket, parts) = with_lifecycle(c, id, scope)?;
            let category = match ticket.details.category_id {
                Some(id) => Some(store::categories::get(c, id)?.full_name),
                None => None,
            };
            let units = store::units::names(c)?;
            let events = store::events::list(c, id, None, 1_000)?;
            let mut people: Vec<Uuid> = events.iter().filter_map(|e| e.actor.user_id).collect();
            people.sort_unstable();
            people.dedup();
            let users = store::users::names(c, &people)?;
            let calendar = store::calendar::load(c, timezone)?;
            let policy = store::policy::current(c)?.policy;
            Ok((
                ticket, parts, category, units, users, events, calendar, policy,
            ))
        })
        .await?;
    let names = Names {
        units: &units,
        users: &users,
        assignments: &parts.assignments,
        timezone: state.numbering.timezone,
    };
    let d = &ticket.details;
    let caller_text = match scope.caller_visibility(d.confidential) {
        CallerVisibility::Hidden => "（保密）".to_owned(),
        _ => [
            d.caller_name.as_deref().map(mask_name),
            d.caller_phone.as_deref().map(mask_phone),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
    };
    let round = ticket.progress.current_round;
    let now = state.now();
    let unit_parts = parts
        .assignments
        .iter()
        .filter(|a| a.round == round)
        .map(|a| UnitPart {
            unit: names
                .units
                .get(&a.unit_id)
                .cloned()
                .unwrap_or_else(|| a.unit_id.to_string()),
            role: labels::assignment_role(a.role),
            status: labels::assignment_status(a.status),
            sign_due: match a.signed_at {
                Some(at) => format!("{} 已签收", names.local(at)),
                None => explained(&a.sign_deadline, &names),
            },
            reply_due: explained(&a.reply_deadline, &names),
            overdue: a.replied_at.is_none()
                && a.closed_at.is_none()
                && a.returned_at.is_none()
                && a.reply_deadline.due_at < now,
        })
        .collect();
    let timeline = events.iter().map(|e| timeline::entry(e, &names)).collect();
    let context = Context {
        actor: caller.actor(),
        now,
        ticket_type: d.ticket_type,
        priority: d.priority,
        policy: &policy,
        calendar: &calendar,
    };
    let offers = offers(&parts, &context);
    render(
        HttpResponse::Ok(),
        &TicketPage {
            chrome,
            number: ticket.number.clone(),
            title: d.title.clone(),
            status: labels::ticket_status(ticket.progress.status),
            ticket_type: labels::ticket_type(d.ticket_type),
            channel: labels::channel(ticket.channel),
            priority: labels::priority(d.priority),
            category: category.unwrap_or_else(|| "未分类".to_owned()),
            registered_at: names.local(ticket.created_at),
            caller: caller_text,
            address: d.address.clone().unwrap_or_default(),
            content: d.content.clone(),
            overdue: ticket.progress.overdue,
            supervised: ticket.progress.supervised,
            parts: unit_parts,
            timeline,
            offers,
            path: format!("/tickets/{}", ticket.id),
            version: ticket.version,
            form_token,
        },
    )
}
