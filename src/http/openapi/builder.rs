//! Small builders that keep the path tables readable: an [`Op`] is one
//! operation (method on a path), [`Paths`] collects them. Error responses
//! take the body shape of the route family ([`Flavor`]): SCIM error bodies
//! under `/scim/v2`, `{error, message}` JSON elsewhere.

use serde_json::{json, Map, Value};

use crate::auth::scope::Access;
use crate::http::error::{Flavor, SCIM_CONTENT_TYPE};

/// A `$ref` to a component schema.
pub fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A `$ref` to a component parameter.
pub fn param(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

/// A required path parameter.
pub fn path_param(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "path",
        "required": true,
        "description": description,
        "schema": { "type": "string" },
    })
}

/// An optional query parameter.
pub fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": description,
        "schema": schema,
    })
}

fn media_type(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Scim => SCIM_CONTENT_TYPE,
        Flavor::Json => "application/json",
    }
}

/// One operation, built step by step and turned into JSON by [`Op::build`].
pub struct Op {
    flavor: Flavor,
    fields: Map<String, Value>,
    description: Vec<String>,
    parameters: Vec<Value>,
    responses: Map<String, Value>,
}

impl Op {
    /// An operation of the given route family, tag, `operationId` and summary.
    pub fn new(flavor: Flavor, tag: &str, id: &str, summary: &str) -> Op {
        let mut fields = Map::new();
        fields.insert("tags".into(), json!([tag]));
        fields.insert("operationId".into(), json!(id));
        fields.insert("summary".into(), json!(summary));
        Op {
            flavor,
            fields,
            description: Vec::new(),
            parameters: Vec::new(),
            responses: Map::new(),
        }
    }

    /// A paragraph of the description (Markdown).
    pub fn about(mut self, text: &str) -> Op {
        self.description.push(text.to_string());
        self
    }

    /// Needs a bearer token with one of `access`'s scopes: says so in the
    /// description and `x-scopes`, and adds the 401, 403 and 503 answers
    /// (checking a token may need the database).
    pub fn access(mut self, access: Access) -> Op {
        let scopes: Vec<&str> = access.accepted().iter().map(|s| s.as_str()).collect();
        let listed: Vec<String> = scopes.iter().map(|s| format!("`{s}`")).collect();
        self.description.push(format!(
            "**Scope:** {} (or one that includes it, such as `all`).",
            listed.join(" or ")
        ));
        self.fields
            .insert("security".into(), json!([{ "bearerAuth": [] }]));
        self.fields.insert("x-scopes".into(), json!(scopes));
        self.err(
            401,
            "Missing, malformed, unknown, expired or revoked credential.",
        )
        .err(403, "The credential lacks the required scope.")
        .err(
            503,
            "The database is unavailable; retry after `Retry-After` seconds.",
        )
    }

    /// Needs no credential.
    pub fn public(mut self) -> Op {
        self.description.push("**No credential needed.**".into());
        self.fields.insert("security".into(), json!([]));
        self
    }

    /// Adds parameters (`$ref`s or inline objects).
    pub fn params(mut self, params: impl IntoIterator<Item = Value>) -> Op {
        self.parameters.extend(params);
        self
    }

    /// A JSON request body of the given component schema. SCIM routes take
    /// `application/scim+json` or `application/json`.
    pub fn body(mut self, schema_name: &str, required: bool) -> Op {
        let mut content = Map::new();
        content.insert(
            media_type(self.flavor).into(),
            json!({ "schema": schema(schema_name) }),
        );
        if self.flavor == Flavor::Scim {
            content.insert(
                "application/json".into(),
                json!({ "schema": schema(schema_name) }),
            );
        }
        self.fields.insert(
            "requestBody".into(),
            json!({ "required": required, "content": content }),
        );
        self
    }

    /// A response with a JSON body of `body_schema`, in the family's media type.
    pub fn ok(self, status: u16, description: &str, body_schema: Value) -> Op {
        let media = media_type(self.flavor);
        self.reply(
            status,
            json!({
                "description": description,
                "content": { media: { "schema": body_schema } },
            }),
        )
    }

    /// A SCIM resource response: its body and `ETag` (and `Location` on 201).
    pub fn resource(self, status: u16, description: &str, schema_name: &str) -> Op {
        let mut headers = json!({ "ETag": { "$ref": "#/components/headers/ETag" } });
        if status == 201 {
            headers["Location"] = json!({ "$ref": "#/components/headers/Location" });
        }
        self.reply(
            status,
            json!({
                "description": description,
                "headers": headers,
                "content": { SCIM_CONTENT_TYPE: { "schema": schema(schema_name) } },
            }),
        )
    }

    /// A response with no body.
    pub fn empty(self, status: u16, description: &str) -> Op {
        self.reply(status, json!({ "description": description }))
    }

    /// An error response in the family's body shape.
    pub fn err(self, status: u16, description: &str) -> Op {
        let (media, name) = match self.flavor {
            Flavor::Scim => (SCIM_CONTENT_TYPE, "ScimError"),
            Flavor::Json => ("application/json", "ApiError"),
        };
        self.reply(
            status,
            json!({
                "description": description,
                "content": { media: { "schema": schema(name) } },
            }),
        )
    }

    /// Any response object. A later one for the same status replaces it.
    pub fn reply(mut self, status: u16, response: Value) -> Op {
        self.responses.insert(status.to_string(), response);
        self
    }

    pub fn build(self) -> Value {
        let mut fields = self.fields;
        if !self.description.is_empty() {
            fields.insert("description".into(), json!(self.description.join("\n\n")));
        }
        if !self.parameters.is_empty() {
            fields.insert("parameters".into(), Value::Array(self.parameters));
        }
        fields.insert("responses".into(), Value::Object(self.responses));
        Value::Object(fields)
    }
}

/// The `paths` object, filled area by area.
#[derive(Default)]
pub struct Paths(Map<String, Value>);

impl Paths {
    /// Adds `op` as `method` (lower-case) on `path`.
    pub fn add(&mut self, path: &str, method: &str, op: Op) -> &mut Paths {
        let item = self
            .0
            .entry(path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = item {
            m.insert(method.to_string(), op.build());
        }
        self
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}
