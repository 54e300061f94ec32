//! The metrics registry: what `GET /metrics` serves (the handler and the
//! per-request access middleware that feeds [`Metrics::record_request`] are
//! in `http::metrics`; nothing here knows HTTP types).
//!
//! The body is OpenMetrics text (`prometheus-client`'s encoder), which
//! Prometheus asks for first and parses natively. Every series has a bounded
//! number of label values: requests are labelled by route *template*
//! (`/scim/v2/Users/{id}`, never the raw path), a fixed set of methods and
//! the status code, so no client can grow the series count.
//!
//! One [`Metrics`] lives in each [`AppState`](crate::state::AppState): tests
//! run several servers in one process and each counts only its own requests.
//! The exception is the pool acquire-wait histogram, see [`PoolEvents`].

mod labels;
mod on_scrape;
mod pool;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::auth::{Authenticator, Failure};
use crate::store::{PgPool, TxRetries};
use labels::{
    ConnectorLabels, MethodLabel, ReasonLabels, RequestLabels, ResultLabels, RouteLabels,
    SubscriptionLabels,
};
use prometheus_client::metrics::gauge::Gauge;

pub use pool::PoolEvents;

/// What Prometheus negotiates for OpenMetrics text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Request latency buckets, in seconds: 1 ms to 10 s. A cached-token read is
/// a few ms; a large Bulk or group PUT can take seconds.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every authentication failure reason, so each series exists from the
/// start (at 0) and `rate()` sees the first failure.
const FAILURES: [Failure; 7] = [
    Failure::Missing,
    Failure::Scheme,
    Failure::Malformed,
    Failure::Unknown,
    Failure::BadSecret,
    Failure::Expired,
    Failure::Revoked,
];

/// Position of `f` in [`FAILURES`]; exhaustive, so a new reason fails to
/// compile here instead of going uncounted.
fn failure_index(f: Failure) -> usize {
    match f {
        Failure::Missing => 0,
        Failure::Scheme => 1,
        Failure::Malformed => 2,
        Failure::Unknown => 3,
        Failure::BadSecret => 4,
        Failure::Expired => 5,
        Failure::Revoked => 6,
    }
}

/// Embedded PostgreSQL state as [`on_scrape`] reads it: not reported (the
/// gauge is absent, as with `DATABASE_URL`), down, or up.
const EMBEDDED_ABSENT: u8 = 0;
const EMBEDDED_DOWN: u8 = 1;
const EMBEDDED_UP: u8 = 2;

type HistogramFamily<S> = Family<S, Histogram, fn() -> Histogram>;

/// This server's metrics. Recording is a hash-map read under a shared lock
/// and an atomic add (a short mutex for histograms); nothing is held across
/// an `.await`.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    auth_failures: [Counter; FAILURES.len()],
    forbidden: Counter,
    rate_limited: Family<ConnectorLabels, Counter>,
    request_log_dropped: Counter,
    events_numbered: Counter,
    deliveries: Family<ResultLabels, Counter>,
    subscription_lag: Family<SubscriptionLabels, Gauge>,
    subscription_oldest: Family<SubscriptionLabels, Gauge>,
    events_unnumbered: Gauge,
    embedded: Arc<AtomicU8>,
}

impl Metrics {
    /// Registers every metric; `pool` is read at each scrape for its gauges.
    pub fn new(pool: &PgPool, auth: Arc<Authenticator>, retries: Arc<TxRetries>) -> Metrics {
        let mut registry = Registry::with_prefix("scimd");

        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );

        let latency: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time from receiving a request to sending its response head, by route template and method",
            Unit::Seconds,
            latency.clone(),
        );

        let reasons = Family::<ReasonLabels, Counter>::default();
        // Holding each reason's counter makes counting a failure lock-free.
        let auth_failures =
            FAILURES.map(|f| reasons.get_or_create_owned(&ReasonLabels { reason: f.as_str() }));
        registry.register(
            "authentication_failures",
            "Credentials refused with 401, by reason",
            reasons,
        );

        let forbidden = Counter::default();
        registry.register(
            "authorization_failures",
            "Requests refused with 403: a valid credential lacking the scope the route needs",
            forbidden.clone(),
        );

        let rate_limited = Family::<ConnectorLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused with 429 by a connector's (or token's) rate limit",
            rate_limited.clone(),
        );

        let request_log_dropped = Counter::default();
        registry.register(
            "request_log_dropped",
            "Connector requests not written to the request log (its queue was full, or a batch failed)",
            request_log_dropped.clone(),
        );

        let events_numbered = Counter::default();
        registry.register(
            "events_written",
            "Change events committed and numbered for delivery",
            events_numbered.clone(),
        );
        let deliveries = Family::<ResultLabels, Counter>::default();
        registry.register(
            "event_deliveries",
            "Change events sent to subscriptions, by result (delivered, failed, dead)",
            deliveries.clone(),
        );
        let subscription_lag = Family::<SubscriptionLabels, Gauge>::default();
        registry.register(
            "subscription_lag_events",
            "Events a subscription has yet to deliver",
            subscription_lag.clone(),
        );
        let subscription_oldest = Family::<SubscriptionLabels, Gauge>::default();
        registry.register_with_unit(
            "subscription_oldest_undelivered_age",
            "Age of the oldest event a subscription has yet to deliver (0 when caught up)",
            Unit::Seconds,
            subscription_oldest.clone(),
        );
        let events_unnumbered = Gauge::default();
        registry.register(
            "events_queued",
            "Change events committed but not yet numbered by the dispatcher",
            events_unnumbered.clone(),
        );

        pool::register(&mut registry);
        let embedded = Arc::new(AtomicU8::new(EMBEDDED_ABSENT));
        registry.register_collector(Box::new(on_scrape::OnScrape::new(
            pool.clone(),
            Arc::clone(&embedded),
            auth,
            retries,
        )));

        Metrics {
            registry,
            requests,
            latency,
            auth_failures,
            forbidden,
            rate_limited,
            request_log_dropped,
            events_numbered,
            deliveries,
            subscription_lag,
            subscription_oldest,
            events_unnumbered,
            embedded,
        }
    }

    /// Counts one answered request (its route template, method and status
    /// code) and its latency.
    pub fn record_request(
        &self,
        route: Cow<'static, str>,
        method: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let method = MethodLabel::of(method);
        self.latency
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
    }

    /// Counts a credential refused with 401.
    pub fn auth_failure(&self, reason: Failure) {
        self.auth_failures[failure_index(reason)].inc();
    }

    /// Counts a request refused by `connector`'s rate limit (see
    /// [`ConnectorLabels`] for the label).
    pub fn rate_limited(&self, connector: String) {
        self.rate_limited
            .get_or_create(&ConnectorLabels { connector })
            .inc();
    }

    /// Counts `n` request-log records dropped.
    pub fn request_log_dropped(&self, n: u64) {
        self.request_log_dropped.inc_by(n);
    }

    /// Counts `n` change events numbered for delivery.
    pub fn events_numbered(&self, n: u64) {
        self.events_numbered.inc_by(n);
    }

    /// Counts `n` events sent to a subscription with `result`.
    pub fn events_delivered(&self, result: &'static str, n: u64) {
        self.deliveries
            .get_or_create(&ResultLabels { result })
            .inc_by(n);
    }

    /// Sets each subscription's backlog (events, and the oldest's age in
    /// seconds), and the dispatcher's; subscriptions gone are dropped.
    pub fn set_event_backlog(&self, unnumbered: i64, subs: &[(String, i64, i64)]) {
        self.events_unnumbered.set(unnumbered);
        self.subscription_lag.clear();
        self.subscription_oldest.clear();
        for (subscription, lag, age) in subs {
            let l = SubscriptionLabels {
                subscription: subscription.clone(),
            };
            self.subscription_lag.get_or_create(&l).set(*lag);
            self.subscription_oldest.get_or_create(&l).set(*age);
        }
    }

    /// Counts a valid credential refused with 403.
    pub fn forbidden(&self) {
        self.forbidden.inc();
    }

    /// Reports whether the embedded PostgreSQL cluster is running. Until the
    /// first call the `scimd_embedded_postgres_up` gauge is absent, which is
    /// right for `DATABASE_URL`, where there is no embedded cluster.
    pub fn set_embedded_up(&self, up: bool) {
        let v = if up { EMBEDDED_UP } else { EMBEDDED_DOWN };
        self.embedded.store(v, Ordering::Relaxed);
    }

    /// Everything, as OpenMetrics text.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{build_pool, PoolSettings};

    fn metrics() -> Metrics {
        // An unchecked pool never connects until asked; port 1 refuses at once.
        let pool = build_pool(
            "postgres://127.0.0.1:1/none",
            &PoolSettings {
                size: 3,
                acquire_timeout: Duration::from_millis(10),
                statement_timeout: Duration::from_secs(1),
            },
        );
        Metrics::new(
            &pool,
            Arc::new(Authenticator::new(None)),
            Arc::new(TxRetries::default()),
        )
    }

    #[test]
    fn failure_index_matches_the_list() {
        for (i, f) in FAILURES.iter().enumerate() {
            assert_eq!(failure_index(*f), i);
        }
    }

    #[test]
    fn embedded_gauge_is_absent_until_set() {
        let m = metrics();
        let text = m.encode().unwrap();
        assert!(!text.contains("scimd_embedded_postgres_up"), "{text}");
        assert!(text.contains("scimd_db_pool_max_size 3\n"), "{text}");
        m.set_embedded_up(true);
        assert!(m
            .encode()
            .unwrap()
            .contains("\nscimd_embedded_postgres_up 1\n"));
        m.set_embedded_up(false);
        assert!(m
            .encode()
            .unwrap()
            .contains("\nscimd_embedded_postgres_up 0\n"));
    }

    #[test]
    fn records_by_template_and_reason() {
        let m = metrics();
        m.record_request(
            Cow::Borrowed("/scim/v2/Users/{id}"),
            "GET",
            404,
            Duration::from_millis(3),
        );
        m.auth_failure(Failure::BadSecret);
        m.forbidden();
        let text = m.encode().unwrap();
        for line in [
            "scimd_http_requests_total{route=\"/scim/v2/Users/{id}\",method=\"GET\",status=\"404\"} 1",
            "scimd_http_request_duration_seconds_count{route=\"/scim/v2/Users/{id}\",method=\"GET\"} 1",
            "scimd_authentication_failures_total{reason=\"bad_secret\"} 1",
            "scimd_authentication_failures_total{reason=\"revoked\"} 0",
            "scimd_authorization_failures_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
