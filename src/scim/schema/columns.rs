//! Which attributes the store keeps in typed columns, read from the
//! definitions' `column` field: the query compiler and the writers both
//! ask here, so they cannot disagree about where a value lives.

use serde_json::Value;

use super::registry::Registry;
use super::types::{AttributeDef, Column, ResourceTypeDef};

/// An attribute kept in a column, and where its value is in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnAttr {
    pub column: Column,
    /// The top-level attribute's canonical name.
    pub attr: &'static str,
    /// The sub-attribute holding the value, for a complex attribute.
    pub sub: Option<&'static str>,
    pub multi_valued: bool,
}

/// Every common or core attribute of `rt` kept in a column. Extension
/// attributes never are: a column belongs to one table, a schema URN to
/// many resource types.
pub fn column_attributes(reg: &Registry, rt: &ResourceTypeDef) -> Vec<ColumnAttr> {
    let core = reg.schema(rt.schema).map(|s| s.attributes.as_slice());
    let mut out = Vec::new();
    for a in reg
        .common_attributes()
        .iter()
        .chain(core.into_iter().flatten())
    {
        push(a, &mut out);
    }
    out
}

/// [`column_attributes`] of a built-in resource type (`User`, `Group`):
/// columns are only ever on built-in attributes, so the writers need no
/// registry to know them.
pub fn builtin_column_attributes(type_name: &str) -> Vec<ColumnAttr> {
    let reg = Registry::new();
    reg.resource_type(type_name)
        .map(|rt| column_attributes(&reg, rt))
        .unwrap_or_default()
}

fn push(a: &AttributeDef, out: &mut Vec<ColumnAttr>) {
    if let Some(column) = a.column {
        out.push(ColumnAttr {
            column,
            attr: a.name,
            sub: None,
            multi_valued: a.multi_valued,
        });
    }
    for s in &a.sub_attributes {
        if let Some(column) = s.column {
            out.push(ColumnAttr {
                column,
                attr: a.name,
                sub: Some(s.name),
                multi_valued: a.multi_valued,
            });
        }
    }
}

/// A validated document's values for its columns (canonical keys, as
/// `validate` returns them).
pub struct ColumnValues<'d> {
    attrs: &'d [ColumnAttr],
    doc: &'d Value,
}

impl<'d> ColumnValues<'d> {
    pub fn new(attrs: &'d [ColumnAttr], doc: &'d Value) -> Self {
        ColumnValues { attrs, doc }
    }

    fn values(&self, column: Column) -> Vec<&'d Value> {
        let Some(c) = self.attrs.iter().find(|c| c.column == column) else {
            return Vec::new();
        };
        let Some(top) = self.doc.get(c.attr) else {
            return Vec::new();
        };
        let elements: Vec<&Value> = match (c.multi_valued, top) {
            (true, Value::Array(a)) => a.iter().collect(),
            (true, _) => Vec::new(),
            (false, v) => vec![v],
        };
        elements
            .into_iter()
            .filter_map(|e| match c.sub {
                Some(sub) => e.get(sub),
                None => Some(e),
            })
            .collect()
    }

    /// A single-valued text column's value.
    pub fn text(&self, column: Column) -> Option<String> {
        self.values(column)
            .first()
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// Every text value of a column over a multi-valued attribute.
    pub fn texts(&self, column: Column) -> Vec<&'d str> {
        self.values(column)
            .into_iter()
            .filter_map(Value::as_str)
            .collect()
    }

    pub fn boolean(&self, column: Column) -> Option<bool> {
        self.values(column).first().and_then(|v| v.as_bool())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_builtin_columns_come_from_the_definitions() {
        let reg = Registry::new();
        let users = column_attributes(&reg, reg.resource_type("User").expect("User"));
        let cols: Vec<(Column, &str, Option<&str>)> =
            users.iter().map(|c| (c.column, c.attr, c.sub)).collect();
        for want in [
            (Column::Id, "id", None),
            (Column::ExternalId, "externalId", None),
            (Column::Created, "meta", Some("created")),
            (Column::LastModified, "meta", Some("lastModified")),
            (Column::UserName, "userName", None),
            (Column::DisplayName, "displayName", None),
            (Column::Active, "active", None),
            (Column::EmailValues, "emails", Some("value")),
        ] {
            assert!(cols.contains(&want), "{want:?} in {cols:?}");
        }
        let groups = column_attributes(&reg, reg.resource_type("Group").expect("Group"));
        assert!(groups.iter().all(|c| !matches!(
            c.column,
            Column::UserName | Column::Active | Column::EmailValues
        )));
        assert!(groups.iter().any(|c| c.column == Column::DisplayName));
    }

    #[test]
    fn values_are_read_where_the_schema_says() {
        let reg = Registry::new();
        let attrs = column_attributes(&reg, reg.resource_type("User").expect("User"));
        let doc = json!({"userName": "Ann", "active": false,
            "emails": [{"value": "A@x"}, {"type": "home"}, {"value": "b@x"}]});
        let v = ColumnValues::new(&attrs, &doc);
        assert_eq!(v.text(Column::UserName).as_deref(), Some("Ann"));
        assert_eq!(v.text(Column::DisplayName), None);
        assert_eq!(v.boolean(Column::Active), Some(false));
        assert_eq!(v.texts(Column::EmailValues), vec!["A@x", "b@x"]);
    }
}
