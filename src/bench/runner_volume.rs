//! The volume workloads (`encrypt`, `rekey`, `rewrap`, `decrypt`, `verify`) on a scratch
//! volume, and `encrypt` on the `null` engine.
//!
//! A case creates its scratch volume once: `size` bytes of non-repeating data, synced (so
//! no dirty page of the fill is written back inside a measured repetition), encrypted first
//! unless the workload is `encrypt`. Before every repetition the volume is put back into the
//! state the workload starts from, untimed: `encrypt` truncates the volume back to its data
//! (the ciphertext is as good a plaintext as any), `decrypt` encrypts it again; `rekey`,
//! `rewrap` and `verify` leave it as it is. A repetition is the wall time of the whole
//! operation, as a user sees it (open, key unwrap or KMS call, data pass, checkpoints).
//!
//! On `null`, the data device reads zeros and discards writes and the metadata is in memory
//! (a fresh device per repetition, untimed; its crash simulation off), so the time is the
//! engine and harness alone: the harness-overhead measurement.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use super::kms::Timed;
use super::observe::Recorder;
use super::BenchError;
use crate::bench::model::Rep;
use crate::bench::spec::{Crypto, Point, Workload};
use crate::crypto::{random_bytes, Backend};
use crate::engine::{self, raw, Observer, RunOptions, Summary, VolumeRef};
use crate::io::{BlockIo, EngineKind, MemIo, NullIo};
use crate::keys::KeyProvider;

/// Bytes written per call while filling a scratch volume.
const FILL_BLOCK: usize = 4 << 20;

/// The key providers of a case: two keys that make new volumes, and the providers that open
/// volumes wrapped by each (for KMS, the admin provider opens both).
pub(crate) struct KeyRing<'k> {
    /// Providers making volumes under key A and key B.
    pub new: [&'k dyn KeyProvider; 2],
    /// Providers opening volumes wrapped by key A and key B.
    pub open: [&'k dyn KeyProvider; 2],
    /// True for KMS keys: their calls are timed as `kms_call`.
    pub kms: bool,
}

impl KeyRing<'_> {
    fn timed<'a>(&'a self, p: &'a dyn KeyProvider, obs: Option<&'a dyn Observer>) -> Timed<'a> {
        Timed {
            inner: p,
            obs: if self.kms { obs } else { None },
        }
    }
}

/// A scratch directory, removed with everything in it when dropped.
pub(crate) struct Scratch(pub PathBuf);

impl Scratch {
    /// Creates a fresh directory under `base`.
    pub fn new(base: &Path, tag: &str) -> Result<Scratch, BenchError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!(
            "volcrypt-bench-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(BenchError::io(&dir))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `size` bytes of non-repeating data to a new file at `path` and syncs it.
fn fill(path: &Path, size: u64, block: &mut Vec<u8>) -> Result<(), BenchError> {
    if block.len() != FILL_BLOCK {
        *block = vec![0u8; FILL_BLOCK];
        random_bytes(block)?;
    }
    let io = BenchError::io(path);
    let mut f = File::create(path).map_err(BenchError::io(path))?;
    let (mut left, mut i) = (size, 0u64);
    let r = (|| {
        while left > 0 {
            block[..8].copy_from_slice(&i.to_le_bytes());
            let n = usize::try_from(left.min(FILL_BLOCK as u64)).unwrap_or(FILL_BLOCK);
            f.write_all(&block[..n])?;
            left -= n as u64;
            i += 1;
        }
        f.sync_all()
    })();
    r.map_err(io)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Plain,
    Encrypted,
}

/// A volume case: its scratch volume and where it stands.
pub(crate) struct VolumeCase {
    p: Point,
    vref: VolumeRef,
    state: State,
    /// The key (0 = A, 1 = B) that wraps the volume's data key now.
    owner: usize,
    /// `null`: the metadata device of the next repetition.
    null_meta: Option<MemIo>,
    /// `rewrap`: rewraps per repetition.
    count: u32,
    cancel: Option<Arc<AtomicBool>>,
    /// Kept last: removed after the volume's handles are gone.
    _dir: Option<Scratch>,
}

impl VolumeCase {
    /// Creates the case's scratch volume under `base` (nothing for `null`); `count` is the
    /// number of rewraps per repetition.
    pub fn setup(
        p: &Point,
        count: u32,
        base: &Path,
        keys: &KeyRing<'_>,
        cancel: Option<Arc<AtomicBool>>,
        block: &mut Vec<u8>,
    ) -> Result<VolumeCase, BenchError> {
        let mut c = VolumeCase {
            p: p.clone(),
            vref: VolumeRef::attached(PathBuf::new()),
            state: State::Plain,
            owner: 0,
            null_meta: None,
            count,
            cancel,
            _dir: None,
        };
        if c.is_null() {
            return Ok(c);
        }
        let dir = Scratch::new(base, "vol")?;
        c.vref = VolumeRef::attached(dir.0.join("scratch.vol"));
        c._dir = Some(dir);
        fill(&c.vref.path, p.size, block)?;
        if p.workload != Workload::Encrypt {
            c.encrypt_untimed(keys)?;
        }
        Ok(c)
    }

    fn is_null(&self) -> bool {
        self.p.io == Some(EngineKind::Null)
    }

    fn label(&self) -> String {
        self.p.case.label()
    }

    fn opts(&self, obs: Option<Arc<dyn Observer>>) -> RunOptions {
        let backend = match self.p.crypto {
            Some(Crypto::Backend(b)) => b,
            _ => Backend::Ring,
        };
        RunOptions {
            threads: self.p.threads.max(1),
            io: self.p.io.unwrap_or(EngineKind::Pread),
            backend,
            resilience: self.p.resilience,
            progress: None,
            cancel: self.cancel.clone(),
            observer: obs,
            pool: None,
        }
    }

    fn chunk(&self) -> Option<u64> {
        (self.p.chunk_size > 0).then_some(self.p.chunk_size)
    }

    fn encrypt_untimed(&mut self, keys: &KeyRing<'_>) -> Result<(), BenchError> {
        let label = self.label();
        let k = keys.timed(keys.new[0], None);
        engine::encrypt(&self.vref, None, self.chunk(), &k, &self.opts(None))
            .map_err(BenchError::engine(&label))?;
        self.state = State::Encrypted;
        self.owner = 0;
        Ok(())
    }

    /// Drops everything past the data (the metadata of an attached volume).
    fn truncate(&mut self) -> Result<(), BenchError> {
        let path = &self.vref.path;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(BenchError::io(path))?;
        f.set_len(self.p.size).map_err(BenchError::io(path))?;
        f.sync_all().map_err(BenchError::io(path))?;
        self.state = State::Plain;
        Ok(())
    }

    /// Puts the volume into the state the workload starts from; call it before every
    /// repetition, outside the measurement. On `null`: a fresh metadata device.
    pub fn prepare(&mut self, keys: &KeyRing<'_>) -> Result<(), BenchError> {
        if self.is_null() {
            self.null_meta = Some(self.null_meta()?);
            return Ok(());
        }
        match (self.p.workload, self.state) {
            (Workload::Encrypt, State::Encrypted) => self.truncate(),
            (Workload::Decrypt, State::Plain) => {
                self.truncate()?;
                self.encrypt_untimed(keys)
            }
            _ => Ok(()),
        }
    }

    /// One repetition (after [`Self::prepare`]), recorded into `rec`; `None` when it was
    /// interrupted (cancelled).
    pub fn rep(
        &mut self,
        keys: &KeyRing<'_>,
        rec: &Arc<Recorder>,
    ) -> Result<Option<Rep>, BenchError> {
        let label = self.label();
        let e = BenchError::engine(&label);
        if self.is_null() {
            return self.null_rep(keys, rec);
        }
        let obs: Arc<dyn Observer> = rec.clone();
        let opts = self.opts(Some(Arc::clone(&obs)));
        let t = Instant::now();
        let summary: Summary = match self.p.workload {
            Workload::Encrypt => {
                let k = keys.timed(keys.new[0], Some(obs.as_ref()));
                let s = engine::encrypt(&self.vref, None, self.chunk(), &k, &opts).map_err(e)?;
                self.state = State::Encrypted;
                self.owner = 0;
                s
            }
            Workload::Decrypt => {
                let k = keys.timed(keys.open[self.owner], Some(obs.as_ref()));
                let s = engine::decrypt(&self.vref, None, &k, &opts).map_err(e)?;
                self.state = State::Plain;
                s
            }
            Workload::Rekey => {
                let from = keys.timed(keys.open[self.owner], Some(obs.as_ref()));
                let to = keys.timed(keys.new[self.owner], Some(obs.as_ref()));
                engine::rekey(&self.vref, None, &from, &to, &opts).map_err(e)?
            }
            Workload::Verify => {
                let k = keys.timed(keys.open[self.owner], Some(obs.as_ref()));
                let r = engine::verify(&self.vref, &k, &opts).map_err(e)?;
                if !r.ok() {
                    return Err(BenchError::Measure(format!(
                        "{label}: the scratch volume failed verification ({} bad chunks)",
                        r.bad.len()
                    )));
                }
                r.summary
            }
            Workload::Rewrap => return self.rewrap_rep(keys, &obs).map(Some),
            Workload::Cipher | Workload::Kms => {
                return Err(BenchError::Spec(format!("{label}: not a volume workload")))
            }
        };
        let secs = t.elapsed().as_secs_f64();
        Ok((!summary.interrupted).then_some(Rep {
            bytes: summary.bytes,
            ops: summary.chunks,
            secs,
        }))
    }

    fn rewrap_rep(
        &mut self,
        keys: &KeyRing<'_>,
        obs: &Arc<dyn Observer>,
    ) -> Result<Rep, BenchError> {
        let label = self.label();
        let count = u64::from(self.count.max(1));
        let t = Instant::now();
        for _ in 0..count {
            let from = keys.timed(keys.open[self.owner], Some(obs.as_ref()));
            let to = keys.timed(keys.new[1 - self.owner], Some(obs.as_ref()));
            engine::rewrap(&self.vref, &from, &to).map_err(BenchError::engine(&label))?;
            self.owner = 1 - self.owner;
        }
        Ok(Rep {
            bytes: 0,
            ops: count,
            secs: t.elapsed().as_secs_f64(),
        })
    }

    /// An empty in-memory metadata device for a `null` repetition.
    fn null_meta(&self) -> Result<MemIo, BenchError> {
        let label = self.label();
        let meta_len = raw::detached_size(self.p.size, self.p.chunk_size)
            .map_err(BenchError::engine(&label))?;
        let meta = MemIo::new(usize::try_from(meta_len).map_err(|_| {
            BenchError::Spec(format!(
                "{label}: metadata of {meta_len} bytes is too large"
            ))
        })?);
        // No crash simulation: a sync must not copy the whole device.
        meta.freeze_after(0);
        Ok(meta)
    }

    /// `encrypt` on the null engine: zeros in, writes discarded, metadata in memory.
    fn null_rep(
        &mut self,
        keys: &KeyRing<'_>,
        rec: &Arc<Recorder>,
    ) -> Result<Option<Rep>, BenchError> {
        let label = self.label();
        let chunk = self.p.chunk_size;
        let meta = match self.null_meta.take() {
            Some(m) => m,
            None => self.null_meta()?,
        };
        let dev = raw::Devices {
            data: Arc::new(NullIo::new(self.p.size)) as Arc<dyn BlockIo>,
            meta: Some(Arc::new(meta)),
        };
        let obs: Arc<dyn Observer> = rec.clone();
        let opts = self.opts(Some(Arc::clone(&obs)));
        let k = keys.timed(keys.new[0], Some(obs.as_ref()));
        let t = Instant::now();
        let s = raw::encrypt(&dev, self.p.size, chunk, &k, &opts)
            .map_err(BenchError::engine(&label))?;
        let secs = t.elapsed().as_secs_f64();
        Ok((!s.interrupted).then_some(Rep {
            bytes: s.bytes,
            ops: s.chunks,
            secs,
        }))
    }
}
