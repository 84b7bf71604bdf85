//! What a ticket's page lets its viewer do, and the forms that do it. What is offered is what
//! the lifecycle's rules accept from the viewer in the ticket's state ([`allows`]); what a form
//! does goes through the API's own path (`api::lifecycle::act`: scope, lock, version, decide,
//! save with its event), so that a page never does what the API would refuse.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use uuid::Uuid;

use super::ConsoleError;
use super::session::{Signed, check_form_token};
use crate::api::lifecycle::{act, units_checked};
use crate::api::{AppState, Caller};
use crate::domain::lifecycle::{Command, Context, Lifecycle, allows};
use crate::error::ApiError;

/// An action a ticket's page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Dispatch,
    Sign,
    Return,
}

impl Offer {
    const ALL: [Offer; 3] = [Offer::Dispatch, Offer::Sign, Offer::Return];

    /// The last segment of the form's address.
    pub fn path(self) -> &'static str {
        match self {
            Offer::Dispatch => "dispatch",
            Offer::Sign => "sign",
            Offer::Return => "return",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Offer::Dispatch => "派单",
            Offer::Sign => "签收",
            Offer::Return => "退回",
        }
    }

    /// Whether the form picks the units to dispatch to.
    pub fn picks_units(self) -> bool {
        matches!(self, Offer::Dispatch)
    }

    /// Whether the form asks why.
    pub fn asks_reason(self) -> bool {
        matches!(self, Offer::Return)
    }

    fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|offer| offer.path() == path)
    }

    /// The command the form sends.
    fn command(self, form: &ActionForm) -> Result<Command, ApiError> {
        Ok(match self {
            Offer::Dispatch => {
                let primary = form.primary_unit_id.ok_or_else(|| {
                    ApiError::invalid_field("primary_unit_id", "choose the primary unit")
                })?;
                let note = Some(form.note.trim()).filter(|n| !n.is_empty());
                Command::dispatch(primary, form.assisting_unit_ids.clone(), false, note)
                    .map_err(ApiError::validation)?
            }
            Offer::Sign => Command::Sign,
            Offer::Return => Command::hand_back(&form.reason).map_err(ApiError::validation)?,
        })
    }

    /// The command the rules are asked about before the form is shown: a reason stands for
    /// the one the form will ask.
    fn trial(self) -> Command {
        match self {
            Offer::Dispatch => Command::Dispatch {
                primary_unit_id: Uuid::nil(),
                assisting_unit_ids: Vec::new(),
                forced: false,
                note: None,
            },
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

/// What an action's form sends. Read from the form's pairs, since a form repeats a name for
/// each unit picked in a list.
#[derive(Debug, Default)]
pub struct ActionForm {
    /// Missing: refused as a wrong one is.
    csrf: String,
    /// The ticket's version the page showed: a ticket that moved on since is not acted on.
    version: Option<i64>,
    reason: String,
    note: String,
    primary_unit_id: Option<Uuid>,
    assisting_unit_ids: Vec<Uuid>,
}

impl ActionForm {
    fn read(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let mut form = ActionForm::default();
        let unit = |value: &str, field: &str| {
            Uuid::parse_str(value).map_err(|_| ApiError::invalid_field(field, "is not a unit"))
        };
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => form.csrf = value,
                "version" => {
                    form.version = Some(
                        value
                            .parse()
                            .map_err(|_| ApiError::invalid_field("version", "is not a version"))?,
                    )
                }
                "reason" => form.reason = value,
                "note" => form.note = value,
                "primary_unit_id" if !value.is_empty() => {
                    form.primary_unit_id = Some(unit(&value, "primary_unit_id")?)
                }
                "assisting_unit_ids" => form
                    .assisting_unit_ids
                    .push(unit(&value, "assisting_unit_ids")?),
                _ => {}
            }
        }
        Ok(form)
    }
}

/// `POST /tickets/{id}/{action}` for each [`Offer`]: done, the browser goes back to the
/// ticket's page.
pub async fn perform(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<(String, String)>,
    pairs: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    let form = ActionForm::read(pairs.into_inner())?;
    check_form_token(&form.csrf, &signed.form_token)?;
    let (ticket, action) = path.into_inner();
    let offer = Offer::from_path(&action)
        .ok_or_else(|| ApiError::not_found(format!("no action {action}")))?;
    let version = form
        .version
        .ok_or_else(|| ApiError::invalid_field("version", "is required"))?;
    let command = offer.command(&form)?;
    let caller = Caller { user: signed.user };
    let prepare = units_checked(command);
    act(&state, &caller, &ticket, Some(version), None, prepare).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/tickets/{ticket}")))
        .finish())
}
