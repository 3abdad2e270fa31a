//! Test cases: CRUD, mirroring to the replica, and executions decided on the sim clock from
//! the state of the region they run in.

mod common;

use aws_sdk_connect::types::{
    TestCaseEntryPoint, TestCaseEntryPointType, TestCaseExecutionStatus, TestCaseStatus,
    VoiceCallEntryPointParameters,
};
use common::*;

const READINESS_TAG: &str = "acgr:readiness";
const LOOKUP_WEST: &str = "arn:aws:lambda:us-west-2:123456789012:function:acme-customer-lookup";

async fn replicate(sim: &Harness, settle: f64) {
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("replicate");
    sim.advance(settle).await;
}

/// The ID of the scenario's test case tagged `acgr:readiness = true`, listed in `region`.
async fn readiness_case(sim: &Harness, region: &str) -> String {
    let c = sim.client(region);
    let list = c
        .list_test_cases()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("list test cases");
    for s in list.test_case_summary_list() {
        let d = c
            .describe_test_case()
            .instance_id(INSTANCE)
            .test_case_id(s.id().unwrap())
            .send()
            .await
            .unwrap();
        let t = d.test_case().unwrap();
        if t.tags()
            .and_then(|t| t.get(READINESS_TAG))
            .is_some_and(|v| v == "true")
        {
            assert_eq!(t.status(), Some(&TestCaseStatus::Published));
            return t.id().unwrap().to_string();
        }
    }
    panic!("no readiness test case in {region}");
}

async fn start(sim: &Harness, region: &str, case: &str) -> String {
    let out = sim
        .client(region)
        .start_test_case_execution()
        .instance_id(INSTANCE)
        .test_case_id(case)
        .send()
        .await
        .expect("start execution");
    assert_eq!(out.status(), Some(&TestCaseExecutionStatus::Initiated));
    assert_eq!(out.test_case_id(), Some(case));
    out.test_case_execution_id().unwrap().to_string()
}

async fn status(sim: &Harness, region: &str, case: &str, exec: &str) -> TestCaseExecutionStatus {
    sim.client(region)
        .get_test_case_execution_summary()
        .instance_id(INSTANCE)
        .test_case_id(case)
        .test_case_execution_id(exec)
        .send()
        .await
        .expect("summary")
        .status()
        .cloned()
        .unwrap()
}

/// The records of the failed observations.
async fn failures(sim: &Harness, region: &str, case: &str, exec: &str) -> Vec<String> {
    sim.client(region)
        .list_test_case_execution_records()
        .instance_id(INSTANCE)
        .test_case_id(case)
        .test_case_execution_id(exec)
        .send()
        .await
        .expect("records")
        .execution_records()
        .iter()
        .filter(|r| r.observation_id().is_some())
        .map(|r| r.record().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn test_cases_are_created_described_and_mirrored_to_the_replica() {
    let sim = Harness::start("small").await;
    replicate(&sim, 600.0).await;
    // The scenario's readiness test case is in both regions, same ID.
    assert_eq!(
        readiness_case(&sim, SOURCE).await,
        readiness_case(&sim, REPLICA).await
    );
    let c = sim.client(SOURCE);
    let flows = c
        .list_contact_flows()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let main = flows
        .contact_flow_summary_list()
        .iter()
        .find(|f| f.name() == Some("Main inbound"))
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let entry = TestCaseEntryPoint::builder()
        .r#type(TestCaseEntryPointType::VoiceCall)
        .voice_call_entry_point_parameters(
            VoiceCallEntryPointParameters::builder()
                .flow_id(&main)
                .build(),
        )
        .build();
    let created = c
        .create_test_case()
        .instance_id(INSTANCE)
        .name("Smoke")
        .content(r#"{"Version":"2025-06-21"}"#)
        .entry_point(entry)
        .status(TestCaseStatus::Published)
        .tags("team", "ops")
        .send()
        .await
        .expect("create");
    let id = created.test_case_id().unwrap().to_string();
    assert!(created
        .test_case_arn()
        .unwrap()
        .ends_with(&format!("/test-case/{id}")));
    assert_eq!(
        refused(
            c.create_test_case()
                .instance_id(INSTANCE)
                .name("Smoke")
                .content("{}")
                .send()
                .await
        ),
        Err("DuplicateResourceException".into())
    );
    let described = c
        .describe_test_case()
        .instance_id(INSTANCE)
        .test_case_id(&id)
        .send()
        .await
        .unwrap();
    let t = described.test_case().unwrap();
    assert_eq!(t.content(), Some(r#"{"Version":"2025-06-21"}"#));
    assert_eq!(
        t.entry_point()
            .and_then(|e| e.voice_call_entry_point_parameters())
            .and_then(|p| p.flow_id()),
        Some(main.as_str())
    );
    assert_eq!(t.last_modified_region(), Some(SOURCE));
    let describe_west = || {
        sim.client(REPLICA)
            .describe_test_case()
            .instance_id(INSTANCE)
            .test_case_id(&id)
            .send()
    };
    // Mirrored after syncDelaySeconds (10).
    assert_eq!(
        refused(describe_west().await),
        Err("ResourceNotFoundException".into())
    );
    sim.advance(11.0).await;
    assert_eq!(
        describe_west().await.unwrap().test_case().unwrap().name(),
        Some("Smoke")
    );
    c.update_test_case()
        .instance_id(INSTANCE)
        .test_case_id(&id)
        .name("Smoke test")
        .send()
        .await
        .unwrap();
    sim.advance(11.0).await;
    let west = sim
        .client(REPLICA)
        .list_test_cases()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert!(west
        .test_case_summary_list()
        .iter()
        .any(|s| s.id() == Some(id.as_str()) && s.name() == Some("Smoke test")));
    c.delete_test_case()
        .instance_id(INSTANCE)
        .test_case_id(&id)
        .send()
        .await
        .unwrap();
    sim.advance(11.0).await;
    assert_eq!(
        refused(describe_west().await),
        Err("ResourceNotFoundException".into())
    );
    let state = sim.state().await;
    assert_eq!(state.instance(REPLICA, INSTANCE).unwrap().test_cases, 1);
}

#[tokio::test]
async fn an_execution_moves_on_the_sim_clock_and_passes_in_the_source_and_the_replica() {
    let sim = Harness::start("small").await;
    let case = readiness_case(&sim, SOURCE).await;
    let exec = start(&sim, SOURCE, &case).await;
    assert_eq!(
        status(&sim, SOURCE, &case, &exec).await,
        TestCaseExecutionStatus::Initiated
    );
    sim.advance(1.0).await;
    assert_eq!(
        status(&sim, SOURCE, &case, &exec).await,
        TestCaseExecutionStatus::InProgress
    );
    sim.advance(29.0).await;
    let summary = sim
        .client(SOURCE)
        .get_test_case_execution_summary()
        .instance_id(INSTANCE)
        .test_case_id(&case)
        .test_case_execution_id(&exec)
        .send()
        .await
        .unwrap();
    assert_eq!(summary.status(), Some(&TestCaseExecutionStatus::Passed));
    assert!(summary.end_time().is_some());
    let obs = summary.observation_summary().unwrap();
    assert_eq!(obs.observations_failed(), Some(0));
    assert!(obs.total_observations().unwrap() >= 2);
    // Stopping a completed execution is refused; a running one stops.
    let stop = |exec: String| {
        let case = case.clone();
        let c = sim.client(SOURCE);
        async move {
            c.stop_test_case_execution()
                .instance_id(INSTANCE)
                .test_case_id(case)
                .test_case_execution_id(exec)
                .send()
                .await
        }
    };
    assert_eq!(
        refused(stop(exec.clone()).await),
        Err("InvalidRequestException".into())
    );
    let second = start(&sim, SOURCE, &case).await;
    assert_eq!(refused(stop(second.clone()).await), Ok(()));
    sim.advance(60.0).await;
    assert_eq!(
        status(&sim, SOURCE, &case, &second).await,
        TestCaseExecutionStatus::Stopped
    );
    let listed = sim
        .client(SOURCE)
        .list_test_case_executions()
        .instance_id(INSTANCE)
        .test_case_id(&case)
        .send()
        .await
        .unwrap();
    let statuses: Vec<_> = listed
        .test_case_executions()
        .iter()
        .map(|e| e.test_case_execution_status().cloned().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            TestCaseExecutionStatus::Passed,
            TestCaseExecutionStatus::Stopped
        ]
    );
    assert_eq!(
        listed.test_case_executions()[0]
            .tags()
            .and_then(|t| t.get(READINESS_TAG))
            .map(String::as_str),
        Some("true")
    );

    // Mirrored to the replica, it passes there too (the replica's setup associates the
    // functions and aliases).
    replicate(&sim, 600.0).await;
    let west = start(&sim, REPLICA, &case).await;
    sim.advance(30.0).await;
    assert_eq!(
        status(&sim, REPLICA, &case, &west).await,
        TestCaseExecutionStatus::Passed
    );
    // Executions are per region.
    let east = sim
        .client(SOURCE)
        .list_test_case_executions()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(east.test_case_executions().len(), 2);
}

#[tokio::test]
async fn an_unassociated_replica_fails_until_the_function_is_associated_and_the_alias_deployed() {
    let sim = Harness::start("unassociated").await;
    let case = readiness_case(&sim, SOURCE).await;
    let east = start(&sim, SOURCE, &case).await;
    replicate(&sim, 600.0).await;
    assert_eq!(
        status(&sim, SOURCE, &case, &east).await,
        TestCaseExecutionStatus::Passed
    );
    let exec = start(&sim, REPLICA, &case).await;
    sim.advance(30.0).await;
    assert_eq!(
        status(&sim, REPLICA, &case, &exec).await,
        TestCaseExecutionStatus::Failed
    );
    let failed = failures(&sim, REPLICA, &case, &exec).await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].contains("flow 'Main inbound' block 'lookup': Lambda function acme-customer-lookup is not associated with instance")
            && failed[0].contains("in us-west-2"),
        "{failed:?}"
    );
    assert!(
        failed[1].contains("module 'Order status' block 'bot': Lex V2 alias")
            && failed[1].contains("is not deployed in us-west-2"),
        "{failed:?}"
    );
    let summary = sim
        .client(REPLICA)
        .get_test_case_execution_summary()
        .instance_id(INSTANCE)
        .test_case_id(&case)
        .test_case_execution_id(&exec)
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary.observation_summary().unwrap().observations_failed(),
        Some(2)
    );

    // Fixed while the next execution runs: the outcome is decided when it completes.
    let next = start(&sim, REPLICA, &case).await;
    sim.advance(5.0).await;
    sim.client(REPLICA)
        .associate_lambda_function()
        .instance_id(INSTANCE)
        .function_arn(LOOKUP_WEST)
        .send()
        .await
        .expect("associate");
    sim.control.set_lex_aliases(REPLICA, None).await.unwrap();
    sim.advance(25.0).await;
    assert_eq!(
        status(&sim, REPLICA, &case, &next).await,
        TestCaseExecutionStatus::Passed
    );
    assert!(failures(&sim, REPLICA, &case, &next).await.is_empty());
}

#[tokio::test]
async fn s3_prompts_fail_only_where_s3_is_unreachable_and_test_case_seconds_is_a_setting() {
    let text = scenario_text("small").replace(
        r#""Text": "Thanks for calling. You are being served from $.AwsRegion.""#,
        r#""Text": "Thanks for calling.", "PromptLocation": "s3://acme-prompts/welcome.wav""#,
    );
    let text = text.replace(
        r#""entryPoint": {
            "phoneNumber": "+12065550100"
          }"#,
        r#""entryPoint": {
            "phoneNumber": "+18005550199"
          }"#,
    );
    let sim = Harness::start_text(&text, Some(100.0)).await;
    sim.control
        .change_settings(&connect_sim::control::SettingsChange {
            test_case_seconds: Some(5.0),
            ..Default::default()
        })
        .await
        .unwrap();
    let case = readiness_case(&sim, SOURCE).await;
    let ok = start(&sim, SOURCE, &case).await;
    sim.advance(5.0).await;
    assert_eq!(
        status(&sim, SOURCE, &case, &ok).await,
        TestCaseExecutionStatus::Passed
    );
    let outages = sim.control.set_s3_outage(SOURCE, true).await.unwrap();
    assert_eq!(outages.regions, [SOURCE]);
    let failed = start(&sim, SOURCE, &case).await;
    sim.advance(5.0).await;
    assert_eq!(
        status(&sim, SOURCE, &case, &failed).await,
        TestCaseExecutionStatus::Failed
    );
    let records = failures(&sim, SOURCE, &case, &failed).await;
    assert!(
        records[0].contains("flow 'Regional greeting' block 'greet': prompt s3://acme-prompts/welcome.wav is unreachable"),
        "{records:?}"
    );
    sim.control.set_s3_outage(SOURCE, false).await.unwrap();
    assert!(sim.control.s3_outages().await.unwrap().regions.is_empty());
}

#[tokio::test]
async fn outages_and_access_policies_apply_to_test_cases_and_integrations() {
    use connect_sim::control::{AccessPolicy, OutageCode, RegionOutage, Statement};
    let sim = Harness::start("small").await;
    let case = readiness_case(&sim, SOURCE).await;
    sim.control
        .set_region_outage(
            SOURCE,
            Some(RegionOutage::Partial {
                code: OutageCode::ServiceUnavailable,
            }),
        )
        .await
        .unwrap();
    let c = sim.client(SOURCE);
    let started = c
        .start_test_case_execution()
        .instance_id(INSTANCE)
        .test_case_id(&case)
        .send()
        .await;
    assert_eq!(refused(started), Err("ServiceUnavailableException".into()));
    let associated = c
        .associate_approved_origin()
        .instance_id(INSTANCE)
        .origin("https://x.example.com")
        .send()
        .await;
    assert_eq!(
        refused(associated),
        Err("ServiceUnavailableException".into())
    );
    // Reads still work in a partial outage.
    assert!(c
        .list_test_cases()
        .instance_id(INSTANCE)
        .send()
        .await
        .is_ok());
    sim.control.set_region_outage(SOURCE, None).await.unwrap();
    sim.control
        .set_access_policy(
            "AKIDSIMTEST",
            &AccessPolicy {
                principal: None,
                statements: vec![Statement {
                    actions: vec!["connect:List*".into(), "connect:Describe*".into()],
                    resources: vec!["*".into()],
                }],
            },
        )
        .await
        .unwrap();
    let denied = c
        .start_test_case_execution()
        .instance_id(INSTANCE)
        .test_case_id(&case)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDeniedException");
    assert!(
        message(&denied).contains(&format!("instance/{INSTANCE}/test-case/{case}")),
        "{}",
        message(&denied)
    );
    assert_eq!(sim.calls("StartTestCaseExecution").await.len(), 2);
}
