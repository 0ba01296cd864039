//! The dashboard's static files, embedded in the binary. Each is served under a name carrying
//! the first 12 hex digits of its SHA-256 (`app.3f2a….css`), gzip-compressed when the browser
//! accepts it, and cacheable for a year (`immutable`): a changed file gets a new name.

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::OnceLock;

pub struct Asset {
    /// Logical name (`app.css`).
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// Served name with the content hash (`app.<hash>.css`).
    pub hashed_name: String,
    pub gzip: Vec<u8>,
    /// Strong ETag (the full hash).
    pub etag: String,
}

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/dashboard/app.css"),
    ),
    (
        "app.js",
        "application/javascript; charset=utf-8",
        include_bytes!("../../../assets/dashboard/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../../assets/dashboard/favicon.svg"),
    ),
];

pub const ASSET_PREFIX: &str = "/dashboard/assets/";

fn build(name: &'static str, content_type: &'static str, bytes: &'static [u8]) -> Asset {
    let hash = hex::encode(Sha256::digest(bytes));
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(bytes).expect("gzip into memory");
    Asset {
        name,
        content_type,
        bytes,
        hashed_name: format!("{stem}.{}.{ext}", &hash[..12]),
        gzip: gz.finish().expect("gzip into memory"),
        etag: format!("\"{hash}\""),
    }
}

/// Every asset, hashed and compressed once per cold start.
pub fn all() -> &'static [Asset] {
    static ASSETS: OnceLock<Vec<Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| FILES.iter().map(|(n, t, b)| build(n, t, b)).collect())
}

/// The URL of a logical asset (`url("app.css")` -> `/dashboard/assets/app.<hash>.css`).
pub fn url(name: &str) -> String {
    let asset = all()
        .iter()
        .find(|a| a.name == name)
        .expect("asset names are static");
    format!("{ASSET_PREFIX}{}", asset.hashed_name)
}

/// The asset served under `hashed_name`, if any (old hashes are gone: 404).
pub fn by_hashed_name(hashed_name: &str) -> Option<&'static Asset> {
    all().iter().find(|a| a.hashed_name == hashed_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn assets_have_content_hashed_names_and_gzip_round_trips() {
        // GIVEN the embedded assets WHEN built THEN names carry the hash and gzip decodes back
        for a in all() {
            let hash = hex::encode(Sha256::digest(a.bytes));
            assert!(a.hashed_name.contains(&hash[..12]), "{}", a.name);
            let mut out = Vec::new();
            GzDecoder::new(&a.gzip[..]).read_to_end(&mut out).unwrap();
            assert_eq!(out, a.bytes);
            assert!(std::ptr::eq(by_hashed_name(&a.hashed_name).unwrap(), a));
        }
        assert!(url("app.js").starts_with("/dashboard/assets/app."));
        assert!(by_hashed_name("app.js").is_none());
    }
}
