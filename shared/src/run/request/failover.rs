//! The failover machine's request, typed once for everyone who makes or reads one:
//! incident-intake (from an incident event), grctl (from a command) and the harness. Checked in
//! one place, compared in one place: the same request ID sent again with the same request runs
//! once; with another request it is another attempt ([`FailoverRequest::attempt_name`]), never a
//! silent duplicate.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{InstanceRef, Isolate, Region, RegionPair};
use crate::error::StepError;
use crate::run::ids::{check_run_id, run_token};

/// The longest `reason` taken, in characters (shift-traffic keeps it on the run and the lock).
pub const MAX_REASON_CHARS: usize = 1000;

/// The failover machine's execution input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailoverRequest {
    pub instance_id: String,
    /// Failover: every group 100 % to this region, sign-in there only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_region: Option<String>,
    /// `"failback"`: every group back to its failback point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// A partial plan (`telephony`, `agents`, `signIn`), checked member by member by shift-traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Value>,
    /// With `plan`: the plan is a step of an incident (it opens the failover episode and never
    /// becomes the failback point), not a deliberate change of the steady state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<bool>,
    /// With `targetRegion`: whether to isolate cross-region routing of an instance enabled for
    /// global routing (`auto`, the default: when the region being left is impaired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolate: Option<Isolate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_lock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_distribution_groups: Option<Vec<String>>,
    /// Defaults to the execution name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// When the request was made (RFC 3339): the incident event's time; defaults to the
    /// execution's start. A request older than a shift completed since is refused as stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
}

impl FailoverRequest {
    /// Every group of the instance 100 % to `region`, sign-in there only.
    pub fn failover_to(instance_id: &str, region: &str) -> FailoverRequest {
        FailoverRequest {
            instance_id: instance_id.to_string(),
            target_region: Some(region.to_string()),
            ..Default::default()
        }
    }

    /// Every group back to its failback point.
    pub fn failback(instance_id: &str) -> FailoverRequest {
        FailoverRequest {
            instance_id: instance_id.to_string(),
            preset: Some("failback".into()),
            ..Default::default()
        }
    }

    /// A plan (`telephony`, `agents`, `signIn`): a change of the steady state.
    pub fn plan(instance_id: &str, plan: Value) -> FailoverRequest {
        FailoverRequest {
            instance_id: instance_id.to_string(),
            plan: Some(plan),
            ..Default::default()
        }
    }

    /// The checks that need no call: the instance and the regions inside `pair`, exactly one of
    /// `targetRegion`, `preset` and `plan`, a known preset, `breakLock` with a reason, bounded
    /// text, a valid run ID. `at` prefixes member names in errors (`detail.` for an event).
    pub fn check(&self, pair: &RegionPair, at: &str) -> Result<(), StepError> {
        let bad = |m: String| StepError::InvalidInput(m);
        if let Some(id) = &self.run_id {
            check_run_id(id).map_err(|e| bad(format!("{at}runId: {e}")))?;
        }
        let instance = InstanceRef::parse(&self.instance_id)
            .map_err(|e| bad(format!("{at}instanceId: {e}")))?;
        instance.check_in(pair, &format!("{at}instanceId"))?;
        let asked = [
            self.target_region.is_some(),
            self.preset.is_some(),
            self.plan.is_some(),
        ];
        if asked.iter().filter(|x| **x).count() != 1 {
            return Err(bad(format!(
                "{at}: give exactly one of targetRegion, preset and plan"
            )));
        }
        if let Some(r) = &self.target_region {
            let r = Region::parse_member(&format!("{at}targetRegion"), r)?;
            if !pair.contains(&r) {
                return Err(bad(format!(
                    "{at}targetRegion {r} is outside this deployment's pair ({}, {})",
                    pair.source, pair.replica
                )));
            }
        }
        if let Some(p) = self.preset.as_deref().filter(|p| *p != "failback") {
            return Err(bad(format!(
                "{at}preset '{}' is not known: the only preset is \"failback\"",
                crate::error::shown(p)
            )));
        }
        if self.isolate.is_some() && self.target_region.is_none() {
            return Err(bad(format!(
                "{at}isolate goes with targetRegion only (a failback restores the routing its \
                 failover found)"
            )));
        }
        if self.incident.is_some() && self.plan.is_none() {
            return Err(bad(format!(
                "{at}incident goes with plan only (a failover is always part of an incident)"
            )));
        }
        check_reason(self.reason.as_deref()).map_err(|e| bad(format!("{at}{e}")))?;
        if self.break_lock == Some(true)
            && self.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(bad(format!(
                "{at}breakLock needs {at}reason: say why the lock is broken"
            )));
        }
        Ok(())
    }

    /// Whether `other` asks for the same shift: every member but `runId` and `requestedAt`
    /// (a redelivered or re-fired event has its own time), absent flags read as false.
    pub fn same_request(&self, other: &FailoverRequest) -> bool {
        let flag = |b: Option<bool>| b.unwrap_or(false);
        self.instance_id == other.instance_id
            && self.target_region == other.target_region
            && self.preset == other.preset
            && self.plan == other.plan
            && self.isolate.unwrap_or_default() == other.isolate.unwrap_or_default()
            && flag(self.incident) == flag(other.incident)
            && flag(self.force) == flag(other.force)
            && flag(self.dry_run) == flag(other.dry_run)
            && flag(self.break_lock) == flag(other.break_lock)
            && self.reason == other.reason
            && self.traffic_distribution_groups == other.traffic_distribution_groups
    }

    /// The execution name of this request when `name` already ran another one: `name` and 8 hex
    /// digits of the request, so that the same corrected request sent again finds its own
    /// execution. `None` when that would not be a valid execution name (over 80 characters).
    pub fn attempt_name(&self, name: &str) -> Option<String> {
        let mut canonical = self.clone();
        canonical.run_id = None;
        canonical.requested_at = None;
        let text = serde_json::to_string(&canonical).ok()?;
        let hash = run_token("", &canonical.instance_id, &text, name);
        let attempt = format!("{name}-{}", &hash[hash.len() - 8..]);
        (attempt.chars().count() <= 80).then_some(attempt)
    }

    /// The execution input.
    pub fn to_input(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// An execution's input read back as a request (`None`: not one of ours).
    pub fn from_input(input: &str) -> Option<FailoverRequest> {
        serde_json::from_str(input).ok()
    }
}

/// `reason`: at most [`MAX_REASON_CHARS`] characters.
pub fn check_reason(reason: Option<&str>) -> Result<(), String> {
    match reason {
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(format!(
            "reason is longer than {MAX_REASON_CHARS} characters"
        )),
        _ => Ok(()),
    }
}

/// Milliseconds since the epoch of an RFC 3339 date and time, as Step Functions writes
/// `$$.Execution.StartTime` (`2026-12-02T12:59:11.515Z`) and moto does
/// (`2026-12-02T12:59:11.515265+00:00`): the offset applied, past milliseconds dropped.
pub fn parse_rfc3339(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let s = t.get(from..from + len)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &t[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        millis = format!("{:0<3}", &frac[..digits.min(3)]).parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let hours: i64 = rest[1..3].parse().ok()?;
            let minutes: i64 = rest[4..6].parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    // days from the civil date (Howard Hinnant's algorithm)
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset) * 1000 + millis)
}

/// An RFC 3339 date and time (UTC, milliseconds) of epoch milliseconds: the inverse of
/// [`parse_rfc3339`], for requests made by code (an event's `time`).
pub fn rfc3339(epoch_ms: i64) -> String {
    let (days, ms) = (
        epoch_ms.div_euclid(86_400_000),
        epoch_ms.rem_euclid(86_400_000),
    );
    // the civil date of a day count (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let s = ms / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> RegionPair {
        RegionPair::new(
            Region::parse("us-east-1").unwrap(),
            Region::parse("us-west-2").unwrap(),
        )
    }

    fn failover() -> FailoverRequest {
        FailoverRequest {
            instance_id: "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10".into(),
            target_region: Some("us-west-2".into()),
            run_id: Some("INC-1".into()),
            requested_at: Some("2026-12-07T10:00:00Z".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_request_is_the_same_whatever_its_time_and_run_id() {
        let a = failover();
        let mut b = a.clone();
        b.requested_at = Some("2026-12-07T10:05:00Z".into());
        b.run_id = None;
        b.force = Some(false);
        assert!(a.same_request(&b));
        b.force = Some(true);
        assert!(
            !a.same_request(&b),
            "a corrected request is another request"
        );
        let mut c = a.clone();
        c.reason = Some("again".into());
        assert!(!a.same_request(&c));
        // `auto` is the default: spelled out or not, the same request
        let mut d = a.clone();
        d.isolate = Some(Isolate::Auto);
        assert!(a.same_request(&d));
        d.isolate = Some(Isolate::Never);
        assert!(!a.same_request(&d));
    }

    #[test]
    fn an_attempt_is_named_from_the_request_and_stays_a_valid_execution_name() {
        let a = failover();
        let mut forced = a.clone();
        forced.force = Some(true);
        let one = forced.attempt_name("INC-1").unwrap();
        assert!(
            one.starts_with("INC-1-") && one.len() == "INC-1-".len() + 8,
            "{one}"
        );
        // the same corrected request (another time) names the same attempt
        let mut later = forced.clone();
        later.requested_at = Some("2026-12-07T11:00:00Z".into());
        assert_eq!(later.attempt_name("INC-1").unwrap(), one);
        assert_ne!(a.attempt_name("INC-1").unwrap(), one);
        check_run_id(&one).unwrap();
        assert_eq!(forced.attempt_name(&"x".repeat(75)), None);
    }

    #[test]
    fn checks_name_the_member_with_its_prefix() {
        let p = pair();
        failover().check(&p, "").unwrap();
        let mut r = failover();
        r.preset = Some("failback".into());
        let e = r.check(&p, "detail.").unwrap_err().to_string();
        assert!(e.contains("exactly one"), "{e}");
        let mut r = failover();
        r.reason = Some("\u{e9}".repeat(MAX_REASON_CHARS));
        r.check(&p, "").unwrap();
        r.reason = Some("x".repeat(MAX_REASON_CHARS + 1));
        let e = r.check(&p, "detail.").unwrap_err().to_string();
        assert!(e.contains("detail.reason"), "{e}");
        let mut r = failover();
        r.break_lock = Some(true);
        let e = r.check(&p, "detail.").unwrap_err().to_string();
        assert!(e.contains("detail.breakLock needs detail.reason"), "{e}");
        let mut r = failover();
        r.incident = Some(true);
        assert!(r.check(&p, "").is_err());
        let mut r = failover();
        r.isolate = Some(Isolate::Always);
        r.check(&p, "").unwrap();
        let mut r = FailoverRequest::failback(&r.instance_id);
        r.isolate = Some(Isolate::Never);
        let e = r.check(&p, "detail.").unwrap_err().to_string();
        assert!(e.contains("detail.isolate goes with targetRegion"), "{e}");
        // an unknown isolate is not a request
        assert_eq!(
            FailoverRequest::from_input(
                r#"{"instanceId": "i", "targetRegion": "us-west-2", "isolate": "sometimes"}"#
            ),
            None
        );
        let mut r = failover();
        r.target_region = Some("eu-west-2".into());
        let e = r.check(&p, "").unwrap_err().to_string();
        assert!(e.contains("outside"), "{e}");
        // a JSON input with an unknown member is not a request
        assert_eq!(
            FailoverRequest::from_input(r#"{"instanceId": "i", "targetregion": "x"}"#),
            None
        );
    }
}

#[cfg(test)]
mod time_tests {
    use super::parse_rfc3339;

    #[test]
    fn times_written_read_back() {
        for ms in [0, 951_782_400_000, 1_796_216_351_515, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339(&super::rfc3339(ms)), Some(ms), "{ms}");
        }
        assert_eq!(
            super::rfc3339(1_796_216_351_515),
            "2026-12-02T12:59:11.515Z"
        );
    }

    #[test]
    fn step_functions_and_moto_start_times_read_alike() {
        assert_eq!(parse_rfc3339("1970-01-01T00:01:40Z"), Some(100_000));
        assert_eq!(
            parse_rfc3339("2026-12-02T12:59:11.515Z"),
            Some(1_796_216_351_515)
        );
        assert_eq!(
            parse_rfc3339("2026-12-02T12:59:11.515265+00:00"),
            Some(1_796_216_351_515)
        );
        assert_eq!(
            parse_rfc3339("2026-12-02T14:59:11.5+02:00"),
            Some(1_796_216_351_500)
        );
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        for bad in [
            "",
            "yesterday",
            "2026-13-02T00:00:00Z",
            "2026-12-02T12:59:11",
            "2026-12-02T12:59:11.Z",
            "2026-12-02T12:59:11+0200",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
