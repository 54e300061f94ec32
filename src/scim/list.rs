//! The parameters of a list or search request (RFC 7644 §3.4.2 and §3.4.3,
//! RFC 9865 §2), from a query string or a `/.search` body. Pure.
//!
//! Decisions:
//! - Parameter names are matched case-insensitively (RFC 7644 calls them
//!   case-sensitive, but clients differ and accepting `sortby` hurts no
//!   one). An unknown or repeated parameter is 400 `invalidValue` naming
//!   it: a client that asks for something this server does not do must hear
//!   so, not get an unfiltered list.
//! - `startIndex` below 1 means 1 and a negative `count` means 0 (§3.4.2.4);
//!   `count` above [`MAX_RESULTS`] is capped; a non-integer is
//!   `invalidValue`.
//! - `attributes` and `excludedAttributes` may be combined: RFC 7644 does
//!   not forbid it, and projection applies both (`attributes` selects,
//!   `excludedAttributes` then removes).
//! - `cursor` selects cursor paging (RFC 9865); it cannot be combined with a
//!   `startIndex` other than 1.
//! - A `/.search` body must be a JSON object whose `schemas` lists the
//!   SearchRequest URN, with members of the right JSON types; otherwise it
//!   is `invalidSyntax` (§3.12: "did not conform to the request schema").
//! - The filter is parsed under the caller's profile (`Filter::parse`).

use serde_json::{Map, Value};

use super::cursor::CursorRequest;
use super::error::{ScimError, ScimResult};
use super::filter::Filter;
use super::path::AttrPath;
use super::profile::Profile;
use super::schema::parse_attr_list;

/// Most resources one page returns (advertised as `filter.maxResults`).
pub const MAX_RESULTS: i64 = 1000;
/// Page size when the request names none.
pub const DEFAULT_COUNT: i64 = 100;
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// RFC 7644 §3.4.2.3 `sortOrder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Ascending => "ascending",
            SortOrder::Descending => "descending",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub sort_by: Option<AttrPath>,
    pub sort_order: SortOrder,
    /// 1-based.
    pub start_index: i64,
    /// None: [`DEFAULT_COUNT`]. Always within `0..=MAX_RESULTS`.
    pub count: Option<i64>,
    /// Some: cursor paging (RFC 9865); None: index paging.
    pub cursor: Option<CursorRequest>,
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: None,
            sort_by: None,
            sort_order: SortOrder::Ascending,
            start_index: 1,
            count: None,
            cursor: None,
            attributes: Vec::new(),
            excluded: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    Filter,
    SortBy,
    SortOrder,
    StartIndex,
    Count,
    Cursor,
    Attributes,
    Excluded,
}

const PARAMS: [(&str, Param); 8] = [
    ("filter", Param::Filter),
    ("sortBy", Param::SortBy),
    ("sortOrder", Param::SortOrder),
    ("startIndex", Param::StartIndex),
    ("count", Param::Count),
    ("cursor", Param::Cursor),
    ("attributes", Param::Attributes),
    ("excludedAttributes", Param::Excluded),
];

fn param(name: &str) -> Option<(&'static str, Param)> {
    PARAMS
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// A parameter's value: query-string text, or a JSON member.
enum Raw<'a> {
    Text(&'a str),
    Json(&'a Value),
}

impl ListQuery {
    /// Page size to use: `count`, or the default.
    pub fn page_size(&self) -> i64 {
        self.count.unwrap_or(DEFAULT_COUNT)
    }

    /// Rows to skip for index paging.
    pub fn offset(&self) -> i64 {
        self.start_index - 1
    }

    /// From decoded query-string pairs (RFC 7644 §3.4.2).
    ///
    /// # Errors
    ///
    /// 400 `invalidValue` for an unknown, repeated or ill-formed parameter;
    /// `invalidFilter` for a bad filter; `invalidPath` for a bad entry in
    /// `attributes` / `excludedAttributes`.
    pub fn from_pairs(pairs: &[(String, String)], profile: Profile) -> ScimResult<ListQuery> {
        let mut b = Builder::new(profile);
        for (name, value) in pairs {
            let (canonical, p) = param(name).ok_or_else(|| {
                ScimError::invalid_value(format!("unsupported query parameter '{name}'"))
            })?;
            b.set(canonical, p, Raw::Text(value))?;
        }
        b.finish()
    }

    /// From a `POST /.search` body (RFC 7644 §3.4.3).
    ///
    /// # Errors
    ///
    /// As [`ListQuery::from_pairs`], plus `invalidSyntax` for a body that is
    /// not a SearchRequest object or a member of the wrong JSON type.
    pub fn from_search_request(body: &Value, profile: Profile) -> ScimResult<ListQuery> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("the search request must be a JSON object"))?;
        check_schemas(obj)?;
        let mut b = Builder::new(profile);
        for (name, value) in obj {
            if name.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let (canonical, p) = param(name).ok_or_else(|| {
                ScimError::invalid_syntax(format!("unsupported search request member '{name}'"))
            })?;
            if !value.is_null() {
                b.set(canonical, p, Raw::Json(value))?;
            }
        }
        b.finish()
    }
}

fn check_schemas(obj: &Map<String, Value>) -> ScimResult<()> {
    let listed = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .and_then(|(_, v)| v.as_array())
        .is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
        });
    if listed {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!(
            "the search request's 'schemas' must list {SEARCH_REQUEST_SCHEMA}"
        )))
    }
}

struct Builder {
    q: ListQuery,
    seen: Vec<Param>,
    start_index_given: bool,
    profile: Profile,
}

impl Builder {
    fn new(profile: Profile) -> Self {
        Builder {
            q: ListQuery::default(),
            seen: Vec::new(),
            start_index_given: false,
            profile,
        }
    }
}

fn wrong_type(name: &str, expected: &str) -> ScimError {
    ScimError::invalid_syntax(format!("'{name}' must be {expected}"))
}

fn text<'a>(name: &str, raw: &Raw<'a>) -> ScimResult<&'a str> {
    match raw {
        Raw::Text(t) => Ok(t),
        Raw::Json(Value::String(s)) => Ok(s),
        Raw::Json(_) => Err(wrong_type(name, "a string")),
    }
}

fn integer(name: &str, raw: &Raw<'_>) -> ScimResult<i64> {
    let parsed = match raw {
        Raw::Text(t) => t.trim().parse::<i64>().ok(),
        Raw::Json(Value::Number(n)) => n.as_i64(),
        Raw::Json(_) => return Err(wrong_type(name, "an integer")),
    };
    parsed.ok_or_else(|| ScimError::invalid_value(format!("'{name}' must be an integer")))
}

fn attr_list(name: &str, raw: &Raw<'_>) -> ScimResult<Vec<AttrPath>> {
    match raw {
        Raw::Json(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| wrong_type(name, "an array of strings"))?;
                out.extend(parse_attr_list(s)?);
            }
            Ok(out)
        }
        other => parse_attr_list(text(name, other)?),
    }
}

impl Builder {
    fn set(&mut self, name: &str, p: Param, raw: Raw<'_>) -> ScimResult<()> {
        if self.seen.contains(&p) {
            return Err(ScimError::invalid_value(format!(
                "parameter '{name}' is given more than once"
            )));
        }
        self.seen.push(p);
        let q = &mut self.q;
        match p {
            Param::Filter => {
                let t = text(name, &raw)?;
                q.filter = if t.trim().is_empty() {
                    None
                } else {
                    Some(Filter::parse(t, self.profile)?)
                };
            }
            Param::SortBy => {
                let t = text(name, &raw)?.trim();
                q.sort_by =
                    if t.is_empty() {
                        None
                    } else {
                        Some(AttrPath::parse(t).map_err(|e| {
                            ScimError::invalid_value(format!("'sortBy': {}", e.detail))
                        })?)
                    };
            }
            Param::SortOrder => {
                let t = text(name, &raw)?.trim();
                q.sort_order = match t.to_ascii_lowercase().as_str() {
                    "" | "ascending" => SortOrder::Ascending,
                    "descending" => SortOrder::Descending,
                    _ => {
                        return Err(ScimError::invalid_value(
                            "'sortOrder' must be 'ascending' or 'descending'",
                        ))
                    }
                };
            }
            Param::StartIndex => {
                q.start_index = integer(name, &raw)?.max(1);
                self.start_index_given = q.start_index > 1;
            }
            Param::Count => q.count = Some(integer(name, &raw)?.clamp(0, MAX_RESULTS)),
            Param::Cursor => q.cursor = Some(CursorRequest::from_param(text(name, &raw)?)),
            Param::Attributes => q.attributes = attr_list(name, &raw)?,
            Param::Excluded => q.excluded = attr_list(name, &raw)?,
        }
        Ok(())
    }

    fn finish(self) -> ScimResult<ListQuery> {
        if self.q.cursor.is_some() && self.start_index_given {
            return Err(ScimError::invalid_value(
                "'cursor' and 'startIndex' select different paging methods; send one of them",
            ));
        }
        Ok(self.q)
    }
}

#[cfg(test)]
mod tests;
