//! Instance aliases.

use crate::error::StepError;

/// An instance alias: 1 to 45 letters, digits and hyphens, not starting with `d-` (directory
/// IDs), not starting or ending with a hyphen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceAlias(String);

impl InstanceAlias {
    pub fn parse(alias: &str) -> Result<InstanceAlias, StepError> {
        let ok = (1..=45).contains(&alias.len())
            && !alias.starts_with("d-")
            && alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !alias.starts_with('-')
            && !alias.ends_with('-');
        if ok {
            Ok(InstanceAlias(alias.to_string()))
        } else {
            Err(StepError::InvalidInput(format!(
                "'{}' is not a valid instance alias: 1 to 45 letters, digits and hyphens, \
                 not starting with 'd-', not starting or ending with a hyphen",
                crate::error::shown(alias)
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_follow_the_rule() {
        assert_eq!(
            InstanceAlias::parse("acme-contact").unwrap().as_str(),
            "acme-contact"
        );
        for bad in ["", "d-abc", "-acme", "acme-", "has space", &"a".repeat(46)] {
            assert!(InstanceAlias::parse(bad).is_err(), "{bad}");
        }
    }
}
