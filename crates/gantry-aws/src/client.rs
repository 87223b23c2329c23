//! The signing HTTP client every service call goes through: endpoint
//! resolution, SigV4 signing, retries with jittered back-off, and the
//! translation of AWS error documents into [`Error::Api`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use backon::{ExponentialBuilder, Retryable};

use crate::error::Error;
use crate::xml;

/// One AWS service as the client needs to know it.
#[derive(Debug, PartialEq, Eq)]
pub struct Service {
    /// The key in the provider's `endpoints` block (`s3`, `iam`).
    pub key: &'static str,
    /// The SigV4 signing name.
    pub signing_name: &'static str,
    /// The host prefix of the default endpoint.
    pub endpoint_prefix: &'static str,
    /// The suffix of `AWS_ENDPOINT_URL_<SERVICE>`.
    pub env: &'static str,
    /// Served from one global endpoint (IAM), signed for the partition's
    /// home region.
    pub global: bool,
}

macro_rules! service {
    ($name:ident, $key:literal, $sign:literal, $prefix:literal, $env:literal, $global:literal) => {
        pub const $name: Service = Service {
            key: $key,
            signing_name: $sign,
            endpoint_prefix: $prefix,
            env: $env,
            global: $global,
        };
    };
}

service!(S3, "s3", "s3", "s3", "S3", false);
service!(SQS, "sqs", "sqs", "sqs", "SQS", false);
service!(IAM, "iam", "iam", "iam", "IAM", true);
service!(STS, "sts", "sts", "sts", "STS", false);
service!(EC2, "ec2", "ec2", "ec2", "EC2", false);
service!(
    DYNAMODB, "dynamodb", "dynamodb", "dynamodb", "DYNAMODB", false
);
service!(KMS, "kms", "kms", "kms", "KMS", false);
service!(SSM, "ssm", "ssm", "ssm", "SSM", false);
service!(LOGS, "logs", "logs", "logs", "CLOUDWATCH_LOGS", false);
service!(ECR, "ecr", "ecr", "api.ecr", "ECR", false);
service!(SNS, "sns", "sns", "sns", "SNS", false);
service!(
    CLOUDWATCH,
    "cloudwatch",
    "monitoring",
    "monitoring",
    "CLOUDWATCH",
    false
);
service!(LAMBDA, "lambda", "lambda", "lambda", "LAMBDA", false);
service!(ROUTE53, "route53", "route53", "route53", "ROUTE_53", true);
service!(
    CLOUDTRAIL,
    "cloudtrail",
    "cloudtrail",
    "cloudtrail",
    "CLOUDTRAIL",
    false
);
// S3 Control is signed as `s3`; its requests carry the account id as a
// host prefix ([`Request::host_prefix`]).
service!(
    S3CONTROL,
    "s3control",
    "s3",
    "s3-control",
    "S3_CONTROL",
    false
);

/// Every service the provider's `endpoints` block accepts. (CloudTrail and
/// S3 Control are only read by the posture checks, which take endpoint
/// overrides through [`Settings::endpoints`] directly.)
pub const SERVICES: &[&Service] = &[
    &S3,
    &SQS,
    &IAM,
    &STS,
    &EC2,
    &DYNAMODB,
    &KMS,
    &SSM,
    &LOGS,
    &ECR,
    &SNS,
    &CLOUDWATCH,
    &LAMBDA,
    &ROUTE53,
];

/// The AWS partition a region belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub id: &'static str,
    pub dns_suffix: &'static str,
    /// Where global services are signed.
    pub global_region: &'static str,
}

impl Partition {
    pub fn of(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition {
                id: "aws-cn",
                dns_suffix: "amazonaws.com.cn",
                global_region: "cn-north-1",
            }
        } else if region.starts_with("us-gov-") {
            Partition {
                id: "aws-us-gov",
                dns_suffix: "amazonaws.com",
                global_region: "us-gov-west-1",
            }
        } else {
            Partition {
                id: "aws",
                dns_suffix: "amazonaws.com",
                global_region: "us-east-1",
            }
        }
    }
}

/// Where credentials come from.
#[derive(Clone, Debug)]
pub enum CredentialSource {
    Static(Credentials),
    /// A provider from aws-config's chain; asked again when what it gave
    /// is about to expire.
    Chain(SharedCredentialsProvider),
}

impl CredentialSource {
    /// Fixed keys (as a provider block's `access_key`/`secret_key`).
    pub fn static_keys(access_key: &str, secret_key: &str) -> CredentialSource {
        CredentialSource::Static(Credentials::new(
            access_key, secret_key, None, None, "static",
        ))
    }
}

/// What a [`Client`] is built from.
#[derive(Clone, Debug)]
pub struct Settings {
    pub region: String,
    /// Endpoint overrides by service key (the provider's `endpoints`).
    pub endpoints: BTreeMap<String, String>,
    pub s3_use_path_style: bool,
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// Environment lookups (`AWS_ENDPOINT_URL*`); injectable for tests.
    pub env: fn(&str) -> Option<String>,
}

impl Settings {
    pub fn new(region: impl Into<String>) -> Settings {
        Settings {
            region: region.into(),
            endpoints: BTreeMap::new(),
            s3_use_path_style: false,
            max_retries: 5,
            env: |k| std::env::var(k).ok().filter(|v| !v.is_empty()),
        }
    }
}

impl Settings {
    /// Settings and credentials from aws-config's standard chain: the
    /// environment, shared config and credentials files (`profile`, else
    /// `AWS_PROFILE`), SSO, web identity, ECS and instance metadata; the
    /// region from `region`, else the chain (`AWS_REGION`, the profile).
    pub async fn from_standard_chain(
        profile: Option<&str>,
        region: Option<&str>,
    ) -> Result<(Settings, CredentialSource), Error> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r.to_owned()));
        }
        let sdk = loader.load().await;
        let region = sdk.region().map(|r| r.as_ref().to_owned()).ok_or_else(|| {
            Error::Credentials(
                "the region is not set: pass a region, set AWS_REGION or configure one in the profile"
                    .into(),
            )
        })?;
        let provider = sdk.credentials_provider().ok_or_else(|| {
            Error::Credentials(
                "no credential source found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile"
                    .into(),
            )
        })?;
        Ok((
            Settings::new(region),
            CredentialSource::Chain(SharedCredentialsProvider::new(provider)),
        ))
    }
}

/// One request before signing.
#[derive(Debug, Clone)]
pub struct Request {
    /// The operation name, for errors (`CreateBucket`).
    pub operation: &'static str,
    pub service: &'static Service,
    pub method: reqwest::Method,
    /// S3: the bucket, addressed by host or by path.
    pub bucket: Option<String>,
    /// Prepended to the endpoint's host (`123456789012.` for S3 Control),
    /// except when the host is an IP address or `localhost` (an emulator).
    pub host_prefix: Option<String>,
    /// The URI path after the endpoint (and bucket), already encoded;
    /// empty means `/`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(
        operation: &'static str,
        service: &'static Service,
        method: reqwest::Method,
    ) -> Self {
        Request {
            operation,
            service,
            method,
            bucket: None,
            host_prefix: None,
            path: String::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_owned(), v.into()));
        self
    }

    pub fn query(mut self, k: &str, v: impl Into<String>) -> Self {
        self.query.push((k.to_owned(), v.into()));
        self
    }

    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.body = b.into();
        self
    }
}

/// A successful response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The signing client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    settings: Settings,
    partition: Partition,
    source: CredentialSource,
    cached: tokio::sync::Mutex<Option<Credentials>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("region", &self.inner.settings.region)
            .finish_non_exhaustive()
    }
}

/// Percent-encodes as SigV4 wants: everything but `A-Za-z0-9-_.~`
/// (and `/` when `keep_slash`).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Client {
    pub fn new(settings: Settings, source: CredentialSource) -> Result<Client, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| Error::Credentials(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                partition: Partition::of(&settings.region),
                settings,
                source,
                cached: tokio::sync::Mutex::new(None),
            }),
        })
    }

    pub fn region(&self) -> &str {
        &self.inner.settings.region
    }

    pub fn partition(&self) -> &Partition {
        &self.inner.partition
    }

    /// The same client with other credentials (after `assume_role`).
    pub fn with_credentials(&self, source: CredentialSource) -> Client {
        Client {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                settings: self.inner.settings.clone(),
                partition: self.inner.partition.clone(),
                source,
                cached: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The endpoint of a service: the provider's `endpoints` entry, else
    /// `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, else AWS's.
    pub fn endpoint(&self, svc: &Service) -> String {
        let s = &self.inner.settings;
        if let Some(e) = s.endpoints.get(svc.key).filter(|e| !e.is_empty()) {
            return e.trim_end_matches('/').to_owned();
        }
        if let Some(e) = (s.env)(&format!("AWS_ENDPOINT_URL_{}", svc.env)) {
            return e.trim_end_matches('/').to_owned();
        }
        if let Some(e) = (s.env)("AWS_ENDPOINT_URL") {
            return e.trim_end_matches('/').to_owned();
        }
        let p = &self.inner.partition;
        if svc.global {
            return match p.id {
                "aws" => format!("https://{}.{}", svc.endpoint_prefix, p.dns_suffix),
                _ => format!(
                    "https://{}.{}.{}",
                    svc.endpoint_prefix, p.global_region, p.dns_suffix
                ),
            };
        }
        format!(
            "https://{}.{}.{}",
            svc.endpoint_prefix, s.region, p.dns_suffix
        )
    }

    /// The region requests to `svc` are signed for.
    fn signing_region(&self, svc: &Service) -> &str {
        if svc.global {
            self.inner.partition.global_region
        } else {
            &self.inner.settings.region
        }
    }

    /// The full URL of a request (without the query).
    pub fn url(&self, req: &Request) -> Result<reqwest::Url, Error> {
        let base = self.endpoint(req.service);
        let bad = |m: String| Error::Request {
            operation: req.operation.to_owned(),
            message: m,
        };
        let mut url = reqwest::Url::parse(&base)
            .map_err(|e| bad(format!("invalid endpoint {base:?}: {e}")))?;
        let Some(host) = url.host_str().map(str::to_owned) else {
            return Err(bad(format!("endpoint {base:?} has no host")));
        };
        let mut path = url.path().trim_end_matches('/').to_owned();
        let literal_host = host.parse::<std::net::IpAddr>().is_ok()
            || host.starts_with('[')
            || host == "localhost";
        if let Some(prefix) = req.host_prefix.as_deref().filter(|_| !literal_host) {
            url.set_host(Some(&format!("{prefix}{host}")))
                .map_err(|e| bad(format!("invalid host prefix {prefix:?}: {e}")))?;
        }
        if let Some(bucket) = &req.bucket {
            let path_style =
                self.inner.settings.s3_use_path_style || bucket.contains('.') || literal_host;
            if path_style {
                path.push('/');
                path.push_str(&uri_encode(bucket, false));
            } else {
                url.set_host(Some(&format!("{bucket}.{host}")))
                    .map_err(|e| bad(format!("invalid bucket host: {e}")))?;
            }
        }
        path.push_str(&req.path);
        if path.is_empty() {
            path.push('/');
        }
        url.set_path(&path);
        Ok(url)
    }

    async fn credentials(&self) -> Result<Credentials, Error> {
        match &self.inner.source {
            CredentialSource::Static(c) => Ok(c.clone()),
            CredentialSource::Chain(p) => {
                let mut cached = self.inner.cached.lock().await;
                if let Some(c) = cached.as_ref() {
                    let fresh = c.expiry().is_none_or(|t| {
                        t.duration_since(SystemTime::now())
                            .is_ok_and(|left| left > Duration::from_secs(300))
                    });
                    if fresh {
                        return Ok(c.clone());
                    }
                }
                let c = p
                    .provide_credentials()
                    .await
                    .map_err(|e| Error::Credentials(error_chain(&e)))?;
                *cached = Some(c.clone());
                Ok(c)
            }
        }
    }

    /// Sends a request, retrying throttling, 5xx and transport errors with
    /// jittered exponential back-off. A non-2xx answer is an
    /// [`Error::Api`].
    pub async fn send(&self, req: &Request) -> Result<Response, Error> {
        let backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(20))
            .with_max_times(self.inner.settings.max_retries);
        (|| self.attempt(req))
            .retry(backoff)
            .when(Error::is_retryable)
            .notify(|e, d| tracing::debug!(error = %e, delay = ?d, "retrying aws request"))
            .await
    }

    async fn attempt(&self, req: &Request) -> Result<Response, Error> {
        let op = req.operation;
        let mut url = self.url(req)?;
        if !req.query.is_empty() {
            let q: Vec<String> = req
                .query
                .iter()
                .map(|(k, v)| {
                    if v.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()) {
                        uri_encode(k, false)
                    } else {
                        format!("{}={}", uri_encode(k, false), uri_encode(v, false))
                    }
                })
                .collect();
            url.set_query(Some(&q.join("&")));
        }
        let creds = self.credentials().await?;
        let identity = creds.into();
        let mut settings = SigningSettings::default();
        if req.service.signing_name == "s3" {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.signing_region(req.service))
            .name(req.service.signing_name)
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| Error::Request {
                operation: op.to_owned(),
                message: format!("signing parameters: {e}"),
            })?
            .into();
        let signable = SignableRequest::new(
            req.method.as_str(),
            url.as_str(),
            req.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(&req.body),
        )
        .map_err(|e| Error::Request {
            operation: op.to_owned(),
            message: format!("cannot sign: {e}"),
        })?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| Error::Request {
                operation: op.to_owned(),
                message: format!("cannot sign: {e}"),
            })?
            .into_parts();
        let mut rb = self.inner.http.request(req.method.clone(), url);
        for (k, v) in &req.headers {
            rb = rb.header(k, v);
        }
        for (k, v) in instructions.headers() {
            rb = rb.header(k, v);
        }
        let resp = rb
            .body(req.body.clone())
            .send()
            .await
            .map_err(|e| Error::Transport {
                operation: op.to_owned(),
                message: error_chain(&e),
            })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| Error::Transport {
            operation: op.to_owned(),
            message: error_chain(&e),
        })?;
        if (200..300).contains(&status) {
            return Ok(Response {
                status,
                headers,
                body: body.to_vec(),
            });
        }
        Err(api_error(op, status, &headers, &body))
    }
}

/// An error and its sources, joined with ": ".
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        let m = x.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = x.source();
    }
    s
}

/// Reads the error out of a failed response, whichever protocol produced
/// it: JSON (`__type`/`code`, `message`), the query protocols' and S3's
/// XML (`Code`, `Message`, `RequestId`), or only a status (HEAD requests).
pub(crate) fn api_error(
    operation: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> Error {
    let hdr = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut request_id = hdr("x-amzn-requestid")
        .or_else(|| hdr("x-amz-request-id"))
        .or_else(|| hdr("x-amzn-request-id"));
    let mut code = None;
    let mut message = None;
    // JSON protocols answering for a query-compatible service put the
    // query error code here (`AWS.SimpleQueueService.NonExistentQueue;Sender`).
    if let Some(q) = hdr("x-amzn-query-error") {
        code = q.split(';').next().map(str::to_owned);
    }
    if let Some(t) = hdr("x-amzn-errortype") {
        code.get_or_insert_with(|| clean_code(&t));
    }
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        if let Ok(j) = serde_json::from_slice::<serde_json::Value>(trimmed) {
            let field = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| j.get(*n).and_then(|v| v.as_str()).map(str::to_owned))
            };
            if code.is_none() {
                code = field(&["__type", "code", "Code"]).map(|c| clean_code(&c));
            }
            message = field(&["message", "Message", "errorMessage"]);
        }
    } else if trimmed.starts_with(b"<")
        && let Ok(doc) = xml::parse(trimmed)
    {
        if code.is_none() {
            code = doc.find("Code").map(|e| e.text.clone());
        }
        message = doc.find("Message").map(|e| e.text.clone());
        if request_id.is_none() {
            request_id = doc
                .find("RequestId")
                .or_else(|| doc.find("RequestID"))
                .map(|e| e.text.clone());
        }
    }
    let code = code.filter(|c| !c.is_empty()).unwrap_or_else(|| {
        match status {
            301 => "PermanentRedirect",
            304 => "NotModified",
            400 => "BadRequest",
            403 => "Forbidden",
            404 => "NotFound",
            409 => "Conflict",
            412 => "PreconditionFailed",
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            _ => "UnknownError",
        }
        .to_owned()
    });
    let message = message
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("http status {status}"));
    Error::Api {
        operation: operation.to_owned(),
        status,
        code,
        message,
        request_id,
    }
}

/// `com.amazonaws.sqs#QueueDoesNotExist` and `X:http://...` → the code.
fn clean_code(c: &str) -> String {
    let c = c.split(':').next().unwrap_or(c);
    c.rsplit('#').next().unwrap_or(c).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(env: fn(&str) -> Option<String>) -> Client {
        let mut s = Settings::new("eu-west-1");
        s.env = env;
        Client::new(
            s,
            CredentialSource::Static(Credentials::new("a", "b", None, None, "test")),
        )
        .unwrap()
    }

    #[test]
    fn endpoints_resolve_in_order() {
        let c = client(|_| None);
        assert_eq!(c.endpoint(&S3), "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(c.endpoint(&IAM), "https://iam.amazonaws.com");
        let c = client(|k| (k == "AWS_ENDPOINT_URL").then(|| "http://x:1/".to_owned()));
        assert_eq!(c.endpoint(&SQS), "http://x:1");
        let c = client(|k| match k {
            "AWS_ENDPOINT_URL_SQS" => Some("http://sqs:2".into()),
            "AWS_ENDPOINT_URL" => Some("http://x:1".into()),
            _ => None,
        });
        assert_eq!(c.endpoint(&SQS), "http://sqs:2");
        assert_eq!(c.endpoint(&S3), "http://x:1");
        let mut s = Settings::new("cn-north-1");
        s.env = |_| None;
        s.endpoints.insert("sqs".into(), "http://p:3".into());
        let c = Client::new(
            s,
            CredentialSource::Static(Credentials::new("a", "b", None, None, "t")),
        )
        .unwrap();
        assert_eq!(c.endpoint(&SQS), "http://p:3");
        assert_eq!(c.endpoint(&IAM), "https://iam.cn-north-1.amazonaws.com.cn");
    }

    #[test]
    fn buckets_address_by_host_unless_path_style() {
        let c = client(|_| None);
        let mut r = Request::new("GetBucketTagging", &S3, reqwest::Method::GET);
        r.bucket = Some("b1".into());
        assert_eq!(
            c.url(&r).unwrap().as_str(),
            "https://b1.s3.eu-west-1.amazonaws.com/"
        );
        let c = client(|_| Some("http://127.0.0.1:5000".into()));
        assert_eq!(c.url(&r).unwrap().as_str(), "http://127.0.0.1:5000/b1");
    }

    #[test]
    fn errors_from_each_protocol() {
        let h = reqwest::header::HeaderMap::new();
        let e = api_error(
            "GetRole",
            404,
            &h,
            b"<ErrorResponse><Error><Code>NoSuchEntity</Code><Message>gone</Message></Error><RequestId>r1</RequestId></ErrorResponse>",
        );
        assert_eq!(e.to_string(), "GetRole: NoSuchEntity: gone (request id r1)");
        let e = api_error(
            "GetQueueUrl",
            400,
            &h,
            br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"nope"}"#,
        );
        assert_eq!(e.code(), Some("QueueDoesNotExist"));
        let e = api_error("HeadBucket", 404, &h, b"");
        assert_eq!(e.code(), Some("NotFound"));
        assert!(!e.is_retryable());
        let e = api_error("X", 400, &h, b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>");
        assert!(e.is_retryable());
    }

    #[test]
    fn host_prefix_applies_to_named_hosts_only() {
        let c = client(|_| None);
        let mut r = Request::new("GetPublicAccessBlock", &S3CONTROL, reqwest::Method::GET);
        r.host_prefix = Some("123456789012.".into());
        r.path = "/v20180820/configuration/publicAccessBlock".into();
        assert_eq!(
            c.url(&r).unwrap().as_str(),
            "https://123456789012.s3-control.eu-west-1.amazonaws.com/v20180820/configuration/publicAccessBlock"
        );
        let c = client(|_| Some("http://127.0.0.1:5000".into()));
        assert_eq!(
            c.url(&r).unwrap().as_str(),
            "http://127.0.0.1:5000/v20180820/configuration/publicAccessBlock"
        );
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(uri_encode("a b/c~", false), "a%20b%2Fc~");
        assert_eq!(uri_encode("a b/c", true), "a%20b/c");
    }
}
