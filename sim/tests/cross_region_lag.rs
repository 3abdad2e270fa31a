//! Connect's eventual consistency between regions for traffic distribution groups: an update
//! made in one region reaches the other `crossRegionLagSeconds` later, and concurrent updates
//! made in both regions converge last-writer-wins.

mod common;

use aws_sdk_connect::types::{Distribution, TelephonyConfig, TrafficDistributionGroupStatus};
use common::*;
use connect_sim::control::SettingsChange;
use serde_json::Value;

const LAG: f64 = 20.0;

fn telephony(source: i32) -> TelephonyConfig {
    let d = |r: &str, p: i32| {
        Distribution::builder()
            .region(r)
            .percentage(p)
            .build()
            .unwrap()
    };
    TelephonyConfig::builder()
        .distributions(d(SOURCE, source))
        .distributions(d(REPLICA, 100 - source))
        .build()
        .unwrap()
}

/// small, replicated and settled, with the lag given in its scenario settings.
async fn lagging() -> (Harness, String) {
    let mut scenario: Value = serde_json::from_str(&scenario_text("small")).unwrap();
    scenario["settings"]["crossRegionLagSeconds"] = LAG.into();
    let sim = Harness::start_text(&scenario.to_string(), Some(100.0)).await;
    sim.client(SOURCE)
        .replicate_instance()
        .instance_id(INSTANCE)
        .replica_region(REPLICA)
        .send()
        .await
        .expect("replicate");
    sim.advance(400.0).await;
    let arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();
    (sim, arn)
}

async fn status_in(sim: &Harness, region: &str, arn: &str) -> TrafficDistributionGroupStatus {
    sim.client(region)
        .describe_traffic_distribution_group()
        .traffic_distribution_group_id(arn)
        .send()
        .await
        .expect("describe")
        .traffic_distribution_group()
        .and_then(|g| g.status().cloned())
        .expect("a status")
}

/// The source region's telephony share and LastFailoverTime (epoch seconds) as `region`
/// reads them.
async fn split_in(sim: &Harness, region: &str, arn: &str) -> (i32, Option<i64>) {
    let got = sim
        .client(region)
        .get_traffic_distribution()
        .id(arn)
        .send()
        .await
        .expect("get");
    let source = got
        .telephony_config()
        .unwrap()
        .distributions()
        .iter()
        .find(|d| d.region() == SOURCE)
        .map(|d| d.percentage())
        .unwrap();
    (source, got.last_failover_time().map(|t| t.secs()))
}

async fn update_from(sim: &Harness, region: &str, arn: &str, source: i32) {
    sim.client(region)
        .update_traffic_distribution()
        .id(arn)
        .telephony_config(telephony(source))
        .send()
        .await
        .unwrap_or_else(|e| panic!("update from {region}: {e:?}"));
}

async fn sim_now(sim: &Harness) -> i64 {
    sim.control.clock().await.expect("clock").now.floor() as i64
}

#[tokio::test]
async fn an_update_reaches_the_other_region_only_after_the_lag() {
    let (sim, arn) = lagging().await;
    assert_eq!(
        sim.control
            .settings()
            .await
            .unwrap()
            .cross_region_lag_seconds,
        LAG
    );
    let before = split_in(&sim, REPLICA, &arn).await;
    assert_eq!(before, (100, None));

    // When the traffic is failed over from us-east-1.
    let called = sim_now(&sim).await;
    update_from(&sim, SOURCE, &arn, 0).await;

    // Then us-east-1 applies it, while us-west-2 still sees the group ACTIVE at the old split.
    use TrafficDistributionGroupStatus::{Active, UpdateInProgress};
    assert_eq!(status_in(&sim, SOURCE, &arn).await, UpdateInProgress);
    assert_eq!(status_in(&sim, REPLICA, &arn).await, Active);
    assert_eq!(split_in(&sim, REPLICA, &arn).await, (100, None));
    sim.advance(3.0).await;
    assert_eq!(status_in(&sim, SOURCE, &arn).await, Active);
    let (east_split, east_failover) = split_in(&sim, SOURCE, &arn).await;
    assert_eq!(east_split, 0);
    let failover = east_failover.expect("LastFailoverTime in us-east-1");
    assert!((failover - called).abs() <= 1, "{failover} vs {called}");
    assert_eq!(split_in(&sim, REPLICA, &arn).await, (100, None));

    // The state shows both views.
    let state = sim.state().await;
    let g = tdg_summary(&state, INSTANCE);
    assert_eq!(g.views[SOURCE].telephony[SOURCE], 0);
    assert_eq!(g.views[REPLICA].telephony[SOURCE], 100);
    assert_eq!(g.views[REPLICA].last_failover_time, None);
    assert_eq!(
        g.telephony[SOURCE], 0,
        "the top level is the home region's view"
    );
    assert_eq!(g.pending_updates, 1);

    // When the lag has passed, us-west-2 is applying it: busy, as us-east-1 was.
    sim.advance(LAG - 3.0).await;
    assert_eq!(status_in(&sim, REPLICA, &arn).await, UpdateInProgress);
    let err = sim
        .client(REPLICA)
        .get_traffic_distribution()
        .id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidRequestException");
    let err = sim
        .client(REPLICA)
        .update_traffic_distribution()
        .id(&arn)
        .telephony_config(telephony(100))
        .send()
        .await
        .unwrap_err();
    assert!(message(&err).contains("UPDATE_IN_PROGRESS"), "{err:?}");
    assert_eq!(status_in(&sim, SOURCE, &arn).await, Active);

    // And then it reads the new split and the same LastFailoverTime.
    sim.advance(3.0).await;
    assert_eq!(status_in(&sim, REPLICA, &arn).await, Active);
    assert_eq!(split_in(&sim, REPLICA, &arn).await, (0, Some(failover)));
    let state = sim.state().await;
    let g = tdg_summary(&state, INSTANCE);
    assert_eq!(g.views[SOURCE], g.views[REPLICA]);
    assert_eq!(g.pending_updates, 0);
}

#[tokio::test]
async fn concurrent_updates_from_both_regions_converge_last_writer_wins() {
    let (sim, arn) = lagging().await;

    // Given us-east-1 fails over, and 2 s later us-west-2, not seeing it yet, sets 50/50.
    update_from(&sim, SOURCE, &arn, 0).await;
    sim.advance(2.0).await;
    let west_called = sim_now(&sim).await;
    update_from(&sim, REPLICA, &arn, 50).await;

    // Then each region applies its own first: they disagree.
    sim.advance(4.0).await;
    assert_eq!(split_in(&sim, SOURCE, &arn).await.0, 0);
    assert_eq!(split_in(&sim, REPLICA, &arn).await.0, 50);

    // When us-east-1's update reaches us-west-2, it was applied earlier: us-west-2 keeps its own
    // (while us-east-1 is applying us-west-2's).
    sim.advance(LAG - 2.0).await;
    assert_eq!(split_in(&sim, REPLICA, &arn).await.0, 50);
    assert_eq!(
        status_in(&sim, SOURCE, &arn).await,
        TrafficDistributionGroupStatus::UpdateInProgress
    );

    // And when us-west-2's reaches us-east-1, both agree on the last one applied.
    sim.advance(3.0).await;
    let (east, east_failover) = split_in(&sim, SOURCE, &arn).await;
    let (west, west_failover) = split_in(&sim, REPLICA, &arn).await;
    assert_eq!((east, west), (50, 50));
    assert_eq!(east_failover, west_failover);
    let failover = west_failover.expect("LastFailoverTime");
    assert!(
        (failover - west_called).abs() <= 1,
        "{failover} vs {west_called}"
    );
    let state = sim.state().await;
    let g = tdg_summary(&state, INSTANCE);
    assert_eq!(g.views[SOURCE], g.views[REPLICA]);
    assert_eq!(g.pending_updates, 0);
}

#[tokio::test]
async fn the_lag_is_zero_by_default_and_changes_at_run_time() {
    let sim = replicated(400.0).await;
    let arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();
    assert_eq!(
        sim.control
            .settings()
            .await
            .unwrap()
            .cross_region_lag_seconds,
        0.0
    );

    // With no lag both regions see an update at once.
    update_from(&sim, SOURCE, &arn, 0).await;
    assert_eq!(
        status_in(&sim, REPLICA, &arn).await,
        TrafficDistributionGroupStatus::UpdateInProgress
    );
    sim.advance(3.0).await;
    assert_eq!(split_in(&sim, REPLICA, &arn).await.0, 0);

    // A lag set at run time applies to the updates made afterwards.
    let set = sim
        .control
        .change_settings(&SettingsChange {
            cross_region_lag_seconds: Some(LAG),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(set.cross_region_lag_seconds, LAG);
    update_from(&sim, SOURCE, &arn, 100).await;
    sim.advance(3.0).await;
    assert_eq!(split_in(&sim, SOURCE, &arn).await.0, 100);
    assert_eq!(split_in(&sim, REPLICA, &arn).await.0, 0);
    let refused = sim
        .control
        .change_settings(&SettingsChange {
            cross_region_lag_seconds: Some(-1.0),
            ..Default::default()
        })
        .await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn an_update_that_keeps_the_split_keeps_last_failover_time() {
    let sim = replicated(400.0).await;
    let arn = tdg_summary(&sim.state().await, INSTANCE).arn.clone();
    update_from(&sim, SOURCE, &arn, 0).await;
    sim.advance(3.0).await;
    let (_, first) = split_in(&sim, SOURCE, &arn).await;
    assert!(first.is_some());

    // The same split again, 60 s later: LastFailoverTime stays.
    sim.advance(60.0).await;
    update_from(&sim, SOURCE, &arn, 0).await;
    sim.advance(3.0).await;
    assert_eq!(split_in(&sim, SOURCE, &arn).await, (0, first));
}
