//! The account cache: who a token stands for, read again after a short while.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::domain::directory::User;

/// Accounts as last read, so that most requests need no database round trip to authenticate.
pub struct UserGate {
    ttl: Duration,
    cache: Mutex<HashMap<Uuid, (User, Instant)>>,
}

impl UserGate {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn cached(&self, id: Uuid) -> Option<User> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&id)
            .filter(|(_, read_at)| read_at.elapsed() < self.ttl)
            .map(|(user, _)| user.clone())
    }

    pub fn remember(&self, user: &User) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 50_000 {
            cache.clear();
        }
        cache.insert(user.id, (user.clone(), Instant::now()));
    }

    /// Forgets an account at once on this instance (after a change made through it).
    pub fn forget(&self, id: Uuid) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}
