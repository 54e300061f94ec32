// @generated shape of `diesel print-schema`; keep in step with migrations/.

diesel::table! {
    organizations (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        scopes -> Array<Text>,
        secret_hash -> Text,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_by -> Text,
    }
}

diesel::joinable!(api_tokens -> organizations (org_id));
diesel::allow_tables_to_appear_in_same_query!(api_tokens, organizations);
