//! The benchmarks' knowledge base: 10,000 published articles whose words are spread as a
//! hotline's are, one in ten about a water cut (停水), one in a hundred about one township.

use std::time::Instant;

use diesel::prelude::*;
use hotline::domain::clock::{Clock, SystemClock};
use hotline::store::{self, Db, StoreError};

/// Publishes `count` knowledge-base articles, unless the database holds them already: one in
/// ten about a water cut (停水), one in a hundred about one township.
pub fn fill(db: &Db, count: usize, author: uuid::Uuid) {
    use hotline::domain::knowledge::{Article, ArticleContent, ArticleStatus};
    let existing: i64 = db
        .read(|c| {
            hotline::per_backend!(c, |c| {
                use hotline::store::schema::knowledge_articles;
                knowledge_articles::table.count().get_result(c)
            })
            .map_err(StoreError::from)
        })
        .unwrap();
    if existing as usize >= count {
        return;
    }
    let topics = [
        "社保卡补办",
        "养老保险缴费",
        "医疗保险报销",
        "入学政策",
        "占道经营",
        "油烟污染",
        "物业管理",
        "公交出行",
        "消费维权",
        "低保资金",
    ];
    let towns = ["彭婆镇", "白沙镇", "鸣皋镇", "高山镇", "城关街道办"];
    let now = SystemClock.now();
    let today = now.date_naive();
    let started = Instant::now();
    for chunk in (0..count).collect::<Vec<_>>().chunks(1_000) {
        db.write(|c| {
            for &i in chunk {
                let topic = if i % 10 == 0 { "供水停水" } else { topics[i % topics.len()] };
                let town = if i % 100 == 1 { "彭婆镇" } else { towns[i % 4 + 1] };
                let article = Article {
                    id: uuid::Uuid::now_v7(),
                    unit_id: None,
                    status: ArticleStatus::Published,
                    content: ArticleContent {
                        title: format!("{town}{topic}办理指南（第{i}号）"),
                        body: format!(
                            "一、适用范围：{town}居民咨询{topic}相关事项。\n二、办理流程：                             携带身份证件到{town}便民服务中心窗口办理，工作日上午九点至下午五点。\n                             三、咨询电话：请拨打12345转相关部门。\n四、注意事项：                             材料不全的，窗口一次性告知需补正的全部内容。"
                        ),
                        category_id: None,
                        keywords: vec![topic.to_owned(), town.to_owned()],
                        area_unit_id: None,
                        effective_on: None,
                        expires_on: None,
                        review_due_on: today + chrono::Duration::days(365),
                    },
                    version: 1,
                    created_by: author,
                    created_at: now,
                    updated_by: author,
                    updated_at: now,
                    published_at: Some(now),
                    reviewed_at: None,
                    use_count: 0,
                    last_used_at: None,
                };
                store::knowledge::insert(c, &article)?;
            }
            Ok::<(), StoreError>(())
        })
        .unwrap();
    }
    println!(
        "filled {count} articles in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
