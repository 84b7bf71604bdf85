//! The bulletin as the tables every format prints: one concept, laid out once; CSV, XLSX and
//! HTML only decide how a cell looks.

use super::bulletin::{Bulletin, FigureRow, Share};
use super::labels;
use crate::domain::assessment::Figure;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(u64),
    /// A share or a rate; none when there was nothing to count.
    Ratio(Option<f64>),
    /// A change against an earlier month.
    Change(Option<f64>),
    /// Points of a score; none where the rules give none.
    Points(Option<f64>),
    Number(f64),
}

impl Cell {
    /// The cell as the bulletins print it.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Ratio(r) => labels::percent(*r),
            Cell::Change(r) => labels::change(*r),
            Cell::Points(Some(p)) => labels::points(*p),
            Cell::Points(None) => String::new(),
            Cell::Number(n) => format!("{n:.1}"),
        }
    }
}

fn text(value: impl Into<String>) -> Cell {
    Cell::Text(value.into())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File and sheet name: ASCII, stable.
    pub name: &'static str,
    /// As the bulletin captions it.
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// The columns of a count compared with the period before (上月, 上季度 …) and a year before;
/// a year's is compared with the year before alone, which is both.
fn compared(first: &str, b: &Bulletin) -> Vec<String> {
    let words = labels::span_words(b.span());
    let mut names = vec![first, "数量(件)", "占比"];
    if words.compares_previous {
        names.extend([words.previous, "环比"]);
    }
    names.extend(["去年同期", "同比"]);
    header(&names)
}

/// A row per share (those of nothing this period left out unless the layout keeps them), and
/// the total.
fn compared_rows(b: &Bulletin, shares: &[Share], total: u64) -> Vec<Vec<Cell>> {
    let compares_previous = labels::span_words(b.span()).compares_previous;
    // The columns of `compared`: the span before only where it is not the year before.
    let row = |label: &str, count, share, previous, month_on_month, earlier, year_on_year| {
        let mut row = vec![text(label), Cell::Count(count), Cell::Ratio(share)];
        if compares_previous {
            row.extend([Cell::Count(previous), Cell::Change(month_on_month)]);
        }
        row.extend([Cell::Count(earlier), Cell::Change(year_on_year)]);
        row
    };
    let mut rows: Vec<Vec<Cell>> = shares
        .iter()
        .filter(|s| s.count > 0 || b.layout.zero_rows)
        .map(|s| {
            row(
                &s.label,
                s.count,
                s.share,
                s.previous_month,
                s.month_on_month,
                s.a_year_earlier,
                s.year_on_year,
            )
        })
        .collect();
    let previous: u64 = shares.iter().map(|s| s.previous_month).sum();
    let earlier: u64 = shares.iter().map(|s| s.a_year_earlier).sum();
    let change =
        |now: u64, before: u64| (before > 0).then(|| (now as f64 - before as f64) / before as f64);
    rows.push(row(
        "合计",
        total,
        (total > 0).then_some(1.0),
        previous,
        change(total, previous),
        earlier,
        change(total, earlier),
    ));
    rows
}

const RATE_COLUMNS: [&str; 7] = [
    "响应率",
    "办结率",
    "按期办结率",
    "返工率",
    "回访率",
    "满意率",
    "解决率",
];
const COUNT_COLUMNS: [&str; 6] = ["系统催办", "人工催办", "逾期", "督办", "退单", "返工"];

fn figure_cells(f: &FigureRow) -> Vec<Cell> {
    let r = &f.rates;
    let c = &f.figures;
    vec![
        Cell::Count(c.received),
        Cell::Ratio(r.response_rate),
        Cell::Ratio(r.completion_rate),
        Cell::Ratio(r.on_time_rate),
        Cell::Ratio(r.rework_rate),
        Cell::Ratio(r.callback_rate),
        Cell::Ratio(r.satisfaction_rate),
        Cell::Ratio(r.resolution_rate),
        Cell::Count(c.urges_system),
        Cell::Count(c.urges_manual),
        Cell::Count(c.overdue),
        Cell::Count(c.supervisions),
        Cell::Count(c.returns),
        Cell::Count(c.reworks),
    ]
}

fn figure_header(first: &[&str]) -> Vec<String> {
    let mut names: Vec<&str> = first.to_vec();
    names.push("承办量");
    names.extend(RATE_COLUMNS);
    names.extend(COUNT_COLUMNS);
    header(&names)
}

/// How each table is built, in the bulletin's order (see [`NAMES`]).
const BUILDERS: [fn(&Bulletin) -> Table; 12] = [
    volume,
    channels,
    types,
    categories,
    top_categories,
    daily,
    units,
    groups,
    kinds,
    hot_spots,
    typical_cases,
    exemptions,
];

/// Every table of the bulletin, in its order.
pub fn tables(b: &Bulletin) -> Vec<Table> {
    BUILDERS.iter().map(|build| build(b)).collect()
}

/// 受理概况: the month's volume and the hotline's rates.
fn volume(b: &Bulletin) -> Table {
    let v = &b.volume;
    let words = labels::span_words(b.span());
    let mut table = Table {
        name: "volume",
        title: "受理概况".into(),
        header: header(&["项目", "数值"]),
        rows: vec![
            vec![text("受理总量(件)"), Cell::Count(v.total)],
            vec![text("日均受理量(件)"), Cell::Number(v.daily_average)],
            vec![text("直办(件)"), Cell::Count(v.direct)],
            vec![
                text("直办占比"),
                Cell::Ratio((v.total > 0).then(|| v.direct as f64 / v.total as f64)),
            ],
            vec![text("转办(件)"), Cell::Count(v.dispatched)],
            vec![
                text("转办占比"),
                Cell::Ratio((v.total > 0).then(|| v.dispatched as f64 / v.total as f64)),
            ],
            vec![text("待办理(件)"), Cell::Count(v.pending)],
            vec![text("重复件(件)"), Cell::Count(v.duplicates)],
            vec![text("无效件(件)"), Cell::Count(v.invalid)],
        ],
    };
    if words.compares_previous {
        table.rows.extend([
            vec![
                text(format!("{}受理量(件)", words.previous)),
                Cell::Count(v.previous_month),
            ],
            vec![text("环比"), Cell::Change(v.month_on_month)],
        ]);
    }
    table.rows.extend([
        vec![text("去年同期受理量(件)"), Cell::Count(v.a_year_earlier)],
        vec![text("同比"), Cell::Change(v.year_on_year)],
    ]);
    if let (Some(days), Some(average)) = (v.working_days, v.working_day_average) {
        table
            .rows
            .insert(2, vec![text("工作日日均受理量(件)"), Cell::Number(average)]);
        table
            .rows
            .insert(2, vec![text("工作日(天)"), Cell::Count(days.into())]);
    }
    if let Some(h) = &b.handling {
        table.rows.extend([
            vec![text("转办涉及单位(个)"), Cell::Count(h.units as u64)],
            vec![text("处办中(件)"), Cell::Count(h.in_progress)],
            vec![text("逾期(件)"), Cell::Count(h.overdue)],
            vec![text("二次转办(件)"), Cell::Count(h.forwards)],
            vec![text("结案数(件)"), Cell::Count(h.closed)],
            vec![
                text(format!("{}结案数(件)", words.previous)),
                Cell::Count(h.previous_closed),
            ],
            vec![text("结案数环比"), Cell::Change(h.closed_month_on_month)],
        ]);
    }
    // Completion and replies on time count dispatched tickets alone, whichever figures; the
    // rates of callbacks are the hotline's and, apart, the dispatched tickets'.
    let h = &b.hotline.rates;
    let d = b.dispatched.as_ref().map_or(h, |d| &d.rates);
    table.rows.extend([
        vec![text("转办事项办结率"), Cell::Ratio(d.completion_rate)],
        vec![text("转办事项按期办结率"), Cell::Ratio(d.on_time_rate)],
    ]);
    if let Some(dispatched) = &b.dispatched {
        let d = &dispatched.rates;
        table.rows.extend([
            vec![text("转办事项回访率"), Cell::Ratio(d.callback_rate)],
            vec![text("转办事项满意率"), Cell::Ratio(d.satisfaction_rate)],
            vec![text("转办事项解决率"), Cell::Ratio(d.resolution_rate)],
        ]);
    }
    table.rows.extend([
        vec![text("全部事项回访率"), Cell::Ratio(h.callback_rate)],
        vec![text("全部事项满意率"), Cell::Ratio(h.satisfaction_rate)],
        vec![text("全部事项解决率"), Cell::Ratio(h.resolution_rate)],
    ]);
    table
}

/// 受理渠道: the volume by channel, against the month before and a year before.
fn channels(b: &Bulletin) -> Table {
    let v = &b.volume;
    Table {
        name: "channels",
        title: "受理渠道".into(),
        header: compared("渠道", b),
        rows: compared_rows(b, &b.volume.by_channel, v.total),
    }
}

/// 诉求类型统计表.
fn types(b: &Bulletin) -> Table {
    let v = &b.volume;
    Table {
        name: "types",
        title: "诉求类型统计表".into(),
        header: compared("类型", b),
        rows: compared_rows(b, &b.by_type, v.total),
    }
}

/// 事项归口统计表.
fn categories(b: &Bulletin) -> Table {
    let v = &b.volume;
    Table {
        name: "categories",
        title: "事项归口统计表".into(),
        header: compared("类别", b),
        rows: compared_rows(b, &b.by_category, v.total),
    }
}

/// 十大热点问题统计表, with their total.
fn top_categories(b: &Bulletin) -> Table {
    let mut top_rows: Vec<Vec<Cell>> = b
        .top_categories
        .rows
        .iter()
        .map(|s| vec![text(&s.label), Cell::Count(s.count), Cell::Ratio(s.share)])
        .collect();
    top_rows.push(vec![
        text("合计"),
        Cell::Count(b.top_categories.count),
        Cell::Ratio(b.top_categories.share),
    ]);
    Table {
        name: "top_categories",
        title: "十大热点问题统计表".into(),
        header: header(&["类别", "数量(件)", "占比"]),
        rows: top_rows,
    }
}

/// 每日受理量.
fn daily(b: &Bulletin) -> Table {
    Table {
        name: "daily",
        title: "每日受理量".into(),
        header: header(&["日期", "数量(件)"]),
        rows: b
            .daily
            .iter()
            .map(|d| vec![text(d.day.to_string()), Cell::Count(d.count)])
            .collect(),
    }
}

/// 承办单位考核情况表: every unit's figures, the points of each scored figure, grade and rank.
fn units(b: &Bulletin) -> Table {
    // What a unit in a group that received no tickets is listed as, apart from those assessed.
    let idle = format!("{}无承办件", labels::span_words(b.span()).this);
    // The scored figures of every group, in one set of columns.
    let scored: Vec<Figure> = Figure::ALL
        .iter()
        .copied()
        .filter(|f| {
            b.units.iter().any(|u| {
                u.score
                    .as_ref()
                    .is_some_and(|s| s.components.iter().any(|c| c.figure == f.as_str()))
            })
        })
        .collect();
    let mut unit_header = figure_header(&["单位", "类别", "考核组"]);
    unit_header.extend(scored.iter().map(|f| format!("{}得分", labels::figure(*f))));
    unit_header.extend(header(&["扣分", "附加分", "合计", "等级", "排名"]));
    Table {
        name: "units",
        title: "承办单位考核情况表".into(),
        header: unit_header,
        rows: b
            .units
            .iter()
            .map(|u| {
                let mut row = vec![
                    text(&u.name),
                    text(labels::unit_kind(u.kind)),
                    text(u.group.clone().unwrap_or_default()),
                ];
                row.extend(figure_cells(&u.figures));
                let score = u.score.as_ref();
                for figure in &scored {
                    row.push(Cell::Points(score.and_then(|s| {
                        s.components
                            .iter()
                            .find(|c| c.figure == figure.as_str())
                            .map(|c| c.points)
                    })));
                }
                row.push(Cell::Points(
                    score.map(|s| s.penalties.iter().map(|p| p.points).sum()),
                ));
                row.push(Cell::Points(score.map(|s| s.bonus)));
                row.push(Cell::Points(score.map(|s| s.total)));
                row.push(text(score.map(|s| s.grade.clone()).unwrap_or_default()));
                row.push(text(match (u.rank, &u.group, score) {
                    (Some(rank), _, _) => rank.to_string(),
                    (None, Some(_), None) => idle.clone(),
                    (None, _, _) => String::new(),
                }));
                row
            })
            .collect(),
    }
}

/// 考核分组情况: each assessment group's grades, top units and lists.
fn groups(b: &Bulletin) -> Table {
    let idle = format!("{}无承办件", labels::span_words(b.span()).this);
    let names = |list: &[super::bulletin::Named]| {
        list.iter()
            .map(|n| format!("{}({}分)", n.name, labels::points(n.total)))
            .collect::<Vec<_>>()
            .join("、")
    };
    Table {
        name: "groups",
        title: "考核分组情况".into(),
        header: header(&[
            "考核组",
            "单位数",
            "等级分布",
            "排名靠前",
            "红榜",
            "黑榜",
            "排名门槛(件)",
            idle.as_str(),
        ]),
        rows: b
            .groups
            .iter()
            .map(|g| {
                vec![
                    text(&g.name),
                    Cell::Count(g.units as u64),
                    text(
                        g.grades
                            .iter()
                            .map(|(grade, n)| format!("{grade}类{n}家"))
                            .collect::<Vec<_>>()
                            .join("、"),
                    ),
                    text(names(&g.top)),
                    text(names(&g.red_list)),
                    text(names(&g.black_list)),
                    Cell::Count(g.min_received),
                    text(g.idle.join("、")),
                ]
            })
            .collect(),
    }
}

/// 按单位类别统计.
fn kinds(b: &Bulletin) -> Table {
    Table {
        name: "kinds",
        title: "按单位类别统计".into(),
        header: figure_header(&["单位类别"]),
        rows: b
            .kinds
            .iter()
            .map(|k| {
                let mut row = vec![text(&k.label)];
                row.extend(figure_cells(&k.figures));
                row
            })
            .collect(),
    }
}

/// 热点问题: categories and townships whose volume rose.
fn hot_spots(b: &Bulletin) -> Table {
    let words = labels::span_words(b.span());
    let spot_rows = b
        .hot_spots
        .categories
        .iter()
        .map(|s| ("事项", s))
        .chain(b.hot_spots.townships.iter().map(|s| ("乡镇街道", s)))
        .map(|(kind, s)| {
            vec![
                text(kind),
                text(&s.label),
                Cell::Count(s.count),
                Cell::Number(s.baseline),
                Cell::Number(s.rise),
            ]
        })
        .collect();
    Table {
        name: "hot_spots",
        title: "热点问题".into(),
        header: vec![
            "类型".into(),
            "名称".into(),
            format!("{}(件)", words.this),
            format!(
                "前{}{}{}(件)",
                b.hot_spots.baseline_months, words.unit, words.average
            ),
            "增加(件)".into(),
        ],
        rows: spot_rows,
    }
}

/// 典型案例.
fn typical_cases(b: &Bulletin) -> Table {
    Table {
        name: "typical_cases",
        title: "典型案例".into(),
        header: header(&["类型", "工单编号", "诉求", "承办单位", "说明"]),
        rows: b
            .typical_cases
            .iter()
            .map(|c| {
                vec![
                    text(if c.positive {
                        "正面典型"
                    } else {
                        "反面典型"
                    }),
                    text(&c.number),
                    text(&c.title),
                    text(c.unit.clone().unwrap_or_default()),
                    text(&c.note),
                ]
            })
            .collect(),
    }
}

/// 核减说明: the granted appeals.
fn exemptions(b: &Bulletin) -> Table {
    Table {
        name: "exemptions",
        title: "核减说明".into(),
        header: header(&["工单编号", "单位", "申诉事项", "申诉理由", "审核意见"]),
        rows: b
            .exemptions
            .iter()
            .map(|e| {
                vec![
                    text(&e.number),
                    text(&e.unit),
                    text(if e.subject == "overdue" {
                        "逾期"
                    } else {
                        "回访不满意"
                    }),
                    text(&e.reason),
                    text(e.decision_note.clone().unwrap_or_default()),
                ]
            })
            .collect(),
    }
}

/// The table of that name.
pub fn table(b: &Bulletin, name: &str) -> Option<Table> {
    let index = NAMES.iter().position(|n| *n == name)?;
    Some(BUILDERS[index](b))
}

/// Every table's name, in the bulletin's order.
pub const NAMES: [&str; 12] = [
    "volume",
    "channels",
    "types",
    "categories",
    "top_categories",
    "daily",
    "units",
    "groups",
    "kinds",
    "hot_spots",
    "typical_cases",
    "exemptions",
];
