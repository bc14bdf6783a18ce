//! `resume`: finish whatever in-place operation a volume was interrupted in.
//!
//! Opening the volume (write, exclusive lock) replays a pending journal record; then the
//! operation frozen in the header continues from its progress mark with its frozen
//! parameters (resilience, target key version, chunk size). An out-of-place encrypt cannot be
//! resumed from its output alone: it needs its source, so the message says to rerun it.

use super::rekey::{self, Both};
use super::volume::Volume;
use super::{decrypt, encrypt, EngineError, RunOptions, Summary, VolumeRef};
use crate::format::{Operation, VolumeState};
use crate::keys::KeyProvider;

/// Continues the interrupted operation of `vref`. `from` unlocks the volume; `to` is the
/// target key of an interrupted rekey when it differs.
pub fn resume(
    vref: &VolumeRef,
    from: &dyn KeyProvider,
    to: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let both = Both { from, to };
    let vol = Volume::open(vref, true, opts.io, &both)?;
    resume_open(vol, to, opts)
}

/// Continues the interrupted operation of an open (and recovered) volume.
pub(crate) fn resume_open(
    vol: Volume,
    to: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let vref = vol.vref.clone();
    let h = &vol.header;
    let mut opts = opts.clone();
    opts.resilience = h.resilience;
    match (h.state, h.operation) {
        (VolumeState::Encrypting, Operation::Encrypt) if h.out_of_place => {
            Err(EngineError::BadState {
                op: "resume",
                path: vref.path.clone(),
                reason: "it is the output of an unfinished out-of-place encrypt; run the same \
                         `volcrypt encrypt SRC --output OUT` again to finish it"
                    .into(),
            })
        }
        (VolumeState::Encrypting, Operation::Encrypt) => {
            encrypt::run(vol, encrypt::Source::InPlace, &opts)
        }
        (VolumeState::Decrypting, Operation::Decrypt) => decrypt::run(vol, &opts),
        (VolumeState::Rekeying, Operation::Rekey) => rekey::in_place(vol, to, &opts),
        (state, _) => Err(EngineError::BadState {
            op: "resume",
            path: vref.path.clone(),
            reason: format!("there is nothing to resume: it is {state}, no operation is running"),
        }),
    }
}
