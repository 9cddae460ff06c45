//! Topic names: `<prefix>/<chair-id>/…` and Home Assistant's.

use crate::settings::Settings;

/// The verbs operators may send under `cmd/`.
pub const VERBS: [&str; 4] = ["stop", "estop", "reset", "start"];

#[derive(Clone, Debug)]
pub struct Topics {
    base: String,
    discovery: Option<String>,
    object_id: String,
}

impl Topics {
    pub fn new(settings: &Settings) -> Self {
        Self {
            base: format!("{}/{}", settings.prefix, settings.chair_id),
            discovery: settings.discovery.clone(),
            object_id: format!("tarsal_{}", settings.chair_id),
        }
    }

    /// `<prefix>/<chair-id>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Retained `online`; the last will sets `offline`.
    pub fn availability(&self) -> String {
        format!("{}/availability", self.base)
    }

    pub fn state(&self) -> String {
        format!("{}/state", self.base)
    }

    pub fn telemetry(&self) -> String {
        format!("{}/telemetry", self.base)
    }

    pub fn events(&self) -> String {
        format!("{}/events", self.base)
    }

    pub fn command(&self, verb: &str) -> String {
        format!("{}/cmd/{verb}", self.base)
    }

    /// What the adapter subscribes to for commands.
    pub fn command_filter(&self) -> String {
        format!("{}/cmd/+", self.base)
    }

    /// Where responses go when a command names no response topic (clients
    /// without MQTT 5).
    pub fn responses(&self) -> String {
        format!("{}/responses", self.base)
    }

    /// Where to answer a command that named `asked` as its response topic:
    /// there if it is under `<base>/responses/`, else `<base>/responses`.
    /// A chair never publishes where a command tells it to otherwise — not
    /// on its own state, events, availability or discovery topics.
    pub fn response_topic(&self, asked: Option<&str>) -> String {
        let home = self.responses();
        match asked {
            Some(t)
                if t.len() <= 256
                    && t.strip_prefix(home.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                        .is_some_and(|rest| {
                            !rest.is_empty()
                                && !rest.contains(['+', '#', '\0'])
                                && !rest.split('/').any(str::is_empty)
                        }) =>
            {
                t.to_owned()
            }
            _ => home,
        }
    }

    /// The verb of a command topic of this chair, if `topic` is one.
    pub fn verb_of<'t>(&self, topic: &'t str) -> Option<&'t str> {
        topic
            .strip_prefix(self.base.as_str())?
            .strip_prefix("/cmd/")
            .filter(|v| !v.is_empty() && !v.contains('/'))
    }

    /// Home Assistant's birth and will topic, when discovery is on.
    pub fn ha_status(&self) -> Option<String> {
        self.discovery.as_ref().map(|p| format!("{p}/status"))
    }

    /// The device discovery topic, when discovery is on.
    pub fn ha_config(&self) -> Option<String> {
        self.discovery
            .as_ref()
            .map(|p| format!("{p}/device/{}/config", self.object_id))
    }

    /// Home Assistant's id for this chair (device id, unique-id prefix).
    pub fn object_id(&self) -> &str {
        &self.object_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Broker, ChairId};

    fn topics(prefix: &str) -> Topics {
        let mut s = Settings::new(
            Broker::parse("mqtt://h").unwrap(),
            ChairId::parse("c1").unwrap(),
        );
        s.prefix = prefix.into();
        Topics::new(&s)
    }

    #[test]
    fn names() {
        let t = topics("tarsal");
        assert_eq!(t.availability(), "tarsal/c1/availability");
        assert_eq!(t.command("stop"), "tarsal/c1/cmd/stop");
        assert_eq!(t.command_filter(), "tarsal/c1/cmd/+");
        assert_eq!(
            t.ha_config().unwrap(),
            "homeassistant/device/tarsal_c1/config"
        );
        assert_eq!(topics("salon/tarsal").state(), "salon/tarsal/c1/state");
    }

    #[test]
    fn responses_go_only_under_the_chairs_responses_topic() {
        let t = topics("tarsal");
        let home = "tarsal/c1/responses";
        assert_eq!(
            t.response_topic(Some("tarsal/c1/responses/ops-7")),
            "tarsal/c1/responses/ops-7"
        );
        assert_eq!(
            t.response_topic(Some("tarsal/c1/responses/a/b")),
            "tarsal/c1/responses/a/b"
        );
        for hostile in [
            "tarsal/c1/state",
            "tarsal/c1/events",
            "tarsal/c1/availability",
            "homeassistant/device/tarsal_c1/config",
            "tarsal/c1/responses",
            "tarsal/c1/responsesX/y",
            "tarsal/c1/responses/",
            "tarsal/c1/responses//x",
            "tarsal/c1/responses/+",
            "tarsal/c1/responses/#",
            "tarsal/c2/responses/x",
            "",
        ] {
            assert_eq!(t.response_topic(Some(hostile)), home, "{hostile}");
        }
        let long = format!("tarsal/c1/responses/{}", "x".repeat(300));
        assert_eq!(t.response_topic(Some(&long)), home);
        assert_eq!(t.response_topic(None), home);
    }

    #[test]
    fn verbs_only_from_this_chairs_command_topics() {
        let t = topics("tarsal");
        assert_eq!(t.verb_of("tarsal/c1/cmd/stop"), Some("stop"));
        assert_eq!(t.verb_of("tarsal/c2/cmd/stop"), None);
        assert_eq!(t.verb_of("tarsal/c1/cmd/"), None);
        assert_eq!(t.verb_of("tarsal/c1/cmd/stop/x"), None);
        assert_eq!(t.verb_of("tarsal/c1/state"), None);
    }
}
