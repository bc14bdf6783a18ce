//! Device size for regular files and block devices (BLKGETSIZE64).

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
