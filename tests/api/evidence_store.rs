//! Evidence in an S3-compatible bucket, on a real server (moto, which `.ci/s3.sh` starts and
//! names in `TEST_S3_ENDPOINT`), and a store that refuses, loses a file or does not answer: the
//! client is told 503 with `Retry-After`, within the store's bound, and nothing is recorded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use awc::http::Method;
use futures_util::TryStreamExt;
use hotline::domain::access::Role;
use hotline::domain::clock::ManualClock;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ObjectStore, ObjectStoreExt};

use crate::helpers::{Options, TestApp, monday_morning, spawn_app_with};
use crate::lifecycle::jpeg;

/// The S3-compatible server of the suite; CI must have one, a developer's machine may not.
fn s3_endpoint() -> Option<String> {
    match std::env::var("TEST_S3_ENDPOINT") {
        Ok(endpoint) if !endpoint.trim().is_empty() => Some(endpoint),
        _ => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI=true requires TEST_S3_ENDPOINT: `source .ci/s3.sh; start_s3` starts moto"
            );
            eprintln!("TEST_S3_ENDPOINT is unset: no S3-compatible server to test the bucket on");
            None
        }
    }
}

fn unique_bucket() -> String {
    format!("evidence-{}", uuid::Uuid::now_v7().simple())
}

async fn app_on(endpoint: &str, bucket: &str, timeout_ms: u64) -> TestApp {
    spawn_app_with(Options {
        env: vec![
            ("HOTLINE_STORAGE_URL", format!("s3://{bucket}/hotline")),
            ("HOTLINE_S3_ENDPOINT", endpoint.to_owned()),
            ("HOTLINE_S3_ACCESS_KEY_ID", "testing".into()),
            ("HOTLINE_S3_SECRET_ACCESS_KEY", "testing".into()),
            ("HOTLINE_STORAGE_TIMEOUT_MS", timeout_ms.to_string()),
        ],
        clock: Some(Arc::new(ManualClock::new(monday_morning()))),
        ..Options::default()
    })
    .await
}

/// The bucket as its operator sees it, through an S3 client of its own.
fn operator(endpoint: &str, bucket: &str) -> AmazonS3 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .with_allow_http(true)
        .build()
        .unwrap()
}

/// Creates the bucket (moto takes an unsigned request for it).
async fn create_bucket(app: &TestApp, endpoint: &str, bucket: &str) {
    let response = app
        .client
        .request(Method::PUT, format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the S3 server answers");
    assert_eq!(response.status().as_u16(), 200);
}

async fn keys(endpoint: &str, bucket: &str) -> Vec<String> {
    let listed: Vec<_> = operator(endpoint, bucket)
        .list(None)
        .try_collect()
        .await
        .unwrap();
    listed.into_iter().map(|o| o.location.to_string()).collect()
}

async fn ticket(app: &TestApp, token: &str) -> String {
    app.ticket(token, "路灯不亮").await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn evidence_is_kept_in_the_bucket_once_by_content_and_served_back() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let bucket = unique_bucket();
    let app = app_on(&endpoint, &bucket, 5_000).await;
    create_bucket(&app, &endpoint, &bucket).await;
    let (_, agent) = app.login(Role::Agent);
    let first = ticket(&app, &agent).await;
    let second = ticket(&app, &agent).await;
    let photo = jpeg();
    let stored = app.upload(&agent, &first, "现场照片.jpg", &photo).await;
    assert_eq!(stored.status, 201, "{}", stored.text);
    let again = app.upload(&agent, &second, "同一张.jpg", &photo).await;
    assert_eq!(again.status, 201, "{}", again.text);
    let sha256 = stored.body["sha256"].as_str().unwrap().to_owned();
    assert_eq!(again.body["sha256"], sha256.as_str());

    assert_eq!(
        keys(&endpoint, &bucket).await,
        [format!("hotline/{}/{sha256}", &sha256[..2])],
        "one object for two uploads of the same bytes"
    );
    for answer in [&stored, &again] {
        let location = answer.header("location").unwrap().to_owned();
        let download = app
            .send(Method::GET, &location, Some(&agent), &[], None)
            .await;
        assert_eq!(download.status, 200, "{}", download.text);
        assert_eq!(download.bytes, photo);
    }
    assert_eq!(app.count("attachments"), 2);
}

#[actix_web::test]
async fn an_object_missing_from_the_bucket_is_answered_503_not_500() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let bucket = unique_bucket();
    let app = app_on(&endpoint, &bucket, 5_000).await;
    create_bucket(&app, &endpoint, &bucket).await;
    let (_, agent) = app.login(Role::Agent);
    let id = ticket(&app, &agent).await;
    let stored = app.upload(&agent, &id, "现场照片.jpg", &jpeg()).await;
    assert_eq!(stored.status, 201, "{}", stored.text);
    let sha256 = stored.body["sha256"].as_str().unwrap();
    let key = format!("hotline/{}/{sha256}", &sha256[..2]);
    operator(&endpoint, &bucket)
        .delete(&key.as_str().into())
        .await
        .unwrap();
    assert!(keys(&endpoint, &bucket).await.is_empty());
    let download = app
        .send(
            Method::GET,
            stored.header("location").unwrap(),
            Some(&agent),
            &[],
            None,
        )
        .await;
    assert_eq!(
        (download.status, download.code()),
        (503, "evidence_store_unavailable")
    );
    assert!(download.header("retry-after").is_some());
}

#[actix_web::test]
async fn a_bucket_that_refuses_records_no_evidence() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    // Never created: the server refuses every object in it.
    let app = app_on(&endpoint, &unique_bucket(), 5_000).await;
    let (_, agent) = app.login(Role::Agent);
    let id = ticket(&app, &agent).await;
    let refused = app.upload(&agent, &id, "现场照片.jpg", &jpeg()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (503, "evidence_store_unavailable"),
        "{}",
        refused.text
    );
    assert!(refused.header("retry-after").is_some());
    assert_eq!(app.count("attachments"), 0);
}

/// A store that accepts connections and never answers, and one that is not there at all.
#[actix_web::test]
async fn a_store_that_does_not_answer_costs_its_bound_and_records_nothing() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_endpoint = format!("http://{}", silent.local_addr().unwrap());
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    for endpoint in [silent_endpoint, closed_endpoint] {
        let app = app_on(&endpoint, "evidence", 400).await;
        let (_, agent) = app.login(Role::Agent);
        let id = ticket(&app, &agent).await;
        let started = Instant::now();
        let refused = app.upload(&agent, &id, "现场照片.jpg", &jpeg()).await;
        assert_eq!(
            (refused.status, refused.code()),
            (503, "evidence_store_unavailable"),
            "{endpoint}: {}",
            refused.text
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{endpoint}: answered after {:?}, not within the store's bound",
            started.elapsed()
        );
        assert_eq!(app.count("attachments"), 0);
    }
    drop(silent);
}
