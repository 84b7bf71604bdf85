//! The stable codes of the problems a client can be answered with: `openapi.yaml` lists the same
//! set, and a test holds the two to each other.

text_enum! {
    pub enum ProblemCode {
        MalformedJson = "malformed_json",
        ValidationFailed = "validation_failed",
        UnsupportedMediaType = "unsupported_media_type",
        PayloadTooLarge = "payload_too_large",
        InvalidIfMatch = "invalid_if_match",
        InvalidIdempotencyKey = "invalid_idempotency_key",
        IdempotencyKeyReused = "idempotency_key_reused",
        UnreadableBody = "unreadable_body",
        MissingToken = "missing_token",
        InvalidToken = "invalid_token",
        TokenRevoked = "token_revoked",
        AccountDisabled = "account_disabled",
        InvalidCredentials = "invalid_credentials",
        PasswordChangeRequired = "password_change_required",
        Forbidden = "forbidden",
        Confidential = "confidential",
        NotFound = "not_found",
        RouteNotFound = "route_not_found",
        MethodNotAllowed = "method_not_allowed",
        InvalidTransition = "invalid_transition",
        VersionMismatch = "version_mismatch",
        AlreadyExists = "already_exists",
        InUse = "in_use",
        LastAdmin = "last_admin",
        ReferenceConflict = "reference_conflict",
        ForcedDispatchRequired = "forced_dispatch_required",
        ForcedAssignment = "forced_assignment",
        AlreadySigned = "already_signed",
        NotSigned = "not_signed",
        NotPrimary = "not_primary",
        NotAssisting = "not_assisting",
        /// 二级转办 goes one level down, once per unit and round.
        NotForwardable = "not_forwardable",
        NoOpenAssignment = "no_open_assignment",
        NoPrimary = "no_primary",
        ExtensionPending = "extension_pending",
        ExtensionDecided = "extension_decided",
        MergeTargetClosed = "merge_target_closed",
        /// The ticket closed longer ago than the policy lets a supervisor reopen it.
        ReopenPeriodOver = "reopen_period_over",
        /// A nuisance mark lifted or expired already.
        NuisanceMarkEnded = "nuisance_mark_ended",
        AlreadySupervised = "already_supervised",
        SupervisionClosed = "supervision_closed",
        AlreadyPaused = "already_paused",
        NotPaused = "not_paused",
        MonthNotOver = "month_not_over",
        /// The period reaches back before the record `hotline archive` moved out.
        PeriodArchived = "period_archived",
        AlreadyPublished = "already_published",
        NotAssessed = "not_assessed",
        NothingToAppeal = "nothing_to_appeal",
        AlreadyAppealed = "already_appealed",
        AppealDecided = "appeal_decided",
        MalformedMultipart = "malformed_multipart",
        LastSecret = "last_secret",
        DeliveryPending = "delivery_pending",
        RateLimited = "rate_limited",
        Unavailable = "unavailable",
        DatabaseTimeout = "database_timeout",
        StorageFull = "storage_full",
        StorageReadOnly = "storage_read_only",
        EvidenceStoreUnavailable = "evidence_store_unavailable",
        Internal = "internal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_lists_exactly_these_codes() {
        let contract: serde_json::Value =
            serde_norway::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml");
        let listed: Vec<&str> = contract["components"]["schemas"]["Problem"]["properties"]["code"]
            ["enum"]
            .as_array()
            .expect("Problem.code lists its values")
            .iter()
            .map(|code| code.as_str().expect("a code is a string"))
            .collect();
        assert_eq!(listed, ProblemCode::TEXTS);
    }
}
