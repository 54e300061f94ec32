//! Seeding straight into PostgreSQL with diesel, in multi-row INSERTs, so a
//! million users take minutes. Rows carry exactly what
//! `scimd::store::users::create` would write for the same document: the
//! typed lookup columns are derived from it the same way (case folding with
//! `to_lowercase`, as `store::users::fold` does).
//!
//! User `i` (0-based) has `userName` `user{i:07}@example.com`, `externalId`
//! `ext-{i:07}`, a work email `{given}.{family}.{i:07}@mail.example.com`, and
//! was created `i` seconds after [`Seeded::base`]; its `lastModified` is
//! half an hour after its creation. So the newest users are the highest
//! indices, and `meta.lastModified gt` a late timestamp selects a few.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use scimd::clock::Clock;
use scimd::scim::profile::Profile;
use scimd::scim::schema::{validate, Registry, WriteMode};
use scimd::store::orgs::DEFAULT_ORG_ID;
use scimd::store::schema::{scim_group_members, scim_groups, scim_users};
use serde_json::{json, Value};
use uuid::Uuid;

use super::client::{Client, Request};
use super::{fail, Res};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// Rows per INSERT: 12 bound columns each stays under PostgreSQL's 65,535
/// parameters per statement.
const USER_BATCH: usize = 4_000;
/// Membership rows per INSERT (3 columns each).
const MEMBER_BATCH: usize = 20_000;
/// Seeding connections working in parallel.
const SEED_THREADS: usize = 2;
/// `lastModified` is this long after `created`.
const MODIFIED_AFTER_SECS: i64 = 1800;

const GIVEN: [&str; 16] = [
    "Ada", "Barbara", "Carlos", "Dana", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kaito",
    "Lena", "Mateo", "Nadia", "Omar", "Priya",
];
const FAMILY: [&str; 16] = [
    "Jensen", "Okafor", "Silva", "Nakamura", "Moreau", "Kowalski", "Haddad", "Larsen", "Rossi",
    "Novak", "Chen", "Garcia", "Dubois", "Ivanova", "Kim", "Patel",
];
const TITLES: [&str; 6] = [
    "Engineer",
    "Senior Engineer",
    "Designer",
    "Product Manager",
    "Support Specialist",
    "Director",
];

/// The seeded users: `ids[i]` is user `i`.
pub struct Seeded {
    pub ids: Vec<Uuid>,
    /// When user 0 was created.
    pub base: DateTime<Utc>,
}

impl Seeded {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn created(&self, i: usize) -> DateTime<Utc> {
        self.base + Duration::seconds(i as i64)
    }

    pub fn last_modified(&self, i: usize) -> DateTime<Utc> {
        self.created(i) + Duration::seconds(MODIFIED_AFTER_SECS)
    }
}

pub fn user_name(i: usize) -> String {
    format!("user{i:07}@example.com")
}

pub fn external_id(i: usize) -> String {
    format!("ext-{i:07}")
}

fn names(i: usize) -> (&'static str, &'static str) {
    (
        GIVEN[i % GIVEN.len()],
        FAMILY[(i / GIVEN.len()) % FAMILY.len()],
    )
}

pub fn email(i: usize) -> String {
    let (given, family) = names(i);
    format!("{given}.{family}.{i:07}@mail.example.com")
}

/// A realistic SCIM user document for user `i`, shaped like what scimd
/// stores after validation (no id, meta, password or groups).
pub fn user_doc(i: usize, user_name: &str) -> Value {
    let (given, family) = names(i);
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "externalId": external_id(i),
        "displayName": format!("User {i}"),
        "name": {
            "givenName": given,
            "familyName": family,
            "formatted": format!("{given} {family}"),
        },
        "emails": [{"value": email(i), "type": "work", "primary": true}],
        "active": !i.is_multiple_of(10),
        "title": TITLES[i % TITLES.len()],
    })
}

#[derive(Insertable)]
#[diesel(table_name = scim_users)]
struct NewUser {
    id: Uuid,
    org_id: Uuid,
    user_name: String,
    user_name_ci: String,
    external_id: Option<String>,
    display_name: Option<String>,
    display_name_ci: Option<String>,
    active: Option<bool>,
    emails_ci: Vec<String>,
    doc: Value,
    created_at: DateTime<Utc>,
    last_modified: DateTime<Utc>,
}

/// The row `store::users::create` would write for `doc`, with the typed
/// columns derived from the document as `store::users::columns` derives them.
fn user_row(id: Uuid, doc: Value, created: DateTime<Utc>, modified: DateTime<Utc>) -> NewUser {
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
    let user_name = text("userName").unwrap_or_default();
    let display_name = text("displayName");
    let emails_ci = doc
        .get("emails")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("value").and_then(Value::as_str))
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    NewUser {
        id,
        org_id: DEFAULT_ORG_ID,
        user_name_ci: user_name.to_lowercase(),
        user_name,
        external_id: text("externalId"),
        display_name_ci: display_name.as_deref().map(str::to_lowercase),
        display_name,
        active: doc.get("active").and_then(Value::as_bool),
        emails_ci,
        doc,
        created_at: created,
        last_modified: modified,
    }
}

/// Inserts users `range` on one connection; returns their ids in order.
fn insert_range(
    db_url: &str,
    range: std::ops::Range<usize>,
    base: DateTime<Utc>,
    progress: &AtomicUsize,
    total: usize,
) -> Res<Vec<Uuid>> {
    let mut conn = PgConnection::establish(db_url)?;
    // Seeding only: a crash would lose the benchmark's data, nothing else.
    conn.batch_execute("SET synchronous_commit = off")?;
    let mut ids = Vec::with_capacity(range.len());
    let seeded = Seeded {
        ids: Vec::new(),
        base,
    };
    let mut start = range.start;
    while start < range.end {
        let end = (start + USER_BATCH).min(range.end);
        let rows: Vec<NewUser> = (start..end)
            .map(|i| {
                let id = Uuid::now_v7();
                ids.push(id);
                user_row(
                    id,
                    user_doc(i, &user_name(i)),
                    seeded.created(i),
                    seeded.last_modified(i),
                )
            })
            .collect();
        diesel::insert_into(scim_users::table)
            .values(&rows)
            .execute(&mut conn)?;
        report_progress(progress, end - start, total);
        start = end;
    }
    Ok(ids)
}

fn report_progress(progress: &AtomicUsize, added: usize, total: usize) {
    const STEP: usize = 100_000;
    let before = progress.fetch_add(added, Ordering::Relaxed);
    let after = before + added;
    if total >= STEP && before / STEP != after / STEP {
        eprintln!("  seeded {after} of {total} users");
    }
}

/// Checks that a seeded document is exactly what scimd would store for it
/// (its validator normalizes input), so the seeded rows cannot drift from
/// what the API writes.
fn check_doc_shape() -> Res<()> {
    let reg = Registry::new();
    let Some(rt) = reg.resource_type("User") else {
        return fail("scimd has no User resource type");
    };
    let doc = user_doc(123, &user_name(123));
    let stored = validate(&reg, rt, &doc, WriteMode::Create, Profile::Lenient)
        .map_err(|e| format!("{e:?}"))?;
    if stored != doc {
        return fail(format!(
            "the seeded document differs from what scimd stores:\n{doc}\n{stored}"
        ));
    }
    Ok(())
}

/// Seeds `n` users on [`SEED_THREADS`] connections, then `VACUUM ANALYZE`s
/// the table so the planner and the visibility map see a settled table.
pub fn seed_users(db_url: &str, n: usize) -> Res<Seeded> {
    check_doc_shape()?;
    let now = Clock::default().now();
    let base = now - Duration::seconds(n as i64 + 2 * MODIFIED_AFTER_SECS + 3600);
    let progress = AtomicUsize::new(0);
    let chunk = n.div_ceil(SEED_THREADS).max(1);
    let ranges: Vec<_> = (0..n)
        .step_by(chunk)
        .map(|s| s..(s + chunk).min(n))
        .collect();
    let started = Instant::now();
    let parts: Vec<Res<Vec<Uuid>>> = thread::scope(|s| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|r| {
                let progress = &progress;
                s.spawn(move || insert_range(db_url, r, base, progress, n))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| fail("a seeding thread panicked"))
            })
            .collect()
    });
    let mut ids = Vec::with_capacity(n);
    for part in parts {
        ids.extend(part?);
    }
    let inserted = started.elapsed();
    super::env::sql(db_url, "VACUUM ANALYZE scim_users")?;
    eprintln!(
        "seeded {n} users in {:.1} s (+ VACUUM ANALYZE {:.1} s)",
        inserted.as_secs_f64(),
        started.elapsed().as_secs_f64() - inserted.as_secs_f64()
    );
    Ok(Seeded { ids, base })
}

/// Creates an empty group through the API; returns its id.
pub fn create_group(client: &Client, name: &str) -> Res<Uuid> {
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": name});
    let reply = client.expect_ok(&Request::with_body("POST", "/scim/v2/Groups", &body))?;
    let id = reply.json()?["id"]
        .as_str()
        .map(Uuid::parse_str)
        .transpose()?;
    id.map_or_else(|| fail("group created without an id"), Ok)
}

/// Adds `members` (users) to `group` directly in the database and keeps
/// `member_count` in step, as the store's membership changes do.
pub fn add_members(db_url: &str, group: Uuid, members: &[Uuid]) -> Res<()> {
    let mut conn = PgConnection::establish(db_url)?;
    conn.transaction(|conn| {
        for chunk in members.chunks(MEMBER_BATCH) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|m| {
                    (
                        scim_group_members::group_id.eq(group),
                        scim_group_members::member_id.eq(*m),
                        scim_group_members::member_type.eq("User"),
                    )
                })
                .collect();
            diesel::insert_into(scim_group_members::table)
                .values(&rows)
                .execute(conn)?;
        }
        diesel::update(scim_groups::table.find(group))
            .set(scim_groups::member_count.eq(scim_groups::member_count + members.len() as i64))
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    conn.batch_execute("ANALYZE scim_group_members")?;
    Ok(())
}

/// Members of `group` in the database, and how many of them are in `expected`.
pub fn member_counts(db_url: &str, group: Uuid, expected: &[Uuid]) -> Res<(i64, i64, i64)> {
    let mut conn = PgConnection::establish(db_url)?;
    let total: i64 = scim_group_members::table
        .filter(scim_group_members::group_id.eq(group))
        .count()
        .get_result(&mut conn)?;
    let matching: i64 = scim_group_members::table
        .filter(scim_group_members::group_id.eq(group))
        .filter(scim_group_members::member_id.eq_any(expected))
        .count()
        .get_result(&mut conn)?;
    let stored_count: i64 = scim_groups::table
        .find(group)
        .select(scim_groups::member_count)
        .get_result(&mut conn)?;
    Ok((total, matching, stored_count))
}
