//! The token vault: the Meta business access tokens that tenants grant us, envelope-encrypted
//! with KMS.
//!
//! `seal` asks KMS for a fresh AES-256 data key (`GenerateDataKey`) under the encryption
//! context `{"tenant": <tenant id>, "purpose": <purpose>}`, encrypts the token with AES-256-GCM
//! (random 96-bit nonce; the same context, canonically encoded, as associated data) and keeps
//! only the KMS-encrypted copy of the data key beside the ciphertext. `open` has KMS decrypt the
//! data key under the context the caller names, so a token sealed for one tenant or purpose
//! never opens as another's: KMS refuses the context, and the GCM tag binds it too.
//!
//! Decrypted data keys are cached briefly in memory, bounded in time and in count, as the AWS
//! Encryption SDK's caching materials manager does: `seal` reuses one data key per (tenant,
//! purpose) for at most `max_age` and `max_uses` messages; `open` keeps plaintext data keys
//! keyed by (SHA-256 of the encrypted data key, tenant, purpose), at most `max_entries` of them,
//! each for at most `max_age`. A cache hit is therefore only ever for the very context KMS
//! accepted. Data keys (and the AES and GHASH key schedules built from them) are zeroized on
//! drop; the token's plaintext only ever lives in a [`Secret`], and no Debug, error or log line
//! of this module carries it or a key.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, EncryptionAlgorithmSpec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_domain::{Clock, Secret, SystemClock, TenantId};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The format [`TokenVault::seal`] writes and [`TokenVault::open`] reads.
pub const SEALED_SECRET_VERSION: u8 = 1;

const DATA_KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Domain separation for the AEAD associated data: nothing else we encrypt shares it.
const AAD_LABEL: &[u8] = b"switchboard/token-vault";

/// What a sealed secret is for; part of the encryption context, so a token sealed for one
/// purpose never opens as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenPurpose {
    /// The business integration system-user access token a tenant grants through Embedded
    /// Signup: what `functions/outbound` sends that tenant's messages with.
    #[serde(rename = "whatsapp-business-token")]
    WhatsAppBusinessToken,
    /// The six-digit two-step verification PIN a business phone number is registered with.
    #[serde(rename = "whatsapp-two-step-pin")]
    WhatsAppTwoStepPin,
}

impl TokenPurpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WhatsAppBusinessToken => "whatsapp-business-token",
            Self::WhatsAppTwoStepPin => "whatsapp-two-step-pin",
        }
    }
}

impl fmt::Display for TokenPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long and how often a decrypted data key may be reused from memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Age after which a cached data key is dropped (both for sealing and for opening).
    pub max_age: Duration,
    /// Data keys kept for opening (and, separately, for sealing); the oldest goes first.
    pub max_entries: usize,
    /// Secrets sealed with one data key before a fresh one is asked for.
    pub max_uses: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(300),
            max_entries: 1000,
            max_uses: 10_000,
        }
    }
}

impl CacheLimits {
    /// Every seal and every open calls KMS.
    pub const fn disabled() -> Self {
        Self {
            max_age: Duration::ZERO,
            max_entries: 0,
            max_uses: 0,
        }
    }
}

/// A secret as stored: the KMS-encrypted data key, the nonce and the AES-256-GCM ciphertext
/// (tag included). Serializes with the bytes as standard base64 strings. Opening it needs the
/// tenant and purpose it was sealed for; neither is stored here.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    pub version: u8,
    /// The KMS key (its ARN, as KMS reports it) that encrypted the data key.
    pub key_id: String,
    #[serde(with = "base64_bytes")]
    pub encrypted_data_key: Vec<u8>,
    #[serde(with = "base64_bytes")]
    pub nonce: Vec<u8>,
    #[serde(with = "base64_bytes")]
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("version", &self.version)
            .field("key_id", &self.key_id)
            .field("encrypted_data_key_len", &self.encrypted_data_key.len())
            .field("nonce_len", &self.nonce.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// KMS could not be reached or refused for another reason than the context.
    #[error("KMS {operation} failed: {message}")]
    Kms {
        operation: &'static str,
        retryable: bool,
        message: String,
    },
    #[error("KMS {operation} answered without a usable {missing}")]
    KmsResponse {
        operation: &'static str,
        missing: &'static str,
    },
    /// KMS would not decrypt the data key under this tenant and purpose: the secret was sealed
    /// for another tenant or purpose, or its encrypted data key was altered.
    #[error(
        "the sealed secret does not open for this tenant and purpose (wrong context, or its data key was altered)"
    )]
    WrongContext,
    /// The data key was encrypted under another KMS key than this vault's.
    #[error("the sealed secret's data key was encrypted under another KMS key")]
    WrongKey,
    /// The data key opened, but the ciphertext or nonce fails authentication.
    #[error("the sealed secret fails authentication: its ciphertext or nonce was altered")]
    Tampered,
    #[error(
        "sealed secret version {0} is not supported (this build reads version {SEALED_SECRET_VERSION})"
    )]
    UnsupportedVersion(u8),
    #[error("the secret could not be encrypted")]
    Encrypt,
}

impl VaultError {
    /// Whether trying again later may succeed (KMS throttling, timeouts, outages).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Kms {
                retryable: true,
                ..
            }
        )
    }
}

/// Counters since the vault was built (shared by its clones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VaultStats {
    /// `GenerateDataKey` calls made, failed ones included.
    pub generate_data_key_calls: u64,
    /// `Decrypt` calls made, failed ones included.
    pub decrypt_calls: u64,
    /// Seals that reused a cached data key.
    pub seal_cache_hits: u64,
    /// Opens that found their data key in the cache.
    pub open_cache_hits: u64,
}

/// Envelope encryption of tenant tokens with one KMS key. Cheap to clone; clones share the
/// cache and the counters.
#[derive(Clone)]
pub struct TokenVault {
    inner: Arc<Inner>,
    clock: Arc<dyn Clock>,
}

struct Inner {
    kms: aws_sdk_kms::Client,
    key_id: String,
    limits: CacheLimits,
    seal_cache: Mutex<Cache<(TenantId, TokenPurpose), Arc<SealingKey>>>,
    open_cache: Mutex<Cache<OpenCacheKey, Arc<DataKey>>>,
    generate_calls: AtomicU64,
    decrypt_calls: AtomicU64,
    seal_hits: AtomicU64,
    open_hits: AtomicU64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OpenCacheKey {
    encrypted_data_key_sha256: [u8; 32],
    tenant: TenantId,
    purpose: TokenPurpose,
}

/// A data key for sealing, with what a sealed secret records about it.
struct SealingKey {
    key: DataKey,
    encrypted_data_key: Vec<u8>,
    key_id: String,
}

impl fmt::Debug for TokenVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVault")
            .field("key_id", &self.inner.key_id)
            .field("limits", &self.inner.limits)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl TokenVault {
    /// `key_id` is any id KMS accepts for the vault's key: key id, key ARN, alias name or ARN.
    /// Secrets are only ever opened with that key.
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>, limits: CacheLimits) -> Self {
        let seal_cache = Cache::new(limits.max_age, limits.max_entries, limits.max_uses);
        let open_cache = Cache::new(limits.max_age, limits.max_entries, u64::MAX);
        Self {
            inner: Arc::new(Inner {
                kms,
                key_id: key_id.into(),
                limits,
                seal_cache: Mutex::new(seal_cache),
                open_cache: Mutex::new(open_cache),
                generate_calls: AtomicU64::new(0),
                decrypt_calls: AtomicU64::new(0),
                seal_hits: AtomicU64::new(0),
                open_hits: AtomicU64::new(0),
            }),
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock that ages cache entries (the system's by default).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn key_id(&self) -> &str {
        &self.inner.key_id
    }

    pub fn limits(&self) -> CacheLimits {
        self.inner.limits
    }

    pub fn stats(&self) -> VaultStats {
        let inner = &self.inner;
        VaultStats {
            generate_data_key_calls: inner.generate_calls.load(Ordering::Relaxed),
            decrypt_calls: inner.decrypt_calls.load(Ordering::Relaxed),
            seal_cache_hits: inner.seal_hits.load(Ordering::Relaxed),
            open_cache_hits: inner.open_hits.load(Ordering::Relaxed),
        }
    }

    /// Forgets every cached data key (e.g. after a tenant's access was revoked).
    pub fn clear_cache(&self) {
        lock(&self.inner.seal_cache).clear();
        lock(&self.inner.open_cache).clear();
    }

    pub async fn seal(
        &self,
        tenant: &TenantId,
        purpose: TokenPurpose,
        plaintext: &Secret,
    ) -> Result<SealedSecret, VaultError> {
        let cache_key = (tenant.clone(), purpose);
        let cached = lock(&self.inner.seal_cache).take(&cache_key, self.clock.now());
        let sealing = match cached {
            Some(sealing) => {
                self.inner.seal_hits.fetch_add(1, Ordering::Relaxed);
                sealing
            }
            None => {
                let sealing = Arc::new(self.generate_data_key(tenant, purpose).await?);
                lock(&self.inner.seal_cache).insert(
                    cache_key,
                    Arc::clone(&sealing),
                    self.clock.now(),
                );
                sealing
            }
        };
        let aad = associated_data(SEALED_SECRET_VERSION, tenant, purpose);
        let (nonce, ciphertext) = encrypt(&sealing.key, &aad, plaintext.expose().as_bytes())?;
        Ok(SealedSecret {
            version: SEALED_SECRET_VERSION,
            key_id: sealing.key_id.clone(),
            encrypted_data_key: sealing.encrypted_data_key.clone(),
            nonce,
            ciphertext,
        })
    }

    pub async fn open(
        &self,
        tenant: &TenantId,
        purpose: TokenPurpose,
        sealed: &SealedSecret,
    ) -> Result<Secret, VaultError> {
        if sealed.version != SEALED_SECRET_VERSION {
            return Err(VaultError::UnsupportedVersion(sealed.version));
        }
        if sealed.nonce.len() != NONCE_LEN || sealed.ciphertext.len() < TAG_LEN {
            return Err(VaultError::Tampered);
        }
        let cache_key = OpenCacheKey {
            encrypted_data_key_sha256: Sha256::digest(&sealed.encrypted_data_key).into(),
            tenant: tenant.clone(),
            purpose,
        };
        let cached = lock(&self.inner.open_cache).take(&cache_key, self.clock.now());
        let key = match cached {
            Some(key) => {
                self.inner.open_hits.fetch_add(1, Ordering::Relaxed);
                key
            }
            None => {
                let key = Arc::new(
                    self.decrypt_data_key(tenant, purpose, &sealed.encrypted_data_key)
                        .await?,
                );
                lock(&self.inner.open_cache).insert(cache_key, Arc::clone(&key), self.clock.now());
                key
            }
        };
        let aad = associated_data(sealed.version, tenant, purpose);
        let plaintext = decrypt(&key, &aad, &sealed.nonce, &sealed.ciphertext)?;
        String::from_utf8(plaintext).map(Secret::new).map_err(|e| {
            e.into_bytes().zeroize();
            VaultError::Tampered
        })
    }

    async fn generate_data_key(
        &self,
        tenant: &TenantId,
        purpose: TokenPurpose,
    ) -> Result<SealingKey, VaultError> {
        const OPERATION: &str = "GenerateDataKey";
        self.inner.generate_calls.fetch_add(1, Ordering::Relaxed);
        let mut out = self
            .inner
            .kms
            .generate_data_key()
            .key_id(&self.inner.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context("tenant", tenant.as_str())
            .encryption_context("purpose", purpose.as_str())
            .send()
            .await
            .map_err(|e| kms_error(OPERATION, e))?;
        tracing::debug!(tenant = %tenant, purpose = %purpose, "token vault: new data key from KMS");
        let key = DataKey::from_kms(out.plaintext.take(), OPERATION)?;
        let encrypted_data_key = out
            .ciphertext_blob
            .take()
            .map(Blob::into_inner)
            .filter(|b| !b.is_empty())
            .ok_or(VaultError::KmsResponse {
                operation: OPERATION,
                missing: "CiphertextBlob",
            })?;
        let key_id = out
            .key_id
            .take()
            .unwrap_or_else(|| self.inner.key_id.clone());
        Ok(SealingKey {
            key,
            encrypted_data_key,
            key_id,
        })
    }

    async fn decrypt_data_key(
        &self,
        tenant: &TenantId,
        purpose: TokenPurpose,
        encrypted_data_key: &[u8],
    ) -> Result<DataKey, VaultError> {
        const OPERATION: &str = "Decrypt";
        self.inner.decrypt_calls.fetch_add(1, Ordering::Relaxed);
        let mut out = self
            .inner
            .kms
            .decrypt()
            .key_id(&self.inner.key_id)
            .encryption_algorithm(EncryptionAlgorithmSpec::SymmetricDefault)
            .ciphertext_blob(Blob::new(encrypted_data_key))
            .encryption_context("tenant", tenant.as_str())
            .encryption_context("purpose", purpose.as_str())
            .send()
            .await
            .map_err(|e| match e.code() {
                Some("InvalidCiphertextException") => VaultError::WrongContext,
                Some("IncorrectKeyException") => VaultError::WrongKey,
                _ => kms_error(OPERATION, e),
            })?;
        tracing::debug!(tenant = %tenant, purpose = %purpose, "token vault: data key decrypted by KMS");
        DataKey::from_kms(out.plaintext.take(), OPERATION)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn kms_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> VaultError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => matches!(
            err.code(),
            Some(
                "ThrottlingException"
                    | "KMSInternalException"
                    | "DependencyTimeoutException"
                    | "KeyUnavailableException"
            )
        ),
        _ => false,
    };
    VaultError::Kms {
        operation,
        retryable,
        message: DisplayErrorContext(err).to_string(),
    }
}

/// A plaintext AES-256 data key; zeroed when dropped.
#[derive(Zeroize, ZeroizeOnDrop)]
struct DataKey([u8; DATA_KEY_LEN]);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

impl DataKey {
    fn from_kms(blob: Option<Blob>, operation: &'static str) -> Result<Self, VaultError> {
        let mut bytes = blob.map(Blob::into_inner).unwrap_or_default();
        let key = <[u8; DATA_KEY_LEN]>::try_from(bytes.as_slice())
            .map(DataKey)
            .map_err(|_| VaultError::KmsResponse {
                operation,
                missing: "Plaintext (a 256-bit key)",
            });
        bytes.zeroize();
        key
    }

    /// The AES and GHASH key schedules zeroize themselves on drop (`aes`/`polyval` with their
    /// `zeroize` features).
    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }
}

/// `label ‖ version ‖ count ‖ (len key ‖ key ‖ len value ‖ value)*`, the pairs sorted by key
/// and lengths as big-endian u32: the same context KMS is given, in one unambiguous encoding.
fn associated_data(version: u8, tenant: &TenantId, purpose: TokenPurpose) -> Vec<u8> {
    let mut pairs = [("purpose", purpose.as_str()), ("tenant", tenant.as_str())];
    pairs.sort_unstable();
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + 64 + tenant.as_str().len());
    aad.extend_from_slice(AAD_LABEL);
    aad.push(version);
    aad.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
    for (key, value) in pairs {
        for part in [key, value] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
    }
    aad
}

fn encrypt(key: &DataKey, aad: &[u8], plaintext: &[u8]) -> Result<(Vec<u8>, Vec<u8>), VaultError> {
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let ciphertext = key
        .cipher()
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| VaultError::Encrypt)?;
    Ok((nonce.to_vec(), ciphertext))
}

fn decrypt(
    key: &DataKey,
    aad: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    if nonce.len() != NONCE_LEN {
        return Err(VaultError::Tampered);
    }
    key.cipher()
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| VaultError::Tampered)
}

/// A map bounded in entry age, entry count (oldest out first) and uses per entry.
struct Cache<K, V> {
    entries: HashMap<K, CacheEntry<V>>,
    next_seq: u64,
    max_age: Duration,
    max_entries: usize,
    max_uses: u64,
}

struct CacheEntry<V> {
    value: V,
    created: OffsetDateTime,
    seq: u64,
    uses: u64,
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    fn new(max_age: Duration, max_entries: usize, max_uses: u64) -> Self {
        Self {
            entries: HashMap::new(),
            next_seq: 0,
            max_age,
            max_entries,
            max_uses,
        }
    }

    fn enabled(&self) -> bool {
        !self.max_age.is_zero() && self.max_entries > 0 && self.max_uses > 0
    }

    fn fresh(&self, entry: &CacheEntry<V>, now: OffsetDateTime) -> bool {
        let age = now - entry.created;
        // An entry from the future (the clock went back) is not trusted either.
        !age.is_negative() && age.unsigned_abs() < self.max_age
    }

    /// The value, counted as one more use; an entry past its age or uses is dropped instead.
    fn take(&mut self, key: &K, now: OffsetDateTime) -> Option<V> {
        let entry = self.entries.get(key)?;
        if !self.fresh(entry, now) || entry.uses >= self.max_uses {
            self.entries.remove(key);
            return None;
        }
        let entry = self.entries.get_mut(key)?;
        entry.uses += 1;
        Some(entry.value.clone())
    }

    /// Stores a value that was just used once.
    fn insert(&mut self, key: K, value: V, now: OffsetDateTime) {
        if !self.enabled() {
            return;
        }
        let (max_age, max_uses) = (self.max_age, self.max_uses);
        self.entries.retain(|_, e| {
            let age = now - e.created;
            !age.is_negative() && age.unsigned_abs() < max_age && e.uses < max_uses
        });
        self.entries.remove(&key);
        while self.entries.len() >= self.max_entries {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.seq)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.insert(
            key,
            CacheEntry {
                value,
                created: now,
                seq,
                uses: 1,
            },
        );
    }

    fn clear(&mut self) {
        self.entries.clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|_| D::Error::custom("not standard base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::FixedClock;
    use time::macros::datetime;

    const TOKEN: &str = "EAAG-tenant-token-very-secret";

    fn key(byte: u8) -> DataKey {
        DataKey([byte; DATA_KEY_LEN])
    }

    fn acme() -> TenantId {
        TenantId::new("acme")
    }

    /// A vault whose KMS is a closed port on loopback: any KMS call fails fast, so these tests
    /// only pass through the cache.
    fn offline_vault(limits: CacheLimits) -> (TokenVault, Arc<FixedClock>) {
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_kms::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
            .build();
        let clock = Arc::new(FixedClock::at(datetime!(2026-11-01 10:00 UTC)));
        let vault = TokenVault::new(aws_sdk_kms::Client::from_conf(config), "alias/test", limits)
            .with_clock(clock.clone());
        (vault, clock)
    }

    fn sealing_key(byte: u8, edk: &[u8]) -> Arc<SealingKey> {
        Arc::new(SealingKey {
            key: key(byte),
            encrypted_data_key: edk.to_vec(),
            key_id: "arn:aws:kms:us-east-1:123456789012:key/test".into(),
        })
    }

    #[test]
    fn aes_round_trip() {
        let aad = associated_data(1, &acme(), TokenPurpose::WhatsAppBusinessToken);
        let (nonce, ciphertext) = encrypt(&key(7), &aad, TOKEN.as_bytes()).unwrap();
        assert_eq!(nonce.len(), NONCE_LEN);
        assert_eq!(ciphertext.len(), TOKEN.len() + TAG_LEN);
        assert_eq!(
            decrypt(&key(7), &aad, &nonce, &ciphertext).unwrap(),
            TOKEN.as_bytes()
        );
        // Fresh nonce every time.
        let (nonce2, ciphertext2) = encrypt(&key(7), &aad, TOKEN.as_bytes()).unwrap();
        assert_ne!(nonce, nonce2);
        assert_ne!(ciphertext, ciphertext2);
    }

    #[test]
    fn aad_mismatch_fails() {
        let purpose = TokenPurpose::WhatsAppBusinessToken;
        let aad = associated_data(1, &acme(), purpose);
        let (nonce, ciphertext) = encrypt(&key(7), &aad, TOKEN.as_bytes()).unwrap();
        for other in [
            associated_data(1, &TenantId::new("globex"), purpose),
            associated_data(1, &acme(), TokenPurpose::WhatsAppTwoStepPin),
            associated_data(2, &acme(), purpose),
        ] {
            assert!(matches!(
                decrypt(&key(7), &other, &nonce, &ciphertext),
                Err(VaultError::Tampered)
            ));
        }
        assert!(decrypt(&key(8), &aad, &nonce, &ciphertext).is_err());
    }

    #[test]
    fn associated_data_is_unambiguous() {
        // A tenant id cannot smuggle a purpose in: lengths delimit every part.
        let a = associated_data(1, &TenantId::new("a"), TokenPurpose::WhatsAppBusinessToken);
        let b = associated_data(
            1,
            &TenantId::new("a\0\0\0\x07purpose"),
            TokenPurpose::WhatsAppBusinessToken,
        );
        assert_ne!(a, b);
        assert!(a.starts_with(AAD_LABEL));
    }

    #[test]
    fn tampered_ciphertext_or_nonce_fails() {
        let aad = associated_data(1, &acme(), TokenPurpose::WhatsAppBusinessToken);
        let (nonce, ciphertext) = encrypt(&key(7), &aad, TOKEN.as_bytes()).unwrap();
        for i in 0..ciphertext.len() {
            let mut bad = ciphertext.clone();
            bad[i] ^= 0x01;
            assert!(decrypt(&key(7), &aad, &nonce, &bad).is_err(), "byte {i}");
        }
        let mut bad_nonce = nonce.clone();
        bad_nonce[0] ^= 0x80;
        assert!(decrypt(&key(7), &aad, &bad_nonce, &ciphertext).is_err());
        assert!(decrypt(&key(7), &aad, &nonce[..11], &ciphertext).is_err());
        assert!(decrypt(&key(7), &aad, &nonce, &ciphertext[..ciphertext.len() - 1]).is_err());
    }

    #[test]
    fn debug_shows_no_plaintext_or_key_bytes() {
        let aad = associated_data(1, &acme(), TokenPurpose::WhatsAppBusinessToken);
        let (nonce, ciphertext) = encrypt(&key(0xAB), &aad, TOKEN.as_bytes()).unwrap();
        let sealed = SealedSecret {
            version: 1,
            key_id: "arn:aws:kms:us-east-1:123456789012:key/test".into(),
            encrypted_data_key: vec![0xCD; 40],
            nonce,
            ciphertext,
        };
        let debug = format!("{sealed:?}");
        assert!(debug.contains("ciphertext_len"), "{debug}");
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(!debug.contains("205"), "bytes in {debug}"); // 0xCD
        let key_debug = format!("{:?}", key(0xAB));
        assert_eq!(key_debug, "DataKey([REDACTED])");
        let (vault, _) = offline_vault(CacheLimits::default());
        let vault_debug = format!("{vault:?}");
        assert!(vault_debug.contains("alias/test"), "{vault_debug}");
        let err = VaultError::Tampered.to_string();
        assert!(!err.contains("very-secret"));
    }

    #[test]
    fn sealed_secret_serializes_as_base64() {
        let sealed = SealedSecret {
            version: 1,
            key_id: "k".into(),
            encrypted_data_key: vec![0xff, 0xfe],
            nonce: vec![0; 12],
            ciphertext: b"xyz".to_vec(),
        };
        let json = serde_json::to_value(&sealed).unwrap();
        assert_eq!(json["encrypted_data_key"], "//4=");
        assert_eq!(json["nonce"], "AAAAAAAAAAAAAAAA");
        assert_eq!(json["ciphertext"], "eHl6");
        assert_eq!(json["version"], 1);
        let back: SealedSecret = serde_json::from_value(json).unwrap();
        assert_eq!(back, sealed);
        let bad = serde_json::json!({"version": 1, "key_id": "k", "encrypted_data_key": "!!",
            "nonce": "", "ciphertext": ""});
        assert!(serde_json::from_value::<SealedSecret>(bad).is_err());
    }

    #[test]
    fn purposes_have_stable_names() {
        assert_eq!(
            TokenPurpose::WhatsAppBusinessToken.as_str(),
            "whatsapp-business-token"
        );
        for p in [
            TokenPurpose::WhatsAppBusinessToken,
            TokenPurpose::WhatsAppTwoStepPin,
        ] {
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::from(p.as_str())
            );
        }
    }

    #[test]
    fn cache_evicts_oldest_beyond_max_entries() {
        let t0 = datetime!(2026-11-01 10:00 UTC);
        let mut cache = Cache::new(Duration::from_secs(60), 2, u64::MAX);
        cache.insert("a", 1, t0);
        cache.insert("b", 2, t0);
        assert_eq!(cache.take(&"a", t0), Some(1));
        cache.insert("c", 3, t0);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.take(&"a", t0), None, "a was the oldest");
        assert_eq!(cache.take(&"b", t0), Some(2));
        assert_eq!(cache.take(&"c", t0), Some(3));
    }

    #[test]
    fn cache_expires_by_age_and_clock_going_back() {
        let t0 = datetime!(2026-11-01 10:00 UTC);
        let mut cache = Cache::new(Duration::from_secs(60), 10, u64::MAX);
        cache.insert("a", 1, t0);
        assert_eq!(cache.take(&"a", t0 + time::Duration::seconds(59)), Some(1));
        assert_eq!(cache.take(&"a", t0 + time::Duration::seconds(60)), None);
        assert_eq!(cache.len(), 0);
        cache.insert("b", 2, t0);
        assert_eq!(cache.take(&"b", t0 - time::Duration::seconds(1)), None);
        // Expired entries are swept when others are inserted.
        cache.insert("c", 3, t0);
        cache.insert("d", 4, t0 + time::Duration::minutes(5));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn cache_limits_uses() {
        let t0 = datetime!(2026-11-01 10:00 UTC);
        let mut cache = Cache::new(Duration::from_secs(60), 10, 3);
        cache.insert("a", 1, t0); // the first use
        assert_eq!(cache.take(&"a", t0), Some(1));
        assert_eq!(cache.take(&"a", t0), Some(1));
        assert_eq!(cache.take(&"a", t0), None);
    }

    #[test]
    fn disabled_cache_keeps_nothing() {
        let t0 = datetime!(2026-11-01 10:00 UTC);
        let limits = CacheLimits::disabled();
        let mut cache = Cache::new(limits.max_age, limits.max_entries, limits.max_uses);
        cache.insert("a", 1, t0);
        assert_eq!(cache.take(&"a", t0), None);
        assert_eq!(cache.len(), 0);
    }

    #[tokio::test]
    async fn warm_vault_seals_and_opens_from_cache_only_for_the_same_context() {
        let (vault, clock) = offline_vault(CacheLimits::default());
        let purpose = TokenPurpose::WhatsAppBusinessToken;
        let now = clock.now();
        lock(&vault.inner.seal_cache).insert((acme(), purpose), sealing_key(9, b"edk-1"), now);
        let sealed = vault
            .seal(&acme(), purpose, &Secret::new(TOKEN))
            .await
            .unwrap();
        assert_eq!(sealed.encrypted_data_key, b"edk-1");
        assert_eq!(vault.stats().seal_cache_hits, 1);

        let open_key = |tenant: TenantId, purpose| OpenCacheKey {
            encrypted_data_key_sha256: Sha256::digest(b"edk-1").into(),
            tenant,
            purpose,
        };
        lock(&vault.inner.open_cache).insert(open_key(acme(), purpose), Arc::new(key(9)), now);
        let opened = vault.open(&acme(), purpose, &sealed).await.unwrap();
        assert_eq!(opened.expose(), TOKEN);
        assert_eq!(vault.stats().open_cache_hits, 1);
        assert_eq!(vault.stats().decrypt_calls, 0);

        // Another tenant misses the cache and goes to KMS (unreachable here).
        let err = vault
            .open(&TenantId::new("globex"), purpose, &sealed)
            .await
            .unwrap_err();
        assert!(matches!(err, VaultError::Kms { .. }), "{err:?}");
        assert!(err.is_retryable(), "{err:?}");
        assert_eq!(vault.stats().decrypt_calls, 1);

        // Even a (hypothetically) wrongly keyed cache entry does not open it: the AAD differs.
        let globex = TenantId::new("globex");
        lock(&vault.inner.open_cache).insert(
            open_key(globex.clone(), purpose),
            Arc::new(key(9)),
            now,
        );
        let err = vault.open(&globex, purpose, &sealed).await.unwrap_err();
        assert!(matches!(err, VaultError::Tampered), "{err:?}");

        // Tampered ciphertext on a cache hit.
        let mut bad = sealed.clone();
        bad.ciphertext[0] ^= 1;
        assert!(matches!(
            vault.open(&acme(), purpose, &bad).await,
            Err(VaultError::Tampered)
        ));
        let mut future = sealed.clone();
        future.version = 2;
        assert!(matches!(
            vault.open(&acme(), purpose, &future).await,
            Err(VaultError::UnsupportedVersion(2))
        ));

        // Past max_age the seal cache misses too, and KMS (unreachable) is asked.
        clock.advance(time::Duration::minutes(5));
        assert!(
            vault
                .seal(&acme(), purpose, &Secret::new(TOKEN))
                .await
                .is_err()
        );
        assert_eq!(vault.stats().generate_data_key_calls, 1);
        vault.clear_cache();
        assert_eq!(lock(&vault.inner.open_cache).len(), 0);
    }
}
