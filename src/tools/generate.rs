//! A realistic synthetic hotline for demos, tests and benchmarks: months of tickets with the
//! hotline's rhythm (fewer on weekends and holidays, surges on typhoon days, seasons), its mix
//! of channels, types and categories, and the troubles bulletins count — returns, reworks,
//! late signatures and replies, dissatisfied and unreachable citizens. The tickets are import
//! records, played through the lifecycle like any import; the same seed gives the same
//! hotline, and generating again adds nothing twice.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::domain::calendar::WorkCalendar;
use crate::domain::directory::{Category, Unit, UnitKind};
use crate::domain::lifecycle::{ContactMethod, ReplyResult, Satisfaction};
use crate::domain::period::Month;
use crate::domain::ticket::{Channel, Priority, TicketType};
use crate::tools::import::{
    AnswerRecord, AssignmentRecord, CallbackRecord, Hotline, Record, ReplyRecord, ReviewRecord,
};

/// What to generate. Every share is a probability between 0 and 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Profile {
    pub seed: u64,
    /// The first month, and how many.
    pub from: Month,
    pub months: u32,
    /// Registrations in an ordinary month, before the season and surges.
    pub per_month: u64,
    /// Relative volume by calendar month, January first.
    pub seasons: [f64; 12],
    pub channels: Vec<(Channel, f64)>,
    pub types: Vec<(TicketType, f64)>,
    /// Days of surges (a typhoon, a cold wave): the day's volume multiplied.
    pub surges: Vec<(NaiveDate, f64)>,
    /// Exact counts for one month, replacing the weights: its total, types and categories
    /// (full names; the remainder spread over the other second-level categories).
    pub exact: Option<ExactMonth>,
    pub urgent_share: f64,
    /// Answered on the spot (直办) rather than dispatched.
    pub direct_share: f64,
    pub late_sign_share: f64,
    pub return_share: f64,
    pub late_reply_share: f64,
    pub rework_share: f64,
    pub dissatisfied_share: f64,
    pub unreachable_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExactMonth {
    pub month: Month,
    pub total: u64,
    pub types: Vec<(TicketType, u64)>,
    #[serde(default)]
    pub categories: Vec<(String, u64)>,
    /// How many are answered on the spot (直办); the rest are dispatched.
    #[serde(default)]
    pub direct: Option<u64>,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            seed: 1,
            from: Month::new(2026, 1).expect("a month"),
            months: 1,
            per_month: 3_000,
            // The Spring Festival quiets February; summer brings water, power and heat.
            seasons: [
                1.0, 0.8, 1.0, 1.0, 1.05, 1.1, 1.2, 1.2, 1.05, 0.95, 1.0, 1.05,
            ],
            channels: vec![
                (Channel::Phone, 0.82),
                (Channel::Web, 0.06),
                (Channel::Wechat, 0.05),
                (Channel::Mailbox, 0.02),
                (Channel::UpperPlatform, 0.04),
                (Channel::App, 0.01),
            ],
            types: vec![
                (TicketType::Consult, 0.42),
                (TicketType::Help, 0.30),
                (TicketType::Complaint, 0.17),
                (TicketType::Report, 0.03),
                (TicketType::Suggestion, 0.03),
                (TicketType::Praise, 0.01),
                (TicketType::Other, 0.04),
            ],
            surges: Vec::new(),
            exact: None,
            urgent_share: 0.02,
            direct_share: 0.55,
            late_sign_share: 0.05,
            return_share: 0.06,
            late_reply_share: 0.04,
            rework_share: 0.08,
            dissatisfied_share: 0.06,
            unreachable_share: 0.03,
        }
    }
}

impl Profile {
    /// Checks the profile before anything is generated.
    pub fn check(&self) -> Result<(), String> {
        let shares = [
            ("urgent_share", self.urgent_share),
            ("direct_share", self.direct_share),
            ("late_sign_share", self.late_sign_share),
            ("return_share", self.return_share),
            ("late_reply_share", self.late_reply_share),
            ("rework_share", self.rework_share),
            ("dissatisfied_share", self.dissatisfied_share),
            ("unreachable_share", self.unreachable_share),
        ];
        for (name, share) in shares {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!("{name} must be between 0 and 1"));
            }
        }
        if !(1..=240).contains(&self.months) {
            return Err("months must be between 1 and 240".into());
        }
        if self.channels.iter().all(|(_, w)| *w <= 0.0) || self.types.iter().all(|(_, w)| *w <= 0.0)
        {
            return Err("channels and types need a positive weight".into());
        }
        if let Some(exact) = &self.exact {
            let typed: u64 = exact.types.iter().map(|(_, n)| n).sum();
            let categorised: u64 = exact.categories.iter().map(|(_, n)| n).sum();
            if typed != exact.total
                || categorised > exact.total
                || exact.direct.is_some_and(|d| d > exact.total)
            {
                return Err(format!(
                    "the exact month's types add up to {typed}, its categories to {categorised} and its direct answers to {}, for a total of {}",
                    exact.direct.unwrap_or(0),
                    exact.total
                ));
            }
        }
        Ok(())
    }
}

/// splitmix64: small, fast, and the same sequence everywhere for a seed.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `[0, n)`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    pub fn minutes(&mut self, from: i64, to: i64) -> Duration {
        Duration::minutes(from + (self.unit() * (to - from) as f64) as i64)
    }

    pub fn weighted<T: Copy>(&mut self, choices: &[(T, f64)]) -> T {
        let total: f64 = choices.iter().map(|(_, w)| w.max(0.0)).sum();
        let mut pick = self.unit() * total;
        for (value, weight) in choices {
            pick -= weight.max(0.0);
            if pick < 0.0 {
                return *value;
            }
        }
        choices.last().expect("choices").0
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗",
];

/// The records of every ticket the profile asks for, registered before `until`; steps after
/// `until` have not happened yet. In registration order.
pub fn records(
    profile: &Profile,
    hotline: &Hotline,
    until: DateTime<Utc>,
) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    for month in months(profile, hotline, until)? {
        out.extend(month?);
    }
    Ok(out)
}

/// How many tickets the profile asks for in `month` (those registered after `until` are left
/// out when the month is made).
fn month_total(profile: &Profile, month: Month) -> u64 {
    match profile.exact.as_ref().filter(|e| e.month == month) {
        Some(e) => e.total,
        None => {
            (profile.per_month as f64 * profile.seasons[month.month() as usize - 1]).round() as u64
        }
    }
}

/// How many tickets the profile asks for in all.
pub fn planned(profile: &Profile) -> u64 {
    let mut month = profile.from;
    let mut total = 0;
    for _ in 0..profile.months {
        total += month_total(profile, month);
        month = month.next();
    }
    total
}

/// The records month after month, each month's in registration order, so that a long profile
/// is written or imported in the memory of one month.
pub fn months<'a>(
    profile: &'a Profile,
    hotline: &'a Hotline,
    until: DateTime<Utc>,
) -> Result<Months<'a>, String> {
    profile.check()?;
    let handling: Vec<&Unit> = hotline
        .units
        .iter()
        .filter(|u| u.active && u.kind != UnitKind::Center)
        .collect();
    if handling.is_empty() {
        return Err("the hotline has no active units to dispatch to: load the demo county (`hotline demo`) or create units first".into());
    }
    let townships: Vec<&Unit> = handling
        .iter()
        .copied()
        .filter(|u| u.kind == UnitKind::Township)
        .collect();
    let second_level: Vec<&Category> = hotline
        .categories
        .iter()
        .filter(|c| c.active && c.parent_id.is_some())
        .collect();
    Ok(Months {
        profile,
        hotline,
        until,
        handling,
        townships,
        second_level,
        random: Random::new(profile.seed),
        month: profile.from,
        left: profile.months,
    })
}

/// See [`months`].
pub struct Months<'a> {
    profile: &'a Profile,
    hotline: &'a Hotline,
    until: DateTime<Utc>,
    handling: Vec<&'a Unit>,
    townships: Vec<&'a Unit>,
    second_level: Vec<&'a Category>,
    random: Random,
    month: Month,
    left: u32,
}

impl Iterator for Months<'_> {
    type Item = Result<Vec<Record>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (profile, hotline, month) = (self.profile, self.hotline, self.month);
        self.month = month.next();
        let random = &mut self.random;
        let exact = profile.exact.as_ref().filter(|e| e.month == month);
        let total = month_total(profile, month);
        let days = day_weights(month, profile, &hotline.calendar);
        let types = match exact {
            Some(e) => {
                let mut list: Vec<TicketType> = e
                    .types
                    .iter()
                    .flat_map(|(t, n)| std::iter::repeat_n(*t, *n as usize))
                    .collect();
                random.shuffle(&mut list);
                list
            }
            None => (0..total)
                .map(|_| random.weighted(&profile.types))
                .collect(),
        };
        let categories = match category_list(exact, &self.second_level, total, random) {
            Ok(categories) => categories,
            Err(e) => return Some(Err(e)),
        };
        let direct: Vec<bool> = match exact.and_then(|e| e.direct) {
            Some(direct) => {
                let mut list: Vec<bool> = (0..total).map(|n| n < direct).collect();
                random.shuffle(&mut list);
                list
            }
            None => (0..total)
                .map(|_| random.chance(profile.direct_share))
                .collect(),
        };
        let mut out = Vec::with_capacity(total as usize);
        for n in 0..total as usize {
            let day = random.weighted(&days);
            let registered_at = local(hotline.timezone, day, 8 * 60) + random.minutes(0, 13 * 60);
            if registered_at >= self.until {
                continue;
            }
            let record = ticket(
                profile,
                hotline,
                random,
                Ticket {
                    external_ref: format!("GEN-{}-{month}-{n:06}", profile.seed),
                    ticket_type: types[n],
                    category: categories[n],
                    direct: direct[n],
                    registered_at,
                    handling: &self.handling,
                    townships: &self.townships,
                },
                self.until,
            );
            out.push(record);
        }
        // A month's tickets are registered inside it: sorted month by month, all are in order.
        out.sort_by_key(|r| r.registered_at);
        Some(Ok(out))
    }
}

fn local(timezone: chrono_tz::Tz, day: NaiveDate, minute_of_day: i64) -> DateTime<Utc> {
    crate::domain::period::local_midnight(day, timezone) + Duration::minutes(minute_of_day)
}

/// How likely each day of the month is to get a ticket.
fn day_weights(month: Month, profile: &Profile, calendar: &WorkCalendar) -> Vec<(NaiveDate, f64)> {
    month
        .days()
        .map(|day| {
            let base = if calendar.is_working_day(day) {
                1.0
            } else if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                0.55
            } else {
                0.45
            };
            let surge = profile
                .surges
                .iter()
                .filter(|(d, _)| *d == day)
                .map(|(_, m)| *m)
                .product::<f64>();
            (day, base * surge)
        })
        .collect()
}

/// Each ticket's category: the exact month's counts first, the rest spread evenly; otherwise
/// any second-level category.
fn category_list<'a>(
    exact: Option<&ExactMonth>,
    second_level: &[&'a Category],
    total: u64,
    random: &mut Random,
) -> Result<Vec<Option<&'a Category>>, String> {
    let mut list: Vec<Option<&Category>> = Vec::with_capacity(total as usize);
    let by_name: BTreeMap<&str, &Category> = second_level
        .iter()
        .map(|c| (c.full_name.as_str(), *c))
        .collect();
    let mut named = std::collections::BTreeSet::new();
    if let Some(exact) = exact {
        for (name, n) in &exact.categories {
            let category = by_name
                .get(name.as_str())
                .ok_or_else(|| format!("no second-level category is named `{name}`"))?;
            named.insert(category.id);
            list.extend(std::iter::repeat_n(Some(*category), *n as usize));
        }
    }
    let others: Vec<&Category> = second_level
        .iter()
        .copied()
        .filter(|c| !named.contains(&c.id))
        .collect();
    let rest = total as usize - list.len();
    if others.is_empty() {
        list.extend(std::iter::repeat_n(None, rest));
    } else {
        for i in 0..rest {
            list.push(Some(others[i % others.len()]));
        }
    }
    random.shuffle(&mut list);
    Ok(list)
}

struct Ticket<'a> {
    external_ref: String,
    ticket_type: TicketType,
    category: Option<&'a Category>,
    /// Answered on the spot rather than dispatched.
    direct: bool,
    registered_at: DateTime<Utc>,
    handling: &'a [&'a Unit],
    townships: &'a [&'a Unit],
}

/// One ticket's record: registered, answered or dispatched, and handled as far as `until`.
fn ticket(
    profile: &Profile,
    hotline: &Hotline,
    random: &mut Random,
    t: Ticket<'_>,
    until: DateTime<Utc>,
) -> Record {
    let urgent = random.chance(profile.urgent_share);
    let priority = if urgent {
        Priority::Urgent
    } else {
        Priority::Normal
    };
    let subject = t
        .category
        .map_or("其他问题", |c| c.name.as_str())
        .to_owned();
    let area = (!t.townships.is_empty() && random.chance(0.7))
        .then(|| t.townships[random.below(t.townships.len())]);
    let place = area.map_or("本地".to_owned(), |a| a.name.clone());
    let mut record = Record {
        external_ref: t.external_ref,
        channel: Some(random.weighted(&profile.channels).as_str().to_owned()),
        ticket_type: t.ticket_type,
        category: t.category.map(|c| c.full_name.clone()),
        title: format!("{place}{subject}问题"),
        content: format!("市民反映{place}{subject}方面的问题，请求相关部门核实处理。"),
        caller_name: Some(format!(
            "{}{}",
            SURNAMES[random.below(SURNAMES.len())],
            if random.chance(0.5) {
                "先生"
            } else {
                "女士"
            }
        )),
        caller_phone: Some(format!("13{:09}", random.next_u64() % 1_000_000_000)),
        confidential: t.ticket_type == TicketType::Report,
        address: None,
        area: area.map(|a| a.code.clone()),
        priority: Some(priority),
        registered_at: t.registered_at,
        answer: None,
        assignments: Vec::new(),
        replies: Vec::new(),
        reviews: Vec::new(),
        callbacks: Vec::new(),
    };
    let happened = |at: DateTime<Utc>| at < until;
    let (limits, _) = hotline.policy.limits_for(t.ticket_type, priority);
    if t.direct {
        let at = t.registered_at + random.minutes(2, 15);
        if happened(at) {
            record.answer = Some(AnswerRecord {
                at,
                text: format!("已向市民解答{subject}相关政策和办理渠道。"),
            });
            if hotline.policy.needs_callback_after_answer(t.ticket_type) {
                callback(
                    profile,
                    random,
                    &mut record,
                    at + Duration::hours(20),
                    until,
                );
            }
        }
        return record;
    }
    let pick_unit = |random: &mut Random, not: Option<&str>| -> &Unit {
        let default = t
            .category
            .and_then(|c| c.default_unit_id)
            .and_then(|id| t.handling.iter().find(|u| u.id == id))
            .filter(|u| Some(u.code.as_str()) != not);
        match default {
            Some(unit) if random.chance(0.8) => unit,
            _ => loop {
                let unit = t.handling[random.below(t.handling.len())];
                if Some(unit.code.as_str()) != not || t.handling.len() == 1 {
                    break unit;
                }
            },
        }
    };
    let mut unit = pick_unit(random, None);
    let mut dispatched_at = t.registered_at + random.minutes(5, 90);
    if !happened(dispatched_at) {
        return record;
    }
    if random.chance(profile.return_share) {
        let returned_at = dispatched_at + random.minutes(30, 240);
        record.assignments.push(AssignmentRecord {
            unit: unit.code.clone(),
            assisting: Vec::new(),
            dispatched_at,
            signed_at: None,
            returned_at: happened(returned_at).then_some(returned_at),
            return_reason: Some("该事项不属于本单位职责范围".into()),
        });
        if !happened(returned_at) {
            return record;
        }
        unit = pick_unit(random, Some(&unit.code));
        dispatched_at = returned_at + random.minutes(10, 60);
        if !happened(dispatched_at) {
            return record;
        }
    }
    let sign_due = hotline
        .calendar
        .due(dispatched_at, limits.sign, "sign")
        .due_at;
    let on_time = ((sign_due - dispatched_at).num_minutes() * 9 / 10).clamp(6, 240);
    let signed_at = if random.chance(profile.late_sign_share) {
        sign_due + random.minutes(30, 24 * 60)
    } else {
        dispatched_at + random.minutes(5, on_time)
    };
    record.assignments.push(AssignmentRecord {
        unit: unit.code.clone(),
        assisting: Vec::new(),
        dispatched_at,
        signed_at: happened(signed_at).then_some(signed_at),
        returned_at: None,
        return_reason: None,
    });
    if !happened(signed_at) {
        return record;
    }
    let mut due = hotline
        .calendar
        .due(dispatched_at, limits.reply, "reply")
        .due_at;
    let mut from = signed_at;
    let mut reworked = false;
    loop {
        let replied_at = if random.chance(profile.late_reply_share) {
            due + random.minutes(60, 5 * 24 * 60)
        } else {
            let room = (due - from).num_minutes().max(30);
            from + Duration::minutes(10 + (random.unit() * 0.8 * room as f64) as i64)
        };
        if !happened(replied_at) {
            return record;
        }
        record.replies.push(ReplyRecord {
            at: replied_at,
            result: if random.chance(0.85) {
                ReplyResult::Resolved
            } else {
                ReplyResult::Explained
            },
            text: format!("经核实，已对{place}{subject}问题进行处理，并向诉求人反馈。"),
            contacted_at: Some({
                let gap = (replied_at - from).num_minutes().clamp(1, 120) as usize;
                replied_at - Duration::minutes(random.below(gap) as i64)
            }),
            contact_method: Some(ContactMethod::Phone),
            contact_outcome: Some("已电话告知处理结果".into()),
            no_contact_reason: None,
        });
        let reviewed_at = replied_at + random.minutes(30, 240);
        if !happened(reviewed_at) {
            return record;
        }
        let reject = !reworked && random.chance(profile.rework_share);
        record.reviews.push(ReviewRecord {
            at: reviewed_at,
            accept: !reject,
            comment: reject.then(|| "答复内容不完整，请补充办理情况".to_owned()),
        });
        if !reject {
            let at = reviewed_at + random.minutes(60 * 16, 60 * 24);
            callback(profile, random, &mut record, at, until);
            return record;
        }
        reworked = true;
        due = hotline
            .calendar
            .due(reviewed_at, limits.reply, "rework")
            .due_at;
        from = reviewed_at;
    }
}

/// The callbacks of a ticket awaiting one: reached (satisfied or not), or unreachable three
/// times.
fn callback(
    profile: &Profile,
    random: &mut Random,
    record: &mut Record,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
) {
    if random.chance(profile.unreachable_share) {
        for attempt in 0..3 {
            let when = at + Duration::days(attempt);
            if when >= until {
                return;
            }
            record.callbacks.push(CallbackRecord {
                at: when,
                reached: false,
                satisfaction: None,
                resolved: None,
                comment: Some("电话无人接听".into()),
                reopen: false,
            });
        }
        return;
    }
    if at >= until {
        return;
    }
    let roll = random.unit();
    let satisfaction = if roll < profile.dissatisfied_share {
        Satisfaction::Dissatisfied
    } else if roll < profile.dissatisfied_share + 0.12 {
        Satisfaction::BasicallySatisfied
    } else {
        Satisfaction::Satisfied
    };
    record.callbacks.push(CallbackRecord {
        at,
        reached: true,
        satisfaction: Some(satisfaction),
        resolved: Some(satisfaction != Satisfaction::Dissatisfied || random.chance(0.3)),
        comment: None,
        reopen: false,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Random::new(7), Random::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut r = Random::new(1);
        let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2_300..2_700).contains(&hits), "{hits}");
        let mut counts = [0; 3];
        for _ in 0..9_000 {
            counts[r.weighted(&[(0, 1.0), (1, 2.0), (2, 0.0)])] += 1;
        }
        assert_eq!(counts[2], 0);
        assert!((2_700..3_300).contains(&counts[0]), "{counts:?}");
    }

    #[test]
    fn profiles_are_checked() {
        assert!(Profile::default().check().is_ok());
        let bad = Profile {
            rework_share: 1.5,
            ..Profile::default()
        };
        assert!(bad.check().unwrap_err().contains("rework_share"));
        let exact = Profile {
            exact: Some(ExactMonth {
                month: Month::new(2022, 7).unwrap(),
                total: 10,
                types: vec![(TicketType::Consult, 9)],
                categories: vec![],
                direct: None,
            }),
            ..Profile::default()
        };
        assert!(exact.check().is_err());
    }
}
