//! Open311 GeoReport v2 as this hotline speaks it: which tickets are open, what a request's
//! status notes say, which events are updates for the `servicerequestupdates` extension, how a
//! form-encoded request becomes a registration, how far back a list may reach, and how an
//! answer is written as XML (the specification's required format) or JSON.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::ticket::{EventKind, RegistrationInput, TicketStatus, TicketType};

/// The longest span a list covers, and its default (the most recent), in days.
pub const MAX_SPAN_DAYS: i64 = 90;
/// The most requests one list answers.
pub const MAX_REQUESTS: i64 = 1_000;

/// The two formats, chosen by the path's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    pub fn parse(suffix: &str) -> Option<Self> {
        match suffix {
            "xml" => Some(Format::Xml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// Open311 knows two statuses: a ticket is closed once nothing more will be done on it.
pub fn status(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Closed | TicketStatus::Merged | TicketStatus::Invalid => "closed",
        _ => "open",
    }
}

/// Which statuses a `status=open,closed` filter keeps.
pub fn statuses_of(open311: &str) -> Option<&'static [TicketStatus]> {
    use TicketStatus::*;
    match open311 {
        "open" => Some(&[
            Registered,
            Dispatched,
            Handling,
            Returned,
            Replied,
            AwaitingCallback,
        ]),
        "closed" => Some(&[Closed, Merged, Invalid]),
        _ => None,
    }
}

/// The status notes of a request: where it stands in the hotline's own words.
pub fn status_notes(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Registered => "已受理，等待派发承办单位",
        TicketStatus::Dispatched => "已派发承办单位，等待签收",
        TicketStatus::Handling => "承办单位办理中",
        TicketStatus::Returned => "承办单位退回，热线重新派发中",
        TicketStatus::Replied => "承办单位已答复，热线审核中",
        TicketStatus::AwaitingCallback => "已答复，等待回访",
        TicketStatus::Closed => "已办结",
        TicketStatus::Merged => "与其他诉求合并办理",
        TicketStatus::Invalid => "无效诉求，不予办理",
    }
}

/// An event that changes what a citizen's client shows, as the `servicerequestupdates`
/// extension reads it: its status word and what it says. Other events are not updates.
pub fn update_of(kind: EventKind) -> Option<(&'static str, &'static str)> {
    use EventKind::*;
    Some(match kind {
        Answered => ("closed", "热线已直接答复"),
        Dispatched => ("in_progress", "已派发承办单位"),
        Signed => ("in_progress", "承办单位已签收"),
        Returned => ("investigating", "承办单位退回，热线重新派发中"),
        Forwarded => ("in_progress", "承办单位已转下级单位办理"),
        ExtensionApproved => ("in_progress", "办理时限已延长"),
        Replied => ("action_scheduled", "承办单位已答复"),
        ReviewRejected => ("in_progress", "答复未通过审核，重新办理"),
        CallbackRecorded => ("action_scheduled", "已回访"),
        Reopened => ("open", "重新办理"),
        Closed => ("closed", "已办结"),
        Merged => ("duplicate", "与其他诉求合并办理"),
        Invalidated => ("no_further_action", "无效诉求，不予办理"),
        _ => return None,
    })
}

/// The span a list covers: `start`–`end` as given, or the most recent 90 days up to `now`
/// (up to `end`, or from `start`, when only one is given). Longer spans are refused.
pub fn span(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let days = Duration::days(MAX_SPAN_DAYS);
    let (from, to) = match (start, end) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, (start + days).min(now.max(start))),
        (None, Some(end)) => (end - days, end),
        (None, None) => (now - days, now),
    };
    if to < from {
        return Err("end_date is before start_date".into());
    }
    if to - from > days {
        return Err(format!(
            "start_date and end_date span at most {MAX_SPAN_DAYS} days"
        ));
    }
    Ok((from, to))
}

/// A request as clients POST it, form-encoded, with `attribute[code]` fields.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RequestForm {
    pub api_key: Option<String>,
    pub service_code: Option<String>,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address_string: Option<String>,
    pub description: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub media_url: Option<String>,
    pub attributes: Vec<(String, String)>,
}

impl RequestForm {
    /// Reads the pairs of a form body; fields the specification does not name are ignored, as
    /// clients send their own (`jurisdiction_id`, `device_id`, `account_id` …).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in pairs {
            let value = Some(value.trim().to_owned()).filter(|v| !v.is_empty());
            match name.as_str() {
                "api_key" => form.api_key = value,
                "service_code" => form.service_code = value,
                "lat" => form.lat = value,
                "long" => form.long = value,
                "address_string" => form.address_string = value,
                "description" => form.description = value,
                "first_name" => form.first_name = value,
                "last_name" => form.last_name = value,
                "phone" => form.phone = value,
                "email" => form.email = value,
                "media_url" => form.media_url = value,
                other => {
                    if let (Some(code), Some(value)) = (
                        other
                            .strip_prefix("attribute[")
                            .and_then(|c| c.strip_suffix(']')),
                        value,
                    ) {
                        form.attributes.push((code.to_owned(), value));
                    }
                }
            }
        }
        form
    }

    pub fn attribute(&self, code: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, v)| v.as_str())
    }
}

/// The attribute codes a service definition offers.
pub const TYPE_ATTRIBUTE: &str = "type";
pub const AREA_ATTRIBUTE: &str = "area";

/// The registration a POSTed request stands for, in the service (category) `service_name`:
/// titled by the service, the description as its content (with the photo's address, which is
/// not fetched), the caller as the name parts given (family name first, as Chinese writes it).
/// `area` is the township the `area` attribute picked, already checked by the caller.
pub fn registration(
    form: &RequestForm,
    category_id: uuid::Uuid,
    service_name: &str,
    area_unit_id: Option<uuid::Uuid>,
) -> Result<RegistrationInput, (String, String)> {
    let coordinate = |field: &str, raw: &Option<String>| -> Result<Option<f64>, (String, String)> {
        raw.as_deref()
            .map(|r| {
                r.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| (field.to_owned(), format!("`{r}` is not a number")))
            })
            .transpose()
    };
    let latitude = coordinate("lat", &form.lat)?;
    let longitude = coordinate("long", &form.long)?;
    if latitude.is_some() != longitude.is_some() {
        return Err(("lat".into(), "lat and long are given together".into()));
    }
    if latitude.is_none() && form.address_string.is_none() {
        return Err((
            "address_string".into(),
            "a request names its place: lat and long, or address_string".into(),
        ));
    }
    let ticket_type = match form.attribute(TYPE_ATTRIBUTE) {
        None => TicketType::Report,
        Some(raw) => raw.parse().map_err(|_| {
            (
                format!("attribute[{TYPE_ATTRIBUTE}]"),
                format!("`{raw}` is not one of the type's values"),
            )
        })?,
    };
    let mut content = form
        .description
        .clone()
        .unwrap_or_else(|| service_name.to_owned());
    if let Some(media) = &form.media_url {
        content.push_str("\n照片：");
        content.push_str(media);
    }
    let caller_name = match (&form.last_name, &form.first_name) {
        (None, None) => None,
        (last, first) => Some(format!(
            "{}{}",
            last.as_deref().unwrap_or_default(),
            first.as_deref().unwrap_or_default()
        )),
    };
    Ok(RegistrationInput {
        channel: None,
        external_ref: None,
        ticket_type,
        category_id: Some(category_id),
        title: service_name.to_owned(),
        content,
        caller_name,
        caller_phone: form.phone.clone(),
        confidential: false,
        address: form.address_string.clone(),
        area_unit_id,
        latitude,
        longitude,
        priority: None,
    })
}

/// The XML element that holds each item of a list named `list`.
fn item_name(list: &str) -> &str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "attributes" => "attribute",
        "values" => "value",
        "errors" => "error",
        "service_request_updates" => "request_update",
        "endpoints" => "endpoint",
        "formats" => "format",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry these at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

fn element(name: &str, value: &Value, out: &mut String) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => escape(s, out),
        Value::Array(items) => {
            let item = item_name(name);
            for value in items {
                element(item, value, out);
            }
        }
        Value::Object(fields) => {
            for (key, value) in fields {
                element(key, value, out);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// An answer in `format`: JSON as it is, XML as the specification nests it, under `root` (a
/// list's items each in the element its name takes: `services` holds `service`s).
pub fn render(format: Format, root: &str, value: &Value) -> String {
    match format {
        Format::Json => value.to_string(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            element(root, value, &mut out);
            out
        }
    }
}

/// An error as the specification has it: `code` (the HTTP status) and a description.
pub fn errors(code: u16, description: &str) -> Value {
    serde_json::json!([{ "code": code, "description": description }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).unwrap()
    }

    #[test]
    fn lists_are_written_as_the_specification_nests_them() {
        let services = json!([{"service_code": "a&b", "metadata": true, "group": null}]);
        assert_eq!(
            render(Format::Xml, "services", &services),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service><group></group><metadata>true</metadata><service_code>a&amp;b</service_code></service></services>"
        );
        let definition =
            json!({"service_code": "x", "attributes": [{"values": [{"key": "k", "name": "<n>"}]}]});
        assert_eq!(
            render(Format::Xml, "service_definition", &definition),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_definition><attributes><attribute><values><value><key>k</key><name>&lt;n&gt;</name></value></values></attribute></attributes><service_code>x</service_code></service_definition>"
        );
        assert_eq!(
            render(Format::Xml, "errors", &errors(404, "no such request")),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>404</code><description>no such request</description></error></errors>"
        );
        assert_eq!(
            render(Format::Json, "errors", &errors(400, "x")),
            "[{\"code\":400,\"description\":\"x\"}]"
        );
        let mut control = String::new();
        escape("a\u{1}b\nc", &mut control);
        assert_eq!(control, "ab\nc");
    }

    #[test]
    fn every_status_is_open_or_closed_with_notes() {
        for status in TicketStatus::ALL {
            let word = super::status(*status);
            assert!(statuses_of(word).unwrap().contains(status), "{status:?}");
            assert!(!status_notes(*status).is_empty());
        }
        assert_eq!(statuses_of("pending"), None);
    }

    #[test]
    fn updates_are_the_events_a_citizen_would_be_told_of() {
        assert_eq!(update_of(EventKind::Closed).unwrap().0, "closed");
        assert_eq!(update_of(EventKind::Replied).unwrap().0, "action_scheduled");
        assert_eq!(update_of(EventKind::Urged), None);
        assert_eq!(update_of(EventKind::Registered), None);
    }

    #[test]
    fn lists_reach_back_ninety_days_at_most() {
        let now = at(30);
        assert_eq!(
            span(None, None, now).unwrap(),
            (now - Duration::days(90), now)
        );
        assert_eq!(
            span(Some(at(1)), Some(at(20)), now).unwrap(),
            (at(1), at(20))
        );
        assert_eq!(
            span(None, Some(at(20)), now).unwrap(),
            (at(20) - Duration::days(90), at(20))
        );
        assert_eq!(span(Some(at(1)), None, now).unwrap(), (at(1), now));
        assert!(span(Some(at(20)), Some(at(1)), now).is_err());
        assert!(span(Some(at(1) - Duration::days(91)), Some(at(1)), now).is_err());
    }

    #[test]
    fn a_form_becomes_a_registration_or_names_what_is_wrong() {
        let form = RequestForm::from_pairs([
            ("api_key".to_owned(), "t".to_owned()),
            ("service_code".to_owned(), "c".to_owned()),
            ("lat".to_owned(), "31.23".to_owned()),
            ("long".to_owned(), "121.47".to_owned()),
            ("description".to_owned(), "路灯不亮".to_owned()),
            ("first_name".to_owned(), "三".to_owned()),
            ("last_name".to_owned(), "张".to_owned()),
            ("phone".to_owned(), "13812345678".to_owned()),
            (
                "media_url".to_owned(),
                "https://img.example.cn/1.jpg".to_owned(),
            ),
            ("attribute[type]".to_owned(), "complaint".to_owned()),
            ("jurisdiction_id".to_owned(), "city.example.cn".to_owned()),
        ]);
        let category = uuid::Uuid::now_v7();
        let input = registration(&form, category, "路灯故障", None).unwrap();
        assert_eq!(input.title, "路灯故障");
        assert_eq!(
            input.content,
            "路灯不亮\n照片：https://img.example.cn/1.jpg"
        );
        assert_eq!(input.caller_name.as_deref(), Some("张三"));
        assert_eq!(input.ticket_type, TicketType::Complaint);
        assert_eq!(
            (input.latitude, input.longitude),
            (Some(31.23), Some(121.47))
        );
        assert_eq!(input.category_id, Some(category));

        let nowhere = RequestForm::from_pairs([("description".to_owned(), "x".to_owned())]);
        assert_eq!(
            registration(&nowhere, category, "s", None).unwrap_err().0,
            "address_string"
        );
        let half = RequestForm::from_pairs([("lat".to_owned(), "1".to_owned())]);
        assert_eq!(
            registration(&half, category, "s", None).unwrap_err().0,
            "lat"
        );
        let typed = RequestForm::from_pairs([
            ("address_string".to_owned(), "滨河路".to_owned()),
            ("attribute[type]".to_owned(), "nonsense".to_owned()),
        ]);
        assert_eq!(
            registration(&typed, category, "s", None).unwrap_err().0,
            "attribute[type]"
        );
        let plain = RequestForm::from_pairs([("address_string".to_owned(), "滨河路".to_owned())]);
        let input = registration(&plain, category, "占道经营", None).unwrap();
        assert_eq!(
            (input.content.as_str(), input.ticket_type),
            ("占道经营", TicketType::Report)
        );
    }
}
