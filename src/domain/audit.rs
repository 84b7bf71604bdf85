//! What the audit log records besides the tickets' timelines: who saw personal information
//! whole, and who changed the directory, the deadlines or the assessment.

text_enum! {
    pub enum AuditAction {
        /// A caller's name and number shown whole.
        CallerRevealed = "caller_revealed",
        /// A caller's earlier tickets looked up by phone number.
        CallerLookedUp = "caller_looked_up",
        /// A list of tickets taken away as a file.
        TicketsExported = "tickets_exported",
        /// A number marked as a nuisance caller (恶意骚扰), a mark lifted, the list of marks read.
        NuisanceMarked = "nuisance_marked",
        NuisanceLifted = "nuisance_lifted",
        NuisanceListed = "nuisance_listed",
        UnitCreated = "unit_created",
        UnitUpdated = "unit_updated",
        UnitDeleted = "unit_deleted",
        UserCreated = "user_created",
        UserUpdated = "user_updated",
        CategoryCreated = "category_created",
        CategoryUpdated = "category_updated",
        CategoryDeleted = "category_deleted",
        /// A channel defined or its definition replaced.
        ChannelDefined = "channel_defined",
        CalendarReplaced = "calendar_replaced",
        SlaPolicyReplaced = "sla_policy_replaced",
        AssessmentRulesSet = "assessment_rules_set",
        BonusSet = "bonus_set",
        TypicalCaseFlagged = "typical_case_flagged",
        TypicalCaseUnflagged = "typical_case_unflagged",
        BulletinPublished = "bulletin_published",
        WebhookCreated = "webhook_created",
        WebhookUpdated = "webhook_updated",
        WebhookDeleted = "webhook_deleted",
        WebhookSecretAdded = "webhook_secret_added",
        WebhookSecretRemoved = "webhook_secret_removed",
        WebhookRedelivered = "webhook_redelivered",
    }
}
