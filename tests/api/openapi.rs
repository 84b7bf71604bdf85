//! `openapi.yaml` is the contract: its operations and the route table agree in both directions,
//! every operation is actually served, and answers have the shape the schemas give them.

use std::collections::BTreeSet;

use awc::http::Method;
use hotline::api::{ROUTES, ops::OPENAPI};
use hotline::domain::access::Role;
use serde_json::{Value, json};

use crate::helpers::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn spec() -> Value {
    serde_norway::from_str(OPENAPI).expect("openapi.yaml is YAML")
}

fn documented() -> BTreeSet<(String, String)> {
    spec()["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_string(), path.clone()))
        })
        .collect()
}

#[test]
fn routes_and_the_contract_agree_in_both_directions() {
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let documented = documented();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in openapi.yaml: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in openapi.yaml but not served: {unserved:?}"
    );
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref" {
                    into.push(inner.as_str().unwrap_or_default().to_owned());
                } else {
                    collect_refs(inner, into);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, into)),
        _ => {}
    }
}

fn resolve<'a>(spec: &'a Value, reference: &str) -> Option<&'a Value> {
    reference
        .strip_prefix("#/")?
        .split('/')
        .try_fold(spec, |node, part| node.get(part))
}

#[test]
fn every_reference_resolves_and_every_operation_is_complete() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut refs = Vec::new();
    collect_refs(&spec, &mut refs);
    for reference in &refs {
        assert!(
            resolve(&spec, reference).is_some(),
            "unresolved {reference}"
        );
    }
    let mut operation_ids = BTreeSet::new();
    for (method, path) in documented() {
        let operation = &spec["paths"][&path][&method];
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            operation_ids.insert(id.to_owned()),
            "duplicate operationId {id}"
        );
        assert!(
            operation["summary"].is_string(),
            "{method} {path} has no summary"
        );
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} has no success answer"
        );
        let public = operation
            .get("security")
            .is_some_and(|s| s.as_array().is_some_and(|a| a.is_empty()));
        if !public {
            assert!(
                responses.contains_key("401"),
                "{method} {path} does not document 401"
            );
        }
        if path.starts_with("/api/") {
            assert!(
                responses.contains_key("503"),
                "{method} {path} does not document 503"
            );
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
}

/// The contract states what the route table enforces: which routes are public, which take
/// query parameters (every other refuses any with 422), and that writes may meet a full disk.
#[test]
fn the_contract_states_what_each_route_enforces() {
    let spec = spec();
    for route in ROUTES {
        let item = &spec["paths"][route.path];
        let operation = &item[route.method];
        let what = format!("{} {}", route.method, route.path);
        let parameters: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .chain(operation.get("parameters").and_then(Value::as_array))
            .flatten()
            .map(|p| match p.get("$ref").and_then(Value::as_str) {
                Some(reference) => resolve(&spec, reference).unwrap().clone(),
                None => p.clone(),
            })
            .collect();
        let queries = parameters.iter().filter(|p| p["in"] == "query").count();
        assert_eq!(
            queries > 0,
            route.rule.query,
            "{what}: the route table and the contract disagree on query parameters"
        );
        let public = operation
            .get("security")
            .is_some_and(|s| s.as_array().is_some_and(|a| a.is_empty()));
        assert_eq!(
            public,
            route.rule.access == hotline::domain::access::Access::Public,
            "{what}: public in one and not the other"
        );
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.contains_key("422"),
            "{what}: every route refuses query parameters it does not take with 422"
        );
        if route.path.starts_with("/api/") && route.method != "get" {
            assert!(responses.contains_key("507"), "{what} writes: document 507");
        }
        // Refused roles, and accounts that must change their password first.
        if !matches!(
            route.rule.access,
            hotline::domain::access::Access::Public | hotline::domain::access::Access::Account
        ) {
            assert!(responses.contains_key("403"), "{what}: document 403");
        }
    }
}

#[actix_web::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app().await;
    for (method, path) in documented() {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{number}", "2611220001");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let answer = app.send(method.clone(), &concrete, None, &[], None).await;
        assert!(
            answer.code() != "route_not_found" && answer.status != 405,
            "{method} {path} is documented but not routed: {}",
            answer.text
        );
        assert!(answer.status < 500, "{method} {path}: {}", answer.text);
    }
}

/// Checks `value` against a schema of the contract: types, required properties, and no property
/// the schema does not name.
fn conforms(spec: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return conforms(spec, resolve(spec, reference).unwrap(), value, at);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        return options
            .iter()
            .find(|o| conforms(spec, o, value, at).is_ok())
            .map(|_| ())
            .ok_or_else(|| format!("{at}: {value} matches no option"));
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        // The parts together make one object: their properties and requirements add up.
        let mut merged = json!({"type": "object", "properties": {}, "required": []});
        for part in all {
            let part = match part.get("$ref").and_then(Value::as_str) {
                Some(reference) => resolve(spec, reference).unwrap(),
                None => part,
            };
            if let Some(properties) = part.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    merged["properties"][name] = property.clone();
                }
            }
            for required in part
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                merged["required"]
                    .as_array_mut()
                    .unwrap()
                    .push(required.clone());
            }
            if part.get("properties").is_none() {
                conforms(spec, part, value, at)?;
            }
        }
        if merged["properties"]
            .as_object()
            .is_some_and(|p| p.is_empty())
        {
            return Ok(());
        }
        return conforms(spec, &merged, value, at);
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let number_for_integer = actual == "integer" && types.contains(&"number");
    if !types.contains(&actual) && !number_for_integer {
        return Err(format!("{at}: {actual} where the contract says {types:?}"));
    }
    match value {
        Value::Object(map) if schema.get("properties").is_some() => {
            let properties = schema["properties"].as_object().unwrap();
            for key in map.keys() {
                if !properties.contains_key(key) {
                    return Err(format!("{at}.{key} is not in the contract"));
                }
            }
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !map.contains_key(required.as_str().unwrap()) {
                    return Err(format!(
                        "{at}.{required} is required by the contract but missing"
                    ));
                }
            }
            for (key, inner) in map {
                conforms(spec, &properties[key], inner, &format!("{at}.{key}"))?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            conforms(spec, &schema["items"], item, &format!("{at}[{i}]"))
        }),
        _ => Ok(()),
    }
}

pub fn assert_conforms(answer: &Answer, schema: &str) {
    if let Err(problem) = value_conforms(&answer.body, schema) {
        panic!("{problem}\n{}", answer.text);
    }
}

/// Whether `value` has the shape of the contract's schema named `schema`, and if not, where not.
pub fn value_conforms(value: &Value, schema: &str) -> Result<(), String> {
    let spec = spec();
    let schema = json!({"$ref": format!("#/components/schemas/{schema}")});
    conforms(&spec, &schema, value, schema["$ref"].as_str().unwrap())
}

#[actix_web::test]
async fn answers_have_the_documented_shape() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let (agent, token) = app.login(Role::Agent);
    let unit = app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "cgj", "name": "城市管理局", "kind": "department"}),
        )
        .await;
    assert_conforms(&unit, "Unit");
    assert_conforms(&app.get("/api/v1/units", &token).await, "UnitPage");
    let category = app
        .post("/api/v1/categories", &admin, &json!({"name": "城市管理"}))
        .await;
    assert_conforms(&category, "Category");
    assert_conforms(&app.get("/api/v1/categories", &token).await, "CategoryPage");
    assert_conforms(&app.get("/api/v1/users", &admin).await, "UserPage");
    assert_conforms(&app.get("/api/v1/auth/me", &token).await, "User");
    let ticket = app
        .register(&token, json!({"type": "complaint", "title": "t", "content": "c", "caller_name": "张三", "caller_phone": "13800000000", "address": "a", "latitude": 1.0, "longitude": 2.0}))
        .await;
    assert_conforms(&ticket, "Ticket");
    let id = ticket.body["id"].as_str().unwrap();
    app.dispatch(
        &token,
        id,
        uuid::Uuid::parse_str(unit.body["id"].as_str().unwrap()).unwrap(),
    )
    .await;
    assert_conforms(
        &app.get(&format!("/api/v1/tickets/{id}"), &token).await,
        "Ticket",
    );
    assert_conforms(&app.get("/api/v1/tickets", &token).await, "TicketPage");
    assert_conforms(
        &app.get(&format!("/api/v1/tickets/{id}/events"), &token)
            .await,
        "EventPage",
    );
    assert_conforms(
        &app.get(&format!("/api/v1/tickets/{id}/caller"), &token)
            .await,
        "CallerIdentity",
    );
    let problem = app
        .register(&token, json!({"type": "help", "title": "", "content": "c"}))
        .await;
    assert_conforms(&problem, "Problem");
    let signed_in = app
        .send(
            Method::POST,
            "/api/v1/auth/token",
            None,
            &[],
            Some(&json!({"username": agent.username, "password": PASSWORD})),
        )
        .await;
    assert_conforms(&signed_in, "Token");
}
