//! Gauges read when Prometheus scrapes rather than kept up to date on every
//! request: the pool's current state, and the embedded cluster's.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::{EMBEDDED_DOWN, EMBEDDED_UP};
use crate::auth::Authenticator;
use crate::store::{PgPool, RetryReason, TxRetries};

pub(super) struct OnScrape {
    pool: PgPool,
    embedded: Arc<AtomicU8>,
    auth: Arc<Authenticator>,
    retries: Arc<TxRetries>,
}

impl OnScrape {
    pub(super) fn new(
        pool: PgPool,
        embedded: Arc<AtomicU8>,
        auth: Arc<Authenticator>,
        retries: Arc<TxRetries>,
    ) -> OnScrape {
        OnScrape {
            pool,
            embedded,
            auth,
            retries,
        }
    }
}

// `Collector` requires Debug; the pool's own Debug output is not useful here.
impl std::fmt::Debug for OnScrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnScrape").finish_non_exhaustive()
    }
}

// Help texts end in a period, as the registry adds one to its own metrics'.
impl Collector for OnScrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let state = self.pool.state();
        let in_use = state.connections.saturating_sub(state.idle_connections);
        gauge(
            &mut encoder,
            "db_pool_connections_in_use",
            "Database connections checked out of the pool.",
            in_use.into(),
        )?;
        gauge(
            &mut encoder,
            "db_pool_connections_idle",
            "Open database connections waiting in the pool.",
            state.idle_connections.into(),
        )?;
        gauge(
            &mut encoder,
            "db_pool_max_size",
            "The most database connections the pool opens.",
            self.pool.max_size().into(),
        )?;
        let runs = u64::try_from(self.auth.legacy_verifications()).unwrap_or(u64::MAX);
        let c = ConstCounter::new(runs);
        let metric = encoder.encode_descriptor(
            "token_argon2_verifications",
            "Legacy argon2id token hashes verified (each once, then stored as a SHA-256 digest).",
            None,
            c.metric_type(),
        )?;
        c.encode(metric)?;
        let mut family = encoder.encode_descriptor(
            "db_transaction_retries",
            "Transactions rolled back by PostgreSQL and run again, by reason.",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for reason in RetryReason::ALL {
            let c = ConstCounter::new(self.retries.get(reason));
            let labels = [("reason", reason.as_str())];
            let metric = family.encode_family(&labels)?;
            c.encode(metric)?;
        }
        let up = match self.embedded.load(Ordering::Relaxed) {
            EMBEDDED_UP => Some(1),
            EMBEDDED_DOWN => Some(0),
            _ => None,
        };
        if let Some(up) = up {
            gauge(
                &mut encoder,
                "embedded_postgres_up",
                "1 while the embedded PostgreSQL cluster runs, 0 while it is down.",
                up,
            )?;
        }
        Ok(())
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    let metric = encoder.encode_descriptor(name, help, None, g.metric_type())?;
    g.encode(metric)
}
