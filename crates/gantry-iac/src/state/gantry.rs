//! The `gantry` backend: states in the Gantry store, per stack and
//! workspace, with their history. The lock is a store row, so it holds
//! across processes (SQLite) and server replicas (PostgreSQL). The store
//! refuses writes that change the lineage or lower the serial.

use std::sync::Arc;

use async_trait::async_trait;
use gantry_store::{Store, StoreError};

use super::backend::{Backend, LockInfo, validate_workspace_name};
use super::{State, StateError};

/// States of one stack in the Gantry store.
pub struct GantryBackend {
    store: Arc<dyn Store>,
    stack: String,
}

impl GantryBackend {
    pub fn new(store: Arc<dyn Store>, stack: String) -> GantryBackend {
        GantryBackend { store, stack }
    }

    pub fn stack(&self) -> &str {
        &self.stack
    }

    /// Up to `limit` earlier versions of a workspace's state, newest first,
    /// with the time each was written.
    pub async fn history(
        &self,
        workspace: &str,
        limit: u32,
    ) -> Result<Vec<(State, gantry_core::Timestamp)>, StateError> {
        validate_workspace_name(workspace)?;
        self.store
            .state_history(&self.stack, workspace, limit)
            .await?
            .into_iter()
            .map(|v| Ok((State::from_json(&v.body)?, v.created_at)))
            .collect()
    }
}

fn refused(e: StoreError) -> StateError {
    match e {
        e @ (StoreError::LineageMismatch { .. } | StoreError::SerialRegression { .. }) => {
            StateError::Refused(e.to_string())
        }
        e => StateError::Store(e),
    }
}

#[async_trait]
impl Backend for GantryBackend {
    fn describe(&self) -> String {
        format!("gantry (stack {})", self.stack)
    }

    async fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let mut names = self.store.list_workspaces(&self.stack).await?;
        names.retain(|n| n != "default");
        names.insert(0, "default".to_string());
        Ok(names)
    }

    async fn delete_workspace(&self, name: &str) -> Result<(), StateError> {
        validate_workspace_name(name)?;
        if name == "default" {
            return Err(StateError::DeleteDefault);
        }
        if self.store.delete_workspace(&self.stack, name).await? {
            Ok(())
        } else {
            Err(StateError::WorkspaceNotFound(name.to_string()))
        }
    }

    async fn read(&self, workspace: &str) -> Result<Option<State>, StateError> {
        validate_workspace_name(workspace)?;
        match self.store.read_state(&self.stack, workspace).await? {
            None => Ok(None),
            Some(stored) => State::from_json(&stored.body).map(Some),
        }
    }

    async fn write(&self, workspace: &str, state: &State) -> Result<(), StateError> {
        validate_workspace_name(workspace)?;
        let serial = i64::try_from(state.serial)
            .map_err(|_| StateError::Refused(format!("serial {} is too large", state.serial)))?;
        self.store
            .write_state(
                &self.stack,
                workspace,
                serial,
                &state.lineage,
                &state.to_json_pretty(),
            )
            .await
            .map_err(refused)
    }

    async fn lock(&self, workspace: &str, info: &LockInfo) -> Result<(), StateError> {
        validate_workspace_name(workspace)?;
        let mut info = info.clone();
        if info.path.is_empty() {
            info.path = format!("{}/{workspace}", self.stack);
        }
        let json = serde_json::to_string(&info).map_err(|e| StateError::Config(e.to_string()))?;
        match self
            .store
            .lock_state(&self.stack, workspace, &info.id, &json)
            .await?
        {
            None => Ok(()),
            Some(holder) => {
                let holder: LockInfo = serde_json::from_str(&holder).map_err(|e| {
                    StateError::Store(StoreError::Corrupt(format!("stored lock info: {e}")))
                })?;
                Err(StateError::Locked(Box::new(holder)))
            }
        }
    }

    async fn unlock(&self, workspace: &str, id: &str) -> Result<(), StateError> {
        validate_workspace_name(workspace)?;
        match self
            .store
            .unlock_state(&self.stack, workspace, id, false)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound(_)) => {
                Err(StateError::Unlock("the state is not locked".to_string()))
            }
            Err(StoreError::Conflict(msg)) => Err(StateError::Unlock(msg)),
            Err(e) => Err(StateError::Store(e)),
        }
    }
}
