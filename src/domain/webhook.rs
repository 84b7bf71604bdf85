//! Webhooks as the Standard Webhooks specification has them: how a delivery is signed, when a
//! failed one is tried again, what a receiver's answer means, and which addresses a delivery may
//! go to. The worker that sends deliveries does the I/O; what it decides is decided here.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::access::EventScope;
use super::feed::FeedFilter;
use super::ticket::{Channel, EventKind};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How the specification writes a secret: this prefix, then the key's bytes in base64.
const SECRET_PREFIX: &str = "whsec_";

/// A subscription's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    /// The specification's bounds on a key's length, in bytes.
    pub const MIN_BYTES: usize = 24;
    pub const MAX_BYTES: usize = 64;

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        if (Self::MIN_BYTES..=Self::MAX_BYTES).contains(&bytes.len()) {
            Ok(Self(bytes))
        } else {
            Err(format!(
                "a signing secret holds {} to {} bytes",
                Self::MIN_BYTES,
                Self::MAX_BYTES
            ))
        }
    }

    /// A secret as the specification writes it, `whsec_` and base64.
    pub fn parse(text: &str) -> Result<Self, String> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| format!("a signing secret starts with `{SECRET_PREFIX}`"))?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| format!("a signing secret is `{SECRET_PREFIX}` and base64"))?;
        Self::from_bytes(bytes)
    }

    /// The secret as the specification writes it, for the receiver to keep.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.
    fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// A secret never shows in a log or a panic.
impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

/// The `webhook-signature` header of a delivery: a signature with each secret in force, apart by
/// spaces, so that during a rotation a receiver holding the old secret or the new one verifies
/// it. `id` is the `webhook-id` header, `timestamp` the `webhook-timestamp` one (Unix seconds),
/// `body` the bytes sent.
pub fn signature_header(
    secrets: &[SigningSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long to wait before each attempt after the first: soon at first, for a receiver that
/// blinked, then further apart, about three days in all (73 h 35 min before jitter). After the
/// last, the delivery is dead and waits for someone to send it again by hand.
const WAITS: [Duration; 10] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(18 * 3600),
];

/// Attempts a delivery gets at most: the first and one after each wait.
pub const MAX_ATTEMPTS: u32 = WAITS.len() as u32 + 1;

/// How long to wait after failed attempt `attempts` (from 1) before the next; `None` when it was
/// the last. `jitter` (in `[0, 1)`, drawn by the caller) spreads the wait over 80% to 120% of its
/// length, so that deliveries that failed together, when a receiver went down, do not all come
/// back at once.
pub fn wait_after_failure(attempts: u32, jitter: f64) -> Option<Duration> {
    let wait = WAITS.get(attempts.checked_sub(1)? as usize)?;
    Some(wait.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
}

/// What an attempt's answer means for the delivery and its subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Any 2xx: received.
    Delivered,
    /// 410 Gone: the receiver asks to be sent nothing more; the subscription is switched off.
    Gone,
    /// Any other answer, or none in time: tried again after its wait.
    Failed,
}

impl Outcome {
    /// `status`: the answer's status code; `None` when no answer came (refused, reset, timed out).
    pub fn of(status: Option<u16>) -> Self {
        match status {
            Some(200..=299) => Outcome::Delivered,
            Some(410) => Outcome::Gone,
            _ => Outcome::Failed,
        }
    }
}

/// A range of addresses a setting names: `10.1.2.3`, `10.0.0.0/8`, `::1`, `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("`{text}` is not an address or a range of them"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("`{text}`: a prefix length is 0 to {bits}"))?,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => same_prefix(
                u32::from(network).into(),
                u32::from(address).into(),
                self.prefix,
                32,
            ),
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                same_prefix(network.into(), address.into(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// Whether two addresses of `bits` bits agree on their first `prefix` bits.
fn same_prefix(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    if prefix == 0 {
        return true;
    }
    let ignored = bits - u32::from(prefix);
    (a >> ignored) == (b >> ignored)
}

/// Whether a delivery may go to `address`: an address on the public internet, or one `allowed`
/// names. A webhook's target is chosen by whoever subscribes, so it must not reach what only
/// the server can reach (this host, its network, a cloud's metadata service at 169.254.169.254);
/// the address checked is the one connected to, after the name was resolved.
pub fn may_deliver_to(address: IpAddr, allowed: &[AddressRange]) -> bool {
    allowed.iter().any(|range| range.contains(address)) || is_public(address)
}

fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    const NOT_PUBLIC: [(Ipv4Addr, u8); 15] = [
        (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network"
        (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
        (Ipv4Addr::new(100, 64, 0, 0), 10),   // carrier-grade NAT
        (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
        (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local, cloud metadata
        (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
        (Ipv4Addr::new(192, 0, 0, 0), 24),    // protocol assignments
        (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation
        (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relays
        (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
        (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
        (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
        (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation
        (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
        (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, broadcast
    ];
    !NOT_PUBLIC.iter().any(|(network, prefix)| {
        same_prefix(
            u32::from(*network).into(),
            u32::from(address).into(),
            *prefix,
            32,
        )
    })
}

fn is_public_v6(address: Ipv6Addr) -> bool {
    const NOT_PUBLIC: [(Ipv6Addr, u8); 7] = [
        (Ipv6Addr::UNSPECIFIED, 128),
        (Ipv6Addr::LOCALHOST, 128),
        (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard
        (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
        (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique local
        (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
        (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
    ];
    !NOT_PUBLIC
        .iter()
        .any(|(network, prefix)| same_prefix((*network).into(), address.into(), *prefix, 128))
}

/// The IPv4 address an IPv6 one stands for: mapped (`::ffff:a.b.c.d`), or translated by NAT64
/// (`64:ff9b::a.b.c.d`). Either reaches the IPv4 address, and is judged as it.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = address.to_ipv4_mapped() {
        return Some(v4);
    }
    let [.., a, b, c, d] = address.octets();
    (address.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]).then(|| Ipv4Addr::new(a, b, c, d))
}

text_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Waiting for its first attempt or its next one.
        Pending = "pending",
        Delivered = "delivered",
        /// Every attempt failed: it waits for someone to send it again by hand.
        Dead = "dead",
    }
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    /// Tried again at this time; the subscription's later deliveries wait behind it, so that a
    /// receiver gets a subscription's events in the order they committed.
    RetryAt(DateTime<Utc>),
    /// That was the last attempt: the delivery is dead, and the ones behind it go on.
    Dead,
    /// The receiver answered 410 Gone: the subscription is switched off, and the delivery
    /// waits, first in line, for it to be switched on again.
    SwitchOff,
}

/// What follows attempt number `attempts` (from 1) of a delivery, made at `now`, that came to
/// `outcome`; `jitter` in `[0, 1)` as [`wait_after_failure`] takes it.
pub fn after_attempt(
    attempts: u32,
    outcome: Outcome,
    now: DateTime<Utc>,
    jitter: f64,
) -> AfterAttempt {
    match outcome {
        Outcome::Delivered => AfterAttempt::Delivered,
        Outcome::Gone => AfterAttempt::SwitchOff,
        Outcome::Failed => match wait_after_failure(attempts, jitter)
            .and_then(|wait| chrono::Duration::from_std(wait).ok())
        {
            Some(wait) => AfterAttempt::RetryAt(now + wait),
            None => AfterAttempt::Dead,
        },
    }
}

/// Where a subscription's deliveries go: an `http` or `https` URL naming a host. The URL is
/// kept as written; its parts are what a delivery connects to and what is checked first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    /// A name, or an address literal (an IPv6 one without its brackets).
    pub host: String,
    pub port: u16,
    pub secure: bool,
}

impl Target {
    pub const MAX_LENGTH: usize = 2_000;

    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > Self::MAX_LENGTH {
            return Err(format!("is at most {} characters", Self::MAX_LENGTH));
        }
        let url = text.trim();
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("holds no spaces or control characters".into());
        }
        let lowered = url.to_ascii_lowercase();
        let (secure, rest) = if lowered.starts_with("https://") {
            (true, &url["https://".len()..])
        } else if lowered.starts_with("http://") {
            (false, &url["http://".len()..])
        } else {
            return Err("is an http:// or https:// URL".into());
        };
        if url.contains('#') {
            return Err("has no fragment (#…): a receiver never sees it".into());
        }
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        if authority.contains('@') {
            return Err("carries no user name or password: sign with the secret instead".into());
        }
        let default_port = if secure { 443 } else { 80 };
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or("has an IPv6 address closed by `]`")?;
            host.parse::<Ipv6Addr>()
                .map_err(|_| format!("`{host}` is not an IPv6 address"))?;
            let port = match after {
                "" => None,
                other => Some(other.strip_prefix(':').ok_or("has `:port` after `]`")?),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err("names a host".into());
        }
        if !authority.starts_with('[')
            && !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err(format!(
                "`{host}` is not a host name (an internationalised one is written in its xn-- form)"
            ));
        }
        let port = match port {
            None => default_port,
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{port}` is not a port"))?,
        };
        Ok(Self {
            url: url.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
            secure,
        })
    }

    /// The address the URL names directly, when its host is one.
    pub fn literal_address(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

/// A subscription: where events go, which ones, and whose view of the tickets they come from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Subscription {
    pub id: uuid::Uuid,
    pub url: String,
    pub description: String,
    /// Empty: every kind.
    pub kinds: Vec<EventKind>,
    pub channel: Option<Channel>,
    /// The integration account it belongs to; `None` when an administrator made it.
    pub owner_user_id: Option<uuid::Uuid>,
    /// The tickets whose events it may carry: its owner's view, every ticket's for an
    /// administrator's subscription.
    #[serde(skip)]
    pub scope: EventScope,
    /// Why it is switched off; `None` while it delivers.
    pub disabled_reason: Option<String>,
    pub created_by: uuid::Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Subscription {
    pub fn active(&self) -> bool {
        self.disabled_reason.is_none()
    }

    /// The part of the feed it carries.
    pub fn filter(&self) -> FeedFilter {
        FeedFilter {
            kinds: self.kinds.clone(),
            channel: self.channel,
        }
    }
}

/// Why a subscription was switched off without anyone asking.
pub const GONE_REASON: &str = "the receiver answered 410 Gone";

/// One event's delivery to one subscription, as its log shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub subscription_id: uuid::Uuid,
    /// The event's id, also the `webhook-id` header: the same on every attempt.
    pub event_id: i64,
    pub event_kind: EventKind,
    pub ticket_id: uuid::Uuid,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When it is tried next, while it is pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The status code of the last answer; `None` when none came.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// How long the last attempt took, in milliseconds.
    pub latency_ms: Option<i64>,
    /// When its event was written.
    pub event_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_delivery_is_signed_as_the_specifications_own_example() {
        // The example the Standard Webhooks libraries test themselves against.
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let header = signature_header(
            std::slice::from_ref(&secret),
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(secret.to_text(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(format!("{secret:?}"), "SigningSecret(..)");
    }

    #[test]
    fn during_a_rotation_each_secret_in_force_signs() {
        let old = SigningSecret::from_bytes(vec![1; 32]).unwrap();
        let new = SigningSecret::from_bytes(vec![2; 32]).unwrap();
        let both = signature_header(&[old.clone(), new.clone()], "7", 1, b"{}");
        let alone = |s: &SigningSecret| signature_header(std::slice::from_ref(s), "7", 1, b"{}");
        assert_eq!(both, format!("{} {}", alone(&old), alone(&new)));
    }

    #[test]
    fn secrets_are_checked() {
        assert!(SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(SigningSecret::parse("whsec_not base64!").is_err());
        assert!(SigningSecret::parse("whsec_c2hvcnQ=").is_err());
        assert!(SigningSecret::from_bytes(vec![0; 65]).is_err());
    }

    #[test]
    fn failures_are_tried_again_for_about_three_days_then_given_up() {
        let total: Duration = (1..MAX_ATTEMPTS)
            .map(|n| wait_after_failure(n, 0.5).unwrap())
            .sum();
        assert!(total > Duration::from_secs(72 * 3600), "{total:?}");
        assert!(total < Duration::from_secs(74 * 3600), "{total:?}");
        assert_eq!(wait_after_failure(MAX_ATTEMPTS, 0.5), None);
        assert_eq!(wait_after_failure(0, 0.5), None);
        assert_eq!(wait_after_failure(1, 0.0), Some(Duration::from_secs(4)));
        assert_eq!(wait_after_failure(1, 1.0), Some(Duration::from_secs(6)));
    }

    proptest! {
        #[test]
        fn waits_grow_and_jitter_stays_within_a_fifth(attempts in 1..MAX_ATTEMPTS, jitter in 0.0..1.0f64) {
            let wait = wait_after_failure(attempts, jitter).unwrap();
            let plain = wait_after_failure(attempts, 0.5).unwrap();
            prop_assert!(wait >= plain.mul_f64(0.8 - 1e-9) && wait <= plain.mul_f64(1.2 + 1e-9));
            if attempts > 1 {
                prop_assert!(plain >= wait_after_failure(attempts - 1, 0.5).unwrap());
            }
        }
    }

    #[test]
    fn a_2xx_delivers_a_410_switches_off_everything_else_is_tried_again() {
        assert_eq!(Outcome::of(Some(200)), Outcome::Delivered);
        assert_eq!(Outcome::of(Some(204)), Outcome::Delivered);
        assert_eq!(Outcome::of(Some(410)), Outcome::Gone);
        for failed in [
            Some(301),
            Some(400),
            Some(404),
            Some(429),
            Some(500),
            Some(503),
            None,
        ] {
            assert_eq!(Outcome::of(failed), Outcome::Failed, "{failed:?}");
        }
    }

    #[test]
    fn deliveries_go_to_the_public_internet_and_to_what_the_setting_allows() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        for public in [
            "8.8.8.8",
            "114.114.114.114",
            "2400:3200::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(may_deliver_to(ip(public), &[]), "{public}");
        }
        for inner in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.5",
            "192.168.1.10",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(!may_deliver_to(ip(inner), &[]), "{inner}");
        }
        let allowed = [
            AddressRange::parse("127.0.0.1").unwrap(),
            AddressRange::parse("10.8.0.0/16").unwrap(),
        ];
        assert!(may_deliver_to(ip("127.0.0.1"), &allowed));
        assert!(may_deliver_to(ip("10.8.200.1"), &allowed));
        assert!(!may_deliver_to(ip("10.9.0.1"), &allowed));
        assert!(!may_deliver_to(ip("127.0.0.2"), &allowed));
    }

    #[test]
    fn ranges_are_read_as_written_and_refused_otherwise() {
        assert!(
            AddressRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            AddressRange::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(
            !AddressRange::parse("fd00::/8")
                .unwrap()
                .contains("10.0.0.1".parse().unwrap())
        );
        for wrong in ["10.0.0.0/33", "localhost", "10.0.0.0/x", "::/129"] {
            assert!(AddressRange::parse(wrong).is_err(), "{wrong}");
        }
    }
    #[test]
    fn after_an_attempt_a_delivery_is_done_waits_dies_or_switches_its_subscription_off() {
        let now = Utc::now();
        assert_eq!(
            after_attempt(1, Outcome::Delivered, now, 0.5),
            AfterAttempt::Delivered
        );
        assert_eq!(
            after_attempt(3, Outcome::Gone, now, 0.5),
            AfterAttempt::SwitchOff
        );
        assert_eq!(
            after_attempt(1, Outcome::Failed, now, 0.5),
            AfterAttempt::RetryAt(now + chrono::Duration::seconds(5))
        );
        assert_eq!(
            after_attempt(MAX_ATTEMPTS - 1, Outcome::Failed, now, 0.5),
            AfterAttempt::RetryAt(now + chrono::Duration::hours(18))
        );
        assert_eq!(
            after_attempt(MAX_ATTEMPTS, Outcome::Failed, now, 0.5),
            AfterAttempt::Dead
        );
    }

    #[test]
    fn targets_are_http_urls_naming_a_host() {
        let t = Target::parse("https://Portal.example.cn/hooks/12345?k=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.secure),
            ("portal.example.cn", 443, true)
        );
        assert_eq!(t.url, "https://Portal.example.cn/hooks/12345?k=1");
        let t = Target::parse("http://127.0.0.1:8099/in").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.secure),
            ("127.0.0.1", 8099, false)
        );
        assert_eq!(t.literal_address(), Some("127.0.0.1".parse().unwrap()));
        let t = Target::parse("http://[::1]:9000").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
        assert_eq!(Target::parse("HTTP://a.cn").unwrap().port, 80);
        for bad in [
            "ftp://a.cn/",
            "a.cn/hook",
            "http://",
            "http://:80/",
            "http://user:pw@a.cn/",
            "http://a.cn:0/",
            "http://a.cn:99999/",
            "http://a.cn/#top",
            "http://a b.cn/",
            "http://[::1/",
            "http://[zz]/",
            "http://a_b.cn/",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad} was taken");
        }
        assert!(Target::parse(&format!("http://a.cn/{}", "x".repeat(2_000))).is_err());
    }
}
