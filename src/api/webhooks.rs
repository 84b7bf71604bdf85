//! Webhook subscriptions: an administrator keeps any, an integration its own. Each names where
//! events go, which kinds and which channel, and holds one or more signing secrets (several
//! during a rotation); its delivery log shows every event's status and can send a dead one again.

use actix_web::{HttpResponse, web};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, JsonBody, PageParams, Query, Reply, found, parse_id, read, write};
use crate::api::Caller;
use crate::domain::access::{EventScope, Role};
use crate::domain::audit::AuditAction;
use crate::domain::problem::ProblemCode;
use crate::domain::ticket::{Channel, EventKind};
use crate::domain::validation::ValidationErrors;
use crate::domain::webhook::{
    AddressRange, DeliveryStatus, SigningSecret, Subscription, Target, may_deliver_to,
};
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::webhooks::{self as subscriptions, SecretInfo};
use crate::store::{self, DbConnection, StoreError};

/// Subscriptions one integration account may keep.
const MAX_PER_INTEGRATION: usize = 20;
const MAX_DESCRIPTION: usize = 200;
/// Secrets one subscription holds at most: a rotation needs two.
const MAX_SECRETS: usize = 5;

/// A subscription as the API shows it.
#[derive(Serialize)]
struct SubscriptionView {
    #[serde(flatten)]
    subscription: Subscription,
    status: &'static str,
    secrets: Vec<SecretInfo>,
}

impl SubscriptionView {
    fn load(conn: &mut DbConnection, subscription: Subscription) -> Result<Self, StoreError> {
        let secrets = subscriptions::secrets(conn, subscription.id)?;
        Ok(Self {
            status: if subscription.active() {
                "active"
            } else {
                "disabled"
            },
            subscription,
            secrets,
        })
    }
}

/// A subscription just made, with its secret: the only time the secret is shown.
#[derive(Serialize)]
struct CreatedView {
    #[serde(flatten)]
    view: SubscriptionView,
    secret: String,
}

/// A secret just added, with its text: the only time it is shown.
#[derive(Serialize)]
struct SecretView {
    #[serde(flatten)]
    info: SecretInfo,
    secret: String,
}

/// The subscription `id` as `caller` may see it: an integration sees only its own, and another
/// one's is as absent as one that does not exist.
pub(crate) fn owned(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Subscription, ApiError> {
    let subscription = found(subscriptions::get(conn, id), "webhook subscription", id)?;
    if caller.role() == Role::Integration && subscription.owner_user_id != Some(caller.id()) {
        return Err(ApiError::not_found(format!("no webhook subscription {id}")));
    }
    Ok(subscription)
}

pub(crate) fn new_secret() -> SigningSecret {
    let mut bytes = vec![0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    SigningSecret::from_bytes(bytes).expect("32 bytes are within a secret's bounds")
}

/// A target checked as far as can be without the network: a URL deliveries may be sent to,
/// and not an address literal on a network they may not reach. A name is checked each time
/// it is resolved, when a delivery goes.
fn check_target(
    errors: &mut ValidationErrors,
    url: &str,
    allowed: &[AddressRange],
) -> Option<String> {
    match Target::parse(url) {
        Err(problem) => {
            errors.add("url", problem);
            None
        }
        Ok(target) => {
            if let Some(address) = target.literal_address()
                && !may_deliver_to(address, allowed)
            {
                errors.add(
                    "url",
                    format!(
                        "{address} is on loopback, link-local or a private network, which \
                         deliveries may not reach unless the service's allowed targets name it"
                    ),
                );
                return None;
            }
            Some(target.url)
        }
    }
}

fn check_kinds(errors: &mut ValidationErrors, kinds: Vec<String>) -> Vec<EventKind> {
    let mut parsed: Vec<EventKind> = kinds
        .iter()
        .filter_map(|k| match k.parse() {
            Ok(kind) => Some(kind),
            Err(e) => {
                errors.add("kinds", format!("{e}"));
                None
            }
        })
        .collect();
    parsed.sort();
    parsed.dedup();
    parsed
}

/// The channel filter: any for an administrator's subscription; an integration's own channel
/// or none (which means the same) for an integration's.
fn check_channel(
    errors: &mut ValidationErrors,
    channel: Option<&str>,
    scope: EventScope,
) -> Option<Channel> {
    let channel: Channel = match channel?.parse() {
        Ok(channel) => channel,
        Err(e) => {
            errors.add("channel", format!("{e}"));
            return None;
        }
    };
    if let EventScope::Channel(own) = scope
        && own != channel
    {
        errors.add(
            "channel",
            format!("an integration receives the events of its own channel ({own}) only"),
        );
    }
    Some(channel)
}

fn check_description(errors: &mut ValidationErrors, description: &str) -> String {
    if description.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "description",
            format!("is at most {MAX_DESCRIPTION} characters"),
        );
    }
    description.trim().to_owned()
}

fn check_secret(errors: &mut ValidationErrors, secret: Option<&str>) -> SigningSecret {
    match secret.map(SigningSecret::parse) {
        None => new_secret(),
        Some(Ok(secret)) => secret,
        Some(Err(problem)) => {
            errors.add("secret", problem);
            new_secret()
        }
    }
}

/// Whose events a subscription made by `caller` may carry.
pub(crate) fn scope_of(caller: &Caller) -> Result<EventScope, ApiError> {
    match caller.role() {
        Role::Admin => Ok(EventScope::All),
        Role::Integration => caller.channel().map(EventScope::Channel).ok_or_else(|| {
            ApiError::forbidden(
                ProblemCode::Forbidden,
                "this integration account has no channel to receive events of",
            )
        }),
        _ => Err(ApiError::forbidden(
            ProblemCode::Forbidden,
            "webhooks are kept by administrators and integrations",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInput {
    url: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kinds: Vec<String>,
    channel: Option<String>,
    /// `whsec_` and base64 of 24 to 64 bytes; one is made when it is left out.
    secret: Option<String>,
}

/// A subscription as its form or body gives it, checked.
pub(crate) struct Draft {
    url: String,
    description: String,
    kinds: Vec<EventKind>,
    channel: Option<Channel>,
    secret: SigningSecret,
}

impl Draft {
    pub(crate) fn check(
        scope: EventScope,
        allowed: &[AddressRange],
        url: &str,
        description: &str,
        kinds: Vec<String>,
        channel: Option<&str>,
        secret: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let url = check_target(&mut errors, url, allowed);
        let description = check_description(&mut errors, description);
        let kinds = check_kinds(&mut errors, kinds);
        let channel = check_channel(&mut errors, channel, scope);
        let secret = check_secret(&mut errors, secret);
        errors.finish()?;
        Ok(Self {
            url: url.unwrap_or_default(),
            description,
            kinds,
            channel,
            secret,
        })
    }
}

/// Files a subscription for `caller` (an administrator's sees every ticket, an integration's its
/// channel), starting with the events that happen from now on; answers it with its secret's text.
pub(crate) fn subscribe(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
    caller: &Caller,
    draft: Draft,
) -> Result<(Subscription, String), ApiError> {
    let scope = scope_of(caller)?;
    let owner = (caller.role() == Role::Integration).then(|| caller.id());
    if let Some(owner) = owner
        && subscriptions::list(conn, Some(owner))?.len() >= MAX_PER_INTEGRATION
    {
        return Err(ApiError::conflict(
            ProblemCode::InUse,
            format!("an integration keeps at most {MAX_PER_INTEGRATION} subscriptions"),
        ));
    }
    let subscription = Subscription {
        id: Uuid::now_v7(),
        url: draft.url,
        description: draft.description,
        kinds: draft.kinds,
        channel: draft.channel,
        owner_user_id: owner,
        scope,
        disabled_reason: None,
        created_by: caller.id(),
        created_at: now,
        updated_at: now,
    };
    let start = store::events::end(conn)?;
    subscriptions::insert(conn, &subscription, start)?;
    subscriptions::add_secret(conn, subscription.id, &draft.secret, now)?;
    audit::record(
        conn,
        &AuditEntry::new(caller.id(), AuditAction::WebhookCreated, now)
            .about(subscription.id)
            .with(serde_json::json!({ "url": subscription.url })),
    )?;
    Ok((subscription, draft.secret.to_text()))
}

/// `POST /api/v1/webhooks`: the subscription starts with the events that happen from now on.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateInput>,
) -> Result<Reply, ApiError> {
    let scope = scope_of(&caller)?;
    let allowed = state.webhook_targets.clone();
    let draft = body.validate(|input| {
        Draft::check(
            scope,
            &allowed,
            &input.url,
            &input.description,
            input.kinds,
            input.channel.as_deref(),
            input.secret.as_deref(),
        )
    })?;
    write(&state, &caller.clone(), None, move |conn, now| {
        let (subscription, secret) = subscribe(conn, now, &caller, draft)?;
        let location = format!("/api/v1/webhooks/{}", subscription.id);
        let view = CreatedView {
            view: SubscriptionView::load(conn, subscription)?,
            secret,
        };
        Reply::created(&view, location).map(Reply::not_cached)
    })
    .await
}

#[derive(Serialize)]
struct ListView {
    items: Vec<SubscriptionView>,
}

/// `GET /api/v1/webhooks`: every subscription for an administrator, an integration's own.
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let owner = (caller.role() == Role::Integration).then(|| caller.id());
    let items = read(&state, move |c| {
        subscriptions::list(c, owner)?
            .into_iter()
            .map(|s| SubscriptionView::load(c, s).map_err(ApiError::from))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(HttpResponse::Ok().json(ListView { items }))
}

/// `GET /api/v1/webhooks/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook subscription")?;
    let view = read(&state, move |c| {
        let subscription = owned(c, &caller, id)?;
        Ok(SubscriptionView::load(c, subscription)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    url: Option<String>,
    description: Option<String>,
    kinds: Option<Vec<String>>,
    /// A channel, or `null` for every channel the subscription may see.
    #[serde(default, deserialize_with = "present")]
    channel: Option<Option<String>>,
    /// `false` switches deliveries off; `true` switches them on again, with the events that
    /// happened meanwhile.
    enabled: Option<bool>,
}

/// A field that is there, even as `null`, is `Some`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `PATCH /api/v1/webhooks/{id}`.
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<UpdateInput>,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path, "webhook subscription")?;
    let input = body.into_inner()?;
    let allowed = state.webhook_targets.clone();
    write(&state, &caller.clone(), None, move |conn, now| {
        let mut subscription = owned(conn, &caller, id)?;
        let mut errors = ValidationErrors::new();
        if let Some(url) = &input.url
            && let Some(url) = check_target(&mut errors, url, &allowed)
        {
            subscription.url = url;
        }
        if let Some(description) = &input.description {
            subscription.description = check_description(&mut errors, description);
        }
        if let Some(kinds) = input.kinds {
            subscription.kinds = check_kinds(&mut errors, kinds);
        }
        if let Some(channel) = &input.channel {
            subscription.channel =
                check_channel(&mut errors, channel.as_deref(), subscription.scope);
        }
        errors.finish()?;
        if let Some(enabled) = input.enabled {
            switch(&mut subscription, enabled);
        }
        subscription.updated_at = now;
        save(conn, now, &caller, &subscription)?;
        Reply::ok(&SubscriptionView::load(conn, subscription)?)
    })
    .await
}

/// Switches deliveries on (with what happened meanwhile) or off.
fn switch(subscription: &mut Subscription, enabled: bool) {
    if enabled {
        subscription.disabled_reason = None;
    } else if subscription.active() {
        subscription.disabled_reason = Some("switched off by hand".to_owned());
    }
}

fn save(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
    caller: &Caller,
    subscription: &Subscription,
) -> Result<(), ApiError> {
    subscriptions::update(conn, subscription)?;
    audit::record(
        conn,
        &AuditEntry::new(caller.id(), AuditAction::WebhookUpdated, now)
            .about(subscription.id)
            .with(serde_json::json!({
                "url": subscription.url,
                "enabled": subscription.active(),
            })),
    )?;
    Ok(())
}

/// Switches a subscription's deliveries on or off.
pub(crate) fn set_enabled(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
    caller: &Caller,
    id: Uuid,
    enabled: bool,
) -> Result<(), ApiError> {
    let mut subscription = owned(conn, caller, id)?;
    switch(&mut subscription, enabled);
    subscription.updated_at = now;
    save(conn, now, caller, &subscription)
}

/// Ends a subscription; its delivery log stays.
pub(crate) fn end(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
    caller: &Caller,
    id: Uuid,
) -> Result<(), ApiError> {
    owned(conn, caller, id)?;
    subscriptions::delete(conn, id, now)?;
    audit::record(
        conn,
        &AuditEntry::new(caller.id(), AuditAction::WebhookDeleted, now).about(id),
    )?;
    Ok(())
}

/// Adds a secret that signs alongside those in force; answers it with its text.
pub(crate) fn add_secret_to(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
    caller: &Caller,
    id: Uuid,
    secret: SigningSecret,
) -> Result<(SecretInfo, String), ApiError> {
    owned(conn, caller, id)?;
    if subscriptions::secrets(conn, id)?.len() >= MAX_SECRETS {
        return Err(ApiError::conflict(
            ProblemCode::InUse,
            format!("a subscription holds at most {MAX_SECRETS} secrets: remove an old one first"),
        ));
    }
    let info = subscriptions::add_secret(conn, id, &secret, now)?;
    audit::record(
        conn,
        &AuditEntry::new(caller.id(), AuditAction::WebhookSecretAdded, now)
            .about(id)
            .with(serde_json::json!({ "secret_id": info.id })),
    )?;
    Ok((info, secret.to_text()))
}

/// Removes a secret, unless it is the last.
pub(crate) fn remove_secret_from(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
    caller: &Caller,
    id: Uuid,
    secret_id: Uuid,
) -> Result<(), ApiError> {
    owned(conn, caller, id)?;
    let secrets = subscriptions::secrets(conn, id)?;
    if !secrets.iter().any(|s| s.id == secret_id) {
        return Err(ApiError::not_found(format!("no secret {secret_id}")));
    }
    if secrets.len() == 1 {
        return Err(ApiError::conflict(
            ProblemCode::LastSecret,
            "a subscription keeps at least one secret: add the new one first",
        ));
    }
    subscriptions::remove_secret(conn, id, secret_id)?;
    audit::record(
        conn,
        &AuditEntry::new(caller.id(), AuditAction::WebhookSecretRemoved, now)
            .about(id)
            .with(serde_json::json!({ "secret_id": secret_id })),
    )?;
    Ok(())
}

/// Puts a delivery that is not waiting back in line.
pub(crate) fn send_again(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
    caller: &Caller,
    id: Uuid,
    delivery_id: i64,
) -> Result<crate::domain::webhook::Delivery, ApiError> {
    owned(conn, caller, id)?;
    found(
        subscriptions::delivery(conn, id, delivery_id),
        "delivery",
        delivery_id,
    )?;
    if !subscriptions::redeliver(conn, id, delivery_id, now)? {
        return Err(ApiError::conflict(
            ProblemCode::DeliveryPending,
            "the delivery is waiting to be sent already",
        ));
    }
    audit::record(
        conn,
        &AuditEntry::new(caller.id(), AuditAction::WebhookRedelivered, now)
            .about(id)
            .with(serde_json::json!({ "delivery_id": delivery_id })),
    )?;
    Ok(subscriptions::delivery(conn, id, delivery_id)?)
}

/// `DELETE /api/v1/webhooks/{id}`: nothing more is sent; the delivery log stays.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook subscription")?;
    write(&state, &caller.clone(), None, move |conn, now| {
        end(conn, now, &caller, id)?;
        Reply::ok(&serde_json::json!({}))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SecretInput {
    secret: Option<String>,
}

/// `POST /api/v1/webhooks/{id}/secrets`: another secret, which signs alongside the ones in
/// force until they are removed.
pub async fn add_secret(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<SecretInput>,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path, "webhook subscription")?;
    let secret = body.validate(|input| {
        let mut errors = ValidationErrors::new();
        let secret = check_secret(&mut errors, input.secret.as_deref());
        errors.finish()?;
        Ok(secret)
    })?;
    write(&state, &caller.clone(), None, move |conn, now| {
        let (info, secret) = add_secret_to(conn, now, &caller, id, secret)?;
        let location = format!("/api/v1/webhooks/{id}/secrets/{}", info.id);
        Reply::created(&SecretView { info, secret }, location).map(Reply::not_cached)
    })
    .await
}

/// `DELETE /api/v1/webhooks/{id}/secrets/{secret_id}`: the last secret stays, since a
/// delivery is always signed.
pub async fn remove_secret(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path.0, "webhook subscription")?;
    let secret_id = parse_id(&path.1, "secret")?;
    write(&state, &caller.clone(), None, move |conn, now| {
        remove_secret_from(conn, now, &caller, id, secret_id)?;
        Reply::ok(&serde_json::json!({}))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    status: Option<DeliveryStatus>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the delivery log, newest first.
pub async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    Query(params): Query<DeliveryParams>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path, "webhook subscription")?;
    let paging = PageParams::new(params.limit, params.cursor);
    let before: Option<i64> = paging.after()?;
    let fetch = paging.fetch()?;
    let page = read(&state, move |c| {
        owned(c, &caller, id)?;
        let rows = subscriptions::deliveries(c, id, params.status, before, fetch)?;
        paging.page(rows, |d| d.id, |d| d)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver`: a dead (or delivered)
/// delivery goes back in line, first among the subscription's waiting ones, with its attempts
/// counted afresh.
pub async fn redeliver(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path.0, "webhook subscription")?;
    let delivery_id: i64 = path
        .1
        .parse()
        .map_err(|_| ApiError::not_found(format!("no delivery {}", path.1)))?;
    write(&state, &caller.clone(), None, move |conn, now| {
        Reply::ok(&send_again(conn, now, &caller, id, delivery_id)?)
    })
    .await
}
