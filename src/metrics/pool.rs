//! How long requests wait for a database connection.
//!
//! r2d2 reports every checkout with the time it took (waiting for a free
//! connection, plus its check-out test) and every checkout that timed out,
//! to the event handler the pool was built with. The pool is built before
//! the [`AppState`](crate::state::AppState), and so before any
//! [`Metrics`](super::Metrics), so the handler writes to one process-wide
//! histogram that every registry exposes. A server process has one pool,
//! so this is that pool's figure; in the test process, which runs many
//! pools, it is their sum.

use std::sync::LazyLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use r2d2::event::{CheckoutEvent, TimeoutEvent};

/// Acquire-wait buckets, in seconds: an idle pool answers in ~0.1 ms (the
/// check-out `SELECT 1`); the default acquire timeout is 1.5 s.
const WAIT_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

struct Acquire {
    wait: Histogram,
    timeouts: Counter,
}

static ACQUIRE: LazyLock<Acquire> = LazyLock::new(|| Acquire {
    wait: Histogram::new(WAIT_BUCKETS),
    timeouts: Counter::default(),
});

/// The r2d2 event handler that times connection checkouts: give it to the
/// pool builder with `.event_handler(Box::new(PoolEvents))`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolEvents;

impl r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: CheckoutEvent) {
        ACQUIRE.wait.observe(event.duration().as_secs_f64());
    }

    /// A timed-out request waited the whole timeout; leaving it out of the
    /// histogram would hide exactly the waits that hurt.
    fn handle_timeout(&self, event: TimeoutEvent) {
        ACQUIRE.wait.observe(event.timeout().as_secs_f64());
        ACQUIRE.timeouts.inc();
    }
}

/// Adds the process-wide acquire metrics to a server's registry.
pub(super) fn register(registry: &mut Registry) {
    registry.register_with_unit(
        "db_pool_acquire_duration",
        "Time requests waited for a database connection, timeouts included",
        Unit::Seconds,
        ACQUIRE.wait.clone(),
    );
    registry.register(
        "db_pool_acquire_timeouts",
        "Database connection requests that timed out (answered 503)",
        ACQUIRE.timeouts.clone(),
    );
}
