// Inputs that end unfinished: see unfinished.h.

#include "unfinished.h"

#include "clang/Basic/DiagnosticIDs.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Lex/Lexer.h"
#include "clang/Lex/MacroInfo.h"
#include "clang/Lex/Preprocessor.h"
#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <string>
#include <vector>

using namespace clang;

namespace {

/// A construct the raw lexer saw opened and not yet closed.
struct Opened {
  tok::TokenKind kind;   // l_paren, l_square, l_brace, or hash (a conditional directive)
  SourceLocation at;
  std::string name;      // the macro a `(` calls, or the conditional's directive (`ifdef`)
  bool inElse = false;   // (conditionals) past their `#else`/`#elif`
  std::string openedBy;  // the macro whose expansion opens it (`#define OPEN TWICE(`)
};

/// The opener a closing token closes.
tok::TokenKind openerOf(tok::TokenKind close) {
  return close == tok::r_paren ? tok::l_paren : close == tok::r_square ? tok::l_square : tok::l_brace;
}

/// Applies the brackets of macro `mi`'s replacement (and of the macros it names, `depth` levels
/// down, within a token `budget`) to `brackets`, as if written at `at`: `#define OPEN TWICE(`
/// opens a `(` the raw text does not show, and `#define END }` closes a `{`.
void macroBrackets(Preprocessor &pp, const MacroInfo *mi, SourceLocation at, llvm::StringRef name,
                   std::vector<Opened> &brackets, int depth, int &budget) {
  for (const Token &t : mi->tokens()) {
    if (--budget < 0)
      return;
    if (t.isOneOf(tok::l_paren, tok::l_square, tok::l_brace))
      brackets.push_back({t.getKind(), at, "", false, name.str()});
    else if (t.isOneOf(tok::r_paren, tok::r_square, tok::r_brace)) {
      if (!brackets.empty() && brackets.back().kind == openerOf(t.getKind()))
        brackets.pop_back();
    } else if (IdentifierInfo *ii = t.getIdentifierInfo(); ii && depth > 0)
      if (const MacroInfo *inner = pp.getMacroInfo(ii); inner && inner != mi)
        macroBrackets(pp, inner, at, name, brackets, depth - 1, budget);
  }
}

/// Registers one of the session's own errors (or notes) with clang's diagnostics engine.
unsigned hotwasmDiag(CompilerInstance &ci, DiagnosticsEngine::Level level, llvm::StringRef format) {
  return ci.getDiagnostics().getDiagnosticIDs()->getCustomDiagID(
      static_cast<DiagnosticIDs::Level>(level), format);
}

/// The closing token of an opening one.
const char *closerOf(tok::TokenKind open) {
  return open == tok::l_paren ? ")" : open == tok::l_square ? "]" : "}";
}

/// clang's raw lexer over one input, keeping the last token it gave before the end.
struct RawReader {
  Lexer lexer;
  Token last;
  RawReader(FileID fid, SourceManager &sm, const LangOptions &opts)
      : lexer(fid, sm.getBufferOrFake(fid), sm, opts) {
    lexer.SetKeepWhitespaceMode(true); // an unterminated block comment is then a token
    last.startToken();
  }
  void LexFromRawLexer(Token &tok) {
    lexer.LexFromRawLexer(tok);
    if (tok.isNot(tok::eof))
      last = tok;
  }
};

/// A token the raw lexer could not finish (`tok::unknown`): an unterminated string or character
/// literal, or an unterminated block comment (raw lexers report these as such a token instead of
/// a diagnostic). Returns the error's format, or nullptr for any other unknown token.
const char *unfinishedToken(const SourceManager &sm, const Token &tok) {
  if (tok.isNot(tok::unknown))
    return nullptr;
  llvm::StringRef spelling(sm.getCharacterData(tok.getLocation()), tok.getLength());
  if (spelling.starts_with("/*"))
    return "the eval ends inside a '/*' comment opened here: close it with '*/'";
  if (spelling.find_first_of("\"'") != llvm::StringRef::npos)
    return "this string or character literal is not closed before the end of its line: add its "
           "closing quote (a string spanning lines needs a '\\' before each line break, or one "
           "string per line: \"a\" \"b\")";
  return nullptr;
}

/// What the raw reading of one input keeps besides its brackets.
struct RawState {
  std::vector<Opened> conds;             // open conditional directives
  std::vector<std::string> macroCalls;   // function-like macros the input itself defines
};

/// Reads a directive whose `#` the raw lexer just gave (`hash`): a conditional is pushed on
/// or popped off `state.conds`, a function-like `#define` noted; its other tokens are skipped.
/// Leaves in `tok` the first token after the directive.
void rawDirective(Preprocessor &pp, RawReader &lexer, const Token &hash, Token &tok,
                  RawState &state) {
  auto next = [&] { // the next token that is not whitespace or a comment within the line
    do
      lexer.LexFromRawLexer(tok);
    while (tok.isOneOf(tok::unknown, tok::comment) && !tok.isAtStartOfLine() &&
           !unfinishedToken(pp.getSourceManager(), tok));
  };
  next();
  if (tok.is(tok::eof) || tok.isAtStartOfLine())
    return; // the null directive
  if (tok.is(tok::raw_identifier)) {
    IdentifierInfo *name = pp.getIdentifierInfo(tok.getRawIdentifier());
    switch (name->getPPKeywordID()) {
    case tok::pp_if:
    case tok::pp_ifdef:
    case tok::pp_ifndef:
      state.conds.push_back({tok::hash, hash.getLocation(), name->getName().str()});
      break;
    case tok::pp_elif:
    case tok::pp_elifdef:
    case tok::pp_elifndef:
    case tok::pp_else:
      if (!state.conds.empty())
        state.conds.back().inElse = true;
      break;
    case tok::pp_endif:
      if (!state.conds.empty())
        state.conds.pop_back();
      break;
    case tok::pp_define:
      next();
      if (tok.is(tok::raw_identifier) && !tok.isAtStartOfLine()) {
        std::string macro = tok.getRawIdentifier().str();
        lexer.LexFromRawLexer(tok); // a function-like macro's `(` follows its name at once
        if (tok.is(tok::l_paren) && !tok.isAtStartOfLine())
          state.macroCalls.push_back(macro);
      }
      break;
    default:
      break;
    }
  }
  while (tok.isNot(tok::eof) && !tok.isAtStartOfLine())
    lexer.LexFromRawLexer(tok);
}

/// Reports an unfinished bracket or conditional of `open` (the innermost first), with a note
/// for each other one still open.
void reportOpened(CompilerInstance &ci, std::vector<Opened> &open) {
  DiagnosticsEngine &diags = ci.getDiagnostics();
  SourceManager &sm = ci.getSourceManager();
  Opened &last = open.back();
  unsigned line = sm.getPresumedLineNumber(last.at);
  if (last.kind == tok::hash) {
    diags.Report(last.at, hotwasmDiag(ci, DiagnosticsEngine::Error,
                                      "the eval ends inside '#%0' opened at line %1 without its "
                                      "'#endif': add '#endif' in the same eval"))
        << last.name << line;
  } else if (!last.openedBy.empty()) {
    diags.Report(last.at, hotwasmDiag(ci, DiagnosticsEngine::Error,
                                      "the eval ends inside an unfinished '%0' that macro '%1' "
                                      "opens at line %2: finish it with '%3'"))
        << tok::getPunctuatorSpelling(last.kind) << last.openedBy << line << closerOf(last.kind);
  } else if (!last.name.empty()) {
    diags.Report(last.at, hotwasmDiag(ci, DiagnosticsEngine::Error,
                                      "the eval ends inside the call of macro '%0' opened at "
                                      "line %1: close its arguments with ')'"))
        << last.name << line;
  } else {
    diags.Report(last.at, hotwasmDiag(ci, DiagnosticsEngine::Error,
                                      "the eval ends inside an unfinished '%0' opened at line %1: "
                                      "finish it with '%2' (an eval is complete statements, "
                                      "definitions or one expression)"))
        << tok::getPunctuatorSpelling(last.kind) << line << closerOf(last.kind);
  }
  unsigned note = hotwasmDiag(ci, DiagnosticsEngine::Note, "'%0' opened here is unfinished too");
  for (auto it = open.rbegin() + 1; it != open.rend(); ++it)
    diags.Report(it->at, note) << (it->kind == tok::hash ? "#" + it->name
                                                         : tok::getPunctuatorSpelling(it->kind));
}

} // namespace

namespace hotwasm {

/// (unfinished.h) Brackets in a directive and in the `#else` branches of a conditional are not
/// counted: each branch usually opens the same ones.
bool refuseUnfinished(CompilerInstance &ci, FileID fid) {
  SourceManager &sm = ci.getSourceManager();
  Preprocessor &pp = ci.getPreprocessor();
  DiagnosticsEngine &diags = ci.getDiagnostics();
  RawReader lexer(fid, sm, ci.getLangOpts());
  std::vector<Opened> brackets;
  RawState state;
  std::vector<Opened> &conds = state.conds;
  Token tok, prev;
  prev.startToken();
  lexer.LexFromRawLexer(tok);
  while (tok.isNot(tok::eof)) {
    if (tok.is(tok::hash) && tok.isAtStartOfLine()) {
      Token hash = tok;
      rawDirective(pp, lexer, hash, tok, state);
      continue;
    }
    bool counted = std::none_of(conds.begin(), conds.end(), [](auto &c) { return c.inElse; });
    if (tok.is(tok::unknown)) {
      if (const char *why = unfinishedToken(sm, tok)) {
        diags.Report(tok.getLocation(), hotwasmDiag(ci, DiagnosticsEngine::Error, why));
        return true;
      }
    } else if (counted && tok.isOneOf(tok::l_paren, tok::l_square, tok::l_brace)) {
      std::string macro;
      if (tok.is(tok::l_paren) && prev.is(tok::raw_identifier)) {
        llvm::StringRef name = prev.getRawIdentifier();
        MacroInfo *mi = pp.getMacroInfo(pp.getIdentifierInfo(name));
        if ((mi && mi->isFunctionLike()) || llvm::is_contained(state.macroCalls, name))
          macro = name.str();
      }
      brackets.push_back({tok.getKind(), tok.getLocation(), macro});
    } else if (counted && tok.isOneOf(tok::r_paren, tok::r_square, tok::r_brace)) {
      tok::TokenKind opener = openerOf(tok.getKind());
      // Only the innermost opener's own closer closes anything: the parser does not take
      // `({)` as closing its `{` either (it skips the stray `)` inside the braces and loops at
      // the end, as fuzzing found). A stray closer is left to the parser to report.
      if (!brackets.empty() && brackets.back().kind == opener)
        brackets.pop_back();
    } else if (counted && tok.is(tok::raw_identifier)) {
      // A macro defined by an earlier eval (or a header) may open or close brackets itself.
      if (const MacroInfo *mi = pp.getMacroInfo(pp.getIdentifierInfo(tok.getRawIdentifier()))) {
        int budget = 4096;
        macroBrackets(pp, mi, tok.getLocation(), tok.getRawIdentifier(), brackets, 4, budget);
      }
    }
    if (!tok.isOneOf(tok::unknown, tok::comment)) // whitespace and comments are kept too
      prev = tok;
    lexer.LexFromRawLexer(tok);
  }
  if (!conds.empty() || !brackets.empty()) {
    reportOpened(ci, conds.empty() ? brackets : conds);
    return true;
  }
  // The session ends every input with a line break, which the last token (whitespace, in
  // keep-whitespace mode) ends with; a gap between that token and the end means the line break
  // was spliced away by a `\` ending the input's last line.
  SourceLocation lastEnd = lexer.last.getLocation().getLocWithOffset(lexer.last.getLength());
  if (lexer.last.getLocation().isValid() && lastEnd != tok.getLocation()) {
    diags.Report(lastEnd, // the `\`
                 hotwasmDiag(ci, DiagnosticsEngine::Error,
                             "the eval's last line ends with a '\\' line continuation, so the eval "
                             "ends inside a continued line: remove the trailing '\\' or write the "
                             "continued line in the same eval"));
    return true;
  }
  return false;
}

} // namespace hotwasm
