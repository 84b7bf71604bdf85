//! The console: the pages agents, dispatchers, unit handlers, supervisors and admins do their
//! day in, served by the service itself in Chinese. Pages are rendered on the server from
//! templates checked when the service is compiled; the stylesheet is part of the binary and
//! nothing is loaded from another site. What a page shows and what its forms do is decided where
//! the API decides it: by the role's permissions ([`crate::domain::access`]) and the API's own
//! functions, never by the page.

mod actions;
mod admin;
mod articles;
mod intake;
mod office;
mod pages;
mod session;
mod tickets;
mod webhooks;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError, web};
use askama::Template;

use crate::api::AppState;
use crate::domain::directory::User;
use crate::error::ApiError;

pub use session::check_form_token;

/// Every console route: the pages, their forms, and the stylesheet.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let page = |path: &'static str| {
        web::resource(path)
            .app_data(form_refusal())
            .app_data(query_refusal())
            .wrap(from_fn(protect))
    };
    cfg.service(page("/").route(web::get().to(pages::workbench)))
        .service(
            page("/sign-in")
                .route(web::get().to(session::sign_in_page))
                .route(web::post().to(session::sign_in)),
        )
        .service(page("/sign-out").route(web::post().to(session::sign_out)))
        .service(
            page("/password")
                .route(web::get().to(session::password_page))
                .route(web::post().to(session::change_password)),
        )
        .service(
            page("/intake")
                .route(web::get().to(intake::form))
                .route(web::post().to(intake::register)),
        )
        .service(page("/intake/caller-history").route(web::post().to(intake::caller_history)))
        .service(page("/intake/duplicates").route(web::get().to(intake::duplicates)))
        .service(page("/intake/articles").route(web::get().to(intake::articles)))
        .service(page("/notifications").route(web::get().to(office::notifications)))
        .service(page("/notifications/read-all").route(web::post().to(office::read_all)))
        .service(page("/supervisions").route(web::get().to(office::supervisions)))
        .service(page("/articles").route(web::get().to(articles::articles)))
        .service(page("/articles/{id}/{action}").route(web::post().to(articles::upkeep)))
        .service(page("/figures").route(web::get().to(office::figures)))
        .service(page("/bulletins").route(web::get().to(office::bulletins)))
        .service(page("/bulletins/{month}").route(web::get().to(office::bulletin_document)))
        .service(page("/bulletins/{month}/publish").route(web::post().to(office::publish)))
        .service(page("/tickets/{id}").route(web::get().to(tickets::ticket)))
        .service(page("/tickets/{id}/files/{file}").route(web::get().to(tickets::file)))
        .service(
            page("/tickets/{id}/{action:reply|opinion}")
                .route(web::post().to(actions::perform_with_files)),
        )
        .service(page("/tickets/{id}/{action}").route(web::post().to(actions::perform)))
        .service(
            page("/admin/users")
                .route(web::get().to(admin::users))
                .route(web::post().to(admin::add_user)),
        )
        .service(page("/admin/users/{id}").route(web::post().to(admin::change_user)))
        .service(
            page("/admin/units")
                .route(web::get().to(admin::units))
                .route(web::post().to(admin::add_unit)),
        )
        .service(page("/admin/units/{id}").route(web::post().to(admin::change_unit)))
        .service(
            page("/admin/categories")
                .route(web::get().to(admin::categories))
                .route(web::post().to(admin::add_category)),
        )
        .service(page("/admin/categories/{id}").route(web::post().to(admin::change_category)))
        .service(
            page("/admin/channels")
                .route(web::get().to(admin::channels))
                .route(web::post().to(admin::define_channel)),
        )
        .service(page("/admin/calendar").route(web::get().to(admin::calendar)))
        .service(page("/admin/calendar/{year}").route(web::post().to(admin::replace_year)))
        .service(
            page("/admin/policy")
                .route(web::get().to(admin::policy))
                .route(web::post().to(admin::replace_policy)),
        )
        .service(
            page("/admin/webhooks")
                .route(web::get().to(webhooks::webhooks))
                .route(web::post().to(webhooks::add)),
        )
        .service(page("/admin/webhooks/{id}").route(web::get().to(webhooks::webhook)))
        .service(page("/admin/webhooks/{id}/{action}").route(web::post().to(webhooks::act)))
        .service(page("/assets/console.css").route(web::get().to(stylesheet)))
        .service(page("/assets/htmx.min.js").route(web::get().to(script)));
}

/// A form body that cannot be read (not the form's encoding, a field repeated where one is
/// read, too large) is answered with the console's problem page, as any refusal is.
fn form_refusal() -> web::FormConfig {
    web::FormConfig::default().error_handler(|error, _| {
        ConsoleError::Api(ApiError::bad_request(
            crate::domain::problem::ProblemCode::UnreadableBody,
            format!("the form could not be read: {error}"),
        ))
        .into()
    })
}

/// A query string that cannot be read is answered the same way.
fn query_refusal() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        ConsoleError::Api(ApiError::invalid_field(
            "query",
            format!("could not be read: {error}"),
        ))
        .into()
    })
}

/// What a browser is told about every console answer: run no script and load nothing that is
/// not the service's own, in no frame, send forms only here, and keep no copy of a page.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

async fn protect(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    // A document that brings its own policy (the bulletin, its stylesheet inline) keeps it.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    for (name, value) in [
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ] {
        headers.insert(name, value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

const STYLESHEET: &str = include_str!("../../assets/console.css");

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "max-age=3600"))
        .body(STYLESHEET)
}

/// htmx 2.0.11 (`dist/htmx.min.js` of the npm package, SHA-256 d6fdc75f…b4000f717): the
/// panels beside a form fill themselves as it is typed in. Its inline indicator style is turned
/// off by the layout's `htmx-config`, and nothing it would evaluate is used, so the policy above
/// holds.
const SCRIPT: &str = include_str!("../../assets/htmx.min.js");

async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "max-age=86400"))
        .body(SCRIPT)
}

/// The signed-in person a page is shown to.
pub struct Person {
    pub name: String,
    pub role: &'static str,
    /// The session's token, which every form of the page carries back.
    pub form_token: String,
    /// The pages the bar links for this person's role.
    pub links: Vec<(&'static str, &'static str)>,
}

/// The pages a role's bar links, each where its permission admits the role.
fn links_of(role: crate::domain::access::Role) -> Vec<(&'static str, &'static str)> {
    use crate::domain::access::Permission;
    [
        (Permission::RegisterTicket, "/intake", "登记来电"),
        (Permission::ReadNotifications, "/notifications", "通知"),
        (Permission::ReadSupervisions, "/supervisions", "督办"),
        (Permission::ReadKnowledge, "/articles", "知识库"),
        (Permission::ReadAssessment, "/figures", "考核数据"),
        (Permission::ReadAssessment, "/bulletins", "通报"),
        (Permission::ManageUsers, "/admin/users", "用户"),
        (Permission::ManageDirectory, "/admin/units", "单位"),
        (Permission::ManageDirectory, "/admin/categories", "事项分类"),
        (Permission::ManageDirectory, "/admin/channels", "受理渠道"),
        (Permission::ManageDeadlines, "/admin/calendar", "工作日历"),
        (Permission::ManageDeadlines, "/admin/policy", "办理时限"),
        (Permission::ManageWebhooks, "/admin/webhooks", "事件推送"),
    ]
    .into_iter()
    .filter(|(permission, _, _)| role.may(*permission))
    .filter(|(_, path, _)| {
        !(role == crate::domain::access::Role::Integration && *path == "/intake")
    })
    .map(|(_, path, label)| (path, label))
    .collect()
}

impl Person {
    pub fn of(user: &User, form_token: &str) -> Self {
        Person {
            name: user.display_name.clone(),
            role: crate::reports::labels::role(user.attachment.role),
            form_token: form_token.to_owned(),
            links: links_of(user.attachment.role),
        }
    }
}

/// What every page shows around its content.
pub struct Chrome {
    pub hotline_name: String,
    pub person: Option<Person>,
}

impl Chrome {
    pub fn of(state: &AppState, person: Person) -> Self {
        Chrome {
            hotline_name: state.hotline_name.clone(),
            person: Some(person),
        }
    }

    pub fn anonymous(state: &AppState) -> Self {
        Chrome {
            hotline_name: state.hotline_name.clone(),
            person: None,
        }
    }
}

/// A page, rendered, as the answer of `status`.
pub fn render(
    mut status: HttpResponseBuilder,
    page: &impl Template,
) -> Result<HttpResponse, ConsoleError> {
    let html = page
        .render()
        .map_err(|e| ConsoleError::Api(ApiError::internal(format!("rendering a page: {e}"))))?;
    Ok(status.content_type("text/html; charset=utf-8").body(html))
}

/// Why a page is not shown.
#[derive(Debug)]
pub enum ConsoleError {
    /// No session, or it ended: to the sign-in page.
    SignIn,
    /// The password must be changed first.
    ChangePassword,
    /// What the API would answer, as a page: its status and headers (a `Retry-After` among
    /// them), its reason in words.
    Api(ApiError),
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        ConsoleError::Api(error)
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsoleError::SignIn => f.write_str("not signed in"),
            ConsoleError::ChangePassword => f.write_str("the password must be changed first"),
            ConsoleError::Api(error) => error.fmt(f),
        }
    }
}

#[derive(Template)]
#[template(path = "console/problem.html")]
struct ProblemPage<'a> {
    chrome: Chrome,
    title: &'a str,
    detail: &'a str,
}

/// What a page that cannot be shown says, by the status of the reason.
fn problem_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        403 => "无权进行此操作",
        404 => "未找到",
        409 | 412 => "工单已有新的变化，请刷新页面后重试",
        413 => "文件过大",
        415 | 422 | 400 => "提交的内容有误",
        429 => "操作过于频繁，请稍后再试",
        503 => "服务暂时不可用，请稍后再试",
        507 => "存储空间不足，请联系管理员",
        _ => "出现错误",
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn | ConsoleError::ChangePassword => StatusCode::SEE_OTHER,
            ConsoleError::Api(error) => error.status(),
        }
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let to = |target: &'static str| {
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish()
        };
        match self {
            ConsoleError::SignIn => to("/sign-in"),
            ConsoleError::ChangePassword => to("/password"),
            ConsoleError::Api(error) => {
                // Logged as the API logs it; the page replaces the problem document.
                let logged = error.error_response();
                // A form's version is not an If-Match header: a page older than its ticket is
                // a conflict, told in the page's words alone.
                let (status, detail) = match error.status() {
                    StatusCode::PRECONDITION_FAILED => (StatusCode::CONFLICT, String::new()),
                    status if status.is_server_error() => (status, String::new()),
                    status => (status, error.detail().to_owned()),
                };
                let page = ProblemPage {
                    chrome: Chrome {
                        hotline_name: "政务服务便民热线".to_owned(),
                        person: None,
                    },
                    title: problem_title(status),
                    detail: &detail,
                };
                let mut answer = HttpResponse::build(status);
                for (name, value) in logged.headers() {
                    if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                        answer.insert_header((name.clone(), value.clone()));
                    }
                }
                answer.content_type("text/html; charset=utf-8").body(
                    page.render()
                        .unwrap_or_else(|_| problem_title(status).to_owned()),
                )
            }
        }
    }
}
