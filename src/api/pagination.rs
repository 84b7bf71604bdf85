//! Keyset pagination: `limit` (1..=200, default 50) and an opaque `cursor` that encodes where the
//! previous page ended, never an offset.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The paging parameters every list accepts.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn new(limit: Option<u32>, cursor: Option<String>) -> Self {
        Self { limit, cursor }
    }

    /// The page size asked for, checked.
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, ApiError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }

    /// Turns `limit + 1` fetched rows into a page: the extra row only says that there is more.
    pub fn page<R, T, K: Serialize>(
        &self,
        mut rows: Vec<R>,
        key: impl Fn(&R) -> K,
        view: impl FnMut(R) -> T,
    ) -> Result<Page<T>, ApiError> {
        let limit = self.limit()? as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        })
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> Result<i64, ApiError> {
        Ok(i64::from(self.limit()?) + 1)
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::invalid_field("cursor", "is not a cursor this list handed out"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let key = ("2026-11-22T00:00:00Z".to_owned(), 7);
        let cursor = encode_cursor(&key);
        assert_eq!(decode_cursor::<(String, i32)>(&cursor).unwrap(), key);
        assert!(decode_cursor::<(String, i32)>("not-a-cursor!").is_err());
        assert!(decode_cursor::<(String, i32)>(&encode_cursor(&"other")).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageParams::default().limit().unwrap(), 50);
        assert!(PageParams::new(Some(0), None).limit().is_err());
        assert!(PageParams::new(Some(201), None).limit().is_err());
        assert_eq!(PageParams::new(Some(200), None).fetch().unwrap(), 201);
    }

    #[test]
    fn an_extra_row_produces_a_cursor() {
        let params = PageParams::new(Some(2), None);
        let page = params.page(vec![1, 2, 3], |r| *r, |r| r * 10).unwrap();
        assert_eq!(page.items, [10, 20]);
        assert_eq!(
            decode_cursor::<i32>(page.next_cursor.as_deref().unwrap()).unwrap(),
            2
        );
        let last = params.page(vec![1, 2], |r| *r, |r| r).unwrap();
        assert_eq!(last.next_cursor, None);
    }
}
