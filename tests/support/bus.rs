//! Real D-Bus daemons and `tarsald` processes for tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private `dbus-daemon`, stopped when dropped.
pub struct TestBus {
    child: Child,
    pub address: String,
    pub dir: PathBuf,
}

const DOCTYPE: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">"#;

impl TestBus {
    /// A session-type bus where everyone may do everything.
    pub fn session() -> Self {
        let dir = super::scratch("bus");
        let config = format!(
            r#"{DOCTYPE}
<busconfig>
  <type>session</type>
  <listen>unix:path={}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>"#,
            dir.display()
        );
        Self::start(dir, config)
    }

    /// A system-type bus with the default-deny policy of a system bus and
    /// `policy` (our file from deploy/dbus/) included.
    pub fn system_with(policy: &Path) -> Self {
        let dir = super::scratch("sysbus");
        let config = format!(
            r#"{DOCTYPE}
<busconfig>
  <type>system</type>
  <listen>unix:path={}/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <!-- As Debian's system.conf: any user may connect. -->
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
  </policy>
  <include>{}</include>
</busconfig>"#,
            dir.display(),
            policy.display()
        );
        // Other users must reach the socket.
        let bus = Self::start(dir, config);
        let _ = Command::new("chmod").arg("0755").arg(&bus.dir).status();
        bus
    }

    fn start(dir: PathBuf, config: String) -> Self {
        let file = dir.join("bus.conf");
        std::fs::write(&file, config).unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", file.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (scripts/test.sh installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        Self {
            child,
            address,
            dir,
        }
    }
}

impl Drop for TestBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `tarsald` serving on a test bus, stopped (SIGTERM) when dropped.
pub struct Service {
    child: Option<Child>,
    pub dir: PathBuf,
    pub db: PathBuf,
    pub log: PathBuf,
}

impl Service {
    /// Starts `tarsald --sim` on `bus` with the bundled plugins and `extra`
    /// arguments, as `user` (root when `None`), and waits until it owns its name.
    pub fn start(bus: &TestBus, user: Option<&str>, extra: &[&str]) -> Self {
        let mut args = vec!["--bus-address", bus.address.as_str()];
        args.extend_from_slice(extra);
        Self::launch(user, &args, "serving on D-Bus")
    }

    /// Starts `tarsald --sim` with the bundled plugins and `extra` arguments
    /// (which say which bus, if any), as `user` (root when `None`), and waits
    /// until its log shows `ready`.
    pub fn launch(user: Option<&str>, extra: &[&str], ready: &str) -> Self {
        let cache = std::env::temp_dir().join("tarsal-test-program-cache");
        Self::launch_with(&super::plugins_dir(None), &cache, user, extra, ready)
    }

    /// As [`Service::start`], keeping its records in the database `db`
    /// (which outlives the service).
    pub fn start_on_db(bus: &TestBus, db: &Path, extra: &[&str]) -> Self {
        let mut args = vec!["--bus-address", bus.address.as_str()];
        args.extend_from_slice(extra);
        let cache = std::env::temp_dir().join("tarsal-test-program-cache");
        Self::launch_inner(
            &super::plugins_dir(None),
            &cache,
            Some(db),
            None,
            &args,
            "serving on D-Bus",
        )
    }

    /// As [`Service::launch`], with the programs from `programs` and the
    /// compile cache in `cache`.
    pub fn launch_with(
        programs: &Path,
        cache: &Path,
        user: Option<&str>,
        extra: &[&str],
        ready: &str,
    ) -> Self {
        Self::launch_inner(programs, cache, None, user, extra, ready)
    }

    fn launch_inner(
        programs: &Path,
        cache: &Path,
        db: Option<&Path>,
        user: Option<&str>,
        extra: &[&str],
        ready: &str,
    ) -> Self {
        let dir = super::scratch("service");
        let db = db.map_or_else(|| dir.join("tarsal.db"), Path::to_path_buf);
        let log = dir.join("tarsald.log");
        let cache = cache.to_path_buf();
        let _ = std::fs::create_dir_all(&cache);
        let mut args: Vec<String> = vec![
            "--sim".into(),
            "--db".into(),
            db.display().to_string(),
            "--programs".into(),
            programs.display().to_string(),
            "--program-cache".into(),
            cache.display().to_string(),
            "--log-format".into(),
            "json".into(),
        ];
        // A busy 2-core test machine can hold a thread up for a quarter of a
        // second; the real chair's margin (250 ms) would then trip in tests
        // that are not about the watchdog. Tests about it set their own.
        if !extra.contains(&"--watchdog-margin-ms") {
            args.extend(["--watchdog-margin-ms".into(), "2000".into()]);
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let tarsald = super::binary("tarsald");
        let mut cmd = match user {
            Some(user) => {
                for path in [&dir, &cache] {
                    Command::new("chown")
                        .args(["-R", user])
                        .arg(path)
                        .status()
                        .unwrap();
                }
                let mut c = Command::new("setpriv");
                c.args(["--reuid", user, "--regid", user, "--init-groups"])
                    .arg(&tarsald);
                c
            }
            None => Command::new(&tarsald),
        };
        let child = cmd
            .args(&args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut service = Self {
            child: Some(child),
            dir,
            db,
            log,
        };
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            // The plugins load after the service starts; tests start them.
            if service.logged(ready) && service.logged("programs ready") {
                return service;
            }
            let exited = service
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                service.child = None;
                panic!(
                    "tarsald exited ({status}) before serving:\n{}",
                    service.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("tarsald did not log `{ready}`:\n{}", service.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.log_text().contains(needle)
    }

    /// The service's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends `signal` (`HUP`, `STOP`, `CONT`…) to the service.
    pub fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("running");
        Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
    }

    /// How many times the log says `needle`.
    pub fn logged_times(&self, needle: &str) -> usize {
        self.log_text().matches(needle).count()
    }

    /// Kills the service outright (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the service (SIGTERM) and returns its exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
