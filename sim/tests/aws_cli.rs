//! The same flow through the AWS CLI: a second client that this project did not write.
//! The CLI is pinned and installed into `.venv/` by `scripts/setup.sh`.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

fn aws_cli() -> PathBuf {
    if let Some(p) = std::env::var_os("AWS_CLI") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/aws");
    assert!(
        p.exists(),
        "the AWS CLI is missing at {}: run scripts/setup.sh (or set AWS_CLI)",
        p.display()
    );
    p
}

struct Cli<'a> {
    sim: &'a Harness,
}

impl Cli<'_> {
    /// Runs `aws connect ARGS` in a region; Ok(stdout as JSON) or Err(stderr).
    async fn run(&self, region: &str, args: &[&str]) -> Result<Value, String> {
        let out = tokio::process::Command::new(aws_cli())
            .arg("connect")
            .args(args)
            .args([
                "--region",
                region,
                "--endpoint-url",
                &format!("http://{}", self.sim.addr),
                "--output",
                "json",
            ])
            .env("AWS_ACCESS_KEY_ID", "AKIDCLI")
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .await
            .expect("the AWS CLI runs");
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            Ok(if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("JSON output")
            })
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

#[tokio::test]
async fn the_acgr_flow_works_with_the_aws_cli() {
    let sim = Harness::start("small").await;
    let cli = Cli { sim: &sim };

    // Replicate through the CLI (it fills in its own ClientToken).
    let out = cli
        .run(
            SOURCE,
            &[
                "replicate-instance",
                "--instance-id",
                INSTANCE,
                "--replica-region",
                REPLICA,
                "--replica-alias",
                "acme-contact-west",
            ],
        )
        .await
        .expect("replicate-instance");
    assert_eq!(out["Id"], INSTANCE);
    assert!(out["Arn"].as_str().unwrap().contains(REPLICA));
    let err = cli
        .run(
            SOURCE,
            &[
                "replicate-instance",
                "--instance-id",
                INSTANCE,
                "--replica-region",
                "eu-west-2",
                "--replica-alias",
                "x1",
            ],
        )
        .await
        .unwrap_err();
    assert!(err.contains("InvalidRequestException"), "{err}");

    sim.advance(400.0).await;

    let replica = cli
        .run(REPLICA, &["describe-instance", "--instance-id", INSTANCE])
        .await
        .unwrap();
    assert_eq!(replica["Instance"]["InstanceStatus"], "ACTIVE");
    assert_eq!(replica["Instance"]["InstanceAlias"], "acme-contact-west");
    assert_eq!(replica["ReplicationConfiguration"]["SourceRegion"], SOURCE);
    let statuses: Vec<&str> = replica["ReplicationConfiguration"]["ReplicationStatusSummaryList"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["ReplicationStatus"].as_str())
        .collect();
    assert_eq!(statuses, ["INSTANCE_REPLICATION_COMPLETE"; 2]);

    // The CLI follows NextToken itself: a full user listing in pages of 7.
    let users = cli
        .run(
            REPLICA,
            &["list-users", "--instance-id", INSTANCE, "--page-size", "7"],
        )
        .await
        .unwrap();
    let users = users["UserSummaryList"].as_array().unwrap();
    assert_eq!(users.len(), 50);
    assert_eq!(sim.calls("ListUsers").await.len(), 8);

    let groups = cli
        .run(
            REPLICA,
            &[
                "list-traffic-distribution-groups",
                "--instance-id",
                INSTANCE,
            ],
        )
        .await
        .unwrap();
    let group = &groups["TrafficDistributionGroupSummaryList"][0];
    assert_eq!(group["IsDefault"], true);
    let arn = group["Arn"].as_str().unwrap().to_string();

    let user = users[0]["Id"].as_str().unwrap();
    cli.run(
        SOURCE,
        &[
            "associate-traffic-distribution-group-user",
            "--traffic-distribution-group-id",
            &arn,
            "--user-id",
            user,
            "--instance-id",
            INSTANCE,
        ],
    )
    .await
    .expect("associate");
    let err = cli
        .run(
            REPLICA,
            &[
                "associate-traffic-distribution-group-user",
                "--traffic-distribution-group-id",
                &arn,
                "--user-id",
                user,
                "--instance-id",
                INSTANCE,
            ],
        )
        .await
        .unwrap_err();
    assert!(err.contains("ResourceNotFoundException"), "{err}");
    let listed = cli
        .run(
            REPLICA,
            &[
                "list-traffic-distribution-group-users",
                "--traffic-distribution-group-id",
                &arn,
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        listed["TrafficDistributionGroupUserSummaryList"][0]["UserId"],
        user
    );

    // Fail over from the replica region, by ARN, then read it back.
    let split = format!(
        r#"{{"Distributions":[{{"Region":"{SOURCE}","Percentage":0}},{{"Region":"{REPLICA}","Percentage":100}}]}}"#
    );
    let sign_in = format!(
        r#"{{"Distributions":[{{"Region":"{SOURCE}","Enabled":false}},{{"Region":"{REPLICA}","Enabled":true}}]}}"#
    );
    cli.run(
        REPLICA,
        &[
            "update-traffic-distribution",
            "--id",
            &arn,
            "--telephony-config",
            &split,
            "--agent-config",
            &split,
            "--sign-in-config",
            &sign_in,
        ],
    )
    .await
    .expect("update-traffic-distribution");
    let bad = format!(
        r#"{{"Distributions":[{{"Region":"{SOURCE}","Percentage":35}},{{"Region":"{REPLICA}","Percentage":65}}]}}"#
    );
    sim.advance(5.0).await;
    let err = cli
        .run(
            REPLICA,
            &[
                "update-traffic-distribution",
                "--id",
                &arn,
                "--telephony-config",
                &bad,
            ],
        )
        .await
        .unwrap_err();
    assert!(err.contains("InvalidRequestException"), "{err}");
    let got = cli
        .run(REPLICA, &["get-traffic-distribution", "--id", &arn])
        .await
        .unwrap();
    assert_eq!(
        got["TelephonyConfig"]["Distributions"][1],
        serde_json::json!({"Region": REPLICA, "Percentage": 100})
    );
    assert_eq!(
        got["SignInConfig"]["Distributions"][0],
        serde_json::json!({"Region": SOURCE, "Enabled": false})
    );
    // This CLI's model predates LastFailoverTime (and still requires --replica-alias): it drops
    // the member, which the SDK test reads instead.

    // The control plane saw the CLI's own credentials, in the regions it was pointed at.
    let updates = sim.calls("UpdateTrafficDistribution").await;
    assert_eq!(updates.len(), 2);
    assert!(updates
        .iter()
        .all(|c| c.access_key_id == "AKIDCLI" && c.region == REPLICA));
    assert_eq!(
        updates[1].error_type.as_deref(),
        Some("InvalidRequestException")
    );
}
