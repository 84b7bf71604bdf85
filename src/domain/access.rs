//! Who may do what, and which tickets they may see: the one table every handler consults.

use uuid::Uuid;

use super::ticket::Channel;

text_enum! {
    /// The part a user plays; see the roles table in the domain description.
    pub enum Role {
        Agent = "agent",
        Dispatcher = "dispatcher",
        UnitHandler = "unit_handler",
        Supervisor = "supervisor",
        Admin = "admin",
        Integration = "integration",
    }
}

/// Something a request wants to do, independent of the object it does it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read units and categories (every signed-in user needs them to fill in a ticket).
    ReadDirectory,
    /// Create, change and deactivate units and categories.
    ManageDirectory,
    /// Create, change and deactivate user accounts.
    ManageUsers,
    /// Set the working-day calendar and the SLA policy.
    ManageDeadlines,
    /// Read one's own notification feed (a unit's, or the hotline office's).
    ReadNotifications,
    RegisterTicket,
    ReadTickets,
    /// Change a ticket's registration data before it is dispatched.
    EditTicket,
    /// See a caller's name and phone number whole (each time is audited).
    RevealCaller,
    /// Answer a ticket directly (直办), dispatch it, merge it, invalidate it, call back, urge.
    FrontDesk,
    /// Dispatch with `forced` after too many returns: the hotline office's decision.
    ForceDispatch,
    /// Review replies and decide extension requests.
    Review,
    /// Sign, return, ask for more time, reply and give opinions on one's own unit's assignments.
    HandleAssignment,
    /// Open and close supervisions (督办).
    Supervise,
    /// Read figures and bulletins of the whole hotline, drafts included. Unit handlers read
    /// their own unit's figures and published bulletins.
    ReadReports,
    /// Keep the assessment: its rules, bonuses (附加分), typical cases, appeals' decisions, and
    /// publishing a month's bulletin.
    Assess,
    /// Appeal (申诉) a dissatisfied callback or an overdue mark of one's own unit.
    Appeal,
    /// Attach evidence (photos, call recordings, documents) to a ticket one works on.
    AttachEvidence,
    /// Read figures, bulletins and appeals: the whole hotline's with [`Permission::ReadReports`],
    /// one's own unit's (and published bulletins) as a unit handler.
    ReadAssessment,
    /// Follow supervisions across tickets: the office all of them, a unit its own.
    ReadSupervisions,
    /// Read the knowledge base: agents its published articles in force, units their own as
    /// well, the office all.
    ReadKnowledge,
    /// Write and keep articles: a unit its own; the office reviews and publishes
    /// (`domain::knowledge::decide` says which action each may take).
    KeepKnowledge,
    /// Read what is waiting: the dashboard's counts and the extension requests to decide; the
    /// office the whole hotline's, a unit its own.
    ReadWorkQueues,
    /// Read the audit log: who saw personal information whole, and who changed the setup.
    ReadAudit,
    /// Read and write internal notes (内部备注) on the tickets one sees: the hotline's staff and
    /// the tickets' units.
    WriteNotes,
    /// Look up a caller's earlier tickets by phone number (each look-up is audited).
    LookUpCaller,
    /// Mark numbers as nuisance callers (恶意骚扰), lift marks and read their list (audited).
    MarkNuisance,
    /// Follow the event feed: the office every ticket's events, a unit those of its tickets, an
    /// integration those of tickets on its channel.
    FollowEvents,
    /// Keep webhook subscriptions: an administrator any, an integration its own.
    ManageWebhooks,
}

/// Who may call a route at all; what they may then see or change is narrowed by the handler
/// (a unit's own tickets, a unit's own figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No account needed: sign-in, probes, metrics, the contract.
    Public,
    /// Any signed-in, active account, also one that must still change its password.
    Account,
    /// Any signed-in, active account with nothing pending.
    SignedIn,
    /// An account whose role grants the permission.
    Granted(Permission),
}

impl Access {
    /// Whether a signed-in user of `role` passes, when nothing is pending on the account.
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Account | Access::SignedIn => true,
            Access::Granted(permission) => role.may(permission),
        }
    }
}

impl Role {
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            ReadDirectory => true,
            ManageDirectory | ManageUsers | ManageDeadlines => self == Admin,
            ReadNotifications => matches!(self, Agent | Dispatcher | Supervisor | UnitHandler),
            RegisterTicket => matches!(self, Agent | Dispatcher | Supervisor | Integration),
            ReadTickets | RevealCaller => self != Admin,
            EditTicket | FrontDesk => matches!(self, Agent | Dispatcher | Supervisor),
            ForceDispatch | Review => matches!(self, Dispatcher | Supervisor),
            HandleAssignment => self == UnitHandler,
            Supervise | Assess => self == Supervisor,
            ReadReports => matches!(self, Agent | Dispatcher | Supervisor | Admin),
            Appeal => self == UnitHandler,
            AttachEvidence | ReadSupervisions => {
                matches!(self, Agent | Dispatcher | Supervisor | UnitHandler)
            }
            ReadAssessment => matches!(self, Agent | Dispatcher | Supervisor | Admin | UnitHandler),
            ReadKnowledge => matches!(self, Agent | Dispatcher | Supervisor | UnitHandler),
            KeepKnowledge => matches!(self, Dispatcher | Supervisor | UnitHandler),
            ReadWorkQueues => matches!(self, Agent | Dispatcher | Supervisor | UnitHandler),
            ReadAudit => matches!(self, Supervisor | Admin),
            WriteNotes => matches!(self, Agent | Dispatcher | Supervisor | UnitHandler),
            LookUpCaller => matches!(self, Agent | Dispatcher | Supervisor),
            MarkNuisance => matches!(self, Dispatcher | Supervisor),
            FollowEvents => self != Admin,
            ManageWebhooks => matches!(self, Admin | Integration),
        }
    }

    /// The tickets a user of this role sees: hotline staff see all, a unit's handlers the ones
    /// ever assigned to their unit, an integration the ones it registered. Administrators manage
    /// the system, not citizens' requests, and see none.
    pub fn ticket_scope(self, user_id: Uuid, unit_id: Option<Uuid>) -> Option<TicketScope> {
        match self {
            Role::Agent | Role::Dispatcher | Role::Supervisor => Some(TicketScope::All),
            Role::UnitHandler => unit_id.map(TicketScope::Unit),
            Role::Integration => Some(TicketScope::CreatedBy(user_id)),
            Role::Admin => None,
        }
    }

    /// The events a follower of this role is served: hotline staff every ticket's, a unit's
    /// handlers those of the tickets ever assigned to their unit (as [`Role::ticket_scope`]), an
    /// integration those of the tickets on its channel, whoever registered them (the upper
    /// platform learns what became of the tickets it handed down, and of those the office
    /// registered on its behalf).
    pub fn event_scope(
        self,
        unit_id: Option<Uuid>,
        channel: Option<Channel>,
    ) -> Option<EventScope> {
        match self {
            Role::Agent | Role::Dispatcher | Role::Supervisor => Some(EventScope::All),
            Role::UnitHandler => unit_id.map(EventScope::Unit),
            Role::Integration => channel.map(EventScope::Channel),
            Role::Admin => None,
        }
    }

    /// Whether this role needs a unit (and only makes sense with one).
    pub fn requires_unit(self) -> bool {
        self == Role::UnitHandler
    }

    /// Whether this role registers tickets on one fixed channel of its own.
    pub fn requires_channel(self) -> bool {
        self == Role::Integration
    }
}

/// An account as far as administering the service goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
}

impl Standing {
    pub fn administers(self) -> bool {
        self.role == Role::Admin && self.active
    }
}

/// The service always keeps an active administrator: a change that makes an account stop
/// administering (demoted or deactivated) is allowed only while another account administers.
pub fn stops_administering(before: Standing, after: Standing) -> bool {
    before.administers() && !after.administers()
}

/// Why a caller may not read the figures asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FiguresRefused {
    NoUnit,
    AnotherUnit,
}

impl std::fmt::Display for FiguresRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FiguresRefused::NoUnit => "this account belongs to no unit",
            FiguresRefused::AnotherUnit => "a unit reads its own figures only",
        })
    }
}

/// Which figures a caller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiguresRead {
    /// One unit's only, or every unit's (`None`).
    pub unit: Option<Uuid>,
    /// The totals of the whole hotline and of each kind of unit too.
    pub totals: bool,
}

/// What a caller reads when asking for the figures of `asked` (every unit's when `None`):
/// hotline staff read any unit's and the totals; a unit handler reads their own unit's only,
/// asked for or not, and no totals.
pub fn figures_of(
    role: Role,
    own_unit: Option<Uuid>,
    asked: Option<Uuid>,
) -> Result<FiguresRead, FiguresRefused> {
    if role != Role::UnitHandler {
        return Ok(FiguresRead {
            unit: asked,
            totals: true,
        });
    }
    let unit = own_unit.ok_or(FiguresRefused::NoUnit)?;
    match asked {
        Some(other) if other != unit => Err(FiguresRefused::AnotherUnit),
        _ => Ok(FiguresRead {
            unit: Some(unit),
            totals: false,
        }),
    }
}

/// Who did something recorded on a timeline: a user in a role (and unit), or the service itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub role: Option<Role>,
    pub unit_id: Option<Uuid>,
}

impl Actor {
    pub fn user(user_id: Uuid, role: Role, unit_id: Option<Uuid>) -> Self {
        Self {
            user_id: Some(user_id),
            role: Some(role),
            unit_id,
        }
    }

    /// The service acting on its own (deadline urges, automatic supervision).
    pub fn system() -> Self {
        Self {
            user_id: None,
            role: None,
            unit_id: None,
        }
    }
}

/// The tickets a caller may see; anything outside it does not exist for them (404, not 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketScope {
    All,
    Unit(Uuid),
    CreatedBy(Uuid),
}

/// The tickets whose events a follower of the feed is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventScope {
    All,
    Unit(Uuid),
    Channel(Channel),
}

/// How much of a caller's identity a viewer of a ticket sees without asking for it whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerVisibility {
    Masked,
    /// Confidential tickets (举报人保密) keep the caller away from the units entirely.
    Hidden,
}

impl TicketScope {
    pub fn caller_visibility(self, confidential: bool) -> CallerVisibility {
        match self {
            TicketScope::Unit(_) if confidential => CallerVisibility::Hidden,
            _ => CallerVisibility::Masked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_serves_the_office_everything_a_unit_its_tickets_an_integration_its_channel() {
        let unit = Uuid::now_v7();
        for role in Role::ALL {
            let scope = role.event_scope(Some(unit), Some(Channel::UpperPlatform));
            let expected = match role {
                Role::Agent | Role::Dispatcher | Role::Supervisor => Some(EventScope::All),
                Role::UnitHandler => Some(EventScope::Unit(unit)),
                Role::Integration => Some(EventScope::Channel(Channel::UpperPlatform)),
                Role::Admin => None,
            };
            assert_eq!(scope, expected, "{role:?}");
            assert_eq!(role.may(Permission::FollowEvents), expected.is_some());
            assert_eq!(
                role.may(Permission::ManageWebhooks),
                matches!(role, Role::Admin | Role::Integration)
            );
        }
        assert_eq!(Role::UnitHandler.event_scope(None, None), None);
        assert_eq!(Role::Integration.event_scope(None, None), None);
    }

    #[test]
    fn only_admins_manage_the_directory_and_users() {
        for role in Role::ALL {
            assert_eq!(role.may(Permission::ManageDirectory), *role == Role::Admin);
            assert_eq!(role.may(Permission::ManageUsers), *role == Role::Admin);
            assert!(role.may(Permission::ReadDirectory));
        }
    }

    #[test]
    fn registering_is_for_front_desk_roles_and_integrations() {
        let allowed: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| r.may(Permission::RegisterTicket))
            .collect();
        assert_eq!(
            allowed,
            [
                Role::Agent,
                Role::Dispatcher,
                Role::Supervisor,
                Role::Integration
            ]
        );
    }

    #[test]
    fn unit_handlers_and_integrations_cannot_edit() {
        assert!(!Role::UnitHandler.may(Permission::EditTicket));
        assert!(!Role::Integration.may(Permission::EditTicket));
        assert!(!Role::Admin.may(Permission::EditTicket));
        assert!(Role::Agent.may(Permission::EditTicket));
    }

    #[test]
    fn lifecycle_permissions_follow_the_roles_table() {
        use Permission::*;
        let holders = |p: Permission| -> Vec<Role> {
            Role::ALL.iter().copied().filter(|r| r.may(p)).collect()
        };
        assert_eq!(
            holders(FrontDesk),
            [Role::Agent, Role::Dispatcher, Role::Supervisor]
        );
        assert_eq!(holders(ForceDispatch), [Role::Dispatcher, Role::Supervisor]);
        assert_eq!(holders(Review), [Role::Dispatcher, Role::Supervisor]);
        assert_eq!(holders(HandleAssignment), [Role::UnitHandler]);
        assert_eq!(holders(Supervise), [Role::Supervisor]);
        assert_eq!(holders(Assess), [Role::Supervisor]);
        assert_eq!(holders(Appeal), [Role::UnitHandler]);
        assert_eq!(
            holders(ReadReports),
            [Role::Agent, Role::Dispatcher, Role::Supervisor, Role::Admin]
        );
    }

    #[test]
    fn integrations_register_and_read_but_attach_nothing() {
        use Permission::*;
        let integration = Role::Integration;
        assert!(integration.may(RegisterTicket));
        assert!(integration.may(ReadTickets));
        for denied in [
            AttachEvidence,
            FrontDesk,
            HandleAssignment,
            ReadAssessment,
            ReadSupervisions,
            ReadNotifications,
        ] {
            assert!(!integration.may(denied), "{denied:?}");
        }
        assert!(Access::Granted(AttachEvidence).admits(Role::UnitHandler));
        assert!(!Access::Granted(AttachEvidence).admits(Role::Integration));
        assert!(Access::SignedIn.admits(Role::Integration));
    }

    #[test]
    fn scopes_follow_the_role() {
        let user = Uuid::now_v7();
        let unit = Uuid::now_v7();
        assert_eq!(Role::Agent.ticket_scope(user, None), Some(TicketScope::All));
        assert_eq!(
            Role::UnitHandler.ticket_scope(user, Some(unit)),
            Some(TicketScope::Unit(unit))
        );
        assert_eq!(Role::UnitHandler.ticket_scope(user, None), None);
        assert_eq!(
            Role::Integration.ticket_scope(user, None),
            Some(TicketScope::CreatedBy(user))
        );
        assert_eq!(Role::Admin.ticket_scope(user, None), None);
    }

    #[test]
    fn confidential_callers_are_hidden_from_units_only() {
        let unit = TicketScope::Unit(Uuid::now_v7());
        assert_eq!(unit.caller_visibility(true), CallerVisibility::Hidden);
        assert_eq!(unit.caller_visibility(false), CallerVisibility::Masked);
        assert_eq!(
            TicketScope::All.caller_visibility(true),
            CallerVisibility::Masked
        );
    }

    #[test]
    fn the_last_administrator_stays() {
        let admin = |active| Standing {
            role: Role::Admin,
            active,
        };
        let agent = Standing {
            role: Role::Agent,
            active: true,
        };
        assert!(stops_administering(admin(true), agent));
        assert!(stops_administering(admin(true), admin(false)));
        assert!(!stops_administering(admin(true), admin(true)));
        assert!(!stops_administering(admin(false), agent));
        assert!(!stops_administering(agent, admin(true)));
    }

    #[test]
    fn units_read_their_own_figures_only() {
        let (mine, other) = (Uuid::now_v7(), Uuid::now_v7());
        let office = |unit| FiguresRead { unit, totals: true };
        let own = FiguresRead {
            unit: Some(mine),
            totals: false,
        };
        assert_eq!(figures_of(Role::Supervisor, None, None), Ok(office(None)));
        assert_eq!(
            figures_of(Role::Agent, None, Some(other)),
            Ok(office(Some(other)))
        );
        assert_eq!(figures_of(Role::UnitHandler, Some(mine), None), Ok(own));
        assert_eq!(
            figures_of(Role::UnitHandler, Some(mine), Some(mine)),
            Ok(own)
        );
        assert_eq!(
            figures_of(Role::UnitHandler, Some(mine), Some(other)),
            Err(FiguresRefused::AnotherUnit)
        );
        assert_eq!(
            figures_of(Role::UnitHandler, None, None),
            Err(FiguresRefused::NoUnit)
        );
    }

    #[test]
    fn roles_read_back_from_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
