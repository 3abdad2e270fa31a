//! Integrations per region: Lambda functions and Lex V2 aliases (own region only, deployed
//! only), approved origins, applications, the replica's setup from the scenario, and the flow
//! associations of phone numbers.

mod common;

use aws_sdk_connect::types::{
    IntegrationType, LexV2Bot, LexVersion, ListFlowAssociationResourceType,
};
use common::*;

const LOOKUP_WEST: &str = "arn:aws:lambda:us-west-2:123456789012:function:acme-customer-lookup";
const LOOKUP_EAST: &str = "arn:aws:lambda:us-east-1:123456789012:function:acme-customer-lookup";
const ALIAS_WEST: &str = "arn:aws:lex:us-west-2:123456789012:bot-alias/BOTID12345/ALIASID123";

async fn lambdas(sim: &Harness, region: &str) -> Vec<String> {
    sim.client(region)
        .list_lambda_functions()
        .instance_id(INSTANCE)
        .send()
        .await
        .expect("list lambda functions")
        .lambda_functions()
        .to_vec()
}

async fn aliases(sim: &Harness, region: &str) -> Vec<String> {
    sim.client(region)
        .list_bots()
        .instance_id(INSTANCE)
        .lex_version(LexVersion::V2)
        .send()
        .await
        .expect("list bots")
        .lex_bots()
        .iter()
        .filter_map(|b| {
            b.lex_v2_bot()
                .and_then(|v| v.alias_arn())
                .map(str::to_string)
        })
        .collect()
}

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

#[tokio::test]
async fn the_replica_gets_the_setup_of_the_scenario_and_keeps_its_own_associations() {
    let sim = Harness::start("small").await;
    replicate(&sim, 600.0).await;
    let (source, replica) = (lambdas(&sim, SOURCE).await, lambdas(&sim, REPLICA).await);
    assert!(
        source.iter().all(|a| a.contains(":us-east-1:")),
        "{source:?}"
    );
    assert_eq!(
        replica,
        [
            LOOKUP_WEST,
            "arn:aws:lambda:us-west-2:123456789012:function:acme-callback"
        ]
    );
    assert_eq!(aliases(&sim, REPLICA).await, [ALIAS_WEST]);
    for region in [SOURCE, REPLICA] {
        let origins = sim
            .client(region)
            .list_approved_origins()
            .instance_id(INSTANCE)
            .send()
            .await
            .unwrap();
        assert_eq!(origins.origins(), ["https://acme.example.com"], "{region}");
        let apps = sim
            .client(region)
            .list_integration_associations()
            .instance_id(INSTANCE)
            .integration_type(IntegrationType::Application)
            .send()
            .await
            .unwrap();
        let list = apps.integration_association_summary_list();
        assert_eq!(list.len(), 1, "{region}");
        assert!(list[0]
            .integration_arn()
            .unwrap()
            .starts_with(&format!("arn:aws:app-integrations:{region}:")));
        assert_eq!(list[0].source_application_name(), Some("Acme CRM"));
        let events = sim
            .client(region)
            .list_integration_associations()
            .instance_id(INSTANCE)
            .integration_type(IntegrationType::Event)
            .send()
            .await
            .unwrap();
        assert!(events.integration_association_summary_list().is_empty());
    }
    // A change in one region stays there: integrations are not mirrored.
    let c = sim.client(REPLICA);
    c.associate_approved_origin()
        .instance_id(INSTANCE)
        .origin("https://west.example.com")
        .send()
        .await
        .unwrap();
    c.disassociate_lambda_function()
        .instance_id(INSTANCE)
        .function_arn(LOOKUP_WEST)
        .send()
        .await
        .unwrap();
    sim.advance(60.0).await;
    assert_eq!(lambdas(&sim, REPLICA).await.len(), 1);
    assert_eq!(lambdas(&sim, SOURCE).await.len(), 2);
    let state = sim.state().await;
    let source_state = state.instance(SOURCE, INSTANCE).unwrap();
    let replica_state = state.instance(REPLICA, INSTANCE).unwrap();
    assert_eq!(source_state.approved_origins.len(), 1);
    assert_eq!(replica_state.approved_origins.len(), 2);
    assert_eq!(replica_state.lambda_functions.len(), 1);
    assert_eq!(replica_state.lex_v2_bots, [ALIAS_WEST]);
    assert_eq!(replica_state.applications.len(), 1);
    assert_eq!(source_state.applications[0].namespace, "acme-crm");
    assert_eq!(source_state.test_cases, 1);
}

#[tokio::test]
async fn lambda_functions_are_associated_in_their_own_region_only_and_when_deployed() {
    let sim = Harness::start("unassociated").await;
    replicate(&sim, 600.0).await;
    let c = sim.client(REPLICA);
    let associate = |arn: &str| {
        c.associate_lambda_function()
            .instance_id(INSTANCE)
            .function_arn(arn)
            .send()
    };
    // Another region's function: Connect associates functions of its own region only.
    assert_eq!(
        refused(associate(LOOKUP_EAST).await),
        Err("InvalidRequestException".into())
    );
    // Not deployed in the region (per /_sim/lambda-functions).
    assert_eq!(
        refused(associate("arn:aws:lambda:us-west-2:123456789012:function:acme-missing").await),
        Err("ResourceNotFoundException".into())
    );
    assert_eq!(
        refused(associate("not-an-arn").await),
        Err("InvalidParameterException".into())
    );
    assert_eq!(refused(associate(LOOKUP_WEST).await), Ok(()));
    assert_eq!(
        refused(associate(LOOKUP_WEST).await),
        Err("ResourceConflictException".into())
    );
    assert!(lambdas(&sim, REPLICA)
        .await
        .contains(&LOOKUP_WEST.to_string()));
    // Every function once the region's list is lifted.
    sim.control
        .set_lambda_functions(REPLICA, None)
        .await
        .unwrap();
    assert_eq!(
        refused(associate("arn:aws:lambda:us-west-2:123456789012:function:acme-missing").await),
        Ok(())
    );
    assert_eq!(
        refused(
            c.disassociate_lambda_function()
                .instance_id(INSTANCE)
                .function_arn("arn:aws:lambda:us-west-2:123456789012:function:nope")
                .send()
                .await
        ),
        Err("ResourceNotFoundException".into())
    );
}

#[tokio::test]
async fn lex_v2_aliases_are_associated_in_their_own_region_only_and_when_deployed() {
    let sim = Harness::start("unassociated").await;
    replicate(&sim, 600.0).await;
    let c = sim.client(REPLICA);
    let bot = |arn: &str| LexV2Bot::builder().alias_arn(arn).build();
    let other = "arn:aws:lex:us-west-2:123456789012:bot-alias/BOTID12345/ALIASID999";
    // The scenario associates ALIAS_WEST although it is not deployed yet; another one is refused.
    assert_eq!(
        refused(
            c.associate_bot()
                .instance_id(INSTANCE)
                .lex_v2_bot(bot(other))
                .send()
                .await
        ),
        Err("ResourceNotFoundException".into())
    );
    assert_eq!(
        refused(
            c.associate_bot()
                .instance_id(INSTANCE)
                .lex_v2_bot(bot(
                    "arn:aws:lex:us-east-1:123456789012:bot-alias/BOTID12345/ALIASID999"
                ))
                .send()
                .await
        ),
        Err("InvalidRequestException".into())
    );
    let deployed = sim
        .control
        .set_lex_aliases(REPLICA, Some(vec![ALIAS_WEST.into(), other.into()]))
        .await
        .unwrap();
    assert_eq!(deployed.regions[REPLICA].len(), 2);
    assert_eq!(
        sim.control.lex_aliases().await.unwrap().regions[REPLICA].len(),
        2
    );
    assert_eq!(
        refused(
            c.associate_bot()
                .instance_id(INSTANCE)
                .lex_v2_bot(bot(other))
                .send()
                .await
        ),
        Ok(())
    );
    assert_eq!(aliases(&sim, REPLICA).await, [ALIAS_WEST, other]);
    assert_eq!(
        refused(
            c.disassociate_bot()
                .instance_id(INSTANCE)
                .lex_v2_bot(bot(other))
                .send()
                .await
        ),
        Ok(())
    );
    assert_eq!(aliases(&sim, REPLICA).await, [ALIAS_WEST]);
    // The source is untouched.
    assert_eq!(
        aliases(&sim, SOURCE).await,
        ["arn:aws:lex:us-east-1:123456789012:bot-alias/BOTID12345/ALIASID123"]
    );
}

#[tokio::test]
async fn flow_associations_of_numbers_are_answered_per_region() {
    let sim = Harness::start("small").await;
    let c = sim.client(SOURCE);
    let numbers = c
        .list_phone_numbers_v2()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let arns: Vec<String> = numbers
        .list_phone_numbers_summary_list()
        .iter()
        .map(|n| n.phone_number_arn().unwrap().to_string())
        .collect();
    assert_eq!(arns.len(), 3);
    let batch = |client: aws_sdk_connect::Client, ids: Vec<String>| async move {
        client
            .batch_get_flow_association()
            .instance_id(INSTANCE)
            .set_resource_ids(Some(ids))
            .resource_type(ListFlowAssociationResourceType::VoicePhoneNumber)
            .send()
            .await
    };
    let out = batch(c.clone(), arns.clone()).await.unwrap();
    let list = out.flow_association_summary_list();
    assert_eq!(list.len(), 3);
    let flow_ids: Vec<&str> = list.iter().map(|a| a.flow_id().unwrap()).collect();
    assert!(flow_ids
        .iter()
        .all(|f| f.starts_with("arn:aws:connect:us-east-1:") && f.contains("/contact-flow/")));
    assert_eq!(
        flow_ids[0], flow_ids[2],
        "both numbers point at Main inbound"
    );
    assert_eq!(list[0].resource_id(), Some(arns[0].as_str()));
    // Not replicated: the replica region has no instance.
    assert_eq!(
        refused(batch(sim.client(REPLICA), arns.clone()).await),
        Err("ResourceNotFoundException".into())
    );
    // Replicated: numbers claimed to the groups are answered from both regions, with the
    // flow of the region asked (same ID, mirrored).
    replicate(&sim, 600.0).await;
    let out = batch(sim.client(REPLICA), arns.clone()).await.unwrap();
    let west = out.flow_association_summary_list();
    assert_eq!(west.len(), 3);
    for (e, w) in list.iter().zip(west) {
        assert_eq!(
            e.flow_id().unwrap().replace("us-east-1", "us-west-2"),
            w.flow_id().unwrap()
        );
    }
    // Bad input.
    assert_eq!(
        refused(batch(c.clone(), Vec::new()).await),
        Err("InvalidParameterException".into())
    );
    let many: Vec<String> = (0..101).map(|_| arns[0].clone()).collect();
    assert_eq!(
        refused(batch(c, many).await),
        Err("InvalidParameterException".into())
    );
}
