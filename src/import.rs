//! Historical tickets in: JSON Lines (one ticket with everything that happened to it per line)
//! or CSV (one round of handling per row). Every record is checked as the service checks a new
//! ticket and played through the lifecycle at the times it gives, so the timelines are the ones
//! the rules would have written; a record the rules refuse is reported with its line and does
//! not stop the others. `(channel, external_ref)` identifies a record: importing a file again
//! adds nothing twice.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::domain::access::{Actor, Role};
use crate::domain::calendar::WorkCalendar;
use crate::domain::directory::{Attachment, Category, Unit};
use crate::domain::history::{self, Step};
use crate::domain::lifecycle::{Command, Reached, ReviewDecision};
use crate::domain::policy::Policy;
use crate::domain::ticket::{
    Channel, Priority, Registrant, RegistrationInput, TicketDraft, TicketType,
};
use crate::store::history::Past;
use crate::store::users::NewUser;
use crate::store::{self, Db, StoreError};

/// One ticket and what happened to it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The ticket's number in the system it comes from; with the channel, what makes importing
    /// again add nothing twice.
    pub external_ref: String,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    /// The category's full name, e.g. `城市管理—市容市政`.
    #[serde(default)]
    pub category: Option<String>,
    pub title: String,
    pub content: String,
    #[serde(default)]
    pub caller_name: Option<String>,
    #[serde(default)]
    pub caller_phone: Option<String>,
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    pub address: Option<String>,
    /// The code of the township (or other unit) where it happened.
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    pub registered_at: DateTime<Utc>,
    #[serde(default)]
    pub answer: Option<AnswerRecord>,
    #[serde(default)]
    pub assignments: Vec<AssignmentRecord>,
    #[serde(default)]
    pub replies: Vec<ReplyRecord>,
    #[serde(default)]
    pub reviews: Vec<ReviewRecord>,
    #[serde(default)]
    pub callbacks: Vec<CallbackRecord>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRecord {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// One dispatch round: the primary unit by code, its assisting units, and what the primary
/// unit did before it replied.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRecord {
    pub unit: String,
    #[serde(default)]
    pub assisting: Vec<String>,
    pub dispatched_at: DateTime<Utc>,
    #[serde(default)]
    pub signed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub returned_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub return_reason: Option<String>,
}

/// The primary unit's reply (to the round dispatched last before it).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRecord {
    pub at: DateTime<Utc>,
    pub result: crate::domain::lifecycle::ReplyResult,
    pub text: String,
    #[serde(default)]
    pub contacted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub contact_method: Option<crate::domain::lifecycle::ContactMethod>,
    #[serde(default)]
    pub contact_outcome: Option<String>,
    #[serde(default)]
    pub no_contact_reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRecord {
    pub at: DateTime<Utc>,
    pub accept: bool,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackRecord {
    pub at: DateTime<Utc>,
    pub reached: bool,
    #[serde(default)]
    pub satisfaction: Option<crate::domain::lifecycle::Satisfaction>,
    #[serde(default)]
    pub resolved: Option<bool>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub reopen: bool,
}

/// A record read from a file, or why its line could not be read.
pub type Line = (usize, Result<Record, String>);

/// Records made in memory (by the generator), numbered from 1 as lines of a file would be.
pub fn numbered(records: impl IntoIterator<Item = Record>) -> impl Iterator<Item = Line> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, record)| (i + 1, Ok(record)))
}

/// JSON Lines: one record per line; blank lines are skipped.
pub fn json_lines(reader: impl BufRead) -> impl Iterator<Item = Line> {
    reader
        .lines()
        .enumerate()
        .filter_map(|(i, line)| match line {
            Err(e) => Some((i + 1, Err(format!("cannot read the line: {e}")))),
            Ok(text) if text.trim().is_empty() => None,
            Ok(text) => Some((
                i + 1,
                serde_json::from_str::<Record>(&text).map_err(|e| e.to_string()),
            )),
        })
}

/// The columns of the CSV form, in any order; all but the registration's may be left empty.
pub const CSV_COLUMNS: [&str; 36] = [
    "external_ref",
    "channel",
    "type",
    "category",
    "title",
    "content",
    "caller_name",
    "caller_phone",
    "confidential",
    "address",
    "area",
    "priority",
    "registered_at",
    "answered_at",
    "answer",
    "unit",
    "assisting",
    "dispatched_at",
    "signed_at",
    "returned_at",
    "return_reason",
    "replied_at",
    "reply_result",
    "reply_text",
    "contacted_at",
    "contact_method",
    "contact_outcome",
    "no_contact_reason",
    "reviewed_at",
    "review_accepted",
    "review_comment",
    "callback_at",
    "callback_reached",
    "satisfaction",
    "resolved",
    "callback_comment",
];

/// CSV with a header row naming its columns (see [`CSV_COLUMNS`]); one round of handling per
/// row, `assisting` unit codes separated by `;`.
pub fn csv_rows(reader: impl std::io::Read) -> Result<Vec<Line>, String> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(reader);
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| format!("line 1: {e}"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    if let Some(unknown) = header.iter().find(|h| !CSV_COLUMNS.contains(&h.as_str())) {
        return Err(format!(
            "line 1: unknown column `{unknown}`; the columns are: {}",
            CSV_COLUMNS.join(", ")
        ));
    }
    Ok(csv
        .records()
        .map(|row| {
            let line = row
                .as_ref()
                .map_or(0, |r| r.position().map_or(0, |p| p.line() as usize));
            let record = row
                .map_err(|e| e.to_string())
                .and_then(|row| csv_record(&header, &row));
            (line, record)
        })
        .collect())
}

fn csv_record(header: &[String], row: &csv::StringRecord) -> Result<Record, String> {
    let cell: HashMap<&str, &str> = header
        .iter()
        .map(String::as_str)
        .zip(row.iter().map(str::trim))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let get = |name: &str| cell.get(name).copied();
    let json_or_null = |name: &str| get(name).map_or(serde_json::Value::Null, |v| json!(v));
    let flag = |name: &str| -> Result<Option<bool>, String> {
        get(name)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "是" => Ok(true),
                "false" | "0" | "no" | "否" => Ok(false),
                other => Err(format!("{name}: `{other}` is not true or false")),
            })
            .transpose()
    };
    let mut value = json!({
        "external_ref": json_or_null("external_ref"),
        "channel": json_or_null("channel"),
        "type": json_or_null("type"),
        "category": json_or_null("category"),
        "title": json_or_null("title"),
        "content": json_or_null("content"),
        "caller_name": json_or_null("caller_name"),
        "caller_phone": json_or_null("caller_phone"),
        "confidential": flag("confidential")?.unwrap_or(false),
        "address": json_or_null("address"),
        "area": json_or_null("area"),
        "priority": json_or_null("priority"),
        "registered_at": json_or_null("registered_at"),
    });
    if let Some(at) = get("answered_at") {
        value["answer"] = json!({"at": at, "text": get("answer").unwrap_or_default()});
    }
    if let Some(unit) = get("unit") {
        let assisting: Vec<&str> = get("assisting")
            .map(|a| {
                a.split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        value["assignments"] = json!([{
            "unit": unit,
            "assisting": assisting,
            "dispatched_at": json_or_null("dispatched_at"),
            "signed_at": json_or_null("signed_at"),
            "returned_at": json_or_null("returned_at"),
            "return_reason": json_or_null("return_reason"),
        }]);
    }
    if let Some(at) = get("replied_at") {
        value["replies"] = json!([{
            "at": at,
            "result": json_or_null("reply_result"),
            "text": json_or_null("reply_text"),
            "contacted_at": json_or_null("contacted_at"),
            "contact_method": json_or_null("contact_method"),
            "contact_outcome": json_or_null("contact_outcome"),
            "no_contact_reason": json_or_null("no_contact_reason"),
        }]);
    }
    if let Some(at) = get("reviewed_at") {
        value["reviews"] = json!([{
            "at": at,
            "accept": flag("review_accepted")?.unwrap_or(true),
            "comment": json_or_null("review_comment"),
        }]);
    }
    if let Some(at) = get("callback_at") {
        value["callbacks"] = json!([{
            "at": at,
            "reached": flag("callback_reached")?.unwrap_or(true),
            "satisfaction": json_or_null("satisfaction"),
            "resolved": flag("resolved")?,
            "comment": json_or_null("callback_comment"),
        }]);
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub read: usize,
    pub imported: usize,
    /// Already imported before (same channel and external reference).
    pub already: usize,
    /// Line and reason of every record left out.
    pub bad: Vec<(usize, String)>,
}

/// The hotline records are read against: its directory, SLA policy, working calendar and time
/// zone.
pub struct Hotline {
    pub units: Vec<Unit>,
    pub categories: Vec<Category>,
    pub policy: Policy,
    pub calendar: WorkCalendar,
    pub timezone: chrono_tz::Tz,
}

impl Hotline {
    pub fn load(db: &Db, timezone: chrono_tz::Tz) -> Result<Self, StoreError> {
        db.read(|c| {
            Ok(Self {
                units: store::units::list(c, &Default::default(), None, i64::MAX)?,
                categories: store::categories::list(c, &Default::default(), None, i64::MAX)?,
                policy: store::policy::current(c)?.policy,
                calendar: store::calendar::load(c, timezone)?,
                timezone,
            })
        })
    }
}

/// The names the records use, resolved once.
struct Directory {
    units: HashMap<String, Unit>,
    categories: HashMap<String, Category>,
}

/// Imports records into the database, in transactions of a few hundred tickets.
pub struct Importer<'a> {
    db: &'a Db,
    directory: Directory,
    policy: Policy,
    calendar: WorkCalendar,
    account: Uuid,
    timezone: chrono_tz::Tz,
    digits: usize,
    progress: Progress,
}

const BATCH: usize = 500;

impl<'a> Importer<'a> {
    /// Reads the hotline, and finds (or makes) the account imported tickets are registered by:
    /// `import`, which cannot sign in. Ticket numbers get `digits` digits after the day.
    pub fn new(
        db: &'a Db,
        timezone: chrono_tz::Tz,
        digits: usize,
        now: DateTime<Utc>,
        show_progress: bool,
    ) -> Result<Self, StoreError> {
        let Hotline {
            units,
            categories,
            policy,
            calendar,
            ..
        } = Hotline::load(db, timezone)?;
        let account = db.write(|c| import_account(c, now))?;
        Ok(Self {
            db,
            directory: Directory {
                units: units.into_iter().map(|u| (u.code.clone(), u)).collect(),
                categories: categories
                    .into_iter()
                    .map(|c| (c.full_name.clone(), c))
                    .collect(),
            },
            policy,
            calendar,
            account,
            timezone,
            digits,
            progress: Progress::new(show_progress),
        })
    }

    /// Imports every record; bad ones are reported, the others are written. `total`, when
    /// known, is how many records there are, for the progress bar.
    pub fn run(
        &mut self,
        lines: impl IntoIterator<Item = Line>,
        total: Option<usize>,
    ) -> Result<Report, StoreError> {
        self.progress.total = total;
        let mut report = Report::default();
        let mut batch: Vec<(usize, Past)> = Vec::with_capacity(BATCH);
        for (line, record) in lines {
            report.read += 1;
            match record.and_then(|r| self.past(r)) {
                Ok(past) => batch.push((line, past)),
                Err(message) => report.bad.push((line, message)),
            }
            if batch.len() == BATCH {
                self.flush(&mut batch, &mut report)?;
            }
            self.progress.show(&report);
        }
        self.flush(&mut batch, &mut report)?;
        self.progress.done(&report);
        Ok(report)
    }

    fn flush(
        &mut self,
        batch: &mut Vec<(usize, Past)>,
        report: &mut Report,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (timezone, digits) = (self.timezone, self.digits);
        let written = self.db.write(|c| -> Result<usize, StoreError> {
            let keys: Vec<(Channel, String)> = batch
                .iter()
                .filter_map(|(_, p)| Some((p.ticket.channel, p.ticket.external_ref.clone()?)))
                .collect();
            let existing = store::tickets::existing_refs(c, &keys)?;
            let mut seen = std::collections::HashSet::new();
            let mut fresh: Vec<Past> = Vec::with_capacity(batch.len());
            for (line, past) in batch.drain(..) {
                let key = (
                    past.ticket.channel,
                    past.ticket.external_ref.clone().unwrap_or_default(),
                );
                if existing.contains(&key) {
                    report.already += 1;
                } else if !seen.insert(key.clone()) {
                    report.bad.push((
                        line,
                        format!(
                            "repeats the external reference `{}` of an earlier line",
                            key.1
                        ),
                    ));
                } else {
                    fresh.push(past);
                }
            }
            store::history::write(c, &mut fresh, timezone, digits)?;
            Ok(fresh.len())
        })?;
        report.imported += written;
        Ok(())
    }

    /// A record as a ticket with its past, or what is wrong with it.
    fn past(&self, record: Record) -> Result<Past, String> {
        let d = &self.directory;
        let unit = |code: &str, field: &str| -> Result<&Unit, String> {
            d.units
                .get(code)
                .ok_or_else(|| format!("{field}: no unit has the code `{code}`"))
        };
        let category_id = record
            .category
            .as_deref()
            .map(|name| {
                d.categories
                    .get(name)
                    .map(|c| c.id)
                    .ok_or_else(|| format!("category: no category is named `{name}`"))
            })
            .transpose()?;
        let area_unit_id = record
            .area
            .as_deref()
            .map(|code| {
                unit(code, "area").and_then(|u| match u.kind.area_problem() {
                    Some(problem) => Err(format!("area: `{code}` {problem}")),
                    None => Ok(u.id),
                })
            })
            .transpose()?;
        let input = RegistrationInput {
            channel: record.channel,
            external_ref: Some(record.external_ref.clone()),
            ticket_type: record.ticket_type,
            category_id,
            title: record.title.clone(),
            content: record.content.clone(),
            caller_name: record.caller_name.clone(),
            caller_phone: record.caller_phone.clone(),
            confidential: record.confidential,
            address: record.address.clone(),
            area_unit_id,
            latitude: None,
            longitude: None,
            priority: record.priority,
        };
        let draft = TicketDraft::parse(
            input,
            Registrant {
                role: Role::Agent,
                own_channel: None,
            },
        )
        .map_err(|e| e.to_string())?;
        if record.external_ref.trim().is_empty() {
            return Err("external_ref: is required to import a ticket".into());
        }
        let as_role = |role: Role, unit_id: Option<Uuid>| Actor {
            user_id: Some(self.account),
            role: Some(role),
            unit_id,
        };
        let office = as_role(Role::Dispatcher, None);
        let mut steps: Vec<Timed> = Vec::new();
        let mut push = |stage: Stage, at: DateTime<Utc>, actor: Actor, command: Command| {
            steps.push(Timed {
                stage,
                step: Step { at, actor, command },
            })
        };
        if let Some(answer) = &record.answer {
            let command = Command::answer(&answer.text).map_err(|e| format!("answer: {e}"))?;
            push(Stage::Answer, answer.at, office, command);
        }
        let mut rounds: Vec<(DateTime<Utc>, Uuid)> = Vec::new();
        for (i, a) in record.assignments.iter().enumerate() {
            let primary = unit(&a.unit, &format!("assignments[{i}].unit"))?;
            let assisting = a
                .assisting
                .iter()
                .map(|code| unit(code, &format!("assignments[{i}].assisting")).map(|u| u.id))
                .collect::<Result<Vec<_>, _>>()?;
            let command = Command::dispatch(primary.id, assisting, false, None)
                .map_err(|e| format!("assignments[{i}]: {e}"))?;
            push(Stage::Dispatch, a.dispatched_at, office, command);
            rounds.push((a.dispatched_at, primary.id));
            let handler = as_role(Role::UnitHandler, Some(primary.id));
            if let Some(at) = a.signed_at {
                push(Stage::Sign, at, handler, Command::Sign);
            }
            if let Some(at) = a.returned_at {
                let command = Command::hand_back(a.return_reason.as_deref().unwrap_or_default())
                    .map_err(|e| format!("assignments[{i}].return_reason: {e}"))?;
                push(Stage::Return, at, handler, command);
            }
        }
        rounds.sort_by_key(|(at, _)| *at);
        for (i, r) in record.replies.iter().enumerate() {
            let unit_id = rounds
                .iter()
                .rev()
                .find(|(at, _)| *at <= r.at)
                .map(|(_, u)| *u)
                .ok_or_else(|| format!("replies[{i}]: no dispatch came before it"))?;
            let reached = match (r.contacted_at, r.contact_method) {
                (Some(at), Some(method)) => Some(Reached {
                    at,
                    method,
                    outcome: r.contact_outcome.as_deref().unwrap_or_default(),
                }),
                (Some(_), None) => {
                    return Err(format!(
                        "replies[{i}]: contact_method: is required with contacted_at"
                    ));
                }
                (None, _) => None,
            };
            let command = Command::reply(
                r.result,
                &r.text,
                reached,
                r.no_contact_reason.as_deref(),
                Vec::new(),
            )
            .map_err(|e| format!("replies[{i}]: {e}"))?;
            push(
                Stage::Reply,
                r.at,
                as_role(Role::UnitHandler, Some(unit_id)),
                command,
            );
        }
        for (i, r) in record.reviews.iter().enumerate() {
            let decision = if r.accept {
                ReviewDecision::Accept
            } else {
                ReviewDecision::Reject
            };
            let command = Command::review(decision, r.comment.as_deref(), None)
                .map_err(|e| format!("reviews[{i}]: {e}"))?;
            push(Stage::Review, r.at, office, command);
        }
        for (i, c) in record.callbacks.iter().enumerate() {
            let command = Command::callback(
                c.reached,
                c.satisfaction,
                c.resolved,
                c.comment.as_deref(),
                c.reopen,
            )
            .map_err(|e| format!("callbacks[{i}]: {e}"))?;
            push(Stage::Callback, c.at, as_role(Role::Agent, None), command);
        }
        steps.sort_by_key(|t| (t.step.at, t.stage));
        if let Some(first) = steps.first().filter(|t| t.step.at < record.registered_at) {
            return Err(format!(
                "{} is before the registration at {}",
                first.name(),
                record.registered_at
            ));
        }
        let names: Vec<String> = steps.iter().map(Timed::name).collect();
        let ticket = draft.registered(
            Uuid::now_v7(),
            String::new(),
            self.account,
            record.registered_at,
        );
        let rules = history::Rules {
            ticket_type: ticket.details.ticket_type,
            priority: ticket.details.priority,
            policy: &self.policy,
            calendar: &self.calendar,
        };
        let played = history::play(
            ticket.id,
            steps.into_iter().map(|t| t.step).collect(),
            &rules,
            &mut Uuid::now_v7,
        )
        .map_err(|refused| format!("{}: {}", names[refused.step], refused.refusal))?;
        Ok(Past {
            registered_by: as_role(Role::Agent, None),
            ticket,
            played,
        })
    }
}

/// What a record says happened, in the order the lifecycle takes steps given at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Answer,
    Dispatch,
    Sign,
    Return,
    Reply,
    Review,
    Callback,
}

/// One step of a record's past, with the stage it belongs to.
struct Timed {
    stage: Stage,
    step: Step,
}

impl Timed {
    /// The step as an error names it.
    fn name(&self) -> String {
        let what = match self.stage {
            Stage::Answer => "the answer",
            Stage::Dispatch => "the dispatch",
            Stage::Sign => "the signature",
            Stage::Return => "the return",
            Stage::Reply => "the reply",
            Stage::Review => "the review",
            Stage::Callback => "the callback",
        };
        format!("{what} at {}", self.step.at)
    }
}

/// The account imported tickets are registered by. It cannot sign in.
fn import_account(conn: &mut store::DbConnection, now: DateTime<Utc>) -> Result<Uuid, StoreError> {
    const NAME: &str = "import";
    if let Some((user, _)) = store::users::find_credentials(conn, NAME)? {
        return Ok(user.id);
    }
    // A password nobody knows, on an account that is inactive besides.
    let hash = crate::auth::hash_password(&crate::auth::generate_password(32))
        .map_err(|e| StoreError::Config(e.to_string()))?;
    let user = store::users::insert(
        conn,
        &NewUser {
            username: NAME,
            display_name: "历史数据导入",
            attachment: Attachment {
                role: Role::Agent,
                unit_id: None,
                channel: None,
            },
            password_hash: &hash,
            must_change_password: true,
        },
        now,
    )?;
    store::users::update(
        conn,
        user.id,
        &store::users::UserChanges {
            active: Some(false),
            ..Default::default()
        },
        now,
    )?;
    Ok(user.id)
}

/// A progress bar on a terminal; nothing otherwise.
struct Progress {
    on: bool,
    last: Option<Instant>,
    total: Option<usize>,
}

impl Progress {
    fn new(on: bool) -> Self {
        Self {
            on: on && std::io::stderr().is_terminal(),
            last: None,
            total: None,
        }
    }

    fn show(&mut self, report: &Report) {
        if !self.on
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(Instant::now());
        let bar = match self.total.filter(|t| *t > 0) {
            Some(total) => {
                let filled = (report.read * 30 / total).min(30);
                format!(
                    "[{}{}] {:>3}% ",
                    "#".repeat(filled),
                    "-".repeat(30 - filled),
                    report.read * 100 / total
                )
            }
            None => String::new(),
        };
        let _ = write!(
            std::io::stderr(),
            "\r{bar}{} read, {} imported, {} already there, {} bad   ",
            report.read,
            report.imported,
            report.already,
            report.bad.len()
        );
    }

    fn done(&mut self, report: &Report) {
        if self.on {
            self.last = None;
            self.show(report);
            let _ = writeln!(std::io::stderr());
        }
    }
}
