//! Device size for regular files and block devices (BLKGETSIZE64), and space reservation
//! for regular files (posix_fallocate).

use std::fs::File;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// True when `path` is a block device.
pub fn is_block_device(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.file_type().is_block_device())
        .unwrap_or(false)
}

/// The size of a regular file, or of a block device through the `BLKGETSIZE64` ioctl.
pub fn device_size(file: &File) -> std::io::Result<u64> {
    let meta = file.metadata()?;
    if !meta.file_type().is_block_device() {
        return Ok(meta.len());
    }
    // _IOR(0x12, 114, size_t)
    const BLKGETSIZE64: libc::c_ulong = 0x8008_1272;
    let mut size: u64 = 0;
    #[allow(unsafe_code)]
    // SAFETY:
    // - the fd is open for the lifetime of `file`, which outlives this call;
    // - BLKGETSIZE64 writes exactly one u64 through the pointer, which points at `size`,
    //   a live, aligned, writable u64 on this stack frame.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), BLKGETSIZE64, &mut size as *mut u64) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(size)
}

/// Reserves the blocks of `offset..offset + len` of a regular file (extending it if needed),
/// so that later writes there cannot fail for lack of space: a full file system is reported
/// here, before anything is written (ENOSPC). File systems without fallocate support
/// (EOPNOTSUPP) are left as they are.
pub fn allocate(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    let (Ok(off), Ok(n)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(std::io::Error::from_raw_os_error(libc::EFBIG));
    };
    #[allow(unsafe_code)]
    // SAFETY: posix_fallocate only reads its integer arguments; the fd is open for the
    // lifetime of `file`, which outlives this call.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), off, n) };
    match rc {
        0 | libc::EOPNOTSUPP => Ok(()),
        e => Err(std::io::Error::from_raw_os_error(e)),
    }
}

/// True when `path` lives in memory (tmpfs, ramfs): there, mapping the file and sealing in
/// the page cache is the fastest engine; on disk-backed file systems and block devices,
/// positioned I/O is (measured in `results/journal-*`: page faults and writeback of a
/// mapping cost more than `pwrite` copies when a disk is behind it).
pub fn in_memory_fs(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    const TMPFS_MAGIC: libc::c_long = 0x0102_1994;
    const RAMFS_MAGIC: libc::c_long = 0x8584_58f6;
    let dir = if path.is_dir() {
        path.to_owned()
    } else {
        path.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| Path::new(".").to_owned(), Path::to_owned)
    };
    if is_block_device(path) {
        return false;
    }
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    let mut st = std::mem::MaybeUninit::<libc::statfs>::uninit();
    #[allow(unsafe_code)]
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call, and `st`
    // points at writable memory of the size of `struct statfs`, which statfs fills in.
    let rc = unsafe { libc::statfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return false;
    }
    #[allow(unsafe_code)]
    // SAFETY: statfs returned 0, so it initialized the whole struct.
    let st = unsafe { st.assume_init() };
    #[allow(clippy::unnecessary_cast)]
    let t = st.f_type as libc::c_long;
    t == TMPFS_MAGIC || t == RAMFS_MAGIC
}
