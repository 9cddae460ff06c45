//! Which test tier ran. Without the `system` feature, `cargo test` runs the
//! fast tier (no services, no root, no WebAssembly build) and this test is
//! listed as ignored with what was skipped. With it (`scripts/test.sh`),
//! this test fails first and plainly when something the system tier needs is
//! missing, instead of dozens of tests failing each in its own way.

#[cfg(feature = "system")]
mod support;

/// The programs the system tier runs, and the Debian package of each
/// (`scripts/lib/setup.sh` installs them).
#[cfg(feature = "system")]
const NEEDED: &[(&str, &str)] = &[
    ("dbus-daemon", "dbus-daemon"),
    ("busctl", "systemd"),
    ("mosquitto", "mosquitto"),
    ("chromedriver", "chromium-driver"),
    ("chromium", "chromium"),
    ("setpriv", "util-linux"),
];

#[test]
#[cfg_attr(
    not(feature = "system"),
    ignore = "the system tier was skipped (D-Bus, MQTT, the panel in Chromium, the fleet, the \
              WebAssembly programs, the system-bus policy as root): scripts/test.sh runs it, or \
              `cargo test --features tarsal-system-tests/system` once those are installed and \
              scripts/build-plugins.sh has run"
)]
fn the_system_tier_has_what_it_needs() {
    #[cfg(feature = "system")]
    {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let missing: Vec<String> = NEEDED
            .iter()
            .filter(|(program, _)| !std::env::split_paths(&path).any(|d| d.join(program).is_file()))
            .map(|(program, package)| format!("{program} (Debian package {package})"))
            .collect();
        assert!(
            missing.is_empty(),
            "the system tier needs {}; scripts/test.sh installs them",
            missing.join(", ")
        );
        // The programs built for WebAssembly, and the fixtures.
        support::plugins_dir(None);
        support::plugins_dir(Some("hostile"));
    }
}
