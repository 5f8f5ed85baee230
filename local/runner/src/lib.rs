//! The local platform: provisions template.yaml's resources in moto, serves every function,
//! polls the queues and hosts the Meta sandbox. Dev and test only; every production code
//! path it runs lives in the function crates.

pub mod aws_calls;
pub mod banner;
pub mod bench_figures;
pub mod capacity;
mod capacity_meter;
pub mod iam;
pub mod poller;
pub mod provision;
pub mod schedule;
pub mod seed;
pub mod settings;
pub mod stack;

pub use settings::{DemoTenant, DevSettings};
pub use stack::{RunningStack, start};
