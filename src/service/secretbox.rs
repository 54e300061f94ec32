//! Secrets we must be able to read back (webhook signing secrets: we sign
//! with them) but must never keep in the database in clear. A [`Sealer`]
//! holds one 32-byte key and seals with XChaCha20-Poly1305; the database
//! holds only sealed bytes, so a dump or a replica alone yields no secret.
//!
//! Sealed layout, version 1:
//!
//! ```text
//! [0]      version, 1
//! [1..5]   key id: the first 4 bytes of SHA-256(key)
//! [5..29]  nonce, 24 bytes
//! [29..]   ciphertext, then the 16-byte Poly1305 tag
//! ```
//!
//! The version byte and key id are authenticated as associated data, so
//! they cannot be altered without [`Sealer::open`] noticing. The key id lets
//! an instance configured with another key say so ([`OpenError::OtherKey`])
//! instead of reporting tampering.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

const VERSION: u8 = 1;
const KEY_LEN: usize = 32;
const ID_LEN: usize = 4;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + ID_LEN;
const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// The file a key is kept in when neither a key nor a key file is given.
pub const KEY_FILE_NAME: &str = "secrets.key";

/// Seals and opens secrets with one key. `Debug` shows the key id only.
pub struct Sealer {
    key: [u8; KEY_LEN],
    id: [u8; ID_LEN],
    /// Drawn from the OS once, at load, where a failure can be reported.
    /// Nonces are derived from it, a counter and fresh OS bytes (see
    /// [`Sealer::nonce`]), so `seal` needs no fallible call of its own.
    seed: [u8; 32],
    counter: AtomicU64,
}

/// Why sealed bytes could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Too short, or of a version this build does not know: not something
    /// [`Sealer::seal`] made.
    #[error("not a sealed secret (too short or unknown version)")]
    Malformed,
    /// Sealed under another key (another instance's, or a key since
    /// replaced): this instance cannot open it, though nothing is wrong
    /// with the bytes.
    #[error("sealed under another key")]
    OtherKey,
    /// Sealed under this key but altered since.
    #[error("sealed secret fails authentication (altered or corrupt)")]
    Tampered,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("key_id", &hex(&self.id))
            .finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sealer {
    /// The key, from the first of: `key` (standard base64 of exactly 32
    /// bytes, as `SCIMD_SECRETS_KEY` holds it), the file `key_file` (the
    /// same base64; surrounding whitespace ignored), or
    /// `<data_dir>/secrets.key`, made (mode 0600, 32 random bytes) when
    /// absent. An error says what is wrong and where, never the key.
    pub fn load(
        data_dir: &Path,
        key: Option<&str>,
        key_file: Option<&Path>,
    ) -> Result<Sealer, String> {
        let key = match (key, key_file) {
            (Some(text), _) => decode_key(text, "SCIMD_SECRETS_KEY")?,
            (None, Some(path)) => read_key_file(path)?,
            (None, None) => load_or_create(&data_dir.join(KEY_FILE_NAME))?,
        };
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| {
            format!("the OS random source failed while loading the secrets key: {e}")
        })?;
        Ok(Sealer::with_key(key, seed))
    }

    fn with_key(key: [u8; KEY_LEN], seed: [u8; 32]) -> Sealer {
        let digest = Sha256::digest(key);
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&digest[..ID_LEN]);
        Sealer {
            key,
            id,
            seed,
            counter: AtomicU64::new(0),
        }
    }

    /// The first 4 bytes of SHA-256 of the key: equal on instances sharing a
    /// key, so one can tell from sealed bytes alone that it cannot open
    /// another's. It reveals nothing usable about the key.
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// `plaintext` sealed under this key with a fresh nonce, in the layout
    /// the module documents.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let header = self.header();
        let nonce = self.nonce();
        let cipher = XChaCha20Poly1305::new(&self.key.into());
        // Encryption fails only for a plaintext beyond what the cipher can
        // count (2^38 bytes); a secret is tens of bytes.
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &header,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext of bytes [`Sealer::seal`] made under this key.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < OVERHEAD || sealed[0] != VERSION {
            return Err(OpenError::Malformed);
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        if header[1..] != self.id {
            return Err(OpenError::OtherKey);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        XChaCha20Poly1305::new(&self.key.into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: header,
                },
            )
            .map_err(|_| OpenError::Tampered)
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        let mut h = [VERSION; HEADER_LEN];
        h[1..].copy_from_slice(&self.id);
        h
    }

    /// A nonce never used before under this key: SHA-256 of the load-time
    /// seed, a counter that never repeats within this `Sealer`, and 32
    /// fresh bytes from the OS. With the OS source working it is as random
    /// as those bytes; were it to fail mid-run (`seal` cannot report that),
    /// the seed and counter still keep every nonce distinct, which is what
    /// XChaCha20-Poly1305's safety rests on.
    fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut fresh = [0u8; 32];
        let _ = getrandom::fill(&mut fresh);
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        let digest = Sha256::new()
            .chain_update(self.seed)
            .chain_update(count.to_le_bytes())
            .chain_update(fresh)
            .finalize();
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&digest[..NONCE_LEN]);
        nonce
    }
}

/// A key from its base64 text; `source` names where it came from.
fn decode_key(text: &str, source: &str) -> Result<[u8; KEY_LEN], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| {
            format!("{source}: the secrets key is not valid base64 (standard alphabet)")
        })?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "{source}: the secrets key must be {KEY_LEN} bytes, base64-encoded; it decodes to {} bytes",
            bytes.len()
        )
    })
}

fn read_key_file(path: &Path) -> Result<[u8; KEY_LEN], String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the secrets key file {}: {e}", path.display()))?;
    decode_key(&text, &format!("secrets key file {}", path.display()))
}

/// The key in `path`, or a new one written there. Two instances starting
/// at once on one data directory must end with the same key, so the new
/// file is linked into place (which fails if one already is) rather than
/// renamed over it: the loser reads the winner's key.
fn load_or_create(path: &Path) -> Result<[u8; KEY_LEN], String> {
    if let Some(key) = read_existing(path)? {
        return Ok(key);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("creating the data directory {}: {e}", dir.display()))?;

    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key)
        .map_err(|e| format!("the OS random source failed while making a secrets key: {e}"))?;
    let tmp = tmp_path(path);
    let written = write_new(&tmp, &key);
    let placed = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    });
    let _ = std::fs::remove_file(&tmp);
    let placed =
        placed.map_err(|e| format!("writing the secrets key file {}: {e}", path.display()))?;
    if placed {
        // Losing this file loses every sealed secret: make its directory
        // entry durable before anything is sealed with it.
        let synced = std::fs::File::open(dir).and_then(|d| d.sync_all());
        synced.map_err(|e| format!("syncing the data directory {}: {e}", dir.display()))?;
        log::info!("made a new secrets key in {}", path.display());
        return Ok(key);
    }
    match read_existing(path)? {
        Some(key) => Ok(key),
        None => Err(format!(
            "the secrets key file {} vanished while it was being made",
            path.display()
        )),
    }
}

/// `None` when `path` does not exist.
fn read_existing(path: &Path) -> Result<Option<[u8; KEY_LEN]>, String> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            if meta.permissions().mode() & 0o077 != 0 {
                log::warn!(
                    "the secrets key file {} is readable by others than its owner; chmod 600 it",
                    path.display()
                );
            }
            read_key_file(path).map(Some)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "reading the secrets key file {}: {e}",
            path.display()
        )),
    }
}

/// A name beside `path` that no other process, nor another thread of this
/// one, uses at the same time.
fn tmp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    PathBuf::from(name)
}

/// Writes the key's base64 to a new file, 0600 from the start (never
/// briefly readable by others), synced before it is linked into place.
fn write_new(tmp: &Path, key: &[u8; KEY_LEN]) -> std::io::Result<()> {
    // A stale file of a process that died with this pid and counter would
    // make `create_new` fail for good.
    let _ = std::fs::remove_file(tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    let text = base64::engine::general_purpose::STANDARD.encode(key);
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::with_key([byte; KEY_LEN], [0; 32])
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            let dir = std::env::temp_dir()
                .join(format!("scimd-secretbox-{}", uuid::Uuid::new_v4().simple()));
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn round_trips() {
        let s = sealer(7);
        for plain in [&b""[..], b"whsec_abc", &[0u8; 300]] {
            let sealed = s.seal(plain);
            assert_eq!(sealed.len(), OVERHEAD + plain.len());
            assert_eq!(sealed[0], VERSION);
            assert_eq!(sealed[1..5], s.key_id());
            assert_eq!(s.open(&sealed).unwrap(), plain);
        }
    }

    #[test]
    fn seals_the_same_plaintext_differently() {
        let s = sealer(7);
        assert_ne!(s.seal(b"same"), s.seal(b"same"));
    }

    #[test]
    fn detects_tampering_anywhere_but_the_key_id() {
        let s = sealer(7);
        let sealed = s.seal(b"whsec_secret");
        for i in (0..sealed.len()).filter(|i| !(1..HEADER_LEN).contains(i)) {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let expected = if i == 0 {
                OpenError::Malformed
            } else {
                OpenError::Tampered
            };
            assert_eq!(s.open(&bad), Err(expected), "byte {i}");
        }
        assert_eq!(
            s.open(&sealed[..sealed.len() - 1]),
            Err(OpenError::Tampered)
        );
        assert_eq!(s.open(&sealed[..OVERHEAD - 1]), Err(OpenError::Malformed));
        assert_eq!(s.open(b""), Err(OpenError::Malformed));
    }

    #[test]
    fn refuses_what_another_key_sealed() {
        let (mine, other) = (sealer(7), sealer(8));
        assert_ne!(mine.key_id(), other.key_id());
        assert_eq!(mine.open(&other.seal(b"x")), Err(OpenError::OtherKey));
    }

    #[test]
    fn debug_shows_the_key_id_only() {
        let s = sealer(0xab);
        let shown = format!("{s:?}");
        let expected = format!("Sealer {{ key_id: {:?}, .. }}", hex(&s.key_id()));
        assert_eq!(shown, expected);
    }

    #[test]
    fn loads_a_key_given_as_base64() {
        let dir = TempDir::new();
        let text = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        let s = Sealer::load(&dir.0, Some(&text), None).unwrap();
        assert_eq!(s.key_id(), sealer(9).key_id());
        // Nothing is written when the key is given.
        assert!(!dir.0.exists());
    }

    #[test]
    fn refuses_bad_base64_and_wrong_lengths_without_showing_them() {
        let dir = TempDir::new();
        let err = Sealer::load(&dir.0, Some("not base64!"), None).unwrap_err();
        assert!(err.contains("not valid base64"), "{err}");
        assert!(!err.contains("not base64!"), "{err}");
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 31]);
        let err = Sealer::load(&dir.0, Some(&short), None).unwrap_err();
        assert!(err.contains("decodes to 31 bytes"), "{err}");
        assert!(!err.contains(&short), "{err}");
    }

    #[test]
    fn reads_a_key_file_ignoring_trailing_whitespace() {
        let dir = TempDir::new();
        std::fs::create_dir_all(&dir.0).unwrap();
        let file = dir.0.join("k");
        let text = base64::engine::general_purpose::STANDARD.encode([5u8; 32]);
        std::fs::write(&file, format!("{text}\n\n")).unwrap();
        let s = Sealer::load(&dir.0, None, Some(&file)).unwrap();
        assert_eq!(s.key_id(), sealer(5).key_id());

        std::fs::write(&file, "short\n").unwrap();
        let err = Sealer::load(&dir.0, None, Some(&file)).unwrap_err();
        assert!(err.contains(&file.display().to_string()), "{err}");
        let missing = dir.0.join("missing");
        let err = Sealer::load(&dir.0, None, Some(&missing)).unwrap_err();
        assert!(err.contains("missing"), "{err}");
    }

    #[test]
    fn makes_the_key_file_0600_once_and_reuses_it() {
        let dir = TempDir::new();
        let first = Sealer::load(&dir.0, None, None).unwrap();
        let path = dir.0.join(KEY_FILE_NAME);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Sealer::load(&dir.0, None, None).unwrap();
        assert_eq!(first.key_id(), again.key_id());
        assert_eq!(again.open(&first.seal(b"kept")).unwrap(), b"kept");
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [KEY_FILE_NAME]);
    }

    #[test]
    fn instances_racing_to_make_the_key_agree_on_it() {
        let dir = TempDir::new();
        let ids: Vec<[u8; 4]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| Sealer::load(&dir.0, None, None).unwrap().key_id()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    }
}
