//! The identifier shapes of the model: regions, aliases, UUIDs, ARNs.

/// Matches the `AwsRegion` shape: 8..31 characters, `[a-z]{2}(-[a-z]+){1,2}(-[0-9])?`.
pub fn is_region(s: &str) -> bool {
    if !(8..=31).contains(&s.len()) {
        return false;
    }
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() < 2 || parts[0].len() != 2 || !parts[0].bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    let mut rest = &parts[1..];
    if let Some(last) = rest.last() {
        if last.len() == 1 && last.bytes().all(|b| b.is_ascii_digit()) {
            rest = &rest[..rest.len() - 1];
        }
    }
    (1..=2).contains(&rest.len())
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Matches the `DirectoryAlias` shape: `^(?!d-)([\da-zA-Z]+)([-]*[\da-zA-Z])*$`, 1..45.
pub fn is_alias(s: &str) -> bool {
    (1..=45).contains(&s.len())
        && !s.starts_with("d-")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// A lowercase UUID, as the TDG identifier shapes require.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// Parses `arn:PARTITION:connect:REGION:ACCOUNT:RESOURCE/ID` into (region, account, resource, id).
pub fn split_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    if partition.is_empty() || parts.next()? != "connect" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let (resource, id) = parts.next()?.split_once('/')?;
    (!region.is_empty() && !account.is_empty() && !id.is_empty())
        .then_some((region, account, resource, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_follow_the_aws_region_shape() {
        for ok in [
            "us-east-1",
            "eu-central-1",
            "ap-northeast-3",
            "us-gov-west-1",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "us-east",
            "US-EAST-1",
            "useast1",
            "u-east-1",
            "us-east-1-",
            "x",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn aliases_follow_the_directory_alias_shape() {
        assert!(is_alias("acme-contact"));
        assert!(!is_alias("d-acme"));
        assert!(!is_alias("-acme"));
        assert!(!is_alias("acme_contact"));
        assert!(!is_alias(&"a".repeat(46)));
    }

    #[test]
    fn arns_split_into_parts() {
        let arn = "arn:aws:connect:us-east-1:123456789012:instance/abc";
        assert_eq!(
            split_arn(arn),
            Some(("us-east-1", "123456789012", "instance", "abc"))
        );
        assert_eq!(split_arn("arn:aws:s3:::bucket"), None);
    }
}
