//! The token vault against KMS as moto serves it: every test creates its own key with CreateKey.
//! Run through `scripts/with-moto.sh` (it sets `AWS_ENDPOINT_URL`).

use aws_config::BehaviorVersion;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::{FixedClock, Secret, TenantId};
use switchboard_platform::token_vault::{
    CacheLimits, SEALED_SECRET_VERSION, SealedSecret, TokenPurpose, TokenVault, VaultError,
};
use time::macros::datetime;

const TOKEN: &str = "EAAGm0PX4ZCpsBAvery-secret-business-token";
const BUSINESS: TokenPurpose = TokenPurpose::WhatsAppBusinessToken;
const PIN: TokenPurpose = TokenPurpose::WhatsAppTwoStepPin;

async fn kms() -> aws_sdk_kms::Client {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set. These tests need moto: run them with \
         `scripts/with-moto.sh cargo nextest run -p switchboard-platform` \
         (create the venv first with `make .venv/moto/.installed`)."
    );
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    aws_sdk_kms::Client::new(&config)
}

/// A fresh symmetric key; returns its ARN.
async fn create_key(kms: &aws_sdk_kms::Client) -> String {
    let out = kms
        .create_key()
        .description("switchboard token vault test")
        .send()
        .await
        .expect("CreateKey");
    out.key_metadata()
        .and_then(|m| m.arn())
        .expect("CreateKey returns the key's ARN")
        .to_owned()
}

struct Fixture {
    kms: aws_sdk_kms::Client,
    key_arn: String,
    clock: Arc<FixedClock>,
}

impl Fixture {
    async fn new() -> Self {
        let kms = kms().await;
        let key_arn = create_key(&kms).await;
        let clock = Arc::new(FixedClock::at(datetime!(2026-11-01 10:00 UTC)));
        Self {
            kms,
            key_arn,
            clock,
        }
    }

    fn vault(&self, limits: CacheLimits) -> TokenVault {
        TokenVault::new(self.kms.clone(), self.key_arn.clone(), limits)
            .with_clock(self.clock.clone())
    }

    fn advance(&self, by: Duration) {
        self.clock
            .advance(time::Duration::try_from(by).expect("a short duration"));
    }
}

fn acme() -> TenantId {
    TenantId::new("acme")
}

fn globex() -> TenantId {
    TenantId::new("globex")
}

fn token() -> Secret {
    Secret::new(TOKEN)
}

#[tokio::test]
async fn round_trip_opens_what_was_sealed() {
    let f = Fixture::new().await;
    let vault = f.vault(CacheLimits::default());
    let sealed = vault.seal(&acme(), BUSINESS, &token()).await.unwrap();
    assert_eq!(sealed.version, SEALED_SECRET_VERSION);
    assert_eq!(sealed.key_id, f.key_arn);
    assert_eq!(sealed.nonce.len(), 12);
    assert_eq!(sealed.ciphertext.len(), TOKEN.len() + 16);
    let opened = vault.open(&acme(), BUSINESS, &sealed).await.unwrap();
    assert_eq!(opened.expose(), TOKEN);

    // Through storage and back, in a vault that never saw the data key.
    let json = serde_json::to_string(&sealed).unwrap();
    let stored: SealedSecret = serde_json::from_str(&json).unwrap();
    let other = f.vault(CacheLimits::default());
    assert_eq!(
        other
            .open(&acme(), BUSINESS, &stored)
            .await
            .unwrap()
            .expose(),
        TOKEN
    );
    assert_eq!(other.stats().decrypt_calls, 1);

    // An empty secret and a non-ASCII one survive too.
    for text in ["", "pin-123456-ünïcødé"] {
        let sealed = vault.seal(&acme(), PIN, &Secret::new(text)).await.unwrap();
        assert_eq!(
            vault.open(&acme(), PIN, &sealed).await.unwrap().expose(),
            text
        );
    }
}

#[tokio::test]
async fn an_alias_names_the_key() {
    let f = Fixture::new().await;
    let alias = format!(
        "alias/switchboard-vault-test-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    f.kms
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&f.key_arn)
        .send()
        .await
        .expect("CreateAlias");
    let vault = TokenVault::new(f.kms.clone(), alias, CacheLimits::disabled());
    let sealed = vault.seal(&acme(), BUSINESS, &token()).await.unwrap();
    assert_eq!(sealed.key_id, f.key_arn, "KMS reports the key's ARN");
    assert_eq!(
        vault
            .open(&acme(), BUSINESS, &sealed)
            .await
            .unwrap()
            .expose(),
        TOKEN
    );
}

fn assert_wrong_context(result: Result<Secret, VaultError>) {
    match result {
        Err(VaultError::WrongContext) => {}
        Err(other) => panic!("expected WrongContext, got {other:?}"),
        Ok(_) => panic!("opened under the wrong context"),
    }
}

#[tokio::test]
async fn wrong_tenant_or_purpose_fails_on_a_fresh_vault() {
    let f = Fixture::new().await;
    let sealed = f
        .vault(CacheLimits::default())
        .seal(&acme(), BUSINESS, &token())
        .await
        .unwrap();

    let fresh = f.vault(CacheLimits::default());
    assert_wrong_context(fresh.open(&globex(), BUSINESS, &sealed).await);
    assert_wrong_context(fresh.open(&acme(), PIN, &sealed).await);
    assert_wrong_context(fresh.open(&globex(), PIN, &sealed).await);
    // KMS was asked each time and refused.
    assert_eq!(fresh.stats().decrypt_calls, 3);
    assert_eq!(fresh.stats().open_cache_hits, 0);
    // The refusals left nothing behind that would open it for the right tenant without KMS.
    assert_eq!(
        fresh
            .open(&acme(), BUSINESS, &sealed)
            .await
            .unwrap()
            .expose(),
        TOKEN
    );
    assert_eq!(fresh.stats().decrypt_calls, 4);
}

#[tokio::test]
async fn wrong_tenant_or_purpose_fails_on_a_warmed_vault() {
    let f = Fixture::new().await;
    let vault = f.vault(CacheLimits::default());
    let sealed = vault.seal(&acme(), BUSINESS, &token()).await.unwrap();
    assert_eq!(
        vault
            .open(&acme(), BUSINESS, &sealed)
            .await
            .unwrap()
            .expose(),
        TOKEN
    );
    assert_eq!(
        vault
            .open(&acme(), BUSINESS, &sealed)
            .await
            .unwrap()
            .expose(),
        TOKEN
    );
    let warm = vault.stats();
    assert_eq!(warm.decrypt_calls, 1);
    assert_eq!(warm.open_cache_hits, 1);

    // The cached data key is keyed by its context: another context misses and KMS refuses.
    assert_wrong_context(vault.open(&globex(), BUSINESS, &sealed).await);
    assert_wrong_context(vault.open(&acme(), PIN, &sealed).await);
    let after = vault.stats();
    assert_eq!(after.decrypt_calls, 3);
    assert_eq!(after.open_cache_hits, 1);

    // Sealing for another tenant or purpose never reuses acme's cached data key.
    let for_globex = vault.seal(&globex(), BUSINESS, &token()).await.unwrap();
    let for_pin = vault.seal(&acme(), PIN, &token()).await.unwrap();
    assert_ne!(for_globex.encrypted_data_key, sealed.encrypted_data_key);
    assert_ne!(for_pin.encrypted_data_key, sealed.encrypted_data_key);
    assert_eq!(vault.stats().generate_data_key_calls, 3);
    assert_wrong_context(vault.open(&acme(), BUSINESS, &for_globex).await);

    // A token sealed for globex, with acme's (cached) data key spliced in, does not open
    // as globex's: the cache key names acme, so KMS is asked under globex's context.
    let mut spliced = for_globex.clone();
    spliced.encrypted_data_key = sealed.encrypted_data_key.clone();
    assert_wrong_context(vault.open(&globex(), BUSINESS, &spliced).await);
}

#[tokio::test]
async fn a_tampered_sealed_secret_does_not_open() {
    let f = Fixture::new().await;
    let vault = f.vault(CacheLimits::default());
    let sealed = vault.seal(&acme(), BUSINESS, &token()).await.unwrap();

    let mut ciphertext = sealed.clone();
    ciphertext.ciphertext[3] ^= 0x20;
    let mut tag = sealed.clone();
    let last = tag.ciphertext.len() - 1;
    tag.ciphertext[last] ^= 0x01;
    let mut nonce = sealed.clone();
    nonce.nonce[0] ^= 0x01;
    let mut short_nonce = sealed.clone();
    short_nonce.nonce.pop();
    let mut truncated = sealed.clone();
    truncated.ciphertext.truncate(10);

    // On a fresh vault (KMS opens the data key, AES-GCM refuses) and then on a warm one.
    for warm in [false, true] {
        if warm {
            vault.open(&acme(), BUSINESS, &sealed).await.unwrap();
        }
        for bad in [&ciphertext, &tag, &nonce, &short_nonce, &truncated] {
            match vault.open(&acme(), BUSINESS, bad).await {
                Err(VaultError::Tampered) => {}
                Err(other) => panic!("expected Tampered, got {other:?}"),
                Ok(_) => panic!("a tampered secret opened"),
            }
        }
    }

    let mut data_key = sealed.clone();
    data_key.encrypted_data_key[20] ^= 0x01;
    assert!(matches!(
        vault.open(&acme(), BUSINESS, &data_key).await,
        Err(VaultError::WrongContext | VaultError::Kms { .. })
    ));

    let mut version = sealed.clone();
    version.version = 9;
    assert!(matches!(
        vault.open(&acme(), BUSINESS, &version).await,
        Err(VaultError::UnsupportedVersion(9))
    ));

    // A vault with another KMS key does not open it, even for the right tenant.
    let other = TokenVault::new(
        f.kms.clone(),
        create_key(&f.kms).await,
        CacheLimits::default(),
    );
    match other.open(&acme(), BUSINESS, &sealed).await {
        Err(VaultError::WrongKey | VaultError::Kms { .. }) => {}
        Err(e) => panic!("expected a key mismatch, got {e:?}"),
        Ok(_) => panic!("opened with another vault's key"),
    }
}

#[tokio::test]
async fn the_cache_saves_kms_calls_until_max_age() {
    let f = Fixture::new().await;
    let limits = CacheLimits {
        max_age: Duration::from_secs(60),
        ..CacheLimits::default()
    };
    let vault = f.vault(limits);
    let mut sealed = Vec::new();
    for _ in 0..10 {
        sealed.push(vault.seal(&acme(), BUSINESS, &token()).await.unwrap());
    }
    for s in &sealed {
        assert_eq!(
            vault.open(&acme(), BUSINESS, s).await.unwrap().expose(),
            TOKEN
        );
    }
    let stats = vault.stats();
    assert_eq!(stats.generate_data_key_calls, 1);
    assert_eq!(stats.seal_cache_hits, 9);
    assert_eq!(stats.decrypt_calls, 1, "one data key, decrypted once");
    assert_eq!(stats.open_cache_hits, 9);

    f.advance(Duration::from_secs(59));
    vault.seal(&acme(), BUSINESS, &token()).await.unwrap();
    vault.open(&acme(), BUSINESS, &sealed[0]).await.unwrap();
    assert_eq!(vault.stats().generate_data_key_calls, 1);
    assert_eq!(vault.stats().decrypt_calls, 1);

    f.advance(Duration::from_secs(1));
    let fresh = vault.seal(&acme(), BUSINESS, &token()).await.unwrap();
    assert_ne!(fresh.encrypted_data_key, sealed[0].encrypted_data_key);
    vault.open(&acme(), BUSINESS, &sealed[0]).await.unwrap();
    assert_eq!(vault.stats().generate_data_key_calls, 2);
    assert_eq!(vault.stats().decrypt_calls, 2);

    vault.clear_cache();
    vault.open(&acme(), BUSINESS, &sealed[0]).await.unwrap();
    assert_eq!(vault.stats().decrypt_calls, 3);
}

#[tokio::test]
async fn a_sealing_key_is_retired_after_max_uses() {
    let f = Fixture::new().await;
    let vault = f.vault(CacheLimits {
        max_uses: 3,
        ..CacheLimits::default()
    });
    let mut keys = Vec::new();
    for _ in 0..7 {
        keys.push(
            vault
                .seal(&acme(), BUSINESS, &token())
                .await
                .unwrap()
                .encrypted_data_key,
        );
    }
    assert_eq!(vault.stats().generate_data_key_calls, 3);
    assert_eq!(keys[0], keys[2]);
    assert_ne!(keys[2], keys[3]);
    assert_eq!(keys[3], keys[5]);
    assert_ne!(keys[5], keys[6]);
}

#[tokio::test]
async fn the_open_cache_holds_at_most_max_entries() {
    let f = Fixture::new().await;
    let sealer = f.vault(CacheLimits::disabled());
    let tenants: Vec<TenantId> = (0..3).map(|i| TenantId::new(format!("t{i}"))).collect();
    let mut sealed = Vec::new();
    for t in &tenants {
        sealed.push(sealer.seal(t, BUSINESS, &token()).await.unwrap());
    }

    let vault = f.vault(CacheLimits {
        max_entries: 2,
        ..CacheLimits::default()
    });
    for (t, s) in tenants.iter().zip(&sealed) {
        vault.open(t, BUSINESS, s).await.unwrap();
    }
    assert_eq!(vault.stats().decrypt_calls, 3);
    // t0's key was the oldest and went out when t2's came in; t1's and t2's are still there.
    vault.open(&tenants[2], BUSINESS, &sealed[2]).await.unwrap();
    vault.open(&tenants[1], BUSINESS, &sealed[1]).await.unwrap();
    assert_eq!(vault.stats().decrypt_calls, 3);
    assert_eq!(vault.stats().open_cache_hits, 2);
    vault.open(&tenants[0], BUSINESS, &sealed[0]).await.unwrap();
    assert_eq!(vault.stats().decrypt_calls, 4);
}

#[tokio::test]
async fn a_disabled_cache_calls_kms_every_time() {
    let f = Fixture::new().await;
    let vault = f.vault(CacheLimits::disabled());
    let mut sealed = Vec::new();
    for _ in 0..3 {
        sealed.push(vault.seal(&acme(), BUSINESS, &token()).await.unwrap());
    }
    for s in sealed.iter().chain(&sealed) {
        assert_eq!(
            vault.open(&acme(), BUSINESS, s).await.unwrap().expose(),
            TOKEN
        );
    }
    let stats = vault.stats();
    assert_eq!(stats.generate_data_key_calls, 3);
    assert_eq!(stats.decrypt_calls, 6);
    assert_eq!(stats.seal_cache_hits + stats.open_cache_hits, 0);
    assert_ne!(sealed[0].encrypted_data_key, sealed[1].encrypted_data_key);
}

#[tokio::test]
async fn the_stored_form_shows_no_plaintext() {
    let f = Fixture::new().await;
    let vault = f.vault(CacheLimits::default());
    let sealed = vault.seal(&acme(), BUSINESS, &token()).await.unwrap();
    let json = serde_json::to_string(&sealed).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for field in [
        "version",
        "key_id",
        "encrypted_data_key",
        "nonce",
        "ciphertext",
    ] {
        assert!(value.get(field).is_some(), "{field} missing from {json}");
    }
    let needles = [
        TOKEN.to_owned(),
        "very-secret".to_owned(),
        STANDARD.encode(TOKEN),
        STANDARD.encode(&TOKEN.as_bytes()[1..]),
        STANDARD.encode(&TOKEN.as_bytes()[2..]),
    ];
    for text in [json.clone(), format!("{sealed:?}"), format!("{vault:?}")] {
        for needle in &needles {
            assert!(!text.contains(needle.as_str()), "{needle} in {text}");
        }
    }
    // Base64 decodes back to the bytes, none of which is the token.
    let ciphertext = STANDARD
        .decode(value["ciphertext"].as_str().unwrap())
        .unwrap();
    assert_eq!(ciphertext, sealed.ciphertext);
    assert!(
        !ciphertext
            .windows(8)
            .any(|w| TOKEN.as_bytes().windows(8).any(|t| t == w))
    );

    // Errors name no plaintext either.
    let err = vault.open(&globex(), BUSINESS, &sealed).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("very-secret"));
}
