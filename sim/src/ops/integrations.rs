//! Integrations of an instance in one region (not mirrored): Lambda functions, Lex bots,
//! approved origins, integration associations, and the flow associations of phone numbers.

use super::*;
use crate::model::{lambda_name, lex_alias_parts};

/// The instance a call names, for a change: it must be ACTIVE.
fn active_key(w: &World, c: &Call) -> ApiResult<(String, String)> {
    let inst = instance(w, c, c.label(0))?;
    resources::require_active(inst)?;
    Ok((inst.region.clone(), inst.id.clone()))
}

fn inst_mut<'w>(w: &'w mut World, key: &(String, String)) -> ApiResult<&'w mut Instance> {
    w.instance_mut(&key.0, &key.1)
        .ok_or_else(|| ApiError::not_found(format!("instance {} does not exist", key.1)))
}

/// `(region, name)` of a Lambda function ARN, else a bad parameter.
fn lambda_arn<'a>(c: &Call, arn: &'a str) -> ApiResult<(&'a str, String)> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", region, _, "function", name, ..] if !name.is_empty() => {
            Ok((region, lambda_name(arn)))
        }
        _ => Err(c.bad(format!("'{arn}' is not a Lambda function ARN"))),
    }
}

pub(super) fn associate_lambda_function(w: &mut World, c: &Call) -> ApiResult {
    let arn = c.input.str_req("FunctionArn", 1, 140)?;
    c.input.str_opt("ClientToken", 0, 500)?;
    let (region, name) = lambda_arn(c, &arn)?;
    let key = active_key(w, c)?;
    if region != c.region {
        return Err(ApiError::invalid_request(format!(
            "Lambda function {arn} is in {region}; an instance in {} can only be associated with functions of its own region",
            c.region
        )));
    }
    if w.lambda_functions
        .get(c.region)
        .is_some_and(|d| !d.contains(&name))
    {
        return Err(ApiError::not_found(format!(
            "Lambda function {name} does not exist in {}",
            c.region
        )));
    }
    let inst = inst_mut(w, &key)?;
    if inst.lambda_functions.contains(&arn) {
        return Err(ApiError::conflict(format!(
            "Lambda function {arn} is already associated with instance {}",
            inst.id
        )));
    }
    inst.lambda_functions.push(arn);
    Ok(json!({}))
}

pub(super) fn disassociate_lambda_function(w: &mut World, c: &Call) -> ApiResult {
    let arn = c.input.query_required("functionArn", 1, 140)?;
    let key = active_key(w, c)?;
    let inst = inst_mut(w, &key)?;
    let before = inst.lambda_functions.len();
    inst.lambda_functions.retain(|a| *a != arn);
    if inst.lambda_functions.len() == before {
        return Err(ApiError::not_found(format!(
            "Lambda function {arn} is not associated with instance {}",
            inst.id
        )));
    }
    Ok(json!({}))
}

enum Bot {
    V1(String, String),
    V2(String),
}

fn bot(c: &Call) -> ApiResult<Bot> {
    c.input.str_opt("ClientToken", 0, 500)?;
    let v1 = c.input.object_opt("LexBot")?;
    let v2 = c.input.object_opt("LexV2Bot")?;
    let s = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    match (v1, v2) {
        (Some(b), None) => {
            let (Some(name), Some(region)) = (s(b, "Name"), s(b, "LexRegion")) else {
                return Err(c.bad("LexBot needs Name and LexRegion"));
            };
            if name.chars().count() > 50 || region.chars().count() > 60 {
                return Err(c.bad("LexBot.Name is at most 50 characters, LexRegion at most 60"));
            }
            Ok(Bot::V1(name, region))
        }
        (None, Some(b)) => {
            let Some(arn) = s(b, "AliasArn") else {
                return Err(c.bad("LexV2Bot needs AliasArn"));
            };
            if arn.is_empty() || arn.chars().count() > 100 {
                return Err(c.bad("LexV2Bot.AliasArn must be 1 to 100 characters long"));
            }
            Ok(Bot::V2(arn))
        }
        _ => Err(c.bad("give exactly one of LexBot and LexV2Bot")),
    }
}

pub(super) fn associate_bot(w: &mut World, c: &Call) -> ApiResult {
    let bot = bot(c)?;
    let key = active_key(w, c)?;
    match bot {
        Bot::V1(name, region) => {
            let inst = inst_mut(w, &key)?;
            if inst.lex_v1.iter().any(|(n, r)| *n == name && *r == region) {
                return Err(ApiError::conflict(format!(
                    "Lex bot {name} ({region}) is already associated with instance {}",
                    inst.id
                )));
            }
            inst.lex_v1.push((name, region));
        }
        Bot::V2(arn) => {
            let Some((region, ..)) = lex_alias_parts(&arn) else {
                return Err(c.bad(format!("'{arn}' is not a Lex V2 bot alias ARN")));
            };
            if region != c.region {
                return Err(ApiError::invalid_request(format!(
                    "Lex V2 alias {arn} is in {region}; an instance in {} can only be associated with aliases of its own region",
                    c.region
                )));
            }
            if w.lex_aliases
                .get(c.region)
                .is_some_and(|d| !d.contains(&arn))
            {
                return Err(ApiError::not_found(format!(
                    "Lex V2 alias {arn} does not exist in {}",
                    c.region
                )));
            }
            let inst = inst_mut(w, &key)?;
            if inst.lex_v2.contains(&arn) {
                return Err(ApiError::conflict(format!(
                    "Lex V2 alias {arn} is already associated with instance {}",
                    inst.id
                )));
            }
            inst.lex_v2.push(arn);
        }
    }
    Ok(json!({}))
}

pub(super) fn disassociate_bot(w: &mut World, c: &Call) -> ApiResult {
    let bot = bot(c)?;
    let key = active_key(w, c)?;
    let inst = inst_mut(w, &key)?;
    let removed = match bot {
        Bot::V1(name, region) => {
            let before = inst.lex_v1.len();
            inst.lex_v1.retain(|(n, r)| !(*n == name && *r == region));
            before != inst.lex_v1.len()
        }
        Bot::V2(arn) => {
            let before = inst.lex_v2.len();
            inst.lex_v2.retain(|a| *a != arn);
            before != inst.lex_v2.len()
        }
    };
    if !removed {
        return Err(ApiError::not_found(format!(
            "the bot is not associated with instance {}",
            inst.id
        )));
    }
    Ok(json!({}))
}

pub(super) fn list_approved_origins(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(25, 25)?;
    let inst = instance(w, c, c.label(0))?;
    let items = inst
        .approved_origins
        .iter()
        .enumerate()
        .map(|(i, o)| (i as u64 + 1, Value::String(o.clone())));
    let (list, token) = paginate(items, page);
    Ok(with_token(json!({"Origins": list}), token))
}

fn origin_ok(c: &Call, origin: &str) -> ApiResult<()> {
    if origin.starts_with("https://") || origin.starts_with("http://") {
        Ok(())
    } else {
        Err(c.bad(format!("Origin '{origin}' is not an http(s) URL")))
    }
}

pub(super) fn associate_approved_origin(w: &mut World, c: &Call) -> ApiResult {
    let origin = c.input.str_req("Origin", 1, 267)?;
    c.input.str_opt("ClientToken", 0, 500)?;
    origin_ok(c, &origin)?;
    let key = active_key(w, c)?;
    let inst = inst_mut(w, &key)?;
    if inst.approved_origins.contains(&origin) {
        return Err(ApiError::conflict(format!(
            "origin {origin} is already approved for instance {}",
            inst.id
        )));
    }
    inst.approved_origins.push(origin);
    Ok(json!({}))
}

pub(super) fn disassociate_approved_origin(w: &mut World, c: &Call) -> ApiResult {
    let origin = c.input.query_required("origin", 1, 267)?;
    let key = active_key(w, c)?;
    let inst = inst_mut(w, &key)?;
    let before = inst.approved_origins.len();
    inst.approved_origins.retain(|o| *o != origin);
    if before == inst.approved_origins.len() {
        return Err(ApiError::not_found(format!(
            "origin {origin} is not approved for instance {}",
            inst.id
        )));
    }
    Ok(json!({}))
}

pub(super) const INTEGRATION_TYPES: &[&str] = &[
    "EVENT",
    "VOICE_ID",
    "PINPOINT_APP",
    "WISDOM_ASSISTANT",
    "WISDOM_KNOWLEDGE_BASE",
    "WISDOM_QUICK_RESPONSES",
    "Q_MESSAGE_TEMPLATES",
    "CASES_DOMAIN",
    "APPLICATION",
    "FILE_SCANNER",
    "SES_IDENTITY",
    "ANALYTICS_CONNECTOR",
    "CALL_TRANSFER_CONNECTOR",
    "COGNITO_USER_POOL",
    "MESSAGE_PROCESSOR",
];

pub(super) fn list_integration_associations(w: &mut World, c: &Call) -> ApiResult {
    let types = c.input.query_enum("integrationType", INTEGRATION_TYPES)?;
    let arn = c.input.query_one("integrationArn")?.map(str::to_string);
    let page = c.input.page_query(100, 100)?;
    let inst = instance(w, c, c.label(0))?;
    let items = inst
        .integrations
        .iter()
        .enumerate()
        .filter(|(_, i)| types.is_empty() || types.contains(&i.integration_type))
        .filter(|(_, i)| arn.as_ref().is_none_or(|a| *a == i.integration_arn))
        .map(|(n, i)| {
            let mut v = json!({
                "IntegrationAssociationId": i.id,
                "IntegrationAssociationArn": arn_of(w, inst, &i.id),
                "InstanceId": inst.id,
                "IntegrationType": i.integration_type,
                "IntegrationArn": i.integration_arn,
                "LastModifiedTime": i.last_modified,
                "LastModifiedRegion": inst.region,
            });
            if is_source_application_name(&i.name) {
                v["SourceApplicationName"] = i.name.clone().into();
            }
            (n as u64 + 1, v)
        });
    let (list, token) = paginate(items, page);
    Ok(with_token(
        json!({"IntegrationAssociationSummaryList": list}),
        token,
    ))
}

fn arn_of(w: &World, inst: &Instance, id: &str) -> String {
    crate::model::arn(
        &w.account,
        &inst.region,
        &format!("instance/{}/integration-association/{id}", inst.id),
    )
}

/// The model's pattern for `SourceApplicationName`: `^[a-zA-Z0-9_ -]+$`, 1 to 100 characters.
fn is_source_application_name(s: &str) -> bool {
    (1..=100).contains(&s.chars().count())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_ -".contains(&b))
}

pub(super) const FLOW_ASSOCIATION_TYPES: &[&str] = &[
    "WHATSAPP_MESSAGING_PHONE_NUMBER",
    "VOICE_PHONE_NUMBER",
    "INBOUND_EMAIL",
    "OUTBOUND_EMAIL",
    "ANALYTICS_CONNECTOR",
];

/// BatchGetFlowAssociation: the flow each voice number of the instance points at, as the
/// calling region sees it (its own numbers, and numbers claimed to a group of the instance,
/// listed from both regions of the group; the flow must exist in the region's instance).
pub(super) fn batch_get_flow_association(w: &mut World, c: &Call) -> ApiResult {
    let ids = match c.input.body.get("ResourceIds") {
        Some(Value::Array(a)) => {
            let mut ids = Vec::new();
            for v in a {
                let Some(s) = v.as_str() else {
                    return Err(c.bad("ResourceIds must be a list of ARNs"));
                };
                ids.push(s.to_string());
            }
            ids
        }
        Some(_) => return Err(c.bad("ResourceIds must be a list of ARNs")),
        None => return Err(c.bad("required member 'ResourceIds' is missing")),
    };
    if ids.is_empty() || ids.len() > 100 {
        return Err(c.bad("ResourceIds must hold 1 to 100 ARNs"));
    }
    let rtype = match c.input.body.get("ResourceType") {
        None => "VOICE_PHONE_NUMBER".to_string(),
        Some(Value::String(t)) if FLOW_ASSOCIATION_TYPES.contains(&t.as_str()) => t.clone(),
        Some(_) => {
            return Err(c.bad(format!(
                "ResourceType must be one of {}",
                FLOW_ASSOCIATION_TYPES.join(", ")
            )))
        }
    };
    let inst = instance(w, c, c.label(0))?;
    let mut out = Vec::new();
    if rtype == "VOICE_PHONE_NUMBER" {
        for given in &ids {
            let pid = match split_arn(given) {
                Some((_, _, "phone-number", id)) => id,
                Some(_) => continue,
                None => given.as_str(),
            };
            let Some(n) = w.numbers.get(pid) else {
                continue;
            };
            if n.instance_id != inst.id || !w.number_seen_from(n, c.region) {
                continue;
            }
            let Some(flow) = w.number_flow(c.region, &inst.id, &n.number) else {
                continue;
            };
            out.push(json!({
                "ResourceId": given,
                "FlowId": w.resource_arn(c.region, &inst.id, Kind::ContactFlows, &flow),
                "ResourceType": rtype,
            }));
        }
    }
    Ok(json!({"FlowAssociationSummaryList": out}))
}
