//! The one schema both backends share. Written by hand: `diesel print-schema` would describe the
//! SQLite rowid keys as `Integer`. A test compares every table and column here with what each
//! backend's migrations actually create.

diesel::table! {
    units (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Text>,
        sort_order -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        unit_id -> Nullable<Text>,
        channel -> Nullable<Text>,
        active -> Bool,
        must_change_password -> Bool,
        token_generation -> BigInt,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    categories (id) {
        id -> Text,
        parent_id -> Nullable<Text>,
        name -> Text,
        full_name -> Text,
        level -> Integer,
        default_unit_id -> Nullable<Text>,
        sort_order -> Integer,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ticket_number_days (day) {
        day -> Text,
        last_value -> BigInt,
    }
}

diesel::table! {
    tickets (id) {
        id -> Text,
        number -> Text,
        channel -> Text,
        external_ref -> Nullable<Text>,
        ticket_type -> Text,
        category_id -> Nullable<Text>,
        title -> Text,
        content -> Text,
        caller_name -> Nullable<Text>,
        caller_phone -> Nullable<Text>,
        confidential -> Bool,
        address -> Nullable<Text>,
        area_unit_id -> Nullable<Text>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        priority -> Text,
        status -> Text,
        current_round -> Integer,
        primary_unit_id -> Nullable<Text>,
        sign_due_at -> Nullable<Timestamp>,
        due_at -> Nullable<Timestamp>,
        overdue -> Bool,
        supervised -> Bool,
        return_count -> Integer,
        rework_count -> Integer,
        urge_count -> Integer,
        merged_into_id -> Nullable<Text>,
        close_reason -> Nullable<Text>,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        callback_attempts -> Integer,
        callback_due_at -> Nullable<Timestamp>,
        paused_at -> Nullable<Timestamp>,
        pause_reason -> Nullable<Text>,
        called_back -> Bool,
    }
}

diesel::table! {
    assignments (id) {
        id -> Text,
        ticket_id -> Text,
        unit_id -> Text,
        round -> Integer,
        role -> Text,
        status -> Text,
        forced -> Bool,
        dispatched_by -> Text,
        dispatched_at -> Timestamp,
        sign_due_at -> Timestamp,
        due_at -> Timestamp,
        original_due_at -> Timestamp,
        signed_at -> Nullable<Timestamp>,
        returned_at -> Nullable<Timestamp>,
        return_reason -> Nullable<Text>,
        replied_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        deadlines -> Text,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> BigInt,
        ticket_id -> Text,
        ticket_version -> BigInt,
        kind -> Text,
        actor_user_id -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        actor_unit_id -> Nullable<Text>,
        assignment_id -> Nullable<Text>,
        details -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, idempotency_key) {
        user_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        user_id -> Nullable<Text>,
        action -> Text,
        ticket_id -> Nullable<Text>,
        subject_id -> Nullable<Text>,
        details -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    extension_requests (id) {
        id -> Text,
        ticket_id -> Text,
        assignment_id -> Text,
        unit_id -> Text,
        requested_due_at -> Timestamp,
        reason -> Text,
        status -> Text,
        requested_by -> Nullable<Text>,
        requested_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    replies (id) {
        id -> Text,
        ticket_id -> Text,
        assignment_id -> Text,
        unit_id -> Text,
        kind -> Text,
        result -> Nullable<Text>,
        body -> Text,
        contacted_at -> Nullable<Timestamp>,
        contact_method -> Nullable<Text>,
        contact_outcome -> Nullable<Text>,
        no_contact_reason -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        due_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        ticket_id -> Text,
        reply_id -> Nullable<Text>,
        unit_id -> Nullable<Text>,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> Nullable<Text>,
        created_at -> Timestamp,
        appeal_id -> Nullable<Text>,
    }
}

diesel::table! {
    callbacks (id) {
        id -> Text,
        ticket_id -> Text,
        attempt -> Integer,
        reached -> Bool,
        satisfaction -> Nullable<Text>,
        resolved -> Nullable<Bool>,
        comment -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        unit_id -> Nullable<Text>,
    }
}

diesel::table! {
    urges (id) {
        id -> Text,
        ticket_id -> Text,
        assignment_id -> Text,
        unit_id -> Text,
        kind -> Text,
        note -> Nullable<Text>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        rung -> Nullable<Text>,
        timer -> Nullable<Text>,
    }
}

diesel::table! {
    supervisions (id) {
        id -> Text,
        ticket_id -> Text,
        unit_id -> Text,
        reason -> Text,
        deadline -> Timestamp,
        automatic -> Bool,
        status -> Text,
        opened_by -> Nullable<Text>,
        opened_at -> Timestamp,
        outcome -> Nullable<Text>,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Text,
        kind -> Text,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    ladder_rungs (id) {
        id -> BigInt,
        subject_id -> Text,
        ticket_id -> Text,
        timer -> Text,
        rung -> Text,
        due_at -> Timestamp,
        fired_at -> Timestamp,
    }
}

diesel::table! {
    sla_policies (id) {
        id -> BigInt,
        body -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        audience -> Text,
        unit_id -> Nullable<Text>,
        ticket_id -> Text,
        kind -> Text,
        details -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        read_by -> Nullable<Text>,
    }
}

diesel::table! {
    assessment_rules (effective_from) {
        effective_from -> Text,
        body -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assessment_bonuses (month, unit_id) {
        month -> Text,
        unit_id -> Text,
        points -> Double,
        reason -> Text,
        set_by -> Nullable<Text>,
        set_at -> Timestamp,
    }
}

diesel::table! {
    appeals (id) {
        id -> Text,
        ticket_id -> Text,
        unit_id -> Text,
        subject -> Text,
        reason -> Text,
        status -> Text,
        filed_by -> Nullable<Text>,
        filed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    typical_cases (ticket_id) {
        ticket_id -> Text,
        polarity -> Text,
        note -> Text,
        flagged_by -> Nullable<Text>,
        flagged_at -> Timestamp,
    }
}

diesel::table! {
    published_bulletins (month) {
        month -> Text,
        body -> Text,
        published_by -> Nullable<Text>,
        published_at -> Timestamp,
    }
}

diesel::joinable!(appeals -> tickets (ticket_id));
diesel::joinable!(assignments -> tickets (ticket_id));
diesel::joinable!(typical_cases -> tickets (ticket_id));
diesel::joinable!(ladder_rungs -> tickets (ticket_id));
diesel::joinable!(notifications -> tickets (ticket_id));
diesel::joinable!(supervisions -> tickets (ticket_id));
diesel::joinable!(ticket_events -> assignments (assignment_id));
diesel::joinable!(ticket_events -> tickets (ticket_id));
diesel::joinable!(users -> units (unit_id));

diesel::table! {
    sign_in_throttle (throttle_key) {
        throttle_key -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        blocked_until -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    units,
    users,
    categories,
    ticket_number_days,
    tickets,
    assignments,
    ticket_events,
    idempotency_keys,
    audit_log,
    extension_requests,
    replies,
    attachments,
    callbacks,
    urges,
    supervisions,
    calendar_days,
    ladder_rungs,
    sla_policies,
    notifications,
    assessment_rules,
    assessment_bonuses,
    appeals,
    typical_cases,
    published_bulletins,
);
