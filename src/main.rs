use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use hotline::config::Settings;
use hotline::domain::access::Role;
use hotline::domain::clock::{Clock, SystemClock};
use hotline::domain::directory::{self, Attachment, UserDraft, UserInput};
use hotline::domain::period::{Month, Span};
use hotline::domain::ticket::Channel;
use hotline::startup::{self, Application};
use hotline::store::users::{NewUser, UserChanges};
use hotline::tools::{backup, demo, generate, import};
use hotline::{auth, reports, store, telemetry};

/// Ticket dispatch and tracking for a 12345 government service hotline.
#[derive(Parser)]
#[command(name = "hotline", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the service (the default): applies migrations, then listens on HOTLINE_BIND.
    Serve,
    /// Apply pending database migrations (and make the first administrator) and exit.
    Migrate,
    /// Load the demo county (units, categories, one account per role) and print its passwords.
    Demo {
        /// One password for every demo account instead of generated ones.
        #[arg(long, env = "HOTLINE_DEMO_PASSWORD")]
        password: Option<String>,
    },
    /// Create a user account.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        display_name: Option<String>,
        /// The unit code of a unit handler.
        #[arg(long)]
        unit: Option<String>,
        /// The channel an integration registers on.
        #[arg(long)]
        channel: Option<Channel>,
        /// Generated and printed when not given.
        #[arg(long, env = "HOTLINE_NEW_PASSWORD")]
        password: Option<String>,
    },
    /// Print a long-lived token for an account, typically an integration.
    MintToken {
        #[arg(long)]
        username: String,
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// End every token an account holds (its next request must sign in again).
    RevokeTokens {
        #[arg(long)]
        username: String,
    },
    /// Run one pass of the urge ladder now (the server runs one every
    /// HOTLINE_LADDER_INTERVAL_SECONDS on its own), or at a chosen instant.
    Tick {
        /// The instant the pass runs at, RFC 3339 (e.g. 2026-10-09T09:00:00+08:00): what the
        /// ladder fires then is recorded as fired then.
        #[arg(long, value_parser = parse_instant)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Write a month's bulletin: the published one, or a draft computed now.
    Report {
        /// The period: a month (YYYY-MM), a quarter (YYYY-Q1 to Q4), a half-year (YYYY-H1 or
        /// H2), a year (YYYY) or any months (YYYY-MM..YYYY-MM).
        #[arg(long, alias = "month")]
        period: String,
        #[arg(long, value_enum, default_value = "html")]
        format: reports::Format,
        /// With `--format csv`, one table (a zip of all of them otherwise).
        #[arg(long)]
        table: Option<String>,
        /// Compute a published month again now, beside what was published.
        #[arg(long)]
        restated: bool,
        /// The file to write; the bulletin's own file name in the working directory when
        /// not given.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import historical tickets from JSON Lines or CSV (by the file's extension, or --format).
    Import {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<ImportFormat>,
    },
    /// Write a consistent backup of the database (and the evidence directory) into a new
    /// directory while the service runs: SQLite by `VACUUM INTO`, PostgreSQL by `pg_dump`.
    Backup {
        /// A directory that does not exist yet or is empty.
        target: PathBuf,
    },
    /// Put a backup back in place of the configured database; stop the service first.
    Restore {
        /// A directory written by `hotline backup`.
        source: PathBuf,
        /// Replace a database that already holds tickets.
        #[arg(long)]
        force: bool,
    },
    /// Move ticket events, audit entries and finished webhook deliveries written before a month
    /// past the keeping period (HOTLINE_KEEP_MONTHS) out of the database: written to a new
    /// directory as JSON Lines with a manifest, flushed, and only then removed.
    Archive {
        /// The first month kept, YYYY-MM (UTC): everything written before it is archived.
        #[arg(long)]
        before: String,
        /// A directory that does not exist yet or is empty.
        #[arg(long)]
        out: PathBuf,
    },
    /// Generate a realistic synthetic hotline on the units and categories of the database.
    Generate {
        /// A JSON profile (every field optional; see the README); the options below override it.
        #[arg(long)]
        profile: Option<PathBuf>,
        /// The first month, YYYY-MM.
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        months: Option<u32>,
        #[arg(long)]
        per_month: Option<u64>,
        #[arg(long)]
        seed: Option<u64>,
        /// A day of surges, e.g. 2026-08-11:4 for four times the volume (a typhoon); repeatable.
        #[arg(long)]
        surge: Vec<String>,
        /// Write the records as JSON Lines here instead of importing them.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ImportFormat {
    Csv,
    Jsonl,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("hotline: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    let command = cli.command.unwrap_or(Command::Serve);
    let mut settings = settings;
    if !matches!(command, Command::Serve) {
        // Imports, reports and generated months run statements far longer than a request's.
        settings.pool.statement_timeout = settings.pool.report_timeout;
    }
    let result = match command {
        Command::Serve => serve(settings),
        Command::Migrate => migrate(&settings),
        Command::Demo { password } => load_demo(&settings, password.as_deref()),
        Command::CreateUser {
            username,
            role,
            display_name,
            unit,
            channel,
            password,
        } => create_user(
            &settings,
            username,
            role,
            display_name,
            unit,
            channel,
            password,
        ),
        Command::MintToken { username, days } => mint_token(&settings, &username, days),
        Command::RevokeTokens { username } => revoke_tokens(&settings, &username),
        Command::Backup { target } => {
            backup::backup(&settings, &target).map(|outcome| println!("backed up: {outcome}"))
        }
        Command::Restore { source, force } => {
            backup::restore(&settings, &source, force).map(|outcome| {
                println!("restored: {outcome}; start the service to apply newer migrations")
            })
        }
        Command::Archive { before, out } => {
            hotline::tools::archive::archive(&settings, &before, &out, SystemClock.now())
                .map(|outcome| println!("{outcome}"))
        }
        Command::Tick { at } => tick(&settings, at.unwrap_or_else(|| SystemClock.now())),
        Command::Report {
            period,
            format,
            table,
            restated,
            out,
        } => report(&settings, &period, format, table.as_deref(), restated, out),
        Command::Import { file, format } => import(&settings, &file, format),
        Command::Generate {
            profile,
            from,
            months,
            per_month,
            seed,
            surge,
            out,
        } => generate(
            &settings,
            GenerateOptions {
                profile,
                from,
                months,
                per_month,
                seed,
                surge,
                out,
            },
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hotline: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Shown on the terminal once; the password is not written to the log.
fn announce_admin_password(password: &str) {
    eprintln!();
    eprintln!("  ┌────────────────────────────────────────────────────────────┐");
    eprintln!("  │ First start: created the account `admin`.                  │");
    eprintln!("  │ One-time password: {password:<40}│");
    eprintln!("  │ It is shown only now and must be changed at first sign-in. │");
    eprintln!("  └────────────────────────────────────────────────────────────┘");
    eprintln!();
}

fn serve(settings: Settings) -> Result<(), String> {
    let db = startup::open_database(&settings).map_err(|e| e.to_string())?;
    if let Some(password) =
        startup::bootstrap_admin(&db, &SystemClock).map_err(|e| e.to_string())?
    {
        announce_admin_password(&password);
    }
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let app = Application::build_on(settings, db, std::sync::Arc::new(SystemClock))
            .map_err(|e| e.to_string())?;
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn migrate(settings: &Settings) -> Result<(), String> {
    let db = store::Db::open(&settings.database_url, &settings.pool).map_err(|e| e.to_string())?;
    let applied = db.migrate().map_err(|e| e.to_string())?;
    if applied.is_empty() {
        println!("the database is up to date");
    }
    for name in applied {
        println!("applied {name}");
    }
    // Instances started after a migration step (several behind a balancer) find the first
    // administrator made, rather than racing to make it.
    if let Some(password) =
        startup::bootstrap_admin(&db, &SystemClock).map_err(|e| e.to_string())?
    {
        announce_admin_password(&password);
    }
    Ok(())
}

fn load_demo(settings: &Settings, password: Option<&str>) -> Result<(), String> {
    if let Some(password) = password {
        directory::password(password).map_err(|m| format!("--password {m}"))?;
    }
    let db = startup::open_database(settings).map_err(|e| e.to_string())?;
    if let Some(admin) = startup::bootstrap_admin(&db, &SystemClock).map_err(|e| e.to_string())? {
        announce_admin_password(&admin);
    }
    let report = demo::load(&db, &SystemClock, password).map_err(|e| e.to_string())?;
    println!(
        "demo county loaded: {} units and {} categories added",
        report.units_added, report.categories_added
    );
    for year in &report.calendar_years {
        println!("working-day calendar {year} loaded (calendars/{year}.json)");
    }
    println!("{:<12} {:<14} password", "username", "role");
    for (username, role, password) in report.accounts {
        println!("{username:<12} {:<14} {password}", role.as_str());
    }
    Ok(())
}

fn create_user(
    settings: &Settings,
    username: String,
    role: Role,
    display_name: Option<String>,
    unit: Option<String>,
    channel: Option<Channel>,
    password: Option<String>,
) -> Result<(), String> {
    let db = startup::open_database(settings).map_err(|e| e.to_string())?;
    let unit_id = match unit {
        Some(code) => Some(
            db.read(|c| store::units::find_by_code(c, &code))
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no unit has the code `{code}`"))?
                .id,
        ),
        None => None,
    };
    let generated = password.is_none();
    let password = password.unwrap_or_else(|| auth::generate_password(16));
    let draft = UserDraft::parse(UserInput {
        display_name: display_name.unwrap_or_else(|| username.clone()),
        username,
        role,
        unit_id,
        channel,
        password,
        must_change_password: generated && role != Role::Integration,
    })
    .map_err(|e| e.to_string())?;
    let hash = auth::hash_password(&draft.password).map_err(|e| e.to_string())?;
    let new = NewUser {
        username: &draft.username,
        display_name: &draft.display_name,
        attachment: draft.attachment,
        password_hash: &hash,
        must_change_password: draft.must_change_password,
    };
    db.write(|c| store::users::insert(c, &new, SystemClock.now()))
        .map_err(|e| match e {
            store::StoreError::Duplicate { .. } => {
                format!("the username `{}` is taken", draft.username)
            }
            other => other.to_string(),
        })?;
    println!("created `{}` ({})", draft.username, role);
    if generated {
        println!("password: {}", draft.password);
    }
    Ok(())
}

fn mint_token(settings: &Settings, username: &str, days: u32) -> Result<(), String> {
    if !(1..=3650).contains(&days) {
        return Err("--days must be between 1 and 3650".into());
    }
    let db = startup::open_database(settings).map_err(|e| e.to_string())?;
    let keys = startup::token_keys(settings).map_err(|e| e.to_string())?;
    let username = directory::username(username)?;
    let (user, _) = db
        .read(|c| store::users::find_credentials(c, &username))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account is named `{username}`"))?;
    if !user.active {
        return Err(format!("`{username}` is deactivated"));
    }
    let ttl = Duration::from_secs(u64::from(days) * 86_400);
    let token = keys
        .issue(&user, SystemClock.now(), ttl)
        .map_err(|e| e.to_string())?;
    println!("{token}");
    Ok(())
}

fn revoke_tokens(settings: &Settings, username: &str) -> Result<(), String> {
    let db = startup::open_database(settings).map_err(|e| e.to_string())?;
    let username = directory::username(username)?;
    let (user, _) = db
        .read(|c| store::users::find_credentials(c, &username))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account is named `{username}`"))?;
    let attachment: Attachment = user.attachment;
    let changes = UserChanges {
        attachment: Some(attachment),
        ..UserChanges::default()
    };
    db.write(|c| store::users::update(c, user.id, &changes, SystemClock.now()))
        .map_err(|e| e.to_string())?;
    println!("tokens of `{username}` issued until now no longer work");
    Ok(())
}

fn parse_instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| hotline::domain::clock::micros(t.with_timezone(&chrono::Utc)))
        .map_err(|e| {
            format!("`{text}` is not an RFC 3339 instant ({e}), e.g. 2026-10-09T09:00:00+08:00")
        })
}

fn tick(settings: &Settings, at: chrono::DateTime<chrono::Utc>) -> Result<(), String> {
    let db = startup::open_database(settings).map_err(|e| e.to_string())?;
    let report =
        hotline::jobs::ladder::run_pass(&db, settings.timezone, at).map_err(|e| e.to_string())?;
    println!(
        "ladder pass at {}",
        at.with_timezone(&settings.timezone).to_rfc3339()
    );
    println!(
        "watched {} deadlines; {} tickets had rungs due; {} overdue now",
        report.watched, report.tickets, report.overdue_now
    );
    for ((timer, rung), count) in &report.fired {
        println!("  {timer:<9} {rung:<12} {count}");
    }
    if report.failed > 0 {
        return Err(format!(
            "{} tickets failed; the next pass tries them again",
            report.failed
        ));
    }
    Ok(())
}

fn report(
    settings: &Settings,
    period: &str,
    format: reports::Format,
    table: Option<&str>,
    restated: bool,
    out: Option<PathBuf>,
) -> Result<(), String> {
    let span = Span::parse(period).map_err(|m| format!("--period: {m}"))?;
    let db = startup::open_database(settings).map_err(|e| e.to_string())?;
    let bulletin = reports::of_span(
        &db,
        span,
        settings.timezone,
        &settings.hotline_name,
        SystemClock.now(),
        restated,
    )
    .map_err(|e| e.to_string())?;
    let rendered = reports::render(&bulletin, format, table)?;
    let path = out.unwrap_or_else(|| PathBuf::from(&rendered.file_name));
    std::fs::write(&path, &rendered.bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "{} ({:?}, {} bytes) written to {}",
        bulletin.title,
        bulletin.state,
        rendered.bytes.len(),
        path.display()
    );
    Ok(())
}

fn print_import_report(report: &import::Report) {
    println!(
        "{} records read: {} imported, {} imported before, {} left out",
        report.read,
        report.imported,
        report.already,
        report.bad.len()
    );
    for (line, message) in report.bad.iter().take(50) {
        println!("  line {line}: {message}");
    }
    if report.bad.len() > 50 {
        println!("  … and {} more", report.bad.len() - 50);
    }
}

fn import(settings: &Settings, file: &PathBuf, format: Option<ImportFormat>) -> Result<(), String> {
    let format = match (format, file.extension().and_then(|e| e.to_str())) {
        (Some(format), _) => format,
        (None, Some("csv")) => ImportFormat::Csv,
        (None, Some("jsonl" | "ndjson" | "json")) => ImportFormat::Jsonl,
        _ => return Err("give --format csv or --format jsonl".into()),
    };
    let open =
        || std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()));
    let db = startup::open_database(settings).map_err(|e| e.to_string())?;
    let mut importer = import::Importer::new(
        &db,
        settings.timezone,
        settings.ticket_number_digits,
        SystemClock.now(),
        true,
    )
    .map_err(|e| e.to_string())?;
    let report = match format {
        ImportFormat::Csv => {
            let lines = import::csv_rows(std::io::BufReader::new(open()?))?;
            let total = lines.len();
            importer.run(lines, Some(total))
        }
        ImportFormat::Jsonl => {
            let total = std::io::BufReader::new(open()?)
                .lines()
                .map_while(Result::ok)
                .filter(|l| !l.trim().is_empty())
                .count();
            importer.run(
                import::json_lines(std::io::BufReader::new(open()?)),
                Some(total),
            )
        }
    }
    .map_err(|e| e.to_string())?;
    print_import_report(&report);
    if report.bad.is_empty() {
        Ok(())
    } else {
        Err(format!("{} records were left out", report.bad.len()))
    }
}

struct GenerateOptions {
    profile: Option<PathBuf>,
    from: Option<String>,
    months: Option<u32>,
    per_month: Option<u64>,
    seed: Option<u64>,
    surge: Vec<String>,
    out: Option<PathBuf>,
}

fn generate(settings: &Settings, options: GenerateOptions) -> Result<(), String> {
    let mut profile: generate::Profile = match &options.profile {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => generate::Profile {
            from: Month::of(SystemClock.now(), settings.timezone),
            ..generate::Profile::default()
        },
    };
    if let Some(from) = options.from {
        profile.from = Month::parse(&from).map_err(|m| format!("--from: {m}"))?;
    }
    profile.months = options.months.unwrap_or(profile.months);
    profile.per_month = options.per_month.unwrap_or(profile.per_month);
    profile.seed = options.seed.unwrap_or(profile.seed);
    for surge in &options.surge {
        let (day, factor) = surge
            .split_once(':')
            .ok_or_else(|| format!("--surge {surge}: write DAY:FACTOR, e.g. 2026-08-11:4"))?;
        let day = day
            .parse()
            .map_err(|_| format!("--surge {surge}: `{day}` is not a date"))?;
        let factor: f64 = factor
            .parse()
            .ok()
            .filter(|f: &f64| *f > 0.0 && *f <= 50.0)
            .ok_or_else(|| format!("--surge {surge}: the factor is a number from 0 to 50"))?;
        profile.surges.push((day, factor));
    }
    let db = startup::open_database(settings).map_err(|e| e.to_string())?;
    let hotline = import::Hotline::load(&db, settings.timezone).map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    // Month by month: whatever the number of months, one month's records are in memory.
    let months = generate::months(&profile, &hotline, now)?;
    let mut failed = None;
    let records = months
        .map_while(|month| month.map_err(|e| failed = Some(e)).ok())
        .flatten();
    if let Some(path) = options.out {
        use std::io::Write;
        let written = std::fs::File::create(&path)
            .map(std::io::BufWriter::new)
            .and_then(|mut out| {
                let mut n = 0;
                for record in records {
                    serde_json::to_writer(&mut out, &record)?;
                    out.write_all(b"\n")?;
                    n += 1;
                }
                out.flush().map(|()| n)
            })
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if let Some(e) = failed {
            return Err(e);
        }
        println!("{written} records written to {}", path.display());
        return Ok(());
    }
    let mut importer = import::Importer::new(
        &db,
        settings.timezone,
        settings.ticket_number_digits,
        now,
        true,
    )
    .map_err(|e| e.to_string())?;
    let planned = generate::planned(&profile) as usize;
    let report = importer
        .run(import::numbered(records), Some(planned))
        .map_err(|e| e.to_string())?;
    if let Some(e) = failed {
        return Err(e);
    }
    print_import_report(&report);
    Ok(())
}
