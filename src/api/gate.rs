//! What every request passes before its handler runs, in this order: who is calling (401), may
//! they call this route (403), do its path segments name anything (404), and does it send only
//! the query parameters the route takes (422). Deciding all of this before any extractor reads
//! the body means a bad token is always a 401, whatever else is wrong with the request.

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::Admitted;
use super::AppState;
use crate::domain::access::Access;
use crate::domain::problem::ProblemCode;
use crate::domain::validation::{CONTROL_CHARACTERS, ValidationErrors, has_control_characters};
use crate::error::ApiError;

/// One route's rule, from the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub access: Access,
    /// Whether the route reads query parameters; every other route refuses them.
    pub query: bool,
}

pub async fn gate(
    rule: Rule,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match admit(rule, &req).await {
        Ok(Some(user)) => {
            req.extensions_mut().insert(Admitted(user));
        }
        Ok(None) => {}
        Err(refusal) => return Ok(req.error_response(refusal)),
    }
    next.call(req).await
}

async fn admit(
    rule: Rule,
    req: &ServiceRequest,
) -> Result<Option<crate::domain::directory::User>, ApiError> {
    let user = match rule.access {
        Access::Public => None,
        access => {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("the application state is not configured"))?;
            let user = super::authenticate(state, req.headers()).await?;
            if access != Access::Account {
                super::refuse_pending_password_change(&user)?;
            }
            if !access.admits(user.attachment.role) {
                return Err(ApiError::forbidden(
                    ProblemCode::Forbidden,
                    format!("the role `{}` may not do this", user.attachment.role),
                ));
            }
            Some(user)
        }
    };
    for (name, value) in req.match_info().iter() {
        if has_control_characters(value) {
            return Err(ApiError::not_found(format!(
                "no {} matches a name with control characters",
                name.trim_end_matches("_id")
            )));
        }
    }
    check_query(rule.query, req.query_string())?;
    Ok(user)
}

/// A route without query parameters refuses any; one with them refuses control characters in
/// their values (which of its parameters exist is its own extractor's business).
fn check_query(takes_query: bool, query: &str) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if !takes_query {
            errors.add(
                name.as_ref(),
                "is not a parameter of this route, which takes none",
            );
        } else if has_control_characters(&value) || has_control_characters(&name) {
            errors.add(
                name.replace(|c: char| c.is_control(), ""),
                CONTROL_CHARACTERS,
            );
        }
    }
    Ok(errors.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_refused_where_a_route_takes_none() {
        assert!(check_query(false, "").is_ok());
        let refused = check_query(false, "dry_run=true&x=1").unwrap_err();
        assert_eq!(refused.status().as_u16(), 422);
        assert!(refused.to_string().contains("dry_run"), "{refused}");
        assert!(check_query(true, "q=%E5%99%AA&limit=5").is_ok());
        let control = check_query(true, "q=a%00b").unwrap_err();
        assert_eq!(control.status().as_u16(), 422);
        assert!(control.to_string().contains("q:"), "{control}");
        assert!(check_query(true, "q=a%09b").is_ok(), "a tab is text");
    }
}
