//! Key state transitions and rotation, as AWS documents them (developer guide: key-state.md,
//! rotate-keys.html):
//!
//! ```text
//!  Enabled <--EnableKey/DisableKey--> Disabled
//!     |                                  |
//!     +-------ScheduleKeyDeletion--------+--> PendingDeletion --CancelKeyDeletion--> Disabled
//! ```
//! - Enable/Disable are idempotent; both refuse a key pending deletion (`KMSInvalidStateException`).
//! - Rotation (automatic and on demand) is for symmetric encryption keys only; others get
//!   `UnsupportedOperationException`. It appends a material and never removes one. Rotation
//!   operations need an Enabled key (`DisabledException` / `KMSInvalidStateException`).
//! - On-demand rotation is limited to [`MAX_ON_DEMAND_ROTATIONS`] per key (`LimitExceededException`)
//!   and does not move the automatic schedule.
//! - AWS managed keys refuse every administrative action with `AccessDeniedException` (see
//!   [`rules::check_customer_managed`]); they rotate automatically every year.
//!
//! `principal` is the caller's ARN, used only in the AccessDenied message.

use super::error::ModelError;
use super::material::KeyMaterial;
use super::record::{KeyRecord, DAY};
use super::rules::{
    self, check_customer_managed, check_usable, AdminAction, MAX_ON_DEMAND_ROTATIONS,
    ROTATION_PERIOD_DAYS,
};
use super::types::{KeySpec, KeyState, RotationType};

fn days(n: u32) -> u64 {
    u64::from(n) * DAY
}

impl KeyRecord {
    fn refuse_if_pending_deletion(&self) -> Result<(), ModelError> {
        match self.state {
            KeyState::Enabled | KeyState::Disabled => Ok(()),
            state => Err(ModelError::key_state(&self.arn, state)),
        }
    }

    /// EnableKey: Disabled (or Enabled) -> Enabled.
    pub fn enable(&mut self, principal: &str) -> Result<(), ModelError> {
        check_customer_managed(self, AdminAction::EnableKey, principal)?;
        self.refuse_if_pending_deletion()?;
        self.state = KeyState::Enabled;
        Ok(())
    }

    /// DisableKey: Enabled (or Disabled) -> Disabled.
    pub fn disable(&mut self, principal: &str) -> Result<(), ModelError> {
        check_customer_managed(self, AdminAction::DisableKey, principal)?;
        self.refuse_if_pending_deletion()?;
        self.state = KeyState::Disabled;
        Ok(())
    }

    /// ScheduleKeyDeletion: -> PendingDeletion, deleted after `window_days` (7–30, default 30).
    /// Returns the deletion date.
    pub fn schedule_deletion(
        &mut self,
        principal: &str,
        window_days: Option<u32>,
        now: u64,
    ) -> Result<u64, ModelError> {
        check_customer_managed(self, AdminAction::ScheduleKeyDeletion, principal)?;
        let window = rules::pending_window(window_days)?;
        self.refuse_if_pending_deletion()?;
        let date = now + days(window);
        self.state = KeyState::PendingDeletion;
        self.deletion_date = Some(date);
        self.pending_window_days = Some(window);
        Ok(date)
    }

    /// CancelKeyDeletion: PendingDeletion -> Disabled (as AWS leaves it).
    pub fn cancel_deletion(&mut self, principal: &str) -> Result<(), ModelError> {
        check_customer_managed(self, AdminAction::CancelKeyDeletion, principal)?;
        if self.state != KeyState::PendingDeletion {
            return Err(ModelError::InvalidState(format!(
                "{} is not pending deletion.",
                self.arn
            )));
        }
        self.state = KeyState::Disabled;
        self.deletion_date = None;
        self.pending_window_days = None;
        Ok(())
    }

    /// True once a key pending deletion has reached its deletion date.
    pub fn deletion_due(&self, now: u64) -> bool {
        self.state == KeyState::PendingDeletion && self.deletion_date.is_some_and(|d| d <= now)
    }

    fn check_rotatable(&self) -> Result<(), ModelError> {
        if self.spec != KeySpec::SymmetricDefault {
            return Err(ModelError::UnsupportedOperation(format!(
                "{} key spec is {}. Key rotation is supported only on symmetric encryption \
                 KMS keys.",
                self.arn, self.spec
            )));
        }
        check_usable(self)
    }

    /// EnableKeyRotation with `period_days` (90–2560, default 365).
    ///
    /// Turning rotation on schedules the next rotation one period from now. Changing the period
    /// of a key already rotating counts from its last rotation (or creation), and a date already
    /// past makes rotation due at once.
    pub fn enable_rotation(
        &mut self,
        principal: &str,
        period_days: Option<u32>,
        now: u64,
    ) -> Result<(), ModelError> {
        check_customer_managed(self, AdminAction::EnableKeyRotation, principal)?;
        let period = period_days.unwrap_or(super::record::DEFAULT_ROTATION_DAYS);
        rules::check_range("rotationPeriodInDays", period, &ROTATION_PERIOD_DAYS)?;
        self.check_rotatable()?;
        let base = if self.rotation.enabled {
            self.last_rotation_base()
        } else {
            now
        };
        self.rotation.enabled = true;
        self.rotation.period_days = period;
        self.rotation.next_rotation = Some((base + days(period)).max(now));
        Ok(())
    }

    /// DisableKeyRotation.
    pub fn disable_rotation(&mut self, principal: &str) -> Result<(), ModelError> {
        check_customer_managed(self, AdminAction::DisableKeyRotation, principal)?;
        self.check_rotatable()?;
        self.rotation.enabled = false;
        self.rotation.next_rotation = None;
        Ok(())
    }

    /// RotateKeyOnDemand: appends a new current material. Returns it.
    pub fn rotate_on_demand(
        &mut self,
        principal: &str,
        now: u64,
    ) -> Result<&KeyMaterial, ModelError> {
        check_customer_managed(self, AdminAction::RotateKeyOnDemand, principal)?;
        self.check_rotatable()?;
        if self.rotation.on_demand_count >= MAX_ON_DEMAND_ROTATIONS {
            return Err(ModelError::LimitExceeded(format!(
                "{} has reached the limit of {MAX_ON_DEMAND_ROTATIONS} on-demand rotations.",
                self.arn
            )));
        }
        self.push_material(RotationType::OnDemand, now)?;
        self.rotation.on_demand_count += 1;
        self.rotation.on_demand_started = Some(now);
        self.current_material()
    }

    /// Automatic rotation: when rotation is on, the key Enabled and the date reached, appends a
    /// new material and schedules the next rotation one period later. Returns whether it
    /// rotated. (A disabled key is not rotated; it rotates once re-enabled, as AWS does.)
    pub fn rotate_if_due(&mut self, now: u64) -> Result<bool, ModelError> {
        let due = self.rotation.enabled
            && self.state == KeyState::Enabled
            && self.rotation.next_rotation.is_some_and(|t| t <= now);
        if !due {
            return Ok(false);
        }
        self.push_material(RotationType::Automatic, now)?;
        self.rotation.next_rotation = Some(now + days(self.rotation.period_days));
        Ok(true)
    }

    /// PutKeyPolicy (the document is stored as given; its validation is the policy module's).
    pub fn put_policy(&mut self, principal: &str, policy: String) -> Result<(), ModelError> {
        check_customer_managed(self, AdminAction::PutKeyPolicy, principal)?;
        self.policy = policy;
        Ok(())
    }

    /// UpdateKeyDescription.
    pub fn update_description(
        &mut self,
        principal: &str,
        description: String,
    ) -> Result<(), ModelError> {
        check_customer_managed(self, AdminAction::UpdateKeyDescription, principal)?;
        rules::validate_new_key(self.spec, Some(self.usage), &description)?;
        self.description = description;
        Ok(())
    }

    fn last_rotation_base(&self) -> u64 {
        self.materials
            .iter()
            .filter(|m| m.rotation == Some(RotationType::Automatic) || m.rotation.is_none())
            .map(|m| m.created)
            .max()
            .unwrap_or(self.created)
    }

    fn push_material(&mut self, kind: RotationType, now: u64) -> Result<(), ModelError> {
        let m = KeyMaterial::generate(self.spec, now, Some(kind))?;
        self.materials.push(m);
        Ok(())
    }
}
