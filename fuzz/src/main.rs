//! A stable-Rust, dependency-light fuzzer for hotwasm's input decoders:
//!
//! - `manifest`: `hotwasm_abi::PatchManifest::parse` on random and mutated manifest text, with
//!   property checks (accepted ⇒ non-empty, ≤ MAX_ENTRIES, C identifiers, no duplicates, and
//!   printing then re-parsing gives the same manifest);
//! - `signature`: `hotwasm_abi::Signature::parse` (accepted ⇒ `Display` round-trips);
//! - `protocol`: `hotwasm_server::protocol::decode_client` on mutated client JSON frames
//!   (accepted ⇒ re-encoding and decoding gives the same message);
//! - `wasm`: the runtime's own side-module reader (`hotwasm_runtime::wasm_types::read`, the
//!   wasmparser walk over types/imports/functions/exports/dylink.0) on mutated real side modules
//!   from `build/fixtures/*.wasm`.
//!
//! - `eval`: the eval parser path, clang's parser in the persistent incremental session C and
//!   C++ text evals go through ([`eval_target`]; needs the toolchain and the session program, so
//!   it runs only when named: `--targets eval`).
//!
//! Deterministic: a seeded xorshift PRNG drives every mutation, so `--seed S` reproduces a run.
//! A panic (or an input slower than `--hang-ms`) is a finding: the input is written to
//! `fuzz/crashes/<target>-<n>.bin` and the run exits 1 at the end.
//!
//!   cargo run --profile fuzz -p hotwasm-fuzz -- [--seconds 60] [--seed 1]
//!       [--targets manifest,signature,protocol,wasm,eval] [--corpus build/fixtures] [--replay FILE --target T]
//!
//! A finding in a live eval session also saves every input that session was given since it
//! started (`fuzz/crashes/eval-history-*.bin`; `--replay` of it replays them in order).

mod eval_target;

use hotwasm_abi::{PatchManifest, Signature};
use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- PRNG and mutations

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const INTERESTING: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x3f, 0x60, 0x20, b'\n', b' ',
];

/// Applies 1..=8 random byte-level mutations; `dict` holds tokens worth splicing in.
fn mutate(rng: &mut Rng, data: &mut Vec<u8>, dict: &[&[u8]], other: Option<&[u8]>) {
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        match rng.below(11) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = *rng.pick(INTERESTING);
            }
            2 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = rng.next() as u8;
            }
            3 => {
                let i = rng.below(data.len() + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(i..i, bytes);
            }
            4 if !data.is_empty() => {
                let i = rng.below(data.len());
                let n = 1 + rng.below((data.len() - i).min(64));
                data.drain(i..i + n);
            }
            5 if !data.is_empty() => {
                // truncate
                let n = rng.below(data.len());
                data.truncate(n);
            }
            6 if !data.is_empty() => {
                // duplicate a chunk
                let i = rng.below(data.len());
                let n = 1 + rng.below((data.len() - i).min(128));
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, chunk);
            }
            7 if !dict.is_empty() => {
                let tok = rng.pick(dict);
                let at = rng.below(data.len() + 1);
                data.splice(at..at, tok.iter().copied());
            }
            8 if !data.is_empty() => {
                // a LEB128-ish large value
                let i = rng.below(data.len());
                let n = (1 + rng.below(5)).min(data.len() - i);
                for (k, b) in data[i..i + n].iter_mut().enumerate() {
                    *b = if k + 1 == n {
                        rng.next() as u8 & 0x7f
                    } else {
                        0x80 | rng.next() as u8
                    };
                }
            }
            9 => {
                if let Some(o) = other {
                    // splice with another corpus entry
                    if !o.is_empty() {
                        let a = rng.below(data.len() + 1);
                        let b = rng.below(o.len());
                        data.truncate(a);
                        data.extend_from_slice(&o[b..]);
                    }
                }
            }
            _ if data.len() >= 2 => {
                // swap two bytes
                let i = rng.below(data.len());
                let j = rng.below(data.len());
                data.swap(i, j);
            }
            _ => data.push(rng.next() as u8),
        }
    }
}

// ---------------------------------------------------------------- targets

/// A finding is a property violation; Ok(signal) means the input was handled, and `signal`
/// names the class of outcome it reached (accepted shape or error kind), a crude coverage
/// proxy: inputs reaching a new class are kept in the pool for further mutation.
type Outcome = Result<String, String>;

/// An error message with its numbers blanked, so `at offset 17` and `at offset 90` are one class.
fn class(prefix: &str, msg: &str) -> String {
    let mut out = String::from(prefix);
    let mut last_digit = false;
    for ch in msg.chars().take(48) {
        if ch.is_ascii_digit() {
            if !last_digit {
                out.push('#');
            }
            last_digit = true;
        } else {
            out.push(ch);
            last_digit = false;
        }
    }
    out
}

fn is_c_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch == '_' || ch.is_ascii_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_ascii_alphanumeric())
}

fn check_manifest(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    let parsed = PatchManifest::parse(&text);
    if let Err(e) = &parsed {
        return Ok(class("err:", &format!("{:?}", std::mem::discriminant(e))));
    }
    if let Ok(m) = parsed {
        // An empty manifest is a load-only patch (constructors and `hotwasm_run`, no var
        // changes), but only blank text may parse to one: every other line is an entry.
        if m.entries.is_empty() && text.lines().any(|l| !l.trim().is_empty()) {
            return Err("accepted a manifest with lines as empty".into());
        }
        if m.entries.len() > 4096
        /* hotwasm_abi MAX_ENTRIES (not re-exported) */
        {
            return Err(format!("accepted {} entries", m.entries.len()));
        }
        let mut vars = HashSet::new();
        let mut syms = HashSet::new();
        for e in &m.entries {
            if !is_c_identifier(&e.var) || !is_c_identifier(&e.symbol) {
                return Err(format!(
                    "accepted a non-identifier: {:?} {:?}",
                    e.var, e.symbol
                ));
            }
            if !vars.insert(e.var.clone()) || !syms.insert(e.symbol.clone()) {
                return Err(format!(
                    "accepted a duplicate: {:?} / {:?}",
                    e.var, e.symbol
                ));
            }
        }
        let printed: String = m
            .entries
            .iter()
            .map(|e| format!("{} {} {}\n", e.var, e.symbol, e.signature))
            .collect();
        match PatchManifest::parse(&printed) {
            Ok(again) if again == m => {}
            other => {
                return Err(format!(
                    "re-parse of the printed manifest differs: {other:?}"
                ))
            }
        }
        return Ok(format!("ok:{}", m.entries.len().min(8)));
    }
    Ok(String::new())
}

fn check_signature(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    let parsed = Signature::parse(&text);
    if let Err(e) = &parsed {
        return Ok(class("err:", &format!("{:?}", std::mem::discriminant(e))));
    }
    if let Ok(sig) = parsed {
        let printed = sig.to_string();
        match Signature::parse(&printed) {
            Ok(again) if again == sig => {}
            other => {
                return Err(format!(
                    "`{text}` parsed, printed `{printed}`, re-parsed {other:?}"
                ))
            }
        }
        if !sig.same_in_wasm32(&sig) {
            return Err(format!("`{text}` is not the same as itself in wasm32"));
        }
        return Ok(format!("ok:{}", sig.params.len().min(8)));
    }
    Ok(String::new())
}

fn check_protocol(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    let decoded = hotwasm_server::protocol::decode_client(&text);
    if let Err((code, msg)) = &decoded {
        return Ok(class(
            &format!("err:{code:?}:"),
            msg.split(" at line").next().unwrap_or(""),
        ));
    }
    if let Ok(msg) = decoded {
        let json = serde_json::to_string(&msg).map_err(|e| format!("re-encode failed: {e}"))?;
        // serde_json (without its `float_roundtrip` feature) may read an f64 back 1 ulp off:
        // harmless for a timing, so compare `apply_ms` at f32 precision (finding protocol-1,
        // fuzz/regressions/protocol-float-roundtrip.json).
        let norm = |mut m: hotwasm_server::protocol::ClientMsg| {
            if let hotwasm_server::protocol::ClientMsg::Ack { apply_ms, .. } = &mut m {
                *apply_ms = f64::from(*apply_ms as f32);
            }
            m
        };
        match hotwasm_server::protocol::decode_client(&json) {
            Ok(again) if norm(again.clone()) == norm(msg.clone()) => {}
            other => return Err(format!("decode(encode(msg)) differs: {other:?}")),
        }
        return Ok(format!("ok:{}", json.split('"').nth(3).unwrap_or("")));
    }
    Ok(String::new())
}

fn check_wasm(bytes: &[u8]) -> Outcome {
    Ok(
        match hotwasm_runtime::wasm_types::read("fuzz.wasm", bytes) {
            Ok(t) => format!("ok:{}:{}", t.exports.len().min(16), t.imports.len().min(16)),
            Err(e) => class("err:", &e.to_string()),
        },
    )
}

// ---------------------------------------------------------------- seeds

fn manifest_seeds() -> Vec<Vec<u8>> {
    [
        "step_particle step_particle__hw7 vpif\n",
        "a a__hw1 i\nb b__hw1 vii\n",
        "background_color background_color__hw3 ip\r\n\n  t_gen t_gen__hw9 i  \n",
        "x y z",
        "a a__hw1 jjjjffdd\n",
        "",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}
const MANIFEST_DICT: &[&[u8]] = &[
    b" ",
    b"\t",
    b"\n",
    b"\r\n",
    b"v",
    b"i",
    b"j",
    b"f",
    b"d",
    b"p",
    b"_",
    b"__hw",
    b"\xc3\xa9",
    b"\xe2\x80\x83",
    b"\x0b",
    b"\x0c",
    b"\xc2\x85",
    b"0",
    b"a a__hw1 i\n",
];
fn signature_seeds() -> Vec<Vec<u8>> {
    ["v", "i", "vi", "ipjfd", "dddddddd", "", "vv", "iv"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
}
const SIG_DICT: &[&[u8]] = &[b"v", b"i", b"j", b"f", b"d", b"p", b"\xc3\xa9", b"e", b"I"];
fn protocol_seeds() -> Vec<Vec<u8>> {
    [
        r#"{"type":"hello","protocol":1,"role":"page","journal_epoch":null,"journal_seq":0}"#,
        r#"{"type":"hello","protocol":1,"role":"repl","journal_epoch":"abc","journal_seq":18446744073709551615}"#,
        r#"{"type":"eval","id":"e1","lang":"c","source":"int f(void){return 1;}","name":"x.c"}"#,
        r#"{"type":"eval","id":"e2","lang":"rust","source":"fn f(){}"}"#,
        r#"{"type":"ack","seq":3,"ok":true,"apply_ms":1.5,"error":null,"output":""}"#,
        r#"{"type":"ack","seq":3,"ok":false,"apply_ms":-1e308,"error":"boom","output":"\u0000"}"#,
        r#"{"type":"rollback","var":"step_particle"}"#,
        r#"{"type":"trap","seq":4,"var":"v","message":"unreachable"}"#,
        r#"{"type":"journal_reset"}"#,
        r#"{"type":"ping"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}
const PROTO_DICT: &[&[u8]] = &[
    b"\"type\"",
    b"\"hello\"",
    b"\"eval\"",
    b"\"ack\"",
    b"null",
    b"true",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\u0000",
    b"\\ud800",
    b"\"",
    b"\"page\"",
    b"\"repl\"",
    b"\"rust\"",
    b"\"seq\"",
    b"\"protocol\"",
    b"NaN",
    b"1.0",
];

fn wasm_seeds(corpus: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(corpus) {
        let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        // Many counter_generation-GEN*.wasm files are near-identical: keep a handful of each stem.
        let mut per_stem: HashMap<String, usize> = HashMap::new();
        for p in paths {
            if p.extension().and_then(|e| e.to_str()) != Some("wasm") {
                continue;
            }
            let stem = p
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .split('-')
                .next()
                .unwrap_or("")
                .to_string();
            let n = per_stem.entry(stem).or_default();
            *n += 1;
            if *n > 3 {
                continue;
            }
            if let Ok(b) = std::fs::read(&p) {
                if b.len() <= 2 << 20 {
                    out.push(b);
                }
            }
        }
    }
    // A minimal valid side module header as a fallback seed.
    out.push(b"\0asm\x01\0\0\0\0\x0d\x08dylink.0\x01\x04\0\0\0\0".to_vec());
    out
}
const WASM_DICT: &[&[u8]] = &[
    b"\0asm\x01\0\0\0",
    b"\x00\x08dylink.0",
    b"\x60\x00\x00",
    b"\x60\x01\x7f\x01\x7f",
    b"\x03env",
    b"\x06memory",
    b"\x07GOT.mem",
    b"\xff\xff\xff\xff\x0f",
    b"\x5e\x78\x00",
    b"\x50\x00",
];

// ---------------------------------------------------------------- driver

struct Target {
    name: &'static str,
    check: fn(&[u8]) -> Outcome,
    seeds: Vec<Vec<u8>>,
    dict: &'static [&'static [u8]],
}

fn run_one(check: fn(&[u8]) -> Outcome, input: &[u8]) -> Result<(Duration, String), String> {
    let t0 = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| check(input)));
    let dt = t0.elapsed();
    match r {
        Ok(Ok(signal)) => Ok((dt, signal)),
        Ok(Err(prop)) => Err(format!("property violated: {prop}")),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Err(format!("panic: {msg}"))
        }
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = arg(&args, "--seconds").map_or(60.0, |s| s.parse().expect("--seconds N"));
    let seed: u64 = arg(&args, "--seed").map_or(0x5eed_1234_abcd, |s| s.parse().expect("--seed N"));
    let hang = Duration::from_millis(
        arg(&args, "--hang-ms").map_or(1000, |s| s.parse().expect("--hang-ms N")),
    );
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus =
        arg(&args, "--corpus").map_or_else(|| here.join("../build/fixtures"), PathBuf::from);
    let crashes = here.join("crashes");
    let wanted: Vec<String> = arg(&args, "--targets")
        .unwrap_or_else(|| "manifest,signature,protocol,wasm".into())
        .split(',')
        .map(str::to_owned)
        .collect();

    let mut targets = vec![
        Target {
            name: "manifest",
            check: check_manifest,
            seeds: manifest_seeds(),
            dict: MANIFEST_DICT,
        },
        Target {
            name: "signature",
            check: check_signature,
            seeds: signature_seeds(),
            dict: SIG_DICT,
        },
        Target {
            name: "protocol",
            check: check_protocol,
            seeds: protocol_seeds(),
            dict: PROTO_DICT,
        },
        Target {
            name: "wasm",
            check: check_wasm,
            seeds: wasm_seeds(&corpus),
            dict: WASM_DICT,
        },
        Target {
            name: "eval",
            check: eval_target::check_eval,
            seeds: eval_target::eval_seeds(),
            dict: eval_target::EVAL_DICT,
        },
    ];
    targets.retain(|t| wanted.iter().any(|w| w == t.name));
    if targets.iter().any(|t| t.name == "eval") {
        if let Some(why) = eval_target::unavailable() {
            println!("hotwasm-fuzz: the eval target is skipped: {why}");
            targets.retain(|t| t.name != "eval");
        }
    }

    if let Some(file) = arg(&args, "--replay") {
        let name = arg(&args, "--target").expect("--replay FILE needs --target NAME");
        let t = targets
            .iter()
            .find(|t| t.name == name)
            .expect("unknown target");
        let input = std::fs::read(&file).expect("read replay file");
        let check = if name == "eval" && file.contains("-history-") {
            eval_target::replay_history
        } else {
            t.check
        };
        match run_one(check, &input) {
            Ok((dt, signal)) => println!("{name}: {file} handled in {dt:?} ({signal})"),
            Err(e) => {
                println!("{name}: {file}: {e}");
                std::process::exit(1);
            }
        }
        return;
    }

    // Panics are findings, reported by the driver; keep the default hook from flooding stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = Rng(seed | 1);
    let share = Duration::from_secs_f64(seconds / targets.len().max(1) as f64);
    let mut findings = 0usize;
    println!(
        "hotwasm-fuzz: seed {seed}, {seconds} s over {} targets, hang limit {hang:?}",
        targets.len()
    );
    println!(
        "| target | inputs | inputs/s | seeds | outcome classes kept | findings | slowest input |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for t in &targets {
        let mut pool = t.seeds.clone();
        let mut seen: HashSet<String> = HashSet::new();
        let start = Instant::now();
        let mut n = 0u64;
        let mut found = 0usize;
        let mut slowest = Duration::ZERO;
        // Seeds first, unmutated.
        let mut queue: Vec<Vec<u8>> = pool.clone();
        while start.elapsed() < share {
            let input = if let Some(s) = queue.pop() {
                s
            } else {
                // Half the time start from a real seed, so mutations stay near valid inputs.
                let mut x = if rng.chance(2) {
                    rng.pick(&t.seeds).clone()
                } else {
                    rng.pick(&pool).clone()
                };
                let other = if rng.chance(4) {
                    Some(rng.pick(&pool).clone())
                } else {
                    None
                };
                mutate(&mut rng, &mut x, t.dict, other.as_deref());
                x
            };
            n += 1;
            match run_one(t.check, &input) {
                Ok((dt, signal)) => {
                    slowest = slowest.max(dt);
                    if dt > hang {
                        found += 1;
                        save(
                            &crashes,
                            t.name,
                            found,
                            &input,
                            &format!("slow input: {dt:?}"),
                        );
                    }
                    // Crude coverage proxy: keep inputs reaching a new outcome class.
                    if pool.len() < 4096 && seen.insert(signal) && input.len() <= 4 << 20 {
                        pool.push(input);
                    }
                }
                Err(e) => {
                    found += 1;
                    save(&crashes, t.name, found, &input, &e);
                }
            }
            if found >= 20 {
                break;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {:.2} ms |",
            t.name,
            n,
            n as f64 / secs,
            t.seeds.len(),
            pool.len(),
            found,
            slowest.as_secs_f64() * 1e3
        );
        findings += found;
    }
    if findings > 0 {
        println!(
            "FINDINGS: {findings}; inputs saved under {}",
            crashes.display()
        );
        std::process::exit(1);
    }
    println!("no findings");
}

fn save(dir: &Path, target: &str, n: usize, input: &[u8], why: &str) {
    let _ = std::fs::create_dir_all(dir);
    let file = dir.join(format!("{target}-{n}.bin"));
    let _ = std::fs::write(&file, input);
    let _ = std::fs::write(dir.join(format!("{target}-{n}.txt")), why);
    eprintln!("finding in {target}: {why}\n  input: {}", file.display());
}
