//! The built-in providers: random, null, local and terraform.

use std::sync::Arc;

use super::ProviderFactory;

/// Every built-in provider factory.
pub fn factories() -> Vec<Arc<dyn ProviderFactory>> {
    Vec::new()
}
