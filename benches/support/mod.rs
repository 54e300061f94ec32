//! The pieces of the scimd benchmark: environment (cluster, server, token),
//! seeding, the HTTP client, statistics, and one module per scenario.

pub mod auth;
pub mod bulk;
pub mod client;
pub mod declared;
pub mod env;
pub mod filters;
pub mod forged;
pub mod membership;
pub mod patch_limits;
pub mod rng;
pub mod seed;
pub mod soak;
pub mod stats;

/// Every fallible step returns this; a benchmark stops at the first failure
/// (after cleaning up) and says why.
pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// An error built from a message.
pub fn fail<T>(msg: impl Into<String>) -> Res<T> {
    Err(msg.into().into())
}

/// What every scenario works with.
pub struct Bench {
    pub client: client::Client,
    /// libpq URL of the benchmark database, for seeding and checks.
    pub db_url: String,
    pub seeded: seed::Seeded,
    pub iterations: usize,
    pub rng: rng::Rng,
}
