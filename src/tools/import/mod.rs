//! Historical tickets in: JSON Lines (one ticket with everything that happened to it per line)
//! or CSV (one round of handling per row). Every record is checked as the service checks a new
//! ticket and played through the lifecycle at the times it gives, so the timelines are the ones
//! the rules would have written; a record the rules refuse is reported with its line and does
//! not stop the others. `(channel, external_ref)` identifies a record: importing a file again
//! adds nothing twice.

mod past;
mod progress;
mod records;

pub use records::*;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::access::Role;
use crate::domain::calendar::WorkCalendar;
use crate::domain::channel::ChannelDefinition;
use crate::domain::directory::{Attachment, Category, Unit};
use crate::domain::policy::Policy;
use crate::domain::ticket::Channel;
use crate::store::history::Past;
use crate::store::users::NewUser;
use crate::store::{self, Db, StoreError};

use progress::Progress;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub read: usize,
    pub imported: usize,
    /// Already imported before (same channel and external reference).
    pub already: usize,
    /// Line and reason of every record left out.
    pub bad: Vec<(usize, String)>,
}

/// The hotline records are read against: its directory, SLA policy, working calendar and time
/// zone.
pub struct Hotline {
    pub units: Vec<Unit>,
    pub channels: Vec<ChannelDefinition>,
    pub categories: Vec<Category>,
    pub policy: Policy,
    pub calendar: WorkCalendar,
    pub timezone: chrono_tz::Tz,
}

impl Hotline {
    pub fn load(db: &Db, timezone: chrono_tz::Tz) -> Result<Self, StoreError> {
        db.read(|c| {
            Ok(Self {
                units: store::units::list(c, &Default::default(), None, i64::MAX)?,
                channels: store::channels::all(c)?,
                categories: store::categories::list(c, &Default::default(), None, i64::MAX)?,
                policy: store::policy::current(c)?.policy,
                calendar: store::calendar::load(c, timezone)?,
                timezone,
            })
        })
    }
}

/// The names the records use, resolved once.
struct Directory {
    units: HashMap<String, Unit>,
    channels: HashMap<String, ChannelDefinition>,
    categories: HashMap<String, Category>,
}

/// Imports records into the database, in transactions of a few hundred tickets.
pub struct Importer<'a> {
    db: &'a Db,
    directory: Directory,
    policy: Policy,
    calendar: WorkCalendar,
    account: Uuid,
    timezone: chrono_tz::Tz,
    digits: usize,
    progress: Progress,
}

const BATCH: usize = 500;

impl<'a> Importer<'a> {
    /// Reads the hotline, and finds (or makes) the account imported tickets are registered by:
    /// `import`, which cannot sign in. Ticket numbers get `digits` digits after the day.
    pub fn new(
        db: &'a Db,
        timezone: chrono_tz::Tz,
        digits: usize,
        now: DateTime<Utc>,
        show_progress: bool,
    ) -> Result<Self, StoreError> {
        let Hotline {
            units,
            channels,
            categories,
            policy,
            calendar,
            ..
        } = Hotline::load(db, timezone)?;
        let account = db.write(|c| import_account(c, now))?;
        Ok(Self {
            db,
            directory: Directory {
                units: units.into_iter().map(|u| (u.code.clone(), u)).collect(),
                channels: channels.into_iter().map(|c| (c.code.clone(), c)).collect(),
                categories: categories
                    .into_iter()
                    .map(|c| (c.full_name.clone(), c))
                    .collect(),
            },
            policy,
            calendar,
            account,
            timezone,
            digits,
            progress: Progress::new(show_progress),
        })
    }

    /// Imports every record; bad ones are reported, the others are written. `total`, when
    /// known, is how many records there are, for the progress bar.
    pub fn run(
        &mut self,
        lines: impl IntoIterator<Item = Line>,
        total: Option<usize>,
    ) -> Result<Report, StoreError> {
        self.progress.total = total;
        let mut report = Report::default();
        let mut batch: Vec<(usize, Past)> = Vec::with_capacity(BATCH);
        for (line, record) in lines {
            report.read += 1;
            match record.and_then(|r| self.past(r)) {
                Ok(past) => batch.push((line, past)),
                Err(message) => report.bad.push((line, message)),
            }
            if batch.len() == BATCH {
                self.flush(&mut batch, &mut report)?;
            }
            self.progress.show(&report);
        }
        self.flush(&mut batch, &mut report)?;
        self.progress.done(&report);
        Ok(report)
    }

    fn flush(
        &mut self,
        batch: &mut Vec<(usize, Past)>,
        report: &mut Report,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (timezone, digits) = (self.timezone, self.digits);
        let written = self.db.write(|c| -> Result<usize, StoreError> {
            let keys: Vec<(Channel, String)> = batch
                .iter()
                .filter_map(|(_, p)| Some((p.ticket.channel, p.ticket.external_ref.clone()?)))
                .collect();
            let existing = store::tickets::existing_refs(c, &keys)?;
            let mut seen = std::collections::HashSet::new();
            let mut fresh: Vec<Past> = Vec::with_capacity(batch.len());
            for (line, past) in batch.drain(..) {
                let key = (
                    past.ticket.channel,
                    past.ticket.external_ref.clone().unwrap_or_default(),
                );
                if existing.contains(&key) {
                    report.already += 1;
                } else if !seen.insert(key.clone()) {
                    report.bad.push((
                        line,
                        format!(
                            "repeats the external reference `{}` of an earlier line",
                            key.1
                        ),
                    ));
                } else {
                    fresh.push(past);
                }
            }
            store::history::write(c, &mut fresh, timezone, digits)?;
            Ok(fresh.len())
        })?;
        report.imported += written;
        Ok(())
    }
}

/// The account imported tickets are registered by. It cannot sign in.
fn import_account(conn: &mut store::DbConnection, now: DateTime<Utc>) -> Result<Uuid, StoreError> {
    const NAME: &str = "import";
    if let Some((user, _)) = store::users::find_credentials(conn, NAME)? {
        return Ok(user.id);
    }
    // A password nobody knows, on an account that is inactive besides.
    let hash = crate::auth::hash_password(&crate::auth::generate_password(32))
        .map_err(|e| StoreError::Config(e.to_string()))?;
    let user = store::users::insert(
        conn,
        &NewUser {
            username: NAME,
            display_name: "历史数据导入",
            attachment: Attachment {
                role: Role::Agent,
                unit_id: None,
                channel: None,
            },
            password_hash: &hash,
            must_change_password: true,
        },
        now,
    )?;
    store::users::update(
        conn,
        user.id,
        &store::users::UserChanges {
            active: Some(false),
            ..Default::default()
        },
        now,
    )?;
    Ok(user.id)
}
