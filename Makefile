.PHONY: rehearse test build demo bench-sim fmt lint clean

## The full rehearsal on this machine: replication, failover and failback against the local stack.
## SCENARIO=small|conflict|large (default small).
rehearse:
	SCENARIO=$(SCENARIO) scripts/rehearse.sh

## Everything CI checks: pinned tools, formatting, clippy, all tests.
test:
	scripts/test.sh

build:
	cargo build --workspace

## Starts the local Connect control plane on a scenario and drives it with the AWS CLI.
## SCENARIO=small|conflict|large (default small).
demo:
	scripts/demo.sh $(SCENARIO)

## Startup time and memory of connect-sim on `large`, against `small` as the baseline.
bench-sim:
	scripts/bench-sim.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	cargo clean
