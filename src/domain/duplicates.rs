//! Possible duplicates at intake: an open ticket about the same matter (the same category)
//! from the same township or a similar address, registered recently, that the agent may merge
//! the call into instead of registering it again.

use uuid::Uuid;

/// How alike two addresses must be, as the Dice coefficient of their character pairs, to be
/// taken for the same place: "城关镇人民路12号" and "人民路12号城关镇" are, "人民路12号" and
/// "人民路21号" are not.
pub const SIMILAR_ADDRESS: f64 = 0.7;

/// How far back intake looks when not told, and at most.
pub const DEFAULT_DAYS: u32 = 7;
pub const MAX_DAYS: u32 = 90;

/// An address reduced to what tells places apart: letters, digits and CJK characters, with
/// full-width forms folded to ASCII and case ignored; spaces and punctuation dropped.
pub fn normalized_address(address: &str) -> Vec<char> {
    address
        .chars()
        .map(|c| match c {
            // Full-width ASCII (０-９, Ａ-Ｚ, ａ-ｚ …) to its ASCII form.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The Dice coefficient of the addresses' character pairs (1.0: the same pairs), on their
/// normalized forms; addresses too short to have pairs are alike only when equal.
pub fn address_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalized_address(a), normalized_address(b));
    if a.len() < 2 || b.len() < 2 {
        return if !a.is_empty() && a == b { 1.0 } else { 0.0 };
    }
    let pairs = |s: &[char]| -> Vec<(char, char)> {
        let mut pairs: Vec<(char, char)> = s.windows(2).map(|w| (w[0], w[1])).collect();
        pairs.sort_unstable();
        pairs
    };
    let (a, b) = (pairs(&a), pairs(&b));
    // Shared pairs, counted as often as both have them.
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (2 * shared) as f64 / (a.len() + b.len()) as f64
}

/// What the new call gives to compare with.
#[derive(Debug, Clone, Default)]
pub struct Intake<'a> {
    pub area_unit_id: Option<Uuid>,
    pub address: Option<&'a str>,
}

/// Why an open ticket may be the same matter.
#[derive(Debug, Clone, PartialEq)]
pub struct Likeness {
    pub same_area: bool,
    /// The addresses' similarity, when both have one.
    pub address_similarity: Option<f64>,
}

impl Likeness {
    /// How an open ticket of the same category compares; `None` when neither its area nor its
    /// address makes it look like the same matter.
    pub fn of(
        intake: &Intake<'_>,
        area_unit_id: Option<Uuid>,
        address: Option<&str>,
    ) -> Option<Self> {
        let same_area = intake.area_unit_id.is_some() && intake.area_unit_id == area_unit_id;
        let address_similarity = match (intake.address, address) {
            (Some(a), Some(b)) => Some(address_similarity(a, b)),
            _ => None,
        };
        let similar = address_similarity.is_some_and(|s| s >= SIMILAR_ADDRESS);
        (same_area || similar).then_some(Self {
            same_area,
            address_similarity,
        })
    }

    /// Likelier duplicates first: a similar address says more than a shared township.
    pub fn rank(&self) -> f64 {
        let address = self
            .address_similarity
            .filter(|s| *s >= SIMILAR_ADDRESS)
            .unwrap_or(0.0);
        address + if self.same_area { 0.5 } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_compared_by_what_tells_places_apart() {
        assert_eq!(address_similarity("人民路12号", "人民路 １２ 号。"), 1.0);
        assert_eq!(address_similarity("Renmin Rd 12", "renmin rd. 12"), 1.0);
        assert!(address_similarity("城关镇人民路12号", "人民路12号城关镇") >= SIMILAR_ADDRESS);
        assert!(
            address_similarity("城关镇人民路12号幸福小区", "城关镇人民路12号") >= SIMILAR_ADDRESS
        );
        assert!(address_similarity("人民路12号", "人民路21号") < SIMILAR_ADDRESS);
        assert!(address_similarity("人民路12号", "解放路88号") < 0.3);
        assert_eq!(address_similarity("", ""), 0.0);
        assert_eq!(address_similarity("甲", "甲"), 1.0);
    }

    #[test]
    fn a_ticket_is_alike_by_its_township_or_its_address() {
        let town = Uuid::from_u128(1);
        let intake = Intake {
            area_unit_id: Some(town),
            address: Some("人民路12号"),
        };
        let by_area = Likeness::of(&intake, Some(town), None).unwrap();
        assert!(by_area.same_area);
        let by_address =
            Likeness::of(&intake, Some(Uuid::from_u128(2)), Some("人民路12号")).unwrap();
        assert!(!by_address.same_area && by_address.rank() > by_area.rank());
        assert_eq!(Likeness::of(&intake, None, Some("解放路88号")), None);
        // Nothing to compare: no township and no address given.
        assert_eq!(
            Likeness::of(&Intake::default(), Some(town), Some("人民路12号")),
            None
        );
    }

    proptest! {
        #[test]
        fn similarity_is_symmetric_and_bounded(a in "[人民路12号镇 ]{0,12}", b in "[人民路12号镇 ]{0,12}") {
            let ab = address_similarity(&a, &b);
            prop_assert_eq!(ab, address_similarity(&b, &a));
            prop_assert!((0.0..=1.0).contains(&ab));
            if !normalized_address(&a).is_empty() {
                prop_assert_eq!(address_similarity(&a, &a), 1.0);
            }
        }
    }
}
