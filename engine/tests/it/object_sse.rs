//! Server-side encryption on real files (K = 4, M = 2, 4 KiB shards): SSE-C objects read only
//! with their key, SSE-S3 objects with none; ranges and parts decrypt from their own offsets;
//! a multipart upload's parts each bring the upload's key; copies decrypt with the source's
//! key and encrypt with the destination's; no plaintext reaches the shard files; an encrypted
//! object survives a lost disk and a rebuild of the metadata from the shards; and SSE-KMS
//! objects open under their KMS key, whose ARN and context the rebuild brings back.

use seedbed_engine::object::multipart::{CompleteOptions, CompletePart, PartOptions};
use seedbed_engine::object::sse::{CustomerKey, SseRequest};
use seedbed_engine::object::{ByteRange, CopyOptions, GetOptions, ObjectStore, PutOptions};

use crate::common::replicated_env;

const KEY_A: (&str, &str) = (
    "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=",
    "DWygnHRtgiJ77HCm+1rvHw==",
);
const KEY_B: (&str, &str) = (
    "6b+WOZ1T3cqZMxgThRcXAQBrS5mXKdDUphvpxptl9/4=",
    "arxBvwY2V4SiOne6yppVPQ==",
);

fn customer(k: (&str, &str)) -> CustomerKey {
    CustomerKey::from_headers(Some("AES256"), Some(k.0), Some(k.1))
        .unwrap()
        .unwrap()
}

fn put(store: &ObjectStore, key: &str, data: &[u8], sse: Option<SseRequest>) -> String {
    store
        .put_object(
            "bkt",
            key,
            &mut &data[..],
            data.len() as u64,
            &PutOptions {
                sse,
                ..PutOptions::default()
            },
        )
        .unwrap()
        .etag
}

fn get(store: &ObjectStore, key: &str, opts: GetOptions) -> Result<Vec<u8>, String> {
    let r = store
        .open_object("bkt", key, &opts)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    r.read_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn with_key(k: (&str, &str)) -> GetOptions {
    GetOptions {
        sse_customer: Some(customer(k)),
        ..GetOptions::default()
    }
}

/// Every shard file and pack under the store, concatenated.
fn stored_bytes(root: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                all.extend(std::fs::read(p).unwrap());
            }
        }
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn encrypted_objects_read_back_only_as_s3_allows() {
    let e = replicated_env::env("object-sse-");
    let store = e.create();
    store.create_bucket("bkt").unwrap();
    let secret: Vec<u8> = b"the plaintext no shard may hold. ".repeat(1_500);
    let etag_c = put(
        &store,
        "c",
        &secret,
        Some(SseRequest::Customer(customer(KEY_A))),
    );
    let etag_s3 = put(&store, "s3", &secret, Some(SseRequest::S3));
    let etag_plain = put(&store, "plain", b"in clear", None);

    // SSE-C: its key, and only its key.
    assert_eq!(get(&store, "c", with_key(KEY_A)).unwrap(), secret);
    let no_key = get(&store, "c", GetOptions::default()).unwrap_err();
    assert!(no_key.starts_with("InvalidRequest"), "{no_key}");
    let other = get(&store, "c", with_key(KEY_B)).unwrap_err();
    assert!(other.contains("does not match"), "{other}");
    // SSE-S3: no key from the client, and none accepted.
    assert_eq!(get(&store, "s3", GetOptions::default()).unwrap(), secret);
    assert!(get(&store, "s3", with_key(KEY_A))
        .unwrap_err()
        .contains("not applicable"));
    assert!(get(&store, "plain", with_key(KEY_A))
        .unwrap_err()
        .contains("not applicable"));

    // The ETag of SSE-S3 is the plaintext's MD5 (as a plain PUT's); SSE-C's is not.
    let plain_etag = format!("\"{:x}\"", <md5::Md5 as md5::Digest>::digest(&secret));
    assert_eq!(etag_s3, plain_etag);
    assert_ne!(etag_c, plain_etag);
    assert_eq!(etag_plain.len(), 34);

    // Ranges decrypt from their own offsets, across stripes.
    for (a, b) in [
        (0u64, 0u64),
        (1, 30),
        (4095, 4100),
        (16_000, 49_499),
        (49_000, 49_499),
    ] {
        let got = get(
            &store,
            "c",
            GetOptions {
                range: Some(ByteRange::FromTo(a, b)),
                ..with_key(KEY_A)
            },
        )
        .unwrap();
        assert_eq!(got, secret[a as usize..=b as usize], "{a}-{b}");
    }

    // No plaintext reaches the disks.
    let disk = stored_bytes(&e.root);
    assert!(!contains(&disk, b"the plaintext no shard may hold"));
    assert!(contains(&disk, b"in clear"), "the scan sees what is stored");
}

#[test]
fn multipart_and_copies_carry_their_keys() {
    let e = replicated_env::env("object-sse-mp-");
    let store = e.create();
    store.create_bucket("bkt").unwrap();
    let parts: Vec<Vec<u8>> = (0..3u8)
        .map(|i| vec![b'a' + i; 5_000 + i as usize])
        .collect();
    let up = store
        .create_multipart_upload(
            "bkt",
            "mp",
            &PutOptions {
                sse: Some(SseRequest::Customer(customer(KEY_A))),
                ..PutOptions::default()
            },
        )
        .unwrap();
    let part = |n: u32, data: &[u8], key: Option<(&str, &str)>| {
        store.upload_part_with(
            "bkt",
            &up,
            n,
            &mut &data[..],
            data.len() as u64,
            &PartOptions {
                sse_customer: key.map(customer),
                ..PartOptions::default()
            },
        )
    };
    let refused = part(1, &parts[0], None).unwrap_err().to_string();
    assert!(
        refused.contains("every UploadPart must send its key"),
        "{refused}"
    );
    let refused = part(1, &parts[0], Some(KEY_B)).unwrap_err().to_string();
    assert!(
        refused.contains("not the one the upload was created with"),
        "{refused}"
    );
    let etags: Vec<String> = (0..3)
        .map(|i| part(i + 1, &parts[i as usize], Some(KEY_A)).unwrap().etag)
        .collect();
    let chosen: Vec<CompletePart> = etags
        .iter()
        .enumerate()
        .map(|(i, e)| CompletePart {
            number: i as u32 + 1,
            etag: e.clone(),
            checksum: None,
        })
        .collect();
    let complete = |key: Option<(&str, &str)>| {
        store.complete_multipart_upload_with(
            "bkt",
            &up,
            &chosen,
            &CompleteOptions {
                sse_customer: key.map(customer),
                ..CompleteOptions::default()
            },
        )
    };
    // A key sent with CompleteMultipartUpload must be the upload's; none at all is fine, as at
    // S3 (the parts brought it).
    let refused = complete(Some(KEY_B)).unwrap_err().to_string();
    assert!(
        refused.contains("not the one the upload was created with"),
        "{refused}"
    );
    complete(None).unwrap();
    let whole: Vec<u8> = parts.concat();
    assert_eq!(get(&store, "mp", with_key(KEY_A)).unwrap(), whole);
    let second = get(
        &store,
        "mp",
        GetOptions {
            part_number: Some(2),
            ..with_key(KEY_A)
        },
    )
    .unwrap();
    assert_eq!(second, parts[1]);
    // A range across the parts' boundary: two data keys.
    let across = get(
        &store,
        "mp",
        GetOptions {
            range: Some(ByteRange::FromTo(4_990, 5_010)),
            ..with_key(KEY_A)
        },
    )
    .unwrap();
    assert_eq!(across, whole[4_990..=5_010]);

    // Copy: the source's key opens it, the destination gets SSE-S3; a copy without the
    // source's key is refused.
    let copy = |sse_customer: Option<CustomerKey>| {
        store.copy_object_with(
            "bkt",
            "mp",
            &GetOptions {
                sse_customer,
                ..GetOptions::default()
            },
            "bkt",
            "copy",
            &PutOptions {
                sse: Some(SseRequest::S3),
                ..PutOptions::default()
            },
            &CopyOptions::default(),
        )
    };
    assert!(copy(None).is_err());
    copy(Some(customer(KEY_A))).unwrap();
    assert_eq!(get(&store, "copy", GetOptions::default()).unwrap(), whole);
    let info = store.head_object("bkt", "copy", None).unwrap();
    assert!(matches!(
        info.encryption,
        Some(seedbed_engine::object::sse::Encryption::S3)
    ));
}

#[test]
fn encrypted_objects_survive_a_lost_disk_and_a_rebuild_from_the_shards() {
    let e = replicated_env::env("object-sse-rebuild-");
    let big: Vec<u8> = replicated_env::data(40_000, 11);
    {
        let store = e.create();
        store.create_bucket("bkt").unwrap();
        put(
            &store,
            "c",
            &big,
            Some(SseRequest::Customer(customer(KEY_A))),
        );
        put(&store, "s3", &big, Some(SseRequest::S3));
        // A small one, a record in a pack file, its description as long as S3's limits let
        // the metadata make it.
        store
            .put_object(
                "bkt",
                "small",
                &mut &big[..100],
                100,
                &PutOptions {
                    sse: Some(SseRequest::Customer(customer(KEY_A))),
                    tags: (0..10)
                        .map(|i| (format!("{i}{}", "k".repeat(127)), "v".repeat(256)))
                        .collect(),
                    ..PutOptions::default()
                },
            )
            .unwrap();
    }
    e.lose_every_metadata_copy();
    e.repair_from_shards();
    let store = e.open().unwrap();
    assert_eq!(get(&store, "c", with_key(KEY_A)).unwrap(), big);
    assert!(get(&store, "c", GetOptions::default()).is_err());
    assert_eq!(get(&store, "s3", GetOptions::default()).unwrap(), big);
    assert_eq!(get(&store, "small", with_key(KEY_A)).unwrap(), big[..100]);
    // One disk gone: parity rebuilds the ciphertext, the key decrypts it.
    std::fs::remove_dir_all(e.disk(0)).unwrap();
    std::fs::create_dir_all(e.disk(0)).unwrap();
    assert_eq!(get(&store, "c", with_key(KEY_A)).unwrap(), big);
    assert_eq!(get(&store, "s3", GetOptions::default()).unwrap(), big);
}

#[test]
fn metadata_reads_need_no_key_file_and_a_lost_one_is_named() {
    let e = replicated_env::env("object-sse-keyfile-");
    let big: Vec<u8> = replicated_env::data(40_000, 3);
    {
        let store = e.create();
        store.create_bucket("bkt").unwrap();
        put(&store, "s3", &big, Some(SseRequest::S3));
    }
    let key_file = e.root.join("sse-s3.key");
    let saved = std::fs::read(&key_file).unwrap();
    assert_eq!(saved.len(), 32);
    std::fs::remove_file(&key_file).unwrap();
    let store = e.open().unwrap();
    // HEAD, listings and IAM's look at an object's tags read metadata only.
    assert_eq!(store.head_object("bkt", "s3", None).unwrap().size, 40_000);
    let err = get(&store, "s3", GetOptions::default()).unwrap_err();
    assert!(
        err.contains("sse-s3.key: the SSE-S3 master key is missing"),
        "{err}"
    );
    assert!(!key_file.exists(), "a read makes no key");
    drop(store);
    std::fs::write(&key_file, &saved).unwrap();
    let store = e.open().unwrap();
    assert_eq!(get(&store, "s3", GetOptions::default()).unwrap(), big);
}

/// Reads of 8 MiB and more decrypt on a helper thread while the next chunk is read: the bytes
/// must be the same, in order, for whole objects, multipart objects and ranges that start and
/// end inside stripes and cross parts.
#[test]
fn long_reads_decrypt_overlapped_and_in_order() {
    let e = replicated_env::env("object-sse-long-");
    let store = e.create();
    store.create_bucket("bkt").unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..20 * 1024 * 1024 + 12_345)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    put(&store, "s3", &data, Some(SseRequest::S3));
    put(
        &store,
        "c",
        &data,
        Some(SseRequest::Customer(customer(KEY_A))),
    );
    assert!(get(&store, "s3", GetOptions::default()).unwrap() == data);
    assert!(get(&store, "c", with_key(KEY_A)).unwrap() == data);
    for (from, to) in [
        (1u64, 9 * 1024 * 1024),
        (4_000_001, 20 * 1024 * 1024 + 12_000),
    ] {
        let got = get(
            &store,
            "s3",
            GetOptions {
                range: Some(ByteRange::FromTo(from, to)),
                ..GetOptions::default()
            },
        )
        .unwrap();
        assert!(got == data[from as usize..=to as usize], "{from}-{to}");
    }
}

#[test]
fn a_bucket_that_blocks_sse_c_refuses_new_sse_c_writes_and_keeps_the_block_through_a_rebuild() {
    use seedbed_engine::object::sse::Encryption;
    let e = replicated_env::env("object-sse-block-");
    let data = replicated_env::data(10_000, 3);
    {
        let store = e.create();
        store.create_bucket("bkt").unwrap();
        put(
            &store,
            "old",
            &data,
            Some(SseRequest::Customer(customer(KEY_A))),
        );
        store
            .put_bucket_encryption("bkt", Encryption::S3, Some(true))
            .unwrap();
        let refused = store
            .put_object(
                "bkt",
                "new",
                &mut &data[..],
                data.len() as u64,
                &PutOptions {
                    sse: Some(SseRequest::Customer(customer(KEY_A))),
                    ..PutOptions::default()
                },
            )
            .unwrap_err();
        assert_eq!(refused.code(), "AccessDenied", "{refused}");
        assert!(refused.to_string().contains("blocks SSE-C"), "{refused}");
        // Not written: the key has no version.
        assert!(get(&store, "new", with_key(KEY_A)).is_err());
        // What was stored before stays readable with its key; plain writes get the default.
        assert_eq!(get(&store, "old", with_key(KEY_A)).unwrap(), data);
        put(&store, "plain", &data, None);
        // A configuration that names no blocked types keeps the block.
        store
            .put_bucket_encryption("bkt", Encryption::S3, None)
            .unwrap();
        assert_eq!(
            store.bucket_encryption("bkt").unwrap(),
            (Encryption::S3, true)
        );
    }
    e.lose_every_metadata_copy();
    e.repair_from_shards();
    let store = e.open().unwrap();
    assert_eq!(
        store.bucket_encryption("bkt").unwrap(),
        (Encryption::S3, true)
    );
    store
        .put_bucket_encryption("bkt", Encryption::S3, Some(false))
        .unwrap();
    put(
        &store,
        "new",
        &data,
        Some(SseRequest::Customer(customer(KEY_A))),
    );
    assert_eq!(get(&store, "new", with_key(KEY_A)).unwrap(), data);
}

#[test]
fn sse_kms_objects_open_under_their_kms_key_and_survive_a_rebuild_from_the_shards() {
    use seedbed_engine::object::sse::{Encryption, KmsRequest};
    let e = replicated_env::env("object-sse-kms-");
    let big: Vec<u8> = replicated_env::data(40_000, 12);
    // A context as long as a request header comfortably carries: it rides in the description.
    let context = {
        use base64::Engine as _;
        let json = format!(r#"{{"project":"{}"}}"#, "p".repeat(1500));
        base64::engine::general_purpose::STANDARD.encode(json)
    };
    let kms = |key_id: Option<&str>| {
        Some(SseRequest::Kms(KmsRequest {
            key_id: key_id.map(String::from),
            context: Some(context.clone()),
            bucket_key: true,
        }))
    };
    let managed;
    {
        let store = e.create();
        store.create_bucket("bkt").unwrap();
        put(&store, "big", &big, kms(None));
        put(&store, "small", &big[..100], kms(Some("alias/aws/s3")));
        let info = store.head_object("bkt", "big", None).unwrap();
        let Some(Encryption::Kms {
            key_id,
            context: c,
            bucket_key,
        }) = info.encryption
        else {
            panic!("not SSE-KMS: {:?}", info.encryption)
        };
        assert!(key_id.starts_with("arn:aws:kms:us-east-1:"), "{key_id}");
        assert_eq!((c.as_deref(), bucket_key), (Some(context.as_str()), true));
        managed = key_id;
        // A key this store's KMS was not given: refused before anything is stored.
        let err = store
            .put_object(
                "bkt",
                "lost",
                &mut &big[..10],
                10,
                &PutOptions {
                    sse: kms(Some("testkey-9")),
                    ..PutOptions::default()
                },
            )
            .unwrap_err();
        assert_eq!(err.code(), "KMS.NotFoundException");
        assert!(store.head_object("bkt", "lost", None).is_err());
        assert!(!contains(&stored_bytes(&e.root), &big[..64]));
    }
    e.lose_every_metadata_copy();
    e.repair_from_shards();
    let store = e.open().unwrap();
    assert_eq!(get(&store, "big", GetOptions::default()).unwrap(), big);
    assert_eq!(
        get(&store, "small", GetOptions::default()).unwrap(),
        big[..100]
    );
    let info = store.head_object("bkt", "small", None).unwrap();
    assert!(matches!(info.encryption, Some(Encryption::Kms { key_id, .. }) if key_id == managed));
}
