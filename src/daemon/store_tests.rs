//! Tests of the job store: round trips, the one-active-job-per-volume rule, restart recovery,
//! file modes, state bookkeeping and corrupt rows.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;
use crate::daemon::model::Op;

fn spec(volume: &str) -> JobSpec {
    JobSpec {
        op: Op::Encrypt,
        volume: PathBuf::from(volume),
        header: None,
        output: None,
        key_file: None,
        kms_key: None,
        from_key_file: None,
        to_kms_key: None,
        to_key_file: None,
        chunk_size: None,
        reserved_tail: None,
        resilience: None,
        io: None,
        crypto: None,
        bandwidth: None,
        threads: None,
        queue_depth: None,
    }
}

/// A spec with every optional field set.
fn full_spec(volume: &str) -> JobSpec {
    JobSpec {
        op: Op::Rewrap,
        volume: PathBuf::from(volume),
        header: Some("/h/hdr".into()),
        output: Some("/o/out".into()),
        key_file: Some("/k/key".into()),
        kms_key: Some("alias/a".into()),
        from_key_file: Some("/k/from".into()),
        to_kms_key: Some("alias/b".into()),
        to_key_file: Some("/k/to".into()),
        chunk_size: Some(65536),
        reserved_tail: Some(1 << 20),
        resilience: Some("journal".into()),
        io: Some("pread".into()),
        crypto: Some("aws-lc".into()),
        bandwidth: Some(123_456),
        threads: Some(2),
        queue_depth: Some(8),
    }
}

fn open(dir: &Path) -> JobStore {
    match JobStore::open(dir) {
        Ok(s) => s,
        Err(e) => panic!("open: {e}"),
    }
}

#[test]
fn active_sql_matches_the_model() {
    let names: Vec<String> = JobState::ALL
        .into_iter()
        .filter(|s| s.is_active())
        .map(|s| format!("'{}'", s.name()))
        .collect();
    assert_eq!(ACTIVE_SQL, names.join(","));
    assert!(SCHEMA.contains(&format!("WHERE state IN ({ACTIVE_SQL})")));
}

#[test]
fn round_trip_of_every_field() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = store
        .insert(&full_spec("/dev/a"), "/dev/a-key", 1000)
        .unwrap();
    assert_eq!(a.state, JobState::Queued);
    assert_eq!(a.created, 1000);
    assert_eq!(store.get(a.id).unwrap(), a);

    store
        .mark_started(a.id, 1001, 1 << 30, 65536, Some(7))
        .unwrap();
    store.set_progress(a.id, 12345, 0).unwrap();
    store
        .set_state(a.id, JobState::Failed, Some("disk on fire"), 1002)
        .unwrap();
    let summary = serde_json::json!({"op": "encrypt", "bytes": 12345});
    store.set_result(a.id, &summary).unwrap();
    let got = store.get(a.id).unwrap();
    let want = JobRecord {
        id: a.id,
        spec: full_spec("/dev/a"),
        volume_key: "/dev/a-key".into(),
        state: JobState::Failed,
        created: 1000,
        started: Some(1001),
        finished: Some(1002),
        bytes_total: 1 << 30,
        bytes_done: 12345,
        chunk_size: 65536,
        attempts: 1,
        start_version: Some(7),
        error: Some("disk on fire".into()),
        result: Some(summary),
    };
    assert_eq!(got, want);

    let b = store.insert(&spec("/dev/b"), "/dev/b", 2000).unwrap();
    assert_eq!(store.list(None).unwrap(), vec![b.clone(), want.clone()]);
    assert_eq!(store.list(Some(1)).unwrap(), vec![b]);
    assert_eq!(store.list(Some(0)).unwrap(), vec![]);
    drop(store);
    // Durable across a reopen.
    assert_eq!(open(tmp.path()).get(a.id).unwrap(), want);
}

#[test]
fn ids_increase_and_are_never_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = store.insert(&spec("/a"), "/a", 1).unwrap();
    let b = store.insert(&spec("/b"), "/b", 1).unwrap();
    assert!(a.id >= 1);
    assert!(b.id > a.id);
    // Delete the newest row behind the store's back: AUTOINCREMENT must not hand its id out
    // again, even after a reopen.
    drop(store);
    let raw = Connection::open(tmp.path().join("jobs.sqlite")).unwrap();
    assert_eq!(
        raw.execute("DELETE FROM jobs WHERE id = ?1", [b.id])
            .unwrap(),
        1
    );
    drop(raw);
    let store = open(tmp.path());
    let c = store.insert(&spec("/c"), "/c", 1).unwrap();
    assert!(c.id > b.id, "id {} reused (b was {})", c.id, b.id);
}

#[test]
fn one_active_job_per_volume() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let first = store.insert(&spec("/v"), "/dev/v", 1).unwrap();
    let other = store.insert(&spec("/w"), "/dev/w", 1).unwrap();
    match store.insert(&spec("/v"), "/dev/v", 2) {
        Err(StoreError::VolumeBusy { id, state, volume }) => {
            assert_eq!(id, first.id);
            assert_eq!(state, JobState::Queued);
            assert_eq!(volume, "/dev/v");
        }
        other => panic!("expected VolumeBusy, got {other:?}"),
    }
    // Still busy while running or paused.
    store.mark_started(first.id, 3, 100, 4096, Some(1)).unwrap();
    store
        .set_state(first.id, JobState::Paused, None, 4)
        .unwrap();
    let err = store.insert(&spec("/v"), "/dev/v", 5).unwrap_err();
    assert!(
        matches!(err, StoreError::VolumeBusy { id, state: JobState::Paused, .. } if id == first.id),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("job {} is already paused on /dev/v", first.id)
    );

    store
        .set_state(first.id, JobState::Succeeded, None, 6)
        .unwrap();
    let second = store.insert(&spec("/v"), "/dev/v", 7).unwrap();
    assert!(second.id > other.id);

    // The finished first job cannot come back while the second holds the volume.
    match store.set_state(first.id, JobState::Queued, None, 8) {
        Err(StoreError::VolumeBusy { id, .. }) => assert_eq!(id, second.id),
        other => panic!("expected VolumeBusy, got {other:?}"),
    }
    match store.mark_started(first.id, 8, 1, 1, None) {
        Err(StoreError::VolumeBusy { id, .. }) => assert_eq!(id, second.id),
        other => panic!("expected VolumeBusy, got {other:?}"),
    }
    assert_eq!(store.get(first.id).unwrap().state, JobState::Succeeded);
    // Once the volume is free again it can.
    store
        .set_state(second.id, JobState::Cancelled, Some("cancelled"), 9)
        .unwrap();
    store
        .set_state(first.id, JobState::Queued, None, 10)
        .unwrap();
    let back = store.get(first.id).unwrap();
    assert_eq!(back.state, JobState::Queued);
    assert_eq!(back.finished, None, "an active job has no finish time");
}

#[test]
fn active_jobs_survive_a_restart_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let ids: Vec<u64> = (0..6)
        .map(|i| {
            store
                .insert(&spec(&format!("/v{i}")), &format!("/v{i}"), i)
                .unwrap()
                .id
        })
        .collect();
    store.mark_started(ids[0], 10, 1, 1, None).unwrap();
    store
        .set_state(ids[1], JobState::Succeeded, None, 10)
        .unwrap();
    store.mark_started(ids[2], 10, 1, 1, None).unwrap();
    store.set_state(ids[2], JobState::Paused, None, 11).unwrap();
    store
        .set_state(ids[3], JobState::Failed, Some("x"), 10)
        .unwrap();
    store
        .set_state(ids[4], JobState::Cancelled, None, 10)
        .unwrap();
    // ids[5] stays queued.
    drop(store);

    let store = open(tmp.path());
    let active: Vec<(u64, JobState)> = store
        .active()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.state))
        .collect();
    assert_eq!(
        active,
        vec![
            (ids[0], JobState::Running),
            (ids[2], JobState::Paused),
            (ids[5], JobState::Queued)
        ]
    );
    let counts = store.counts().unwrap();
    assert_eq!(
        counts,
        vec![
            (JobState::Queued, 1),
            (JobState::Running, 1),
            (JobState::Paused, 1),
            (JobState::Succeeded, 1),
            (JobState::Failed, 1),
            (JobState::Cancelled, 1),
        ]
    );
}

#[test]
fn counts_cover_every_state_when_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let counts = store.counts().unwrap();
    assert_eq!(counts.len(), JobState::ALL.len());
    assert!(counts.iter().all(|&(_, n)| n == 0));
    store.insert(&spec("/a"), "/a", 1).unwrap();
    store.insert(&spec("/b"), "/b", 1).unwrap();
    assert!(store.counts().unwrap().contains(&(JobState::Queued, 2)));
}

#[test]
fn file_modes_and_pragmas() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = open(&dir);
    assert_eq!(store.path(), dir.join("jobs.sqlite"));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(store.path()), 0o600);
    store.insert(&spec("/a"), "/a", 1).unwrap();
    let wal = dir.join("jobs.sqlite-wal");
    assert!(wal.exists());
    assert_eq!(mode(&wal) & 0o077, 0, "WAL readable by others");

    let conn = store.lock();
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
    drop(conn);
    // set_progress relaxes synchronous for its own write only: FULL (2) again afterwards.
    store.set_progress(1, 5, 10).unwrap();
    assert_eq!(
        store.get(1).unwrap().bytes_total,
        10,
        "a non-zero total is stored"
    );
    let sync: i64 = store
        .lock()
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2);
    drop(store);

    // An existing database with loose permissions is narrowed.
    std::fs::set_permissions(
        dir.join("jobs.sqlite"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let store = open(&dir);
    assert_eq!(mode(store.path()), 0o600);
}

#[test]
fn newer_schema_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    drop(open(tmp.path()));
    let raw = Connection::open(tmp.path().join("jobs.sqlite")).unwrap();
    raw.pragma_update(None, "user_version", 2).unwrap();
    drop(raw);
    match JobStore::open(tmp.path()) {
        Err(e @ StoreError::Db { what: "schema", .. }) => {
            assert!(e.to_string().contains("schema version 2"), "{e}");
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
}

#[test]
fn set_state_final_sets_finished_and_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let id = store.insert(&spec("/a"), "/a", 1).unwrap().id;
    store
        .set_state(id, JobState::Paused, Some("paused by admin"), 5)
        .unwrap();
    let r = store.get(id).unwrap();
    assert_eq!((r.state, r.finished), (JobState::Paused, None));
    assert_eq!(r.error.as_deref(), Some("paused by admin"));
    store.set_state(id, JobState::Succeeded, None, 42).unwrap();
    let r = store.get(id).unwrap();
    assert_eq!((r.state, r.finished), (JobState::Succeeded, Some(42)));
    assert_eq!(r.error, None, "None clears the error");
}

#[test]
fn mark_started_counts_attempts_and_keeps_the_first_start() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let id = store.insert(&spec("/a"), "/a", 1).unwrap().id;
    store.mark_started(id, 10, 1000, 4096, Some(3)).unwrap();
    store.set_state(id, JobState::Queued, None, 11).unwrap();
    store.mark_started(id, 20, 2000, 8192, Some(4)).unwrap();
    store.mark_started(id, 30, 3000, 16384, None).unwrap();
    let r = store.get(id).unwrap();
    assert_eq!(r.state, JobState::Running);
    assert_eq!(r.attempts, 3);
    assert_eq!(r.started, Some(10));
    assert_eq!(r.start_version, Some(3));
    assert_eq!((r.bytes_total, r.chunk_size), (3000, 16384));

    // A first start without a version, a later one with: the later one is recorded.
    let id = store.insert(&spec("/b"), "/b", 1).unwrap().id;
    store.mark_started(id, 10, 1, 1, None).unwrap();
    store.mark_started(id, 11, 1, 1, Some(9)).unwrap();
    assert_eq!(store.get(id).unwrap().start_version, Some(9));
}

#[test]
fn unknown_ids_are_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    assert!(matches!(store.get(99), Err(StoreError::NotFound(99))));
    assert!(matches!(
        store.set_state(99, JobState::Failed, None, 1),
        Err(StoreError::NotFound(99))
    ));
    assert!(matches!(
        store.mark_started(99, 1, 1, 1, None),
        Err(StoreError::NotFound(99))
    ));
    assert!(matches!(
        store.set_progress(99, 1, 0),
        Err(StoreError::NotFound(99))
    ));
    assert_eq!(StoreError::NotFound(99).to_string(), "no job 99");
}

#[test]
fn corrupt_rows_name_the_job() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let good = store.insert(&spec("/a"), "/a", 1).unwrap();
    let raw = Connection::open(store.path()).unwrap();
    raw.execute(
        "INSERT INTO jobs (spec, volume_key, state, created) VALUES ('{not json', '/b', 'queued', 2)",
        [],
    )
    .unwrap();
    let bad = u64::try_from(raw.last_insert_rowid()).unwrap();
    raw.execute(
        "INSERT INTO jobs (spec, volume_key, state, created) VALUES (?1, '/c', 'exploded', 3)",
        [serde_json::to_string(&spec("/c")).unwrap()],
    )
    .unwrap();
    let bad_state = u64::try_from(raw.last_insert_rowid()).unwrap();
    drop(raw);

    let path: PathBuf = store.path().to_owned();
    for res in [store.get(bad).map(|_| ()), store.active().map(|_| ())] {
        match res {
            Err(StoreError::Corrupt {
                path: p,
                id,
                message,
            }) => {
                assert_eq!((p.as_path(), id), (path.as_path(), bad));
                assert!(message.starts_with("spec:"), "{message}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
    match store.get(bad_state) {
        Err(e @ StoreError::Corrupt { id, .. }) => {
            assert_eq!(id, bad_state);
            assert!(
                e.to_string().contains("unknown job state 'exploded'"),
                "{e}"
            );
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(matches!(store.counts(), Err(StoreError::Corrupt { id, .. }) if id == bad_state));
    // An out-of-range number (a negative size) is corrupt too, not a database failure.
    let raw = Connection::open(store.path()).unwrap();
    raw.execute("UPDATE jobs SET bytes_done = -5 WHERE id = ?1", [good.id])
        .unwrap();
    assert!(matches!(store.get(good.id), Err(StoreError::Corrupt { id, .. }) if id == good.id));
    raw.execute("UPDATE jobs SET bytes_done = 0 WHERE id = ?1", [good.id])
        .unwrap();
    drop(raw);
    // The good row still reads.
    assert_eq!(store.get(good.id).unwrap(), good);
}
