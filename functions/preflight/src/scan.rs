//! Text rules: region names and regional ARNs hardcoded in flow content, Lambda function names
//! from ARNs, and the instance alias rule.

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

/// The hardcoded regions in `content`: every ARN that names a region, then every region name
/// that is not inside one of those ARNs, each once, in order of appearance.
pub fn hardcoded_regions(content: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut arn_spans: Vec<(usize, usize)> = Vec::new();
    for (start, _) in content.match_indices("arn:") {
        if start > 0 && is_word(content.as_bytes()[start - 1]) {
            continue;
        }
        let end = content[start..]
            .find(|c: char| c.is_whitespace() || "\"'\\,;()[]{}<>".contains(c))
            .map_or(content.len(), |n| start + n);
        let arn = &content[start..end];
        if arn.split(':').nth(3).is_some_and(is_region) {
            arn_spans.push((start, end));
            push_once(&mut found, arn);
        }
    }
    let bytes = content.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let inside_arn = arn_spans.iter().any(|(s, e)| (*s..*e).contains(&i));
        if at_boundary && !inside_arn {
            if let Some(len) = region_at(&bytes[i..]) {
                push_once(&mut found, &content[i..i + len]);
                i += len;
                continue;
            }
        }
        i += 1;
    }
    found
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn push_once(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// The length of a region name at the start of `b`, if one is there and ends at a word boundary.
fn region_at(b: &[u8]) -> Option<usize> {
    let end = b
        .iter()
        .position(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-'))
        .unwrap_or(b.len());
    let token = std::str::from_utf8(&b[..end]).ok()?;
    // The longest prefix made of whole '-' parts that is a region name.
    let mut len = 0;
    for (n, _) in token.match_indices('-').chain([(token.len(), "")]) {
        if is_region(&token[..n]) {
            len = n;
        }
    }
    (len > 0).then_some(len)
}

/// `us-east-1`, `eu-central-2`, `ap-southeast-3`, `us-gov-west-1`, ...
fn is_region(s: &str) -> bool {
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

/// The function name in a Lambda ARN (`arn:aws:lambda:r:a:function:NAME[:qualifier]`), or the
/// string itself when it is already a name.
pub fn function_name(arn_or_name: &str) -> &str {
    match arn_or_name.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => arn_or_name,
    }
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
    fn function_names_come_from_arns() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:acme-callback"),
            "acme-callback"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:f:prod"),
            "f"
        );
        assert_eq!(function_name("plain-name"), "plain-name");
    }
}
