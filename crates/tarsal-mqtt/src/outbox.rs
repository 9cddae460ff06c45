//! Bookkeeping for sending the events table to the broker without losing
//! any: which events are on their way, which the broker has acknowledged,
//! and how far the confirmed cursor may move. No I/O here.
//!
//! The events table is the outbox: the store thread commits every event
//! before the adapter reads it. Events go out with QoS 1 in id order, a few
//! at a time; the cursor (saved in the database) moves past an event only
//! when it and every event before it are acknowledged. When the connection
//! drops, everything unacknowledged is sent again after the reconnect, in
//! order — a consumer may see an id twice, never miss one.

use std::collections::{HashMap, VecDeque};

#[derive(Debug)]
pub struct Outbox {
    /// Every event up to this id is acknowledged.
    cursor: i64,
    /// The newest event handed out for sending.
    handed_out: i64,
    /// Events on their way, in order, and whether each is acknowledged.
    in_flight: VecDeque<(i64, bool)>,
    window: usize,
}

impl Outbox {
    pub fn new(cursor: i64, window: usize) -> Self {
        Self {
            cursor,
            handed_out: cursor,
            in_flight: VecDeque::new(),
            window: window.max(1),
        }
    }

    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// How many more events may be sent now.
    pub fn room(&self) -> usize {
        self.window.saturating_sub(self.in_flight.len())
    }

    /// Read events after this id to send next.
    pub fn next_after(&self) -> i64 {
        self.handed_out
    }

    /// Event `id` is being sent.
    pub fn sending(&mut self, id: i64) {
        debug_assert!(id > self.handed_out, "events go out in order");
        self.handed_out = id;
        self.in_flight.push_back((id, false));
    }

    /// The broker acknowledged event `id`. Returns the new cursor when it moved.
    pub fn acknowledged(&mut self, id: i64) -> Option<i64> {
        if let Some(entry) = self.in_flight.iter_mut().find(|(e, _)| *e == id) {
            entry.1 = true;
        }
        let before = self.cursor;
        while let Some(&(id, true)) = self.in_flight.front() {
            self.cursor = id;
            self.in_flight.pop_front();
        }
        (self.cursor != before).then_some(self.cursor)
    }

    /// The connection dropped: whatever is not acknowledged goes again.
    pub fn restart(&mut self) {
        self.in_flight.clear();
        self.handed_out = self.cursor;
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

/// Matches the client's publishes to packet ids. rumqttc reports each
/// publish it writes as `Outgoing::Publish(pkid)`, in the order they were
/// queued; the event id (if the publish carried an event) is remembered
/// until the PUBACK with that packet id comes.
#[derive(Debug, Default)]
pub struct PacketIds {
    queued: VecDeque<Option<i64>>,
    by_packet: HashMap<u16, i64>,
}

impl PacketIds {
    /// A publish was queued; `event` is the event it carries, if any.
    pub fn queued(&mut self, event: Option<i64>) {
        self.queued.push_back(event);
    }

    /// The client wrote the oldest queued publish with packet id `pkid`.
    pub fn written(&mut self, pkid: u16) {
        if let Some(Some(event)) = self.queued.pop_front()
            && pkid != 0
        {
            self.by_packet.insert(pkid, event);
        }
    }

    /// The broker acknowledged `pkid`: the event it carried, if any.
    pub fn acknowledged(&mut self, pkid: u16) -> Option<i64> {
        self.by_packet.remove(&pkid)
    }

    /// The connection dropped; the client forgets what it had queued.
    pub fn clear(&mut self) {
        self.queued.clear();
        self.by_packet.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_moves_only_over_acknowledged_prefixes() {
        let mut o = Outbox::new(10, 3);
        for id in [11, 12, 14] {
            o.sending(id);
        }
        assert_eq!(o.room(), 0);
        assert_eq!(o.acknowledged(12), None, "11 is still out");
        assert_eq!(o.acknowledged(11), Some(12));
        assert_eq!(o.room(), 2);
        assert_eq!(o.acknowledged(14), Some(14));
        assert_eq!(o.next_after(), 14);
    }

    #[test]
    fn a_dropped_connection_sends_everything_unacknowledged_again() {
        let mut o = Outbox::new(0, 8);
        for id in 1..=4 {
            o.sending(id);
        }
        o.acknowledged(1);
        o.acknowledged(3);
        o.restart();
        assert_eq!(o.cursor(), 1);
        assert_eq!(o.next_after(), 1, "2, 3 and 4 go again, in order");
        assert_eq!(o.in_flight(), 0);
    }

    #[test]
    fn packet_ids_follow_the_queue_order() {
        let mut p = PacketIds::default();
        p.queued(None); // a QoS 0 state publish
        p.queued(Some(41));
        p.queued(Some(42));
        p.written(0);
        p.written(7);
        p.written(8);
        assert_eq!(p.acknowledged(8), Some(42));
        assert_eq!(p.acknowledged(7), Some(41));
        assert_eq!(p.acknowledged(7), None);
    }
}
