//! Which evidence files are accepted: photos, call recordings and documents, recognised by their
//! first bytes rather than by what the uploader claims.

/// The media type of a file judged by its content, if it is one the service keeps.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |prefix: &[u8]| bytes.starts_with(prefix);
    let riff = |kind: &[u8]| bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == kind;
    let at = |offset: usize, tag: &[u8]| {
        bytes.len() >= offset + tag.len() && &bytes[offset..offset + tag.len()] == tag
    };
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if riff(b"WEBP") {
        Some("image/webp")
    } else if at(4, b"ftypheic") || at(4, b"ftypheix") || at(4, b"ftypmif1") {
        Some("image/heic")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if riff(b"WAVE") {
        Some("audio/wav")
    } else if starts(b"#!AMR") {
        Some("audio/amr")
    } else if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        Some("audio/mpeg")
    } else if at(4, b"ftypM4A") || at(4, b"ftypmp4") || at(4, b"ftypisom") {
        Some("audio/mp4")
    } else if starts(b"PK\x03\x04") {
        // Office documents (docx, xlsx) are zip archives.
        Some("application/zip")
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // Legacy Office documents (doc, xls).
        Some("application/x-ole-storage")
    } else {
        None
    }
}

/// What an upload form names its file, without directories, control characters or excess.
pub fn file_name(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect::<String>();
    let trimmed = base.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        "attachment".into()
    } else {
        trimmed.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_first_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WAVEfmt "), Some("audio/wav"));
        assert_eq!(sniff(b"#!AMR\n"), Some("audio/amr"));
        assert_eq!(sniff(b"ID3\x04\x00"), Some("audio/mpeg"));
        assert_eq!(sniff(b"\x00\x00\x00\x20ftypM4A "), Some("audio/mp4"));
        assert_eq!(sniff(b"PK\x03\x04"), Some("application/zip"));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"MZ\x90\x00"), None, "no executables");
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(
            file_name(Some("C:\\Users\\a\\现场照片.jpg")),
            "现场照片.jpg"
        );
        assert_eq!(file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(file_name(Some("a\u{0}b\"c.png")), "abc.png");
        assert_eq!(file_name(Some("...")), "attachment");
        assert_eq!(file_name(None), "attachment");
        assert_eq!(file_name(Some(&"长".repeat(300))).chars().count(), 200);
    }
}
