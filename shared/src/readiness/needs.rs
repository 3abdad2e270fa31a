//! What an instance's flows need in a region: the Lambda functions and Lex V2 aliases their
//! contents invoke, by function name and by `BOTID/ALIASID` (the same in both regions; the ARN's
//! region is what differs).

use serde::{Deserialize, Serialize};

use crate::connect::Connect;
use crate::domain::{lambda_function_name, lex_alias_id, Kind};
use crate::error::ConnectError;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Needs {
    /// Function names.
    pub lambda_functions: Vec<String>,
    /// `BOTID/ALIASID`.
    pub lex_aliases: Vec<String>,
}

impl Needs {
    /// What the instance's published flows and its modules invoke, read in `client`'s region:
    /// one listing of each kind, then one DescribeContactFlow or DescribeContactFlowModule each
    /// (paced at their quota by the client).
    pub async fn of_instance<C: Connect>(
        client: &C,
        instance_id: &str,
    ) -> Result<Needs, ConnectError> {
        let mut contents = Vec::new();
        for flow in client
            .list_resources(instance_id, Kind::ContactFlows)
            .await?
        {
            if let Some(id) = &flow.id {
                contents.extend(client.flow_content(instance_id, id).await?);
            }
        }
        for module in client
            .list_resources(instance_id, Kind::ContactFlowModules)
            .await?
        {
            if let Some(id) = &module.id {
                contents.extend(client.module_content(instance_id, id).await?);
            }
        }
        Ok(Needs::from_contents(contents.iter().map(String::as_str)))
    }

    /// What the flow and module contents invoke, each once, in order.
    pub fn from_contents<'a>(contents: impl IntoIterator<Item = &'a str>) -> Needs {
        let mut needs = Needs::default();
        for content in contents {
            for arn in arns(content) {
                if arn.contains(":lambda:") {
                    let name = lambda_function_name(&arn).to_string();
                    if name != arn && !needs.lambda_functions.contains(&name) {
                        needs.lambda_functions.push(name);
                    }
                } else if let Some(alias) = lex_alias_id(&arn) {
                    if !needs.lex_aliases.contains(&alias) {
                        needs.lex_aliases.push(alias);
                    }
                }
            }
        }
        needs
    }
}

/// The ARNs of Lambda functions and Lex aliases in a text, in order.
fn arns(content: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = content;
    while let Some(at) = rest.find("arn:aws") {
        let arn: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || ":-_./$".contains(*c))
            .collect();
        rest = &rest[at + arn.len().max(1)..];
        if arn.contains(":lambda:") || arn.contains(":lex:") {
            out.push(arn);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_are_read_from_flow_contents() {
        let flow = r#"{"Actions":[{"Parameters":{"LambdaFunctionARN":"arn:aws:lambda:us-east-1:123456789012:function:lookup:PROD"}},
            {"Parameters":{"LexV2Bot":{"AliasArn":"arn:aws:lex:us-east-1:123456789012:bot-alias/BOT1/ALIAS1"}}},
            {"x":"arn:aws:lambda:us-east-1:123456789012:function:lookup"},
            {"y":"arn:aws:connect:us-east-1:123456789012:instance/i"}]}"#;
        let module = r#"{"z":"arn:aws:lambda:us-west-2:123456789012:function:callback"}"#;
        let n = Needs::from_contents([flow, module]);
        assert_eq!(n.lambda_functions, ["lookup", "callback"]);
        assert_eq!(n.lex_aliases, ["BOT1/ALIAS1"]);
        assert_eq!(lex_alias_id("arn:aws:lex:us-east-1:1:bot/BOT1"), None);
    }
}
