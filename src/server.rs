//! Running the HTTP server: shared by `scimd serve` and the tests, so the
//! tests exercise exactly what production runs.

use std::net::TcpListener;

use actix_web::{dev::Server, middleware, web, App, HttpServer};

use crate::state::AppState;

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
