//! AppState: what every handler shares.

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::scim::schema::Registry;
use crate::store::{PgPool, TxRetries};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub auth: Arc<Authenticator>,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub tx_retries: Arc<TxRetries>,
}

impl AppState {
    pub fn new(pool: PgPool, config: Config, clock: Clock) -> Self {
        let auth = Arc::new(Authenticator::new(config.auth_secret.as_ref()));
        let tx_retries = Arc::new(TxRetries::default());
        let metrics = Arc::new(Metrics::new(
            &pool,
            Arc::clone(&auth),
            Arc::clone(&tx_retries),
        ));
        let registry = Registry::new().with_max_values(config.max_values_per_attribute);
        AppState {
            pool,
            config: Arc::new(config),
            clock,
            auth,
            registry: Arc::new(registry),
            metrics,
            tx_retries,
        }
    }
}
