//! Change events for subscribers (issue 18): how a delivery is signed and how it is sent.

pub mod transport;
pub mod webhook;
