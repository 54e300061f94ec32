//! The query engine (`store::query`) on a real database: filters with exact
//! result sets over a known directory, sorting, index and cursor paging,
//! organization isolation, and query plans; and `POST /.search` at the root,
//! which runs one filter over Users and Groups.

use std::collections::{BTreeSet, HashSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::PgConnection;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::client::{request, Resp};
use crate::harness::{seed_token, TestApp, TestDb};
use scimd::scim::cursor::CursorRequest;
use scimd::scim::error::ScimType;
use scimd::scim::filter::Filter;
use scimd::scim::list::{ListQuery, SortOrder};
use scimd::scim::path::AttrPath;
use scimd::scim::profile::Profile;
use scimd::scim::schema::{
    validate, AttrType, AttributeDef, Registry, SchemaDef, SchemaExtension, WriteMode,
    ENTERPRISE_USER_SCHEMA, USER_SCHEMA,
};
use scimd::store::orgs::{self, DEFAULT_ORG_ID};
use scimd::store::query::{explain_users, list_groups, list_users, Page};
use scimd::store::users::{self, StoredUser, UserWrite};
use scimd::store::{groups, StoreError};

const TEST_EXT: &str = "urn:example:params:scim:schemas:extension:test:2.0:User";
const ORG: Uuid = DEFAULT_ORG_ID;

/// The standard registry plus an extension with the attribute types the
/// standard User lacks (integer, decimal, dateTime, multi-valued string).
fn registry() -> Registry {
    let base = Registry::new();
    let mut schemas = base.schemas().to_vec();
    schemas.push(SchemaDef {
        id: TEST_EXT,
        name: "Test",
        description: "Test extension",
        attributes: vec![
            AttributeDef::new("loginCount", AttrType::Integer, "logins"),
            AttributeDef::new("score", AttrType::Decimal, "score"),
            AttributeDef::new("hiredAt", AttrType::DateTime, "hired"),
            AttributeDef::new("vip", AttrType::Boolean, "vip"),
            AttributeDef::new("tags", AttrType::String, "tags").multi(),
            AttributeDef::new("badge", AttrType::String, "badge").case_exact(),
        ],
    });
    let mut types = base.resource_types().to_vec();
    for t in types.iter_mut().filter(|t| t.name == "User") {
        t.extensions.push(SchemaExtension {
            schema: TEST_EXT,
            required: false,
        });
    }
    Registry::with_definitions(schemas, types)
}

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap()
}

pub(crate) fn hour(h: i64) -> DateTime<Utc> {
    t0() + Duration::hours(h)
}

/// Validates `body` as a User (so documents look as in production) and
/// stores it at `at`.
fn add_user(
    conn: &mut PgConnection,
    reg: &Registry,
    org: Uuid,
    mut body: Value,
    at: DateTime<Utc>,
) -> StoredUser {
    let obj = body.as_object_mut().unwrap();
    let mut schemas = vec![json!(USER_SCHEMA)];
    for ext in [ENTERPRISE_USER_SCHEMA, TEST_EXT] {
        if obj.contains_key(ext) {
            schemas.push(json!(ext));
        }
    }
    obj.insert("schemas".into(), Value::Array(schemas));
    let rt = reg.resource_type("User").unwrap();
    let doc = validate(reg, rt, &body, WriteMode::Create, Profile::Lenient).unwrap();
    users::create(
        conn,
        org,
        UserWrite {
            doc,
            password_hash: None,
            origin: Default::default(),
        },
        at,
    )
    .unwrap()
}

/// The known directory: 20 users, user `i` created at hour `i`.
fn directory() -> Vec<Value> {
    let ent = ENTERPRISE_USER_SCHEMA;
    vec![
        json!({"userName": "bjensen", "externalId": "EXT-1", "displayName": "Babs Jensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "title": "Tour Guide", "userType": "Employee", "active": true,
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                       {"value": "babs@jensen.org", "type": "home"}],
            ent: {"employeeNumber": "701984", "department": "Tour Operations",
                  "manager": {"value": "boss-1"}},
            TEST_EXT: {"loginCount": 5, "score": 4.5, "hiredAt": "2020-03-01T09:00:00Z",
                       "vip": true, "tags": ["alpha", "beta"], "badge": "Gold"}}),
        json!({"userName": "jsmith", "externalId": "ext-1", "displayName": "John Smith",
            "name": {"givenName": "John", "familyName": "Smith"},
            "title": "Engineer", "userType": "Contractor", "active": false,
            "emails": [{"value": "John.Smith@Example.com", "type": "work"}],
            ent: {"department": "Engineering"},
            TEST_EXT: {"loginCount": 12, "score": 3.25, "hiredAt": "2021-06-15T12:00:00+02:00",
                       "vip": false, "tags": ["BETA"], "badge": "gold"}}),
        json!({"userName": "ajones", "displayName": "Alice Jones", "nickName": "AJ", "active": true,
            "emails": [{"value": "ajones@example.org", "type": "home"}],
            ent: {"department": "engineering"},
            TEST_EXT: {"loginCount": 0, "hiredAt": "2019-12-31T23:59:59Z"}}),
        json!({"userName": "mjohnson", "displayName": "Mary Johnson", "title": "VP, Sales"}),
        json!({"userName": "percent%user", "title": "100% done", "active": true}),
        json!({"userName": "under_score", "title": "a_b"}),
        json!({"userName": "back\\slash", "title": "C:\\temp"}),
        json!({"userName": "ÉMILE", "displayName": "Émile Zola"}),
        json!({"userName": "zed", "title": "", "nickName": "Z"}),
        json!({"userName": "x509user", "x509Certificates": [{"value": "TUlJQ0lq"}]}),
        json!({"userName": "phone1", "phoneNumbers": [
            {"value": "+1 555 0100", "type": "mobile", "primary": true},
            {"value": "+1 555 0199", "type": "work"}]}),
        json!({"userName": "phone2", "phoneNumbers": [{"value": "+1 555 0199", "type": "mobile"}]}),
        json!({"userName": "addr1", "addresses": [{"locality": "Berlin", "country": "DE", "type": "work"}]}),
        json!({"userName": "addr2", "addresses": [
            {"locality": "Paris", "country": "FR", "type": "home"},
            {"locality": "Berlin", "type": "other"}]}),
        json!({"userName": "roles1", "roles": [{"value": "admin", "primary": true}],
            "entitlements": [{"value": "read"}]}),
        json!({"userName": "ims1", "ims": [{"value": "someone@xmpp.example", "type": "xmpp"}]}),
        json!({"userName": "locale1", "locale": "en-US", "preferredLanguage": "en",
            "timezone": "Europe/Berlin", "active": false}),
        json!({"userName": "nick", "nickName": "Nick", "title": "ab cd",
            "profileUrl": "https://example.com/nick"}),
        json!({"userName": "mgr", ent: {"employeeNumber": "2", "manager": {"value": "bjensen-id"}}}),
        json!({"userName": "abcxyz", "displayName": "abc_xyz", "title": "10 abc"}),
    ]
}

pub(crate) struct Fixture {
    pub(crate) db: TestDb,
    pub(crate) reg: Registry,
    pub(crate) users: Vec<StoredUser>,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let db = TestDb::new();
        let reg = registry();
        let mut conn = db.conn();
        let users = directory()
            .into_iter()
            .enumerate()
            .map(|(i, body)| add_user(&mut conn, &reg, ORG, body, hour(i as i64)))
            .collect();
        Fixture { db, reg, users }
    }

    fn name_of(&self, id: Uuid) -> String {
        self.users
            .iter()
            .find(|u| u.id == id)
            .and_then(|u| u.doc["userName"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("<{id}>"))
    }

    pub(crate) fn id_of(&self, user_name: &str) -> Uuid {
        self.users
            .iter()
            .find(|u| u.doc["userName"] == user_name)
            .unwrap()
            .id
    }

    fn list(&self, q: &ListQuery) -> Result<Page<StoredUser>, StoreError> {
        list_users(&mut self.db.conn(), ORG, &self.reg, q, hour(30))
    }

    /// userNames matching `filter`, as a set.
    pub(crate) fn matching(&self, filter: &str) -> BTreeSet<String> {
        let q = ListQuery {
            filter: Some(
                Filter::parse(filter, Profile::Lenient).unwrap_or_else(|e| panic!("{filter}: {e}")),
            ),
            count: Some(1000),
            ..ListQuery::default()
        };
        let page = self.list(&q).unwrap_or_else(|e| panic!("{filter}: {e}"));
        assert_eq!(page.total as usize, page.items.len(), "{filter}");
        page.items
            .iter()
            .map(|u| u.doc["userName"].as_str().unwrap().to_string())
            .collect()
    }

    fn rejected(&self, q: &ListQuery) -> ScimType {
        match self.list(q) {
            Err(StoreError::Rejected(e)) => {
                assert_eq!(e.status, 400, "{e}");
                e.scim_type.unwrap()
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }
}

pub(crate) fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn all_but(f: &Fixture, except: &[&str]) -> BTreeSet<String> {
    f.users
        .iter()
        .map(|u| u.doc["userName"].as_str().unwrap().to_string())
        .filter(|n| !except.contains(&n.as_str()))
        .collect()
}

/// The filter corpus: every filter with the userNames it must match in
/// [`directory`]. `filter_agreement` runs the same corpus through the
/// in-memory engine.
pub(crate) fn corpus(f: &Fixture) -> Vec<(String, BTreeSet<String>)> {
    let bjensen = f.id_of("bjensen");
    vec![
        // userName: typed, case-folded column (Unicode-aware).
        ("userName eq \"bjensen\"".into(), set(&["bjensen"])),
        ("USERNAME EQ \"BJensen\"".into(), set(&["bjensen"])),
        ("userName eq \"émile\"".into(), set(&["ÉMILE"])),
        ("userName sw \"J\"".into(), set(&["jsmith"])),
        ("userName co \"SCORE\"".into(), set(&["under_score"])),
        ("userName ew \"son\"".into(), set(&["mjohnson"])),
        // LIKE wildcards in values match literally.
        ("userName co \"%\"".into(), set(&["percent%user"])),
        ("userName co \"_\"".into(), set(&["under_score"])),
        ("userName co \"\\\\\"".into(), set(&["back\\slash"])),
        ("title co \"0%\"".into(), set(&["percent%user"])),
        ("title sw \"a_\"".into(), set(&["under_score"])),
        ("title co \"\\\\\"".into(), set(&["back\\slash"])),
        ("displayName co \"_\"".into(), set(&["abcxyz"])),
        // Ordering comparisons on strings: code point order, folded.
        (
            "userName gt \"x\"".into(),
            set(&["x509user", "zed", "ÉMILE"]),
        ),
        (
            "userName le \"ajones\"".into(),
            set(&["abcxyz", "addr1", "addr2", "ajones"]),
        ),
        // externalId is caseExact.
        ("externalId eq \"EXT-1\"".into(), set(&["bjensen"])),
        ("externalId eq \"ext-1\"".into(), set(&["jsmith"])),
        ("externalId pr".into(), set(&["bjensen", "jsmith"])),
        (
            "not (externalId pr)".into(),
            all_but(f, &["bjensen", "jsmith"]),
        ),
        ("externalId ne \"EXT-1\"".into(), all_but(f, &["bjensen"])),
        ("displayName eq \"émile zola\"".into(), set(&["ÉMILE"])),
        // Booleans; `ne` is true where the attribute is missing.
        (
            "active eq true".into(),
            set(&["bjensen", "ajones", "percent%user"]),
        ),
        ("active eq false".into(), set(&["jsmith", "locale1"])),
        (
            "active ne true".into(),
            all_but(f, &["bjensen", "ajones", "percent%user"]),
        ),
        (
            "active pr".into(),
            set(&["bjensen", "ajones", "percent%user", "jsmith", "locale1"]),
        ),
        // emails: the `emails` shorthand, the folded column, value paths.
        (
            "emails eq \"JOHN.SMITH@example.COM\"".into(),
            set(&["jsmith"]),
        ),
        (
            "emails.value eq \"babs@jensen.org\"".into(),
            set(&["bjensen"]),
        ),
        (
            "emails co \"example\"".into(),
            set(&["bjensen", "jsmith", "ajones"]),
        ),
        ("emails ew \".org\"".into(), set(&["bjensen", "ajones"])),
        (
            "emails[type eq \"work\" and value co \"example.com\"]".into(),
            set(&["bjensen", "jsmith"]),
        ),
        (
            "emails[type eq \"home\" and value co \"example\"]".into(),
            set(&["ajones"]),
        ),
        ("emails[primary eq true]".into(), set(&["bjensen"])),
        (
            "emails[not (type eq \"work\")]".into(),
            set(&["bjensen", "ajones"]),
        ),
        ("emails pr".into(), set(&["bjensen", "jsmith", "ajones"])),
        (
            "emails.type eq null".into(),
            all_but(f, &["bjensen", "jsmith", "ajones"]),
        ),
        // Sub-attributes of a singular complex attribute.
        ("name.familyName eq \"jensen\"".into(), set(&["bjensen"])),
        ("name.givenName sw \"j\"".into(), set(&["jsmith"])),
        ("name pr".into(), set(&["bjensen", "jsmith"])),
        // Other document strings; "" is not present.
        (
            "title pr".into(),
            set(&[
                "bjensen",
                "jsmith",
                "mjohnson",
                "percent%user",
                "under_score",
                "back\\slash",
                "nick",
                "abcxyz",
            ]),
        ),
        ("title eq \"vp, sales\"".into(), set(&["mjohnson"])),
        (
            "nickName eq null".into(),
            all_but(f, &["ajones", "zed", "nick"]),
        ),
        ("profileUrl sw \"https://\"".into(), set(&["nick"])),
        ("preferredLanguage eq \"EN\"".into(), set(&["locale1"])),
        (
            "x509Certificates.value eq \"TUlJQ0lq\"".into(),
            set(&["x509user"]),
        ),
        // Multi-valued complex attributes: any element, same element in [].
        (
            "phoneNumbers eq \"+1 555 0199\"".into(),
            set(&["phone1", "phone2"]),
        ),
        (
            "phoneNumbers[type eq \"mobile\" and value eq \"+1 555 0199\"]".into(),
            set(&["phone2"]),
        ),
        (
            "addresses[locality eq \"berlin\"]".into(),
            set(&["addr1", "addr2"]),
        ),
        (
            "addresses[locality eq \"Berlin\" and type eq \"home\"]".into(),
            set(&[]),
        ),
        ("addresses.country eq \"fr\"".into(), set(&["addr2"])),
        (
            "roles[primary eq true and value eq \"ADMIN\"]".into(),
            set(&["roles1"]),
        ),
        ("ims[type eq \"xmpp\"]".into(), set(&["ims1"])),
        // The enterprise extension, qualified or not.
        (
            format!("{ENTERPRISE_USER_SCHEMA}:department eq \"engineering\""),
            set(&["jsmith", "ajones"]),
        ),
        ("department sw \"tour\"".into(), set(&["bjensen"])),
        (
            format!("{ENTERPRISE_USER_SCHEMA}:manager.value eq \"boss-1\""),
            set(&["bjensen"]),
        ),
        ("employeeNumber pr".into(), set(&["bjensen", "mgr"])),
        (
            format!("schemas eq \"{ENTERPRISE_USER_SCHEMA}\""),
            set(&["bjensen", "jsmith", "ajones", "mgr"]),
        ),
        // Numbers, decimals, dateTimes (as instants), caseExact strings.
        ("loginCount gt 4".into(), set(&["bjensen", "jsmith"])),
        ("loginCount eq 0".into(), set(&["ajones"])),
        ("loginCount le 5".into(), set(&["bjensen", "ajones"])),
        ("score ge 3.25".into(), set(&["bjensen", "jsmith"])),
        ("score lt 4".into(), set(&["jsmith"])),
        (
            "hiredAt lt \"2020-01-01T00:00:00Z\"".into(),
            set(&["ajones"]),
        ),
        (
            "hiredAt ge \"2021-06-15T10:00:00Z\"".into(),
            set(&["jsmith"]),
        ),
        ("hiredAt gt \"2021-06-15T12:00:00+02:00\"".into(), set(&[])),
        ("vip eq false".into(), set(&["jsmith"])),
        ("vip ne true".into(), all_but(f, &["bjensen"])),
        ("tags eq \"beta\"".into(), set(&["bjensen", "jsmith"])),
        ("badge eq \"Gold\"".into(), set(&["bjensen"])),
        ("badge eq \"gold\"".into(), set(&["jsmith"])),
        ("badge co \"OL\"".into(), set(&[])),
        // meta, id.
        (
            "meta.created gt \"2026-01-01T17:30:00Z\"".into(),
            set(&["mgr", "abcxyz"]),
        ),
        (
            "meta.created le \"2026-01-01T01:00:00+00:00\"".into(),
            set(&["bjensen", "jsmith"]),
        ),
        (
            "meta.created eq \"2026-01-01T03:00:00+01:00\"".into(),
            set(&["ajones"]),
        ),
        (
            "meta.lastModified ge \"2026-01-01T19:00:00Z\"".into(),
            set(&["abcxyz"]),
        ),
        ("meta.resourceType eq \"User\"".into(), all_but(f, &[])),
        (format!("id eq \"{bjensen}\""), set(&["bjensen"])),
        (
            format!("id eq \"{}\"", bjensen.to_string().to_uppercase()),
            set(&["bjensen"]),
        ),
        ("id eq \"bjensen\"".into(), set(&[])),
        ("id ne \"bjensen\"".into(), all_but(f, &[])),
        // Precedence: and binds tighter than or; not, parentheses.
        (
            "userName eq \"bjensen\" or userName eq \"jsmith\" and active eq true".into(),
            set(&["bjensen"]),
        ),
        (
            "(userName eq \"bjensen\" or userName eq \"jsmith\") and active eq false".into(),
            set(&["jsmith"]),
        ),
        (
            "not (active eq true) and emails pr".into(),
            set(&["jsmith"]),
        ),
        (
            "not (emails pr or title pr or active pr)".into(),
            set(&[
                "ÉMILE", "zed", "x509user", "phone1", "phone2", "addr1", "addr2", "roles1", "ims1",
                "mgr",
            ]),
        ),
    ]
}

#[test]
fn filters_return_exact_result_sets() {
    let f = Fixture::new();
    let cases = corpus(&f);
    assert!(cases.len() >= 40);
    for (filter, expected) in cases {
        assert_eq!(f.matching(&filter), expected, "filter: {filter}");
    }
}

#[test]
fn bad_filters_and_sorts_are_client_errors() {
    let f = Fixture::new();
    let filtered = |text: &str| ListQuery {
        filter: Some(Filter::parse(text, Profile::Lenient).unwrap()),
        ..ListQuery::default()
    };
    for bad in [
        "bogus eq \"x\"",
        "active gt true",
        "groups.value eq \"x\"",
        "emails[bogus pr]",
    ] {
        assert_eq!(f.rejected(&filtered(bad)), ScimType::InvalidFilter, "{bad}");
    }
    let sorted = |path: &str| ListQuery {
        sort_by: Some(AttrPath::parse(path).unwrap()),
        ..ListQuery::default()
    };
    for bad in ["name", "bogus", "groups", "meta"] {
        assert_eq!(f.rejected(&sorted(bad)), ScimType::InvalidValue, "{bad}");
    }
}

fn names(f: &Fixture, page: &Page<StoredUser>) -> Vec<String> {
    page.items.iter().map(|u| f.name_of(u.id)).collect()
}

fn sorted_by(f: &Fixture, path: &str, order: SortOrder) -> Vec<String> {
    let q = ListQuery {
        sort_by: Some(AttrPath::parse(path).unwrap()),
        sort_order: order,
        ..ListQuery::default()
    };
    names(f, &f.list(&q).unwrap())
}

#[test]
fn sorting_is_by_type_case_folded_nulls_last_and_stable() {
    let f = Fixture::new();
    let creation: Vec<String> = f.users.iter().map(|u| f.name_of(u.id)).collect();
    // No sortBy: id order, which is creation order.
    assert_eq!(names(&f, &f.list(&ListQuery::default()).unwrap()), creation);

    let mut by_name = creation.clone();
    by_name.sort_by_key(|n| n.to_lowercase());
    assert_eq!(sorted_by(&f, "userName", SortOrder::Ascending), by_name);
    by_name.reverse();
    assert_eq!(sorted_by(&f, "userName", SortOrder::Descending), by_name);

    // Integers sort numerically; users without a value follow in id order.
    let by_logins = sorted_by(&f, "loginCount", SortOrder::Ascending);
    assert_eq!(by_logins[..3], ["ajones", "bjensen", "jsmith"]);
    assert_eq!(by_logins[3..], creation[3..]);
    let by_logins = sorted_by(&f, "loginCount", SortOrder::Descending);
    assert_eq!(by_logins[..3], ["jsmith", "bjensen", "ajones"]);
    let mut rest: Vec<String> = creation[3..].to_vec();
    rest.reverse();
    assert_eq!(
        by_logins[3..],
        rest[..],
        "nulls last, ties by id descending"
    );

    // Multi-valued: the primary value, else the first; case-folded.
    let by_email = sorted_by(&f, "emails", SortOrder::Ascending);
    assert_eq!(by_email[..3], ["ajones", "bjensen", "jsmith"]);
    assert_eq!(
        sorted_by(&f, "emails.value", SortOrder::Ascending),
        by_email
    );

    // dateTime in the document, and meta columns.
    assert_eq!(
        sorted_by(&f, "hiredAt", SortOrder::Ascending)[..3],
        ["ajones", "bjensen", "jsmith"]
    );
    let mut newest_first = creation.clone();
    newest_first.reverse();
    assert_eq!(
        sorted_by(&f, "meta.created", SortOrder::Descending),
        newest_first
    );

    // Booleans (false < true), ties broken by id.
    let by_active = sorted_by(&f, "active", SortOrder::Ascending);
    assert_eq!(
        by_active[..5],
        ["jsmith", "locale1", "bjensen", "ajones", "percent%user"]
    );

    // Document strings sort case-folded, in code point order.
    let by_title = sorted_by(&f, "title", SortOrder::Ascending);
    assert_eq!(
        by_title[..9],
        [
            "zed",
            "abcxyz",
            "percent%user",
            "under_score",
            "nick",
            "back\\slash",
            "jsmith",
            "bjensen",
            "mjohnson"
        ]
    );
}

#[test]
fn index_paging_edges() {
    let f = Fixture::new();
    let page = |start: i64, count: i64| {
        f.list(&ListQuery {
            start_index: start,
            count: Some(count),
            ..ListQuery::default()
        })
        .unwrap()
    };
    let p = page(1, 0);
    assert_eq!((p.total, p.items.len()), (20, 0));
    assert_eq!(page(21, 5).items.len(), 0);
    assert_eq!(page(21, 5).total, 20);
    let last = page(19, 5);
    assert_eq!(names(&f, &last), ["mgr", "abcxyz"]);
    assert_eq!((last.next_cursor, last.previous_cursor), (None, None));
    assert_eq!(names(&f, &page(2, 2)), ["jsmith", "ajones"]);
    // Paging through a filter counts the filtered set.
    let q = ListQuery {
        filter: Some(Filter::parse("active pr", Profile::Lenient).unwrap()),
        start_index: 4,
        count: Some(10),
        ..ListQuery::default()
    };
    let p = f.list(&q).unwrap();
    assert_eq!(
        (p.total, names(&f, &p)),
        (5, vec!["percent%user".into(), "locale1".into()])
    );
}

fn cursor_query(token: Option<&str>, count: i64, sort_by: Option<&str>) -> ListQuery {
    ListQuery {
        cursor: Some(match token {
            Some(t) => CursorRequest::Token(t.to_string()),
            None => CursorRequest::First,
        }),
        count: Some(count),
        sort_by: sort_by.map(|s| AttrPath::parse(s).unwrap()),
        ..ListQuery::default()
    }
}

#[test]
fn cursor_walk_visits_every_user_once_while_users_are_added() {
    let f = Fixture::new();
    let mut conn = f.db.conn();
    for sort in [None, Some("userName"), Some("title")] {
        let mut seen: Vec<Uuid> = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = f.list(&cursor_query(token.as_deref(), 3, sort)).unwrap();
            assert!(page.items.len() <= 3);
            assert_eq!(
                page.previous_cursor.is_some(),
                pages > 0 && !page.items.is_empty()
            );
            seen.extend(page.items.iter().map(|u| u.id));
            pages += 1;
            // Users appear between pages, sorting before and after the position.
            let tag = format!("{}-{pages}", sort.unwrap_or("id"));
            add_user(
                &mut conn,
                &f.reg,
                ORG,
                json!({"userName": format!("aaa-{tag}")}),
                hour(40),
            );
            add_user(
                &mut conn,
                &f.reg,
                ORG,
                json!({"userName": format!("zzz-{tag}"), "title": "zz"}),
                hour(40),
            );
            match page.next_cursor {
                Some(next) => token = Some(next),
                None => break,
            }
            assert!(pages < 100, "the walk must end");
        }
        let unique: HashSet<Uuid> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "no user twice ({sort:?})");
        for u in &f.users {
            assert!(
                unique.contains(&u.id),
                "{} missed ({sort:?})",
                f.name_of(u.id)
            );
        }
    }
}

#[test]
fn previous_cursor_returns_the_earlier_pages() {
    let f = Fixture::new();
    for sort in [
        None,
        Some("title"),
        Some("loginCount"),
        Some("hiredAt"),
        Some("meta.lastModified"),
        Some("active"),
        Some("emails"),
    ] {
        let first = f.list(&cursor_query(None, 4, sort)).unwrap();
        assert_eq!(first.previous_cursor, None);
        let second = f
            .list(&cursor_query(first.next_cursor.as_deref(), 4, sort))
            .unwrap();
        let third = f
            .list(&cursor_query(second.next_cursor.as_deref(), 4, sort))
            .unwrap();
        let back = f
            .list(&cursor_query(third.previous_cursor.as_deref(), 4, sort))
            .unwrap();
        assert_eq!(names(&f, &back), names(&f, &second), "{sort:?}");
        let front = f
            .list(&cursor_query(back.previous_cursor.as_deref(), 4, sort))
            .unwrap();
        assert_eq!(names(&f, &front), names(&f, &first), "{sort:?}");
        assert_eq!(
            front.previous_cursor, None,
            "the first page has no previous ({sort:?})"
        );
        let again = f
            .list(&cursor_query(front.next_cursor.as_deref(), 4, sort))
            .unwrap();
        assert_eq!(names(&f, &again), names(&f, &second), "{sort:?}");
        assert_eq!(again.total, 20);
    }
}

#[test]
fn descending_cursor_walk_matches_index_order() {
    let f = Fixture::new();
    for sort in ["loginCount", "title", "meta.created"] {
        let desc = |token: Option<&str>| {
            let mut q = cursor_query(token, 3, Some(sort));
            q.sort_order = SortOrder::Descending;
            f.list(&q).unwrap()
        };
        let mut walked = Vec::new();
        let mut page = desc(None);
        loop {
            walked.extend(names(&f, &page));
            match page.next_cursor.as_deref() {
                Some(next) => page = desc(Some(next)),
                None => break,
            }
        }
        assert_eq!(walked, sorted_by(&f, sort, SortOrder::Descending), "{sort}");
        let back = desc(page.previous_cursor.as_deref());
        let n = walked.len();
        let before_last = walked[n - 2 - 3..n - 2].to_vec();
        assert_eq!(names(&f, &back), before_last, "{sort}");
    }
}

#[test]
fn bad_expired_and_foreign_cursors_are_rejected() {
    let f = Fixture::new();
    let first = f
        .list(&cursor_query(None, 5, Some("meta.created")))
        .unwrap();
    let next = first.next_cursor.unwrap();
    assert_eq!(
        f.rejected(&cursor_query(Some("garbage"), 5, None)),
        ScimType::InvalidCursor
    );
    // Another sort or filter than the cursor was made for.
    assert_eq!(
        f.rejected(&cursor_query(Some(&next), 5, None)),
        ScimType::InvalidCursor
    );
    let mut filtered = cursor_query(Some(&next), 5, Some("meta.created"));
    filtered.filter = Some(Filter::parse("active pr", Profile::Lenient).unwrap());
    assert_eq!(f.rejected(&filtered), ScimType::InvalidCursor);
    // Expired: more than an hour after it was issued (at hour 30).
    let late = list_users(
        &mut f.db.conn(),
        ORG,
        &f.reg,
        &cursor_query(Some(&next), 5, Some("meta.created")),
        hour(32),
    );
    match late {
        Err(StoreError::Rejected(e)) => assert_eq!(e.scim_type, Some(ScimType::ExpiredCursor)),
        other => panic!("expected expiredCursor, got {other:?}"),
    }
    // A well-formed cursor whose key is not a timestamp: 400, not a 500.
    let bytes = URL_SAFE_NO_PAD.decode(&next).unwrap();
    let mut body: Value = serde_json::from_slice(&bytes[..bytes.len() - 4]).unwrap();
    body["k"] = json!("not-a-time'); DROP TABLE scim_users; --");
    let mut forged = serde_json::to_vec(&body).unwrap();
    let crc = crc32fast::hash(&forged);
    forged.extend_from_slice(&crc.to_be_bytes());
    let forged = URL_SAFE_NO_PAD.encode(forged);
    let q = cursor_query(Some(&forged), 5, Some("meta.created"));
    assert_eq!(f.rejected(&q), ScimType::InvalidCursor);
}

#[test]
fn organizations_never_see_each_other() {
    let f = Fixture::new();
    let mut conn = f.db.conn();
    let other = orgs::create(&mut conn, "other", t0()).unwrap();
    let theirs = add_user(
        &mut conn,
        &f.reg,
        other.id,
        json!({"userName": "bjensen"}),
        t0(),
    );
    assert_eq!(f.matching("userName eq \"bjensen\"").len(), 1);
    let q = ListQuery {
        count: Some(1000),
        ..ListQuery::default()
    };
    let mine = f.list(&q).unwrap();
    assert_eq!(mine.total, 20);
    assert!(mine.items.iter().all(|u| u.id != theirs.id));
    let page = list_users(&mut conn, other.id, &f.reg, &q, hour(30)).unwrap();
    assert_eq!((page.total, page.items[0].id), (1, theirs.id));
    // A cursor from one organization is refused in another.
    let first = f.list(&cursor_query(None, 2, None)).unwrap();
    let cross = list_users(
        &mut conn,
        other.id,
        &f.reg,
        &cursor_query(first.next_cursor.as_deref(), 2, None),
        hour(30),
    );
    assert!(
        matches!(cross, Err(StoreError::Rejected(e)) if e.scim_type == Some(ScimType::InvalidCursor))
    );
}

/// Three groups over the fixture's users: Admins (bjensen, jsmith),
/// Engineering (ajones and the group Admins), and Empty (externalId G-3).
/// Returns the id of Admins.
pub(crate) fn add_groups(f: &Fixture) -> Uuid {
    let mut conn = f.db.conn();
    let reg = &f.reg;
    let rt = reg.resource_type("Group").unwrap();
    let mut group = |name: &str, ext: Option<&str>, members: &[Uuid]| {
        let mut body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                              "displayName": name});
        if let Some(e) = ext {
            body["externalId"] = json!(e);
        }
        let doc = validate(reg, rt, &body, WriteMode::Create, Profile::Lenient).unwrap();
        groups::create(&mut conn, ORG, doc, members, Default::default(), t0())
            .unwrap()
            .id
    };
    let admins = group("Admins", None, &[f.id_of("bjensen"), f.id_of("jsmith")]);
    let _eng = group("Engineering", None, &[f.id_of("ajones"), admins]);
    let _empty = group("Empty", Some("G-3"), &[]);
    admins
}

/// Group filters with the displayNames they must match after [`add_groups`].
pub(crate) fn group_corpus(f: &Fixture, admins: Uuid) -> Vec<(String, BTreeSet<String>)> {
    let bjensen = f.id_of("bjensen");
    vec![
        ("displayName eq \"admins\"".into(), set(&["Admins"])),
        (format!("members eq \"{bjensen}\""), set(&["Admins"])),
        (
            format!("members.value eq \"{admins}\""),
            set(&["Engineering"]),
        ),
        ("members[type eq \"group\"]".into(), set(&["Engineering"])),
        ("members pr".into(), set(&["Admins", "Engineering"])),
        ("not (members pr)".into(), set(&["Empty"])),
        ("externalId eq \"G-3\"".into(), set(&["Empty"])),
        ("members.value eq \"not-a-uuid\"".into(), set(&[])),
        (
            format!("members[value eq \"{bjensen}\" and type eq \"User\"]"),
            set(&["Admins"]),
        ),
    ]
}

#[test]
fn group_filters_use_membership_rows() {
    let f = Fixture::new();
    let admins = add_groups(&f);
    let mut conn = f.db.conn();
    let reg = &f.reg;
    let matching = |filter: &str| -> BTreeSet<String> {
        let q = ListQuery {
            filter: Some(Filter::parse(filter, Profile::Lenient).unwrap()),
            ..ListQuery::default()
        };
        let page = list_groups(&mut f.db.conn(), ORG, reg, &q, hour(30), false).unwrap();
        page.items
            .iter()
            .map(|g| g.doc["displayName"].as_str().unwrap().to_string())
            .collect()
    };
    for (filter, expected) in group_corpus(&f, admins) {
        assert_eq!(matching(&filter), expected, "filter: {filter}");
    }
    let q = ListQuery {
        sort_by: Some(AttrPath::parse("displayName").unwrap()),
        sort_order: SortOrder::Descending,
        ..ListQuery::default()
    };
    let page = list_groups(&mut conn, ORG, reg, &q, hour(30), true).unwrap();
    let shown: Vec<&str> = page
        .items
        .iter()
        .map(|g| g.doc["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["Engineering", "Empty", "Admins"]);
    let sizes: Vec<usize> = page
        .items
        .iter()
        .map(|g| g.members.as_ref().unwrap().len())
        .collect();
    assert_eq!(sizes, [2, 0, 2]);
}

#[test]
fn indexed_filters_use_indexes_and_bind_client_text() {
    let db = TestDb::new();
    let reg = registry();
    let mut conn = db.conn();
    for i in 0..2000 {
        add_user(
            &mut conn,
            &reg,
            ORG,
            json!({"userName": format!("user{i:04}"), "externalId": format!("x-{i}"),
                   "emails": [{"value": format!("user{i}@example.com")}]}),
            hour(i),
        );
    }
    // VACUUM also merges the trigram indexes' pending entries, as autovacuum
    // would in a live database.
    conn.batch_execute("VACUUM ANALYZE scim_users").unwrap();
    for (filter, index) in [
        ("userName eq \"USER1234\"", "scim_users_org_user_name_key"),
        ("externalId eq \"x-77\"", "scim_users_org_external_id_idx"),
        ("emails eq \"user42@example.com\"", "scim_users_emails_idx"),
    ] {
        let q = ListQuery {
            filter: Some(Filter::parse(filter, Profile::Lenient).unwrap()),
            ..ListQuery::default()
        };
        let e = explain_users(&mut conn, ORG, &reg, &q, hour(30)).unwrap();
        let plan = e.plan.join("\n");
        assert!(plan.contains(index), "{filter}:\n{plan}");
        assert!(
            !plan.contains("Seq Scan on scim_users"),
            "{filter}:\n{plan}"
        );
        assert!(!e.sql.to_lowercase().contains("1234"), "{}", e.sql);
        assert!(
            !e.sql.contains("x-77") && !e.sql.contains("user42"),
            "{}",
            e.sql
        );
        assert_eq!(
            list_users(&mut conn, ORG, &reg, &q, hour(30))
                .unwrap()
                .total,
            1
        );
    }
    // Substring filters are answered by the trigram indexes (migration 7).
    // On 2,000 rows a scan is cheaper, so the planner is told to avoid one:
    // if no index matched the predicate's form it would scan anyway.
    conn.batch_execute("SET enable_seqscan = off").unwrap();
    for (filter, index) in [
        ("userName co \"ser1234\"", "scim_users_user_name_trgm_idx"),
        ("userName ew \"R1234\"", "scim_users_user_name_trgm_idx"),
        ("externalId co \"-1234\"", "scim_users_external_id_trgm_idx"),
        // A prefix is a range of the byte-ordered B-tree, cheaper still.
        ("externalId sw \"x-1234\"", "scim_users_org_external_id_idx"),
    ] {
        let q = ListQuery {
            filter: Some(Filter::parse(filter, Profile::Lenient).unwrap()),
            ..ListQuery::default()
        };
        let plan = explain_users(&mut conn, ORG, &reg, &q, hour(30))
            .unwrap()
            .plan
            .join("\n");
        assert!(plan.contains(index), "{filter}:\n{plan}");
        let page = list_users(&mut conn, ORG, &reg, &q, hour(30)).unwrap();
        assert_eq!(page.total, 1, "{filter}");
    }
    conn.batch_execute("RESET enable_seqscan").unwrap();
    // Document attributes and keys are bound too, never inlined.
    let q = ListQuery {
        filter: Some(
            Filter::parse(
                "title co \"o'brien\" or department eq \"x\"",
                Profile::Lenient,
            )
            .unwrap(),
        ),
        ..ListQuery::default()
    };
    let e = explain_users(&mut conn, ORG, &reg, &q, hour(30)).unwrap();
    for text in ["o'brien", "title", "department", "enterprise"] {
        assert!(!e.sql.contains(text), "{text} inlined in {}", e.sql);
    }
}

/// `POST /scim/v2{path}` with a SearchRequest made of `params`.
fn search(app: &TestApp, token: &str, path: &str, params: Value) -> Resp {
    let mut body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    for (k, v) in params.as_object().unwrap() {
        body[k] = v.clone();
    }
    request(
        "POST",
        &app.url(&format!("/scim/v2{path}")),
        Some(token),
        Some(&body),
    )
}

/// A root search's page as `User:<userName>` / `Group:<displayName>`, in
/// response order, with `totalResults`.
fn root_page(app: &TestApp, token: &str, params: Value) -> (i64, Vec<String>) {
    let r = search(app, token, "/.search", params.clone());
    assert_eq!(r.status, 200, "{params}: {}", r.body);
    let body = r.json();
    let shown = body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|res| match res["meta"]["resourceType"].as_str().unwrap() {
            "User" => format!("User:{}", res["userName"].as_str().unwrap()),
            other => format!("{other}:{}", res["displayName"].as_str().unwrap()),
        })
        .collect::<Vec<_>>();
    assert_eq!(body["itemsPerPage"], json!(shown.len()), "{params}");
    (body["totalResults"].as_i64().unwrap(), shown)
}

fn filtered(filter: &str) -> Value {
    json!({ "filter": filter })
}

#[test]
fn root_search_treats_an_attribute_a_type_lacks_as_absent() {
    let db = TestDb::new();
    let app = TestApp::new(&db);
    let token = seed_token(&db, &["admin:scim"]);
    let create = |path: &str, body: Value| -> String {
        let r = request(
            "POST",
            &app.url(&format!("/scim/v2{path}")),
            Some(&token),
            Some(&body),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["id"].as_str().unwrap().to_string()
    };
    let user = |name: &str, extra: Value| {
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": name});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        create("/Users", body)
    };
    let alice = user("alice", json!({}));
    user("bob", json!({"displayName": "Admins"}));
    user(
        "carol",
        json!({"schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
               ENTERPRISE_USER_SCHEMA: {"department": "Ops"}}),
    );
    let group_schema = "urn:ietf:params:scim:schemas:core:2.0:Group";
    create(
        "/Groups",
        json!({"schemas": [group_schema], "displayName": "Admins",
               "members": [{"value": alice}]}),
    );
    create(
        "/Groups",
        json!({"schemas": [group_schema], "displayName": "Staff"}),
    );
    let page = |params: Value| root_page(&app, &token, params);
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // Groups have no userName, yet the `or` still reaches them.
    assert_eq!(
        page(filtered(
            "userName eq \"alice\" or displayName eq \"Admins\""
        )),
        (3, strs(&["User:alice", "User:bob", "Group:Admins"]))
    );
    assert_eq!(
        page(filtered(
            "userName eq \"alice\" or (displayName eq \"Admins\" and not (userName pr))"
        )),
        (2, strs(&["User:alice", "Group:Admins"]))
    );
    // A missing userName is not "alice": every group matches.
    let not_alice = strs(&["User:bob", "User:carol", "Group:Admins", "Group:Staff"]);
    assert_eq!(
        page(filtered("not (userName eq \"alice\")")),
        (4, not_alice.clone())
    );
    assert_eq!(
        page(filtered("userName ne \"alice\"")),
        (4, not_alice.clone())
    );
    // Users have no members.
    assert_eq!(
        page(filtered(&format!("members.value eq \"{alice}\""))),
        (1, strs(&["Group:Admins"]))
    );
    assert_eq!(
        page(filtered(&format!("members[value eq \"{alice}\"]"))),
        (1, strs(&["Group:Admins"]))
    );
    // Groups lack the enterprise extension, qualified or not.
    assert_eq!(
        page(filtered(&format!(
            "{ENTERPRISE_USER_SCHEMA}:department eq \"ops\" or displayName eq \"Staff\""
        ))),
        (2, strs(&["User:carol", "Group:Staff"]))
    );
    assert_eq!(
        page(filtered("not (department pr) and meta.created pr")),
        (
            4,
            strs(&["User:alice", "User:bob", "Group:Admins", "Group:Staff"])
        )
    );
    assert_eq!(
        page(filtered("userName eq \"alice\" and members pr")),
        (0, strs(&[]))
    );

    // Paging walks across the boundary between users and groups, exactly.
    let not_alice_page = |start: i64, count: i64| {
        page(json!({"filter": "not (userName eq \"alice\")",
                    "startIndex": start, "count": count}))
    };
    assert_eq!(
        not_alice_page(2, 2),
        (4, strs(&["User:carol", "Group:Admins"]))
    );
    assert_eq!(
        not_alice_page(3, 5),
        (4, strs(&["Group:Admins", "Group:Staff"]))
    );
    assert_eq!(not_alice_page(4, 1), (4, strs(&["Group:Staff"])));
    assert_eq!(not_alice_page(5, 3), (4, strs(&[])));
    assert_eq!(not_alice_page(1, 0), (4, strs(&[])));
    assert_eq!(not_alice_page(1, 2), (4, strs(&["User:bob", "User:carol"])));
    let walked: Vec<String> = (1..=4).flat_map(|i| not_alice_page(i, 1).1).collect();
    assert_eq!(walked, not_alice);

    // What no type defines, or no filter at all, is still a client error.
    for bad in [
        "bogus eq \"x\"",
        "userName eq \"alice\" or bogus pr",
        "emails[bogus eq \"x\"]",
        "userName eq",
    ] {
        let r = search(&app, &token, "/.search", filtered(bad));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.json()["scimType"], "invalidFilter", "{bad}");
    }
    // So is a type error in the part a type keeps.
    let r = search(
        &app,
        &token,
        "/.search",
        filtered("userName eq 1 or displayName pr"),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["scimType"], "invalidFilter");

    // Each type's own endpoint keeps RFC 7644's answer.
    for (path, filter) in [
        (
            "/Groups/.search",
            "userName eq \"alice\" or displayName eq \"Admins\"",
        ),
        ("/Users/.search", "members.value eq \"x\""),
    ] {
        let r = search(&app, &token, path, filtered(filter));
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.json()["scimType"], "invalidFilter", "{path}");
    }

    // A sortBy only users have sorts the users; groups, which lack it, come
    // after them in the tie-break order (id, in the sort direction). One
    // neither type has is refused.
    assert_eq!(
        page(json!({"sortBy": "userName", "sortOrder": "descending"})),
        (
            5,
            strs(&[
                "User:carol",
                "User:bob",
                "User:alice",
                "Group:Staff",
                "Group:Admins"
            ])
        )
    );
    let r = search(&app, &token, "/.search", json!({"sortBy": "nickName0"}));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["scimType"], "invalidValue");
    assert_eq!(
        page(json!({"filter": "userName pr", "sortBy": "userName",
                    "sortOrder": "descending"})),
        (3, strs(&["User:carol", "User:bob", "User:alice"]))
    );
}

#[test]
fn document_attributes_fold_case_across_unicode() {
    // The embedded cluster runs under the C locale, where plain lower()
    // folds ASCII only; scim_fold (migration 8) folds like the indexed
    // columns do.
    let f = Fixture::new();
    let mut conn = f.db.conn();
    add_user(
        &mut conn,
        &f.reg,
        ORG,
        json!({"userName": "accents", "title": "DIRECTRICE DE L'ÉCOLE", "nickName": "Ærøskøbing"}),
        hour(40),
    );
    let only = BTreeSet::from(["accents".to_string()]);
    for filter in [
        "title eq \"directrice de l'école\"",
        "title co \"ÉCOLE\"",
        "title ew \"l'école\"",
        "nickName sw \"ærø\"",
        "nickName eq \"ÆRØSKØBING\"",
    ] {
        assert_eq!(f.matching(filter), only, "{filter}");
    }
    assert!(f.matching("title eq \"directrice de l'ecole\"").is_empty());
}
