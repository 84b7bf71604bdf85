//! Lists of tickets as keyset scans that an index drives: every page reads the index entries
//! after its cursor, in the list's order, and stops at the page's end. Which index drives is
//! chosen from the filter so that the rows it walks are the list's own — a unit's rows for a
//! unit's lists, the open work for lists by due time — and the cost of a page stays flat as the
//! hotline grows. Filters the chosen index does not hold are checked on the rows it yields.
//!
//! A filter on several statuses (or categories) scans one index range per value and merges the
//! ranges: each range is read in order up to a page, so the merge never sorts more than a page
//! per value, where one scan of all the values would have to sort all their rows.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use uuid::Uuid;

use crate::domain::access::TicketScope;
use crate::domain::search::query_terms;
use crate::domain::ticket::{
    Channel, Priority, TicketOrder, TicketStatus, TicketSummary, TicketType,
};
use crate::store::schema::tickets;
use crate::store::search;
use crate::store::sql::{At, Id, Prepared, Uid, UtcTime};
use crate::store::{Backend, DbConnection, MultiBackend, StoreError, contains_pattern};

#[derive(Debug, Default, Clone)]
pub struct TicketFilter {
    pub statuses: Vec<TicketStatus>,
    /// Tickets the unit is assigned in their current round: its work now.
    pub unit_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub area_unit_id: Option<Uuid>,
    pub types: Vec<TicketType>,
    pub channels: Vec<Channel>,
    pub priority: Option<Priority>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
    pub overdue: Option<bool>,
    pub supervised: Option<bool>,
    pub q: Option<String>,
}

/// The last ticket of a page: its sort key and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListCursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl ListCursor {
    pub fn of(order: TicketOrder, ticket: &TicketSummary) -> Self {
        let at = match order {
            TicketOrder::Newest => ticket.created_at,
            TicketOrder::DueFirst => ticket.due_at.unwrap_or(ticket.created_at),
        };
        Self { at, id: ticket.id }
    }
}

/// Declares the row a list reads, the columns it selects and its conversion to the domain's
/// summary, from one list of fields: a list reads no column it does not show.
macro_rules! summary_row {
    ($($field:ident: $type:ty,)+) => {
        #[derive(QueryableByName)]
        #[diesel(table_name = tickets)]
        struct SummaryRow {
            $($field: $type,)+
        }

        /// The select list of a page: the columns of [`SummaryRow`] from the ticket's row `t`.
        static SUMMARY_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            [$(concat!("t.", stringify!($field))),+].join(", ")
        });

        impl From<SummaryRow> for TicketSummary {
            fn from(row: SummaryRow) -> Self {
                TicketSummary {
                    $($field: row.$field,)+
                }
            }
        }
    };
}

summary_row! {
    id: Uuid,
    number: String,
    channel: Channel,
    channel_code: String,
    external_ref: Option<String>,
    ticket_type: TicketType,
    category_id: Option<Uuid>,
    title: String,
    caller_name: Option<String>,
    confidential: bool,
    area_unit_id: Option<Uuid>,
    priority: Priority,
    status: TicketStatus,
    current_round: i32,
    primary_unit_id: Option<Uuid>,
    sign_due_at: Option<DateTime<Utc>>,
    due_at: Option<DateTime<Utc>>,
    overdue: bool,
    supervised: bool,
    return_count: i32,
    urge_count: i32,
    callback_due_at: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Whose rows a list walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// One unit's tickets (`unit_tickets`); `holding`: only those of its current assignments.
    Unit { unit: Uuid, holding: bool },
    /// Every ticket of the hotline.
    Hotline,
    /// The tickets the word index finds for the question (few enough to read them all).
    Found,
}

/// The equal leading part of the index range one branch of a list scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    Everything,
    /// Tickets being worked on: only they have a due time, and the partial indexes hold them
    /// alone.
    OpenWork,
    /// Overdue tickets, a part of those being worked on with partial indexes of their own.
    Overdue,
    Status(TicketStatus),
    Category(Uuid),
    Area(Uuid),
    Supervised,
}

impl Range {
    /// The index that holds this range of `rows` in `order`: named to SQLite, which without
    /// statistics would rather take an index that matches more equalities and sort what it
    /// finds. PostgreSQL's planner finds the same index from its statistics once no filter
    /// restates what the range holds (it takes such filters as independent of the range and
    /// expects them to leave almost nothing).
    fn index(self, rows: Rows, order: TicketOrder) -> &'static str {
        let unit = matches!(rows, Rows::Unit { .. });
        match (self, order, unit) {
            (Range::OpenWork, TicketOrder::DueFirst, true) => "unit_tickets_due_idx",
            (Range::OpenWork, TicketOrder::DueFirst, false) => "tickets_open_due_idx",
            (Range::OpenWork, TicketOrder::Newest, true) => "unit_tickets_open_created_idx",
            (Range::OpenWork, TicketOrder::Newest, false) => "tickets_open_created_idx",
            (Range::Overdue, TicketOrder::DueFirst, true) => "unit_tickets_overdue_due_idx",
            (Range::Overdue, TicketOrder::DueFirst, false) => "tickets_overdue_due_idx",
            (Range::Overdue, TicketOrder::Newest, true) => "unit_tickets_overdue_created_idx",
            (Range::Overdue, TicketOrder::Newest, false) => "tickets_overdue_created_idx",
            (Range::Status(_), _, true) => "unit_tickets_status_created_idx",
            (Range::Status(_), _, false) => "tickets_status_created_idx",
            (Range::Category(_), ..) => "tickets_category_created_idx",
            (Range::Area(_), ..) => "tickets_area_created_idx",
            (Range::Supervised, ..) => "tickets_supervised_created_idx",
            (Range::Everything, _, true) => "unit_tickets_created_idx",
            (Range::Everything, _, false) => "tickets_created_idx",
        }
    }
}

/// How a list is read: whose rows, the index ranges merged into its pages, and the statuses
/// still to check on the rows those ranges yield (none: the ranges settle the status).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    rows: Rows,
    ranges: Vec<Range>,
    statuses: Vec<TicketStatus>,
}

impl Plan {
    /// `None` when the filter leaves nothing to read. `found`: the word index finds few enough
    /// tickets for the question to read them all rather than walk the list.
    fn new(
        scope: TicketScope,
        filter: &TicketFilter,
        categories: &[Uuid],
        order: TicketOrder,
        found: bool,
    ) -> Option<Self> {
        if found {
            let statuses: std::collections::BTreeSet<TicketStatus> =
                if Self::open_work(filter, order) {
                    let statuses: std::collections::BTreeSet<TicketStatus> =
                        TicketStatus::BEING_WORKED_ON
                            .into_iter()
                            .filter(|s| filter.statuses.is_empty() || filter.statuses.contains(s))
                            .collect();
                    if statuses.is_empty() {
                        return None;
                    }
                    statuses
                } else {
                    filter.statuses.iter().copied().collect()
                };
            return Some(Self {
                rows: Rows::Found,
                ranges: vec![Range::Everything],
                statuses: statuses.into_iter().collect(),
            });
        }
        let rows = match (filter.unit_id, scope) {
            (Some(unit), _) => Rows::Unit {
                unit,
                holding: true,
            },
            (None, TicketScope::Unit(unit)) => Rows::Unit {
                unit,
                holding: false,
            },
            (None, _) => Rows::Hotline,
        };
        let worked_on = TicketStatus::BEING_WORKED_ON;
        if Self::open_work(filter, order) {
            let statuses: Vec<TicketStatus> = worked_on
                .into_iter()
                .filter(|s| filter.statuses.is_empty() || filter.statuses.contains(s))
                .collect();
            if statuses.is_empty() {
                return None;
            }
            let range = if filter.overdue == Some(true) {
                Range::Overdue
            } else {
                Range::OpenWork
            };
            return Some(Self {
                rows,
                ranges: vec![range],
                statuses: if statuses.len() == worked_on.len() {
                    Vec::new()
                } else {
                    statuses
                },
            });
        }
        let ranges = if !filter.statuses.is_empty() {
            // A status asked for twice is one range: read twice, its tickets would be listed
            // twice.
            let statuses: std::collections::BTreeSet<TicketStatus> =
                filter.statuses.iter().copied().collect();
            statuses.into_iter().map(Range::Status).collect()
        } else if rows != Rows::Hotline {
            vec![Range::Everything]
        } else if filter.supervised == Some(true) {
            vec![Range::Supervised]
        } else if !categories.is_empty() {
            categories.iter().map(|c| Range::Category(*c)).collect()
        } else if let Some(area) = filter.area_unit_id {
            vec![Range::Area(area)]
        } else {
            vec![Range::Everything]
        };
        Some(Self {
            rows,
            ranges,
            statuses: Vec::new(),
        })
    }

    /// Whether the list holds only tickets being worked on: exactly those have a due time (the
    /// lifecycle's invariant), and overdue tickets are among them.
    fn open_work(filter: &TicketFilter, order: TicketOrder) -> bool {
        let worked_on = TicketStatus::BEING_WORKED_ON;
        order == TicketOrder::DueFirst
            || filter.due_before.is_some()
            || filter.overdue == Some(true)
            || (!filter.statuses.is_empty()
                && filter.statuses.iter().all(|s| worked_on.contains(s)))
    }
}

/// A value bound to the statement.
enum Value {
    Text(&'static str),
    String(String),
    Id(Uuid),
    At(DateTime<Utc>),
    Bool(bool),
}

/// SQL text with numbered placeholders and the values they stand for. `$n` is a positional
/// parameter to PostgreSQL and, numbered in order of appearance, to SQLite as well.
struct Statement {
    backend: Backend,
    sql: String,
    values: Vec<Value>,
}

impl Statement {
    fn new(backend: Backend) -> Self {
        Self {
            backend,
            sql: String::new(),
            values: Vec::new(),
        }
    }

    fn sql(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    fn value(&mut self, value: Value) -> &mut Self {
        let placeholder = self.placeholder(value);
        self.sql(&placeholder)
    }

    /// The placeholder `value` is bound to, for SQL built around it: it must be written before
    /// any other value's.
    fn placeholder(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    fn values<I: IntoIterator<Item = Value>>(&mut self, values: I) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql(", ");
            }
            self.value(value);
        }
        self
    }

    /// The rows; `prepared`: the statement's text holds no searched words, so it is one of the
    /// few shapes a list takes and is kept prepared on the connection.
    fn load(self, conn: &mut DbConnection, prepared: bool) -> Result<Vec<SummaryRow>, StoreError> {
        let mut query = diesel::sql_query(self.sql).into_boxed::<MultiBackend>();
        for value in self.values {
            query = match value {
                Value::Text(text) => query.bind::<Text, _>(text),
                Value::String(text) => query.bind::<Text, _>(text),
                Value::Id(id) => query.bind::<Uid, _>(Id(id)),
                Value::At(at) => query.bind::<UtcTime, _>(At(at)),
                Value::Bool(flag) => query.bind::<Bool, _>(flag),
            };
        }
        Ok(if prepared {
            Prepared(query).load(conn)?
        } else {
            query.load(conn)?
        })
    }
}

/// What a branch yields: whole rows when it is the list alone, or the ids and sort keys of up to
/// a page when ranges are merged (read from the index alone where no filter needs the row).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Yield {
    Rows,
    Keys,
}

/// One list's page: what is asked for and how it is read.
struct Listing<'a> {
    plan: Plan,
    scope: TicketScope,
    filter: &'a TicketFilter,
    /// The category asked for and its children.
    categories: &'a [Uuid],
    order: TicketOrder,
    cursor: Option<ListCursor>,
    limit: i64,
    search: Option<WordSearch>,
}

/// A question the word index answers.
struct WordSearch {
    index_query: String,
}

/// How many tickets the word index may find for a question for a list to read them all: past
/// this, the question's words are common enough that walking the list's own order finds a
/// page sooner (at 1,000,000 tickets, a word in 4,000 of them fills a page of 50 within about
/// 12,500 tickets walked).
pub const FOUND_TO_READ_MAX: i64 = 4_000;

impl Listing<'_> {
    /// The statement that reads the page: one range alone, or the ids of up to a page from
    /// each range, merged, and then the rows of the page.
    fn statement(&self, backend: Backend) -> Statement {
        let mut out = Statement::new(backend);
        if let [range] = self.plan.ranges[..] {
            self.branch(&mut out, range, Yield::Rows);
            return out;
        }
        let order_by = match self.order {
            TicketOrder::Newest => "created_at DESC, id DESC",
            TicketOrder::DueFirst => "due_at ASC, id ASC",
        };
        out.sql("SELECT ").sql(&SUMMARY_COLUMNS).sql(" FROM (");
        for (i, range) in self.plan.ranges.iter().enumerate() {
            if i > 0 {
                out.sql(" UNION ALL ");
            }
            out.sql("SELECT * FROM (");
            self.branch(&mut out, *range, Yield::Keys);
            let _ = write!(out.sql, ") r{i}");
        }
        let _ = write!(
            out.sql,
            " ORDER BY {order_by} LIMIT {}) page JOIN tickets t ON t.id = page.id ORDER BY page.{}",
            self.limit,
            order_by.replace(", ", ", page.")
        );
        out
    }

    /// One index range, read in order after the cursor, up to a page of rows that pass the
    /// filter.
    fn branch(&self, out: &mut Statement, range: Range, yields: Yield) {
        let index = range.index(self.plan.rows, self.order);
        let hint = |out: &mut Statement| {
            if out.backend == Backend::Sqlite {
                let _ = write!(out.sql, " INDEXED BY {index}");
            }
        };
        let (key, after, direction) = match self.order {
            TicketOrder::Newest => ("created_at", "<", "DESC"),
            TicketOrder::DueFirst => ("due_at", ">", "ASC"),
        };
        let (table, id) = match self.plan.rows {
            Rows::Unit { unit, holding } => {
                match yields {
                    Yield::Rows => out.sql("SELECT ").sql(&SUMMARY_COLUMNS),
                    Yield::Keys => out.sql("SELECT k.ticket_id AS id, k.created_at, k.due_at"),
                };
                out.sql(" FROM unit_tickets k");
                hint(out);
                // The ticket's row is read only for what the unit's row does not hold.
                let mut checks = Statement::new(out.backend);
                self.residual(&mut checks, range, "k");
                if yields == Yield::Rows || !checks.sql.is_empty() {
                    out.sql(" JOIN tickets t ON t.id = k.ticket_id");
                }
                out.sql(" WHERE k.unit_id = ").value(Value::Id(unit));
                if holding {
                    out.sql(" AND k.holding");
                }
                ("k", "k.ticket_id")
            }
            Rows::Hotline => {
                match yields {
                    Yield::Rows => out.sql("SELECT ").sql(&SUMMARY_COLUMNS),
                    Yield::Keys => out.sql("SELECT t.id, t.created_at, t.due_at"),
                };
                out.sql(" FROM tickets t");
                hint(out);
                out.sql(" WHERE TRUE");
                ("t", "t.id")
            }
            Rows::Found => {
                let question = self
                    .search
                    .as_ref()
                    .map_or_else(String::new, |s| s.index_query.clone());
                out.sql("SELECT ")
                    .sql(&SUMMARY_COLUMNS)
                    .sql(" FROM tickets t WHERE ");
                let placeholder = out.placeholder(Value::String(question));
                out.sql(&search::indexed_under(out.backend, "t.id", &placeholder));
                ("t", "t.id")
            }
        };
        match range {
            Range::Everything => {}
            Range::OpenWork => {
                let _ = write!(out.sql, " AND {table}.due_at IS NOT NULL");
            }
            Range::Overdue => {
                let _ = write!(out.sql, " AND {table}.overdue");
            }
            Range::Status(status) => {
                let _ = write!(out.sql, " AND {table}.status = ");
                out.value(Value::Text(status.as_str()));
            }
            Range::Category(category) => {
                out.sql(" AND t.category_id = ").value(Value::Id(category));
            }
            Range::Area(area) => {
                out.sql(" AND t.area_unit_id = ").value(Value::Id(area));
            }
            Range::Supervised => {
                out.sql(" AND t.supervised");
            }
        }
        self.residual(out, range, table);
        if let Some(cursor) = self.cursor {
            let _ = write!(out.sql, " AND ({table}.{key}, {id}) {after} (");
            out.value(Value::At(cursor.at))
                .sql(", ")
                .value(Value::Id(cursor.id))
                .sql(")");
        }
        let _ = write!(
            out.sql,
            " ORDER BY {table}.{key} {direction}, {id} {direction} LIMIT {}",
            self.limit
        );
    }

    /// The filters checked on each row the index yields, but for the one the range holds
    /// already: a list that needs no other reads the index alone. `table` is the row the range
    /// yields: a unit's row holds the status, due time and overdue flag of its ticket, so that
    /// these are checked without reading the ticket's row.
    fn residual(&self, out: &mut Statement, range: Range, table: &str) {
        let filter = self.filter;
        if let (Rows::Found, Some(unit)) = (self.plan.rows, filter.unit_id) {
            out.sql(" AND EXISTS (SELECT 1 FROM unit_tickets h WHERE h.ticket_id = t.id AND h.unit_id = ")
                .value(Value::Id(unit))
                .sql(" AND h.holding)");
        }
        match (self.scope, self.plan.rows) {
            (TicketScope::All, _) => {}
            (TicketScope::Unit(own), Rows::Unit { unit, .. }) if own == unit => {}
            (TicketScope::Unit(own), _) => {
                out.sql(" AND EXISTS (SELECT 1 FROM unit_tickets s WHERE s.ticket_id = t.id AND s.unit_id = ")
                    .value(Value::Id(own))
                    .sql(")");
            }
            (TicketScope::CreatedBy(user), _) => {
                out.sql(" AND t.created_by = ").value(Value::Id(user));
            }
        }
        if !self.plan.statuses.is_empty() {
            let _ = write!(out.sql, " AND {table}.status IN (");
            out.values(self.plan.statuses.iter().map(|s| Value::Text(s.as_str())))
                .sql(")");
        }
        if filter.category_id.is_some() && !matches!(range, Range::Category(_)) {
            out.sql(" AND t.category_id IN (")
                .values(self.categories.iter().map(|c| Value::Id(*c)))
                .sql(")");
        }
        if let Some(area) = filter
            .area_unit_id
            .filter(|_| !matches!(range, Range::Area(_)))
        {
            out.sql(" AND t.area_unit_id = ").value(Value::Id(area));
        }
        if !filter.types.is_empty() {
            out.sql(" AND t.ticket_type IN (")
                .values(filter.types.iter().map(|t| Value::Text(t.as_str())))
                .sql(")");
        }
        if !filter.channels.is_empty() {
            out.sql(" AND t.channel IN (")
                .values(filter.channels.iter().map(|c| Value::Text(c.as_str())))
                .sql(")");
        }
        if let Some(priority) = filter.priority {
            out.sql(" AND t.priority = ")
                .value(Value::Text(priority.as_str()));
        }
        if let Some(from) = filter.created_from {
            out.sql(" AND t.created_at >= ").value(Value::At(from));
        }
        if let Some(to) = filter.created_to {
            out.sql(" AND t.created_at < ").value(Value::At(to));
        }
        if let Some(before) = filter.due_before {
            let _ = write!(out.sql, " AND {table}.due_at < ");
            out.value(Value::At(before));
        }
        if let Some(overdue) = filter.overdue.filter(|_| range != Range::Overdue) {
            let _ = write!(out.sql, " AND {table}.overdue = ");
            out.value(Value::Bool(overdue));
        }
        if let Some(supervised) = filter.supervised.filter(|_| range != Range::Supervised) {
            out.sql(" AND t.supervised = ")
                .value(Value::Bool(supervised));
        }
        if let Some(q) = filter.q.as_deref() {
            // What the word index finds holds the question's pairs of characters somewhere;
            // only the texts tell whether it holds the question itself.
            let pattern = contains_pattern(q);
            out.sql(" AND (lower(t.title) LIKE ")
                .value(Value::String(pattern.clone()))
                .sql(" ESCAPE '\\' OR lower(t.content) LIKE ")
                .value(Value::String(pattern.clone()))
                .sql(" ESCAPE '\\' OR lower(COALESCE(t.address, '')) LIKE ")
                .value(Value::String(pattern))
                .sql(" ESCAPE '\\')");
        }
    }
}

/// Tickets inside `scope` matching `filter`, in `order`, after `cursor`, as queues show them.
pub fn list(
    conn: &mut DbConnection,
    scope: TicketScope,
    filter: &TicketFilter,
    order: TicketOrder,
    cursor: Option<ListCursor>,
    limit: i64,
) -> Result<Vec<TicketSummary>, StoreError> {
    let categories = match filter.category_id {
        Some(category) => crate::store::categories::with_children(conn, category)?,
        None => Vec::new(),
    };
    let backend = match conn {
        DbConnection::Pg(_) => Backend::Postgres,
        DbConnection::Sqlite(_) => Backend::Sqlite,
    };
    let terms = filter.q.as_deref().map(query_terms).unwrap_or_default();
    let search = if terms.is_empty() {
        None
    } else {
        let found = search::count_indexed_under(conn, &terms, FOUND_TO_READ_MAX + 1)?;
        if found == 0 {
            // Every ticket is indexed: none holds the question.
            return Ok(Vec::new());
        }
        (found <= FOUND_TO_READ_MAX).then(|| WordSearch {
            index_query: search::index_query(backend, &terms),
        })
    };
    let Some(plan) = Plan::new(scope, filter, &categories, order, search.is_some()) else {
        return Ok(Vec::new());
    };
    let prepared = search.is_none();
    let listing = Listing {
        plan,
        scope,
        filter,
        categories: &categories,
        order,
        cursor,
        limit,
        search,
    };
    Ok(listing
        .statement(backend)
        .load(conn, prepared)?
        .into_iter()
        .map(TicketSummary::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    fn inbox() -> TicketFilter {
        TicketFilter {
            unit_id: Some(UNIT),
            statuses: vec![TicketStatus::Dispatched, TicketStatus::Handling],
            ..TicketFilter::default()
        }
    }

    fn plan(scope: TicketScope, filter: &TicketFilter, order: TicketOrder) -> Option<Plan> {
        Plan::new(scope, filter, &[], order, false)
    }

    #[test]
    fn a_units_lists_walk_its_own_rows() {
        let inbox_plan = Plan {
            rows: Rows::Unit {
                unit: UNIT,
                holding: true,
            },
            ranges: vec![Range::OpenWork],
            statuses: vec![],
        };
        // The inbox is the unit's open work in either order: its statuses are exactly those.
        for order in [TicketOrder::DueFirst, TicketOrder::Newest] {
            assert_eq!(
                plan(TicketScope::Unit(UNIT), &inbox(), order),
                Some(inbox_plan.clone())
            );
        }
        let closed = TicketFilter {
            statuses: vec![TicketStatus::Closed, TicketStatus::Returned],
            ..TicketFilter::default()
        };
        assert_eq!(
            plan(TicketScope::Unit(UNIT), &closed, TicketOrder::Newest),
            Some(Plan {
                rows: Rows::Unit {
                    unit: UNIT,
                    holding: false
                },
                ranges: vec![
                    Range::Status(TicketStatus::Returned),
                    Range::Status(TicketStatus::Closed)
                ],
                statuses: vec![],
            })
        );
        let twice = TicketFilter {
            statuses: vec![TicketStatus::Closed, TicketStatus::Closed],
            ..TicketFilter::default()
        };
        assert_eq!(
            plan(TicketScope::All, &twice, TicketOrder::Newest)
                .unwrap()
                .ranges,
            [Range::Status(TicketStatus::Closed)]
        );
        assert_eq!(
            plan(
                TicketScope::Unit(UNIT),
                &TicketFilter::default(),
                TicketOrder::Newest
            )
            .unwrap()
            .ranges,
            [Range::Everything]
        );
    }

    #[test]
    fn lists_of_open_work_walk_the_open_work_alone() {
        let overdue = TicketFilter {
            overdue: Some(true),
            ..TicketFilter::default()
        };
        assert_eq!(
            plan(TicketScope::All, &overdue, TicketOrder::Newest)
                .unwrap()
                .ranges,
            [Range::Overdue]
        );
        let soon = TicketFilter {
            due_before: Some(Utc::now()),
            statuses: vec![TicketStatus::Handling, TicketStatus::Closed],
            ..TicketFilter::default()
        };
        let soon = plan(TicketScope::All, &soon, TicketOrder::Newest).unwrap();
        assert_eq!(
            (soon.ranges, soon.statuses),
            (vec![Range::OpenWork], vec![TicketStatus::Handling])
        );
        // Closed tickets have no due time: nothing to read.
        let closed_by_due = TicketFilter {
            statuses: vec![TicketStatus::Closed],
            ..TicketFilter::default()
        };
        assert_eq!(
            plan(TicketScope::All, &closed_by_due, TicketOrder::DueFirst),
            None
        );
    }

    #[test]
    fn the_offices_lists_take_the_narrowest_range() {
        let by = |filter: TicketFilter, categories: &[Uuid]| {
            Plan::new(
                TicketScope::All,
                &filter,
                categories,
                TicketOrder::Newest,
                false,
            )
            .unwrap()
            .ranges
        };
        assert_eq!(
            by(
                TicketFilter {
                    supervised: Some(true),
                    area_unit_id: Some(OTHER),
                    ..TicketFilter::default()
                },
                &[]
            ),
            [Range::Supervised]
        );
        assert_eq!(
            by(
                TicketFilter {
                    category_id: Some(UNIT),
                    area_unit_id: Some(OTHER),
                    ..TicketFilter::default()
                },
                &[UNIT, OTHER]
            ),
            [Range::Category(UNIT), Range::Category(OTHER)]
        );
        assert_eq!(
            by(
                TicketFilter {
                    area_unit_id: Some(OTHER),
                    ..TicketFilter::default()
                },
                &[]
            ),
            [Range::Area(OTHER)]
        );
        assert_eq!(by(TicketFilter::default(), &[]), [Range::Everything]);
    }

    #[test]
    fn several_ranges_are_merged_a_page_each() {
        let filter = TicketFilter {
            unit_id: Some(UNIT),
            statuses: vec![TicketStatus::Closed, TicketStatus::Returned],
            ..TicketFilter::default()
        };
        let plan = plan(TicketScope::All, &filter, TicketOrder::Newest).unwrap();
        let statement = Listing {
            plan,
            scope: TicketScope::All,
            filter: &filter,
            categories: &[],
            order: TicketOrder::Newest,
            cursor: None,
            limit: 51,
            search: None,
        }
        .statement(Backend::Sqlite);
        assert_eq!(statement.sql.matches("LIMIT 51").count(), 3);
        assert!(statement.sql.contains(" UNION ALL "));
        // Each status range reads the unit's status index alone; rows are read for the page only.
        assert!(!statement.sql.contains("status IN"));
        assert_eq!(statement.sql.matches("JOIN tickets t").count(), 1);
        assert_eq!(
            statement
                .sql
                .matches("INDEXED BY unit_tickets_status_created_idx")
                .count(),
            2
        );
        // Every `$n` is bound, in order.
        assert!(
            statement
                .sql
                .contains(&format!("${}", statement.values.len()))
        );
        assert!(
            !statement
                .sql
                .contains(&format!("${}", statement.values.len() + 1))
        );
    }
}
