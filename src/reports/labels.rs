//! How the bulletins name things, in Chinese.

use crate::domain::access::Role;
use crate::domain::assessment::Figure;
use crate::domain::calendar::{Limit, LimitUnit};
use crate::domain::directory::UnitKind;
use crate::domain::lifecycle::{CloseReason, ContactMethod, ReplyResult, Satisfaction};
use crate::domain::ticket::{
    AssignmentRole, AssignmentStatus, Channel, EventKind, Priority, TicketStatus, TicketType,
};

pub fn role(role: Role) -> &'static str {
    match role {
        Role::Agent => "话务员",
        Role::Dispatcher => "派单员",
        Role::UnitHandler => "承办单位",
        Role::Supervisor => "督办员",
        Role::Admin => "管理员",
        Role::Integration => "系统对接",
    }
}

pub fn channel(channel: Channel) -> &'static str {
    match channel {
        Channel::Phone => "12345电话",
        Channel::Web => "网站留言",
        Channel::Wechat => "微信",
        Channel::App => "手机APP",
        Channel::Mailbox => "领导信箱",
        Channel::UpperPlatform => "上级交办",
        Channel::Open311 => "开放接口",
        Channel::Other => "其他渠道",
    }
}

pub fn ticket_type(ticket_type: TicketType) -> &'static str {
    match ticket_type {
        TicketType::Consult => "咨询",
        TicketType::Help => "求助",
        TicketType::Complaint => "投诉",
        TicketType::Report => "举报",
        TicketType::Suggestion => "建议",
        TicketType::Praise => "表扬",
        TicketType::Other => "其他",
    }
}

pub fn ticket_status(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Registered => "待派发",
        TicketStatus::Dispatched => "待签收",
        TicketStatus::Handling => "办理中",
        TicketStatus::Returned => "已退回",
        TicketStatus::Replied => "待审核",
        TicketStatus::AwaitingCallback => "待回访",
        TicketStatus::Closed => "已办结",
        TicketStatus::Merged => "已合并",
        TicketStatus::Invalid => "无效",
    }
}

pub fn priority(priority: Priority) -> &'static str {
    match priority {
        Priority::Normal => "一般",
        Priority::Urgent => "紧急",
    }
}

/// A time limit as a 交办单 states it: `5个工作日`, `4个工作小时`, `2小时`.
pub fn limit(limit: Limit) -> String {
    match limit {
        Limit::WorkingDays(n) => format!("{n}个工作日"),
        Limit::WorkingHours(n) => format!("{n}个工作小时"),
        Limit::Hours(n) => format!("{n}小时"),
    }
}

/// What a limit counts in, as a form's choice names it.
pub fn limit_unit(unit: LimitUnit) -> &'static str {
    match unit {
        LimitUnit::WorkingDays => "个工作日",
        LimitUnit::WorkingHours => "个工作小时",
        LimitUnit::Hours => "小时",
    }
}

pub fn unit_kind(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Department => "部门",
        UnitKind::Township => "乡镇街道",
        UnitKind::Enterprise => "企事业单位",
        UnitKind::Center => "热线中心",
    }
}

pub fn figure(figure: Figure) -> &'static str {
    match figure {
        Figure::ResponseRate => "响应率",
        Figure::CompletionRate => "办结率",
        Figure::OnTimeRate => "按期办结率",
        Figure::ReworkRate => "返工率",
        Figure::CallbackRate => "回访率",
        Figure::SatisfactionRate => "满意率",
        Figure::ResolutionRate => "解决率",
        Figure::Received => "承办量",
        Figure::UrgesSystem => "系统催办",
        Figure::UrgesManual => "人工催办",
        Figure::Overdue => "逾期",
        Figure::Supervisions => "督办",
        Figure::Returns => "退单",
        Figure::Reworks => "返工",
        Figure::Dissatisfied => "不满意",
    }
}

/// A ratio as the bulletins print it: one decimal and a percent sign; a dash when there was
/// nothing to count.
pub fn percent(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".to_owned(),
    }
}

/// A change against an earlier count (环比, 同比): `+12.5%`, `-3.0%`, or a dash when there was
/// nothing to compare with.
pub fn change(ratio: Option<f64>) -> String {
    match ratio {
        Some(r) if r >= 0.0 => format!("+{:.1}%", r * 100.0),
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".to_owned(),
    }
}

/// A share or a rate in a sentence, as the bulletins' prose prints them: two decimals at most,
/// trailing zeros dropped ("5.8%", "14.16%", "15%"); none when there was nothing to count.
pub fn percent_in_prose(ratio: Option<f64>) -> Option<String> {
    let hundredths = (ratio? * 10_000.0).round() as i64;
    let text = format!("{}.{:02}", hundredths / 100, (hundredths % 100).abs());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    let sign = if hundredths < 0 && !text.starts_with('-') {
        "-"
    } else {
        ""
    };
    Some(format!("{sign}{text}%"))
}

/// A change in a sentence, after 环比 or 同比: "增幅39.34%", "减幅15%", "持平"; none when there
/// was nothing to compare with.
pub fn change_in_prose(ratio: Option<f64>) -> Option<String> {
    let ratio = ratio?;
    let size = percent_in_prose(Some(ratio.abs()))?;
    Some(match size.as_str() {
        "0%" => "持平".to_owned(),
        _ if ratio > 0.0 => format!("增幅{size}"),
        _ => format!("减幅{size}"),
    })
}

/// How a bulletin speaks of its period and of those it is compared with: 本月 and 上月 in a
/// month's, 本季度 and 上季度 in a quarter's, 本年 and 上年 in a year's, 本期 and 上期 otherwise.
pub struct SpanWords {
    /// 本月
    pub this: &'static str,
    /// 上月
    pub previous: &'static str,
    /// 个月 (前3个月)
    pub unit: &'static str,
    /// 月均
    pub average: &'static str,
    /// Whether the span just before is another comparison than the same months a year before
    /// (it is the same for a span of twelve months: a year compares once, 同比) …
    pub compares_previous: bool,
    /// … and what the comparison with the span just before is called: 环比, or 同比 when it is
    /// the year before.
    pub against_previous: &'static str,
}

pub fn span_words(span: crate::domain::period::Span) -> SpanWords {
    use crate::domain::period::SpanKind;
    let (this, previous, unit, average) = match span.kind() {
        SpanKind::Month => ("本月", "上月", "个月", "月均"),
        SpanKind::Quarter => ("本季度", "上季度", "个季度", "季均"),
        SpanKind::Year => ("本年", "上年", "年", "年均"),
        SpanKind::Half | SpanKind::Months => ("本期", "上期", "期", "期均"),
    };
    let compares_previous = !span.previous_is_a_year_earlier();
    SpanWords {
        this,
        previous,
        unit,
        average,
        compares_previous,
        against_previous: if compares_previous {
            "环比"
        } else {
            "同比"
        },
    }
}

/// The days a bulletin covers, as the bulletins print them: "2026年8月1日至8月31日", the year
/// repeated when the span crosses one.
pub fn span_days(span: crate::domain::period::Span) -> String {
    use chrono::Datelike;
    let first = span.first().first_day();
    let last = span
        .last()
        .next()
        .first_day()
        .pred_opt()
        .expect("a day before");
    if first.year() == last.year() {
        format!(
            "{}年{}至{}",
            first.year(),
            month_day(first),
            month_day(last)
        )
    } else {
        format!(
            "{}年{}至{}年{}",
            first.year(),
            month_day(first),
            last.year(),
            month_day(last)
        )
    }
}

/// A small count as the bulletins write it in words (排名前三); larger ones in digits.
pub fn count_in_words(n: usize) -> String {
    const WORDS: [&str; 11] = [
        "零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

/// A day of a bulletin's period as the bulletins print it: "8月1日".
pub fn month_day(day: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}月{}日", day.month(), day.day())
}

/// A score: no decimals when whole, as the bulletins print them.
pub fn points(value: f64) -> String {
    // Rounded first, so that nothing prints as `-0` or `98.0`; `+ 0.0` turns -0 into 0.
    let value = (value * 10.0).round() / 10.0 + 0.0;
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// What happened, as the timeline names it.
pub fn event(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Registered => "登记",
        EventKind::Edited => "修改登记信息",
        EventKind::Answered => "直接答复",
        EventKind::Dispatched => "派单",
        EventKind::Signed => "签收",
        EventKind::Returned => "退回",
        EventKind::ExtensionRequested => "申请延期",
        EventKind::ExtensionApproved => "同意延期",
        EventKind::ExtensionRejected => "不同意延期",
        EventKind::Replied => "答复",
        EventKind::OpinionAdded => "提出协办意见",
        EventKind::ReviewAccepted => "审核通过",
        EventKind::ReviewRejected => "审核退回重办",
        EventKind::CallbackRecorded => "回访",
        EventKind::Reopened => "重启",
        EventKind::Closed => "办结",
        EventKind::Merged => "合并到另一工单",
        EventKind::Invalidated => "作废",
        EventKind::Urged => "催办",
        EventKind::MarkedOverdue => "超期",
        EventKind::CallbackReminded => "提醒回访",
        EventKind::Paused => "暂停",
        EventKind::Resumed => "恢复办理",
        EventKind::SupervisionOpened => "督办",
        EventKind::SupervisionClosed => "结束督办",
        EventKind::Recalled => "撤回派单",
        EventKind::Forwarded => "转办下级单位",
        EventKind::ForwardReturned => "退回上级单位",
        EventKind::ReturnAccepted => "同意退回",
        EventKind::ReturnRefused => "不同意退回",
        EventKind::DuplicateMerged => "并入一件重复工单",
        EventKind::AppealFiled => "提出申诉",
        EventKind::AppealDecided => "申诉裁定",
    }
}

pub fn assignment_role(role: AssignmentRole) -> &'static str {
    match role {
        AssignmentRole::Primary => "主办",
        AssignmentRole::Assisting => "协办",
        AssignmentRole::Forwarded => "二级转办",
    }
}

pub fn assignment_status(status: AssignmentStatus) -> &'static str {
    match status {
        AssignmentStatus::Dispatched => "待签收",
        AssignmentStatus::Signed => "办理中",
        AssignmentStatus::Returned => "已退回",
        AssignmentStatus::Replied => "已答复",
        AssignmentStatus::Closed => "已结束",
    }
}

pub fn reply_result(result: ReplyResult) -> &'static str {
    match result {
        ReplyResult::Resolved => "已解决",
        ReplyResult::PartiallyResolved => "部分解决",
        ReplyResult::Explained => "已解释说明",
        ReplyResult::Unresolvable => "无法解决",
    }
}

pub fn article_status(status: crate::domain::knowledge::ArticleStatus) -> &'static str {
    use crate::domain::knowledge::ArticleStatus;
    match status {
        ArticleStatus::Draft => "草稿",
        ArticleStatus::InReview => "待审核",
        ArticleStatus::Published => "已发布",
        ArticleStatus::Archived => "已归档",
    }
}

pub fn contact_method(method: ContactMethod) -> &'static str {
    match method {
        ContactMethod::Phone => "电话",
        ContactMethod::Visit => "上门/现场",
        ContactMethod::Sms => "短信",
        ContactMethod::Wechat => "微信",
        ContactMethod::Other => "其他",
    }
}

pub fn satisfaction(satisfaction: Satisfaction) -> &'static str {
    match satisfaction {
        Satisfaction::Satisfied => "满意",
        Satisfaction::BasicallySatisfied => "基本满意",
        Satisfaction::Dissatisfied => "不满意",
    }
}

pub fn close_reason(reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::Answered => "直接答复办结",
        CloseReason::Satisfied => "回访满意办结",
        CloseReason::Dissatisfied => "回访不满意办结",
        CloseReason::Unreachable => "回访未联系上办结",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_the_bulletins_print_them() {
        assert_eq!(percent(Some(1318.0 / 4480.0)), "29.4%");
        assert_eq!(percent(Some(21.0 / 4480.0)), "0.5%");
        assert_eq!(percent(Some(1345.0 / 4480.0)), "30.0%");
        assert_eq!(percent(None), "—");
        assert_eq!(change(Some(0.3934)), "+39.3%");
        assert_eq!(change(Some(-0.1073)), "-10.7%");
        assert_eq!(points(105.0), "105");
        assert_eq!(points(98.3), "98.3");
        assert_eq!(points(-0.0), "0");
        assert_eq!(points(-0.04), "0");
        assert_eq!(points(97.96), "98");
        assert_eq!(points(-2.5), "-2.5");
        assert_eq!(percent_in_prose(Some(75.0 / 1292.0)).unwrap(), "5.8%");
        assert_eq!(percent_in_prose(Some(0.1416)).unwrap(), "14.16%");
        assert_eq!(percent_in_prose(Some(0.15)).unwrap(), "15%");
        assert_eq!(percent_in_prose(Some(0.0)).unwrap(), "0%");
        assert_eq!(percent_in_prose(Some(-0.004)).unwrap(), "-0.4%");
        assert_eq!(percent_in_prose(None), None);
        assert_eq!(change_in_prose(Some(0.393_44)).unwrap(), "增幅39.34%");
        assert_eq!(change_in_prose(Some(-0.15)).unwrap(), "减幅15%");
        assert_eq!(change_in_prose(Some(0.000_01)).unwrap(), "持平");
        assert_eq!(change_in_prose(None), None);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        assert_eq!(month_day(day), "8月1日");
        assert_eq!(
            (count_in_words(3), count_in_words(12)),
            ("三".into(), "12".into())
        );
        let span = |text: &str| crate::domain::period::Span::parse(text).unwrap();
        assert_eq!(span_days(span("2026-08")), "2026年8月1日至8月31日");
        assert_eq!(
            span_days(span("2025-11..2026-02")),
            "2025年11月1日至2026年2月28日"
        );
        assert_eq!(span_words(span("2026-Q3")).previous, "上季度");
        assert_eq!(span_words(span("2026")).this, "本年");
        assert_eq!(limit(Limit::WorkingDays(5)), "5个工作日");
        assert_eq!(limit(Limit::Hours(2)), "2小时");
    }
}
