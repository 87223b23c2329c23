use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use gantry_core::Role;

use crate::{CmdResult, client, drift, run_cmd, scan_cmd, server_cmd, tf_cmd, validate};

#[derive(Parser)]
#[command(
    name = "gantry",
    version,
    about = "CI/CD, infrastructure as code, monitoring, security and incident response in one binary",
    after_help = "Examples:\n  gantry up --demo                      run the server with the demo workspace\n  gantry validate -C path/to/repo       check gantry.yml and gantry.d/*.yml\n  gantry token create --role viewer     create an API token (printed once)\n  gantry events list --kind 'server.*'  read the event log\n\nExit codes: 0 ok, 1 the job failed or found problems, 2 usage or configuration error."
)]
pub struct Cli {
    /// Log format on standard error [default: server.log-format in gantry.yml, else text].
    #[arg(long, global = true, value_enum, env = "GANTRY_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server on the embedded store (SQLite under the data dir).
    #[command(
        after_help = "Examples:\n  gantry up --demo\n  gantry up --listen 0.0.0.0:8080 --data-dir /var/lib/gantry\n\nOn first start the server creates an admin token and writes it to DATA_DIR/admin-token (mode 0600)."
    )]
    Up(UpArgs),
    /// Run one server replica on a shared PostgreSQL database.
    #[command(
        after_help = "Examples:\n  gantry serve --database-url postgres://gantry@db/gantry --listen 0.0.0.0:8080\n\nSeveral replicas may share one database; the first to start creates the admin token."
    )]
    Serve(ServeArgs),
    /// Run a GitHub Actions workflow here, now.
    #[command(
        after_help = "Examples:\n  gantry run                       the only workflow in .gantry/workflows or .github/workflows\n  gantry run ci -j test --matrix os=ubuntu-latest\n  gantry run deploy.yml --event workflow_dispatch --input env=staging --secret TOKEN=abc\n  gantry run --list\n\nExit codes: 0 every required job succeeded, 1 a job failed, 2 the workflow or the arguments are invalid (nothing ran)."
    )]
    Run(RunArgs),
    /// Run any Terraform command on the Terraform files here (`alias terraform='gantry tf'`).
    #[command(
        after_help = "Examples:\n  gantry tf init\n  gantry tf plan -out=tfplan -var 'env=prod'\n  gantry tf apply tfplan\n  gantry tf -chdir=infra state list\n\nExit codes as Terraform's: 0 ok, 1 error, 2 changes present (plan -detailed-exitcode), 3 unformatted files (fmt -check).",
        disable_help_flag = true
    )]
    Tf {
        /// The Terraform command and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Show what applying the Terraform files here would change (as `gantry tf plan`).
    #[command(disable_help_flag = true)]
    Plan(TfArgs),
    /// Create or update infrastructure (as `gantry tf apply`).
    #[command(disable_help_flag = true)]
    Apply(TfArgs),
    /// Destroy the infrastructure the state manages (as `gantry tf destroy`).
    #[command(disable_help_flag = true)]
    Destroy(TfArgs),
    /// Update the state from the real infrastructure (as `gantry tf refresh`).
    #[command(disable_help_flag = true)]
    Refresh(TfArgs),
    /// Bring an existing object under management (as `gantry tf import ADDR ID`).
    #[command(disable_help_flag = true)]
    Import(TfArgs),
    /// Show root module outputs (as `gantry tf output`).
    #[command(disable_help_flag = true)]
    Output(TfArgs),
    /// Inspect and change the state (as `gantry tf state ...`).
    #[command(disable_help_flag = true)]
    State(TfArgs),
    /// Show a saved plan or the state (as `gantry tf show`).
    #[command(disable_help_flag = true)]
    Show(TfArgs),
    /// Create, select, list and delete workspaces (as `gantry tf workspace ...`).
    #[command(disable_help_flag = true)]
    Workspace(TfArgs),
    /// Print the dependency graph as DOT (as `gantry tf graph`).
    #[command(disable_help_flag = true)]
    Graph(TfArgs),
    /// Rewrite Terraform files in the canonical format (as `gantry tf fmt`).
    #[command(disable_help_flag = true)]
    Fmt(TfArgs),
    /// Release a stuck state lock by its ID (as `gantry tf force-unlock ID`).
    #[command(disable_help_flag = true)]
    ForceUnlock(TfArgs),
    /// Compare the real infrastructure with the state (a refresh-only plan) and list what drifted.
    #[command(
        after_help = "Examples:\n  gantry drift\n  gantry drift -C infra/network --json\n\nExit codes: 0 no drift, 2 drift found, 1 error (the check could not run)."
    )]
    Drift(DriftArgs),
    /// Scan for vulnerable dependencies, secrets and misconfigurations (and AWS posture with --cloud).
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  gantry scan db import osv/crates.io.zip osv/npm.zip\n  gantry scan\n  gantry scan --secrets --git --fail-on high\n  gantry scan infra --misconfig --format sarif --output gantry.sarif\n  gantry scan --deps --format cyclonedx --output sbom.json\n  gantry scan --cloud --fail-on critical\n\nWith no scanner flags: --deps --secrets --misconfig. Findings in .gantry/scanignore.yml (id, path, reason, expires) are left out.\nExit codes: 0 nothing at or above --fail-on (or no --fail-on), 1 findings reach it, 2 usage or configuration errors, or nothing could be scanned."
    )]
    Scan(ScanArgs),
    /// Evaluate a PromQL expression on a running server.
    #[command(
        after_help = "Examples:\n  gantry query up\n  gantry query 'sum by (job) (rate(gantry_http_requests_total[5m]))' --start -1h --step 1m\n  gantry query 'up == 0' --time 2026-12-04T10:00:00Z --json\n\nTimes are Unix seconds, RFC 3339, `now` or `-DURATION` (before now). A range (--start) prints a chart per series.\nExit codes: 0 ok, 1 the server refused the query or is unreachable, 2 invalid arguments."
    )]
    Query(QueryArgs),
    /// Work with Prometheus rule files.
    #[command(subcommand)]
    Rules(RulesCmd),
    /// List the probes (gantry.yml `monitors:`) of a running server and their state.
    #[command(after_help = "Examples:\n  gantry monitors\n  gantry monitors --json")]
    Monitors(MonitorsArgs),
    /// Check every configuration file Gantry knows; exit 2 on any error.
    #[command(after_help = "Examples:\n  gantry validate\n  gantry validate -C path/to/repo")]
    Validate(ValidateArgs),
    /// Create, list and revoke API tokens (needs an admin token).
    #[command(subcommand)]
    Token(TokenCmd),
    /// Read and write the event log of a running server.
    #[command(subcommand)]
    Events(EventsCmd),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  gantry completions bash > /etc/bash_completion.d/gantry\n  gantry completions zsh > \"${fpath[1]}/_gantry\""
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
pub struct TfArgs {
    /// Arguments, with Terraform's spellings (`-out=FILE`, `-var 'k=v'`, `-auto-approve`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args)]
pub struct ServerArgs {
    /// Address to listen on [default: server.listen in gantry.yml, else 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// Where Gantry keeps its data [default: server.data-dir in gantry.yml, else ./.gantry].
    #[arg(long, env = "GANTRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The workspace holding gantry.yml [default: .].
    #[arg(short = 'C', long = "dir")]
    pub dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Start with the demo workspace (created under the data dir if absent).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// PostgreSQL URL shared by all replicas [default: server.database-url in gantry.yml].
    #[arg(long, env = "GANTRY_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Args)]
pub struct RunArgs {
    /// The workflow: a path, a file name or stem, or its `name:` [default: the only one].
    pub workflow: Option<String>,
    /// The repository holding .gantry/workflows or .github/workflows [default: .].
    #[arg(short = 'C', long = "dir")]
    pub dir: Option<PathBuf>,
    /// Run only this job (and the jobs it needs).
    #[arg(short = 'j', long = "job")]
    pub job: Option<String>,
    /// The triggering event.
    #[arg(long, default_value = "push", value_parser = ["push", "pull_request", "workflow_dispatch", "schedule"])]
    pub event: String,
    /// A workflow_dispatch input, NAME=VALUE (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub input: Vec<String>,
    /// Run only matrix legs with this value, KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub matrix: Vec<String>,
    /// Legs running at once [default: the number of CPUs].
    #[arg(long)]
    pub parallel: Option<usize>,
    /// List jobs and matrix legs without running them.
    #[arg(long)]
    pub list: bool,
    /// One JSON event per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// A secret, NAME=VALUE (repeatable); also GANTRY_SECRET_<NAME> variables.
    #[arg(long, value_name = "NAME=VALUE")]
    pub secret: Vec<String>,
    /// A dotenv file of secrets (repeatable).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Vec<PathBuf>,
    /// Also run jobs whose runs-on has this label here, LABEL or LABEL=host (repeatable).
    #[arg(long, value_name = "LABEL[=host]")]
    pub map_label: Vec<String>,
    /// Data dir whose event log records the run [default: DIR/.gantry if it exists].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct DriftArgs {
    /// The Terraform working directory [default: .].
    #[arg(short = 'C', long = "dir", default_value = ".")]
    pub dir: PathBuf,
    /// The report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ScanArgs {
    #[command(subcommand)]
    pub sub: Option<ScanSub>,
    /// The directory or file to scan [default: .].
    pub path: Option<PathBuf>,
    /// Vulnerable dependencies in lockfiles (needs an advisory database: gantry scan db).
    #[arg(long)]
    pub deps: bool,
    /// Secrets in files.
    #[arg(long)]
    pub secrets: bool,
    /// Also every commit's added lines, for secrets.
    #[arg(long)]
    pub git: bool,
    /// Misconfigurations in Terraform, workflows, Dockerfiles and Kubernetes manifests.
    #[arg(long)]
    pub misconfig: bool,
    /// The posture of the AWS account the standard credential chain reaches (read-only).
    #[arg(long)]
    pub cloud: bool,
    /// With --cloud: a region for the regional checks (EC2, KMS, CloudTrail), repeatable; `all` for every region enabled for the account. Default: the configured region.
    #[arg(long = "region", value_name = "REGION", requires = "cloud")]
    pub regions: Vec<String>,
    /// Secret rules in gitleaks' TOML format instead of the built-in ones (`[extend] useDefault = true` adds to them).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// table, json, sarif or cyclonedx.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write the report here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// A JSON report of an earlier scan: report only findings not in it.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// The data dir holding the advisory database (scan/osv) and the event log.
    #[arg(
        long,
        env = "GANTRY_DATA_DIR",
        default_value = ".gantry",
        global = true
    )]
    pub data_dir: PathBuf,
}

#[derive(Subcommand)]
pub enum ScanSub {
    /// Manage the offline advisory database (OSV) under the data dir.
    #[command(subcommand)]
    Db(ScanDbCmd),
}

#[derive(Subcommand)]
pub enum ScanDbCmd {
    /// Import OSV exports (an ecosystem's all.zip) or directories of OSV JSON records.
    Import {
        #[arg(required = true, value_name = "FILE.zip|DIR")]
        files: Vec<PathBuf>,
    },
    /// Download OSV's exports and import them (needs network access).
    Update {
        /// An ecosystem to update (repeatable): crates.io, npm, PyPI, Go, RubyGems, Packagist, Maven [default: all].
        #[arg(long = "ecosystem", value_name = "E")]
        ecosystems: Vec<String>,
        /// Where the exports are: BASE/ECOSYSTEM/all.zip.
        #[arg(long, env = "GANTRY_OSV_URL", default_value = gantry_scan::deps::DEFAULT_BASE_URL)]
        base_url: String,
    },
    /// Records per ecosystem and their age.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ValidateArgs {
    /// The workspace to check [default: .].
    #[arg(short = 'C', long = "dir", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct QueryArgs {
    /// The PromQL expression.
    pub expr: String,
    /// Evaluation time of an instant query (default: now).
    #[arg(long)]
    pub time: Option<String>,
    /// Start of a range query.
    #[arg(long, allow_hyphen_values = true)]
    pub start: Option<String>,
    /// End of a range query (default: now).
    #[arg(long, allow_hyphen_values = true)]
    pub end: Option<String>,
    /// Resolution of a range query, like `15s` or `1m` (default: 60 points).
    #[arg(long)]
    pub step: Option<String>,
    /// Print the server's JSON answer.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Subcommand)]
pub enum RulesCmd {
    /// Check rule files as `promtool check rules` does: YAML shape, PromQL,
    /// names, labels and templates, each problem at file:line:col.
    #[command(
        after_help = "Examples:\n  gantry rules check rules/*.yml\n\nExit codes: 0 every file is valid, 1 a file has problems, 2 invalid arguments."
    )]
    Check {
        /// Rule files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
pub struct MonitorsArgs {
    /// Print the server's JSON answer.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Args, Clone)]
pub struct ClientArgs {
    /// Server URL.
    #[arg(
        long,
        env = "GANTRY_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// Data dir whose admin-token is used when GANTRY_TOKEN is unset.
    #[arg(
        long,
        env = "GANTRY_DATA_DIR",
        default_value = ".gantry",
        global = true
    )]
    pub data_dir: PathBuf,
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Create a token; its secret is printed once and never stored.
    #[command(
        after_help = "Examples:\n  gantry token create --role viewer --name grafana\n  GANTRY_TOKEN=$(gantry token create --role operator --name ci --quiet)"
    )]
    Create {
        #[arg(long)]
        role: Role,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Print only the secret.
        #[arg(long, short)]
        quiet: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Subcommand)]
pub enum EventsCmd {
    /// List events, oldest first from a cursor or newest first.
    #[command(
        after_help = "Examples:\n  gantry events list --kind 'server.*' --limit 20\n  gantry events list --after 1200 --json"
    )]
    List {
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        after: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Newest first.
        #[arg(long)]
        desc: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Append an event (needs an operator token).
    #[command(
        after_help = "Examples:\n  gantry events emit deploy.finished service/api --data '{\"version\":\"1.4.2\"}'"
    )]
    Emit {
        kind: String,
        subject: String,
        /// JSON data.
        #[arg(long, default_value = "{}")]
        data: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GANTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// `gantry plan ARGS` is `gantry tf plan ARGS`.
fn with_command(command: &str, a: TfArgs) -> Vec<String> {
    let mut v = vec![command.to_owned()];
    v.extend(a.args);
    v
}

pub fn dispatch(cli: Cli) -> CmdResult {
    // The servers read gantry.yml first, which may choose the log format.
    match cli.command {
        Command::Up(args) => return server_cmd::up(args, cli.log_format),
        Command::Serve(args) => return server_cmd::serve(args, cli.log_format),
        _ => init_logging(cli.log_format.unwrap_or(LogFormat::Text)),
    }
    match cli.command {
        Command::Up(_) | Command::Serve(_) => Ok(()),
        Command::Validate(args) => validate::run(&args.dir),
        Command::Run(args) => run_cmd::run(args),
        Command::Tf { args } => tf_cmd::run(args),
        Command::Plan(a) => tf_cmd::run(with_command("plan", a)),
        Command::Apply(a) => tf_cmd::run(with_command("apply", a)),
        Command::Destroy(a) => tf_cmd::run(with_command("destroy", a)),
        Command::Refresh(a) => tf_cmd::run(with_command("refresh", a)),
        Command::Import(a) => tf_cmd::run(with_command("import", a)),
        Command::Output(a) => tf_cmd::run(with_command("output", a)),
        Command::State(a) => tf_cmd::run(with_command("state", a)),
        Command::Show(a) => tf_cmd::run(with_command("show", a)),
        Command::Workspace(a) => tf_cmd::run(with_command("workspace", a)),
        Command::Graph(a) => tf_cmd::run(with_command("graph", a)),
        Command::Fmt(a) => tf_cmd::run(with_command("fmt", a)),
        Command::ForceUnlock(a) => tf_cmd::run(with_command("force-unlock", a)),
        Command::Drift(a) => drift::run(a),
        Command::Scan(a) => scan_cmd::run(a),
        Command::Query(a) => client::query(a),
        Command::Monitors(a) => client::monitors(a),
        Command::Rules(RulesCmd::Check { files }) => validate::rules_check(&files),
        Command::Token(cmd) => client::token(cmd),
        Command::Events(cmd) => client::events(cmd),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "gantry", &mut std::io::stdout());
            Ok(())
        }
    }
}
