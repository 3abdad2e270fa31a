//! Amazon Resource Names, read once for every caller: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`,
//! the resource being `TYPE/ID`, `TYPE:ID` or more (`execution:MACHINE:NAME`).

/// The parts of an ARN, borrowed from it. Account and resource may be empty (an ARN cut short in a
/// flow's text still names its region).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// The parts of `s`, or `None` when it does not start `arn:PARTITION:SERVICE:REGION`.
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut parts = s.strip_prefix("arn:")?.splitn(5, ':');
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        Some(Arn {
            partition,
            service,
            region,
            account: parts.next().unwrap_or(""),
            resource: parts.next().unwrap_or(""),
        })
    }

    /// The last segment of the resource (after its last `/` or `:`): a group's or an instance's
    /// ID, an execution's name.
    pub fn resource_id(&self) -> &'a str {
        self.resource
            .rsplit(['/', ':'])
            .next()
            .unwrap_or(self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_of_an_arn() {
        let g = Arn::parse("arn:aws:connect:us-east-1:123:traffic-distribution-group/g-1").unwrap();
        assert_eq!(
            (g.partition, g.service, g.region, g.account),
            ("aws", "connect", "us-east-1", "123")
        );
        assert_eq!(g.resource, "traffic-distribution-group/g-1");
        assert_eq!(g.resource_id(), "g-1");
        let e = Arn::parse("arn:aws:states:us-west-2:1:execution:failover:INC-1").unwrap();
        assert_eq!(e.resource, "execution:failover:INC-1");
        assert_eq!(e.resource_id(), "INC-1");
        let short = Arn::parse("arn:aws:lambda:eu-west-1").unwrap();
        assert_eq!(
            (short.region, short.account, short.resource),
            ("eu-west-1", "", "")
        );
        assert_eq!(Arn::parse("arn:aws:s3:::bucket").unwrap().region, "");
        assert_eq!(Arn::parse("not-an-arn"), None);
        assert_eq!(Arn::parse("arn:aws"), None);
    }
}
