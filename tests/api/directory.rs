//! Users, units and categories: administrators change them, everyone signed in reads units and
//! categories, and what has been used is deactivated rather than deleted.

use hotline::domain::access::Role;
use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn administrators_manage_accounts() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let unit = app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "rsj", "name": "人社局", "kind": "department"}),
        )
        .await;
    assert_eq!(unit.status, 201, "{}", unit.text);
    let unit_id = unit.body["id"].as_str().unwrap();
    let created = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({"username": "Zhao.Min", "display_name": "赵敏", "role": "unit_handler", "unit_id": unit_id, "password": "a long enough password"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["username"], "zhao.min");
    assert_eq!(created.body["unit_id"], unit_id);
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(
        app.get(&location, &admin).await.body["display_name"],
        "赵敏"
    );
    let duplicate = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({"username": "zhao.min", "display_name": "x", "role": "agent", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(
        (duplicate.status, duplicate.code()),
        (409, "already_exists")
    );
    let listed = app.get("/api/v1/users?role=unit_handler", &admin).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let renamed = app
        .patch(&location, &admin, &json!({"display_name": "赵敏（人社）"}))
        .await;
    assert_eq!(renamed.body["display_name"], "赵敏（人社）");
}

#[actix_web::test]
async fn accounts_are_checked_as_a_whole() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let handler_without_unit = app
        .post("/api/v1/users", &admin, &json!({"username": "h1", "display_name": "h", "role": "unit_handler", "password": "short"}))
        .await;
    assert_eq!(handler_without_unit.status, 422);
    assert_eq!(handler_without_unit.fields(), ["password", "unit_id"]);
    let integration_without_channel = app
        .post("/api/v1/users", &admin, &json!({"username": "p1", "display_name": "p", "role": "integration", "password": "a long enough password"}))
        .await;
    assert_eq!(integration_without_channel.fields(), ["channel"]);
    let unknown_unit = app
        .post(
            "/api/v1/users",
            &admin,
            &json!({"username": "h2", "display_name": "h", "role": "unit_handler", "unit_id": uuid::Uuid::now_v7(), "password": "a long enough password"}),
        )
        .await;
    assert_eq!(unknown_unit.fields(), ["unit_id"]);
    assert_eq!(app.count("users"), 1);
}

#[actix_web::test]
async fn the_last_administrator_stays() {
    let app = spawn_app().await;
    let (admin, token) = app.login(Role::Admin);
    let path = format!("/api/v1/users/{}", admin.id);
    let refused = app.patch(&path, &token, &json!({"active": false})).await;
    assert_eq!((refused.status, refused.code()), (409, "last_admin"));
    let demote = app.patch(&path, &token, &json!({"role": "agent"})).await;
    assert_eq!(demote.code(), "last_admin");
    app.login(Role::Admin);
    assert_eq!(
        app.patch(&path, &token, &json!({"role": "agent"}))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn only_administrators_change_the_directory() {
    let app = spawn_app().await;
    let (_, agent) = app.login(Role::Agent);
    for (path, body) in [
        (
            "/api/v1/units",
            json!({"code": "x", "name": "x", "kind": "department"}),
        ),
        ("/api/v1/categories", json!({"name": "x"})),
        (
            "/api/v1/users",
            json!({"username": "xx", "display_name": "x", "role": "agent", "password": "a long enough password"}),
        ),
    ] {
        let answer = app.post(path, &agent, &body).await;
        assert_eq!((answer.status, answer.code()), (403, "forbidden"), "{path}");
    }
    assert_eq!(app.get("/api/v1/users", &agent).await.status, 403);
    assert_eq!(app.get("/api/v1/units", &agent).await.status, 200);
    assert_eq!(app.get("/api/v1/categories", &agent).await.status, 200);
    assert_eq!(app.count("units"), 0);
}

#[actix_web::test]
async fn the_unit_tree_stays_a_tree() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let county = app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "county", "name": "县政府", "kind": "department"}),
        )
        .await;
    let county_id = county.body["id"].as_str().unwrap().to_owned();
    let town = app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "town", "name": "城关镇", "kind": "township", "parent_id": county_id}),
        )
        .await;
    assert_eq!(town.status, 201);
    let town_id = town.body["id"].as_str().unwrap();
    let looped = app
        .patch(
            &format!("/api/v1/units/{county_id}"),
            &admin,
            &json!({"parent_id": town_id}),
        )
        .await;
    assert_eq!(
        (looped.status, looped.fields()),
        (422, vec!["parent_id".to_owned()])
    );
    let children = app
        .get(&format!("/api/v1/units?parent_id={county_id}"), &admin)
        .await;
    assert_eq!(children.body["items"][0]["code"], "town");
    let taken = app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "town", "name": "x", "kind": "township"}),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "already_exists"));
    let bad = app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "has space", "name": "", "kind": "village"}),
        )
        .await;
    // Every problem at once: the kind no unit has, and the code and name the rules refuse.
    assert_eq!(
        (bad.status, bad.fields()),
        (
            422,
            vec!["kind".to_owned(), "code".to_owned(), "name".to_owned()]
        )
    );
}

#[actix_web::test]
async fn used_units_are_deactivated_not_deleted() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let spare = app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "spare", "name": "多余", "kind": "enterprise"}),
        )
        .await;
    let spare_path = format!("/api/v1/units/{}", spare.body["id"].as_str().unwrap());
    assert_eq!(app.delete(&spare_path, &admin).await.status, 204);
    assert_eq!(app.get(&spare_path, &admin).await.status, 404);
    let (handler, _) = app.login(Role::UnitHandler);
    let used_path = format!("/api/v1/units/{}", handler.attachment.unit_id.unwrap());
    let refused = app.delete(&used_path, &admin).await;
    assert_eq!((refused.status, refused.code()), (409, "in_use"));
    let deactivated = app
        .patch(&used_path, &admin, &json!({"active": false}))
        .await;
    assert_eq!(deactivated.body["active"], false);
    let active_only = app.get("/api/v1/units?active=true", &admin).await;
    assert!(active_only.body["items"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn categories_have_two_levels() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let unit = app.add_unit("cgj", hotline::domain::directory::UnitKind::Department);
    let city = app
        .post("/api/v1/categories", &admin, &json!({"name": "城市管理"}))
        .await;
    assert_eq!((city.status, city.body["level"].as_i64()), (201, Some(1)));
    let city_id = city.body["id"].as_str().unwrap().to_owned();
    let looks = app
        .post(
            "/api/v1/categories",
            &admin,
            &json!({"name": "市容市政", "parent_id": city_id, "default_unit_id": unit.id}),
        )
        .await;
    assert_eq!(looks.status, 201, "{}", looks.text);
    assert_eq!(looks.body["full_name"], "城市管理—市容市政");
    assert_eq!(looks.body["default_unit_id"], unit.id.to_string());
    let third = app
        .post(
            "/api/v1/categories",
            &admin,
            &json!({"name": "路灯", "parent_id": looks.body["id"]}),
        )
        .await;
    assert_eq!(
        (third.status, third.fields()),
        (422, vec!["parent_id".to_owned()])
    );
    let renamed = app
        .patch(
            &format!("/api/v1/categories/{city_id}"),
            &admin,
            &json!({"name": "城市治理"}),
        )
        .await;
    assert_eq!(renamed.body["full_name"], "城市治理");
    let child = app
        .get(
            &format!("/api/v1/categories/{}", looks.body["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(child.body["full_name"], "城市治理—市容市政");
    let duplicate = app
        .post(
            "/api/v1/categories",
            &admin,
            &json!({"name": "市容市政", "parent_id": city_id}),
        )
        .await;
    assert_eq!(
        (duplicate.status, duplicate.code()),
        (409, "already_exists")
    );
    let with_separator = app
        .post("/api/v1/categories", &admin, &json!({"name": "a—b"}))
        .await;
    assert_eq!(with_separator.fields(), ["name"]);
    let parent_delete = app
        .delete(&format!("/api/v1/categories/{city_id}"), &admin)
        .await;
    assert_eq!(
        (parent_delete.status, parent_delete.code()),
        (409, "in_use")
    );
    let tree = app
        .get(&format!("/api/v1/categories?q={}", encode("市容")), &admin)
        .await;
    assert_eq!(tree.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn directory_lists_page_with_cursors() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    for i in 0..5 {
        app.post(
            "/api/v1/units",
            &admin,
            &json!({"code": format!("u{i}"), "name": format!("单位{i}"), "kind": "department"}),
        )
        .await;
    }
    let mut codes = Vec::new();
    let mut path = "/api/v1/units?limit=2".to_owned();
    loop {
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, 200, "{}", page.text);
        for item in page.body["items"].as_array().unwrap() {
            codes.push(item["code"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/units?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(codes, ["u0", "u1", "u2", "u3", "u4"]);
    let bad = app.get("/api/v1/units?cursor=garbage", &admin).await;
    assert_eq!((bad.status, bad.fields()), (422, vec!["cursor".to_owned()]));
    let too_many = app.get("/api/v1/units?limit=500", &admin).await;
    assert_eq!(too_many.fields(), ["limit"]);
}
