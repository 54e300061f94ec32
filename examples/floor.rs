//! The floor under `GET /Users/{id}` on this stack: actix-web, an r2d2 pool
//! of diesel connections and `web::block`, configured as scimd is (two
//! workers, ten connections, no check-out test, jemalloc), answering each
//! request with one prepared primary-key read of pgbench's own table and a
//! User-sized JSON body. No authentication, no SCIM, no logging: whatever
//! scimd does costs more than this, so `benches/floor/floor.sh` (which runs
//! it next to `pgbench -S` in one run) bounds every read ratio from above.
//!
//! Not part of scimd: run by the script only. FLOOR_URL (libpq URL of a
//! database holding `pgbench -i` tables) and FLOOR_PORT from the environment.

use actix_web::{web, App, HttpResponse, HttpServer};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

diesel::table! {
    pgbench_accounts (aid) {
        aid -> Integer,
        bid -> Nullable<Integer>,
        abalance -> Nullable<Integer>,
    }
}

type PgPool = Pool<ConnectionManager<PgConnection>>;

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Account {
    schemas: [&'static str; 1],
    id: String,
    user_name: String,
    display_name: String,
    active: bool,
    emails: [Email; 1],
    meta: Meta,
}

#[derive(serde::Serialize)]
struct Email {
    value: String,
    r#type: &'static str,
    primary: bool,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    resource_type: &'static str,
    created: &'static str,
    last_modified: &'static str,
    location: String,
    version: String,
}

async fn account(pool: web::Data<PgPool>, aid: web::Path<i32>) -> HttpResponse {
    let aid = aid.into_inner();
    let read = web::block(move || -> Result<Option<(i32, Option<i32>)>, String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        pgbench_accounts::table
            .filter(pgbench_accounts::aid.eq(aid))
            .select((pgbench_accounts::aid, pgbench_accounts::abalance))
            .first(&mut conn)
            .optional()
            .map_err(|e| e.to_string())
    })
    .await;
    match read {
        Ok(Ok(Some((aid, balance)))) => HttpResponse::Ok()
            .content_type("application/scim+json")
            .json(Account {
                schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
                id: aid.to_string(),
                user_name: format!("u{aid}@example.com"),
                display_name: format!("Balance {}", balance.unwrap_or(0)),
                active: true,
                emails: [Email {
                    value: format!("u{aid}@example.com"),
                    r#type: "work",
                    primary: true,
                }],
                meta: Meta {
                    resource_type: "User",
                    created: "2026-01-01T00:00:00Z",
                    last_modified: "2026-01-01T00:00:00Z",
                    location: format!("http://127.0.0.1/scim/v2/Users/{aid}"),
                    version: format!("W/\"{aid}\""),
                },
            }),
        Ok(Ok(None)) => HttpResponse::NotFound().finish(),
        _ => HttpResponse::ServiceUnavailable().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("FLOOR_URL").map_err(std::io::Error::other)?;
    let port: u16 = std::env::var("FLOOR_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(18091);
    let pool = Pool::builder()
        .max_size(10)
        .min_idle(Some(1))
        .test_on_check_out(false)
        .build(ConnectionManager::<PgConnection>::new(url))
        .map_err(std::io::Error::other)?;
    let pool = web::Data::new(pool);
    HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .route("/scim/v2/Users/{aid}", web::get().to(account))
    })
    .workers(std::thread::available_parallelism().map_or(2, |n| n.get()))
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
