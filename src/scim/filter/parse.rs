//! Recursive-descent parser for the filter grammar of RFC 7644 §3.4.2.2:
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER
//! ```
//!
//! Precedence, loosest first: `or`, `and`, then `not` / grouping; `and` and
//! `or` associate to the left. Keywords and operators are case-insensitive.
//! Where the ABNF has `SP` at least one whitespace character is required, and
//! any run of spaces, tabs or newlines is accepted; whitespace is also allowed
//! inside parentheses and brackets and between `not` and `(`.
//!
//! The parser never backtracks more than a keyword, so it is linear in the
//! input, and it recurses only on nesting, which [`MAX_FILTER_DEPTH`] bounds.
//!
//! One extension of the grammar is a rule of the profile,
//! `Rule::SubAttributeAfterValueFilter` (see `Parser::value_path_tail`).

use super::literal::{self, SyntaxError};
use super::{CompareOp, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::path::AttrPath;
use crate::scim::profile::{Profile, Rule};

type Parsed<T> = Result<T, SyntaxError>;

pub(super) fn parse_filter(text: &str, profile: Profile) -> ScimResult<Filter> {
    check_length(text, "filter").map_err(ScimError::invalid_filter)?;
    Parser::new(text, Some(profile))
        .whole()
        .map_err(|e| ScimError::invalid_filter(describe(&e, "filter")))
}

/// Parses the `[valFilter]` of a PATCH path whose `[` is at byte `open`;
/// returns the filter and the offset just past the `]`. Errors are
/// `invalidPath`, positioned within the whole path.
pub(super) fn parse_bracketed(text: &str, open: usize) -> ScimResult<(Filter, usize)> {
    let mut parser = Parser::new(text, None);
    parser.pos = open;
    let filter = parser
        .bracketed()
        .map_err(|e| ScimError::invalid_path(describe(&e, "path")))?;
    Ok((filter, parser.pos))
}

/// Refuses over-long input before any work is done on it.
pub(super) fn check_length(text: &str, what: &str) -> Result<(), String> {
    if text.len() > MAX_FILTER_LEN {
        return Err(format!(
            "{what} is {} bytes long; the limit is {MAX_FILTER_LEN}",
            text.len()
        ));
    }
    Ok(())
}

fn describe(e: &SyntaxError, what: &str) -> String {
    match &e.note {
        Some(note) => format!("{} at position {} in {what}; {note}", e.msg, e.pos),
        None => format!("{} at position {} in {what}", e.msg, e.pos),
    }
}

/// Client text echoed in an error detail, cut short so a 4 KiB filter does not
/// produce a 4 KiB message.
pub(super) fn snippet(text: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(MAX_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// [`AttrPath::parse`], refusing non-ASCII text first: no valid path has any
/// (names are ASCII by RFC 7643 §2.1, URNs by RFC 8141), and `path::split_urn`
/// slices the first four bytes, which panics if they end inside a character.
pub(super) fn parse_attr_path(text: &str) -> ScimResult<AttrPath> {
    if !text.is_ascii() {
        return Err(ScimError::invalid_path(format!(
            "'{}' is not a valid attribute path",
            snippet(text)
        )));
    }
    AttrPath::parse(text)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The attribute path grammar has no delimiters of its own; it ends where
/// something that cannot belong to it starts. All of these are ASCII, so the
/// end is always a char boundary.
fn ends_path(b: u8) -> bool {
    is_ws(b) || matches!(b, b'[' | b']' | b'(' | b')')
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    in_value_filter: bool,
    /// The profile a `filter` is parsed under; `None` for the bracketed
    /// filter of a PATCH path, where nothing can follow a value filter but
    /// the path's own `.sub` (read by `patch_path`).
    profile: Option<Profile>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, profile: Option<Profile>) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
            in_value_filter: false,
            profile,
        }
    }

    fn whole(&mut self) -> Parsed<Filter> {
        self.skip_ws();
        let filter = self.or_expr()?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.expected("'and', 'or' or the end of the filter"));
        }
        Ok(filter)
    }

    fn or_expr(&mut self) -> Parsed<Filter> {
        let mut left = self.and_expr()?;
        while self.logical("or")? {
            let right = self.and_expr()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Parsed<Filter> {
        let mut left = self.unary()?;
        while self.logical("and")? {
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// Consumes `SP kw SP` if it comes next; otherwise consumes nothing.
    fn logical(&mut self, kw: &str) -> Parsed<bool> {
        let save = self.pos;
        if self.skip_ws() && self.keyword_at(self.pos, kw) {
            self.pos += kw.len();
            if self.peek().is_none() {
                return Err(self.expected(&format!("a filter after '{kw}'")));
            }
            if !self.skip_ws() {
                return Err(self.expected(&format!("whitespace after '{kw}'")));
            }
            return Ok(true);
        }
        self.pos = save;
        Ok(false)
    }

    fn unary(&mut self) -> Parsed<Filter> {
        if self.peek() == Some(b'(') {
            let open = self.pos;
            self.pos += 1;
            return self.group(open);
        }
        if let Some(open) = self.not_paren()? {
            self.pos = open + 1;
            return Ok(Filter::Not(Box::new(self.group(open)?)));
        }
        self.attr_expr()
    }

    /// The body of `(…)` or `not (…)`; `pos` is just past the `(` at `open`.
    fn group(&mut self, open: usize) -> Parsed<Filter> {
        self.enter(open)?;
        self.skip_ws();
        let inner = self.or_expr()?;
        self.skip_ws();
        self.expect(b')', "'and', 'or' or ')'")?;
        self.depth -= 1;
        Ok(inner)
    }

    /// If `not (` starts here, the offset of its `(`. A `not` followed by an
    /// operator is an attribute that happens to be named "not" (`not pr`);
    /// any other `not` is a negation missing its parentheses.
    fn not_paren(&self) -> Parsed<Option<usize>> {
        if !self.keyword_at(self.pos, "not") {
            return Ok(None);
        }
        let after = self.pos + 3;
        let next = self.skip_ws_from(after);
        if self.bytes.get(next) == Some(&b'(') {
            return Ok(Some(next));
        }
        if next > after && self.operator_at(next) {
            return Ok(None);
        }
        Err(SyntaxError::expected(next, "'(' after 'not'"))
    }

    fn attr_expr(&mut self) -> Parsed<Filter> {
        let start = self.pos;
        let path = self.attr_path()?;
        if self.peek() == Some(b'[') {
            return self.value_path(start, path);
        }
        self.comparison(path, "the attribute path")
    }

    /// `SP compareOp SP compValue` or `SP "pr"` after `path`, which the
    /// text calls `what`, up to the end of the term.
    fn comparison(&mut self, path: AttrPath, what: &str) -> Parsed<Filter> {
        if !self.skip_ws() {
            return Err(self.expected(&format!("whitespace and an operator after {what}")));
        }
        let op_at = self.pos;
        let op_len = literal::word_len(self.bytes, op_at);
        let word = self.text.get(op_at..op_at + op_len).unwrap_or_default();
        let filter = if word.eq_ignore_ascii_case("pr") {
            self.pos += op_len;
            Filter::Present(path)
        } else if let Some(op) = CompareOp::from_keyword(word) {
            self.pos += op_len;
            if !self.skip_ws() {
                return Err(self.expected(&format!("whitespace after '{word}'")));
            }
            let (value, end) = literal::comp_value(self.text, self.pos)?;
            self.pos = end;
            Filter::Compare(path, op, value)
        } else {
            return Err(SyntaxError::expected(op_at, "a comparison operator"));
        };
        self.term_end()?;
        Ok(filter)
    }

    fn value_path(&mut self, start: usize, path: AttrPath) -> Parsed<Filter> {
        if self.in_value_filter {
            return Err(SyntaxError::new(self.pos, "value filters cannot be nested"));
        }
        if path.sub.is_some() {
            return Err(SyntaxError::new(
                start,
                format!(
                    "a value filter must follow an attribute name, not the sub-attribute path '{path}'"
                ),
            ));
        }
        let inner = self.bracketed()?;
        if self.peek() == Some(b'.') {
            let tail = self.value_path_tail()?;
            return Ok(Filter::ValuePath(path, Box::new(inner.and(tail))));
        }
        self.term_end()?;
        Ok(Filter::ValuePath(path, Box::new(inner)))
    }

    /// Entra ID, matching users on a work email, filters with
    /// `emails[type eq "work"].value eq "x"`, which RFC 7644's filter grammar
    /// lacks (it allows `.sub` after a value filter only in PATCH paths).
    /// The meaning is not in doubt: a value that passes the bracketed filter
    /// and whose `sub` compares so, i.e. `emails[type eq "work" and value eq
    /// "x"]`, which is what this returns the second half of (and what
    /// `Display` prints), under `Rule::SubAttributeAfterValueFilter`; without
    /// it the `.` is where the filter stops being RFC 7644's. `pos` is at
    /// the `.`.
    fn value_path_tail(&mut self) -> Parsed<Filter> {
        let dot = self.pos;
        let rule = Rule::SubAttributeAfterValueFilter;
        if let Some(profile) = self.profile.filter(|p| !p.allows(rule)) {
            return Err(SyntaxError::new(
                dot,
                "a sub-attribute comparison after a value filter (write it inside the brackets)",
            )
            .noted(profile.refusal(rule)));
        }
        self.pos += 1;
        let start = self.pos;
        let len = self.path_len();
        let name = self.text.get(start..start + len).unwrap_or_default();
        if !crate::scim::path::is_valid_attr_name(name) {
            return Err(SyntaxError::expected(
                dot + 1,
                "a sub-attribute name after '].'",
            ));
        }
        self.pos += len;
        self.comparison(AttrPath::new(name), "the sub-attribute")
    }

    /// `"[" valFilter "]"` with `pos` at the `[`; leaves `pos` past the `]`.
    fn bracketed(&mut self) -> Parsed<Filter> {
        let open = self.pos;
        self.expect(b'[', "'['")?;
        self.enter(open)?;
        self.in_value_filter = true;
        self.skip_ws();
        let inner = self.or_expr()?;
        self.skip_ws();
        self.expect(b']', "'and', 'or' or ']'")?;
        self.in_value_filter = false;
        self.depth -= 1;
        Ok(inner)
    }

    /// How many bytes from `pos` belong to an attribute path.
    fn path_len(&self) -> usize {
        self.bytes
            .get(self.pos..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| !ends_path(b))
            .count()
    }

    fn attr_path(&mut self) -> Parsed<AttrPath> {
        let start = self.pos;
        let len = self.path_len();
        if len == 0 {
            return Err(self.expected("an attribute path, 'not' or '('"));
        }
        self.pos += len;
        let written = self.text.get(start..self.pos).unwrap_or_default();
        let path = parse_attr_path(written).map_err(|_| {
            SyntaxError::new(
                start,
                format!("'{}' is not a valid attribute path", snippet(written)),
            )
        })?;
        if self.in_value_filter && (path.urn.is_some() || path.sub.is_some()) {
            return Err(SyntaxError::new(
                start,
                format!(
                    "'{}' must be a plain sub-attribute name inside a value filter",
                    snippet(written)
                ),
            ));
        }
        Ok(path)
    }

    /// An expression must be followed by whitespace or a closing delimiter;
    /// this catches `eq "x"and …` and `eq 12abc` at the right offset.
    fn term_end(&self) -> Parsed<()> {
        match self.peek() {
            None | Some(b')' | b']') => Ok(()),
            Some(b) if is_ws(b) => Ok(()),
            Some(_) => Err(self.expected("whitespace after the expression")),
        }
    }

    fn enter(&mut self, at: usize) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(SyntaxError::new(
                at,
                format!("filter nests deeper than {MAX_FILTER_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    /// A case-insensitive keyword at `at`, followed by whitespace, `(` or the
    /// end, so that `order pr` or `android pr` are not read as `or`/`and`.
    fn keyword_at(&self, at: usize, kw: &str) -> bool {
        let end = at + kw.len();
        let matches_kw = self
            .bytes
            .get(at..end)
            .is_some_and(|w| w.eq_ignore_ascii_case(kw.as_bytes()));
        matches_kw && self.bytes.get(end).is_none_or(|&b| is_ws(b) || b == b'(')
    }

    fn operator_at(&self, at: usize) -> bool {
        let len = literal::word_len(self.bytes, at);
        let word = self.text.get(at..at + len).unwrap_or_default();
        word.eq_ignore_ascii_case("pr") || CompareOp::from_keyword(word).is_some()
    }

    fn expect(&mut self, byte: u8, what: &str) -> Parsed<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn expected(&self, what: &str) -> SyntaxError {
        SyntaxError::expected(self.pos, what)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace; true if there was any.
    fn skip_ws(&mut self) -> bool {
        let next = self.skip_ws_from(self.pos);
        let skipped = next > self.pos;
        self.pos = next;
        skipped
    }

    fn skip_ws_from(&self, at: usize) -> usize {
        at + self
            .bytes
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| is_ws(b))
            .count()
    }
}
