.PHONY: rehearse test build package bench bench-packages chaos deploy demo bench-sim fmt lint audit clean

## The full rehearsal on this machine: replication, failover and failback, then the region-outage
## drill (the source region down, failover from the replica region alone, failback).
## SCENARIO=small|conflict|findings|medium|large|legacy (default small; legacy: an instance created before global routing).
rehearse:
	SCENARIO=$(SCENARIO) scripts/rehearse.sh

## Everything CI checks: pinned tools, formatting, clippy, all tests.
test:
	scripts/test.sh

build:
	cargo build --workspace

## The deployable package of each function, as `sam build` makes it: one `cargo lambda build
## --release --arm64` of every function, zipped into target/lambda/<function>/bootstrap.zip.
package:
	scripts/package.sh

## The figures of BENCHMARKS.md, measured in one run and written there: agent association against
## Connect's quota, the incremental sync, the runbook way, mirroring polls, preflight at real
## quotas, the packages (built by `make package` first; slow the first time), failover.
## BENCH=reduced: small sizes, no packaging (target/bench/BENCHMARKS.reduced.md).
bench:
	scripts/bench.sh $(if $(filter reduced,$(BENCH)),--reduced)

## Section 6 of BENCHMARKS.md alone (the packages, init and memory against bench/hello), its rows
## replaced in place: after a change to what a function does at cold start.
bench-packages:
	scripts/bench.sh --only-packages

## One step with an example event on the local stack: make invoke-preflight (EVENT=small,
## SCENARIO=small), the event being tests/events/<function>/<EVENT>.json.
invoke-%:
	scripts/setup.sh
	cargo build --workspace --bins
	target/debug/invoke $* --event $(or $(EVENT),small) --scenario $(or $(SCENARIO),small)

## Deploys the stack in both regions of the pair, the source region first (it creates the global
## table): make deploy INSTANCE_ID=... SOURCE_REGION=us-east-1 REPLICA_REGION=us-west-2
## PUBLISHERS=arn:aws:iam::ACCOUNT:role/incident-tooling[,...]. Needs the AWS SAM CLI.
deploy:
	@test -n "$(INSTANCE_ID)" -a -n "$(SOURCE_REGION)" -a -n "$(REPLICA_REGION)" -a -n "$(PUBLISHERS)" \
	  || { echo "make deploy INSTANCE_ID=... SOURCE_REGION=... REPLICA_REGION=... PUBLISHERS=..."; exit 2; }
	sam build
	for region in $(SOURCE_REGION) $(REPLICA_REGION); do \
	  sam deploy --region $$region --stack-name acgr-$(INSTANCE_ID) --capabilities CAPABILITY_IAM \
	    --resolve-s3 --no-confirm-changeset --parameter-overrides InstanceId=$(INSTANCE_ID) \
	    SourceRegion=$(SOURCE_REGION) ReplicaRegion=$(REPLICA_REGION) \
	    IncidentPublisherArns=$(PUBLISHERS) || exit 1; \
	done

## Starts the local Connect control plane on a scenario and drives it with the AWS CLI.
## SCENARIO=small|conflict|findings|medium|large|legacy (default small; legacy: an instance created before global routing).
demo:
	scripts/demo.sh $(SCENARIO)

## The chaos drill, long form: faults, kills, concurrent runs, hostile input, least privilege,
## logs; prints the figures and writes target/chaos/RELIABILITY.md (make test runs it reduced).
chaos:
	scripts/chaos.sh

## Startup time and memory of connect-sim on `large`, against `small` as the baseline.
bench-sim:
	scripts/bench-sim.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

## Dependency policy (deny.toml), advisories included: needs github.com (the advisory database).
audit:
	scripts/setup.sh
	.tools/cargo-deny/bin/cargo-deny check

clean:
	cargo clean
