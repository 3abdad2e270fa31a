//! **preflight**: checks, before ReplicateInstance, everything that would make it fail or leave
//! the replica unusable, and reports each check with a verdict and the fix. It reads Connect,
//! Lambda and KMS and never changes them; it takes no lock. The report is stored on the run.

pub mod probe;
pub mod scan;

use acgr::conflicts;
use acgr::connect::{Connect, IdentityType, InstanceInfo};
use acgr::domain::{pair_support, paired_region, InstanceAlias, Kind, PairSupport, Region};
use acgr::error::{ConnectError, ConnectErrorClass, StepError};
use acgr::records::RunKind;
use acgr::runs::check_run_id;
use acgr::step::{Begin, Hold, StepRun};
use acgr::store::RunStore;
use acgr::{now, parse_input, Context};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::probe::{Probe, ReplicaProbe, CONNECT_KEY_ALIAS};

pub const STEP: &str = "preflight";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    /// The Step Functions execution driving the run (`$$.Execution.Id`), recorded on the run.
    #[serde(default)]
    pub execution_arn: Option<String>,
    pub instance_id: String,
    pub replica_region: String,
    #[serde(default)]
    pub replica_alias: Option<String>,
    /// Generated (`preflight-<epoch seconds>`) when absent.
    #[serde(default)]
    pub run_id: Option<String>,
    /// When true (the default), a failed check makes the step fail with `PreflightFailed`.
    #[serde(default)]
    pub fail_on_error: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// One check's outcome. `id` is stable; several entries may share one (one per flow, say).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub id: String,
    pub verdict: Verdict,
    pub message: String,
    pub fix: String,
}

impl Check {
    fn new(id: &str, verdict: Verdict, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            id: id.to_string(),
            verdict,
            message: message.into(),
            fix: fix.into(),
        }
    }

    fn pass(id: &str, message: impl Into<String>) -> Self {
        Check::new(id, Verdict::Pass, message, "Nothing to do.")
    }

    fn warn(id: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Check::new(id, Verdict::Warn, message, fix)
    }

    fn fail(id: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Check::new(id, Verdict::Fail, message, fix)
    }

    /// A check that did not run because something it depends on is not known.
    fn not_checked(id: &str, why: &str) -> Self {
        Check::warn(
            id,
            format!("not checked: {why}"),
            "Fix the checks this one depends on, then run again.",
        )
    }
}

/// What the step returns and stores under `steps.preflight`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// No check failed.
    pub ok: bool,
    pub run_id: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn failed(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.verdict == Verdict::Fail)
    }

    fn count(&self, v: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == v).count()
    }
}

pub async fn handler<C: Connect, S: RunStore, P: ReplicaProbe>(
    ctx: &Context<C, S>,
    probe: &P,
    event: LambdaEvent<Value>,
) -> Result<Report, Diagnostic> {
    let input: Input = parse_input(event.payload)?;
    preflight(ctx, probe, input, now())
        .await
        .map_err(Diagnostic::from)
}

pub async fn preflight<C: Connect, S: RunStore, P: ReplicaProbe>(
    ctx: &Context<C, S>,
    probe: &P,
    input: Input,
    now: i64,
) -> Result<Report, StepError> {
    let run_id = match &input.run_id {
        Some(r) => {
            check_run_id(r)?;
            r.clone()
        }
        None => format!("preflight-{now}"),
    };
    let id = ctx.source_instance(&input.instance_id)?;
    let replica = Region::parse(&input.replica_region)?;
    let begin = Begin {
        instance_id: &id,
        run_id: &run_id,
        kind: RunKind::Replication,
        step: STEP,
        inputs: serde_json::json!({
            "instanceId": input.instance_id,
            "replicaRegion": input.replica_region,
            "replicaAlias": input.replica_alias,
            "failOnError": input.fail_on_error,
        }),
        execution_arn: input.execution_arn.as_deref(),
        // Read-only: it takes no lock.
        hold: Hold::Nothing,
        lease_seconds: ctx.lease_seconds,
    };
    let mut run = StepRun::begin(&ctx.store, begin, now).await?;
    let checks = match run_checks(ctx, probe, &id, &replica, &input, now).await {
        Ok(checks) => checks,
        Err(e) => return Err(run.fail(e).await),
    };
    let report = Report {
        ok: !checks.iter().any(|c| c.verdict == Verdict::Fail),
        run_id: run_id.clone(),
        checks,
    };
    run.note(&report).await?;
    info!(
        instance_id = %id,
        run_id = %run_id,
        passed = report.count(Verdict::Pass),
        warned = report.count(Verdict::Warn),
        failed = report.count(Verdict::Fail),
        "preflight done"
    );
    if !report.ok && input.fail_on_error.unwrap_or(true) {
        let failed: Vec<String> = report
            .failed()
            .map(|c| format!("{}: {}", c.id, c.message))
            .collect();
        let e = StepError::PreflightFailed(format!(
            "preflight failed ({} of {} checks): {}",
            failed.len(),
            report.checks.len(),
            failed.join("; ")
        ));
        return Err(run.fail(e).await);
    }
    Ok(report)
}

/// A Connect call failed: throttling and transient errors end the step (the state machine
/// retries it); anything else makes this one check a warn that says it could not run.
fn could_not_run(id: &str, e: ConnectError) -> Result<Check, StepError> {
    match e.class {
        ConnectErrorClass::Throttled | ConnectErrorClass::Transient => Err(e.into()),
        _ => Ok(Check::warn(
            id,
            format!("could not check: {e}"),
            format!(
                "Allow this function's role connect:{} in {}, then run again.",
                e.operation, e.region
            ),
        )),
    }
}

async fn run_checks<C: Connect, S: RunStore, P: ReplicaProbe>(
    ctx: &Context<C, S>,
    probe: &P,
    id: &str,
    replica: &Region,
    input: &Input,
    now: i64,
) -> Result<Vec<Check>, StepError> {
    let source = ctx.source.region();
    let mut checks = vec![
        pair_check(source, replica),
        if source == replica {
            Check::fail(
                "regions-differ",
                format!("the replica region is the source region ({source})"),
                "Choose a replica region other than the instance's region.",
            )
        } else {
            Check::pass(
                "regions-differ",
                format!("source {source}, replica {replica}"),
            )
        },
    ];
    let deployed = ctx.check_replica(replica).is_ok();
    checks.push(if deployed {
        Check::pass(
            "replica-region-deployed",
            format!("this deployment replicates {source} to {replica}"),
        )
    } else {
        Check::fail(
            "replica-region-deployed",
            format!(
                "this deployment replicates {source} to {}, not to {replica}",
                ctx.replica.region()
            ),
            format!(
                "Run the deployment made for {replica}, or deploy with REPLICA_REGION={replica}."
            ),
        )
    });
    checks.push(alias_check(input.replica_alias.as_deref()));

    // The instance: its state decides whether the checks that need it can run.
    let described = match ctx.source.describe_instance(id).await {
        Ok(info) => Ok(info),
        Err(e) => Err(could_not_run("instance-active", e)?),
    };
    let missing = matches!(described, Ok(None));
    match &described {
        Ok(Some(info)) => checks.extend(instance_checks(info, source, replica)),
        Ok(None) => {
            checks.push(Check::fail(
                "instance-active",
                format!("instance {id} does not exist in {source}"),
                format!("Check the instance ID, and that the instance's region is {source}."),
            ));
            for c in ["instance-alias", "identity-saml", "not-replicated"] {
                checks.push(Check::not_checked(c, "the instance was not found"));
            }
        }
        Err(warn) => {
            checks.push(warn.clone());
            for c in ["instance-alias", "identity-saml", "not-replicated"] {
                checks.push(Check::not_checked(c, "the instance could not be described"));
            }
        }
    }

    let not_found = |c: &str| Check::not_checked(c, "the instance was not found");
    let other_replica = |c: &str| {
        Check::not_checked(
            c,
            &format!("{replica} is not this deployment's replica region"),
        )
    };
    checks.push(if missing {
        not_found("name-conflicts")
    } else if !deployed {
        other_replica("name-conflicts")
    } else {
        conflict_check(ctx, id, now).await?
    });
    if missing {
        checks.push(not_found("flows-scanned"));
        checks.push(not_found("lambda-in-replica"));
        checks.push(not_found("lex-bots"));
    } else {
        checks.extend(flow_checks(&ctx.source, id).await?);
        checks.extend(if deployed {
            lambda_checks(&ctx.source, probe, id).await?
        } else {
            vec![other_replica("lambda-in-replica")]
        });
        checks.push(lex_check(&ctx.source, id, replica).await?);
    }
    checks.push(if deployed {
        key_check(probe).await
    } else {
        other_replica("connect-kms-key")
    });
    Ok(checks)
}

fn pair_check(source: &Region, replica: &Region) -> Check {
    let id = "pair-supported";
    match pair_support(source, replica) {
        PairSupport::Supported => Check::pass(
            id,
            format!("Global Resiliency replicates {source} to {replica}"),
        ),
        PairSupport::ReferenceOnly => Check::warn(
            id,
            format!(
                "{source} -> {replica} is in the API reference but the replica guide does not list it"
            ),
            "Confirm with AWS (your solutions architect or TAM) that the pair is enabled for your account before replicating.",
        ),
        PairSupport::Unsupported => {
            let supported = paired_region(source).map_or_else(
                || format!("{source} has no supported replica region"),
                |r| format!("the supported replica region for {source} is {r}"),
            );
            Check::fail(
                id,
                format!("Global Resiliency does not replicate {source} to {replica}; {supported}"),
                "Replicate between us-east-1 and us-west-2, or between eu-central-1 and eu-west-2.",
            )
        }
    }
}

fn alias_check(alias: Option<&str>) -> Check {
    let id = "replica-alias";
    match alias {
        None => Check::pass(id, "no replicaAlias given (optional)"),
        Some(a) if InstanceAlias::parse(a).is_ok() => Check::pass(id, format!("replicaAlias '{a}' is valid")),
        Some(a) => Check::fail(
            id,
            format!("replicaAlias '{a}' is not a valid instance alias"),
            "Use 1 to 45 letters, digits and hyphens, not starting with 'd-' and not starting or ending with a hyphen.",
        ),
    }
}

/// Exists and ACTIVE, has an alias, SAML, not replicated elsewhere: what ReplicateInstance refuses.
fn instance_checks(info: &InstanceInfo, source: &Region, replica: &Region) -> Vec<Check> {
    let mut checks = Vec::new();
    let status = info.status.as_ref().map_or("unknown", |s| s.as_str());
    checks.push(if info.is_active() {
        Check::pass("instance-active", format!("instance {} is ACTIVE", info.id))
    } else {
        Check::fail(
            "instance-active",
            format!("instance {} is {status}, not ACTIVE", info.id),
            "Wait until the instance is ACTIVE (recreate it if its creation failed), then run again.",
        )
    });
    checks.push(match info.alias.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Check::pass("instance-alias", format!("the instance alias is '{a}'")),
        None => Check::fail(
            "instance-alias",
            "the instance has no alias, and ReplicateInstance refuses instances without one",
            "Replicate an instance created with an alias (instances on an existing directory have none).",
        ),
    });
    let identity = info.identity.as_ref().map_or("unknown", |s| s.as_str());
    checks.push(if info.identity == Some(IdentityType::Saml) {
        Check::pass("identity-saml", "identity management is SAML")
    } else {
        Check::fail(
            "identity-saml",
            format!("identity management is {identity}, not SAML"),
            "Global Resiliency needs SAML 2.0 identity management, which is chosen when the instance is created: replicate a SAML instance.",
        )
    });
    checks.push(match &info.replication {
        None => Check::pass("not-replicated", "the instance has no replica"),
        Some(rep) => {
            let regions: Vec<String> = rep
                .statuses
                .iter()
                .map(|s| format!("{} {}", s.region, s.status))
                .collect();
            let from_here = rep.source_region.as_ref().is_none_or(|s| s == source);
            let to_there = rep.statuses.iter().any(|s| s.region == replica.as_str());
            if from_here && to_there {
                Check::warn(
                    "not-replicated",
                    format!(
                        "already replicated to {replica} ({}); the replicate step will adopt it",
                        regions.join(", ")
                    ),
                    "Nothing to do: the existing replica is adopted, ReplicateInstance is not called again.",
                )
            } else {
                Check::fail(
                    "not-replicated",
                    format!(
                        "already replicated, not from {source} to {replica} ({})",
                        regions.join(", ")
                    ),
                    "An instance has one replica: ask AWS Support to delete the existing one before replicating elsewhere.",
                )
            }
        }
    });
    checks
}

/// Same name, different ID, in an existing replica: ReplicateInstance would not mirror it.
/// Each conflict is also upserted into the run store.
async fn conflict_check<C: Connect, S: RunStore>(
    ctx: &Context<C, S>,
    id: &str,
    now: i64,
) -> Result<Check, StepError> {
    let check = "name-conflicts";
    let replica = ctx.replica.region();
    match ctx.replica.describe_instance(id).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Ok(Check::pass(
                check,
                format!("no replica in {replica} yet, so nothing to collide with"),
            ))
        }
        Err(e) => return could_not_run(check, e),
    }
    let mut seen = Vec::new();
    for kind in Kind::ALL {
        let listed = async {
            Ok::<_, ConnectError>((
                ctx.source.list_resources(id, kind).await?,
                ctx.replica.list_resources(id, kind).await?,
            ))
        };
        let (source, there) = match listed.await {
            Ok(both) => both,
            Err(e) => return could_not_run(check, e),
        };
        seen.extend(conflicts::diff(kind, &source, &there, replica.as_str()).conflicts);
    }
    conflicts::upsert(&ctx.store, id, &seen, now).await?;
    let found: Vec<String> = seen
        .iter()
        .map(|c| {
            format!(
                "{} '{}' is {} in {} but {} in {replica}",
                c.kind.key(),
                c.name,
                c.source_id.as_deref().unwrap_or("?"),
                ctx.source.region(),
                c.replica_id.as_deref().unwrap_or("?"),
            )
        })
        .collect();
    info!(instance_id = %id, conflicts = found.len(), "name conflicts with the replica");
    Ok(if found.is_empty() {
        Check::pass(
            check,
            format!("the replica in {replica} has no resource named like a source resource with another ID"),
        )
    } else {
        Check::fail(
            check,
            format!("{} name conflicts: {}", found.len(), found.join("; ")),
            format!("Delete or rename each resource in {replica} (it was created there outside replication), then run again."),
        )
    })
}

/// Flows and flow modules whose published content names a region: one warn each, and a summary.
async fn flow_checks<C: Connect>(connect: &C, id: &str) -> Result<Vec<Check>, StepError> {
    let fix = "Replace the hardcoded region with $.AwsRegion (or $['AwsRegion']), which Connect sets to the region the flow runs in; build regional ARNs from it, and keep integrations named the same in both regions.";
    let mut checks = Vec::new();
    let mut scanned = 0;
    let mut hits = 0;
    let mut unpublished = Vec::new();
    for kind in [Kind::ContactFlows, Kind::ContactFlowModules] {
        let what = if kind == Kind::ContactFlows {
            "flow"
        } else {
            "flow module"
        };
        let listed = match connect.list_resources(id, kind).await {
            Ok(l) => l,
            Err(e) => {
                checks.push(could_not_run("flows-scanned", e)?);
                continue;
            }
        };
        for r in listed {
            let Some(rid) = r.id.as_deref() else { continue };
            let content = if kind == Kind::ContactFlows {
                connect.flow_content(id, rid).await
            } else {
                connect.module_content(id, rid).await
            };
            let content = match content {
                Ok(Some(c)) => c,
                Ok(None) => {
                    unpublished.push(format!("{what} '{}'", r.name));
                    continue;
                }
                Err(e) => {
                    let mut c = could_not_run("hardcoded-region", e)?;
                    c.message = format!("{what} '{}': {}", r.name, c.message);
                    checks.push(c);
                    continue;
                }
            };
            scanned += 1;
            let found = scan::hardcoded_regions(&content);
            if !found.is_empty() {
                hits += 1;
                checks.push(Check::warn(
                    "hardcoded-region",
                    format!(
                        "{what} '{}' hardcodes a region: {}",
                        r.name,
                        found.join(", ")
                    ),
                    fix,
                ));
            }
        }
    }
    let mut summary = format!("scanned {scanned} flows and flow modules; {hits} hardcode a region");
    if !unpublished.is_empty() {
        summary.push_str(&format!(
            "; not published, so not scanned: {} (check them before publishing)",
            unpublished.join(", ")
        ));
    }
    if !checks.iter().any(|c| c.id == "flows-scanned") {
        checks.insert(0, Check::pass("flows-scanned", summary));
    }
    Ok(checks)
}

/// Every Lambda function of the instance must exist by the same name in the replica region.
async fn lambda_checks<C: Connect, P: ReplicaProbe>(
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
    let mut names: Vec<&str> = arns.iter().map(|a| scan::function_name(a)).collect();
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

async fn lex_check<C: Connect>(
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

async fn key_check<P: ReplicaProbe>(probe: &P) -> Check {
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

#[cfg(test)]
mod tests;
