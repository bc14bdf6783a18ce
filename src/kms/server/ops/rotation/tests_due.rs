//! Tests of the due-task runner: automatic rotation and real deletion (with aliases and
//! grants), persisted.

use serde_json::json;

use super::run_due_tasks;
use super::tests::{call, open, symmetric, ME};
use crate::kms::server::model::KeyState;
use crate::kms::server::registry::{Alias, Grant};
use crate::kms::server::service::Kms;
use crate::kms::wire::Operation;

#[test]
fn due_rotation_and_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let kms = open(dir.path());
    let rotating = symmetric(&kms);
    let doomed = symmetric(&kms);
    let kept = symmetric(&kms);
    call(
        &kms,
        Operation::EnableKeyRotation,
        &json!({"KeyId": rotating}),
    )
    .unwrap();
    call(&kms, Operation::EnableKeyRotation, &json!({"KeyId": kept})).unwrap();
    // Nothing due: nothing changes.
    run_due_tasks(&kms).unwrap();
    assert_eq!(kms.registry.read(|s| s.keys[&rotating].materials.len()), 1);
    let now = kms.clock.now();
    kms.registry
        .write(|s, c| {
            s.keys.get_mut(&rotating).unwrap().rotation.next_rotation = Some(now - 1);
            c.key(&rotating);
            let k = s.keys.get_mut(&doomed).unwrap();
            k.state = KeyState::PendingDeletion;
            k.deletion_date = Some(now - 1);
            c.key(&doomed);
            for (name, target) in [("alias/doomed", &doomed), ("alias/kept", &kept)] {
                s.aliases.insert(
                    name.to_owned(),
                    Alias {
                        name: name.to_owned(),
                        target_key_id: target.clone(),
                        created: now,
                        updated: now,
                    },
                );
                c.alias(name);
            }
            s.grants.insert(
                "g1".to_owned(),
                Grant {
                    id: "g1".to_owned(),
                    token: "t1".to_owned(),
                    key_id: doomed.clone(),
                    grantee: ME.to_owned(),
                    retiring: None,
                    issuer: ME.to_owned(),
                    operations: vec!["Decrypt".to_owned()],
                    context_subset: None,
                    context_equals: None,
                    name: None,
                    created: now,
                },
            );
            c.grant("g1");
            Ok(())
        })
        .unwrap();
    run_due_tasks(&kms).unwrap();
    let check = |kms: &Kms| {
        kms.registry.read(|s| {
            let k = &s.keys[&rotating];
            assert_eq!(k.materials.len(), 2);
            assert!(k.rotation.next_rotation.unwrap() >= now + 364 * 86_400);
            assert_eq!(s.keys[&kept].materials.len(), 1);
            assert!(!s.keys.contains_key(&doomed));
            assert!(!s.aliases.contains_key("alias/doomed"));
            assert!(s.aliases.contains_key("alias/kept"));
            assert!(s.grants.is_empty());
        });
    };
    check(&kms);
    let l = call(
        &kms,
        Operation::ListKeyRotations,
        &json!({"KeyId": rotating}),
    )
    .unwrap();
    assert_eq!(l["Rotations"][0]["RotationType"], "AUTOMATIC");
    assert_eq!(l["Rotations"][0]["KeyMaterialState"], "CURRENT");
    // Running again changes nothing; everything survives a restart.
    run_due_tasks(&kms).unwrap();
    check(&kms);
    drop(kms);
    let kms = open(dir.path());
    check(&kms);
}
