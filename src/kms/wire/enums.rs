//! The string enumerations of the KMS model (service-2.json), as Rust enums written as their
//! exact AWS strings.
//!
//! Each enum has `as_str`, `ALL`, `Display` and `FromStr`. Decoding an unknown string fails;
//! the server reports that as a `ValidationException` naming the enum value set. Enumerations
//! only ever read from AWS responses and likely to grow (key material state, import state,
//! key agreement and encapsulation algorithms) are plain `String`s in the shapes instead.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Defines a wire enum: variants with their AWS strings, plus `as_str`, `ALL`, `Display`,
/// `FromStr` (error: the unknown input) and serde as the AWS string.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in model order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact AWS string.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(other.to_string()),
                }
            }
        }
    };
}

wire_enum! {
    /// `KeySpec` (also used for the deprecated `CustomerMasterKeySpec`).
    pub enum KeySpec {
        /// 256-bit AES-GCM (SM4 in China Regions).
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        /// RSA 2048.
        Rsa2048 = "RSA_2048",
        /// RSA 3072.
        Rsa3072 = "RSA_3072",
        /// RSA 4096.
        Rsa4096 = "RSA_4096",
        /// NIST P-256.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521.
        EccNistP521 = "ECC_NIST_P521",
        /// secp256k1.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// Ed25519.
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        /// HMAC with a 224-bit key.
        Hmac224 = "HMAC_224",
        /// HMAC with a 256-bit key.
        Hmac256 = "HMAC_256",
        /// HMAC with a 384-bit key.
        Hmac384 = "HMAC_384",
        /// HMAC with a 512-bit key.
        Hmac512 = "HMAC_512",
        /// SM2 (China Regions only).
        Sm2 = "SM2",
        /// ML-DSA-44.
        MlDsa44 = "ML_DSA_44",
        /// ML-DSA-65.
        MlDsa65 = "ML_DSA_65",
        /// ML-DSA-87.
        MlDsa87 = "ML_DSA_87",
        /// ML-KEM-512.
        MlKem512 = "ML_KEM_512",
        /// ML-KEM-768.
        MlKem768 = "ML_KEM_768",
        /// ML-KEM-1024.
        MlKem1024 = "ML_KEM_1024",
    }
}

wire_enum! {
    /// `KeyUsageType`: what a key may be used for.
    pub enum KeyUsage {
        /// Encrypt, Decrypt, ReEncrypt, data keys.
        EncryptDecrypt = "ENCRYPT_DECRYPT",
        /// Sign and Verify.
        SignVerify = "SIGN_VERIFY",
        /// GenerateMac and VerifyMac.
        GenerateVerifyMac = "GENERATE_VERIFY_MAC",
        /// DeriveSharedSecret.
        KeyAgreement = "KEY_AGREEMENT",
        /// Encapsulate and Decapsulate (ML-KEM).
        EncapsulateDecapsulate = "ENCAPSULATE_DECAPSULATE",
    }
}

wire_enum! {
    /// `KeyState`.
    pub enum KeyState {
        /// Being created.
        Creating = "Creating",
        /// Usable.
        Enabled = "Enabled",
        /// Disabled by its owner.
        Disabled = "Disabled",
        /// Scheduled for deletion.
        PendingDeletion = "PendingDeletion",
        /// Waiting for imported key material.
        PendingImport = "PendingImport",
        /// A multi-Region replica awaiting deletion.
        PendingReplicaDeletion = "PendingReplicaDeletion",
        /// Its custom key store is disconnected.
        Unavailable = "Unavailable",
        /// Being updated (multi-Region).
        Updating = "Updating",
    }
}

wire_enum! {
    /// `EncryptionAlgorithmSpec`.
    pub enum EncryptionAlgorithm {
        /// AES-256-GCM with a symmetric key.
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        /// RSA-OAEP with SHA-1.
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        /// RSA-OAEP with SHA-256.
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        /// SM2 public-key encryption (China Regions).
        Sm2Pke = "SM2PKE",
    }
}

wire_enum! {
    /// `SigningAlgorithmSpec`.
    pub enum SigningAlgorithm {
        /// RSASSA-PSS with SHA-256.
        RsassaPssSha256 = "RSASSA_PSS_SHA_256",
        /// RSASSA-PSS with SHA-384.
        RsassaPssSha384 = "RSASSA_PSS_SHA_384",
        /// RSASSA-PSS with SHA-512.
        RsassaPssSha512 = "RSASSA_PSS_SHA_512",
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        RsassaPkcs1V15Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RsassaPkcs1V15Sha384 = "RSASSA_PKCS1_V1_5_SHA_384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RsassaPkcs1V15Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
        /// ECDSA with SHA-256.
        EcdsaSha256 = "ECDSA_SHA_256",
        /// ECDSA with SHA-384.
        EcdsaSha384 = "ECDSA_SHA_384",
        /// ECDSA with SHA-512.
        EcdsaSha512 = "ECDSA_SHA_512",
        /// SM2 signatures (China Regions).
        Sm2Dsa = "SM2DSA",
        /// ML-DSA with SHAKE-256.
        MlDsaShake256 = "ML_DSA_SHAKE_256",
        /// Ed25519 over the message (MessageType RAW).
        Ed25519Sha512 = "ED25519_SHA_512",
        /// Ed25519ph over a SHA-512 digest (MessageType DIGEST).
        Ed25519PhSha512 = "ED25519_PH_SHA_512",
    }
}

wire_enum! {
    /// `MacAlgorithmSpec`.
    pub enum MacAlgorithm {
        /// HMAC-SHA-224.
        HmacSha224 = "HMAC_SHA_224",
        /// HMAC-SHA-256.
        HmacSha256 = "HMAC_SHA_256",
        /// HMAC-SHA-384.
        HmacSha384 = "HMAC_SHA_384",
        /// HMAC-SHA-512.
        HmacSha512 = "HMAC_SHA_512",
    }
}

wire_enum! {
    /// `DataKeySpec`: the length of a generated data key.
    pub enum DataKeySpec {
        /// 32 bytes.
        Aes256 = "AES_256",
        /// 16 bytes.
        Aes128 = "AES_128",
    }
}

wire_enum! {
    /// `DataKeyPairSpec`: the type of a generated data key pair.
    pub enum DataKeyPairSpec {
        /// RSA 2048.
        Rsa2048 = "RSA_2048",
        /// RSA 3072.
        Rsa3072 = "RSA_3072",
        /// RSA 4096.
        Rsa4096 = "RSA_4096",
        /// NIST P-256.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521.
        EccNistP521 = "ECC_NIST_P521",
        /// secp256k1.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// SM2 (China Regions).
        Sm2 = "SM2",
        /// Ed25519.
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        /// ML-KEM-512.
        MlKem512 = "ML_KEM_512",
        /// ML-KEM-768.
        MlKem768 = "ML_KEM_768",
        /// ML-KEM-1024.
        MlKem1024 = "ML_KEM_1024",
    }
}

wire_enum! {
    /// `GrantOperation`: an operation a grant permits.
    pub enum GrantOperation {
        /// Decrypt.
        Decrypt = "Decrypt",
        /// Encrypt.
        Encrypt = "Encrypt",
        /// GenerateDataKey.
        GenerateDataKey = "GenerateDataKey",
        /// GenerateDataKeyWithoutPlaintext.
        GenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext",
        /// ReEncrypt with this key as the source.
        ReEncryptFrom = "ReEncryptFrom",
        /// ReEncrypt with this key as the destination.
        ReEncryptTo = "ReEncryptTo",
        /// Sign.
        Sign = "Sign",
        /// Verify.
        Verify = "Verify",
        /// GetPublicKey.
        GetPublicKey = "GetPublicKey",
        /// CreateGrant.
        CreateGrant = "CreateGrant",
        /// RetireGrant.
        RetireGrant = "RetireGrant",
        /// DescribeKey.
        DescribeKey = "DescribeKey",
        /// GenerateDataKeyPair.
        GenerateDataKeyPair = "GenerateDataKeyPair",
        /// GenerateDataKeyPairWithoutPlaintext.
        GenerateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext",
        /// GenerateMac.
        GenerateMac = "GenerateMac",
        /// VerifyMac.
        VerifyMac = "VerifyMac",
        /// DeriveSharedSecret.
        DeriveSharedSecret = "DeriveSharedSecret",
        /// Encapsulate.
        Encapsulate = "Encapsulate",
        /// Decapsulate.
        Decapsulate = "Decapsulate",
    }
}

wire_enum! {
    /// `MessageType` of Sign/Verify.
    pub enum MessageType {
        /// The message itself (KMS hashes it).
        Raw = "RAW",
        /// A precomputed digest.
        Digest = "DIGEST",
        /// An ML-DSA external mu.
        ExternalMu = "EXTERNAL_MU",
    }
}

wire_enum! {
    /// `OriginType`: where a key's material came from.
    pub enum Origin {
        /// Generated by KMS.
        AwsKms = "AWS_KMS",
        /// Imported.
        External = "EXTERNAL",
        /// A CloudHSM key store.
        AwsCloudhsm = "AWS_CLOUDHSM",
        /// An external key store.
        ExternalKeyStore = "EXTERNAL_KEY_STORE",
    }
}

wire_enum! {
    /// `KeyManagerType`.
    pub enum KeyManager {
        /// An AWS managed key (`alias/aws/*`).
        Aws = "AWS",
        /// A customer managed key.
        Customer = "CUSTOMER",
    }
}

wire_enum! {
    /// `ExpirationModelType` of imported key material.
    pub enum ExpirationModel {
        /// The material expires at `ValidTo`.
        KeyMaterialExpires = "KEY_MATERIAL_EXPIRES",
        /// The material does not expire.
        KeyMaterialDoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }
}

wire_enum! {
    /// `RotationType` of a `ListKeyRotations` entry.
    pub enum RotationType {
        /// A scheduled rotation.
        Automatic = "AUTOMATIC",
        /// A `RotateKeyOnDemand` rotation.
        OnDemand = "ON_DEMAND",
    }
}

wire_enum! {
    /// `IncludeKeyMaterial` of `ListKeyRotations`.
    pub enum IncludeKeyMaterial {
        /// Every key material, including the initial one.
        AllKeyMaterial = "ALL_KEY_MATERIAL",
        /// Only materials created by rotation.
        RotationsOnly = "ROTATIONS_ONLY",
    }
}

wire_enum! {
    /// `MultiRegionKeyType`.
    pub enum MultiRegionKeyType {
        /// The primary key.
        Primary = "PRIMARY",
        /// A replica.
        Replica = "REPLICA",
    }
}

wire_enum! {
    /// `KeyEncryptionMechanism` of a Nitro Enclaves `Recipient`.
    pub enum KeyEncryptionAlgorithm {
        /// RSA-OAEP with SHA-256.
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
    }
}
