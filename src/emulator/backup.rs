//! Backup blobs: a secret with all its versions, sealed with AES-256-GCM under a key that belongs to
//! one local-vault installation. Clients treat the blob as opaque bytes; the blob holds no plain text,
//! and a tampered blob or one sealed by another installation is refused as "Malformed backup blob".

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::store::SecretRecord;

const MAGIC: &[u8] = b"KvtuiLocalVaultSecretBackupV1";

pub struct BackupKey {
    key: LessSafeKey,
}

impl BackupKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).ok()?;
        Some(Self {
            key: LessSafeKey::new(key),
        })
    }

    pub fn generate_bytes() -> Option<Zeroizing<[u8; 32]>> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new().fill(bytes.as_mut()).ok()?;
        Some(bytes)
    }

    /// Seals a whole secret into an opaque blob.
    pub fn seal(&self, record: &SecretRecord) -> Option<Vec<u8>> {
        let mut plain = Zeroizing::new(serde_json::to_vec(record).ok()?);
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(MAGIC),
                &mut *plain,
            )
            .ok()?;
        let mut blob = Vec::with_capacity(MAGIC.len() + NONCE_LEN + plain.len());
        blob.extend_from_slice(MAGIC);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&plain);
        Some(blob)
    }

    /// Opens a blob made by [`seal`](Self::seal) with the same key; `None` for anything else.
    pub fn open(&self, blob: &[u8]) -> Option<SecretRecord> {
        let rest = blob.strip_prefix(MAGIC)?;
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = Zeroizing::new(sealed.to_vec());
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(MAGIC), &mut buf)
            .ok()?;
        serde_json::from_slice(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::store::SecretVersion;

    fn record() -> SecretRecord {
        SecretRecord {
            name: "db-password".into(),
            versions: vec![SecretVersion {
                version: "a".repeat(32),
                value: Zeroizing::new("hunter2-canary".into()),
                content_type: Some("text/plain".into()),
                tags: None,
                enabled: true,
                nbf: None,
                exp: Some(2_000_000_000),
                created: 1,
                updated: 2,
                kid: None,
            }],
        }
    }

    #[test]
    fn round_trip_holds_no_plain_text_and_rejects_tampering_and_other_keys() {
        let k1 = BackupKey::from_bytes(&BackupKey::generate_bytes().unwrap()).unwrap();
        let k2 = BackupKey::from_bytes(&BackupKey::generate_bytes().unwrap()).unwrap();
        let blob = k1.seal(&record()).unwrap();
        assert!(!blob.windows(14).any(|w| w == b"hunter2-canary"));
        assert!(!blob.windows(11).any(|w| w == b"db-password"));
        let back = k1.open(&blob).unwrap();
        assert_eq!(back.name, "db-password");
        assert_eq!(back.versions[0].value.as_str(), "hunter2-canary");
        assert_eq!(back.versions[0].exp, Some(2_000_000_000));
        assert!(k2.open(&blob).is_none());
        let mut tampered = blob.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(k1.open(&tampered).is_none());
        assert!(k1.open(b"AAAA").is_none());
    }
}
