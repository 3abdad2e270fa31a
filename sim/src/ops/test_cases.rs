//! Test cases (a mirrored kind) and their executions (per region, decided on the sim clock).

use super::*;
use crate::model::Execution;

const STATUSES: &[&str] = &["PUBLISHED", "SAVED"];
const ENTRY_TYPES: &[&str] = &["VOICE_CALL", "CHAT"];
const EXECUTION_STATUSES: &[&str] = &["INITIATED", "PASSED", "FAILED", "IN_PROGRESS", "STOPPED"];

/// The members of a test case a create or an update sets, checked.
fn members(c: &Call, attrs: &mut Map<String, Value>) -> ApiResult<()> {
    if let Some(v) = c.input.body.get("Content") {
        let Some(s) = v.as_str() else {
            return Err(c.bad("Content must be a string"));
        };
        attrs.insert("Content".into(), s.into());
    }
    if let Some(e) = c.input.object_opt("EntryPoint")? {
        if let Some(t) = e.get("Type") {
            if !t.as_str().is_some_and(|t| ENTRY_TYPES.contains(&t)) {
                return Err(c.bad("EntryPoint.Type must be VOICE_CALL or CHAT"));
            }
        }
        for key in ["VoiceCallEntryPointParameters", "ChatEntryPointParameters"] {
            if e.get(key).is_some_and(|p| !p.is_object()) {
                return Err(c.bad(format!("EntryPoint.{key} must be an object")));
            }
        }
        attrs.insert("EntryPoint".into(), Value::Object(e.clone()));
    }
    for key in ["InitializationData", "Description"] {
        if let Some(v) = c.input.str_opt(key, 0, usize::MAX)? {
            attrs.insert(key.into(), v.into());
        }
    }
    if let Some(s) = c.input.object_opt("SyntheticCustomerConfiguration")? {
        if !s.get("Enabled").is_some_and(Value::is_boolean) {
            return Err(c.bad("SyntheticCustomerConfiguration.Enabled is required"));
        }
        attrs.insert(
            "SyntheticCustomerConfiguration".into(),
            Value::Object(s.clone()),
        );
    }
    if let Some(v) = c.input.body.get("Status") {
        if !v.as_str().is_some_and(|s| STATUSES.contains(&s)) {
            return Err(c.bad("Status must be PUBLISHED or SAVED"));
        }
        attrs.insert("Status".into(), v.clone());
    }
    Ok(())
}

fn test_case_id(c: &Call, label: &str) -> ApiResult<String> {
    if label.is_empty() || label.chars().count() > 500 {
        return Err(c.bad("TestCaseId must be 1 to 500 characters long"));
    }
    Ok(match split_arn(label) {
        Some((_, _, "instance", rest)) => rest.rsplit('/').next().unwrap_or(rest).to_string(),
        _ => label.to_string(),
    })
}

fn find<'w>(inst: &'w Instance, id: &str) -> ApiResult<&'w Resource> {
    inst.set(Kind::TestCases)
        .and_then(|s| s.get(id))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "test case {id} does not exist in instance {} in {}",
                inst.id, inst.region
            ))
        })
}

pub(super) fn create_test_case(w: &mut World, c: &Call) -> ApiResult {
    let name = c.input.str_req("Name", 1, usize::MAX)?;
    if !c.input.body.get("Content").is_some_and(Value::is_string) {
        return Err(c.bad("required member 'Content' is missing or not a string"));
    }
    let tags = match c.input.object_opt("Tags")? {
        Some(t) if t.is_empty() || t.len() > 50 => return Err(c.bad("Tags must hold 1 to 50 tags")),
        Some(t) if t.values().any(|v| !v.is_string()) => {
            return Err(c.bad("Tags values must be strings"))
        }
        Some(t) => t.clone(),
        None => Map::new(),
    };
    let mut attrs = Map::new();
    attrs.insert("Status".into(), "PUBLISHED".into());
    members(c, &mut attrs)?;
    attrs.insert("Tags".into(), Value::Object(tags));
    let inst = instance(w, c, c.label(0))?;
    require_active(inst)?;
    if inst
        .set(Kind::TestCases)
        .and_then(|s| s.by_name(&name))
        .is_some()
    {
        return Err(ApiError::new(
            ErrorCode::DuplicateResource,
            format!("a test case named {name} already exists"),
        ));
    }
    let (region, iid) = (inst.region.clone(), inst.id.clone());
    let id = w.ids.uuid();
    let arn = w.resource_arn(&region, &iid, Kind::TestCases, &id);
    create_resource(w, c, &iid, Kind::TestCases, id.clone(), name, attrs);
    Ok(json!({"TestCaseId": id, "TestCaseArn": arn}))
}

/// A 64-character hex digest of the content (FNV-1a in four lanes: the model asks for 64
/// alphanumerics; a real SHA-256 is not needed to compare versions).
fn digest(content: &str) -> String {
    (0u64..4)
        .map(|lane| {
            let mut h: u64 = 0xcbf29ce484222325 ^ lane.wrapping_mul(0x9e3779b97f4a7c15);
            for b in content.bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100000001b3);
            }
            format!("{h:016x}")
        })
        .collect()
}

pub(super) fn describe_test_case(w: &mut World, c: &Call) -> ApiResult {
    let id = test_case_id(c, c.label(1))?;
    let wanted = c.input.query_enum("status", STATUSES)?;
    let inst = instance(w, c, c.label(0))?;
    let t = find(inst, &id)?;
    let status = t.attrs.get("Status").and_then(Value::as_str).unwrap_or("");
    if wanted.len() == 1 && wanted[0] != status {
        return Err(ApiError::not_found(format!(
            "test case {id} has no {} version",
            wanted[0]
        )));
    }
    let mut m = Map::new();
    m.insert(
        "Arn".into(),
        w.resource_arn(&inst.region, &inst.id, Kind::TestCases, &t.id)
            .into(),
    );
    m.insert("Id".into(), t.id.clone().into());
    m.insert("Name".into(), t.name.clone().into());
    for key in [
        "Content",
        "EntryPoint",
        "InitializationData",
        "SyntheticCustomerConfiguration",
        "Description",
        "Status",
    ] {
        if let Some(v) = t.attrs.get(key) {
            m.insert(key.into(), v.clone());
        }
    }
    m.insert("LastModifiedTime".into(), t.last_modified.into());
    m.insert(
        "LastModifiedRegion".into(),
        t.last_modified_region.clone().into(),
    );
    m.insert(
        "Tags".into(),
        t.attrs.get("Tags").cloned().unwrap_or_else(|| json!({})),
    );
    let content = t.attrs.get("Content").and_then(Value::as_str).unwrap_or("");
    m.insert("TestCaseSha256".into(), digest(content).into());
    Ok(json!({"TestCase": m}))
}

pub(super) fn update_test_case(w: &mut World, c: &Call) -> ApiResult {
    let id = test_case_id(c, c.label(1))?;
    let name = c.input.str_opt("Name", 1, usize::MAX)?;
    let mut changes = Map::new();
    members(c, &mut changes)?;
    let inst = instance(w, c, c.label(0))?;
    require_active(inst)?;
    let mut t = find(inst, &id)?.clone();
    if let Some(n) = &name {
        if inst
            .set(Kind::TestCases)
            .and_then(|s| s.by_name(n))
            .is_some_and(|other| other.id != id)
        {
            return Err(ApiError::new(
                ErrorCode::DuplicateResource,
                format!("a test case named {n} already exists"),
            ));
        }
        t.name = n.clone();
    }
    t.attrs.extend(changes);
    t.last_modified = c.now;
    t.last_modified_region = c.region.to_string();
    let iid = inst.id.clone();
    if let Some(inst) = w.instance_mut(c.region, &iid) {
        inst.set_mut(Kind::TestCases).replace(t);
    }
    w.sync_change(c.now, c.region, &iid, Kind::TestCases, &id, TaskOp::Upsert);
    Ok(json!({}))
}

pub(super) fn delete_test_case(w: &mut World, c: &Call) -> ApiResult {
    let id = test_case_id(c, c.label(1))?;
    delete_resource(w, c, Kind::TestCases, &id)
}

pub(super) fn start_test_case_execution(w: &mut World, c: &Call) -> ApiResult {
    let id = test_case_id(c, c.label(1))?;
    let token = c.input.str_opt("ClientToken", 0, 500)?;
    let inst = instance(w, c, c.label(0))?;
    let iid = inst.id.clone();
    let fingerprint = format!("{iid}|{id}");
    if let Some(t) = &token {
        let key = (
            c.region.to_string(),
            Operation::StartTestCaseExecution,
            t.clone(),
        );
        if let Some((fp, first)) = w.tokens.get(&key) {
            return if *fp == fingerprint {
                Ok(first.clone())
            } else {
                Err(ApiError::invalid_request(
                    "ClientToken was already used with different parameters",
                ))
            };
        }
    }
    require_active(inst)?;
    let t = find(inst, &id)?;
    if t.attrs.get("Status").and_then(Value::as_str) != Some("PUBLISHED") {
        return Err(ApiError::invalid_request(format!(
            "test case {id} is not published"
        )));
    }
    let name = t.name.clone();
    let exec_id = w.ids.uuid();
    let seq = w.next_seq();
    w.executions.push(Execution {
        seq,
        id: exec_id.clone(),
        instance_id: iid,
        region: c.region.to_string(),
        test_case_id: id.clone(),
        test_case_name: name,
        started: c.now,
        ends: c.now + w.settings.test_case_seconds,
        stopped: None,
        outcome: None,
    });
    let out = json!({"TestCaseExecutionId": exec_id, "TestCaseId": id, "Status": "INITIATED"});
    if let Some(t) = token {
        w.tokens.insert(
            (c.region.to_string(), Operation::StartTestCaseExecution, t),
            (fingerprint, out.clone()),
        );
    }
    // An execution of 0 seconds is decided at once.
    w.advance(c.now);
    Ok(out)
}

fn execution<'w>(w: &'w World, c: &Call) -> ApiResult<&'w Execution> {
    let id = test_case_id(c, c.label(1))?;
    let exec = c.label(2);
    if exec.is_empty() || exec.chars().count() > 500 {
        return Err(c.bad("TestCaseExecutionId must be 1 to 500 characters long"));
    }
    let inst = instance(w, c, c.label(0))?;
    w.executions
        .iter()
        .find(|e| {
            e.id == exec && e.test_case_id == id && e.region == c.region && e.instance_id == inst.id
        })
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "test case execution {exec} of test case {id} does not exist in {}",
                c.region
            ))
        })
}

pub(super) fn get_test_case_execution_summary(w: &mut World, c: &Call) -> ApiResult {
    let e = execution(w, c)?;
    let mut out = json!({"StartTime": e.started, "Status": e.status(c.now)});
    if let Some(end) = e.end_time() {
        out["EndTime"] = end.into();
    }
    if let Some(o) = &e.outcome {
        out["ObservationSummary"] = json!({
            "TotalObservations": o.total,
            "ObservationsPassed": o.total - o.failures.len().min(o.total),
            "ObservationsFailed": o.failures.len(),
        });
    }
    Ok(out)
}

pub(super) fn list_test_case_executions(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(100, 100)?;
    let test_case = c.input.query_one("testCaseId")?.map(str::to_string);
    let name = c.input.query_one("testCaseName")?.map(str::to_string);
    let status = c.input.query_enum("status", EXECUTION_STATUSES)?;
    let millis = |key: &str| -> ApiResult<Option<f64>> {
        match c.input.query_one(key)? {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(|ms| Some(ms as f64 / 1000.0))
                .map_err(|_| c.bad(format!("{key} must be epoch milliseconds"))),
        }
    };
    let (from, to) = (millis("startTime")?, millis("endTime")?);
    let inst = instance(w, c, c.label(0))?;
    let items = w
        .executions
        .iter()
        .filter(|e| e.region == c.region && e.instance_id == inst.id)
        .filter(|e| test_case.as_ref().is_none_or(|t| *t == e.test_case_id))
        .filter(|e| name.as_ref().is_none_or(|n| *n == e.test_case_name))
        .filter(|e| status.is_empty() || status.iter().any(|s| s == e.status(c.now)))
        .filter(|e| from.is_none_or(|f| e.started >= f))
        .filter(|e| to.is_none_or(|t| e.started <= t))
        .map(|e| {
            let tags = inst
                .set(Kind::TestCases)
                .and_then(|s| s.get(&e.test_case_id))
                .and_then(|t| t.attrs.get("Tags").cloned())
                .unwrap_or_else(|| json!({}));
            let mut v = json!({
                "StartTime": e.started,
                "TestCaseExecutionId": e.id,
                "TestCaseId": e.test_case_id,
                "TestCaseExecutionStatus": e.status(c.now),
                "Tags": tags,
            });
            if let Some(end) = e.end_time() {
                v["EndTime"] = end.into();
            }
            (e.seq, v)
        });
    let (list, token) = paginate(items, page);
    Ok(with_token(json!({"TestCaseExecutions": list}), token))
}

pub(super) fn stop_test_case_execution(w: &mut World, c: &Call) -> ApiResult {
    c.input.str_opt("ClientToken", 0, 500)?;
    let e = execution(w, c)?;
    let status = e.status(c.now);
    if !matches!(status, "INITIATED" | "IN_PROGRESS") {
        return Err(ApiError::invalid_request(format!(
            "test case execution {} is {status}",
            e.id
        )));
    }
    let id = e.id.clone();
    if let Some(e) = w.executions.iter_mut().find(|e| e.id == id) {
        e.stopped = Some(c.now);
    }
    Ok(json!({}))
}

pub(super) fn list_test_case_execution_records(w: &mut World, c: &Call) -> ApiResult {
    let page = c.input.page_query(100, 100)?;
    let status = c
        .input
        .query_enum("status", &["PASSED", "FAILED", "IN_PROGRESS", "STOPPED"])?;
    let e = execution(w, c)?;
    let mut records = vec![
        json!({"Status": "PASSED", "Timestamp": e.started, "RecordType": "INITIATION",
               "Record": json!({"TestCaseId": e.test_case_id, "Region": e.region}).to_string()}),
    ];
    if c.now >= e.started + 1.0 || e.outcome.is_some() {
        records.push(json!({"Status": "PASSED", "Timestamp": e.started + 1.0,
                            "RecordType": "EXECUTION_START", "Record": "{}"}));
    }
    if let Some(o) = &e.outcome {
        for (i, f) in o.failures.iter().enumerate() {
            records.push(json!({
                "ObservationId": format!("observation-{}", i + 1),
                "Status": "FAILED",
                "Timestamp": o.at,
                "RecordType": "OBSERVATION",
                "Record": json!({"Flow": f.flow, "Block": f.block, "Dependency": f.dependency,
                                 "Message": f.message}).to_string(),
            }));
        }
        let status = if o.failures.is_empty() {
            "PASSED"
        } else {
            "FAILED"
        };
        records.push(json!({"Status": status, "Timestamp": o.at, "RecordType": "COMPLETION",
            "Record": json!({"TotalObservations": o.total, "ObservationsFailed": o.failures.len()}).to_string()}));
    }
    if let Some(at) = e.stopped {
        records.push(
            json!({"Status": "STOPPED", "Timestamp": at, "RecordType": "COMPLETION",
                            "Record": "{}"}),
        );
    }
    let items = records
        .into_iter()
        .filter(|r| {
            status.is_empty()
                || status
                    .iter()
                    .any(|s| r["Status"].as_str() == Some(s.as_str()))
        })
        .enumerate()
        .map(|(i, r)| (i as u64 + 1, r));
    let (list, token) = paginate(items, page);
    Ok(with_token(json!({"ExecutionRecords": list}), token))
}
