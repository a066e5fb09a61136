//! A short, bounded fuzz run on stable Rust, on every CI run: every seed of every fuzz
//! target (`netpath::fuzzing`, the same entries cargo-fuzz drives in `fuzz/`) and a few
//! thousand deterministic mutations of them. A panic fails the test and names the target,
//! the seed and the mutation; `NETPATH_FUZZ_SMOKE=N` runs N mutations per target instead.

use std::path::{Path, PathBuf};

use netpath::fuzzing::{TARGETS, mutate};

/// The seed files of a target: the project's own test data, plus `fuzz/seeds/<target>/`.
pub fn seeds(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let td = root.join("testdata");
    let list = |dir: &Path, keep: &dyn Fn(&Path) -> bool| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && keep(p))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let ext = |e: &'static str| move |p: &Path| p.extension().is_some_and(|x| x == e);
    let mut files = match target {
        "routes_text" => list(&td.join("routes"), &|p: &Path| !ext("json")(p)),
        "ip_json" => list(&td.join("routes"), &ext("json")),
        "node_dumps" => ["node-a", "node-a-json", "node-b", "node-c"]
            .iter()
            .flat_map(|d| list(&td.join("snapshot-text").join(d), &|_: &Path| true))
            .collect(),
        "kubectl" => list(&td.join("clusters"), &ext("json")),
        "cluster_file" => list(&root.join("src/model/demos"), &ext("yaml")),
        "net_conf" => vec![td.join("clusters/net-conf.json")],
        "ippool" => vec![td.join("clusters/ippool.yaml")],
        "pcap" => list(&td, &ext("pcap")),
        _ => Vec::new(),
    };
    files.extend(list(&root.join("fuzz/seeds").join(target), &|_: &Path| {
        true
    }));
    files
}

#[test]
fn every_parser_survives_its_seeds_and_mutations() {
    let per_target: u64 = std::env::var("NETPATH_FUZZ_SMOKE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    for (name, entry) in TARGETS {
        let files = seeds(name);
        assert!(!files.is_empty(), "fuzz target {name} has no seeds");
        let inputs: Vec<Vec<u8>> = files
            .iter()
            .map(|f| {
                let mut b = std::fs::read(f).unwrap();
                // Mutating a 16 KiB prefix keeps each run short in a debug build.
                b.truncate(16 << 10);
                b
            })
            .collect();
        for (f, input) in files.iter().zip(&inputs) {
            let full = std::fs::read(f).unwrap();
            run(name, *entry, &full, &format!("seed {}", f.display()));
            run(
                name,
                *entry,
                input,
                &format!("seed {} (prefix)", f.display()),
            );
        }
        for n in 0..per_target {
            let seed = &inputs[(n as usize) % inputs.len()];
            let other = &inputs[(n as usize / 7) % inputs.len()];
            let m = mutate(seed, n, other);
            run(
                name,
                *entry,
                &m,
                &format!(
                    "mutation {n} of seed {}",
                    files[(n as usize) % files.len()].display()
                ),
            );
        }
    }
}

fn run(target: &str, entry: fn(&[u8]), data: &[u8], what: &str) {
    let r = std::panic::catch_unwind(|| entry(data));
    if r.is_err() {
        let dir = std::env::temp_dir().join(format!("netpath-fuzz-crash-{target}"));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{:016x}", hash(data)));
        let _ = std::fs::write(&file, data);
        panic!(
            "fuzz target {target} panicked on {what}; input saved as {}",
            file.display()
        );
    }
}

fn hash(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3)
    })
}
