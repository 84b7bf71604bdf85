//! `hotline backup` while tickets pour in, and `hotline restore`: every ticket acknowledged
//! before the backup began is in it, with its evidence, on the suite's backend.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::process::{Command, Output};
use std::rc::Rc;
use std::time::Instant;

use awc::http::Method;
use hotline::domain::access::Role;
use serde_json::json;

use crate::helpers::{Options, TestApp, fresh_database, spawn_app, spawn_app_with};
use crate::lifecycle::jpeg;

fn hotline(url: &str, storage: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
    command
        .env_remove("HOTLINE_STORAGE_URL")
        .env("DATABASE_URL", url)
        .env("HOTLINE_STORAGE_DIR", storage)
        .env("RUST_LOG", "warn");
    command
}

fn assert_ran(output: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what}: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Registers tickets one after another until told to stop; what was acknowledged, and when.
async fn keep_registering(
    app: Rc<TestApp>,
    token: String,
    stop: Rc<Cell<bool>>,
    acknowledged: Rc<RefCell<Vec<(String, Instant)>>>,
) {
    while !stop.get() {
        let answer = app
            .register(
                &token,
                json!({"type": "complaint", "title": "备份期间登记", "content": "路灯不亮"}),
            )
            .await;
        if answer.status == 201 {
            let id = answer.body["id"].as_str().unwrap().to_owned();
            acknowledged.borrow_mut().push((id, Instant::now()));
        }
    }
}

#[actix_web::test]
async fn a_backup_taken_under_load_restores_every_acknowledged_ticket_and_its_evidence() {
    let app = Rc::new(spawn_app().await);
    let (agent_account, agent) = app.login(Role::Agent);
    let with_evidence = app.ticket(&agent, "有现场照片").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let photo = jpeg();
    let stored = app
        .upload(&agent, &with_evidence, "现场照片.jpg", &photo)
        .await;
    assert_eq!(stored.status, 201, "{}", stored.text);

    let stop = Rc::new(Cell::new(false));
    let acknowledged = Rc::new(RefCell::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            actix_web::rt::spawn(keep_registering(
                app.clone(),
                agent.clone(),
                stop.clone(),
                acknowledged.clone(),
            ))
        })
        .collect();
    // The backup starts once the writers have been acknowledged a few times, and runs beside them.
    while acknowledged.borrow().len() < 20 {
        actix_web::rt::task::yield_now().await;
    }
    let backups = tempfile::tempdir().unwrap();
    let target = backups.path().join("2026-12-02");
    let began = Instant::now();
    let output = {
        let mut command = hotline(&app.database_url, app.storage_dir());
        command.arg("backup").arg(&target);
        actix_web::rt::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    };
    stop.set(true);
    for writer in writers {
        writer.await.unwrap();
    }
    let printed = assert_ran(&output, "hotline backup");
    assert!(printed.contains("evidence files: 1"), "{printed}");
    let before: Vec<String> = acknowledged
        .borrow()
        .iter()
        .filter(|(_, at)| *at <= began)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(before.len() >= 20);

    let again = hotline(&app.database_url, app.storage_dir())
        .arg("backup")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "a backup is never written over another"
    );

    let (restored_url, _restored_database) = fresh_database();
    let restored_storage = tempfile::tempdir().unwrap();
    let restored = hotline(&restored_url, restored_storage.path())
        .arg("restore")
        .arg(&target)
        .output()
        .unwrap();
    assert_ran(&restored, "hotline restore");
    let refused = hotline(&restored_url, restored_storage.path())
        .arg("restore")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));

    let service = spawn_app_with(Options {
        database_url: Some(restored_url),
        env: vec![(
            "HOTLINE_STORAGE_DIR",
            restored_storage.path().display().to_string(),
        )],
        ..Options::default()
    })
    .await;
    // The restored accounts sign in as before (the suite's instances share one secret).
    let agent = service.token(&agent_account);
    for id in before.iter().chain([&with_evidence]) {
        let ticket = service.get(&format!("/api/v1/tickets/{id}"), &agent).await;
        assert_eq!(
            ticket.status, 200,
            "ticket {id} acknowledged before the backup"
        );
    }
    let download = service
        .send(
            Method::GET,
            stored.header("location").unwrap(),
            Some(&agent),
            &[],
            None,
        )
        .await;
    assert_eq!(download.status, 200, "{}", download.text);
    assert_eq!(download.bytes, photo);
}
