//! The KMS enumerations the key model works with: the wire enums of `crate::kms::wire`
//! (service-2.json names), re-exported. The tables relating them (spec -> usages, algorithms)
//! are inherent methods in `specs.rs`.
//!
//! Every enum lists all values AWS defines, so a request naming a real but unimplemented value
//! (`SM2`, `ML_DSA_44`, `ECC_SECG_P256K1`, ...) is told so (`UnsupportedOperationException`)
//! instead of being rejected as an unknown enum value (`ValidationException`).

pub use crate::kms::wire::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, KeyManager, KeySpec, KeyState, KeyUsage,
    MacAlgorithm, MessageType, Origin, RotationType, SigningAlgorithm,
};

/// An enum with AWS wire names, for code generic over the enums (enum-set errors).
pub trait WireEnum: Sized + Copy + 'static {
    /// Every value, in the API model's order.
    const ALL: &'static [Self];
    /// The wire name.
    fn as_str(self) -> &'static str;
    /// Parses an exact (case-sensitive) wire name.
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// Implements [`WireEnum`] with the wire enums' own `ALL` and `as_str`.
macro_rules! wire_enum {
    ($($name:ident),+ $(,)?) => {
        $(
            impl WireEnum for $name {
                const ALL: &'static [Self] = $name::ALL;
                fn as_str(self) -> &'static str {
                    $name::as_str(self)
                }
            }
        )+
    };
}

wire_enum!(
    KeySpec,
    KeyUsage,
    KeyState,
    KeyManager,
    Origin,
    EncryptionAlgorithm,
    SigningAlgorithm,
    MacAlgorithm,
    MessageType,
    DataKeySpec,
    DataKeyPairSpec,
    RotationType,
);
