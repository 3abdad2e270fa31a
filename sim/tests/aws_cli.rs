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
    /// `AWS_DATA_PATH`: models that take precedence over the CLI's own.
    data_path: Option<PathBuf>,
}

/// A directory holding the Connect model of the `.venv`'s botocore (1.44.18), for
/// `AWS_DATA_PATH`. The pinned CLI (awscli 1.46.3) runs on its own bundled botocore 1.43.62,
/// whose Connect model predates Get/UpdateCrossRegionRouting; botocore's loader prefers a
/// model found on `AWS_DATA_PATH`.
fn newer_connect_model() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/lib");
    let model = std::fs::read_dir(&venv)
        .expect("the .venv's lib")
        .filter_map(Result::ok)
        .map(|e| {
            e.path()
                .join("site-packages/botocore/data/connect/2017-08-08/service-2.json.gz")
        })
        .find(|p| p.exists())
        .expect("botocore's Connect model in .venv");
    let dir = std::env::temp_dir().join(format!("connect-sim-cli-model-{}", std::process::id()));
    let target = dir.join("connect/2017-08-08");
    std::fs::create_dir_all(&target).expect("model dir");
    std::fs::copy(model, target.join("service-2.json.gz")).expect("copy the model");
    dir
}

impl Cli<'_> {
    /// Runs `aws connect ARGS` in a region; Ok(stdout as JSON) or Err(stderr).
    async fn run(&self, region: &str, args: &[&str]) -> Result<Value, String> {
        let mut command = tokio::process::Command::new(aws_cli());
        if let Some(path) = &self.data_path {
            command.env("AWS_DATA_PATH", path);
        }
        let out = command
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
    let cli = Cli {
        sim: &sim,
        data_path: None,
    };

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

#[tokio::test]
async fn cross_region_routing_works_with_the_aws_cli() {
    let sim = replicated(400.0).await;
    let model = newer_connect_model();
    let cli = Cli {
        sim: &sim,
        data_path: Some(model.clone()),
    };
    let got = cli
        .run(
            REPLICA,
            &["get-cross-region-routing", "--instance-id", INSTANCE],
        )
        .await
        .expect("get-cross-region-routing");
    assert_eq!(got["IsolatedRegions"], serde_json::json!([]));
    let arn = format!("arn:aws:connect:{SOURCE}:123456789012:instance/{INSTANCE}");
    let out = cli
        .run(
            REPLICA,
            &[
                "update-cross-region-routing",
                "--instance-id",
                &arn,
                "--isolated-all",
            ],
        )
        .await
        .expect("update-cross-region-routing");
    assert!(
        out.is_null() || out == serde_json::json!({}),
        "nothing to print: {out}"
    );
    let got = cli
        .run(SOURCE, &["get-cross-region-routing", "--instance-id", &arn])
        .await
        .unwrap();
    assert_eq!(got["IsolatedRegions"], serde_json::json!([SOURCE, REPLICA]));
    cli.run(
        SOURCE,
        &[
            "update-cross-region-routing",
            "--instance-id",
            INSTANCE,
            "--no-isolated-all",
        ],
    )
    .await
    .expect("--no-isolated-all");
    let got = cli
        .run(
            REPLICA,
            &["get-cross-region-routing", "--instance-id", INSTANCE],
        )
        .await
        .unwrap();
    assert_eq!(got["IsolatedRegions"], serde_json::json!([]));

    // Not enabled for global routing: the documented refusal.
    let legacy = Harness::start("legacy").await;
    let err = Cli {
        sim: &legacy,
        data_path: Some(model.clone()),
    }
    .run(
        SOURCE,
        &["get-cross-region-routing", "--instance-id", INSTANCE],
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("InvalidRequestException") && err.contains("enabled for global routing"),
        "{err}"
    );
    let calls = sim.calls("UpdateCrossRegionRouting").await;
    assert_eq!(calls.len(), 2);
    assert!(calls
        .iter()
        .all(|c| c.access_key_id == "AKIDCLI" && c.status == 200));
    let _ = std::fs::remove_dir_all(model);
}
