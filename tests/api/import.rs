//! Historical tickets in (JSON Lines and CSV) and synthetic hotlines out of the generator: every
//! record checked and played through the lifecycle, bad lines reported by number without stopping
//! the good ones, nothing imported twice, and a generated month that prints the Ruzhou bulletin's
//! July tables.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use hotline::domain::clock::Clock;
use hotline::domain::directory::UnitKind;
use hotline::domain::period::Month;
use hotline::domain::ticket::TicketType;
use hotline::tools::generate::{self, ExactMonth, Profile};
use hotline::tools::import::{self, Hotline, Importer, Report};
use serde_json::{Value, json};

use crate::helpers::{World, world_at};

fn shanghai(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// A working-day morning of October 2026, as written in a file.
fn oct(day: u32, hour: u32, minute: u32) -> String {
    shanghai(2026, 10, day, hour, minute).to_rfc3339()
}

impl World {
    /// Imports on a thread of its own, as the command does, while the server goes on answering.
    async fn import(&self, lines: Vec<import::Line>) -> Report {
        let db = self.app.db().clone();
        let now = self.clock.now();
        actix_web::rt::task::spawn_blocking(move || {
            Importer::new(&db, chrono_tz::Asia::Shanghai, 4, now, false)
                .and_then(|mut importer| importer.run(lines, None))
                .expect("the import runs")
        })
        .await
        .unwrap()
    }

    /// Imports records as JSON Lines, every one of them good.
    async fn import_all(&self, records: &[Value]) {
        let lines: Vec<String> = records.iter().map(Value::to_string).collect();
        let report = self
            .import(import::json_lines(lines.join("\n").as_bytes()).collect())
            .await;
        assert_eq!(
            (report.imported, report.bad.len()),
            (records.len(), 0),
            "{report:?}"
        );
    }

    /// The assessment rules in force in `month`, as a body to change and put back.
    async fn rules_to_edit(&self, month: &str) -> Value {
        let mut rules = self
            .get_json(
                &format!("/api/v1/assessment/rules?month={month}"),
                &self.supervisor,
            )
            .await;
        for field in ["effective_from", "created_by", "created_at"] {
            rules.as_object_mut().unwrap().remove(field);
        }
        rules
    }

    /// Puts the rules in force from `month`, as a supervisor.
    async fn put_rules(&self, month: &str, rules: &Value) -> crate::helpers::Answer {
        self.app
            .send(
                awc::http::Method::PUT,
                &format!("/api/v1/assessment/rules/{month}"),
                Some(&self.supervisor),
                &[],
                Some(rules),
            )
            .await
    }

    /// Second-level categories by full name, their parents made once.
    async fn categories(&self, names: &[&str]) {
        let mut parents: HashMap<String, Value> = HashMap::new();
        for full in names {
            let (parent, child) = full.split_once('—').expect("a two-level name");
            if !parents.contains_key(parent) {
                let made = self
                    .app
                    .post("/api/v1/categories", &self.admin, &json!({"name": parent}))
                    .await;
                assert_eq!(made.status, 201, "{}", made.text);
                parents.insert(parent.to_owned(), made.body["id"].clone());
            }
            let made = self
                .app
                .post(
                    "/api/v1/categories",
                    &self.admin,
                    &json!({"name": child, "parent_id": parents[parent]}),
                )
                .await;
            assert_eq!(made.status, 201, "{}", made.text);
        }
    }

    /// Every ticket, by its external reference.
    async fn tickets_by_ref(&self) -> HashMap<String, Value> {
        let listed = self
            .get_json("/api/v1/tickets?limit=100", &self.supervisor)
            .await;
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["external_ref"].as_str().unwrap().to_owned(), t.clone()))
            .collect()
    }
}

fn numbered(records: &[import::Record]) -> Vec<import::Line> {
    import::numbered(records.to_vec()).collect()
}

fn bad_lines(report: &Report) -> Vec<usize> {
    report.bad.iter().map(|(line, _)| *line).collect()
}

fn reason(report: &Report, line: usize) -> &str {
    report
        .bad
        .iter()
        .find(|(l, _)| *l == line)
        .map(|(_, m)| m.as_str())
        .unwrap_or_else(|| panic!("line {line} is not reported: {report:?}"))
}

/// A complaint taken from dispatch to closure in the old system.
fn closed_complaint(external_ref: &str, unit: &str) -> Value {
    json!({
        "external_ref": external_ref,
        "channel": "phone",
        "type": "complaint",
        "category": "城市管理—市容市政",
        "title": "夜间施工噪音",
        "content": "工地夜间施工，影响休息",
        "caller_name": "王先生",
        "caller_phone": "13800001111",
        "registered_at": oct(12, 9, 0),
        "assignments": [{"unit": unit, "dispatched_at": oct(12, 9, 30), "signed_at": oct(12, 10, 0)}],
        "replies": [{
            "at": oct(14, 10, 0), "result": "resolved", "text": "已责令施工方停止夜间作业",
            "contacted_at": oct(13, 16, 0), "contact_method": "phone", "contact_outcome": "已告知处理结果"
        }],
        "reviews": [{"at": oct(14, 15, 0), "accept": true}],
        "callbacks": [{"at": oct(15, 10, 0), "reached": true, "satisfaction": "satisfied", "resolved": true}]
    })
}

#[actix_web::test]
async fn json_lines_import_with_their_history_and_bad_lines_are_reported_by_number() {
    let w = world_at(shanghai(2026, 11, 2, 9, 0)).await;
    w.categories(&["城市管理—市容市政"]).await;
    let unit = w.unit_a.code.clone();
    let answered = json!({
        "external_ref": "OLD-2", "type": "consult", "title": "社保缴费基数", "content": "咨询缴费基数",
        "registered_at": oct(13, 9, 0),
        "answer": {"at": oct(13, 9, 5), "text": "已告知缴费基数的核定办法"}
    });
    let mut unknown_unit = closed_complaint("OLD-4", "nope");
    unknown_unit["category"] = json!("城市管理—市容市政");
    let mut reply_first = closed_complaint("OLD-5", &unit);
    reply_first["assignments"] = json!([]);
    let mut signed_before_dispatch = closed_complaint("OLD-7", &unit);
    signed_before_dispatch["assignments"][0]["signed_at"] = json!(oct(12, 9, 10));
    let mut dispatched_before_registration = closed_complaint("OLD-8", &unit);
    dispatched_before_registration["assignments"][0]["dispatched_at"] = json!(oct(11, 9, 0));
    let lines = [
        closed_complaint("OLD-1", &unit).to_string(),
        answered.to_string(),
        "{\"external_ref\": \"OLD-3\", ".to_owned(),
        unknown_unit.to_string(),
        reply_first.to_string(),
        String::new(),
        signed_before_dispatch.to_string(),
        dispatched_before_registration.to_string(),
        closed_complaint("OLD-1", &unit).to_string(),
    ]
    .join("\n");

    let report = w
        .import(import::json_lines(lines.as_bytes()).collect())
        .await;
    assert_eq!((report.read, report.imported, report.already), (8, 2, 0));
    assert_eq!(bad_lines(&report), [3, 4, 5, 7, 8, 9]);
    assert!(reason(&report, 3).contains("EOF"), "{report:?}");
    assert_eq!(
        reason(&report, 4),
        "assignments[0].unit: no unit has the code `nope`"
    );
    assert_eq!(reason(&report, 5), "replies[0]: no dispatch came before it");
    assert!(
        reason(&report, 7).starts_with("the signature at ")
            && reason(&report, 7).ends_with("a ticket in state `registered` cannot be signed"),
        "{report:?}"
    );
    assert!(
        reason(&report, 8).contains("is before the registration"),
        "{report:?}"
    );
    assert!(reason(&report, 9).contains("repeats the external reference `OLD-1`"));

    let tickets = w.tickets_by_ref().await;
    assert_eq!(tickets.len(), 2);
    let closed = &tickets["OLD-1"];
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["number"], "2610120001", "numbered on its own day");
    assert_eq!(closed["created_at"], "2026-10-12T01:00:00Z");
    assert_eq!(tickets["OLD-2"]["number"], "2610130001");
    for ticket in tickets.values() {
        w.assert_timeline_replays(ticket["id"].as_str().unwrap());
    }
    let timeline = w
        .get_json(
            &format!(
                "/api/v1/tickets/{}/events?limit=200",
                closed["id"].as_str().unwrap()
            ),
            &w.supervisor,
        )
        .await;
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "registered",
            "dispatched",
            "signed",
            "replied",
            "review_accepted",
            "callback_recorded",
            "closed"
        ]
    );

    // Again: nothing new, the same lines refused.
    let again = w
        .import(import::json_lines(lines.as_bytes()).collect())
        .await;
    assert_eq!((again.read, again.imported, again.already), (8, 0, 3));
    assert_eq!(bad_lines(&again), [3, 4, 5, 7, 8]);
    assert_eq!(w.app.count("tickets"), 2);
}

#[actix_web::test]
async fn csv_rows_import_one_round_each_and_name_their_lines() {
    let w = world_at(shanghai(2026, 11, 2, 9, 0)).await;
    w.categories(&["城市管理—市容市政"]).await;
    let unit = &w.unit_a.code;
    let assisting = &w.unit_b.code;
    let csv = format!(
        "\u{feff}external_ref,type,category,title,content,registered_at,unit,assisting,dispatched_at,signed_at,replied_at,reply_result,reply_text,contacted_at,contact_method,contact_outcome,reviewed_at,review_accepted,callback_at,callback_reached,satisfaction,resolved\n\
         C-1,complaint,城市管理—市容市政,夜间施工噪音,\"工地夜间施工，\n影响休息\",{r},{unit},{assisting},{d},{s},{rep},resolved,已责令停止夜间作业,{c},phone,已告知,{rev},是,{cb},true,basically_satisfied,true\n\
         C-2,complaint,,路灯不亮,小区路灯损坏,{r},{unit},,{d},,,,,,,,{rev},maybe,,,,\n\
         C-3,complaint,城市管理—井盖,井盖缺失,路口井盖缺失,{r},,,,,,,,,,,,,,,,\n\
         C-4,help,,下水道堵塞,污水外溢,{r},,,,,,,,,,,,,,,,\n",
        r = oct(12, 9, 0),
        d = oct(12, 9, 30),
        s = oct(12, 10, 0),
        c = oct(13, 16, 0),
        rep = oct(14, 10, 0),
        rev = oct(14, 15, 0),
        cb = oct(15, 10, 0),
    );
    let rows = import::csv_rows(csv.as_bytes()).unwrap();
    let report = w.import(rows).await;
    assert_eq!((report.read, report.imported), (4, 2), "{report:?}");
    // The first record spans lines 2 and 3.
    assert_eq!(bad_lines(&report), [4, 5]);
    assert_eq!(
        reason(&report, 4),
        "review_accepted: `maybe` is not true or false"
    );
    assert_eq!(
        reason(&report, 5),
        "category: no category is named `城市管理—井盖`"
    );
    let tickets = w.tickets_by_ref().await;
    assert_eq!(tickets["C-1"]["status"], "closed");
    assert_eq!(tickets["C-4"]["status"], "registered");
    let ticket = w
        .get_json(
            &format!("/api/v1/tickets/{}", tickets["C-1"]["id"].as_str().unwrap()),
            &w.supervisor,
        )
        .await;
    assert_eq!(ticket["content"], "工地夜间施工，\n影响休息");
    let roles: Vec<(&str, &str)> = ticket["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["unit_id"].as_str().unwrap(), a["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            (w.unit_a.id.to_string().as_str(), "primary"),
            (w.unit_b.id.to_string().as_str(), "assisting")
        ]
    );
    w.assert_timeline_replays(tickets["C-1"]["id"].as_str().unwrap());

    let unknown = import::csv_rows("external_ref,colour\nX,red\n".as_bytes()).unwrap_err();
    assert!(
        unknown.starts_with("line 1: unknown column `colour`"),
        "{unknown}"
    );
}

#[actix_web::test]
async fn the_generator_gives_the_same_hotline_for_a_seed_and_imports_it_once() {
    let w = world_at(shanghai(2026, 11, 20, 9, 0)).await;
    w.categories(&["城市管理—市容市政", "社会保障—工资薪金"])
        .await;
    w.app.add_unit("xz01", UnitKind::Township);
    let hotline = Hotline::load(w.app.db(), chrono_tz::Asia::Shanghai).unwrap();
    let surge_day = chrono::NaiveDate::from_ymd_opt(2026, 9, 15).unwrap();
    let profile = Profile {
        seed: 42,
        from: Month::new(2026, 9).unwrap(),
        months: 2,
        per_month: 400,
        surges: vec![(surge_day, 6.0)],
        ..Profile::default()
    };
    let now = w.clock.now();
    let records = generate::records(&profile, &hotline, now).unwrap();
    let again = generate::records(&profile, &hotline, now).unwrap();
    assert_eq!(
        serde_json::to_string(&records).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    // Made a month at a time, each month's records inside it, in registration order.
    let months: Vec<Vec<_>> = generate::months(&profile, &hotline, now)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(months.len(), 2);
    for (month, made) in [9, 10].into_iter().zip(&months) {
        assert!(
            made.iter()
                .all(|r| r.registered_at >= shanghai(2026, month, 1, 0, 0)
                    && r.registered_at < shanghai(2026, month + 1, 1, 0, 0))
        );
        assert!(
            made.windows(2)
                .all(|w| w[0].registered_at <= w[1].registered_at)
        );
    }
    assert_eq!(
        serde_json::to_string(&months.concat()).unwrap(),
        serde_json::to_string(&records).unwrap()
    );
    // September is a summer month (×1.05), October an autumn one (×0.95).
    let in_month = |m: u32| {
        records
            .iter()
            .filter(|r| r.registered_at >= shanghai(2026, m, 1, 0, 0))
            .filter(|r| r.registered_at < shanghai(2026, m + 1, 1, 0, 0))
            .count()
    };
    assert_eq!((in_month(9), in_month(10)), (420, 380));
    let on_day = |day: u32| {
        records
            .iter()
            .filter(|r| r.registered_at >= shanghai(2026, 9, day, 0, 0))
            .filter(|r| r.registered_at < shanghai(2026, 9, day + 1, 0, 0))
            .count()
    };
    assert!(
        on_day(15) > 3 * on_day(16),
        "the typhoon day: {} against {}",
        on_day(15),
        on_day(16)
    );
    let dispatched = records.iter().filter(|r| !r.assignments.is_empty()).count();
    let returned = records
        .iter()
        .filter(|r| r.assignments.iter().any(|a| a.returned_at.is_some()))
        .count();
    let reworked = records
        .iter()
        .filter(|r| r.reviews.iter().any(|v| !v.accept))
        .count();
    assert!(dispatched > 250 && returned > 5 && reworked > 5);
    let surge_count = on_day(15);

    let total = records.len();
    let report = w.import(numbered(&records)).await;
    assert_eq!(report.bad, []);
    assert_eq!(report.imported, total);
    let report = w.import(numbered(&records)).await;
    assert_eq!((report.imported, report.already), (0, total));
    let bulletin = w
        .get_json("/api/v1/reports/monthly?month=2026-09", &w.supervisor)
        .await;
    assert_eq!(bulletin["volume"]["total"], 420);
    let surge = bulletin["daily"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["day"] == "2026-09-15")
        .unwrap();
    assert_eq!(surge["count"], surge_count);
}

/// 汝州市12345民呼必应热线, 2022年第7期 (`seeds/002_*.txt`): 4,480 registrations, 3,267 handled
/// on the spot and 1,213 dispatched; the type table and the top ten as printed.
#[actix_web::test]
async fn a_generated_july_prints_the_ruzhou_bulletin_tables() {
    let w = world_at(shanghai(2022, 8, 2, 9, 0)).await;
    let top_ten: [(&str, u64); 10] = [
        ("疾病控制—疫情防控", 505),
        ("文体科教—教育管理", 182),
        ("社会保障—工资薪金", 152),
        ("社会保险—养老保险", 135),
        ("城市管理—市容市政", 124),
        ("农村建设—村容村貌", 103),
        ("水利水电—用水困难", 88),
        ("优抚救助—低保资金", 87),
        ("农村管理—耕地保护", 69),
        ("城市管理—物业管理", 66),
    ];
    // The other 2,969 spread over 60 categories stay below the tenth's 66.
    let others: Vec<String> = (1..=60).map(|n| format!("其他事项—事项{n:02}")).collect();
    let mut names: Vec<&str> = top_ten.iter().map(|(name, _)| *name).collect();
    names.extend(others.iter().map(String::as_str));
    w.categories(&names).await;
    for code in ["fzz", "qlx", "ltz"] {
        w.app.add_unit(code, UnitKind::Township);
    }

    // Ruzhou groups the types in five rows.
    let mut rules = w.rules_to_edit("2022-07").await;
    rules["type_rows"] = json!([
        {"label": "咨询类", "types": ["consult"]},
        {"label": "问题处理类", "types": ["help"]},
        {"label": "投诉举报类", "types": ["complaint", "report"]},
        {"label": "建议类", "types": ["suggestion"]},
        {"label": "其它", "types": ["praise", "other"]},
    ]);
    let stored = w.put_rules("2022-07", &rules).await;
    assert_eq!(stored.status, 200, "{}", stored.text);

    let july = Month::new(2022, 7).unwrap();
    let profile = Profile {
        seed: 262,
        from: july,
        months: 1,
        exact: Some(ExactMonth {
            month: july,
            total: 4_480,
            types: vec![
                (TicketType::Consult, 1_318),
                (TicketType::Help, 955),
                (TicketType::Complaint, 800),
                (TicketType::Report, 41),
                (TicketType::Suggestion, 21),
                (TicketType::Praise, 12),
                (TicketType::Other, 1_333),
            ],
            categories: top_ten.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
            direct: Some(3_267),
        }),
        ..Profile::default()
    };
    let hotline = Hotline::load(w.app.db(), chrono_tz::Asia::Shanghai).unwrap();
    let records = generate::records(&profile, &hotline, w.clock.now()).unwrap();
    assert_eq!(records.len(), 4_480);
    let report = w.import(numbered(&records)).await;
    assert_eq!((report.imported, report.bad.len()), (4_480, 0));

    let bulletin = w
        .get_json("/api/v1/reports/monthly?month=2022-07", &w.supervisor)
        .await;
    let volume = &bulletin["volume"];
    assert_eq!(
        (&volume["total"], &volume["direct"], &volume["dispatched"]),
        (&json!(4_480), &json!(3_267), &json!(1_213))
    );
    let csv = |table: &str| {
        let path = format!("/api/v1/reports/monthly?month=2022-07&format=csv&table={table}");
        let w = &w;
        async move {
            let answer = w.app.get(&path, &w.supervisor).await;
            assert_eq!(answer.status, 200, "{}", answer.text);
            answer
                .text
                .trim_start_matches('\u{feff}')
                .lines()
                .skip(1)
                .map(|line| line.split(',').take(3).collect::<Vec<_>>().join(","))
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(
        csv("types").await,
        [
            "咨询类,1318,29.4%",
            "问题处理类,955,21.3%",
            "投诉举报类,841,18.8%",
            "建议类,21,0.5%",
            "其它,1345,30.0%",
            "合计,4480,100.0%",
        ]
    );
    assert_eq!(
        csv("top_categories").await,
        [
            "疾病控制—疫情防控,505,11.3%",
            "文体科教—教育管理,182,4.1%",
            "社会保障—工资薪金,152,3.4%",
            "社会保险—养老保险,135,3.0%",
            "城市管理—市容市政,124,2.8%",
            "农村建设—村容村貌,103,2.3%",
            "水利水电—用水困难,88,2.0%",
            "优抚救助—低保资金,87,1.9%",
            "农村管理—耕地保护,69,1.5%",
            "城市管理—物业管理,66,1.5%",
            // The seed prints 33.8%, the sum of its rounded rows; 1,511 of 4,480 is 33.7%.
            "合计,1511,33.7%",
        ]
    );
}

/// A closed complaint under a first-level category, dispatched to a unit on an October day.
fn closed_in(external_ref: &str, unit: &str, category: &str, day: u32) -> Value {
    closed_on(external_ref, unit, category, (2026, 10, day))
}

/// A closed complaint registered on a day of any month, closed two days later.
fn closed_on(
    external_ref: &str,
    unit: &str,
    category: &str,
    (y, m, day): (i32, u32, u32),
) -> Value {
    let at = |day, hour, minute| shanghai(y, m, day, hour, minute).to_rfc3339();
    let mut record = closed_complaint(external_ref, unit);
    record["category"] = json!(category);
    record["registered_at"] = json!(at(day, 9, 0));
    record["assignments"][0]["dispatched_at"] = json!(at(day, 9, 30));
    record["assignments"][0]["signed_at"] = json!(at(day, 10, 0));
    record["replies"][0]["at"] = json!(at(day + 1, 10, 0));
    record["replies"][0]["contacted_at"] = json!(at(day, 16, 0));
    record["reviews"][0]["at"] = json!(at(day + 1, 15, 0));
    record["callbacks"][0]["at"] = json!(at(day + 2, 10, 0));
    record
}

/// The same, still open with its unit: signed, not replied.
fn open_in(external_ref: &str, unit: &str, category: &str, day: u32) -> Value {
    let mut record = closed_in(external_ref, unit, category, day);
    for done in ["replies", "reviews", "callbacks"] {
        record.as_object_mut().unwrap().remove(done);
    }
    record
}

#[actix_web::test]
async fn a_month_with_idle_units_one_level_categories_and_no_past_prints_only_what_is_true() {
    let w = world_at(shanghai(2026, 11, 2, 9, 0)).await;
    // The fourteen first-level categories of a city's bulletin, with no second level.
    let categories = [
        "人力资源社会保障类",
        "环境保护类",
        "公共服务类",
        "交通运输与交通秩序类",
        "市场管理类",
        "社情民意类",
        "农林水利类",
        "科教文体类",
        "医疗卫生健康类",
        "住房与城乡建设类",
        "民政与社会救助类",
        "城市管理类",
        "社会治安与综合治理类",
        "其他咨询",
    ];
    for name in categories {
        let made = w
            .app
            .post("/api/v1/categories", &w.admin, &json!({"name": name}))
            .await;
        assert_eq!(made.status, 201, "{}", made.text);
    }
    // Five townships with work, two without.
    let towns: Vec<_> = (1..=7)
        .map(|n| w.app.add_unit(&format!("z{n}"), UnitKind::Township))
        .collect();
    let mut records = Vec::new();
    let mut category = categories.iter().cycle();
    let mut add = |record: Value| records.push(record);
    // z1 four closed; z2 three; z3 two closed and one open; z4 one closed, two open; z5 one
    // open. Scored 100, 100, 86.7, 73.3 and 60.
    for (town, closed, open) in [(0, 4, 0), (1, 3, 0), (2, 2, 1), (3, 1, 2), (4, 0, 1)] {
        let code = &towns[town].code;
        for n in 0..closed {
            add(closed_in(
                &format!("C-{code}-{n}"),
                code,
                category.next().unwrap(),
                12 + n,
            ));
        }
        for n in 0..open {
            add(open_in(
                &format!("O-{code}-{n}"),
                code,
                category.next().unwrap(),
                20 + n,
            ));
        }
    }
    // A department under the ranking's 20 tickets, and the other without any.
    add(closed_in(
        "C-rsj",
        &w.unit_a.code,
        category.next().unwrap(),
        15,
    ));
    // Answered on the spot, the caller then called back and dissatisfied.
    add(json!({
        "external_ref": "D-1", "type": "complaint", "title": "社保缴费基数争议", "content": "对缴费基数有异议",
        "category": "人力资源社会保障类", "registered_at": oct(16, 9, 0),
        "answer": {"at": oct(16, 9, 5), "text": "已告知缴费基数的核定办法"},
        "callbacks": [{"at": oct(17, 10, 0), "reached": true, "satisfaction": "dissatisfied", "resolved": false}]
    }));
    assert_eq!(records.len(), 16);
    w.import_all(&records).await;

    let b = w
        .get_json("/api/v1/reports/monthly?month=2026-10", &w.supervisor)
        .await;
    let group = |name: &str| {
        b["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .unwrap()
            .clone()
    };
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let towns_group = group("乡镇街道");
    assert_eq!(towns_group["idle"], json!(["单位z6", "单位z7"]));
    assert_eq!(towns_group["units"], 7);
    let red = names(&towns_group["red_list"]);
    let black = names(&towns_group["black_list"]);
    assert_eq!(
        red,
        ["单位z1", "单位z2", "单位z3"],
        "three, as the rules say"
    );
    assert_eq!(
        black,
        ["单位z5", "单位z4"],
        "what the red list leaves, worst first"
    );
    let graded: u64 = towns_group["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g[1].as_u64().unwrap())
        .sum();
    assert_eq!(graded, 5, "the idle are not graded");
    for idle in &towns[5..] {
        let row = b["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit_id"] == json!(idle.id))
            .unwrap();
        assert_eq!((&row["score"], &row["rank"]), (&Value::Null, &Value::Null));
    }
    let departments = group("县直单位和部门");
    assert_eq!(departments["idle"], json!([w.unit_b.name]));
    assert_eq!(departments["top"], json!([]), "none reached 20 tickets");
    assert_eq!(
        departments["black_list"][0]["name"],
        json!(w.unit_a.name),
        "the minimum for ranking does not shield from the black list by default"
    );
    assert_eq!(departments["black_list"].as_array().unwrap().len(), 1);

    // The dispatched tickets all satisfied; with the direct answer, the hotline is not.
    assert_eq!(b["dispatched"]["satisfaction_rate"], 1.0);
    assert_eq!(b["hotline"]["satisfaction_rate"], 11.0 / 12.0);
    assert_eq!(b["layout"]["opening_rates"], "both");
    // One level of categories: the top ten are first-level ones.
    let top = &b["top_categories"]["rows"];
    assert_eq!(top.as_array().unwrap().len(), 10);
    assert_eq!(top[0]["label"], "人力资源社会保障类");
    assert_eq!(top[0]["count"], 3);
    assert_eq!(b["hot_spots"]["months_with_data"], 0);
    let handling = &b["handling"];
    assert_eq!(
        [
            &handling["units"],
            &handling["dispatched"],
            &handling["in_progress"],
            &handling["forwards"],
            &handling["closed"],
            &handling["previous_closed"],
        ],
        [
            &json!(6),
            &json!(15),
            &json!(4),
            &json!(0),
            &json!(12),
            &json!(0)
        ]
    );
    let busiest: Vec<&str> = handling["busiest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        busiest,
        ["单位z1", "单位z2", "单位z3"],
        "most first, then by name"
    );
    let working_days = b["volume"]["working_days"].as_f64().unwrap();
    assert_eq!(
        b["volume"]["working_day_average"].as_f64().unwrap(),
        16.0 / working_days,
        "every ticket came in on a working day"
    );

    let html = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-10&format=html",
            &w.supervisor,
        )
        .await;
    assert_eq!(html.status, 200);
    let page = &html.text;
    assert!(
        page.contains("统计期间：2026年10月1日至10月31日"),
        "no zero-padded dates"
    );
    assert!(
        page.contains("转办事项办结率73.33%，按期办结率100%，回访率100%，满意率100%，解决率100%；全部事项（含直办）回访率100%，满意率91.67%，解决率91.67%。"),
        "each rate named for what it counts"
    );
    assert!(page.contains("单位z6、单位z7本月无承办件，不参加考核。"));
    assert!(page.contains(&format!(
        "10月份共向6个部门（单位）转办工单15件，处办中4件，逾期{}件，二次转办0件。工单结案数12件。承办量较多的部门（单位）排名前三：单位z1、单位z2、单位z3。",
        handling["overdue"]
    )), "no change against a month without closures");
    assert!(page.contains("本月没有承办量达到20件的单位，不作排名。"));
    assert!(
        !page.contains("：。") && !page.contains("：；"),
        "no empty list in prose"
    );
    assert!(page.contains("前3个月没有受理数据，本期未作热点比较。"));
    assert!(!page.contains("明显增多"));
    let chart = &page[page.find("图二").unwrap()..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    for name in categories {
        assert!(
            chart.contains(&format!(">{name}</text>")),
            "{name} is drawn"
        );
    }
}

#[actix_web::test]
async fn richer_rules_score_counts_steps_the_hotline_as_a_whole_and_leave_named_units_ungraded() {
    let w = world_at(shanghai(2026, 11, 2, 9, 0)).await;
    w.categories(&["城市管理—市容市政"]).await;
    let town = w.app.add_unit("z1", UnitKind::Township);
    let category = "城市管理—市容市政";
    let mut lines = Vec::new();
    // The township: four closed, one open; the department a: one closed.
    for n in 0..4 {
        lines.push(closed_in(&format!("C-{n}"), &town.code, category, 12 + n));
    }
    lines.push(open_in("O-1", &town.code, category, 20));
    lines.push(closed_in("C-a", &w.unit_a.code, category, 16));
    w.import_all(&lines).await;

    let mut rules = w.rules_to_edit("2026-10").await;
    let put = |rules: Value| {
        let w = &w;
        async move { w.put_rules("2026-10", &rules).await }
    };
    // Bad rules name their fields and change nothing.
    let mut bad = rules.clone();
    bad["groups"][0]["weights"][0]["max"] = json!(5);
    bad["groups"][0]["penalties"] =
        json!([{"figure": "satisfaction_rate", "steps": [{"below": 2, "points": 5}]}]);
    bad["hotline"] = bad["groups"][0].clone();
    let refused = put(bad).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    let fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "groups[0].weights[0].max",
            "groups[0].penalties[0].steps[0].below",
            "hotline.unit_kinds",
            "hotline.weights[0].max",
            "hotline.penalties[0].steps[0].below",
        ]
    );

    // Townships: half a point a ticket up to 2; 80% completion is below the 90% step.
    rules["groups"][0]["weights"]
        .as_array_mut()
        .unwrap()
        .push(json!({"figure": "received", "points": 0.5, "max": 2}));
    rules["groups"][0]["penalties"] =
        json!([{"figure": "completion_rate", "steps": [{"below": 0.9, "points": 5}]}]);
    rules["groups"][1]["ungraded_units"] = json!([w.unit_a.code]);
    rules["layout"]["shortfalls"] = json!([{"figure": "completion_rate", "below": 0.9}]);
    rules["layout"]["zero_rows"] = json!(false);
    let mut hotline = rules["groups"][0].clone();
    hotline["name"] = json!("全县");
    hotline["unit_kinds"] = json!([]);
    hotline["weights"] = json!([{"figure": "completion_rate", "points": 100}]);
    hotline["penalties"] = json!([]);
    hotline["bonus_max"] = json!(0);
    hotline["bonus_default"] = json!(0);
    rules["hotline"] = hotline;
    let mut unknown = rules.clone();
    unknown["groups"][1]["ungraded_units"] = json!(["nope"]);
    let refused = put(unknown).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        refused.body["errors"][0]["field"],
        "groups[1].ungraded_units[0]"
    );
    let stored = put(rules).await;
    assert_eq!(stored.status, 200, "{}", stored.text);

    let b = w
        .get_json("/api/v1/reports/monthly?month=2026-10", &w.supervisor)
        .await;
    let row = |id: uuid::Uuid| {
        b["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit_id"] == json!(id))
            .unwrap()
            .clone()
    };
    let township = row(town.id);
    // 40 × 4/5 + 20 + 20 + 2 (capped) − 5 + the default bonus of 20.
    assert_eq!(township["score"]["total"], 89.0);
    assert_eq!(
        township["score"]["penalties"],
        json!([{"figure": "completion_rate", "label": "办结率", "points": 5.0}])
    );
    let department = row(w.unit_a.id);
    assert_eq!(
        (&department["score"], &department["rank"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(b["groups"][1]["ungraded"], json!([w.unit_a.name]));
    assert_eq!(
        b["groups"][1]["black_list"],
        json!([]),
        "an ungraded unit is never listed"
    );
    // Five of six tickets closed: 83.3 of 100 points, grade C.
    assert_eq!(b["hotline_score"]["name"], "全县");
    assert_eq!(b["hotline_score"]["total"], 83.3);
    assert_eq!(b["hotline_score"]["grade"], "C");
    let html = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-10&format=html",
            &w.supervisor,
        )
        .await;
    assert!(html.text.contains("全县综合指标值83.3，综合等级C。"));
    assert_eq!(
        b["handling"]["shortfalls"][0]["units"],
        json!([{"unit_id": town.id, "name": town.name, "rate": 0.8}])
    );
    assert!(
        html.text
            .contains(&format!("办结率未达到90%的部门（单位）：{}。", town.name))
    );
    assert!(
        html.text
            .contains(&format!("{}不参加考核。", w.unit_a.name))
    );
    let types = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-10&format=csv&table=types",
            &w.supervisor,
        )
        .await;
    let rows: Vec<&str> = types
        .text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        rows,
        ["投诉", "合计"],
        "rows of nothing left out as the layout asks"
    );
}

#[actix_web::test]
async fn a_quarter_and_a_year_print_the_same_tables_against_the_quarter_before_and_a_year_before() {
    let w = world_at(shanghai(2026, 11, 2, 9, 0)).await;
    w.categories(&["城市管理—市容市政"]).await;
    let town = w.app.add_unit("z1", UnitKind::Township);
    let category = "城市管理—市容市政";
    // The third quarter: 2 + 3 + 1 tickets; the second: 3; the third of 2025: 4.
    let days = [
        (2026, 7, 6),
        (2026, 7, 7),
        (2026, 8, 10),
        (2026, 8, 11),
        (2026, 8, 12),
        (2026, 9, 14),
        (2026, 4, 13),
        (2026, 5, 11),
        (2026, 6, 8),
        (2025, 7, 7),
        (2025, 8, 11),
        (2025, 8, 12),
        (2025, 9, 8),
    ];
    let records: Vec<Value> = days
        .iter()
        .enumerate()
        .map(|(n, day)| closed_on(&format!("Q-{n}"), &town.code, category, *day))
        .collect();
    w.import_all(&records).await;
    // A bonus of 25 in July alone: the quarter's is (25 + 20 + 20) / 3.
    let bonus = w
        .app
        .send(
            awc::http::Method::PUT,
            &format!("/api/v1/assessment/bonuses/2026-07/{}", town.id),
            Some(&w.supervisor),
            &[],
            Some(&json!({"points": 25, "reason": "汛期抢险"})),
        )
        .await;
    assert_eq!(bonus.status, 200, "{}", bonus.text);

    let q3 = w
        .get_json("/api/v1/reports/bulletin?period=2026-Q3", &w.supervisor)
        .await;
    assert_eq!(
        (&q3["span"], &q3["month"]),
        (&json!("2026-Q3"), &json!("2026-09"))
    );
    assert!(
        q3["title"]
            .as_str()
            .unwrap()
            .ends_with("2026年第三季度工作通报")
    );
    let volume = &q3["volume"];
    assert_eq!(
        (
            &volume["total"],
            &volume["previous_month"],
            &volume["a_year_earlier"],
            &volume["days"]
        ),
        (&json!(6), &json!(3), &json!(4), &json!(92))
    );
    assert_eq!(volume["month_on_month"], 1.0);
    assert_eq!(volume["year_on_year"], 0.5);
    let row = q3["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit_id"] == json!(town.id))
        .unwrap();
    assert_eq!(
        (&row["received"], &row["score"]["bonus"]),
        (&json!(6), &json!(65.0 / 3.0))
    );
    let html = w
        .app
        .get(
            "/api/v1/reports/bulletin?period=2026-Q3&format=html",
            &w.supervisor,
        )
        .await;
    assert_eq!(html.status, 200);
    for expected in [
        "统计期间：2026年7月1日至9月30日",
        "2026年第三季度共受理群众诉求6件",
        "环比增幅100%，同比增幅50%",
        "图一：上季度与本季度受理量对比（按渠道）",
        "图三：每月受理量",
    ] {
        assert!(html.text.contains(expected), "{expected}");
    }
    let csv = w
        .app
        .get(
            "/api/v1/reports/bulletin?period=2026-Q3&format=csv&table=types",
            &w.supervisor,
        )
        .await;
    assert!(
        csv.text
            .contains("类型,数量(件),占比,上季度,环比,去年同期,同比"),
        "{}",
        csv.text
    );

    let year = w
        .get_json("/api/v1/reports/bulletin?period=2026", &w.supervisor)
        .await;
    assert!(
        year["title"]
            .as_str()
            .unwrap()
            .ends_with("2026年度工作报告")
    );
    assert_eq!(
        (&year["volume"]["total"], &year["volume"]["a_year_earlier"]),
        (&json!(9), &json!(4))
    );
    // The year is not over: its daily average is over the days it has had (to 2 November).
    assert_eq!(year["volume"]["days"], 306);
    // The year before is both the span before and the same months a year before: one
    // comparison, 同比.
    let types = w
        .app
        .get(
            "/api/v1/reports/bulletin?period=2026&format=csv&table=types",
            &w.supervisor,
        )
        .await;
    assert!(
        types.text.contains("类型,数量(件),占比,去年同期,同比\r\n")
            || types.text.contains("类型,数量(件),占比,去年同期,同比\n"),
        "{}",
        types.text
    );
    let page = w
        .app
        .get(
            "/api/v1/reports/bulletin?period=2026&format=html",
            &w.supervisor,
        )
        .await
        .text;
    assert!(page.contains("2026年共受理群众诉求9件") && page.contains("同比增幅125%"));
    assert!(
        !page.contains("环比"),
        "a year is compared with the year before once"
    );
    // A month through this route is the monthly bulletin.
    let august = w
        .get_json("/api/v1/reports/bulletin?period=2026-08", &w.supervisor)
        .await;
    let monthly = w
        .get_json("/api/v1/reports/monthly?month=2026-08", &w.supervisor)
        .await;
    assert_eq!(august["volume"], monthly["volume"]);

    for (query, field) in [
        ("", "period"),
        ("period=2026-Q5", "period"),
        ("period=2026-10..2026-09", "period"),
        ("period=2027", "period"),
        ("period=2026-Q3&table=types", "table"),
    ] {
        let refused = w
            .app
            .get(&format!("/api/v1/reports/bulletin?{query}"), &w.supervisor)
            .await;
        assert_eq!(refused.status, 422, "{query}: {}", refused.text);
        assert_eq!(refused.body["errors"][0]["field"], field, "{query}");
    }
    let unit = w
        .app
        .get("/api/v1/reports/bulletin?period=2026-Q3", &w.handler_a)
        .await;
    assert_eq!(unit.status, 403, "units read published months only");
}

#[actix_web::test]
async fn the_bulletin_counts_channels_in_the_offices_rows_and_reports_a_mailbox_apart() {
    let w = world_at(shanghai(2026, 11, 2, 9, 0)).await;
    let category = "城市管理—市容市政";
    w.categories(&[category]).await;
    let unit = w.unit_a.code.clone();
    // Two upper platforms counted with the default one in its row; the mailbox reported apart.
    for (code, body) in [
        (
            "province_12345",
            json!({"name": "省级12345热线", "kind": "upper_platform", "bulletin_row": "上级交办", "sort_order": 61}),
        ),
        (
            "gov_platform",
            json!({"name": "国家政务服务平台", "kind": "upper_platform", "bulletin_row": "上级交办", "sort_order": 62}),
        ),
        (
            "mayor_mailbox",
            json!({"name": "市县长信箱", "kind": "mailbox", "own_section": true, "sort_order": 55}),
        ),
    ] {
        let made = w
            .app
            .send(
                awc::http::Method::PUT,
                &format!("/api/v1/channels/{code}"),
                Some(&w.admin),
                &[],
                Some(&body),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.text);
    }
    let on = |channel: &str, mut record: Value| {
        record["channel"] = json!(channel);
        record
    };
    let mut dissatisfied = closed_in("M-2", &unit, category, 13);
    dissatisfied["callbacks"][0]["satisfaction"] = json!("dissatisfied");
    dissatisfied["callbacks"][0]["resolved"] = json!(false);
    let records = [
        closed_in("P-1", &unit, category, 12),
        closed_in("P-2", &unit, category, 13),
        on("upper_platform", closed_in("U-1", &unit, category, 12)),
        on("province_12345", closed_in("S-1", &unit, category, 14)),
        on("gov_platform", closed_in("G-1", &unit, category, 15)),
        on("mayor_mailbox", closed_in("M-1", &unit, category, 12)),
        on("mayor_mailbox", dissatisfied),
        on("mayor_mailbox", open_in("M-3", &unit, category, 20)),
    ];
    w.import_all(&records).await;
    let unknown = on("telegram", closed_in("T-1", &unit, category, 12));
    let report = w
        .import(import::json_lines(unknown.to_string().as_bytes()).collect())
        .await;
    assert_eq!(report.imported, 0);
    assert!(
        report.bad[0]
            .1
            .contains("no channel has the code `telegram`"),
        "{report:?}"
    );

    let b = w
        .get_json("/api/v1/reports/bulletin?period=2026-10", &w.supervisor)
        .await;
    let rows: Vec<(String, u64)> = b["volume"]["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["label"].as_str().unwrap().to_owned(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let row = |label: &str| rows.iter().find(|(l, _)| l == label).map(|(_, n)| *n);
    assert_eq!(row("12345电话"), Some(2));
    assert_eq!(row("上级交办"), Some(3), "three channels, one row");
    assert_eq!(row("市县长信箱"), Some(3));
    assert_eq!(rows.iter().filter(|(l, _)| l == "上级交办").count(), 1);
    let order: Vec<&str> = rows.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(order[4..7], ["领导信箱", "市县长信箱", "上级交办"]);

    let sections = b["channel_sections"].as_array().unwrap();
    assert_eq!(sections.len(), 1);
    let mailbox = &sections[0];
    assert_eq!(mailbox["name"], "市县长信箱");
    assert_eq!(
        (&mailbox["total"], &mailbox["to_handle"], &mailbox["closed"]),
        (&json!(3), &json!(3), &json!(2))
    );
    assert_eq!(mailbox["by_type"], json!([{"label": "投诉", "count": 3}]));
    assert_eq!(
        (&mailbox["callbacks_reached"], &mailbox["satisfaction_rate"]),
        (&json!(2), &json!(0.5))
    );

    let html = w
        .app
        .get(
            "/api/v1/reports/bulletin?period=2026-10&format=html",
            &w.supervisor,
        )
        .await;
    for expected in [
        "从受理渠道看，12345电话2件，市县长信箱3件，上级交办3件。",
        "<h3>（一）市县长信箱办理情况</h3>",
        "10月份，市县长信箱共受理诉求3件，其中投诉类3件，应办3件，已办2件，办结率66.67%，满意率50%。",
    ] {
        assert!(html.text.contains(expected), "{expected}\n{}", html.text);
    }
}
