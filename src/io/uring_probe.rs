//! Whether io_uring can run here, how O_DIRECT must be aligned, and which engine `--io auto`
//! picks.
//!
//! The probe sets up a small ring and asks the kernel which operations it supports. It fails
//! with EPERM under seccomp filters and `kernel.io_uring_disabled`, with ENOSYS on kernels
//! without io_uring; operators can also turn it off for volcrypt alone with
//! `VOLCRYPT_IO_URING=off`. The result is computed once per process.

use std::fs::File;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use io_uring::{opcode, IoUring, Probe};

use super::EngineKind;

/// Default number of requests in flight per call.
pub const DEFAULT_QUEUE_DEPTH: u32 = 32;

static QUEUE_DEPTH: AtomicU32 = AtomicU32::new(DEFAULT_QUEUE_DEPTH);

/// Sets the queue depth of io_uring engines opened from now on (1 to 4096).
pub fn set_queue_depth(qd: u32) {
    QUEUE_DEPTH.store(qd.clamp(1, 4096), Ordering::Relaxed);
}

/// The queue depth io_uring engines use.
pub fn queue_depth() -> u32 {
    QUEUE_DEPTH.load(Ordering::Relaxed)
}

/// Files at least this large get io_uring + O_DIRECT from `--io auto` (on disk-backed file
/// systems): below it, the page cache's copy costs less than O_DIRECT's synchronous waits.
pub const LARGE_FILE: u64 = 256 << 20;

/// The environment variable that turns io_uring off for volcrypt (`off`, `0`, `disabled`).
pub const DISABLE_ENV: &str = "VOLCRYPT_IO_URING";

/// Says why io_uring cannot be used, from the error of `io_uring_setup`.
pub fn setup_error_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) => format!(
            "io_uring_setup was refused ({e}): kernel.io_uring_disabled is set or a seccomp \
             filter (container runtime, systemd SystemCallFilter) blocks it"
        ),
        Some(libc::ENOSYS) => format!("this kernel has no io_uring ({e})"),
        Some(libc::ENOMEM) => {
            format!("io_uring_setup failed ({e}): not enough locked memory for a ring (ulimit -l)")
        }
        _ => format!("io_uring_setup failed ({e})"),
    }
}

/// Probes with `setup`; the real probe passes `IoUring::new`. Checks the operations the
/// engine uses.
pub fn probe_with(setup: impl FnOnce() -> std::io::Result<IoUring>) -> Result<(), String> {
    let ring = setup().map_err(|e| setup_error_reason(&e))?;
    let mut probe = Probe::new();
    if let Err(e) = ring.submitter().register_probe(&mut probe) {
        return Err(format!("io_uring cannot report its operations ({e})"));
    }
    let ops = [
        (opcode::Read::CODE, "READ"),
        (opcode::Write::CODE, "WRITE"),
        (opcode::ReadFixed::CODE, "READ_FIXED"),
        (opcode::WriteFixed::CODE, "WRITE_FIXED"),
        (opcode::Fsync::CODE, "FSYNC"),
    ];
    match ops.iter().find(|(code, _)| !probe.is_supported(*code)) {
        Some((_, name)) => Err(format!("this kernel's io_uring lacks IORING_OP_{name}")),
        None => Ok(()),
    }
}

/// Whether io_uring is usable in this process; `Err` says why not. Computed once.
pub fn uring_probe() -> Result<(), String> {
    static RESULT: OnceLock<Result<(), String>> = OnceLock::new();
    RESULT
        .get_or_init(|| match std::env::var(DISABLE_ENV) {
            Ok(v) if matches!(v.as_str(), "0" | "off" | "disabled" | "no") => {
                Err(format!("disabled by {DISABLE_ENV}={v}"))
            }
            _ => probe_with(|| IoUring::new(4)),
        })
        .clone()
}

/// How O_DIRECT must be aligned on a file, or that it is not supported there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DioAlign {
    /// O_DIRECT works with offsets and lengths multiple of `offset`, memory of `mem`.
    Direct {
        /// File offset and length alignment.
        offset: u64,
        /// Memory alignment.
        mem: usize,
    },
    /// No O_DIRECT on this file system.
    Buffered,
}

/// The O_DIRECT alignment of `file`: `statx(STATX_DIOALIGN)` where the kernel and file
/// system report it (Linux 6.1+); else the logical block size of a block device, or a page
/// for a regular file (safe on every file system that supports O_DIRECT).
pub fn dio_align(file: &File) -> DioAlign {
    let mut st = std::mem::MaybeUninit::<libc::statx>::zeroed();
    #[allow(unsafe_code)]
    // SAFETY: the path is a valid NUL-terminated empty string (AT_EMPTY_PATH: stat the fd),
    // the fd is open for the lifetime of `file`, and `st` points at writable memory of the
    // size of `struct statx`.
    let rc = unsafe {
        libc::statx(
            file.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_DIOALIGN,
            st.as_mut_ptr(),
        )
    };
    if rc == 0 {
        #[allow(unsafe_code)]
        // SAFETY: statx returned 0; the struct was zeroed first, so every field is defined.
        let st = unsafe { st.assume_init() };
        if st.stx_mask & libc::STATX_DIOALIGN != 0 {
            return match (st.stx_dio_offset_align, st.stx_dio_mem_align) {
                (0, _) | (_, 0) => DioAlign::Buffered,
                (o, m) => DioAlign::Direct {
                    offset: u64::from(o),
                    mem: m as usize,
                },
            };
        }
    }
    let is_block = file
        .metadata()
        .is_ok_and(|m| m.file_type().is_block_device());
    let block = if is_block {
        super::block_info(file).map_or(4096, |b| b.logical_block)
    } else {
        4096
    };
    DioAlign::Direct {
        offset: u64::from(block),
        mem: block as usize,
    }
}

/// What `--io auto` chose, and why when it fell back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoChoice {
    /// The engine.
    pub kind: EngineKind,
    /// Why io_uring was not used although it would have been picked.
    pub fallback: Option<String>,
}

/// `--io auto`: io_uring (O_DIRECT) for block devices and large files on disk-backed file
/// systems when it is available, else `pread` there (with the reason); mmap for small files
/// and files in memory (tmpfs), where sealing in the page cache is fastest.
pub fn choose_auto(path: &Path, probe: Result<(), String>) -> AutoChoice {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let wants_uring =
        super::is_block_device(path) || (size >= LARGE_FILE && !super::in_memory_fs(path));
    match (wants_uring, probe) {
        (true, Ok(())) => AutoChoice {
            kind: EngineKind::Uring,
            fallback: None,
        },
        (true, Err(why)) => AutoChoice {
            kind: EngineKind::Pread,
            fallback: Some(why),
        },
        (false, _) => AutoChoice {
            kind: EngineKind::Mmap,
            fallback: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(errno: i32) -> impl FnOnce() -> std::io::Result<IoUring> {
        move || Err(std::io::Error::from_raw_os_error(errno))
    }

    #[test]
    fn forced_probe_failures_name_the_cause() {
        let eperm = probe_with(fail(libc::EPERM)).unwrap_err();
        assert!(
            eperm.contains("refused") && eperm.contains("io_uring_disabled"),
            "{eperm}"
        );
        let enosys = probe_with(fail(libc::ENOSYS)).unwrap_err();
        assert!(enosys.contains("no io_uring"), "{enosys}");
        let enomem = probe_with(fail(libc::ENOMEM)).unwrap_err();
        assert!(enomem.contains("ulimit -l"), "{enomem}");
    }

    #[test]
    fn auto_falls_back_to_pread_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        let f = File::create(&big).unwrap();
        f.set_len(LARGE_FILE).unwrap();
        let small = dir.path().join("small");
        File::create(&small).unwrap().set_len(1 << 20).unwrap();
        let why = probe_with(fail(libc::EPERM)).unwrap_err();
        let c = choose_auto(&big, Err(why.clone()));
        if in_memory_fs_here(&big) {
            assert_eq!(c.kind, EngineKind::Mmap);
        } else {
            assert_eq!(
                c,
                AutoChoice {
                    kind: EngineKind::Pread,
                    fallback: Some(why)
                }
            );
            assert_eq!(choose_auto(&big, Ok(())).kind, EngineKind::Uring);
        }
        assert_eq!(choose_auto(&small, Ok(())).kind, EngineKind::Mmap);
    }

    fn in_memory_fs_here(p: &Path) -> bool {
        super::super::in_memory_fs(p)
    }

    #[test]
    fn queue_depth_is_clamped() {
        let before = queue_depth();
        set_queue_depth(0);
        assert_eq!(queue_depth(), 1);
        set_queue_depth(before);
        assert_eq!(queue_depth(), before);
    }

    #[test]
    fn dio_alignment_of_a_regular_file_is_a_power_of_two() {
        let f = tempfile::tempfile().unwrap();
        match dio_align(&f) {
            DioAlign::Direct { offset, mem } => {
                assert!(offset.is_power_of_two() && offset <= 4096, "{offset}");
                assert!(mem.is_power_of_two() && mem <= 4096, "{mem}");
            }
            DioAlign::Buffered => eprintln!("no O_DIRECT on the temp dir's file system"),
        }
    }
}
