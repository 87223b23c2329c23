//! `/api/v1/tokens` and `/api/v1/whoami`.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use gantry_core::{EventKind, Id, NewEvent, Role};
use gantry_store::ApiToken;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Caller, issue_token};
use crate::error::ApiError;
use crate::extract::ApiJson;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    pub role: Role,
}

#[derive(Serialize)]
pub struct CreatedToken {
    /// The secret: returned by this response only, never stored or shown again.
    pub token: String,
    #[serde(flatten)]
    pub record: ApiToken,
}

fn caller_of(caller: Option<Caller>) -> Result<Caller, ApiError> {
    caller.ok_or_else(|| ApiError::unauthorized("missing credentials"))
}

/// Records an access change in the event log (the audit trail).
async fn audit(
    state: &AppState,
    kind: &str,
    subject: String,
    caller: &Caller,
    data: serde_json::Value,
) {
    let event = EventKind::new(kind).map(|k| NewEvent::new(k, subject, caller.actor(), data));
    let result = match event {
        Ok(e) => state.store.append(vec![e]).await.map(|_| ()),
        Err(e) => Err(gantry_store::StoreError::Invalid(e.to_string())),
    };
    if let Err(e) = result {
        tracing::error!(error = %e, kind, "could not record audit event");
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Option<Caller>>,
    ApiJson(req): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let caller = caller_of(caller)?;
    let name = req.name.trim();
    if name.is_empty() || name.len() > 128 {
        return Err(ApiError::bad_request("name: expected 1 to 128 characters"));
    }
    let (token, record) = issue_token(state.store.as_ref(), name, req.role).await?;
    audit(
        &state,
        "access.token.created",
        format!("token/{}", record.id),
        &caller,
        serde_json::json!({ "name": record.name, "role": record.role }),
    )
    .await;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, record })))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let tokens = state.store.list_tokens().await?;
    Ok(Json(serde_json::json!({ "tokens": tokens })))
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Option<Caller>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = caller_of(caller)?;
    let id: Id = id
        .parse()
        .map_err(|e| ApiError::bad_request(format!("{e}")))?;
    if !state.store.revoke_token(id).await? {
        return Err(ApiError::not_found(format!("no active token with id {id}")));
    }
    state.tokens.clear();
    audit(
        &state,
        "access.token.revoked",
        format!("token/{id}"),
        &caller,
        serde_json::json!({}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn whoami(
    Extension(caller): Extension<Option<Caller>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = caller_of(caller)?;
    Ok(Json(serde_json::json!({
        "token_id": caller.token_id,
        "name": caller.name,
        "role": caller.role,
    })))
}
