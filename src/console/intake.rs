//! Taking a call: the intake form an agent fills while the citizen is on the line, and the
//! panels beside it that the form asks for as the agent types — the caller's earlier tickets
//! (looked up, and audited, as the API does it), the open tickets the call may repeat, and the
//! knowledge base's answers. The call is registered for dispatch, or answered on the spot
//! citing the articles used.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::session::{Signed, check_form_token};
use super::{Chrome, ConsoleError, render};
use crate::api::knowledge::answers_for;
use crate::api::lifecycle::{act, citations_checked};
use crate::api::tickets::{DuplicateParams, duplicates_of, look_up_caller, register_draft};
use crate::api::{AppState, Caller, read};
use crate::domain::access::Permission;
use crate::domain::directory::UnitKind;
use crate::domain::lifecycle::Command;
use crate::domain::search::Snippet;
use crate::domain::ticket::{Priority, RegistrationInput, TicketDraft, TicketType};
use crate::error::ApiError;
use crate::reports::labels;
use crate::store;
use crate::store::units::UnitFilter;

/// How many townships an intake form lists for the area.
const AREAS_LISTED: i64 = 500;
/// How many articles the answer panel shows.
const ANSWERS_SHOWN: i64 = 8;

/// A choice in one of the form's lists.
#[derive(Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "console/intake.html")]
struct IntakePage {
    chrome: Chrome,
    form_token: String,
    types: Vec<Choice>,
    priorities: Vec<Choice>,
    /// The active channels, the phone first: most calls are calls.
    channels: Vec<Choice>,
    categories: Vec<String>,
    areas: Vec<Choice>,
}

/// The caller may take calls; anyone else is told so.
fn taking_calls(signed: Signed) -> Result<Caller, ConsoleError> {
    let caller = Caller { user: signed.user };
    caller.require(Permission::RegisterTicket)?;
    Ok(caller)
}

/// `GET /intake`.
pub async fn form(
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ConsoleError> {
    let chrome = Chrome::of(&state, signed.person());
    let form_token = signed.form_token.clone();
    taking_calls(signed)?;
    let (categories, areas, channels) = read(&state, |c| {
        let mut categories: Vec<String> = store::categories::full_names(c)?.into_values().collect();
        categories.sort();
        let filter = UnitFilter {
            kind: Some(UnitKind::Township),
            active: Some(true),
            ..UnitFilter::default()
        };
        let areas = store::units::list(c, &filter, None, AREAS_LISTED)?;
        let mut channels: Vec<_> = store::channels::all(c)?
            .into_iter()
            .filter(|channel| channel.active)
            .collect();
        channels.sort_by_key(|channel| channel.code != "phone");
        Ok((categories, areas, channels))
    })
    .await?;
    render(
        HttpResponse::Ok(),
        &IntakePage {
            chrome,
            form_token,
            types: TicketType::ALL
                .iter()
                .map(|t| Choice {
                    value: t.as_str().to_owned(),
                    label: labels::ticket_type(*t).to_owned(),
                })
                .collect(),
            priorities: Priority::ALL
                .iter()
                .map(|p| Choice {
                    value: p.as_str().to_owned(),
                    label: labels::priority(*p).to_owned(),
                })
                .collect(),
            channels: channels
                .into_iter()
                .map(|channel| Choice {
                    value: channel.code,
                    label: channel.name,
                })
                .collect(),
            categories,
            areas: areas
                .into_iter()
                .map(|u| Choice {
                    value: u.id.to_string(),
                    label: u.name,
                })
                .collect(),
        },
    )
}

/// What happens once the call is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Registered, waiting for dispatch.
    Dispatch,
    /// Answered on the spot (直办).
    Answer,
}

/// What the intake form sends, read from its pairs (an answer cites several articles).
#[derive(Default)]
struct IntakeForm {
    csrf: String,
    fields: HashMap<String, String>,
    article_ids: Vec<Uuid>,
    then: Option<Then>,
}

impl IntakeForm {
    fn read(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let mut form = IntakeForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => form.csrf = value,
                "article_ids" => form
                    .article_ids
                    .push(Uuid::parse_str(&value).map_err(|_| {
                        ApiError::invalid_field("article_ids", "is not an article")
                    })?),
                "then" => {
                    form.then = Some(match value.as_str() {
                        "answer" => Then::Answer,
                        "dispatch" => Then::Dispatch,
                        _ => return Err(ApiError::invalid_field("then", "is not a choice")),
                    })
                }
                _ => {
                    form.fields.insert(name, value);
                }
            }
        }
        Ok(form)
    }

    /// A field as typed, `None` when left empty.
    fn text(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// The registration the form describes, its category named as the agent picked it.
    fn registration(
        &self,
        categories: &HashMap<String, Uuid>,
    ) -> Result<RegistrationInput, ApiError> {
        let ticket_type = self
            .text("type")
            .and_then(|t| t.parse::<TicketType>().ok())
            .ok_or_else(|| ApiError::invalid_field("type", "choose the type of the call"))?;
        let category_id = match self.text("category") {
            Some(name) => Some(*categories.get(&name).ok_or_else(|| {
                ApiError::invalid_field("category", format!("no category is named {name}"))
            })?),
            None => None,
        };
        let area_unit_id = match self.text("area_unit_id") {
            Some(id) => Some(
                Uuid::parse_str(&id)
                    .map_err(|_| ApiError::invalid_field("area_unit_id", "is not a unit"))?,
            ),
            None => None,
        };
        let priority = match self.text("priority") {
            Some(p) => Some(
                p.parse::<Priority>()
                    .map_err(|_| ApiError::invalid_field("priority", "is not a priority"))?,
            ),
            None => None,
        };
        Ok(RegistrationInput {
            channel: self.text("channel"),
            external_ref: None,
            ticket_type,
            category_id,
            title: self.text("title").unwrap_or_default(),
            content: self.text("content").unwrap_or_default(),
            caller_name: self.text("caller_name"),
            caller_phone: self.text("caller_phone"),
            confidential: self.text("confidential").is_some(),
            address: self.text("address"),
            area_unit_id,
            latitude: None,
            longitude: None,
            priority,
        })
    }
}

/// `POST /intake`: registers the call and opens its page, answered on the spot if the agent
/// chose to.
pub async fn register(
    state: web::Data<AppState>,
    signed: Signed,
    pairs: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    let form = IntakeForm::read(pairs.into_inner())?;
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = taking_calls(signed)?;
    let categories = read(&state, |c| {
        Ok(store::categories::full_names(c)?
            .into_iter()
            .map(|(id, name)| (name, id))
            .collect::<HashMap<String, Uuid>>())
    })
    .await?;
    let input = form.registration(&categories)?;
    let draft = TicketDraft::parse(input, caller.registrant()).map_err(ApiError::validation)?;
    // The answer is checked before anything is registered, so that a wrong one changes nothing.
    let answer = match form.then {
        Some(Then::Answer) => Some(
            Command::answer(&form.text("answer").unwrap_or_default(), &form.article_ids)
                .map_err(ApiError::validation)?,
        ),
        _ => None,
    };
    let registered = register_draft(&state, &caller, None, draft).await?;
    let location = registered
        .location()
        .ok_or_else(|| ApiError::internal("a registration without its ticket's address"))?;
    let ticket = location.trim_start_matches("/api/v1").to_owned();
    if let Some(answer) = answer {
        let id = ticket.trim_start_matches("/tickets/").to_owned();
        let today = state.today();
        act(
            &state,
            &caller,
            &id,
            None,
            None,
            citations_checked(answer, today),
        )
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, ticket))
        .finish())
}

/// An earlier ticket of the caller, as the history panel lists it.
pub struct EarlierTicket {
    pub path: String,
    pub number: String,
    pub title: String,
    pub when: String,
    pub status: &'static str,
    pub ticket_type: &'static str,
}

#[derive(Template)]
#[template(path = "console/intake_history.html")]
struct HistoryPanel {
    /// Nothing typed yet that names a caller.
    asked: bool,
    count: i64,
    tickets: Vec<EarlierTicket>,
    /// The reason and end of a nuisance mark in force on the number.
    nuisance: Option<(String, String)>,
}

fn local(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.numbering.timezone)
        .format("%Y年%-m月%-d日 %H:%M")
        .to_string()
}

/// `POST /intake/caller-history`: the history panel for the number typed so far. The number
/// travels in the body, never in an address; each look-up is audited.
pub async fn caller_history(
    state: web::Data<AppState>,
    signed: Signed,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(
        form.get("csrf").map_or("", String::as_str),
        &signed.form_token,
    )?;
    let caller = Caller { user: signed.user };
    let phone = form.get("caller_phone").map_or("", |p| p.trim());
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    // Too few digits to name a caller yet: nothing is looked up, so nothing is audited.
    if digits < 7 {
        return render(
            HttpResponse::Ok(),
            &HistoryPanel {
                asked: false,
                count: 0,
                tickets: Vec::new(),
                nuisance: None,
            },
        );
    }
    let history = look_up_caller(&state, &caller, phone).await?;
    render(
        HttpResponse::Ok(),
        &HistoryPanel {
            asked: true,
            count: history.count,
            tickets: history
                .tickets
                .iter()
                .map(|t| EarlierTicket {
                    path: format!("/tickets/{}", t.id),
                    number: t.number.clone(),
                    title: t.title.clone(),
                    when: local(&state, t.created_at),
                    status: labels::ticket_status(t.status),
                    ticket_type: labels::ticket_type(t.ticket_type),
                })
                .collect(),
            nuisance: history
                .nuisance
                .map(|m| (m.mark().reason.clone(), local(&state, m.mark().expires_at))),
        },
    )
}

/// An open ticket the call may repeat.
pub struct Alike {
    pub path: String,
    pub number: String,
    pub title: String,
    pub status: &'static str,
    pub when: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "console/intake_duplicates.html")]
struct DuplicatesPanel {
    asked: bool,
    alike: Vec<Alike>,
}

/// `GET /intake/duplicates?category=&area_unit_id=&address=`: open tickets of the category
/// registered lately from the same township or a similar address.
pub async fn duplicates(
    state: web::Data<AppState>,
    signed: Signed,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    let caller = taking_calls(signed)?;
    caller.require(Permission::FrontDesk)?;
    let text = |name: &str| {
        query
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let category = match text("category") {
        Some(name) => {
            read(&state, move |c| {
                Ok(store::categories::full_names(c)?
                    .into_iter()
                    .find(|(_, full)| *full == name)
                    .map(|(id, _)| id))
            })
            .await?
        }
        None => None,
    };
    let Some(category_id) = category else {
        return render(
            HttpResponse::Ok(),
            &DuplicatesPanel {
                asked: false,
                alike: Vec::new(),
            },
        );
    };
    let area_unit_id = text("area_unit_id").and_then(|id| Uuid::parse_str(&id).ok());
    let found = duplicates_of(
        &state,
        DuplicateParams {
            category_id,
            area_unit_id,
            address: text("address"),
            within_days: None,
        },
    )
    .await?;
    let alike = found
        .into_iter()
        .map(|d| Alike {
            path: format!("/tickets/{}", d.id),
            number: d.number,
            title: d.title,
            status: labels::ticket_status(d.status),
            when: local(&state, d.created_at),
            why: match (d.same_area, d.address_similarity) {
                (true, Some(s)) => format!("同一属地，地址相似 {:.0}%", s * 100.0),
                (true, None) => "同一属地".to_owned(),
                (false, Some(s)) => format!("地址相似 {:.0}%", s * 100.0),
                (false, None) => String::new(),
            },
        })
        .collect();
    render(HttpResponse::Ok(), &DuplicatesPanel { asked: true, alike })
}

/// Part of a snippet: marked where it holds the question.
pub struct Piece {
    pub text: String,
    pub marked: bool,
}

/// A knowledge-base article offered as an answer.
pub struct Answer {
    pub id: Uuid,
    pub title: String,
    pub snippet: Vec<Piece>,
    pub body: String,
    pub used: i64,
}

#[derive(Template)]
#[template(path = "console/intake_articles.html")]
struct AnswersPanel {
    asked: bool,
    answers: Vec<Answer>,
}

fn pieces(snippet: Option<Snippet>) -> Vec<Piece> {
    snippet
        .map(|s| {
            s.pieces()
                .into_iter()
                .map(|(text, marked)| Piece { text, marked })
                .collect()
        })
        .unwrap_or_default()
}

/// `GET /intake/articles?q=`: the published articles in force that answer the question.
pub async fn articles(
    state: web::Data<AppState>,
    signed: Signed,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ConsoleError> {
    let caller = Caller { user: signed.user };
    let q = query.get("q").map_or("", |q| q.trim());
    if q.is_empty() {
        return render(
            HttpResponse::Ok(),
            &AnswersPanel {
                asked: false,
                answers: Vec::new(),
            },
        );
    }
    let found = answers_for(&state, &caller, q, ANSWERS_SHOWN).await?;
    render(
        HttpResponse::Ok(),
        &AnswersPanel {
            asked: true,
            answers: found
                .into_iter()
                .map(|(a, snippet)| Answer {
                    id: a.id,
                    title: a.content.title.clone(),
                    snippet: pieces(snippet),
                    body: a.content.body.clone(),
                    used: a.use_count,
                })
                .collect(),
        },
    )
}
