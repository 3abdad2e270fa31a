//! Text rules: region names and regional ARNs hardcoded in flow content, Lambda function names
//! from ARNs, and the instance alias rule.

use std::collections::HashSet;

use acgr::domain::Arn;

/// The middle words of AWS region names. Matching on these rather than on any
/// `[a-z]{2}-[a-z]+-[0-9]` keeps names such as `vq-main-2` or `my-queue-1` out of the report.
const DIRECTIONS: &[&str] = &[
    "east",
    "west",
    "north",
    "south",
    "central",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
];

/// Region-qualified words of isolated partitions: `us-gov-west-1`, `us-iso-east-1`, ...
const QUALIFIERS: &[&str] = &["gov", "iso", "isob", "isof", "isoe"];

/// The longest region name: `cc-qualifier-direction-n`, 2 + 1 + 4 + 1 + 9 + 1 + 1.
const MAX_REGION_LEN: usize = 19;

/// ARNs found are reported up to this many bytes (real ones are shorter): a flow holding one
/// huge token costs a bounded report.
const MAX_ARN_LEN: usize = 256;

/// The hardcoded regions in `content`: every ARN that names a region, then every region name
/// that is not inside one of those ARNs, each once, in order of appearance.
///
/// One pass over the content for the ARNs and one for the region names, each looking a bounded
/// distance ahead (a region name is at most 19 bytes), so the cost is linear in the content's
/// length however many regions, ARNs or look-alikes it holds.
pub fn hardcoded_regions(content: &str) -> Vec<String> {
    let bytes = content.as_bytes();
    let mut found = Found::default();
    // The ARNs that name a region, in order of start. Occurrences nested in one token (an ARN
    // inside another) end where the token ends, so the ends never decrease.
    let mut arn_spans: Vec<(usize, usize)> = Vec::new();
    let mut token_end = 0;
    for (start, _) in content.match_indices("arn:") {
        if start > 0 && is_word(bytes[start - 1]) {
            continue;
        }
        // A token's end is searched once, by its first occurrence: linear in the content.
        if start >= token_end {
            token_end = content[start..]
                .find(is_delimiter)
                .map_or(content.len(), |n| start + n);
        }
        let arn = &content[start..token_end];
        if Arn::parse(arn).is_some_and(|a| is_region(a.region)) {
            arn_spans.push((start, token_end));
            found.push(cut(arn, MAX_ARN_LEN));
        }
    }
    let mut span = 0;
    let mut i = 0;
    while i < bytes.len() {
        while arn_spans.get(span).is_some_and(|(_, e)| *e <= i) {
            span += 1;
        }
        if let Some((s, e)) = arn_spans.get(span) {
            if *s <= i {
                i = *e;
                continue;
            }
        }
        let at_boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if at_boundary {
            if let Some(len) = region_at(&bytes[i..]) {
                found.push(&content[i..i + len]);
                i += len;
                continue;
            }
        }
        i += 1;
    }
    found.list.into_iter().map(str::to_string).collect()
}

/// Distinct strings in order of first appearance.
#[derive(Default)]
struct Found<'a> {
    list: Vec<&'a str>,
    seen: HashSet<&'a str>,
}

impl<'a> Found<'a> {
    fn push(&mut self, s: &'a str) {
        if self.seen.insert(s) {
            self.list.push(s);
        }
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || "\"'\\,;()[]{}<>".contains(c)
}

/// The first `max` bytes of `s` at most, cut at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

/// The length of a region name at the start of `b`, if one is there and ends at a word boundary:
/// the longest prefix made of whole '-' parts of the `[a-z0-9-]` run that is a region name.
/// Looks at most 20 bytes ahead.
fn region_at(b: &[u8]) -> Option<usize> {
    let mut best = None;
    for k in 1..=b.len().min(MAX_REGION_LEN) {
        if !is_token_byte(b[k - 1]) {
            break;
        }
        let part_ends = b.get(k).is_none_or(|c| !is_token_byte(*c) || *c == b'-');
        if part_ends && std::str::from_utf8(&b[..k]).is_ok_and(is_region) {
            best = Some(k);
        }
    }
    best
}

/// `us-east-1`, `eu-central-2`, `ap-southeast-3`, `us-gov-west-1`, ...
fn is_region(s: &str) -> bool {
    if s.len() > MAX_REGION_LEN {
        return false;
    }
    let parts: Vec<&str> = s.split('-').collect();
    let words = match parts.as_slice() {
        [cc, dir, n] => cc.len() == 2 && DIRECTIONS.contains(dir) && is_number(n),
        [cc, q, dir, n] => {
            cc.len() == 2 && QUALIFIERS.contains(q) && DIRECTIONS.contains(dir) && is_number(n)
        }
        _ => false,
    };
    words && parts[0].bytes().all(|b| b.is_ascii_lowercase())
}

fn is_number(s: &str) -> bool {
    s.len() == 1 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_regional_arns_and_bare_region_names_once() {
        let content = r#"{"Actions":[{"Parameters":{"LambdaFunctionARN":"arn:aws:lambda:us-east-1:123456789012:function:lookup"}},{"Parameters":{"ComparisonValue":"us-east-1"}},{"Parameters":{"Text":"from us-east-1 and eu-west-2."}}]}"#;
        assert_eq!(
            hardcoded_regions(content),
            vec![
                "arn:aws:lambda:us-east-1:123456789012:function:lookup".to_string(),
                "us-east-1".to_string(),
                "eu-west-2".to_string(),
            ]
        );
    }

    #[test]
    fn leaves_region_free_content_and_look_alikes_alone() {
        for clean in [
            r#"{"Text":"Served from $.AwsRegion and $['AwsRegion']"}"#,
            r#"{"QueueName":"vq-main-2","Other":"my-queue-1","Id":"4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10"}"#,
            r#"{"Arn":"arn:aws:s3:::bucket/us","Bad":"us-east-12","Az":"us-east-1a","Word":"abus-east-1"}"#,
        ] {
            assert!(hardcoded_regions(clean).is_empty(), "{clean}");
        }
        assert_eq!(
            hardcoded_regions("prefix-us-gov-west-1-suffix, ap-southeast-3"),
            vec!["us-gov-west-1".to_string(), "ap-southeast-3".to_string()]
        );
    }

    #[test]
    fn the_cost_is_linear_in_the_content_whatever_it_holds() {
        let started = std::time::Instant::now();
        // every '-' starts a long run of [a-z0-9-], and "arn:" over and over in one token
        assert!(hardcoded_regions(&"x-".repeat(500_000)).is_empty());
        assert!(hardcoded_regions(&"arn:".repeat(250_000)).is_empty());
        // 20,000 distinct regional ARNs, the same region name between each
        let many: String = (0..20_000)
            .map(|n| format!("arn:aws:lambda:us-east-1:1:function:f{n}, us-west-2 "))
            .collect();
        let found = hardcoded_regions(&many);
        assert_eq!(found.len(), 20_001);
        assert_eq!(found[19_999], "arn:aws:lambda:us-east-1:1:function:f19999");
        assert_eq!(found[20_000], "us-west-2");
        // ARNs nested in one huge token: each is reported, cut short
        let nested = "arn:aws:lambda:us-east-1:1:function:".repeat(30_000);
        let found = hardcoded_regions(&nested);
        assert!(!found.is_empty() && found.len() < 50, "{}", found.len());
        assert!(found
            .iter()
            .all(|f| f.len() <= MAX_ARN_LEN && f.starts_with("arn:aws:lambda:us-east-1:")));
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(10),
            "about 3.5 MB of content in {took:?}"
        );
    }

    #[test]
    fn a_region_name_ends_at_a_part_and_is_looked_for_a_bounded_distance_ahead() {
        assert_eq!(hardcoded_regions("us-east-1-suffix"), vec!["us-east-1"]);
        assert_eq!(
            hardcoded_regions("us-iso-northwest-1 us-isob-southeast-9"),
            vec!["us-iso-northwest-1", "us-isob-southeast-9"]
        );
        assert!(hardcoded_regions("us-east-1a us-east-1_b").len() == 1);
        assert_eq!(
            hardcoded_regions("arn:aws:s3:::bucket/us-east-1"),
            vec!["us-east-1"],
            "an ARN without a region does not hide the region name in it"
        );
        assert_eq!(
            hardcoded_regions("arn:aws:lambda:eu-west-2:1:function:f:eu-west-2"),
            vec!["arn:aws:lambda:eu-west-2:1:function:f:eu-west-2"],
            "a region name inside a regional ARN is that ARN"
        );
        assert_eq!(cut("é", 1), "");
        assert_eq!(cut("abc", 2), "ab");
    }
}
