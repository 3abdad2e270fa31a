//! The control API's handlers that stage failures and change settings at run time.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::Router;

use super::paths::*;
use super::routes::{Answer, Body, Reply, Usage};
use super::{
    AccessPolicies, AccessPolicy, Disassociate, Disassociated, Done, FindingStaged,
    FindingsCleared, GroupFailure, GroupStaged, LambdaFunctions, LexAliases, ReplicaFailure,
    ReplicaStaged, S3Outages, SetLambdaFunctions, SetLexAliases, SetS3Outage, SettingsChange,
    SimSettings, StagedFinding, SyncFailure, SyncStaged,
};
use crate::error::SimError;
use crate::model::{lambda_name, lex_alias_parts};
use crate::sim::{lock, Shared};

/// The staging routes, merged into the control API's router.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(REPLICA, put(stage_replica))
        .route(SETTINGS, get(settings).put(change_settings))
        .route(GROUP_FAILURES, post(stage_group))
        .route(GROUP_DISASSOCIATE, post(disassociate))
        .route(SYNC_FAILURES, post(stage_sync))
        .route(LAMBDA_FUNCTIONS, get(lambda_functions))
        .route(LAMBDA_REGION, put(set_lambda_functions))
        .route(LEX_ALIASES, get(lex_aliases))
        .route(LEX_REGION, put(set_lex_aliases))
        .route(S3_OUTAGE, get(s3_outages))
        .route(S3_REGION, put(set_s3_outage))
        .route(ACCESS, get(access_policies))
        .route(
            ACCESS_KEY,
            put(set_access_policy).delete(remove_access_policy),
        )
        .route(FINDINGS, post(stage_finding).delete(clear_findings))
}

fn label(path: Result<Path<String>, PathRejection>) -> String {
    path.map(|Path(p)| p).unwrap_or_default()
}

impl Usage for ReplicaFailure {
    const USAGE: &'static str =
        "give {\"failure\": \"creationFailed\" | \"replicationFailed\" | \"deletion\", ...}";
}

impl Usage for SettingsChange {
    const USAGE: &'static str =
        "give the settings to change, e.g. {\"tdgUpdateSeconds\": 30} (see GET /_sim/settings)";
}

impl Usage for GroupFailure {
    const USAGE: &'static str = "give {\"group\": name, ID or ARN, \"failure\": \"creationFailed\" | \"deletionFailed\" | \"updateInProgress\", \"seconds\"?, \"instanceId\"?}";
}

impl Usage for SyncFailure {
    const USAGE: &'static str =
        "give {\"instanceId\", \"kind\": e.g. \"users\", \"name\", \"region\"?}";
}

impl Usage for SetLambdaFunctions {
    const USAGE: &'static str =
        "give {\"functions\": [names or ARNs]} or {\"functions\": null} (every function)";
}

async fn stage_sync(
    State(sim): State<Shared>,
    body: Result<Body<SyncFailure>, SimError>,
) -> Answer<SyncStaged> {
    let Body(failure) = body?;
    let mut sim = lock(&sim);
    let now = sim.catch_up();
    let staged = sim.world.stage_sync_failure(failure, now)?;
    Ok(Reply(staged))
}

impl Usage for StagedFinding {
    const USAGE: &'static str = "give {\"instanceId\", \"resourceType\", \"name\", \"id\"?, \"region\"?, \"operation\"?, \"referenceCode\"?, \"message\"?, \"blocking\"?}";
}

async fn stage_finding(
    State(sim): State<Shared>,
    body: Result<Body<StagedFinding>, SimError>,
) -> Answer<FindingStaged> {
    let Body(finding) = body?;
    let mut sim = lock(&sim);
    sim.catch_up();
    let staged = sim.world.stage_finding(finding)?;
    Ok(Reply(staged))
}

async fn clear_findings(State(sim): State<Shared>) -> Reply<FindingsCleared> {
    Reply(FindingsCleared {
        cleared: lock(&sim).world.clear_findings(),
    })
}

async fn lambda_functions(State(sim): State<Shared>) -> Reply<LambdaFunctions> {
    Reply(LambdaFunctions {
        regions: lock(&sim).world.lambda_functions.clone(),
    })
}

async fn set_lambda_functions(
    State(sim): State<Shared>,
    region: Result<Path<String>, PathRejection>,
    body: Result<Body<SetLambdaFunctions>, SimError>,
) -> Answer<LambdaFunctions> {
    let region = label(region);
    if !crate::wire::is_region(&region) {
        return Err(SimError::BadRequest(format!("'{region}' is not a region")));
    }
    let Body(set) = body?;
    let mut sim = lock(&sim);
    sim.catch_up();
    match set.functions {
        Some(functions) => {
            let names = functions.iter().map(|f| lambda_name(f)).collect();
            sim.world.lambda_functions.insert(region, names);
        }
        None => {
            sim.world.lambda_functions.remove(&region);
        }
    }
    Ok(Reply(LambdaFunctions {
        regions: sim.world.lambda_functions.clone(),
    }))
}

impl Usage for SetLexAliases {
    const USAGE: &'static str =
        "give {\"aliases\": [Lex V2 alias ARNs]} or {\"aliases\": null} (every alias)";
}

async fn lex_aliases(State(sim): State<Shared>) -> Reply<LexAliases> {
    Reply(LexAliases {
        regions: lock(&sim).world.lex_aliases.clone(),
    })
}

async fn set_lex_aliases(
    State(sim): State<Shared>,
    region: Result<Path<String>, PathRejection>,
    body: Result<Body<SetLexAliases>, SimError>,
) -> Answer<LexAliases> {
    let region = label(region);
    if !crate::wire::is_region(&region) {
        return Err(SimError::BadRequest(format!("'{region}' is not a region")));
    }
    let Body(set) = body?;
    if let Some(bad) = set
        .aliases
        .iter()
        .flatten()
        .find(|a| lex_alias_parts(a).is_none())
    {
        return Err(SimError::BadRequest(format!(
            "'{bad}' is not a Lex V2 alias ARN (arn:aws:lex:REGION:ACCOUNT:bot-alias/BOT/ALIAS)"
        )));
    }
    let mut sim = lock(&sim);
    sim.catch_up();
    match set.aliases {
        Some(aliases) => {
            sim.world.lex_aliases.insert(region, aliases);
        }
        None => {
            sim.world.lex_aliases.remove(&region);
        }
    }
    Ok(Reply(LexAliases {
        regions: sim.world.lex_aliases.clone(),
    }))
}

impl Usage for SetS3Outage {
    const USAGE: &'static str = "give {\"unreachable\": true | false}";
}

async fn s3_outages(State(sim): State<Shared>) -> Reply<S3Outages> {
    Reply(S3Outages {
        regions: lock(&sim).world.s3_outages.iter().cloned().collect(),
    })
}

async fn set_s3_outage(
    State(sim): State<Shared>,
    region: Result<Path<String>, PathRejection>,
    body: Result<Body<SetS3Outage>, SimError>,
) -> Answer<S3Outages> {
    let region = label(region);
    if !crate::wire::is_region(&region) {
        return Err(SimError::BadRequest(format!("'{region}' is not a region")));
    }
    let Body(set) = body?;
    let mut sim = lock(&sim);
    sim.catch_up();
    if set.unreachable {
        sim.world.s3_outages.insert(region);
    } else {
        sim.world.s3_outages.remove(&region);
    }
    Ok(Reply(S3Outages {
        regions: sim.world.s3_outages.iter().cloned().collect(),
    }))
}

impl Usage for AccessPolicy {
    const USAGE: &'static str = "give {\"statements\": [{\"actions\": [\"connect:Describe*\"], \"resources\": [\"arn:aws:connect:...\"]}], \"principal\"?}";
}

async fn access_policies(State(sim): State<Shared>) -> Reply<AccessPolicies> {
    Reply(AccessPolicies {
        policies: lock(&sim).world.access_policies.clone(),
    })
}

async fn set_access_policy(
    State(sim): State<Shared>,
    key: Result<Path<String>, PathRejection>,
    body: Result<Body<AccessPolicy>, SimError>,
) -> Answer<AccessPolicy> {
    let key = label(key);
    let Body(policy) = body?;
    policy.validate()?;
    lock(&sim).world.access_policies.insert(key, policy.clone());
    Ok(Reply(policy))
}

async fn remove_access_policy(
    State(sim): State<Shared>,
    key: Result<Path<String>, PathRejection>,
) -> Reply<Done> {
    lock(&sim).world.access_policies.remove(&label(key));
    Reply(Done {})
}

impl Usage for Disassociate {
    const USAGE: &'static str =
        "give {\"group\": name, ID or ARN, \"users\": [IDs or usernames], \"instanceId\"?}";
}

async fn disassociate(
    State(sim): State<Shared>,
    body: Result<Body<Disassociate>, SimError>,
) -> Answer<Disassociated> {
    let Body(d) = body?;
    let mut sim = lock(&sim);
    sim.catch_up();
    let users = sim
        .world
        .disassociate_outside(&d.group, d.instance_id.as_deref(), &d.users)?;
    Ok(Reply(Disassociated { users }))
}

async fn settings(State(sim): State<Shared>) -> Reply<SimSettings> {
    Reply(lock(&sim).world.settings.view())
}

async fn change_settings(
    State(sim): State<Shared>,
    body: Result<Body<SettingsChange>, SimError>,
) -> Answer<SimSettings> {
    let Body(change) = body?;
    let mut sim = lock(&sim);
    sim.catch_up();
    let view = sim.world.settings.change(&change)?;
    Ok(Reply(view))
}

async fn stage_group(
    State(sim): State<Shared>,
    body: Result<Body<GroupFailure>, SimError>,
) -> Answer<GroupStaged> {
    let Body(failure) = body?;
    let mut sim = lock(&sim);
    let now = sim.catch_up();
    let staged = sim.world.stage_group_failure(failure, now)?;
    Ok(Reply(staged))
}

async fn stage_replica(
    State(sim): State<Shared>,
    instance: Result<Path<String>, PathRejection>,
    body: Result<Body<ReplicaFailure>, SimError>,
) -> Answer<ReplicaStaged> {
    let instance = label(instance);
    let Body(failure) = body?;
    let mut sim = lock(&sim);
    let now = sim.catch_up();
    let staged = sim.world.stage_replica_failure(&instance, failure, now)?;
    Ok(Reply(staged))
}
