//! Gantry's AWS support: credentials and region from the standard chain,
//! SigV4 request signing, thin service clients in each service's wire
//! protocol, and the `aws` provider (`registry.terraform.io/hashicorp/aws`)
//! with its resources and data sources, and the `s3` state backend.
//!
//! Owns: AWS signing, endpoints, retries, the service clients under
//! [`service`], and the provider under [`provider`].
//! Never: evaluates HCL (the engine hands the provider evaluated values),
//! writes SQL, or prints (errors go back as values).

pub mod backend;
pub mod client;
pub mod error;
pub mod protocol;
pub mod provider;
pub mod service;
pub mod xml;

pub use client::{Client, CredentialSource, Settings};
pub use error::Error;
pub use provider::factory;
