//! Single flight for a [`DataKeyCache`]: concurrent identical requests share one inner call.
//! The first caller (the leader) makes it; the others wait on a per-request [`Flight`] (a
//! `Mutex` + `Condvar`) and take its result. If it fails, every waiter gets an equivalent
//! error ([`copy_error`]) and nothing is cached; if it panics, the [`FlightGuard`] still
//! wakes the waiters, with an error.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::metrics::error_code;
use super::slots::{copy_key, EntryKey, State};
use super::{lock, DataKeyCache};
use crate::crypto::{CryptoError, DataKey};
use crate::keys::KeyError;

/// The outcome of a single-flight call, shared with the callers that waited for it.
pub(super) enum Outcome {
    /// An unwrap's key, or `None` for a generate (whose waiters retry through the cache).
    Ok(Option<DataKey>),
    Failed(KeyError),
}

/// One in-flight inner call.
pub(super) struct Flight {
    done: Mutex<Option<Outcome>>,
    cv: Condvar,
}

impl Flight {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Flight {
            done: Mutex::new(None),
            cv: Condvar::new(),
        })
    }

    fn publish(&self, outcome: Outcome) {
        *lock(&self.done) = Some(outcome);
        self.cv.notify_all();
    }

    /// Waits for the outcome: a copy of the key (if any) or of the error.
    pub(super) fn wait(&self) -> Result<Option<DataKey>, KeyError> {
        let mut g = lock(&self.done);
        loop {
            match &*g {
                Some(Outcome::Ok(None)) => return Ok(None),
                Some(Outcome::Ok(Some(k))) => return Ok(Some(copy_key(k)?)),
                Some(Outcome::Failed(e)) => return Err(copy_error(e)),
                None => g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }
}

/// What a flight is for.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) enum FlightId {
    Unwrap(EntryKey),
    /// A shared-context generate, by canonical context.
    Generate(Vec<u8>),
}

/// The leader's hold on an in-flight call: publishes the outcome and removes the flight,
/// also when the inner call panics (waiters then get an error instead of hanging).
pub(super) struct FlightGuard<'a> {
    cache: &'a DataKeyCache,
    id: Option<FlightId>,
}

impl<'a> FlightGuard<'a> {
    /// A hold on flight `id` (`None`: the call is not shared, there is nothing to publish).
    pub(super) fn new(cache: &'a DataKeyCache, id: Option<FlightId>) -> Self {
        FlightGuard { cache, id }
    }

    /// Removes the flight (under the state lock the caller holds, so that a new request
    /// sees either the flight or the cached entry) and wakes its waiters.
    pub(super) fn finish(mut self, mut st: MutexGuard<'_, State>, outcome: Outcome) {
        let flight = self.id.take().and_then(|id| st.flights.remove(&id));
        drop(st);
        if let Some(f) = flight {
            f.publish(outcome);
        }
    }
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let flight = lock(&self.cache.state).flights.remove(&id);
            if let Some(f) = flight {
                f.publish(Outcome::Failed(KeyError::KmsConfig(
                    "the key provider call did not complete (it panicked)".into(),
                )));
            }
        }
    }
}

/// An equivalent copy of `e` for the callers that waited on the failed call. [`KeyError`]
/// is not `Clone`: the copy is the same variant with the same fields (a `Crypto` error keeps
/// its kind); a variant this module does not know becomes `KeyError::Kms { code, message }`
/// with the original's code ([`error_code`]) and message.
#[allow(unreachable_patterns)]
pub(super) fn copy_error(e: &KeyError) -> KeyError {
    match e {
        KeyError::KeyFile { path, reason } => KeyError::KeyFile {
            path: path.clone(),
            reason: reason.clone(),
        },
        KeyError::WrongKey(s) => KeyError::WrongKey(s.clone()),
        KeyError::ProviderMismatch { needed, given } => KeyError::ProviderMismatch {
            needed: needed.clone(),
            given: given.clone(),
        },
        KeyError::Kms { code, message } => KeyError::Kms {
            code: code.clone(),
            message: message.clone(),
        },
        KeyError::KmsUnreachable(s) => KeyError::KmsUnreachable(s.clone()),
        KeyError::KmsConfig(s) => KeyError::KmsConfig(s.clone()),
        KeyError::Crypto(c) => KeyError::Crypto(match c {
            CryptoError::Authentication => CryptoError::Authentication,
            CryptoError::Rng => CryptoError::Rng,
            _ => CryptoError::Refused,
        }),
        other => KeyError::Kms {
            code: error_code(other),
            message: other.to_string(),
        },
    }
}
