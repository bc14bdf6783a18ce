//! A [`KeyProvider`] wrapper that counts and times every call: the `volcrypt_kms_*` families.
//!
//! Each operation's request counter and duration histogram is resolved once, when the
//! provider is wrapped; only a failure looks up its `{op, code}` error series. A call is
//! counted when it returns, so at any scrape `requests - errors` is the successful calls.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::{Durations, OpLabel};
use crate::crypto::DataKey;
use crate::keys::{KeyContext, KeyError, KeyProvider, WrappedKey};

/// Labels `{op, code}` of a failed call.
type ErrorLabel = [(&'static str, Cow<'static, str>); 2];

/// The longest KMS error code kept in a label; longer ones are cut.
const MAX_CODE_LEN: usize = 64;

/// The families behind [`Instrumented`], registered once per [`super::Metrics`].
#[derive(Debug)]
pub(super) struct KmsFamilies {
    requests: Family<OpLabel, Counter>,
    errors: Family<ErrorLabel, Counter>,
    seconds: Durations<OpLabel>,
}

impl KmsFamilies {
    /// Registers the three families in `registry`.
    pub(super) fn register(registry: &mut Registry, ctor: fn() -> Histogram) -> Self {
        let requests = Family::<OpLabel, Counter>::default();
        registry.register(
            "volcrypt_kms_requests",
            "Key provider calls, by operation (failed ones included)",
            requests.clone(),
        );
        let errors = Family::<ErrorLabel, Counter>::default();
        registry.register(
            "volcrypt_kms_errors",
            "Failed key provider calls, by operation and error code",
            errors.clone(),
        );
        let seconds = Durations::<OpLabel>::new_with_constructor(ctor);
        registry.register_with_unit(
            "volcrypt_kms_request_duration",
            "Latency of key provider calls, by operation",
            Unit::Seconds,
            seconds.clone(),
        );
        KmsFamilies {
            requests,
            errors,
            seconds,
        }
    }
}

/// The series of one operation.
struct OpSeries {
    op: &'static str,
    requests: Counter,
    seconds: Histogram,
}

impl OpSeries {
    fn new(op: &'static str, f: &KmsFamilies) -> Self {
        OpSeries {
            op,
            requests: Counter::clone(&f.requests.get_or_create(&[("op", op)])),
            seconds: Histogram::clone(&f.seconds.get_or_create(&[("op", op)])),
        }
    }
}

/// A key provider whose calls are counted and timed (see [`super::Metrics::instrument`]).
pub(super) struct Instrumented {
    inner: Arc<dyn KeyProvider>,
    errors: Family<ErrorLabel, Counter>,
    generate: OpSeries,
    generate_sized: OpSeries,
    unwrap: OpSeries,
    wrap: OpSeries,
    rewrap: OpSeries,
}

impl Instrumented {
    /// Wraps `inner`, creating (at zero) the series of every operation.
    pub(super) fn new(inner: Arc<dyn KeyProvider>, f: &KmsFamilies) -> Self {
        Instrumented {
            inner,
            errors: f.errors.clone(),
            generate: OpSeries::new("generate", f),
            generate_sized: OpSeries::new("generate_sized", f),
            unwrap: OpSeries::new("unwrap", f),
            wrap: OpSeries::new("wrap", f),
            rewrap: OpSeries::new("rewrap", f),
        }
    }

    /// Runs one inner call, counting and timing it as `s`.
    fn call<T>(
        &self,
        s: &OpSeries,
        f: impl FnOnce() -> Result<T, KeyError>,
    ) -> Result<T, KeyError> {
        let t = Instant::now();
        let r = f();
        s.seconds.observe(t.elapsed().as_secs_f64());
        s.requests.inc();
        if let Err(e) = &r {
            self.errors
                .get_or_create(&[("op", Cow::Borrowed(s.op)), ("code", error_code(e))])
                .inc();
        }
        r
    }
}

impl KeyProvider for Instrumented {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn generate(&self, ctx: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError> {
        self.call(&self.generate, || self.inner.generate(ctx))
    }

    fn generate_sized(
        &self,
        ctx: &KeyContext,
        bytes: u64,
    ) -> Result<(DataKey, WrappedKey), KeyError> {
        self.call(&self.generate_sized, || {
            self.inner.generate_sized(ctx, bytes)
        })
    }

    fn unwrap(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Result<DataKey, KeyError> {
        self.call(&self.unwrap, || self.inner.unwrap(wrapped, ctx))
    }

    fn wrap(&self, key: &DataKey, ctx: &KeyContext) -> Result<WrappedKey, KeyError> {
        self.call(&self.wrap, || self.inner.wrap(key, ctx))
    }

    fn rewrap(
        &self,
        wrapped: &WrappedKey,
        ctx: &KeyContext,
    ) -> Result<Option<WrappedKey>, KeyError> {
        self.call(&self.rewrap, || self.inner.rewrap(wrapped, ctx))
    }

    fn shares_data_keys(&self) -> bool {
        self.inner.shares_data_keys()
    }
}

/// The `code` label of a failed call: the KMS error code for [`KeyError::Kms`] (kept to
/// `[A-Za-z0-9_]`, at most [`MAX_CODE_LEN`] characters, since label values are not escaped),
/// else the variant's fixed name ([`KeyError::code`]). Never any part of an error message.
pub(super) fn error_code(e: &KeyError) -> Cow<'static, str> {
    // The fixed names are label-safe already; KMS codes come from the wire.
    Cow::Owned(sanitize(e.code()))
}

/// `code` kept to label-safe characters; `Unknown` when nothing is left.
fn sanitize(code: &str) -> String {
    let s: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(MAX_CODE_LEN)
        .collect();
    if s.is_empty() {
        "Unknown".to_owned()
    } else {
        s
    }
}
