//! Phone numbers: list, describe, and UpdatePhoneNumber.

use super::*;

pub(super) fn number_visible(w: &World, n: &crate::model::PhoneNumber, region: &str) -> bool {
    n.region == region
        || w.tdgs
            .values()
            .any(|t| w.tdg_arn(t) == n.target_arn && (t.home == region || t.other == region))
}

pub(super) fn number_json(w: &World, n: &crate::model::PhoneNumber) -> Value {
    let mut v = json!({
        "PhoneNumberId": n.id,
        "PhoneNumberArn": crate::model::arn(&w.account, &n.region, &format!("phone-number/{}", n.id)),
        "PhoneNumber": n.number,
        "PhoneNumberCountryCode": n.country,
        "PhoneNumberType": n.number_type,
        "TargetArn": n.target_arn,
        "InstanceId": n.instance_id,
    });
    if let Some(d) = &n.description {
        v["PhoneNumberDescription"] = d.clone().into();
    }
    v
}

pub(super) const NUMBER_TYPES: &[&str] = &[
    "TOLL_FREE",
    "DID",
    "UIFN",
    "SHARED",
    "THIRD_PARTY_TF",
    "THIRD_PARTY_DID",
    "SHORT_CODE",
];

pub(super) fn list_phone_numbers(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_body(1000, 100)?;
    let target = c.input.str_opt("TargetArn", 1, 1024)?;
    let instance_id = c.input.str_opt("InstanceId", 1, 100)?;
    let countries = c.input.str_list("PhoneNumberCountryCodes", 10)?;
    let types = c.input.str_list("PhoneNumberTypes", 6)?;
    if let Some(bad) = types.iter().find(|t| !NUMBER_TYPES.contains(&t.as_str())) {
        return Err(c.bad(format!("'{bad}' is not a phone number type")));
    }
    let prefix = c.input.str_opt("PhoneNumberPrefix", 1, 12)?;
    if let Some(t) = &target {
        match split_arn(t) {
            Some((_, _, "traffic-distribution-group", id)) => {
                if w.tdgs.get(id).is_none_or(|g| w.tdg_arn(g) != *t) {
                    return Err(ApiError::not_found(format!("{t} not found")));
                }
            }
            Some((_, _, "instance", _)) => {}
            _ => return Err(c.bad(format!("TargetArn '{t}' is not an instance or group ARN"))),
        }
    }
    let items: Vec<(u64, Value)> = w
        .numbers
        .values()
        .filter(|n| number_visible(w, n, c.region))
        .filter(|n| target.as_ref().is_none_or(|t| *t == n.target_arn))
        .filter(|n| instance_id.as_ref().is_none_or(|i| *i == n.instance_id))
        .filter(|n| countries.is_empty() || countries.contains(&n.country))
        .filter(|n| types.is_empty() || types.contains(&n.number_type))
        .filter(|n| {
            prefix.as_ref().is_none_or(|p| {
                n.number.starts_with(p.as_str()) || n.number[1..].starts_with(p.as_str())
            })
        })
        .map(|n| (n.seq, number_json(w, n)))
        .collect();
    let mut items = items;
    items.sort_by_key(|(s, _)| *s);
    let (list, token) = paginate(items, page);
    Ok(with_token(
        json!({"ListPhoneNumbersSummaryList": list}),
        token,
    ))
}

/// DescribePhoneNumber: a number is seen in its own region by ID or ARN; from the other region
/// of its group only by ARN, as groups are (a bare ID is ResourceNotFoundException).
pub(super) fn describe_phone_number(w: &mut World, c: &Call) -> ApiResult {
    let label = c.label(0);
    let (id, by_arn) = match split_arn(label) {
        Some((_, _, "phone-number", id)) => (id, true),
        _ => (label, false),
    };
    let arn_of = |n: &PhoneNumber| {
        crate::model::arn(&w.account, &n.region, &format!("phone-number/{}", n.id))
    };
    let n = w
        .numbers
        .get(id)
        .filter(|n| number_visible(w, n, c.region))
        .filter(|n| {
            if by_arn {
                arn_of(n) == label
            } else {
                n.region == c.region
            }
        })
        .ok_or_else(|| {
            ApiError::not_found(format!("phone number {label} not found in {}", c.region))
        })?;
    let mut v = number_json(w, n);
    v["PhoneNumberStatus"] = json!({"Status": "CLAIMED"});
    v["Tags"] = json!({});
    Ok(json!({"ClaimedPhoneNumberSummary": v}))
}

/// Where UpdatePhoneNumber is asked to move a number: (target ARN, its instance ID).
pub(super) fn phone_number_target(
    w: &World,
    c: &Call,
    n: &PhoneNumber,
) -> ApiResult<(String, String)> {
    let target = c.input.str_opt("TargetArn", 1, 1024)?;
    let instance_label = c.input.str_opt("InstanceId", 1, 100)?;
    match (target, instance_label) {
        (Some(_), Some(_)) => Err(c.bad("give TargetArn or InstanceId, not both")),
        (None, None) => Err(c.bad("one of TargetArn and InstanceId is required")),
        (None, Some(label)) => {
            let id = user_id_from(&label).to_string();
            if w.instance(&n.region, &id).is_none() {
                return Err(ApiError::not_found(format!(
                    "instance {label} does not exist in {}",
                    n.region
                )));
            }
            Ok((w.instance_arn(&n.region, &id), id))
        }
        (Some(t), None) => match split_arn(&t) {
            Some((region, account, "instance", id)) if !id.contains('/') => {
                if account != w.account || !w.instances.keys().any(|(_, i)| i == id) {
                    return Err(ApiError::not_found(format!("target {t} does not exist")));
                }
                if region != n.region {
                    return Err(c.bad(format!(
                        "TargetArn {t} is in {region}; phone number {} can only move within {}",
                        n.id, n.region
                    )));
                }
                if w.instance(region, id).is_none() {
                    return Err(ApiError::not_found(format!("target {t} does not exist")));
                }
                Ok((t.clone(), id.to_string()))
            }
            Some((_, _, "traffic-distribution-group", _)) if is_tdg_arn_shape(&t) => {
                let id = t.rsplit('/').next().unwrap_or_default();
                let g = w
                    .tdgs
                    .get(id)
                    .filter(|g| w.tdg_arn(g) == t)
                    .ok_or_else(|| ApiError::not_found(format!("target {t} does not exist")))?;
                if g.home != n.region {
                    return Err(c.bad(format!(
                        "traffic distribution group {t} belongs to {}; phone number {} can only move to a group of its own region {}",
                        g.home, n.id, n.region
                    )));
                }
                // An update being applied does not stop a number moving: the lifecycle alone.
                if g.lifecycle != "ACTIVE" {
                    return Err(c.bad(format!(
                        "traffic distribution group {t} is {}; numbers move to ACTIVE groups only",
                        g.lifecycle
                    )));
                }
                Ok((t.clone(), g.instance_id.clone()))
            }
            _ => Err(c.bad(format!(
                "TargetArn '{t}' is not an instance or traffic distribution group ARN"
            ))),
        },
    }
}

pub(super) fn update_phone_number(w: &mut World, c: &Call) -> ApiResult {
    let label = c.label(0);
    let id = match split_arn(label) {
        Some((_, _, "phone-number", id)) => id,
        _ => label,
    };
    let token = c.input.str_opt("ClientToken", 1, 500)?;
    let n = w
        .numbers
        .get(id)
        .filter(|n| n.region == c.region)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format!("phone number {label} not found in {}", c.region))
        })?;
    let (target, instance_id) = phone_number_target(w, c, &n)?;
    let fingerprint = format!("{}|{target}", n.id);
    if let Some(t) = &token {
        let key = (
            c.region.to_string(),
            Operation::UpdatePhoneNumber,
            t.clone(),
        );
        if let Some((fp, first)) = w.tokens.get(&key) {
            return if *fp == fingerprint {
                Ok(first.clone())
            } else {
                Err(ApiError::new(
                    ErrorCode::Idempotency,
                    "ClientToken was already used with different parameters",
                ))
            };
        }
    }
    if let Some(num) = w.numbers.get_mut(&n.id) {
        if num.target_arn != target {
            num.target_arn = target;
            num.instance_id = instance_id;
            // The number-to-flow association does not follow the number.
            num.flow_id = None;
        }
        num.group = None;
    }
    let out = json!({
        "PhoneNumberId": n.id,
        "PhoneNumberArn": crate::model::arn(&w.account, &n.region, &format!("phone-number/{}", n.id)),
    });
    if let Some(t) = token {
        w.tokens.insert(
            (c.region.to_string(), Operation::UpdatePhoneNumber, t),
            (fingerprint, out.clone()),
        );
    }
    Ok(out)
}
