//! Media the Cloud API carries: the kinds, Meta's size limits and supported types, and a check
//! of a file's first bytes against what it claims to be.
//!
//! Pure: callers read the first [`SNIFF_BYTES`] of a file themselves and pass them to [`sniff`],
//! then hand the result to [`check_content`] with the declared type and size.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How many leading bytes [`sniff`] looks at; callers pass (at most) this many.
pub const SNIFF_BYTES: usize = 512;

const KB: u64 = 1024;
const MB: u64 = 1024 * 1024;

/// The media types of Meta's Cloud API messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    pub const ALL: [MediaKind; 5] = [
        MediaKind::Image,
        MediaKind::Video,
        MediaKind::Audio,
        MediaKind::Document,
        MediaKind::Sticker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown media kind `{0}`")]
pub struct UnknownMediaKind(pub String);

impl FromStr for MediaKind {
    type Err = UnknownMediaKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "image" => MediaKind::Image,
            "video" => MediaKind::Video,
            "audio" => MediaKind::Audio,
            "document" => MediaKind::Document,
            "sticker" => MediaKind::Sticker,
            other => return Err(UnknownMediaKind(other.to_owned())),
        })
    }
}

/// Meta's size limit for one file of `kind`, in bytes (MB = 1024 × 1024). `animated` only
/// matters for stickers: 100 KB static, 500 KB animated.
pub fn max_bytes(kind: MediaKind, animated: bool) -> u64 {
    match kind {
        MediaKind::Image => 5 * MB,
        MediaKind::Video | MediaKind::Audio => 16 * MB,
        MediaKind::Document => 100 * MB,
        MediaKind::Sticker if animated => 500 * KB,
        MediaKind::Sticker => 100 * KB,
    }
}

const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png"];
const VIDEO_TYPES: &[&str] = &["video/mp4", "video/3gpp"];
const AUDIO_TYPES: &[&str] = &[
    "audio/aac",
    "audio/amr",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
];
const DOCUMENT_TYPES: &[&str] = &[
    "text/plain",
    "application/pdf",
    "application/vnd.ms-powerpoint",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];
const STICKER_TYPES: &[&str] = &["image/webp"];

/// The MIME types Meta's "Supported Media Types" lists for `kind`, lowercase essences.
pub fn supported_mime_types(kind: MediaKind) -> &'static [&'static str] {
    match kind {
        MediaKind::Image => IMAGE_TYPES,
        MediaKind::Video => VIDEO_TYPES,
        MediaKind::Audio => AUDIO_TYPES,
        MediaKind::Document => DOCUMENT_TYPES,
        MediaKind::Sticker => STICKER_TYPES,
    }
}

/// The essence of a MIME type: what comes before any `;` parameter, trimmed and lowercased.
/// Meta sends voice notes as `audio/ogg; codecs=opus`, which is `audio/ogg`.
pub fn mime_essence(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether Meta supports `mime` (parameters ignored) for `kind`.
pub fn is_supported(kind: MediaKind, mime: &str) -> bool {
    let essence = mime_essence(mime);
    supported_mime_types(kind).contains(&essence.as_str())
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A recognised format, as a MIME type. Two are containers that stand for a family:
    /// [`OLE_COMPOUND`] (the legacy Word, Excel and PowerPoint formats) and [`ZIP`] (the Office
    /// Open XML formats). ISO media (`ftyp`) is named by its brand: `video/mp4`, `video/3gpp`
    /// or `audio/mp4`.
    Known(&'static str),
    /// Something a machine would run: never accepted whatever the declared type.
    Executable(&'static str),
    /// No signature we know.
    Unknown,
}

/// [`Sniffed::Known`] for an OLE compound file (`D0 CF 11 E0 A1 B1 1A E1`).
pub const OLE_COMPOUND: &str = "application/x-ole-storage";
/// [`Sniffed::Known`] for a zip archive (`PK\x03\x04`).
pub const ZIP: &str = "application/zip";

const LEGACY_OFFICE: &[&str] = &[
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
];
const OPEN_XML_OFFICE: &[&str] = &[
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];
const ISO_MEDIA: &[&str] = &["video/mp4", "video/3gpp", "audio/mp4"];

/// Reads the format from a file's first bytes (pass the first [`SNIFF_BYTES`]; fewer when the
/// file is shorter). Never panics, whatever the bytes.
pub fn sniff(prefix: &[u8]) -> Sniffed {
    let prefix = &prefix[..prefix.len().min(SNIFF_BYTES)];
    if let Some(what) = executable(prefix) {
        return Sniffed::Executable(what);
    }
    match known(prefix) {
        Some(mime) => Sniffed::Known(mime),
        None => Sniffed::Unknown,
    }
}

fn executable(p: &[u8]) -> Option<&'static str> {
    if p.starts_with(b"MZ") {
        return Some("Windows/DOS executable (MZ)");
    }
    if p.starts_with(b"\x7fELF") {
        return Some("ELF executable");
    }
    let head: Option<[u8; 4]> = p.get(..4).and_then(|h| h.try_into().ok());
    if let Some(head) = head {
        match head {
            [0xFE, 0xED, 0xFA, 0xCE | 0xCF] | [0xCE | 0xCF, 0xFA, 0xED, 0xFE] => {
                return Some("Mach-O executable");
            }
            [0xCA, 0xFE, 0xBA, 0xBF] => return Some("Mach-O fat binary"),
            [0xCA, 0xFE, 0xBA, 0xBE] => {
                // Shared by Mach-O fat binaries (a small architecture count follows) and Java
                // classes (minor and major version, major ≥ 45): both run.
                let next = p
                    .get(4..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes);
                return Some(match next {
                    Some(n) if n < 45 => "Mach-O fat binary",
                    _ => "Java class file",
                });
            }
            _ => {}
        }
    }
    if p.starts_with(b"#!") && !p.starts_with(b"#!AMR\n") && !p.starts_with(b"#!AMR-WB\n") {
        return Some("script (#!)");
    }
    if p.starts_with(b"dex\n") {
        return Some("Android DEX");
    }
    if p.starts_with(b"\0asm") {
        return Some("WebAssembly module");
    }
    None
}

fn known(p: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"OggS", "audio/ogg"),
        (b"ID3", "audio/mpeg"),
        (b"#!AMR-WB\n", "audio/amr-wb"),
        (b"#!AMR\n", "audio/amr"),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", OLE_COMPOUND),
        (b"PK\x03\x04", ZIP),
    ];
    if let Some((_, mime)) = SIGNATURES.iter().find(|(magic, _)| p.starts_with(magic)) {
        return Some(mime);
    }
    if p.len() >= 12 && p.starts_with(b"RIFF") && &p[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if p.get(4..8) == Some(b"ftyp") {
        return Some(iso_media(p));
    }
    if let [0xFF, second, third, ..] = *p {
        // ADTS: sync 0xFFF, then layer 00; the protection bit may be either.
        if second & 0xF6 == 0xF0 {
            return Some("audio/aac");
        }
        if is_mpeg_audio_frame(second, third) {
            return Some("audio/mpeg");
        }
    }
    if is_text(p) {
        return Some("text/plain");
    }
    None
}

/// The brand of an ISO base media `ftyp` box: the major brand, else the first compatible brand
/// we know; ISO media without a known brand is `video/mp4`.
fn iso_media(p: &[u8]) -> &'static str {
    let of_brand = |brand: &[u8]| -> Option<&'static str> {
        match brand {
            b"M4A " | b"M4B " | b"M4P " => Some("audio/mp4"),
            [b'3', b'g', ..] => Some("video/3gpp"),
            b"isom" | b"iso2" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1"
            | b"M4V " | b"dash" | b"MSNV" => Some("video/mp4"),
            _ => None,
        }
    };
    if let Some(mime) = p.get(8..12).and_then(of_brand) {
        return mime;
    }
    let box_len = p
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(p.len());
    // Compatible brands follow the major brand and the minor version, four bytes each.
    p.get(16..box_len.max(16))
        .into_iter()
        .flat_map(|brands| brands.chunks_exact(4))
        .find_map(of_brand)
        .unwrap_or("video/mp4")
}

/// An MPEG-1/2 audio frame header after the `0xFF` byte: sync bits, a version and layer that
/// exist, a bitrate index that is not "bad", a sample rate that is not reserved.
fn is_mpeg_audio_frame(second: u8, third: u8) -> bool {
    let sync = second & 0xE0 == 0xE0;
    let version = (second >> 3) & 0b11;
    let layer = (second >> 1) & 0b11;
    let bitrate = third >> 4;
    let rate = (third >> 2) & 0b11;
    sync && version != 0b01 && layer != 0 && bitrate != 0xF && rate != 0b11
}

/// Valid UTF-8 (a character cut by the end of the prefix is fine) with no NUL and no control
/// characters other than whitespace and escape.
fn is_text(p: &[u8]) -> bool {
    if p.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(p) {
        Ok(text) => text,
        // Cut inside the last character: check what comes before it.
        Err(e) if e.error_len().is_none() && p.len() - e.valid_up_to() < 4 => {
            match std::str::from_utf8(&p[..e.valid_up_to()]) {
                Ok(text) => text,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b'))
}

/// Whether content sniffed as `sniffed` may be sent as `declared` (an essence).
fn matches(declared: &str, sniffed: &str) -> bool {
    if declared == sniffed {
        return true;
    }
    match sniffed {
        OLE_COMPOUND => LEGACY_OFFICE.contains(&declared),
        ZIP => OPEN_XML_OFFICE.contains(&declared),
        // Phones record audio in mp4 with video brands (`isom`, `mp42`) and the other way
        // round: one container, the prefix cannot tell the tracks apart.
        _ if ISO_MEDIA.contains(&sniffed) => ISO_MEDIA.contains(&declared),
        _ => false,
    }
}

/// Why a file cannot be sent (or accepted) as the media it claims to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaRejection {
    #[error("the file is empty")]
    Empty,
    #[error("the content is an executable ({what})")]
    Executable { what: &'static str },
    #[error("`{mime}` is not a supported {kind} type")]
    UnsupportedType { kind: MediaKind, mime: String },
    #[error("{size} bytes is over the {max} byte limit for {kind}")]
    TooLarge {
        kind: MediaKind,
        size: u64,
        max: u64,
    },
    #[error("the content is {sniffed}, not the declared `{declared}`")]
    TypeMismatch {
        declared: String,
        sniffed: &'static str,
    },
}

impl MediaRejection {
    /// A stable code for APIs, metrics and audit records.
    pub fn reason_code(&self) -> &'static str {
        match self {
            MediaRejection::Empty => "empty",
            MediaRejection::Executable { .. } => "executable",
            MediaRejection::UnsupportedType { .. } => "unsupported_type",
            MediaRejection::TooLarge { .. } => "too_large",
            MediaRejection::TypeMismatch { .. } => "type_mismatch",
        }
    }
}

/// Checks a file against Meta's rules for `kind` and against its own first bytes.
///
/// In order: an empty file, executable content (whatever it claims), a declared type Meta does
/// not support for `kind`, a size over [`max_bytes`], then content whose signature is another
/// type than declared. Content without a known signature passes only as `text/plain` (text in
/// a legacy encoding is not UTF-8); every other supported type has a signature.
pub fn check_content(
    kind: MediaKind,
    declared_mime: &str,
    size: u64,
    animated: bool,
    sniffed: Sniffed,
) -> Result<(), MediaRejection> {
    if size == 0 {
        return Err(MediaRejection::Empty);
    }
    if let Sniffed::Executable(what) = sniffed {
        return Err(MediaRejection::Executable { what });
    }
    let declared = mime_essence(declared_mime);
    if !supported_mime_types(kind).contains(&declared.as_str()) {
        return Err(MediaRejection::UnsupportedType {
            kind,
            mime: declared,
        });
    }
    let max = max_bytes(kind, animated);
    if size > max {
        return Err(MediaRejection::TooLarge { kind, size, max });
    }
    match sniffed {
        Sniffed::Known(found) if matches(&declared, found) => Ok(()),
        Sniffed::Known(found) => Err(MediaRejection::TypeMismatch {
            declared,
            sniffed: found,
        }),
        Sniffed::Unknown if declared == "text/plain" => Ok(()),
        Sniffed::Unknown | Sniffed::Executable(_) => Err(MediaRejection::TypeMismatch {
            declared,
            sniffed: "unknown",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn known(p: &[u8]) -> &'static str {
        match sniff(p) {
            Sniffed::Known(mime) => mime,
            other => panic!("{p:?} sniffed as {other:?}"),
        }
    }

    fn ftyp(brand: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let len = 16 + 4 * compatible.len();
        let mut b = u32::try_from(len).unwrap().to_be_bytes().to_vec();
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(brand);
        b.extend_from_slice(&[0, 0, 2, 0]);
        for c in compatible {
            b.extend_from_slice(*c);
        }
        b.extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
        b
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in MediaKind::ALL {
            assert_eq!(kind.as_str().parse::<MediaKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
            assert_eq!(
                serde_json::from_str::<MediaKind>(&format!("\"{kind}\"")).unwrap(),
                kind
            );
        }
        assert_eq!(
            "Image".parse::<MediaKind>(),
            Err(UnknownMediaKind("Image".into()))
        );
        assert!(serde_json::from_str::<MediaKind>("\"gif\"").is_err());
    }

    #[test]
    fn limits_are_metas() {
        assert_eq!(max_bytes(MediaKind::Image, false), 5_242_880);
        assert_eq!(max_bytes(MediaKind::Video, false), 16_777_216);
        assert_eq!(max_bytes(MediaKind::Audio, true), 16_777_216);
        assert_eq!(max_bytes(MediaKind::Document, false), 104_857_600);
        assert_eq!(max_bytes(MediaKind::Sticker, false), 102_400);
        assert_eq!(max_bytes(MediaKind::Sticker, true), 512_000);
    }

    #[test]
    fn supported_types_compare_the_essence() {
        assert!(is_supported(MediaKind::Audio, "audio/ogg; codecs=opus"));
        assert!(is_supported(MediaKind::Image, " IMAGE/JPEG "));
        assert!(!is_supported(MediaKind::Image, "image/webp"));
        assert!(is_supported(MediaKind::Sticker, "image/webp"));
        assert!(!is_supported(MediaKind::Video, "video/quicktime"));
        assert_eq!(supported_mime_types(MediaKind::Document).len(), 8);
        assert_eq!(supported_mime_types(MediaKind::Audio).len(), 5);
    }

    #[test]
    fn sniffs_images_and_documents() {
        assert_eq!(known(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"), "image/jpeg");
        assert_eq!(known(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(known(b"RIFF\x24\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(known(b"GIF89a\x01\0\x01\0"), "image/gif");
        assert_eq!(known(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3"), "application/pdf");
        assert_eq!(
            known(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0"),
            OLE_COMPOUND
        );
        assert_eq!(known(b"PK\x03\x04\x14\0\x06\0"), ZIP);
        assert_eq!(
            known("Invoice №42\r\n\ttotal: 10 €\n".as_bytes()),
            "text/plain"
        );
        // A RIFF that is not WebP (a WAV) is not an image.
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), Sniffed::Unknown);
    }

    #[test]
    fn sniffs_audio_and_video() {
        assert_eq!(known(b"OggS\0\x02\0\0"), "audio/ogg");
        assert_eq!(known(b"ID3\x04\0\0\0\0\0\x23"), "audio/mpeg");
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz.
        assert_eq!(known(b"\xFF\xFB\x90\x64\0\0"), "audio/mpeg");
        assert_eq!(known(b"\xFF\xF1\x50\x80\x02\x1F\xFC"), "audio/aac");
        assert_eq!(known(b"\xFF\xF9\x50\x80\x02\x1F\xFC"), "audio/aac");
        assert_eq!(known(b"#!AMR\n\x3c\x48"), "audio/amr");
        assert_eq!(known(b"#!AMR-WB\n\x04"), "audio/amr-wb");
        assert_eq!(known(&ftyp(b"isom", &[b"isom", b"iso2"])), "video/mp4");
        assert_eq!(known(&ftyp(b"mp42", &[])), "video/mp4");
        assert_eq!(known(&ftyp(b"avc1", &[])), "video/mp4");
        assert_eq!(known(&ftyp(b"3gp5", &[b"3gp5", b"isom"])), "video/3gpp");
        assert_eq!(known(&ftyp(b"M4A ", &[b"M4A ", b"mp42"])), "audio/mp4");
        // An unknown major brand falls back to the compatible brands, then to mp4.
        assert_eq!(known(&ftyp(b"qzzz", &[b"3g2a"])), "video/3gpp");
        assert_eq!(known(&ftyp(b"qzzz", &[])), "video/mp4");
        // 0xFF 0xFF: sync bits, but a reserved version/layer.
        assert_eq!(sniff(b"\xFF\xE9\xFF\xFF"), Sniffed::Unknown);
    }

    #[test]
    fn sniffs_executables() {
        let exe = |p: &[u8]| matches!(sniff(p), Sniffed::Executable(_));
        assert!(exe(b"MZ\x90\0\x03\0\0\0\x04\0"));
        assert!(exe(b"\x7fELF\x02\x01\x01\0"));
        assert!(exe(b"\xCF\xFA\xED\xFE\x07\0\0\x01"));
        assert!(exe(b"\xFE\xED\xFA\xCE\0\0\0\x12"));
        assert!(exe(b"#!/bin/sh\nrm -rf /\n"));
        assert!(exe(b"dex\n035\0"));
        assert!(exe(b"\0asm\x01\0\0\0"));
        assert_eq!(
            sniff(b"\xCA\xFE\xBA\xBE\0\0\0\x02"),
            Sniffed::Executable("Mach-O fat binary")
        );
        assert_eq!(
            sniff(b"\xCA\xFE\xBA\xBE\0\0\0\x34"),
            Sniffed::Executable("Java class file")
        );
        assert_eq!(
            sniff(b"\xCA\xFE\xBA\xBF\0\0\0\x02"),
            Sniffed::Executable("Mach-O fat binary")
        );
        // AMR starts with "#!" too, and is no script.
        assert!(!exe(b"#!AMR\n"));
    }

    #[test]
    fn binary_is_not_text() {
        assert_eq!(sniff(b""), Sniffed::Unknown);
        assert_eq!(sniff(b"abc\0def"), Sniffed::Unknown);
        assert_eq!(sniff(b"\x01\x02\x03 hello"), Sniffed::Unknown);
        assert_eq!(sniff(b"caf\xE9 au lait"), Sniffed::Unknown, "Latin-1");
        // A prefix cut inside a multi-byte character is still text.
        let mut cut = "x".repeat(SNIFF_BYTES - 1).into_bytes();
        cut.extend_from_slice("€".as_bytes());
        assert_eq!(known(&cut[..SNIFF_BYTES]), "text/plain");
    }

    #[test]
    fn a_renamed_executable_is_refused() {
        let prefix = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF";
        let rejection = check_content(
            MediaKind::Document,
            "application/pdf",
            40_000,
            false,
            sniff(prefix),
        )
        .unwrap_err();
        assert_eq!(rejection.reason_code(), "executable");
        // Even under a type Meta does not take.
        let as_exe = check_content(
            MediaKind::Document,
            "application/x-msdownload",
            40_000,
            false,
            sniff(prefix),
        );
        assert_eq!(as_exe.unwrap_err().reason_code(), "executable");
    }

    #[test]
    fn checks_type_size_and_content() {
        let png = sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
        let webp = sniff(b"RIFF\x24\0\0\0WEBPVP8X");
        let code = |r: Result<(), MediaRejection>| r.err().map(|e| e.reason_code());

        assert_eq!(
            code(check_content(MediaKind::Image, "image/png", 1, false, png)),
            None
        );
        assert_eq!(
            code(check_content(MediaKind::Image, "image/png", 0, false, png)),
            Some("empty")
        );
        assert_eq!(
            code(check_content(
                MediaKind::Image,
                "image/png",
                5 * MB + 1,
                false,
                png
            )),
            Some("too_large")
        );
        assert_eq!(
            code(check_content(
                MediaKind::Image,
                "image/png",
                5 * MB,
                false,
                png
            )),
            None
        );
        assert_eq!(
            code(check_content(MediaKind::Image, "image/gif", 10, false, png)),
            Some("unsupported_type")
        );
        assert_eq!(
            code(check_content(
                MediaKind::Image,
                "image/jpeg",
                10,
                false,
                png
            )),
            Some("type_mismatch")
        );
        assert_eq!(
            code(check_content(
                MediaKind::Image,
                "image/jpeg",
                10,
                false,
                Sniffed::Unknown
            )),
            Some("type_mismatch")
        );
        // Stickers: the animated flag moves the limit.
        assert_eq!(
            code(check_content(
                MediaKind::Sticker,
                "image/webp",
                300 * KB,
                false,
                webp
            )),
            Some("too_large")
        );
        assert_eq!(
            code(check_content(
                MediaKind::Sticker,
                "image/webp",
                300 * KB,
                true,
                webp
            )),
            None
        );
        let err = check_content(MediaKind::Image, "image/jpeg", 10, false, png).unwrap_err();
        assert_eq!(
            err,
            MediaRejection::TypeMismatch {
                declared: "image/jpeg".into(),
                sniffed: "image/png"
            }
        );
    }

    #[test]
    fn families_match_their_containers() {
        let ole = sniff(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0");
        let zip = sniff(b"PK\x03\x04\x14\0");
        let ok = |mime, sniffed| check_content(MediaKind::Document, mime, 100, false, sniffed);
        for legacy in LEGACY_OFFICE {
            assert_eq!(ok(legacy, ole), Ok(()), "{legacy}");
            assert!(ok(legacy, zip).is_err(), "{legacy}");
        }
        for open_xml in OPEN_XML_OFFICE {
            assert_eq!(ok(open_xml, zip), Ok(()), "{open_xml}");
            assert!(ok(open_xml, ole).is_err(), "{open_xml}");
        }
        assert!(ok("application/pdf", zip).is_err());
        // Text in a legacy encoding has no signature and passes as text only.
        assert_eq!(ok("text/plain", sniff(b"caf\xE9")), Ok(()));
        assert!(ok("text/plain", sniff(b"%PDF-1.4")).is_err());

        // A voice note, and an m4a recorded with a video brand.
        let audio =
            |mime, prefix: &[u8]| check_content(MediaKind::Audio, mime, 100, false, sniff(prefix));
        assert_eq!(audio("audio/ogg; codecs=opus", b"OggS\0\x02"), Ok(()));
        assert_eq!(audio("audio/mp4", &ftyp(b"mp42", &[])), Ok(()));
        assert_eq!(audio("audio/amr", b"#!AMR\n"), Ok(()));
        assert_eq!(audio("audio/aac", b"\xFF\xF1\x50\x80"), Ok(()));
        assert_eq!(audio("audio/mpeg", b"ID3\x03"), Ok(()));
        assert!(audio("audio/mpeg", b"OggS").is_err());
        assert!(audio("audio/amr", b"#!AMR-WB\n").is_err());
        let video =
            |mime, prefix: &[u8]| check_content(MediaKind::Video, mime, 100, false, sniff(prefix));
        assert_eq!(video("video/3gpp", &ftyp(b"3gp4", &[])), Ok(()));
        assert!(video("video/mp4", b"\x1A\x45\xDF\xA3").is_err(), "webm");
    }

    proptest! {
        #[test]
        fn sniff_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = sniff(&bytes);
        }

        #[test]
        fn sniff_never_panics_on_near_signatures(
            head in prop_oneof![
                Just(b"ftyp".to_vec()),
                Just(b"RIFF".to_vec()),
                Just(vec![0xFF]),
                Just(vec![0xCA, 0xFE, 0xBA, 0xBE]),
                Just(b"#!AMR".to_vec()),
            ],
            size in any::<[u8; 4]>(),
            tail in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut bytes = size.to_vec();
            bytes.extend_from_slice(&head);
            bytes.extend_from_slice(&tail);
            let _ = sniff(&bytes);
            let _ = sniff(&bytes[4..]);
        }

        #[test]
        fn check_content_decides_for_any_input(
            mime in "[a-z/;= .-]{0,40}",
            size in any::<u64>(),
            animated in any::<bool>(),
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            for kind in MediaKind::ALL {
                let verdict = check_content(kind, &mime, size, animated, sniff(&bytes));
                if verdict.is_ok() {
                    prop_assert!(is_supported(kind, &mime));
                    prop_assert!(size > 0 && size <= max_bytes(kind, animated));
                }
            }
        }
    }
}
