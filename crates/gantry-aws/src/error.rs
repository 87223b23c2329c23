//! The typed error of every AWS call.

/// What went wrong talking to AWS. Every variant names the operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// AWS answered with an error document.
    #[error("{operation}: {code}: {message}{}", request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Api {
        operation: String,
        /// HTTP status of the response.
        status: u16,
        /// The AWS error code (`AccessDenied`, `NoSuchBucket`).
        code: String,
        message: String,
        request_id: Option<String>,
    },
    /// The request never got an answer (connection refused, timeout).
    #[error("{operation}: request failed: {message}")]
    Transport { operation: String, message: String },
    /// The answer could not be understood.
    #[error("{operation}: unexpected response: {message}")]
    Response { operation: String, message: String },
    /// No usable credentials.
    #[error("no valid credentials: {0}")]
    Credentials(String),
    /// The request could not be built or signed (bad endpoint, bad header).
    #[error("{operation}: invalid request: {message}")]
    Request { operation: String, message: String },
}

/// Error codes that mean "slow down, then try again".
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

impl Error {
    /// The AWS error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for an API error with one of `codes`.
    pub fn is(&self, codes: &[&str]) -> bool {
        self.code().is_some_and(|c| codes.contains(&c))
    }

    /// Throttling, 5xx and transport failures are worth retrying; anything
    /// else fails the same way again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { status, code, .. } => {
                *status >= 500 || *status == 429 || THROTTLING.contains(&code.as_str())
            }
            Error::Transport { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn response(operation: &str, message: impl Into<String>) -> Error {
        Error::Response {
            operation: operation.to_owned(),
            message: message.into(),
        }
    }
}
