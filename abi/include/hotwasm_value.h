/*
 * hotwasm_value.h: prints the value of an eval's final expression with its type. The server
 * includes it in the run-once function it generates for an eval that ends with an expression:
 *
 *     HOTWASM_VALUE(expr);
 *
 * evaluates `expr` once and records its value through the hotwasm_value_* functions of
 * hotwasm.h; the runtime formats it (no printf in the patch) and the page sends it back with
 * its ack. C picks the function by the expression's type with _Generic, every branch the same
 * call `(&tmp, sizeof tmp)` so each type-checks for every type; C++ by overloads.
 */
#ifndef HOTWASM_VALUE_H
#define HOTWASM_VALUE_H

#include "hotwasm.h"

#ifndef __cplusplus

#define HOTWASM__VALUE_INT(fn, name, ctype, report)                                             \
  static inline void fn(const void *p, size_t n) {                                              \
    (void)n;                                                                                    \
    report(name, *(ctype const *)p);                                                            \
  }
HOTWASM__VALUE_INT(hotwasm__value_int, "int", int, hotwasm_value_i64)
HOTWASM__VALUE_INT(hotwasm__value_uint, "unsigned int", unsigned int, hotwasm_value_u64)
HOTWASM__VALUE_INT(hotwasm__value_long, "long", long, hotwasm_value_i64)
HOTWASM__VALUE_INT(hotwasm__value_ulong, "unsigned long", unsigned long, hotwasm_value_u64)
HOTWASM__VALUE_INT(hotwasm__value_llong, "long long", long long, hotwasm_value_i64)
HOTWASM__VALUE_INT(hotwasm__value_ullong, "unsigned long long", unsigned long long,
                   hotwasm_value_u64)
HOTWASM__VALUE_INT(hotwasm__value_short, "short", short, hotwasm_value_i64)
HOTWASM__VALUE_INT(hotwasm__value_ushort, "unsigned short", unsigned short, hotwasm_value_u64)
HOTWASM__VALUE_INT(hotwasm__value_schar, "signed char", signed char, hotwasm_value_i64)
HOTWASM__VALUE_INT(hotwasm__value_uchar, "unsigned char", unsigned char, hotwasm_value_u64)
HOTWASM__VALUE_INT(hotwasm__value_char, "char", char, hotwasm_value_char)
HOTWASM__VALUE_INT(hotwasm__value_bool, "bool", _Bool, hotwasm_value_bool)
HOTWASM__VALUE_INT(hotwasm__value_float, "float", float, hotwasm_value_f32)
HOTWASM__VALUE_INT(hotwasm__value_double, "double", double, hotwasm_value_f64)
HOTWASM__VALUE_INT(hotwasm__value_ldouble, "long double", long double, hotwasm_value_f64)
HOTWASM__VALUE_INT(hotwasm__value_str, "char *", char *, hotwasm_value_str)
HOTWASM__VALUE_INT(hotwasm__value_cstr, "const char *", const char *, hotwasm_value_str)
#undef HOTWASM__VALUE_INT

static inline void hotwasm__value_ptr(const void *p, size_t n) {
  (void)n;
  hotwasm_value_ptr("pointer", *(const void *const *)p);
}
static inline void hotwasm__value_record(const void *p, size_t n) {
  hotwasm_value_bytes("struct", p, n);
}

/* __builtin_classify_type: 5 is a pointer; anything else left over is shown as bytes. */
#define HOTWASM__VALUE_FN(tmp)                                                                  \
  _Generic((tmp),                                                                               \
      int: hotwasm__value_int,                                                                  \
      unsigned int: hotwasm__value_uint,                                                        \
      long: hotwasm__value_long,                                                                \
      unsigned long: hotwasm__value_ulong,                                                      \
      long long: hotwasm__value_llong,                                                          \
      unsigned long long: hotwasm__value_ullong,                                                \
      short: hotwasm__value_short,                                                              \
      unsigned short: hotwasm__value_ushort,                                                    \
      signed char: hotwasm__value_schar,                                                        \
      unsigned char: hotwasm__value_uchar,                                                      \
      char: hotwasm__value_char,                                                                \
      _Bool: hotwasm__value_bool,                                                               \
      float: hotwasm__value_float,                                                              \
      double: hotwasm__value_double,                                                            \
      long double: hotwasm__value_ldouble,                                                      \
      char *: hotwasm__value_str,                                                               \
      const char *: hotwasm__value_cstr,                                                        \
      default: __builtin_choose_expr(__builtin_classify_type(tmp) == 5, hotwasm__value_ptr,     \
                                     hotwasm__value_record))

#define HOTWASM_VALUE(expr)                                                                     \
  do {                                                                                          \
    __auto_type hotwasm__tmp = (expr);                                                          \
    HOTWASM__VALUE_FN(hotwasm__tmp)(&hotwasm__tmp, sizeof hotwasm__tmp);                        \
  } while (0)

#else /* C++ */

namespace hotwasm_value_detail {
inline void report(bool v) { hotwasm_value_bool("bool", v); }
inline void report(char v) { hotwasm_value_char("char", v); }
inline void report(signed char v) { hotwasm_value_i64("signed char", v); }
inline void report(unsigned char v) { hotwasm_value_u64("unsigned char", v); }
inline void report(short v) { hotwasm_value_i64("short", v); }
inline void report(unsigned short v) { hotwasm_value_u64("unsigned short", v); }
inline void report(int v) { hotwasm_value_i64("int", v); }
inline void report(unsigned v) { hotwasm_value_u64("unsigned int", v); }
inline void report(long v) { hotwasm_value_i64("long", v); }
inline void report(unsigned long v) { hotwasm_value_u64("unsigned long", v); }
inline void report(long long v) { hotwasm_value_i64("long long", v); }
inline void report(unsigned long long v) { hotwasm_value_u64("unsigned long long", v); }
inline void report(float v) { hotwasm_value_f32("float", v); }
inline void report(double v) { hotwasm_value_f64("double", v); }
inline void report(long double v) { hotwasm_value_f64("long double", (double)v); }
inline void report(const char *v) { hotwasm_value_str("const char *", v); }
inline void report(char *v) { hotwasm_value_str("char *", v); }
inline void report(decltype(nullptr)) { hotwasm_value_ptr("nullptr_t", nullptr); }
template <class T> inline void report(T *v) { hotwasm_value_ptr("pointer", (const void *)v); }
/* Anything else with .c_str() and .size() (std::string) prints as a string; else as bytes. */
template <class T>
inline auto report_other(const T &v, int) -> decltype(v.c_str(), v.size(), void()) {
  hotwasm_value_str("std::string", v.c_str());
}
template <class T> inline void report_other(const T &v, long) {
  hotwasm_value_bytes("object", (const void *)&v, sizeof v);
}
template <class T> inline void report(const T &v) { report_other(v, 0); }
} // namespace hotwasm_value_detail

#define HOTWASM_VALUE(expr)                                                                     \
  do {                                                                                          \
    auto &&hotwasm__tmp = (expr);                                                               \
    ::hotwasm_value_detail::report(hotwasm__tmp);                                               \
  } while (0)

#endif /* __cplusplus */

#endif /* HOTWASM_VALUE_H */
