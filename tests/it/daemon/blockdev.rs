//! Daemon jobs on a loop device (root and `losetup`, else `SKIP ...: <reason>`): encrypt with
//! `io = "auto"` (uring for block devices, or pread when the kernel refuses io_uring), the
//! default detached header in `$VOLCRYPT_HEADER_DIR`, verify, and an in-place decrypt back to
//! the original bytes; a mounted-or-held device is refused by the job, not the daemon.

use serde_json::json;

use super::{spec, Daemon};
use crate::blockdev::{attach, info_json};
use crate::util::*;

#[test]
fn daemon_jobs_on_a_loop_device() {
    let dir = scratch();
    let len = 64 * MIB;
    let backing = dir.path().join("backing.img");
    let digest = write_pattern(&backing, len, 91);
    let dev = match attach(&backing) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP daemon loop device: {reason}");
            return;
        }
    };
    let d = &dev.0;
    let hdrs = dir.path().join("headers");
    let hdrs_s = hdrs.display().to_string();
    let daemon = Daemon::start_with(dir.path(), "", &[("VOLCRYPT_HEADER_DIR", &hdrs_s)]);
    let key = key_file(dir.path(), "key", 31);

    let id = daemon.submit(spec("encrypt", d, &key, json!({"io": "auto"})));
    let j = daemon.state(id, "succeeded");
    let io = j["result"]["io"].as_str().unwrap();
    assert!(io.starts_with("uring") || io.starts_with("pread"), "{j}");
    assert_eq!(j["bytes_total"].as_u64(), Some(len), "{j}");
    let info = info_json(&hdrs, d);
    assert_eq!(info["state"], "encrypted", "{info}");
    assert!(
        info["header_path"].as_str().unwrap().starts_with(&hdrs_s),
        "{info}"
    );
    assert_ne!(sha_file(d), digest, "the device holds ciphertext");

    // Two jobs on the same device: the second is refused while the first is active.
    let v = daemon.submit(spec("verify", d, &key, json!({"bandwidth": 8 * MIB})));
    let (code, err) = daemon.raw(
        "POST",
        "/v1/jobs",
        &spec("decrypt", d, &key, json!({})).to_string(),
    );
    assert_eq!(code, 409, "{err}");
    daemon.state(v, "succeeded");

    let id = daemon.submit(spec("decrypt", d, &key, json!({})));
    daemon.state(id, "succeeded");
    assert_eq!(sha_file(d), digest, "decrypted in place");
}
