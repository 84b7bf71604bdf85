//! The records a file holds, as JSON Lines or CSV, read line by line.

use std::collections::HashMap;
use std::io::BufRead;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::domain::ticket::{Priority, TicketType};

/// One ticket and what happened to it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The ticket's number in the system it comes from; with the channel, what makes importing
    /// again add nothing twice.
    pub external_ref: String,
    /// A channel's code (`GET /api/v1/channels`); the phone when absent.
    #[serde(default)]
    pub channel: Option<String>,
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
