//! Conformance with botocore's Connect model: `botocore_shapes.py` checks the raw JSON answers
//! of GetCrossRegionRouting, UpdateCrossRegionRouting and ListReplicationFindings (findings
//! computed and staged, every documented type), of the test case operations (ListTestCases,
//! DescribeTestCase, ListTestCaseExecutions, GetTestCaseExecutionSummary,
//! ListTestCaseExecutionRecords) and of BatchGetFlowAssociation against their output shapes,
//! then calls the first three
//! through boto3. The script tries its checker on wrong documents first.

mod common;

use std::path::PathBuf;

use common::*;
use connect_sim::control::StagedFinding;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SIM_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(
        p.exists(),
        "Python with botocore is missing at {}: run scripts/setup.sh (or set SIM_PYTHON)",
        p.display()
    );
    p
}

fn finding(resource_type: &str, name: &str) -> StagedFinding {
    StagedFinding {
        instance_id: INSTANCE.into(),
        resource_type: resource_type.into(),
        name: name.into(),
        id: None,
        region: None,
        operation: None,
        reference_code: None,
        message: None,
        blocking: false,
    }
}

#[tokio::test]
async fn answers_fit_botocores_output_shapes() {
    // `findings`: computed PROMPT and CONTACT_FLOW findings once replicated.
    let sim = Harness::start("findings").await;
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("replicate");
    sim.advance(400.0).await;
    let staged = [
        StagedFinding {
            blocking: true,
            reference_code: Some("VIEW_NOT_PUBLISHED".into()),
            message: Some("Publish the view in us-west-2.".into()),
            ..finding("VIEW", "Case view")
        },
        StagedFinding {
            region: Some(SOURCE.into()),
            operation: Some("UPDATE".into()),
            ..finding("PHONE_NUMBER", "+12065550100")
        },
        StagedFinding {
            id: Some("dt-1".into()),
            ..finding("DATA_TABLE_RECORD", "Holidays")
        },
        finding("WORKSPACE", "Agent workspace"),
    ];
    for f in &staged {
        sim.control.stage_finding(f).await.expect("stage");
    }
    let out = tokio::process::Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/botocore_shapes.py"
        ))
        .arg(format!("http://{}", sim.addr))
        .arg(INSTANCE)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_DATA_PATH")
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the answers do not fit the model:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("checker self-test"), "{stdout}");
    assert!(stdout.contains("ok: "), "{stdout}");
    assert_eq!(sim.calls("GetCrossRegionRouting").await.len(), 5);
    assert_eq!(sim.calls("UpdateCrossRegionRouting").await.len(), 3);
}
