//! The store against the real DynamoDB API, served by moto. Run under `scripts/with-moto.sh`.

mod common;
mod consent;
mod directory;
mod idempotency;
mod inbound;
mod outbound;
mod phone_routes;
mod prohibited_refusals;
mod reads;
mod send_pace;
mod statuses;
mod templates;
mod tenancy;
mod tenant_settings;
mod unrouted;
mod wire;
