//! `grctl report --html FILE`: one self-contained page (inline CSS and SVG, no script, nothing
//! fetched) with each group's telephony per region over time, mirroring per kind, the agents and
//! the findings: what an operator attaches to an incident review.

use std::fmt::Write as _;

use acgr::traffic::{ShiftRecord, ShiftStatus};

use crate::status::{Status, WireName};

/// `&`, `<`, `>`, `"` escaped.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One group's telephony share of `region` over time: (epoch seconds, percent), stepwise.
fn series(shifts: &[&ShiftRecord], region: &str, now: i64, live: Option<u8>) -> Vec<(i64, u8)> {
    let share = |entries: &[(acgr::domain::Region, u8)]| {
        entries
            .iter()
            .find(|(r, _)| r.as_str() == region)
            .map_or(0, |(_, p)| *p)
    };
    let mut points = Vec::new();
    for s in shifts {
        if points.is_empty() {
            points.push((s.at, share(&s.before.telephony)));
        }
        if s.status == ShiftStatus::Done {
            points.push((
                s.completed_at.unwrap_or(s.at),
                share(s.after.telephony().entries()),
            ));
        }
    }
    if let Some(p) = live {
        points.push((now, p));
    }
    points
}

/// One line of a chart: its label, its colour, its (epoch seconds, percent) points.
type Line = (String, &'static str, Vec<(i64, u8)>);

/// A step chart of percent over time, 600x160.
fn chart(lines: &[Line]) -> String {
    let (w, h, pad) = (600.0, 160.0, 30.0);
    let xs: Vec<i64> = lines
        .iter()
        .flat_map(|(_, _, p)| p.iter().map(|x| x.0))
        .collect();
    let (t0, t1) = (
        xs.iter().copied().min().unwrap_or(0),
        xs.iter().copied().max().unwrap_or(1),
    );
    // a margin before the first shift, so the split it started from shows
    let t0 = t0 - ((t1 - t0) / 10).max(1);
    let span = ((t1 - t0).max(1)) as f64;
    let x = |t: i64| pad + (t - t0) as f64 / span * (w - 2.0 * pad);
    let y = |p: u8| h - pad - f64::from(p) / 100.0 * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\">\
         <line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>\
         <text x=\"2\" y=\"{}\" font-size=\"10\">100%</text><text x=\"2\" y=\"{}\" font-size=\"10\">0%</text>",
        h - pad,
        w - pad,
        h - pad,
        y(100) + 4.0,
        y(0)
    );
    for (i, (label, color, points)) in lines.iter().enumerate() {
        let mut d = String::new();
        for (j, (t, p)) in points.iter().enumerate() {
            if j == 0 {
                let _ = write!(d, "M{:.1},{:.1}", x(*t), y(*p));
            } else {
                // hold the previous value until the change
                let _ = write!(d, " H{:.1} V{:.1}", x(*t), y(*p));
            }
        }
        // the second region's line dashed and 3 px lower: the two always sum to 100
        let (dash, shift) = if i == 0 {
            ("", 0.0)
        } else {
            (" stroke-dasharray=\"6 4\"", 3.0)
        };
        let _ = write!(
            svg,
            "<path d=\"{d}\" transform=\"translate(0 {shift})\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{color}\">{}</text>",
            w - 150.0,
            14.0 + 13.0 * i as f64,
            esc(label)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{pad}\" y=\"{}\" font-size=\"10\">{t0}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{t1} (epoch s)</text></svg>",
        h - 8.0,
        w - pad,
        h - 8.0
    );
    svg
}

/// A horizontal bar: `value` of `total`.
fn bar(value: u64, total: u64, color: &str) -> String {
    let width = if total == 0 {
        0.0
    } else {
        200.0 * value as f64 / total as f64
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"204\" height=\"14\">\
         <rect x=\"0\" y=\"1\" width=\"202\" height=\"12\" fill=\"none\" stroke=\"#bbb\"/>\
         <rect x=\"1\" y=\"2\" width=\"{width:.1}\" height=\"10\" fill=\"{color}\"/></svg>"
    )
}

/// The page.
pub fn html(status: &Status, shifts: &[ShiftRecord], now: i64) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>ACGR report: {id}</title><style>\
         body{{font-family:sans-serif;margin:24px;color:#222}} h2{{margin-top:28px}}\
         table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}\
         .bad{{color:#b00}} .ok{{color:#070}}</style></head><body>\
         <h1>Amazon Connect Global Resiliency: {id}</h1>\
         <p>{src} &rarr; {rep}; generated at {now} (epoch seconds)</p>",
        id = esc(&status.instance_id),
        src = esc(&status.source_region),
        rep = esc(&status.replica_region),
    );
    page.push_str("<h2>Regions</h2><table><tr><th>region</th><th>Connect</th><th>run table</th><th>instance</th><th>cross-region routing</th></tr>");
    for r in &status.regions {
        let reach = |ok: bool| {
            if ok {
                "<span class=\"ok\">answered</span>"
            } else {
                "<span class=\"bad\">did not answer</span>"
            }
        };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.region),
            reach(r.connect.ok()),
            reach(r.table.ok()),
            esc(r
                .instance
                .as_ref()
                .and_then(|i| i.status.as_deref())
                .unwrap_or("-")),
            esc(&r.routing.as_ref().map_or("-".into(), |x| x.describe()))
        );
    }
    page.push_str("</table><h2>Telephony per group over time</h2>");
    let colors = ["#1f77b4", "#d62728"];
    for g in &status.groups {
        let mut mine: Vec<&ShiftRecord> = shifts.iter().filter(|s| s.group_arn == g.arn).collect();
        mine.sort_by_key(|s| (s.at, s.completed_at));
        let lines: Vec<Line> = [&status.source_region, &status.replica_region]
            .into_iter()
            .zip(colors)
            .map(|(region, color)| {
                let live = g.live.as_ref().map(|d| {
                    d.telephony
                        .iter()
                        .find(|(r, _)| r.as_str() == region)
                        .map_or(0, |(_, p)| *p)
                });
                (region.clone(), color, series(&mine, region, now, live))
            })
            .collect();
        let _ = write!(
            page,
            "<h3>{}{}</h3><p>{} shifts on record</p>{}",
            esc(&g.name),
            if g.is_default { " (default)" } else { "" },
            mine.len(),
            chart(&lines)
        );
    }
    page.push_str("<h2>Mirroring per kind</h2><table><tr><th>kind</th><th>source</th><th>replica</th><th>missing</th><th>conflicts</th><th>findings</th><th></th></tr>");
    for k in &status.mirroring {
        let n = |v: Option<u64>| v.map_or("-".to_string(), |n| n.to_string());
        let findings = k.missing_dependencies + k.sync_failures + k.not_mirrored + k.unknown;
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&k.kind.wire()),
            n(k.source),
            n(k.replica),
            k.missing,
            k.conflicting,
            findings,
            bar(k.replica.unwrap_or(0), k.source.unwrap_or(0), "#2ca02c")
        );
    }
    page.push_str("</table><h2>Agents</h2>");
    match &status.agents {
        Some(a) => {
            let _ = write!(
                page,
                "<p>{} of {} associated with the default group, {} waiting for the replica {}</p>",
                a.associated,
                a.total,
                a.waiting,
                bar(a.associated, a.total, "#1f77b4")
            );
        }
        None => page.push_str("<p>no agent sync on record</p>"),
    }
    page.push_str("<h2>Findings and conflicts</h2><ul>");
    for k in &status.mirroring {
        for f in &k.findings {
            let _ = write!(
                page,
                "<li>{} {} ({}): {}</li>",
                esc(&f.resource_type),
                esc(f.name.as_deref().unwrap_or(&f.id)),
                esc(&f.class.wire()),
                esc(&f.fix)
            );
        }
    }
    for t in &status.types {
        for f in &t.findings {
            let _ = write!(
                page,
                "<li>{} {} ({}{}): {}</li>",
                esc(&t.resource_type),
                esc(f.label()),
                esc(f.class.key()),
                esc(&f
                    .reference_code
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default()),
                esc(&f.fix)
            );
        }
    }
    for c in &status.conflicts {
        let _ = write!(
            page,
            "<li class=\"bad\">name conflict: {} {}: {}</li>",
            esc(&c.kind),
            esc(&c.name),
            esc(&c.fix)
        );
    }
    if status.conflicts.is_empty()
        && status.mirroring.iter().all(|k| k.findings.is_empty())
        && status.types.iter().all(|t| t.findings.is_empty())
    {
        page.push_str("<li class=\"ok\">none</li>");
    }
    page.push_str("</ul><h2>Never mirrored by design</h2><ul>");
    for (what, fix) in acgr::mirroring::finding_types::NOT_MIRRORED_BY_DESIGN {
        let _ = write!(page, "<li>{}: {}</li>", esc(what), esc(fix));
    }
    page.push_str("</ul></body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use acgr::connect::CurrentDistribution;
    use acgr::domain::{Region, RegionPair, TrafficPlan};

    fn shift(at: i64, done: i64, from_east: u8, to_east: u8) -> ShiftRecord {
        let east = Region::parse("us-east-1").unwrap();
        let west = Region::parse("us-west-2").unwrap();
        let split = |p: u8| vec![(east.clone(), p), (west.clone(), 100 - p)];
        let pair = RegionPair::new(east.clone(), west.clone());
        let after = TrafficPlan::new(&pair, &split(to_east), &split(to_east), None).unwrap();
        ShiftRecord {
            instance_id: "i".into(),
            run_id: format!("r{at}"),
            group_arn: "g".into(),
            status: ShiftStatus::Done,
            reason: "failover".into(),
            before: CurrentDistribution {
                telephony: split(from_east),
                agents: split(from_east),
                sign_in: None,
            },
            after,
            called_in: "us-west-2".into(),
            at,
            completed_at: Some(done),
            completed_at_ms: None,
            reconciled_by: None,
            fence: None,
            applied_fence: None,
        }
    }

    #[test]
    fn a_region_s_series_starts_before_the_first_shift_and_steps_at_each_completion() {
        let (over, back) = (shift(100, 102, 100, 0), shift(200, 203, 0, 100));
        let points = series(&[&over, &back], "us-east-1", 300, Some(100));
        assert_eq!(points, vec![(100, 100), (102, 0), (203, 100), (300, 100)]);
        let west = series(&[&over, &back], "us-west-2", 300, None);
        assert_eq!(west, vec![(100, 0), (102, 100), (203, 0)]);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
