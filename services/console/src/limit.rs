//! Per-client rate limits (failed sign-ins, public survey answers): at most
//! so many events per client address in a fixed window. Behind a reverse
//! proxy every client has the proxy's address: limit there too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use maillage_eventstore::Clock;

/// Addresses tracked before the expired windows are swept.
const SWEEP_AT: usize = 10_000;

/// Counts events per address in windows of a fixed length.
pub(crate) struct Limiter {
    clock: Arc<dyn Clock>,
    window: Duration,
    max: u32,
    counts: Mutex<HashMap<IpAddr, (SystemTime, u32)>>,
}

impl Limiter {
    /// At most `max` events per address per `window`.
    pub(crate) fn new(clock: Arc<dyn Clock>, window: Duration, max: u32) -> Self {
        Self {
            clock,
            window,
            max,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `address` has used up its events of the current window.
    pub(crate) fn exhausted(&self, address: IpAddr) -> bool {
        let now = self.clock.now();
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts
            .get(&address)
            .is_some_and(|(start, count)| now < *start + self.window && *count >= self.max)
    }

    /// Counts one event of `address`.
    pub(crate) fn record(&self, address: IpAddr) {
        let now = self.clock.now();
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if counts.len() >= SWEEP_AT {
            let window = self.window;
            counts.retain(|_, (start, _)| now < *start + window);
        }
        let entry = counts.entry(address).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}
