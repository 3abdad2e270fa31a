//! The contract between the steps and the state machines: every error name an ASL `Retry` or
//! `Catch` matches is a `StepError` name or a service name (`States.*`, `Lambda.*`,
//! `Sandbox.*`, `Runtime.*`), and every Lambda task retries every retryable `StepError` (a step
//! that returns one keeps its run and its lock for the retry).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::path::Path;

use acgr::StepError;
use serde_json::Value;

fn machines() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../statemachine");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("statemachine/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("read");
            let v: Value = serde_json::from_str(&text).expect("ASL is JSON");
            out.push((path.display().to_string(), v));
        }
    }
    assert!(out.len() >= 3, "{out:?}");
    out
}

/// (machine, state, state) for every Task state that invokes a step.
fn lambda_tasks() -> Vec<(String, String, Value)> {
    machines()
        .into_iter()
        .flat_map(|(m, v)| {
            v["States"]
                .as_object()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, s)| s["Resource"] == "arn:aws:states:::lambda:invoke")
                .map(move |(name, s)| (m.clone(), name, s))
        })
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["ErrorEquals"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_matched_error_name_exists() {
    let ours: Vec<&str> = StepError::every().iter().map(|e| e.error_type()).collect();
    for (m, v) in machines() {
        for (state, s) in v["States"].as_object().into_iter().flatten() {
            for name in names(&s["Retry"]).into_iter().chain(names(&s["Catch"])) {
                let service = ["States.", "Lambda.", "Sandbox.", "Runtime."]
                    .iter()
                    .any(|p| name.starts_with(p));
                assert!(
                    service || ours.contains(&name.as_str()),
                    "{m} {state}: {name} is neither a StepError nor a service error"
                );
            }
        }
    }
}

#[test]
fn every_step_task_retries_every_retryable_error_and_catches_the_rest() {
    let retryable: Vec<&str> = StepError::every()
        .iter()
        .filter(|e| e.is_retryable())
        .map(|e| e.error_type())
        .collect();
    assert_eq!(retryable, ["Throttled", "Transient", "NotReady"]);
    let tasks = lambda_tasks();
    assert!(tasks.len() >= 8, "{tasks:?}");
    // associate-agents waits (NotReady) for the group and the replica's users in both machines
    // that run it
    for machine in ["replication.asl.json", "agent-sync.asl.json"] {
        assert!(
            tasks.iter().any(|(m, state, s)| m.ends_with(machine)
                && state == "AssociateAgents"
                && names(&s["Retry"]).iter().any(|r| r == "NotReady")),
            "{machine}: AssociateAgents does not retry NotReady"
        );
    }
    for (m, state, s) in tasks {
        let retried = names(&s["Retry"]);
        for name in &retryable {
            assert!(
                retried.iter().any(|r| r == name),
                "{m} {state} does not retry {name}"
            );
        }
        assert!(
            names(&s["Catch"]).iter().any(|c| c == "States.ALL"),
            "{m} {state} does not catch into RecordFailure"
        );
        // a function killed or timed out mid-work is run again: every step resumes from what
        // it recorded (found by the chaos drill: a crashed replication used to fail the run)
        for crash in ["Runtime.ExitError", "Sandbox.Timedout", "States.Timeout"] {
            assert!(
                retried.iter().any(|r| r == crash),
                "{m} {state} does not retry {crash}"
            );
        }
        // every other name fails the run at once: caught (by States.ALL), never retried
        for never in StepError::every().iter().filter(|e| !e.is_retryable()) {
            let never = never.error_type();
            assert!(
                !retried.iter().any(|r| r == never),
                "{m} {state} retries {never}"
            );
        }
        assert!(
            !retried.iter().any(|r| r == "States.ALL"),
            "{m} {state} retries everything"
        );
    }
}

/// The states a state can go to next (Next, Default, Choices, Catch).
fn successors(state: &Value) -> Vec<String> {
    let mut out: Vec<String> = ["Next", "Default"]
        .iter()
        .filter_map(|k| state[*k].as_str().map(str::to_string))
        .collect();
    for list in ["Choices", "Catch"] {
        for c in state[list].as_array().into_iter().flatten() {
            out.extend(c["Next"].as_str().map(str::to_string));
        }
    }
    out
}

#[test]
fn every_machine_checks_its_execution_input_in_its_first_step() {
    for (path, machine) in machines() {
        let name = Path::new(&path)
            .file_name()
            .and_then(|f| f.to_str())
            .and_then(|f| f.strip_suffix(".asl.json"))
            .expect("<machine>.asl.json")
            .to_string();
        // the members the machine reads: its defaults and every $.config.<member>
        let text = machine.to_string();
        let mut read: Vec<String> = machine["States"]["Defaults"]["Result"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for piece in text.split("$.config.").skip(1) {
            let member: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            read.push(member);
        }
        read.sort();
        read.dedup();
        // ...are the members of the machine's request type
        let machine_type = acgr::run::Machine::parse(&name)
            .unwrap_or_else(|| panic!("{name} has no request type (acgr::run::request)"));
        let mut typed: Vec<String> = machine_type
            .members()
            .iter()
            .map(|m| m.to_string())
            .collect();
        typed.sort();
        assert_eq!(
            read, typed,
            "{name}: the ASL reads the request type's members"
        );

        // every step reached before any other step is given the execution input to check
        let states = &machine["States"];
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![machine["StartAt"].as_str().expect("StartAt").to_string()];
        let mut first = Vec::new();
        while let Some(s) = todo.pop() {
            if !seen.insert(s.clone()) {
                continue;
            }
            let state = &states[&s];
            if state["Resource"] == "arn:aws:states:::lambda:invoke" {
                first.push(s);
            } else {
                todo.extend(successors(state));
            }
        }
        assert!(!first.is_empty(), "{name}: no step");
        for s in first {
            let given = &states[&s]["Parameters"]["Payload"]["executionInput"];
            assert_eq!(given["machine"], name.as_str(), "{name}.{s}: {given}");
            assert_eq!(
                given["input.$"], "$$.Execution.Input",
                "{name}.{s}: {given}"
            );
        }
    }
}
