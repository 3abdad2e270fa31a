//! A view of the fake world from one region: the call log, scripted failures, outages and
//! pacing that every operation goes through.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{FakeCall, FakeWorld};
use crate::connect::pace::Pacer;
use crate::connect::GroupSummary;
use crate::domain::Region;
use crate::error::{ConnectError, ConnectErrorClass};
use crate::run::handler as deadline;

/// A view of the fake world from one region.
#[derive(Clone, Debug)]
pub struct FakeConnect {
    pub(super) region: Region,
    pub world: Arc<Mutex<FakeWorld>>,
    /// When set, every call takes its operation's token first, as the SDK client's do
    /// (`acgr::connect::pace`), bounded by the task's deadline.
    pub(super) pacer: Option<Arc<Pacer>>,
}

impl FakeConnect {
    pub fn new(region: Region, world: Arc<Mutex<FakeWorld>>) -> Self {
        FakeConnect {
            region,
            world,
            pacer: None,
        }
    }

    /// Paced like the SDK clients: a token per call from `pacer`.
    pub fn paced(mut self, pacer: Arc<Pacer>) -> Self {
        self.pacer = Some(pacer);
        self
    }

    pub(super) async fn pace(&self, operation: &'static str) -> Result<(), ConnectError> {
        let Some(pacer) = &self.pacer else {
            return Ok(());
        };
        if pacer.bucket(operation).acquire(deadline::current()).await {
            Ok(())
        } else {
            Err(ConnectError {
                operation,
                region: self.region.to_string(),
                class: ConnectErrorClass::OutOfTime,
                code: "OutOfTime".into(),
                message: "its turn under the quota comes after the deadline".into(),
            })
        }
    }

    pub fn world(&self) -> MutexGuard<'_, FakeWorld> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn call(
        &self,
        operation: &'static str,
        target: &str,
    ) -> Result<MutexGuard<'_, FakeWorld>, ConnectError> {
        let mut w = self.world();
        w.calls.push(FakeCall {
            region: self.region.to_string(),
            operation,
            target: target.to_string(),
        });
        if w.down.contains(self.region.as_str()) {
            return Err(self.err(operation, "ServiceUnavailableException", "regional outage"));
        }
        if let Some((code, status)) = w.failures.get_mut(operation).and_then(VecDeque::pop_front) {
            let message = w.failure_message.as_deref().unwrap_or("scripted failure");
            let e = ConnectError {
                class: ConnectErrorClass::classify(&code, status),
                ..self.err(operation, &code, message)
            };
            if let (ConnectErrorClass::Throttled, Some(pacer)) = (e.class, &self.pacer) {
                pacer.bucket(operation).drain();
            }
            return Err(e);
        }
        Ok(w)
    }

    pub(super) fn err(&self, operation: &'static str, code: &str, message: &str) -> ConnectError {
        ConnectError {
            operation,
            region: self.region.to_string(),
            class: ConnectErrorClass::from_code(code),
            code: code.to_string(),
            message: message.to_string(),
        }
    }

    pub(super) fn group<'w>(
        &self,
        w: &'w FakeWorld,
        group: &str,
        operation: &'static str,
    ) -> Result<&'w (String, String, GroupSummary), ConnectError> {
        w.groups
            .iter()
            .find(|(home, other, g)| {
                (g.arn == group
                    && (*home == self.region.as_str() || *other == self.region.as_str()))
                    || (g.id == group && *home == self.region.as_str())
            })
            .ok_or_else(|| self.err(operation, "ResourceNotFoundException", "no such group here"))
    }
}
