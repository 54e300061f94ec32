//! Running the HTTP server: [`start`] is shared by `scimd serve` and the
//! tests, so the tests exercise exactly what production runs; [`serve`] is
//! `scimd serve` around it (database, listener, supervision, shutdown).

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::{dev::Server, middleware, web, App, HttpServer};

use crate::clock::Clock;
use crate::config::Config;
use crate::database::{BootError, Database, Role};
use crate::service;
use crate::state::AppState;
use crate::store::{self, PoolSettings};

/// Why `scimd serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Boot(#[from] BootError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Server(std::io::Error),
    #[error("stopped: the embedded PostgreSQL cluster could not be restarted")]
    EmbeddedLost,
    #[error("{0}")]
    Config(String),
}

/// `scimd serve`: opens (and migrates) the database, serves until SIGINT or
/// SIGTERM, then stops the embedded cluster if this process owns it. When
/// that cluster dies and cannot be restarted, the server stops and this
/// returns [`ServeError::EmbeddedLost`], for the service manager to see.
pub fn serve(config: Config, clock: Clock) -> Result<(), ServeError> {
    let db = Database::open(&config, Role::Server)?;
    let listener = match TcpListener::bind(config.listen) {
        Ok(l) => l,
        Err(source) => {
            db.close();
            return Err(ServeError::Listen {
                addr: config.listen,
                source,
            });
        }
    };
    let pool = store::build_pool_observed(
        &db.url,
        &PoolSettings {
            size: config.db_pool_size,
            acquire_timeout: config.db_acquire_timeout,
            statement_timeout: config.db_statement_timeout,
        },
        Some(Box::new(crate::metrics::PoolEvents)),
    );
    log::info!("scimd listening on http://{}", config.listen);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    service::audit::spawn_retention(pool.clone(), clock.clone(), config.audit_retention);
    service::deleted::spawn_purge(pool.clone(), clock.clone());
    let state = match AppState::new(pool, config, clock.clone()) {
        Ok(s) => s,
        Err(e) => {
            db.close();
            return Err(ServeError::Config(e));
        }
    };
    // Runs until the server stops, and stops before the database does.
    let delivery = service::events::start(&state.pool, &state.events, &clock, &state.metrics);
    let metrics = state.metrics.clone();
    let fatal = Arc::new(AtomicBool::new(false));
    let result = actix_web::rt::System::new().block_on(async {
        let server = start(state, listener, workers)?;
        let handle = server.handle();
        let flag = fatal.clone();
        db.supervise(
            move |up| metrics.set_embedded_up(up),
            move || {
                flag.store(true, Ordering::SeqCst);
                // Sends the stop command now; the future only reports completion.
                drop(handle.stop(true));
            },
        );
        server.await
    });
    log::info!("scimd stopped accepting requests");
    delivery.shutdown(std::time::Duration::from_secs(2));
    db.close();
    result.map_err(ServeError::Server)?;
    if fatal.load(Ordering::SeqCst) {
        return Err(ServeError::EmbeddedLost);
    }
    Ok(())
}

/// Starts serving on `listener`. The returned server stops gracefully on
/// SIGINT/SIGTERM (finishing in-flight requests) or when its handle says so.
pub fn start(state: AppState, listener: TcpListener, workers: usize) -> std::io::Result<Server> {
    start_with(state, listener, workers, |_| {})
}

/// [`start`] with extra routes mounted before the default service; the
/// tests use it to probe the auth extractor on every access class.
pub fn start_with(
    state: AppState,
    listener: TcpListener,
    workers: usize,
    extra: fn(&mut web::ServiceConfig),
) -> std::io::Result<Server> {
    let (shutdown, client_timeout, max_conn) = (
        state.config.shutdown_timeout,
        state.config.client_timeout,
        state.config.max_connections,
    );
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            // Inside `observe`, so the access log sees the final answer.
            .wrap(middleware::from_fn(crate::http::authed::settle))
            // Outside `settle` (it logs the final answer), inside `observe`
            // (the request id is set).
            .wrap(middleware::from_fn(crate::http::request_log::record))
            .wrap(middleware::from_fn(crate::http::metrics::observe))
            .configure(extra)
            .configure(crate::http::configure)
    })
    .workers(workers)
    .shutdown_timeout(shutdown.as_secs())
    .client_request_timeout(client_timeout)
    .client_disconnect_timeout(client_timeout)
    .max_connections(max_conn)
    .listen(listener)?
    .run();
    Ok(server)
}
