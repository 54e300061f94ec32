//! AppState: what every handler shares.

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::scim::schema::Registry;
use crate::service::schemas::Registries;
use crate::store::{PgPool, TxRetries};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub auth: Arc<Authenticator>,
    /// Each organization's schemas: the built-in registry and what the
    /// organization declared (`service::schemas`).
    pub registries: Arc<Registries>,
    pub metrics: Arc<Metrics>,
    pub tx_retries: Arc<TxRetries>,
    /// This instance's share of the rate-limit buckets.
    pub limiter: Arc<crate::service::rates::Limiter>,
    /// Where connectors' requests are recorded.
    pub request_log: Arc<crate::service::request_log::RequestLog>,
    /// Change events: the key sealing subscription secrets, the
    /// destinations webhooks may reach, the delivery client.
    pub events: Arc<crate::service::events::Events>,
}

impl AppState {
    /// The state of a server on `pool`; an error when the events' key or
    /// allowed destinations cannot be set up (a bad `SCIMD_SECRETS_KEY`,
    /// an unreadable key file, a malformed `SCIMD_WEBHOOK_ALLOWED_HOSTS`).
    /// Starts nothing that delivers: `server` does (see
    /// `service::events::start`).
    pub fn new(pool: PgPool, config: Config, clock: Clock) -> Result<Self, String> {
        let events = Arc::new(crate::service::events::Events::load(&config)?);
        let auth = Arc::new(Authenticator::new(config.auth_secret.as_ref()));
        let tx_retries = Arc::new(TxRetries::default());
        let metrics = Arc::new(Metrics::new(
            &pool,
            Arc::clone(&auth),
            Arc::clone(&tx_retries),
        ));
        let registry = Registry::new().with_max_values(config.max_values_per_attribute);
        let registries = Arc::new(Registries::new(registry));
        // The default organization is what AUTH_SECRET and anonymous
        // callers see: read at start, so neither waits on it later.
        registries.preload(&pool, crate::store::orgs::DEFAULT_ORG_ID);
        let request_log = Arc::new(crate::service::request_log::RequestLog::start(
            pool.clone(),
            config.request_log.clone(),
            clock.clone(),
            Arc::clone(&metrics),
            Arc::clone(&registries),
        ));
        Ok(AppState {
            events,
            pool,
            config: Arc::new(config),
            clock,
            auth,
            registries,
            metrics,
            tx_retries,
            limiter: Arc::default(),
            request_log,
        })
    }
}
