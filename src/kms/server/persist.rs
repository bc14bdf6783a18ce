//! Key records to and from the JSON documents the keystore seals. Secrets appear only inside
//! the sealed document (base64 of each material's exported secret), never in plain storage.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::blob::{KeyUuid, MaterialId};
use super::model::{KeyMaterial, KeyRecord, RotationSettings, WireEnum};
use super::store::StoreError;

#[derive(Serialize, Deserialize)]
struct StoredMaterial {
    id: String,
    created: u64,
    rotation: Option<String>,
    secret_b64: String,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    id: String,
    arn: String,
    account: String,
    region: String,
    description: String,
    spec: String,
    usage: String,
    state: String,
    manager: String,
    origin: String,
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

fn parse<E: WireEnum>(s: &str, what: &str) -> Result<E, StoreError> {
    E::parse(s).ok_or_else(|| bad(what))
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
            rotation: m.rotation.map(|r| r.as_str().to_owned()),
            secret_b64: b64.encode(m.export_secret().expose()),
        })
        .collect();
    let doc = StoredKey {
        id: rec.key_id(),
        arn: rec.arn.clone(),
        account: rec.account.clone(),
        region: rec.region.clone(),
        description: rec.description.clone(),
        spec: rec.spec.as_str().into(),
        usage: rec.usage.as_str().into(),
        state: rec.state.as_str().into(),
        manager: rec.manager.as_str().into(),
        origin: rec.origin.as_str().into(),
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
    let spec = parse(&doc.spec, "key spec")?;
    let mut materials = Vec::with_capacity(doc.materials.len());
    for m in &doc.materials {
        let secret = Zeroizing::new(b64.decode(&m.secret_b64).map_err(|_| bad("material"))?);
        let id: MaterialId = m.id.parse().map_err(|_| bad("material id"))?;
        let rotation = match &m.rotation {
            Some(r) => Some(parse(r, "rotation type")?),
            None => None,
        };
        materials.push(
            KeyMaterial::import(spec, id, m.created, rotation, &secret)
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
        spec,
        usage: parse(&doc.usage, "key usage")?,
        state: parse(&doc.state, "key state")?,
        manager: parse(&doc.manager, "key manager")?,
        origin: parse(&doc.origin, "origin")?,
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
