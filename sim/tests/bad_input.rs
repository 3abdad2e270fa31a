//! Bad input gets the modeled 400s (and 403/404 where AWS answers so), and never breaks the server.

mod common;

use common::*;

const AUTH: &str = "Authorization: AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20261125/us-east-1/connect/aws4_request, SignedHeaders=host, Signature=00\r\n";

fn request(method: &str, target: &str, auth: bool, body: &str) -> Vec<u8> {
    format!(
        "{method} {target} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        if auth { AUTH } else { "" },
        body.len()
    )
    .into_bytes()
}

/// The code of `x-amzn-ErrorType`, read as clients read it: up to the first `:`.
fn error_type(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(k, _)| k == "x-amzn-errortype")
        .and_then(|(_, v)| v.split(':').next())
}

#[tokio::test]
async fn malformed_requests_get_the_modeled_errors() {
    let sim = Harness::start("small").await;
    let replicate = format!("/instance/{INSTANCE}/replicate");
    let cases: Vec<(Vec<u8>, u16, &str, &str)> = vec![
        (
            request("POST", &replicate, true, "{not json"),
            400,
            "InvalidRequestException",
            "not valid JSON",
        ),
        (
            request("POST", &replicate, true, "[1, 2]"),
            400,
            "InvalidRequestException",
            "JSON object",
        ),
        (
            request("POST", &replicate, true, "{}"),
            400,
            "InvalidRequestException",
            "ReplicaRegion",
        ),
        (
            request("POST", &replicate, true, r#"{"ReplicaRegion": 7}"#),
            400,
            "InvalidRequestException",
            "ReplicaRegion",
        ),
        (
            request("POST", &replicate, true, r#"{"ReplicaRegion": "mars-1"}"#),
            400,
            "InvalidRequestException",
            "ReplicaRegion",
        ),
        (
            request(
                "POST",
                &replicate,
                true,
                &format!(
                    r#"{{"ReplicaRegion": "us-west-2", "ReplicaAlias": "{}"}}"#,
                    "a".repeat(46)
                ),
            ),
            400,
            "InvalidRequestException",
            "ReplicaAlias",
        ),
        (
            request(
                "PUT",
                &format!("/users/{INSTANCE}"),
                true,
                &format!(r#"{{"Username": "{}"}}"#, "u".repeat(101)),
            ),
            400,
            "InvalidParameterException",
            "Username",
        ),
        (
            request("PUT", "/traffic-distribution/not-a-uuid", true, "{}"),
            400,
            "InvalidRequestException",
            "not a traffic distribution group",
        ),
        (
            request(
                "GET",
                &format!("/users-summary/{INSTANCE}?maxResults=abc"),
                true,
                "",
            ),
            400,
            "InvalidParameterException",
            "maxResults",
        ),
        (
            request("GET", &format!("/instance/{INSTANCE}/bots"), true, ""),
            400,
            "InvalidRequestException",
            "lexVersion",
        ),
        (
            request("GET", "/no/such/operation", true, ""),
            404,
            "UnknownOperationException",
            "no operation",
        ),
        (
            request("PATCH", &format!("/instance/{INSTANCE}"), true, ""),
            404,
            "UnknownOperationException",
            "no operation",
        ),
        (
            request("GET", &format!("/instance/{INSTANCE}"), false, ""),
            403,
            "MissingAuthenticationTokenException",
            "SigV4",
        ),
        (
            request(
                "POST",
                &replicate,
                true,
                &format!(r#"{{"ReplicaRegion": "{}"}}"#, "x".repeat(1 << 20)),
            ),
            400,
            "InvalidRequestException",
            "larger than",
        ),
    ];
    for (req, status, code, words) in cases {
        let head = String::from_utf8_lossy(&req[..req.len().min(90)]).into_owned();
        let (got, headers, body) = sim.raw(&req).await;
        assert_eq!(got, status, "{head}: {body}");
        assert_eq!(error_type(&headers), Some(code), "{head}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("error bodies are JSON");
        let message = json["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{head}: {message}");
    }
    // Nothing was created by any of it.
    let state = sim.state().await;
    assert_eq!(state.instances.len(), 1);
}

/// A tiny deterministic generator, so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn junk(&mut self, max: usize) -> String {
        let len = (self.next() % max as u64) as usize;
        (0..len)
            .map(|_| {
                let b = (self.next() % 256) as u8;
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }
}

#[tokio::test]
async fn randomized_requests_never_crash_the_server() {
    let sim = Harness::start("small").await;
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];
    let roots = [
        "instance",
        "traffic-distribution-group",
        "traffic-distribution-groups",
        "traffic-distribution",
        "phone-number",
        "users-summary",
        "users",
        "queues",
        "contact-flows",
        "replication-findings",
        "agent-status",
        "quick-connects",
        "predefined-attributes",
        "_sim",
        "",
    ];
    let tails = [
        "",
        "replicate",
        "user",
        "attributes",
        "attribute",
        "list",
        "bots",
        "lex-bots",
        "lambda-functions",
    ];
    let members = [
        "ReplicaRegion",
        "ReplicaAlias",
        "ClientToken",
        "UserId",
        "InstanceId",
        "TelephonyConfig",
        "Name",
        "MaxResults",
        "NextToken",
        "TargetArn",
    ];
    let values = [
        "\"us-west-2\"",
        "\"\"",
        "null",
        "17",
        "-1",
        "1e309",
        "true",
        "[]",
        "{}",
        "\"arn:aws:connect:us-east-1:1:x/y\"",
        "{\"Distributions\": [{\"Region\": \"us-east-1\", \"Percentage\": 55}]}",
        "\"\\u0000\"",
    ];
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..400 {
        let method = rng.pick(&methods);
        let mut path = format!("/{}", rng.pick(&roots));
        for _ in 0..(rng.next() % 4) {
            let seg = if rng.next().is_multiple_of(2) {
                INSTANCE.to_string()
            } else {
                rng.junk(40)
            };
            path.push('/');
            path.push_str(&seg);
        }
        if rng.next().is_multiple_of(3) {
            path.push('/');
            path.push_str(rng.pick(&tails));
        }
        if path.starts_with("/_sim") {
            path = "/_sim/nothing-here".into();
        }
        if rng.next().is_multiple_of(3) {
            path.push_str(&format!(
                "?maxResults={}&nextToken={}&{}={}",
                rng.junk(4),
                rng.junk(12),
                rng.junk(6),
                rng.junk(6)
            ));
        }
        let body = match rng.next() % 4 {
            0 => String::new(),
            1 => rng.junk(200),
            _ => {
                let n = rng.next() % 4;
                let fields: Vec<String> = (0..n)
                    .map(|_| format!("\"{}\": {}", rng.pick(&members), rng.pick(&values)))
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
        };
        let auth = !rng.next().is_multiple_of(8);
        let (status, headers, text) = sim.raw(&request(method, &path, auth, &body)).await;
        assert!(
            matches!(status, 200 | 400 | 402 | 403 | 404 | 409 | 429),
            "request {i}: {method} {path} {body:?} -> {status} {text}"
        );
        if status != 200 && method != "HEAD" {
            assert!(
                error_type(&headers).is_some(),
                "request {i}: an error without x-amzn-ErrorType"
            );
        }
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert!(
        statuses.len() >= 3,
        "the generator reaches several outcomes: {statuses:?}"
    );
    // The server still answers normally.
    let ok = sim
        .client(SOURCE)
        .describe_instance()
        .instance_id(INSTANCE)
        .send()
        .await;
    assert!(ok.is_ok());
    assert!(sim.control.health().await.expect("health").ok);
}
