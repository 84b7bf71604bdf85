//! The printable 交办单 of one ticket: what the hotline office hands a unit on paper, in the
//! bulletin's style, with the caller masked as the reader may see them.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::html::esc;
use super::labels;
use crate::domain::access::CallerVisibility;
use crate::domain::calendar::Due;
use crate::domain::masking::{mask_name, mask_phone};
use crate::domain::ticket::{Assignment, AssignmentRole, AssignmentStatus, Ticket};

/// Everything a sheet prints, names already looked up.
pub struct Sheet<'a> {
    pub hotline_name: &'a str,
    pub ticket: &'a Ticket,
    /// The name of the ticket's channel; its kind's when the channel is not found.
    pub channel: Option<&'a str>,
    pub assignments: &'a [Assignment],
    pub category: Option<&'a str>,
    pub area: Option<&'a str>,
    pub unit_names: &'a HashMap<Uuid, String>,
    pub caller: CallerVisibility,
    pub timezone: Tz,
    pub printed_at: DateTime<Utc>,
}

const STYLE: &str = r#"
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC", serif; color: #111; max-width: 760px; margin: 24px auto; padding: 0 24px; line-height: 1.6; }
h1 { font-size: 26px; text-align: center; color: #c00; letter-spacing: 4px; margin-bottom: 4px; }
.meta { display: flex; justify-content: space-between; font-size: 14px; border-bottom: 2px solid #c00; padding-bottom: 6px; }
table { border-collapse: collapse; width: 100%; margin: 14px 0; font-size: 14px; }
th, td { border: 1px solid #444; padding: 6px 8px; vertical-align: top; }
th { background: #f2f2f2; width: 7em; text-align: center; font-weight: normal; }
td.content { white-space: pre-wrap; min-height: 8em; }
table.units th { width: auto; }
.ask { font-size: 14px; text-indent: 2em; }
.sign td { height: 3em; }
@media print { body { margin: 0; max-width: none; } }
@media (max-width: 600px) {
  body { margin: 12px auto; padding: 0 10px; }
  h1 { font-size: 22px; letter-spacing: 1px; }
  .meta { flex-direction: column; }
  table.ticket tr { display: grid; grid-template-columns: 5.5em 1fr; }
  table.ticket th, table.ticket td { display: block; width: auto; }
  table.units { font-size: 13px; }
}
"#;

impl Sheet<'_> {
    fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.timezone)
            .format("%Y年%-m月%-d日 %H:%M")
            .to_string()
    }

    fn unit(&self, id: Uuid) -> String {
        self.unit_names
            .get(&id)
            .map(|n| esc(n))
            .unwrap_or_else(|| id.to_string())
    }

    /// A due time with the limit it came from, so that the unit can check it.
    fn due(&self, due: &Due) -> String {
        let limit = due
            .limit
            .map(|l| format!("（{}）", labels::limit(l)))
            .unwrap_or_else(|| "（人工指定）".to_owned());
        format!("{}{limit}", self.local(due.due_at))
    }

    fn caller(&self) -> (String, String) {
        let d = &self.ticket.details;
        match self.caller {
            CallerVisibility::Hidden => ("（保密）".to_owned(), "（保密）".to_owned()),
            _ => (
                d.caller_name.as_deref().map(mask_name).unwrap_or_default(),
                d.caller_phone
                    .as_deref()
                    .map(mask_phone)
                    .unwrap_or_default(),
            ),
        }
    }
}

pub fn render(sheet: &Sheet<'_>) -> String {
    let t = sheet.ticket;
    let d = &t.details;
    let title = format!("{}工单交办单", sheet.hotline_name);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\"><title>{t_} {n}</title><style>{STYLE}</style></head><body>\n<h1>{t_}</h1>\n<div class=\"meta\"><span>工单编号：{n}</span><span>打印时间：{p}</span></div>\n",
        t_ = esc(&title),
        n = esc(&t.number),
        p = sheet
            .printed_at
            .with_timezone(&sheet.timezone)
            .format("%Y年%-m月%-d日 %H:%M"),
    );
    let (name, phone) = sheet.caller();
    let row = |out: &mut String, pairs: &[(&str, String)]| {
        out.push_str("<tr>");
        for (label, value) in pairs {
            let _ = write!(out, "<th>{label}</th><td>{value}</td>");
        }
        out.push_str("</tr>\n");
    };
    out.push_str("<table class=\"ticket\">\n");
    row(
        &mut out,
        &[
            ("登记时间", sheet.local(t.created_at)),
            (
                "来源渠道",
                esc(sheet.channel.unwrap_or(labels::channel(t.channel))),
            ),
        ],
    );
    row(
        &mut out,
        &[
            ("诉求类型", labels::ticket_type(d.ticket_type).to_owned()),
            ("紧急程度", labels::priority(d.priority).to_owned()),
        ],
    );
    row(
        &mut out,
        &[("来电人", esc(&name)), ("联系电话", esc(&phone))],
    );
    row(
        &mut out,
        &[
            ("问题分类", sheet.category.map(esc).unwrap_or_default()),
            ("所属属地", sheet.area.map(esc).unwrap_or_default()),
        ],
    );
    let _ = write!(
        out,
        "<tr><th>事发地址</th><td colspan=\"3\">{}</td></tr>\n<tr><th>标题</th><td colspan=\"3\">{}</td></tr>\n<tr><th>诉求内容</th><td colspan=\"3\" class=\"content\">{}</td></tr>\n</table>\n",
        d.address.as_deref().map(esc).unwrap_or_default(),
        esc(&d.title),
        esc(&d.content),
    );

    let current: Vec<&Assignment> = sheet
        .assignments
        .iter()
        .filter(|a| a.round == t.progress.current_round && a.status != AssignmentStatus::Returned)
        .collect();
    if current.is_empty() {
        out.push_str("<p class=\"ask\">本工单尚未交办。</p>\n");
    } else {
        out.push_str("<table class=\"units\">\n<tr><th>承办类别</th><th>承办单位</th><th>交办时间</th><th>签收时限</th><th>办结时限</th></tr>\n");
        // The primary unit first: it answers for the ticket.
        let mut ordered = current.clone();
        ordered.sort_by_key(|a| a.role != AssignmentRole::Primary);
        for a in ordered {
            let role = match a.role {
                AssignmentRole::Primary => "主办",
                AssignmentRole::Assisting => "协办",
                AssignmentRole::Forwarded => "二级转办",
            };
            let _ = writeln!(
                out,
                "<tr><td>{role}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                sheet.unit(a.unit_id),
                sheet.local(a.dispatched_at),
                sheet.due(&a.sign_deadline),
                sheet.due(&a.reply_deadline),
            );
        }
        out.push_str("</table>\n");
        out.push_str("<p class=\"ask\">请承办单位在签收时限内签收，在办结时限内与诉求人联系并办理答复，答复须载明联系时间、方式和办理结果；不属于本单位职责的，请在签收时限内说明理由退回。</p>\n");
    }
    out.push_str("<table class=\"sign\">\n<tr><th>签收人</th><td></td><th>签收时间</th><td></td></tr>\n</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::channel::ChannelChoice;
    use crate::domain::ticket::{Channel, Priority, TicketDetails, TicketDraft, TicketType};

    fn ticket_for_sheet(title: &str, name: Option<&str>, phone: Option<&str>) -> Ticket {
        TicketDraft {
            channel: ChannelChoice::new(None, None),
            external_ref: None,
            details: TicketDetails {
                ticket_type: TicketType::Complaint,
                category_id: None,
                title: title.to_owned(),
                content: "夜间施工".to_owned(),
                caller_name: name.map(str::to_owned),
                caller_phone: phone.map(str::to_owned),
                confidential: false,
                address: None,
                area_unit_id: None,
                location: None,
                priority: Priority::Normal,
            },
        }
        .registered(
            Channel::Phone,
            Uuid::now_v7(),
            "20261201-0001".into(),
            Uuid::now_v7(),
            Utc::now(),
        )
    }

    #[test]
    fn a_hidden_caller_prints_nothing_of_them_and_text_is_escaped() {
        let ticket = ticket_for_sheet("<b>噪音</b>", Some("张三丰"), Some("13812345678"));
        let names = HashMap::new();
        let sheet = |caller| Sheet {
            hotline_name: "某县12345",
            ticket: &ticket,
            channel: Some("市县长<信箱>"),
            assignments: &[],
            category: Some("城市管理—噪音"),
            area: None,
            unit_names: &names,
            caller,
            timezone: chrono_tz::Asia::Shanghai,
            printed_at: ticket.created_at,
        };
        let masked = render(&sheet(CallerVisibility::Masked));
        assert!(
            masked.contains("<th>来源渠道</th><td>市县长&lt;信箱&gt;</td>"),
            "{masked}"
        );
        assert!(masked.contains("&lt;b&gt;噪音&lt;/b&gt;"));
        assert!(!masked.contains("13812345678"));
        assert!(masked.contains(&mask_phone("13812345678")));
        assert!(masked.contains("本工单尚未交办"));
        let hidden = render(&sheet(CallerVisibility::Hidden));
        assert!(!hidden.contains(&mask_phone("13812345678")));
        assert!(!hidden.contains(&mask_name("张三丰")));
        assert!(hidden.contains("（保密）"));
    }
}
