// hotwasm-incremental: inputs that end inside an unfinished construct.
//
// An input that ends inside a brace, parenthesis or bracket makes clang 19's parser loop for
// ever: in incremental mode each input ends with annot_repl_input_end, not eof, and several of
// its recovery loops (a compound statement's, a macro call's argument list) stop only at eof
// (llvm/llvm-project PR 127569, still open upstream; cling checks its input first for the same
// reason: its InputValidator). So each input is first read by clang's own lexer, raw (no
// macro expansion, no directive run, nothing changed in the session), and one that ends inside
// an unfinished construct is refused with an error saying what is open and how to finish it.

#pragma once

#include "clang/Basic/SourceLocation.h"

namespace clang {
class CompilerInstance;
}

namespace hotwasm {

/// Whether the input in `fid` ends inside an unfinished construct (a `{`, `(` or `[`, a macro
/// call, a string or character literal, a block comment, a `#if` without `#endif`, or a
/// trailing `\` line continuation), read by clang's raw lexer; if so, reports it as an error
/// through `ci`'s diagnostics engine. Nothing of the session changes either way.
bool refuseUnfinished(clang::CompilerInstance &ci, clang::FileID fid);

} // namespace hotwasm
