//! GetTrafficDistribution and UpdateTrafficDistribution, and how distributions are read.

use super::*;

pub(super) fn distribution_json(d: &[(String, i64)]) -> Value {
    json!({"Distributions": d.iter().map(|(r, p)| json!({"Region": r, "Percentage": p})).collect::<Vec<_>>()})
}

/// The distribution as the calling region sees it: a group being updated there (or not
/// ACTIVE) is `InvalidRequestException`, as the admin guide says.
pub(super) fn get_traffic_distribution(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    let view = t.view(c.region, c.now);
    if view.status != ACTIVE {
        return Err(ApiError::invalid_request(format!(
            "traffic distribution group {} is {}; it must be ACTIVE",
            t.id, view.status
        )));
    }
    let d = view.distribution;
    let mut out = json!({
        "Id": t.id,
        "Arn": w.tdg_arn(t),
        "TelephonyConfig": distribution_json(&d.telephony),
        "AgentConfig": distribution_json(&d.agents),
    });
    if let Some(s) = &d.sign_in {
        out["SignInConfig"] = json!({"Distributions": s.iter().map(|(r, e)| json!({"Region": r, "Enabled": e})).collect::<Vec<_>>()});
    }
    if let Some(f) = view.last_failover {
        out["LastFailoverTime"] = f.into();
    }
    Ok(out)
}

pub(super) fn parse_percentages(
    c: &Call,
    member: &str,
    t: &Tdg,
) -> ApiResult<Option<Vec<(String, i64)>>> {
    let Some(cfg) = c.input.object_opt(member)? else {
        return Ok(None);
    };
    let list = cfg
        .get("Distributions")
        .and_then(Value::as_array)
        .ok_or_else(|| c.bad(format!("{member}.Distributions is required")))?;
    let mut out = Vec::new();
    for d in list {
        let region = d.get("Region").and_then(Value::as_str);
        let pct = d.get("Percentage").and_then(Value::as_i64);
        let (Some(region), Some(pct)) = (region, pct) else {
            return Err(c.bad(format!(
                "{member}: every distribution needs Region and Percentage"
            )));
        };
        if !is_region(region) || !(0..=100).contains(&pct) {
            return Err(c.bad(format!("{member}: '{region}' {pct}% is out of range")));
        }
        if pct % 10 != 0 {
            return Err(ApiError::invalid_request(format!(
                "{member}: percentages move in steps of 10 (got {pct} for {region})"
            )));
        }
        out.push((region.to_string(), pct));
    }
    check_regions(member, out.iter().map(|(r, _)| r.as_str()), t)?;
    let sum: i64 = out.iter().map(|(_, p)| p).sum();
    if sum != 100 {
        return Err(ApiError::invalid_request(format!(
            "{member}: percentages must add up to 100 (got {sum})"
        )));
    }
    Ok(Some(out))
}

pub(super) fn check_regions<'a>(
    member: &str,
    regions: impl Iterator<Item = &'a str>,
    t: &Tdg,
) -> ApiResult<()> {
    let mut got: Vec<&str> = regions.collect();
    got.sort_unstable();
    let mut want = vec![t.home.as_str(), t.other.as_str()];
    want.sort_unstable();
    if got != want {
        return Err(ApiError::invalid_request(format!(
            "{member}: name each of {} and {} exactly once (got {})",
            t.home,
            t.other,
            got.join(", ")
        )));
    }
    Ok(())
}

pub(super) fn parse_sign_in(c: &Call, t: &Tdg) -> ApiResult<Option<Vec<(String, bool)>>> {
    let Some(cfg) = c.input.object_opt("SignInConfig")? else {
        return Ok(None);
    };
    let list = cfg
        .get("Distributions")
        .and_then(Value::as_array)
        .ok_or_else(|| c.bad("SignInConfig.Distributions is required"))?;
    let mut out = Vec::new();
    for d in list {
        let region = d.get("Region").and_then(Value::as_str);
        let enabled = d.get("Enabled").and_then(Value::as_bool);
        let (Some(region), Some(enabled)) = (region, enabled) else {
            return Err(c.bad("SignInConfig: every distribution needs Region and Enabled"));
        };
        out.push((region.to_string(), enabled));
    }
    check_regions("SignInConfig", out.iter().map(|(r, _)| r.as_str()), t)?;
    Ok(Some(out))
}

/// Records an update made in the calling region, checked against that region's view: applied
/// there after `tdgUpdateSeconds`, in the other region `crossRegionLagSeconds` later.
pub(super) fn update_traffic_distribution(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    let telephony = parse_percentages(c, "TelephonyConfig", t)?;
    let agents = parse_percentages(c, "AgentConfig", t)?;
    let sign_in = parse_sign_in(c, t)?;
    let view = t.view(c.region, c.now);
    match view.status {
        ACTIVE => {}
        UPDATE_IN_PROGRESS => {
            return Err(ApiError::new(
                w.settings.update_in_progress_answer.code(),
                format!(
                    "traffic distribution group {id} is UPDATE_IN_PROGRESS: another traffic distribution update is still being applied"
                ),
            ))
        }
        other => {
            return Err(ApiError::invalid_request(format!(
                "traffic distribution group {id} is {other}; it must be ACTIVE"
            )))
        }
    }
    if telephony.is_none() && agents.is_none() && sign_in.is_none() {
        return Err(ApiError::invalid_request(
            "give at least one of TelephonyConfig, AgentConfig and SignInConfig",
        ));
    }
    if sign_in.is_some() && !t.is_default {
        return Err(ApiError::invalid_request(
            "SignInConfig can only be changed on the default traffic distribution group",
        ));
    }
    // The model marks only Id required; the admin guide requires the telephony distribution.
    let Some(telephony) = telephony else {
        return Err(ApiError::invalid_request(
            "TelephonyConfig is required: give the telephony distribution with every update (send the current one to move only agents or sign-in)",
        ));
    };
    let before = view.distribution;
    let next = Distribution {
        telephony,
        agents: agents.unwrap_or_else(|| before.agents.clone()),
        sign_in: sign_in.or_else(|| before.sign_in.clone()),
    };
    // LastFailoverTime moves with an update that changes the split (telephony or agents).
    let changes_split = sorted(&next.telephony) != sorted(&before.telephony)
        || sorted(&next.agents) != sorted(&before.agents);
    let last_failover = if changes_split {
        Some(c.now)
    } else {
        view.last_failover
    };
    let version = Version {
        distribution: Some(next),
        last_failover,
        region: c.region.to_string(),
        called_at: c.now,
        applied_at: c.now + w.settings.tdg_update_seconds,
        lag: w.settings.cross_region_lag_seconds,
        seq: w.next_seq(),
    };
    if let Some(t) = w.tdgs.get_mut(&id) {
        t.push_version(version);
    }
    Ok(json!({}))
}

fn sorted(d: &[(String, i64)]) -> Vec<(String, i64)> {
    let mut d = d.to_vec();
    d.sort();
    d
}
