//! How a caller's name and phone number look to someone who is not entitled to see them whole.

/// `13812345678` → `138****5678`: the carrier prefix and the last four digits stay, so an agent
/// can still tell two callers apart. At least four characters are always hidden, and at most
/// seven shown, so short numbers keep less.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let hidden = chars.len().min((chars.len().saturating_sub(7)).max(4));
    let visible = chars.len() - hidden;
    let tail = visible.div_ceil(2).max(visible.saturating_sub(3)).min(4);
    let head = visible - tail;
    chars[..head]
        .iter()
        .copied()
        .chain(std::iter::repeat_n('*', hidden))
        .chain(chars[chars.len() - tail..].iter().copied())
        .collect()
}

/// `张三` → `张*`, `欧阳娜娜` → `欧***`: the surname stays, the given name does not.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count();
            if rest == 0 {
                "*".into()
            } else {
                std::iter::once(first)
                    .chain(std::iter::repeat_n('*', rest))
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_keep_prefix_and_last_four() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0379-68661234"), "037******1234");
    }

    #[test]
    fn short_numbers_reveal_less() {
        assert_eq!(mask_phone("1234567"), "1****67");
        assert_eq!(mask_phone("12345"), "****5");
        assert_eq!(mask_phone("123456"), "1****6");
        assert_eq!(mask_phone("1234"), "****");
        assert_eq!(mask_phone(""), "");
    }

    #[test]
    fn masking_hides_at_least_four_and_shows_at_most_seven() {
        for len in 0..30 {
            let phone: String = "9".repeat(len);
            let masked = mask_phone(&phone);
            assert_eq!(masked.chars().count(), len);
            let shown = masked.chars().filter(|c| *c != '*').count();
            assert!(shown <= 7, "{masked}");
            assert!(len - shown >= len.min(4), "{masked}");
        }
    }

    #[test]
    fn names_keep_the_surname() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name(""), "");
    }
}
