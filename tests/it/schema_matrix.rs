//! The same operations on built-in attributes and on declared ones of the
//! same shape must give the same answers: a declared extension mirrors
//! core `title` (string), `active` (boolean) and `emails` (multi-valued
//! complex), and each case runs once with the core path and once with the
//! path qualified by the extension's URN. Status, `scimType`, which users a
//! filter or sort finds, and the values a write leaves must agree.

use serde_json::{json, Map, Value};

use crate::harness::client::{request, Resp};
use crate::harness::{seed_token, TestApp, TestDb};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const EXT: &str = "urn:acme:matrix:1.0:user";

#[derive(Clone, Copy, Debug)]
enum Form {
    BuiltIn,
    Declared,
}

impl Form {
    fn path(self, p: &str) -> String {
        match self {
            Form::BuiltIn => p.to_string(),
            Form::Declared => format!("{EXT}:{p}"),
        }
    }

    /// `attrs` where this form keeps them: at the top, or under the URN.
    fn body(self, user_name: &str, attrs: Value) -> Value {
        let mut body = json!({"userName": user_name});
        match self {
            Form::BuiltIn => {
                body["schemas"] = json!([USER]);
                for (k, v) in attrs.as_object().unwrap() {
                    body[k] = v.clone();
                }
            }
            Form::Declared => {
                body["schemas"] = json!([USER, EXT]);
                body[EXT] = attrs;
            }
        }
        body
    }

    /// The mirrored attributes of a returned resource.
    fn attrs(self, resource: &Value) -> Value {
        let src = match self {
            Form::BuiltIn => resource.clone(),
            Form::Declared => resource.get(EXT).cloned().unwrap_or(json!({})),
        };
        let mut out = Map::new();
        for k in ["title", "active", "emails", "password", "groups"] {
            if let Some(v) = src.get(k) {
                out.insert(k.into(), v.clone());
            }
        }
        Value::Object(out)
    }
}

fn mirror() -> Value {
    json!({"extends": "User", "schema": {"id": EXT, "attributes": [
        {"name": "title", "type": "string"},
        {"name": "active", "type": "boolean"},
        {"name": "emails", "type": "complex", "multiValued": true, "subAttributes": [
            {"name": "value", "type": "string"},
            {"name": "display", "type": "string"},
            {"name": "type", "type": "string", "canonicalValues": ["work", "home", "other"]},
            {"name": "primary", "type": "boolean"}
        ]},
        // As core `password` and `groups` are: written, never read back;
        // read-only, ignored on input.
        {"name": "password", "type": "string", "mutability": "writeOnly", "returned": "never"},
        {"name": "groups", "type": "complex", "multiValued": true, "mutability": "readOnly", "subAttributes": [
            {"name": "value", "type": "string", "mutability": "readOnly"},
            {"name": "display", "type": "string", "mutability": "readOnly"}
        ]}
    ]}})
}

struct World {
    app: TestApp,
    token: String,
    form: Form,
    ids: Vec<(String, String)>,
}

impl World {
    fn new(form: Form) -> World {
        let db = TestDb::new();
        let app = TestApp::new(&db);
        let admin = seed_token(&db, &["all"]);
        let r = request(
            "POST",
            &app.url("/api/v1/schemas"),
            Some(&admin),
            Some(&mirror()),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        // The database must outlive the app: leak it for the test's life.
        std::mem::forget(db);
        let token = admin;
        let mut w = World {
            app,
            token,
            form,
            ids: Vec::new(),
        };
        for (name, attrs) in [
            (
                "ann",
                json!({"title": "Engineer", "active": true,
                "emails": [{"value": "ann@work.example", "type": "work", "primary": true},
                           {"value": "ann@home.example", "type": "home"}]}),
            ),
            (
                "bob",
                json!({"title": "engineering manager", "active": false,
                "emails": [{"value": "bob@work.example", "type": "work"}]}),
            ),
            ("cat", json!({"title": "Accountant", "active": true})),
            ("fay", json!({"title": "50%_off \\ École"})),
            (
                "dan",
                json!({"active": false,
                "emails": [{"value": "dan@home.example", "type": "home", "display": "Dan"}]}),
            ),
            (
                "eve",
                json!({"title": "Intern", "password": "Corr3ct-horse-battery",
                "groups": [{"value": "0190a5b0-0000-7000-8000-000000000000", "display": "Admins"}]}),
            ),
        ] {
            let r = w.call("POST", "/Users", Some(&form.body(name, attrs)));
            assert_eq!(r.status, 201, "{form:?} {name}: {}", r.body);
            w.ids
                .push((name.into(), r.json()["id"].as_str().unwrap().into()));
        }
        w
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        request(
            method,
            &self.app.url(&format!("/scim/v2{path}")),
            Some(&self.token),
            body,
        )
    }

    fn id(&self, name: &str) -> &str {
        &self.ids.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn name_of(&self, id: &str) -> String {
        self.ids.iter().find(|(_, i)| i == id).unwrap().0.clone()
    }

    /// What a case's answer comes to, in terms both forms share.
    fn outcome(&self, r: &Resp) -> Value {
        if r.status >= 400 {
            return json!({"status": r.status, "scimType": r.json()["scimType"]});
        }
        let body = r.json();
        if let Some(list) = body["Resources"].as_array() {
            let names: Vec<String> = list
                .iter()
                .map(|u| self.name_of(u["id"].as_str().unwrap()))
                .collect();
            return json!({"status": r.status, "users": names});
        }
        json!({"status": r.status, "attrs": self.form.attrs(&body)})
    }
}

fn enc(s: &str) -> String {
    s.replace('%', "%25")
        .replace(' ', "%20")
        .replace('"', "%22")
        .replace('[', "%5B")
        .replace(']', "%5D")
}

#[test]
fn declared_attributes_answer_as_built_in_ones_do() {
    // (filter template with {p} for a qualified path, or a path to
    // sort by)
    let filters = [
        r#"{title} eq "engineer""#,
        r#"{title} ne "Engineer""#,
        r#"{title} co "ENG""#,
        r#"{title} sw "acc""#,
        r#"{title} ew "manager""#,
        r#"{title} gt "B""#,
        r#"{title} le "Engineer""#,
        r#"{title} pr"#,
        // LIKE wildcards and the escape are literal; Unicode folds.
        r#"{title} co "%_""#,
        r#"{title} sw "50%""#,
        r#"{title} co "\\ é""#,
        r#"{title} ew "ÉCOLE""#,
        r#"{title} co "_""#,
        r#"{title} eq "50%_OFF \\ ÉCOLE""#,
        r#"not ({title} pr)"#,
        r#"{active} eq true"#,
        r#"{active} ne true"#,
        r#"{active} eq false and {title} pr"#,
        r#"{emails} pr"#,
        r#"{emails.value} eq "ann@home.example""#,
        r#"{emails.type} eq "home""#,
        r#"{emails}[type eq "work" and value sw "bob"]"#,
        r#"{emails}[type eq "home"] or {title} sw "acc""#,
        r#"{emails.primary} eq true"#,
        r#"{emails.display} co "da""#,
        // Refused alike.
        r#"{title} eq 5"#,
        r#"{active} gt true"#,
        r#"{title}.sub eq "x""#,
        r#"{emails}[nope eq "x"]"#,
    ];
    let sorts = ["title", "active", "emails.value", "password"];
    let patches = |f: Form| {
        let p = |x: &str| f.path(x);
        vec![
            json!([{"op": "replace", "path": p("title"), "value": "Director"}]),
            json!([{"op": "remove", "path": p("title")}]),
            json!([{"op": "add", "path": p("emails"), "value": [{"value": "new@x.example", "type": "other"}]}]),
            json!([{"op": "replace", "path": format!("{}[type eq \"work\"].value", p("emails")), "value": "moved@work.example"}]),
            json!([{"op": "remove", "path": format!("{}[type eq \"home\"]", p("emails"))}]),
            json!([{"op": "replace", "path": p("active"), "value": false}]),
            json!([{"op": "replace", "path": p("active"), "value": "False"}]),
            json!([{"op": "replace", "path": p("active"), "value": "maybe"}]),
            json!([{"op": "replace", "path": p("title"), "value": 7}]),
            json!([{"op": "add", "path": p("emails"), "value": {"value": 3}}]),
            json!([{"op": "remove", "path": format!("{}[type eq \"fax\"]", p("emails"))}]),
            json!([{"op": "replace", "path": p("nothing"), "value": "x"}]),
            match f {
                Form::BuiltIn => {
                    json!([{"op": "replace", "value": {"title": "Lead", "active": true}}])
                }
                Form::Declared => {
                    json!([{"op": "replace", "value": {EXT: {"title": "Lead", "active": true}}}])
                }
            },
        ]
    };
    let puts = |f: Form| {
        vec![
            f.body("ann", json!({"title": "Replaced"})),
            f.body("ann", json!({"emails": [{"value": "x@y.example", "primary": true}, {"value": "z@y.example", "primary": true}]})),
            f.body("ann", json!({"active": "yes"})),
        ]
    };

    let run = |form: Form| -> Vec<(String, Value)> {
        let w = World::new(form);
        let mut out = Vec::new();
        let q = |t: &str| {
            let mut s = t.to_string();
            for a in [
                "emails.value",
                "emails.type",
                "emails.primary",
                "emails.display",
                "title",
                "active",
                "emails",
            ] {
                s = s.replace(&format!("{{{a}}}"), &form.path(a));
            }
            s
        };
        for f in filters {
            let r = w.call(
                "GET",
                &format!("/Users?filter={}&sortBy=userName", enc(&q(f))),
                None,
            );
            out.push((format!("filter {f}"), w.outcome(&r)));
        }
        for s in sorts {
            for order in ["ascending", "descending"] {
                let r = w.call(
                    "GET",
                    &format!("/Users?sortBy={}&sortOrder={order}", enc(&form.path(s))),
                    None,
                );
                out.push((format!("sort {s} {order}"), w.outcome(&r)));
            }
        }
        let eve = w.id("eve").to_string();
        let r = w.call("GET", &format!("/Users/{eve}"), None);
        out.push(("writeOnly and readOnly on create".into(), w.outcome(&r)));
        for (what, query) in [
            (
                "attributes=password",
                format!("attributes={}", enc(&form.path("password"))),
            ),
            (
                "attributes=groups",
                format!("attributes={}", enc(&form.path("groups"))),
            ),
        ] {
            let r = w.call("GET", &format!("/Users/{eve}?{query}"), None);
            out.push((what.into(), w.outcome(&r)));
        }
        let r = w.call(
            "GET",
            &format!(
                "/Users?filter={}",
                enc(&format!("{} pr", form.path("password")))
            ),
            None,
        );
        out.push(("filter password pr".into(), w.outcome(&r)));
        let r = w.call(
            "PATCH",
            &format!("/Users/{eve}"),
            Some(&json!({"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": form.path("password"), "value": "An0ther-long-secret"}
            ]})),
        );
        out.push(("patch password".into(), w.outcome(&r)));
        let r = w.call(
            "GET",
            &format!(
                "/Users/{}?attributes={}",
                w.id("ann"),
                enc(&form.path("title"))
            ),
            None,
        );
        out.push(("attributes=title".into(), w.outcome(&r)));
        let r = w.call(
            "GET",
            &format!(
                "/Users/{}?excludedAttributes={}",
                w.id("ann"),
                enc(&form.path("emails"))
            ),
            None,
        );
        out.push(("excludedAttributes=emails".into(), w.outcome(&r)));
        for (i, ops) in patches(form).into_iter().enumerate() {
            // Each on a user as created: bob for the odd ones, ann else.
            let who = if i % 2 == 1 { "bob" } else { "ann" };
            let r = w.call(
                "PATCH",
                &format!("/Users/{}", w.id(who)),
                Some(&json!({"schemas": [PATCH], "Operations": ops})),
            );
            out.push((format!("patch {i} on {who}"), w.outcome(&r)));
        }
        for (i, body) in puts(form).into_iter().enumerate() {
            let r = w.call("PUT", &format!("/Users/{}", w.id("ann")), Some(&body));
            out.push((format!("put {i}"), w.outcome(&r)));
        }
        out
    };

    let built_in = run(Form::BuiltIn);
    let declared = run(Form::Declared);
    if std::env::var_os("MATRIX_PRINT").is_some() {
        for ((c, a), (_, b)) in built_in.iter().zip(&declared) {
            eprintln!("{c}: {a} | {b}");
        }
    }
    let mut differ = Vec::new();
    for ((case, a), (_, b)) in built_in.iter().zip(&declared) {
        if a != b {
            differ.push(format!("{case}:\n  built-in {a}\n  declared {b}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} cases differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // The matrix is not vacuous: filters found users, and writes changed them.
    assert!(built_in
        .iter()
        .any(|(c, v)| c.starts_with("filter")
            && v["users"].as_array().is_some_and(|u| !u.is_empty())));
    assert!(built_in.iter().any(|(_, v)| v["status"] == 400));
}
