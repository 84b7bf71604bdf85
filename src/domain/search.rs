//! Word search in Chinese text, which has no spaces between words: a text is indexed under
//! every pair of adjacent characters of its words (社保卡 under 社保 and 保卡), and a question
//! asks for all the pairs of its own words. Every run of two or more characters of a text is
//! found this way without a dictionary, whatever its words, new place names and slang included;
//! the index narrows the search to the texts holding every pair, and the texts are then checked
//! for the question as a whole, so that a text holding the pairs apart (社保 … 保卡) is not
//! taken for one holding 社保卡.
//!
//! Single characters are not indexed: a one-character question is read the slow way, and a
//! question of two characters or more never is.

use std::collections::BTreeSet;

/// Fewer characters than this the index does not help with.
pub const MIN_INDEXED_CHARS: usize = 2;

/// How many characters a question may have.
pub const QUERY_MAX_CHARS: usize = 100;

/// Runs of characters that can make up words (letters, digits and CJK ideographs), lowercased:
/// what lies between them (spaces, punctuation, symbols) ends a word.
fn words(text: &str) -> impl Iterator<Item = Vec<char>> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word.chars().flat_map(char::to_lowercase).collect())
}

fn pairs(word: &[char]) -> impl Iterator<Item = String> + '_ {
    word.windows(2).map(|pair| pair.iter().collect())
}

/// The terms `texts` are indexed under, each once, in order.
pub fn index_terms<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let terms: BTreeSet<String> = texts
        .into_iter()
        .flat_map(words)
        .flat_map(|word| pairs(&word).collect::<Vec<_>>())
        .collect();
    terms.into_iter().collect()
}

/// The terms a text must be indexed under to hold `query`, each once; none when the index
/// cannot narrow the search (a question of single characters, or of punctuation).
pub fn query_terms(query: &str) -> Vec<String> {
    index_terms([query])
}

/// The parts of an article a question is looked for in. An article is indexed under the pairs
/// of each part apart, each pair lettered with its part (`t社保` for a title holding 社保): a
/// search learns from the index alone which parts may hold the question, and so ranks articles
/// before reading any text. Unlettered pairs have two characters and lettered ones three, so
/// the two never meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleField {
    Title,
    Keywords,
    Body,
}

impl ArticleField {
    pub const ALL: [ArticleField; 3] = [Self::Title, Self::Keywords, Self::Body];

    /// What finding the question in this part adds to an article's rank: a title naming the
    /// matter says most, then the keywords its unit chose, then the body.
    pub const fn weight(self) -> i32 {
        match self {
            Self::Title => 4,
            Self::Keywords => 2,
            Self::Body => 1,
        }
    }

    /// This part's bit in a set of parts ([`article_index_pairs`]).
    pub const fn bit(self) -> i16 {
        match self {
            Self::Title => 1,
            Self::Keywords => 2,
            Self::Body => 4,
        }
    }

    /// The sum of the weights of the parts in a set of parts.
    pub fn weight_of(parts: i16) -> i32 {
        Self::ALL
            .into_iter()
            .filter(|field| parts & field.bit() != 0)
            .map(Self::weight)
            .sum()
    }

    const fn letter(self) -> char {
        match self {
            Self::Title => 't',
            Self::Keywords => 'k',
            Self::Body => 'b',
        }
    }

    /// The terms a text of this part is indexed under, and those a part must be indexed under
    /// to hold a question: its pairs, lettered.
    pub fn terms(self, text: &str) -> Vec<String> {
        index_terms([text])
            .into_iter()
            .map(|pair| format!("{}{pair}", self.letter()))
            .collect()
    }
}

/// The terms an article is indexed under, each once, in order.
pub fn article_index_terms(title: &str, keywords: &str, body: &str) -> Vec<String> {
    let terms: BTreeSet<String> = [
        (ArticleField::Title, title),
        (ArticleField::Keywords, keywords),
        (ArticleField::Body, body),
    ]
    .into_iter()
    .flat_map(|(field, text)| field.terms(text))
    .collect();
    terms.into_iter().collect()
}

/// The pairs an article is indexed under, each once, in order, with the set of the parts
/// holding it (the sum of their [`ArticleField::bit`]s): the terms of
/// [`article_index_terms`] with their letters gathered by pair.
pub fn article_index_pairs(title: &str, keywords: &str, body: &str) -> Vec<(String, i16)> {
    let mut pairs: std::collections::BTreeMap<String, i16> = std::collections::BTreeMap::new();
    for (field, text) in [
        (ArticleField::Title, title),
        (ArticleField::Keywords, keywords),
        (ArticleField::Body, body),
    ] {
        for pair in index_terms([text]) {
            *pairs.entry(pair).or_default() |= field.bit();
        }
    }
    pairs.into_iter().collect()
}

/// How the articles found for a question rank: by where they hold it (the sum of the
/// [`ArticleField::weight`]s of the parts holding it), then by how often direct answers cited
/// them (what helped callers before), then the most recently changed first. Ranks are computed
/// alike on both backends, from the texts.
pub struct Rank;

impl Rank {
    /// Where the texts hold `query`, as the sum of the weights; 0: nowhere.
    pub fn score(title: &str, keywords: &[String], body: &str, query: &str) -> i32 {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return 0;
        }
        // A question without letters that have a case (Chinese, digits) is looked for as it
        // is, without lowercasing every text it is looked for in.
        let caseless = !query.chars().any(char::is_lowercase);
        let holds = |text: &str| {
            if caseless {
                text.contains(&query)
            } else {
                text.to_lowercase().contains(&query)
            }
        };
        ArticleField::ALL
            .into_iter()
            .filter(|field| match field {
                ArticleField::Title => holds(title),
                ArticleField::Keywords => keywords.iter().any(|k| holds(k)),
                ArticleField::Body => holds(body),
            })
            .map(ArticleField::weight)
            .sum()
    }
}

/// Where a question was found in a snippet, in characters from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Mark {
    pub start: usize,
    pub end: usize,
}

/// A passage of a text around the first place it holds the question, with every occurrence in
/// it marked, for a result list to show why a text was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Snippet {
    pub text: String,
    pub marks: Vec<Mark>,
}

impl Snippet {
    /// The snippet's text cut at its marks, each piece with whether it is marked, in order.
    pub fn pieces(&self) -> Vec<(String, bool)> {
        let chars: Vec<char> = self.text.chars().collect();
        let mut pieces = Vec::with_capacity(self.marks.len() * 2 + 1);
        let mut at = 0;
        for mark in &self.marks {
            if mark.start > at {
                pieces.push((chars[at..mark.start].iter().collect(), false));
            }
            pieces.push((chars[mark.start..mark.end].iter().collect(), true));
            at = mark.end;
        }
        if at < chars.len() {
            pieces.push((chars[at..].iter().collect(), false));
        }
        pieces
    }
}

/// How many characters of context a snippet shows around its first mark, before and after.
const CONTEXT_BEFORE: usize = 20;
const CONTEXT_AFTER: usize = 40;
const ELLIPSIS: char = '…';

/// The passage of `text` around the first occurrence of `query` (ignoring case), or `None` when
/// the text does not hold it.
pub fn snippet(text: &str, query: &str) -> Option<Snippet> {
    let fold = |c: char| c.to_lowercase().next().unwrap_or(c);
    let haystack: Vec<char> = text.chars().collect();
    let needle: Vec<char> = query.trim().chars().map(fold).collect();
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    let folded: Vec<char> = haystack.iter().copied().map(fold).collect();
    let found = |at: usize| folded[at..at + needle.len()] == needle[..];
    let first = (0..=folded.len() - needle.len()).find(|&at| found(at))?;
    let from = first.saturating_sub(CONTEXT_BEFORE);
    let to = (first + needle.len() + CONTEXT_AFTER).min(haystack.len());
    let mut shown = String::new();
    let offset = usize::from(from > 0);
    if from > 0 {
        shown.push(ELLIPSIS);
    }
    shown.extend(haystack[from..to].iter().map(|&c| match c {
        // A snippet is one line.
        '\n' | '\r' | '\t' => ' ',
        c => c,
    }));
    if to < haystack.len() {
        shown.push(ELLIPSIS);
    }
    let mut marks = Vec::new();
    let mut at = first;
    while at + needle.len() <= to {
        if found(at) {
            marks.push(Mark {
                start: at - from + offset,
                end: at - from + offset + needle.len(),
            });
            at += needle.len();
        } else {
            at += 1;
        }
    }
    Some(Snippet { text: shown, marks })
}

/// The first of `texts` that holds `query`, as a snippet.
pub fn first_snippet<'a>(texts: impl IntoIterator<Item = &'a str>, query: &str) -> Option<Snippet> {
    texts.into_iter().find_map(|text| snippet(text, query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chinese_words_of_two_characters_are_terms() {
        let terms = index_terms(["楼下饭店噪音扰民，停水三天；社保卡丢失"]);
        for word in ["噪音", "停水", "社保", "扰民", "保卡"] {
            assert!(terms.contains(&word.to_owned()), "{word}");
        }
        // Punctuation ends a word: no pair spans it.
        assert!(!terms.contains(&"民停".to_owned()));
        assert!(!terms.contains(&"民，".to_owned()));
    }

    #[test]
    fn latin_letters_are_folded_and_digits_kept() {
        assert_eq!(
            index_terms(["ETC卡 12号"]),
            ["12", "2号", "c卡", "et", "tc"]
        );
        assert_eq!(query_terms("Etc"), ["et", "tc"]);
    }

    #[test]
    fn an_article_is_indexed_under_the_pairs_of_each_part_lettered() {
        let terms = article_index_terms("停水通知", r#"["停水"]"#, "社保卡");
        assert_eq!(
            terms,
            ["b保卡", "b社保", "k停水", "t停水", "t水通", "t通知"]
        );
        // Nothing an article is indexed under is a pair a question of tickets asks for.
        assert!(terms.iter().all(|t| t.chars().count() == 3));
        assert_eq!(ArticleField::Keywords.terms("停水"), ["k停水"]);
        let pairs = article_index_pairs("停水通知", r#"["停水"]"#, "社保卡");
        assert_eq!(
            pairs,
            [
                ("保卡".to_owned(), 4),
                ("停水".to_owned(), 3),
                ("水通".to_owned(), 1),
                ("社保".to_owned(), 4),
                ("通知".to_owned(), 1)
            ]
        );
        assert_eq!(ArticleField::weight_of(3), 6, "title and keywords");
        assert_eq!(ArticleField::weight_of(0), 0);
    }

    #[test]
    fn single_characters_leave_the_index_out() {
        assert!(query_terms("水").is_empty());
        assert!(query_terms("，。！").is_empty());
        assert!(query_terms("水 电").is_empty());
        assert_eq!(query_terms("停水 停电"), ["停水", "停电"]);
    }

    #[test]
    fn a_snippet_marks_the_question_in_its_context() {
        let text = "市民反映：小区楼下饭店每天晚上噪音很大，影响休息，噪音持续到凌晨。";
        let found = snippet(text, "噪音").unwrap();
        assert_eq!(found.text, text);
        let chars: Vec<char> = found.text.chars().collect();
        assert_eq!(found.marks.len(), 2);
        for mark in &found.marks {
            assert_eq!(
                chars[mark.start..mark.end].iter().collect::<String>(),
                "噪音"
            );
        }
        assert_eq!(snippet(text, "停水"), None);
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_occurrence() {
        let text = format!("{}ETC办理{}", "前".repeat(50), "后".repeat(80));
        let found = snippet(&text, "etc").unwrap();
        let chars: Vec<char> = found.text.chars().collect();
        assert_eq!(chars[0], ELLIPSIS);
        assert_eq!(*chars.last().unwrap(), ELLIPSIS);
        let mark = found.marks[0];
        assert_eq!(
            chars[mark.start..mark.end].iter().collect::<String>(),
            "ETC"
        );
        assert_eq!(mark.start, CONTEXT_BEFORE + 1);
        assert_eq!(chars.len(), 1 + CONTEXT_BEFORE + 3 + CONTEXT_AFTER + 1);
    }

    #[test]
    fn an_article_ranks_by_where_it_holds_the_question() {
        let keywords = vec!["停水".to_owned(), "供水".to_owned()];
        assert_eq!(
            Rank::score("停水通知", &keywords, "停水前一日公告", "停水"),
            7
        );
        assert_eq!(Rank::score("办理指南", &keywords, "无", "停水"), 2);
        assert_eq!(Rank::score("办理指南", &[], "计划停水", "停水"), 1);
        assert_eq!(Rank::score("ETC办理", &[], "", "etc"), 4);
        assert_eq!(Rank::score("办理指南", &keywords, "无", "燃气"), 0);
        // A keyword holds the question, not the keywords run together.
        assert_eq!(
            Rank::score("无", &["停".to_owned(), "水".to_owned()], "", "停水"),
            0
        );
    }

    #[test]
    fn a_snippet_cuts_into_pieces_at_its_marks() {
        let found = snippet("噪音扰民，夜间噪音", "噪音").unwrap();
        let pieces = found.pieces();
        assert_eq!(
            pieces,
            vec![
                ("噪音".to_owned(), true),
                ("扰民，夜间".to_owned(), false),
                ("噪音".to_owned(), true),
            ]
        );
        let whole: String = pieces.iter().map(|(text, _)| text.as_str()).collect();
        assert_eq!(whole, found.text);
    }

    #[test]
    fn a_snippet_is_one_line() {
        let found = snippet("第一行\n第二行停水", "停水").unwrap();
        assert_eq!(found.text, "第一行 第二行停水");
    }

    fn text() -> impl Strategy<Value = String> {
        // Common characters, Latin letters of both cases, digits, spaces and punctuation.
        proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(vec!['社', '保', '噪', '音', '停', '水', '镇', '路']),
                proptest::sample::select(vec!['a', 'B', 'c', '1', '2']),
                proptest::sample::select(vec![' ', '，', '。', '-', '\n']),
            ],
            0..40,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        /// Every substring of two or more characters of a stored text is found: the terms it
        /// asks for are all terms of the text.
        #[test]
        fn every_substring_is_found(text in text()) {
            let chars: Vec<char> = text.chars().collect();
            let terms: BTreeSet<String> = index_terms([text.as_str()]).into_iter().collect();
            for from in 0..chars.len() {
                for to in from + MIN_INDEXED_CHARS..=chars.len() {
                    let part: String = chars[from..to].iter().collect();
                    for term in query_terms(&part) {
                        prop_assert!(terms.contains(&term), "{part:?} asks for {term:?}");
                    }
                    let found = snippet(&text, &part);
                    prop_assert!(part.trim().is_empty() || found.is_some(), "{part:?}");
                }
            }
        }

        /// The index never ranks an article below its texts: every part holding the question
        /// is indexed under all the terms that part is asked for, so the weights of the parts
        /// the index names bound the rank from above.
        #[test]
        fn the_index_bounds_the_rank(
            title in text(),
            keyword in text(),
            body in text(),
            from in 0usize..40,
            len in 2usize..6,
        ) {
            let chars: Vec<char> = body.chars().chain(title.chars()).collect();
            prop_assume!(from + len <= chars.len());
            let query: String = chars[from..from + len].iter().collect();
            prop_assume!(!query_terms(&query).is_empty());
            let keywords = vec![keyword];
            let keywords_text = serde_json::Value::from(keywords.clone()).to_string();
            let indexed: BTreeSet<String> =
                article_index_terms(&title, &keywords_text, &body).into_iter().collect();
            let bound: i32 = ArticleField::ALL
                .into_iter()
                .filter(|field| field.terms(&query).iter().all(|t| indexed.contains(t)))
                .map(ArticleField::weight)
                .sum();
            let score = Rank::score(&title, &keywords, &body, &query);
            prop_assert!(score <= bound, "{query:?}: score {score} above {bound}");
            // The pairs with their parts say what the lettered terms say.
            let pairs: std::collections::BTreeMap<String, i16> =
                article_index_pairs(&title, &keywords_text, &body).into_iter().collect();
            let parts = query_terms(&query)
                .iter()
                .fold(ArticleField::ALL.iter().fold(0, |all, f| all | f.bit()), |parts, pair| {
                    parts & pairs.get(pair).copied().unwrap_or(0)
                });
            prop_assert_eq!(ArticleField::weight_of(parts), bound);
        }

        /// A snippet's marks are the question, ignoring case.
        #[test]
        fn marks_hold_the_question(text in text(), from in 0usize..40, len in 1usize..6) {
            let chars: Vec<char> = text.chars().collect();
            prop_assume!(from + len <= chars.len());
            let part: String = chars[from..from + len].iter().collect();
            prop_assume!(!part.trim().is_empty() && part.trim() == part);
            // A snippet is one line: a question across lines is shown with spaces.
            prop_assume!(!part.contains(['\n', '\r', '\t']));
            let found = snippet(&text, &part).unwrap();
            let shown: Vec<char> = found.text.chars().collect();
            prop_assert!(!found.marks.is_empty());
            for mark in found.marks {
                let marked: String = shown[mark.start..mark.end].iter().collect();
                prop_assert_eq!(marked.to_lowercase(), part.to_lowercase());
            }
        }
    }
}
