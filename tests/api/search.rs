//! Word search over tickets and articles: two-character Chinese words are found through the
//! word index, what holds a word's pairs apart is not taken for the word, results carry a
//! snippet, edits are searched by their new words, every scope holds, and tickets written
//! before the index are indexed at start-up.

use diesel::RunQueryDsl;
use hotline::domain::access::Role;
use hotline::domain::directory::UnitKind;
use hotline::store::DbConnection;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::assert_conforms;

fn numbers(answer: &Answer) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {}", answer.text))
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let (q, rest) = query.split_once('&').unwrap_or((query, ""));
    let answer = app
        .get(&format!("/api/v1/tickets?q={}&{rest}", encode(q)), token)
        .await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.text);
    numbers(&answer)
}

async fn ticket(app: &TestApp, token: &str, title: &str, content: &str, address: &str) -> Value {
    let answer = app
        .register(
            token,
            json!({"type": "complaint", "title": title, "content": content, "address": address}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.body
}

#[actix_web::test]
async fn words_of_two_characters_are_found_and_their_pairs_apart_are_not() {
    let app = spawn_app().await;
    let (_, agent) = app.login(Role::Agent);
    ticket(
        &app,
        &agent,
        "A 噪音",
        "楼下饭店夜间噪音扰民，影响休息。",
        "人民路1号",
    )
    .await;
    ticket(&app, &agent, "B 停水", "小区突然停水，没有提前通知。", "").await;
    ticket(&app, &agent, "C 社保卡", "社保卡丢失，如何补办？", "").await;
    // 社保 and 保卡 both, but never 社保卡.
    ticket(&app, &agent, "D 分开", "社保缴费后领到银行保卡一张。", "").await;
    ticket(&app, &agent, "E 地址", "路灯不亮", "平等乡噪音村").await;

    let cases: &[(&str, &[&str])] = &[
        ("噪音", &["E 地址", "A 噪音"]),
        ("停水", &["B 停水"]),
        ("社保", &["D 分开", "C 社保卡"]),
        ("社保卡", &["C 社保卡"]),
        ("保卡", &["D 分开", "C 社保卡"]),
        // Case is ignored; a question across punctuation is read from the texts.
        ("a 噪", &["A 噪音"]),
        ("扰民，影响", &["A 噪音"]),
        // One character: not in the index, found all the same.
        ("水", &["B 停水"]),
        ("燃气", &[]),
        ("噪音&status=closed", &[]),
    ];
    for (query, expected) in cases {
        assert_eq!(search(&app, &agent, query).await, *expected, "{query}");
    }

    // Each result shows where it holds the question.
    let answer = app
        .get(&format!("/api/v1/tickets?q={}", encode("噪音扰民")), &agent)
        .await;
    assert_conforms(&answer, "TicketPage");
    let item = &answer.body["items"][0];
    let snippet = item["snippet"]["text"].as_str().unwrap();
    let mark = &item["snippet"]["marks"][0];
    let chars: Vec<char> = snippet.chars().collect();
    let (start, end) = (
        mark["start"].as_u64().unwrap() as usize,
        mark["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(chars[start..end].iter().collect::<String>(), "噪音扰民");
    // Without a question, lists carry no snippets.
    let plain = app.get("/api/v1/tickets", &agent).await;
    assert!(plain.body["items"][0].get("snippet").is_none());
}

#[actix_web::test]
async fn a_search_pages_and_follows_edits() {
    let app = spawn_app().await;
    let (_, agent) = app.login(Role::Agent);
    for i in 0..5 {
        ticket(&app, &agent, &format!("噪音 {i}"), "夜间施工噪音", "").await;
    }
    let first = app
        .get(
            &format!("/api/v1/tickets?q={}&limit=2", encode("施工噪音")),
            &agent,
        )
        .await;
    assert_eq!(numbers(&first), ["噪音 4", "噪音 3"]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!(
                "/api/v1/tickets?q={}&limit=2&cursor={cursor}",
                encode("施工噪音")
            ),
            &agent,
        )
        .await;
    assert_eq!(numbers(&second), ["噪音 2", "噪音 1"]);

    let edited = ticket(&app, &agent, "改", "路面积水", "").await;
    assert_eq!(search(&app, &agent, "积水").await, ["改"]);
    let answer = app
        .patch(
            &format!("/api/v1/tickets/{}", edited["id"].as_str().unwrap()),
            &agent,
            &json!({"content": "井盖缺失"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(search(&app, &agent, "积水").await.is_empty());
    assert_eq!(search(&app, &agent, "井盖").await, ["改"]);
}

#[actix_web::test]
async fn a_unit_finds_its_own_tickets_only() {
    let app = spawn_app().await;
    let (_, dispatcher) = app.login(Role::Dispatcher);
    let (handler, unit_token) = app.login(Role::UnitHandler);
    let other = app.add_unit("other-unit", UnitKind::Department);
    let ours = ticket(&app, &dispatcher, "ours", "占道经营", "").await;
    let theirs = ticket(&app, &dispatcher, "theirs", "占道经营", "").await;
    ticket(&app, &dispatcher, "nobody's", "占道经营", "").await;
    app.dispatch(
        &dispatcher,
        ours["id"].as_str().unwrap(),
        handler.attachment.unit_id.unwrap(),
    )
    .await;
    app.dispatch(&dispatcher, theirs["id"].as_str().unwrap(), other.id)
        .await;
    assert_eq!(search(&app, &unit_token, "占道").await, ["ours"]);
    assert_eq!(search(&app, &unit_token, "占道&unit_id=me").await, ["ours"]);
    assert_eq!(
        search(&app, &dispatcher, "占道").await,
        ["nobody's", "theirs", "ours"]
    );
    assert_eq!(
        search(&app, &dispatcher, "占道&sort=due").await,
        ["ours", "theirs"]
    );
}

#[actix_web::test]
async fn articles_are_ranked_by_where_they_hold_the_question() {
    let app = spawn_app().await;
    let (_, office) = app.login(Role::Dispatcher);
    let (_, agent) = app.login(Role::Agent);
    let publish = |title: &'static str, body: &'static str, keywords: Vec<&'static str>| {
        let app = &app;
        let office = office.clone();
        async move {
            let created = app
                .post(
                    "/api/v1/articles",
                    &office,
                    &json!({"title": title, "body": body, "keywords": keywords}),
                )
                .await;
            assert_eq!(created.status, 201, "{}", created.text);
            let path = format!("/api/v1/articles/{}", created.body["id"].as_str().unwrap());
            app.post(&format!("{path}/submit"), &office, &json!({}))
                .await;
            let published = app
                .post(&format!("{path}/publish"), &office, &json!({}))
                .await;
            assert_eq!(published.status, 200, "{}", published.text);
        }
    };
    publish("停电报修", "拨打供电服务热线。", vec!["供电"]).await;
    publish("办理指南", "计划停水前一日公告。", vec!["供水"]).await;
    publish("供水问题", "管网抢修期间请储水。", vec!["停水", "抢修"]).await;
    publish("停水通知查询", "在供水公司网站查询停水通知。", vec!["停水"]).await;

    let answer = app
        .get(
            &format!("/api/v1/articles?q={}&limit=2", encode("停水")),
            &agent,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_conforms(&answer, "ArticlePage");
    let titles = |answer: &Answer| -> Vec<String> {
        answer.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_owned())
            .collect()
    };
    // Title, keywords and body; keywords; body.
    assert_eq!(titles(&answer), ["停水通知查询", "供水问题"]);
    let snippet = &answer.body["items"][0]["snippet"];
    assert_eq!(snippet["text"], "停水通知查询");
    let next = answer.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!(
                "/api/v1/articles?q={}&limit=2&cursor={next}",
                encode("停水")
            ),
            &agent,
        )
        .await;
    assert_eq!(titles(&rest), ["办理指南"]);
    assert!(rest.body["next_cursor"].is_null());

    // A question with letters is found whatever their case, ranked alike.
    publish("ETC停车缴费", "高速公路通行费。", vec!["etc"]).await;
    publish("停车场收费", "可使用ETC缴费。", vec!["停车"]).await;
    let lettered = app
        .get(&format!("/api/v1/articles?q={}", encode("Etc")), &agent)
        .await;
    assert_eq!(titles(&lettered), ["ETC停车缴费", "停车场收费"]);
    // Quotes are part of the question, not of the index's syntax: nothing here holds them.
    let quoted = app
        .get(
            &format!("/api/v1/articles?q={}", encode("\"停水\"")),
            &agent,
        )
        .await;
    assert_eq!(quoted.status, 200, "{}", quoted.text);
    assert_eq!(titles(&quoted), Vec::<String>::new());

    // The index promises more than a title holding the pairs apart (社保 … 保卡) gives: ranked
    // by its text, it comes after a body holding the word, and a title holding neither in
    // order is not found at all.
    publish("社保卡补办", "携带身份证件。", vec!["补办"]).await;
    publish("社保与保卡", "社保卡在银行网点领取。", vec!["领取"]).await;
    publish("社保保险", "保卡", vec!["咨询"]).await;
    let apart = app
        .get(
            &format!("/api/v1/articles?q={}&limit=1", encode("社保卡")),
            &agent,
        )
        .await;
    assert_eq!(titles(&apart), ["社保卡补办"]);
    let next = apart.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!(
                "/api/v1/articles?q={}&limit=5&cursor={next}",
                encode("社保卡")
            ),
            &agent,
        )
        .await;
    assert_eq!(titles(&rest), ["社保与保卡"]);
}

#[actix_web::test]
async fn tickets_written_before_the_index_are_indexed_at_start_up() {
    let app = spawn_app().await;
    let (_, agent) = app.login(Role::Agent);
    ticket(&app, &agent, "old", "化粪池外溢", "").await;
    // As a database from before the index: nothing indexed.
    app.db()
        .write(|c| {
            let tables: &[&str] = match c {
                DbConnection::Sqlite(_) => &["ticket_search", "ticket_search_rows"],
                DbConnection::Pg(_) => &["ticket_search"],
            };
            for table in tables {
                let sql = format!("DELETE FROM {table}");
                hotline::per_backend!(c, |c| diesel::sql_query(&sql).execute(c))?;
            }
            Ok::<(), hotline::store::StoreError>(())
        })
        .unwrap();
    let restarted = spawn_app_with(Options {
        database_url: Some(app.database_url.clone()),
        ..Options::default()
    })
    .await;
    assert_eq!(search(&restarted, &agent, "外溢").await, ["old"]);
}

#[actix_web::test]
async fn many_found_articles_rank_as_their_texts_say() {
    use hotline::domain::knowledge::{Article, ArticleContent, ArticleScope, ArticleStatus};
    use hotline::domain::search::Rank;
    use hotline::store::knowledge::{ArticleFilter, ArticlePosition};
    let app = spawn_app().await;
    let (author, _) = app.login(Role::Dispatcher);
    let now = app.now();
    let today = now.date_naive();
    // More articles than are read one by one, in four kinds for 社保卡: in the title; in the
    // title as its pairs apart (the index promises more than the text holds) and in the body; in
    // the keywords; in the body. Every body holds 说明. One in ten is a draft agents do not see.
    let mut articles = Vec::new();
    for i in 0..320i64 {
        let (title, keywords, body) = match i % 4 {
            0 => (format!("社保卡补办{i}"), vec![], "办理说明：携带身份证件。"),
            1 => (
                format!("社保与保卡{i}"),
                vec![],
                "办理说明：社保卡在银行网点领取。",
            ),
            2 => (
                format!("办理{i}"),
                vec!["社保卡".to_owned()],
                "办理说明：见窗口。",
            ),
            _ => (format!("指南{i}"), vec![], "办理说明：社保卡挂失。"),
        };
        let article = Article {
            id: uuid::Uuid::now_v7(),
            unit_id: None,
            status: if i % 10 == 9 {
                ArticleStatus::Draft
            } else {
                ArticleStatus::Published
            },
            content: ArticleContent {
                title,
                body: body.to_owned(),
                category_id: None,
                keywords,
                area_unit_id: None,
                effective_on: None,
                expires_on: None,
                review_due_on: today + chrono::Duration::days(30),
            },
            version: 1,
            created_by: author.id,
            created_at: now,
            updated_by: author.id,
            updated_at: now + chrono::Duration::seconds(i % 13),
            published_at: Some(now),
            reviewed_at: None,
            use_count: i % 7,
            last_used_at: None,
        };
        app.db()
            .write(|c| {
                hotline::store::knowledge::insert(c, &article)?;
                let sql = format!(
                    "UPDATE knowledge_articles SET use_count = {} WHERE id = '{}'",
                    article.use_count, article.id
                );
                hotline::per_backend!(c, |c| diesel::sql_query(&sql).execute(c))?;
                Ok::<(), hotline::store::StoreError>(())
            })
            .unwrap();
        articles.push(article);
    }
    for q in ["社保卡", "说明"] {
        let mut expected: Vec<_> = articles
            .iter()
            .filter(|a| a.status == ArticleStatus::Published)
            .map(|a| {
                let c = &a.content;
                (Rank::score(&c.title, &c.keywords, &c.body, q), a)
            })
            .filter(|(score, _)| *score > 0)
            .collect();
        expected.sort_by(|(x, a), (y, b)| {
            (y, b.use_count, b.updated_at, b.id).cmp(&(x, a.use_count, a.updated_at, a.id))
        });
        let expected: Vec<uuid::Uuid> = expected.iter().map(|(_, a)| a.id).collect();
        let filter = ArticleFilter {
            q: Some(q.to_owned()),
            ..ArticleFilter::default()
        };
        for (skip, limit) in [(0, 20), (20, 20), (280, 20)] {
            let page = app
                .db()
                .read(|c| {
                    hotline::store::knowledge::list(
                        c,
                        ArticleScope::Published,
                        &filter,
                        today,
                        ArticlePosition::Ranked(skip),
                        limit,
                    )
                })
                .unwrap();
            let ids: Vec<uuid::Uuid> = page.iter().map(|a| a.id).collect();
            let want: Vec<uuid::Uuid> = expected
                .iter()
                .skip(skip as usize)
                .take(limit as usize)
                .copied()
                .collect();
            assert_eq!(ids, want, "{q} from {skip}");
        }
    }
}
