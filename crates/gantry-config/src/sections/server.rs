//! `server:` — where and how the server listens and stores its data.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::check::Field;
use crate::suggest::did_you_mean;
use crate::values::{SIZE_EXPECTED, parse_size};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerConfig {
    /// `listen`: an IP address and port; host names are not resolved.
    pub listen: Option<SocketAddr>,
    /// `data-dir`
    pub data_dir: Option<PathBuf>,
    /// `database-url`: starts with `sqlite:` or `postgres://`.
    pub database_url: Option<String>,
    /// `body-limit`, in bytes.
    pub body_limit: Option<u64>,
    /// `log-format`
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub(crate) const FIELDS: &[Field<ServerConfig>] = &[
    ("listen", |ck, node, path, out| {
        let expected = "an IP address and port like `127.0.0.1:8080`";
        out.listen = ck.value(node, path, expected, parse_listen);
    }),
    ("data-dir", |ck, node, path, out| {
        out.data_dir = ck.value(node, path, "a non-empty path", |text| {
            (!text.is_empty()).then(|| PathBuf::from(text)).ok_or(None)
        });
    }),
    ("database-url", |ck, node, path, out| {
        let expected = "a url starting with `sqlite:` or `postgres://`";
        out.database_url = ck.value(node, path, expected, parse_database_url);
    }),
    ("body-limit", |ck, node, path, out| {
        out.body_limit = ck.value(node, path, SIZE_EXPECTED, parse_size);
    }),
    ("log-format", |ck, node, path, out| {
        out.log_format = ck.value(node, path, "`text` or `json`", parse_log_format);
    }),
];

fn parse_listen(text: &str) -> Result<SocketAddr, Option<String>> {
    text.parse().map_err(|_| {
        if let Ok(port) = text.parse::<u16>() {
            Some(format!("did you mean `0.0.0.0:{port}`?"))
        } else {
            text.strip_prefix("localhost:").map(|port| {
                format!("host names are not resolved: did you mean `127.0.0.1:{port}`?")
            })
        }
    })
}

fn parse_database_url(text: &str) -> Result<String, Option<String>> {
    if text.starts_with("sqlite:") || text.starts_with("postgres://") {
        Ok(text.to_string())
    } else if let Some(rest) = text.strip_prefix("postgresql://") {
        Err(Some(format!("did you mean `postgres://{rest}`?")))
    } else if text.ends_with(".db") || text.ends_with(".sqlite") {
        Err(Some(format!("did you mean `sqlite:{text}`?")))
    } else {
        Err(None)
    }
}

fn parse_log_format(text: &str) -> Result<LogFormat, Option<String>> {
    match text {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => {
            Err(did_you_mean(other, &["text", "json"]).map(|f| format!("did you mean `{f}`?")))
        }
    }
}
