/*
 * hotwasm.h: the registry ABI between a hotwasm host, its patches and the JS client.
 *
 * Every HOT_RELOAD host exports these functions (the runtime, linked into the host, defines
 * them). This header is the single source of truth: the Rust runtime's declarations
 * (runtime/src/bindings.rs) are generated from it with bindgen, and a test fails when they
 * are out of date (HOTWASM_BLESS=1 cargo test -p hotwasm-runtime --test bindings_are_current
 * rewrites them). It holds the registry only: an app's own shared types live in the app's
 * own header. C and C++ hosts declare hot functions with HOTWASM_FN (hotwasm_hot.h).
 *
 * A var is a named hot function. Its current implementation lives in a slot, a pointer-sized
 * cell: calls load the slot and call what it holds. A host owns the slots of the vars it
 * declares (registered at start-up); the runtime allocates the slots of vars that only patches
 * define. Patches reach every var through hotwasm_slot, so a redefinition reaches every caller.
 */
#ifndef HOTWASM_H
#define HOTWASM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a declaration in this header changes meaning. */
#define HOTWASM_ABI_VERSION 2

/* Status codes: 0 or a positive id is success; negatives are failures whose
 * message hotwasm_last_error() returns. */
typedef enum hotwasm_status {
  HOTWASM_OK = 0,
  HOTWASM_ERR_INVALID_ARGUMENT = -1, /* null or non-UTF-8 string, bad signature text */
  HOTWASM_ERR_UNKNOWN_VAR = -2,      /* no var of that name */
  HOTWASM_ERR_SIGNATURE = -3,        /* a signature differs from the var's */
  HOTWASM_ERR_LOAD = -4,             /* dlopen failed (dlerror text in the message) */
  HOTWASM_ERR_SYMBOL = -5,           /* dlsym failed for a manifest symbol */
  HOTWASM_ERR_MANIFEST = -6,         /* the manifest text is malformed */
  HOTWASM_ERR_NO_HISTORY = -7,       /* nothing to roll back to */
  HOTWASM_ERR_UNKNOWN_PATCH = -8,    /* no applied patch with that id */
  HOTWASM_ERR_PATCH_TYPES = -9,      /* the patch's wasm types contradict its manifest */
  HOTWASM_ERR_DUPLICATE_VAR = -10    /* a second host slot under a var's name */
} hotwasm_status;

/* The ABI version this host was built with (HOTWASM_ABI_VERSION). */
int32_t hotwasm_abi_version(void);

/* Defines a new var `name` with Emscripten signature letters `signature`
 * (return first: "ii" is int(int)) and initial implementation `fn`.
 * Redefining an existing var with the same signature is a swap; with another
 * signature it fails with HOTWASM_ERR_SIGNATURE. */
int32_t hotwasm_define(const char *name, const char *signature, void *fn);

/* Registers var `name`, whose implementation lives in `slot`, a cell the host owns for the
 * program's life; what the slot holds now is the default implementation (a function with
 * signature letters `signature`). From now on patches may replace it: the runtime writes each
 * new version into the slot, and the host calls through it (HOTWASM_FN does all of this).
 * Registering the same slot again does nothing; another slot under the same name fails with
 * HOTWASM_ERR_DUPLICATE_VAR. A var patches asked for before (pending) takes this slot's
 * default. Called from constructors, before main. */
int32_t hotwasm_register_slot(const char *name, const char *signature, void **slot);

/* Gives the runtime an all-hot host's directory (docs/ALL-HOT.md; `hotwasm build --hot` generates
 * the call): `count` functions, `names` sorted by their bytes, each with its signature letters
 * and its slot (0 when the linked host does not have the function). Nothing is registered now:
 * a function becomes a var, with the host's slot and default, when a patch, hotwasm_slot or
 * hotwasm_lookup first names it. The arrays must live as long as the program. Called once, from
 * a constructor, before main. */
int32_t hotwasm_register_directory(const char *const *names, const char *const *signatures,
                                   void **slots, uint32_t count);

/* The slot of var `name`, for patch trampolines: the address stays valid and keeps holding the
 * var's current implementation for the rest of the program, so fetch it once (in a
 * constructor) and call `*slot` on every call. An unknown `name` becomes a pending var of
 * that signature whose slot holds NULL until a patch or the host defines it (a trampoline may
 * call hotwasm_unbound when it finds NULL). Returns NULL, with a message naming both
 * signatures in hotwasm_last_error(), when the var has another signature. */
void **hotwasm_slot(const char *name, const char *signature);

/* Reports a call of var `name` while it has no implementation (its slot holds NULL), on stderr
 * and in hotwasm_last_error(), then aborts: the page sees a trap it can roll back. */
__attribute__((noreturn)) void hotwasm_unbound(const char *name);

/* The current implementation of `name`, or NULL if there is no such var (or it is pending). */
void *hotwasm_lookup(const char *name);

/* Loads the side module at `path` (a path unique to this patch) and swaps in
 * every function the manifest lists, one "<var> <symbol> <signature>" per
 * line, all or nothing. Returns the new patch id (> 0) or a negative status;
 * on failure no var changes. An empty manifest loads the module (its
 * constructors run: globals, slots) and changes no var; its id still serves
 * hotwasm_run. */
int32_t hotwasm_apply(const char *path, const char *manifest);

/* Calls `symbol`, a void(void) function of applied patch `patch_id` (looked up in
 * that patch only), once, then flushes stdout: how an eval's `hotwasm_main` runs. */
int32_t hotwasm_run(int32_t patch_id, const char *symbol);

/* Restores the previous implementation of one var. */
int32_t hotwasm_rollback_var(const char *name);

/* Restores, for every var patch `patch_id` changed, the implementation it had
 * before that patch, if the var still runs that patch's code. */
int32_t hotwasm_rollback_patch(int32_t patch_id);

/* JSON array of the vars that have an implementation, in registration order (the host's
 * vars first, registered before main):
 * [{"name","signature","version","history":[{"patch","symbol"}]}].
 * The string stays valid until the next call of hotwasm_list_json. */
const char *hotwasm_list_json(void);

/* The message of the last failure on this thread ("" if none). */
const char *hotwasm_last_error(void);

/* ---- State carried into a rebuilt host -----------------------------------------------------
 * When the dev server rebuilds the host (a save of one of its own sources), every page saves the
 * app's state, loads the new host and restores it there before replaying the journal. An app
 * opts in by registering two hooks, once, at start-up (Rust apps: hotwasm_runtime::keep_state).
 * `save` hands its state to the runtime with hotwasm_state_put (any bytes, any encoding the app
 * picks; the new host must read what the old one wrote). `restore` gets those bytes in the new
 * host, after main, and returns 0 when it took them (anything else: the app keeps the state it
 * started with, and the page says so). Without hooks a page reloads and replays as before. */
typedef void (*hotwasm_save_hook)(void);
typedef int32_t (*hotwasm_restore_hook)(const uint8_t *bytes, uint32_t len);

/* Registers the app's state hooks (registering again replaces them). */
int32_t hotwasm_state_hooks(hotwasm_save_hook save, hotwasm_restore_hook restore);

/* Called by the save hook: the state to carry over, copied (a second call replaces it). */
int32_t hotwasm_state_put(const void *bytes, uint32_t len);

/* 1 when the app registered state hooks, else 0. */
int32_t hotwasm_state_has_hooks(void);

/* For the JS client: runs the save hook; returns the length of the saved bytes (read them at
 * hotwasm_state_data()) or a negative status. */
int32_t hotwasm_state_save(void);

/* The bytes the last hotwasm_state_save or hotwasm_state_reserve left in the runtime's buffer. */
const uint8_t *hotwasm_state_data(void);

/* For the JS client: a buffer of `len` bytes to write saved state into before restoring. */
uint8_t *hotwasm_state_reserve(uint32_t len);

/* For the JS client: hands the first `len` bytes of the buffer to the restore hook. */
int32_t hotwasm_state_restore(uint32_t len);

/* ---- Values: how an eval's final expression is printed (the generated run-once code calls
 * one of these; hotwasm_value.h picks which from the expression's type). Each records the
 * value, formatted by the runtime, replacing any earlier one; `type` is the C type's name as
 * shown to the user (a NUL-terminated string). */
void hotwasm_value_i64(const char *type, int64_t value);
void hotwasm_value_u64(const char *type, uint64_t value);
void hotwasm_value_f64(const char *type, double value);  /* shortest round-trip text */
void hotwasm_value_f32(const char *type, float value);   /* shortest round-trip text */
void hotwasm_value_bool(const char *type, int32_t value); /* true / false */
void hotwasm_value_char(const char *type, int32_t value); /* 'c', escaped */
void hotwasm_value_ptr(const char *type, const void *value); /* 0x hex address or NULL */
void hotwasm_value_str(const char *type, const char *value); /* quoted, escaped, or NULL */
/* `size` bytes at `value` (a struct or union): shown as its size and bytes in hex. */
void hotwasm_value_bytes(const char *type, const void *value, size_t size);
/* Text formatted by the caller (`len` bytes of UTF-8, e.g. Rust's Debug output). */
void hotwasm_value_text(const char *type, const char *text, size_t len);
/* The value recorded since the last call, as JSON {"type":"...","text":"..."}, or NULL if
 * none; clears it. The string stays valid until the next call (the page calls this after
 * running an eval's run-once function). */
const char *hotwasm_take_value(void);

#ifdef __cplusplus
}
#endif

#endif /* HOTWASM_H */
