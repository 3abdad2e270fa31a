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

/// The function name in a Lambda ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`),
/// or the string itself when it is already a name.
pub fn lambda_function_name(arn_or_name: &str) -> &str {
    Arn::parse(arn_or_name)
        .filter(|a| a.service == "lambda")
        .and_then(|a| a.resource.strip_prefix("function:"))
        .map_or(arn_or_name, |f| f.split(':').next().unwrap_or(f))
}

/// `BOTID/ALIASID` of a Lex V2 alias ARN (`arn:aws:lex:REGION:ACCOUNT:bot-alias/BOTID/ALIASID`):
/// the same in both regions of a pair, whose ARNs differ by their region.
pub fn lex_alias_id(arn: &str) -> Option<String> {
    let resource = Arn::parse(arn).filter(|a| a.service == "lex")?.resource;
    let mut parts = resource.strip_prefix("bot-alias/")?.split('/');
    let (bot, alias) = (parts.next()?, parts.next()?);
    (!bot.is_empty() && !alias.is_empty()).then(|| format!("{bot}/{alias}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_come_from_arns() {
        assert_eq!(
            lambda_function_name("arn:aws:lambda:us-east-1:123456789012:function:acme-callback"),
            "acme-callback"
        );
        assert_eq!(
            lambda_function_name("arn:aws:lambda:us-east-1:123456789012:function:f:prod"),
            "f"
        );
        assert_eq!(lambda_function_name("plain-name"), "plain-name");
    }

    #[test]
    fn lex_alias_ids_are_the_same_in_both_regions() {
        let east = lex_alias_id("arn:aws:lex:us-east-1:1:bot-alias/BOT1/ALIAS1");
        assert_eq!(east.as_deref(), Some("BOT1/ALIAS1"));
        assert_eq!(
            east,
            lex_alias_id("arn:aws:lex:us-west-2:1:bot-alias/BOT1/ALIAS1")
        );
        assert_eq!(lex_alias_id("arn:aws:lex:us-east-1:1:bot/BOT1"), None);
        assert_eq!(
            lex_alias_id("arn:aws:lambda:us-east-1:1:bot-alias/B/A"),
            None
        );
    }

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
