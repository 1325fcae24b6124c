//! `HOTWASM_FN` (abi/include/hotwasm_hot.h) compiled natively into a C host library that this
//! test binary loads: its constructors register every var with letters computed from the C
//! types, a new version reaches the C host's own calls, the plain build is a direct call that
//! registers nothing, and types no hot function can take fail the build naming the problem.
//! (tests/node/c-hosts.test.mjs does the same with emcc in wasm, and C++.)
#![cfg(feature = "hot-reload")]

mod util;

use hotwasm_runtime::{list, lookup, rollback_var};
use std::ffi::{c_void, CString};

/// A loaded C host library; never closed (the registry keeps pointers into it).
struct CHost(*mut c_void);

impl CHost {
    fn load(args: &[&str]) -> CHost {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let lib = util::compile("hosts/c_host.c", &args).unwrap_or_else(|e| panic!("{e}"));
        let path = CString::new(util::unique_copy(&lib)).unwrap();
        // SAFETY: a valid path; loading runs the host's constructors, which call
        // hotwasm_register_slot in this process (the test binary exports it: -rdynamic).
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        assert!(!handle.is_null(), "dlopen of the C host failed");
        CHost(handle)
    }

    fn function<F: Copy>(&self, name: &str) -> F {
        let name = CString::new(name).unwrap();
        // SAFETY: the handle is open; the symbol is checked for NULL below.
        let f = unsafe { libc::dlsym(self.0, name.as_ptr()) };
        assert!(!f.is_null());
        assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
        // SAFETY: callers name an exported function of c_host.c with exactly the type F.
        unsafe { std::mem::transmute_copy(&f) }
    }
}

/// The registry is one per process and the tests run in parallel: a test that reads or changes it
/// holds this lock, so one test's defines never show up in another's counts.
static REGISTRY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn registry() -> std::sync::MutexGuard<'static, ()> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

extern "C" fn scale_by_100(x: i32) -> i32 {
    x * 100
}

fn signature_of(name: &str) -> Option<String> {
    list()
        .into_iter()
        .find(|v| v.name == name)
        .map(|v| v.signature)
}

#[test]
fn a_c_host_registers_its_vars_at_load_and_its_own_calls_follow_a_new_version() {
    let _registry = registry();
    let host = CHost::load(&["-DHOTWASM_HOT_RELOAD"]);
    assert_eq!(signature_of("host_scale").as_deref(), Some("ii"));
    assert_eq!(signature_of("host_is_stormy").as_deref(), Some("iif"));
    assert_eq!(signature_of("host_tick").as_deref(), Some("v"));
    let run_scale: extern "C" fn(i32) -> i32 = host.function("run_scale");
    let run_stormy: extern "C" fn(i32, f32) -> i32 = host.function("run_stormy");
    assert_eq!(run_scale(3), 6);
    assert_eq!((run_stormy(1, 20.0), run_stormy(0, 20.0)), (1, 0));

    let default = lookup("host_scale").unwrap();
    let patched: extern "C" fn(i32) -> i32 = scale_by_100;
    // SAFETY: scale_by_100 is an extern "C" fn(i32) -> i32, the var's signature `ii`.
    unsafe { hotwasm_runtime::define("host_scale", "ii", patched as usize) }.unwrap();
    assert_eq!(run_scale(3), 300, "the C host calls through its slot");
    rollback_var("host_scale").unwrap();
    assert_eq!(run_scale(3), 6);
    assert_eq!(lookup("host_scale"), Some(default));
}

#[test]
fn the_plain_build_of_a_c_host_calls_directly_and_registers_nothing() {
    let _registry = registry();
    let versions = || list().iter().map(|v| v.history.len()).sum::<usize>();
    let before = versions();
    let host = CHost::load(&[]);
    let run_tick: extern "C" fn() -> i32 = host.function("run_tick");
    assert_eq!(run_tick(), 1);
    let run_scale: extern "C" fn(i32) -> i32 = host.function("run_scale");
    assert_eq!(run_scale(4), 8);
    assert_eq!(versions(), before, "no var registered or changed");
}

#[test]
fn types_no_hot_function_can_take_fail_the_build_naming_the_problem() {
    for (case, says) in [
        (
            "-DCASE_PARAM",
            "parameter `v` of a HOTWASM_FN has a type hot functions cannot take",
        ),
        (
            "-DCASE_RETURN",
            "the return type of HOTWASM_FN vec_make is not one hot functions can return",
        ),
    ] {
        let args = ["-DHOTWASM_HOT_RELOAD".to_string(), case.to_string()];
        let stderr = util::compile("hosts/not_abi_types.c", &args).unwrap_err();
        assert!(stderr.contains(says), "{case}: {stderr}");
    }
}
