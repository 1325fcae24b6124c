//! The loader thread of a host with threads: `hotwasm_apply_on_loader` hands an apply to a
//! pthread of its own, so the dynamic linker's sync of every thread blocks that thread, not the
//! page's main thread (docs/THREADS.md, "When a worker loads a patch").
//!
//! A `dlopen` (and a `dlsym` that adds a table entry) on the main thread waits, blocking, until
//! every running thread loaded the patch; a worker asleep in a wait Emscripten does not slice
//! (`pthread_barrier_wait`) never does, and the page freezes. On any other thread Emscripten
//! takes its asynchronous path: the main thread loads the patch from its event loop, and a
//! thread asleep in a wait counts as synced at once (it loads the patch before its wait returns,
//! before it can call anything). The slots are swapped after `dlopen` and every `dlsym`
//! returned, so no thread calls code it has not loaded.
//!
//! The runtime is compiled without atomics (docs/THREADS.md): running it here is sound because
//! the page's client calls no runtime function while an apply it handed over runs (it awaits the
//! result word), so one thread at a time runs runtime code; the hand-over itself goes through the
//! C library's mutex and condition variable, which are atomic.

use crate::error::HotError;
use std::cell::UnsafeCell;
use std::ffi::{c_char, c_void, CStr};

extern "C" {
    /// Emscripten's futex wake (`memory.atomic.notify`): wakes the page's `Atomics.waitAsync`.
    fn emscripten_futex_wake(addr: *const c_void, count: i32) -> i32;
}

/// The loader thread's stack: the apply reads and checks the whole patch module.
const STACK_BYTES: usize = 1 << 20;

/// One apply handed over: the strings and the result word stay the caller's until it is set.
struct Job {
    path: *const c_char,
    manifest: *const c_char,
    run: *const c_char,
    done: *mut i32,
}

struct Loader {
    lock: UnsafeCell<libc::pthread_mutex_t>,
    wake: UnsafeCell<libc::pthread_cond_t>,
    job: UnsafeCell<Option<Job>>,
    started: UnsafeCell<bool>,
}

// SAFETY: `job` and `started` are only read or written with `lock` held.
unsafe impl Sync for Loader {}

static LOADER: Loader = Loader {
    lock: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
    wake: UnsafeCell::new(libc::PTHREAD_COND_INITIALIZER),
    job: UnsafeCell::new(None),
    started: UnsafeCell::new(false),
};

/// Applies the patch at `path` on the loader thread (started on the first call) and returns at
/// once: 0 when handed over, or a negative status (with `hotwasm_last_error`). When the apply
/// ends, the loader writes `hotwasm_apply`'s result (a patch id > 0 or a negative status) into
/// `*done` and wakes its waiters. `run`, when not NULL, names the patch's run-once function: the
/// loader looks it up too, so `hotwasm_run` on the main thread adds no table entry (which would
/// sync every thread again, blocking).
///
/// # Safety
/// As `hotwasm_apply`, and: `path`, `manifest` and `run` stay valid and `*done` stays 0 and
/// untouched until the loader wrote it; the caller calls no other runtime function meanwhile.
#[no_mangle]
pub unsafe extern "C" fn hotwasm_apply_on_loader(
    path: *const c_char,
    manifest: *const c_char,
    run: *const c_char,
    done: *mut i32,
) -> i32 {
    if path.is_null() || manifest.is_null() || done.is_null() {
        return crate::c_api::fail(HotError::InvalidArgument(
            "hotwasm_apply_on_loader needs a path, a manifest and a result word".into(),
        ));
    }
    let job = Job {
        path,
        manifest,
        run,
        done,
    };
    // SAFETY: LOADER's fields are only touched with its lock held (here and in `next_job`).
    unsafe {
        libc::pthread_mutex_lock(LOADER.lock.get());
        let result = hand_over(job);
        libc::pthread_mutex_unlock(LOADER.lock.get());
        result
    }
}

/// Queues `job` and wakes (or starts) the loader.
///
/// # Safety
/// LOADER's lock is held.
unsafe fn hand_over(job: Job) -> i32 {
    // SAFETY: the lock is held (this function's contract).
    let (slot, started) = unsafe { (&mut *LOADER.job.get(), &mut *LOADER.started.get()) };
    if slot.is_some() {
        return crate::c_api::fail(HotError::InvalidArgument(
            "an apply is already under way on the loader thread: await it first".into(),
        ));
    }
    if !*started {
        if let Err(e) = start() {
            return crate::c_api::fail(e);
        }
        *started = true;
    }
    *slot = Some(job);
    // SAFETY: the condition variable is initialised and lives forever.
    unsafe { libc::pthread_cond_signal(LOADER.wake.get()) };
    0
}

/// Starts the loader thread, detached (it lives as long as the page).
fn start() -> Result<(), HotError> {
    // SAFETY: plain pthread calls on a local attribute and handle; `loader_main` has the entry
    // point's signature and takes no argument.
    let rc = unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        libc::pthread_attr_init(&mut attr);
        libc::pthread_attr_setstacksize(&mut attr, STACK_BYTES);
        libc::pthread_attr_setdetachstate(&mut attr, libc::PTHREAD_CREATE_DETACHED);
        let mut thread: libc::pthread_t = std::mem::zeroed();
        let rc = libc::pthread_create(&mut thread, &attr, loader_main, std::ptr::null_mut());
        libc::pthread_attr_destroy(&mut attr);
        rc
    };
    if rc != 0 {
        return Err(HotError::InvalidArgument(format!(
            "cannot start the loader thread (pthread_create: error {rc}); a host with threads \
             needs one thread more than the app starts"
        )));
    }
    Ok(())
}

/// Waits for the next job (asleep on the condition variable) and takes it.
fn next_job() -> Job {
    // SAFETY: LOADER's fields are only touched with its lock held.
    unsafe {
        libc::pthread_mutex_lock(LOADER.lock.get());
        let job = loop {
            if let Some(job) = (*LOADER.job.get()).take() {
                break job;
            }
            libc::pthread_cond_wait(LOADER.wake.get(), LOADER.lock.get());
        };
        libc::pthread_mutex_unlock(LOADER.lock.get());
        job
    }
}

extern "C" fn loader_main(_: *mut c_void) -> *mut c_void {
    loop {
        let job = next_job();
        // SAFETY: the strings and the module are as `hotwasm_apply_on_loader`'s contract says.
        let status = unsafe { crate::c_api::hotwasm_apply(job.path, job.manifest) };
        if status > 0 && !job.run.is_null() {
            // SAFETY: `run` is a NUL-terminated string (the contract); an error here is the
            // main thread's to report when it runs the function.
            if let Ok(symbol) = unsafe { CStr::from_ptr(job.run) }.to_str() {
                crate::loader::look_up(status as u32, symbol);
            }
        }
        // SAFETY: `done` is the caller's aligned result word, untouched by it until set; the
        // store is one aligned 32-bit write, then the futex wake (an atomic) signals it.
        unsafe {
            std::ptr::write_volatile(job.done, status);
            emscripten_futex_wake(job.done as *const c_void, i32::MAX);
        }
    }
}
