//! The local KMS server through the official AWS SDK for Rust (`aws-sdk-kms`), configured the
//! way an operator would point it at any KMS endpoint: endpoint override, static credentials,
//! a region. Every operation the server implements is called once for success and once for a
//! documented error; the error codes are the ones the SDK parses out of our JSON bodies.

use std::collections::HashMap;

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeyPairSpec, DataKeySpec, GrantOperation, KeySpec, KeyState, KeyUsageType,
    MacAlgorithmSpec, MessageType, SigningAlgorithmSpec, Tag,
};
use aws_sdk_kms::Client;
use volcrypt::kms::server::{start, CredentialFile, RunningServer, ServerConfig};

struct Fixture {
    _dir: tempfile::TempDir,
    server: RunningServer,
    client: Client,
}

fn client_for(
    server: &RunningServer,
    dir: &std::path::Path,
    secret_override: Option<&str>,
) -> Client {
    let raw = std::fs::read(dir.join("credentials.json")).unwrap();
    let c: CredentialFile = serde_json::from_slice(&raw).unwrap();
    let secret = secret_override.unwrap_or(&c.secret_access_key).to_owned();
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .credentials_provider(Credentials::new(
            c.access_key_id,
            secret,
            None,
            None,
            "test",
        ))
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ServerConfig::new(dir.path());
    cfg.addr = "127.0.0.1:0".parse().unwrap();
    let server = start(cfg).unwrap();
    let client = client_for(&server, dir.path(), None);
    Fixture {
        _dir: dir,
        server,
        client,
    }
}

fn code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_owned()
}

macro_rules! expect_err {
    ($call:expr, $code:expr) => {{
        let e = $call.await.expect_err(concat!("expected ", $code));
        let e = e.into_service_error();
        assert_eq!(code(&e), $code, "{e:?}");
    }};
}

async fn new_key(c: &Client) -> String {
    c.create_key()
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_auth_is_enforced() {
    let f = fixture();
    f.client.list_keys().send().await.unwrap();
    let bad = client_for(&f.server, f._dir.path(), Some("not-the-secret"));
    expect_err!(bad.list_keys().send(), "InvalidSignatureException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_key_lifecycle() {
    let f = fixture();
    let c = &f.client;
    let created = c
        .create_key()
        .description("sdk test")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("storage")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(created.key_state, Some(KeyState::Enabled));
    assert_eq!(created.key_spec, Some(KeySpec::SymmetricDefault));
    let id = created.key_id.clone();
    let arn = created.arn.clone().unwrap();
    assert!(arn.starts_with("arn:aws:kms:us-east-1:111122223333:key/"));
    let d = c.describe_key().key_id(&arn).send().await.unwrap();
    assert_eq!(
        d.key_metadata.unwrap().description.as_deref(),
        Some("sdk test")
    );
    expect_err!(
        c.describe_key()
            .key_id("11111111-2222-3333-4444-555555555555")
            .send(),
        "NotFoundException"
    );
    c.update_key_description()
        .key_id(&id)
        .description("changed")
        .send()
        .await
        .unwrap();
    c.disable_key().key_id(&id).send().await.unwrap();
    expect_err!(
        c.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send(),
        "DisabledException"
    );
    c.enable_key().key_id(&id).send().await.unwrap();
    let s = c
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(s.key_state, Some(KeyState::PendingDeletion));
    expect_err!(
        c.schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(7)
            .send(),
        "KMSInvalidStateException"
    );
    c.cancel_key_deletion().key_id(&id).send().await.unwrap();
    let m = c
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.key_state, Some(KeyState::Disabled));
    expect_err!(
        c.schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(6)
            .send(),
        "ValidationException"
    );
    // Pagination: three keys, one per page.
    new_key(c).await;
    new_key(c).await;
    let mut seen = 0;
    let mut marker = None;
    loop {
        let page = c
            .list_keys()
            .limit(1)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        seen += page.keys().len();
        if !page.truncated {
            break;
        }
        marker = page.next_marker;
    }
    assert_eq!(seen, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_aliases_and_tags() {
    let f = fixture();
    let c = &f.client;
    let a = new_key(c).await;
    let b = new_key(c).await;
    c.create_alias()
        .alias_name("alias/volumes")
        .target_key_id(&a)
        .send()
        .await
        .unwrap();
    expect_err!(
        c.create_alias()
            .alias_name("alias/volumes")
            .target_key_id(&b)
            .send(),
        "AlreadyExistsException"
    );
    expect_err!(
        c.create_alias()
            .alias_name("alias/aws/mine")
            .target_key_id(&b)
            .send(),
        "InvalidAliasNameException"
    );
    let d = c
        .describe_key()
        .key_id("alias/volumes")
        .send()
        .await
        .unwrap();
    assert_eq!(d.key_metadata.unwrap().key_id, a);
    c.update_alias()
        .alias_name("alias/volumes")
        .target_key_id(&b)
        .send()
        .await
        .unwrap();
    let l = c.list_aliases().key_id(&b).send().await.unwrap();
    assert!(l
        .aliases()
        .iter()
        .any(|x| x.alias_name.as_deref() == Some("alias/volumes")));
    c.delete_alias()
        .alias_name("alias/volumes")
        .send()
        .await
        .unwrap();
    expect_err!(
        c.delete_alias().alias_name("alias/volumes").send(),
        "NotFoundException"
    );
    c.tag_resource()
        .key_id(&a)
        .tags(Tag::builder().tag_key("k").tag_value("v").build().unwrap())
        .send()
        .await
        .unwrap();
    let t = c.list_resource_tags().key_id(&a).send().await.unwrap();
    assert_eq!(t.tags().len(), 1);
    c.untag_resource()
        .key_id(&a)
        .tag_keys("k")
        .send()
        .await
        .unwrap();
    assert!(c
        .list_resource_tags()
        .key_id(&a)
        .send()
        .await
        .unwrap()
        .tags()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_symmetric_crypto() {
    let f = fixture();
    let c = &f.client;
    let k = new_key(c).await;
    let other = new_key(c).await;
    let ctx: HashMap<String, String> = [("volume".to_owned(), "vol-1".to_owned())].into();
    let e = c
        .encrypt()
        .key_id(&k)
        .plaintext(Blob::new(b"secret".to_vec()))
        .set_encryption_context(Some(ctx.clone()))
        .send()
        .await
        .unwrap();
    let blob = e.ciphertext_blob.unwrap();
    let d = c
        .decrypt()
        .ciphertext_blob(blob.clone())
        .set_encryption_context(Some(ctx.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(d.plaintext.unwrap().as_ref(), b"secret");
    expect_err!(
        c.decrypt().ciphertext_blob(blob.clone()).send(),
        "InvalidCiphertextException"
    );
    expect_err!(
        c.decrypt()
            .ciphertext_blob(blob.clone())
            .set_encryption_context(Some(ctx.clone()))
            .key_id(&other)
            .send(),
        "IncorrectKeyException"
    );
    expect_err!(
        c.encrypt()
            .key_id(&k)
            .plaintext(Blob::new(vec![0u8; 4097]))
            .send(),
        "ValidationException"
    );
    let g = c
        .generate_data_key()
        .key_id(&k)
        .key_spec(DataKeySpec::Aes256)
        .set_encryption_context(Some(ctx.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(g.plaintext.as_ref().unwrap().as_ref().len(), 32);
    let back = c
        .decrypt()
        .ciphertext_blob(g.ciphertext_blob.unwrap())
        .set_encryption_context(Some(ctx.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(back.plaintext.unwrap(), g.plaintext.unwrap());
    expect_err!(
        c.generate_data_key()
            .key_id(&k)
            .key_spec(DataKeySpec::Aes256)
            .number_of_bytes(32)
            .send(),
        "ValidationException"
    );
    let w = c
        .generate_data_key_without_plaintext()
        .key_id(&k)
        .number_of_bytes(64)
        .send()
        .await
        .unwrap();
    assert!(w.ciphertext_blob.is_some());
    let r = c
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_encryption_context("volume", "vol-1")
        .destination_key_id(&other)
        .destination_encryption_context("volume", "vol-2")
        .send()
        .await
        .unwrap();
    let d2 = c
        .decrypt()
        .ciphertext_blob(r.ciphertext_blob.unwrap())
        .encryption_context("volume", "vol-2")
        .send()
        .await
        .unwrap();
    assert_eq!(d2.plaintext.unwrap().as_ref(), b"secret");
    let rnd = c
        .generate_random()
        .number_of_bytes(1024)
        .send()
        .await
        .unwrap();
    assert_eq!(rnd.plaintext.unwrap().as_ref().len(), 1024);
    expect_err!(
        c.generate_random().number_of_bytes(1025).send(),
        "ValidationException"
    );
    let p = c
        .generate_data_key_pair()
        .key_id(&k)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap();
    assert!(p.public_key.is_some() && p.private_key_plaintext.is_some());
    let pw = c
        .generate_data_key_pair_without_plaintext()
        .key_id(&k)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap();
    assert!(pw.private_key_ciphertext_blob.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_mac_sign_verify() {
    let f = fixture();
    let c = &f.client;
    let h = c
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let mac = c
        .generate_mac()
        .key_id(&h)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new(b"m".to_vec()))
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    let v = c
        .verify_mac()
        .key_id(&h)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new(b"m".to_vec()))
        .mac(mac)
        .send()
        .await
        .unwrap();
    assert!(v.mac_valid);
    expect_err!(
        c.verify_mac()
            .key_id(&h)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(b"m".to_vec()))
            .mac(Blob::new(vec![0u8; 32]))
            .send(),
        "KMSInvalidMacException"
    );
    expect_err!(
        c.encrypt()
            .key_id(&h)
            .plaintext(Blob::new(b"x".to_vec()))
            .send(),
        "InvalidKeyUsageException"
    );
    let s = c
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let sig = c
        .sign()
        .key_id(&s)
        .message(Blob::new(b"hello".to_vec()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap()
        .signature
        .unwrap();
    let ok = c
        .verify()
        .key_id(&s)
        .message(Blob::new(b"hello".to_vec()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .signature(sig.clone())
        .send()
        .await
        .unwrap();
    assert!(ok.signature_valid);
    expect_err!(
        c.verify()
            .key_id(&s)
            .message(Blob::new(b"hellO".to_vec()))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .signature(sig)
            .send(),
        "KMSInvalidSignatureException"
    );
    let pk = c.get_public_key().key_id(&s).send().await.unwrap();
    assert!(pk.public_key.unwrap().as_ref().len() > 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_rotation_policies_grants() {
    let f = fixture();
    let c = &f.client;
    let k = new_key(c).await;
    let e = c
        .encrypt()
        .key_id(&k)
        .plaintext(Blob::new(b"before".to_vec()))
        .send()
        .await
        .unwrap();
    c.enable_key_rotation()
        .key_id(&k)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    expect_err!(
        c.enable_key_rotation()
            .key_id(&k)
            .rotation_period_in_days(89)
            .send(),
        "ValidationException"
    );
    let st = c.get_key_rotation_status().key_id(&k).send().await.unwrap();
    assert!(st.key_rotation_enabled);
    c.rotate_key_on_demand().key_id(&k).send().await.unwrap();
    let rots = c.list_key_rotations().key_id(&k).send().await.unwrap();
    assert_eq!(rots.rotations().len(), 1);
    let d = c
        .decrypt()
        .ciphertext_blob(e.ciphertext_blob.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(d.plaintext.unwrap().as_ref(), b"before");
    c.disable_key_rotation().key_id(&k).send().await.unwrap();
    let pol = c
        .get_key_policy()
        .key_id(&k)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert!(pol.contains("kms:*"));
    let names = c.list_key_policies().key_id(&k).send().await.unwrap();
    assert_eq!(names.policy_names(), ["default"]);
    let custom = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
    c.put_key_policy()
        .key_id(&k)
        .policy_name("default")
        .policy(custom)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.get_key_policy()
            .key_id(&k)
            .send()
            .await
            .unwrap()
            .policy
            .as_deref(),
        Some(custom)
    );
    expect_err!(
        c.put_key_policy()
            .key_id(&k)
            .policy_name("default")
            .policy("not json")
            .send(),
        "MalformedPolicyDocumentException"
    );
    let g = c
        .create_grant()
        .key_id(&k)
        .grantee_principal("arn:aws:iam::111122223333:user/bob")
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .unwrap();
    let gid = g.grant_id.unwrap();
    let lg = c.list_grants().key_id(&k).send().await.unwrap();
    assert!(lg
        .grants()
        .iter()
        .any(|x| x.grant_id.as_deref() == Some(gid.as_str())));
    c.revoke_grant()
        .key_id(&k)
        .grant_id(&gid)
        .send()
        .await
        .unwrap();
    expect_err!(
        c.revoke_grant().key_id(&k).grant_id(&gid).send(),
        "NotFoundException"
    );
    let g2 = c
        .create_grant()
        .key_id(&k)
        .grantee_principal("arn:aws:iam::111122223333:user/bob")
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap();
    c.retire_grant()
        .grant_token(g2.grant_token.unwrap())
        .send()
        .await
        .unwrap();
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*"}]}"#;
    c.put_key_policy()
        .key_id(&k)
        .policy_name("default")
        .policy(deny)
        .send()
        .await
        .unwrap();
    expect_err!(
        c.encrypt()
            .key_id(&k)
            .plaintext(Blob::new(b"x".to_vec()))
            .send(),
        "AccessDeniedException"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_managed_key_is_created_on_first_use() {
    let f = fixture();
    let c = &f.client;
    let g = c
        .generate_data_key()
        .key_id("alias/aws/volcrypt")
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    assert!(g.key_id.unwrap().contains(":key/"));
    let m = c
        .describe_key()
        .key_id("alias/aws/volcrypt")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(m.key_manager, Some(aws_sdk_kms::types::KeyManagerType::Aws));
    expect_err!(
        c.disable_key().key_id(&m.key_id).send(),
        "AccessDeniedException"
    );
}
