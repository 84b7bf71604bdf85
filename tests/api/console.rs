//! The console's sessions over HTTP, as a browser holds them: signing in and out, the forced
//! password change, the forms' tokens, the pages' protections, and what each role's workbench
//! counts.

use std::sync::Arc;

use chrono::TimeDelta;
use hotline::domain::access::Role;
use hotline::domain::clock::ManualClock;
use hotline::domain::directory::Attachment;
use hotline::store;
use hotline::store::users::NewUser;

use crate::helpers::*;
use crate::helpers::{monday_morning, world};

/// A browser: one cookie jar holding the session cookie, redirects not followed so that each
/// step is seen.
struct Browser<'a> {
    app: &'a TestApp,
    client: awc::Client,
    cookie: Option<String>,
}

/// What a page answered.
struct Page {
    status: u16,
    location: Option<String>,
    set_cookie: Option<String>,
    headers: awc::http::header::HeaderMap,
    html: String,
}

/// Reads a whole awc response into a [`Page`].
macro_rules! page_of {
    ($response:expr) => {{
        let mut response = $response;
        let headers = response.headers().clone();
        let text = |name: &str| {
            headers
                .get(name)
                .map(|v| v.to_str().unwrap_or_default().to_owned())
        };
        let body = response.body().await.expect("a body");
        Page {
            status: response.status().as_u16(),
            location: text("location"),
            set_cookie: text("set-cookie"),
            html: String::from_utf8_lossy(&body).into_owned(),
            headers,
        }
    }};
}

impl Page {
    /// The value of the hidden form token on the page.
    fn form_token(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.html.find(marker).expect("the page has a form") + marker.len();
        let end = self.html[start..].find('"').unwrap() + start;
        self.html[start..end].to_owned()
    }
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            client: awc::Client::builder().disable_redirects().finish(),
            cookie: None,
        }
    }

    fn take(&mut self, page: &Page) {
        if let Some(set) = &page.set_cookie {
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let mut request = self.client.get(self.app.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.insert_header(("cookie", cookie.clone()));
        }
        let page = page_of!(request.send().await.expect("answered"));
        self.take(&page);
        page
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut request = self.client.post(self.app.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.insert_header(("cookie", cookie.clone()));
        }
        let page = page_of!(request.send_form(&form).await.expect("answered"));
        self.take(&page);
        page
    }

    /// A form with files, sent as a browser sends it: `multipart/form-data`.
    async fn post_files(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> Page {
        let boundary = "console-test-boundary-31c9";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (file_name, bytes) in files {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut request = self.client.post(self.app.url(path)).insert_header((
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        ));
        if let Some(cookie) = &self.cookie {
            request = request.insert_header(("cookie", cookie.clone()));
        }
        let page = page_of!(request.send_body(body).await.expect("answered"));
        self.take(&page);
        page
    }

    /// Signs in as `username` with the suite's password; the page it lands on.
    async fn sign_in(&mut self, username: &str) -> Page {
        let landed = self
            .post(
                "/sign-in",
                &[("username", username), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(landed.status, 303, "{}", landed.html);
        self.get(landed.location.as_deref().unwrap()).await
    }
}

#[actix_web::test]
async fn pages_forbid_scripts_and_frames_from_elsewhere_and_are_not_kept() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/sign-in").await;
    assert_eq!(page.status, 200);
    assert!(
        page.html
            .contains("<form method=\"post\" action=\"/sign-in\">")
    );
    let header = |name: &str| page.headers.get(name).unwrap().to_str().unwrap().to_owned();
    let policy = header("content-security-policy");
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-type").starts_with("text/html"));
    let style = browser.get("/assets/console.css").await;
    assert_eq!(style.status, 200);
    assert!(style.html.contains("--accent"));
    // Without a session every page sends the browser to sign in.
    let anonymous = browser.get("/").await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.location.as_deref(), Some("/sign-in"));
}

#[actix_web::test]
async fn a_session_is_an_http_only_strict_cookie_that_signing_out_ends() {
    let app = spawn_app().await;
    let (user, _) = app.login(Role::Dispatcher);
    let mut browser = Browser::new(&app);
    let signed_in = browser
        .post(
            "/sign-in",
            &[("username", &user.username), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.html);
    assert_eq!(signed_in.location.as_deref(), Some("/"));
    let cookie = signed_in.set_cookie.clone().unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // Plain HTTP: a Secure cookie would never come back.
    assert!(!cookie.contains("Secure"), "{cookie}");
    // The database knows the session by a hash only.
    let secret = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(app.count("console_sessions"), 1);
    let found = app.db().read(|c| store::sessions::find(c, secret)).unwrap();
    assert!(found.is_none());

    let workbench = browser.get("/").await;
    assert_eq!(workbench.status, 200, "{}", workbench.html);
    assert!(workbench.html.contains("工作台") && workbench.html.contains("待派单"));
    assert!(workbench.html.contains(&user.username));

    // A form without the session's token changes nothing.
    let forged = browser.post("/sign-out", &[]).await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    let wrong = browser.post("/sign-out", &[("csrf", "guessed")]).await;
    assert_eq!(wrong.status, 403);
    assert_eq!(browser.get("/").await.status, 200);

    let stolen = browser.cookie.clone();
    let token = workbench.form_token();
    let out = browser.post("/sign-out", &[("csrf", &token)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/sign-in"));
    assert!(browser.cookie.is_none(), "the cookie is removed");
    assert_eq!(app.count("console_sessions"), 0);
    // A copy of the cookie taken before signing out signs nobody in.
    browser.cookie = stolen;
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/sign-in"));
}

#[actix_web::test]
async fn signing_in_is_throttled_with_the_api() {
    let app = spawn_app().await;
    let (user, _) = app.login(Role::Agent);
    let mut browser = Browser::new(&app);
    let wrong = browser
        .post(
            "/sign-in",
            &[("username", &user.username), ("password", "wrong")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("用户名或密码错误"));
    assert!(browser.cookie.is_none());
    // Failures through the API and through the console count alike.
    let mut throttled = None;
    for _ in 0..20 {
        let answer = app
            .send(
                awc::http::Method::POST,
                "/api/v1/auth/token",
                None,
                &[],
                Some(&serde_json::json!({"username": user.username, "password": "wrong"})),
            )
            .await;
        if answer.status == 429 {
            throttled = Some(answer);
            break;
        }
    }
    assert!(throttled.is_some(), "the API throttles wrong passwords");
    let page = browser
        .post(
            "/sign-in",
            &[("username", &user.username), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 429, "{}", page.html);
    assert!(page.headers.get("retry-after").is_some());
    assert!(page.html.contains("秒后再试"));
    assert!(browser.cookie.is_none());
}

#[actix_web::test]
async fn a_one_time_password_is_changed_before_anything_else() {
    let app = spawn_app().await;
    let hash = hotline::auth::hash_password(PASSWORD).unwrap();
    let new = NewUser {
        username: "newcomer",
        display_name: "新同事",
        attachment: Attachment {
            role: Role::Agent,
            unit_id: None,
            channel: None,
        },
        password_hash: &hash,
        must_change_password: true,
    };
    app.db()
        .write(|c| store::users::insert(c, &new, app.now()))
        .unwrap();
    let mut browser = Browser::new(&app);
    let landed = browser.sign_in("newcomer").await;
    assert_eq!(landed.status, 200, "{}", landed.html);
    assert!(landed.html.contains("首次登录须先修改初始密码"));
    assert_eq!(
        browser.get("/").await.location.as_deref(),
        Some("/password")
    );

    let token = landed.form_token();
    let wrong = browser
        .post(
            "/password",
            &[
                ("csrf", &token),
                ("current_password", "not it at all"),
                ("new_password", "a new password 2026"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.html.contains("当前密码不正确"));
    let short = browser
        .post(
            "/password",
            &[
                ("csrf", &token),
                ("current_password", PASSWORD),
                ("new_password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.html.contains("新密码须至少"));
    let forged = browser
        .post(
            "/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new password 2026"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);

    let before = browser.cookie.clone();
    let changed = browser
        .post(
            "/password",
            &[
                ("csrf", &token),
                ("current_password", PASSWORD),
                ("new_password", "a new password 2026"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.html);
    assert_ne!(
        browser.cookie, before,
        "the session goes on under a new cookie"
    );
    assert_eq!(browser.get("/").await.status, 200);
    // Sessions from before the change have ended.
    let mut other = Browser::new(&app);
    other.cookie = before;
    assert_eq!(other.get("/").await.location.as_deref(), Some("/sign-in"));
}

#[actix_web::test]
async fn a_session_ends_when_idle_when_too_old_and_when_the_account_changes() {
    let clock = Arc::new(ManualClock::new(monday_morning()));
    let app = spawn_app_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let (user, _) = app.login(Role::Agent);
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&user.username).await.status, 200);
    // Used every hour, it lasts the longest a session may.
    for _ in 0..11 {
        clock.advance(TimeDelta::hours(1));
        assert_eq!(browser.get("/").await.status, 200);
    }
    clock.advance(TimeDelta::hours(1));
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/sign-in"));

    // Left alone for two hours, it ends.
    assert_eq!(browser.sign_in(&user.username).await.status, 200);
    clock.advance(TimeDelta::minutes(119));
    assert_eq!(browser.get("/").await.status, 200);
    clock.advance(TimeDelta::minutes(120));
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/sign-in"));

    // Deactivating the account ends its sessions at once (on other instances within the
    // account cache's bound, as for the API's tokens).
    assert_eq!(browser.sign_in(&user.username).await.status, 200);
    let (_, admin) = app.login(Role::Admin);
    let deactivated = app
        .patch(
            &format!("/api/v1/users/{}", user.id),
            &admin,
            &serde_json::json!({"active": false}),
        )
        .await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.text);
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/sign-in"));
}

#[actix_web::test]
async fn each_role_sees_the_work_it_has() {
    let world = world().await;
    let app = &world.app;
    // A ticket waiting for dispatch, and one dispatched to unit A.
    app.ticket(&world.agent, "路灯不亮").await;
    let dispatched = world.complaint().await;
    world.dispatched(&dispatched).await;

    let mut office = Browser::new(app);
    let dispatcher = app.add_user("desk", Role::Dispatcher);
    let page = office.sign_in(&dispatcher.username).await;
    assert!(page.html.contains("<b>1</b>待派单"), "{}", page.html);
    assert!(page.html.contains("<b>1</b>待签收"), "{}", page.html);
    assert!(page.html.contains(&world.unit_a.name));
    // The ticket waiting for dispatch is listed, and leads to its page.
    assert!(page.html.contains("路灯不亮"));
    assert!(!page.html.contains("噪音扰民"));

    let mut unit = Browser::new(app);
    app.add_user_in("field", Role::UnitHandler, Some(world.unit_a.id));
    let page = unit.sign_in("field").await;
    assert!(page.html.contains("<b>1</b>待签收"), "{}", page.html);
    assert!(!page.html.contains("<b>0</b>待派单"));
    assert!(!page.html.contains(&world.unit_b.name));
    // The unit's ticket in hand, with the light and the time left to sign (one working day).
    assert!(
        page.html
            .contains(&format!("href=\"/tickets/{dispatched}\""))
    );
    assert!(
        page.html.contains("class=\"light yellow\""),
        "{}",
        page.html
    );
    assert!(page.html.contains("剩 1 个工作日"), "{}", page.html);
    // Past the signature's due time it is red, and says how long.
    world.later(24 * 60 + 3 * 60);
    let page = unit.sign_in("field").await;
    assert!(page.html.contains("class=\"light red\""), "{}", page.html);
    assert!(page.html.contains("超期 3 小时"), "{}", page.html);

    let mut admin = Browser::new(app);
    app.add_user("keeper", Role::Admin);
    let page = admin.sign_in("keeper").await;
    assert!(page.html.contains("本账号没有工单待办"));
}

#[actix_web::test]
async fn a_ticket_page_tells_its_deadlines_and_timeline_to_those_who_may_read_it() {
    let world = world().await;
    let app = &world.app;
    let registered = app
        .register(
            &world.agent,
            serde_json::json!({
                "type": "complaint",
                "title": "夜间施工噪音",
                "content": "工地夜里十二点还在施工。",
                "caller_name": "王小明",
                "caller_phone": "13812345678",
                "address": "幸福路1号",
            }),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let id = registered.body["id"].as_str().unwrap().to_owned();
    world.dispatched(&id).await;
    world.signed(&id).await;
    let path = format!("/tickets/{id}");

    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    let page = unit.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    for words in [
        "夜间施工噪音",
        "办理中",
        "登记",
        &format!("派单给 {}（主办）", world.unit_a.name),
        &format!("{} 签收", world.unit_a.name),
        "个工作日，自",
        "138****5678",
    ] {
        assert!(page.html.contains(words), "{words}: {}", page.html);
    }
    assert!(!page.html.contains("13812345678"));

    // Another unit's staff find no such ticket, as through the API.
    app.add_user_in("field-b", Role::UnitHandler, Some(world.unit_b.id));
    let mut other = Browser::new(app);
    other.sign_in("field-b").await;
    let refused = other.get(&path).await;
    assert_eq!(refused.status, 404, "{}", refused.html);
    assert!(refused.html.contains("未找到"));
    assert!(!refused.html.contains("夜间施工噪音"));
    assert_eq!(other.get("/tickets/not-an-id").await.status, 404);
}

/// The value of the hidden input `name` on the page.
fn hidden(page: &Page, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.html.find(&marker).expect("the page has the field") + marker.len();
    let end = page.html[start..].find('"').unwrap() + start;
    page.html[start..end].to_owned()
}

#[actix_web::test]
async fn a_unit_signs_and_hands_back_from_the_ticket_page_as_the_rules_allow() {
    let world = world().await;
    let app = &world.app;
    let id = world.complaint().await;
    world.dispatched(&id).await;
    let path = format!("/tickets/{id}");
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    let page = unit.get(&path).await;
    for form in [
        format!("action=\"{path}/sign\""),
        format!("action=\"{path}/return\""),
    ] {
        assert!(page.html.contains(&form), "{form}: {}", page.html);
    }
    let (token, version) = (page.form_token(), hidden(&page, "version"));

    // Without the session's token, or from a page older than the ticket, nothing changes.
    let forged = unit
        .post(&format!("{path}/sign"), &[("version", &version)])
        .await;
    assert_eq!(forged.status, 403);
    let stale = unit
        .post(
            &format!("{path}/sign"),
            &[("csrf", &token), ("version", "0")],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.html);
    assert!(stale.html.contains("工单已有新的变化"));
    let empty = unit
        .post(
            &format!("{path}/return"),
            &[("csrf", &token), ("version", &version), ("reason", " ")],
        )
        .await;
    assert_eq!(empty.status, 422, "{}", empty.html);
    assert!(unit.get(&path).await.html.contains("待签收"));

    // Another unit's staff cannot act on it, and the office is offered neither.
    app.add_user_in("field-b", Role::UnitHandler, Some(world.unit_b.id));
    let mut other = Browser::new(app);
    let other_page = other.sign_in("field-b").await;
    let refused = other
        .post(
            &format!("{path}/sign"),
            &[("csrf", &other_page.form_token()), ("version", &version)],
        )
        .await;
    assert_eq!(refused.status, 404, "{}", refused.html);
    let mut office = Browser::new(app);
    let desk = app.add_user("desk", Role::Dispatcher);
    office.sign_in(&desk.username).await;
    let office_page = office.get(&path).await;
    assert_eq!(office_page.status, 200);
    assert!(!office_page.html.contains(&format!("{path}/sign")));

    let signed = unit
        .post(
            &format!("{path}/sign"),
            &[("csrf", &token), ("version", &version)],
        )
        .await;
    assert_eq!(signed.status, 303, "{}", signed.html);
    assert_eq!(signed.location.as_deref(), Some(path.as_str()));
    let page = unit.get(&path).await;
    assert!(page.html.contains("办理中"));
    assert!(page.html.contains(&format!("{} 签收", world.unit_a.name)));
    assert!(!page.html.contains(&format!("{path}/sign")));
    // A unit without sub-units has nowhere to forward to, and is not offered it.
    assert!(!page.html.contains(&format!("{path}/forward")));

    // Handed back with a reason, the ticket waits for the office again.
    let returned = unit
        .post(
            &format!("{path}/return"),
            &[
                ("csrf", &token),
                ("version", &hidden(&page, "version")),
                ("reason", "不属于本单位职责"),
            ],
        )
        .await;
    assert_eq!(returned.status, 303, "{}", returned.html);
    let ticket = app
        .get(&format!("/api/v1/tickets/{id}"), &world.dispatcher)
        .await;
    assert_eq!(ticket.body["status"], "returned");
    assert!(
        unit.get(&path)
            .await
            .html
            .contains("退回：不属于本单位职责")
    );
}

#[actix_web::test]
async fn the_office_dispatches_from_the_ticket_page_with_the_categorys_unit_suggested() {
    let world = world().await;
    let app = &world.app;
    let category = app
        .post(
            "/api/v1/categories",
            &world.admin,
            &serde_json::json!({"name": "劳动保障", "default_unit_id": world.unit_b.id}),
        )
        .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let registered = app
        .register(
            &world.agent,
            serde_json::json!({
                "type": "complaint", "title": "拖欠工资", "content": "三个月未发",
                "category_id": category.body["id"],
            }),
        )
        .await;
    let id = registered.body["id"].as_str().unwrap().to_owned();
    let path = format!("/tickets/{id}");
    let mut office = Browser::new(app);
    let desk = app.add_user("desk", Role::Dispatcher);
    office.sign_in(&desk.username).await;
    let page = office.get(&path).await;
    assert!(
        page.html.contains(&format!("action=\"{path}/dispatch\"")),
        "{}",
        page.html
    );
    let suggested = format!(
        "<option value=\"{}\" selected>{}（分类建议）</option>",
        world.unit_b.id, world.unit_b.name
    );
    assert!(page.html.contains(&suggested), "{}", page.html);
    let (token, version) = (page.form_token(), hidden(&page, "version"));

    let nobody = office
        .post(
            &format!("{path}/dispatch"),
            &[("csrf", &token), ("version", &version)],
        )
        .await;
    assert_eq!(nobody.status, 422, "{}", nobody.html);
    let (a, b) = (world.unit_a.id.to_string(), world.unit_b.id.to_string());
    let dispatched = office
        .post(
            &format!("{path}/dispatch"),
            &[
                ("csrf", &token),
                ("version", &version),
                ("primary_unit_id", &a),
                ("assisting_unit_ids", &b),
                ("note", "请核实"),
            ],
        )
        .await;
    assert_eq!(dispatched.status, 303, "{}", dispatched.html);
    let page = office.get(&path).await;
    let words = format!(
        "派单给 {}（主办）、{}（协办）",
        world.unit_a.name, world.unit_b.name
    );
    assert!(page.html.contains(&words), "{}", page.html);
    assert!(page.html.contains("；请核实"));
    assert!(!page.html.contains(&format!("{path}/dispatch")));

    // The unit is offered signing, and no dispatch.
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    let page = unit.get(&path).await;
    assert!(page.html.contains(&format!("{path}/sign")));
    assert!(!page.html.contains(&format!("{path}/dispatch")));
}

/// A photo of one pixel, as a phone's camera would send a larger one.
fn photo() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap()
}

/// The ticket a form's answer sent the browser to.
fn ticket_of(page: &Page) -> String {
    let location = page.location.as_deref().expect("sent on");
    location
        .strip_prefix("/tickets/")
        .unwrap_or_else(|| panic!("not a ticket's page: {location}"))
        .to_owned()
}

#[actix_web::test]
async fn a_call_is_registered_at_intake_with_the_callers_history_beside_it() {
    let world = world().await;
    let app = &world.app;
    let category = app
        .post(
            "/api/v1/categories",
            &world.admin,
            &serde_json::json!({"name": "环境噪音", "default_unit_id": world.unit_a.id}),
        )
        .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let earlier = app
        .register(
            &world.agent,
            serde_json::json!({
                "type": "complaint", "title": "夜间施工", "content": "工地夜里施工",
                "caller_phone": "13812345678", "category_id": category.body["id"],
                "address": "幸福路1号",
            }),
        )
        .await;
    assert_eq!(earlier.status, 201);
    let desk = app.add_user("desk-agent", Role::Agent);
    let mut agent = Browser::new(app);
    agent.sign_in(&desk.username).await;
    let form = agent.get("/intake").await;
    assert_eq!(form.status, 200, "{}", form.html);
    for words in [
        "<form method=\"post\" action=\"/intake\"",
        "<option value=\"环境噪音\">",
        "<select name=\"channel\">\n          <option value=\"phone\">12345电话</option>",
        "/assets/htmx.min.js",
        "hx-post=\"/intake/caller-history\"",
    ] {
        assert!(form.html.contains(words), "{words}: {}", form.html);
    }
    let token = form.form_token();
    let script = agent.get("/assets/htmx.min.js").await;
    assert_eq!(script.status, 200);
    assert!(script.html.starts_with("var htmx="));

    // The caller's earlier call shows while the number is typed, and the look-up is audited.
    let history = agent
        .post(
            "/intake/caller-history",
            &[("csrf", &token), ("caller_phone", "138 1234 5678")],
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.html);
    assert!(
        history.html.contains("此前来电 <b>1</b> 次"),
        "{}",
        history.html
    );
    assert!(history.html.contains("夜间施工"));
    let audit = app.get("/api/v1/audit-log", &world.supervisor).await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert!(audit.text.contains("138****5678"), "{}", audit.text);
    let too_short = agent
        .post(
            "/intake/caller-history",
            &[("csrf", &token), ("caller_phone", "138")],
        )
        .await;
    assert!(too_short.html.contains("输入来电号码后显示"));
    let forged = agent
        .post("/intake/caller-history", &[("caller_phone", "13812345678")])
        .await;
    assert_eq!(forged.status, 403);

    // The open ticket of the same category and address is offered as a possible duplicate.
    let alike = agent
        .get("/intake/duplicates?category=%E7%8E%AF%E5%A2%83%E5%99%AA%E9%9F%B3&address=%E5%B9%B8%E7%A6%8F%E8%B7%AF1%E5%8F%B7")
        .await;
    assert_eq!(alike.status, 200, "{}", alike.html);
    assert!(alike.html.contains("夜间施工"), "{}", alike.html);

    let registered = agent
        .post(
            "/intake",
            &[
                ("csrf", &token),
                ("type", "complaint"),
                ("priority", "normal"),
                ("category", "环境噪音"),
                ("channel", "wechat"),
                ("caller_name", "王小明"),
                ("caller_phone", "13812345678"),
                ("area_unit_id", ""),
                ("address", "幸福路1号"),
                ("title", "夜间施工又开始了"),
                ("content", "工地今晚又在施工。"),
                ("answer", ""),
                ("then", "dispatch"),
            ],
        )
        .await;
    assert_eq!(registered.status, 303, "{}", registered.html);
    let id = ticket_of(&registered);
    let ticket = app
        .get(&format!("/api/v1/tickets/{id}"), &world.dispatcher)
        .await;
    assert_eq!(ticket.body["status"], "registered");
    assert_eq!(ticket.body["category_id"], category.body["id"]);
    assert_eq!(ticket.body["type"], "complaint");
    assert_eq!(ticket.body["channel_code"], "wechat");
    // The page it lands on offers the dispatch, the category's unit suggested.
    let page = agent.get(&format!("/tickets/{id}")).await;
    assert!(page.html.contains("（分类建议）"), "{}", page.html);

    // A category that does not exist, or no token, registers nothing.
    let before = app.get("/api/v1/tickets", &world.dispatcher).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    let wrong = agent
        .post(
            "/intake",
            &[
                ("csrf", &token),
                ("type", "complaint"),
                ("category", "没有这类"),
                ("title", "x"),
                ("content", "y"),
                ("then", "dispatch"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.html);
    let unsigned = agent
        .post(
            "/intake",
            &[("type", "complaint"), ("title", "x"), ("content", "y")],
        )
        .await;
    assert_eq!(unsigned.status, 403);
    let after = app.get("/api/v1/tickets", &world.dispatcher).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);

    // A unit's staff take no calls.
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    assert_eq!(unit.get("/intake").await.status, 403);
}

#[actix_web::test]
async fn an_agent_answers_a_call_on_the_spot_citing_the_knowledge_base() {
    let world = world().await;
    let app = &world.app;
    let created = app
        .post(
            "/api/v1/articles",
            &world.dispatcher,
            &serde_json::json!({"title": "社保卡补办流程", "body": "携带身份证到社保大厅补办社保卡，当场领取。", "keywords": ["社保卡"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let article = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/articles/{article}");
    app.post(
        &format!("{path}/submit"),
        &world.dispatcher,
        &serde_json::json!({}),
    )
    .await;
    let published = app
        .post(
            &format!("{path}/publish"),
            &world.dispatcher,
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(published.body["status"], "published", "{}", published.text);

    let desk = app.add_user("desk-agent", Role::Agent);
    let mut agent = Browser::new(app);
    agent.sign_in(&desk.username).await;
    let token = agent.get("/intake").await.form_token();
    let answers = agent.get("/intake/articles?q=%E7%A4%BE%E4%BF%9D").await;
    assert_eq!(answers.status, 200, "{}", answers.html);
    assert!(answers.html.contains("社保卡补办流程"), "{}", answers.html);
    assert!(
        answers.html.contains("<mark>社保</mark>"),
        "{}",
        answers.html
    );
    assert!(
        answers
            .html
            .contains(&format!("name=\"article_ids\" value=\"{article}\""))
    );
    let none = agent.get("/intake/articles?q=%E5%81%9C%E6%B0%B4").await;
    assert!(none.html.contains("没有找到相关知识"));

    // An empty answer is refused before anything is registered.
    let empty = agent
        .post(
            "/intake",
            &[
                ("csrf", &token),
                ("type", "consult"),
                ("title", "补办社保卡"),
                ("content", "社保卡丢了怎么办"),
                ("answer", " "),
                ("then", "answer"),
            ],
        )
        .await;
    assert_eq!(empty.status, 422, "{}", empty.html);
    let answered = agent
        .post(
            "/intake",
            &[
                ("csrf", &token),
                ("type", "consult"),
                ("title", "补办社保卡"),
                ("content", "社保卡丢了怎么办"),
                ("answer", "请携带身份证到社保大厅补办。"),
                ("article_ids", &article),
                ("then", "answer"),
            ],
        )
        .await;
    assert_eq!(answered.status, 303, "{}", answered.html);
    let id = ticket_of(&answered);
    let ticket = app
        .get(&format!("/api/v1/tickets/{id}"), &world.dispatcher)
        .await;
    assert_ne!(ticket.body["status"], "registered", "{}", ticket.text);
    let cited = app.get(&path, &world.agent).await;
    assert_eq!(cited.body["use_count"], 1, "{}", cited.text);
    assert_eq!(
        app.get("/api/v1/tickets", &world.dispatcher).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn a_unit_replies_with_a_photo_the_office_accepts_and_the_callback_closes_the_ticket() {
    let world = world().await;
    let app = &world.app;
    let id = world.complaint().await;
    world.dispatched(&id).await;
    world.signed(&id).await;
    let path = format!("/tickets/{id}");
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    let page = unit.get(&path).await;
    for words in [
        format!("action=\"{path}/reply\" enctype=\"multipart/form-data\""),
        "capture=\"environment\"".to_owned(),
        format!("action=\"{path}/request-extension\""),
    ] {
        assert!(page.html.contains(&words), "{words}: {}", page.html);
    }
    let (token, version) = (page.form_token(), hidden(&page, "version"));
    let contacted_at = hidden(&page, "contacted_at");
    let picture = photo();
    let reply = |token: &str| {
        vec![
            ("csrf".to_owned(), token.to_owned()),
            ("version".to_owned(), version.clone()),
            ("result".to_owned(), "resolved".to_owned()),
            ("text".to_owned(), "已责令工地停止夜间施工。".to_owned()),
            ("contacted_at".to_owned(), contacted_at.clone()),
            ("contact_method".to_owned(), "phone".to_owned()),
            (
                "contact_outcome".to_owned(),
                "来电人认可处理结果".to_owned(),
            ),
            ("no_contact_reason".to_owned(), String::new()),
        ]
    };
    let as_refs = |pairs: &[(String, String)]| -> Vec<(String, String)> { pairs.to_vec() };

    // Without the token neither the reply nor its photo is kept.
    let forged_fields = as_refs(&reply(""));
    let forged: Vec<(&str, &str)> = forged_fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let refused = unit
        .post_files(&format!("{path}/reply"), &forged, &[("site.png", &picture)])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    let files = app
        .get(
            &format!("/api/v1/tickets/{id}/attachments"),
            &world.dispatcher,
        )
        .await;
    assert_eq!(files.body["items"].as_array().unwrap().len(), 0);

    let fields = as_refs(&reply(&token));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let replied = unit
        .post_files(&format!("{path}/reply"), &fields, &[("site.png", &picture)])
        .await;
    assert_eq!(replied.status, 303, "{}", replied.html);
    let replies = app
        .get(&format!("/api/v1/tickets/{id}/replies"), &world.dispatcher)
        .await;
    let first = &replies.body["items"][0];
    assert_eq!(
        first["text"], "已责令工地停止夜间施工。",
        "{}",
        replies.text
    );
    assert_eq!(first["contact"]["method"], "phone");
    assert_eq!(first["attachment_ids"].as_array().unwrap().len(), 1);

    // The office reads the reply with its photo, and accepts it.
    let mut office = Browser::new(app);
    let desk = app.add_user("desk", Role::Dispatcher);
    office.sign_in(&desk.username).await;
    let page = office.get(&path).await;
    assert!(
        page.html.contains("已责令工地停止夜间施工。"),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains("通过电话联系到来电人：来电人认可处理结果")
    );
    let marker = format!("<img src=\"{path}/files/");
    let start = page.html.find(&marker).expect("the photo is shown") + "<img src=\"".len();
    let end = page.html[start..].find('"').unwrap() + start;
    let shown = office.get(&page.html[start..end]).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.headers.get("content-type").unwrap(), "image/png");
    assert!(
        shown
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    let mut other = Browser::new(app);
    app.add_user_in("field-b", Role::UnitHandler, Some(world.unit_b.id));
    other.sign_in("field-b").await;
    assert_eq!(other.get(&page.html[start..end]).await.status, 404);

    let (token, version) = (page.form_token(), hidden(&page, "version"));
    let undecided = office
        .post(
            &format!("{path}/review"),
            &[("csrf", &token), ("version", &version)],
        )
        .await;
    assert_eq!(undecided.status, 422, "{}", undecided.html);
    let accepted = office
        .post(
            &format!("{path}/review"),
            &[
                ("csrf", &token),
                ("version", &version),
                ("decision", "accept"),
                ("comment", ""),
            ],
        )
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.html);

    // The agent calls the citizen back; satisfied, the ticket is closed.
    let mut agent = Browser::new(app);
    let caller_desk = app.add_user("desk-agent", Role::Agent);
    let workbench = agent.sign_in(&caller_desk.username).await;
    assert!(workbench.html.contains("待回访"), "{}", workbench.html);
    assert!(
        workbench.html.contains(&format!("href=\"{path}\"")),
        "{}",
        workbench.html
    );
    let page = agent.get(&path).await;
    assert!(
        page.html.contains(&format!("action=\"{path}/callback\"")),
        "{}",
        page.html
    );
    let called = agent
        .post(
            &format!("{path}/callback"),
            &[
                ("csrf", &page.form_token()),
                ("version", &hidden(&page, "version")),
                ("reached", "yes"),
                ("satisfaction", "satisfied"),
                ("resolved", "yes"),
                ("comment", "市民表示满意"),
            ],
        )
        .await;
    assert_eq!(called.status, 303, "{}", called.html);
    let ticket = app
        .get(&format!("/api/v1/tickets/{id}"), &world.dispatcher)
        .await;
    assert_eq!(ticket.body["status"], "closed", "{}", ticket.text);
    let page = agent.get(&path).await;
    assert!(
        page.html
            .contains("<span class=\"tag status\">已办结</span>"),
        "{}",
        page.html
    );
    assert!(!page.html.contains(&format!("action=\"{path}/callback\"")));
}

#[actix_web::test]
async fn a_unit_asks_for_more_time_and_the_office_decides_from_the_page() {
    let world = world().await;
    let app = &world.app;
    let id = world.complaint().await;
    world.dispatched(&id).await;
    world.signed(&id).await;
    let path = format!("/tickets/{id}");
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    let page = unit.get(&path).await;
    let asked = unit
        .post(
            &format!("{path}/request-extension"),
            &[
                ("csrf", &page.form_token()),
                ("version", &hidden(&page, "version")),
                ("due_at", "2030-01-31T17:00"),
                ("reason", "需要协调多个部门"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.html);
    let mut office = Browser::new(app);
    let desk = app.add_user("desk", Role::Dispatcher);
    office.sign_in(&desk.username).await;
    let page = office.get(&path).await;
    assert!(
        page.html
            .contains("申请延期至 1月31日 17:00：需要协调多个部门"),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains(&format!("action=\"{path}/decide-extension\"")),
        "{}",
        page.html
    );
    let request = hidden(&page, "request_id");
    let refused = office
        .post(
            &format!("{path}/decide-extension"),
            &[
                ("csrf", &page.form_token()),
                ("version", &hidden(&page, "version")),
                ("request_id", &request),
                ("decision", "refuse"),
                ("comment", "时限内可办结"),
            ],
        )
        .await;
    assert_eq!(refused.status, 303, "{}", refused.html);
    let requests = app
        .get(
            &format!("/api/v1/tickets/{id}/extension-requests"),
            &world.dispatcher,
        )
        .await;
    assert_eq!(
        requests.body["items"][0]["status"], "rejected",
        "{}",
        requests.text
    );
    assert!(
        !office
            .get(&path)
            .await
            .html
            .contains(&format!("{path}/decide-extension"))
    );
}

#[actix_web::test]
async fn the_office_merges_a_duplicate_and_a_supervisor_supervises_from_the_page() {
    let world = world().await;
    let app = &world.app;
    let kept = world.complaint().await;
    let kept_number = app
        .get(&format!("/api/v1/tickets/{kept}"), &world.dispatcher)
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let duplicate = world.complaint().await;
    let path = format!("/tickets/{duplicate}");
    let mut office = Browser::new(app);
    let desk = app.add_user("desk", Role::Dispatcher);
    office.sign_in(&desk.username).await;
    let page = office.get(&path).await;
    assert!(
        page.html.contains(&format!("action=\"{path}/merge\"")),
        "{}",
        page.html
    );
    let (token, version) = (page.form_token(), hidden(&page, "version"));
    let nowhere = office
        .post(
            &format!("{path}/merge"),
            &[
                ("csrf", &token),
                ("version", &version),
                ("into_number", "0000000000"),
            ],
        )
        .await;
    assert_eq!(nowhere.status, 422, "{}", nowhere.html);
    let merged = office
        .post(
            &format!("{path}/merge"),
            &[
                ("csrf", &token),
                ("version", &version),
                ("into_number", &kept_number),
            ],
        )
        .await;
    assert_eq!(merged.status, 303, "{}", merged.html);
    let ticket = app
        .get(&format!("/api/v1/tickets/{duplicate}"), &world.dispatcher)
        .await;
    assert_eq!(ticket.body["status"], "merged", "{}", ticket.text);

    // A dispatched ticket: the supervisor puts its unit under supervision, then closes it.
    world.dispatched(&kept).await;
    let path = format!("/tickets/{kept}");
    let mut supervisor = Browser::new(app);
    let chief = app.add_user("chief", Role::Supervisor);
    supervisor.sign_in(&chief.username).await;
    let page = supervisor.get(&path).await;
    assert!(
        page.html.contains(&format!("action=\"{path}/supervise\"")),
        "{}",
        page.html
    );
    assert!(
        !office
            .get(&path)
            .await
            .html
            .contains(&format!("{path}/supervise"))
    );
    let supervised = supervisor
        .post(
            &format!("{path}/supervise"),
            &[
                ("csrf", &page.form_token()),
                ("version", &hidden(&page, "version")),
                ("unit_id", &world.unit_a.id.to_string()),
                ("deadline", "2030-06-30T17:00"),
                ("reason", "群众反映强烈"),
            ],
        )
        .await;
    assert_eq!(supervised.status, 303, "{}", supervised.html);
    let page = supervisor.get(&path).await;
    assert!(page.html.contains("督办 "), "{}", page.html);
    assert!(page.html.contains("群众反映强烈"));
    let closed = supervisor
        .post(
            &format!("{path}/close-supervision"),
            &[
                ("csrf", &page.form_token()),
                ("version", &hidden(&page, "version")),
                ("supervision_id", &hidden(&page, "supervision_id")),
                ("outcome", "单位已整改"),
            ],
        )
        .await;
    assert_eq!(closed.status, 303, "{}", closed.html);
    let supervisions = app
        .get(
            &format!("/api/v1/tickets/{kept}/supervisions"),
            &world.dispatcher,
        )
        .await;
    assert_eq!(
        supervisions.body["items"][0]["status"], "closed",
        "{}",
        supervisions.text
    );
    assert!(
        !supervisor
            .get(&path)
            .await
            .html
            .contains("close-supervision")
    );
}

#[actix_web::test]
async fn units_read_their_notifications_and_supervisors_their_supervisions_and_bulletins() {
    let world = world().await;
    let app = &world.app;
    let id = world.complaint().await;
    world.dispatched(&id).await;
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    let workbench = unit.sign_in("field-a").await;
    assert!(workbench.html.contains("href=\"/notifications\""));
    assert!(!workbench.html.contains("href=\"/intake\""));
    let feed = unit.get("/notifications").await;
    assert_eq!(feed.status, 200, "{}", feed.html);
    assert!(feed.html.contains("未读 1"), "{}", feed.html);
    assert!(feed.html.contains(&format!("href=\"/tickets/{id}\"")));
    assert!(feed.html.contains("派单"));
    let read = unit
        .post("/notifications/read-all", &[("csrf", &feed.form_token())])
        .await;
    assert_eq!(read.status, 303, "{}", read.html);
    assert!(!unit.get("/notifications").await.html.contains("未读"));
    // Another unit's feed is its own.
    app.add_user_in("field-b", Role::UnitHandler, Some(world.unit_b.id));
    let mut other = Browser::new(app);
    other.sign_in("field-b").await;
    assert!(other.get("/notifications").await.html.contains("暂无通知"));

    let supervised = app
        .post(
            &format!("/api/v1/tickets/{id}/supervisions"),
            &world.supervisor,
            &serde_json::json!({
                "unit_id": world.unit_a.id, "reason": "多次投诉未果",
                "deadline": (app.now() + TimeDelta::days(3)).to_rfc3339(),
            }),
        )
        .await;
    assert!(supervised.status < 300, "{}", supervised.text);
    let mut chief = Browser::new(app);
    let boss = app.add_user("chief", Role::Supervisor);
    let workbench = chief.sign_in(&boss.username).await;
    for link in ["/supervisions", "/bulletins"] {
        assert!(
            workbench.html.contains(&format!("href=\"{link}\"")),
            "{link}"
        );
    }
    let list = chief.get("/supervisions").await;
    assert_eq!(list.status, 200, "{}", list.html);
    assert!(list.html.contains("多次投诉未果"), "{}", list.html);
    assert!(list.html.contains(&world.unit_a.name));
    // A unit reads its own supervisions, and no other unit's.
    assert!(
        unit.get("/supervisions")
            .await
            .html
            .contains("多次投诉未果")
    );
    assert!(
        other
            .get("/supervisions")
            .await
            .html
            .contains("暂无督办中的工单")
    );

    // The bulletins: this month as a draft, the last one publishable, each a document whose
    // own stylesheet alone is allowed.
    let months = chief.get("/bulletins").await;
    assert_eq!(months.status, 200, "{}", months.html);
    let month = hotline::domain::period::Month::of(app.now(), chrono_tz::Asia::Shanghai);
    let last = month.previous().to_string();
    assert!(
        months
            .html
            .contains(&format!("action=\"/bulletins/{last}/publish\"")),
        "{}",
        months.html
    );
    assert!(
        !months
            .html
            .contains(&format!("action=\"/bulletins/{month}/publish\""))
    );
    let document = chief.get(&format!("/bulletins/{last}")).await;
    assert_eq!(document.status, 200, "{}", document.html);
    assert!(document.html.contains("<style>"));
    let policy = document
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-"),
        "{policy}"
    );
    let published = chief
        .post(
            &format!("/bulletins/{last}/publish"),
            &[("csrf", &months.form_token())],
        )
        .await;
    assert_eq!(published.status, 303, "{}", published.html);
    let months = chief.get("/bulletins").await;
    assert!(
        !months
            .html
            .contains(&format!("action=\"/bulletins/{last}/publish\""))
    );
    let again = chief
        .post(
            &format!("/bulletins/{last}/publish"),
            &[("csrf", &months.form_token())],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.html);
    // A dispatcher reads bulletins but does not publish them.
    let mut desk = Browser::new(app);
    let dispatcher = app.add_user("desk", Role::Dispatcher);
    desk.sign_in(&dispatcher.username).await;
    assert!(!desk.get("/bulletins").await.html.contains("/publish"));
}

#[actix_web::test]
async fn a_form_that_cannot_be_read_is_answered_with_a_page() {
    let world = world().await;
    let app = &world.app;
    let mut agent = Browser::new(app);
    let desk = app.add_user("desk-agent", Role::Agent);
    agent.sign_in(&desk.username).await;
    let client = awc::Client::builder().disable_redirects().finish();
    let answer = client
        .post(app.url("/intake"))
        .insert_header(("cookie", agent.cookie.clone().unwrap()))
        .insert_header(("content-type", "application/json"))
        .send_body(r#"{"title": "not a form"}"#)
        .await
        .expect("answered");
    let page = page_of!(answer);
    assert_eq!(page.status, 400, "{}", page.html);
    assert!(
        page.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.html.contains("提交的内容有误"), "{}", page.html);
}

#[actix_web::test]
async fn a_unit_keeps_its_articles_and_the_office_publishes_them_from_the_console() {
    let world = world().await;
    let app = &world.app;
    let created = app
        .post(
            "/api/v1/articles",
            &world.handler_a,
            &serde_json::json!({"title": "停水通知查询", "body": "停水信息以供水公司公告为准。", "keywords": ["停水"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_owned();
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    let page = unit.get("/articles").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("本单位知识条目"));
    assert!(page.html.contains("停水通知查询"));
    assert!(
        page.html
            .contains(&format!("action=\"/articles/{id}/submit\"")),
        "{}",
        page.html
    );
    assert!(
        !page
            .html
            .contains(&format!("action=\"/articles/{id}/publish\""))
    );
    let stale = unit
        .post(
            &format!("/articles/{id}/submit"),
            &[("csrf", &page.form_token()), ("version", "99")],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.html);
    let submitted = unit
        .post(
            &format!("/articles/{id}/submit"),
            &[
                ("csrf", &page.form_token()),
                ("version", &created.body["version"].to_string()),
            ],
        )
        .await;
    assert_eq!(submitted.status, 303, "{}", submitted.html);

    // Another unit does not see it; the office sees it waiting and publishes it.
    app.add_user_in("field-b", Role::UnitHandler, Some(world.unit_b.id));
    let mut other = Browser::new(app);
    other.sign_in("field-b").await;
    assert!(!other.get("/articles").await.html.contains("停水通知查询"));
    let mut office = Browser::new(app);
    let desk = app.add_user("desk", Role::Dispatcher);
    office.sign_in(&desk.username).await;
    let page = office.get("/articles").await;
    assert!(page.html.contains("待审核的知识条目"));
    assert!(
        page.html
            .contains(&format!("action=\"/articles/{id}/publish\"")),
        "{}",
        page.html
    );
    let published = office
        .post(
            &format!("/articles/{id}/publish"),
            &[
                ("csrf", &page.form_token()),
                ("version", &hidden(&page, "version")),
            ],
        )
        .await;
    assert_eq!(published.status, 303, "{}", published.html);
    let article = app
        .get(&format!("/api/v1/articles/{id}"), &world.agent)
        .await;
    assert_eq!(article.body["status"], "published", "{}", article.text);
    let mut agent = Browser::new(app);
    let caller_desk = app.add_user("desk-agent", Role::Agent);
    agent.sign_in(&caller_desk.username).await;
    let page = agent.get("/articles").await;
    assert!(page.html.contains("停水通知查询"));
    assert!(
        !page
            .html
            .contains("<form method=\"post\" action=\"/articles/")
    );
}

#[actix_web::test]
async fn a_unit_reads_its_own_figures_and_the_office_every_units() {
    let world = world().await;
    let app = &world.app;
    for _ in 0..2 {
        let id = world.complaint().await;
        world.dispatched(&id).await;
    }
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    let page = unit.get("/figures").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("考核数据"));
    let row = format!(
        "<td data-label=\"单位\">{}</td><td data-label=\"承办量\" class=\"n\">2</td>",
        world.unit_a.name
    );
    assert!(page.html.contains(&row), "{}", page.html);
    assert!(!page.html.contains("全部单位"));
    assert!(!page.html.contains(&world.unit_b.name));

    let mut office = Browser::new(app);
    let chief = app.add_user("chief", Role::Supervisor);
    office.sign_in(&chief.username).await;
    let page = office.get("/figures").await;
    assert!(page.html.contains("<b>全部单位</b>"), "{}", page.html);
    assert!(page.html.contains(&row), "{}", page.html);
    assert_eq!(office.get("/figures?month=2026-13").await.status, 422);
}

/// The value of a page's form field `name`, as the page holds it.
fn field_in(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    let tag_end = html[at..].find('>')? + at;
    let tag = &html[at..tag_end];
    let value = tag.split("value=\"").nth(1)?;
    Some(value[..value.find('"')?].to_owned())
}

#[actix_web::test]
async fn an_administrator_keeps_units_categories_and_accounts_from_the_console() {
    let app = spawn_app().await;
    let root = app.add_user("root", Role::Admin);
    let mut admin = Browser::new(&app);
    let workbench = admin.sign_in(&root.username).await;
    for link in [
        "/admin/users",
        "/admin/units",
        "/admin/categories",
        "/admin/calendar",
        "/admin/policy",
    ] {
        assert!(
            workbench.html.contains(&format!("href=\"{link}\"")),
            "{link}"
        );
    }
    let token = workbench.form_token();

    // The office's staff do not administer.
    let dispatcher = app.add_user("desk", Role::Dispatcher);
    let mut desk = Browser::new(&app);
    let desk_page = desk.sign_in(&dispatcher.username).await;
    assert!(!desk_page.html.contains("/admin/"));
    assert_eq!(desk.get("/admin/users").await.status, 403);
    let refused = desk
        .post(
            "/admin/units",
            &[
                ("csrf", &desk_page.form_token()),
                ("code", "x"),
                ("name", "某单位"),
                ("kind", "department"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);

    // A unit, then its rename and deactivation.
    let added = admin
        .post(
            "/admin/units",
            &[
                ("csrf", &token),
                ("code", "jiaoyu"),
                ("name", "教育局"),
                ("kind", "department"),
                ("parent_id", ""),
                ("sort_order", "3"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.html);
    let unit = app
        .db()
        .read(|c| store::units::find_by_code(c, "jiaoyu"))
        .unwrap()
        .expect("the unit is stored");
    assert_eq!((unit.name.as_str(), unit.sort_order), ("教育局", 3));
    let listed = admin.get(added.location.as_deref().unwrap()).await;
    assert!(
        listed.html.contains("<td data-label=\"名称\">教育局</td>"),
        "{}",
        listed.html
    );
    let taken = admin
        .post(
            "/admin/units",
            &[
                ("csrf", &token),
                ("code", "jiaoyu"),
                ("name", "另一个"),
                ("kind", "department"),
            ],
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.html);

    // A category under a new first-level one, suggesting the unit.
    let first = admin
        .post(
            "/admin/categories",
            &[
                ("csrf", &token),
                ("name", "教育"),
                ("parent_id", ""),
                ("default_unit_id", ""),
            ],
        )
        .await;
    assert_eq!(first.status, 303, "{}", first.html);
    let page = admin.get("/admin/categories").await;
    let parent_option = page
        .html
        .split("<option value=\"")
        .find(|o| o.contains("\">教育</option>"))
        .expect("the first level is offered as a parent");
    let parent_id = &parent_option[..36];
    let second = admin
        .post(
            "/admin/categories",
            &[
                ("csrf", &token),
                ("name", "招生入学"),
                ("parent_id", parent_id),
                ("default_unit_id", &unit.id.to_string()),
            ],
        )
        .await;
    assert_eq!(second.status, 303, "{}", second.html);
    let child = app
        .db()
        .read(|c| store::categories::find_by_full_name(c, "教育—招生入学"))
        .unwrap()
        .expect("the child is stored under its parent");
    assert_eq!(child.default_unit_id, Some(unit.id));
    let page = admin.get("/admin/categories?q=%E6%8B%9B%E7%94%9F").await;
    assert!(
        page.html
            .contains("<td data-label=\"建议承办单位\">教育局</td>"),
        "{}",
        page.html
    );

    // An account for the unit's handler, who must change the one-time password first.
    let users_before = app.count("users");
    let no_unit = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &token),
                ("username", "jy-li"),
                ("display_name", "李老师"),
                ("role", "unit_handler"),
                ("unit_id", ""),
                ("channel", ""),
                ("password", "first-pass-2026"),
            ],
        )
        .await;
    assert_eq!(no_unit.status, 422, "{}", no_unit.html);
    assert!(no_unit.html.contains("unit"), "{}", no_unit.html);
    assert_eq!(
        app.count("users"),
        users_before,
        "a refused form stores nothing"
    );
    let created = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &token),
                ("username", "jy-li"),
                ("display_name", "李老师"),
                ("role", "unit_handler"),
                ("unit_id", &unit.id.to_string()),
                ("channel", ""),
                ("password", "first-pass-2026"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.html);
    let mut handler = Browser::new(&app);
    let landed = handler
        .post(
            "/sign-in",
            &[("username", "jy-li"), ("password", "first-pass-2026")],
        )
        .await;
    assert_eq!(landed.status, 303, "{}", landed.html);
    assert_eq!(
        handler.get("/").await.location.as_deref(),
        Some("/password")
    );

    // Renaming the unit and switching it off; the form shows what it holds.
    let editing = admin.get(&format!("/admin/units?edit={}", unit.id)).await;
    assert_eq!(field_in(&editing.html, "sort_order").as_deref(), Some("3"));
    let changed = admin
        .post(
            &format!("/admin/units/{}", unit.id),
            &[
                ("csrf", &token),
                ("name", "教育体育局"),
                ("kind", "department"),
                ("parent_id", ""),
                ("sort_order", "3"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.html);
    let unit_now = app.db().read(|c| store::units::get(c, unit.id)).unwrap();
    assert_eq!(
        (unit_now.name.as_str(), unit_now.active),
        ("教育体育局", false)
    );

    // Switching the handler's account off ends it at once; the last administrator stays.
    let account = app
        .db()
        .read(|c| {
            store::users::list(
                c,
                &store::users::UserFilter {
                    q: Some("jy-li".into()),
                    ..Default::default()
                },
                None,
                1,
            )
        })
        .unwrap()
        .remove(0);
    let editing = admin
        .get(&format!("/admin/users?edit={}", account.id))
        .await;
    assert_eq!(
        field_in(&editing.html, "display_name").as_deref(),
        Some("李老师")
    );
    let off = admin
        .post(
            &format!("/admin/users/{}", account.id),
            &[
                ("csrf", &token),
                ("display_name", "李老师"),
                ("role", "unit_handler"),
                ("unit_id", &unit.id.to_string()),
                ("channel", ""),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(off.status, 303, "{}", off.html);
    assert!(
        !app.db()
            .read(|c| store::users::get(c, account.id))
            .unwrap()
            .active
    );
    assert_eq!(handler.get("/").await.location.as_deref(), Some("/sign-in"));
    let last = admin
        .post(
            &format!("/admin/users/{}", root.id),
            &[
                ("csrf", &token),
                ("display_name", "root"),
                ("role", "admin"),
                ("unit_id", ""),
                ("channel", ""),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(last.status, 409, "{}", last.html);
    assert!(
        app.db()
            .read(|c| store::users::get(c, root.id))
            .unwrap()
            .active
    );
    // Every change is in the audit log, as through the API.
    assert!(app.count("audit_log") >= 6);
    assert_eq!(admin.get("/admin/users?edit=nobody").await.status, 404);
}

#[actix_web::test]
async fn an_administrator_sets_the_calendar_and_the_sla_policy_from_the_console() {
    let app = spawn_app().await;
    let root = app.add_user("root", Role::Admin);
    let mut admin = Browser::new(&app);
    let token = admin.sign_in(&root.username).await.form_token();

    let year = admin.get("/admin/calendar?year=2027").await;
    assert_eq!(year.status, 200, "{}", year.html);
    assert!(year.html.contains("2027年工作日历"));
    let weekday_as_workday = admin
        .post(
            "/admin/calendar/2027",
            &[
                ("csrf", &token),
                ("holidays", "2027-10-01 国庆节"),
                ("workdays", "2027-09-27 国庆调休"),
            ],
        )
        .await;
    assert_eq!(
        weekday_as_workday.status, 422,
        "{}",
        weekday_as_workday.html
    );
    let not_a_date = admin
        .post(
            "/admin/calendar/2027",
            &[("csrf", &token), ("holidays", "10月1日"), ("workdays", "")],
        )
        .await;
    assert_eq!(not_a_date.status, 422);
    assert!(not_a_date.html.contains("line 1"), "{}", not_a_date.html);
    assert!(
        app.db()
            .read(|c| store::calendar::year(c, 2027))
            .unwrap()
            .is_empty()
    );
    let saved = admin
        .post(
            "/admin/calendar/2027",
            &[
                ("csrf", &token),
                ("holidays", "2027-10-01 国庆节\r\n2027-10-04\r\n"),
                ("workdays", "2027-09-26 国庆调休"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    let days = app.db().read(|c| store::calendar::year(c, 2027)).unwrap();
    assert_eq!(days.len(), 3);
    let page = admin.get("/admin/calendar?year=2027").await;
    assert!(
        page.html.contains("2027-09-26 周日 国庆调休"),
        "{}",
        page.html
    );

    let policy = admin.get("/admin/policy").await;
    assert_eq!(policy.status, 200, "{}", policy.html);
    assert!(policy.html.contains("内置默认规则"));
    assert_eq!(field_in(&policy.html, "max_returns").as_deref(), Some("3"));
    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", &token),
        ("max_callback_attempts", "3"),
        ("max_returns", "2"),
        ("refused_return_clock", "continues"),
        ("rule0_type", ""),
        ("rule0_priority", "normal"),
        ("rule0_sign_amount", "1"),
        ("rule0_sign_unit", "working_days"),
        ("rule0_reply_amount", "10"),
        ("rule0_reply_unit", "working_days"),
        ("rule1_type", "consult"),
        ("rule1_priority", "normal"),
        ("rule1_sign_amount", "4"),
        ("rule1_sign_unit", "working_hours"),
        ("rule1_reply_amount", "3"),
        ("rule1_reply_unit", "working_days"),
        ("rule2_type", ""),
        ("rule2_priority", "urgent"),
        ("rule2_sign_amount", "1"),
        ("rule2_sign_unit", "hours"),
        ("rule2_reply_amount", "24"),
        ("rule2_reply_unit", "hours"),
        ("rule3_type", ""),
        ("rule3_priority", "normal"),
        ("rule3_sign_amount", ""),
        ("rule3_reply_amount", ""),
        ("callback", "complaint"),
        ("callback", "help"),
    ];
    let named: Vec<(String, &str)> = [
        ("warn_before", "1", "working_days"),
        ("warn_before_urgent", "1", "hours"),
        ("supervise_after", "5", "working_days"),
        ("supervision_deadline", "3", "working_days"),
        ("reopen_within", "20", "working_days"),
    ]
    .into_iter()
    .flat_map(|(field, amount, unit)| {
        [
            (format!("{field}_amount"), amount),
            (format!("{field}_unit"), unit),
        ]
    })
    .collect();
    form.extend(named.iter().map(|(k, v)| (k.as_str(), *v)));
    let mut half = form.clone();
    half.retain(|(k, _)| *k != "rule1_reply_amount");
    let refused = admin.post("/admin/policy", &half).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert_eq!(app.db().read(store::policy::current).unwrap().version, None);

    let saved = admin.post("/admin/policy", &form).await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    let current = app.db().read(store::policy::current).unwrap();
    assert_eq!(current.version, Some(1));
    assert_eq!(current.policy.max_returns, 2);
    assert_eq!(current.policy.limits.len(), 3);
    let (limits, _) = current.policy.limits_for(
        hotline::domain::ticket::TicketType::Consult,
        hotline::domain::ticket::Priority::Normal,
    );
    assert_eq!(
        limits.sign,
        hotline::domain::calendar::Limit::WorkingHours(4)
    );
    assert_eq!(current.policy.callback_after_direct_answer.len(), 2);
    let shown = admin.get("/admin/policy").await;
    assert!(shown.html.contains("第 1 版"), "{}", shown.html);
    assert_eq!(
        field_in(&shown.html, "rule1_sign_amount").as_deref(),
        Some("4")
    );
}

#[actix_web::test]
async fn a_unit_forwards_a_ticket_to_its_own_sub_unit_from_the_page() {
    let world = world().await;
    let app = &world.app;
    let sub_unit = |code: &str, name: &str, parent| {
        app.db()
            .write(|c| {
                store::units::insert(
                    c,
                    &hotline::domain::directory::UnitDraft {
                        code: code.into(),
                        name: name.into(),
                        kind: hotline::domain::directory::UnitKind::Department,
                        parent_id: Some(parent),
                        sort_order: 0,
                    },
                    app.now(),
                )
            })
            .unwrap()
    };
    let township_office = sub_unit("a-station", "城关劳动保障所", world.unit_a.id);
    let id = world.complaint().await;
    world.dispatched(&id).await;
    world.signed(&id).await;
    let path = format!("/tickets/{id}");

    // A sub-unit under a unit since switched off is still the unit's own, as the API finds.
    let closed_office = sub_unit("a-old", "原劳动监察中队", world.unit_a.id);
    let below_closed = sub_unit("a-team", "劳动监察一组", closed_office.id);
    app.db()
        .write(|c| {
            store::units::update(
                c,
                closed_office.id,
                &hotline::domain::directory::UnitPatch {
                    active: Some(false),
                    ..Default::default()
                },
                app.now(),
            )
        })
        .unwrap();

    // The unit's page offers its active sub-units, and only them.
    app.add_user_in("field-b", Role::UnitHandler, Some(world.unit_b.id));
    app.add_user_in("field-a", Role::UnitHandler, Some(world.unit_a.id));
    let mut unit = Browser::new(app);
    unit.sign_in("field-a").await;
    let page = unit.get(&path).await;
    assert!(
        page.html.contains(&format!("action=\"{path}/forward\"")),
        "{}",
        page.html
    );
    assert!(page.html.contains(&format!(
        "<option value=\"{}\">城关劳动保障所</option>",
        township_office.id
    )));
    assert!(page.html.contains(&format!(
        "<option value=\"{}\">劳动监察一组</option>",
        below_closed.id
    )));
    assert!(!page.html.contains("原劳动监察中队"));
    let (token, version) = (page.form_token(), hidden(&page, "version"));

    // Only to a unit under its own.
    let sideways = unit
        .post(
            &format!("{path}/forward"),
            &[
                ("csrf", &token),
                ("version", &version),
                ("unit_id", &world.unit_b.id.to_string()),
            ],
        )
        .await;
    assert!(
        matches!(sideways.status, 409 | 422),
        "{}: {}",
        sideways.status,
        sideways.html
    );
    let forwarded = unit
        .post(
            &format!("{path}/forward"),
            &[
                ("csrf", &token),
                ("version", &version),
                ("unit_id", &township_office.id.to_string()),
                ("note", "请劳动保障所核实"),
            ],
        )
        .await;
    assert_eq!(forwarded.status, 303, "{}", forwarded.html);

    // The sub-unit's handler now finds it, and signs for it from the page.
    app.add_user_in("station", Role::UnitHandler, Some(township_office.id));
    let mut station = Browser::new(app);
    station.sign_in("station").await;
    let page = station.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("请劳动保障所核实"), "{}", page.html);
    assert!(
        page.html.contains(&format!("action=\"{path}/sign\"")),
        "{}",
        page.html
    );
    let mut other = Browser::new(app);
    other.sign_in("field-b").await;
    assert_eq!(other.get(&path).await.status, 404);
}

#[actix_web::test]
async fn an_administrator_keeps_webhooks_from_the_console() {
    let app = spawn_app().await;
    let root = app.add_user("root", Role::Admin);
    let mut admin = Browser::new(&app);
    let workbench = admin.sign_in(&root.username).await;
    assert!(workbench.html.contains("href=\"/admin/webhooks\""));
    let token = workbench.form_token();
    let dispatcher = app.add_user("desk", Role::Dispatcher);
    let mut desk = Browser::new(&app);
    desk.sign_in(&dispatcher.username).await;
    assert_eq!(desk.get("/admin/webhooks").await.status, 403);

    // A subscription to two kinds on one channel; its secret is on the page that made it.
    let made = admin
        .post(
            "/admin/webhooks",
            &[
                ("csrf", &token),
                ("url", "http://127.0.0.1:9/hooks"),
                ("description", "城市门户"),
                ("channel", "upper_platform"),
                ("kinds", "replied"),
                ("kinds", "closed"),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.html);
    assert!(made.html.contains("whsec_"), "{}", made.html);
    let subscription = app
        .db()
        .read(|c| store::webhooks::list(c, None))
        .unwrap()
        .pop()
        .expect("the subscription is stored");
    assert_eq!(subscription.kinds.len(), 2);
    assert_eq!(subscription.description, "城市门户");
    let listed = admin.get("/admin/webhooks").await;
    assert!(listed.html.contains("http://127.0.0.1:9/hooks"));
    assert!(
        listed
            .html
            .contains("<td data-label=\"事件\">答复、办结</td>"),
        "{}",
        listed.html
    );
    assert!(!listed.html.contains("whsec_"), "a secret is shown once");

    // A private address is refused with the page that says why.
    let refused = admin
        .post(
            "/admin/webhooks",
            &[("csrf", &token), ("url", "http://192.168.0.9/")],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.html);

    // Rotation, switching off and on, from the subscription's page.
    let page = format!("/admin/webhooks/{}", subscription.id);
    let rotated = admin
        .post(&format!("{page}/add-secret"), &[("csrf", &token)])
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.html);
    assert!(rotated.html.contains("whsec_"));
    let secrets = app
        .db()
        .read(|c| store::webhooks::secrets(c, subscription.id))
        .unwrap();
    assert_eq!(secrets.len(), 2);
    let removed = admin
        .post(
            &format!("{page}/remove-secret"),
            &[("csrf", &token), ("secret_id", &secrets[0].id.to_string())],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.html);
    let off = admin
        .post(&format!("{page}/disable"), &[("csrf", &token)])
        .await;
    assert_eq!(off.status, 303);
    let shown = admin.get(&page).await;
    assert!(shown.html.contains("停用"), "{}", shown.html);
    assert!(shown.html.contains("/enable"));
    let stored = app
        .db()
        .read(|c| store::webhooks::get(c, subscription.id))
        .unwrap();
    assert!(!stored.active());
    let forged = admin
        .post(&format!("{page}/enable"), &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    let gone = admin
        .post(&format!("{page}/delete"), &[("csrf", &token)])
        .await;
    assert_eq!(gone.status, 303);
    assert_eq!(admin.get(&page).await.status, 404);
}

#[actix_web::test]
async fn an_administrator_defines_channels_from_the_console_and_agents_take_calls_on_them() {
    let app = spawn_app().await;
    let root = app.add_user("root", Role::Admin);
    let mut admin = Browser::new(&app);
    let workbench = admin.sign_in(&root.username).await;
    assert!(workbench.html.contains("href=\"/admin/channels\""));
    let token = workbench.form_token();
    let page = admin.get("/admin/channels").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("<td data-label=\"渠道\">12345电话</td>"));

    let defined = admin
        .post(
            "/admin/channels",
            &[
                ("csrf", &token),
                ("active", "true"),
                ("code", "mayor_mailbox"),
                ("name", "市县长信箱"),
                ("kind", "mailbox"),
                ("bulletin_row", ""),
                ("sort_order", "55"),
                ("own_section", "true"),
            ],
        )
        .await;
    assert_eq!(defined.status, 303, "{}", defined.html);
    let stored = app
        .db()
        .read(|c| store::channels::find(c, "mayor_mailbox"))
        .unwrap()
        .expect("the channel is stored");
    assert_eq!(
        (
            stored.bulletin_row.as_str(),
            stored.own_section,
            stored.active
        ),
        ("市县长信箱", true, true)
    );
    // Its form sends the code and kind back; unchecking deactivates it.
    let edit = admin.get("/admin/channels?edit=mayor_mailbox").await;
    assert!(
        edit.html.contains("修改渠道 市县长信箱（mayor_mailbox）"),
        "{}",
        edit.html
    );
    let renamed = admin
        .post(
            "/admin/channels",
            &[
                ("csrf", &token),
                ("code", "mayor_mailbox"),
                ("kind", "mailbox"),
                ("name", "市长信箱"),
                ("bulletin_row", "领导信箱"),
                ("sort_order", "55"),
            ],
        )
        .await;
    assert_eq!(renamed.status, 303, "{}", renamed.html);
    let stored = app
        .db()
        .read(|c| store::channels::find(c, "mayor_mailbox"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            stored.name.as_str(),
            stored.bulletin_row.as_str(),
            stored.own_section,
            stored.active
        ),
        ("市长信箱", "领导信箱", false, false)
    );
    let other_kind = admin
        .post(
            "/admin/channels",
            &[
                ("csrf", &token),
                ("code", "mayor_mailbox"),
                ("kind", "web"),
                ("name", "市长信箱"),
            ],
        )
        .await;
    assert_eq!(other_kind.status, 422, "{}", other_kind.html);

    // The intake form offers the active channels alone.
    let desk = app.add_user("desk", Role::Agent);
    let mut agent = Browser::new(&app);
    agent.sign_in(&desk.username).await;
    let form = agent.get("/intake").await;
    assert!(form.html.contains("<option value=\"wechat\">微信</option>"));
    assert!(!form.html.contains("mayor_mailbox"), "{}", form.html);
}
