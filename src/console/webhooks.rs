//! The webhook screens: the subscriptions with their state and what waits or died, a form to
//! add one, and each one's secrets and delivery log with the buttons to rotate a secret and to
//! send a dead delivery again. Every change goes through the API's own steps
//! (`api::webhooks::subscribe`, `set_enabled` …), so the console and the API refuse and audit
//! alike. A new secret is shown on the page that made it, once.

use actix_web::{HttpResponse, web};
use askama::Template;
use uuid::Uuid;

use super::admin::{admin, channel_choices, see_other};
use super::intake::Choice;
use super::session::{Signed, check_form_token};
use super::{Chrome, ConsoleError, render};
use crate::api::webhooks::{self as steps, Draft};
use crate::api::{AppState, Caller, read, write_value};
use crate::domain::access::Permission;
use crate::domain::ticket::EventKind;
use crate::domain::webhook::{Delivery, DeliveryStatus, Subscription};
use crate::error::ApiError;
use crate::reports::labels;
use crate::store;
use crate::store::webhooks::SecretInfo;

/// Deliveries a subscription's page lists, newest first.
const LOGGED: i64 = 100;

/// To the second: a delivery log tells attempts apart that the minute would not.
fn local_time(state: &AppState, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&state.numbering.timezone)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn kinds_text(kinds: &[EventKind]) -> String {
    if kinds.is_empty() {
        "全部".to_owned()
    } else {
        kinds
            .iter()
            .map(|k| labels::event(*k))
            .collect::<Vec<_>>()
            .join("、")
    }
}

fn state_text(subscription: &Subscription) -> String {
    match &subscription.disabled_reason {
        None => "启用".to_owned(),
        Some(reason) if reason == crate::domain::webhook::GONE_REASON => {
            "停用（对方答复410，不再接收）".to_owned()
        }
        Some(_) => "停用".to_owned(),
    }
}

/// A subscription as both screens show it.
pub struct Shown {
    id: Uuid,
    url: String,
    description: String,
    kinds: String,
    channel: &'static str,
    state: String,
    active: bool,
}

impl Shown {
    fn of(subscription: Subscription) -> Self {
        Shown {
            id: subscription.id,
            kinds: kinds_text(&subscription.kinds),
            channel: subscription.channel.map_or("全部", labels::channel),
            state: state_text(&subscription),
            active: subscription.active(),
            url: subscription.url,
            description: subscription.description,
        }
    }
}

pub struct SubscriptionRow {
    shown: Shown,
    waiting: i64,
    dead: i64,
}

#[derive(Template)]
#[template(path = "console/admin_webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    form_token: String,
    rows: Vec<SubscriptionRow>,
    kinds: Vec<Choice>,
    channels: Vec<Choice>,
    /// The secret of the subscription just added, shown this once.
    made: Option<(String, String)>,
}

fn kind_choices() -> Vec<Choice> {
    EventKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str().to_owned(),
            label: labels::event(*k).to_owned(),
        })
        .collect()
}

async fn list_page(
    state: &web::Data<AppState>,
    signed: &Signed,
    caller: Caller,
    made: Option<(String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let owner = (caller.role() == crate::domain::access::Role::Integration).then(|| caller.id());
    let (subscriptions, counts) = read(state, move |c| {
        Ok((
            store::webhooks::list(c, owner)?,
            store::webhooks::open_counts(c)?,
        ))
    })
    .await?;
    let rows = subscriptions
        .into_iter()
        .map(|s| {
            let (waiting, dead) = counts.get(&s.id).copied().unwrap_or_default();
            SubscriptionRow {
                shown: Shown::of(s),
                waiting,
                dead,
            }
        })
        .collect();
    render(
        HttpResponse::Ok(),
        &WebhooksPage {
            chrome: Chrome::of(state, signed.person()),
            form_token: signed.form_token.clone(),
            rows,
            kinds: kind_choices(),
            channels: channel_choices(),
            made,
        },
    )
}

/// `GET /admin/webhooks`.
pub async fn webhooks(
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ConsoleError> {
    let caller = admin(&signed, Permission::ManageWebhooks)?;
    list_page(&state, &signed, caller, None).await
}

/// The add form: its kinds are checkboxes, so the body is read as pairs.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `POST /admin/webhooks`: a new subscription; the page that answers shows its secret once.
pub async fn add(
    state: web::Data<AppState>,
    signed: Signed,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    check_form_token(field(&fields, "csrf"), &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageWebhooks)?;
    let kinds: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "kinds")
        .map(|(_, v)| v.clone())
        .collect();
    let channel = Some(field(&fields, "channel")).filter(|c| !c.is_empty());
    let draft = Draft::check(
        steps::scope_of(&caller)?,
        &state.webhook_targets,
        field(&fields, "url"),
        field(&fields, "description"),
        kinds,
        channel,
        None,
    )
    .map_err(ApiError::validation)?;
    let by = caller.clone();
    let (subscription, secret) = write_value(&state, &caller, move |conn, now| {
        steps::subscribe(conn, now, &by, draft)
    })
    .await?;
    list_page(&state, &signed, caller, Some((subscription.url, secret))).await
}

pub struct DeliveryRow {
    id: i64,
    event_id: i64,
    kind: &'static str,
    ticket_id: Uuid,
    status: &'static str,
    attempts: u32,
    last_answer: String,
    latency: String,
    event_at: String,
    next: String,
    may_resend: bool,
}

pub struct SecretRow {
    id: Uuid,
    created_at: String,
}

#[derive(Template)]
#[template(path = "console/admin_webhook.html")]
struct WebhookPage {
    chrome: Chrome,
    form_token: String,
    shown: Shown,
    secrets: Vec<SecretRow>,
    deliveries: Vec<DeliveryRow>,
    /// A secret just added, shown this once.
    new_secret: Option<String>,
}

fn status_text(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "待投递",
        DeliveryStatus::Delivered => "已送达",
        DeliveryStatus::Dead => "投递失败",
    }
}

fn delivery_row(state: &AppState, d: Delivery) -> DeliveryRow {
    let last_answer = match (d.last_status, &d.last_error) {
        (_, Some(error)) => error.clone(),
        (Some(status), None) => status.to_string(),
        (None, None) => String::new(),
    };
    DeliveryRow {
        id: d.id,
        event_id: d.event_id,
        kind: labels::event(d.event_kind),
        ticket_id: d.ticket_id,
        status: status_text(d.status),
        attempts: d.attempts,
        last_answer,
        latency: d
            .latency_ms
            .map(|ms| format!("{ms} ms"))
            .unwrap_or_default(),
        event_at: local_time(state, d.event_at),
        next: d
            .next_attempt_at
            .map(|at| local_time(state, at))
            .unwrap_or_default(),
        may_resend: d.status != DeliveryStatus::Pending,
    }
}

async fn detail_page(
    state: &web::Data<AppState>,
    signed: &Signed,
    caller: Caller,
    id: Uuid,
    new_secret: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let (subscription, secrets, deliveries) = read(state, move |c| {
        let subscription = steps::owned(c, &caller, id)?;
        Ok((
            subscription,
            store::webhooks::secrets(c, id)?,
            store::webhooks::deliveries(c, id, None, None, LOGGED)?,
        ))
    })
    .await?;
    render(
        HttpResponse::Ok(),
        &WebhookPage {
            chrome: Chrome::of(state, signed.person()),
            form_token: signed.form_token.clone(),
            shown: Shown::of(subscription),
            secrets: secrets
                .into_iter()
                .map(|s: SecretInfo| SecretRow {
                    id: s.id,
                    created_at: local_time(state, s.created_at),
                })
                .collect(),
            deliveries: deliveries
                .into_iter()
                .map(|d| delivery_row(state, d))
                .collect(),
            new_secret,
        },
    )
}

/// `GET /admin/webhooks/{id}`: the subscription, its secrets and its latest deliveries.
pub async fn webhook(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let caller = admin(&signed, Permission::ManageWebhooks)?;
    let id = crate::api::parse_id(&path, "webhook subscription")?;
    detail_page(&state, &signed, caller, id, None).await
}

#[derive(serde::Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    secret_id: String,
    #[serde(default)]
    delivery_id: String,
}

/// `POST /admin/webhooks/{id}/{action}`: `enable`, `disable`, `delete`, `add-secret`,
/// `remove-secret`, `redeliver`.
pub async fn act(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = admin(&signed, Permission::ManageWebhooks)?;
    let (raw_id, action) = path.into_inner();
    let id = crate::api::parse_id(&raw_id, "webhook subscription")?;
    let form = form.into_inner();
    let by = caller.clone();
    let page = format!("/admin/webhooks/{id}");
    match action.as_str() {
        "enable" | "disable" => {
            let enabled = action == "enable";
            write_value(&state, &caller, move |conn, now| {
                steps::set_enabled(conn, now, &by, id, enabled)
            })
            .await?;
            Ok(see_other(page))
        }
        "delete" => {
            write_value(&state, &caller, move |conn, now| {
                steps::end(conn, now, &by, id)
            })
            .await?;
            Ok(see_other("/admin/webhooks"))
        }
        "add-secret" => {
            let secret = steps::new_secret();
            let (_, text) = write_value(&state, &caller, move |conn, now| {
                steps::add_secret_to(conn, now, &by, id, secret)
            })
            .await?;
            detail_page(&state, &signed, caller, id, Some(text)).await
        }
        "remove-secret" => {
            let secret_id = crate::api::parse_id(&form.secret_id, "secret")?;
            write_value(&state, &caller, move |conn, now| {
                steps::remove_secret_from(conn, now, &by, id, secret_id)
            })
            .await?;
            Ok(see_other(page))
        }
        "redeliver" => {
            let delivery_id: i64 = form
                .delivery_id
                .trim()
                .parse()
                .map_err(|_| ApiError::invalid_field("delivery_id", "names no delivery"))?;
            write_value(&state, &caller, move |conn, now| {
                steps::send_again(conn, now, &by, id, delivery_id)
            })
            .await?;
            Ok(see_other(page))
        }
        other => Err(ApiError::not_found(format!("no action {other}")).into()),
    }
}
