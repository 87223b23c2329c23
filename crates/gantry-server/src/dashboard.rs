//! The web dashboard: server-rendered pages, live over SSE.

use askama::Template;
use axum::Extension;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use gantry_core::Event;
use gantry_store::{EventQuery, Order};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Caller, SESSION_COOKIE, authenticate};
use crate::error::ApiError;

/// Scripts and styles come only from this server; nothing inline runs.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const RECENT: u32 = 50;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    site_name: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    site_name: Option<String>,
    site_description: Option<String>,
    caller_name: String,
    caller_role: String,
    backend: &'static str,
    last_seq: i64,
    events: Vec<Event>,
}

fn page(status: StatusCode, t: &impl Template) -> Result<Response, ApiError> {
    let html = t
        .render()
        .map_err(|e| ApiError::internal(format!("rendering failed: {e}")))?;
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn site_name(state: &AppState) -> Option<String> {
    state.site_name.as_deref().map(str::to_owned)
}

/// `GET /`: the activity feed for a signed-in caller, else the sign-in form.
pub async fn index(
    State(state): State<AppState>,
    Extension(caller): Extension<Option<Caller>>,
) -> Result<Response, ApiError> {
    let Some(caller) = caller else {
        return page(
            StatusCode::OK,
            &LoginPage {
                site_name: site_name(&state),
                error: None,
            },
        );
    };
    let events = state
        .store
        .list(&EventQuery {
            limit: RECENT,
            order: Order::Desc,
            ..EventQuery::default()
        })
        .await?;
    let last_seq = match events.first() {
        Some(e) => e.seq,
        None => state.store.last_seq().await?,
    };
    page(
        StatusCode::OK,
        &DashboardPage {
            site_name: site_name(&state),
            site_description: state.site_description.as_deref().map(str::to_owned),
            caller_name: caller.name,
            caller_role: caller.role.to_string(),
            backend: state.store.backend(),
            last_seq,
            events,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /login`: checks the token and keeps it in an HttpOnly, SameSite=Strict
/// cookie, which the server accepts for reads only.
pub async fn login(
    State(state): State<AppState>,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let token = form.token.trim();
    if authenticate(&state, token).await.is_err() {
        return page(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                site_name: site_name(&state),
                error: Some("That token is not valid or has been revoked.".into()),
            },
        );
    }
    let cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200");
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie)
            .map_err(|_| ApiError::bad_request("token has invalid characters"))?,
    );
    Ok(resp)
}

/// `POST /logout`: forgets the session cookie.
pub async fn logout() -> Response {
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("gantry_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    resp
}

pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/dashboard.js"),
    )
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/dashboard.css"),
    )
}
