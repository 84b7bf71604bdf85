//! The printable bulletin: one self-contained HTML page in Chinese, laid out like the
//! bulletins hotline offices publish, with SVG charts where theirs have charts (图一: this
//! month against last by channel; 图二: by category; 图三: the daily volume).

use std::fmt::Write;

use super::bulletin::{Bulletin, ChannelSection, GroupSummary, Handling, Named, State};
use super::labels;
use super::tables::{self, Table};
use crate::domain::assessment::OpeningRates;
use crate::domain::period::SpanKind;
use chrono::Datelike;

/// Escapes text for HTML and SVG.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn table_html(out: &mut String, table: &Table) {
    let _ = write!(
        out,
        "<table class=\"{}\"><caption>{}</caption><thead><tr>",
        table.name,
        esc(&table.title)
    );
    for h in &table.header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let class = match cell {
                tables::Cell::Text(_) => "",
                _ => " class=\"n\"",
            };
            let _ = write!(out, "<td{class}>{}</td>", esc(&cell.text()));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn figure(out: &mut String, title: &str, svg: &str) {
    let _ = writeln!(
        out,
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        esc(title)
    );
}

/// One series of a bar chart.
struct Series<'a> {
    label: &'a str,
    values: Vec<u64>,
    color: &'a str,
}

/// A grouped bar chart: one group of bars per category, one bar per series. The title names
/// it for screen readers; the figure's caption prints it.
fn bar_chart(title: &str, categories: &[String], series: &[Series<'_>]) -> String {
    // Long or many labels turn, all of them, to stay readable.
    let longest = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    let turned = longest > 6 || (categories.len() > 12 && longest > 2);
    // A turned label runs down and to the left of its bar: the margins make room for the
    // longest, at the width of an ideograph of the labels' font.
    let (sin, cos) = LABEL_TURN_DEGREES.to_radians().sin_cos();
    let label_w = LABEL_FONT_PX * longest as f64;
    let (width, plot_h) = (720.0_f64, 220.0_f64);
    let (right, top) = (12.0, 28.0);
    let bottom = if turned { label_w * sin + 24.0 } else { 24.0 };
    let mut left = 48.0_f64;
    if turned {
        // The first label ends half a group right of the plot's edge.
        let first_group = (width - left - right) / categories.len().max(1) as f64;
        left = left.max(label_w * cos - first_group / 2.0 + 4.0);
    }
    let height = top + plot_h + bottom;
    let plot_w = width - left - right;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let step = nice_step(max);
    let ceiling = max.div_ceil(step) * step;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        t = esc(title)
    );
    let mut tick = 0;
    while tick <= ceiling {
        let y = top + plot_h - plot_h * tick as f64 / ceiling as f64;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" class=\"ax\">{tick}</text>",
            width - right,
            left - 4.0,
            y + 4.0
        );
        tick += step;
    }
    let group_w = plot_w / categories.len().max(1) as f64;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).min(28.0);
    for (i, category) in categories.iter().enumerate() {
        let group_x = left + group_w * i as f64 + (group_w - bar_w * series.len() as f64) / 2.0;
        for (k, s) in series.iter().enumerate() {
            let value = s.values.get(i).copied().unwrap_or(0);
            let h = plot_h * value as f64 / ceiling as f64;
            let x = group_x + bar_w * k as f64;
            let y = top + plot_h - h;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {value}</title></rect>",
                (bar_w - 2.0).max(1.0),
                s.color,
                esc(category),
                esc(s.label)
            );
        }
        let cx = left + group_w * (i as f64 + 0.5);
        let ly = top + plot_h + 14.0;
        if turned {
            let _ = write!(
                svg,
                "<text x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"end\" transform=\"rotate(-{LABEL_TURN_DEGREES} {cx:.1} {ly:.1})\" class=\"ax\">{}</text>",
                esc(category)
            );
        } else {
            let _ = write!(
                svg,
                "<text x=\"{cx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\" class=\"ax\">{}</text>",
                esc(category)
            );
        }
    }
    for (k, s) in series.iter().enumerate() {
        let x = width - right - 150.0 + 75.0 * k as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"15\" class=\"ax\">{}</text>",
            s.color,
            x + 14.0,
            esc(s.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The font size of a chart's labels (`svg text` in [`STYLE`]), about the width of one ideograph.
const LABEL_FONT_PX: f64 = 11.0;
/// How far long labels turn.
const LABEL_TURN_DEGREES: f64 = 40.0;

/// A round step for an axis reaching `max`: 1, 2 or 5 times a power of ten, about five ticks.
fn nice_step(max: u64) -> u64 {
    let rough = (max as f64 / 5.0).max(1.0);
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude);
    step.max(1.0) as u64
}

/// The period as a sentence starts with it: "10月份" in a month's bulletin, "2026年第三季度"
/// in a longer one's.
fn period_name(b: &Bulletin) -> String {
    let span = b.span();
    match span.kind() {
        SpanKind::Month => format!("{}月份", span.last().month()),
        _ => span.label(),
    }
}

/// The opening paragraph: the volume, its changes, direct answers and dispatches, and the rates
/// the rules' layout asks for, each named for what it counts.
fn opening(b: &Bulletin) -> String {
    let v = &b.volume;
    let share = |n: u64| {
        labels::percent_in_prose((v.total > 0).then(|| n as f64 / v.total as f64))
            .unwrap_or_default()
    };
    let mut text = format!(
        "{}共受理群众诉求{}件，日均{:.1}件",
        period_name(b),
        v.total,
        v.daily_average
    );
    if let Some(average) = v.working_day_average {
        let _ = write!(text, "（工作日日均{average:.1}件）");
    }
    let compared = if labels::span_words(b.span()).compares_previous {
        vec![("环比", v.month_on_month), ("同比", v.year_on_year)]
    } else {
        vec![("同比", v.year_on_year)]
    };
    for (name, change) in compared {
        if let Some(change) = labels::change_in_prose(change) {
            let _ = write!(text, "，{name}{change}");
        }
    }
    text.push('。');
    if v.total > 0 {
        let _ = write!(
            text,
            "其中直接答复办结（直办）{}件，占{}；转交承办单位办理（转办）{}件，占{}。",
            v.direct,
            share(v.direct),
            v.dispatched,
            share(v.dispatched)
        );
    }
    let channels: Vec<String> = v
        .by_channel
        .iter()
        .filter(|s| s.count > 0)
        .map(|s| format!("{}{}件", s.label, s.count))
        .collect();
    if channels.len() > 1 {
        let _ = write!(text, "从受理渠道看，{}。", channels.join("，"));
    }
    let rates = |names: &[(&str, Option<f64>)]| {
        names
            .iter()
            .filter_map(|(name, rate)| {
                labels::percent_in_prose(*rate).map(|r| format!("{name}{r}"))
            })
            .collect::<Vec<_>>()
            .join("，")
    };
    let h = &b.hotline.rates;
    // Completion and replies on time are of dispatched tickets alone, whichever figures.
    let handled = |d: &crate::domain::figures::Rates| {
        rates(&[
            ("办结率", d.completion_rate),
            ("按期办结率", d.on_time_rate),
        ])
    };
    let called = |d: &crate::domain::figures::Rates| {
        rates(&[
            ("回访率", d.callback_rate),
            ("满意率", d.satisfaction_rate),
            ("解决率", d.resolution_rate),
        ])
    };
    let dispatched = b.dispatched.as_ref().map(|d| &d.rates);
    let parts: Vec<String> = match (b.layout.opening_rates, dispatched) {
        (OpeningRates::Dispatched, Some(d)) => {
            vec![format!("转办事项{}", join(&[handled(d), called(d)]))]
        }
        (OpeningRates::Both, Some(d)) => vec![
            format!("转办事项{}", join(&[handled(d), called(d)])),
            format!("全部事项（含直办）{}", called(h)),
        ],
        _ => vec![
            format!("全部事项（含直办）{}", called(h)),
            format!("转办事项{}", handled(h)),
        ],
    };
    let parts: Vec<String> = parts.into_iter().filter(|p| p.ends_with('%')).collect();
    if !parts.is_empty() {
        text.push_str(&parts.join("；"));
        text.push('。');
    }
    text
}

/// What units did with the month's work, the units with most tickets, and those falling short.
fn handling_paragraph(period: &str, against: &str, h: &Handling) -> String {
    let mut text = format!(
        "{period}共向{}个部门（单位）转办工单{}件，处办中{}件，逾期{}件，二次转办{}件。",
        h.units, h.dispatched, h.in_progress, h.overdue, h.forwards
    );
    let _ = write!(text, "工单结案数{}件", h.closed);
    if let Some(change) = labels::change_in_prose(h.closed_month_on_month) {
        let difference = h.closed.abs_diff(h.previous_closed);
        let _ = match h.closed.cmp(&h.previous_closed) {
            std::cmp::Ordering::Greater => write!(text, "，{against}增加{difference}件，{change}"),
            std::cmp::Ordering::Less => write!(text, "，{against}减少{difference}件，{change}"),
            std::cmp::Ordering::Equal => write!(text, "，{against}{change}"),
        };
    }
    text.push('。');
    if !h.busiest.is_empty() {
        let _ = write!(
            text,
            "承办量较多的部门（单位）排名前{}：{}。",
            labels::count_in_words(h.busiest.len()),
            h.busiest
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join("、")
        );
    }
    for shortfall in &h.shortfalls {
        if shortfall.units.is_empty() {
            continue;
        }
        let _ = write!(
            text,
            "{}未达到{}的部门（单位）：{}。",
            shortfall.label,
            labels::percent_in_prose(Some(shortfall.below)).unwrap_or_default(),
            shortfall
                .units
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join("、")
        );
    }
    text
}

/// A channel reported on apart, as the seeds print the mayor's mailbox: what came in by type,
/// what was to be handled and was, completion and satisfaction.
fn channel_paragraph(period: &str, c: &ChannelSection) -> String {
    if c.total == 0 {
        return format!("{period}，{}未受理诉求。", c.name);
    }
    let mut text = format!("{period}，{}共受理诉求{}件", c.name, c.total);
    if !c.by_type.is_empty() {
        let types: Vec<String> = c
            .by_type
            .iter()
            .map(|t| {
                let class = if t.label.ends_with('类') { "" } else { "类" };
                format!("{}{class}{}件", t.label, t.count)
            })
            .collect();
        let _ = write!(text, "，其中{}", types.join("、"));
    }
    let _ = write!(text, "，应办{}件，已办{}件", c.to_handle, c.closed);
    for (name, rate) in [
        ("办结率", c.completion_rate),
        ("满意率", c.satisfaction_rate),
    ] {
        if let Some(rate) = labels::percent_in_prose(rate) {
            let _ = write!(text, "，{name}{rate}");
        }
    }
    text.push('。');
    text
}

/// Parts of a sentence that are not empty, apart by commas.
fn join(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("，")
}

/// A group's paragraph: how many units, their grades, the best ranked and the lists, and the
/// units without tickets; a sentence with nothing to say is left out.
fn group_paragraph(g: &GroupSummary, words: &labels::SpanWords) -> String {
    let assessed = g.units - g.idle.len() - g.ungraded.len();
    let mut text = format!("{}共{}家", g.name, g.units);
    if assessed > 0 {
        let grades = g
            .grades
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(grade, n)| format!("{grade}类{n}家"))
            .collect::<Vec<_>>()
            .join("、");
        if g.idle.is_empty() {
            let _ = write!(text, "，考核等级{grades}。");
        } else {
            let _ = write!(text, "，参加考核的{assessed}家中{grades}。");
        }
    } else {
        text.push('。');
    }
    let threshold = if g.min_received > 0 {
        format!("承办量{}件以上的", g.min_received)
    } else {
        String::new()
    };
    if !g.top.is_empty() {
        let _ = write!(
            text,
            "{threshold}{}综合考核得分排名前列的是：{}。",
            g.name,
            names(&g.top)
        );
    } else if assessed > 0 && g.min_received > 0 {
        let _ = write!(
            text,
            "{}没有承办量达到{}件的单位，不作排名。",
            words.this, g.min_received
        );
    }
    match (g.red_list.is_empty(), g.black_list.is_empty()) {
        (true, true) => {}
        (false, true) => {
            let _ = write!(text, "红榜：{}。", names(&g.red_list));
        }
        (true, false) => {
            let _ = write!(text, "黑榜：{}。", names(&g.black_list));
        }
        (false, false) => {
            let _ = write!(
                text,
                "红榜：{}；黑榜：{}。",
                names(&g.red_list),
                names(&g.black_list)
            );
        }
    }
    if !g.idle.is_empty() {
        let _ = write!(
            text,
            "{}{}无承办件，不参加考核。",
            g.idle.join("、"),
            words.this
        );
    }
    if !g.ungraded.is_empty() {
        let _ = write!(text, "{}不参加考核。", g.ungraded.join("、"));
    }
    text
}

fn names(list: &[Named]) -> String {
    list.iter()
        .map(|n| format!("{}({}分)", n.name, labels::points(n.total)))
        .collect::<Vec<_>>()
        .join("、")
}

/// The Content-Security-Policy source that lets a browser apply the bulletin's own inline
/// stylesheet and no other.
pub fn style_digest() -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(STYLE.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

const STYLE: &str = r#"
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC", serif; color: #111; max-width: 960px; margin: 24px auto; padding: 0 24px; line-height: 1.75; }
h1 { font-size: 26px; text-align: center; color: #c00; letter-spacing: 2px; margin-bottom: 4px; }
.meta { text-align: center; font-size: 14px; color: #333; border-bottom: 2px solid #c00; padding-bottom: 8px; }
.state { color: #c00; font-weight: bold; }
h2 { font-size: 19px; font-family: "SimHei", "Heiti SC", "Noto Sans CJK SC", sans-serif; margin-top: 28px; }
p { text-indent: 2em; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 12px 0 20px; font-size: 13px; page-break-inside: auto; }
caption { font-weight: bold; font-size: 15px; padding: 6px; }
th, td { border: 1px solid #444; padding: 3px 6px; }
th { background: #f2f2f2; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.units { font-size: 11px; }
table.units th, table.units td { padding: 2px 3px; }
table.units td { white-space: nowrap; }
tr { page-break-inside: avoid; }
figure { margin: 16px 0; text-align: center; page-break-inside: avoid; }
figcaption { font-size: 14px; font-weight: bold; }
svg { width: 100%; height: auto; }
svg text { font-size: 11px; fill: #222; }
svg .grid { stroke: #ddd; stroke-width: 1; }
ol li { margin: 4px 0; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; } }
"#;

pub fn render(b: &Bulletin) -> String {
    let all = tables::tables(b);
    let find = |name: &str| all.iter().find(|t| t.name == name);
    let v = &b.volume;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(&b.title)
    );
    let local = |at: chrono::DateTime<chrono::Utc>| {
        b.timezone
            .parse::<chrono_tz::Tz>()
            .map(|tz| {
                at.with_timezone(&tz)
                    .format("%Y年%-m月%-d日 %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|_| at.to_rfc3339())
    };
    let state = match b.state {
        State::Draft => "草稿，未发布".to_owned(),
        State::Published => format!("已于{}发布", b.published_at.map(local).unwrap_or_default()),
        State::Restated => "按现有数据重新计算（与已发布数据并列参阅）".to_owned(),
    };
    let period = labels::span_days(b.span());
    let words = labels::span_words(b.span());
    let _ = writeln!(
        out,
        "<div class=\"meta\">统计期间：{period}　数据截至{}　<span class=\"state\">{}</span></div>",
        local(b.as_of),
        esc(&state)
    );

    out.push_str("<h2>一、受理情况</h2>\n");
    let _ = writeln!(out, "<p>{}</p>", esc(&opening(b)));
    let channels: Vec<_> = v
        .by_channel
        .iter()
        .filter(|s| s.count > 0 || s.previous_month > 0)
        .collect();
    let title = match b.span().kind() {
        SpanKind::Month => format!(
            "图一：{}月与{}月受理量对比（按渠道）",
            b.month.previous().month(),
            b.month.month()
        ),
        _ => format!(
            "图一：{}与{}受理量对比（按渠道）",
            words.previous, words.this
        ),
    };
    let chart = bar_chart(
        &title,
        &channels.iter().map(|s| s.label.clone()).collect::<Vec<_>>(),
        &[
            Series {
                label: words.previous,
                values: channels.iter().map(|s| s.previous_month).collect(),
                color: "#9bb7d4",
            },
            Series {
                label: words.this,
                values: channels.iter().map(|s| s.count).collect(),
                color: "#c0392b",
            },
        ],
    );
    figure(&mut out, &title, &chart);
    if let Some(t) = find("channels") {
        table_html(&mut out, t);
    }
    for (n, section) in b.channel_sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "<h3>（{}）{}办理情况</h3>\n<p>{}</p>",
            labels::count_in_words(n + 1),
            esc(&section.name),
            esc(&channel_paragraph(&period_name(b), section))
        );
    }

    out.push_str("<h2>二、诉求分布</h2>\n");
    if let Some(t) = find("types") {
        table_html(&mut out, t);
    }
    let categories: Vec<_> = b.by_category.iter().collect();
    let title = format!(
        "图二：{}与{}诉求对比（按事项归口）",
        words.this, words.previous
    );
    let chart = bar_chart(
        &title,
        &categories
            .iter()
            .map(|s| s.label.clone())
            .collect::<Vec<_>>(),
        &[
            Series {
                label: words.previous,
                values: categories.iter().map(|s| s.previous_month).collect(),
                color: "#9bb7d4",
            },
            Series {
                label: words.this,
                values: categories.iter().map(|s| s.count).collect(),
                color: "#c0392b",
            },
        ],
    );
    figure(&mut out, &title, &chart);
    if let Some(t) = find("categories") {
        table_html(&mut out, t);
    }
    if let Some(t) = find("top_categories").filter(|_| !b.top_categories.rows.is_empty()) {
        table_html(&mut out, t);
    }
    // A month by its days; a longer span by its months.
    let (title, bars): (&str, Vec<(String, u64)>) = match b.span().kind() {
        SpanKind::Month => (
            "图三：每日受理量",
            b.daily
                .iter()
                .map(|d| (d.day.format("%d").to_string(), d.count))
                .collect(),
        ),
        _ => {
            let mut months: Vec<(String, u64)> = Vec::new();
            for d in &b.daily {
                let label = format!("{}月", d.day.month());
                match months.last_mut() {
                    Some((last, count)) if *last == label => *count += d.count,
                    _ => months.push((label, d.count)),
                }
            }
            ("图三：每月受理量", months)
        }
    };
    let chart = bar_chart(
        title,
        &bars
            .iter()
            .map(|(label, _)| label.clone())
            .collect::<Vec<_>>(),
        &[Series {
            label: "受理量",
            values: bars.iter().map(|(_, count)| *count).collect(),
            color: "#c0392b",
        }],
    );
    figure(&mut out, title, &chart);

    out.push_str("<h2>三、热点问题</h2>\n");
    let spots = &b.hot_spots;
    let compared = spots.months_with_data.unwrap_or(spots.baseline_months);
    if compared == 0 {
        let _ = writeln!(
            out,
            "<p>前{}{}没有受理数据，本期未作热点比较。</p>",
            spots.baseline_months, words.unit
        );
    } else if spots.categories.is_empty() && spots.townships.is_empty() {
        let _ = writeln!(
            out,
            "<p>{}没有较前{}{}明显增多的诉求。</p>",
            words.this, spots.baseline_months, words.unit
        );
    } else {
        out.push_str("<ol>");
        for (spot, verb) in spots
            .categories
            .iter()
            .map(|s| (s, ""))
            .chain(spots.townships.iter().map(|s| (s, "反映")))
        {
            let _ = write!(
                out,
                "<li>{}：{}{verb}{}件，较前{}{}{}{:.1}件增加{:.1}件。</li>",
                esc(&spot.label),
                words.this,
                spot.count,
                spots.baseline_months,
                words.unit,
                words.average,
                spot.baseline,
                spot.rise
            );
        }
        out.push_str("</ol>\n");
    }

    out.push_str("<h2>四、承办单位办理及考核情况</h2>\n");
    if let Some(handling) = &b.handling {
        let _ = writeln!(
            out,
            "<p>{}</p>",
            esc(&handling_paragraph(
                &period_name(b),
                words.against_previous,
                handling
            ))
        );
    }
    if let Some(h) = &b.hotline_score {
        let _ = writeln!(
            out,
            "<p>{}综合指标值{}，综合等级{}。</p>",
            esc(&h.name),
            labels::points(h.score.total),
            esc(&h.score.grade)
        );
    }
    for g in &b.groups {
        let _ = writeln!(out, "<p>{}</p>", esc(&group_paragraph(g, &words)));
    }
    if let Some(t) = find("units") {
        table_html(&mut out, t);
    }

    out.push_str("<h2>五、典型案例</h2>\n");
    for (positive, caption) in [(true, "正面典型案例"), (false, "反面典型案例")] {
        let cases: Vec<_> = b
            .typical_cases
            .iter()
            .filter(|c| c.positive == positive)
            .collect();
        if cases.is_empty() {
            continue;
        }
        let _ = write!(out, "<p><b>{caption}</b></p><ol>");
        for c in cases {
            let _ = write!(
                out,
                "<li>{}承办的“{}”问题（工单{}）：{}</li>",
                esc(c.unit.as_deref().unwrap_or("热线")),
                esc(&c.title),
                esc(&c.number),
                esc(&c.note)
            );
        }
        out.push_str("</ol>\n");
    }
    if b.typical_cases.is_empty() {
        let _ = writeln!(out, "<p>{}未选报典型案例。</p>", words.this);
    }

    if !b.exemptions.is_empty() {
        let _ = writeln!(
            out,
            "<h2>六、核减说明</h2>\n<p>以下工单经申诉审核，不计入相应单位{}考核数据：</p>",
            words.this
        );
        if let Some(t) = find("exemptions") {
            table_html(&mut out, t);
        }
    }
    out.push_str("<h2>附：按单位类别统计</h2>\n");
    if let Some(t) = find("kinds") {
        table_html(&mut out, t);
    }
    if let Some(t) = find("groups") {
        table_html(&mut out, t);
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_step_in_round_numbers() {
        assert_eq!(nice_step(4), 1);
        assert_eq!(nice_step(9), 2);
        assert_eq!(nice_step(23), 5);
        assert_eq!(nice_step(505), 200);
        assert_eq!(nice_step(2_114), 500);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<b>\"甲\" & '乙'</b>"),
            "&lt;b&gt;&quot;甲&quot; &amp; &#39;乙&#39;&lt;/b&gt;"
        );
        let svg = bar_chart(
            "图<一>",
            &["a&b".into()],
            &[Series {
                label: "本月",
                values: vec![3],
                color: "#000",
            }],
        );
        assert!(svg.contains("图&lt;一&gt;") && svg.contains("a&amp;b") && !svg.contains("a&b"));
    }
}
