//! What the replica region must hold: the Lambda functions, Lex bots, the Connect KMS key.

use super::*;

/// Every Lambda function of the instance must exist by the same name in the replica region.
pub(crate) async fn lambda_checks<C: Connect, P: ReplicaProbe>(
    connect: &C,
    probe: &P,
    id: &str,
) -> Result<Vec<Check>, StepError> {
    let check = "lambda-in-replica";
    let replica = probe.region();
    let arns = match connect.list_lambda_functions(id).await {
        Ok(a) => a,
        Err(e) => return Ok(vec![could_not_run(check, e)?]),
    };
    let mut names: Vec<&str> = arns
        .iter()
        .map(|a| acgr::domain::lambda_function_name(a))
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return Ok(vec![Check::pass(
            check,
            "no Lambda functions are associated with the instance",
        )]);
    }
    let mut checks = Vec::new();
    for name in names {
        checks.push(match probe.lambda_function(name).await {
            Probe::Found => Check::pass(check, format!("Lambda function {name} exists in {replica}")),
            Probe::NotFound => Check::fail(
                check,
                format!("Lambda function {name} does not exist in {replica}"),
                format!("Deploy {name} in {replica} under the same name: ReplicateInstance does not copy Lambda functions."),
            ),
            Probe::Unknown(why) => Check::warn(
                check,
                format!("could not check Lambda function {name} in {replica}: {why}"),
                format!("Allow this function's role lambda:GetFunction in {replica}, or check by hand that {name} exists there."),
            ),
        });
    }
    Ok(checks)
}

pub(crate) async fn lex_check<C: Connect>(
    connect: &C,
    id: &str,
    replica: &Region,
) -> Result<Check, StepError> {
    let check = "lex-bots";
    let bots = match connect.list_lex_bots(id).await {
        Ok(b) => b,
        Err(e) => return could_not_run(check, e),
    };
    if bots.is_empty() {
        return Ok(Check::pass(
            check,
            "no Lex bots are associated with the instance",
        ));
    }
    let names: Vec<String> = bots
        .iter()
        .map(|b| match &b.region {
            Some(r) if !b.name.starts_with("arn:") => format!("{} ({r})", b.name),
            _ => b.name.clone(),
        })
        .collect();
    Ok(Check::warn(
        check,
        format!(
            "the instance uses Lex bots that ReplicateInstance does not copy: {}",
            names.join(", ")
        ),
        format!("Either use Amazon Lex Global Resiliency to replicate the bots to {replica} (the bot IDs stay the same), or branch your flows on $.AwsRegion to reach a bot in each region."),
    ))
}

pub(crate) async fn key_check<P: ReplicaProbe>(probe: &P) -> Check {
    let check = "connect-kms-key";
    let replica = probe.region();
    match probe.connect_key().await {
        Probe::Found => Check::pass(check, format!("{CONNECT_KEY_ALIAS} exists in {replica}")),
        Probe::NotFound => Check::fail(
            check,
            format!("the AWS managed key {CONNECT_KEY_ALIAS} does not exist in {replica}, so the replica cannot use it"),
            format!("In the console, create a temporary Amazon Connect instance in {replica} once: AWS then creates the managed key for Connect. Delete that instance, then run again."),
        ),
        Probe::Unknown(why) => Check::warn(
            check,
            format!("could not check {CONNECT_KEY_ALIAS} in {replica}: {why}"),
            format!("Allow this function's role kms:DescribeKey in {replica}, or check in the KMS console that {CONNECT_KEY_ALIAS} exists there."),
        ),
    }
}
