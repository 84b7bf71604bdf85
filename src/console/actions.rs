//! What a ticket's page lets its viewer do, and the forms that do it. What is offered is what
//! the lifecycle's rules accept from the viewer in the ticket's state ([`allows`]); what a form
//! does goes through the API's own path (`api::lifecycle::act`: scope, lock, version, decide,
//! save with its event), so that a page never does what the API would refuse.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::ConsoleError;
use super::session::{Signed, check_form_token};
use crate::api::lifecycle::{act, ready};
use crate::api::{AppState, Caller};
use crate::domain::lifecycle::{Command, Context, Lifecycle, allows};
use crate::error::ApiError;

/// An action a ticket's page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Sign,
    Return,
}

impl Offer {
    const ALL: [Offer; 2] = [Offer::Sign, Offer::Return];

    /// The last segment of the form's address.
    pub fn path(self) -> &'static str {
        match self {
            Offer::Sign => "sign",
            Offer::Return => "return",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Offer::Sign => "签收",
            Offer::Return => "退回",
        }
    }

    /// Whether the form asks why.
    pub fn asks_reason(self) -> bool {
        matches!(self, Offer::Return)
    }

    fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|offer| offer.path() == path)
    }

    /// The command the form sends.
    fn command(self, reason: &str) -> Result<Command, ApiError> {
        Ok(match self {
            Offer::Sign => Command::Sign,
            Offer::Return => Command::hand_back(reason).map_err(ApiError::validation)?,
        })
    }

    /// The command the rules are asked about before the form is shown: a reason stands for
    /// the one the form will ask.
    fn trial(self) -> Command {
        match self {
            Offer::Sign => Command::Sign,
            Offer::Return => Command::Return {
                reason: "—".to_owned(),
            },
        }
    }
}

/// The actions the rules accept from the viewer now.
pub fn offers(state: &Lifecycle, context: &Context<'_>) -> Vec<Offer> {
    Offer::ALL
        .into_iter()
        .filter(|offer| allows(state, offer.trial(), context))
        .collect()
}

#[derive(Deserialize)]
pub struct ActionForm {
    /// Missing: refused as a wrong one is.
    #[serde(default)]
    csrf: String,
    /// The ticket's version the page showed: a ticket that moved on since is not acted on.
    version: i64,
    #[serde(default)]
    reason: String,
}

/// `POST /tickets/{id}/sign`, `POST /tickets/{id}/return`: done, the browser goes back to the
/// ticket's page.
pub async fn perform(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let (ticket, action) = path.into_inner();
    let offer = Offer::from_path(&action)
        .ok_or_else(|| ApiError::not_found(format!("no action {action}")))?;
    let command = offer.command(&form.reason)?;
    let caller = Caller { user: signed.user };
    act(
        &state,
        &caller,
        &ticket,
        Some(form.version),
        None,
        ready(command),
    )
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/tickets/{ticket}")))
        .finish())
}
