//! The media Meta holds for the sandbox's numbers: files a customer sent (added by tests through
//! `POST /sandbox/media`) and files the business uploaded (`POST /{version}/{phone_number_id}/media`),
//! with the short-lived download URLs handed out for them.
//!
//! Content is either bytes given by the caller or generated: `size` bytes that open with the
//! magic bytes of the mime type and go on with a pseudo-random stream seeded by the media id.
//! Generated content is produced 64 KiB at a time, so a 60 MB video never sits in memory; its
//! SHA-256 is computed once, at creation, by generating it.

use crate::state::SandboxState;
use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// How much content one step of a download (or of hashing) produces.
pub const MEDIA_CHUNK_SIZE: usize = 64 * 1024;
/// Meta's media URLs are valid for five minutes.
pub const DEFAULT_MEDIA_URL_TTL: Duration = Duration::from_secs(300);

const MB: u64 = 1024 * 1024;
const KB: u64 = 1024;

/// What kind of message a media file can travel in; decides Meta's size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

/// The mime types Meta accepts on the media upload endpoint, with their kind.
pub const SUPPORTED_UPLOAD_TYPES: &[(&str, MediaKind)] = &[
    ("image/jpeg", MediaKind::Image),
    ("image/png", MediaKind::Image),
    ("video/mp4", MediaKind::Video),
    ("video/3gpp", MediaKind::Video),
    ("audio/aac", MediaKind::Audio),
    ("audio/amr", MediaKind::Audio),
    ("audio/mpeg", MediaKind::Audio),
    ("audio/mp4", MediaKind::Audio),
    ("audio/ogg", MediaKind::Audio),
    ("text/plain", MediaKind::Document),
    ("application/pdf", MediaKind::Document),
    ("application/vnd.ms-powerpoint", MediaKind::Document),
    ("application/msword", MediaKind::Document),
    ("application/vnd.ms-excel", MediaKind::Document),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        MediaKind::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        MediaKind::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        MediaKind::Document,
    ),
    ("image/webp", MediaKind::Sticker),
];

/// The largest upload Meta accepts of any type (documents).
pub const MAX_UPLOAD_SIZE: u64 = 100 * MB;

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// The kind of a mime type Meta accepts for upload; `None` for any other.
    pub fn of_upload_mime(mime_type: &str) -> Option<Self> {
        let base = base_mime(mime_type);
        SUPPORTED_UPLOAD_TYPES
            .iter()
            .find(|(mime, _)| *mime == base)
            .map(|(_, kind)| *kind)
    }

    /// A best guess for any mime type, for listing: the upload kind, else by the top-level type.
    pub fn guess(mime_type: &str) -> Self {
        if let Some(kind) = Self::of_upload_mime(mime_type) {
            return kind;
        }
        let base = base_mime(mime_type);
        if base.starts_with("image/") {
            MediaKind::Image
        } else if base.starts_with("video/") {
            MediaKind::Video
        } else if base.starts_with("audio/") {
            MediaKind::Audio
        } else {
            MediaKind::Document
        }
    }

    /// Meta's upload limit in bytes (MB = 1024 * 1024).
    pub fn upload_limit(self) -> u64 {
        match self {
            MediaKind::Image => 5 * MB,
            MediaKind::Video | MediaKind::Audio => 16 * MB,
            MediaKind::Document => 100 * MB,
            MediaKind::Sticker => 500 * KB,
        }
    }
}

/// `audio/ogg; codecs=opus` → `audio/ogg`, lowercased.
pub fn base_mime(mime_type: &str) -> String {
    mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The first bytes of a generated file, so that content sniffing sees the type it claims.
fn magic_bytes(mime_type: &str, size: u64) -> Vec<u8> {
    match base_mime(mime_type).as_str() {
        "image/jpeg" => vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00,
            0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        ],
        "image/png" => vec![
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, b'I', b'H',
            b'D', b'R',
        ],
        "image/webp" => {
            let riff_len = u32::try_from(size.saturating_sub(8)).unwrap_or(u32::MAX);
            let mut magic = b"RIFF".to_vec();
            magic.extend_from_slice(&riff_len.to_le_bytes());
            magic.extend_from_slice(b"WEBPVP8 ");
            magic
        }
        "application/pdf" => b"%PDF-1.7\n".to_vec(),
        "audio/ogg" => vec![b'O', b'g', b'g', b'S', 0x00, 0x02],
        "video/mp4" | "audio/mp4" => {
            let mut magic = vec![0x00, 0x00, 0x00, 0x18];
            magic.extend_from_slice(b"ftypisom");
            magic.extend_from_slice(&[0x00, 0x00, 0x02, 0x00]);
            magic.extend_from_slice(b"isomiso2");
            magic
        }
        "video/3gpp" => {
            let mut magic = vec![0x00, 0x00, 0x00, 0x14];
            magic.extend_from_slice(b"ftyp3gp4");
            magic.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]);
            magic.extend_from_slice(b"3gp4");
            magic
        }
        "audio/mpeg" => vec![b'I', b'D', b'3', 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00],
        _ => vec![0x00; 16],
    }
}

/// SplitMix64: cheap, deterministic, good enough to make content that does not compress.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn seeded_by(id: &str) -> Self {
        // FNV-1a of the id.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in id.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Self(hash)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for segment in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            segment.copy_from_slice(&word[..segment.len()]);
        }
    }
}

/// A file's content: bytes as given, or `size` generated bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaContent {
    Bytes(Bytes),
    Generated { size: u64 },
}

impl MediaContent {
    pub fn size(&self) -> u64 {
        match self {
            MediaContent::Bytes(bytes) => bytes.len() as u64,
            MediaContent::Generated { size } => *size,
        }
    }
}

/// One media object as Meta keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaEntry {
    pub id: String,
    /// The business number that owns it.
    pub phone_number_id: String,
    pub mime_type: String,
    pub filename: Option<String>,
    pub content: MediaContent,
    /// SHA-256 of the true content (what Meta's webhooks and `GET /{media_id}` report).
    pub sha256: [u8; 32],
    /// Downloads serve content that differs from `sha256`.
    pub corrupt: bool,
    pub deleted: bool,
    pub uploaded_by_business: bool,
}

impl MediaEntry {
    pub fn file_size(&self) -> u64 {
        self.content.size()
    }

    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// Standard base64 with padding, as Meta's webhooks carry it.
    pub fn sha256_base64(&self) -> String {
        STANDARD.encode(self.sha256)
    }

    /// The kind a listing reports.
    pub fn kind(&self) -> MediaKind {
        MediaKind::guess(&self.mime_type)
    }

    /// How many bytes a download serves: the file size, or one byte for a corrupt empty file.
    pub fn served_size(&self) -> u64 {
        if self.corrupt && self.file_size() == 0 {
            1
        } else {
            self.file_size()
        }
    }

    /// The bytes a download serves, chunk by chunk; a corrupt file has its last byte inverted.
    pub fn served_chunks(&self) -> ContentChunks {
        let size = self.file_size();
        let mut chunks = ContentChunks::new(&self.content, &self.mime_type, &self.id);
        if self.corrupt {
            if size == 0 {
                chunks.extra_byte = true;
            } else {
                chunks.flip_at = Some(size - 1);
            }
        }
        chunks
    }
}

/// Content, 64 KiB at a time.
#[derive(Debug, Clone)]
pub struct ContentChunks {
    source: ChunkSource,
    size: u64,
    position: u64,
    flip_at: Option<u64>,
    extra_byte: bool,
}

#[derive(Debug, Clone)]
enum ChunkSource {
    Bytes(Bytes),
    Generated { magic: Vec<u8>, rng: SplitMix64 },
}

impl ContentChunks {
    /// The true content of `content` for media `id` of type `mime_type`.
    pub fn new(content: &MediaContent, mime_type: &str, id: &str) -> Self {
        let source = match content {
            MediaContent::Bytes(bytes) => ChunkSource::Bytes(bytes.clone()),
            MediaContent::Generated { size } => ChunkSource::Generated {
                magic: magic_bytes(mime_type, *size),
                rng: SplitMix64::seeded_by(id),
            },
        };
        Self {
            source,
            size: content.size(),
            position: 0,
            flip_at: None,
            extra_byte: false,
        }
    }
}

impl Iterator for ContentChunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.position >= self.size {
            if self.extra_byte {
                self.extra_byte = false;
                return Some(Bytes::from_static(&[0x00]));
            }
            return None;
        }
        let start = self.position;
        let remaining = self.size - start;
        let len =
            usize::try_from(remaining.min(MEDIA_CHUNK_SIZE as u64)).unwrap_or(MEDIA_CHUNK_SIZE);
        let mut chunk = match &mut self.source {
            ChunkSource::Bytes(bytes) => {
                let from = usize::try_from(start).unwrap_or(usize::MAX);
                bytes.slice(from..from + len)
            }
            ChunkSource::Generated { magic, rng } => {
                let mut buf = vec![0u8; len];
                rng.fill(&mut buf);
                if let Ok(from) = usize::try_from(start)
                    && from < magic.len()
                {
                    let end = magic.len().min(from + len);
                    buf[..end - from].copy_from_slice(&magic[from..end]);
                }
                Bytes::from(buf)
            }
        };
        if let Some(flip) = self.flip_at
            && (start..start + len as u64).contains(&flip)
        {
            let mut altered = chunk.to_vec();
            let at = usize::try_from(flip - start).unwrap_or_default();
            altered[at] ^= 0xFF;
            chunk = Bytes::from(altered);
        }
        self.position += len as u64;
        Some(chunk)
    }
}

/// SHA-256 of the true content, by generating it when generated.
pub fn content_sha256(content: &MediaContent, mime_type: &str, id: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for chunk in ContentChunks::new(content, mime_type, id) {
        hasher.update(&chunk);
    }
    hasher.finalize().into()
}

/// What to add to the library, as `POST /sandbox/media` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMedia {
    pub mime_type: String,
    pub content: NewMediaContent,
    pub filename: Option<String>,
    pub corrupt: bool,
    /// The owning number; defaults to the configured one.
    pub phone_number_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewMediaContent {
    Bytes(Vec<u8>),
    /// `size` bytes starting with the mime type's magic bytes.
    Generated {
        size: u64,
    },
}

impl NewMedia {
    pub fn bytes(mime_type: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            mime_type: mime_type.into(),
            content: NewMediaContent::Bytes(bytes.into()),
            filename: None,
            corrupt: false,
            phone_number_id: None,
        }
    }

    pub fn generated(mime_type: impl Into<String>, size: u64) -> Self {
        Self {
            mime_type: mime_type.into(),
            content: NewMediaContent::Generated { size },
            filename: None,
            corrupt: false,
            phone_number_id: None,
        }
    }

    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    pub fn corrupt(mut self) -> Self {
        self.corrupt = true;
        self
    }

    pub fn owned_by(mut self, phone_number_id: impl Into<String>) -> Self {
        self.phone_number_id = Some(phone_number_id.into());
        self
    }
}

/// The answer of `POST /sandbox/media`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedMedia {
    pub id: String,
    /// Base64 of the SHA-256, as Meta's webhooks carry it.
    pub sha256: String,
    pub sha256_hex: String,
    pub file_size: u64,
    pub mime_type: String,
}

/// One entry of `GET /sandbox/uploads`: a file the business uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedMedia {
    pub id: String,
    pub phone_number_id: String,
    pub mime_type: String,
    pub filename: Option<String>,
    pub file_size: u64,
    pub sha256_hex: String,
    /// `image`, `video`, `audio`, `document` or `sticker`.
    #[serde(rename = "type")]
    pub kind: MediaKind,
}

/// `GET /sandbox/media-requests`: successful URL look-ups and downloads per media id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRequests {
    pub url_requests: BTreeMap<String, u64>,
    pub downloads: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
struct UrlGrant {
    media_id: String,
    expires_at: Instant,
}

/// Every media object, URL and counter. Lives behind a mutex in [`SandboxState`].
#[derive(Debug)]
pub struct MediaLibrary {
    entries: HashMap<String, MediaEntry>,
    /// Ids in creation order.
    order: Vec<String>,
    issued_ids: HashSet<String>,
    urls: HashMap<String, UrlGrant>,
    url_ttl: Duration,
    /// How many of the next URLs are issued already expired, as when the business's download
    /// comes after the URL's few minutes.
    expire_next_urls: u32,
    /// How many of the next downloads break off halfway, as a dropped connection does.
    interrupt_next_downloads: u32,
    requests: MediaRequests,
}

impl Default for MediaLibrary {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            order: Vec::new(),
            issued_ids: HashSet::new(),
            urls: HashMap::new(),
            url_ttl: DEFAULT_MEDIA_URL_TTL,
            expire_next_urls: 0,
            interrupt_next_downloads: 0,
            requests: MediaRequests::default(),
        }
    }
}

impl MediaLibrary {
    /// A fresh 15- or 16-digit id, never handed out before.
    pub fn new_id(&mut self) -> String {
        let mut rng = rand::rng();
        loop {
            let id = rng
                .random_range(100_000_000_000_000u64..10_000_000_000_000_000u64)
                .to_string();
            if self.issued_ids.insert(id.clone()) {
                return id;
            }
        }
    }

    pub fn insert(&mut self, entry: MediaEntry) {
        self.issued_ids.insert(entry.id.clone());
        if !self.entries.contains_key(&entry.id) {
            self.order.push(entry.id.clone());
        }
        self.entries.insert(entry.id.clone(), entry);
    }

    /// Any media the library holds, deleted or not.
    pub fn get(&self, id: &str) -> Option<&MediaEntry> {
        self.entries.get(id)
    }

    pub fn knows(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    /// Marks media deleted and drops its URLs; `false` when unknown or already deleted.
    pub fn delete(&mut self, id: &str) -> bool {
        let Some(entry) = self.entries.get_mut(id).filter(|e| !e.deleted) else {
            return false;
        };
        entry.deleted = true;
        self.urls.retain(|_, grant| grant.media_id != id);
        true
    }

    /// Makes every URL issued so far for the media answer as expired; `false` when unknown.
    pub fn expire_urls(&mut self, id: &str) -> bool {
        if !self.knows(id) {
            return false;
        }
        self.urls.retain(|_, grant| grant.media_id != id);
        true
    }

    pub fn url_ttl(&self) -> Duration {
        self.url_ttl
    }

    pub fn set_url_ttl(&mut self, ttl: Duration) {
        self.url_ttl = ttl;
    }

    pub fn expire_next_urls(&self) -> u32 {
        self.expire_next_urls
    }

    pub fn set_expire_next_urls(&mut self, count: u32) {
        self.expire_next_urls = count;
    }

    pub fn interrupt_next_downloads(&self) -> u32 {
        self.interrupt_next_downloads
    }

    pub fn set_interrupt_next_downloads(&mut self, count: u32) {
        self.interrupt_next_downloads = count;
    }

    /// Whether the download starting now is one to break off (and counts it as such).
    pub fn take_interrupted_download(&mut self) -> bool {
        let interrupt = self.interrupt_next_downloads > 0;
        self.interrupt_next_downloads = self.interrupt_next_downloads.saturating_sub(1);
        interrupt
    }

    /// Issues a download token for live media and counts the look-up.
    pub fn issue_url(&mut self, media_id: &str, now: Instant) -> Option<String> {
        if self.entries.get(media_id).is_none_or(|e| e.deleted) {
            return None;
        }
        self.urls.retain(|_, grant| grant.expires_at > now);
        let token = hex::encode(rand::random::<[u8; 24]>());
        let expires_at = if self.expire_next_urls > 0 {
            self.expire_next_urls -= 1;
            now
        } else {
            now + self.url_ttl
        };
        self.urls.insert(
            token.clone(),
            UrlGrant {
                media_id: media_id.to_owned(),
                expires_at,
            },
        );
        *self
            .requests
            .url_requests
            .entry(media_id.to_owned())
            .or_default() += 1;
        Some(token)
    }

    /// The live media an unexpired token is for.
    pub fn media_for_token(&self, token: &str, now: Instant) -> Option<&MediaEntry> {
        let grant = self.urls.get(token).filter(|g| g.expires_at > now)?;
        self.entries.get(&grant.media_id).filter(|e| !e.deleted)
    }

    pub fn count_download(&mut self, media_id: &str) {
        *self
            .requests
            .downloads
            .entry(media_id.to_owned())
            .or_default() += 1;
    }

    pub fn requests(&self) -> MediaRequests {
        self.requests.clone()
    }

    /// What the business uploaded, in upload order.
    pub fn uploads(&self) -> Vec<UploadedMedia> {
        self.order
            .iter()
            .filter_map(|id| self.entries.get(id))
            .filter(|e| e.uploaded_by_business)
            .map(|e| UploadedMedia {
                id: e.id.clone(),
                phone_number_id: e.phone_number_id.clone(),
                mime_type: e.mime_type.clone(),
                filename: e.filename.clone(),
                file_size: e.file_size(),
                sha256_hex: e.sha256_hex(),
                kind: e.kind(),
            })
            .collect()
    }
}

impl SandboxState {
    /// Adds media as `POST /sandbox/media` does. Generated content is hashed here, by generating
    /// it: call from blocking code (or `spawn_blocking`) for large sizes.
    pub fn add_media(&self, media: NewMedia) -> AddedMedia {
        let id = self.media().new_id();
        let content = match media.content {
            NewMediaContent::Bytes(bytes) => MediaContent::Bytes(Bytes::from(bytes)),
            NewMediaContent::Generated { size } => MediaContent::Generated { size },
        };
        let sha256 = content_sha256(&content, &media.mime_type, &id);
        let entry = MediaEntry {
            id: id.clone(),
            phone_number_id: media
                .phone_number_id
                .unwrap_or_else(|| self.config().phone_number_id.clone()),
            mime_type: media.mime_type,
            filename: media.filename,
            content,
            sha256,
            corrupt: media.corrupt,
            deleted: false,
            uploaded_by_business: false,
        };
        let added = AddedMedia {
            id,
            sha256: entry.sha256_base64(),
            sha256_hex: entry.sha256_hex(),
            file_size: entry.file_size(),
            mime_type: entry.mime_type.clone(),
        };
        self.media().insert(entry);
        added
    }

    /// Stores a file the business uploaded and returns its new id.
    pub(crate) fn store_upload(
        &self,
        phone_number_id: &str,
        mime_type: &str,
        filename: Option<String>,
        bytes: Bytes,
        sha256: [u8; 32],
    ) -> String {
        let mut library = self.media();
        let id = library.new_id();
        library.insert(MediaEntry {
            id: id.clone(),
            phone_number_id: phone_number_id.to_owned(),
            mime_type: mime_type.to_owned(),
            filename,
            content: MediaContent::Bytes(bytes),
            sha256,
            corrupt: false,
            deleted: false,
            uploaded_by_business: true,
        });
        id
    }

    /// A copy of a media entry, deleted or not.
    pub fn media_entry(&self, id: &str) -> Option<MediaEntry> {
        self.media().get(id).cloned()
    }

    pub fn uploads(&self) -> Vec<UploadedMedia> {
        self.media().uploads()
    }

    pub fn media_requests(&self) -> MediaRequests {
        self.media().requests()
    }

    /// Meta deletes the media: look-ups answer code 100, downloads 404. `false` when unknown.
    pub fn delete_media(&self, id: &str) -> bool {
        self.media().delete(id)
    }

    /// Every URL issued so far for the media answers as expired. `false` when unknown.
    pub fn expire_media_urls(&self, id: &str) -> bool {
        self.media().expire_urls(id)
    }

    pub fn set_media_url_ttl(&self, ttl: Duration) {
        self.media().set_url_ttl(ttl);
    }

    pub fn media_url_ttl(&self) -> Duration {
        self.media().url_ttl()
    }

    pub fn set_media_expire_next_urls(&self, count: u32) {
        self.media().set_expire_next_urls(count);
    }

    pub fn media_expire_next_urls(&self) -> u32 {
        self.media().expire_next_urls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_bytes(chunks: ContentChunks) -> Vec<u8> {
        chunks.flat_map(|c| c.to_vec()).collect()
    }

    fn generated(id: &str, mime: &str, size: u64) -> MediaEntry {
        let content = MediaContent::Generated { size };
        MediaEntry {
            id: id.into(),
            phone_number_id: "1".into(),
            mime_type: mime.into(),
            filename: None,
            sha256: content_sha256(&content, mime, id),
            content,
            corrupt: false,
            deleted: false,
            uploaded_by_business: false,
        }
    }

    #[test]
    fn generated_content_opens_with_the_types_magic_bytes() {
        let cases: &[(&str, &[u8])] = &[
            ("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            (
                "image/png",
                &[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
            ),
            ("application/pdf", b"%PDF-1.7\n"),
            ("audio/ogg; codecs=opus", b"OggS"),
            (
                "video/mp4",
                &[
                    0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm',
                ],
            ),
            ("audio/mp4", &[0, 0, 0, 0x18, b'f', b't', b'y', b'p']),
            ("audio/mpeg", b"ID3"),
            ("application/zip", &[0; 16]),
        ];
        for (mime, magic) in cases {
            let bytes = all_bytes(generated("123456789012345", mime, 1000).served_chunks());
            assert_eq!(bytes.len(), 1000);
            assert!(bytes.starts_with(magic), "{mime}: {:02x?}", &bytes[..16]);
        }
        let webp = all_bytes(generated("123456789012345", "image/webp", 1000).served_chunks());
        assert_eq!(&webp[..4], b"RIFF");
        assert_eq!(&webp[4..8], &992u32.to_le_bytes());
        assert_eq!(&webp[8..12], b"WEBP");
    }

    #[test]
    fn generated_content_is_deterministic_per_id_and_hashes_to_its_sha256() {
        let size = 3 * MEDIA_CHUNK_SIZE as u64 + 17;
        let a = generated("111111111111111", "video/mp4", size);
        let chunks: Vec<Bytes> = a.served_chunks().collect();
        assert_eq!(chunks.len(), 4);
        assert!(chunks[..3].iter().all(|c| c.len() == MEDIA_CHUNK_SIZE));
        let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.to_vec()).collect();
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&bytes)), a.sha256);
        assert_eq!(bytes, all_bytes(a.served_chunks()));
        let b = generated("222222222222222", "video/mp4", size);
        assert_ne!(a.sha256, b.sha256);
        // Not all zeros past the magic bytes.
        assert!(bytes[64..].iter().filter(|b| **b == 0).count() < bytes.len() / 100);
    }

    #[test]
    fn corrupt_media_serves_other_bytes_of_the_same_length() {
        let mut entry = generated("333333333333333", "image/jpeg", 70_000);
        entry.corrupt = true;
        let served = all_bytes(entry.served_chunks());
        assert_eq!(served.len() as u64, entry.served_size());
        assert_ne!(<[u8; 32]>::from(Sha256::digest(&served)), entry.sha256);

        let content = MediaContent::Bytes(Bytes::from_static(b"hello"));
        let given = MediaEntry {
            content: content.clone(),
            sha256: content_sha256(&content, "text/plain", "x"),
            mime_type: "text/plain".into(),
            ..entry
        };
        assert_eq!(all_bytes(given.served_chunks()), b"hell\x90");
    }

    #[test]
    fn upload_limits_follow_metas_table() {
        assert_eq!(
            MediaKind::of_upload_mime("image/jpeg"),
            Some(MediaKind::Image)
        );
        assert_eq!(
            MediaKind::of_upload_mime("audio/ogg; codecs=opus"),
            Some(MediaKind::Audio)
        );
        assert_eq!(MediaKind::of_upload_mime("image/gif"), None);
        assert_eq!(MediaKind::Image.upload_limit(), 5 * 1024 * 1024);
        assert_eq!(MediaKind::Sticker.upload_limit(), 500 * 1024);
        assert_eq!(MediaKind::Document.upload_limit(), MAX_UPLOAD_SIZE);
    }

    #[test]
    fn ids_are_15_or_16_digits_and_unique_and_urls_expire() {
        let mut library = MediaLibrary::default();
        let ids: HashSet<String> = (0..500).map(|_| library.new_id()).collect();
        assert_eq!(ids.len(), 500);
        assert!(
            ids.iter()
                .all(|id| (15..=16).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()))
        );

        library.insert(generated("444444444444444", "image/png", 10));
        let now = Instant::now();
        library.set_url_ttl(Duration::from_secs(1));
        let token = library
            .issue_url("444444444444444", now)
            .expect("live media");
        assert!(library.media_for_token(&token, now).is_some());
        assert!(
            library
                .media_for_token(&token, now + Duration::from_secs(2))
                .is_none()
        );
        assert!(library.expire_urls("444444444444444"));
        assert!(library.media_for_token(&token, now).is_none());
        assert!(library.delete("444444444444444"));
        assert!(!library.delete("444444444444444"));
        assert!(library.issue_url("444444444444444", now).is_none());
        assert_eq!(library.requests().url_requests["444444444444444"], 1);
    }
}
