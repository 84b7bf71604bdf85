//! What a ticket's page lets its viewer do, and the forms that do it. What is offered is what
//! the lifecycle's rules accept from the viewer in the ticket's state ([`allows`]); what a form
//! does goes through the API's own path (`api::lifecycle::act`: scope, lock, version, decide,
//! save with its event), so that a page never does what the API would refuse.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use uuid::Uuid;

use super::ConsoleError;
use super::session::{Signed, check_form_token};
use crate::api::attachments::{keep_evidence, may_attach, read_field, unreadable_form};
use crate::api::lifecycle::{
    MergeTarget, act, citations_checked, evidence_checked, forwarded_to, merged_into, units_checked,
};
use crate::api::{AppState, Caller, parse_id};
use crate::domain::evidence;
use crate::domain::lifecycle::{
    Command, ContactMethod, ContactRecord, Context, Lifecycle, Reached, ReplyContent, ReplyResult,
    ReviewDecision, Satisfaction, SupervisionStatus, allows,
};
use crate::error::ApiError;

/// An action a ticket's page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// 直办: answered by the office itself.
    Answer,
    Dispatch,
    Sign,
    Reply,
    /// An assisting unit's opinion (协办意见).
    Opinion,
    RequestExtension,
    Return,
    Review,
    DecideExtension,
    DecideReturn,
    Callback,
    Urge,
    Recall,
    Pause,
    Resume,
    /// A duplicate goes into the ticket it repeats.
    Merge,
    Invalidate,
    /// 督办: a supervisor puts a unit under supervision for the ticket.
    Supervise,
    CloseSupervision,
    Reopen,
    /// 二级转办: a unit hands its assignment to one of its own sub-units.
    Forward,
}

impl Offer {
    const ALL: [Offer; 21] = [
        Offer::Answer,
        Offer::Dispatch,
        Offer::Sign,
        Offer::Reply,
        Offer::Opinion,
        Offer::RequestExtension,
        Offer::Return,
        Offer::Review,
        Offer::DecideExtension,
        Offer::DecideReturn,
        Offer::Callback,
        Offer::Urge,
        Offer::Recall,
        Offer::Pause,
        Offer::Resume,
        Offer::Merge,
        Offer::Invalidate,
        Offer::Supervise,
        Offer::CloseSupervision,
        Offer::Reopen,
        Offer::Forward,
    ];

    /// The last segment of the form's address.
    pub fn path(self) -> &'static str {
        match self {
            Offer::Answer => "answer",
            Offer::Dispatch => "dispatch",
            Offer::Sign => "sign",
            Offer::Reply => "reply",
            Offer::Opinion => "opinion",
            Offer::RequestExtension => "request-extension",
            Offer::Return => "return",
            Offer::Review => "review",
            Offer::DecideExtension => "decide-extension",
            Offer::DecideReturn => "decide-return",
            Offer::Callback => "callback",
            Offer::Urge => "urge",
            Offer::Recall => "recall",
            Offer::Pause => "pause",
            Offer::Resume => "resume",
            Offer::Merge => "merge",
            Offer::Invalidate => "invalidate",
            Offer::Supervise => "supervise",
            Offer::CloseSupervision => "close-supervision",
            Offer::Reopen => "reopen",
            Offer::Forward => "forward",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Offer::Answer => "直接答复",
            Offer::Dispatch => "派单",
            Offer::Sign => "签收",
            Offer::Reply => "办结答复",
            Offer::Opinion => "协办意见",
            Offer::RequestExtension => "申请延期",
            Offer::Return => "退回",
            Offer::Review => "审核答复",
            Offer::DecideExtension => "审批延期",
            Offer::DecideReturn => "审核退单",
            Offer::Callback => "回访",
            Offer::Urge => "催办",
            Offer::Recall => "撤回",
            Offer::Pause => "挂起",
            Offer::Resume => "恢复计时",
            Offer::Merge => "合并重复件",
            Offer::Invalidate => "作废",
            Offer::Supervise => "督办",
            Offer::CloseSupervision => "结束督办",
            Offer::Reopen => "重新办理",
            Offer::Forward => "转下级单位",
        }
    }

    /// Whether the form picks the units to dispatch to.
    pub fn picks_units(self) -> bool {
        matches!(self, Offer::Dispatch)
    }

    /// Whether the form asks why, and must be told.
    pub fn asks_reason(self) -> bool {
        matches!(
            self,
            Offer::Return
                | Offer::Recall
                | Offer::Pause
                | Offer::Invalidate
                | Offer::Reopen
                | Offer::RequestExtension
                | Offer::Supervise
        )
    }

    /// Whether the form names the ticket a duplicate goes into.
    pub fn asks_original(self) -> bool {
        matches!(self, Offer::Merge)
    }

    /// Whether the form picks one of the viewer's sub-units (二级转办).
    pub fn asks_sub_unit(self) -> bool {
        matches!(self, Offer::Forward)
    }

    /// Whether the form picks a unit of the ticket and a deadline (督办).
    pub fn asks_supervision(self) -> bool {
        matches!(self, Offer::Supervise)
    }

    /// Whether the form closes the supervision the page shows, with its outcome.
    pub fn asks_outcome(self) -> bool {
        matches!(self, Offer::CloseSupervision)
    }

    /// Whether the form asks for a text written to the citizen or the office.
    pub fn asks_text(self) -> bool {
        matches!(self, Offer::Answer | Offer::Reply | Offer::Opinion)
    }

    /// Whether the form asks for a new due time.
    pub fn asks_due(self) -> bool {
        matches!(self, Offer::RequestExtension)
    }

    /// For a decision, what accepting and refusing are called.
    pub fn choices(self) -> Option<(&'static str, &'static str)> {
        match self {
            Offer::Review => Some(("通过", "退回重办")),
            Offer::DecideExtension => Some(("同意延期", "不同意")),
            Offer::DecideReturn => Some(("同意退回", "不同意，继续办理")),
            _ => None,
        }
    }

    /// Whether the form decides the extension request the page shows.
    pub fn is_decide_extension(self) -> bool {
        matches!(self, Offer::DecideExtension)
    }

    /// Whether the form records how the unit reached the citizen.
    pub fn asks_contact(self) -> bool {
        matches!(self, Offer::Reply)
    }

    /// Whether the form records a callback.
    pub fn asks_callback(self) -> bool {
        matches!(self, Offer::Callback)
    }

    /// Whether the form carries evidence files, photos above all.
    pub fn carries_files(self) -> bool {
        matches!(self, Offer::Reply | Offer::Opinion)
    }

    /// Whether the form asks for an optional note.
    pub fn asks_note(self) -> bool {
        matches!(self, Offer::Dispatch | Offer::Urge | Offer::Forward)
    }

    /// The usual choice, styled as the page's main button.
    pub fn primary(self) -> bool {
        matches!(
            self,
            Offer::Dispatch | Offer::Sign | Offer::Reply | Offer::Review | Offer::Callback
        )
    }

    fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|offer| offer.path() == path)
    }

    /// The command the rules are asked about before the form is shown: a reason stands for
    /// the one the form will ask, a due time for the one the unit will choose.
    fn trial(self, state: &Lifecycle) -> Option<Command> {
        let reason = || "—".to_owned();
        Some(match self {
            Offer::Answer => Command::Answer {
                text: reason(),
                article_ids: Vec::new(),
            },
            Offer::Dispatch => Command::Dispatch {
                primary_unit_id: Uuid::nil(),
                assisting_unit_ids: Vec::new(),
                forced: false,
                note: None,
            },
            Offer::Sign => Command::Sign,
            Offer::Reply => Command::Reply {
                result: ReplyResult::Resolved,
                content: ReplyContent {
                    text: reason(),
                    contact: Some(ContactRecord::Impossible { reason: reason() }),
                    attachment_ids: Vec::new(),
                },
            },
            Offer::Opinion => Command::AddOpinion {
                content: ReplyContent {
                    text: reason(),
                    contact: None,
                    attachment_ids: Vec::new(),
                },
            },
            Offer::RequestExtension => Command::RequestExtension {
                due_at: DateTime::<Utc>::MAX_UTC,
                reason: reason(),
            },
            Offer::Return => Command::Return { reason: reason() },
            Offer::Review => Command::Review {
                accept: true,
                comment: None,
                due_at: None,
            },
            Offer::DecideExtension => Command::ApproveExtension {
                request_id: state.pending_extension()?.id,
                note: None,
            },
            Offer::DecideReturn => Command::DecideReturn {
                accept: true,
                reason: None,
            },
            Offer::Callback => Command::Callback {
                reached: false,
                satisfaction: None,
                resolved: None,
                comment: None,
                reopen: false,
            },
            Offer::Urge => Command::Urge {
                assignment_id: None,
                note: None,
            },
            Offer::Recall => Command::Recall {
                reason: reason(),
                reassign_to: None,
            },
            Offer::Pause => Command::Pause { reason: reason() },
            Offer::Resume => Command::Resume,
            // Whether the ticket may be merged at all: into one that is not found, it is not.
            Offer::Merge => Command::Merge {
                into: Some((Uuid::nil(), true)),
            },
            Offer::Invalidate => Command::Invalidate { reason: reason() },
            Offer::Supervise => Command::Supervise {
                unit_id: state.assignments.last()?.unit_id,
                reason: reason(),
                deadline: DateTime::<Utc>::MAX_UTC,
            },
            Offer::CloseSupervision => Command::CloseSupervision {
                supervision_id: open_supervision(state)?,
                outcome: reason(),
            },
            Offer::Reopen => Command::Reopen { reason: reason() },
            // Whether the ticket may be forwarded at all: to a sub-unit, it may.
            Offer::Forward => Command::Forward {
                to: Some((Uuid::nil(), true)),
                note: None,
            },
        })
    }

    /// The command the form sends.
    fn command(self, form: &ActionForm, state_of: Tz) -> Result<Command, ApiError> {
        let optional = |text: &str| {
            Some(text.trim())
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let accept = || match form.decision.as_str() {
            "accept" => Ok(true),
            "refuse" => Ok(false),
            _ => Err(ApiError::invalid_field("decision", "choose a decision")),
        };
        let invalid = ApiError::validation;
        Ok(match self {
            Offer::Answer => Command::answer(&form.text, &form.article_ids).map_err(invalid)?,
            Offer::Dispatch => {
                let primary = form.primary_unit_id.ok_or_else(|| {
                    ApiError::invalid_field("primary_unit_id", "choose the primary unit")
                })?;
                let note = optional(&form.note);
                Command::dispatch(
                    primary,
                    form.assisting_unit_ids.clone(),
                    false,
                    note.as_deref(),
                )
                .map_err(invalid)?
            }
            Offer::Sign => Command::Sign,
            Offer::Reply => {
                let result: ReplyResult = form
                    .result
                    .parse()
                    .map_err(|_| ApiError::invalid_field("result", "choose the result"))?;
                let no_contact = optional(&form.no_contact_reason);
                let reached = match no_contact {
                    Some(_) => None,
                    None => Some(Reached {
                        at: local_time(&form.contacted_at, "contacted_at", state_of)?,
                        method: form
                            .contact_method
                            .parse::<ContactMethod>()
                            .map_err(|_| ApiError::invalid_field("contact_method", "choose how"))?,
                        outcome: &form.contact_outcome,
                    }),
                };
                Command::reply(
                    result,
                    &form.text,
                    reached,
                    no_contact.as_deref(),
                    form.attachment_ids.clone(),
                )
                .map_err(invalid)?
            }
            Offer::Opinion => {
                Command::opinion(&form.text, form.attachment_ids.clone()).map_err(invalid)?
            }
            Offer::RequestExtension => Command::request_extension(
                local_time(&form.due_at, "due_at", state_of)?,
                &form.reason,
            )
            .map_err(invalid)?,
            Offer::Return => Command::hand_back(&form.reason).map_err(invalid)?,
            Offer::Review => {
                let decision = if accept()? {
                    ReviewDecision::Accept
                } else {
                    ReviewDecision::Reject
                };
                Command::review(decision, optional(&form.comment).as_deref(), None)
                    .map_err(invalid)?
            }
            Offer::DecideExtension => {
                let request = form
                    .request_id
                    .ok_or_else(|| ApiError::invalid_field("request_id", "is required"))?;
                let note = optional(&form.comment);
                if accept()? {
                    Command::approve_extension(request, note.as_deref())
                } else {
                    Command::reject_extension(request, note.as_deref())
                }
                .map_err(invalid)?
            }
            Offer::DecideReturn => {
                Command::decide_return(accept()?, optional(&form.comment).as_deref())
                    .map_err(invalid)?
            }
            Offer::Callback => {
                let reached = form.reached == "yes";
                let satisfaction = match optional(&form.satisfaction) {
                    Some(s) => Some(s.parse::<Satisfaction>().map_err(|_| {
                        ApiError::invalid_field("satisfaction", "is not a satisfaction")
                    })?),
                    None => None,
                };
                let resolved = match form.resolved.as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                };
                Command::callback(
                    reached,
                    satisfaction,
                    resolved,
                    optional(&form.comment).as_deref(),
                    form.reopen,
                )
                .map_err(invalid)?
            }
            Offer::Urge => Command::urge(None, optional(&form.note).as_deref()).map_err(invalid)?,
            Offer::Recall => Command::recall(&form.reason, None).map_err(invalid)?,
            Offer::Pause => Command::pause(&form.reason).map_err(invalid)?,
            Offer::Resume => Command::Resume,
            // Decided once the ticket it goes into is found (see `merged_into`).
            Offer::Merge => Command::Merge { into: None },
            Offer::Invalidate => Command::invalidate(&form.reason).map_err(invalid)?,
            Offer::Supervise => Command::supervise(
                form.unit_id
                    .ok_or_else(|| ApiError::invalid_field("unit_id", "choose the unit"))?,
                &form.reason,
                local_time(&form.deadline, "deadline", state_of)?,
            )
            .map_err(invalid)?,
            Offer::CloseSupervision => Command::close_supervision(
                form.supervision_id
                    .ok_or_else(|| ApiError::invalid_field("supervision_id", "is required"))?,
                &form.outcome,
            )
            .map_err(invalid)?,
            Offer::Reopen => Command::reopen(&form.reason).map_err(invalid)?,
            // Placed in the unit tree once the ticket is locked (see `forwarded_to`).
            Offer::Forward => {
                Command::forward(None, optional(&form.note).as_deref()).map_err(invalid)?
            }
        })
    }
}

/// The first supervision of the ticket still open.
pub fn open_supervision(state: &Lifecycle) -> Option<Uuid> {
    state
        .supervisions
        .iter()
        .find(|s| s.status == SupervisionStatus::Open)
        .map(|s| s.id)
}

/// A time as a `datetime-local` field writes it, read in the hotline's time zone.
fn local_time(value: &str, field: &str, timezone: Tz) -> Result<DateTime<Utc>, ApiError> {
    let wrong = || ApiError::invalid_field(field, "is not a date and time");
    let naive =
        NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M").map_err(|_| wrong())?;
    timezone
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(wrong)
}

/// The actions the rules accept from the viewer now.
pub fn offers(state: &Lifecycle, context: &Context<'_>) -> Vec<Offer> {
    Offer::ALL
        .into_iter()
        .filter(|offer| {
            offer
                .trial(state)
                .is_some_and(|command| allows(state, command, context))
        })
        .collect()
}

/// What an action's form sends. Read from the form's pairs, since a form repeats a name for
/// each unit picked in a list and each article cited.
#[derive(Debug, Default)]
pub struct ActionForm {
    /// Missing: refused as a wrong one is.
    csrf: String,
    /// The ticket's version the page showed: a ticket that moved on since is not acted on.
    version: Option<i64>,
    reason: String,
    note: String,
    text: String,
    comment: String,
    decision: String,
    primary_unit_id: Option<Uuid>,
    assisting_unit_ids: Vec<Uuid>,
    article_ids: Vec<Uuid>,
    request_id: Option<Uuid>,
    due_at: String,
    result: String,
    contacted_at: String,
    contact_method: String,
    contact_outcome: String,
    no_contact_reason: String,
    reached: String,
    satisfaction: String,
    resolved: String,
    reopen: bool,
    into_number: String,
    unit_id: Option<Uuid>,
    deadline: String,
    supervision_id: Option<Uuid>,
    outcome: String,
    /// Evidence stored from the form's files, named in the reply.
    attachment_ids: Vec<Uuid>,
}

impl ActionForm {
    fn take(&mut self, name: &str, value: String) -> Result<(), ApiError> {
        let id = |value: &str, field: &str| {
            Uuid::parse_str(value).map_err(|_| ApiError::invalid_field(field, "is not an id"))
        };
        match name {
            "csrf" => self.csrf = value,
            "version" => {
                self.version = Some(
                    value
                        .parse()
                        .map_err(|_| ApiError::invalid_field("version", "is not a version"))?,
                )
            }
            "reason" => self.reason = value,
            "note" => self.note = value,
            "text" => self.text = value,
            "comment" => self.comment = value,
            "decision" => self.decision = value,
            "primary_unit_id" if !value.is_empty() => {
                self.primary_unit_id = Some(id(&value, "primary_unit_id")?)
            }
            "assisting_unit_ids" => self
                .assisting_unit_ids
                .push(id(&value, "assisting_unit_ids")?),
            "article_ids" => self.article_ids.push(id(&value, "article_ids")?),
            "request_id" => self.request_id = Some(id(&value, "request_id")?),
            "due_at" => self.due_at = value,
            "result" => self.result = value,
            "contacted_at" => self.contacted_at = value,
            "contact_method" => self.contact_method = value,
            "contact_outcome" => self.contact_outcome = value,
            "no_contact_reason" => self.no_contact_reason = value,
            "reached" => self.reached = value,
            "satisfaction" => self.satisfaction = value,
            "resolved" => self.resolved = value,
            "reopen" => self.reopen = true,
            "into_number" => self.into_number = value,
            "unit_id" if !value.is_empty() => self.unit_id = Some(id(&value, "unit_id")?),
            "deadline" => self.deadline = value,
            "supervision_id" => self.supervision_id = Some(id(&value, "supervision_id")?),
            "outcome" => self.outcome = value,
            _ => {}
        }
        Ok(())
    }

    fn read(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let mut form = ActionForm::default();
        for (name, value) in pairs {
            form.take(&name, value)?;
        }
        Ok(form)
    }
}

/// `POST /tickets/{id}/{action}` for each [`Offer`] without files: done, the browser goes back
/// to the ticket's page.
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
        .filter(|offer| !offer.carries_files())
        .ok_or_else(|| ApiError::not_found(format!("no action {action}")))?;
    let caller = Caller { user: signed.user };
    done(&state, &caller, &ticket, offer, &form).await
}

/// Runs the offer's command through the API's path and sends the browser back to the ticket.
async fn done(
    state: &web::Data<AppState>,
    caller: &Caller,
    ticket: &str,
    offer: Offer,
    form: &ActionForm,
) -> Result<HttpResponse, ConsoleError> {
    let version = form
        .version
        .ok_or_else(|| ApiError::invalid_field("version", "is required"))?;
    let timezone = state.numbering.timezone;
    let command = offer.command(form, timezone)?;
    let today = state.today();
    let unit = caller.unit_id();
    match offer {
        Offer::Dispatch => {
            act(
                state,
                caller,
                ticket,
                Some(version),
                None,
                units_checked(command),
            )
            .await?
        }
        Offer::Answer => {
            let prepare = citations_checked(command, today);
            act(state, caller, ticket, Some(version), None, prepare).await?
        }
        Offer::Reply | Offer::Opinion => {
            let prepare = evidence_checked(command, unit);
            act(state, caller, ticket, Some(version), None, prepare).await?
        }
        Offer::Forward => {
            let to = form
                .unit_id
                .ok_or_else(|| ApiError::invalid_field("unit_id", "choose the sub-unit"))?;
            let prepare = forwarded_to(to, unit, command);
            act(state, caller, ticket, Some(version), None, prepare).await?
        }
        Offer::Merge => {
            let number = form.into_number.trim();
            if number.is_empty() {
                return Err(ApiError::invalid_field(
                    "into_number",
                    "name the ticket it repeats by its number",
                )
                .into());
            }
            let target = MergeTarget::Number(number.to_owned());
            let prepare = merged_into(target, caller.ticket_scope()?, caller.actor());
            act(state, caller, ticket, Some(version), None, prepare).await?
        }
        _ => {
            let prepare = crate::api::lifecycle::ready(command);
            act(state, caller, ticket, Some(version), None, prepare).await?
        }
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/tickets/{ticket}")))
        .finish())
}

/// The most files one reply or opinion carries from the page.
const FILES_MAX: usize = 10;
/// The most a text field of a form with files may hold.
const FIELD_MAX: usize = 64 * 1024;

/// `POST /tickets/{id}/reply` and `/opinion`: the form carries its photos (taken with the
/// phone's camera in the field) with it. The token is checked before any file is kept; each
/// file is stored as the API's upload stores it, then named in the reply.
pub async fn perform_with_files(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<(String, String)>,
    mut multipart: Multipart,
) -> Result<HttpResponse, ConsoleError> {
    let (ticket, action) = path.into_inner();
    let offer = Offer::from_path(&action)
        .filter(|offer| offer.carries_files())
        .ok_or_else(|| ApiError::not_found(format!("no action {action}")))?;
    let id = parse_id(&ticket, "ticket")?;
    let limit = state.attachment_max_bytes;
    let mut form = ActionForm::default();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(field) = multipart.next().await {
        let field = field.map_err(unreadable_form)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "files" {
            let file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .map(str::to_owned);
            let bytes = read_field(field, limit).await?;
            // A file input left empty still sends its part, nameless and empty.
            if file_name.as_deref().is_some_and(|n| !n.is_empty()) || !bytes.is_empty() {
                if files.len() == FILES_MAX {
                    return Err(ApiError::invalid_field(
                        "files",
                        format!("at most {FILES_MAX} files"),
                    )
                    .into());
                }
                files.push((evidence::file_name(file_name.as_deref()), bytes));
            }
        } else {
            let bytes = read_field(field, FIELD_MAX).await?;
            let value = String::from_utf8(bytes)
                .map_err(|_| ApiError::invalid_field(&name, "is not text"))?;
            form.take(&name, value)?;
        }
    }
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = Caller { user: signed.user };
    // Checked before any file is kept, so that a wrong form leaves nothing behind.
    offer.command(&form, state.numbering.timezone)?;
    if !files.is_empty() {
        may_attach(&state, &caller, id).await?;
    }
    for (file_name, bytes) in files {
        let kept = keep_evidence(&state, &caller, id, file_name, bytes).await?;
        form.attachment_ids.push(kept.id);
    }
    done(&state, &caller, &ticket, offer, &form).await
}
