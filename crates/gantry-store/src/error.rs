pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A write transaction as a whole failed (for example the disk is full or
    /// the connection dropped); none of the writes batched with it are known
    /// to have committed.
    #[error("write transaction failed: {0}")]
    Transaction(String),
    /// A state write whose lineage differs from the stored state's.
    #[error("state lineage {given:?} does not match the stored lineage {stored:?}")]
    LineageMismatch { stored: String, given: String },
    /// A state write whose serial is lower than the stored state's.
    #[error("state serial {given} is lower than the stored serial {stored}")]
    SerialRegression { stored: i64, given: i64 },
    #[error("store is closed")]
    Closed,
}
