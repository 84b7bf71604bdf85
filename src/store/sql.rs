//! The column types the schema speaks in, so that rows hold the service's own types: an id is
//! a `Uuid`, a time a `DateTime<Utc>`, a closed set its enum. Each converts here, once, and a
//! forgotten conversion is a compile error rather than a corrupt row at run time.
//!
//! Both backends store ids as TEXT (hyphenated) and times as UTC `TIMESTAMP` at microsecond
//! precision, as the migrations create them.

use std::io::Write;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Text, Timestamp};
use diesel::sqlite::{Sqlite, SqliteValue};
use uuid::Uuid;

use super::MultiBackend;

/// A UUID column: `TEXT` in both dialects.
#[derive(
    Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
)]
#[diesel(postgres_type(oid = 25, array_oid = 1009))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Uid;

/// A UTC instant column: `TIMESTAMP` (without zone) in both dialects, microseconds.
#[derive(
    Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
)]
#[diesel(postgres_type(oid = 1114, array_oid = 1115))]
#[diesel(sqlite_type(name = "Text"))]
pub struct UtcTime;

/// An id to write or compare: `units::id.eq(Id(id))`. Rows read ids as `Uuid` directly; diesel's
/// blanket rules keep a type of another crate from being written without a wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::expression::AsExpression)]
#[diesel(sql_type = Uid)]
pub struct Id(pub Uuid);

/// An instant to write or compare: `tickets::due_at.lt(At(now))`. Rows read `DateTime<Utc>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::expression::AsExpression)]
#[diesel(sql_type = UtcTime)]
pub struct At(pub DateTime<Utc>);

impl From<Uuid> for Id {
    fn from(id: Uuid) -> Self {
        Id(id)
    }
}

impl From<DateTime<Utc>> for At {
    fn from(instant: DateTime<Utc>) -> Self {
        At(instant)
    }
}

/// The glue the multi-backend needs for a column type of its own: it hands values to whichever
/// backend the connection is.
macro_rules! multi_backend_write {
    ($rust:ty, $sql:ident) => {
        impl ToSql<$sql, MultiBackend> for $rust {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value(($sql, self));
                Ok(IsNull::No)
            }
        }
    };
}

macro_rules! multi_backend_read {
    ($rust:ty, $sql:ident) => {
        impl FromSql<$sql, MultiBackend> for $rust {
            fn from_sql(
                bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, $sql>()
            }
        }
    };
}

impl diesel::sql_types::HasSqlType<Uid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        Self::lookup_sql_type::<Uid>(lookup)
    }
}

impl diesel::sql_types::HasSqlType<UtcTime> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        Self::lookup_sql_type::<UtcTime>(lookup)
    }
}

multi_backend_write!(Id, Uid);
multi_backend_read!(Uuid, Uid);
multi_backend_write!(At, UtcTime);
multi_backend_read!(DateTime<Utc>, UtcTime);

impl<DB: Backend> Queryable<Uid, DB> for Uuid
where
    Uuid: FromSql<Uid, DB>,
{
    type Row = Self;
    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

fn parse_uuid(text: &str) -> deserialize::Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| format!("a stored id `{text}` is not a UUID: {e}").into())
}

impl ToSql<Uid, Pg> for Id {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        out.write_all(self.0.hyphenated().encode_lower(&mut text).as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Uid, Pg> for Uuid {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        parse_uuid(std::str::from_utf8(value.as_bytes())?)
    }
}

impl ToSql<Uid, Sqlite> for Id {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<Uid, Sqlite> for Uuid {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        parse_uuid(&<String as FromSql<Text, Sqlite>>::from_sql(value)?)
    }
}

/// PostgreSQL keeps microseconds and SQLite whatever it is given; both get microseconds so the
/// two backends answer alike.
fn naive(instant: &DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc().trunc_subsecs(6)
}

impl ToSql<UtcTime, Pg> for At {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Pg>>::to_sql(&naive(&self.0), &mut out.reborrow())
    }
}

impl FromSql<UtcTime, Pg> for DateTime<Utc> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(|t| t.and_utc())
    }
}

impl ToSql<UtcTime, Sqlite> for At {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        // The form diesel writes a `Timestamp` in, so that stored times compare as text.
        out.set_value(naive(&self.0).format("%F %T%.f").to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<UtcTime, Sqlite> for DateTime<Utc> {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        match stored_time(&text) {
            Some(time) => Ok(time.and_utc()),
            // The other forms a time may have been written in; diesel tries such forms one
            // after another for every value, which a report reading a million cannot afford.
            None => {
                let trimmed = text.trim_end_matches('Z');
                ["%FT%T%.f", "%F %R", "%FT%R"]
                    .iter()
                    .find_map(|form| NaiveDateTime::parse_from_str(trimmed, form).ok())
                    .map(|t| t.and_utc())
                    .ok_or_else(|| format!("`{text}` is not a time").into())
            }
        }
    }
}

/// Reads a time in the form [`At`] writes it, `YYYY-MM-DD HH:MM:SS` with up to nine digits of
/// a second after a point, digit by digit; `None` for any other form.
fn stored_time(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || (b[4], b[7], b[10], b[13], b[16]) != (b'-', b'-', b' ', b':', b':') {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            number(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(
        number(&b[0..4])? as i32,
        number(&b[5..7])?,
        number(&b[8..10])?,
    )?
    .and_hms_nano_opt(
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
        nanos,
    )
}

/// A calendar day to write or compare as its `YYYY-MM-DD` text: `calendar_days::day.eq(Day(d))`.
/// Rows read `NaiveDate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::expression::AsExpression)]
#[diesel(sql_type = Text)]
pub struct Day(pub NaiveDate);

const DAY_FORMAT: &str = "%Y-%m-%d";

/// Writes a day or a month as its text in either dialect.
macro_rules! text_form {
    ($rust:ty, |$value:ident| $text:expr) => {
        impl ToSql<Text, Pg> for $rust {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                let $value = self;
                out.write_all($text.as_bytes())?;
                Ok(IsNull::No)
            }
        }
        impl ToSql<Text, Sqlite> for $rust {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                let $value = self;
                out.set_value($text);
                Ok(IsNull::No)
            }
        }
        multi_backend_write!($rust, Text);
    };
}

text_form!(Day, |day| day.0.format(DAY_FORMAT).to_string());
text_form!(Month, |month| month.to_string());

impl FromSql<Text, MultiBackend> for NaiveDate {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
        NaiveDate::parse_from_str(&text, DAY_FORMAT)
            .map_err(|e| format!("a stored day `{text}` is not YYYY-MM-DD: {e}").into())
    }
}

impl FromSql<Text, MultiBackend> for Month {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
        Ok(Month::parse(&text)?)
    }
}

impl Queryable<Text, MultiBackend> for Month {
    type Row = Self;
    fn build(row: Self) -> deserialize::Result<Self> {
        Ok(row)
    }
}

impl AsExpression<Text> for Month {
    type Expression = Bound<Text, Self>;
    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

/// A value of the domain as its column is written: an id as [`Id`], an instant as [`At`], a
/// closed set as its text, an absent value as NULL.
pub trait Written {
    type Column;

    fn written(&self) -> Self::Column;
}

macro_rules! written_as_itself {
    ($($rust:ty),+) => {$(
        impl Written for $rust {
            type Column = $rust;

            fn written(&self) -> $rust {
                self.clone()
            }
        }
    )+};
}

written_as_itself!(i32, i64, bool, String);

impl Written for Uuid {
    type Column = Id;

    fn written(&self) -> Id {
        Id(*self)
    }
}

impl Written for DateTime<Utc> {
    type Column = At;

    fn written(&self) -> At {
        At(*self)
    }
}

impl<T: Written> Written for Option<T> {
    type Column = Option<T::Column>;

    fn written(&self) -> Self::Column {
        self.as_ref().map(Written::written)
    }
}

/// The domain's closed sets are stored as their text (`text_enum!`): written, compared and read
/// as themselves. `Bound` is what `#[derive(AsExpression)]` writes; writing it here keeps diesel
/// out of the domain. Only the non-null form is given: with `Nullable<Text>` as well, an
/// `Option<enum>` field of an `Insertable` row sends diesel's trait resolution into a loop, so
/// such fields are written as `Option<&str>` (see [`Written`]) and nullable columns compared
/// with `Some(value)`.
macro_rules! text_values {
    ($($enum:ty),+ $(,)?) => {$(
        impl<DB: Backend> ToSql<Text, DB> for $enum
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
            }
        }
        impl<DB: Backend> FromSql<Text, DB> for $enum
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                Ok(<String as FromSql<Text, DB>>::from_sql(bytes)?.parse::<$enum>()?)
            }
        }
        impl<DB: Backend> Queryable<Text, DB> for $enum
        where
            Self: FromSql<Text, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
        impl AsExpression<Text> for $enum {
            type Expression = Bound<Text, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }
        impl Written for $enum {
            type Column = &'static str;

            fn written(&self) -> &'static str {
                self.as_str()
            }
        }
        impl<'a> AsExpression<Text> for &'a $enum {
            type Expression = Bound<Text, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }
    )+};
}

use crate::domain::access::Role;
use crate::domain::assessment::{AppealStatus, AppealSubject};
use crate::domain::audit::AuditAction;
use crate::domain::calendar::DayKind;
use crate::domain::directory::UnitKind;
use crate::domain::knowledge::{ArticleChange, ArticleStatus};
use crate::domain::ladder::{Rung, Timer};
use crate::domain::lifecycle::{
    CloseReason, ContactMethod, ExtensionStatus, ReplyKind, ReplyResult, Satisfaction,
    SupervisionStatus, UrgeKind,
};
use crate::domain::period::Month;
use crate::domain::ticket::{
    AssignmentRole, AssignmentStatus, Channel, EventKind, Priority, TicketStatus, TicketType,
};

text_values!(
    AuditAction,
    Role,
    UnitKind,
    Channel,
    TicketType,
    Priority,
    TicketStatus,
    EventKind,
    AssignmentRole,
    AssignmentStatus,
    AppealStatus,
    AppealSubject,
    DayKind,
    Rung,
    Timer,
    CloseReason,
    ContactMethod,
    ExtensionStatus,
    ReplyKind,
    ReplyResult,
    Satisfaction,
    SupervisionStatus,
    UrgeKind,
    ArticleStatus,
    ArticleChange,
);

/// A statement written in SQL, kept prepared on its connection by its text as the query
/// builder's own statements are, so that PostgreSQL parses and plans it once per connection
/// rather than on every page. Diesel keeps no raw SQL by default because text built around
/// values would fill the cache without end; wrap only statements whose text comes from a small
/// fixed set (values bound, never written in).
pub struct Prepared<Q>(pub Q);

impl<Q> diesel::query_builder::QueryFragment<MultiBackend> for Prepared<Q>
where
    Q: diesel::query_builder::QueryFragment<MultiBackend>,
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _: &MultiBackend) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> diesel::query_builder::QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Prepared<Q> {}

/// Runs `reads` with PostgreSQL keeping one plan for each prepared statement, whatever the
/// values bound: the workbench asks the same counts and queues on every page, and left to
/// itself PostgreSQL plans them anew each time (a millisecond for the office's counts) because
/// today's hours or a status change its estimates, though never the plan it picks. The setting
/// lasts for the transaction `reads` runs in; SQLite plans its statements once regardless.
pub fn planned_once<T>(
    conn: &mut super::DbConnection,
    reads: impl FnOnce(&mut super::DbConnection) -> Result<T, super::StoreError>,
) -> Result<T, super::StoreError> {
    use diesel::Connection;
    use diesel::RunQueryDsl;
    match conn {
        super::DbConnection::Sqlite(_) => reads(conn),
        super::DbConnection::Pg(_) => conn.transaction(|c| {
            diesel::sql_query("SET LOCAL plan_cache_mode = force_generic_plan").execute(c)?;
            reads(c)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_microseconds_and_sort_as_text() {
        let instant = DateTime::parse_from_rfc3339("2026-11-30T08:02:03.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let stored = naive(&instant).format("%F %T%.f").to_string();
        assert_eq!(stored, "2026-11-30 08:02:03.123456");
        let whole = naive(
            &DateTime::parse_from_rfc3339("2026-11-30T08:02:03Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        assert_eq!(whole.format("%F %T%.f").to_string(), "2026-11-30 08:02:03");
        assert_eq!(stored_time(&stored), Some(naive(&instant)));
        assert_eq!(stored_time("2026-11-30 08:02:03"), Some(whole));
        assert_eq!(
            stored_time("2026-11-30 08:02:03.5")
                .unwrap()
                .and_utc()
                .to_rfc3339(),
            "2026-11-30T08:02:03.500+00:00"
        );
        for other in [
            "2026-11-30T08:02:03Z",
            "2026-11-30 08:02",
            "2026-11-30 08:02:03.",
            "2026-11-30 08:02:03.1234567890",
            "2026-13-30 08:02:03",
            "2026-11-30 08:02:0x",
            "2026-11-30 08:02:03 ",
        ] {
            assert_eq!(stored_time(other), None, "{other}");
        }
    }

    #[test]
    fn times_in_other_forms_are_read_too() {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = UtcTime)]
            t: DateTime<Utc>,
        }
        let mut c = diesel::SqliteConnection::establish(":memory:").unwrap();
        for (text, read) in [
            ("2026-11-30 08:02:03.25", "2026-11-30T08:02:03.250+00:00"),
            ("2026-11-30T08:02:03Z", "2026-11-30T08:02:03+00:00"),
            ("2026-11-30T08:02:03.5", "2026-11-30T08:02:03.500+00:00"),
            ("2026-11-30 08:02", "2026-11-30T08:02:00+00:00"),
        ] {
            let row: Row = diesel::sql_query(format!("SELECT '{text}' AS t"))
                .get_result(&mut c)
                .unwrap();
            assert_eq!(row.t.to_rfc3339(), read, "{text}");
        }
        let bad: Result<Row, _> = diesel::sql_query("SELECT 'yesterday' AS t").get_result(&mut c);
        assert!(bad.is_err());
    }

    proptest::proptest! {
        #[test]
        fn a_stored_time_reads_back_as_written(seconds in 946_684_800i64..4_102_444_800, micros in 0u32..1_000_000) {
            let instant = DateTime::from_timestamp(seconds, micros * 1_000).unwrap();
            let text = naive(&instant).format("%F %T%.f").to_string();
            proptest::prop_assert_eq!(stored_time(&text).map(|t| t.and_utc()), Some(instant));
        }
    }
}
