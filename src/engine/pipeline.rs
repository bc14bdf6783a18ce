//! The window pipeline: reader thread -> cipher (rayon) -> writer thread, over bounded
//! crossbeam channels.
//!
//! At most `POOL` window buffers exist at once (they are reused, which also avoids this VM's
//! expensive first-touch page faults), so memory stays bounded whatever the volume size. In
//! *direct* mode the buffers are [`MappedWindow`](crate::io::MappedWindow)s of the destination
//! mapping: the cipher works on the page cache in place and nothing is copied. The writer
//! never writes a window in which any chunk failed authentication when `fail_on_bad` is set.

use std::io::Write;
use std::ops::{Deref, DerefMut, Range};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::bounded;

use super::cipher::{WindowCipher, WindowOut};
use super::journal::Journal;
use super::observe::{timed, Observer, Stage};
use super::{EngineError, Progress};
use crate::crypto::NonceCounter;
use crate::format::{Geometry, TagEntry, TAG_ENTRY_LEN};
use crate::io::{AlignedBuf, BlockIo, MappedWindow};

/// Window buffers in flight: one being read, one in the cipher, one being written.
const POOL: usize = 3;

/// Where transformed windows go.
pub(crate) enum Sink<'a> {
    /// Back to the same offsets of the source device.
    InPlace,
    /// To the same offsets of another device.
    Device(&'a dyn BlockIo),
    /// Appended to a stream, in order (`cat`).
    Stream(Box<dyn Write + Send + 'a>),
    /// Nowhere (`verify`).
    Discard,
}

/// One finished window, handed to the checkpoint callback.
pub(crate) struct Done {
    pub chunks: Range<u64>,
    pub bytes: Range<u64>,
    pub tags: Vec<TagEntry>,
    pub bad: Vec<u64>,
}

enum Buf<'a> {
    Owned(AlignedBuf),
    Mapped(MappedWindow<'a>),
}

impl Deref for Buf<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Buf::Owned(v) => v,
            Buf::Mapped(m) => m,
        }
    }
}

impl DerefMut for Buf<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Buf::Owned(v) => v,
            Buf::Mapped(m) => m,
        }
    }
}

/// A configured data pass.
pub(crate) struct Pipeline<'a> {
    pub geometry: Geometry,
    pub src: &'a dyn BlockIo,
    /// The device and offset of the source tag table, for encrypted sources.
    pub src_tags: Option<(&'a dyn BlockIo, u64)>,
    pub sink: Sink<'a>,
    /// Work in destination mappings when the engine offers them.
    pub direct: bool,
    /// Stop (without writing the window) when a chunk fails authentication.
    pub fail_on_bad: bool,
    /// Journal each window (commit and sync) before writing it in place; needs private
    /// buffers (`direct` off).
    pub journal: Option<&'a Journal>,
    pub progress: Option<&'a dyn Progress>,
    pub cancel: Option<&'a AtomicBool>,
    pub pool: &'a rayon::ThreadPool,
    /// Receives per-stage timings.
    pub observer: Option<&'a dyn Observer>,
}

/// What a pass did.
#[derive(Debug, Default, Clone)]
pub(crate) struct PassStats {
    /// The source engine and its settings ([`BlockIo::detail`]).
    pub io: String,
    pub bytes: u64,
    pub chunks: u64,
    pub secs: f64,
    pub cancelled: bool,
}

fn read_tags(dev: &dyn BlockIo, off: u64, n: usize) -> Result<Vec<Option<TagEntry>>, EngineError> {
    let mut raw = vec![0u8; n * TAG_ENTRY_LEN];
    dev.read_at(&mut raw, off)?;
    // A tag entry that does not parse makes its chunk fail authentication, like any tamper.
    Ok(raw
        .chunks_exact(TAG_ENTRY_LEN)
        .map(|e| TagEntry::decode(e).ok())
        .collect())
}

/// The reader thread's view of a pipeline (everything but the sink, which the writer owns).
struct Loader<'a> {
    src: &'a dyn BlockIo,
    dst: Option<&'a dyn BlockIo>,
    in_place: bool,
    direct: bool,
}

impl<'a> Loader<'a> {
    /// Lends the destination's mapping of window bytes `r` in direct mode, loading the
    /// source into it when the source is another device.
    fn try_map(&self, r: &Range<u64>) -> Result<Option<Buf<'a>>, EngineError> {
        if !self.direct {
            return Ok(None);
        }
        let Some(dst) = self.dst else {
            return Ok(None);
        };
        let len = usize::try_from(r.end - r.start).map_err(|_| EngineError::Internal("window"))?;
        let Some(mut w) = dst.map_window(r.start, len)? else {
            return Ok(None);
        };
        if !self.in_place {
            self.src.read_at(&mut w, r.start)?;
        }
        Ok(Some(Buf::Mapped(w)))
    }

    /// Reads window bytes `r` into a pooled buffer.
    fn read_owned(&self, r: &Range<u64>, mut v: AlignedBuf) -> Result<Buf<'a>, EngineError> {
        let len = usize::try_from(r.end - r.start).map_err(|_| EngineError::Internal("window"))?;
        v.resize(len);
        self.src.read_at(&mut v, r.start)?;
        Ok(Buf::Owned(v))
    }
}

impl<'a> Pipeline<'a> {
    /// Runs windows `windows`, sealing with counters from `nonces` when the cipher seals,
    /// and calls `checkpoint` on the writer thread after each window is written.
    pub fn run<F>(
        self,
        windows: Range<u64>,
        cipher: &WindowCipher<'_>,
        nonces: &mut NonceCounter,
        mut checkpoint: F,
    ) -> Result<PassStats, EngineError>
    where
        F: FnMut(&Done) -> Result<(), EngineError> + Send,
    {
        let g = self.geometry;
        let start = Instant::now();
        let last_chunk = match windows.end.checked_sub(1) {
            Some(w) if !windows.is_empty() => g.window(w).end,
            _ => 0,
        };
        let stop = AtomicBool::new(false);
        let (load_tx, load_rx) = bounded::<(Range<u64>, Buf<'a>, Vec<Option<TagEntry>>)>(1);
        let (done_tx, done_rx) = bounded::<(Done, Buf<'a>)>(1);
        let (free_tx, free_rx) = bounded::<AlignedBuf>(POOL);
        // Page-aligned window buffers (O_DIRECT), offered to the engines as io_uring fixed
        // buffers; allocated once per pass and reused.
        let window_len = usize::try_from(g.byte_range(&g.window(0)).end)
            .map_err(|_| EngineError::Internal("window"))?;
        let bufs: Vec<AlignedBuf> = (0..POOL).map(|_| AlignedBuf::zeroed(window_len)).collect();
        {
            let refs: Vec<&AlignedBuf> = bufs.iter().collect();
            self.src.register_buffers(&refs);
            if let Sink::Device(d) = &self.sink {
                d.register_buffers(&refs);
            }
        }
        for b in bufs {
            free_tx
                .send(b)
                .map_err(|_| EngineError::Internal("buffer pool"))?;
        }
        // From here on only the writer returns buffers, so when it exits the reader's
        // `recv` fails instead of waiting forever.
        let free_tx = free_tx;
        let Pipeline {
            geometry: _,
            src,
            src_tags,
            sink,
            direct,
            fail_on_bad,
            journal,
            progress,
            cancel,
            pool,
            observer,
        } = self;
        let loader = Loader {
            src,
            dst: match sink {
                Sink::InPlace => Some(src),
                Sink::Device(d) => Some(d),
                _ => None,
            },
            in_place: matches!(sink, Sink::InPlace),
            direct,
        };
        let this = &loader;
        let mut stats = PassStats {
            io: src.detail(),
            ..PassStats::default()
        };
        std::thread::scope(|s| {
            let stop = &stop;
            let reader = s.spawn(move || -> Result<bool, EngineError> {
                for w in windows {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                        return Ok(true);
                    }
                    let chunks = g.window(w);
                    let bytes = g.byte_range(&chunks);
                    let buf = match this.try_map(&bytes)? {
                        Some(b) => b,
                        None => {
                            // Blocks until the writer returns a buffer; fails once the writer
                            // has exited, which ends this thread too.
                            let Ok(pooled) = free_rx.recv() else { break };
                            // The wait may have been long: do not start a window after a stop
                            // was asked for meanwhile.
                            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                                return Ok(true);
                            }
                            let len = bytes.end - bytes.start;
                            timed(observer, Stage::Read, len, || {
                                this.read_owned(&bytes, pooled)
                            })?
                        }
                    };
                    let tags = match src_tags {
                        Some((dev, off)) => {
                            let n = usize::try_from(chunks.end - chunks.start)
                                .map_err(|_| EngineError::Internal("window"))?;
                            let at = off + chunks.start * TAG_ENTRY_LEN as u64;
                            timed(observer, Stage::Read, 0, || read_tags(dev, at, n))?
                        }
                        None => Vec::new(),
                    };
                    if load_tx.send((chunks, buf, tags)).is_err() {
                        break;
                    }
                }
                Ok(false)
            });
            let writer = s.spawn(move || -> Result<(u64, u64, bool), EngineError> {
                let mut sink = sink;
                let (mut bytes, mut chunks) = (0u64, 0u64);
                for (done, buf) in done_rx {
                    if fail_on_bad && !done.bad.is_empty() {
                        return Err(EngineError::Tampered { bad: done.bad });
                    }
                    let len = done.bytes.end - done.bytes.start;
                    if let Some(j) = journal {
                        match &buf {
                            Buf::Owned(v) => {
                                timed(observer, Stage::JournalCommit, len, || j.commit(&done, v))?
                            }
                            // A mapped window is already in place: too late to journal.
                            Buf::Mapped(_) => {
                                return Err(EngineError::Internal("journal with direct mapping"))
                            }
                        }
                    }
                    let at = done.bytes.start;
                    match (&mut sink, &buf) {
                        (Sink::InPlace, Buf::Owned(v)) => {
                            timed(observer, Stage::Apply, len, || src.write_at(v, at))?
                        }
                        (Sink::Device(d), Buf::Owned(v)) => {
                            timed(observer, Stage::Apply, len, || d.write_at(v, at))?
                        }
                        (Sink::Stream(w), b) => {
                            w.write_all(&b[..]).map_err(|e| EngineError::Path {
                                path: "<output>".into(),
                                source: e,
                            })?
                        }
                        _ => {}
                    }
                    timed(observer, Stage::Checkpoint, len, || checkpoint(&done))?;
                    bytes += done.bytes.end - done.bytes.start;
                    chunks += done.chunks.end - done.chunks.start;
                    if let Some(p) = progress {
                        p.advance(done.bytes.end - done.bytes.start);
                    }
                    // Stop after this window when asked, even if the reader had already
                    // loaded the next ones (they are dropped unwritten, never checkpointed).
                    if done.chunks.end < last_chunk
                        && cancel.is_some_and(|c| c.load(Ordering::Relaxed))
                    {
                        return Ok((bytes, chunks, true));
                    }
                    if let Buf::Owned(v) = buf {
                        let _ = free_tx.send(v);
                    }
                }
                if let Sink::Stream(w) = &mut sink {
                    w.flush().map_err(|e| EngineError::Path {
                        path: "<output>".into(),
                        source: e,
                    })?;
                }
                Ok((bytes, chunks, false))
            });
            let cipher_result = (|| -> Result<(), EngineError> {
                for (chunks, mut buf, tags) in load_rx.iter() {
                    let n = chunks.end - chunks.start;
                    let ctr = if cipher.dst.is_some() {
                        nonces
                            .take(n)
                            .ok_or(EngineError::Internal("nonce reservation exhausted"))?
                    } else {
                        0
                    };
                    let WindowOut {
                        tags: new_tags,
                        bad,
                    } = timed(observer, Stage::Cipher, (buf.len()) as u64, || {
                        cipher.run(pool, chunks.clone(), &mut buf, &tags, ctr, observer)
                    })?;
                    let bytes = g.byte_range(&chunks);
                    let done = Done {
                        chunks,
                        bytes,
                        tags: new_tags,
                        bad,
                    };
                    if done_tx.send((done, buf)).is_err() {
                        break;
                    }
                }
                Ok(())
            })();
            stop.store(true, Ordering::Relaxed);
            drop(done_tx);
            drop(load_rx);
            let w = writer
                .join()
                .map_err(|_| EngineError::Internal("writer thread panicked"))?;
            let r = reader
                .join()
                .map_err(|_| EngineError::Internal("reader thread panicked"))?;
            // The writer's error is the root cause when it stopped first (the others then see
            // closed channels); otherwise report the cipher's or the reader's.
            let (bytes, chunks, stopped) = w?;
            cipher_result?;
            stats.cancelled = r? || stopped;
            stats.bytes = bytes;
            stats.chunks = chunks;
            Ok::<(), EngineError>(())
        })?;
        stats.secs = start.elapsed().as_secs_f64();
        Ok(stats)
    }
}
