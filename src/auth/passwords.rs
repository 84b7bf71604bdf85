//! Passwords: hashed with Argon2id, and generated for new accounts.
//!
//! Argon2 works in 19 MiB of memory per hash. Allocated per hash, that memory came from the
//! allocator's arena of whichever thread hashed and stayed there: sign-ins from many clients at
//! once left the process at hundreds of megabytes. Hashes here run in workspaces kept for the
//! process's life, as many as may run at once (a hash takes a core for its whole length, so more
//! would only wait for the cores); a sign-in beyond them waits for one to be free.

use std::sync::{Condvar, Mutex, OnceLock};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::ApiError;

/// The Argon2 memory of the hashes that may run at once.
struct Workspaces {
    free: Mutex<Vec<Vec<Block>>>,
    returned: Condvar,
}

fn workspaces() -> &'static Workspaces {
    static WORKSPACES: OnceLock<Workspaces> = OnceLock::new();
    WORKSPACES.get_or_init(|| {
        let at_once = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        Workspaces {
            // Empty until first used: a process that never hashes never holds the memory.
            free: Mutex::new(vec![Vec::new(); at_once]),
            returned: Condvar::new(),
        }
    })
}

/// Runs one Argon2 computation in a workspace of `blocks` blocks, waiting for a free one.
fn in_workspace<R>(blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
    let pool = workspaces();
    let mut workspace = {
        let mut free = pool.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(workspace) = free.pop() {
                break workspace;
            }
            free = pool.returned.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    };
    if workspace.len() < blocks {
        workspace.resize(blocks, Block::new());
    }
    let result = f(&mut workspace[..blocks]);
    pool.free
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(workspace);
    pool.returned.notify_one();
    result
}

/// The hash of `password` with `salt` under these settings, into `out`.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    in_workspace(blocks, |memory| {
        argon2.hash_password_into_with_memory(password, salt, out, memory)
    })
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let failed =
        |e: &dyn std::fmt::Display| ApiError::internal(format!("cannot hash a password: {e}"));
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| failed(&e))?;
    let params = Params::default();
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        compute(
            algorithm,
            version,
            params.clone(),
            password.as_bytes(),
            salt_bytes,
            out,
        )
        .map_err(Into::into)
    })
    .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(stored) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(stored.algorithm),
        Params::try_from(&stored),
        stored.salt,
        stored.hash,
    ) else {
        return false;
    };
    let Ok(version) = stored
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    Output::init_with(expected.len(), |out| {
        compute(
            algorithm,
            version,
            params,
            password.as_bytes(),
            salt_bytes,
            out,
        )
        .map_err(Into::into)
    })
    // `Output` compares in constant time.
    .is_ok_and(|computed| computed == expected)
}

/// Spends the time of one verification, so that an unknown username answers as slowly as a
/// wrong password.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

/// A secret nobody can guess (256 random bits), as URL-safe text: what a console session's
/// cookie and its forms' token hold.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A random password of `length` characters from an alphabet without look-alikes.
pub fn generate_password(length: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = vec![0u8; length];
    OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of the alphabet's size; re-draw the few bytes that would bias it.
    let limit = 256 - 256 % ALPHABET.len();
    bytes
        .into_iter()
        .map(|mut b| {
            while usize::from(b) >= limit {
                let mut one = [0u8; 1];
                OsRng.fill_bytes(&mut one);
                b = one[0];
            }
            ALPHABET[usize::from(b) % ALPHABET.len()] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_of_the_argon2_crate_verify_here_and_the_other_way_round() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password("correct horse battery", &theirs));
        assert!(!verify_password("correct horse batter", &theirs));
        let ours = hash_password("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // Other settings than the defaults, as a hash made elsewhere may carry.
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 2, 1, None).unwrap(),
        )
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
        assert!(verify_password("pw", &cheap));
    }

    #[test]
    fn hashes_at_once_share_the_workspaces() {
        let hash = hash_password("at once").unwrap();
        let verified: Vec<bool> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| verify_password("at once", &hash)))
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(verified.into_iter().all(|ok| ok));
        let free = workspaces().free.lock().unwrap();
        assert!(free.len() <= 4 && free.iter().all(|w| w.len() <= 19 * 1024));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn generated_passwords_use_the_alphabet() {
        let password = generate_password(16);
        assert_eq!(password.len(), 16);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!password.contains(['0', 'O', 'l', '1', 'I']));
        assert_ne!(generate_password(16), password);
    }
}
