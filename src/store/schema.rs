//! The one schema both backends share. Written by hand: `diesel print-schema` would describe the
//! SQLite rowid keys as `Integer`. A test compares every table and column here with what each
//! backend's migrations actually create.

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    units (id) {
        id -> Uid,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Uid>,
        sort_order -> Integer,
        active -> Bool,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    users (id) {
        id -> Uid,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        unit_id -> Nullable<Uid>,
        channel -> Nullable<Text>,
        active -> Bool,
        must_change_password -> Bool,
        token_generation -> BigInt,
        last_login_at -> Nullable<UtcTime>,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::UtcTime;

    channels (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        bulletin_row -> Text,
        own_section -> Bool,
        sort_order -> Integer,
        active -> Bool,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    categories (id) {
        id -> Uid,
        parent_id -> Nullable<Uid>,
        name -> Text,
        full_name -> Text,
        level -> Integer,
        default_unit_id -> Nullable<Uid>,
        sort_order -> Integer,
        active -> Bool,
        created_at -> UtcTime,
        updated_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    ticket_number_days (day) {
        day -> Text,
        last_value -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    tickets (id) {
        id -> Uid,
        number -> Text,
        channel -> Text,
        external_ref -> Nullable<Text>,
        ticket_type -> Text,
        category_id -> Nullable<Uid>,
        title -> Text,
        content -> Text,
        caller_name -> Nullable<Text>,
        caller_phone -> Nullable<Text>,
        confidential -> Bool,
        address -> Nullable<Text>,
        area_unit_id -> Nullable<Uid>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        priority -> Text,
        status -> Text,
        current_round -> Integer,
        primary_unit_id -> Nullable<Uid>,
        sign_due_at -> Nullable<UtcTime>,
        due_at -> Nullable<UtcTime>,
        overdue -> Bool,
        supervised -> Bool,
        return_count -> Integer,
        rework_count -> Integer,
        urge_count -> Integer,
        merged_into_id -> Nullable<Uid>,
        close_reason -> Nullable<Text>,
        created_by -> Uid,
        version -> BigInt,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        closed_at -> Nullable<UtcTime>,
        callback_attempts -> Integer,
        callback_due_at -> Nullable<UtcTime>,
        paused_at -> Nullable<UtcTime>,
        pause_reason -> Nullable<Text>,
        called_back -> Bool,
        caller_phone_key -> Nullable<Text>,
        nuisance_number_id -> Nullable<Uid>,
        channel_code -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    assignments (id) {
        id -> Uid,
        ticket_id -> Uid,
        unit_id -> Uid,
        round -> Integer,
        role -> Text,
        status -> Text,
        forced -> Bool,
        dispatched_by -> Uid,
        dispatched_at -> UtcTime,
        sign_due_at -> UtcTime,
        due_at -> UtcTime,
        original_due_at -> UtcTime,
        signed_at -> Nullable<UtcTime>,
        returned_at -> Nullable<UtcTime>,
        return_reason -> Nullable<Text>,
        replied_at -> Nullable<UtcTime>,
        closed_at -> Nullable<UtcTime>,
        deadlines -> Text,
        forwarded_from_id -> Nullable<Uid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    ticket_events (id) {
        id -> BigInt,
        ticket_id -> Uid,
        ticket_version -> BigInt,
        kind -> Text,
        actor_user_id -> Nullable<Uid>,
        actor_role -> Nullable<Text>,
        actor_unit_id -> Nullable<Uid>,
        assignment_id -> Nullable<Uid>,
        details -> Text,
        created_at -> UtcTime,
        transaction_id -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    idempotency_keys (user_id, idempotency_key) {
        user_id -> Uid,
        idempotency_key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    audit_log (id) {
        id -> BigInt,
        user_id -> Nullable<Uid>,
        action -> Text,
        ticket_id -> Nullable<Uid>,
        subject_id -> Nullable<Uid>,
        details -> Text,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    extension_requests (id) {
        id -> Uid,
        ticket_id -> Uid,
        assignment_id -> Uid,
        unit_id -> Uid,
        requested_due_at -> UtcTime,
        reason -> Text,
        status -> Text,
        requested_by -> Nullable<Uid>,
        requested_at -> UtcTime,
        decided_by -> Nullable<Uid>,
        decided_at -> Nullable<UtcTime>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    replies (id) {
        id -> Uid,
        ticket_id -> Uid,
        assignment_id -> Uid,
        unit_id -> Uid,
        kind -> Text,
        result -> Nullable<Text>,
        body -> Text,
        contacted_at -> Nullable<UtcTime>,
        contact_method -> Nullable<Text>,
        contact_outcome -> Nullable<Text>,
        no_contact_reason -> Nullable<Text>,
        created_by -> Nullable<Uid>,
        created_at -> UtcTime,
        due_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    attachments (id) {
        id -> Uid,
        ticket_id -> Uid,
        reply_id -> Nullable<Uid>,
        unit_id -> Nullable<Uid>,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> Nullable<Uid>,
        created_at -> UtcTime,
        appeal_id -> Nullable<Uid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    callbacks (id) {
        id -> Uid,
        ticket_id -> Uid,
        attempt -> Integer,
        reached -> Bool,
        satisfaction -> Nullable<Text>,
        resolved -> Nullable<Bool>,
        comment -> Nullable<Text>,
        created_by -> Nullable<Uid>,
        created_at -> UtcTime,
        unit_id -> Nullable<Uid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    urges (id) {
        id -> Uid,
        ticket_id -> Uid,
        assignment_id -> Uid,
        unit_id -> Uid,
        kind -> Text,
        note -> Nullable<Text>,
        created_by -> Nullable<Uid>,
        created_at -> UtcTime,
        rung -> Nullable<Text>,
        timer -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    supervisions (id) {
        id -> Uid,
        ticket_id -> Uid,
        unit_id -> Uid,
        reason -> Text,
        deadline -> UtcTime,
        automatic -> Bool,
        status -> Text,
        opened_by -> Nullable<Uid>,
        opened_at -> UtcTime,
        outcome -> Nullable<Text>,
        closed_by -> Nullable<Uid>,
        closed_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    calendar_days (day) {
        day -> Text,
        kind -> Text,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    ladder_rungs (id) {
        id -> BigInt,
        subject_id -> Uid,
        ticket_id -> Uid,
        timer -> Text,
        rung -> Text,
        due_at -> UtcTime,
        fired_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    sla_policies (id) {
        id -> BigInt,
        body -> Text,
        created_by -> Nullable<Uid>,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    notifications (id) {
        id -> Uid,
        audience -> Text,
        unit_id -> Nullable<Uid>,
        ticket_id -> Nullable<Uid>,
        kind -> Text,
        details -> Text,
        created_at -> UtcTime,
        read_at -> Nullable<UtcTime>,
        read_by -> Nullable<Uid>,
        article_id -> Nullable<Uid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    assessment_rules (effective_from) {
        effective_from -> Text,
        body -> Text,
        created_by -> Nullable<Uid>,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    assessment_bonuses (month, unit_id) {
        month -> Text,
        unit_id -> Uid,
        points -> Double,
        reason -> Text,
        set_by -> Nullable<Uid>,
        set_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    appeals (id) {
        id -> Uid,
        ticket_id -> Uid,
        unit_id -> Uid,
        subject -> Text,
        reason -> Text,
        status -> Text,
        filed_by -> Nullable<Uid>,
        filed_at -> UtcTime,
        decided_by -> Nullable<Uid>,
        decided_at -> Nullable<UtcTime>,
        decision_note -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    typical_cases (ticket_id) {
        ticket_id -> Uid,
        polarity -> Text,
        note -> Text,
        flagged_by -> Nullable<Uid>,
        flagged_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    published_bulletins (month) {
        month -> Text,
        body -> Text,
        published_by -> Nullable<Uid>,
        published_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    archives (id) {
        id -> Uid,
        before_month -> Text,
        cutoff -> UtcTime,
        archived_rows -> BigInt,
        manifest -> Text,
        archived_at -> UtcTime,
    }
}

diesel::joinable!(appeals -> tickets (ticket_id));
diesel::joinable!(callbacks -> tickets (ticket_id));
diesel::joinable!(assignments -> tickets (ticket_id));
diesel::joinable!(typical_cases -> tickets (ticket_id));
diesel::joinable!(ladder_rungs -> tickets (ticket_id));
diesel::joinable!(notifications -> tickets (ticket_id));
diesel::joinable!(supervisions -> tickets (ticket_id));
diesel::joinable!(audit_log -> tickets (ticket_id));
diesel::joinable!(extension_requests -> tickets (ticket_id));
diesel::joinable!(ticket_events -> assignments (assignment_id));
diesel::joinable!(ticket_events -> tickets (ticket_id));
diesel::joinable!(users -> units (unit_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    sign_in_throttle (throttle_key) {
        throttle_key -> Text,
        failures -> Integer,
        last_failure_at -> UtcTime,
        blocked_until -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    unit_tickets (ticket_id, unit_id) {
        ticket_id -> Uid,
        unit_id -> Uid,
        holding -> Bool,
        status -> Text,
        created_at -> UtcTime,
        due_at -> Nullable<UtcTime>,
        overdue -> Bool,
    }
}

diesel::joinable!(unit_tickets -> tickets (ticket_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    knowledge_articles (id) {
        id -> Uid,
        unit_id -> Nullable<Uid>,
        status -> Text,
        title -> Text,
        body -> Text,
        category_id -> Nullable<Uid>,
        keywords -> Text,
        area_unit_id -> Nullable<Uid>,
        effective_on -> Nullable<Text>,
        expires_on -> Nullable<Text>,
        review_due_on -> Text,
        review_flagged_on -> Nullable<Text>,
        version -> BigInt,
        created_by -> Uid,
        created_at -> UtcTime,
        updated_by -> Uid,
        updated_at -> UtcTime,
        published_at -> Nullable<UtcTime>,
        reviewed_at -> Nullable<UtcTime>,
        use_count -> BigInt,
        last_used_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    knowledge_article_versions (article_id, version) {
        article_id -> Uid,
        version -> BigInt,
        change -> Text,
        status -> Text,
        title -> Text,
        body -> Text,
        category_id -> Nullable<Uid>,
        keywords -> Text,
        area_unit_id -> Nullable<Uid>,
        effective_on -> Nullable<Text>,
        expires_on -> Nullable<Text>,
        review_due_on -> Text,
        note -> Nullable<Text>,
        changed_by -> Uid,
        changed_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    knowledge_citations (ticket_id, article_id) {
        ticket_id -> Uid,
        article_id -> Uid,
        cited_by -> Uid,
        cited_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    ticket_notes (id) {
        id -> Uid,
        ticket_id -> Uid,
        body -> Text,
        written_by -> Uid,
        unit_id -> Nullable<Uid>,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    nuisance_numbers (id) {
        id -> Uid,
        phone_key -> Text,
        phone_masked -> Text,
        reason -> Text,
        expires_at -> UtcTime,
        marked_by -> Uid,
        marked_at -> UtcTime,
        lifted_by -> Nullable<Uid>,
        lifted_at -> Nullable<UtcTime>,
        lift_reason -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    console_sessions (key) {
        key -> Text,
        user_id -> Uid,
        form_token -> Text,
        token_generation -> BigInt,
        started_at -> UtcTime,
        used_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    webhook_subscriptions (id) {
        id -> Uid,
        url -> Text,
        description -> Text,
        kinds -> Text,
        channel -> Nullable<Text>,
        owner_user_id -> Nullable<Uid>,
        scope_channel -> Nullable<Text>,
        disabled_reason -> Nullable<Text>,
        feed_transaction -> BigInt,
        feed_event -> BigInt,
        lease_until -> Nullable<UtcTime>,
        created_by -> Uid,
        created_at -> UtcTime,
        updated_at -> UtcTime,
        deleted_at -> Nullable<UtcTime>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    webhook_secrets (id) {
        id -> Uid,
        subscription_id -> Uid,
        secret -> Text,
        created_at -> UtcTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql::{Uid, UtcTime};

    webhook_deliveries (id) {
        id -> BigInt,
        subscription_id -> Uid,
        event_id -> BigInt,
        event_kind -> Text,
        ticket_id -> Uid,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> UtcTime,
        last_attempt_at -> Nullable<UtcTime>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        latency_ms -> Nullable<BigInt>,
        event_at -> UtcTime,
        created_at -> UtcTime,
        delivered_at -> Nullable<UtcTime>,
    }
}

diesel::joinable!(ticket_notes -> tickets (ticket_id));
diesel::joinable!(knowledge_article_versions -> knowledge_articles (article_id));
diesel::joinable!(knowledge_citations -> knowledge_articles (article_id));
diesel::joinable!(notifications -> knowledge_articles (article_id));

diesel::allow_tables_to_appear_in_same_query!(
    archives,
    units,
    users,
    categories,
    channels,
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
    unit_tickets,
    knowledge_articles,
    knowledge_article_versions,
    knowledge_citations,
    ticket_notes,
    nuisance_numbers,
    console_sessions,
    webhook_subscriptions,
    webhook_secrets,
    webhook_deliveries,
);
