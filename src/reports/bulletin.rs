//! The bulletin (月度通报, and of a quarter, a half-year, a year or any months), assembled from
//! what the store read: volume by channel, type, category, day and place; the figures, scores,
//! grades and rankings of every unit; hot spots; typical cases; the exemptions granted appeals
//! made. Pure: the same inputs give the same bulletin, which is what publishing freezes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::labels;
use crate::domain::assessment::{self, Contender, HotSpotRules, Layout, Rules, Score};
use crate::domain::calendar::WorkCalendar;
use crate::domain::channel::ChannelDefinition;
use crate::domain::directory::{Category, Unit, UnitKind};
use crate::domain::figures::{Exemption, Figures, PeriodFigures, Rates, TypicalCase, VolumeCount};
use crate::domain::lifecycle::Satisfaction;
use crate::domain::period::{Month, Span, local_midnight};
use crate::domain::ticket::{TicketStatus, TicketType};

/// Everything a bulletin is made from.
pub struct Inputs {
    pub span: Span,
    pub title: String,
    pub timezone: chrono_tz::Tz,
    pub as_of: DateTime<Utc>,
    pub volume: Vec<VolumeCount>,
    pub previous_month: Vec<VolumeCount>,
    pub a_year_earlier: Vec<VolumeCount>,
    /// The months before, newest first, as many as the rules' hot-spot baseline asks.
    pub baseline: Vec<Vec<VolumeCount>>,
    /// When each ticket of the month was registered.
    pub registered_at: Vec<DateTime<Utc>>,
    pub figures: PeriodFigures,
    pub units: Vec<Unit>,
    pub categories: Vec<Category>,
    pub rules: Rules,
    pub rules_effective_from: Option<Month>,
    pub bonuses: HashMap<Uuid, f64>,
    pub typical_cases: Vec<TypicalCase>,
    pub exemptions: Vec<Exemption>,
    /// Which days are working days (调休 included).
    pub calendar: WorkCalendar,
    /// How many tickets closed in the span just before.
    pub previous_closed: u64,
    /// How many times units handed work on to their sub-units in the span (二次转办).
    pub forwards: u64,
    /// The office's channels, in the order it prints them.
    pub channels: Vec<ChannelDefinition>,
    /// The callbacks that reached the citizen on the span's tickets of the channels with a
    /// section of their own: each one's channel code and what the citizen said.
    pub channel_callbacks: Vec<(String, Option<Satisfaction>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Computed now, not published.
    Draft,
    /// As frozen when it was published.
    Published,
    /// A published month computed again now, beside what was published.
    Restated,
}

/// A count with its share of the whole and its change against last month (环比) and the same
/// month last year (同比).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub label: String,
    pub count: u64,
    pub share: Option<f64>,
    pub previous_month: u64,
    pub month_on_month: Option<f64>,
    pub a_year_earlier: u64,
    pub year_on_year: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// Every registration of the month.
    pub total: u64,
    /// The days of the period begun when the figures were taken.
    pub days: u32,
    pub daily_average: f64,
    /// The working days begun and the average registered on them (工作日日均); none in a
    /// bulletin frozen before they were kept.
    #[serde(default)]
    pub working_days: Option<u32>,
    #[serde(default)]
    pub working_day_average: Option<f64>,
    pub previous_month: u64,
    pub month_on_month: Option<f64>,
    pub a_year_earlier: u64,
    pub year_on_year: Option<f64>,
    pub by_channel: Vec<Share>,
    /// Of the total: answered on the spot (直办), given to units (转办), still waiting.
    pub direct: u64,
    pub dispatched: u64,
    pub pending: u64,
    pub duplicates: u64,
    pub invalid: u64,
}

/// What units did with the month's work: how many were given tickets, what is still with them,
/// overdue, handed on to sub-units (二次转办), closed against the month before; the units with
/// most tickets, and those whose rates fall short of the rules' thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handling {
    /// Units given at least one ticket in the month.
    pub units: usize,
    /// Tickets registered in the month and given to units.
    pub dispatched: u64,
    /// Of those, still with their units (dispatched, being handled, returned).
    pub in_progress: u64,
    pub overdue: u64,
    pub forwards: u64,
    /// Tickets closed in the month (结案数), direct answers among them.
    pub closed: u64,
    pub previous_closed: u64,
    pub closed_month_on_month: Option<f64>,
    /// Most tickets first, as many as the layout names.
    pub busiest: Vec<Busy>,
    pub shortfalls: Vec<ShortfallList>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Busy {
    pub unit_id: Uuid,
    pub name: String,
    pub received: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShortfallList {
    pub figure: String,
    pub label: String,
    pub below: f64,
    /// Lowest first.
    pub units: Vec<RateOf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateOf {
    pub unit_id: Uuid,
    pub name: String,
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureRow {
    #[serde(flatten)]
    pub figures: Figures,
    #[serde(flatten)]
    pub rates: Rates,
}

impl From<Figures> for FigureRow {
    fn from(figures: Figures) -> Self {
        Self {
            rates: figures.rates(),
            figures,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRow {
    pub unit_id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub group: Option<String>,
    #[serde(flatten)]
    pub figures: FigureRow,
    /// None when the unit is in no group or received no tickets.
    pub score: Option<ScoreView>,
    /// Within the group; none when the unit received too few to be ranked, or none.
    pub rank: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreView {
    pub components: Vec<ScorePart>,
    pub penalties: Vec<ScorePart>,
    pub bonus: f64,
    pub total: f64,
    pub grade: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    pub figure: String,
    pub label: String,
    pub points: f64,
}

impl From<Score> for ScoreView {
    fn from(score: Score) -> Self {
        let part = |p: assessment::Points| ScorePart {
            figure: p.figure.as_str().to_owned(),
            label: labels::figure(p.figure).to_owned(),
            points: p.points,
        };
        Self {
            components: score.components.into_iter().map(part).collect(),
            penalties: score.penalties.into_iter().map(part).collect(),
            bonus: score.bonus,
            total: score.total,
            grade: score.grade,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HotlineScore {
    /// The rules' name for it (全市, 全县).
    pub name: String,
    #[serde(flatten)]
    pub score: ScoreView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub unit_id: Uuid,
    pub name: String,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub name: String,
    pub units: usize,
    pub min_received: u64,
    #[serde(flatten)]
    pub figures: FigureRow,
    /// How many units earned each grade, in the rules' order.
    pub grades: Vec<(String, usize)>,
    pub top: Vec<Named>,
    pub red_list: Vec<Named>,
    /// Worst first.
    pub black_list: Vec<Named>,
    /// The units that received no tickets (本月无承办件): not graded, ranked nor listed.
    #[serde(default)]
    pub idle: Vec<String>,
    /// The units the rules leave ungraded (不参加考核).
    #[serde(default)]
    pub ungraded: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindRow {
    pub kind: UnitKind,
    pub label: String,
    #[serde(flatten)]
    pub figures: FigureRow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HotSpot {
    pub label: String,
    pub count: u64,
    /// The average of the months before.
    pub baseline: f64,
    pub rise: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HotSpots {
    pub baseline_months: u32,
    /// Of those, how many had any registrations; none in a bulletin frozen before it was kept.
    #[serde(default)]
    pub months_with_data: Option<u32>,
    pub categories: Vec<HotSpot>,
    pub townships: Vec<HotSpot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopCategories {
    pub rows: Vec<Share>,
    pub count: u64,
    pub share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bulletin {
    /// The month, or the last month of a longer span.
    pub month: Month,
    /// The months it covers; none in a bulletin frozen before spans were kept (its month).
    #[serde(default)]
    pub span: Option<Span>,
    pub title: String,
    pub state: State,
    pub timezone: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The instant the figures were taken.
    pub as_of: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub rules_effective_from: Option<Month>,
    pub volume: Volume,
    /// The hotline's figures: every primary assignment and callback of the month, direct
    /// answers among them.
    pub hotline: FigureRow,
    /// The figures of the tickets given to units (转办事项); none in a bulletin frozen before
    /// they were kept.
    #[serde(default)]
    pub dispatched: Option<FigureRow>,
    /// What the printed bulletin says, as the rules set it.
    #[serde(default)]
    pub layout: Layout,
    /// The hotline scored as a whole, when the rules say how (市综合指标值, 综合等级).
    #[serde(default)]
    pub hotline_score: Option<HotlineScore>,
    /// None in a bulletin frozen before it was kept.
    #[serde(default)]
    pub handling: Option<Handling>,
    pub by_type: Vec<Share>,
    /// First-level categories.
    pub by_category: Vec<Share>,
    /// The ten categories with the most registrations, each at its finest level.
    pub top_categories: TopCategories,
    pub daily: Vec<DayCount>,
    pub units: Vec<UnitRow>,
    pub groups: Vec<GroupSummary>,
    pub kinds: Vec<KindRow>,
    pub hot_spots: HotSpots,
    pub typical_cases: Vec<TypicalCase>,
    pub exemptions: Vec<Exemption>,
    /// The channels reported on apart (市长信箱办理情况); none in a bulletin frozen before
    /// channels were defined.
    #[serde(default)]
    pub channel_sections: Vec<ChannelSection>,
}

/// A channel the office reports on apart, such as the mayor's mailbox: what came in on it, by
/// type, and how it was handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelSection {
    pub code: String,
    pub name: String,
    /// Registered in the span.
    pub total: u64,
    /// By the rules' rows of types, as the type table counts them; rows with none left out.
    pub by_type: Vec<Counted>,
    /// 应办: registered in the span, less duplicates and invalid ones.
    pub to_handle: u64,
    /// 已办: of those, closed.
    pub closed: u64,
    pub completion_rate: Option<f64>,
    /// Callbacks that reached the citizen on those tickets, whenever made.
    pub callbacks_reached: u64,
    pub satisfaction_rate: Option<f64>,
}

/// A count under its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counted {
    pub label: String,
    pub count: u64,
}

impl Bulletin {
    /// The months it covers.
    pub fn span(&self) -> Span {
        self.span.unwrap_or(Span::month(self.month))
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn change(now: u64, before: u64) -> Option<f64> {
    (before > 0).then(|| (now as f64 - before as f64) / before as f64)
}

/// Sums counts by a key.
fn tally<K: Ord>(counts: &[VolumeCount], key: impl Fn(&VolumeCount) -> K) -> BTreeMap<K, u64> {
    let mut by = BTreeMap::new();
    for c in counts {
        *by.entry(key(c)).or_default() += c.count;
    }
    by
}

fn total(counts: &[VolumeCount]) -> u64 {
    counts.iter().map(|c| c.count).sum()
}

const UNCATEGORISED: &str = "未分类";

/// Builds shares of `key`'s values, in the order given, from the month and its comparisons.
fn shares<K: Ord + Clone>(
    inputs: &Inputs,
    key: impl Fn(&VolumeCount) -> K,
    rows: Vec<(K, String)>,
) -> Vec<Share> {
    let now = tally(&inputs.volume, &key);
    let previous = tally(&inputs.previous_month, &key);
    let earlier = tally(&inputs.a_year_earlier, &key);
    let whole = total(&inputs.volume);
    rows.into_iter()
        .map(|(k, label)| {
            let count = now.get(&k).copied().unwrap_or(0);
            let previous_month = previous.get(&k).copied().unwrap_or(0);
            let a_year_earlier = earlier.get(&k).copied().unwrap_or(0);
            Share {
                label,
                count,
                share: ratio(count, whole),
                previous_month,
                month_on_month: change(count, previous_month),
                a_year_earlier,
                year_on_year: change(count, a_year_earlier),
            }
        })
        .collect()
}

/// The rows of the channel table, each once in the order of its first channel, and the row a
/// channel's code counts in. A code no channel defines (none should) gets a row of its own.
fn channel_rows(inputs: &Inputs) -> (Vec<(usize, String)>, impl Fn(&str) -> usize) {
    let mut rows: Vec<String> = Vec::new();
    let mut row_of: HashMap<String, usize> = HashMap::new();
    let defined = inputs.channels.iter().map(|c| (&c.code, &c.bulletin_row));
    let counted = [
        &inputs.volume,
        &inputs.previous_month,
        &inputs.a_year_earlier,
    ]
    .into_iter()
    .flatten()
    .map(|c| (&c.channel_code, &c.channel_code));
    for (code, row) in defined.chain(counted) {
        if row_of.contains_key(code) {
            continue;
        }
        let index = rows.iter().position(|r| r == row).unwrap_or_else(|| {
            rows.push(row.clone());
            rows.len() - 1
        });
        row_of.insert(code.clone(), index);
    }
    let labelled = rows.into_iter().enumerate().collect();
    (labelled, move |code: &str| row_of[code])
}

/// The sections of the channels that have one, in the order the office prints them.
fn channel_sections(
    inputs: &Inputs,
    row_of_type: impl Fn(TicketType) -> usize,
) -> Vec<ChannelSection> {
    inputs
        .channels
        .iter()
        .filter(|c| c.own_section)
        .map(|channel| {
            let counts: Vec<&VolumeCount> = inputs
                .volume
                .iter()
                .filter(|v| v.channel_code == channel.code)
                .collect();
            let sum = |keep: &dyn Fn(&VolumeCount) -> bool| -> u64 {
                counts.iter().filter(|v| keep(v)).map(|v| v.count).sum()
            };
            let total = sum(&|_| true);
            let to_handle =
                sum(&|v| !matches!(v.status, TicketStatus::Merged | TicketStatus::Invalid));
            let closed = sum(&|v| v.status == TicketStatus::Closed);
            let by_type = inputs
                .rules
                .type_rows
                .iter()
                .enumerate()
                .map(|(row, type_row)| Counted {
                    label: type_row.label.clone(),
                    count: sum(&|v| row_of_type(v.ticket_type) == row),
                })
                .filter(|n| n.count > 0)
                .collect();
            let said: Vec<Option<Satisfaction>> = inputs
                .channel_callbacks
                .iter()
                .filter(|(code, _)| *code == channel.code)
                .map(|(_, said)| *said)
                .collect();
            let satisfied = said
                .iter()
                .filter(|s| s.is_some_and(Satisfaction::is_satisfied));
            let callbacks_reached = said.len() as u64;
            ChannelSection {
                code: channel.code.clone(),
                name: channel.name.clone(),
                total,
                by_type,
                to_handle,
                closed,
                completion_rate: ratio(closed, to_handle),
                callbacks_reached,
                satisfaction_rate: ratio(satisfied.count() as u64, callbacks_reached),
            }
        })
        .collect()
}

pub fn assemble(inputs: &Inputs) -> Bulletin {
    let period = inputs.span.period(inputs.timezone);
    let categories = CategoryIndex::new(&inputs.categories);
    let units: HashMap<Uuid, &Unit> = inputs.units.iter().map(|u| (u.id, u)).collect();
    let first_level = |id| categories.first_level(id);

    let total_now = total(&inputs.volume);
    // The days begun by the instant the figures were taken: a month or a year not yet over
    // averages over the days it has had.
    let begun = |day: &NaiveDate| local_midnight(*day, inputs.timezone) < inputs.as_of;
    let days = (inputs.span.days().filter(begun).count() as u32).max(1);
    let status_total = |status: TicketStatus| -> u64 {
        inputs
            .volume
            .iter()
            .filter(|c| c.status == status)
            .map(|c| c.count)
            .sum()
    };
    let direct: u64 = inputs
        .volume
        .iter()
        .filter(|c| {
            !c.dispatched
                && matches!(
                    c.status,
                    TicketStatus::AwaitingCallback | TicketStatus::Closed
                )
        })
        .map(|c| c.count)
        .sum();
    let dispatched: u64 = inputs
        .volume
        .iter()
        .filter(|c| c.dispatched)
        .map(|c| c.count)
        .sum();
    let duplicates = status_total(TicketStatus::Merged);
    let invalid = status_total(TicketStatus::Invalid);
    let (channel_rows, row_of_channel) = channel_rows(inputs);
    let previous_total = total(&inputs.previous_month);
    let earlier_total = total(&inputs.a_year_earlier);
    let daily = per_day(inputs);
    let working: Vec<&DayCount> = daily
        .iter()
        .filter(|d| begun(&d.day) && inputs.calendar.is_working_day(d.day))
        .collect();
    let working_days = working.len() as u32;
    let volume = Volume {
        total: total_now,
        days,
        daily_average: total_now as f64 / f64::from(days),
        working_days: Some(working_days),
        working_day_average: (working_days > 0)
            .then(|| working.iter().map(|d| d.count).sum::<u64>() as f64 / f64::from(working_days)),
        previous_month: previous_total,
        month_on_month: change(total_now, previous_total),
        a_year_earlier: earlier_total,
        year_on_year: change(total_now, earlier_total),
        by_channel: shares(inputs, |c| row_of_channel(&c.channel_code), channel_rows),
        direct,
        dispatched,
        pending: total_now - direct - dispatched - duplicates - invalid,
        duplicates,
        invalid,
    };

    let type_rows: Vec<(usize, String)> = inputs
        .rules
        .type_rows
        .iter()
        .enumerate()
        .map(|(i, row)| (i, row.label.clone()))
        .collect();
    let row_of_type = |t: TicketType| {
        inputs
            .rules
            .type_rows
            .iter()
            .position(|row| row.types.contains(&t))
            .unwrap_or(usize::MAX)
    };
    let by_type = shares(inputs, |c| row_of_type(c.ticket_type), type_rows);

    let category_label = |id| categories.label(id);
    let mut first_rows: Vec<(Option<Uuid>, String)> =
        tally(&inputs.volume, |c| first_level(c.category_id))
            .into_keys()
            .map(|id| (id, category_label(id)))
            .collect();
    let first_counts = tally(&inputs.volume, |c| first_level(c.category_id));
    first_rows.sort_by(|a, b| {
        first_counts[&b.0]
            .cmp(&first_counts[&a.0])
            .then(a.1.cmp(&b.1))
    });
    let by_category = shares(inputs, |c| first_level(c.category_id), first_rows);

    let finest = |id| categories.finest(id);
    let finest_counts = tally(&inputs.volume, |c| finest(c.category_id));
    let mut finest_rows: Vec<(Option<Uuid>, u64)> = finest_counts
        .iter()
        .filter(|(id, _)| id.is_some())
        .map(|(id, n)| (*id, *n))
        .collect();
    finest_rows.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(category_label(a.0).cmp(&category_label(b.0)))
    });
    finest_rows.truncate(10);
    let top_rows = shares(
        inputs,
        |c| finest(c.category_id),
        finest_rows
            .iter()
            .map(|(id, _)| (*id, category_label(*id)))
            .collect(),
    );
    let top_count: u64 = top_rows.iter().map(|r| r.count).sum();
    let top_categories = TopCategories {
        share: ratio(top_count, total_now),
        count: top_count,
        rows: top_rows,
    };

    let (unit_rows, groups, kinds) = unit_tables(inputs, &units);
    let handling = handling(inputs, &volume, &unit_rows);

    Bulletin {
        month: inputs.span.last(),
        span: Some(inputs.span),
        title: inputs.title.clone(),
        state: State::Draft,
        timezone: inputs.timezone.name().to_owned(),
        from: period.from,
        to: period.to,
        as_of: inputs.as_of,
        published_at: None,
        rules_effective_from: inputs.rules_effective_from,
        volume,
        hotline: inputs.figures.hotline.into(),
        dispatched: Some(inputs.figures.dispatched.into()),
        layout: inputs.rules.layout.clone(),
        handling: Some(handling),
        hotline_score: inputs.rules.hotline.as_ref().map(|group| HotlineScore {
            name: group.name.clone(),
            score: assessment::score(group, &inputs.figures.hotline, None).into(),
        }),
        by_type,
        by_category,
        top_categories,
        daily,
        units: unit_rows,
        groups,
        kinds,
        hot_spots: hot_spots(inputs, &units, &categories),
        typical_cases: inputs.typical_cases.clone(),
        exemptions: inputs.exemptions.clone(),
        channel_sections: channel_sections(inputs, row_of_type),
    }
}

/// How many were registered on each day of the month.
fn per_day(inputs: &Inputs) -> Vec<DayCount> {
    let mut per_day: BTreeMap<NaiveDate, u64> = inputs.span.days().map(|d| (d, 0)).collect();
    for at in &inputs.registered_at {
        let day = at.with_timezone(&inputs.timezone).date_naive();
        if let Some(n) = per_day.get_mut(&day) {
            *n += 1;
        }
    }
    per_day
        .into_iter()
        .map(|(day, count)| DayCount { day, count })
        .collect()
}

fn handling(inputs: &Inputs, volume: &Volume, units: &[UnitRow]) -> Handling {
    let in_progress = inputs
        .volume
        .iter()
        .filter(|c| {
            c.dispatched
                && matches!(
                    c.status,
                    TicketStatus::Dispatched | TicketStatus::Handling | TicketStatus::Returned
                )
        })
        .map(|c| c.count)
        .sum();
    let hotline = &inputs.figures.hotline;
    let mut busiest: Vec<&UnitRow> = units
        .iter()
        .filter(|u| u.figures.figures.received > 0)
        .collect();
    busiest.sort_by(|a, b| {
        b.figures
            .figures
            .received
            .cmp(&a.figures.figures.received)
            .then(a.name.cmp(&b.name))
    });
    let involved = busiest.len();
    let layout = &inputs.rules.layout;
    let shortfalls = layout
        .shortfalls
        .iter()
        .map(|shortfall| {
            let mut short: Vec<RateOf> = units
                .iter()
                .filter_map(|u| {
                    let rate = shortfall.figure.merit(&u.figures.figures)?;
                    (rate < shortfall.below).then(|| RateOf {
                        unit_id: u.unit_id,
                        name: u.name.clone(),
                        rate,
                    })
                })
                .collect();
            short.sort_by(|a, b| a.rate.total_cmp(&b.rate).then(a.name.cmp(&b.name)));
            ShortfallList {
                figure: shortfall.figure.as_str().to_owned(),
                label: labels::figure(shortfall.figure).to_owned(),
                below: shortfall.below,
                units: short,
            }
        })
        .collect();
    Handling {
        units: involved,
        dispatched: volume.dispatched,
        in_progress,
        overdue: hotline.overdue,
        forwards: inputs.forwards,
        closed: hotline.closed,
        previous_closed: inputs.previous_closed,
        closed_month_on_month: change(hotline.closed, inputs.previous_closed),
        busiest: busiest
            .into_iter()
            .take(layout.busiest)
            .map(|u| Busy {
                unit_id: u.unit_id,
                name: u.name.clone(),
                received: u.figures.figures.received,
            })
            .collect(),
        shortfalls,
    }
}

/// The unit table, the groups' summaries and rankings, and the figures per kind of unit.
fn unit_tables(
    inputs: &Inputs,
    units: &HashMap<Uuid, &Unit>,
) -> (Vec<UnitRow>, Vec<GroupSummary>, Vec<KindRow>) {
    let rules = &inputs.rules;
    // Every active unit in a group has a row, and any other that something happened to.
    let mut listed: Vec<&Unit> = inputs
        .units
        .iter()
        .filter(|u| {
            (u.active && rules.group_of(u.kind).is_some())
                || inputs.figures.units.contains_key(&u.id)
        })
        .collect();
    listed.sort_by(|a, b| a.sort_order.cmp(&b.sort_order).then(a.code.cmp(&b.code)));
    let figures_of = |id: Uuid| inputs.figures.units.get(&id).copied().unwrap_or_default();
    let mut rows: Vec<UnitRow> = listed
        .iter()
        .map(|u| {
            let group = rules.group_of(u.kind);
            let figures = figures_of(u.id);
            UnitRow {
                unit_id: u.id,
                code: u.code.clone(),
                name: u.name.clone(),
                kind: u.kind,
                group: group.map(|g| g.name.clone()),
                figures: figures.into(),
                score: group
                    .filter(|g| g.grades(&u.code) && assessment::has_work(&figures))
                    .map(|g| {
                        assessment::score(g, &figures, inputs.bonuses.get(&u.id).copied()).into()
                    }),
                rank: None,
            }
        })
        .collect();
    let mut summaries = Vec::new();
    for group in &rules.groups {
        let (members, ungraded): (Vec<&UnitRow>, Vec<&UnitRow>) = rows
            .iter()
            .filter(|r| r.group.as_deref() == Some(group.name.as_str()))
            .partition(|r| group.grades(&r.code));
        let total_of = |r: &UnitRow| r.score.as_ref().map_or(0.0, |s| s.total);
        let ranking = assessment::rank(
            group,
            members
                .iter()
                .map(|r| Contender {
                    unit_id: r.unit_id,
                    name: r.name.clone(),
                    received: r.figures.figures.received,
                    total: total_of(r),
                })
                .collect(),
        );
        let named = |ids: &[Uuid]| -> Vec<Named> {
            ids.iter()
                .filter_map(|id| members.iter().find(|r| r.unit_id == *id))
                .map(|r| Named {
                    unit_id: r.unit_id,
                    name: r.name.clone(),
                    total: total_of(r),
                })
                .collect()
        };
        let mut figures = Figures::default();
        for member in &members {
            figures.add(&member.figures.figures);
        }
        let grades = group
            .grades
            .iter()
            .map(|t| {
                let n = members
                    .iter()
                    .filter(|r| r.score.as_ref().is_some_and(|s| s.grade == t.grade))
                    .count();
                (t.grade.clone(), n)
            })
            .collect();
        summaries.push((
            ranking.order.clone(),
            GroupSummary {
                name: group.name.clone(),
                units: members.len() + ungraded.len(),
                min_received: group.min_received,
                figures: figures.into(),
                grades,
                top: named(&ranking.top),
                red_list: named(&ranking.red_list),
                black_list: named(&ranking.black_list),
                idle: ranking
                    .idle
                    .iter()
                    .filter_map(|id| members.iter().find(|r| r.unit_id == *id))
                    .map(|r| r.name.clone())
                    .collect(),
                ungraded: ungraded.iter().map(|r| r.name.clone()).collect(),
            },
        ));
    }
    // The table lists each group in rank order, the ungrouped after.
    let mut ordered = Vec::with_capacity(rows.len());
    for (order, _) in &summaries {
        for (unit, rank) in order {
            if let Some(i) = rows.iter().position(|r| r.unit_id == *unit) {
                let mut row = rows.swap_remove(i);
                row.rank = *rank;
                ordered.push(row);
            }
        }
    }
    rows.sort_by(|a, b| {
        let order = |r: &UnitRow| units.get(&r.unit_id).map_or(0, |u| u.sort_order);
        order(a).cmp(&order(b)).then(a.code.cmp(&b.code))
    });
    ordered.extend(rows);
    let kinds = inputs
        .figures
        .by_kind(|unit| units.get(&unit).map(|u| u.kind))
        .into_iter()
        .map(|(kind, figures)| KindRow {
            kind,
            label: labels::unit_kind(kind).to_owned(),
            figures: figures.into(),
        })
        .collect();
    (
        ordered,
        summaries.into_iter().map(|(_, s)| s).collect(),
        kinds,
    )
}

/// The categories by id, as the bulletin counts and names them: a ticket filed under a
/// first-level category counts for it; under a second level, for both.
struct CategoryIndex<'a>(HashMap<Uuid, &'a Category>);

impl<'a> CategoryIndex<'a> {
    fn new(categories: &'a [Category]) -> Self {
        Self(categories.iter().map(|c| (c.id, c)).collect())
    }

    fn first_level(&self, id: Option<Uuid>) -> Option<Uuid> {
        let category = self.0.get(&id?)?;
        Some(category.parent_id.unwrap_or(category.id))
    }

    /// The category itself, at the finest level the bulletin counts: a second level, or a
    /// first level when the ticket was filed under it (a tree of one level has no other).
    fn finest(&self, id: Option<Uuid>) -> Option<Uuid> {
        self.0.get(&id?).map(|c| c.id)
    }

    fn label(&self, id: Option<Uuid>) -> String {
        id.and_then(|id| self.0.get(&id))
            .map_or_else(|| UNCATEGORISED.to_owned(), |c| c.full_name.clone())
    }
}

/// Categories and townships whose volume rose most against the average of the months before,
/// by at least the rules' share of it.
fn hot_spots(
    inputs: &Inputs,
    units: &HashMap<Uuid, &Unit>,
    categories: &CategoryIndex<'_>,
) -> HotSpots {
    let (categories, townships) = rising_against(
        &inputs.volume,
        &inputs.baseline,
        &inputs.rules.hot_spots,
        units,
        categories,
    );
    HotSpots {
        baseline_months: inputs.baseline.len() as u32,
        months_with_data: Some(inputs.baseline.iter().filter(|m| total(m) > 0).count() as u32),
        categories,
        townships,
    }
}

/// The live hot spots of the dashboard: the volume of the last days against the periods of
/// the same length before them, by the bulletin's rules, with its labels.
pub fn live_hot_spots(
    volume: &[VolumeCount],
    baseline: &[Vec<VolumeCount>],
    rules: &HotSpotRules,
    units: &[Unit],
    categories: &[Category],
) -> (Vec<HotSpot>, Vec<HotSpot>) {
    let units: HashMap<Uuid, &Unit> = units.iter().map(|u| (u.id, u)).collect();
    rising_against(
        volume,
        baseline,
        rules,
        &units,
        &CategoryIndex::new(categories),
    )
}

/// The categories and the townships that rose, in that order.
fn rising_against(
    volume: &[VolumeCount],
    baseline: &[Vec<VolumeCount>],
    rules: &HotSpotRules,
    units: &HashMap<Uuid, &Unit>,
    categories: &CategoryIndex<'_>,
) -> (Vec<HotSpot>, Vec<HotSpot>) {
    // Without periods before to compare with, nothing stands out.
    if baseline.iter().all(|period| total(period) == 0) {
        return (Vec::new(), Vec::new());
    }
    // Periods before the hotline had any registrations say nothing of what is usual.
    let months = baseline.iter().filter(|period| total(period) > 0).count() as f64;
    let rising = |now: BTreeMap<Option<Uuid>, u64>,
                  before: Vec<BTreeMap<Option<Uuid>, u64>>,
                  label: &dyn Fn(Option<Uuid>) -> String| {
        let mut spots: Vec<HotSpot> = now
            .into_iter()
            .filter(|(key, count)| key.is_some() && *count >= rules.min_count)
            .filter_map(|(key, count)| {
                let baseline = before
                    .iter()
                    .map(|m| m.get(&key).copied().unwrap_or(0))
                    .sum::<u64>() as f64
                    / months;
                let rise = count as f64 - baseline;
                (rise > 0.0 && rise >= baseline * rules.min_rise).then(|| HotSpot {
                    label: label(key),
                    count,
                    baseline: assessment::one_decimal(baseline),
                    rise: assessment::one_decimal(rise),
                })
            })
            .collect();
        spots.sort_by(|a, b| {
            b.rise
                .total_cmp(&a.rise)
                .then(b.count.cmp(&a.count))
                .then(a.label.cmp(&b.label))
        });
        spots.truncate(rules.top);
        spots
    };
    let by_category = |counts: &[VolumeCount]| tally(counts, |c| categories.finest(c.category_id));
    let township = |id: Option<Uuid>| {
        id.filter(|id| units.get(id).is_some_and(|u| u.kind == UnitKind::Township))
    };
    let by_township = |counts: &[VolumeCount]| tally(counts, |c| township(c.area_unit_id));
    let unit_label = |id: Option<Uuid>| {
        id.and_then(|id| units.get(&id))
            .map_or_else(String::new, |u| u.name.clone())
    };
    (
        rising(
            by_category(volume),
            baseline.iter().map(|m| by_category(m)).collect(),
            &|id| categories.label(id),
        ),
        rising(
            by_township(volume),
            baseline.iter().map(|m| by_township(m)).collect(),
            &unit_label,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::assessment::TypeRow;

    fn at() -> DateTime<Utc> {
        "2026-11-01T00:00:00Z".parse().unwrap()
    }

    fn township(name: &str) -> Unit {
        Unit {
            id: Uuid::now_v7(),
            code: name.into(),
            name: name.into(),
            kind: UnitKind::Township,
            parent_id: None,
            sort_order: 0,
            active: true,
            created_at: at(),
            updated_at: at(),
        }
    }

    fn category(parent: Option<&Category>, name: &str) -> Category {
        Category {
            id: Uuid::now_v7(),
            parent_id: parent.map(|p| p.id),
            name: name.into(),
            full_name: parent.map_or(name.into(), |p| format!("{}—{name}", p.name)),
            level: if parent.is_some() { 2 } else { 1 },
            default_unit_id: None,
            sort_order: 0,
            active: true,
            created_at: at(),
            updated_at: at(),
        }
    }

    fn count(
        ticket_type: TicketType,
        category: Option<&Category>,
        area: Option<&Unit>,
        count: u64,
    ) -> VolumeCount {
        VolumeCount {
            channel_code: "phone".into(),
            ticket_type,
            category_id: category.map(|c| c.id),
            area_unit_id: area.map(|u| u.id),
            status: TicketStatus::Closed,
            dispatched: false,
            count,
        }
    }

    /// October 2026 against September and October 2025, with three months of baseline.
    struct Month {
        inputs: Inputs,
    }

    fn october() -> Month {
        let city = category(None, "城市管理");
        let noise = category(Some(&city), "噪音扰民");
        let water = category(Some(&city), "供水");
        let (up, flat) = (township("上升镇"), township("平稳乡"));
        let consult = TicketType::Consult;
        let help = TicketType::Help;
        let inputs = Inputs {
            span: Span::month(crate::domain::period::Month::new(2026, 10).unwrap()),
            title: "十月".into(),
            timezone: chrono_tz::Asia::Shanghai,
            as_of: at(),
            volume: vec![
                count(consult, Some(&noise), Some(&up), 30),
                count(help, Some(&water), Some(&flat), 11),
                count(TicketType::Praise, None, None, 9),
            ],
            previous_month: vec![
                count(consult, Some(&noise), Some(&up), 20),
                count(help, Some(&water), Some(&flat), 20),
            ],
            a_year_earlier: vec![count(consult, Some(&noise), None, 40)],
            baseline: vec![
                vec![
                    count(consult, Some(&noise), Some(&up), 10),
                    count(help, Some(&water), Some(&flat), 10),
                ],
                vec![
                    count(consult, Some(&noise), Some(&up), 10),
                    count(help, Some(&water), Some(&flat), 10),
                ],
                vec![
                    count(consult, Some(&noise), Some(&up), 10),
                    count(help, Some(&water), Some(&flat), 10),
                ],
            ],
            registered_at: vec![at()],
            figures: PeriodFigures::default(),
            units: vec![up, flat],
            categories: vec![city, noise, water],
            rules: Rules {
                type_rows: vec![
                    TypeRow {
                        label: "咨询类".into(),
                        types: vec![TicketType::Consult],
                    },
                    TypeRow {
                        label: "问题处理类".into(),
                        types: vec![TicketType::Help],
                    },
                    TypeRow {
                        label: "其它".into(),
                        types: vec![
                            TicketType::Complaint,
                            TicketType::Report,
                            TicketType::Suggestion,
                            TicketType::Praise,
                            TicketType::Other,
                        ],
                    },
                ],
                ..Rules::default()
            },
            rules_effective_from: None,
            bonuses: HashMap::new(),
            typical_cases: Vec::new(),
            exemptions: Vec::new(),
            calendar: WorkCalendar::weekdays_only(chrono_tz::Asia::Shanghai),
            previous_closed: 0,
            forwards: 0,
            channels: crate::domain::channel::starting_set(),
            channel_callbacks: Vec::new(),
        };
        Month { inputs }
    }

    #[test]
    fn channels_count_in_their_rows_and_a_channel_apart_gets_its_own_section() {
        use crate::domain::channel::ChannelDefinition;
        let mut inputs = october().inputs;
        let defined = |code: &str, name: &str, row: &str, own_section: bool| ChannelDefinition {
            code: code.into(),
            name: name.into(),
            bulletin_row: row.into(),
            own_section,
            ..inputs.channels[0].clone()
        };
        // Three upper platforms in one row, placed after the phone; the mailbox reported apart.
        inputs.channels = vec![
            defined("phone", "12345电话", "12345电话", false),
            defined("province_12345", "省级12345热线", "上级交办", false),
            defined("gov_platform", "国家政务服务平台", "上级交办", false),
            defined("mayor_mailbox", "市县长信箱", "市县长信箱", true),
        ];
        let on = |code: &str, ticket_type, status, count| VolumeCount {
            channel_code: String::from(code),
            status,
            ..self::count(ticket_type, None, None, count)
        };
        let closed = TicketStatus::Closed;
        inputs.volume.extend([
            on("province_12345", TicketType::Complaint, closed, 25),
            on("gov_platform", TicketType::Complaint, closed, 5),
            on("mayor_mailbox", TicketType::Complaint, closed, 46),
            on(
                "mayor_mailbox",
                TicketType::Consult,
                TicketStatus::Handling,
                23,
            ),
            on(
                "mayor_mailbox",
                TicketType::Consult,
                TicketStatus::Merged,
                2,
            ),
            // A code no definition names any more still counts, in a row of its own.
            on("fax", TicketType::Other, closed, 1),
        ]);
        inputs
            .previous_month
            .push(on("gov_platform", TicketType::Help, closed, 10));
        let satisfied = Some(Satisfaction::Satisfied);
        inputs.channel_callbacks = vec![
            ("mayor_mailbox".into(), satisfied),
            (
                "mayor_mailbox".into(),
                Some(Satisfaction::BasicallySatisfied),
            ),
            ("mayor_mailbox".into(), Some(Satisfaction::Dissatisfied)),
            ("mayor_mailbox".into(), satisfied),
        ];
        let b = assemble(&inputs);
        let rows: Vec<(&str, u64, u64)> = b
            .volume
            .by_channel
            .iter()
            .map(|s| (s.label.as_str(), s.count, s.previous_month))
            .collect();
        assert_eq!(
            rows,
            [
                ("12345电话", 50, 40),
                ("上级交办", 30, 10),
                ("市县长信箱", 71, 0),
                ("fax", 1, 0),
            ]
        );
        let sections = &b.channel_sections;
        assert_eq!(sections.len(), 1);
        let mailbox = &sections[0];
        assert_eq!((mailbox.name.as_str(), mailbox.total), ("市县长信箱", 71));
        let by_type: Vec<(&str, u64)> = mailbox
            .by_type
            .iter()
            .map(|t| (t.label.as_str(), t.count))
            .collect();
        assert_eq!(by_type, [("咨询类", 25), ("其它", 46)]);
        assert_eq!((mailbox.to_handle, mailbox.closed), (69, 46));
        assert_eq!(mailbox.completion_rate, Some(46.0 / 69.0));
        assert_eq!(mailbox.callbacks_reached, 4);
        assert_eq!(mailbox.satisfaction_rate, Some(0.75));
        let html = super::super::html::render(&b);
        assert!(html.contains("<h3>（一）市县长信箱办理情况</h3>"), "{html}");
        assert!(
            html.contains(
                "市县长信箱共受理诉求71件，其中咨询类25件、其它类46件，应办69件，已办46件，\
                 办结率66.67%，满意率75%。"
            ),
            "{html}"
        );
        assert!(
            html.contains("从受理渠道看，12345电话50件，上级交办30件，市县长信箱71件，fax1件。")
        );
    }

    #[test]
    fn types_are_grouped_by_the_rules_rows_with_their_changes() {
        let b = assemble(&october().inputs);
        let rows: Vec<(&str, u64, Option<f64>, Option<f64>)> = b
            .by_type
            .iter()
            .map(|s| (s.label.as_str(), s.count, s.month_on_month, s.year_on_year))
            .collect();
        assert_eq!(
            rows,
            [
                ("咨询类", 30, Some(0.5), Some(-0.25)),
                ("问题处理类", 11, Some(-0.45), None),
                ("其它", 9, None, None),
            ]
        );
        assert_eq!(b.volume.total, 50);
        assert_eq!(b.volume.month_on_month, Some(0.25));
        assert_eq!(b.volume.year_on_year, Some(0.25));
        assert_eq!(b.by_type[0].share, Some(0.6));
    }

    #[test]
    fn second_level_categories_count_for_their_parent_and_uncategorised_stands_apart() {
        let b = assemble(&october().inputs);
        let first: Vec<(&str, u64)> = b
            .by_category
            .iter()
            .map(|s| (s.label.as_str(), s.count))
            .collect();
        assert_eq!(first, [("城市管理", 41), ("未分类", 9)]);
        let top: Vec<(&str, u64)> = b
            .top_categories
            .rows
            .iter()
            .map(|s| (s.label.as_str(), s.count))
            .collect();
        assert_eq!(top, [("城市管理—噪音扰民", 30), ("城市管理—供水", 11)]);
        assert_eq!(b.top_categories.count, 41);
    }

    #[test]
    fn hot_spots_rose_enough_against_their_baseline() {
        let mut month = october();
        let b = assemble(&month.inputs);
        // 30 against 10 a month: a hot spot; 11 against 10 is 10% up, under the fifth asked.
        let categories: Vec<(&str, u64, f64, f64)> = b
            .hot_spots
            .categories
            .iter()
            .map(|h| (h.label.as_str(), h.count, h.baseline, h.rise))
            .collect();
        assert_eq!(categories, [("城市管理—噪音扰民", 30, 10.0, 20.0)]);
        let townships: Vec<&str> = b
            .hot_spots
            .townships
            .iter()
            .map(|h| h.label.as_str())
            .collect();
        assert_eq!(townships, ["上升镇"]);

        month.inputs.rules.hot_spots.min_rise = 0.0;
        let b = assemble(&month.inputs);
        assert_eq!(b.hot_spots.townships.len(), 2);

        month.inputs.rules.hot_spots.min_count = 31;
        assert!(assemble(&month.inputs).hot_spots.townships.is_empty());

        // A baseline of one month with data and two before the hotline ran averages the one.
        month.inputs.rules.hot_spots.min_count = 1;
        month.inputs.baseline.truncate(1);
        month.inputs.baseline.extend([Vec::new(), Vec::new()]);
        let b = assemble(&month.inputs);
        assert_eq!(b.hot_spots.categories[0].baseline, 10.0);
        assert_eq!(b.hot_spots.months_with_data, Some(1));

        month.inputs.baseline = vec![Vec::new(), Vec::new(), Vec::new()];
        let b = assemble(&month.inputs);
        assert!(
            b.hot_spots.categories.is_empty() && b.hot_spots.townships.is_empty(),
            "nothing stands out against months without data"
        );
    }

    #[test]
    fn every_table_is_built_under_its_name_in_the_bulletins_order() {
        let b = assemble(&october().inputs);
        let built = crate::reports::tables::tables(&b);
        let names: Vec<&str> = built.iter().map(|t| t.name).collect();
        assert_eq!(names, crate::reports::tables::NAMES);
        for table in &built {
            let one = crate::reports::tables::table(&b, table.name).expect("a table by name");
            assert_eq!((one.name, &one.title), (table.name, &table.title));
        }
        assert!(crate::reports::tables::table(&b, "nope").is_none());
    }
}
