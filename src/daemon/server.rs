//! The daemon process: binds the control socket (0600) and the metrics listener, takes up
//! the jobs a previous run left, tells systemd it is ready, and handles signals:
//! SIGTERM/SIGINT drain (every running job stops at a window checkpoint, then exit 0),
//! SIGHUP reloads the cache and bandwidth settings from the config file.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{signal, SignalKind};

use super::config::Config;
use super::service::Service;
use super::{api, DaemonError};
use crate::metrics::Metrics;

fn notify(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::warn!(error = %e, "sd_notify");
    }
}

/// Binds the control socket: refuses when another daemon answers on it, removes a stale
/// socket file, creates the directory (0700) if missing, and sets the socket to 0600.
fn bind_socket(path: &Path) -> Result<UnixListener, DaemonError> {
    let err = |what: &str, e: std::io::Error| {
        DaemonError::Start(format!("control socket {}: {what}: {e}", path.display()))
    };
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(DaemonError::Start(format!(
                "control socket {}: another volcrypt daemon is listening there",
                path.display()
            )));
        }
        std::fs::remove_file(path).map_err(|e| err("removing the stale socket", e))?;
    }
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| err("creating its directory", e))?;
    }
    let l = UnixListener::bind(path).map_err(|e| err("bind", e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| err("chmod 0600", e))?;
    Ok(l)
}

/// Creates the data dir (0700) if missing and takes its `daemon.lock` (an exclusive advisory
/// lock, released when the process exits, however it exits).
fn lock_data_dir(dir: &Path) -> Result<std::fs::File, DaemonError> {
    let err = |e: std::io::Error| DaemonError::Start(format!("data dir {}: {e}", dir.display()));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    let path = dir.join("daemon.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(DaemonError::Start(format!(
            "data dir {}: another volcrypt daemon is using it ({} is locked)",
            dir.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(err(e)),
    }
}

/// Runs the daemon with the configuration in `config_path` until SIGTERM or SIGINT.
pub fn run(config_path: Option<PathBuf>) -> Result<(), DaemonError> {
    let config = match &config_path {
        Some(p) => Config::load(p)?,
        None => Config::defaults(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("volcrypt-api")
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Start(format!("starting the runtime: {e}")))?;
    rt.block_on(serve(config, config_path))
}

async fn serve(config: Config, config_path: Option<PathBuf>) -> Result<(), DaemonError> {
    let metrics = Arc::new(Metrics::new());
    let socket = config.daemon.socket.clone();
    let metrics_addr = config.daemon.metrics;
    // One daemon per data dir, held for the process's life; then the listeners, so a second
    // daemon fails before it touches the job store or a socket.
    let _lock = lock_data_dir(&config.daemon.data_dir)?;
    let metrics_listener = match metrics_addr {
        Some(a) => Some(
            TcpListener::bind(a)
                .await
                .map_err(|e| DaemonError::Start(format!("metrics address {a}: {e}")))?,
        ),
        None => None,
    };
    let control = bind_socket(&socket)?;
    let svc = match Service::open(config, metrics) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&socket);
            return Err(e);
        }
    };
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    svc.spawn_scheduler()?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shutdown = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let server = axum::serve(control, api::control(Arc::clone(&svc)))
        .with_graceful_shutdown(shutdown(stop_rx.clone()));
    let control_task = tokio::spawn(async move { server.await });
    let metrics_task = metrics_listener.map(|l| {
        let server = axum::serve(l, api::metrics_routes(Arc::clone(&svc)))
            .with_graceful_shutdown(shutdown(stop_rx.clone()));
        tokio::spawn(async move { server.await })
    });
    let ticker = {
        let svc = Arc::clone(&svc);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                let s = Arc::clone(&svc);
                let _ = tokio::task::spawn_blocking(move || s.tick()).await;
            }
        })
    };
    tracing::info!(
        socket = %socket.display(),
        metrics = %metrics_addr.map_or("off".into(), |a| a.to_string()),
        version = env!("CARGO_PKG_VERSION"),
        "volcrypt daemon ready"
    );
    notify(&[NotifyState::Ready, NotifyState::Status("accepting jobs")]);

    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => reload(&svc, config_path.as_deref()).await,
        }
    }
    tracing::info!("draining: running jobs stop at their next window checkpoint");
    notify(&[NotifyState::Stopping, NotifyState::Status("draining jobs")]);
    let s = Arc::clone(&svc);
    let _ = tokio::task::spawn_blocking(move || s.drain()).await;
    let _ = stop_tx.send(true);
    ticker.abort();
    let _ = control_task.await;
    if let Some(t) = metrics_task {
        let _ = t.await;
    }
    // One last progress write for jobs that stopped between ticks.
    svc.tick();
    let _ = std::fs::remove_file(&socket);
    tracing::info!("volcrypt daemon stopped");
    Ok(())
}

async fn reload(svc: &Arc<Service>, path: Option<&Path>) {
    let Some(path) = path else {
        tracing::warn!("SIGHUP: no --config file to reload");
        return;
    };
    notify(&[NotifyState::Reloading]);
    match Config::load(path) {
        Ok(new) => {
            let s = Arc::clone(svc);
            let fixed = tokio::task::spawn_blocking(move || {
                let fixed = s.restart_only_changes(&new);
                s.reload(&new);
                fixed
            })
            .await
            .unwrap_or_default();
            if !fixed.is_empty() {
                tracing::warn!(keys = %fixed.join(", "), "SIGHUP: these settings need a restart and were not changed");
            }
            tracing::info!(config = %path.display(), "SIGHUP: reloaded the cache and bandwidth settings");
        }
        Err(e) => tracing::error!(error = %e, "SIGHUP: the config did not load; nothing changed"),
    }
    notify(&[NotifyState::Ready]);
}
