//! What a scenario holds reads back through the API: integrations, flows and attributes, and
//! the large scenario generated from its compact description.

mod common;

use common::*;
use connect_sim::kinds::Kind;

#[tokio::test]
async fn integrations_flows_and_attributes_read_back_from_the_scenario() {
    let sim = Harness::start("small").await;
    let east = sim.client(SOURCE);
    let lambdas = east
        .list_lambda_functions()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(lambdas.lambda_functions().len(), 2);
    let v2 = east
        .list_bots()
        .instance_id(INSTANCE)
        .lex_version(aws_sdk_connect::types::LexVersion::V2)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.lex_bots().len(), 1);
    assert!(v2.lex_bots()[0].lex_v2_bot().is_some());
    let v1 = east
        .list_lex_bots()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.lex_bots()[0].name(), "AcmeOrderBot");

    let flows = east
        .list_contact_flows()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let main = flows
        .contact_flow_summary_list()
        .iter()
        .find(|f| f.name() == Some("Main inbound"))
        .unwrap();
    let flow = east
        .describe_contact_flow()
        .instance_id(INSTANCE)
        .contact_flow_id(main.id().unwrap())
        .send()
        .await
        .unwrap();
    let content = flow.contact_flow().unwrap().content().unwrap();
    assert!(
        content.contains("arn:aws:lambda:us-east-1:"),
        "the flow hardcodes a regional ARN"
    );
    let draft = flows
        .contact_flow_summary_list()
        .iter()
        .find(|f| f.name() == Some("Draft callback"))
        .unwrap();
    let err = east
        .describe_contact_flow()
        .instance_id(INSTANCE)
        .contact_flow_id(draft.id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ContactFlowNotPublishedException");
    east.describe_contact_flow()
        .instance_id(INSTANCE)
        .contact_flow_id(format!("{}:$SAVED", draft.id().unwrap()))
        .send()
        .await
        .expect("the saved version");
    let modules = east
        .list_contact_flow_modules()
        .instance_id(INSTANCE)
        .send()
        .await
        .unwrap();
    let module_id = modules.contact_flow_modules_summary_list()[0].id().unwrap();
    let module = east
        .describe_contact_flow_module()
        .instance_id(INSTANCE)
        .contact_flow_module_id(module_id)
        .send()
        .await
        .unwrap();
    let module = module.contact_flow_module().unwrap();
    assert_eq!(module.name(), Some("Order status"));
    assert!(module.content().unwrap().contains("arn:aws:lex:us-east-1:"));
    let err = east
        .describe_contact_flow_module()
        .instance_id(INSTANCE)
        .contact_flow_module_id("no-such-module")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");

    let attr = east
        .describe_instance_attribute()
        .instance_id(INSTANCE)
        .attribute_type(aws_sdk_connect::types::InstanceAttributeType::ContactLens)
        .send()
        .await
        .unwrap();
    assert_eq!(attr.attribute().unwrap().value(), Some("true"));
    let number = east.list_phone_numbers_v2().send().await.unwrap();
    let id = number.list_phone_numbers_summary_list()[0]
        .phone_number_id()
        .unwrap();
    let described = east
        .describe_phone_number()
        .phone_number_id(id)
        .send()
        .await
        .unwrap();
    assert!(described
        .claimed_phone_number_summary()
        .unwrap()
        .target_arn()
        .unwrap()
        .contains(":instance/"));
    let err = sim
        .client(REPLICA)
        .describe_phone_number()
        .phone_number_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        "ResourceNotFoundException",
        "a number outside any group stays in its region"
    );
}

#[tokio::test]
async fn the_large_scenario_is_generated_from_its_compact_description() {
    let sim = Harness::start("large").await;
    let state = sim.state().await;
    let counts = &state.instances[0].counts;
    assert_eq!(counts[&Kind::Users], 10_000);
    assert_eq!(counts[&Kind::Queues], 501);
    assert_eq!(counts[&Kind::ContactFlows], 300);
    let east = sim.client(SOURCE);
    let page = east
        .list_users()
        .instance_id("9d2e7c41-5b8a-4f0e-b6d3-1a2c3e4f5a6b")
        .max_results(1000)
        .send()
        .await
        .unwrap();
    assert_eq!(page.user_summary_list().len(), 1000);
    assert!(page.next_token().is_some());
}
