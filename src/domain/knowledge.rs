//! The knowledge base (知识库): the answers agents give on the spot. A unit keeps the articles on
//! its own matters current; the hotline office reviews them before agents see them, and every
//! article is reviewed again on a schedule. Every change keeps the version it made.

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::access::Role;
use super::validation::{ValidationErrors, optional_single_line, required_text, single_line};

pub const TITLE_MAX: usize = 100;
pub const BODY_MAX: usize = 20_000;
pub const KEYWORD_MAX: usize = 20;
pub const KEYWORDS_MAX: usize = 20;
pub const REASON_MAX: usize = 500;
/// How long after a change an article is due for review when its author does not say.
pub const DEFAULT_REVIEW_DAYS: u64 = 365;

text_enum! {
    /// Where an article stands: only a published one is shown to agents.
    pub enum ArticleStatus {
        Draft = "draft",
        InReview = "in_review",
        Published = "published",
        Archived = "archived",
    }
}

text_enum! {
    /// What a version of an article records.
    pub enum ArticleChange {
        Created = "created",
        Edited = "edited",
        Submitted = "submitted",
        Published = "published",
        Rejected = "rejected",
        Archived = "archived",
        /// Checked and still right (复核): the next review is set, the text unchanged.
        Reviewed = "reviewed",
    }
}

/// An article as written by a request: what it says and where it applies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    /// The owning unit; a unit handler's own unit when absent, the hotline office's own
    /// article when absent from the office.
    #[serde(default)]
    pub unit_id: Option<Uuid>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The township or street it applies to; the whole hotline's area when absent.
    #[serde(default)]
    pub area_unit_id: Option<Uuid>,
    #[serde(default)]
    pub effective_on: Option<NaiveDate>,
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
    #[serde(default)]
    pub review_due_on: Option<NaiveDate>,
}

/// What an article says and where it applies, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleContent {
    pub title: String,
    pub body: String,
    pub category_id: Option<Uuid>,
    pub keywords: Vec<String>,
    pub area_unit_id: Option<Uuid>,
    pub effective_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub review_due_on: NaiveDate,
}

impl ArticleContent {
    /// `today` is the hotline's day: the default review date counts from it, and a review date
    /// must not lie before it.
    pub fn parse(input: &ArticleInput, today: NaiveDate) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let title = errors.check("title", single_line(&input.title, TITLE_MAX));
        let body = errors.check("body", required_text(&input.body, BODY_MAX));
        let mut keywords: Vec<String> = Vec::new();
        if input.keywords.len() > KEYWORDS_MAX {
            errors.add(
                "keywords",
                format!("must be at most {KEYWORDS_MAX} keywords"),
            );
        }
        for keyword in &input.keywords {
            match optional_single_line(Some(keyword), KEYWORD_MAX) {
                Ok(Some(keyword)) if !keywords.contains(&keyword) => keywords.push(keyword),
                Ok(_) => {}
                Err(problem) => errors.add("keywords", problem),
            }
        }
        if let (Some(from), Some(to)) = (input.effective_on, input.expires_on)
            && to < from
        {
            errors.add("expires_on", "must not be before effective_on");
        }
        let review_due_on = input
            .review_due_on
            .unwrap_or_else(|| today + Days::new(DEFAULT_REVIEW_DAYS));
        if review_due_on < today {
            errors.add("review_due_on", "must not be in the past");
        }
        errors.finish()?;
        Ok(Self {
            title: title.unwrap_or_default(),
            body: body.unwrap_or_default(),
            category_id: input.category_id,
            keywords,
            area_unit_id: input.area_unit_id,
            effective_on: input.effective_on,
            expires_on: input.expires_on,
            review_due_on,
        })
    }

    /// Whether agents may use it on `day`: in force and not expired.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        in_force(self.effective_on, self.expires_on, day)
    }
}

/// An article as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: Uuid,
    /// The owning unit; `None`: the hotline office's own.
    pub unit_id: Option<Uuid>,
    pub status: ArticleStatus,
    pub content: ArticleContent,
    pub version: i64,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// How many direct answers cited it, and when the last did.
    pub use_count: i64,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl Article {
    /// Whether agents see it on `day`.
    pub fn shown_to_agents(&self, day: NaiveDate) -> bool {
        self.standing().shown_to_agents(day)
    }

    pub fn standing(&self) -> ArticleStanding {
        let c = &self.content;
        ArticleStanding {
            unit_id: self.unit_id,
            status: self.status,
            category_id: c.category_id,
            area_unit_id: c.area_unit_id,
            effective_on: c.effective_on,
            expires_on: c.expires_on,
            review_due_on: c.review_due_on,
        }
    }
}

/// What decides who sees an article and which lists keep it: all of it but its texts, so that
/// a search decides it for every article it finds before reading the texts of any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArticleStanding {
    pub unit_id: Option<Uuid>,
    pub status: ArticleStatus,
    pub category_id: Option<Uuid>,
    pub area_unit_id: Option<Uuid>,
    pub effective_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub review_due_on: NaiveDate,
}

impl ArticleStanding {
    /// Whether agents see it on `day`: published, in force and not expired.
    pub fn shown_to_agents(&self, day: NaiveDate) -> bool {
        self.status == ArticleStatus::Published && in_force(self.effective_on, self.expires_on, day)
    }
}

/// Whether an article's dates put it in force on `day`.
fn in_force(
    effective_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    day: NaiveDate,
) -> bool {
    effective_on.is_none_or(|from| from <= day) && expires_on.is_none_or(|to| day <= to)
}

/// Who is changing or reading articles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub role: Role,
    pub unit_id: Option<Uuid>,
}

/// The articles a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleScope {
    /// Every article in every status: the hotline office, which reviews them.
    All,
    /// Its own unit's articles in every status, and everyone's published ones in force.
    Unit(Uuid),
    /// Published articles in force only.
    Published,
}

impl ArticleScope {
    /// Whether a reader of this scope sees an article of this standing on `day`.
    pub fn sees(self, article: &ArticleStanding, day: NaiveDate) -> bool {
        match self {
            ArticleScope::All => true,
            ArticleScope::Unit(unit) => {
                article.unit_id == Some(unit) || article.shown_to_agents(day)
            }
            ArticleScope::Published => article.shown_to_agents(day),
        }
    }
}

impl Reader {
    /// `None`: the role reads no articles.
    pub fn scope(self) -> Option<ArticleScope> {
        match self.role {
            Role::Dispatcher | Role::Supervisor => Some(ArticleScope::All),
            Role::UnitHandler => self.unit_id.map(ArticleScope::Unit),
            Role::Agent => Some(ArticleScope::Published),
            Role::Admin | Role::Integration => None,
        }
    }

    /// The hotline office: dispatchers and supervisors review and publish.
    fn reviews(self) -> bool {
        matches!(self.role, Role::Dispatcher | Role::Supervisor)
    }

    /// Keeps an article owned by `unit_id`: a handler of that unit, or the office.
    pub fn keeps(self, unit_id: Option<Uuid>) -> bool {
        self.reviews()
            || (self.role == Role::UnitHandler && self.unit_id.is_some() && self.unit_id == unit_id)
    }

    /// The unit a new article belongs to: a handler writes for its own unit only.
    pub fn owner_of_new(self, asked: Option<Uuid>) -> Result<Option<Uuid>, Refusal> {
        match self.role {
            Role::UnitHandler => match (self.unit_id, asked) {
                (None, _) => Err(Refusal::Forbidden("this account belongs to no unit")),
                (Some(own), Some(other)) if own != other => {
                    Err(Refusal::Forbidden("a unit writes its own articles only"))
                }
                (Some(own), _) => Ok(Some(own)),
            },
            _ if self.reviews() => Ok(asked),
            _ => Err(Refusal::Forbidden("this role does not write articles")),
        }
    }
}

/// What can be done to an article.
#[derive(Debug, Clone, PartialEq)]
pub enum ArticleAction {
    Edit(ArticleContent),
    /// Ask the office to review it.
    Submit,
    Publish,
    /// Back to its unit as a draft, with the reason.
    Reject {
        reason: String,
    },
    Archive,
    /// Checked and still right; reviewed again on `next_due`.
    Review {
        next_due: NaiveDate,
    },
}

impl ArticleAction {
    pub fn reject(reason: &str) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let reason = errors.check("reason", required_text(reason, REASON_MAX));
        errors.finish()?;
        Ok(Self::Reject {
            reason: reason.unwrap_or_default(),
        })
    }

    /// `next_due` defaults to a year after `today`.
    pub fn review(next_due: Option<NaiveDate>, today: NaiveDate) -> Result<Self, ValidationErrors> {
        let next_due = next_due.unwrap_or_else(|| today + Days::new(DEFAULT_REVIEW_DAYS));
        if next_due <= today {
            return Err(ValidationErrors::single(
                "review_due_on",
                "must be after today",
            ));
        }
        Ok(Self::Review { next_due })
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Forbidden(&'static str),
    /// Not in the article's present status.
    WrongStatus {
        action: &'static str,
        status: ArticleStatus,
    },
}

/// What an accepted action makes of the article: its next status and the version it records.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: ArticleStatus,
    pub change: ArticleChange,
    pub content: ArticleContent,
    pub note: Option<String>,
}

/// Decides an action on an article: a unit edits and submits its own; the office reviews,
/// publishes, rejects and archives; whoever keeps an article confirms it on review.
///
/// A unit's edit of a published article goes back to the office for review (and out of the
/// agents' sight until published again); the office's own edit stays published, since the office
/// is who reviews it.
pub fn decide(
    article: &Article,
    reader: Reader,
    action: ArticleAction,
) -> Result<Outcome, Refusal> {
    use ArticleStatus::*;
    if !reader.keeps(article.unit_id) {
        return Err(Refusal::Forbidden(
            "only the owning unit and the hotline office keep an article",
        ));
    }
    let office = reader.reviews();
    let status = article.status;
    let wrong = |action| Err(Refusal::WrongStatus { action, status });
    let outcome = |status, change, note| Outcome {
        status,
        change,
        content: article.content.clone(),
        note,
    };
    match action {
        ArticleAction::Edit(content) => {
            let next = match status {
                Draft => Draft,
                InReview if office => InReview,
                Published if office => Published,
                Published => InReview,
                InReview | Archived => return wrong("edit"),
            };
            Ok(Outcome {
                status: next,
                change: ArticleChange::Edited,
                content,
                note: None,
            })
        }
        ArticleAction::Submit => match status {
            Draft => Ok(outcome(InReview, ArticleChange::Submitted, None)),
            _ => wrong("submit"),
        },
        ArticleAction::Publish if !office => {
            Err(Refusal::Forbidden("the hotline office publishes articles"))
        }
        ArticleAction::Publish => match status {
            Draft | InReview => Ok(outcome(Published, ArticleChange::Published, None)),
            _ => wrong("publish"),
        },
        ArticleAction::Reject { .. } if !office => {
            Err(Refusal::Forbidden("the hotline office reviews articles"))
        }
        ArticleAction::Reject { reason } => match status {
            InReview => Ok(outcome(Draft, ArticleChange::Rejected, Some(reason))),
            _ => wrong("reject"),
        },
        ArticleAction::Archive => match status {
            Archived => wrong("archive"),
            _ => Ok(outcome(Archived, ArticleChange::Archived, None)),
        },
        ArticleAction::Review { next_due } => match status {
            Published => {
                let mut content = article.content.clone();
                content.review_due_on = next_due;
                Ok(Outcome {
                    status: Published,
                    change: ArticleChange::Reviewed,
                    content,
                    note: None,
                })
            }
            _ => wrong("review"),
        },
    }
}

/// A unit's upkeep of its articles on `day`, for assessment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Upkeep {
    /// Published articles.
    pub published: i64,
    /// Published articles whose review date has passed.
    pub review_overdue: i64,
    /// Published articles past their expiry date, still published.
    pub expired_published: i64,
    /// Reviews made in the period, and how many of them on or before their due date.
    pub reviewed: i64,
    pub reviewed_on_time: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn input() -> ArticleInput {
        ArticleInput {
            title: "医保报销比例".into(),
            body: "住院报销比例为70%。".into(),
            category_id: None,
            unit_id: None,
            keywords: vec!["医保".into(), " 医保 ".into(), "报销".into()],
            area_unit_id: None,
            effective_on: None,
            expires_on: None,
            review_due_on: None,
        }
    }

    fn article(status: ArticleStatus) -> Article {
        let now = Utc::now();
        Article {
            id: Uuid::from_u128(9),
            unit_id: Some(UNIT),
            status,
            content: ArticleContent::parse(&input(), day(1)).unwrap(),
            version: 1,
            created_by: Uuid::from_u128(3),
            created_at: now,
            updated_by: Uuid::from_u128(3),
            updated_at: now,
            published_at: None,
            reviewed_at: None,
            use_count: 0,
            last_used_at: None,
        }
    }

    fn reader(role: Role, unit_id: Option<Uuid>) -> Reader {
        Reader { role, unit_id }
    }

    #[test]
    fn content_is_trimmed_deduplicated_and_dated() {
        let content = ArticleContent::parse(&input(), day(1)).unwrap();
        assert_eq!(content.keywords, ["医保", "报销"]);
        assert_eq!(
            content.review_due_on,
            day(1) + Days::new(DEFAULT_REVIEW_DAYS)
        );
        let bad = ArticleInput {
            title: "".into(),
            effective_on: Some(day(10)),
            expires_on: Some(day(9)),
            review_due_on: Some(day(1).pred_opt().unwrap()),
            keywords: vec!["一二三四五六七八九十一二三四五六七八九十一".into()],
            ..input()
        };
        let fields: Vec<String> = ArticleContent::parse(&bad, day(1))
            .unwrap_err()
            .into_errors()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "keywords", "expires_on", "review_due_on"]);
    }

    #[test]
    fn an_article_is_in_force_between_its_dates() {
        let mut content = ArticleContent::parse(&input(), day(1)).unwrap();
        assert!(content.in_force(day(1)));
        content.effective_on = Some(day(5));
        content.expires_on = Some(day(10));
        assert!(!content.in_force(day(4)));
        assert!(content.in_force(day(5)) && content.in_force(day(10)));
        assert!(!content.in_force(day(11)));
    }

    #[test]
    fn each_role_sees_its_articles() {
        assert_eq!(
            reader(Role::Agent, None).scope(),
            Some(ArticleScope::Published)
        );
        assert_eq!(
            reader(Role::Dispatcher, None).scope(),
            Some(ArticleScope::All)
        );
        assert_eq!(
            reader(Role::UnitHandler, Some(UNIT)).scope(),
            Some(ArticleScope::Unit(UNIT))
        );
        assert_eq!(reader(Role::UnitHandler, None).scope(), None);
        assert_eq!(reader(Role::Admin, None).scope(), None);
        assert_eq!(reader(Role::Integration, None).scope(), None);
    }

    #[test]
    fn a_unit_writes_for_itself_and_the_office_for_anyone() {
        let handler = reader(Role::UnitHandler, Some(UNIT));
        assert_eq!(handler.owner_of_new(None), Ok(Some(UNIT)));
        assert_eq!(handler.owner_of_new(Some(UNIT)), Ok(Some(UNIT)));
        assert!(handler.owner_of_new(Some(OTHER)).is_err());
        assert_eq!(
            reader(Role::Dispatcher, None).owner_of_new(Some(OTHER)),
            Ok(Some(OTHER))
        );
        assert_eq!(reader(Role::Supervisor, None).owner_of_new(None), Ok(None));
        assert!(reader(Role::Agent, None).owner_of_new(None).is_err());
    }

    /// Every action by every kind of reader in every status: the whole table of the workflow.
    #[test]
    fn the_workflow_table() {
        use ArticleStatus::*;
        let content = ArticleContent::parse(&input(), day(1)).unwrap();
        let actions = [
            ArticleAction::Edit(content),
            ArticleAction::Submit,
            ArticleAction::Publish,
            ArticleAction::Reject { reason: "r".into() },
            ArticleAction::Archive,
            ArticleAction::Review { next_due: day(20) },
        ];
        let readers = [
            ("own unit", reader(Role::UnitHandler, Some(UNIT))),
            ("office", reader(Role::Dispatcher, None)),
            ("other unit", reader(Role::UnitHandler, Some(OTHER))),
            ("agent", reader(Role::Agent, None)),
        ];
        // (reader, status) → what each action above leads to: a status, or `None` if refused.
        let expected: &[(&str, ArticleStatus, [Option<ArticleStatus>; 6])] = &[
            (
                "own unit",
                Draft,
                [
                    Some(Draft),
                    Some(InReview),
                    None,
                    None,
                    Some(Archived),
                    None,
                ],
            ),
            (
                "own unit",
                InReview,
                [None, None, None, None, Some(Archived), None],
            ),
            (
                "own unit",
                Published,
                [
                    Some(InReview),
                    None,
                    None,
                    None,
                    Some(Archived),
                    Some(Published),
                ],
            ),
            ("own unit", Archived, [None; 6]),
            (
                "office",
                Draft,
                [
                    Some(Draft),
                    Some(InReview),
                    Some(Published),
                    None,
                    Some(Archived),
                    None,
                ],
            ),
            (
                "office",
                InReview,
                [
                    Some(InReview),
                    None,
                    Some(Published),
                    Some(Draft),
                    Some(Archived),
                    None,
                ],
            ),
            (
                "office",
                Published,
                [
                    Some(Published),
                    None,
                    None,
                    None,
                    Some(Archived),
                    Some(Published),
                ],
            ),
            ("office", Archived, [None; 6]),
        ];
        for (who, status, outcomes) in expected {
            let reader = readers.iter().find(|(name, _)| name == who).unwrap().1;
            for (action, outcome) in actions.iter().zip(outcomes) {
                let decided = decide(&article(*status), reader, action.clone())
                    .ok()
                    .map(|o| o.status);
                assert_eq!(decided, *outcome, "{who} {action:?} on {status}");
            }
        }
        for status in ArticleStatus::ALL {
            for who in ["other unit", "agent"] {
                let reader = readers.iter().find(|(name, _)| *name == who).unwrap().1;
                for action in &actions {
                    assert!(matches!(
                        decide(&article(*status), reader, action.clone()),
                        Err(Refusal::Forbidden(_))
                    ));
                }
            }
        }
    }

    #[test]
    fn a_review_moves_the_next_review_and_nothing_else() {
        let published = article(ArticleStatus::Published);
        let outcome = decide(
            &published,
            reader(Role::UnitHandler, Some(UNIT)),
            ArticleAction::Review { next_due: day(20) },
        )
        .unwrap();
        assert_eq!(outcome.content.review_due_on, day(20));
        assert_eq!(outcome.content.body, published.content.body);
        assert!(ArticleAction::review(Some(day(1)), day(1)).is_err());
        assert_eq!(
            ArticleAction::review(None, day(1)),
            Ok(ArticleAction::Review {
                next_due: day(1) + Days::new(DEFAULT_REVIEW_DAYS)
            })
        );
    }
}
