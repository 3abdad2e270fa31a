//! How the world moves forward in simulated time: status transitions, staged replica failures,
//! and the mirroring work that fell due, except work held back by a regional outage.

use super::{default_attrs, Resource, Task, World};

impl World {
    /// Moves simulated time forward to `now`: status transitions, staged replica failures and
    /// mirroring work, in the order they fall due.
    pub fn advance(&mut self, now: f64) {
        loop {
            // Step to the next replica coming up or replica event, so that work due after a
            // failure is not applied before it.
            let ready = self
                .instances
                .values()
                .filter(|i| i.status == "CREATION_IN_PROGRESS" && i.ready_at <= now)
                .map(|i| i.ready_at)
                .min_by(f64::total_cmp);
            let event = self.next_replica_event(now);
            let until = [ready, event.as_ref().map(|(t, _)| *t)]
                .into_iter()
                .flatten()
                .fold(now, f64::min);
            self.advance_instances(until);
            self.advance_tdgs(until);
            self.advance_routing(until);
            self.run_tasks(until);
            self.decide_executions(until);
            match event {
                Some((at, id)) if at <= until => self.replica_event(at, &id),
                Some(_) => {}
                None if ready.is_some() => {}
                None => return,
            }
        }
    }

    /// Applies the mirroring work due by `now`, except work held back by a regional outage.
    fn run_tasks(&mut self, now: f64) {
        let cutoff = (now * 1000.0) as u64;
        if self.paused.is_empty() {
            while let Some(entry) = self.tasks.first_entry() {
                if entry.key().0 > cutoff {
                    break;
                }
                let ((due_ms, _), task) = entry.remove_entry();
                self.apply(due_ms as f64 / 1000.0, task);
            }
            return;
        }
        // Work that touches a region in an outage stays queued; the rest runs in order.
        let due: Vec<(u64, u64)> = self
            .tasks
            .range(..(cutoff + 1, 0))
            .filter(|(_, t)| !self.touches_paused(t))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            if let Some(task) = self.tasks.remove(&key) {
                self.apply(key.0 as f64 / 1000.0, task);
            }
        }
    }

    fn touches_paused(&self, t: &Task) -> bool {
        self.paused.contains(&t.from) || self.paused.contains(&t.to)
    }

    /// Stops mirroring to and from `region` (a simulated outage begins).
    pub fn pause(&mut self, region: &str) {
        self.paused.insert(region.to_string());
    }

    /// Resumes mirroring to and from `region` at `now`: the work held back while it was down,
    /// and not held by another outage, becomes due at `now`, in the order it was queued.
    pub fn resume(&mut self, region: &str, now: f64) {
        if !self.paused.remove(region) {
            return;
        }
        let now_ms = (now.max(0.0) * 1000.0) as u64;
        let held: Vec<(u64, u64)> = self
            .tasks
            .range(..(now_ms, 0))
            .filter(|(_, t)| (t.from == region || t.to == region) && !self.touches_paused(t))
            .map(|(k, _)| *k)
            .collect();
        for key in held {
            if let Some(task) = self.tasks.remove(&key) {
                self.tasks.insert((now_ms, key.1), task);
            }
        }
        self.advance(now);
    }

    fn advance_instances(&mut self, now: f64) {
        let ready: Vec<(String, String)> = self
            .instances
            .iter()
            .filter(|(_, i)| i.status == "CREATION_IN_PROGRESS" && i.ready_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in ready {
            let Some(inst) = self.instances.get(&key) else {
                continue;
            };
            let (ready_at, is_replica) = (inst.ready_at, inst.replica_of.is_some());
            let failed = is_replica && self.replica_comes_up(&key.1, ready_at);
            if let Some(inst) = self.instances.get_mut(&key) {
                inst.status = if failed { "CREATION_FAILED" } else { "ACTIVE" }.into();
            }
            if is_replica && !failed {
                self.seed_conflicts(&key.0, &key.1, ready_at);
            }
        }
    }

    /// Creates the replica-side look-alikes a scenario asks for, as if made by hand.
    fn seed_conflicts(&mut self, region: &str, instance_id: &str, at: f64) {
        let Some(rep) = self.replications.get_mut(instance_id) else {
            return;
        };
        if rep.seeded {
            return;
        }
        rep.seeded = true;
        let seeds = rep.conflict_seeds.clone();
        for (kind, name) in seeds {
            let id = self.ids.uuid();
            let Some(inst) = self.instance_mut(region, instance_id) else {
                return;
            };
            if inst.set(kind).and_then(|s| s.by_name(&name)).is_some() {
                continue;
            }
            let attrs = default_attrs(kind);
            inst.set_mut(kind).insert(Resource {
                id: if kind.has_id() { id } else { name.clone() },
                name,
                attrs,
                last_modified: at,
                last_modified_region: region.to_string(),
                default: false,
            });
        }
    }

    fn advance_tdgs(&mut self, now: f64) {
        let mut activated = Vec::new();
        let mut gone = Vec::new();
        for tdg in self.tdgs.values_mut() {
            // Updates are read per region from the group's versions; those both regions
            // applied are folded away.
            tdg.prune_versions(now);
            if tdg.until > now {
                continue;
            }
            match tdg.lifecycle.as_str() {
                "CREATION_IN_PROGRESS" if tdg.fail_creation => {
                    tdg.lifecycle = "CREATION_FAILED".into();
                }
                "CREATION_IN_PROGRESS" => {
                    tdg.lifecycle = "ACTIVE".into();
                    activated.push(tdg.id.clone());
                }
                "PENDING_DELETION" if tdg.fail_deletion => {
                    tdg.lifecycle = "DELETION_FAILED".into();
                    tdg.fail_deletion = false;
                }
                "PENDING_DELETION" => gone.push(tdg.id.clone()),
                _ => {}
            }
        }
        for id in gone {
            self.tdgs.remove(&id);
        }
        for id in activated {
            self.claim_numbers(&id);
        }
    }

    /// When a group becomes ACTIVE, the instance's phone numbers in no group move into it: into
    /// the default group those without a scenario group, into a named group those that name it.
    fn claim_numbers(&mut self, tdg_id: &str) {
        let Some(tdg) = self.tdgs.get(tdg_id) else {
            return;
        };
        let instance_arn = self.instance_arn(&tdg.home, &tdg.instance_id);
        let tdg_arn = self.tdg_arn(tdg);
        let home = tdg.home.clone();
        let wanted = (!tdg.is_default).then(|| tdg.name.clone());
        for n in self.numbers.values_mut() {
            if n.region == home && n.target_arn == instance_arn && n.group == wanted {
                n.target_arn = tdg_arn.clone();
            }
        }
    }
}
