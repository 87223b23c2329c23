//! The provider block: its schema and turning it into a [`Ctx`]
//! (credentials, region, endpoints, the caller's account).

use std::collections::BTreeMap;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::values::{blocks, get_bool, get_int, get_str, get_string_map};
use super::{Ctx, block, path};
use crate::client::{Client, CredentialSource, SERVICES, Settings, error_chain};
use crate::service::sts;

pub(super) fn schema() -> Schema {
    let s = || Attribute::optional(Type::String);
    let b = || Attribute::optional(Type::Bool);
    let mut endpoints = Schema::new();
    for svc in SERVICES {
        endpoints = endpoints.attr(svc.key, s());
    }
    Schema::new()
        .attr(
            "region",
            s().describe("the AWS region (else AWS_REGION or the profile's)"),
        )
        .attr("profile", s().describe("the shared config profile"))
        .attr("access_key", s())
        .attr("secret_key", s().sensitive())
        .attr("token", s().sensitive())
        .attr("max_retries", Attribute::optional(Type::Number))
        .attr("s3_use_path_style", b())
        .attr("skip_credentials_validation", b())
        .attr("skip_requesting_account_id", b())
        .attr("skip_metadata_api_check", b())
        .attr("skip_region_validation", b())
        .block(
            "assume_role",
            block(
                Nesting::List,
                Schema::new()
                    .attr("role_arn", s())
                    .attr("session_name", s())
                    .attr("external_id", s()),
                0,
                Some(1),
            ),
        )
        .block("endpoints", block(Nesting::List, endpoints, 0, None))
        .block(
            "default_tags",
            block(
                Nesting::List,
                Schema::new().attr("tags", Attribute::optional(Type::map(Type::String))),
                0,
                Some(1),
            ),
        )
}

fn config_error(summary: &str, detail: impl Into<String>) -> ProviderError {
    ProviderError::new(summary).with_detail(detail)
}

/// What a client is built from: the provider block's (or the s3
/// backend's) credential, region and endpoint settings.
#[derive(Default)]
pub(crate) struct ClientOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub skip_metadata_api_check: bool,
    pub max_retries: Option<i64>,
    pub use_path_style: bool,
    /// Endpoint URLs by service key, checked to be URLs.
    pub endpoints: BTreeMap<String, String>,
    /// `(role_arn, session_name, external_id)`.
    pub assume_role: Option<(String, Option<String>, Option<String>)>,
}

/// A client error before any resource: (summary, detail, attribute).
pub(crate) type ConfigError = (&'static str, String, Option<&'static str>);

/// Builds a client: credentials from static keys or the standard chain
/// (environment, shared files and profiles, SSO, web identity, ECS and,
/// unless skipped, IMDS), the region, endpoints, and an assumed role.
pub(crate) async fn build_client(o: &ClientOptions) -> Result<Client, ConfigError> {
    const INVALID: &str = "invalid provider configuration";
    let static_keys = match (&o.access_key, &o.secret_key) {
        (Some(a), Some(s)) => Some(Credentials::new(a, s, o.token.clone(), None, "static keys")),
        (None, None) => None,
        (Some(_), None) => {
            return Err((
                INVALID,
                "access_key is set but secret_key is not".into(),
                Some("secret_key"),
            ));
        }
        (None, Some(_)) => {
            return Err((
                INVALID,
                "secret_key is set but access_key is not".into(),
                Some("access_key"),
            ));
        }
    };
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &o.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &o.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if o.skip_metadata_api_check && static_keys.is_none() {
        let chain = aws_config::meta::credentials::CredentialsProviderChain::first_try(
            "Environment",
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .or_else("Profile", {
            let mut b = aws_config::profile::ProfileFileCredentialsProvider::builder();
            if let Some(p) = &o.profile {
                b = b.profile_name(p);
            }
            b.build()
        })
        .or_else(
            "WebIdentityToken",
            aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder().build(),
        );
        loader = loader.credentials_provider(chain);
    }
    let sdk = loader.load().await;
    let region = sdk.region().map(|r| r.as_ref().to_owned()).ok_or((
        INVALID,
        "the region is not set: add region to the configuration or set AWS_REGION".to_owned(),
        Some("region"),
    ))?;
    let source = match static_keys {
        Some(c) => CredentialSource::Static(c),
        None => match sdk.credentials_provider() {
            Some(p) => CredentialSource::Chain(SharedCredentialsProvider::new(p)),
            None => {
                return Err((
                    "no valid credential sources found",
                    "set access_key and secret_key, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile".into(),
                    None,
                ));
            }
        },
    };
    let mut settings = Settings::new(region);
    settings.s3_use_path_style = o.use_path_style;
    if let Some(n) = o.max_retries {
        settings.max_retries = n.clamp(0, 25) as usize;
    }
    for (key, url) in &o.endpoints {
        if !SERVICES.iter().any(|s| s.key == key) {
            return Err((
                INVALID,
                format!("endpoints.{key}: unknown service"),
                Some("endpoints"),
            ));
        }
        if reqwest::Url::parse(url).is_err() {
            return Err((
                INVALID,
                format!("endpoints.{key}: {url:?} is not a URL"),
                Some("endpoints"),
            ));
        }
    }
    settings.endpoints = o.endpoints.clone();
    let mut client = Client::new(settings, source).map_err(|e| (INVALID, e.to_string(), None))?;
    if let Some((role_arn, session, external_id)) = &o.assume_role {
        let session = session.as_deref().unwrap_or("gantry");
        let creds = sts::assume_role(&client, role_arn, session, external_id.as_deref())
            .await
            .map_err(|e| {
                (
                    "cannot assume IAM role",
                    format!("{role_arn}: {}", error_chain(&e)),
                    None,
                )
            })?;
        client = client.with_credentials(CredentialSource::Static(creds));
    }
    Ok(client)
}

pub(super) async fn configure(cfg: &Value) -> Result<Ctx, ProviderError> {
    let cfg = if cfg.is_null() {
        super::values::null_object(&schema())
    } else {
        cfg.clone()
    };
    let owned = |k: &str| get_str(&cfg, k).map(str::to_owned);
    let mut endpoints = BTreeMap::new();
    for e in blocks(&cfg, "endpoints") {
        for svc in SERVICES {
            if let Some(url) = get_str(e, svc.key) {
                endpoints.insert(svc.key.to_owned(), url.to_owned());
            }
        }
    }
    let assume_role = blocks(&cfg, "assume_role").first().and_then(|ar| {
        Some((
            get_str(ar, "role_arn")?.to_owned(),
            get_str(ar, "session_name").map(str::to_owned),
            get_str(ar, "external_id").map(str::to_owned),
        ))
    });
    let opts = ClientOptions {
        profile: owned("profile"),
        region: owned("region"),
        access_key: owned("access_key"),
        secret_key: owned("secret_key"),
        token: owned("token"),
        skip_metadata_api_check: get_bool(&cfg, "skip_metadata_api_check") == Some(true),
        max_retries: get_int(&cfg, "max_retries"),
        use_path_style: get_bool(&cfg, "s3_use_path_style").unwrap_or(false),
        endpoints,
        assume_role,
    };
    let client = build_client(&opts).await.map_err(|(summary, detail, at)| {
        let e = config_error(summary, detail);
        match at {
            Some(a) => e.at(path(a)),
            None => e,
        }
    })?;
    let region = client.region().to_owned();

    let skip_validation = get_bool(&cfg, "skip_credentials_validation") == Some(true);
    let skip_account = get_bool(&cfg, "skip_requesting_account_id") == Some(true);
    let mut ctx = Ctx {
        client,
        region,
        account_id: String::new(),
        caller_arn: String::new(),
        caller_user_id: String::new(),
        default_tags: BTreeMap::new(),
    };
    if !(skip_validation && skip_account) {
        let id = sts::get_caller_identity(&ctx.client)
            .await
            .map_err(|e| config_error("retrieving caller identity from STS", e.to_string()))?;
        if !skip_account {
            ctx.account_id = id.account;
            ctx.caller_arn = id.arn;
            ctx.caller_user_id = id.user_id;
        }
    }
    if let Some(dt) = blocks(&cfg, "default_tags").first() {
        ctx.default_tags = get_string_map(dt, "tags")?;
    }
    Ok(ctx)
}
