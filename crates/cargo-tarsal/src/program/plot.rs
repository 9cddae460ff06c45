//! A timeline picture of one session: every actuator over time, lane by
//! lane, with the program's steps along the top. Plain SVG, readable in any
//! browser.

use std::fmt::Write;
use tarsal_core::engine::ChairStatus;
use tarsal_core::model::{CalfCell, HeaterId, NodeMotion, Side};
use tarsal_core::program::ProgramInfo;
use tarsal_core::{ChairProfile, Outcome};

const WIDTH: f64 = 1400.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 30.0;
const LANE: f64 = 78.0;
const GAP: f64 = 16.0;
const TOP: f64 = 64.0;

const BLUE: &str = "#1f6fb2";
const LIGHT_BLUE: &str = "#7fb3e0";
const ORANGE: &str = "#e07b1f";
const GREEN: &str = "#2e9a4a";
const PURPLE: &str = "#7a4fb5";
const RED: &str = "#c0392b";
const BROWN: &str = "#8a5a2b";
const GREY: &str = "#999";

struct Canvas {
    svg: String,
    lane: usize,
    t_max: f64,
}

impl Canvas {
    fn x(&self, t: f64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (t / self.t_max.max(1.0))
    }

    fn lane_top(&self) -> f64 {
        TOP + 40.0 + self.lane as f64 * (LANE + GAP)
    }

    fn y(&self, v: f64, lo: f64, hi: f64) -> f64 {
        let top = self.lane_top();
        top + LANE - LANE * ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    }

    /// Starts a lane with its label and scale.
    fn lane(&mut self, label: &str, lo: f64, hi: f64, unit: &str) {
        let top = self.lane_top();
        let _ = write!(
            self.svg,
            r##"<rect x="{LEFT}" y="{top}" width="{w}" height="{LANE}" fill="#fafafa" stroke="#ddd"/>
<text x="10" y="{ly}" font-size="13" font-weight="bold">{label}</text>
<text x="{sx}" y="{hy}" font-size="10" text-anchor="end" fill="#666">{hi}{unit}</text>
<text x="{sx}" y="{lo_y}" font-size="10" text-anchor="end" fill="#666">{lo}{unit}</text>
"##,
            w = WIDTH - LEFT - RIGHT,
            ly = top + LANE / 2.0 + 4.0,
            sx = LEFT - 6.0,
            hy = top + 10.0,
            lo_y = top + LANE,
            label = escape(label),
        );
    }

    fn line(&mut self, points: &[(f64, f64)], lo: f64, hi: f64, color: &str, dashed: bool) {
        if points.is_empty() {
            return;
        }
        let mut d = String::new();
        for (i, (t, v)) in points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                self.x(*t),
                self.y(*v, lo, hi)
            );
        }
        let dash = if dashed {
            r#" stroke-dasharray="5,3""#
        } else {
            ""
        };
        let _ = writeln!(
            self.svg,
            r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="1.4"{dash}/>"#
        );
    }

    /// Filled bands where `on(t)` holds, in a slice of the lane.
    fn bands(&mut self, spans: &[(f64, f64)], slot: usize, slots: usize, color: &str) {
        let top = self.lane_top() + LANE * slot as f64 / slots as f64 + 2.0;
        let h = LANE / slots as f64 - 4.0;
        for (a, b) in spans {
            let _ = writeln!(
                self.svg,
                r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{h:.1}" fill="{color}" opacity="0.75"/>"#,
                self.x(*a),
                (self.x(*b) - self.x(*a)).max(0.8)
            );
        }
    }

    fn legend(&mut self, items: &[(&str, &str, bool)]) {
        let top = self.lane_top() + LANE + 11.0;
        let mut x = LEFT;
        for (name, color, dashed) in items {
            let dash = if *dashed {
                r#" stroke-dasharray="5,3""#
            } else {
                ""
            };
            let _ = write!(
                self.svg,
                r#"<line x1="{x}" y1="{y}" x2="{x2}" y2="{y}" stroke="{color}" stroke-width="2"{dash}/><text x="{tx}" y="{ty}" font-size="10">{name}</text>"#,
                y = top - 3.0,
                x2 = x + 18.0,
                tx = x + 22.0,
                ty = top,
                name = escape(name)
            );
            x += 30.0 + 6.0 * name.len() as f64;
        }
        self.svg.push('\n');
        self.lane += 1;
    }
}

/// Spans of time where a flag was on, from samples.
fn spans(samples: &[(f64, bool)]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut start: Option<f64> = None;
    for &(t, on) in samples {
        match (on, start) {
            (true, None) => start = Some(t),
            (false, Some(s)) => {
                out.push((s, t));
                start = None;
            }
            _ => {}
        }
    }
    if let (Some(s), Some(&(t, _))) = (start, samples.last()) {
        out.push((s, t));
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG of a session recorded as `snapshots`.
pub fn timeline(
    info: &ProgramInfo,
    profile: &ChairProfile,
    snapshots: &[ChairStatus],
    outcome: Outcome,
) -> String {
    let t0 = snapshots.first().map_or(0.0, |s| s.at.as_secs_f64());
    let t = |s: &ChairStatus| (s.at.as_secs_f64() - t0) / 60.0;
    let t_max = snapshots.last().map_or(1.0, t).max(0.1);
    let mut c = Canvas {
        svg: String::new(),
        lane: 0,
        t_max,
    };
    // Lanes only for the parts the program uses (temperatures always).
    let uses = info.uses;

    // Steps along the top.
    let mut step_spans: Vec<(u32, f64, f64)> = Vec::new();
    for s in snapshots {
        if let Some(sess) = &s.session {
            let now = t(s);
            match step_spans.last_mut() {
                Some((step, _, end)) if *step == sess.step => *end = now,
                _ => step_spans.push((sess.step, now, now)),
            }
        }
    }
    let palette = [
        "#dbe9f6", "#fde9d4", "#def2e1", "#ece2f5", "#f9dede", "#f2ecd8", "#dcf0ef",
    ];
    for (i, (step, a, b)) in step_spans.iter().enumerate() {
        let x = c.x(*a);
        let w = (c.x(*b) - x).max(1.0);
        let _ = writeln!(
            c.svg,
            r##"<rect x="{x:.1}" y="{TOP}" width="{w:.1}" height="28" fill="{fill}" stroke="#bbb"/><text x="{tx:.1}" y="{ty}" font-size="12" text-anchor="middle">{n}</text>"##,
            fill = palette[i % palette.len()],
            tx = x + w / 2.0,
            ty = TOP + 18.0,
            n = step + 1,
        );
    }
    let _ = writeln!(
        c.svg,
        r#"<text x="10" y="{}" font-size="13" font-weight="bold">Steps</text>"#,
        TOP + 18.0
    );

    let series = |f: &dyn Fn(&ChairStatus) -> f64| -> Vec<(f64, f64)> {
        snapshots.iter().map(|s| (t(s), f(s))).collect()
    };

    if uses.foot_rollers {
        c.lane("Foot carriage", 0.0, 100.0, " %");
        c.line(
            &series(&|s| s.sensors.feet[Side::Left].carriage_position.0),
            0.0,
            100.0,
            BLUE,
            false,
        );
        c.line(
            &series(&|s| s.sensors.feet[Side::Right].carriage_position.0),
            0.0,
            100.0,
            LIGHT_BLUE,
            true,
        );
        c.legend(&[
            ("left (0 = toes, 100 = heel)", BLUE, false),
            ("right", LIGHT_BLUE, true),
        ]);

        let ceiling = profile
            .foot_rollers
            .as_ref()
            .map_or(100.0, |f| f.pressure_ceiling[4].0);
        c.lane("Foot pressure", 0.0, ceiling, " %");
        c.line(
            &series(&|s| s.outputs.feet[Side::Left].pressure.0),
            0.0,
            ceiling,
            RED,
            false,
        );
        c.line(
            &series(&|s| s.outputs.feet[Side::Right].pressure.0),
            0.0,
            ceiling,
            ORANGE,
            true,
        );
        c.legend(&[("left", RED, false), ("right", ORANGE, true)]);

        c.lane("Node motion", 0.0, 1.0, "");
        for (slot, (motion, color)) in [
            (NodeMotion::Knead, ORANGE),
            (NodeMotion::Tap, PURPLE),
            (NodeMotion::Vibrate, GREEN),
        ]
        .into_iter()
        .enumerate()
        {
            let on: Vec<(f64, bool)> = snapshots
                .iter()
                .map(|s| (t(s), s.outputs.feet[Side::Left].motion == motion))
                .collect();
            c.bands(&spans(&on), slot, 3, color);
        }
        c.legend(&[
            ("knead", ORANGE, false),
            ("tap", PURPLE, false),
            ("vibrate", GREEN, false),
        ]);
    }

    let cell_max = profile
        .calf_units
        .as_ref()
        .map_or(100.0, |u| u.pressure_ceiling[4].0);
    if uses.calf_units {
        c.lane("Calf cells (left)", 0.0, cell_max, " %");
        for (cell, color) in [
            (CalfCell::Ankle, BLUE),
            (CalfCell::Mid, GREEN),
            (CalfCell::Upper, PURPLE),
        ] {
            c.line(
                &series(&|s| s.outputs.calves[Side::Left].cells[cell].0),
                0.0,
                cell_max,
                color,
                false,
            );
        }
        c.line(
            &series(&|s| s.outputs.calves[Side::Left].kneading_speed.0),
            0.0,
            100.0,
            GREY,
            true,
        );
        c.legend(&[
            ("ankle", BLUE, false),
            ("mid-calf", GREEN, false),
            ("upper", PURPLE, false),
            ("kneading rollers (0–100 %)", GREY, true),
        ]);
    }

    c.lane("Temperatures", 15.0, 45.0, " °C");
    for (h, color) in [
        (HeaterId::Water, BLUE),
        (HeaterId::SolePad, RED),
        (HeaterId::CalfPad, ORANGE),
    ] {
        c.line(
            &series(&|s| s.sensors.temperatures[h].0),
            15.0,
            45.0,
            color,
            false,
        );
        let sp: Vec<(f64, f64)> = snapshots
            .iter()
            .filter_map(|s| s.setpoints[h].map(|c| (t(s), c.0)))
            .collect();
        c.line(&sp, 15.0, 45.0, color, true);
    }
    c.legend(&[
        ("water", BLUE, false),
        ("sole pad", RED, false),
        ("calf pad", ORANGE, false),
        ("setpoints", GREY, true),
    ]);

    if uses.bath {
        let capacity = profile.bath.as_ref().map_or(22.0, |b| b.capacity.0);
        c.lane("Water level", 0.0, capacity, " L");
        if let Some(b) = &profile.bath {
            let flat = |v: f64| vec![(0.0, v), (t_max, v)];
            c.line(&flat(b.min_level.0), 0.0, capacity, GREY, true);
            c.line(&flat(b.max_level.0), 0.0, capacity, GREY, true);
        }
        c.line(
            &series(&|s| s.sensors.water_level.0),
            0.0,
            capacity,
            BLUE,
            false,
        );
        c.legend(&[
            ("level", BLUE, false),
            ("min (heater, jets) and max (valve closes)", GREY, true),
        ]);

        c.lane("Valve, drain, jets", 0.0, 100.0, " %");
        let valve: Vec<(f64, bool)> = snapshots
            .iter()
            .map(|s| (t(s), s.outputs.fill_valve_open))
            .collect();
        let drain: Vec<(f64, bool)> = snapshots
            .iter()
            .map(|s| (t(s), s.outputs.drain_pump_on))
            .collect();
        c.bands(&spans(&valve), 0, 2, LIGHT_BLUE);
        c.bands(&spans(&drain), 1, 2, BROWN);
        c.line(&series(&|s| s.outputs.jet_pump.0), 0.0, 100.0, GREEN, false);
        c.legend(&[
            ("fill valve open", LIGHT_BLUE, false),
            ("drain pump", BROWN, false),
            ("jets", GREEN, false),
        ]);
    }

    // Time axis and step titles.
    let axis_y = c.lane_top() - GAP + 4.0;
    let every = if t_max > 30.0 {
        5.0
    } else if t_max > 8.0 {
        2.0
    } else {
        1.0
    };
    let mut m = 0.0;
    while m <= t_max + 1e-9 {
        let x = c.x(m);
        let _ = writeln!(
            c.svg,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y:.1}" stroke="#eee"/><text x="{x:.1}" y="{ty:.1}" font-size="11" text-anchor="middle">{m}</text>"##,
            ty = axis_y + 14.0
        );
        m += every;
    }
    let mut y = axis_y + 40.0;
    for (i, step) in info.steps.iter().enumerate() {
        let col = i % 2;
        if col == 0 && i > 0 {
            y += 16.0;
        }
        let _ = writeln!(
            c.svg,
            r#"<text x="{x}" y="{y:.1}" font-size="12">{n}. {title}</text>"#,
            x = LEFT + col as f64 * 560.0,
            n = i + 1,
            title = escape(&step.title)
        );
    }
    let height = y + 24.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="26" font-size="20" font-weight="bold">{name} {version} — simulated session, {minutes:.1} min, {outcome}</text>
<text x="10" y="46" font-size="12" fill="#555">{profile}: every actuator as the safety supervisor let it through. Time in minutes.</text>
{body}</svg>
"##,
        name = escape(&info.name),
        version = escape(&info.version),
        minutes = t_max,
        profile = escape(&profile.chair.model),
        body = c.svg,
    )
}
