//! The provider block: its schema and turning it into a [`Ctx`]
//! (credentials, region, endpoints, the caller's account).

use std::collections::BTreeMap;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use gantry_iac::provider::{Attribute, Nesting, ProviderError, Schema};
use gantry_iac::value::{Type, Value};

use super::values::{attr, blocks, get_bool, get_int, get_str, get_string_map};
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

pub(super) async fn configure(cfg: &Value) -> Result<Ctx, ProviderError> {
    let cfg = if cfg.is_null() {
        super::values::null_object(&schema())
    } else {
        cfg.clone()
    };
    let profile = get_str(&cfg, "profile").map(str::to_owned);
    let static_keys = match (get_str(&cfg, "access_key"), get_str(&cfg, "secret_key")) {
        (Some(a), Some(s)) => Some(Credentials::new(
            a,
            s,
            get_str(&cfg, "token").map(str::to_owned),
            None,
            "provider block",
        )),
        (None, None) => None,
        (Some(_), None) => {
            return Err(config_error(
                "invalid provider configuration",
                "access_key is set but secret_key is not",
            )
            .at(path("secret_key")));
        }
        (None, Some(_)) => {
            return Err(config_error(
                "invalid provider configuration",
                "secret_key is set but access_key is not",
            )
            .at(path("access_key")));
        }
    };

    // The standard chain: environment, shared files and profiles, SSO,
    // web identity, ECS and (unless skipped) IMDS.
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = get_str(&cfg, "region") {
        loader = loader.region(aws_config::Region::new(r.to_owned()));
    }
    if get_bool(&cfg, "skip_metadata_api_check") == Some(true) && static_keys.is_none() {
        let chain = aws_config::meta::credentials::CredentialsProviderChain::first_try(
            "Environment",
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
        .or_else("Profile", {
            let mut b = aws_config::profile::ProfileFileCredentialsProvider::builder();
            if let Some(p) = &profile {
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
    let region = sdk.region().map(|r| r.as_ref().to_owned()).ok_or_else(|| {
        config_error(
            "invalid provider configuration",
            "the region is not set: add region to the provider block or set AWS_REGION",
        )
        .at(path("region"))
    })?;
    let source = match static_keys {
        Some(c) => CredentialSource::Static(c),
        None => match sdk.credentials_provider() {
            Some(p) => CredentialSource::Chain(SharedCredentialsProvider::new(p)),
            None => {
                return Err(config_error(
                    "no valid credential sources found",
                    "set access_key and secret_key, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile",
                ));
            }
        },
    };

    let mut settings = Settings::new(region.clone());
    settings.s3_use_path_style = get_bool(&cfg, "s3_use_path_style").unwrap_or(false);
    if let Some(n) = get_int(&cfg, "max_retries") {
        settings.max_retries = n.clamp(0, 25) as usize;
    }
    let mut endpoints = BTreeMap::new();
    for e in blocks(&cfg, "endpoints") {
        for svc in SERVICES {
            if let Some(url) = get_str(e, svc.key) {
                if reqwest::Url::parse(url).is_err() {
                    return Err(config_error(
                        "invalid provider configuration",
                        format!("endpoints.{}: {url:?} is not a URL", svc.key),
                    ));
                }
                endpoints.insert(svc.key.to_owned(), url.to_owned());
            }
        }
    }
    settings.endpoints = endpoints;
    let mut client = Client::new(settings, source)
        .map_err(|e| config_error("invalid provider configuration", e.to_string()))?;

    if let Some(ar) = blocks(&cfg, "assume_role").first()
        && let Some(role_arn) = get_str(ar, "role_arn")
    {
        let session = get_str(ar, "session_name").unwrap_or("gantry");
        let creds = sts::assume_role(&client, role_arn, session, get_str(ar, "external_id"))
            .await
            .map_err(|e| {
                config_error(
                    "cannot assume IAM role",
                    format!("{role_arn}: {}", error_chain(&e)),
                )
            })?;
        client = client.with_credentials(CredentialSource::Static(creds));
    }

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
    let _ = attr;
    Ok(ctx)
}
