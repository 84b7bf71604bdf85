//! Assessment (考核): scores, grades and rankings from a unit's figures, by rules the hotline
//! office keeps as data, versioned by the month they take effect.
//!
//! Units are assessed within groups of unit kinds (townships apart from departments), each with
//! its own scale: points per rate, penalties per count, a bonus (附加分) a supervisor sets per
//! unit and month up to a cap, grade thresholds, how many to rank and list.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::directory::UnitKind;
use super::figures::Figures;
use super::ticket::TicketType;
use super::validation::ValidationErrors;

text_enum! {
    /// A figure a rule can weigh.
    pub enum Figure {
        ResponseRate = "response_rate",
        CompletionRate = "completion_rate",
        OnTimeRate = "on_time_rate",
        ReworkRate = "rework_rate",
        CallbackRate = "callback_rate",
        SatisfactionRate = "satisfaction_rate",
        ResolutionRate = "resolution_rate",
        Received = "received",
        UrgesSystem = "urges_system",
        UrgesManual = "urges_manual",
        Overdue = "overdue",
        Supervisions = "supervisions",
        Returns = "returns",
        Reworks = "reworks",
        Dissatisfied = "dissatisfied",
    }
}

impl Figure {
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            Figure::ResponseRate
                | Figure::CompletionRate
                | Figure::OnTimeRate
                | Figure::ReworkRate
                | Figure::CallbackRate
                | Figure::SatisfactionRate
                | Figure::ResolutionRate
        )
    }

    /// A rate's value, where a higher one earns more points (the rework rate counts inverted);
    /// `None` when nothing was there to count.
    pub fn merit(self, figures: &Figures) -> Option<f64> {
        let rates = figures.rates();
        match self {
            Figure::ResponseRate => rates.response_rate,
            Figure::CompletionRate => rates.completion_rate,
            Figure::OnTimeRate => rates.on_time_rate,
            Figure::ReworkRate => rates.rework_rate.map(|r| 1.0 - r.min(1.0)),
            Figure::CallbackRate => rates.callback_rate,
            Figure::SatisfactionRate => rates.satisfaction_rate,
            Figure::ResolutionRate => rates.resolution_rate,
            _ => None,
        }
    }

    pub fn count(self, figures: &Figures) -> u64 {
        match self {
            Figure::Received => figures.received,
            Figure::UrgesSystem => figures.urges_system,
            Figure::UrgesManual => figures.urges_manual,
            Figure::Overdue => figures.overdue,
            Figure::Supervisions => figures.supervisions,
            Figure::Returns => figures.returns,
            Figure::Reworks => figures.reworks,
            Figure::Dissatisfied => figures.dissatisfied,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    pub figure: Figure,
    /// A rate: points for a perfect rate, which a rate earns its share of. A count: points for
    /// each one counted …
    pub points: f64,
    /// … up to this many in all (a count's weight alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// A step of a penalty on a rate: below this rate, these points are taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// A rate from 0 to 1, as it earns points (the rework rate inverted).
    pub below: f64,
    pub points: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Penalty {
    pub figure: Figure,
    /// A count: points taken for each one counted …
    #[serde(default)]
    pub points_each: f64,
    /// … up to this many in all.
    #[serde(default)]
    pub max: f64,
    /// A rate: the steps it may fall below (满意率 below 90% → 5 points); of those it is below,
    /// the one taking most counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

impl Weight {
    /// The points a unit's figures earn.
    fn earned(&self, figures: &Figures) -> f64 {
        if self.figure.is_rate() {
            // A rate with nothing to count earns its full points: nothing to fail at.
            self.points * self.figure.merit(figures).unwrap_or(1.0)
        } else {
            let earned = self.points * self.figure.count(figures) as f64;
            self.max.map_or(earned, |max| earned.min(max))
        }
    }
}

impl Penalty {
    /// The points a unit's figures lose.
    fn taken(&self, figures: &Figures) -> f64 {
        if self.figure.is_rate() {
            // Nothing to count, nothing to fall short of.
            let Some(rate) = self.figure.merit(figures) else {
                return 0.0;
            };
            self.steps
                .iter()
                .filter(|step| rate < step.below)
                .map(|step| step.points)
                .fold(0.0, f64::max)
        } else {
            (self.points_each * self.figure.count(figures) as f64).min(self.max)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeThreshold {
    pub grade: String,
    /// The lowest total that earns the grade.
    pub min: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// As the bulletin names it, e.g. 乡镇街道, 县直单位.
    pub name: String,
    pub unit_kinds: Vec<UnitKind>,
    pub weights: Vec<Weight>,
    #[serde(default)]
    pub penalties: Vec<Penalty>,
    /// The most bonus (附加分) a supervisor may give …
    pub bonus_max: f64,
    /// … and what a unit gets unless one sets another (the seeds give most units 20 of 25).
    #[serde(default)]
    pub bonus_default: f64,
    /// Highest first; a total below every threshold gets the last grade.
    pub grades: Vec<GradeThreshold>,
    /// How many of the best to name (排名前N位).
    pub top: usize,
    /// Units that received fewer are not ranked (e.g. "办理量20件以上").
    #[serde(default)]
    pub min_received: u64,
    /// How many units the red list (红榜) names: the best ranked, no more however they tie.
    #[serde(default)]
    pub red_list: usize,
    /// How many units the black list (黑榜) names: the worst scored of those not on the red
    /// list, no more however they tie.
    #[serde(default)]
    pub black_list: usize,
    /// Whether a unit too small to be ranked ([`Group::min_received`]) is kept off the black
    /// list too; otherwise the worst are named whatever their volume.
    #[serde(default)]
    pub min_received_shields_black_list: bool,
    /// The codes of units of the group's kinds that are listed but not graded (the hotline's
    /// own center, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ungraded_units: Vec<String>,
}

/// One row of the bulletin's table of types (诉求类型): a label and the types it counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRow {
    pub label: String,
    pub types: Vec<TicketType>,
}

/// How hot spots (热点) are found: volume against the average of the months before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotSpotRules {
    pub baseline_months: u32,
    /// At least this many this month to count as a hot spot.
    pub min_count: u64,
    /// And this much above the baseline, as a share of it (0.2: a fifth more than usual).
    #[serde(default = "HotSpotRules::default_min_rise")]
    pub min_rise: f64,
    /// How many to show of each kind (categories, townships).
    pub top: usize,
}

impl HotSpotRules {
    fn default_min_rise() -> f64 {
        0.2
    }
}

text_enum! {
    /// Which rates the bulletin's opening paragraph prints. The hotline's callback, satisfaction
    /// and resolution rates count direct answers (直办) too; those of the dispatched tickets
    /// (转办事项) count only what units handled.
    pub enum OpeningRates {
        Hotline = "hotline",
        Dispatched = "dispatched",
        Both = "both",
    }
}

/// A list the bulletin prints of the units whose rate falls short (满意率未达到90%的部门).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shortfall {
    /// A rate, as it earns points (the rework rate inverted).
    pub figure: Figure,
    pub below: f64,
}

/// What the printed bulletin says, where offices differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    #[serde(default = "Layout::default_opening_rates")]
    pub opening_rates: OpeningRates,
    /// How many of the units with most tickets to name (承办量较多的部门, 排名前三).
    #[serde(default = "Layout::default_busiest")]
    pub busiest: usize,
    #[serde(default = "Layout::default_shortfalls")]
    pub shortfalls: Vec<Shortfall>,
    /// Whether the tables of channels, types and categories print the rows of nothing this
    /// period; the prose never does.
    #[serde(default = "Layout::default_zero_rows")]
    pub zero_rows: bool,
}

impl Layout {
    fn default_opening_rates() -> OpeningRates {
        OpeningRates::Both
    }

    fn default_busiest() -> usize {
        3
    }

    fn default_zero_rows() -> bool {
        true
    }

    fn default_shortfalls() -> Vec<Shortfall> {
        vec![Shortfall {
            figure: Figure::SatisfactionRate,
            below: 0.9,
        }]
    }

    fn check(&self, errors: &mut ValidationErrors) {
        if self.busiest > 50 {
            errors.add("layout.busiest", "must be at most 50");
        }
        for (i, shortfall) in self.shortfalls.iter().enumerate() {
            if !shortfall.figure.is_rate() {
                errors.add(format!("layout.shortfalls[{i}].figure"), "must be a rate");
            }
            if !(0.0..=1.0).contains(&shortfall.below) {
                errors.add(
                    format!("layout.shortfalls[{i}].below"),
                    "must be between 0 and 1",
                );
            }
        }
    }
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            opening_rates: Self::default_opening_rates(),
            busiest: Self::default_busiest(),
            shortfalls: Self::default_shortfalls(),
            zero_rows: Self::default_zero_rows(),
        }
    }
}

/// The rules of the bulletins from a month on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub groups: Vec<Group>,
    pub type_rows: Vec<TypeRow>,
    pub hot_spots: HotSpotRules,
    #[serde(default)]
    pub layout: Layout,
    /// The hotline scored as a whole on its own figures (市综合指标值, 综合等级), by a group of
    /// no unit kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotline: Option<Group>,
}

impl Default for Rules {
    /// The county scheme of the seeds: completion 40, response 20, satisfaction 20, a bonus of
    /// 20 (up to 25); townships ranked among themselves (top three), departments and enterprises
    /// with at least 20 tickets (top five).
    fn default() -> Self {
        let weights = [
            (Figure::CompletionRate, 40.0),
            (Figure::ResponseRate, 20.0),
            (Figure::SatisfactionRate, 20.0),
        ]
        .map(|(figure, points)| Weight {
            figure,
            points,
            max: None,
        })
        .to_vec();
        let grades = [("A", 95.0), ("B", 85.0), ("C", 75.0), ("D", 0.0)]
            .into_iter()
            .map(|(grade, min)| GradeThreshold {
                grade: grade.into(),
                min,
            })
            .collect::<Vec<_>>();
        let group = |name: &str, unit_kinds, top, min_received| Group {
            name: name.into(),
            unit_kinds,
            weights: weights.clone(),
            penalties: Vec::new(),
            bonus_max: 25.0,
            bonus_default: 20.0,
            grades: grades.clone(),
            top,
            min_received,
            red_list: 3,
            black_list: 3,
            min_received_shields_black_list: false,
            ungraded_units: Vec::new(),
        };
        let row = |label: &str, types: &[TicketType]| TypeRow {
            label: label.into(),
            types: types.to_vec(),
        };
        Self {
            groups: vec![
                group("乡镇街道", vec![UnitKind::Township], 3, 0),
                group(
                    "县直单位和部门",
                    vec![UnitKind::Department, UnitKind::Enterprise, UnitKind::Center],
                    5,
                    20,
                ),
            ],
            type_rows: vec![
                row("咨询", &[TicketType::Consult]),
                row("求助", &[TicketType::Help]),
                row("投诉", &[TicketType::Complaint]),
                row("举报", &[TicketType::Report]),
                row("建议", &[TicketType::Suggestion]),
                row("表扬", &[TicketType::Praise]),
                row("其他", &[TicketType::Other]),
            ],
            hot_spots: HotSpotRules {
                baseline_months: 3,
                min_count: 5,
                min_rise: HotSpotRules::default_min_rise(),
                top: 5,
            },
            layout: Layout::default(),
            hotline: None,
        }
    }
}

const POINTS_MAX: f64 = 1_000.0;

impl Group {
    /// Whether the group grades the unit of this code.
    pub fn grades(&self, unit_code: &str) -> bool {
        !self.ungraded_units.iter().any(|c| c.trim() == unit_code)
    }

    /// Checks what a group says of itself, its fields named under `prefix`.
    fn check(&self, errors: &mut ValidationErrors, prefix: &str) {
        let at = |field: &str| format!("{prefix}.{field}");
        if self.name.trim().is_empty() || self.name.chars().count() > 40 {
            errors.add(at("name"), "must be 1 to 40 characters");
        }
        let mut weighed = BTreeSet::new();
        for (i, weight) in self.weights.iter().enumerate() {
            let at = |field: &str| format!("{prefix}.weights[{i}].{field}");
            if !weighed.insert(weight.figure) {
                errors.add(at("figure"), "is weighed twice");
            }
            check_points(errors, at("points"), weight.points);
            match (weight.figure.is_rate(), weight.max) {
                (true, Some(_)) => errors.add(at("max"), "must be left out for a rate"),
                (false, None) => errors.add(at("max"), "is required for a count"),
                (false, Some(max)) => check_points(errors, at("max"), max),
                (true, None) => {}
            }
        }
        for (i, penalty) in self.penalties.iter().enumerate() {
            let at = |field: &str| format!("{prefix}.penalties[{i}].{field}");
            if penalty.figure.is_rate() {
                if penalty.steps.is_empty() {
                    errors.add(at("steps"), "needs at least one step for a rate");
                }
                if penalty.points_each != 0.0 || penalty.max != 0.0 {
                    errors.add(
                        at("points_each"),
                        "must be left out for a rate: its steps say what is taken",
                    );
                }
                for (k, step) in penalty.steps.iter().enumerate() {
                    if !(0.0..=1.0).contains(&step.below) {
                        errors.add(at(&format!("steps[{k}].below")), "must be between 0 and 1");
                    }
                    check_points(errors, at(&format!("steps[{k}].points")), step.points);
                }
            } else {
                if !penalty.steps.is_empty() {
                    errors.add(at("steps"), "must be left out for a count");
                }
                check_points(errors, at("points_each"), penalty.points_each);
                check_points(errors, at("max"), penalty.max);
            }
        }
        check_points(errors, at("bonus_max"), self.bonus_max);
        if self.bonus_default > self.bonus_max || self.bonus_default < 0.0 {
            errors.add(at("bonus_default"), "must be between 0 and bonus_max");
        }
        if self.grades.is_empty() {
            errors.add(at("grades"), "needs at least one grade");
        }
        let mut labels = BTreeSet::new();
        for (i, threshold) in self.grades.iter().enumerate() {
            let label = threshold.grade.trim();
            if label.is_empty() || threshold.grade.chars().count() > 8 {
                errors.add(
                    format!("{prefix}.grades[{i}].grade"),
                    "must be 1 to 8 characters",
                );
            } else if !labels.insert(label.to_owned()) {
                errors.add(format!("{prefix}.grades[{i}].grade"), "is given twice");
            }
            check_points(errors, format!("{prefix}.grades[{i}].min"), threshold.min);
            if i > 0 && threshold.min >= self.grades[i - 1].min {
                errors.add(
                    format!("{prefix}.grades[{i}].min"),
                    "must be lower than the grade before",
                );
            }
        }
        for (field, value) in [
            ("top", self.top),
            ("red_list", self.red_list),
            ("black_list", self.black_list),
        ] {
            if value > 100 {
                errors.add(at(field), "must be at most 100");
            }
        }
        for (i, code) in self.ungraded_units.iter().enumerate() {
            if code.trim().is_empty() || code.chars().count() > 64 {
                errors.add(
                    format!("{prefix}.ungraded_units[{i}]"),
                    "must be a unit's code",
                );
            }
        }
    }
}

fn check_points(errors: &mut ValidationErrors, field: String, value: f64) {
    if !(0.0..=POINTS_MAX).contains(&value) || !value.is_finite() {
        errors.add(field, format!("must be between 0 and {POINTS_MAX}"));
    }
}

impl Rules {
    /// Checks a rule set as a whole before it takes effect.
    pub fn check(self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.groups.is_empty() {
            errors.add("groups", "needs at least one group");
        }
        let mut names = BTreeSet::new();
        let mut kinds = BTreeSet::new();
        let mut ungraded = BTreeSet::new();
        for (g, group) in self.groups.iter().enumerate() {
            let prefix = format!("groups[{g}]");
            let name = group.name.trim();
            if !name.is_empty() && !names.insert(name.to_owned()) {
                errors.add(format!("{prefix}.name"), "names another group already");
            }
            if group.unit_kinds.is_empty() {
                errors.add(
                    format!("{prefix}.unit_kinds"),
                    "needs at least one unit kind",
                );
            }
            for kind in &group.unit_kinds {
                if !kinds.insert(*kind) {
                    errors.add(
                        format!("{prefix}.unit_kinds"),
                        format!("`{kind}` is in another group already"),
                    );
                }
            }
            for (i, code) in group.ungraded_units.iter().enumerate() {
                if !ungraded.insert(code.trim()) {
                    errors.add(format!("{prefix}.ungraded_units[{i}]"), "is named twice");
                }
            }
            group.check(&mut errors, &prefix);
        }
        if let Some(hotline) = &self.hotline {
            if !hotline.unit_kinds.is_empty() || !hotline.ungraded_units.is_empty() {
                errors.add(
                    "hotline.unit_kinds",
                    "must be empty: the hotline is scored as a whole",
                );
            }
            hotline.check(&mut errors, "hotline");
        }
        let mut typed = BTreeSet::new();
        for (r, row) in self.type_rows.iter().enumerate() {
            let label = row.label.trim();
            if label.is_empty() || row.label.chars().count() > 20 {
                errors.add(
                    format!("type_rows[{r}].label"),
                    "must be 1 to 20 characters",
                );
            }
            if row.types.is_empty() {
                errors.add(format!("type_rows[{r}].types"), "needs at least one type");
            }
            for t in &row.types {
                if !typed.insert(*t) {
                    errors.add(
                        format!("type_rows[{r}].types"),
                        format!("`{t}` is in another row already"),
                    );
                }
            }
        }
        for t in TicketType::ALL {
            if !typed.contains(t) {
                errors.add("type_rows", format!("`{t}` is in no row"));
            }
        }
        let spots = &self.hot_spots;
        if !(1..=12).contains(&spots.baseline_months) {
            errors.add("hot_spots.baseline_months", "must be between 1 and 12");
        }
        if !(0.0..=100.0).contains(&spots.min_rise) {
            errors.add("hot_spots.min_rise", "must be between 0 and 100");
        }
        if spots.top > 50 {
            errors.add("hot_spots.top", "must be at most 50");
        }
        self.layout.check(&mut errors);
        errors.finish().map(|()| self)
    }

    /// The group a kind of unit is assessed in, if any.
    pub fn group_of(&self, kind: UnitKind) -> Option<&Group> {
        self.groups.iter().find(|g| g.unit_kinds.contains(&kind))
    }
}

text_enum! {
    /// What a unit appeals (申诉) against.
    pub enum AppealSubject {
        /// A callback that found the citizen dissatisfied.
        DissatisfiedCallback = "dissatisfied_callback",
        /// A reply due time that passed before the unit replied.
        Overdue = "overdue",
    }
}

text_enum! {
    pub enum AppealStatus {
        Pending = "pending",
        /// The ticket no longer counts in the unit's figures (核减).
        Granted = "granted",
        Refused = "refused",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Appeal {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub unit_id: Uuid,
    pub subject: AppealSubject,
    pub reason: String,
    pub status: AppealStatus,
    pub filed_by: Option<Uuid>,
    pub filed_at: chrono::DateTime<chrono::Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decision_note: Option<String>,
    /// The evidence: attachments of the ticket the unit uploaded.
    pub attachment_ids: Vec<Uuid>,
}

pub const APPEAL_REASON_MAX: usize = 2_000;
pub const APPEAL_ATTACHMENTS_MAX: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealInput {
    pub subject: AppealSubject,
    pub reason: String,
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

impl AppealInput {
    /// The reason, trimmed, and the evidence without repeats.
    pub fn parse(self) -> Result<(AppealSubject, String, Vec<Uuid>), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let reason = errors.check(
            "reason",
            super::validation::required_text(&self.reason, APPEAL_REASON_MAX),
        );
        let mut ids = self.attachment_ids;
        ids.sort();
        ids.dedup();
        if ids.len() > APPEAL_ATTACHMENTS_MAX {
            errors.add(
                "attachment_ids",
                format!("at most {APPEAL_ATTACHMENTS_MAX}"),
            );
        }
        errors.finish()?;
        Ok((self.subject, reason.unwrap_or_default(), ids))
    }
}

/// A unit's score: points per weighed rate, penalties, bonus, total and grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub components: Vec<Points>,
    pub penalties: Vec<Points>,
    pub bonus: f64,
    /// Rounded to one decimal, as published; the grade is read from it.
    pub total: f64,
    pub grade: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Points {
    pub figure: Figure,
    pub points: f64,
}

/// Rounds to one decimal, as the bulletins print scores.
pub fn one_decimal(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Scores a unit's figures, with the bonus a supervisor set (or the group's default). A rate
/// with nothing to count earns its full points: the unit had nothing to fail at.
pub fn score(group: &Group, figures: &Figures, bonus: Option<f64>) -> Score {
    let bonus = bonus.unwrap_or(group.bonus_default);
    let components: Vec<Points> = group
        .weights
        .iter()
        .map(|w| Points {
            figure: w.figure,
            points: w.earned(figures),
        })
        .collect();
    let penalties: Vec<Points> = group
        .penalties
        .iter()
        .map(|p| Points {
            figure: p.figure,
            points: p.taken(figures),
        })
        .filter(|p| p.points > 0.0)
        .collect();
    let bonus = bonus.clamp(0.0, group.bonus_max);
    let total = one_decimal(
        components.iter().map(|c| c.points).sum::<f64>()
            - penalties.iter().map(|p| p.points).sum::<f64>()
            + bonus,
    );
    let grade = group
        .grades
        .iter()
        .find(|t| total >= t.min)
        .or(group.grades.last())
        .map(|t| t.grade.clone())
        .unwrap_or_default();
    Score {
        components: components
            .into_iter()
            .map(|c| Points {
                points: one_decimal(c.points),
                ..c
            })
            .collect(),
        penalties: penalties
            .into_iter()
            .map(|p| Points {
                points: one_decimal(p.points),
                ..p
            })
            .collect(),
        bonus,
        total,
        grade,
    }
}

/// Whether a unit is assessed on a period's figures: one that received no tickets had no work
/// to be judged on, and is listed apart (本月无承办件), neither scored, ranked nor named.
pub fn has_work(figures: &Figures) -> bool {
    figures.received > 0
}

/// The bonuses (附加分) of a run of months, from each month's: a unit's is the average of its
/// months', a month no supervisor set counting its group's default (`default_of`). Units with
/// no bonus set in any month are left to their default.
pub fn bonuses_over(
    months: &[std::collections::HashMap<Uuid, f64>],
    default_of: impl Fn(Uuid) -> f64,
) -> std::collections::HashMap<Uuid, f64> {
    let units: BTreeSet<Uuid> = months.iter().flat_map(|m| m.keys().copied()).collect();
    units
        .into_iter()
        .map(|unit| {
            let sum: f64 = months
                .iter()
                .map(|m| m.get(&unit).copied().unwrap_or_else(|| default_of(unit)))
                .sum();
            (unit, sum / months.len().max(1) as f64)
        })
        .collect()
}

/// A unit in its group's ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Contender {
    pub unit_id: Uuid,
    pub name: String,
    pub received: u64,
    pub total: f64,
}

/// A group's ranking: every contender in order with its rank (shared on equal totals), or
/// without one when it received too few; the top, red and black lists; and the units without
/// work, apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranking {
    pub group: String,
    /// In order: ranked units by total (then volume, then name), then the unranked, then the
    /// units without work.
    pub order: Vec<(Uuid, Option<usize>)>,
    pub top: Vec<Uuid>,
    pub red_list: Vec<Uuid>,
    /// Worst first.
    pub black_list: Vec<Uuid>,
    /// Received nothing: by name.
    pub idle: Vec<Uuid>,
}

pub fn rank(group: &Group, contenders: Vec<Contender>) -> Ranking {
    let (mut assessed, mut idle): (Vec<Contender>, Vec<Contender>) =
        contenders.into_iter().partition(|c| c.received > 0);
    let eligible = |c: &Contender| c.received >= group.min_received;
    // Better first: a higher total, then more tickets handled, then by name.
    let better = |a: &Contender, b: &Contender| {
        b.total
            .total_cmp(&a.total)
            .then(b.received.cmp(&a.received))
            .then(a.name.cmp(&b.name))
    };
    assessed.sort_by(|a, b| eligible(b).cmp(&eligible(a)).then(better(a, b)));
    idle.sort_by(|a, b| a.name.cmp(&b.name));
    let mut order = Vec::with_capacity(assessed.len() + idle.len());
    let mut ranked: Vec<(Uuid, usize)> = Vec::new();
    for (i, c) in assessed.iter().enumerate() {
        if eligible(c) {
            let rank = match ranked.last() {
                Some(&(_, rank)) if assessed[i - 1].total == c.total => rank,
                _ => i + 1,
            };
            ranked.push((c.unit_id, rank));
            order.push((c.unit_id, Some(rank)));
        } else {
            order.push((c.unit_id, None));
        }
    }
    order.extend(idle.iter().map(|c| (c.unit_id, None)));
    // The top names every unit tied with the last place it reaches; the lists name exactly as
    // many as the rules say, and never the same unit twice.
    let top = ranked
        .iter()
        .filter(|(_, rank)| *rank <= group.top)
        .map(|(unit, _)| *unit)
        .collect();
    let red_list: Vec<Uuid> = ranked
        .iter()
        .take(group.red_list)
        .map(|(unit, _)| *unit)
        .collect();
    let mut worst: Vec<&Contender> = assessed
        .iter()
        .filter(|c| !group.min_received_shields_black_list || eligible(c))
        .filter(|c| !red_list.contains(&c.unit_id))
        .collect();
    worst.sort_by(|a, b| better(b, a));
    let black_list = worst
        .iter()
        .take(group.black_list)
        .map(|c| c.unit_id)
        .collect();
    Ranking {
        group: group.name.clone(),
        order,
        top,
        red_list,
        black_list,
        idle: idle.iter().map(|c| c.unit_id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(
        received: u64,
        responded: u64,
        completed: u64,
        reached: u64,
        satisfied: u64,
    ) -> Figures {
        Figures {
            received,
            responded,
            completed,
            callbacks_reached: reached,
            satisfied,
            ..Figures::default()
        }
    }

    fn township_group() -> Group {
        Rules::default().groups[0].clone()
    }

    #[test]
    fn the_county_scheme_scores_as_the_seed_prints() {
        // 纸坊镇 in the Ruzhou bulletin: 办结率 32 (80 %), 响应率 20, 满意率 20, 附加分 11 → 83.
        let group = Group {
            bonus_max: 25.0,
            ..township_group()
        };
        let s = score(&group, &figures(10, 10, 8, 10, 10), Some(11.0));
        let points: Vec<f64> = s.components.iter().map(|c| c.points).collect();
        assert_eq!(points, [32.0, 20.0, 20.0]);
        assert_eq!((s.bonus, s.total), (11.0, 83.0));
        assert_eq!(s.grade, "C");
        // 焦村镇: 38 + 20 + 20 + 19 = 97.
        let s = score(&group, &figures(40, 40, 38, 20, 20), Some(19.0));
        assert_eq!(
            (s.components[0].points, s.total, s.grade.as_str()),
            (38.0, 97.0, "A")
        );
    }

    #[test]
    fn penalties_are_capped_bonuses_too_and_empty_rates_score_full() {
        let mut group = township_group();
        group.penalties = vec![Penalty {
            figure: Figure::Overdue,
            points_each: 2.0,
            max: 5.0,
            steps: Vec::new(),
        }];
        let mut f = figures(0, 0, 0, 0, 0);
        f.overdue = 4;
        let s = score(&group, &f, Some(50.0));
        assert_eq!(s.components.iter().map(|c| c.points).sum::<f64>(), 80.0);
        assert_eq!(
            s.penalties,
            [Points {
                figure: Figure::Overdue,
                points: 5.0
            }]
        );
        assert_eq!(s.bonus, 25.0, "capped at the group's bonus_max");
        assert_eq!(s.total, 100.0);
        assert_eq!(s.grade, "A");
        let unset = score(&group, &f, None);
        assert_eq!(
            (unset.bonus, unset.total),
            (20.0, 95.0),
            "the group's default bonus"
        );
    }

    #[test]
    fn the_rework_rate_counts_against_the_unit() {
        let mut group = township_group();
        group.weights = vec![Weight {
            figure: Figure::ReworkRate,
            points: 10.0,
            max: None,
        }];
        let f = Figures {
            replies: 4,
            reworks: 1,
            ..Figures::default()
        };
        assert_eq!(score(&group, &f, Some(0.0)).total, 7.5);
    }

    fn contender(n: u128, received: u64, total: f64) -> Contender {
        Contender {
            unit_id: Uuid::from_u128(n),
            name: format!("单位{n}"),
            received,
            total,
        }
    }

    #[test]
    fn rankings_share_ranks_on_equal_totals_and_skip_small_units() {
        let group = Group {
            top: 3,
            min_received: 20,
            red_list: 2,
            black_list: 2,
            ..township_group()
        };
        let ranking = rank(
            &group,
            vec![
                contender(1, 30, 98.3),
                contender(2, 25, 100.0),
                contender(3, 5, 101.0),
                contender(4, 40, 97.9),
                contender(5, 21, 97.9),
                contender(6, 60, 90.0),
            ],
        );
        let u = Uuid::from_u128;
        assert_eq!(
            ranking.order,
            [
                (u(2), Some(1)),
                (u(1), Some(2)),
                (u(4), Some(3)),
                (u(5), Some(3)),
                (u(6), Some(5)),
                (u(3), None)
            ]
        );
        assert_eq!(
            ranking.top,
            [u(2), u(1), u(4), u(5)],
            "a tie at third place names both"
        );
        assert_eq!(ranking.red_list, [u(2), u(1)]);
        assert_eq!(
            ranking.black_list,
            [u(6), u(5)],
            "the two worst, worst first; of two equal totals, the one with fewer tickets"
        );
    }

    #[test]
    fn units_without_work_are_neither_ranked_nor_listed() {
        let group = Group {
            top: 3,
            red_list: 3,
            black_list: 3,
            ..township_group()
        };
        // Scored as a unit with nothing to fail at would be: higher than everyone.
        let ranking = rank(
            &group,
            vec![
                contender(1, 0, 100.0),
                contender(2, 12, 96.0),
                contender(3, 0, 100.0),
                contender(4, 8, 80.0),
            ],
        );
        let u = Uuid::from_u128;
        assert_eq!(
            ranking.order,
            [(u(2), Some(1)), (u(4), Some(2)), (u(1), None), (u(3), None)]
        );
        assert_eq!(ranking.idle, [u(1), u(3)]);
        assert_eq!(ranking.top, [u(2), u(4)]);
        assert_eq!(ranking.red_list, [u(2), u(4)]);
        assert!(ranking.black_list.is_empty(), "both are on the red list");
        assert!(!has_work(&figures(0, 0, 0, 3, 3)));
        assert!(has_work(&figures(1, 0, 0, 0, 0)));
    }

    #[test]
    fn the_lists_are_disjoint_and_sized_as_the_rules_say_however_units_tie() {
        let group = Group {
            top: 3,
            red_list: 3,
            black_list: 3,
            ..township_group()
        };
        let u = Uuid::from_u128;
        // Every unit tied: three named on each list, none on both.
        let tied: Vec<Contender> = (1..=7).map(|n| contender(n, 10, 95.0)).collect();
        let ranking = rank(&group, tied);
        assert_eq!(ranking.top.len(), 7, "a tie at first place names everyone");
        assert_eq!(ranking.red_list.len(), 3);
        assert_eq!(ranking.black_list.len(), 3);
        assert!(
            ranking
                .red_list
                .iter()
                .all(|r| !ranking.black_list.contains(r))
        );
        // Four units: the black list takes what the red list leaves.
        let ranking = rank(
            &group,
            (1..=4).map(|n| contender(n, 10, n as f64)).collect(),
        );
        assert_eq!(ranking.red_list, [u(4), u(3), u(2)]);
        assert_eq!(ranking.black_list, [u(1)]);
    }

    #[test]
    fn the_minimum_for_ranking_shields_from_the_black_list_only_when_the_rules_say_so() {
        // The seeds' month: the only grade-D unit had 7 tickets, four grade-B units 20 or more.
        let mut group = Group {
            top: 5,
            min_received: 20,
            red_list: 1,
            black_list: 2,
            ..township_group()
        };
        let contenders = vec![
            contender(1, 40, 97.0),
            contender(2, 30, 88.0),
            contender(3, 25, 87.0),
            contender(4, 22, 86.0),
            contender(5, 21, 85.5),
            contender(6, 7, 60.0),
        ];
        let u = Uuid::from_u128;
        assert_eq!(rank(&group, contenders.clone()).black_list, [u(6), u(5)]);
        group.min_received_shields_black_list = true;
        assert_eq!(rank(&group, contenders).black_list, [u(5), u(4)]);
    }

    #[test]
    fn a_count_earns_points_each_up_to_its_cap_and_a_rate_below_a_step_loses_its_points() {
        let mut group = township_group();
        group.weights.push(Weight {
            figure: Figure::Received,
            points: 0.5,
            max: Some(5.0),
        });
        group.penalties = vec![Penalty {
            figure: Figure::SatisfactionRate,
            points_each: 0.0,
            max: 0.0,
            steps: vec![
                Step {
                    below: 0.9,
                    points: 5.0,
                },
                Step {
                    below: 0.8,
                    points: 10.0,
                },
            ],
        }];
        // 4 tickets: 2 points of volume; satisfaction 17 of 20 (85%): below 90%, not 80%.
        let s = score(&group, &figures(4, 4, 4, 20, 17), Some(0.0));
        assert_eq!(s.components[3].points, 2.0);
        assert_eq!(
            s.penalties,
            [Points {
                figure: Figure::SatisfactionRate,
                points: 5.0
            }]
        );
        assert_eq!(s.total, 40.0 + 20.0 + 17.0 + 2.0 - 5.0);
        // 30 tickets: capped at 5; 15 of 20 (75%) is below both steps: the deeper counts.
        let s = score(&group, &figures(30, 30, 30, 20, 15), Some(0.0));
        assert_eq!(s.components[3].points, 5.0);
        assert_eq!(s.penalties[0].points, 10.0);
        // Nobody called back: nothing to fall short of.
        assert!(
            score(&group, &figures(3, 3, 3, 0, 0), None)
                .penalties
                .is_empty()
        );
    }

    #[test]
    fn a_hotline_group_and_ungraded_units_are_checked_by_field() {
        let mut rules = Rules::default();
        rules.groups[1].ungraded_units = vec!["rx".into(), "rx".into()];
        let mut hotline = township_group();
        hotline.name = "全县".into();
        rules.hotline = Some(hotline);
        rules.groups[0].penalties = vec![
            Penalty {
                figure: Figure::SatisfactionRate,
                points_each: 1.0,
                max: 0.0,
                steps: vec![Step {
                    below: 1.5,
                    points: 5.0,
                }],
            },
            Penalty {
                figure: Figure::Overdue,
                points_each: 1.0,
                max: 5.0,
                steps: vec![Step {
                    below: 0.5,
                    points: 5.0,
                }],
            },
        ];
        rules.layout.shortfalls.push(Shortfall {
            figure: Figure::Received,
            below: 2.0,
        });
        let errors = rules.clone().check().unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "groups[0].penalties[0].points_each",
                "groups[0].penalties[0].steps[0].below",
                "groups[0].penalties[1].steps",
                "groups[1].ungraded_units[1]",
                "hotline.unit_kinds",
                "layout.shortfalls[1].figure",
                "layout.shortfalls[1].below",
            ]
        );
        rules.layout.shortfalls.pop();
        let hotline = rules.hotline.as_mut().unwrap();
        hotline.unit_kinds.clear();
        rules.groups[0].penalties.clear();
        rules.groups[1].ungraded_units.pop();
        let rules = rules.check().unwrap();
        assert!(!rules.groups[1].grades("rx") && rules.groups[1].grades("ry"));
    }

    #[test]
    fn a_span_s_bonus_is_the_average_of_its_months_the_unset_at_the_default() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let months = [
            [(a, 25.0)].into_iter().collect(),
            std::collections::HashMap::new(),
            [(a, 10.0), (b, 5.0)].into_iter().collect(),
        ];
        let bonuses = bonuses_over(&months, |_| 20.0);
        assert_eq!(bonuses[&a], 55.0 / 3.0);
        assert_eq!(bonuses[&b], 45.0 / 3.0);
        assert_eq!(bonuses.len(), 2, "units never set keep their default");
        assert_eq!(
            bonuses_over(&months[..1], |_| 20.0)[&a],
            25.0,
            "a month is itself"
        );
    }

    #[test]
    fn the_default_rules_are_valid_and_bad_rules_name_their_fields() {
        assert!(Rules::default().check().is_ok());
        let mut rules = Rules::default();
        rules.groups[1].unit_kinds.push(UnitKind::Township);
        rules.groups[0].weights[0].figure = Figure::Overdue;
        rules.groups[0].grades[1].min = 99.0;
        rules.groups[1].name = "乡镇街道".into();
        rules.type_rows.pop();
        rules.hot_spots.baseline_months = 0;
        let errors = rules.check().unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "groups[0].weights[0].max",
                "groups[0].grades[1].min",
                "groups[1].name",
                "groups[1].unit_kinds",
                "type_rows",
                "hot_spots.baseline_months"
            ]
        );
    }
}
