//! What names a run: its ID (any valid Step Functions execution name), the state machine it
//! belongs to, and the idempotency tokens derived from both and the instance.

use crate::domain::Arn;
use crate::error::StepError;

/// A run ID: any valid Step Functions execution name (the machines default the run ID to it): 1
/// to 80 characters, none of them whitespace, a control character (U+0000-001F, U+007F-009F),
/// U+FFFE, U+FFFF, U+10FFFF, a backtick or one of `< > { } [ ] ? * " # % \ ^ | ~ $ & , ; : /`.
/// Without `#` it cannot run into the next part of a sort key (`RUN#<runId>`,
/// `SHIFT#...#<runId>#...`, `HARDCODED#<runId>#...`); 80 characters of at most 4 bytes keep every
/// key far below DynamoDB's 1024 bytes.
pub fn check_run_id(run_id: &str) -> Result<(), StepError> {
    let allowed = |c: char| {
        !(c.is_whitespace()
            || c.is_control()
            || matches!(c, '\u{fffe}' | '\u{ffff}' | '\u{10ffff}')
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c))
    };
    let ok = (1..=80).contains(&run_id.chars().count()) && run_id.chars().all(allowed);
    if ok {
        Ok(())
    } else {
        Err(StepError::InvalidInput(format!(
            "runId '{}' must be a valid execution name: 1 to 80 characters, no whitespace, \
             control characters or any of <>{{}}[]?*\"#%\\^|~`$&,;:/",
            crate::error::shown(run_id)
        )))
    }
}

/// The state machine of a Step Functions execution (`$$.Execution.Id`), as `$$.StateMachine.Id`
/// names it: `arn:<partition>:states:<region>:<account>:stateMachine:<name>`. A run belongs to
/// the machine that drives it; `None` for anything that is not an execution ARN.
pub fn machine_of(execution_arn: &str) -> Option<String> {
    let arn = Arn::parse(execution_arn).filter(|a| a.service == "states")?;
    let parts: Vec<&str> = arn.resource.split(':').collect();
    match parts.as_slice() {
        ["execution" | "express", name, _, ..] if !name.is_empty() => Some(format!(
            "arn:{}:states:{}:{}:stateMachine:{name}",
            arn.partition, arn.region, arn.account
        )),
        _ => None,
    }
}

/// An idempotency token of a run's call (`prefix` and 32 hex digits: ASCII, 47 characters for
/// `acgr-replicate`), derived from the instance, the run's machine (or, for a step invoked by
/// hand, its kind) and the run ID: stable across the retries and restarts of the run, never
/// shared by two instances or two machines. Connect's ClientToken allows 500 characters.
pub fn run_token(prefix: &str, instance_id: &str, scope: &str, run_id: &str) -> String {
    // FNV-1a, 128 bits: stable across builds (std's hasher is not), no collision in practice.
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    for part in [instance_id, scope, run_id] {
        for b in part.bytes().chain([0]) {
            hash ^= u128::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("{prefix}-{hash:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_the_execution_names_step_functions_accepts() {
        let long = "x".repeat(80);
        let wide = "\u{1f680}".repeat(80);
        for ok in [
            "run-2026.11_25",
            "INC-1234",
            "r\u{e9}plique-\u{fc}",
            "\u{65e5}\u{672c}",
            "a'b(c)!@+=",
            long.as_str(),
            wide.as_str(),
        ] {
            assert!(check_run_id(ok).is_ok(), "{ok}");
        }
        let too_long = "x".repeat(81);
        for bad in [
            "",
            "bad id",
            "a\tb",
            "a\u{a0}b",
            "a#b",
            "a/b",
            "a:b",
            "a\\b",
            "{x}",
            "[x]",
            "<x>",
            "a?",
            "a*",
            "a\"b",
            "a%b",
            "a^b",
            "a|b",
            "a~b",
            "a`b",
            "a$b",
            "a&b",
            "a,b",
            "a;b",
            "a\u{7f}",
            "a\u{85}",
            "a\u{9f}",
            "a\u{fffe}",
            "a\u{ffff}",
            "a\u{10ffff}",
            too_long.as_str(),
        ] {
            let e = check_run_id(bad).unwrap_err();
            assert_eq!(e.error_type(), "InvalidInput", "{bad:?}");
        }
    }

    #[test]
    fn a_run_belongs_to_the_state_machine_of_its_execution() {
        assert_eq!(
            machine_of("arn:aws:states:us-east-1:123456789012:execution:replication:run-1")
                .as_deref(),
            Some("arn:aws:states:us-east-1:123456789012:stateMachine:replication")
        );
        assert_eq!(
            machine_of("arn:aws-us-gov:states:us-gov-west-1:1:express:sync:run-1:5f1e").as_deref(),
            Some("arn:aws-us-gov:states:us-gov-west-1:1:stateMachine:sync")
        );
        for not in [
            "arn:x",
            "arn:aws:states:us-east-1:1:stateMachine:replication",
            "arn:aws:lambda:us-east-1:1:function:replicate",
            "",
        ] {
            assert_eq!(machine_of(not), None, "{not}");
        }
    }

    #[test]
    fn run_tokens_are_scoped_by_instance_machine_and_run() {
        let m = "arn:aws:states:us-east-1:1:stateMachine:replication";
        let t = run_token("acgr-replicate", "i-1", m, "run-1");
        assert_eq!(t, run_token("acgr-replicate", "i-1", m, "run-1"), "stable");
        assert!(t.is_ascii() && t.len() == 47, "{t}");
        for other in [
            run_token("acgr-replicate", "i-2", m, "run-1"),
            run_token(
                "acgr-replicate",
                "i-1",
                "arn:aws:states:us-west-2:1:stateMachine:replication",
                "run-1",
            ),
            run_token("acgr-replicate", "i-1", m, "run-2"),
            run_token("acgr-replicate", "i-1run-1", m, ""),
        ] {
            assert_ne!(t, other);
        }
        // the same on every build: a retried run after a deployment sends the same token
        assert_eq!(
            run_token("acgr-replicate", "i", "m", "r"),
            "acgr-replicate-6debbd45cc3c64bf6ef497942197a63b"
        );
        assert!(run_token("acgr-replicate", "i", "m", "\u{65e5}\u{672c}").is_ascii());
    }
}
