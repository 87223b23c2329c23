//! `/api/v1/events`: list, append and follow the event log.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use gantry_core::{Event, EventKind, MAX_SUBJECT_LEN, NewEvent};
use gantry_store::{EventQuery, MAX_PAGE, Order};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiQuery, RawJson, parse_json};

/// Most events one POST may carry.
pub const MAX_BATCH: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub limit: Option<u32>,
    pub order: Option<Order>,
}

impl ListParams {
    fn into_query(self) -> Result<EventQuery, ApiError> {
        if let Some(kind) = &self.kind {
            let exact = kind.strip_suffix(".*").unwrap_or(kind);
            // A prefix pattern may name a single segment (`alert.*`).
            let probe = if kind.ends_with(".*") {
                format!("{exact}.x")
            } else {
                exact.to_string()
            };
            EventKind::new(probe).map_err(|e| ApiError::bad_request(format!("kind: {e}")))?;
        }
        if let Some(limit) = self.limit
            && !(1..=MAX_PAGE).contains(&limit)
        {
            return Err(ApiError::bad_request(format!(
                "limit must be between 1 and {MAX_PAGE}"
            )));
        }
        Ok(EventQuery {
            after: self.after,
            before: self.before,
            kind: self.kind,
            subject: self.subject,
            limit: self.limit.unwrap_or(100),
            order: self.order.unwrap_or_default(),
        })
    }
}

#[derive(Serialize)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass as `after` (ascending) or `before` (descending) for the next page;
    /// null when this page is empty.
    pub next_cursor: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<EventPage>, ApiError> {
    let query = params.into_query()?;
    let events = state.store.list(&query).await?;
    let next_cursor = events.last().map(|e| e.seq);
    Ok(Json(EventPage {
        events,
        next_cursor,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn {
    kind: EventKind,
    subject: String,
    #[serde(default = "empty_object")]
    data: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchIn {
    events: Vec<EventIn>,
}

impl EventIn {
    fn into_new(self, actor: &str, index: Option<usize>) -> Result<NewEvent, ApiError> {
        let at = index.map_or(String::new(), |i| format!("events[{i}].")) + "subject";
        if self.subject.is_empty() {
            return Err(ApiError::bad_request(format!("{at}: must not be empty")));
        }
        if self.subject.len() > MAX_SUBJECT_LEN {
            return Err(ApiError::bad_request(format!(
                "{at}: longer than {MAX_SUBJECT_LEN} bytes"
            )));
        }
        Ok(NewEvent::new(self.kind, self.subject, actor, self.data))
    }
}

/// `POST /api/v1/events`: one event `{"kind","subject","data"}` answered with
/// the stored event, or `{"events": [...]}` (appended atomically) answered
/// with `{"events": [...]}`. The actor is the calling token, never the body.
pub async fn append(
    State(state): State<AppState>,
    Extension(caller): Extension<Option<Caller>>,
    RawJson(body): RawJson,
) -> Result<Response, ApiError> {
    let caller = caller.ok_or_else(|| ApiError::unauthorized("missing credentials"))?;
    let actor = caller.actor();
    let shape: serde_json::Value = parse_json(&body)?;
    let is_batch = shape.get("events").is_some();
    // The typed parse reads the original bytes again, so type errors carry
    // their line and column.
    let (new, batch) = if is_batch {
        let batch: BatchIn = parse_json(&body)?;
        if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
            return Err(ApiError::bad_request(format!(
                "events: expected 1 to {MAX_BATCH} events"
            )));
        }
        let new = batch
            .events
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.into_new(&actor, Some(i)))
            .collect::<Result<Vec<_>, _>>()?;
        (new, true)
    } else {
        let one: EventIn = parse_json(&body)?;
        (vec![one.into_new(&actor, None)?], false)
    };
    let stored = state.store.append(new).await?;
    state.metrics.events_appended.inc_by(stored.len() as u64);
    let resp = if batch {
        (
            StatusCode::CREATED,
            Json(serde_json::json!({ "events": stored })),
        )
            .into_response()
    } else {
        let one = stored
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::internal("the store returned no event"))?;
        (StatusCode::CREATED, Json(one)).into_response()
    };
    Ok(resp)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    pub after: Option<i64>,
    pub kind: Option<String>,
    pub subject: Option<String>,
}

/// `GET /api/v1/events/stream`: Server-Sent Events, one per log event, with
/// `id:` set to its seq. Resumes after `Last-Event-ID` (or `?after=`); with
/// neither, starts with events committed from now on.
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| ApiError::bad_request("Last-Event-ID must be an event seq"))
        })
        .transpose()?;
    let after = match last_event_id.or(params.after) {
        Some(seq) => seq,
        None => state.store.last_seq().await?,
    };
    let query = ListParams {
        after: Some(after),
        before: None,
        kind: params.kind,
        subject: params.subject,
        limit: Some(MAX_PAGE),
        order: None,
    }
    .into_query()?;
    let shutdown = state.shutdown.clone();
    let events = gantry_store::follow(state.store.clone(), query)
        .take_until(async move {
            let mut shutdown = shutdown;
            // Resolves when shutdown begins (or the sender is gone).
            let _ = shutdown.wait_for(|stopping| *stopping).await;
        })
        .take_while(|item| {
            if let Err(e) = item {
                tracing::warn!(error = %e, "event stream ended");
            }
            std::future::ready(item.is_ok())
        })
        .filter_map(|item| std::future::ready(item.ok()))
        .map(|event| {
            let data = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
            Ok(SseEvent::default().id(event.seq.to_string()).data(data))
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
