//! Gantry's built-in secret rules, written from each provider's documented
//! token format (prefixes, lengths, alphabets). Rules for tokens with no
//! distinctive prefix look for the provider's name in an assignment
//! (`ctx`) and use an entropy floor.

use super::rule::{Allowlist, Condition, RegexTarget, Rule};
use crate::Severity::{self, Critical, High, Low, Medium};

pub(crate) struct Spec {
    pub id: &'static str,
    pub severity: Severity,
    pub description: &'static str,
    pub regex: Option<String>,
    pub path: Option<&'static str>,
    pub keywords: &'static [&'static str],
    pub entropy: Option<f64>,
    pub group: usize,
    /// Drop placeholder values (`${VAR}`, `<password>`, `changeme`, ...).
    pub placeholders: bool,
}

impl Spec {
    fn entropy(mut self, e: f64) -> Spec {
        self.entropy = Some(e);
        self
    }
    fn group(mut self, g: usize) -> Spec {
        self.group = g;
        self
    }
    fn placeholders(mut self) -> Spec {
        self.placeholders = true;
        self
    }
}

fn r(
    id: &'static str,
    severity: Severity,
    description: &'static str,
    regex: &str,
    keywords: &'static [&'static str],
) -> Spec {
    Spec {
        id,
        severity,
        description,
        regex: Some(regex.to_string()),
        path: None,
        keywords,
        entropy: None,
        group: 0,
        placeholders: false,
    }
}

/// A value assigned to a name that mentions `kw` (a regex alternative):
/// `DATADOG_API_KEY = "..."`, `"heroku_token": "..."`, `okta.token: ...`.
/// The value is capture group 1.
fn ctx(
    id: &'static str,
    severity: Severity,
    description: &'static str,
    kw: &str,
    val: &str,
    keywords: &'static [&'static str],
) -> Spec {
    let regex = format!(
        r#"(?im)(?:{kw})[\w.\-]{{0,25}}?[ \t'"]{{0,3}}(?:=|:=|=>|:|\?=|,)[ \t'"`]{{0,5}}({val})(?:['"`\s;,)\]}}<]|\\[nr]|$)"#
    );
    r(id, severity, description, &regex, keywords)
        .group(1)
        .placeholders()
}

fn path_rule(
    id: &'static str,
    severity: Severity,
    description: &'static str,
    path: &'static str,
) -> Spec {
    Spec {
        id,
        severity,
        description,
        regex: None,
        path: Some(path),
        keywords: &[],
        entropy: None,
        group: 0,
        placeholders: false,
    }
}

const UUID: &str = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/// A password in a URL's userinfo: `SCHEME://user:PASSWORD@host`.
fn url_password(scheme: &str) -> String {
    format!(r#"(?i)\b(?:{scheme})://[^\s:@/'"`]+:([^\s@/'"`]{{3,}})@[A-Za-z0-9.\-\[\]_]+"#)
}

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        // --- AWS
        r("aws-access-key-id", Critical, "AWS access key ID (long-term AKIA or temporary ASIA credentials)",
          r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b", &["akia", "asia", "abia", "acca"]).entropy(3.0),
        r("aws-secret-access-key", Critical, "AWS secret access key assigned next to an AWS name",
          r#"(?im)aws[\w.\-]{0,30}?(?:secret|sk)[\w.\-]{0,20}?[ \t'"]{0,3}(?:=|:=|=>|:|,)[ \t'"`]{0,5}([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
          &["aws"]).group(1).entropy(4.0).placeholders(),
        r("aws-session-token", High, "AWS session token assigned to an AWS session-token name",
          r#"(?im)aws[\w.\-]{0,10}?session[\w.\-]{0,10}?token[ \t'"]{0,3}(?:=|:=|=>|:|,)[ \t'"`]{0,5}([A-Za-z0-9/+=]{100,})"#,
          &["aws"]).group(1).entropy(4.0),
        r("aws-mws-auth-token", High, "Amazon Marketplace Web Service auth token",
          &format!(r"\bamzn\.mws\.{UUID}\b"), &["amzn.mws."]),
        // --- GitHub
        r("github-pat", High, "GitHub personal access token (classic)", r"\bghp_[A-Za-z0-9]{36}\b", &["ghp_"]).entropy(3.0),
        r("github-oauth-token", High, "GitHub OAuth access token", r"\bgho_[A-Za-z0-9]{36}\b", &["gho_"]).entropy(3.0),
        r("github-user-to-server-token", High, "GitHub App user-to-server token", r"\bghu_[A-Za-z0-9]{36}\b", &["ghu_"]).entropy(3.0),
        r("github-server-to-server-token", High, "GitHub App installation (server-to-server) token", r"\bghs_[A-Za-z0-9]{36}\b", &["ghs_"]).entropy(3.0),
        r("github-refresh-token", High, "GitHub App refresh token", r"\bghr_[A-Za-z0-9]{36,76}\b", &["ghr_"]).entropy(3.0),
        r("github-fine-grained-pat", High, "GitHub fine-grained personal access token", r"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b", &["github_pat_"]).entropy(3.0),
        // --- GitLab
        r("gitlab-pat", High, "GitLab personal, project or group access token", r"\bglpat-[A-Za-z0-9_\-.]{20,80}", &["glpat-"]).entropy(3.0),
        r("gitlab-pipeline-trigger-token", High, "GitLab pipeline trigger token", r"\bglptt-[0-9a-f]{40}\b", &["glptt-"]),
        r("gitlab-runner-registration-token", High, "GitLab runner registration token", r"\bGR1348941[A-Za-z0-9_\-]{20}", &["gr1348941"]),
        r("gitlab-runner-auth-token", High, "GitLab runner authentication token", r"\bglrt-[A-Za-z0-9_\-]{20,}", &["glrt-"]).entropy(3.0),
        r("gitlab-deploy-token", High, "GitLab deploy token", r"\bgldt-[A-Za-z0-9_\-]{20,}", &["gldt-"]).entropy(3.0),
        r("gitlab-feed-token", Medium, "GitLab feed token", r"\bglft-[A-Za-z0-9_\-]{20,}", &["glft-"]).entropy(3.0),
        r("gitlab-oauth-app-secret", High, "GitLab OAuth application secret", r"\bgloas-[A-Za-z0-9_\-]{64}", &["gloas-"]),
        r("gitlab-scim-token", High, "GitLab SCIM OAuth token", r"\bglsoat-[A-Za-z0-9_\-]{20,}", &["glsoat-"]).entropy(3.0),
        r("gitlab-incoming-mail-token", Medium, "GitLab incoming e-mail token", r"\bglimt-[A-Za-z0-9_\-]{25}", &["glimt-"]),
        r("gitlab-cicd-job-token", High, "GitLab CI/CD job token", r"\bglcbt-[0-9a-zA-Z]{1,5}_[A-Za-z0-9_\-]{20}", &["glcbt-"]),
        r("gitlab-kubernetes-agent-token", High, "GitLab agent for Kubernetes token", r"\bglagent-[A-Za-z0-9_\-]{50}", &["glagent-"]),
        r("gitlab-feature-flag-client-token", Low, "GitLab feature flags client token", r"\bglffct-[A-Za-z0-9_\-]{20}", &["glffct-"]),
        // --- Slack
        r("slack-bot-token", High, "Slack bot token", r"\bxoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}\b", &["xoxb-"]),
        r("slack-user-token", High, "Slack user token", r"\bxox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32}\b", &["xoxp-", "xoxe-"]),
        r("slack-app-token", High, "Slack app-level token", r"\bxapp-\d-[A-Z0-9]{9,12}-\d{10,16}-[a-f0-9]{64}\b", &["xapp-"]),
        r("slack-config-access-token", High, "Slack configuration access token", r"\bxoxe\.xox[bp]-\d-[A-Z0-9]{163,166}\b", &["xoxe.xox"]),
        r("slack-config-refresh-token", High, "Slack configuration refresh token", r"\bxoxe-\d-[A-Z0-9]{146}\b", &["xoxe-"]),
        r("slack-legacy-token", High, "Slack legacy workspace or bot token", r"\bxox[os]-\d+-\d+-\d+-[a-f0-9]{16,}\b", &["xoxo-", "xoxs-"]),
        r("slack-webhook-url", High, "Slack incoming webhook or workflow URL",
          r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}", &["hooks.slack.com"]),
        // --- Stripe
        r("stripe-live-secret-key", Critical, "Stripe live secret key", r"\bsk_live_[A-Za-z0-9]{24,247}\b", &["sk_live_"]).entropy(3.0),
        r("stripe-restricted-key", High, "Stripe live restricted key", r"\brk_live_[A-Za-z0-9]{24,247}\b", &["rk_live_"]).entropy(3.0),
        r("stripe-test-secret-key", Low, "Stripe test-mode secret or restricted key", r"\b[sr]k_test_[A-Za-z0-9]{24,247}\b", &["sk_test_", "rk_test_"]).entropy(3.0),
        r("stripe-webhook-secret", High, "Stripe webhook signing secret", r"\bwhsec_[A-Za-z0-9]{32,}\b", &["whsec_"]).entropy(3.0),
        // --- Google
        r("gcp-api-key", High, "Google API key", r"\bAIza[0-9A-Za-z_\-]{35}", &["aiza"]).entropy(3.0),
        r("gcp-service-account-key-id", Critical, "Google Cloud service-account key file (private_key_id)",
          r#""private_key_id"\s*:\s*"([a-f0-9]{40})""#, &["private_key_id"]).group(1).entropy(3.0),
        r("gcp-service-account-private-key", Critical, "Google Cloud service-account key file (private_key)",
          r#""private_key"\s*:\s*"(-----BEGIN PRIVATE KEY-----\\n[A-Za-z0-9+/=\\n]{64,})"#, &["\"private_key\""]).group(1),
        r("google-oauth-client-secret", High, "Google OAuth client secret", r"\bGOCSPX-[A-Za-z0-9_\-]{28}", &["gocspx-"]),
        r("google-oauth-access-token", High, "Google OAuth access token", r"\bya29\.[0-9A-Za-z_\-]{30,}", &["ya29."]).entropy(3.0),
        r("google-oauth-refresh-token", High, "Google OAuth refresh token", r"\b1//0[0-9A-Za-z_\-]{60,}", &["1//0"]).entropy(3.5),
        r("firebase-cloud-messaging-key", High, "Firebase Cloud Messaging legacy server key",
          r"\bAAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{134}", &[":apa91b"]),
        // --- private keys
        r("private-key", Critical, "PEM private key (RSA, EC, DSA, PKCS#8)",
          r"-----BEGIN (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----[\s\S]{64,}?-----END (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----",
          &["private key-----"]),
        r("openssh-private-key", Critical, "OpenSSH private key",
          r"-----BEGIN OPENSSH PRIVATE KEY-----[\s\S]{64,}?-----END OPENSSH PRIVATE KEY-----", &["begin openssh private key"]),
        r("pgp-private-key-block", Critical, "PGP private key block",
          r"-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]{64,}?-----END PGP PRIVATE KEY BLOCK-----", &["begin pgp private key block"]),
        r("putty-private-key", Critical, "PuTTY private key file",
          r"PuTTY-User-Key-File-[23]: [\s\S]{0,600}?Private-Lines: \d+\r?\n[A-Za-z0-9+/=\r\n]{64,}", &["putty-user-key-file-"]),
        r("age-secret-key", Critical, "age encryption secret key",
          r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b", &["age-secret-key-1"]),
        path_rule("pkcs12-file", Medium, "PKCS#12 key store file (may hold a private key)", r"(?i)\.(?:p12|pfx)$"),
        path_rule("java-keystore-file", Low, "Java key store file (may hold a private key)", r"(?i)\.(?:jks|keystore)$"),
        // --- JWT
        r("jwt", Medium, "JSON Web Token",
          r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,}", &["eyj"]).entropy(3.0),
        // --- connection strings
        r("postgres-connection-string", High, "PostgreSQL connection URL with a password", &url_password("postgres(?:ql)?"), &["postgres"]).group(1).placeholders(),
        r("mysql-connection-string", High, "MySQL connection URL with a password", &url_password(r"mysql(?:x|\+\w+)?"), &["mysql"]).group(1).placeholders(),
        r("mongodb-connection-string", High, "MongoDB connection URL with a password", &url_password(r"mongodb(?:\+srv)?"), &["mongodb"]).group(1).placeholders(),
        r("redis-connection-string", High, "Redis connection URL with a password",
          r#"(?i)\brediss?://[^\s:@/'"`]*:([^\s@/'"`]{3,})@[A-Za-z0-9.\-\[\]_]+"#, &["redis"]).group(1).placeholders(),
        r("amqp-connection-string", High, "AMQP (RabbitMQ) connection URL with a password", &url_password("amqps?"), &["amqp"]).group(1).placeholders(),
        r("sqlserver-connection-string", High, "SQL Server JDBC URL with a password",
          r#"(?i)jdbc:sqlserver://[^\s;'"]+;[^\s'"]*?password=([^;\s'"]{3,})"#, &["jdbc:sqlserver"]).group(1).placeholders(),
        r("url-embedded-password", Medium, "URL with a password in its user info", &url_password("https?|ftps?|sftp|smtps?|ldaps?"), &["://"]).group(1).placeholders(),
        // --- package registries
        r("npm-access-token", High, "npm access token", r"\bnpm_[A-Za-z0-9]{36}\b", &["npm_"]).entropy(3.0),
        r("pypi-upload-token", High, "PyPI upload token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}", &["pypi-ageichlwas5vcmc"]),
        r("rubygems-api-token", High, "RubyGems API key", r"\brubygems_[a-f0-9]{48}\b", &["rubygems_"]),
        r("nuget-api-key", High, "NuGet API key", r"\boy2[a-z0-9]{43}\b", &["oy2"]).entropy(3.0),
        r("crates-io-api-token", High, "crates.io API token", r"\bcio[a-zA-Z0-9]{32}\b", &["cio"]).entropy(3.5),
        r("dockerhub-pat", High, "Docker Hub personal access token", r"\bdckr_pat_[A-Za-z0-9_\-]{27}", &["dckr_pat_"]),
        r("dockerhub-oat", High, "Docker Hub organization access token", r"\bdckr_oat_[A-Za-z0-9_\-]{32}", &["dckr_oat_"]),
        r("clojars-api-token", High, "Clojars deploy token", r"(?i)\bCLOJARS_[a-z0-9]{60}\b", &["clojars_"]),
        r("artifactory-api-key", High, "JFrog Artifactory API key", r"\bAKCp[A-Za-z0-9]{69}\b", &["akcp"]).entropy(3.5),
        r("artifactory-reference-token", High, "JFrog Artifactory reference token", r"\bcmVmd[A-Za-z0-9]{59}\b", &["cmvmd"]).entropy(3.5),
        // --- messaging and e-mail
        r("twilio-api-key", High, "Twilio API key SID", r"\bSK[0-9a-fA-F]{32}\b", &["sk"]).entropy(3.0),
        ctx("twilio-auth-token", High, "Twilio auth token", "twilio", "[a-f0-9]{32}", &["twilio"]).entropy(3.0),
        r("sendgrid-api-token", High, "SendGrid API key", r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", &["sg."]),
        ctx("mailgun-private-api-token", High, "Mailgun private API key", "mailgun", "key-[a-f0-9]{32}", &["mailgun"]),
        ctx("mailgun-webhook-signing-key", Medium, "Mailgun webhook signing key", "mailgun", "[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}", &["mailgun"]),
        r("mailchimp-api-key", High, "Mailchimp API key", r"\b[0-9a-f]{32}-us[0-9]{1,2}\b", &["-us"]).entropy(3.0),
        r("brevo-api-token", High, "Brevo (Sendinblue) API key", r"\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}\b", &["xkeysib-"]),
        ctx("postmark-server-token", High, "Postmark server API token", "postmark", UUID, &["postmark"]),
        r("telegram-bot-token", High, "Telegram bot token", r"\b\d{8,10}:AA[A-Za-z0-9_\-]{33}", &[":aa"]).entropy(3.0),
        ctx("discord-bot-token", High, "Discord bot token", "discord",
            r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}", &["discord"]),
        r("discord-webhook-url", Medium, "Discord webhook URL",
          r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_\-]{60,68}", &["discord"]),
        r("microsoft-teams-webhook", Medium, "Microsoft Teams incoming webhook URL",
          r"https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/[a-z0-9\-]{36}@[a-z0-9\-]{36}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9\-]{36}",
          &["webhook.office.com"]),
        // --- e-commerce and payments
        r("shopify-access-token", High, "Shopify Admin API access token", r"\bshpat_[a-fA-F0-9]{32}\b", &["shpat_"]),
        r("shopify-custom-access-token", High, "Shopify custom app access token", r"\bshpca_[a-fA-F0-9]{32}\b", &["shpca_"]),
        r("shopify-private-app-access-token", High, "Shopify private app access token", r"\bshppa_[a-fA-F0-9]{32}\b", &["shppa_"]),
        r("shopify-shared-secret", High, "Shopify app shared secret", r"\bshpss_[a-fA-F0-9]{32}\b", &["shpss_"]),
        r("square-access-token", High, "Square access token", r"\b(?:EAAA|sq0atp-)[A-Za-z0-9_\-]{22,60}", &["eaaa", "sq0atp-"]).entropy(3.5),
        r("square-oauth-secret", High, "Square OAuth application secret", r"\bsq0csp-[A-Za-z0-9_\-]{43}", &["sq0csp-"]),
        r("shippo-api-token", High, "Shippo API token", r"\bshippo_(?:live|test)_[a-f0-9]{40}\b", &["shippo_"]),
        r("easypost-api-token", High, "EasyPost production API key", r"\bEZAK[A-Za-z0-9]{54}\b", &["ezak"]),
        r("duffel-api-token", High, "Duffel API token", r"\bduffel_(?:test|live)_[A-Za-z0-9_=\-]{43}", &["duffel_"]),
        // --- cloud platforms
        ctx("heroku-api-key", High, "Heroku API key", "heroku", UUID, &["heroku"]),
        r("heroku-api-key-v2", High, "Heroku API key (HRKU- format)", r"\bHRKU-AA[0-9a-zA-Z_\-]{58}", &["hrku-aa"]),
        r("digitalocean-pat", High, "DigitalOcean personal access token", r"\bdop_v1_[a-f0-9]{64}\b", &["dop_v1_"]),
        r("digitalocean-oauth-token", High, "DigitalOcean OAuth access token", r"\bdoo_v1_[a-f0-9]{64}\b", &["doo_v1_"]),
        r("digitalocean-refresh-token", High, "DigitalOcean OAuth refresh token", r"\bdor_v1_[a-f0-9]{64}\b", &["dor_v1_"]),
        r("azure-storage-account-key", Critical, "Azure storage account key in a connection string",
          r"(?i)AccountKey=([A-Za-z0-9+/]{86}==)", &["accountkey="]).group(1),
        r("azure-ad-client-secret", High, "Microsoft Entra ID (Azure AD) client secret",
          r#"(?m)(?:^|[\s'"`=:(,])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:$|[\s'"`;,)])"#, &["q~"]).group(1).entropy(3.0),
        r("azure-sas-token", High, "Azure shared access signature",
          r#"(?i)\bsv=\d{4}-\d{2}-\d{2}[^\s'"`]{0,400}?[&?]sig=([A-Za-z0-9%+/]{40,100})"#, &["sig="]).group(1),
        r("azure-devops-pat", High, "Azure DevOps personal access token", r"\b[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}\b", &["azdo"]),
        r("alibaba-access-key-id", High, "Alibaba Cloud AccessKey ID", r"\bLTAI[A-Za-z0-9]{20}\b", &["ltai"]).entropy(3.0),
        r("cloudflare-origin-ca-key", High, "Cloudflare Origin CA key", r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b", &["v1.0-"]),
        ctx("cloudflare-api-token", High, "Cloudflare API token", "cloudflare", r"[A-Za-z0-9_\-]{40}", &["cloudflare"]).entropy(3.5),
        r("flyio-access-token", High, "Fly.io access token",
          r"\b(?:fo1_[A-Za-z0-9_\-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3})", &["fo1_", "fm1a_", "fm1r_", "fm2_"]),
        ctx("netlify-access-token", High, "Netlify access token", "netlify", r"[A-Za-z0-9_\-]{40,46}", &["netlify"]).entropy(3.5),
        ctx("vercel-access-token", High, "Vercel access token", "vercel", r"[A-Za-z0-9]{24}", &["vercel"]).entropy(3.5),
        r("supabase-access-token", High, "Supabase personal access token", r"\bsbp_[a-f0-9]{40}\b", &["sbp_"]),
        r("supabase-secret-key", High, "Supabase secret API key", r"\bsb_secret_[A-Za-z0-9_\-]{31,}", &["sb_secret_"]),
        r("render-api-key", High, "Render API key", r"\brnd_[A-Za-z0-9]{32}\b", &["rnd_"]).entropy(3.5),
        r("tailscale-key", High, "Tailscale API, auth or OAuth client key",
          r"\btskey-(?:api|auth|client|webhook|scim)-[A-Za-z0-9]{10,}-[A-Za-z0-9]{20,}", &["tskey-"]),
        ctx("ngrok-authtoken", High, "ngrok authtoken", "ngrok", r"[A-Za-z0-9]{20,30}_[A-Za-z0-9]{17,30}", &["ngrok"]),
        r("planetscale-api-token", High, "PlanetScale service token", r"\bpscale_tkn_[A-Za-z0-9_=.\-]{32,64}", &["pscale_tkn_"]),
        r("planetscale-password", High, "PlanetScale database password", r"\bpscale_pw_[A-Za-z0-9_=.\-]{32,64}", &["pscale_pw_"]),
        r("planetscale-oauth-token", High, "PlanetScale OAuth token", r"\bpscale_oauth_[A-Za-z0-9_=.\-]{32,64}", &["pscale_oauth_"]),
        r("databricks-api-token", High, "Databricks personal access token", r"\bdapi[a-f0-9]{32}(?:-\d)?\b", &["dapi"]).entropy(3.0),
        // --- observability
        ctx("datadog-api-key", High, "Datadog API key", r"datadog|dd[_\-]api[_\-]?key", "[a-f0-9]{32}", &["datadog", "dd_api", "dd-api"]).entropy(3.0),
        ctx("datadog-app-key", High, "Datadog application key", r"datadog[\w.\-]{0,10}app|dd[_\-]app(?:lication)?[_\-]?key", "[a-f0-9]{40}",
            &["datadog", "dd_app", "dd-app"]).entropy(3.0),
        r("grafana-api-key", High, "Grafana API key (legacy)", r"\beyJrIjoi[A-Za-z0-9]{70,400}={0,2}", &["eyjrijoi"]),
        r("grafana-cloud-api-token", High, "Grafana Cloud access policy token", r"\bglc_[A-Za-z0-9+/]{32,400}={0,2}", &["glc_"]).entropy(3.5),
        r("grafana-service-account-token", High, "Grafana service account token", r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b", &["glsa_"]),
        r("new-relic-user-api-key", High, "New Relic user API key", r"\bNRAK-[A-Z0-9]{27}\b", &["nrak-"]),
        r("new-relic-insert-key", High, "New Relic insert key", r"\bNRII-[A-Za-z0-9_\-]{32}", &["nrii-"]),
        r("new-relic-browser-api-token", Medium, "New Relic browser API token", r"\bNRJS-[a-f0-9]{19}\b", &["nrjs-"]),
        r("new-relic-license-key", High, "New Relic ingest license key", r"\b[a-f0-9]{36}NRAL\b", &["nral"]),
        r("sentry-org-auth-token", High, "Sentry organization auth token", r"\bsntrys_eyJ[A-Za-z0-9+/=_\-]{60,}", &["sntrys_"]),
        r("sentry-user-auth-token", High, "Sentry user auth token", r"\bsntryu_[a-f0-9]{64}\b", &["sntryu_"]),
        r("dynatrace-api-token", High, "Dynatrace API token", r"\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b", &["dt0c01."]),
        ctx("pagerduty-api-key", High, "PagerDuty REST API key", "pagerduty", r"u\+[A-Za-z0-9_+\-]{18}|[A-Za-z0-9_+\-]{20}", &["pagerduty"]).entropy(3.0),
        ctx("opsgenie-api-key", High, "Opsgenie API key", "opsgenie", UUID, &["opsgenie"]),
        r("sonarqube-token", High, "SonarQube user, project or analysis token", r"\b(?:squ|sqp|sqa)_[a-f0-9]{40}\b", &["squ_", "sqp_", "sqa_"]),
        ctx("codecov-token", Medium, "Codecov upload token", "codecov", UUID, &["codecov"]),
        ctx("snyk-api-token", High, "Snyk API token", "snyk", UUID, &["snyk"]),
        // --- AI providers
        r("openai-api-key", High, "OpenAI API key",
          r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,74}T3BlbkFJ[A-Za-z0-9_\-]{20,74}", &["t3blbkfj"]),
        r("anthropic-api-key", High, "Anthropic API key", r"\bsk-ant-api03-[A-Za-z0-9_\-]{93}AA", &["sk-ant-api03"]),
        r("anthropic-admin-key", Critical, "Anthropic admin API key", r"\bsk-ant-admin01-[A-Za-z0-9_\-]{93}AA", &["sk-ant-admin01"]),
        r("huggingface-access-token", High, "Hugging Face access token", r"\bhf_[A-Za-z]{34}\b", &["hf_"]).entropy(3.0),
        r("huggingface-org-api-token", High, "Hugging Face organization API token", r"\bapi_org_[A-Za-z]{34}\b", &["api_org_"]).entropy(3.0),
        r("groq-api-key", High, "Groq API key", r"\bgsk_[A-Za-z0-9]{52}\b", &["gsk_"]),
        r("perplexity-api-key", High, "Perplexity API key", r"\bpplx-[A-Za-z0-9]{48}\b", &["pplx-"]),
        r("replicate-api-token", High, "Replicate API token", r"\br8_[A-Za-z0-9]{37}\b", &["r8_"]),
        r("openrouter-api-key", High, "OpenRouter API key", r"\bsk-or-v1-[a-f0-9]{64}\b", &["sk-or-v1-"]),
        // --- HashiCorp
        r("vault-service-token", High, "HashiCorp Vault service token", r"\bhvs\.[A-Za-z0-9_\-]{24,}", &["hvs."]).entropy(3.5),
        r("vault-batch-token", High, "HashiCorp Vault batch token", r"\bhvb\.[A-Za-z0-9_\-]{100,}", &["hvb."]).entropy(3.5),
        r("vault-recovery-token", High, "HashiCorp Vault recovery token", r"\bhvr\.[A-Za-z0-9_\-]{24,}", &["hvr."]).entropy(3.5),
        r("terraform-cloud-api-token", High, "HashiCorp Terraform Cloud / Enterprise API token",
          r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}", &[".atlasv1."]),
        // --- developer tools
        r("atlassian-api-token", High, "Atlassian API token", r"\bATATT3[A-Za-z0-9_\-=]{186}", &["atatt3"]),
        ctx("atlassian-legacy-api-token", High, "Atlassian (Jira, Confluence) legacy API token", "atlassian|confluence|jira", "[a-z0-9]{24}",
            &["atlassian", "confluence", "jira"]).entropy(3.5),
        r("bitbucket-app-password", High, "Bitbucket app password or API token", r"\bATBB[A-Za-z0-9_=.\-]{28,}", &["atbb"]).entropy(3.5),
        r("linear-api-key", High, "Linear API key", r"\blin_api_[A-Za-z0-9]{40}\b", &["lin_api_"]),
        r("linear-oauth-token", High, "Linear OAuth access token", r"\blin_oauth_[a-f0-9]{64}\b", &["lin_oauth_"]),
        r("doppler-token", High, "Doppler token (personal, service, service account, CLI, SCIM or audit)",
          r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b", &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."]),
        r("pulumi-access-token", High, "Pulumi access token", r"\bpul-[a-f0-9]{40}\b", &["pul-"]),
        r("postman-api-token", High, "Postman API key", r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b", &["pmak-"]),
        r("prefect-api-token", High, "Prefect API key", r"\bpnu_[A-Za-z0-9]{36}\b", &["pnu_"]),
        r("readme-api-token", High, "ReadMe API key", r"\brdme_[a-z0-9]{70}\b", &["rdme_"]),
        r("frameio-api-token", High, "Frame.io developer token", r"\bfio-u-[A-Za-z0-9_=\-]{64}", &["fio-u-"]),
        r("mapbox-secret-token", High, "Mapbox secret access token", r"\bsk\.eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}", &["sk.eyj"]),
        ctx("okta-api-token", High, "Okta API token", "okta", r"00[A-Za-z0-9_\-]{40}", &["okta"]).entropy(3.5),
        r("1password-service-account-token", Critical, "1Password service account token", r"\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}", &["ops_eyj"]),
        r("1password-secret-key", Critical, "1Password account secret key",
          r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}\b", &["a3-"]).entropy(3.0),
        r("contentful-pat", High, "Contentful personal access token", r"\bCFPAT-[A-Za-z0-9_\-]{43}", &["cfpat-"]),
        r("harness-api-key", High, "Harness personal or service account token",
          r"\b(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20}\b", &["pat.", "sat."]),
        r("infracost-api-token", High, "Infracost API key", r"\bico-[A-Za-z0-9]{32}\b", &["ico-"]).entropy(3.0),
        r("typeform-api-token", High, "Typeform personal access token", r"\btfp_[A-Za-z0-9_=.\-]{59}", &["tfp_"]),
        r("scalingo-api-token", High, "Scalingo API token", r"\btk-us-[A-Za-z0-9_\-]{48}", &["tk-us-"]),
        r("buildkite-api-token", High, "Buildkite user API access token", r"\bbkua_[a-f0-9]{40}\b", &["bkua_"]),
        r("circleci-pat", High, "CircleCI personal API token", r"\bCCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}\b", &["ccipat_"]),
        r("figma-pat", High, "Figma personal access token", r"\bfigd_[A-Za-z0-9_\-]{40}", &["figd_"]),
        r("notion-api-token", High, "Notion integration token", r"\bntn_[A-Za-z0-9]{46}\b", &["ntn_"]).entropy(3.5),
        r("airtable-pat", High, "Airtable personal access token", r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b", &["pat"]),
        r("hubspot-private-app-token", High, "HubSpot private app access token", &format!(r"\bpat-(?:na|eu)1-{UUID}\b"), &["pat-na1-", "pat-eu1-"]),
        ctx("algolia-api-key", Medium, "Algolia admin API key", "algolia", "[a-f0-9]{32}", &["algolia"]).entropy(3.0),
        ctx("zendesk-api-token", High, "Zendesk API token", "zendesk", "[A-Za-z0-9]{40}", &["zendesk"]).entropy(3.5),
        ctx("intercom-api-token", High, "Intercom access token", "intercom", r"[A-Za-z0-9=_\-]{59,60}", &["intercom"]).entropy(3.5),
        ctx("facebook-app-secret", High, "Facebook app secret", "facebook", "[a-f0-9]{32}", &["facebook"]).entropy(3.0),
        r("twitter-bearer-token", High, "Twitter/X API bearer token", r"\bAAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{60,}", &["aaaaaaaaaaaaaaaaaaaaa"]).entropy(3.5),
        r("resend-api-key", High, "Resend API key", r"\bre_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}\b", &["re_"]).entropy(3.5),
        // --- generic
        r("generic-api-key", Medium, "Generic secret assigned to a credential-like name (high entropy)",
          // The value is quoted, or unquoted and alone up to the end of
          // the line (a config file); an unquoted value followed by `;`,
          // `,` or `)` is code (`len = SHA256_DIGEST_LENGTH;`).
          r#"(?im)(?:api[_\-.]?key|secret|token|passw(?:or)?d|pwd|auth[_\-.]?key|access[_\-.]?key|credentials?)[\w.\-]{0,20}?[ \t'"]{0,3}(?:=|:=|=>|:|\?=)[ \t]{0,5}(?:['"`]([A-Za-z0-9_\-+/=.~]{16,128})['"`]|([A-Za-z0-9_\-+/=.~]{16,128})[ \t]*(?:#.*)?\r?$)"#,
          &["api_key", "api-key", "apikey", "api.key", "secret", "token", "passwd", "password", "pwd", "auth_key", "auth-key", "access_key", "access-key", "credential"])
          .entropy(3.7).placeholders(),
    ]
}

/// Values that are obviously not secrets: environment references,
/// template expressions, angle-bracket placeholders, masks.
fn placeholder_allowlist() -> Allowlist {
    let regexes = [
        r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$",
        r"^\$\(.*\)$",
        r"^\{\{.*\}\}$",
        r"^\{[A-Za-z0-9_]*\}$",
        r"^<[^>]*>$",
        r"^%[A-Za-z_]+%$",
        r"^[*xX.•]+$",
        r"(?i)^(?:true|false|null|none|undefined)$",
    ];
    Allowlist {
        description: "placeholder values".into(),
        condition: Condition::Or,
        regex_target: RegexTarget::Secret,
        regexes: regexes
            .iter()
            .map(|s| regex::bytes::Regex::new(s).expect("built-in allowlist regex compiles"))
            .collect(),
        stopwords: [
            "changeme",
            "change_me",
            "placeholder",
            "password",
            "passwd",
            "your_",
            "your-",
            "example",
            "dummy",
            "redacted",
            "xxxxxx",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ..Default::default()
    }
}

/// Allowlists every built-in rule shares: documented example credentials.
pub(crate) fn global_allowlists() -> Vec<Allowlist> {
    vec![Allowlist {
        description: "documented example credentials".into(),
        condition: Condition::Or,
        regex_target: RegexTarget::Secret,
        // AWS documents AKIAIOSFODNN7EXAMPLE and a secret ending in EXAMPLEKEY.
        stopwords: vec!["example".into()],
        ..Default::default()
    }]
}

/// Compiles the built-in table. A failure is a bug in this file; the unit
/// test below compiles every rule.
pub(crate) fn compile() -> Result<Vec<Rule>, String> {
    specs()
        .into_iter()
        .map(|s| {
            let (regex, regex_src) = match &s.regex {
                Some(src) => {
                    let (re, tr) = super::rule::compile_bytes(src)
                        .map_err(|e| format!("built-in rule {}: {e}", s.id))?;
                    (Some(re), Some(tr))
                }
                None => (None, None),
            };
            let path = match s.path {
                Some(p) => Some(
                    super::rule::compile_str(p)
                        .map_err(|e| format!("built-in rule {} path: {e}", s.id))?,
                ),
                None => None,
            };
            Ok(Rule {
                id: s.id.to_string(),
                description: s.description.to_string(),
                severity: s.severity,
                keywords: s.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
                entropy: s.entropy,
                secret_group: s.group,
                tags: Vec::new(),
                regex,
                regex_src,
                path,
                allowlists: if s.placeholders {
                    vec![placeholder_allowlist()]
                } else {
                    Vec::new()
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_compiles_and_ids_are_unique_kebab_case() {
        let rules = compile().unwrap();
        assert!(rules.len() >= 100, "only {} built-in rules", rules.len());
        let mut ids = std::collections::HashSet::new();
        for r in &rules {
            assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                r.id
            );
            assert!(r.regex.is_some() || r.path.is_some());
            if r.regex.is_some() {
                assert!(!r.keywords.is_empty(), "{} has no keywords", r.id);
            }
            if let Some(re) = &r.regex {
                assert!(
                    r.secret_group < re.captures_len(),
                    "{}: secret group {} out of range",
                    r.id,
                    r.secret_group
                );
            }
        }
    }
}
