//! Every built-in rule has a true-positive and a false-positive sample.
//!
//! Samples are templates expanded at run time (`ghp_{A36}` → `ghp_` and 36
//! pseudo-random alphanumerics), so no credential-shaped string is stored
//! in this repository and GitHub push protection has nothing to flag.

use std::collections::HashSet;

use gantry_scan::secrets::{Rules, Scanner};

/// splitmix64: a small deterministic generator for sample tokens.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick(&mut self, alphabet: &[u8]) -> char {
        alphabet[(self.next() % alphabet.len() as u64) as usize] as char
    }
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

fn alphabet(class: char) -> Vec<u8> {
    let digits = b"0123456789".to_vec();
    let cat = |parts: &[&[u8]]| parts.concat();
    match class {
        'A' => cat(&[UPPER, LOWER, &digits]),
        'a' => cat(&[LOWER, &digits]),
        'U' => cat(&[UPPER, &digits]),
        'h' => b"0123456789abcdef".to_vec(),
        'H' => b"0123456789ABCDEF".to_vec(),
        'd' => digits,
        'b' => cat(&[UPPER, LOWER, &digits, b"+/"]),
        'w' => cat(&[UPPER, LOWER, &digits, b"_-"]),
        'l' => LOWER.to_vec(),
        'L' => cat(&[UPPER, LOWER]),
        'Z' => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".to_vec(),
        'B' => b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L".to_vec(),
        other => panic!("unknown template class {other}"),
    }
}

/// Expands `{A36}`-style fields; `{u}` is a UUID, `{_}` nothing (it splits
/// a marker such as a PEM header so the source holds no whole one).
fn expand(template: &str, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let field = &rest[open + 1..open + close];
        let mut chars = field.chars();
        let class = chars.next();
        let count: String = chars.collect();
        let expansion = match (class, count.parse::<usize>()) {
            (Some('_'), _) if count.is_empty() => Some(String::new()),
            (Some('u'), _) if count.is_empty() => {
                let hex = alphabet('h');
                let mut u = String::new();
                for (i, n) in [8, 4, 4, 4, 12].iter().enumerate() {
                    if i > 0 {
                        u.push('-');
                    }
                    u.extend((0..*n).map(|_| rng.pick(&hex)));
                }
                Some(u)
            }
            (Some(c), Ok(n)) if c.is_ascii_alphabetic() => {
                let a = alphabet(c);
                Some((0..n).map(|_| rng.pick(&a)).collect())
            }
            _ => None,
        };
        match expansion {
            Some(e) => {
                out.push_str(&rest[..open]);
                out.push_str(&e);
            }
            // Not a field (e.g. `${VAR}`): keep it literally.
            None => out.push_str(&rest[..open + close + 1]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// (rule id, true positive, false positive). A sample starting with `@`
/// is a file path scanned with harmless content (path rules).
const CASES: &[(&str, &str, &str)] = &[
    (
        "aws-access-key-id",
        "aws_key = \"AKIA{Z16}\"",
        "aws_key = \"AKIA{l16}\"",
    ),
    (
        "aws-secret-access-key",
        "aws_secret_access_key = {b40}",
        "aws_secret_access_key = abababababababababababababababababababab",
    ),
    (
        "aws-session-token",
        "AWS_SESSION_TOKEN={b200}",
        "AWS_SESSION_TOKEN=${AWS_SESSION_TOKEN}",
    ),
    (
        "aws-mws-auth-token",
        "mws = amzn.mws.{u}",
        "mws = amzn.mws.{l8}-nothex",
    ),
    ("github-pat", "token: ghp_{A36}", "token: ghp_{A20}"),
    ("github-oauth-token", "token: gho_{A36}", "token: gho_{A20}"),
    (
        "github-user-to-server-token",
        "token: ghu_{A36}",
        "token: ghu_{A20}",
    ),
    (
        "github-server-to-server-token",
        "token: ghs_{A36}",
        "token: ghs_{A20}",
    ),
    (
        "github-refresh-token",
        "token: ghr_{A76}",
        "token: ghr_{A20}",
    ),
    (
        "github-fine-grained-pat",
        "token: github_pat_{A22}_{A59}",
        "token: github_pat_{A22}",
    ),
    (
        "gitlab-pat",
        "GITLAB_TOKEN=glpat-{A20}",
        "GITLAB_TOKEN=glpat-{A10}",
    ),
    (
        "gitlab-pipeline-trigger-token",
        "t = glptt-{h40}",
        "t = glptt-{h20}",
    ),
    (
        "gitlab-runner-registration-token",
        "t = GR1348941{A20}",
        "t = GR1348941{A8}",
    ),
    (
        "gitlab-runner-auth-token",
        "t = glrt-{A20}",
        "t = glrt-{A8}",
    ),
    ("gitlab-deploy-token", "t = gldt-{A20}", "t = gldt-{A8}"),
    ("gitlab-feed-token", "t = glft-{A20}", "t = glft-{A8}"),
    (
        "gitlab-oauth-app-secret",
        "t = gloas-{A64}",
        "t = gloas-{A20}",
    ),
    ("gitlab-scim-token", "t = glsoat-{A20}", "t = glsoat-{A8}"),
    (
        "gitlab-incoming-mail-token",
        "t = glimt-{A25}",
        "t = glimt-{A10}",
    ),
    (
        "gitlab-cicd-job-token",
        "t = glcbt-{A3}_{A20}",
        "t = glcbt-{A3}",
    ),
    (
        "gitlab-kubernetes-agent-token",
        "t = glagent-{A50}",
        "t = glagent-{A20}",
    ),
    (
        "gitlab-feature-flag-client-token",
        "t = glffct-{A20}",
        "t = glffct-{A8}",
    ),
    (
        "slack-bot-token",
        "SLACK=xoxb-{d12}-{d12}-{A24}",
        "SLACK=xoxb-{d12}-{A24}",
    ),
    (
        "slack-user-token",
        "SLACK=xoxp-{d12}-{d12}-{d12}-{h32}",
        "SLACK=xoxp-{d12}-{h32}",
    ),
    (
        "slack-app-token",
        "SLACK=xapp-1-{U11}-{d13}-{h64}",
        "SLACK=xapp-1-{U11}",
    ),
    (
        "slack-config-access-token",
        "SLACK=xoxe.xoxp-1-{U164}",
        "SLACK=xoxe.xoxp-1-{U20}",
    ),
    (
        "slack-config-refresh-token",
        "SLACK=xoxe-1-{U146}",
        "SLACK=xoxe-1-{U40}",
    ),
    (
        "slack-legacy-token",
        "SLACK=xoxs-{d10}-{d10}-{d10}-{h32}",
        "SLACK=xoxs-{d10}",
    ),
    (
        "slack-webhook-url",
        "url: https://hooks.slack.com/services/T{U8}/B{U8}/{A24}",
        "url: https://hooks.slack.com/services/T{U8}",
    ),
    (
        "stripe-live-secret-key",
        "STRIPE=sk_live_{A24}",
        "STRIPE=sk_live_{A10}",
    ),
    (
        "stripe-restricted-key",
        "STRIPE=rk_live_{A24}",
        "STRIPE=rk_live_{A10}",
    ),
    (
        "stripe-test-secret-key",
        "STRIPE=sk_test_{A24}",
        "STRIPE=sk_test_{A10}",
    ),
    (
        "stripe-webhook-secret",
        "STRIPE=whsec_{A32}",
        "STRIPE=whsec_{A10}",
    ),
    ("gcp-api-key", "key: AIza{w35}", "key: AIza{w10}"),
    (
        "gcp-service-account-key-id",
        "  \"private_key_id\": \"{h40}\",",
        "  \"private_key_id\": \"\",",
    ),
    (
        "gcp-service-account-private-key",
        "  \"private_key\": \"-----BEGIN PRIVATE{_} KEY-----\\n{b64}\\n{b64}\\n\",",
        "  \"private_key\": \"\",",
    ),
    (
        "google-oauth-client-secret",
        "secret: GOCSPX-{w28}",
        "secret: GOCSPX-{w10}",
    ),
    (
        "google-oauth-access-token",
        "token: ya29.{w60}",
        "token: ya29.{w10}",
    ),
    (
        "google-oauth-refresh-token",
        "refresh: 1//0{w70}",
        "refresh: 1//0{w20}",
    ),
    (
        "firebase-cloud-messaging-key",
        "fcm: AAAA{w7}:APA91b{w134}",
        "fcm: AAAA{w7}:APA91b{w20}",
    ),
    (
        "private-key",
        "-----BEGIN RSA PRIVATE{_} KEY-----\n{b64}\n{b64}\n-----END RSA PRIVATE{_} KEY-----",
        "-----BEGIN RSA PRIVATE{_} KEY-----\n-----END RSA PRIVATE{_} KEY-----",
    ),
    (
        "openssh-private-key",
        "-----BEGIN OPENSSH PRIVATE{_} KEY-----\n{b70}\n{b70}\n-----END OPENSSH PRIVATE{_} KEY-----",
        "-----BEGIN OPENSSH PRIVATE{_} KEY-----\n...",
    ),
    (
        "pgp-private-key-block",
        "-----BEGIN PGP PRIVATE{_} KEY BLOCK-----\n\n{b64}\n{b64}\n-----END PGP PRIVATE{_} KEY BLOCK-----",
        "-----BEGIN PGP PUBLIC{_} KEY BLOCK-----\n\n{b64}\n-----END PGP PUBLIC{_} KEY BLOCK-----",
    ),
    (
        "putty-private-key",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 2\n{b64}\n{b20}\nPrivate-Lines: 1\n{b64}\n",
        "PuTTY-User-Key-File-3: ssh-ed25519\nPublic-Lines: 2\n{b64}\n",
    ),
    (
        "age-secret-key",
        "AGE-SECRET-KEY-1{B58}",
        "AGE-SECRET-KEY-1{B20}",
    ),
    ("pkcs12-file", "@certs/client.p12", "@certs/client.pem"),
    (
        "java-keystore-file",
        "@android/release.jks",
        "@android/release.json",
    ),
    (
        "jwt",
        "Authorization: Bearer eyJ{w20}.eyJ{w30}.{w43}",
        "Authorization: Bearer eyJ{w20}.{w30}",
    ),
    (
        "postgres-connection-string",
        "DATABASE_URL=postgres://app:{A16}@db.internal:5432/app",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app",
    ),
    (
        "mysql-connection-string",
        "url: mysql://root:{A16}@127.0.0.1:3306/x",
        "url: mysql://root@127.0.0.1:3306/x",
    ),
    (
        "mongodb-connection-string",
        "MONGO=mongodb+srv://admin:{A16}@cluster0.abcde.mongodb.net/db",
        "MONGO=mongodb+srv://admin:<password>@cluster0.abcde.mongodb.net/db",
    ),
    (
        "redis-connection-string",
        "REDIS_URL=redis://:{A16}@cache:6379/0",
        "REDIS_URL=redis://cache:6379/0",
    ),
    (
        "amqp-connection-string",
        "BROKER=amqps://user:{A16}@mq.internal/vhost",
        "BROKER=amqps://user:changeme@mq.internal/vhost",
    ),
    (
        "sqlserver-connection-string",
        "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={A16};",
        "jdbc:sqlserver://db:1433;databaseName=app;integratedSecurity=true;",
    ),
    (
        "url-embedded-password",
        "remote = https://deploy:{A16}@git.internal.io/repo.git",
        "remote = https://git.internal.io:8443/repo.git",
    ),
    (
        "npm-access-token",
        "//registry.npmjs.org/:_authToken=npm_{A36}",
        "//registry.npmjs.org/:_authToken=npm_{A20}",
    ),
    (
        "pypi-upload-token",
        "password = pypi-AgEIcHlwaS5vcmc{w60}",
        "password = pypi-AgEIcHlwaS5vcmc{w10}",
    ),
    (
        "rubygems-api-token",
        ":rubygems_api_key: rubygems_{h48}",
        ":rubygems_api_key: rubygems_{h20}",
    ),
    (
        "nuget-api-key",
        "nuget push -k oy2{a43}",
        "nuget push -k oy2{a20}",
    ),
    (
        "crates-io-api-token",
        "token = \"cio{A32}\"",
        "token = \"cio{A20}\"",
    ),
    (
        "dockerhub-pat",
        "DOCKER_PASSWORD=dckr_pat_{w27}",
        "DOCKER_PASSWORD=dckr_pat_{w10}",
    ),
    (
        "dockerhub-oat",
        "DOCKER_PASSWORD=dckr_oat_{w32}",
        "DOCKER_PASSWORD=dckr_oat_{w10}",
    ),
    ("clojars-api-token", "CLOJARS_{a60}", "CLOJARS_{a20}"),
    (
        "artifactory-api-key",
        "X-JFrog-Art-Api: AKCp{A69}",
        "X-JFrog-Art-Api: AKCp{A20}",
    ),
    (
        "artifactory-reference-token",
        "Authorization: Bearer cmVmd{A59}",
        "Authorization: Bearer cmVmd{A20}",
    ),
    ("twilio-api-key", "sid = SK{h32}", "sid = SK{h16}"),
    (
        "twilio-auth-token",
        "TWILIO_AUTH_TOKEN={h32}",
        "TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN}",
    ),
    (
        "sendgrid-api-token",
        "SENDGRID=SG.{w22}.{w43}",
        "SENDGRID=SG.{w22}",
    ),
    (
        "mailgun-private-api-token",
        "MAILGUN_API_KEY = \"key-{h32}\"",
        "MAILGUN_API_KEY = \"key-{h10}\"",
    ),
    (
        "mailgun-webhook-signing-key",
        "mailgun_signing_key: {h32}-{h8}-{h8}",
        "mailgun_signing_key: {h32}",
    ),
    ("mailchimp-api-key", "MC = {h32}-us6", "MC = {h20}-us6"),
    (
        "brevo-api-token",
        "BREVO=xkeysib-{h64}-{A16}",
        "BREVO=xkeysib-{h20}",
    ),
    (
        "postmark-server-token",
        "POSTMARK_SERVER_TOKEN={u}",
        "POSTMARK_SERVER_TOKEN=abc",
    ),
    (
        "telegram-bot-token",
        "bot = {d10}:AA{w33}",
        "bot = {d10}:AA{w10}",
    ),
    (
        "discord-bot-token",
        "DISCORD_TOKEN = \"M{A24}.{A6}.{A30}\"",
        "DISCORD_TOKEN = \"M{A10}.{A6}\"",
    ),
    (
        "discord-webhook-url",
        "hook: https://discord.com/api/webhooks/{d18}/{w64}",
        "hook: https://discord.com/api/webhooks/{d18}",
    ),
    (
        "microsoft-teams-webhook",
        "hook: https://acme.webhook.office.com/webhookb2/{u}@{u}/IncomingWebhook/{h32}/{u}",
        "hook: https://acme.webhook.office.com/webhookb2/{u}",
    ),
    ("shopify-access-token", "t = shpat_{h32}", "t = shpat_{h10}"),
    (
        "shopify-custom-access-token",
        "t = shpca_{h32}",
        "t = shpca_{h10}",
    ),
    (
        "shopify-private-app-access-token",
        "t = shppa_{h32}",
        "t = shppa_{h10}",
    ),
    (
        "shopify-shared-secret",
        "t = shpss_{h32}",
        "t = shpss_{h10}",
    ),
    ("square-access-token", "t = sq0atp-{w22}", "t = sq0atp-{w8}"),
    (
        "square-oauth-secret",
        "t = sq0csp-{w43}",
        "t = sq0csp-{w10}",
    ),
    (
        "shippo-api-token",
        "t = shippo_live_{h40}",
        "t = shippo_live_{h10}",
    ),
    ("easypost-api-token", "t = EZAK{A54}", "t = EZAK{A20}"),
    (
        "duffel-api-token",
        "t = duffel_live_{w43}",
        "t = duffel_live_{w10}",
    ),
    (
        "heroku-api-key",
        "HEROKU_API_KEY={u}",
        "HEROKU_API_KEY=<your key>",
    ),
    ("heroku-api-key-v2", "t = HRKU-AA{w58}", "t = HRKU-AA{w20}"),
    ("digitalocean-pat", "t = dop_v1_{h64}", "t = dop_v1_{h20}"),
    (
        "digitalocean-oauth-token",
        "t = doo_v1_{h64}",
        "t = doo_v1_{h20}",
    ),
    (
        "digitalocean-refresh-token",
        "t = dor_v1_{h64}",
        "t = dor_v1_{h20}",
    ),
    (
        "azure-storage-account-key",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={b86}==;EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={b20}==;",
    ),
    (
        "azure-ad-client-secret",
        "client_secret = \"{A3}8Q~{A32}\"",
        "client_secret = \"{A3}8Q~{A10}\"",
    ),
    (
        "azure-sas-token",
        "url = https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&sp=r&se=2030-01-01&sig={A43}%3D",
        "url = https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=",
    ),
    (
        "azure-devops-pat",
        "pat = {A76}AZDO{A4}",
        "pat = {A20}AZDO{A4}",
    ),
    ("alibaba-access-key-id", "id = LTAI{A20}", "id = LTAI{A10}"),
    (
        "cloudflare-origin-ca-key",
        "k = v1.0-{h24}-{h146}",
        "k = v1.0-{h24}",
    ),
    (
        "cloudflare-api-token",
        "CLOUDFLARE_API_TOKEN={w40}",
        "CLOUDFLARE_API_TOKEN={w10}",
    ),
    (
        "flyio-access-token",
        "FLY_API_TOKEN=fo1_{w43}",
        "FLY_API_TOKEN=fo1_{w10}",
    ),
    (
        "netlify-access-token",
        "NETLIFY_AUTH_TOKEN={A43}",
        "NETLIFY_AUTH_TOKEN=${NETLIFY_AUTH_TOKEN}",
    ),
    (
        "vercel-access-token",
        "VERCEL_TOKEN={A24}",
        "VERCEL_TOKEN={A10}",
    ),
    ("supabase-access-token", "t = sbp_{h40}", "t = sbp_{h10}"),
    (
        "supabase-secret-key",
        "t = sb_secret_{w31}",
        "t = sb_secret_{w10}",
    ),
    ("render-api-key", "t = rnd_{A32}", "t = rnd_{A10}"),
    (
        "tailscale-key",
        "TS_AUTHKEY=tskey-auth-{A12}-{A30}",
        "TS_AUTHKEY=tskey-auth-{A12}",
    ),
    (
        "ngrok-authtoken",
        "NGROK_AUTHTOKEN={A27}_{A21}",
        "NGROK_AUTHTOKEN={A10}",
    ),
    (
        "planetscale-api-token",
        "t = pscale_tkn_{w43}",
        "t = pscale_tkn_{w10}",
    ),
    (
        "planetscale-password",
        "t = pscale_pw_{w43}",
        "t = pscale_pw_{w10}",
    ),
    (
        "planetscale-oauth-token",
        "t = pscale_oauth_{w43}",
        "t = pscale_oauth_{w10}",
    ),
    ("databricks-api-token", "t = dapi{h32}", "t = dapi{h10}"),
    ("datadog-api-key", "DD_API_KEY={h32}", "DD_API_KEY={h10}"),
    ("datadog-app-key", "DD_APP_KEY={h40}", "DD_APP_KEY={h10}"),
    ("grafana-api-key", "t = eyJrIjoi{A80}", "t = eyJrIjoi{A20}"),
    ("grafana-cloud-api-token", "t = glc_{b60}", "t = glc_{b10}"),
    (
        "grafana-service-account-token",
        "t = glsa_{A32}_{h8}",
        "t = glsa_{A32}",
    ),
    ("new-relic-user-api-key", "t = NRAK-{U27}", "t = NRAK-{U10}"),
    ("new-relic-insert-key", "t = NRII-{w32}", "t = NRII-{w10}"),
    (
        "new-relic-browser-api-token",
        "t = NRJS-{h19}",
        "t = NRJS-{h8}",
    ),
    ("new-relic-license-key", "t = {h36}NRAL", "t = {h10}NRAL"),
    (
        "sentry-org-auth-token",
        "t = sntrys_eyJ{w80}",
        "t = sntrys_eyJ{w10}",
    ),
    (
        "sentry-user-auth-token",
        "t = sntryu_{h64}",
        "t = sntryu_{h10}",
    ),
    (
        "dynatrace-api-token",
        "t = dt0c01.{U24}.{U64}",
        "t = dt0c01.{U24}",
    ),
    (
        "pagerduty-api-key",
        "PAGERDUTY_API_KEY={A20}",
        "PAGERDUTY_API_KEY={A8}",
    ),
    (
        "opsgenie-api-key",
        "OPSGENIE_API_KEY={u}",
        "OPSGENIE_API_KEY=none",
    ),
    (
        "sonarqube-token",
        "SONAR_TOKEN=squ_{h40}",
        "SONAR_TOKEN=squ_{h10}",
    ),
    (
        "codecov-token",
        "CODECOV_TOKEN={u}",
        "CODECOV_TOKEN=${CODECOV_TOKEN}",
    ),
    (
        "snyk-api-token",
        "SNYK_TOKEN={u}",
        "SNYK_TOKEN=${SNYK_TOKEN}",
    ),
    (
        "openai-api-key",
        "OPENAI_API_KEY=sk-proj-{w40}T3BlbkFJ{w40}",
        "OPENAI_API_KEY=sk-proj-{w40}",
    ),
    (
        "anthropic-api-key",
        "ANTHROPIC_API_KEY=sk-ant-api03-{w93}AA",
        "ANTHROPIC_API_KEY=sk-ant-api03-{w20}",
    ),
    (
        "anthropic-admin-key",
        "ANTHROPIC_ADMIN_KEY=sk-ant-admin01-{w93}AA",
        "ANTHROPIC_ADMIN_KEY=sk-ant-admin01-{w20}",
    ),
    (
        "huggingface-access-token",
        "HF_TOKEN=hf_{L34}",
        "HF_TOKEN=hf_{L10}",
    ),
    (
        "huggingface-org-api-token",
        "t = api_org_{L34}",
        "t = api_org_{L10}",
    ),
    ("groq-api-key", "t = gsk_{A52}", "t = gsk_{A20}"),
    ("perplexity-api-key", "t = pplx-{A48}", "t = pplx-{A20}"),
    ("replicate-api-token", "t = r8_{A37}", "t = r8_{A10}"),
    (
        "openrouter-api-key",
        "t = sk-or-v1-{h64}",
        "t = sk-or-v1-{h10}",
    ),
    (
        "vault-service-token",
        "VAULT_TOKEN=hvs.{w90}",
        "VAULT_TOKEN=hvs.{w10}",
    ),
    (
        "vault-batch-token",
        "VAULT_TOKEN=hvb.{w140}",
        "VAULT_TOKEN=hvb.{w20}",
    ),
    (
        "vault-recovery-token",
        "VAULT_TOKEN=hvr.{w30}",
        "VAULT_TOKEN=hvr.{w10}",
    ),
    (
        "terraform-cloud-api-token",
        "token = \"{A14}.atlasv1.{w67}\"",
        "token = \"{A14}.atlasv1.{w10}\"",
    ),
    ("atlassian-api-token", "t = ATATT3{w186}", "t = ATATT3{w20}"),
    (
        "atlassian-legacy-api-token",
        "JIRA_API_TOKEN={a24}",
        "JIRA_API_TOKEN={a10}",
    ),
    ("bitbucket-app-password", "t = ATBB{A32}", "t = ATBB{A10}"),
    ("linear-api-key", "t = lin_api_{A40}", "t = lin_api_{A10}"),
    (
        "linear-oauth-token",
        "t = lin_oauth_{h64}",
        "t = lin_oauth_{h10}",
    ),
    (
        "doppler-token",
        "DOPPLER_TOKEN=dp.st.{A43}",
        "DOPPLER_TOKEN=dp.st.{A10}",
    ),
    (
        "pulumi-access-token",
        "PULUMI_ACCESS_TOKEN=pul-{h40}",
        "PULUMI_ACCESS_TOKEN=pul-{h10}",
    ),
    (
        "postman-api-token",
        "t = PMAK-{h24}-{h34}",
        "t = PMAK-{h24}",
    ),
    ("prefect-api-token", "t = pnu_{A36}", "t = pnu_{A10}"),
    ("readme-api-token", "t = rdme_{a70}", "t = rdme_{a10}"),
    ("frameio-api-token", "t = fio-u-{w64}", "t = fio-u-{w10}"),
    (
        "mapbox-secret-token",
        "t = sk.eyJ{w40}.{w22}",
        "t = sk.eyJ{w10}",
    ),
    (
        "okta-api-token",
        "OKTA_API_TOKEN=00{w40}",
        "OKTA_API_TOKEN=00{w10}",
    ),
    (
        "1password-service-account-token",
        "OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ{b260}",
        "OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ{b20}",
    ),
    (
        "1password-secret-key",
        "key: A3-{U6}-{U11}-{U5}-{U5}-{U5}",
        "key: A3-{U6}-{U5}",
    ),
    ("contentful-pat", "t = CFPAT-{w43}", "t = CFPAT-{w10}"),
    (
        "harness-api-key",
        "t = pat.{w22}.{h24}.{A20}",
        "t = pat.{w22}",
    ),
    (
        "infracost-api-token",
        "INFRACOST_API_KEY=ico-{A32}",
        "INFRACOST_API_KEY=ico-{A10}",
    ),
    ("typeform-api-token", "t = tfp_{w59}", "t = tfp_{w10}"),
    ("scalingo-api-token", "t = tk-us-{w48}", "t = tk-us-{w10}"),
    ("buildkite-api-token", "t = bkua_{h40}", "t = bkua_{h10}"),
    ("circleci-pat", "t = CCIPAT_{A22}_{h40}", "t = CCIPAT_{A22}"),
    ("figma-pat", "t = figd_{w40}", "t = figd_{w10}"),
    ("notion-api-token", "t = ntn_{A46}", "t = ntn_{A10}"),
    ("airtable-pat", "t = pat{A14}.{h64}", "t = pat{A14}"),
    (
        "hubspot-private-app-token",
        "t = pat-na1-{u}",
        "t = pat-na1-{h8}",
    ),
    (
        "algolia-api-key",
        "ALGOLIA_ADMIN_KEY={h32}",
        "ALGOLIA_ADMIN_KEY={h10}",
    ),
    (
        "zendesk-api-token",
        "ZENDESK_API_TOKEN={A40}",
        "ZENDESK_API_TOKEN={A10}",
    ),
    (
        "intercom-api-token",
        "INTERCOM_ACCESS_TOKEN={w60}",
        "INTERCOM_ACCESS_TOKEN={w10}",
    ),
    (
        "facebook-app-secret",
        "FACEBOOK_APP_SECRET={h32}",
        "FACEBOOK_APP_SECRET={h10}",
    ),
    (
        "twitter-bearer-token",
        "t = AAAAAAAAAAAAAAAAAAAAA{A80}",
        "t = AAAAAAAAAAAAAAAAAAAAA{A10}",
    ),
    (
        "resend-api-key",
        "RESEND_API_KEY=re_{A8}_{A24}",
        "RESEND_API_KEY=re_{A8}",
    ),
    (
        "generic-api-key",
        "api_key = \"{A24}7\"",
        "api_key = \"aaaaaaaaaaaaaaaaaaaaaaaa7\"",
    ),
    // Extra rows for the generic rule: config-style unquoted values count,
    // code-style unquoted values (followed by `;` or `,`) do not.
    (
        "generic-api-key",
        "client_secret: {A24}7  # prod",
        "out->secret_len = SHA256_DIGEST_LENGTH_{A20}7;",
    ),
    (
        "generic-api-key",
        "TOKEN={A30}9",
        "pub history_token: D3DKMT_{U24}9,",
    ),
];

fn scan(scanner: &Scanner, sample: &str) -> Vec<gantry_scan::Finding> {
    match sample.strip_prefix('@') {
        Some(path) => scanner.scan_bytes(path, b"harmless\n"),
        None => scanner.scan_bytes("src/config.txt", format!("{sample}\n").as_bytes()),
    }
}

#[test]
fn every_builtin_rule_has_samples() {
    let rules = Rules::builtin();
    let table: HashSet<&str> = CASES.iter().map(|c| c.0).collect();
    // A rule may have several rows; each row is checked on its own.
    let ids: HashSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let missing: Vec<_> = ids.difference(&table).collect();
    let unknown: Vec<_> = table.difference(&ids).collect();
    assert!(missing.is_empty(), "rules without samples: {missing:?}");
    assert!(unknown.is_empty(), "samples for no rule: {unknown:?}");
    assert!(rules.len() >= 100);
}

#[test]
fn true_positives_are_found_and_redacted() {
    let scanner = Scanner::new(Rules::builtin());
    let mut failures = Vec::new();
    for (i, (id, tp, _)) in CASES.iter().enumerate() {
        let sample = expand(tp, 0x5eed + i as u64);
        let found = scan(&scanner, &sample);
        let Some(f) = found.iter().find(|f| f.rule_id == *id) else {
            failures.push(format!(
                "{id}: not found in {sample:?}; got {:?}",
                found.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
            ));
            continue;
        };
        let rule = scanner.rules().get(id).unwrap();
        assert_eq!(f.severity, rule.severity);
        assert_eq!(f.title, rule.description);
        assert_eq!(f.fingerprint.len(), 32);
        if !sample.starts_with('@') {
            let red = f.redacted.as_deref().unwrap();
            assert!(
                red.ends_with('…') && red.chars().count() == 5,
                "{id}: {red}"
            );
            // The finding's serialized form never holds a 12-character
            // window of the sample beyond what the redaction shows.
            let json = serde_json::to_string(f).unwrap();
            let debug = format!("{f:?}");
            let tokens: Vec<&str> = sample
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|t| t.len() >= 16)
                .collect();
            for t in tokens {
                assert!(!json.contains(t), "{id}: {t} leaked into {json}");
                assert!(!debug.contains(t), "{id}: {t} leaked into Debug");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn false_positives_are_not_found() {
    let scanner = Scanner::new(Rules::builtin());
    let mut failures = Vec::new();
    for (i, (id, _, fp)) in CASES.iter().enumerate() {
        let sample = expand(fp, 0xfa15e + i as u64);
        let found = scan(&scanner, &sample);
        if found.iter().any(|f| f.rule_id == *id) {
            failures.push(format!("{id}: wrongly found in {sample:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn samples_differ_by_seed_and_templates_hold_no_secret() {
    // The templates as written in this file find nothing: the repository
    // does not trip a scanner.
    let scanner = Scanner::new(Rules::builtin());
    for (id, tp, _) in CASES {
        if tp.starts_with('@') {
            continue;
        }
        let found = scanner.scan_bytes("t.txt", tp.as_bytes());
        assert!(
            found.iter().all(|f| f.rule_id != *id),
            "{id}: the template itself matches"
        );
    }
    assert_ne!(expand("{A36}", 1), expand("{A36}", 2));
    assert_eq!(expand("x{_}y${VAR}", 1), "xy${VAR}");
    assert_eq!(expand("{u}", 3).len(), 36);
}
