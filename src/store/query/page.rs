//! Paging: which rows of the sorted, filtered result one request reads, and
//! the cursors that lead on from them.
//!
//! - Index paging (RFC 7644 §3.4.2.4): `OFFSET startIndex-1 LIMIT count`.
//! - Cursor paging (RFC 9865): a keyset condition from the cursor's position
//!   and `LIMIT count+1`; the extra row only tells whether another page
//!   exists. A `previousCursor` reads backwards (reverse order, then the
//!   page is flipped back).
//! - `count=0` reads no rows at all: only `totalResults` is answered.

use chrono::{DateTime, Utc};
use diesel::sql_types::Text;
use uuid::Uuid;

use super::sort::Sort;
use super::sql::Frag;
use crate::scim::cursor::{fingerprint, Cursor, CursorRequest, Direction};
use crate::scim::error::ScimResult;
use crate::scim::list::ListQuery;

#[derive(Debug, Clone)]
enum Mode {
    /// `count=0`.
    CountOnly,
    Index {
        offset: i64,
        limit: i64,
    },
    Cursor {
        /// None for the first page.
        from: Option<Cursor>,
        limit: i64,
    },
}

/// One request's reading plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sort: Sort,
    mode: Mode,
    fingerprint: String,
    now: DateTime<Utc>,
}

impl Plan {
    /// Decodes and checks the request's cursor, if any. `scope` names the
    /// query (organization, resource type, canonical filter) for the
    /// cursor fingerprint.
    pub fn new(q: &ListQuery, sort: Sort, scope: &[&str], now: DateTime<Utc>) -> ScimResult<Plan> {
        let mut parts = scope.to_vec();
        parts.push(&sort.canonical);
        let fingerprint = fingerprint(&parts);
        let limit = q.page_size();
        let mode = match &q.cursor {
            // A cursor is checked even for count=0, so a bad one is never
            // silently accepted.
            Some(CursorRequest::Token(t)) => {
                let from = Cursor::decode(t, &fingerprint, now)?;
                if limit == 0 {
                    Mode::CountOnly
                } else {
                    Mode::Cursor {
                        from: Some(from),
                        limit,
                    }
                }
            }
            _ if limit == 0 => Mode::CountOnly,
            Some(CursorRequest::First) => Mode::Cursor { from: None, limit },
            None => Mode::Index {
                offset: q.offset(),
                limit,
            },
        };
        Ok(Plan {
            sort,
            mode,
            fingerprint,
            now,
        })
    }

    /// The same query, paged by index: `limit` rows after `offset` (none,
    /// only the total, when `limit` is 0).
    pub fn index_page(&self, offset: i64, limit: i64) -> Plan {
        Plan {
            mode: if limit == 0 {
                Mode::CountOnly
            } else {
                Mode::Index { offset, limit }
            },
            ..self.clone()
        }
    }

    /// Whether the page starts at the first matching row (offset 0, or a
    /// first cursor page): then an empty page means no row matches.
    pub fn starts_at_first(&self) -> bool {
        match &self.mode {
            Mode::CountOnly => false,
            Mode::Index { offset, .. } => *offset == 0,
            Mode::Cursor { from, .. } => from.is_none(),
        }
    }

    /// Whether rows are read at all.
    pub fn reads_rows(&self) -> bool {
        !matches!(self.mode, Mode::CountOnly)
    }

    fn backward(&self) -> bool {
        matches!(
            &self.mode,
            Mode::Cursor { from: Some(c), .. } if c.direction == Direction::Previous
        )
    }

    /// The keyset condition (TRUE when there is none).
    pub fn position(&self) -> ScimResult<Frag> {
        match &self.mode {
            Mode::Cursor { from: Some(c), .. } => self.sort.keyset(c, self.backward()),
            _ => Ok(Frag::truth(true).shared()),
        }
    }

    pub fn order_by(&self) -> Frag<Text> {
        self.sort.order_by(self.backward())
    }

    pub fn offset(&self) -> i64 {
        match self.mode {
            Mode::Index { offset, .. } => offset,
            _ => 0,
        }
    }

    pub fn limit(&self) -> i64 {
        match self.mode {
            Mode::CountOnly => 0,
            Mode::Index { limit, .. } => limit,
            Mode::Cursor { limit, .. } => limit + 1,
        }
    }

    /// Turns the rows read (each with its id and sort key text) into the
    /// page, in the requested order, with its cursors.
    pub fn finish<R>(
        &self,
        mut rows: Vec<(R, Uuid, Option<String>)>,
    ) -> (Vec<R>, Option<String>, Option<String>) {
        let Mode::Cursor { from, limit } = &self.mode else {
            return (rows.into_iter().map(|r| r.0).collect(), None, None);
        };
        let more = rows.len() as i64 > *limit;
        rows.truncate(usize::try_from(*limit).unwrap_or(0));
        let backward = self.backward();
        if backward {
            rows.reverse();
        }
        let cursor = |dir: Direction, row: Option<&(R, Uuid, Option<String>)>| {
            row.map(|(_, id, key)| {
                Cursor::new(dir, key.clone(), *id, &self.fingerprint, self.now).encode()
            })
        };
        // Reading forwards, rows before the page exist when we started from
        // a position; reading backwards, rows after it do.
        let (has_next, has_previous) = if backward {
            (true, more)
        } else {
            (more, from.is_some())
        };
        let next = if has_next {
            cursor(Direction::Next, rows.last())
        } else {
            None
        };
        let previous = if has_previous {
            cursor(Direction::Previous, rows.first())
        } else {
            None
        };
        (rows.into_iter().map(|r| r.0).collect(), next, previous)
    }
}
