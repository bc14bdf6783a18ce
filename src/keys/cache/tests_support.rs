//! Shared fixtures of the data-key cache tests: a counting inner provider over a key file
//! that can fail on demand and hold its calls at a gate, a manual clock, and helpers.

use super::*;
use crate::keys::FileKeyProvider;
use std::sync::Condvar;

/// An inner provider over a key file that counts its calls, can fail on demand, and can
/// hold its calls at a gate.
pub(super) struct Counting {
    pub(super) file: FileKeyProvider,
    generates: AtomicU64,
    unwraps: AtomicU64,
    pub(super) wraps: AtomicU64,
    fail: Mutex<Option<String>>,
    pub(super) gate: Option<Gate>,
}

impl Counting {
    pub(super) fn new() -> Arc<Self> {
        Self::build(None)
    }

    pub(super) fn gated() -> Arc<Self> {
        Self::build(Some(Gate::default()))
    }

    fn build(gate: Option<Gate>) -> Arc<Self> {
        Arc::new(Counting {
            file: FileKeyProvider::from_key(&DataKey::from_bytes([0x5a; 32]), "test-key"),
            generates: AtomicU64::new(0),
            unwraps: AtomicU64::new(0),
            wraps: AtomicU64::new(0),
            fail: Mutex::new(None),
            gate,
        })
    }

    pub(super) fn fail_with(&self, code: Option<&str>) {
        *lock(&self.fail) = code.map(str::to_owned);
    }

    fn failure(&self) -> Option<KeyError> {
        lock(&self.fail).as_ref().map(|code| KeyError::Kms {
            code: code.clone(),
            message: format!("Decrypt failed: {code} (test)"),
        })
    }

    fn pass_gate(&self) {
        if let Some(g) = &self.gate {
            g.pass();
        }
    }

    pub(super) fn unwraps(&self) -> u64 {
        self.unwraps.load(Ordering::SeqCst)
    }

    pub(super) fn generates(&self) -> u64 {
        self.generates.load(Ordering::SeqCst)
    }
}

impl KeyProvider for Counting {
    fn describe(&self) -> String {
        "counting test provider".into()
    }

    fn generate(&self, ctx: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError> {
        self.generates.fetch_add(1, Ordering::SeqCst);
        self.pass_gate();
        self.file.generate(ctx)
    }

    fn unwrap(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Result<DataKey, KeyError> {
        self.unwraps.fetch_add(1, Ordering::SeqCst);
        self.pass_gate();
        if let Some(e) = self.failure() {
            return Err(e);
        }
        self.file.unwrap(wrapped, ctx)
    }

    fn wrap(&self, key: &DataKey, ctx: &KeyContext) -> Result<WrappedKey, KeyError> {
        self.wraps.fetch_add(1, Ordering::SeqCst);
        self.file.wrap(key, ctx)
    }
}

/// Holds inner calls until opened; counts the calls that reached it.
#[derive(Default)]
pub(super) struct Gate {
    state: Mutex<(usize, bool)>,
    cv: Condvar,
}

impl Gate {
    fn pass(&self) {
        let mut g = lock(&self.state);
        g.0 += 1;
        self.cv.notify_all();
        while !g.1 {
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub(super) fn wait_entered(&self, n: usize) {
        let mut g = lock(&self.state);
        while g.0 < n {
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub(super) fn open(&self) {
        lock(&self.state).1 = true;
        self.cv.notify_all();
    }
}

/// A clock that only moves when told to.
pub(super) fn manual_clock() -> (Arc<AtomicU64>, CacheClock) {
    let base = Instant::now();
    let secs = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&secs);
    let clock: CacheClock = Arc::new(move || base + Duration::from_secs(s.load(Ordering::SeqCst)));
    (secs, clock)
}

pub(super) fn limits(capacity: usize) -> CacheLimits {
    CacheLimits {
        capacity,
        ..CacheLimits::default()
    }
}

pub(super) fn cache(inner: &Arc<Counting>, l: CacheLimits) -> DataKeyCache {
    DataKeyCache::new(Arc::clone(inner) as Arc<dyn KeyProvider>, l)
}

pub(super) fn ctx(n: u8) -> KeyContext {
    KeyContext::volume([n; 16], 1)
}

/// A wrapped key for volume `n`, made directly by the key file (no counted call).
pub(super) fn volume_key(p: &Counting, n: u8) -> (DataKey, WrappedKey, KeyContext) {
    let c = ctx(n);
    let (dk, w) = p.file.generate(&c).unwrap();
    (dk, w, c)
}

/// Waits (without any timing assertion) until `cond` holds.
pub(super) fn wait_until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        std::thread::yield_now();
        std::thread::sleep(Duration::from_millis(1));
    }
}

pub(super) fn reuse(max_uses: u64) -> CacheLimits {
    CacheLimits {
        reuse_data_keys: true,
        max_uses,
        ..limits(8)
    }
}
