//! The pages beside the tickets: the notification feed (a unit's, or the office's), the
//! supervisions still open, and the monthly bulletin as the office prints it, with the
//! supervisor's publishing of a month that is over.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::session::{Signed, check_form_token};
use super::{Chrome, ConsoleError, render};
use crate::api::reports::{bulletin, publish_month};
use crate::api::{AppState, Caller, read, write};
use crate::domain::access::Permission;
use crate::domain::lifecycle::SupervisionStatus;
use crate::domain::notify::Audience;
use crate::domain::period::Month;
use crate::domain::ticket::EventKind;
use crate::error::ApiError;
use crate::reports::{self, Format, labels};
use crate::store;
use crate::store::lifecycle::SupervisionFilter;
use crate::store::notifications::Subject;

/// How many notifications, supervisions and months a page lists.
const LISTED: i64 = 100;
const MONTHS_LISTED: u32 = 12;

/// Whose feed the caller reads, as the API decides it.
fn audience(caller: &Caller) -> Result<Audience, ApiError> {
    caller.require(Permission::ReadNotifications)?;
    crate::api::notifications::audience(caller)
}

/// A notification as the feed lists it.
pub struct NoticeShown {
    pub path: String,
    pub subject: String,
    pub what: &'static str,
    pub at: String,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "console/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    form_token: String,
    unread: i64,
    notices: Vec<NoticeShown>,
}

fn local(state: &AppState, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&state.numbering.timezone)
        .format("%-m月%-d日 %H:%M")
        .to_string()
}

/// `GET /notifications`: newest first, unread marked.
pub async fn notifications(
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ConsoleError> {
    let chrome = Chrome::of(&state, signed.person());
    let form_token = signed.form_token.clone();
    let caller = Caller { user: signed.user };
    let audience = audience(&caller)?;
    let (rows, unread) = read(&state, move |c| {
        Ok((
            store::notifications::list(c, audience, false, None, LISTED)?,
            store::notifications::unread_count(c, audience)?,
        ))
    })
    .await?;
    let notices = rows
        .into_iter()
        .map(|n| {
            let what = n.kind.parse::<EventKind>().map(labels::event).unwrap_or(
                if n.kind == store::notifications::ARTICLE_REVIEW_DUE {
                    "知识条目到期待复核"
                } else {
                    "通知"
                },
            );
            let (path, subject) = match n.subject {
                Subject::Ticket { id, number, title } => {
                    (format!("/tickets/{id}"), format!("{number} {title}"))
                }
                Subject::Article { title, .. } => ("/articles".to_owned(), title),
            };
            NoticeShown {
                path,
                subject,
                what,
                at: local(&state, n.created_at),
                unread: n.read_at.is_none(),
            }
        })
        .collect();
    render(
        HttpResponse::Ok(),
        &NotificationsPage {
            chrome,
            form_token,
            unread,
            notices,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /notifications/read-all`: everything in the feed read, for everyone in its audience.
pub async fn read_all(
    state: web::Data<AppState>,
    signed: Signed,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = Caller { user: signed.user };
    let audience = audience(&caller)?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        let marked = store::notifications::mark_all_read(conn, audience, by, now)?;
        crate::api::Reply::ok(&serde_json::json!({ "marked": marked }))
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/notifications"))
        .finish())
}

/// A supervision still open, with its ticket.
pub struct SupervisionRow {
    pub path: String,
    pub ticket: String,
    pub unit: String,
    pub reason: String,
    pub deadline: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "console/supervisions.html")]
struct SupervisionsPage {
    chrome: Chrome,
    rows: Vec<SupervisionRow>,
}

/// `GET /supervisions`: the supervisions still open, a unit its own, the deadline passed first
/// in red.
pub async fn supervisions(
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ConsoleError> {
    let chrome = Chrome::of(&state, signed.person());
    let caller = Caller { user: signed.user };
    caller.require(Permission::ReadSupervisions)?;
    let unit_id = crate::api::lifecycle::supervision_scope(&caller)?;
    let filter = SupervisionFilter {
        status: Some(SupervisionStatus::Open),
        unit_id,
        overdue_at: None,
    };
    let (listed, units) = read(&state, move |c| {
        Ok((
            store::lifecycle::supervision_list(c, &filter, None, LISTED)?,
            store::units::names(c)?,
        ))
    })
    .await?;
    let now = state.now();
    let mut rows: Vec<SupervisionRow> = listed
        .into_iter()
        .map(|(ticket, number, title, s)| SupervisionRow {
            path: format!("/tickets/{ticket}"),
            ticket: format!("{number} {title}"),
            unit: units
                .get(&s.unit_id)
                .cloned()
                .unwrap_or_else(|| s.unit_id.to_string()),
            reason: s.reason,
            deadline: local(&state, s.deadline),
            overdue: s.deadline < now,
        })
        .collect();
    rows.sort_by_key(|r| !r.overdue);
    render(HttpResponse::Ok(), &SupervisionsPage { chrome, rows })
}

/// A month the bulletin page offers.
pub struct MonthShown {
    pub month: String,
    pub label: String,
    pub published: bool,
    /// Over, not yet published, and the viewer may publish it.
    pub publishable: bool,
}

#[derive(Template)]
#[template(path = "console/bulletins.html")]
struct BulletinsPage {
    chrome: Chrome,
    form_token: String,
    months: Vec<MonthShown>,
}

/// `GET /bulletins`: the last months, each readable as the office prints it, and publishable
/// by a supervisor once it is over.
pub async fn bulletins(
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ConsoleError> {
    let chrome = Chrome::of(&state, signed.person());
    let form_token = signed.form_token.clone();
    let caller = Caller { user: signed.user };
    caller.require(Permission::ReadAssessment)?;
    let may_publish = caller.role().may(Permission::Assess);
    let current = Month::of(state.now(), state.numbering.timezone);
    let mut months = vec![current];
    for _ in 1..MONTHS_LISTED {
        let earlier = months[months.len() - 1].previous();
        months.push(earlier);
    }
    let asked = months.clone();
    let published = read(&state, move |c| {
        asked
            .into_iter()
            .map(|m| Ok((m, store::reports::is_published(c, m)?)))
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    let months = published
        .into_iter()
        .map(|(month, published)| MonthShown {
            month: month.to_string(),
            label: format!("{}年{}月", month.year(), month.month()),
            published,
            publishable: may_publish && !published && month < current,
        })
        .collect();
    render(
        HttpResponse::Ok(),
        &BulletinsPage {
            chrome,
            form_token,
            months,
        },
    )
}

/// `GET /bulletins/{month}`: the bulletin as the office prints it. It is a document of its own
/// with its own stylesheet inline, allowed by its digest and nothing else.
pub async fn bulletin_document(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let caller = Caller { user: signed.user };
    let month = crate::api::month_in(&path)?;
    let b = bulletin(
        &state,
        &caller,
        crate::domain::period::Span::month(month),
        false,
    )
    .await?;
    let rendered = reports::render(&b, Format::Html, None).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(rendered.content_type)
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!(
                "default-src 'none'; style-src '{}'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
                reports::html::style_digest()
            ),
        ))
        .body(rendered.bytes))
}

/// `POST /bulletins/{month}/publish`: the month frozen as it stands, for good.
pub async fn publish(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<String>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = Caller { user: signed.user };
    let month = crate::api::month_in(&path)?;
    publish_month(&state, &caller, month).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/bulletins"))
        .finish())
}

/// One unit's figures as the page prints them.
pub struct FigureLine {
    pub name: String,
    pub received: u64,
    pub response: String,
    pub completion: String,
    pub on_time: String,
    pub satisfaction: String,
    pub overdue: u64,
    pub returns: u64,
    pub urges: u64,
}

impl FigureLine {
    fn of(name: String, row: &crate::reports::bulletin::FigureRow) -> Self {
        let rate =
            |r: Option<f64>| r.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0));
        let (f, r) = (&row.figures, &row.rates);
        FigureLine {
            name,
            received: f.received,
            response: rate(r.response_rate),
            completion: rate(r.completion_rate),
            on_time: rate(r.on_time_rate),
            satisfaction: rate(r.satisfaction_rate),
            overdue: f.overdue,
            returns: f.returns,
            urges: f.urges_system + f.urges_manual,
        }
    }
}

#[derive(Template)]
#[template(path = "console/figures.html")]
struct FiguresPage {
    chrome: Chrome,
    month: String,
    hotline: Option<FigureLine>,
    lines: Vec<FigureLine>,
}

#[derive(serde::Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

/// `GET /figures?month=YYYY-MM`: the month's figures so far, a unit's own or every unit's for
/// the office, as the assessment counts them.
pub async fn figures(
    state: web::Data<AppState>,
    signed: Signed,
    query: web::Query<MonthQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let chrome = Chrome::of(&state, signed.person());
    let caller = Caller { user: signed.user };
    let month = match query.month.as_deref() {
        Some(m) => Month::parse(m).map_err(|problem| ApiError::invalid_field("month", problem))?,
        None => Month::of(state.now(), state.numbering.timezone),
    };
    let view = crate::api::reports::figures_view(
        &state,
        &caller,
        crate::api::reports::FigureParams {
            month: Some(month.to_string()),
            from: None,
            to: None,
            unit_id: None,
            unit_kind: None,
        },
    )
    .await?;
    let mut lines: Vec<FigureLine> = view
        .units
        .iter()
        .map(|u| FigureLine::of(u.name.clone(), &u.figures))
        .collect();
    lines.sort_by(|a, b| b.received.cmp(&a.received).then(a.name.cmp(&b.name)));
    render(
        HttpResponse::Ok(),
        &FiguresPage {
            chrome,
            month: format!("{}年{}月", month.year(), month.month()),
            hotline: view
                .hotline
                .as_ref()
                .map(|row| FigureLine::of("全部单位".to_owned(), row)),
            lines,
        },
    )
}
