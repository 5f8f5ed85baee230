//! The WhatsApp Cloud API as Switchboard speaks it: the webhook model, its signature, and the
//! Graph API client with its error classes.

pub mod graph;
pub mod signature;
pub mod webhook;
