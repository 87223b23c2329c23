//! Bearer tokens, session cookies and the per-route role check.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use gantry_core::{Id, Role, Timestamp};
use gantry_store::{ApiToken, NewToken};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Prefix of every Gantry API token, so secret scanners can recognise one.
pub const TOKEN_PREFIX: &str = "gantry_";
/// The dashboard's session cookie; it carries the token itself.
pub const SESSION_COOKIE: &str = "gantry_session";

/// A freshly generated token: 256 random bits, hex-encoded behind the prefix.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// What the store keeps instead of the token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Creates a token in the store and returns the secret (shown once) with its record.
pub async fn issue_token(
    store: &dyn gantry_store::Store,
    name: &str,
    role: Role,
) -> Result<(String, ApiToken), gantry_store::StoreError> {
    let secret = generate_token();
    let record = store
        .create_token(NewToken {
            name: name.to_string(),
            role,
            user_id: None,
            hash: hash_token(&secret),
        })
        .await?;
    Ok((secret, record))
}

/// Who is calling, once authenticated.
#[derive(Clone, Debug)]
pub struct Caller {
    pub token_id: Id,
    pub name: String,
    pub role: Role,
}

impl Caller {
    /// How events this caller writes name their actor.
    pub fn actor(&self) -> String {
        format!("token:{}", self.name)
    }
}

/// Which callers a route admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, authenticated or not.
    Public,
    /// Callers holding at least this role.
    AtLeast(Role),
}

/// Remembers when each token's last use was recorded, so a busy client
/// costs one store write a minute, not one per request.
#[derive(Default)]
pub struct TouchThrottle(Mutex<HashMap<Id, Instant>>);

const TOUCH_EVERY: Duration = Duration::from_secs(60);

impl TouchThrottle {
    fn due(&self, id: Id) -> bool {
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&id) {
            Some(last) if now.duration_since(*last) < TOUCH_EVERY => false,
            _ => {
                map.insert(id, now);
                true
            }
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == SESSION_COOKIE).then_some(v)
        })
}

/// The credential a request presents: a bearer token, or — for reads only,
/// so a cross-site form can never act with it — the dashboard's cookie.
fn credential<'a>(method: &Method, headers: &'a HeaderMap) -> Option<&'a str> {
    bearer(headers).or_else(|| {
        (method == Method::GET || method == Method::HEAD)
            .then(|| session_cookie(headers))
            .flatten()
    })
}

/// Tokens the store vouched for within the last [`TOKEN_CACHE_TTL`], by
/// hash, so a busy client costs one store read per interval instead of one
/// per request. Unknown and revoked tokens are never cached, and revoking a
/// token clears the cache. Only the embedded store is fronted by it: that
/// store belongs to this one process, so every revocation passes here.
/// With PostgreSQL a token revoked through one replica must stop working on
/// the others at once, so each request reads the store.
#[derive(Default)]
pub struct TokenCache(Mutex<CachedTokens>);

#[derive(Default)]
struct CachedTokens {
    by_hash: HashMap<[u8; 32], (ApiToken, Instant)>,
    /// Bumped by every clear: a store read that began before a revocation
    /// must not put its answer in the cache after it.
    generation: u64,
}

pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);
/// Entries kept before the cache starts over.
const TOKEN_CACHE_MAX: usize = 4096;

impl TokenCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CachedTokens> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached token, or the generation to pass to [`TokenCache::put`].
    fn get(&self, hash: &[u8; 32]) -> Result<ApiToken, u64> {
        let c = self.lock();
        c.by_hash
            .get(hash)
            .filter(|(_, at)| at.elapsed() < TOKEN_CACHE_TTL)
            .map(|(t, _)| t.clone())
            .ok_or(c.generation)
    }

    /// Caches what the store said, unless the cache was cleared since
    /// `generation` was read.
    fn put(&self, hash: [u8; 32], token: ApiToken, generation: u64) {
        let mut c = self.lock();
        if c.generation != generation {
            return;
        }
        if c.by_hash.len() >= TOKEN_CACHE_MAX {
            c.by_hash.clear();
        }
        c.by_hash.insert(hash, (token, Instant::now()));
    }

    /// Forgets every entry: after a revocation, every token is read again.
    pub fn clear(&self) {
        let mut c = self.lock();
        c.by_hash.clear();
        c.generation += 1;
    }
}

/// Looks a token up by its hash; revoked and unknown tokens are rejected the
/// same way, so the answer reveals nothing about which tokens exist.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    let hash = hash_token(token);
    let cache = (state.store.backend() == "sqlite").then_some(&state.tokens);
    let cached = cache.map(|c| c.get(&hash));
    let t = match cached {
        Some(Ok(t)) => t,
        _ => {
            let record = state.store.token_by_hash(&hash).await?;
            let Some(t) = record.filter(ApiToken::is_active) else {
                return Err(ApiError::unauthorized("invalid or revoked token"));
            };
            if let (Some(c), Some(Err(generation))) = (cache, cached) {
                c.put(hash, t.clone(), generation);
            }
            t
        }
    };
    if state.touch.due(t.id)
        && let Err(e) = state.store.touch_token(t.id, Timestamp::now()).await
    {
        tracing::warn!(error = %e, "could not record token use");
    }
    Ok(Caller {
        token_id: t.id,
        name: t.name,
        role: t.role,
    })
}

/// Middleware: enforces `access` and puts `Option<Caller>` into the
/// request's extensions for handlers.
pub async fn authorize(
    State((state, access)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented = credential(req.method(), req.headers()).map(str::to_owned);
    let caller = match (presented, access) {
        (None, Access::Public) => None,
        (Some(token), Access::Public) => authenticate(&state, &token).await.ok(),
        (None, Access::AtLeast(_)) => {
            return Err(ApiError::unauthorized(
                "missing credentials: send `Authorization: Bearer <token>`",
            ));
        }
        (Some(token), Access::AtLeast(required)) => {
            let caller = authenticate(&state, &token).await?;
            if !caller.role.allows(required) {
                return Err(ApiError::forbidden(format!(
                    "this needs the {required} role; the token has {}",
                    caller.role
                )));
            }
            Some(caller)
        }
    };
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_cache_expires_and_never_keeps_a_read_older_than_a_clear() {
        let cache = TokenCache::default();
        let token = ApiToken {
            id: Id::new(),
            name: "t".into(),
            role: Role::Viewer,
            user_id: None,
            created_at: Timestamp::now(),
            last_used_at: None,
            revoked_at: None,
        };
        let generation = cache.get(&[1; 32]).unwrap_err();
        cache.put([1; 32], token.clone(), generation);
        assert_eq!(cache.get(&[1; 32]), Ok(token.clone()));
        // A read that began before a revocation's clear is not cached.
        let before = cache.get(&[2; 32]).unwrap_err();
        cache.clear();
        assert!(cache.get(&[1; 32]).is_err());
        cache.put([2; 32], token.clone(), before);
        assert!(cache.get(&[2; 32]).is_err());
        // Entries older than the interval are read again.
        let generation = cache.get(&[3; 32]).unwrap_err();
        cache.put([3; 32], token, generation);
        cache.lock().by_hash.get_mut(&[3; 32]).unwrap().1 -= TOKEN_CACHE_TTL;
        assert!(cache.get(&[3; 32]).is_err());
    }

    #[test]
    fn tokens_are_256_bit_hex_with_prefix() {
        let t = generate_token();
        let hex_part = t.strip_prefix(TOKEN_PREFIX).unwrap();
        assert_eq!(hex_part.len(), 64);
        assert!(hex_part.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(t, generate_token());
        assert_eq!(hash_token(&t), hash_token(&t));
        assert_ne!(hash_token(&t), hash_token(&generate_token()));
    }

    #[test]
    fn credentials_come_from_bearer_or_cookie_on_reads() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=b; gantry_session=tok1".parse().unwrap());
        assert_eq!(credential(&Method::GET, &h), Some("tok1"));
        assert_eq!(credential(&Method::POST, &h), None);
        h.insert(header::AUTHORIZATION, "bearer tok2".parse().unwrap());
        assert_eq!(credential(&Method::POST, &h), Some("tok2"));
        assert_eq!(credential(&Method::GET, &h), Some("tok2"));
        let mut basic = HeaderMap::new();
        basic.insert(header::AUTHORIZATION, "Basic Zm9vOmJhcg==".parse().unwrap());
        assert_eq!(credential(&Method::GET, &basic), None);
    }
}
