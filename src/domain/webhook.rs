//! Webhooks as the Standard Webhooks specification has them: how a delivery is signed, when a
//! failed one is tried again, what a receiver's answer means, and which addresses a delivery may
//! go to. The worker that sends deliveries does the I/O; what it decides is decided here.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

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
}
