//! Hostile input for the steps' tests: invalid variants of a valid example event, generated from
//! a seed, each naming the member it breaks. Every variant is invalid by construction, whatever
//! the member means, so the step must answer `InvalidInput` naming that member, and change
//! nothing. The families:
//!
//! - an **unknown member**, at the top or inside a nested object (every input refuses strangers);
//! - a member of the **wrong JSON type** (a string as a number, a bool as a string, ...), or a
//!   number out of range (negative, fractional, huge) where the example has a number;
//! - a **required member removed**;
//! - an **identifier** (instance and group IDs and ARNs, run IDs, regions) replaced by what is not
//!   one: empty, 100,000 characters, unicode, control characters, white space around it, a path,
//!   the ARN of a region outside the pair or of a resource that is no instance;
//! - **free text** past its bound (100,000 characters);
//! - cases the step adds ([`Spec::extra`]): plans that do not sum to 100, say.
//!
//! Random choices come from a seeded SplitMix64, so a failing case is found again from its seed.

use serde_json::{json, Map, Value};

/// What a step's input holds, by member path (`plan.telephony`, `detail.instanceId`).
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// A valid input.
    pub example: Value,
    /// Members that must be present.
    pub required: Vec<&'static str>,
    /// Members whose strings have a grammar: IDs, ARNs, run IDs, regions.
    pub identifiers: Vec<&'static str>,
    /// Members holding free text (bounded).
    pub texts: Vec<&'static str>,
    /// The step's own invalid inputs, each with the member it breaks.
    pub extra: Vec<(String, Value)>,
    /// Members the step does not read (an EventBridge envelope's, say), and objects that accept
    /// unknown members ("" for the root): left alone.
    pub ignored: Vec<&'static str>,
}

/// One generated input: what was done, the member it names, the input.
#[derive(Debug, Clone)]
pub struct Case {
    pub what: String,
    pub member: String,
    pub input: Value,
}

/// SplitMix64: small, seeded, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const STRANGERS: &[&str] = &[
    "surprise",
    "instance_id",
    "InstanceId",
    "runid",
    "__proto__",
    "ïnstanceId",
    "",
    " ",
    "$where",
];

/// Strings that are no identifier, region or ARN of this deployment, nor a Step Functions
/// execution name (what a run ID may be: 1 to 80 characters, unicode allowed, but no white space,
/// control character, `/`, `:`, `;`, ...).
fn not_an_identifier(rng: &mut Rng) -> String {
    let id = "4a3f6a2e-0f6b-4c41-9a7e-2f1d5c8b9e10";
    let options = [
        String::new(),
        "x".repeat(100_000),
        "インスタンス/1".into(),
        "a\u{0}b".into(),
        format!(" {id} "),
        format!("{id}\n"),
        "../../etc/passwd".into(),
        format!("arn:aws:connect:eu-west-1:123456789012:instance/{id}"),
        format!("arn:aws:connect:us-east-1:123456789012:queue/{id}"),
        format!("arn:aws:s3:::bucket/{id}"),
        "🔥".repeat(100),
        "us-east-1; DROP TABLE".into(),
    ];
    rng.pick(&options).clone()
}

/// A value of another JSON type than `v` (never null: an absent optional member is valid), or a
/// number `v` cannot be.
fn wrong_type(v: &Value, rng: &mut Rng) -> Value {
    let options: Vec<Value> = match v {
        Value::String(_) => vec![json!(42), json!(true), json!(["a"]), json!({"a": 1})],
        Value::Bool(_) => vec![json!("true"), json!(1), json!([true]), json!({})],
        Value::Number(_) => vec![
            json!("50"),
            json!(-1),
            json!(50.5),
            json!(1e12),
            json!(false),
            json!([50]),
        ],
        Value::Array(_) => vec![json!("a"), json!({"0": "a"}), json!(7)],
        Value::Object(_) => vec![json!([]), json!("{}"), json!(1)],
        Value::Null => vec![json!(1)],
    };
    rng.pick(&options).clone()
}

/// Every member path of `v` with its value (objects only: array items are named by their array).
fn members(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    if let Value::Object(map) = v {
        for (k, child) in map {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push((path.clone(), child.clone()));
            members(child, &path, out);
        }
    }
}

/// The object at `path` ("" for the root), mutably.
fn object_at<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Map<String, Value>> {
    let mut cur = v;
    if !path.is_empty() {
        for seg in path.split('.') {
            cur = cur.get_mut(seg)?;
        }
    }
    cur.as_object_mut()
}

/// Splits `a.b.c` into (`a.b`, `c`).
fn parent_and_key(path: &str) -> (&str, &str) {
    path.rsplit_once('.').unwrap_or(("", path))
}

fn set(v: &mut Value, path: &str, value: Value) {
    let (parent, key) = parent_and_key(path);
    if let Some(obj) = object_at(v, parent) {
        obj.insert(key.to_string(), value);
    }
}

/// `n` cases from `seed`: the step's own first, then the generated families in turn.
pub fn cases(spec: &Spec, seed: u64, n: usize) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let mut all_members = Vec::new();
    members(&spec.example, "", &mut all_members);
    all_members.retain(|(p, _)| !spec.ignored.contains(&p.as_str()));
    let objects: Vec<String> = std::iter::once(String::new())
        .filter(|root| !spec.ignored.contains(&root.as_str()))
        .chain(
            all_members
                .iter()
                .filter(|(_, v)| v.is_object())
                .map(|(p, _)| p.clone()),
        )
        .collect();
    let mut out: Vec<Case> = spec
        .extra
        .iter()
        .map(|(member, input)| Case {
            what: "the step's own case".into(),
            member: member.clone(),
            input: input.clone(),
        })
        .collect();
    let mut family = 0usize;
    while out.len() < n {
        family = (family + 1) % 5;
        let mut input = spec.example.clone();
        let case = match family {
            0 => {
                let at = rng.pick(&objects).clone();
                let key = (*rng.pick(STRANGERS)).to_string();
                let taken = object_at(&mut input, &at).is_none_or(|o| o.contains_key(&key));
                if taken {
                    continue;
                }
                let value = wrong_type(&json!("x"), &mut rng);
                if let Some(obj) = object_at(&mut input, &at) {
                    obj.insert(key.clone(), value);
                }
                Case {
                    what: format!("unknown member '{key}' in '{at}'"),
                    member: key,
                    input,
                }
            }
            1 => {
                let (path, value) = rng.pick(&all_members).clone();
                let bad = wrong_type(&value, &mut rng);
                set(&mut input, &path, bad.clone());
                Case {
                    what: format!("{path} = {}", short(&bad)),
                    member: parent_and_key(&path).1.to_string(),
                    input,
                }
            }
            2 if !spec.required.is_empty() => {
                let path = *rng.pick(&spec.required);
                let (parent, key) = parent_and_key(path);
                if let Some(obj) = object_at(&mut input, parent) {
                    obj.remove(key);
                }
                Case {
                    what: format!("{path} removed"),
                    member: key.to_string(),
                    input,
                }
            }
            3 if !spec.identifiers.is_empty() => {
                let path = *rng.pick(&spec.identifiers);
                let bad = not_an_identifier(&mut rng);
                set(&mut input, path, json!(bad));
                Case {
                    what: format!("{path} = {}", short(&json!(bad))),
                    member: parent_and_key(path).1.to_string(),
                    input,
                }
            }
            4 if !spec.texts.is_empty() => {
                let path = *rng.pick(&spec.texts);
                set(&mut input, path, json!("é".repeat(100_000)));
                Case {
                    what: format!("{path} = 100,000 characters"),
                    member: parent_and_key(path).1.to_string(),
                    input,
                }
            }
            _ => continue,
        };
        out.push(case);
    }
    out
}

/// A value as a log line shows it: at most 40 characters.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!(
            "{}... ({} chars)",
            s.chars().take(40).collect::<String>(),
            s.len()
        )
    } else {
        s
    }
}

/// Connect operations that change something.
pub const MUTATING: &[&str] = &[
    "ReplicateInstance",
    "UpdateTrafficDistribution",
    "AssociateTrafficDistributionGroupUser",
    "DisassociateTrafficDistributionGroupUser",
    "CreateTrafficDistributionGroup",
];

/// What a step answered a case: `InvalidInput` naming the member, or a violation described.
pub fn judge(case: &Case, answer: Result<(), (String, String)>) -> Result<(), String> {
    match answer {
        Ok(()) => Err(format!("{}: accepted", case.what)),
        Err((kind, message)) if kind != "InvalidInput" => Err(format!(
            "{}: {kind} ({})",
            case.what,
            short(&json!(message))
        )),
        Err((_, message)) if message.len() > 2_000 => Err(format!(
            "{}: a message of {} bytes (quote less of the input)",
            case.what,
            message.len()
        )),
        Err((_, message)) if !message.contains(&case.member) => Err(format!(
            "{}: the message does not name '{}': {}",
            case.what,
            case.member,
            short(&json!(message))
        )),
        Err(_) => Ok(()),
    }
}

/// How many cases a hostile-input test runs: `HOSTILE_CASES`, else 10,000.
pub fn case_count() -> usize {
    std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Runs `count` cases of `spec` from `seed` through one step (`call` answers a payload as the
/// step's handler does) on a fake context, and panics unless every one is refused by member and
/// the step made no mutating Connect call and no write to the run store. Prints the figures.
pub async fn check_step<F, Fut, T>(
    step: &str,
    spec: &Spec,
    seed: u64,
    ctx: &crate::Context<crate::connect::fake::FakeConnect, crate::store::memory::MemoryRunStore>,
    mut call: F,
) where
    F: FnMut(Value) -> Fut,
    Fut: std::future::Future<Output = Result<T, lambda_runtime::Diagnostic>>,
{
    let all = cases(spec, seed, case_count());
    let mut violations = Vec::new();
    for case in &all {
        let answer = call(case.input.clone())
            .await
            .map(|_| ())
            .map_err(|d| (d.error_type, d.error_message));
        if let Err(v) = judge(case, answer) {
            violations.push(v);
        }
    }
    let mutating: Vec<&'static str> = ctx
        .source
        .world()
        .calls
        .iter()
        .filter(|c| MUTATING.contains(&c.operation))
        .map(|c| c.operation)
        .collect();
    let writes = ctx.store.state().writes.len();
    println!(
        "hostile input: {step}: {} cases (seed {seed:#x}), {} violations, {} mutating calls, \
         {writes} writes",
        all.len(),
        violations.len(),
        mutating.len()
    );
    assert!(
        violations.is_empty(),
        "{step}: {:#?}",
        &violations[..violations.len().min(15)]
    );
    assert!(mutating.is_empty(), "{step}: {mutating:?}");
    assert_eq!(writes, 0, "{step}: writes to the run store");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_reproducible_and_each_differs_from_the_example() {
        let spec = Spec {
            example: json!({"runId": "r", "instanceId": "i", "plan": {"telephony": {"us-east-1": 100}}}),
            required: vec!["instanceId"],
            identifiers: vec!["instanceId", "runId"],
            texts: vec![],
            extra: vec![("telephony".into(), json!({"plan": {}}))],
            ignored: vec![],
        };
        let a = cases(&spec, 7, 500);
        let b = cases(&spec, 7, 500);
        assert_eq!(a.len(), 500);
        assert_eq!(a[0].member, "telephony");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.input, y.input);
            assert_ne!(x.input, spec.example, "{}", x.what);
            assert!(!x.member.is_empty() || x.what.contains("''"), "{}", x.what);
        }
        // every family shows up
        for needle in ["unknown member", "removed", " = "] {
            assert!(a.iter().any(|c| c.what.contains(needle)), "{needle}");
        }
    }
}
