/*
 * hotwasm_hot.h: hot functions for C and C++ hosts (the C twin of Rust's `hot_fn!`).
 *
 *     #include "hotwasm_hot.h"
 *
 *     HOTWASM_FN(uint32_t, body_color, const Scene *, scene, const Body *, b) {
 *       return b->rgba;
 *     }
 *     HOTWASM_FN(void, reset_counter) { counter = 0; }      // no parameters
 *
 * The arguments are the return type, the var's name, then each parameter as a `type, name`
 * pair (up to 16 parameters). The braces after the macro are the default body.
 *
 * With HOTWASM_HOT_RELOAD defined (hotwasm's HOT_RELOAD build defines it) this declares:
 *   - a static slot holding the current implementation, initialised to the default body;
 *   - `name(...)`, an ordinary function (external linkage) that calls through the slot: one
 *     load and one indirect call, nothing else;
 *   - an entry {name, signature, slot} in the data section `hotwasm_slots`: one constructor
 *     (`__attribute__((constructor))`, before `main`) registers every entry with the runtime
 *     (hotwasm_register_slot). A program that includes this header with HOTWASM_HOT_RELOAD
 *     needs at least one HOTWASM_FN (the linker defines the section's bounds from it).
 * Without it, `name(...)` is the default body itself: a plain function, a direct call. So it is
 * with HOTWASM_ALL_HOT (an all-hot build, docs/ALL-HOT.md), whose rewrite makes every function
 * hot, marked or not.
 *
 * The signature letters are computed at compile time from the declared types (C11 `_Generic`,
 * C++ templates), so they can never disagree with the declaration: integers up to 32 bits,
 * `bool` and enums are `i`, 64-bit integers `j`, `float` `f`, `double` `d`, pointers (and C++
 * references) `p`, a `void` return `v`. Any other type (a struct by value, `long double`) fails
 * the build with a message naming the parameter or the function.
 *
 * A function-pointer parameter needs a typedef (`typedef int (*int_fn)(int);` then `int_fn, f`):
 * the macro writes `type name`.
 *
 * Why `type, name` pairs and not `(const Scene *scene, const Body *b)`: the function of the
 * var's name must pass its arguments on to the slot, and the preprocessor cannot take a name
 * out of a declaration; the pairs give it both halves.
 *
 * Write each HOTWASM_FN once, in a .c/.cpp file (it defines the function); other files declare
 * it as usual (`uint32_t body_color(const Scene *scene, const Body *b);`), and patches that
 * call or redefine it use the same prototype.
 *
 * Compiles without warnings under -Wall -Wextra in C99..C23 and C++11..C++20 (clang/emcc). With
 * -pedantic before C23/C++20, a HOTWASM_FN without parameters warns that an empty variadic
 * macro argument is an extension (-Wno-c23-extensions / -Wno-c++20-extensions).
 *
 * A registration failure (two hot functions with one name in the same program) is printed to
 * stderr at start-up with hotwasm_last_error()'s message; the function then keeps working but
 * cannot be patched.
 */
#ifndef HOTWASM_HOT_H
#define HOTWASM_HOT_H

#ifdef HOTWASM_HOT_RELOAD
#include <stdio.h>
#include "hotwasm.h"
#endif

/* ---- signature letters ------------------------------------------------ */

#ifdef __cplusplus
namespace hotwasm_detail {
template <class T> struct is_pointer { static constexpr bool value = false; };
template <class T> struct is_pointer<T *> { static constexpr bool value = true; };
template <class T> struct is_pointer<T *const> { static constexpr bool value = true; };
template <class T> struct is_pointer<T *volatile> { static constexpr bool value = true; };
template <class T> struct is_pointer<T *const volatile> { static constexpr bool value = true; };
template <class T> struct strip { typedef T type; };
template <class T> struct strip<const T> { typedef T type; };
template <class T> struct strip<volatile T> { typedef T type; };
template <class T> struct strip<const volatile T> { typedef T type; };
template <class T> struct value_letter {
  /* An enum passes as its underlying integer: its size decides (`__is_enum` is the clang
   * builtin libc++'s <type_traits> uses; no header needed). */
  static constexpr char value = __is_enum(T) ? (sizeof(T) == 8 ? 'j' : 'i') : is_pointer<T>::value ? 'p' : 0;
};
#define HOTWASM__INT_LETTER(T, L) template <> struct value_letter<T> { static constexpr char value = L; };
HOTWASM__INT_LETTER(bool, 'i')
HOTWASM__INT_LETTER(char, 'i')
HOTWASM__INT_LETTER(signed char, 'i')
HOTWASM__INT_LETTER(unsigned char, 'i')
HOTWASM__INT_LETTER(short, 'i')
HOTWASM__INT_LETTER(unsigned short, 'i')
HOTWASM__INT_LETTER(wchar_t, 'i')
HOTWASM__INT_LETTER(char16_t, 'i')
HOTWASM__INT_LETTER(char32_t, 'i')
#ifdef __cpp_char8_t
HOTWASM__INT_LETTER(char8_t, 'i')
#endif
HOTWASM__INT_LETTER(int, 'i')
HOTWASM__INT_LETTER(unsigned int, 'i')
HOTWASM__INT_LETTER(long, sizeof(long) == 8 ? 'j' : 'i')
HOTWASM__INT_LETTER(unsigned long, sizeof(long) == 8 ? 'j' : 'i')
HOTWASM__INT_LETTER(long long, 'j')
HOTWASM__INT_LETTER(unsigned long long, 'j')
HOTWASM__INT_LETTER(float, 'f')
HOTWASM__INT_LETTER(double, 'd')
HOTWASM__INT_LETTER(void, 'v')
#undef HOTWASM__INT_LETTER
template <class T> struct letter { static constexpr char value = value_letter<typename strip<T>::type>::value; };
template <class T> struct letter<T &> { static constexpr char value = 'p'; };
template <class T> struct letter<T &&> { static constexpr char value = 'p'; };
} /* namespace hotwasm_detail */
#define HOTWASM_LETTER(T) (::hotwasm_detail::letter<T>::value)
#define HOTWASM__STATIC_ASSERT(c, msg) static_assert(c, msg)
#else
/* `(T){0}` is never evaluated: `_Generic` only looks at its type (qualifiers dropped). An enum
 * matches its compatible integer type. Pointers fall to `default`, which checks with clang's
 * `__builtin_classify_type` (5: pointer) that it really is one. */
#define HOTWASM_LETTER(T)                                                                    \
  _Generic((T){0},                                                                           \
      _Bool: 'i', char: 'i', signed char: 'i', unsigned char: 'i', short: 'i',               \
      unsigned short: 'i', int: 'i', unsigned int: 'i', long: (sizeof(long) == 8 ? 'j' : 'i'), \
      unsigned long: (sizeof(long) == 8 ? 'j' : 'i'), long long: 'j', unsigned long long: 'j', \
      float: 'f', double: 'd',                                                               \
      default: (__builtin_classify_type((T){0}) == 5 ? 'p' : 0))
#define HOTWASM__STATIC_ASSERT(c, msg) _Static_assert(c, msg)
#endif

/* ---- preprocessor plumbing (not API) ----------------------------------- */

#define HOTWASM__CAT(a, b) HOTWASM__CAT_(a, b)
#define HOTWASM__CAT_(a, b) a##b
#define HOTWASM__SECOND(a, b, ...) b
#define HOTWASM__SECOND_OF(...) HOTWASM__SECOND(__VA_ARGS__)
/* 1 when the return type is exactly the token `void`, else 0. */
#define HOTWASM__IS_VOID(R) HOTWASM__SECOND_OF(HOTWASM__CAT(HOTWASM__VOID_PROBE_, R), 0, ~)
#define HOTWASM__VOID_PROBE_void ~, 1

/* Number of `type, name` pairs in the arguments (0..16). */
#define HOTWASM__NPAIRS(...)                                                                   \
  HOTWASM__NPAIRS_(~ __VA_OPT__(,) __VA_ARGS__, 16, x, 15, x, 14, x, 13, x, 12, x, 11, x, 10, x, 9, x, 8, x, \
                   7, x, 6, x, 5, x, 4, x, 3, x, 2, x, 1, x, 0)
#define HOTWASM__NPAIRS_(_0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5, a6, b6, a7, b7, a8, b8, a9, \
                         b9, a10, b10, a11, b11, a12, b12, a13, b13, a14, b14, a15, b15, a16,     \
                         b16, n, ...)                                                            \
  n

/* HOTWASM__MAP(N, F, S, pairs...): F(type, name) for each pair, separated by S(). */
#define HOTWASM__MAP(n, F, S, ...) HOTWASM__CAT(HOTWASM__MAP_, n)(F, S __VA_OPT__(,) __VA_ARGS__)
#define HOTWASM__MAP_0(F, S)
#define HOTWASM__MAP_1(F, S, T, a) F(T, a)
#define HOTWASM__MAP_2(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_1(F, S, __VA_ARGS__)
#define HOTWASM__MAP_3(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_2(F, S, __VA_ARGS__)
#define HOTWASM__MAP_4(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_3(F, S, __VA_ARGS__)
#define HOTWASM__MAP_5(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_4(F, S, __VA_ARGS__)
#define HOTWASM__MAP_6(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_5(F, S, __VA_ARGS__)
#define HOTWASM__MAP_7(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_6(F, S, __VA_ARGS__)
#define HOTWASM__MAP_8(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_7(F, S, __VA_ARGS__)
#define HOTWASM__MAP_9(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_8(F, S, __VA_ARGS__)
#define HOTWASM__MAP_10(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_9(F, S, __VA_ARGS__)
#define HOTWASM__MAP_11(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_10(F, S, __VA_ARGS__)
#define HOTWASM__MAP_12(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_11(F, S, __VA_ARGS__)
#define HOTWASM__MAP_13(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_12(F, S, __VA_ARGS__)
#define HOTWASM__MAP_14(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_13(F, S, __VA_ARGS__)
#define HOTWASM__MAP_15(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_14(F, S, __VA_ARGS__)
#define HOTWASM__MAP_16(F, S, T, a, ...) F(T, a) S() HOTWASM__MAP_15(F, S, __VA_ARGS__)

#define HOTWASM__COMMA() ,
#define HOTWASM__NOTHING()
#define HOTWASM__PARAM(T, a) T a
#define HOTWASM__ARG(T, a) a
#define HOTWASM__PARAM_LETTER(T, a) , HOTWASM_LETTER(T)
#define HOTWASM__CHECK_PARAM(T, a)                                                              \
  HOTWASM__STATIC_ASSERT(HOTWASM_LETTER(T) != 0 && HOTWASM_LETTER(T) != 'v',                    \
                         "parameter `" #a "` of a HOTWASM_FN has a type hot functions cannot "  \
                         "take (use integers, bool, enums, float, double or pointers)");

/* The parameter list: `T1 a1, T2 a2` or `void`. */
#define HOTWASM__PARAMS(n, ...)                                                                 \
  HOTWASM__CAT(HOTWASM__PARAMS_, HOTWASM__CAT(HOTWASM__IS_ZERO_, n))(n __VA_OPT__(,) __VA_ARGS__)
#define HOTWASM__IS_ZERO_0 0
#define HOTWASM__IS_ZERO_1 N
#define HOTWASM__IS_ZERO_2 N
#define HOTWASM__IS_ZERO_3 N
#define HOTWASM__IS_ZERO_4 N
#define HOTWASM__IS_ZERO_5 N
#define HOTWASM__IS_ZERO_6 N
#define HOTWASM__IS_ZERO_7 N
#define HOTWASM__IS_ZERO_8 N
#define HOTWASM__IS_ZERO_9 N
#define HOTWASM__IS_ZERO_10 N
#define HOTWASM__IS_ZERO_11 N
#define HOTWASM__IS_ZERO_12 N
#define HOTWASM__IS_ZERO_13 N
#define HOTWASM__IS_ZERO_14 N
#define HOTWASM__IS_ZERO_15 N
#define HOTWASM__IS_ZERO_16 N
#define HOTWASM__PARAMS_0(n) void
#define HOTWASM__PARAMS_N(n, ...) HOTWASM__MAP(n, HOTWASM__PARAM, HOTWASM__COMMA, __VA_ARGS__)

/* ---- the macro ---------------------------------------------------------- */

/* An all-hot build (`[hot] mode = "all"`, docs/ALL-HOT.md) defines HOTWASM_ALL_HOT too: there
 * every function is hot through the build's rewrite, so a HOTWASM_FN is a plain function like
 * any other (no second slot). */
#if defined(HOTWASM_HOT_RELOAD) && !defined(HOTWASM_ALL_HOT)

/* Every HOTWASM_FN puts one entry {name, signature, slot} into the data section
 * `hotwasm_slots`; ONE constructor walks the section (the linker's __start_/__stop_ symbols)
 * and registers them all. Measured on a host with 1,000 hot functions: one constructor per
 * function cost ~13 ms of start-up in V8 (each is a function compiled lazily on its first
 * call, plus its error path), the walker a loop. The walker is a weak hidden definition in
 * every file that uses HOTWASM_FN, so the program (or shared library) keeps one; the linker
 * lists it once per such file in the constructors, hence the `done` flag. */
#ifdef __cplusplus
extern "C" {
#endif
struct hotwasm__slot_entry {
  const char *name;
  const char *signature;
  void **slot;
};
extern const struct hotwasm__slot_entry __start_hotwasm_slots[] __attribute__((visibility("hidden")));
extern const struct hotwasm__slot_entry __stop_hotwasm_slots[] __attribute__((visibility("hidden")));
__attribute__((weak, visibility("hidden"), constructor)) void hotwasm__register_all(void) {
  static int done;
  if (done) return;
  done = 1;
  for (const struct hotwasm__slot_entry *e = __start_hotwasm_slots; e < __stop_hotwasm_slots; e++)
    if (hotwasm_register_slot(e->name, e->signature, e->slot) < 0)
      fprintf(stderr, "hotwasm: hot function %s is not hot: %s\n", e->name, hotwasm_last_error());
}
#ifdef __cplusplus
}
#endif

#define HOTWASM_FN(R, name, ...)                                                                \
  HOTWASM__FN_HOT(HOTWASM__IS_VOID(R), R, name, HOTWASM__NPAIRS(__VA_ARGS__) __VA_OPT__(,) __VA_ARGS__)
#define HOTWASM__FN_HOT(is_void, R, name, n, ...) HOTWASM__FN_HOT_(is_void, R, name, n __VA_OPT__(,) __VA_ARGS__)
#define HOTWASM__FN_HOT_(is_void, R, name, n, ...)                                              \
  static R name##_hotwasm_default(HOTWASM__PARAMS(n __VA_OPT__(,) __VA_ARGS__));                            \
  /* The slot: the current implementation. The runtime writes it; calls read it once, with a     \
   * relaxed atomic load (a plain load in a build without threads; in a -pthread host the slot is \
   * read on worker threads while the main thread swaps it: docs/THREADS.md). */                 \
  static R (*name##_hotwasm_slot)(HOTWASM__PARAMS(n __VA_OPT__(,) __VA_ARGS__)) = name##_hotwasm_default;  \
  R name(HOTWASM__PARAMS(n __VA_OPT__(,) __VA_ARGS__)) {                                                   \
    HOTWASM__CAT(HOTWASM__RETURN_, is_void)                                                      \
    __atomic_load_n(&name##_hotwasm_slot, __ATOMIC_RELAXED)(HOTWASM__MAP(n, HOTWASM__ARG, HOTWASM__COMMA __VA_OPT__(,) __VA_ARGS__)); \
  }                                                                                             \
  HOTWASM__MAP(n, HOTWASM__CHECK_PARAM, HOTWASM__NOTHING __VA_OPT__(,) __VA_ARGS__)                         \
  HOTWASM__STATIC_ASSERT(HOTWASM__RETURN_LETTER(is_void, R) != 0,                               \
                         "the return type of HOTWASM_FN " #name " is not one hot functions can " \
                         "return (use void, integers, bool, enums, float, double or pointers)"); \
  static const char name##_hotwasm_signature[] = {                                              \
      HOTWASM__RETURN_LETTER(is_void, R) HOTWASM__MAP(n, HOTWASM__PARAM_LETTER, HOTWASM__NOTHING __VA_OPT__(,) __VA_ARGS__), 0}; \
  /* Data, not code: hotwasm__register_all registers every entry of the section. */          \
  __attribute__((used, section("hotwasm_slots"), aligned(sizeof(void *)))) static const struct  \
      hotwasm__slot_entry name##_hotwasm_entry = {#name, name##_hotwasm_signature, (void **)&name##_hotwasm_slot};  \
  static R name##_hotwasm_default(HOTWASM__PARAMS(n __VA_OPT__(,) __VA_ARGS__))
#define HOTWASM__RETURN_0 return
#define HOTWASM__RETURN_1
#define HOTWASM__RETURN_LETTER(is_void, R) HOTWASM__CAT(HOTWASM__RETURN_LETTER_, is_void)(R)
#define HOTWASM__RETURN_LETTER_0(R) HOTWASM_LETTER(R)
#define HOTWASM__RETURN_LETTER_1(R) 'v'

#else /* plain or all-hot build: the function itself (all-hot: made hot by the rewrite) */

#define HOTWASM_FN(R, name, ...) HOTWASM__FN_PLAIN(R, name, HOTWASM__NPAIRS(__VA_ARGS__) __VA_OPT__(,) __VA_ARGS__)
#define HOTWASM__FN_PLAIN(R, name, n, ...) R name(HOTWASM__PARAMS(n __VA_OPT__(,) __VA_ARGS__))

#endif

#endif /* HOTWASM_HOT_H */
