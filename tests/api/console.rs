//! The console's sessions over HTTP, as a browser holds them: signing in and out, the forced
//! password change, the forms' tokens, the pages' protections, and what each role's workbench
//! counts.

use std::sync::Arc;

use chrono::TimeDelta;
use hotline::domain::access::Role;
use hotline::domain::clock::{Clock, ManualClock};
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

    // Deactivating the account ends its sessions at once.
    assert_eq!(browser.sign_in(&user.username).await.status, 200);
    let changes = store::users::UserChanges {
        active: Some(false),
        ..Default::default()
    };
    app.db()
        .write(|c| store::users::update(c, user.id, &changes, clock.now()))
        .unwrap();
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
