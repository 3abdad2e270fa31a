//! GetTrafficDistribution and UpdateTrafficDistribution, and how distributions are read.

use super::*;

pub(super) fn distribution_json(d: &[(String, i64)]) -> Value {
    json!({"Distributions": d.iter().map(|(r, p)| json!({"Region": r, "Percentage": p})).collect::<Vec<_>>()})
}

pub(super) fn get_traffic_distribution(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = &w.tdgs[&id];
    if t.status != "ACTIVE" {
        return Err(ApiError::invalid_request(format!(
            "traffic distribution group {} is {}; it must be ACTIVE",
            t.id, t.status
        )));
    }
    let mut out = json!({
        "Id": t.id,
        "Arn": w.tdg_arn(t),
        "TelephonyConfig": distribution_json(&t.current.telephony),
        "AgentConfig": distribution_json(&t.current.agents),
    });
    if let Some(s) = &t.current.sign_in {
        out["SignInConfig"] = json!({"Distributions": s.iter().map(|(r, e)| json!({"Region": r, "Enabled": e})).collect::<Vec<_>>()});
    }
    if let Some(f) = t.last_failover {
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

pub(super) fn update_traffic_distribution(w: &mut World, c: &Call) -> ApiResult {
    let id = tdg_id(w, c, c.label(0))?;
    let t = w.tdgs[&id].clone();
    let telephony = parse_percentages(c, "TelephonyConfig", &t)?;
    let agents = parse_percentages(c, "AgentConfig", &t)?;
    let sign_in = parse_sign_in(c, &t)?;
    match t.status.as_str() {
        "ACTIVE" => {}
        "UPDATE_IN_PROGRESS" => {
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
    let next = Distribution {
        telephony,
        agents: agents.unwrap_or(t.current.agents.clone()),
        sign_in: sign_in.or(t.current.sign_in.clone()),
    };
    let until = c.now + w.settings.tdg_update_seconds;
    if let Some(t) = w.tdgs.get_mut(&id) {
        t.pending = Some(next);
        t.status = "UPDATE_IN_PROGRESS".into();
        t.until = until;
        t.last_failover = Some(c.now);
    }
    Ok(json!({}))
}
