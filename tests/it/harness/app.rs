//! A real scimd server in this process, on a loopback port, over a real
//! database: the same `server::start` that `scimd serve` runs.

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpResponse};
use scimd::clock::Clock;
use scimd::config::{Config, Secret};
use scimd::http::authed::{AdminAll, AdminRead, Authed, ScimRead, ScimWrite};
use scimd::state::AppState;
use scimd::store::{self, PoolSettings};

use super::pg::TestDb;

pub struct TestApp {
    pub base: String,
    pub clock: Clock,
    handle: ServerHandle,
    thread: Option<thread::JoinHandle<()>>,
    /// The dispatcher and delivery workers, when the config has workers;
    /// stopped with the app.
    _events: Option<scimd::service::events::Running>,
}

pub fn test_config(db_url: &str) -> Config {
    Config {
        database_url: Some(Secret::new(db_url.to_string())),
        data_dir: std::env::temp_dir(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        public_url: None,
        auth_secret: None,
        db_pool_size: 4,
        db_acquire_timeout: Duration::from_secs(2),
        db_statement_timeout: Duration::from_secs(10),
        shutdown_timeout: Duration::from_secs(5),
        client_timeout: Duration::from_secs(5),
        body_timeout: Duration::from_secs(30),
        max_connections: 1024,
        audit_retention: chrono::Duration::days(90),
        trusted_proxies: Vec::new(),
        max_tokens_per_org: 50,
        max_schemas_per_org: 50,
        max_values_per_attribute: 1000,
        pg_bin: None,
        request_log: Default::default(),
        // No dispatcher or delivery threads unless a test asks
        // (`TestApp::with_events`): most tests do not deliver.
        events: scimd::service::events::EventsConfig {
            workers: 0,
            ..Default::default()
        },
        webhook_allowed_hosts: String::new(),
        // One fixed key for every test app, so none races to create the
        // data directory's key file and two instances open each other's
        // secrets.
        secrets_key: Some(Secret::new(
            "c2NpbWQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy4uLi4=".into(),
        )),
        secrets_key_file: None,
    }
}

/// Routes that only run the auth extractor, one per access class, so the
/// scope matrix is checked through the real extractor over HTTP.
fn probes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/probe/scim-read",
        web::get().to(|_: Authed<ScimRead>| async { HttpResponse::Ok().finish() }),
    )
    .route(
        "/probe/scim-write",
        web::get().to(|_: Authed<ScimWrite>| async { HttpResponse::Ok().finish() }),
    )
    .route(
        "/probe/admin",
        web::get().to(|_: Authed<AdminAll>| async { HttpResponse::Ok().finish() }),
    )
    .route(
        "/probe/admin-read",
        web::get().to(|_: Authed<AdminRead>| async { HttpResponse::Ok().finish() }),
    );
}

impl TestApp {
    pub fn new(db: &TestDb) -> TestApp {
        Self::with_config(test_config(&db.url))
    }

    pub fn with_config(config: Config) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let pool = store::build_pool(
            config.database_url.as_ref().expect("url").expose(),
            &PoolSettings {
                size: config.db_pool_size,
                acquire_timeout: config.db_acquire_timeout,
                statement_timeout: config.db_statement_timeout,
            },
        );
        let clock = Clock::default();
        let state = AppState::new(pool, config, clock.clone()).expect("app state");
        let events = (state.config.events.workers > 0).then(|| {
            scimd::service::events::start(&state.pool, &state.events, &clock, &state.metrics)
        });
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            let sys = actix_web::rt::System::new();
            sys.block_on(async move {
                let server = scimd::server::start_with(state, listener, 2, probes).expect("start");
                tx.send(server.handle()).expect("send handle");
                let _ = server.await;
            });
        });
        let handle = rx.recv().expect("server handle");
        TestApp {
            base,
            clock,
            handle,
            thread: Some(thread),
            _events: events,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::System::new().block_on(handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl TestApp {
    /// The value of one series of `/metrics`: the line that starts with
    /// `series` (a metric name, with its labels when it has any).
    pub fn metric(&self, series: &str) -> f64 {
        let body = super::client::get(&self.url("/metrics"), None).body;
        body.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} missing in\n{body}"))
            .parse()
            .unwrap()
    }
}
