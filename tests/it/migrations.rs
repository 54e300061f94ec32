//! Every migration applies, reverts and applies again.

use crate::harness::TestDb;
use scimd::store::migrate;

#[test]
fn migrations_go_up_down_and_up_again() {
    let db = TestDb::empty();
    assert!(migrate::run_pending(&db.url).unwrap() > 0);
    assert_eq!(migrate::run_pending(&db.url).unwrap(), 0, "idempotent");
    migrate::revert_all(&db.url).unwrap();
    assert!(migrate::run_pending(&db.url).unwrap() > 0);
}
