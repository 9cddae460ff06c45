//! The fleet benchmark: N chairs with 1 Hz telemetry through one broker.
//! Measured in one run: CPU per chair (the fleet process and the broker),
//! telemetry actually delivered, and the round trip of `stop` commands
//! (command published → response received) as an operator sees it.

use crate::fleet::{Fleet, FleetOptions};
use anyhow::{Context, Result, bail};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub struct BenchOptions {
    pub fleet: FleetOptions,
    /// The broker's process id, to measure its CPU too.
    pub broker_pid: Option<u32>,
    pub commands: usize,
    pub window: Duration,
}

/// CPU time (user + system) a process has used.
#[allow(unsafe_code)] // reviewed: sysconf has no preconditions
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".into(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = &stat[stat.rfind(") ")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

fn resident_kib(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".into(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

enum Seen {
    Online(String),
    Telemetry,
    Response(u64, bool),
}

pub fn run(options: BenchOptions, runtime: &tokio::runtime::Runtime) -> Result<()> {
    let chairs = options.fleet.chairs;
    let b = &options.fleet.broker;
    let started = Instant::now();
    let fleet = Fleet::start(&options.fleet, runtime.handle())?;
    let ids: Vec<String> = fleet.ids.iter().map(|i| i.to_string()).collect();
    let prefix = options.fleet.topic_prefix.clone();

    let result = runtime.block_on(async {
        // The operator: sees availability, all telemetry, its responses.
        let mut o = MqttOptions::new(
            format!("tarsal-bench-{}", std::process::id()),
            b.host.clone(),
            b.port,
        );
        o.set_keep_alive(Duration::from_secs(30));
        o.set_max_packet_size(Some(1 << 20));
        let mut network = rumqttc::NetworkOptions::new();
        network.set_tcp_nodelay(true);
        o.set_network_options(network);
        if let Some(user) = &options.fleet.username {
            o.set_credentials(
                user.clone(),
                options.fleet.password.clone().unwrap_or_default(),
            );
        }
        let (client, mut events) = AsyncClient::new(o, 10_000);
        let (tx, mut seen) = mpsc::unbounded_channel();
        let filters = [
            format!("{prefix}/+/availability"),
            format!("{prefix}/+/telemetry"),
            format!("{prefix}/+/responses/bench"),
        ];
        let subscriber = client.clone();
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        for f in &filters {
                            let _ = subscriber.subscribe(f.clone(), QoS::AtMostOnce).await;
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let topic = String::from_utf8_lossy(&p.topic).into_owned();
                        let item = if topic.ends_with("/availability") {
                            (p.payload.as_ref() == b"online").then_some(Seen::Online(topic))
                        } else if topic.ends_with("/telemetry") {
                            Some(Seen::Telemetry)
                        } else {
                            let n = p
                                .properties
                                .as_ref()
                                .and_then(|pp| pp.correlation_data.as_ref())
                                .and_then(|c| std::str::from_utf8(c).ok()?.parse().ok());
                            let ok = serde_json::from_slice::<serde_json::Value>(&p.payload)
                                .map(|v| v["ok"] == true)
                                .unwrap_or(false);
                            n.map(|n| Seen::Response(n, ok))
                        };
                        if let Some(item) = item
                            && tx.send(item).is_err()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(rumqttc::v5::ConnectionError::RequestsDone) => return,
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });

        // 1. Every chair online.
        let mut online = HashSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        while online.len() < chairs {
            match tokio::time::timeout_at(deadline, seen.recv()).await {
                Ok(Some(Seen::Online(topic))) => {
                    online.insert(topic);
                }
                Ok(Some(_)) => {}
                _ => bail!("only {} of {chairs} chairs came online", online.len()),
            }
        }
        let all_online = started.elapsed();
        // Settle: connections made, first sessions started.
        tokio::time::sleep(Duration::from_secs(15)).await;
        while seen.try_recv().is_ok() {}

        // 2. CPU and telemetry over a quiet window.
        let fleet_cpu0 = cpu_time(None).context("reading this process's CPU time")?;
        let broker_cpu0 = options.broker_pid.and_then(|p| cpu_time(Some(p)));
        let t0 = Instant::now();
        let mut telemetry = 0u64;
        let window_end = tokio::time::Instant::now() + options.window;
        while let Ok(Some(item)) = tokio::time::timeout_at(window_end, seen.recv()).await {
            if matches!(item, Seen::Telemetry) {
                telemetry += 1;
            }
        }
        let wall = t0.elapsed();
        let fleet_cpu = cpu_time(None).unwrap_or(fleet_cpu0) - fleet_cpu0;
        let broker_cpu = match (
            broker_cpu0,
            options.broker_pid.and_then(|p| cpu_time(Some(p))),
        ) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };

        // 3. Stop round trips, one at a time, each to the next chair.
        let mut rtts = Vec::with_capacity(options.commands);
        let mut ok = 0usize;
        let mut sent_at: HashMap<u64, Instant> = HashMap::new();
        for n in 0..options.commands as u64 {
            let id = &ids[n as usize % ids.len()];
            let properties = PublishProperties {
                response_topic: Some(format!("{prefix}/{id}/responses/bench")),
                correlation_data: Some(n.to_string().into_bytes().into()),
                ..Default::default()
            };
            sent_at.insert(n, Instant::now());
            client
                .publish_with_properties(
                    format!("{prefix}/{id}/cmd/stop"),
                    QoS::AtLeastOnce,
                    false,
                    "{}",
                    properties,
                )
                .await?;
            let answer_deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                match tokio::time::timeout_at(answer_deadline, seen.recv()).await {
                    Ok(Some(Seen::Response(m, was_ok))) if m == n => {
                        rtts.push(sent_at[&n].elapsed());
                        ok += usize::from(was_ok);
                        break;
                    }
                    Ok(Some(_)) => {}
                    _ => bail!("no response to stop #{n} (chair {id}) within 10 s"),
                }
            }
        }
        let _ = client.disconnect().await;
        Ok(Report {
            chairs,
            all_online,
            wall,
            telemetry,
            fleet_cpu,
            broker_cpu,
            fleet_rss_kib: resident_kib(None),
            broker_rss_kib: options.broker_pid.and_then(|p| resident_kib(Some(p))),
            rtts,
            ok,
        })
    });
    fleet.shutdown(runtime);
    result?.print();
    Ok(())
}

struct Report {
    chairs: usize,
    all_online: Duration,
    wall: Duration,
    telemetry: u64,
    fleet_cpu: Duration,
    broker_cpu: Option<Duration>,
    fleet_rss_kib: Option<u64>,
    broker_rss_kib: Option<u64>,
    rtts: Vec<Duration>,
    ok: usize,
}

impl Report {
    fn print(mut self) {
        let n = self.chairs as f64;
        let secs = self.wall.as_secs_f64();
        let pct = |cpu: Duration| 100.0 * cpu.as_secs_f64() / secs;
        self.rtts.sort_unstable();
        let at = |q: f64| self.rtts[((self.rtts.len() - 1) as f64 * q).round() as usize];
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
        println!(
            "\nFleet of {} simulated chairs, telemetry every second, one broker\n",
            self.chairs
        );
        println!("| measure | value |");
        println!("|---|---|");
        println!(
            "| all chairs online after start | {:.1} s |",
            self.all_online.as_secs_f64()
        );
        println!(
            "| telemetry delivered to one operator (window {secs:.0} s) | {:.0} messages/s ({:.2} per chair per second) |",
            self.telemetry as f64 / secs,
            self.telemetry as f64 / secs / n
        );
        println!(
            "| fleet process CPU (every chair's loop, simulator, store, MQTT client) | {:.1} % of a core; {:.3} % per chair |",
            pct(self.fleet_cpu),
            pct(self.fleet_cpu) / n
        );
        if let Some(b) = self.broker_cpu {
            println!(
                "| broker CPU | {:.1} % of a core; {:.4} % per chair |",
                pct(b),
                pct(b) / n
            );
        }
        if let Some(kib) = self.fleet_rss_kib {
            println!(
                "| fleet resident memory | {} MiB; {} KiB per chair |",
                kib / 1024,
                kib / self.chairs as u64
            );
        }
        if let Some(kib) = self.broker_rss_kib {
            println!("| broker resident memory | {} MiB |", kib / 1024);
        }
        if !self.rtts.is_empty() {
            println!(
                "| `stop` round trip, {} commands (published → response received) p50 / p99 / max | {} / {} / {} |",
                self.rtts.len(),
                ms(at(0.5)),
                ms(at(0.99)),
                ms(*self.rtts.last().unwrap_or(&Duration::ZERO))
            );
            println!(
                "| responses `ok` (a session was running) / refused (`NotRunning`, between sessions) | {} / {} |",
                self.ok,
                self.rtts.len() - self.ok
            );
        }
    }
}
