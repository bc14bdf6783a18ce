//! Device size and block sizes for regular files and block devices (BLKGETSIZE64,
//! BLKSSZGET, BLKPBSZGET), whether a block device is in use (mounted, or held by a stacked
//! kernel device: /proc/self/mountinfo and sysfs), and space reservation for regular files
//! (posix_fallocate).

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

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

/// Size and block sizes of a block device (for a regular file: its length, and 512/4096).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Size in bytes.
    pub size: u64,
    /// Logical block size: the smallest unit the device addresses (O_DIRECT alignment).
    pub logical_block: u32,
    /// Physical block size: the unit the device writes atomically, at best.
    pub physical_block: u32,
}

/// The size (BLKGETSIZE64) and the logical (BLKSSZGET) and physical (BLKPBSZGET) block
/// sizes of a block device. For a regular file: its length, 512 and 4096.
pub fn block_info(file: &File) -> std::io::Result<BlockInfo> {
    let size = device_size(file)?;
    if !file.metadata()?.file_type().is_block_device() {
        return Ok(BlockInfo {
            size,
            logical_block: 512,
            physical_block: 4096,
        });
    }
    let mut logical: libc::c_int = 0;
    let mut physical: libc::c_uint = 0;
    #[allow(unsafe_code)]
    // SAFETY:
    // - the fd is open for the lifetime of `file`, which outlives both calls;
    // - BLKSSZGET writes one c_int through its pointer, which points at `logical`, and
    //   BLKPBSZGET one c_uint, at `physical`: live, aligned, writable locals of this frame.
    let rc = unsafe {
        match libc::ioctl(
            file.as_raw_fd(),
            libc::BLKSSZGET,
            &mut logical as *mut libc::c_int,
        ) {
            0 => libc::ioctl(
                file.as_raw_fd(),
                libc::BLKPBSZGET,
                &mut physical as *mut libc::c_uint,
            ),
            e => e,
        }
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let logical_block =
        u32::try_from(logical).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(BlockInfo {
        size,
        logical_block,
        physical_block: physical.max(logical_block),
    })
}

/// Why a block device must not be modified now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceUse {
    /// The device, or one of its partitions, is mounted.
    Mounted {
        /// The mounted partition's kernel name (`sdb1`), when it is not the device itself.
        partition: Option<String>,
        /// Where it is mounted.
        mount_point: PathBuf,
    },
    /// Kernel devices are stacked on it, or on one of its partitions (LVM/device-mapper,
    /// md RAID, bcache): the entries of its sysfs `holders/` directory.
    Held {
        /// The held partition's kernel name, when it is not the device itself.
        partition: Option<String>,
        /// The holders' kernel names (`dm-0`, `md127`).
        holders: Vec<String>,
    },
}

/// A block device number as (major, minor).
type DevNum = (u32, u32);

fn dev_num(rdev: u64) -> DevNum {
    (libc::major(rdev), libc::minor(rdev))
}

/// Whether the block device numbered `rdev` (its `st_rdev`) or one of its partitions is
/// mounted (`/proc/self/mountinfo`: field 3 is `major:minor`, field 5 the mount point; the
/// mount source is compared too, for file systems such as btrfs that report an anonymous
/// device number) or held by a stacked device (`/sys/dev/block/M:m/holders/`, and the same
/// for each partition: the `/sys/dev/block/M:m/*/partition` directories). `None` when
/// neither, or when /proc or /sys cannot be read: the caller's exclusive open (`O_EXCL`,
/// which fails with EBUSY on a mounted or claimed device) still stands behind this check,
/// which exists to name the mount point, and to see mounts made in this mount namespace.
pub fn block_device_use(rdev: u64) -> Option<DeviceUse> {
    let mountinfo = std::fs::read("/proc/self/mountinfo").unwrap_or_default();
    device_use_in(rdev, &mountinfo, Path::new("/sys/dev/block"), &|source| {
        std::fs::metadata(source)
            .ok()
            .filter(|m| m.file_type().is_block_device())
            .map(|m| dev_num(m.rdev()))
    })
}

/// [`block_device_use`] over a given mountinfo text and sysfs `dev/block` directory;
/// `source_dev` gives the device number of a mount source path.
fn device_use_in(
    rdev: u64,
    mountinfo: &[u8],
    sys_block: &Path,
    source_dev: &dyn Fn(&Path) -> Option<DevNum>,
) -> Option<DeviceUse> {
    let me = dev_num(rdev);
    let mut devs = vec![(me, None)];
    devs.extend(partitions(sys_block, me));
    if let Some((partition, mount_point)) = mounted(mountinfo, &devs, source_dev) {
        return Some(DeviceUse::Mounted {
            partition,
            mount_point,
        });
    }
    devs.into_iter().find_map(|(d, partition)| {
        let holders = holders(sys_block, d);
        (!holders.is_empty()).then_some(DeviceUse::Held { partition, holders })
    })
}

fn sys_dir(sys_block: &Path, (major, minor): DevNum) -> PathBuf {
    sys_block.join(format!("{major}:{minor}"))
}

fn parse_dev_num(s: &[u8]) -> Option<DevNum> {
    let s = std::str::from_utf8(s).ok()?.trim();
    let (a, b) = s.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The partitions of device `d`: (device number, kernel name).
fn partitions(sys_block: &Path, d: DevNum) -> Vec<(DevNum, Option<String>)> {
    let Ok(entries) = std::fs::read_dir(sys_dir(sys_block, d)) else {
        return Vec::new();
    };
    let mut out: Vec<(DevNum, Option<String>)> = entries
        .flatten()
        .filter(|e| e.path().join("partition").is_file())
        .filter_map(|e| {
            let num = parse_dev_num(&std::fs::read(e.path().join("dev")).ok()?)?;
            Some((num, Some(e.file_name().to_string_lossy().into_owned())))
        })
        .collect();
    out.sort();
    out
}

/// The kernel names in the `holders/` directory of device `d`, sorted.
fn holders(sys_block: &Path, d: DevNum) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(sys_dir(sys_block, d).join("holders")) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// The first mountinfo line whose device number, or mount source, is one of `devs`:
/// (that device's partition name, the mount point).
fn mounted(
    mountinfo: &[u8],
    devs: &[(DevNum, Option<String>)],
    source_dev: &dyn Fn(&Path) -> Option<DevNum>,
) -> Option<(Option<String>, PathBuf)> {
    for line in mountinfo.split(|&b| b == b'\n') {
        let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let (Some(num), Some(point)) = (fields.get(2), fields.get(4)) else {
            continue;
        };
        let num = parse_dev_num(num);
        // After the optional fields and the "-" separator: file system type, then source.
        let source = fields
            .iter()
            .position(|f| *f == b"-")
            .and_then(|i| fields.get(i + 2))
            .filter(|s| s.starts_with(b"/"))
            .map(|s| PathBuf::from(OsStr::from_bytes(&unescape(s))));
        let hit = devs
            .iter()
            .find(|(d, _)| num == Some(*d) || source.as_deref().and_then(source_dev) == Some(*d));
        if let Some((_, partition)) = hit {
            let point = PathBuf::from(OsStr::from_bytes(&unescape(point)));
            return Some((partition.clone(), point));
        }
    }
    None
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let oct = s.get(i + 1..i + 4).filter(|d| {
            s[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)) && d[0] <= b'3'
        });
        match oct {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(s[i]);
                i += 1;
            }
        }
    }
    out
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

#[cfg(test)]
#[path = "device_tests.rs"]
mod tests;
