//! Key records to and from the JSON documents the keystore seals. Secrets appear only inside
//! the sealed document (base64 of each material's exported secret), never in plain storage.
//! Enum members are stored as their AWS names (the wire enums' serde form).

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::blob::{KeyUuid, MaterialId};
use super::model::{
    KeyManager, KeyMaterial, KeyRecord, KeySpec, KeyState, KeyUsage, Origin, RotationSettings,
    RotationType,
};
use super::store::StoreError;

#[derive(Serialize, Deserialize)]
struct StoredMaterial {
    id: String,
    created: u64,
    rotation: Option<RotationType>,
    secret_b64: String,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    id: String,
    arn: String,
    account: String,
    region: String,
    description: String,
    spec: KeySpec,
    usage: KeyUsage,
    state: KeyState,
    manager: KeyManager,
    origin: Origin,
    created: u64,
    deletion_date: Option<u64>,
    pending_window_days: Option<u32>,
    materials: Vec<StoredMaterial>,
    rotation_enabled: bool,
    rotation_period_days: u32,
    next_rotation: Option<u64>,
    on_demand_count: u32,
    on_demand_started: Option<u64>,
    tags: BTreeMap<String, String>,
    policy: String,
}

fn bad(what: &str) -> StoreError {
    StoreError::Record(format!("invalid {what}"))
}

/// Encodes `rec` (secrets included) as the JSON document to seal.
pub(crate) fn encode(rec: &KeyRecord) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let materials = rec
        .materials
        .iter()
        .map(|m| StoredMaterial {
            id: m.id.to_hex(),
            created: m.created,
            rotation: m.rotation,
            secret_b64: b64.encode(m.export_secret().expose()),
        })
        .collect();
    let doc = StoredKey {
        id: rec.key_id(),
        arn: rec.arn.clone(),
        account: rec.account.clone(),
        region: rec.region.clone(),
        description: rec.description.clone(),
        spec: rec.spec,
        usage: rec.usage,
        state: rec.state,
        manager: rec.manager,
        origin: rec.origin,
        created: rec.created,
        deletion_date: rec.deletion_date,
        pending_window_days: rec.pending_window_days,
        materials,
        rotation_enabled: rec.rotation.enabled,
        rotation_period_days: rec.rotation.period_days,
        next_rotation: rec.rotation.next_rotation,
        on_demand_count: rec.rotation.on_demand_count,
        on_demand_started: rec.rotation.on_demand_started,
        tags: rec.tags.clone(),
        policy: rec.policy.clone(),
    };
    let json = serde_json::to_vec(&doc).map_err(|e| StoreError::Record(e.to_string()))?;
    // The document holds base64 secrets: wipe the intermediate strings too.
    for mut m in doc.materials {
        zeroize::Zeroize::zeroize(&mut m.secret_b64);
    }
    Ok(Zeroizing::new(json))
}

/// Decodes a document made by [`encode`].
pub(crate) fn decode(json: &[u8]) -> Result<KeyRecord, StoreError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let doc: StoredKey =
        serde_json::from_slice(json).map_err(|e| StoreError::Record(e.to_string()))?;
    let mut materials = Vec::with_capacity(doc.materials.len());
    for m in &doc.materials {
        let secret = Zeroizing::new(b64.decode(&m.secret_b64).map_err(|_| bad("material"))?);
        let id: MaterialId = m.id.parse().map_err(|_| bad("material id"))?;
        materials.push(
            KeyMaterial::import(doc.spec, id, m.created, m.rotation, &secret)
                .map_err(|_| bad("material secret"))?,
        );
    }
    let id: KeyUuid = doc.id.parse().map_err(|_| bad("key id"))?;
    Ok(KeyRecord {
        id,
        arn: doc.arn,
        account: doc.account,
        region: doc.region,
        description: doc.description,
        spec: doc.spec,
        usage: doc.usage,
        state: doc.state,
        manager: doc.manager,
        origin: doc.origin,
        created: doc.created,
        deletion_date: doc.deletion_date,
        pending_window_days: doc.pending_window_days,
        materials,
        rotation: RotationSettings {
            enabled: doc.rotation_enabled,
            period_days: doc.rotation_period_days,
            next_rotation: doc.next_rotation,
            on_demand_count: doc.on_demand_count,
            on_demand_started: doc.on_demand_started,
        },
        tags: doc.tags,
        policy: doc.policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::server::model::NewKey;

    #[test]
    fn enums_are_stored_as_aws_names_and_read_back() {
        let new = NewKey {
            account: "111122223333".to_owned(),
            region: "us-east-1".to_owned(),
            spec: KeySpec::SymmetricDefault,
            usage: None,
            description: "d".to_owned(),
            manager: KeyManager::Customer,
            policy: "{}".to_owned(),
            tags: BTreeMap::new(),
        };
        let mut rec = KeyRecord::create(new, 0).unwrap();
        rec.rotate_on_demand("arn:aws:iam::111122223333:root", 1)
            .unwrap();
        let json = encode(&rec).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["spec"], "SYMMETRIC_DEFAULT");
        assert_eq!(v["usage"], "ENCRYPT_DECRYPT");
        assert_eq!(v["state"], "Enabled");
        assert_eq!(v["manager"], "CUSTOMER");
        assert_eq!(v["origin"], "AWS_KMS");
        assert_eq!(v["materials"][0]["rotation"], serde_json::Value::Null);
        assert_eq!(v["materials"][1]["rotation"], "ON_DEMAND");
        let back = decode(&json).unwrap();
        assert_eq!(back.spec, rec.spec);
        assert_eq!(back.state, rec.state);
        assert_eq!(back.materials[1].rotation, Some(RotationType::OnDemand));
        let mut bad_doc = v;
        bad_doc["state"] = "enabled".into();
        assert!(decode(bad_doc.to_string().as_bytes()).is_err());
    }
}
