//! A ticket as the console shows it: what was asked, where it stands, each unit's deadlines with
//! how they were worked out, and the timeline in words. Whoever may read the ticket through the
//! API may open its page, and no one else: another unit's ticket is not found.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono_tz::Tz;
use uuid::Uuid;

use super::actions::{Offer, offers, open_supervision};
use super::intake::Choice;
use super::session::Signed;
use super::{Chrome, ConsoleError, render};
use crate::api::attachments::{Disposition, serve};
use crate::api::tickets::with_lifecycle;
use crate::api::{AppState, Caller, parse_id, read};
use crate::domain::access::{CallerVisibility, TicketScope};
use crate::domain::calendar::{Due, SkipReason, WorkCalendar};
use crate::domain::directory::{Category, Unit, lies_under};
use crate::domain::lifecycle::{
    ContactMethod, ContactRecord, Context, Lifecycle, ReplyResult, Satisfaction, SupervisionStatus,
};
use crate::domain::masking::{mask_name, mask_phone};
use crate::domain::policy::Policy;
use crate::domain::ticket::{Ticket, TicketEvent};
use crate::error::ApiError;
use crate::reports::labels;
use crate::reports::timeline::{self, Entry, Names};
use crate::store::units::UnitFilter;
use crate::store::{self, DbConnection};

/// The most units a dispatch form lists: a county has a few dozen, a city a few hundred.
const UNITS_LISTED: i64 = 2_000;

/// A unit the office may dispatch to.
pub struct UnitChoice {
    pub id: Uuid,
    pub name: String,
    /// The unit the ticket's category names as the one that usually handles it.
    pub suggested: bool,
}

/// A unit's written answer, as the office reviews it.
pub struct ReplyShown {
    pub unit: String,
    /// 办结答复 with its result, or 协办意见.
    pub kind: String,
    pub at: String,
    pub text: String,
    /// How the unit reached the citizen, or why it could not.
    pub contact: String,
    pub files: Vec<FileShown>,
}

/// An evidence file, linked from the page (photos shown).
pub struct FileShown {
    pub path: String,
    pub name: String,
    pub photo: bool,
}

/// A supervision (督办) still open.
pub struct SupervisionShown {
    pub unit: String,
    pub reason: String,
    pub deadline: String,
}

/// An extension request waiting for the office.
pub struct PendingExtension {
    pub id: Uuid,
    pub unit: String,
    pub due: String,
    pub reason: String,
}

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
    /// The units a dispatch may go to, the suggested one first.
    units: Vec<UnitChoice>,
    replies: Vec<ReplyShown>,
    pending_extension: Option<PendingExtension>,
    /// Supervisions still open, and the one a closing form ends.
    supervisions: Vec<SupervisionShown>,
    closing_supervision: Option<Uuid>,
    /// The units ever assigned the ticket, which a supervision may name.
    supervisable: Vec<Choice>,
    /// Where the viewer's unit may forward the ticket.
    sub_units: Vec<Choice>,
    /// Now, as a `datetime-local` field writes it: the contact time a reply starts from.
    now_local: String,
    results: Vec<Choice>,
    contact_methods: Vec<Choice>,
    satisfactions: Vec<Choice>,
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

/// What a ticket's page is made of, read together.
struct Loaded {
    ticket: Ticket,
    parts: Lifecycle,
    category: Option<Category>,
    units: HashMap<Uuid, String>,
    /// The units the office may dispatch to (none for anyone else).
    active_units: Vec<Unit>,
    /// A unit's own active sub-units, to which it may forward (二级转办).
    sub_units: Vec<Unit>,
    users: HashMap<Uuid, String>,
    events: Vec<TicketEvent>,
    replies: Vec<store::lifecycle::ReplyRecord>,
    evidence: Vec<store::attachments::Attachment>,
    calendar: WorkCalendar,
    policy: Policy,
}

fn load(
    c: &mut DbConnection,
    id: Uuid,
    scope: TicketScope,
    timezone: Tz,
) -> Result<Loaded, ApiError> {
    let (ticket, parts) = with_lifecycle(c, id, scope)?;
    let category = match ticket.details.category_id {
        Some(id) => Some(store::categories::get(c, id)?),
        None => None,
    };
    let active = |c: &mut DbConnection| {
        let filter = UnitFilter {
            active: Some(true),
            ..UnitFilter::default()
        };
        store::units::list(c, &filter, None, UNITS_LISTED)
    };
    let (active_units, sub_units) = match scope {
        TicketScope::All => (active(c)?, Vec::new()),
        TicketScope::Unit(own) => {
            // The tree as the API walks it when the forward is made: through inactive units too.
            let units = store::units::list(c, &UnitFilter::default(), None, UNITS_LISTED)?;
            let parents: HashMap<Uuid, Option<Uuid>> =
                units.iter().map(|u| (u.id, u.parent_id)).collect();
            let under = units
                .into_iter()
                .filter(|u| {
                    u.active && lies_under(u.id, own, |id| parents.get(&id).copied().flatten())
                })
                .collect();
            (Vec::new(), under)
        }
        _ => (Vec::new(), Vec::new()),
    };
    let events = store::events::list(c, &ticket, None, 1_000)?;
    let mut people: Vec<Uuid> = events.iter().filter_map(|e| e.actor.user_id).collect();
    people.sort_unstable();
    people.dedup();
    Ok(Loaded {
        units: store::units::names(c)?,
        users: store::users::names(c, &people)?,
        calendar: store::calendar::load(c, timezone)?,
        policy: store::policy::current(c)?.policy,
        replies: store::lifecycle::replies(c, id)?,
        evidence: store::attachments::for_ticket(c, id)?,
        ticket,
        parts,
        category,
        active_units,
        sub_units,
        events,
    })
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
    let Loaded {
        ticket,
        parts,
        category,
        units,
        active_units,
        sub_units,
        users,
        events,
        calendar,
        policy,
        replies,
        evidence,
    } = read(&state, move |c| load(c, id, scope, timezone)).await?;
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
    let mut offers = offers(&parts, &context);
    // A unit without sub-units has nowhere to forward to.
    offers.retain(|offer| !offer.asks_sub_unit() || !sub_units.is_empty());
    let suggested = category.as_ref().and_then(|c| c.default_unit_id);
    let mut choices: Vec<UnitChoice> = active_units
        .into_iter()
        .map(|u| UnitChoice {
            suggested: Some(u.id) == suggested,
            id: u.id,
            name: u.name,
        })
        .collect();
    choices.sort_by_key(|u| !u.suggested);
    let unit_name = |id: Uuid| units.get(&id).cloned().unwrap_or_else(|| id.to_string());
    let replies = replies
        .into_iter()
        .map(|r| ReplyShown {
            unit: unit_name(r.unit_id),
            kind: match r.result {
                Some(result) => format!("办结答复（{}）", labels::reply_result(result)),
                None => "协办意见".to_owned(),
            },
            at: names.local(r.created_at),
            contact: match &r.contact {
                Some(ContactRecord::Reached {
                    at,
                    method,
                    outcome,
                }) => format!(
                    "{} 通过{}联系到来电人：{outcome}",
                    names.local(*at),
                    labels::contact_method(*method)
                ),
                Some(ContactRecord::Impossible { reason }) => format!("未能联系来电人：{reason}"),
                None => String::new(),
            },
            files: evidence
                .iter()
                .filter(|a| a.reply_id == Some(r.id))
                .map(|a| FileShown {
                    path: format!("/tickets/{}/files/{}", ticket.id, a.id),
                    name: a.file_name.clone(),
                    photo: a.content_type.starts_with("image/"),
                })
                .collect(),
            text: r.text,
        })
        .collect();
    let pending_extension = parts.pending_extension().map(|e| PendingExtension {
        id: e.id,
        unit: unit_name(e.unit_id),
        due: names.local(e.requested_due_at),
        reason: e.reason.clone(),
    });
    let choice = |value: &str, label: &str| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
    };
    let supervisions = parts
        .supervisions
        .iter()
        .filter(|s| s.status == SupervisionStatus::Open)
        .map(|s| SupervisionShown {
            unit: unit_name(s.unit_id),
            reason: s.reason.clone(),
            deadline: names.local(s.deadline),
        })
        .collect();
    let mut supervisable: Vec<Choice> = Vec::new();
    for a in &parts.assignments {
        let id = a.unit_id.to_string();
        if !supervisable.iter().any(|c| c.value == id) {
            supervisable.push(choice(&id, &unit_name(a.unit_id)));
        }
    }
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
            category: category.map_or_else(|| "未分类".to_owned(), |c| c.full_name),
            registered_at: names.local(ticket.created_at),
            caller: caller_text,
            address: d.address.clone().unwrap_or_default(),
            content: d.content.clone(),
            overdue: ticket.progress.overdue,
            supervised: ticket.progress.supervised,
            parts: unit_parts,
            timeline,
            offers,
            units: choices,
            replies,
            pending_extension,
            supervisions,
            closing_supervision: open_supervision(&parts),
            supervisable,
            sub_units: sub_units
                .iter()
                .map(|u| choice(&u.id.to_string(), &u.name))
                .collect(),
            now_local: now
                .with_timezone(&timezone)
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
            results: ReplyResult::ALL
                .iter()
                .map(|r| choice(r.as_str(), labels::reply_result(*r)))
                .collect(),
            contact_methods: ContactMethod::ALL
                .iter()
                .map(|m| choice(m.as_str(), labels::contact_method(*m)))
                .collect(),
            satisfactions: Satisfaction::ALL
                .iter()
                .map(|s| choice(s.as_str(), labels::satisfaction(*s)))
                .collect(),
            path: format!("/tickets/{}", ticket.id),
            version: ticket.version,
            form_token,
        },
    )
}

/// `GET /tickets/{id}/files/{attachment}`: an evidence file of a ticket the viewer may open,
/// photos shown in the page.
pub async fn file(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let caller = Caller { user: signed.user };
    let (ticket, attachment) = path.into_inner();
    Ok(serve(
        &state,
        &caller,
        &ticket,
        &attachment,
        Disposition::InlinePhoto,
    )
    .await?)
}
