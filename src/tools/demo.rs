//! A demo county to try the service on: the units of the Yichuan county bulletin (伊川县), a
//! category tree drawn from the published bulletins, and one account per role. Loading twice
//! adds nothing twice; it only gives the demo accounts new passwords.

use crate::auth;
use crate::domain::access::Role;
use crate::domain::calendar;
use crate::domain::clock::Clock;
use crate::domain::directory::{Attachment, UnitDraft, UnitKind};
use crate::domain::ticket::Channel;
use crate::store::categories::NewCategory;
use crate::store::users::{NewUser, UserChanges};
use crate::store::{self, Db, StoreError};

/// Units as the bulletin lists them: code, name, kind.
const UNITS: &[(&str, &str, UnitKind)] = &[
    ("rx12345", "伊川县12345热线办", UnitKind::Center),
    ("rsj", "人社局", UnitKind::Department),
    ("zjj", "住建局", UnitKind::Department),
    ("sthjj", "生态环境局", UnitKind::Department),
    ("zrzyj", "自然资源局", UnitKind::Department),
    ("slj", "水利局", UnitKind::Department),
    ("cgj", "城市管理局", UnitKind::Department),
    ("jtj", "交通局", UnitKind::Department),
    ("jtyj", "教体局", UnitKind::Department),
    ("scjgj", "市场监管局", UnitKind::Department),
    ("wglyj", "文化广电旅游局", UnitKind::Department),
    ("zfw", "政法委办公室", UnitKind::Department),
    ("ydxq", "伊东新区指挥部", UnitKind::Department),
    ("zgh", "总工会", UnitKind::Department),
    ("xfdd", "消防大队", UnitKind::Department),
    ("fgw", "发改委", UnitKind::Department),
    ("swj", "商务局", UnitKind::Department),
    ("shuiwu", "税务局", UnitKind::Department),
    ("sbzx", "社保中心", UnitKind::Department),
    ("tjj", "统计局", UnitKind::Department),
    ("nyncj", "农业农村局", UnitKind::Department),
    ("gaj", "公安局", UnitKind::Department),
    ("mzj", "民政局", UnitKind::Department),
    ("czj", "财政局", UnitKind::Department),
    ("yjglj", "应急管理局", UnitKind::Department),
    ("lyj", "林业局", UnitKind::Department),
    ("glj", "公路局", UnitKind::Department),
    ("kjgxj", "科技工信局", UnitKind::Department),
    ("gxs", "供销社", UnitKind::Department),
    ("mzzj", "民宗局", UnitKind::Department),
    ("xzfwzx", "行政服务中心", UnitKind::Department),
    ("ybj", "医保局", UnitKind::Department),
    ("tyjrj", "退役军人事务管理局", UnitKind::Department),
    ("rmtzx", "融媒体中心", UnitKind::Department),
    ("jkzx", "疾控中心", UnitKind::Department),
    ("kfq", "伊川县开发区", UnitKind::Department),
    ("slgaj", "森林公安局", UnitKind::Department),
    ("xfj", "信访局", UnitKind::Department),
    ("fy", "法院", UnitKind::Department),
    ("sfj", "司法局", UnitKind::Department),
    ("yqzhb", "疫情指挥部", UnitKind::Department),
    ("gdgs", "供电公司", UnitKind::Enterprise),
    ("ygwl", "豫广网络伊川分公司", UnitKind::Enterprise),
    ("cysy", "财源实业", UnitKind::Enterprise),
    ("ycj", "烟草局", UnitKind::Enterprise),
    ("yzj", "邮政局", UnitKind::Enterprise),
    ("nh", "农行", UnitKind::Enterprise),
    ("nsh", "农商行", UnitKind::Enterprise),
    ("jsyh", "建设银行", UnitKind::Enterprise),
    ("yzyh", "邮政银行", UnitKind::Enterprise),
    ("ttgs", "铁塔公司", UnitKind::Enterprise),
    ("ydgs", "移动公司", UnitKind::Enterprise),
    ("ltgs", "联通公司", UnitKind::Enterprise),
    ("tongtie", "铁通公司", UnitKind::Enterprise),
    ("dxgs", "电信公司", UnitKind::Enterprise),
    ("cgjd", "城关街道办", UnitKind::Township),
    ("hbjd", "河滨街道办", UnitKind::Township),
    ("yl", "鸦岭镇", UnitKind::Township),
    ("gs", "高山镇", UnitKind::Township),
    ("pd", "平等乡", UnitKind::Township),
    ("mg", "鸣皋镇", UnitKind::Township),
    ("jh", "酒后镇", UnitKind::Township),
    ("gz", "葛寨镇", UnitKind::Township),
    ("by", "白元镇", UnitKind::Township),
    ("sz", "水寨镇", UnitKind::Township),
    ("bs", "白沙镇", UnitKind::Township),
    ("bp", "半坡镇", UnitKind::Township),
    ("jz", "江左镇", UnitKind::Township),
    ("ld", "吕店镇", UnitKind::Township),
    ("pp", "彭婆镇", UnitKind::Township),
];

/// First-level categories with their second-level ones and the unit each usually goes to.
const CATEGORIES: &[(&str, &[(&str, &str)])] = &[
    (
        "城市管理",
        &[
            ("市容市政", "cgj"),
            ("物业管理", "zjj"),
            ("占道经营", "cgj"),
            ("噪音扰民", "cgj"),
            ("油烟污染", "sthjj"),
        ],
    ),
    (
        "住房保障",
        &[
            ("问题楼盘", "zjj"),
            ("供水停水", "zjj"),
            ("房屋维修", "zjj"),
        ],
    ),
    ("社会保障", &[("工资薪金", "rsj"), ("就业创业", "rsj")]),
    ("社会保险", &[("养老保险", "sbzx"), ("医疗保险", "ybj")]),
    ("疾病控制", &[("疫情防控", "yqzhb"), ("核酸检测", "jkzx")]),
    ("文体科教", &[("教育管理", "jtyj"), ("入学政策", "jtyj")]),
    ("农村建设", &[("村容村貌", "nyncj")]),
    (
        "农村管理",
        &[("耕地保护", "zrzyj"), ("宅基地纠纷", "zrzyj")],
    ),
    ("水利水电", &[("用水困难", "slj"), ("供电问题", "gdgs")]),
    ("优抚救助", &[("低保资金", "mzj"), ("退役军人", "tyjrj")]),
    ("公安出警", &[("治安管理", "gaj"), ("交通违法", "gaj")]),
    (
        "市场监管",
        &[
            ("消费维权", "scjgj"),
            ("食品安全", "scjgj"),
            ("预付卡消费", "scjgj"),
        ],
    ),
    ("环境保护", &[("养殖污染", "sthjj"), ("大气污染", "sthjj")]),
    ("交通运输", &[("公交出行", "jtj"), ("道路养护", "glj")]),
];

struct DemoAccount {
    username: &'static str,
    display_name: &'static str,
    role: Role,
    unit_code: Option<&'static str>,
    channel: Option<Channel>,
}

const fn account(
    username: &'static str,
    display_name: &'static str,
    role: Role,
    unit_code: Option<&'static str>,
    channel: Option<Channel>,
) -> DemoAccount {
    DemoAccount {
        username,
        display_name,
        role,
        unit_code,
        channel,
    }
}

/// One account per role (but administrator, which first start creates), two unit handlers so
/// that a ticket can be returned by one unit and dispatched to another.
const ACCOUNTS: &[DemoAccount] = &[
    account("agent", "话务员 王芳", Role::Agent, None, None),
    account("dispatcher", "派单员 李强", Role::Dispatcher, None, None),
    account(
        "supervisor",
        "热线办主任 张伟",
        Role::Supervisor,
        None,
        None,
    ),
    account(
        "renshe",
        "人社局承办人 赵敏",
        Role::UnitHandler,
        Some("rsj"),
        None,
    ),
    account(
        "chengguan",
        "城管局承办人 刘洋",
        Role::UnitHandler,
        Some("cgj"),
        None,
    ),
    account(
        "platform",
        "市级平台接口",
        Role::Integration,
        None,
        Some(Channel::UpperPlatform),
    ),
];

/// The working-day calendars the repository carries (`calendars/`), transcribed from the State
/// Council's notices, so that the demo county's deadlines skip the holidays from the start.
const CALENDARS: &[(i32, &str)] = &[(2026, include_str!("../../calendars/2026.json"))];

/// What loading the demo did, for printing.
#[derive(Debug, Default)]
pub struct DemoReport {
    pub units_added: usize,
    pub categories_added: usize,
    /// Calendar years loaded (years already in the database are left as they are).
    pub calendar_years: Vec<i32>,
    /// Username, role, password.
    pub accounts: Vec<(String, Role, String)>,
}

pub fn load(db: &Db, clock: &dyn Clock, password: Option<&str>) -> Result<DemoReport, StoreError> {
    let mut report = DemoReport::default();
    let now = clock.now();
    let credentials: Vec<(usize, String, String)> = ACCOUNTS
        .iter()
        .enumerate()
        .map(|(i, _)| {
            let password = password.map_or_else(|| auth::generate_password(12), str::to_owned);
            let hash =
                auth::hash_password(&password).map_err(|e| StoreError::Config(e.to_string()))?;
            Ok((i, password, hash))
        })
        .collect::<Result<_, StoreError>>()?;
    db.write(|conn| -> Result<(), StoreError> {
        for (order, (code, name, kind)) in UNITS.iter().enumerate() {
            if store::units::find_by_code(conn, code)?.is_none() {
                let draft = UnitDraft {
                    code: (*code).into(),
                    name: (*name).into(),
                    kind: *kind,
                    parent_id: None,
                    sort_order: order as i32,
                };
                store::units::insert(conn, &draft, now)?;
                report.units_added += 1;
            }
        }
        for (order, (first, seconds)) in CATEGORIES.iter().enumerate() {
            let parent = match store::categories::find_by_full_name(conn, first)? {
                Some(parent) => parent,
                None => {
                    report.categories_added += 1;
                    store::categories::insert(
                        conn,
                        &NewCategory {
                            name: first,
                            parent: None,
                            default_unit_id: None,
                            sort_order: order as i32,
                        },
                        now,
                    )?
                }
            };
            for (position, (second, unit_code)) in seconds.iter().enumerate() {
                let full_name = format!("{first}—{second}");
                if store::categories::find_by_full_name(conn, &full_name)?.is_some() {
                    continue;
                }
                let unit = store::units::find_by_code(conn, unit_code)?.map(|u| u.id);
                store::categories::insert(
                    conn,
                    &NewCategory {
                        name: second,
                        parent: Some(&parent),
                        default_unit_id: unit,
                        sort_order: position as i32,
                    },
                    now,
                )?;
                report.categories_added += 1;
            }
        }
        for (i, password, hash) in &credentials {
            let DemoAccount {
                username,
                display_name,
                role,
                unit_code,
                channel,
            } = ACCOUNTS[*i];
            let unit_id = match unit_code {
                Some(code) => store::units::find_by_code(conn, code)?.map(|u| u.id),
                None => None,
            };
            let attachment = Attachment {
                role,
                unit_id,
                channel,
            };
            match store::users::find_credentials(conn, username)? {
                Some((user, _)) => {
                    let changes = UserChanges {
                        attachment: Some(attachment),
                        active: Some(true),
                        password_hash: Some(hash),
                        must_change_password: Some(false),
                        ..UserChanges::default()
                    };
                    store::users::update(conn, user.id, &changes, now)?;
                }
                None => {
                    let new = NewUser {
                        username,
                        display_name,
                        attachment,
                        password_hash: hash,
                        must_change_password: false,
                    };
                    store::users::insert(conn, &new, now)?;
                }
            }
            report
                .accounts
                .push((username.to_owned(), role, password.clone()));
        }
        for (year, json) in CALENDARS {
            if store::calendar::year(conn, *year)?.is_empty() {
                let days = serde_json::from_str(json)
                    .map_err(StoreError::corrupt)
                    .and_then(|input| {
                        calendar::parse_year(*year, input).map_err(StoreError::corrupt)
                    })?;
                store::calendar::replace_year(conn, *year, &days)?;
                report.calendar_years.push(*year);
            }
        }
        Ok(())
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_valid() {
        let codes: HashSet<&str> = UNITS.iter().map(|(c, _, _)| *c).collect();
        assert_eq!(codes.len(), UNITS.len());
        for (code, _, _) in UNITS {
            assert!(crate::domain::directory::unit_code(code).is_ok(), "{code}");
        }
        let townships = UNITS
            .iter()
            .filter(|(_, _, k)| *k == UnitKind::Township)
            .count();
        assert_eq!(townships, 15);
    }

    #[test]
    fn every_category_points_at_a_demo_unit() {
        for (_, seconds) in CATEGORIES {
            for (_, unit) in *seconds {
                assert!(UNITS.iter().any(|(code, _, _)| code == unit), "{unit}");
            }
        }
        for unit in ACCOUNTS.iter().filter_map(|a| a.unit_code) {
            assert!(UNITS.iter().any(|(code, _, _)| *code == unit), "{unit}");
        }
    }

    #[test]
    fn the_bundled_calendars_are_valid_years() {
        for (year, json) in CALENDARS {
            let input = serde_json::from_str(json).expect("JSON of a year");
            let days = calendar::parse_year(*year, input).expect("a valid year");
            assert!(days.iter().any(|d| d.kind == calendar::DayKind::Workday));
        }
    }

    #[test]
    fn there_is_one_account_for_every_role_but_admin() {
        for role in Role::ALL.iter().filter(|r| **r != Role::Admin) {
            assert!(ACCOUNTS.iter().any(|a| a.role == *role), "{role}");
        }
    }
}
