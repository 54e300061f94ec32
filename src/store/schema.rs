// @generated shape of `diesel print-schema`; keep in step with migrations/.

diesel::table! {
    organizations (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
        schema_version -> Int8,
        undeclared_attributes -> Text,
        ownership -> Text,
        delete_mode -> Text,
        retention_days -> Int4,
        log_key -> Binary,
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
        previous_secret_hash -> Nullable<Text>,
        previous_valid_until -> Nullable<Timestamptz>,
        last_used_from -> Nullable<Text>,
        connector_id -> Nullable<Uuid>,
        rate_per_second -> Nullable<Float8>,
        rate_burst -> Nullable<Int4>,
    }
}

diesel::table! {
    rate_buckets (key) {
        key -> Uuid,
        tokens -> Float8,
        updated_at -> Timestamptz,
        last_granted -> Float8,
    }
}

diesel::table! {
    connectors (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        kind -> Text,
        profile -> Text,
        ownership -> Nullable<Text>,
        rate_per_second -> Nullable<Float8>,
        rate_burst -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(connectors -> organizations (org_id));
diesel::allow_tables_to_appear_in_same_query!(connectors, organizations);
diesel::allow_tables_to_appear_in_same_query!(connectors, api_tokens);

diesel::joinable!(api_tokens -> organizations (org_id));
diesel::allow_tables_to_appear_in_same_query!(api_tokens, organizations);

diesel::table! {
    scim_users (id) {
        id -> Uuid,
        org_id -> Uuid,
        user_name -> Text,
        user_name_ci -> Text,
        external_id -> Nullable<Text>,
        display_name -> Nullable<Text>,
        display_name_ci -> Nullable<Text>,
        active -> Nullable<Bool>,
        emails_ci -> Array<Text>,
        password_hash -> Nullable<Text>,
        doc -> Jsonb,
        created_at -> Timestamptz,
        last_modified -> Timestamptz,
        version -> Int8,
        created_by_connector -> Nullable<Uuid>,
        owner_connector -> Nullable<Uuid>,
        external_id_connector -> Nullable<Uuid>,
    }
}

diesel::table! {
    scim_groups (id) {
        id -> Uuid,
        org_id -> Uuid,
        display_name -> Text,
        display_name_ci -> Text,
        external_id -> Nullable<Text>,
        doc -> Jsonb,
        created_at -> Timestamptz,
        last_modified -> Timestamptz,
        version -> Int8,
        member_count -> Int8,
        created_by_connector -> Nullable<Uuid>,
        owner_connector -> Nullable<Uuid>,
        external_id_connector -> Nullable<Uuid>,
    }
}

diesel::table! {
    scim_group_members (group_id, member_id) {
        group_id -> Uuid,
        member_id -> Uuid,
        member_type -> Text,
    }
}

diesel::joinable!(scim_group_members -> scim_groups (group_id));
diesel::allow_tables_to_appear_in_same_query!(scim_users, scim_groups, scim_group_members);

diesel::table! {
    resource_counts (org_id, resource_type, slot) {
        org_id -> Uuid,
        resource_type -> Text,
        slot -> Int2,
        n -> Int8,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        org_id -> Uuid,
        at -> Timestamptz,
        actor_token_id -> Nullable<Uuid>,
        actor_name -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        status -> Int2,
        details -> Nullable<Jsonb>,
        request_id -> Nullable<Text>,
        connector_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    scim_schemas (org_id, urn_key) {
        org_id -> Uuid,
        urn_key -> Text,
        urn -> Text,
        extends -> Text,
        required -> Bool,
        definition -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(scim_schemas -> organizations (org_id));
diesel::allow_tables_to_appear_in_same_query!(scim_schemas, organizations);

diesel::table! {
    scim_indexed_paths (org_id, resource_type, path) {
        org_id -> Uuid,
        resource_type -> Text,
        urn -> Text,
        attr -> Text,
        sub -> Text,
        path -> Text,
        case_exact -> Bool,
        is_unique -> Bool,
    }
}

diesel::table! {
    // No primary key in the database (a value row is found by resource or
    // by lookup); diesel needs one to name.
    scim_attr_values (org_id, resource_type, resource_id, path, value) {
        org_id -> Uuid,
        resource_type -> Text,
        resource_id -> Uuid,
        path -> Text,
        value -> Text,
        is_unique -> Bool,
    }
}

diesel::table! {
    scim_resource_types (org_id, name_key) {
        org_id -> Uuid,
        name_key -> Text,
        name -> Text,
        endpoint_key -> Text,
        definition -> Jsonb,
        schema -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    scim_resources (id) {
        id -> Uuid,
        org_id -> Uuid,
        resource_type -> Text,
        external_id -> Nullable<Text>,
        doc -> Jsonb,
        created_at -> Timestamptz,
        last_modified -> Timestamptz,
        version -> Int8,
        created_by_connector -> Nullable<Uuid>,
        owner_connector -> Nullable<Uuid>,
        external_id_connector -> Nullable<Uuid>,
    }
}

diesel::table! {
    deleted_resources (id) {
        id -> Uuid,
        org_id -> Uuid,
        resource_type -> Text,
        source -> Text,
        row_data -> Jsonb,
        member_of -> Array<Uuid>,
        members -> Jsonb,
        external_id -> Nullable<Text>,
        external_id_connector -> Nullable<Uuid>,
        display -> Nullable<Text>,
        deleted_at -> Timestamptz,
        deleted_by -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(deleted_resources, organizations);

diesel::table! {
    request_log (id) {
        id -> Uuid,
        org_id -> Uuid,
        connector_id -> Uuid,
        at -> Timestamptz,
        method -> Text,
        route -> Text,
        path -> Text,
        query -> Nullable<Text>,
        status -> Int2,
        duration_ms -> Float8,
        request_id -> Text,
        resource_id -> Nullable<Uuid>,
        request_body -> Nullable<Text>,
        response_body -> Nullable<Text>,
        truncated -> Bool,
    }
}

diesel::allow_tables_to_appear_in_same_query!(request_log, organizations);

diesel::table! {
    // No primary key in the database (see migration 19); diesel needs one
    // named, and `id` is unique.
    change_events (id) {
        id -> Int8,
        org_id -> Uuid,
        seq -> Nullable<Int8>,
        at -> Timestamptz,
        resource_type -> Text,
        resource_id -> Uuid,
        external_id -> Nullable<Text>,
        version -> Nullable<Int8>,
        action -> Text,
        activation -> Nullable<Text>,
        members -> Nullable<Jsonb>,
        actor_token_id -> Nullable<Uuid>,
        actor_name -> Text,
        connector_id -> Nullable<Uuid>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    event_counters (org_id) {
        org_id -> Uuid,
        last_seq -> Int8,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Uuid,
        org_id -> Uuid,
        name -> Text,
        format -> Text,
        url -> Nullable<Text>,
        events -> Nullable<Array<Text>>,
        resource_types -> Nullable<Array<Text>>,
        payload -> Text,
        secret -> Nullable<Bytea>,
        previous_secret -> Nullable<Bytea>,
        previous_until -> Nullable<Timestamptz>,
        key_id -> Nullable<Bytea>,
        paused -> Bool,
        position -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        attempts -> Int4,
        failing_since -> Nullable<Timestamptz>,
        next_attempt_at -> Nullable<Timestamptz>,
        last_attempt_at -> Nullable<Timestamptz>,
        last_success_at -> Nullable<Timestamptz>,
        last_status -> Nullable<Int2>,
        last_error -> Nullable<Text>,
        delivered -> Int8,
        lease_owner -> Nullable<Uuid>,
        lease_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    dead_letters (subscription_id, seq) {
        subscription_id -> Uuid,
        seq -> Int8,
        org_id -> Uuid,
        parked_at -> Timestamptz,
        attempts -> Int4,
        last_status -> Nullable<Int2>,
        last_error -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(change_events, subscriptions);
diesel::allow_tables_to_appear_in_same_query!(change_events, event_counters);
diesel::allow_tables_to_appear_in_same_query!(subscriptions, event_counters);
diesel::allow_tables_to_appear_in_same_query!(dead_letters, subscriptions);
diesel::allow_tables_to_appear_in_same_query!(dead_letters, change_events);
