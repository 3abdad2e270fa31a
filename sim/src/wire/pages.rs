//! Pagination: page sizes, opaque tokens that are stable under deletions, and cutting pages.

use crate::error::SimError;

pub(super) fn parse_page_size(v: &str, max: usize) -> Result<usize, SimError> {
    match v.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(SimError::BadRequest(format!(
            "maxResults must be an integer from 1 to {max} (got '{v}')"
        ))),
    }
}

/// A page request: how many items, and the position key of the last item already returned.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub size: usize,
    pub after: Option<u64>,
}

const TOKEN_PREFIX: &str = "sim1.";

pub fn encode_token(position: u64) -> String {
    format!("{TOKEN_PREFIX}{:x}", position ^ 0x5eed_5eed)
}

pub fn decode_token(token: &str) -> Option<u64> {
    let hex = token.strip_prefix(TOKEN_PREFIX)?;
    u64::from_str_radix(hex, 16).ok().map(|v| v ^ 0x5eed_5eed)
}

/// Cuts one page from items already ordered by a position key.
pub fn paginate<'a, T: 'a>(
    items: impl IntoIterator<Item = (u64, T)>,
    page: PageRequest,
) -> (Vec<T>, Option<String>) {
    let mut out = Vec::with_capacity(page.size.min(1024));
    let mut last = None;
    let mut more = false;
    for (pos, item) in items {
        if page.after.is_some_and(|a| pos <= a) {
            continue;
        }
        if out.len() == page.size {
            more = true;
            break;
        }
        last = Some(pos);
        out.push(item);
    }
    let token = if more { last.map(encode_token) } else { None };
    (out, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("garbage"), None);
    }

    #[test]
    fn pages_cut_after_the_last_position() {
        let items = (1..=5u64).map(|i| (i, i));
        let (first, token) = paginate(
            items.clone(),
            PageRequest {
                size: 2,
                after: None,
            },
        );
        assert_eq!(first, vec![1, 2]);
        let after = decode_token(&token.unwrap());
        let (second, _) = paginate(items.clone(), PageRequest { size: 2, after });
        assert_eq!(second, vec![3, 4]);
        let (exact, token) = paginate(
            items,
            PageRequest {
                size: 5,
                after: None,
            },
        );
        assert_eq!(exact.len(), 5);
        assert!(
            token.is_none(),
            "no token when the last page is exactly full"
        );
    }
}
