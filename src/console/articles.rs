//! The knowledge base's upkeep: a unit's handlers see their unit's articles with when each is
//! due for review, and send drafts for review, confirm or archive what is published; the office
//! sees the articles waiting for review and publishes or sends them back. Each button is offered
//! where the article's rules (`domain::knowledge::decide`) accept it from the viewer, and acts
//! through the API's own path (`api::knowledge::act`).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use uuid::Uuid;

use super::session::{Signed, check_form_token};
use super::{Chrome, ConsoleError, render};
use crate::api::knowledge::{act, reader, scope};
use crate::api::{AppState, Caller, read};
use crate::domain::access::Role;
use crate::domain::knowledge::{ArticleAction, ArticleStatus, decide};
use crate::error::ApiError;
use crate::reports::labels;
use crate::store;
use crate::store::knowledge::{ArticleFilter, ArticlePosition};

/// How many articles the page lists.
const LISTED: i64 = 200;

/// A button on an article's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upkeep {
    Submit,
    Publish,
    Reject,
    Review,
    Archive,
}

impl Upkeep {
    const ALL: [Upkeep; 5] = [
        Upkeep::Submit,
        Upkeep::Publish,
        Upkeep::Reject,
        Upkeep::Review,
        Upkeep::Archive,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Upkeep::Submit => "submit",
            Upkeep::Publish => "publish",
            Upkeep::Reject => "reject",
            Upkeep::Review => "review",
            Upkeep::Archive => "archive",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Upkeep::Submit => "提交审核",
            Upkeep::Publish => "发布",
            Upkeep::Reject => "退回修改",
            Upkeep::Review => "已复核，内容仍有效",
            Upkeep::Archive => "归档",
        }
    }

    pub fn asks_reason(self) -> bool {
        matches!(self, Upkeep::Reject)
    }

    fn action(self, reason: &str, today: chrono::NaiveDate) -> Result<ArticleAction, ApiError> {
        Ok(match self {
            Upkeep::Submit => ArticleAction::Submit,
            Upkeep::Publish => ArticleAction::Publish,
            Upkeep::Reject => ArticleAction::reject(reason).map_err(ApiError::validation)?,
            Upkeep::Review => ArticleAction::review(None, today).map_err(ApiError::validation)?,
            Upkeep::Archive => ArticleAction::Archive,
        })
    }
}

/// An article as the page lists it.
pub struct ArticleRow {
    pub id: Uuid,
    pub title: String,
    pub status: &'static str,
    pub review_due: String,
    pub review_overdue: bool,
    pub used: i64,
    pub version: i64,
    pub upkeep: Vec<Upkeep>,
}

#[derive(Template)]
#[template(path = "console/articles.html")]
struct ArticlesPage {
    chrome: Chrome,
    form_token: String,
    heading: &'static str,
    rows: Vec<ArticleRow>,
}

/// `GET /articles`: a unit's own articles, or the office's articles waiting for review.
pub async fn articles(
    state: web::Data<AppState>,
    signed: Signed,
) -> Result<HttpResponse, ConsoleError> {
    let chrome = Chrome::of(&state, signed.person());
    let form_token = signed.form_token.clone();
    let caller = Caller { user: signed.user };
    let scope = scope(&caller)?;
    let reader = reader(&caller);
    let (heading, filter) = match caller.role() {
        Role::UnitHandler => (
            "本单位知识条目",
            ArticleFilter {
                unit_id: caller.unit_id(),
                ..ArticleFilter::default()
            },
        ),
        Role::Agent => (
            "已发布的知识条目",
            ArticleFilter {
                statuses: vec![ArticleStatus::Published],
                ..ArticleFilter::default()
            },
        ),
        _ => (
            "待审核的知识条目",
            ArticleFilter {
                statuses: vec![ArticleStatus::InReview],
                ..ArticleFilter::default()
            },
        ),
    };
    let day = state.today();
    let found = read(&state, move |c| {
        Ok(store::knowledge::list(
            c,
            scope,
            &filter,
            day,
            ArticlePosition::After(None),
            LISTED,
        )?)
    })
    .await?;
    let rows = found
        .into_iter()
        .map(|a| {
            let upkeep = Upkeep::ALL
                .into_iter()
                .filter(|u| {
                    u.action("—", day)
                        .is_ok_and(|action| decide(&a, reader, action).is_ok())
                })
                .collect();
            ArticleRow {
                id: a.id,
                status: labels::article_status(a.status),
                review_due: format!(
                    "{}月{}日",
                    chrono::Datelike::month(&a.content.review_due_on),
                    chrono::Datelike::day(&a.content.review_due_on)
                ),
                review_overdue: a.status == ArticleStatus::Published
                    && a.content.review_due_on < day,
                used: a.use_count,
                version: a.version,
                title: a.content.title,
                upkeep,
            }
        })
        .collect();
    render(
        HttpResponse::Ok(),
        &ArticlesPage {
            chrome,
            form_token,
            heading,
            rows,
        },
    )
}

#[derive(serde::Deserialize)]
pub struct UpkeepForm {
    #[serde(default)]
    csrf: String,
    version: Option<i64>,
    #[serde(default)]
    reason: String,
}

/// `POST /articles/{id}/{action}`: done, back to the list.
pub async fn upkeep(
    state: web::Data<AppState>,
    signed: Signed,
    path: web::Path<(String, String)>,
    form: web::Form<UpkeepForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &signed.form_token)?;
    let caller = Caller { user: signed.user };
    let (article, action) = path.into_inner();
    let upkeep = Upkeep::ALL
        .into_iter()
        .find(|u| u.path() == action)
        .ok_or_else(|| ApiError::not_found(format!("no action {action}")))?;
    let version = form
        .version
        .ok_or_else(|| ApiError::invalid_field("version", "is required"))?;
    let reason = form.reason.clone();
    act(&state, &caller, &article, Some(version), move |day| {
        upkeep.action(&reason, day)
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/articles"))
        .finish())
}
