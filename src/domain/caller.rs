//! Finding a caller's earlier tickets by phone number without an index of phone numbers: the
//! number is normalised and indexed as a keyed hash, whose key lives in the service's settings
//! and not in the database, so that the index alone gives nobody the numbers.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A phone number reduced to what identifies the line: its digits, without the country code of
/// a Chinese number (`+86`, `0086`, `86` before a mobile number) and without separators.
/// `None` when fewer than five digits remain: nothing that identifies a caller.
pub fn normalized_phone(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' => char::from_u32(c as u32 - 0xFF10 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .filter(char::is_ascii_digit)
        .collect();
    let national = ["0086", "86"]
        .iter()
        .find_map(|prefix| {
            digits
                .strip_prefix(prefix)
                .filter(|rest| rest.len() == 11 && rest.starts_with('1'))
        })
        .unwrap_or(&digits);
    (national.len() >= 5).then(|| national.to_owned())
}

/// The key of the phone-number index.
#[derive(Clone)]
pub struct PhoneIndex {
    key: Vec<u8>,
}

impl std::fmt::Debug for PhoneIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneIndex(…)")
    }
}

impl PhoneIndex {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// A key derived from another secret of the service (its token secret), for deployments
    /// that configure no key of its own.
    pub fn derived_from(secret: &[u8]) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"hotline caller phone index v1");
        Self::new(&mac.finalize().into_bytes())
    }

    /// The indexed form of a number: HMAC-SHA256 of its normalised digits, hex, 128 bits.
    pub fn key_of(&self, raw: &str) -> Option<String> {
        normalized_phone(raw).map(|normalized| self.key_of_normalized(&normalized))
    }

    /// The indexed form of a number already normalised by [`normalized_phone`].
    pub fn key_of_normalized(&self, normalized: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(normalized.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_line_written_many_ways_is_one_number() {
        for written in [
            "13800001111",
            "+86 138-0000-1111",
            "0086 13800001111",
            "86 138 0000 1111",
            "１３８００００１１１１",
        ] {
            assert_eq!(
                normalized_phone(written).as_deref(),
                Some("13800001111"),
                "{written}"
            );
        }
        assert_eq!(
            normalized_phone("0755-8888 1234").as_deref(),
            Some("075588881234")
        );
        assert_eq!(
            normalized_phone("8612345").as_deref(),
            Some("8612345"),
            "not a mobile after 86"
        );
        assert_eq!(normalized_phone("110"), None);
        assert_eq!(normalized_phone("无"), None);
    }

    #[test]
    fn the_index_depends_on_the_key_and_not_on_the_writing() {
        let index = PhoneIndex::new(b"k1");
        let key = index.key_of("138 0000 1111").unwrap();
        assert_eq!(key.len(), 32);
        assert_eq!(Some(key.clone()), index.key_of("+8613800001111"));
        assert_ne!(
            Some(key.clone()),
            PhoneIndex::new(b"k2").key_of("13800001111")
        );
        assert_ne!(Some(key), index.key_of("13800001112"));
        assert!(!format!("{index:?}").contains("k1"));
    }

    proptest! {
        #[test]
        fn separators_never_change_the_key(digits in "1[3-9][0-9]{9}", sep in "[ -]{0,2}") {
            let index = PhoneIndex::new(b"key");
            let spaced: String = digits.chars().map(|c| format!("{c}{sep}")).collect();
            prop_assert_eq!(index.key_of(&spaced), index.key_of(&digits));
        }
    }
}

/// How long a nuisance mark (恶意骚扰) may last at most: it is reviewed, not forgotten.
pub const NUISANCE_MAX_DAYS: i64 = 366;

/// A number the hotline office marked as a nuisance caller, with why and until when. Its calls
/// are still registered: the agent is warned, and the ticket records the mark.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NuisanceMark {
    pub id: uuid::Uuid,
    /// The number as staff may see it in lists (`138****5678`).
    pub phone: String,
    pub reason: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub marked_by: uuid::Uuid,
    pub marked_at: chrono::DateTime<chrono::Utc>,
    pub lifted_by: Option<uuid::Uuid>,
    pub lifted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub lift_reason: Option<String>,
}

impl NuisanceMark {
    /// Whether registrations from the number are warned about at `now`.
    pub fn in_force(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.lifted_at.is_none() && self.expires_at > now
    }
}

/// Checks a new mark's reason and expiry at `now`: the expiry lies ahead, within a year.
pub fn check_mark(
    reason: &str,
    expires_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, crate::domain::validation::ValidationErrors> {
    let mut errors = crate::domain::validation::ValidationErrors::new();
    let reason = errors.check(
        "reason",
        crate::domain::validation::required_text(reason, 1_000),
    );
    if expires_at <= now {
        errors.add("expires_at", "must be in the future");
    } else if expires_at > now + chrono::Duration::days(NUISANCE_MAX_DAYS) {
        errors.add(
            "expires_at",
            format!(
                "must be within {NUISANCE_MAX_DAYS} days: a mark is reviewed, not kept for ever"
            ),
        );
    }
    errors.finish()?;
    Ok(reason.unwrap_or_default())
}
