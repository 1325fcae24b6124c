// hotwasm-incremental: one clang CompilerInstance kept alive for a whole REPL session. Each
// input grows the same translation unit (clang's -fincremental-extensions, as clang-repl) and is
// emitted as its own wasm32 object; nothing is ever executed natively. The steps are those of
// clang's internal IncrementalParser (clang/lib/Interpreter), driven from public headers because
// clang::Interpreter::create insists on a native JIT. See ../shared notes and docs/INCREMENTAL.md.
//
// C interface (used by src/ffi.rs): every buffer handed out is malloc'd and freed by hw_buf_free.

#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/DeclContextInternals.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/Expr.h"
#include "clang/AST/GlobalDecl.h"
#include "clang/AST/RecordLayout.h"
#include "clang/Lex/Lexer.h"
#include "clang/Basic/DiagnosticOptions.h"
#include "clang/Basic/DiagnosticSema.h"
#include "clang/Basic/TargetInfo.h"
#include "clang/CodeGen/BackendUtil.h"
#include "clang/CodeGen/CodeGenAction.h"
#include "clang/CodeGen/ModuleBuilder.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/CompilerInvocation.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Frontend/MultiplexConsumer.h"
#include "clang/Lex/PPCallbacks.h"
#include "clang/Lex/Pragma.h"
#include "clang/Lex/Preprocessor.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "clang/Parse/Parser.h"
#include "clang/Sema/Lookup.h"
#include "clang/Sema/Sema.h"
#include "lld/Common/Driver.h"
#include "unfinished.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCAsmBackend.h"
#include "llvm/MC/MCAsmInfo.h"
#include "llvm/MC/MCCodeEmitter.h"
#include "llvm/MC/MCContext.h"
#include "llvm/MC/MCInstrInfo.h"
#include "llvm/MC/MCObjectFileInfo.h"
#include "llvm/MC/MCObjectWriter.h"
#include "llvm/MC/MCParser/MCAsmParser.h"
#include "llvm/MC/MCParser/MCTargetAsmParser.h"
#include "llvm/MC/MCRegisterInfo.h"
#include "llvm/MC/MCStreamer.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/MCTargetOptions.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

extern "C" {
void LLVMInitializeWebAssemblyTargetInfo();
void LLVMInitializeWebAssemblyTarget();
void LLVMInitializeWebAssemblyTargetMC();
void LLVMInitializeWebAssemblyAsmPrinter();
void LLVMInitializeWebAssemblyAsmParser();
}

LLD_HAS_DRIVER(wasm)

using namespace clang;

namespace {

// ---- diagnostics -------------------------------------------------------------------------

struct Diag {
  std::string severity, file, message;
  unsigned line = 0, column = 0;
  unsigned id = 0;
  SourceLocation at;
  /// The name an "undeclared identifier/function" error is about.
  std::string undeclared;
};

/// Keeps every diagnostic as data (file, line, column, severity, message), never as text.
class Collector : public DiagnosticConsumer {
public:
  std::vector<Diag> diags;
  /// An error saying a name is defined again: where, and where the earlier definition is
  /// (from the note that follows, when clang gives that note).
  struct Redefinition {
    SourceLocation at, previous;
    DeclarationName name;
  };
  /// Errors of the current input, and those that are redefinitions.
  unsigned errors = 0;
  std::vector<Redefinition> redefinitions;
  bool wantNote = false;

  /// The name a redefinition error is about (its first argument), when it is a name.
  static DeclarationName nameArg(const Diagnostic &info) {
    if (info.getNumArgs() == 0)
      return DeclarationName();
    switch (info.getArgKind(0)) {
    case DiagnosticsEngine::ak_identifierinfo:
      return DeclarationName(info.getArgIdentifier(0));
    case DiagnosticsEngine::ak_declarationname:
      return DeclarationName::getFromOpaqueInteger(info.getRawArg(0));
    case DiagnosticsEngine::ak_nameddecl:
      return reinterpret_cast<NamedDecl *>(info.getRawArg(0))->getDeclName();
    default:
      return DeclarationName();
    }
  }

  static bool isRedefinition(unsigned id) {
    return id == diag::err_redefinition || id == diag::err_redefinition_different_kind ||
           id == diag::err_redefinition_different_type ||
           id == diag::err_redefinition_different_typedef || id == diag::err_conflicting_types;
  }

  /// An error that a name used is declared nowhere (C's implicit declarations included).
  static bool isUndeclared(unsigned id) {
    return id == diag::err_undeclared_var_use || id == diag::err_undeclared_var_use_suggest ||
           id == diag::ext_implicit_function_decl_c99 || id == diag::warn_implicit_function_decl ||
           id == diag::ext_implicit_lib_function_decl_c99 ||
           id == diag::err_undeclared_use;
  }

  void startInput() {
    errors = 0;
    redefinitions.clear();
    wantNote = false;
  }

  void HandleDiagnostic(DiagnosticsEngine::Level level, const Diagnostic &info) override {
    DiagnosticConsumer::HandleDiagnostic(level, info);
    if (level >= DiagnosticsEngine::Error) {
      ++errors;
      wantNote = isRedefinition(info.getID());
      if (wantNote)
        redefinitions.push_back({info.getLocation(), SourceLocation(), nameArg(info)});
    } else if (level == DiagnosticsEngine::Note && wantNote &&
               (info.getID() == diag::note_previous_definition ||
                info.getID() == diag::note_previous_declaration)) {
      redefinitions.back().previous = info.getLocation();
      wantNote = false;
    }
    Diag d;
    switch (level) {
    case DiagnosticsEngine::Ignored: return;
    case DiagnosticsEngine::Note: d.severity = "note"; break;
    case DiagnosticsEngine::Remark: d.severity = "remark"; break;
    case DiagnosticsEngine::Warning: d.severity = "warning"; break;
    case DiagnosticsEngine::Error: d.severity = "error"; break;
    case DiagnosticsEngine::Fatal: d.severity = "fatal error"; break;
    }
    llvm::SmallString<256> text;
    info.FormatDiagnostic(text);
    d.message = std::string(text);
    if (info.hasSourceManager() && info.getLocation().isValid()) {
      PresumedLoc p = info.getSourceManager().getPresumedLoc(info.getLocation());
      if (p.isValid()) {
        d.file = p.getFilename();
        d.line = p.getLine();
        d.column = p.getColumn();
      }
    }
    d.id = info.getID();
    d.at = info.getLocation();
    if (isUndeclared(d.id))
      if (DeclarationName name = nameArg(info); name.isIdentifier())
        d.undeclared = name.getAsString();
    diags.push_back(std::move(d));
  }

  /// Drops the warnings that a value is unused (`-Wunused-value`, `-Wunused-comparison`,
  /// `-Wunused-result`) about the final expression of an input (at `range`): its value is printed, so
  /// it is used. Clang warns while parsing it, before it knows the `;` is missing.
  void forgiveUnusedValue(const SourceManager &sm, SourceRange range) {
    auto aboutValue = [&](const Diag &d) {
      if (d.severity != "warning" || d.at.isInvalid())
        return false;
      StringRef group = DiagnosticIDs::getWarningOptionForDiag(d.id);
      SourceLocation at = sm.getExpansionLoc(d.at);
      return (group == "unused-value" || group == "unused-comparison" ||
              group == "unused-result") &&
             sm.isPointWithin(at, sm.getExpansionLoc(range.getBegin()),
                              sm.getExpansionLoc(range.getEnd()));
    };
    diags.erase(std::remove_if(diags.begin(), diags.end(), aboutValue), diags.end());
  }
};

// ---- macros ------------------------------------------------------------------------------

/// Records the macros the current input defines or undefines (by the preprocessor, not by
/// reading text).
class MacroRecorder : public PPCallbacks {
public:
  const SourceManager *sm = nullptr;
  FileID current;
  std::vector<std::pair<std::string, bool>> changes; // (name, defined)
  /// Every file the current input's preprocessing entered (its `#include`s, nested ones too).
  std::vector<std::string> files;
  void FileChanged(SourceLocation loc, FileChangeReason reason, SrcMgr::CharacteristicKind,
                   FileID) override {
    if (reason != EnterFile || !sm || sm->getFileID(loc) == current)
      return;
    if (auto entry = sm->getFileEntryRefForID(sm->getFileID(loc)))
      files.push_back(entry->getName().str());
  }
  /// The current input's own `#include` directives: (name as spelled, angled).
  std::vector<std::pair<std::string, bool>> includes;
  void InclusionDirective(SourceLocation hash, const Token &, StringRef spelled, bool angled,
                          CharSourceRange, OptionalFileEntryRef file, StringRef, StringRef,
                          const Module *, bool, SrcMgr::CharacteristicKind) override {
    if (file)
      files.push_back(file->getName().str());
    if (inCurrent(hash))
      includes.emplace_back(spelled.str(), angled);
  }
  void EmbedDirective(SourceLocation, StringRef, bool, OptionalFileEntryRef file,
                      const LexEmbedParametersResult &) override {
    if (file)
      files.push_back(file->getName().str());
  }
  bool inCurrent(SourceLocation loc) const {
    return sm && current.isValid() && sm->getFileID(sm->getExpansionLoc(loc)) == current;
  }
  void MacroDefined(const Token &name, const MacroDirective *) override {
    if (inCurrent(name.getLocation()))
      changes.emplace_back(name.getIdentifierInfo()->getName().str(), true);
  }
  void MacroUndefined(const Token &name, const MacroDefinition &, const MacroDirective *) override {
    if (inCurrent(name.getLocation()))
      changes.emplace_back(name.getIdentifierInfo()->getName().str(), false);
  }
};

// ---- pragmas about the current file --------------------------------------------------------

/// `#pragma once` and `#pragma GCC|clang system_header` as clang handles them, except in an
/// eval's own text: an eval is a bare buffer without a file, and clang 19's handlers take the
/// current file's entry as given (`#pragma once` in an eval crashed the session: SIGSEGV in
/// HeaderSearch::getFileInfo, found by the eval fuzz target). There it is ignored with a warning.
class FilePragma : public PragmaHandler {
  bool once;

public:
  FilePragma(llvm::StringRef name, bool once) : PragmaHandler(name), once(once) {}
  void HandlePragma(Preprocessor &pp, PragmaIntroducer, Token &tok) override {
    if (once)
      pp.CheckEndOfDirective("pragma once");
    PreprocessorLexer *file = pp.getCurrentFileLexer();
    if (file && file->getFileEntry()) {
      if (once)
        pp.HandlePragmaOnce(tok);
      else
        pp.HandlePragmaSystemHeader(tok);
    } else {
      DiagnosticsEngine &diags = pp.getDiagnostics();
      diags.Report(tok.getLocation(),
                   diags.getCustomDiagID(DiagnosticsEngine::Warning,
                                         "'#pragma %0' is ignored in an eval: an eval is not a "
                                         "file (it applies in a header the eval includes)"))
          << getName();
    }
    if (!once)
      pp.CheckEndOfDirective("pragma");
  }
};

/// Puts [`FilePragma`] in place of clang's own handlers of those pragmas (removed by name).
void replaceFilePragmas(Preprocessor &pp) {
  for (const char *ns : {"", "GCC", "clang"}) {
    const char *name = *ns ? "system_header" : "once";
    FilePragma builtin(name, !*ns); // names the handler to remove
    pp.RemovePragmaHandler(ns, &builtin);
    pp.AddPragmaHandler(ns, new FilePragma(name, !*ns)); // owned by the preprocessor
  }
}

// ---- what the code generator was given --------------------------------------------------

/// Sees every declaration Sema hands the code generator (before it does; the code generator
/// ignores them while the input has errors). After a failed input, these are given again in the
/// next module: clang instantiates a template once per session, so a function instantiated (or
/// first referenced) by a failed input would otherwise never be emitted by a later one — a
/// later eval's patch would call it undefined (`std::__2::__tree_balance_after_insert…`).
class HandedDecls : public ASTConsumer {
public:
  std::vector<Decl *> decls;
  bool HandleTopLevelDecl(DeclGroupRef group) override {
    decls.insert(decls.end(), group.begin(), group.end());
    return true;
  }
};

// ---- the action that keeps the translation unit open ----------------------------------

/// An EmitLLVMOnlyAction whose translation unit is incremental and whose EndSourceFile keeps
/// the preprocessor, Sema and the code generator alive (clang's IncrementalAction).
class IncrementalAction : public WrapperFrontendAction {
  bool terminating = false;

public:
  HandedDecls *handed = nullptr; // owned by the compiler instance's consumer

  explicit IncrementalAction(llvm::LLVMContext &ctx)
      : WrapperFrontendAction(std::make_unique<EmitLLVMOnlyAction>(&ctx)) {}
  FrontendAction *wrapped() const { return WrappedAction.get(); }
  TranslationUnitKind getTranslationUnitKind() override { return TU_Incremental; }
  void ExecuteAction() override {
    CompilerInstance &ci = getCompilerInstance();
    Preprocessor &pp = ci.getPreprocessor();
    pp.enableIncrementalProcessing();
    pp.EnterMainSourceFile();
    std::vector<std::unique_ptr<ASTConsumer>> consumers;
    auto handedDecls = std::make_unique<HandedDecls>();
    handed = handedDecls.get();
    consumers.push_back(std::move(handedDecls));
    consumers.push_back(ci.takeASTConsumer());
    ci.setASTConsumer(std::make_unique<MultiplexConsumer>(std::move(consumers)));
    if (!ci.hasSema())
      ci.createSema(getTranslationUnitKind(), nullptr);
  }
  void EndSourceFile() override {
    if (terminating && wrapped())
      WrapperFrontendAction::EndSourceFile();
  }
  void finalize() {
    terminating = true;
    EndSourceFile();
  }
};

struct Input {
  TranslationUnitDecl *part;
  FileID file;
};

// ---- the session -------------------------------------------------------------------------

struct Session {
  llvm::LLVMContext llvm;
  Collector collector;
  MacroRecorder *macros = nullptr; // owned by the preprocessor
  std::unique_ptr<CompilerInstance> ci;
  std::unique_ptr<IncrementalAction> action;
  std::unique_ptr<Parser> parser;
  std::list<Input> inputs;
  std::vector<std::string> llvmArgs;
  unsigned count = 0;
  /// The part of the last input that failed (forgotten, kept for finding what it redefined).
  TranslationUnitDecl *failedPart = nullptr;
  /// The buffer of the last input, when it failed (its declarations are given to the code
  /// generator again, but for its own: handAgain).
  FileID failedFile;
  /// The final expressions whose value is recorded, with what they were before the call to
  /// the recording function replaced them: (expression type, recording function).
  std::map<const TopLevelStmtDecl *, std::pair<std::string, std::string>> captured;
  /// The symbols of the functions the last input defined in an anonymous namespace: given
  /// external linkage in its module ([`exposeAnonymous`]).
  std::vector<std::string> anonymous;

  ~Session() {
    parser.reset();
    if (action)
      action->finalize();
  }

  CodeGenerator *codegen() const {
    return static_cast<CodeGenAction *>(action->wrapped())->getCodeGenerator();
  }
};

const char *kInputsName = "<<< inputs >>>";

/// Gives LLVM's global options the session's -mllvm values (as cc1_main does). Done again before
/// each object: an in-process wasm-ld resets every LLVM option to its default when it parses its
/// own -mllvm list (C++ then lost -wasm-enable-eh: "-exception-model=wasm only allowed with…").
void applyLLVMArgs(Session &s) {
  std::vector<const char *> args{"clang"};
  for (auto &a : s.llvmArgs)
    args.push_back(a.c_str());
  llvm::cl::ResetAllOptionOccurrences();
  llvm::cl::ParseCommandLineOptions(args.size(), args.data());
}

bool create(Session &s, int argc, const char **argv, std::string &err) {
  static bool initialized = [] {
    LLVMInitializeWebAssemblyTargetInfo();
    LLVMInitializeWebAssemblyTarget();
    LLVMInitializeWebAssemblyTargetMC();
    LLVMInitializeWebAssemblyAsmPrinter();
    LLVMInitializeWebAssemblyAsmParser();
    return true;
  }();
  (void)initialized;
  std::vector<const char *> args(argv, argv + argc);
  s.ci = std::make_unique<CompilerInstance>();
  s.ci->createDiagnostics(&s.collector, /*ShouldOwnClient=*/false);
  if (!CompilerInvocation::CreateFromArgs(s.ci->getInvocation(), args, s.ci->getDiagnostics())) {
    err = "the compiler refused its command line";
    return false;
  }
  auto &fe = s.ci->getFrontendOpts();
  s.llvmArgs = fe.LLVMArgs;
  applyLLVMArgs(s);
  if (fe.Inputs.size() != 1) {
    err = "the compiler command line must name exactly one input (it is replaced by the session)";
    return false;
  }
  fe.Inputs[0] = FrontendInputFile(kInputsName, fe.Inputs[0].getKind());
  fe.DisableFree = false;
  auto &cg = s.ci->getCodeGenOpts();
  cg.DisableFree = false;
  cg.ClearASTBeforeBackend = false; // it frees the AST after the first input
  s.ci->getLangOpts().IncrementalExtensions = true;
  s.ci->getPreprocessorOpts().addRemappedFile(
      kInputsName, llvm::MemoryBuffer::getMemBuffer("", kInputsName).release());
  s.ci->setTarget(TargetInfo::CreateTargetInfo(s.ci->getDiagnostics(),
                                               s.ci->getInvocation().TargetOpts));
  if (!s.ci->hasTarget()) {
    err = "the compiler has no target for this command line";
    return false;
  }
  s.ci->getTarget().adjust(s.ci->getDiagnostics(), s.ci->getLangOpts());
  s.action = std::make_unique<IncrementalAction>(s.llvm);
  s.ci->ExecuteAction(*s.action);
  if (!s.ci->hasSema() || s.collector.getNumErrors() > 0) {
    err = "the compiler could not start its translation unit";
    return false;
  }
  auto recorder = std::make_unique<MacroRecorder>();
  recorder->sm = &s.ci->getSourceManager();
  s.macros = recorder.get();
  s.ci->getPreprocessor().addPPCallbacks(std::move(recorder));
  replaceFilePragmas(s.ci->getPreprocessor());
  s.parser = std::make_unique<Parser>(s.ci->getPreprocessor(), s.ci->getSema(), false);
  s.parser->Initialize();
  return true;
}

/// Removes what `part` declared from name lookup: the translation unit's lookup table
/// (clang's IncrementalParser::CleanUpPTU) and the identifier chains C and C++ lookup walk
/// first, so neither a failed nor an undone input leaves a name behind.
/// Whether `d` is written in the file `own` (an input's own text), or `own` is invalid (all).
bool writtenIn(const Decl *d, FileID own) {
  if (!own.isValid())
    return true;
  SourceManager &sm = d->getASTContext().getSourceManager();
  return sm.getFileID(sm.getExpansionLoc(d->getLocation())) == own;
}

void dropFromLookup(DeclContext *dc, TranslationUnitDecl *part, std::vector<NamedDecl *> &dropped,
                    FileID own) {
  // Build the table first: in C it is built lazily, from every part's declarations, and would
  // bring the forgotten ones back at the next lookup that builds it (a redeclaration check).
  StoredDeclsMap *map = dc->getPrimaryContext()->buildLookup();
  if (!map)
    return;
  for (auto it = map->begin(); it != map->end(); ++it) {
    StoredDeclsList &list = it->second;
    // Collected first: removing while walking the same list skips or revisits entries.
    std::vector<NamedDecl *> gone;
    for (NamedDecl *d : list.getLookupResult())
      if (d->getTranslationUnitDecl() == part && writtenIn(d, own))
        gone.push_back(d);
    for (NamedDecl *d : gone)
      list.remove(d);
    dropped.insert(dropped.end(), gone.begin(), gone.end());
    if (list.isNull())
      map->erase(it);
  }
}

/// Makes `fd` a mere declaration: a function that chains to an earlier declaration (a header's
/// prototype) stays on that chain when it leaves lookup, so a later definition merged with the
/// prototype would meet its body again ("redefinition").
void undefine(FunctionDecl *fd) {
  fd->setBody(nullptr);
  fd->setWillHaveBody(false);
}

/// Makes `vd` a mere declaration (clang's demoted definition), for the same reason as
/// [`undefine`]: a later eval's `extern` declaration chains to it.
void undefineVar(VarDecl *vd) {
  if (vd->isThisDeclarationADefinition() != VarDecl::DeclarationOnly)
    vd->demoteThisDefinitionToDeclaration();
}

/// [`undefine`] for every function, and [`undefineVar`] for every variable, of `dc` (and of its
/// linkage and namespace blocks) that chains to an earlier declaration.
void undefineChained(DeclContext *dc, FileID own) {
  for (Decl *d : dc->decls()) {
    if (!writtenIn(d, own))
      continue;
    if (isa<LinkageSpecDecl, NamespaceDecl>(d))
      undefineChained(cast<DeclContext>(d), own);
    else if (auto *fd = dyn_cast<FunctionDecl>(d); fd && fd->getPreviousDecl())
      undefine(fd);
    else if (auto *vd = dyn_cast<VarDecl>(d); vd && vd->getPreviousDecl())
      undefineVar(vd);
  }
}

/// Takes the declarations of input `part` out of name lookup; with a valid `own`, only those
/// written in the input's own text (file `own`): a failed input keeps what a header it included
/// first declared, since that header's include guard stays defined and would not declare it again.
void forget(Sema &sema, TranslationUnitDecl *part, FileID own = FileID()) {
  undefineChained(part, own);
  std::vector<NamedDecl *> names;
  dropFromLookup(part->getFirstDecl(), part, names, own);
  // Functions and variables with C linkage are also found through this context (clang checks
  // redeclarations against it, in C as in C++).
  dropFromLookup(sema.getASTContext().getExternCContextDecl(), part, names, own);
  // C's implicit function declarations are on the chains without being in the part's list.
  for (Decl *d : part->decls())
    if (auto *nd = dyn_cast<NamedDecl>(d); nd && writtenIn(nd, own))
      names.push_back(nd);
  for (NamedDecl *nd : names) {
    // (An unnamed declaration, e.g. clang's recovery from a redefined struct, has no chain.)
    if (nd->getDeclName().isEmpty() || !nd->getDeclName().getFETokenInfo())
      continue;
    // RemoveDecl requires the declaration to be on the chain: look first.
    for (auto it = sema.IdResolver.begin(nd->getDeclName()); it != sema.IdResolver.end(); ++it)
      if (*it == nd) {
        sema.IdResolver.RemoveDecl(nd);
        break;
      }
  }
}

std::string typeName(ASTContext &ctx, QualType t) {
  PrintingPolicy policy = ctx.getPrintingPolicy();
  policy.SuppressTagKeyword = false;
  return t.getAsString(policy);
}

/// The object a record value was read from (C reads a struct lvalue through an
/// lvalue-to-rvalue conversion even in a discarded expression), or `e` itself.
Expr *objectOf(Expr *e) {
  if (auto *ice = dyn_cast<ImplicitCastExpr>(e); ice && ice->getCastKind() == CK_LValueToRValue)
    return ice->getSubExpr();
  return e;
}

/// Whether a value of record type can be shown as its bytes: complete, and (C++) trivially
/// destroyed, and addressable (a C prvalue struct, e.g. a call's result, has no address).
bool bytesRecordable(Expr *e) {
  QualType t = e->getType().getCanonicalType();
  if (!t->isRecordType() || t->isIncompleteType())
    return false;
  if (auto *rd = t->getAsCXXRecordDecl(); rd && !rd->hasTrivialDestructor())
    return false;
  return objectOf(e)->isGLValue() || t->getAsCXXRecordDecl();
}

/// The hotwasm ABI function that records a value of type `t` (abi/include/hotwasm.h), or
/// nullptr when the type has none here (functions, dependent and scoped-enum types, records
/// that are not [`bytesRecordable`]).
const char *recorderFor(Expr *e) {
  QualType t = e->getType().getCanonicalType();
  if (t->isVoidType() || t->isDependentType())
    return nullptr;
  if (t->isRecordType())
    return bytesRecordable(e) ? "hotwasm_value_bytes" : nullptr;
  if (t->isBooleanType())
    return "hotwasm_value_bool";
  if (t->isCharType())
    return "hotwasm_value_char";
  if (t->isIntegralOrUnscopedEnumerationType())
    return t->isSignedIntegerOrEnumerationType() ? "hotwasm_value_i64" : "hotwasm_value_u64";
  if (t->isSpecificBuiltinType(BuiltinType::Float))
    return "hotwasm_value_f32";
  if (t->isRealFloatingType())
    return "hotwasm_value_f64";
  QualType pointee = t->isPointerType()  ? t->getPointeeType()
                     : t->isArrayType() ? QualType(t->getArrayElementTypeNoTypeQual(), 0)
                                        : QualType();
  if (pointee.isNull())
    return nullptr;
  return pointee->isCharType() ? "hotwasm_value_str" : "hotwasm_value_ptr";
}

/// Replaces a final expression without `;` by a call recording its value and type name
/// (`hotwasm_value_i64("int", expr)`, `hotwasm_value_bytes("struct P", &expr, 8)`), built by Sema as clang's own value printing does, when
/// the recording functions are declared in the session (an input included hotwasm.h).
void captureValue(Session &s, TopLevelStmtDecl *t) {
  auto *e = dyn_cast_or_null<Expr>(t->getStmt());
  if (!e || e->isTypeDependent() || e->isValueDependent())
    return;
  Sema &sema = s.ci->getSema();
  ASTContext &ctx = sema.getASTContext();
  const char *fn = recorderFor(e);
  if (!fn)
    return;
  SourceLocation loc = e->getBeginLoc();
  LookupResult found(sema, DeclarationName(&ctx.Idents.get(fn)), loc, Sema::LookupOrdinaryName);
  if (!sema.LookupName(found, sema.TUScope) || !found.isSingleResult())
    return;
  ExprResult callee = sema.BuildDeclarationNameExpr(CXXScopeSpec(), found, false);
  if (callee.isInvalid())
    return;
  PrintingPolicy policy = ctx.getPrintingPolicy();
  std::string shown = e->getType().getUnqualifiedType().getAsString(policy);
  QualType litType = ctx.getStringLiteralArrayType(ctx.CharTy, shown.size());
  Expr *name = StringLiteral::Create(ctx, shown, StringLiteralKind::Ordinary, false, litType, loc);
  std::vector<Expr *> args{name, e};
  if (e->getType()->isRecordType()) {
    // hotwasm_value_bytes(type, &value, sizeof value); a C++ prvalue is materialised first.
    Expr *object = objectOf(e);
    if (!object->isGLValue())
      object = sema.CreateMaterializeTemporaryExpr(e->getType(), e, true);
    QualType pointer = ctx.getPointerType(e->getType());
    Expr *address = UnaryOperator::Create(ctx, object, UO_AddrOf, pointer, VK_PRValue,
                                          OK_Ordinary, loc, false, FPOptionsOverride());
    QualType sizeType = ctx.getSizeType();
    llvm::APInt bytes(ctx.getTypeSize(sizeType), ctx.getTypeSizeInChars(e->getType()).getQuantity());
    args = {name, address, IntegerLiteral::Create(ctx, bytes, sizeType, loc)};
  }
  ExprResult call = sema.ActOnCallExpr(sema.getCurScope(), callee.get(), loc, args, loc);
  if (call.isInvalid())
    return;
  s.captured[t] = {typeName(ctx, e->getType().getCanonicalType()), fn};
  t->setStmt(call.get());
}

/// Removes one declaration from name lookup (for a redefinition that replaces it).
void forgetDecl(Sema &sema, NamedDecl *nd) {
  DeclContext *contexts[] = {nd->getDeclContext(), sema.getASTContext().getExternCContextDecl()};
  for (DeclContext *dc : contexts) {
    StoredDeclsMap *map = dc->getPrimaryContext()->buildLookup();
    if (!map)
      continue;
    auto it = map->find(nd->getDeclName());
    if (it == map->end() || it->second.isNull())
      continue;
    it->second.remove(nd);
    if (it->second.isNull())
      map->erase(it);
  }
  if (!nd->getDeclName().isEmpty() && nd->getDeclName().getFETokenInfo())
    for (auto it = sema.IdResolver.begin(nd->getDeclName()); it != sema.IdResolver.end(); ++it)
      if (*it == nd) {
        sema.IdResolver.RemoveDecl(nd);
        break;
      }
}

/// Every named declaration of `parts` (top level, or in linkage/namespace blocks) whose
/// location lies in `file` (when valid), to `visit` until it returns true; returns that one.
template <class F>
NamedDecl *findDecl(std::vector<DeclContext *> todo, FileID file, SourceManager &sm, F visit) {
  while (!todo.empty()) {
    DeclContext *dc = todo.back();
    todo.pop_back();
    for (Decl *d : dc->decls()) {
      if (isa<LinkageSpecDecl, NamespaceDecl>(d))
        todo.push_back(cast<DeclContext>(d));
      auto *nd = dyn_cast<NamedDecl>(d);
      if (!nd || (file.isValid() && sm.getFileID(sm.getExpansionLoc(nd->getLocation())) != file))
        continue;
      if (visit(nd))
        return nd;
    }
  }
  return nullptr;
}

/// The declaration an earlier eval wrote at `loc`; nullptr when `loc` is not in an eval's own
/// text (a header's declaration is never replaced).
NamedDecl *declAt(Session &s, SourceLocation loc) {
  SourceManager &sm = s.ci->getSourceManager();
  FileID file = sm.getFileID(sm.getExpansionLoc(loc));
  for (auto &in : s.inputs)
    if (in.file == file)
      return findDecl({in.part}, file, sm, [&](NamedDecl *nd) { return nd->getLocation() == loc; });
  return nullptr;
}

/// The earlier eval's declaration that the failed input's declaration at `r.at` redefines:
/// same name, same kind, and for functions the same type. (clang gives no "previous definition"
/// note when both sit at the same offset of their buffers, and makes a redefined struct
/// anonymous, so the name comes from the error itself.)
NamedDecl *redefinedBy(Session &s, const Collector::Redefinition &r) {
  SourceManager &sm = s.ci->getSourceManager();
  if (!s.failedPart || r.name.isEmpty())
    return nullptr;
  NamedDecl *now = findDecl({s.failedPart}, FileID(), sm,
                            [&](NamedDecl *nd) { return nd->getLocation() == r.at; });
  ASTContext &ctx = s.ci->getASTContext();
  NamedDecl *found = nullptr;
  for (auto &in : s.inputs)
    if (NamedDecl *nd = findDecl({in.part}, in.file, sm, [&](NamedDecl *d) {
          if (d->getDeclName() != r.name)
            return false;
          if (!now)
            return false;
          if (isa<TagDecl>(now))
            return isa<TagDecl>(d);
          if (d->getKind() != now->getKind())
            return false;
          auto *f = dyn_cast<FunctionDecl>(d);
          return !f || ctx.hasSameType(f->getType(), cast<FunctionDecl>(now)->getType());
        }))
      found = nd;
  return found;
}

/// A function defined in an anonymous namespace (C++) has internal linkage, so its object would
/// define a local symbol nothing outside the patch sees, and clang would not even emit it when
/// the input does not call it. In hotwasm it is a var like any other function the program
/// defines (all-hot hosts have theirs hot under the same mangled name, `_ZN12_GLOBAL__N_1…`):
/// mark it used, so it is emitted, and note its symbol, which the module then exports. Only the
/// input's own text (file `own`) counts: a header's anonymous namespace stays the header's.
void noteAnonymous(Session &s, Decl *d, FileID own) {
  if (!writtenIn(d, own))
    return;
  if (isa<NamespaceDecl, LinkageSpecDecl>(d)) {
    for (Decl *inner : cast<DeclContext>(d)->decls())
      noteAnonymous(s, inner, own);
    return;
  }
  auto *fd = dyn_cast<FunctionDecl>(d);
  if (!fd || !fd->isInAnonymousNamespace() || !fd->doesThisDeclarationHaveABody() ||
      fd->isTemplated() || fd->isDependentContext() ||
      isa<CXXConstructorDecl, CXXDestructorDecl>(fd))
    return;
  fd->addAttr(UsedAttr::CreateImplicit(s.ci->getASTContext()));
  s.anonymous.push_back(s.codegen()->GetMangledName(GlobalDecl(fd)).str());
}

/// Gives the functions [`noteAnonymous`] noted external linkage and default visibility in `m`.
void exposeAnonymous(Session &s, llvm::Module &m) {
  for (auto &name : s.anonymous)
    if (llvm::Function *f = m.getFunction(name); f && !f->isDeclaration()) {
      f->setLinkage(llvm::GlobalValue::ExternalLinkage);
      f->setVisibility(llvm::GlobalValue::DefaultVisibility);
    }
}

/// Emits the C tentative definitions this input left (`int t;` at file scope, no initializer):
/// clang completes them only at the end of a whole translation unit
/// (Sema::ActOnEndOfTranslationUnit), which a session never reaches, so without this `int t;`
/// would define no storage and a later eval's `extern int t;` would find none. As C99 6.9.2p2
/// says, each becomes a zero-initialised definition; an incomplete array gets one element.
void completeTentativeDefinitions(Sema &sema, ASTConsumer &consumer) {
  ASTContext &ctx = sema.getASTContext();
  llvm::SmallPtrSet<VarDecl *, 8> seen;
  auto &tentative = sema.TentativeDefinitions;
  for (auto it = tentative.begin(nullptr), end = tentative.end(); it != end; ++it) {
    VarDecl *vd = (*it)->getActingDefinition();
    if (!vd || vd->isInvalidDecl() || !seen.insert(vd).second)
      continue;
    if (auto *array = ctx.getAsIncompleteArrayType(vd->getType()))
      vd->setType(ctx.getConstantArrayType(array->getElementType(),
                                           llvm::APInt(ctx.getTypeSize(ctx.getSizeType()), 1),
                                           nullptr, ArraySizeModifier::Normal, 0));
    if (vd->getType()->isIncompleteType())
      continue; // clang's own error at the end of a translation unit; nothing to emit
    consumer.CompleteTentativeDefinition(vd);
  }
  tentative.erase(tentative.begin(nullptr), tentative.end());
}

/// Makes the templates a failed input instantiated, or queued for instantiation, count as not
/// yet used: the queue is dropped with the input, and a function whose point of instantiation is
/// set is never queued again (Sema::MarkFunctionReferenced), so it would stay without a body.
void unqueueInstantiations(Sema &sema) {
  for (auto *queue : {&sema.PendingInstantiations, &sema.PendingLocalImplicitInstantiations}) {
    for (auto &[decl, poi] : *queue)
      if (auto *fd = dyn_cast<FunctionDecl>(decl); fd && !fd->isDefined()) {
        if (auto *info = fd->getTemplateSpecializationInfo())
          info->setPointOfInstantiation(SourceLocation());
        else if (auto *member = fd->getMemberSpecializationInfo())
          member->setPointOfInstantiation(SourceLocation());
        fd->setInstantiationIsPending(false);
      }
    queue->clear();
  }
}

/// Gives the code generator again, in the new module, the functions and variables it was given
/// while the last input failed (HandedDecls), except the failed input's own: instantiations
/// and header declarations then reach the module as clang would have passed them.
void handAgain(Session &s, FileID failed) {
  auto &handed = s.action->handed->decls;
  std::vector<Decl *> again;
  again.swap(handed);
  if (failed.isInvalid())
    return;
  SourceManager &sm = s.ci->getSourceManager();
  ASTConsumer &consumer = s.ci->getASTConsumer();
  for (Decl *d : again) {
    if (!isa<FunctionDecl, VarDecl>(d) || d->isInvalidDecl())
      continue;
    if (sm.getFileID(sm.getExpansionLoc(d->getLocation())) == failed)
      continue; // forgotten with the input that wrote it
    consumer.HandleTopLevelDecl(DeclGroupRef(d));
  }
  handed.clear(); // what the line above handed is not the next input's
}

/// Gives the closure class of each lambda written in the top-level statement `t` the
/// translation unit as its context. In clang 19 a TopLevelStmtDecl is a DeclContext, and the
/// Itanium mangler, meeting it as the closure's context, casts it to NamedDecl (it is not one):
/// without assertions that read a name from stray memory and crashed in some sessions
/// (llvm/llvm-project PR #217041 fixes the mangler after 19). At namespace scope the closure
/// mangles as clang mangles any lambda outside a function: `$_N`, internal linkage.
void rehomeClosures(TopLevelStmtDecl *t, TranslationUnitDecl *part) {
  for (Decl *d : t->decls())
    if (auto *rd = dyn_cast<CXXRecordDecl>(d); rd && rd->isLambda())
      rd->setDeclContext(part);
}

/// Closes a top-level statement clang 19 left open: when the statement fails to parse,
/// Parser::ParseTopLevelStmtDecl returns before Sema::ActOnFinishTopLevelStmtDecl, so Sema's
/// current context stays that statement's TopLevelStmtDecl and the input's next declarations are
/// made inside it (`break;` then `int std::v3;` crashed the session in a diagnostic that takes
/// the context for a named one: found by fuzzing; upstream clang-repl fixed its crash of this
/// kind in llvm/llvm-project PR 127087). It is finished with an empty statement; the input has
/// failed anyway.
void closeFailedStatement(Sema &sema, SourceLocation at) {
  if (auto *t = dyn_cast_or_null<TopLevelStmtDecl>(sema.CurContext))
    sema.ActOnFinishTopLevelStmtDecl(t, sema.ActOnNullStmt(at).get());
}

/// Parses one input into a new part of the translation unit; false on errors (the part is
/// then forgotten and its code dropped).
bool parse(Session &s, llvm::StringRef text, FileID &fid) {
  Sema &sema = s.ci->getSema();
  std::string name = "eval_" + std::to_string(++s.count);
  auto buf = llvm::WritableMemoryBuffer::getNewUninitMemBuffer(text.size() + 1, name);
  memcpy(buf->getBufferStart(), text.data(), text.size());
  buf->getBufferStart()[text.size()] = '\n';
  SourceManager &sm = s.ci->getSourceManager();
  SourceLocation start = sm.getLocForStartOfFile(sm.getMainFileID());
  // A bare buffer: clang 19 crashes on a quoted include from a virtual file here, and on
  // `#embed` from a bare buffer (the session then dies and is restarted; nothing leaks).
  fid = sm.createFileID(std::move(buf), SrcMgr::C_User, 0, 0, start);
  if (hotwasm::refuseUnfinished(*s.ci, fid)) // before anything of the session changes
    return false;
  handAgain(s, s.failedFile);
  s.failedFile = FileID();
  // A failed input's tentative definitions were forgotten with it.
  sema.TentativeDefinitions.erase(sema.TentativeDefinitions.begin(nullptr),
                                  sema.TentativeDefinitions.end());
  Parser &p = *s.parser;
  Sema::GlobalEagerInstantiationScope global(sema, /*Enabled=*/true);
  Sema::LocalEagerInstantiationScope local(sema);
  s.macros->current = fid;
  Preprocessor &pp = s.ci->getPreprocessor();
  if (pp.EnterSourceFile(fid, nullptr, start))
    return false;
  ASTContext &ctx = sema.getASTContext();
  ctx.addTranslationUnitDecl();
  TranslationUnitDecl *part = ctx.getTranslationUnitDecl();
  // The end of the previous input (in incremental mode the lexer ends each input with
  // annot_repl_input_end instead of eof).
  if (p.getCurToken().is(tok::annot_repl_input_end)) {
    p.ConsumeAnyToken();
    p.ExitScope();
    sema.CurContext = nullptr;
    p.EnterScope(Scope::DeclScope);
    sema.ActOnTranslationUnitScope(p.getCurScope());
  }
  ASTConsumer &consumer = s.ci->getASTConsumer();
  Parser::DeclGroupPtrTy decl;
  Sema::ModuleImportState importState;
  for (bool eof = p.ParseFirstTopLevelDecl(decl, importState); !eof;
       eof = p.ParseTopLevelDecl(decl, importState)) {
    closeFailedStatement(sema, p.getCurToken().getLocation());
    if (!decl)
      continue;
    for (Decl *d : decl.get()) {
      if (auto *t = dyn_cast<TopLevelStmtDecl>(d)) {
        if (t->isSemiMissing()) {
          s.collector.forgiveUnusedValue(s.ci->getSourceManager(), t->getSourceRange());
          captureValue(s, t);
        }
        rehomeClosures(t, part);
      }
      noteAnonymous(s, d, fid);
    }
    if (!consumer.HandleTopLevelDecl(decl.get()))
      break;
  }
  closeFailedStatement(sema, p.getCurToken().getLocation());
  bool failed = s.ci->getDiagnostics().hasErrorOccurred();
  if (!failed) {
    for (Decl *d : sema.WeakTopLevelDecls())
      consumer.HandleTopLevelDecl(DeclGroupRef(d));
    local.perform();
    global.perform();
    completeTentativeDefinitions(sema, consumer);
    consumer.HandleTranslationUnit(ctx);
    failed = s.ci->getDiagnostics().hasErrorOccurred();
  }
  Token end;
  pp.Lex(end); // the parser stopped at this input's end; the next one starts after it
  if (failed) {
    unqueueInstantiations(sema);
    s.failedFile = fid;
    s.failedPart = part;
    forget(sema, part, fid);
    s.ci->getDiagnostics().Reset(/*soft=*/true);
    return false;
  }
  s.inputs.push_back({part, fid});
  return true;
}

// ---- what the input declared -------------------------------------------------------------

/// The policy declarations are printed with: as the code reads (`struct pt`, not `pt` alone in
/// C), no bodies.
PrintingPolicy declarationPolicy(ASTContext &ctx) {
  PrintingPolicy policy = ctx.getPrintingPolicy();
  policy.SuppressTagKeyword = false;
  policy.TerseOutput = true;
  policy.PolishForDeclaration = true;
  return policy;
}

/// The declaration of function `fd` that another translation unit can repeat, built from the
/// decl (never from its text): return type, name, parameters with their names and C++ default
/// arguments, a method's qualifiers. A C function without a prototype (`int f()`, a K&R
/// definition) gets one: `(void)`, or its parameters with their promoted types, the types its
/// callers pass. Attributes and storage are left to the definition.
std::string prototypeOf(Session &s, FunctionDecl *fd) {
  ASTContext &ctx = s.ci->getASTContext();
  PrintingPolicy policy = declarationPolicy(ctx);
  bool cxx = ctx.getLangOpts().CPlusPlus;
  bool noProto = !cxx && !fd->hasWrittenPrototype();
  std::string params;
  llvm::raw_string_ostream os(params);
  for (ParmVarDecl *p : fd->parameters()) {
    if (p->getFunctionScopeIndex() > 0)
      os << ", ";
    QualType t = p->getOriginalType();
    if (noProto)
      t = t->isRealFloatingType() && ctx.getFloatingTypeOrder(t, ctx.DoubleTy) < 0
              ? ctx.DoubleTy
              : (ctx.isPromotableIntegerType(t) ? ctx.getPromotedIntegerType(t) : t);
    t.print(os, policy, p->getName());
    if (p->hasDefaultArg() && !p->hasUnparsedDefaultArg() && !p->hasUninstantiatedDefaultArg()) {
      os << " = ";
      p->getDefaultArg()->printPretty(os, nullptr, policy);
    }
  }
  if (fd->isVariadic())
    os << (fd->param_empty() ? "..." : ", ...");
  else if (fd->param_empty() && !cxx)
    os << "void";
  std::string declarator = fd->getNameAsString() + "(" + os.str() + ")";
  if (auto *method = dyn_cast<CXXMethodDecl>(fd)) {
    auto *proto = method->getType()->castAs<FunctionProtoType>();
    if (!proto->getMethodQuals().empty())
      declarator += " " + proto->getMethodQuals().getAsString();
    if (proto->getRefQualifier() == RQ_LValue)
      declarator += " &";
    else if (proto->getRefQualifier() == RQ_RValue)
      declarator += " &&";
  }
  std::string out;
  llvm::raw_string_ostream ret(out);
  fd->getReturnType().print(ret, policy, declarator);
  return ret.str();
}

/// The `extern` declaration of global `vd` (`extern unsigned int xs[4]`, `extern int (*fp)(int)`).
std::string externOf(Session &s, VarDecl *vd) {
  std::string out = "extern ";
  llvm::raw_string_ostream os(out);
  vd->getType().print(os, declarationPolicy(s.ci->getASTContext()), vd->getName());
  return os.str();
}

/// The input's own `#include` directives, in order: the name as spelled and whether angled.
void writeIncludes(Session &s, llvm::json::OStream &j) {
  j.attributeArray("includes", [&] {
    for (auto &[name, angled] : s.macros->includes)
      j.object([&] {
        j.attribute("name", name);
        j.attribute("angled", angled);
      });
  });
}

void writeFunction(Session &s, llvm::json::OStream &j, FunctionDecl *fd) {
  ASTContext &ctx = s.ci->getASTContext();
  j.attribute("type", typeName(ctx, fd->getType()));
  j.attribute("return_type", typeName(ctx, fd->getReturnType()));
  j.attributeArray("params", [&] {
    for (ParmVarDecl *p : fd->parameters())
      j.value(typeName(ctx, p->getType()));
  });
  j.attribute("definition", fd->doesThisDeclarationHaveABody());
  j.attribute("static", fd->getStorageClass() == SC_Static);
  j.attribute("inline", fd->isInlined());
  j.attribute("extern_c", fd->isExternC());
  j.attribute("variadic", fd->isVariadic());
  if (!fd->isTemplated() && !isa<CXXConstructorDecl, CXXDestructorDecl, CXXConversionDecl>(fd))
    j.attribute("declaration", prototypeOf(s, fd));
  bool templated = fd->isTemplated() || fd->isDependentContext();
  if (!templated && fd->doesThisDeclarationHaveABody()) {
    GlobalDecl gd = isa<CXXConstructorDecl>(fd) ? GlobalDecl(cast<CXXConstructorDecl>(fd), Ctor_Complete)
                    : isa<CXXDestructorDecl>(fd) ? GlobalDecl(cast<CXXDestructorDecl>(fd), Dtor_Complete)
                                                 : GlobalDecl(fd);
    j.attribute("symbol", s.codegen()->GetMangledName(gd).str());
  }
}

void writeVar(Session &s, llvm::json::OStream &j, VarDecl *vd) {
  ASTContext &ctx = s.ci->getASTContext();
  j.attribute("type", typeName(ctx, vd->getType()));
  j.attribute("definition", vd->isThisDeclarationADefinition() != VarDecl::DeclarationOnly);
  j.attribute("static", vd->getStorageClass() == SC_Static);
  j.attribute("extern_c", vd->isExternC());
  if (!vd->getType()->isDependentType() && vd->hasGlobalStorage() && !vd->isStaticDataMember())
    j.attribute("declaration", externOf(s, vd));
  j.attribute("has_init", vd->hasInit());
  bool dependent = vd->getType()->isDependentType();
  j.attribute("constant_init", !dependent && vd->hasInit() && vd->hasConstantInitialization());
  j.attribute("destructed", !dependent && vd->needsDestruction(ctx) != QualType::DK_none);
  if (!dependent && vd->hasGlobalStorage() && !vd->isStaticDataMember())
    j.attribute("symbol", s.codegen()->GetMangledName(GlobalDecl(vd)).str());
  if (const Expr *init = vd->getInit())
    j.attribute("init", Lexer::getSourceText(CharSourceRange::getTokenRange(init->getSourceRange()),
                                             s.ci->getSourceManager(), s.ci->getLangOpts())
                            .str());
}

/// A complete record's layout: size, alignment and its own fields (offset in bytes, canonical
/// type), from clang's ASTRecordLayout.
void writeRecordLayout(Session &s, llvm::json::OStream &j, RecordDecl *rd) {
  if (!rd->isCompleteDefinition() || rd->isInvalidDecl() || rd->isDependentType())
    return;
  ASTContext &ctx = s.ci->getASTContext();
  const ASTRecordLayout &layout = ctx.getASTRecordLayout(rd);
  j.attribute("size", static_cast<int64_t>(layout.getSize().getQuantity()));
  j.attribute("align", static_cast<int64_t>(layout.getAlignment().getQuantity()));
  if (auto *td = rd->getTypedefNameForAnonDecl())
    j.attribute("typedef_name", td->getName().str());
  j.attributeArray("fields", [&] {
    for (FieldDecl *f : rd->fields())
      j.object([&] {
        j.attribute("name", f->getName().str());
        j.attribute("offset", static_cast<int64_t>(layout.getFieldOffset(f->getFieldIndex()) / 8));
        j.attribute("type", typeName(ctx, f->getType().getCanonicalType()));
      });
  });
}

void writeDecl(Session &s, llvm::json::OStream &j, Decl *d, FileID fid);

void writeChildren(Session &s, llvm::json::OStream &j, DeclContext *dc, FileID fid) {
  j.attributeArray("members", [&] {
    for (Decl *c : dc->decls())
      if (!c->isImplicit())
        writeDecl(s, j, c, fid);
  });
}

void writeDecl(Session &s, llvm::json::OStream &j, Decl *d, FileID fid) {
  SourceManager &sm = s.ci->getSourceManager();
  ASTContext &ctx = s.ci->getASTContext();
  j.object([&] {
    j.attribute("kind", d->getDeclKindName());
    PresumedLoc p = sm.getPresumedLoc(sm.getExpansionLoc(d->getLocation()));
    if (p.isValid()) {
      j.attribute("line", p.getLine());
      j.attribute("column", p.getColumn());
    }
    if (auto *nd = dyn_cast<NamedDecl>(d))
      j.attribute("name", nd->getQualifiedNameAsString());
    if (auto *tsd = dyn_cast<TopLevelStmtDecl>(d)) {
      Stmt *st = tsd->getStmt();
      j.attribute("semi_missing", tsd->isSemiMissing());
      auto cap = s.captured.find(tsd);
      if (cap != s.captured.end()) {
        j.attribute("statement", "value");
        j.attribute("expr_type", cap->second.first);
        j.attribute("recorded_by", cap->second.second);
      } else {
        j.attribute("statement", st->getStmtClassName());
        if (auto *e = dyn_cast<Expr>(st)) {
          j.attribute("expr_type", typeName(ctx, e->getType().getCanonicalType()));
          j.attribute("lvalue", e->isGLValue());
        }
      }
    } else if (auto *ft = dyn_cast<FunctionTemplateDecl>(d)) {
      writeFunction(s, j, ft->getTemplatedDecl());
    } else if (auto *fd = dyn_cast<FunctionDecl>(d)) {
      writeFunction(s, j, fd);
    } else if (auto *vd = dyn_cast<VarDecl>(d)) {
      writeVar(s, j, vd);
    } else if (auto *td = dyn_cast<TypedefNameDecl>(d)) {
      j.attribute("type", typeName(ctx, td->getUnderlyingType()));
    } else if (auto *tag = dyn_cast<TagDecl>(d)) {
      j.attribute("definition", tag->isThisDeclarationADefinition());
      if (auto *rd = dyn_cast<RecordDecl>(tag))
        writeRecordLayout(s, j, rd);
    }
    if (isa<LinkageSpecDecl, NamespaceDecl, ExportDecl>(d))
      writeChildren(s, j, cast<DeclContext>(d), fid);
  });
}

/// The functions the module runs at load (llvm.global_ctors): top-level statements
/// (`__stmts__N`) and dynamic initializers of globals.
std::vector<std::string> loadTimeInitializers(llvm::Module &m) {
  std::vector<std::string> out;
  auto *gv = m.getNamedGlobal("llvm.global_ctors");
  if (!gv || !gv->hasInitializer())
    return out;
  if (auto *arr = dyn_cast<llvm::ConstantArray>(gv->getInitializer()))
    for (auto &op : arr->operands())
      if (auto *entry = dyn_cast<llvm::ConstantStruct>(op))
        if (auto *f = dyn_cast<llvm::Function>(entry->getOperand(1)->stripPointerCasts()))
          out.push_back(f->getName().str());
  return out;
}

void writeDiagnostics(llvm::json::OStream &j, Collector &c) {
  j.attributeArray("diagnostics", [&] {
    for (auto &d : c.diags)
      j.object([&] {
        j.attribute("severity", d.severity);
        j.attribute("file", d.file);
        j.attribute("line", d.line);
        j.attribute("column", d.column);
        j.attribute("message", d.message);
        if (!d.undeclared.empty())
          j.attribute("undeclared", d.undeclared);
      });
  });
  c.diags.clear();
}

double msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

/// Emits `m` as a wasm32 object with the session's code generation options (its -O level,
/// PIC, target features), running the optimisation pipeline once.
void emitObject(Session &s, llvm::Module &m, llvm::SmallVectorImpl<char> &out) {
  CompilerInstance &ci = *s.ci;
  applyLLVMArgs(s);
  auto &cg = ci.getCodeGenOpts();
  cg.DisableLLVMPasses = false;
  EmitBackendOutput(ci.getDiagnostics(), ci.getHeaderSearchOpts(), cg, ci.getTargetOpts(),
                    ci.getLangOpts(), ci.getTarget().getDataLayoutString(), &m,
                    Backend_EmitObj, &ci.getVirtualFileSystem(),
                    std::make_unique<llvm::raw_svector_ostream>(out));
  cg.DisableLLVMPasses = true;
}

/// hotwasm's run-once function: what an eval runs after its functions are swapped in.
const char *kRunOnce = "hotwasm_main";

/// Moves what the module would run at load (`llvm.global_ctors`: top-level statements, in
/// order with the dynamic initializers of globals) into an exported `hotwasm_main`, so it runs
/// after the registry swap as hotwasm documents, not at dlopen. Returns whether there was any.
bool moveInitializersToRunOnce(llvm::Module &m) {
  auto *gv = m.getNamedGlobal("llvm.global_ctors");
  if (!gv || !gv->hasInitializer() || m.getFunction(kRunOnce))
    return false;
  std::vector<std::pair<uint64_t, llvm::Function *>> ctors;
  if (auto *arr = dyn_cast<llvm::ConstantArray>(gv->getInitializer()))
    for (auto &op : arr->operands())
      if (auto *entry = dyn_cast<llvm::ConstantStruct>(op)) {
        auto *prio = dyn_cast<llvm::ConstantInt>(entry->getOperand(0));
        auto *f = dyn_cast<llvm::Function>(entry->getOperand(1)->stripPointerCasts());
        if (prio && f)
          ctors.emplace_back(prio->getZExtValue(), f);
      }
  if (ctors.empty())
    return false;
  std::stable_sort(ctors.begin(), ctors.end(),
                   [](auto &a, auto &b) { return a.first < b.first; });
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(m.getContext()), false);
  auto *run = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage, kRunOnce, m);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(m.getContext(), "entry", run));
  for (auto &[prio, f] : ctors)
    b.CreateCall(f);
  b.CreateRetVoid();
  gv->eraseFromParent();
  return true;
}

struct Buf {
  char *data;
  size_t len;
};

void give(Buf *b, llvm::StringRef s) {
  b->data = static_cast<char *>(malloc(s.size() ? s.size() : 1));
  memcpy(b->data, s.data(), s.size());
  b->len = s.size();
}

/// One parse of `input` with a fresh report and module: the module is taken from the code
/// generator (a new one started), even when the parse failed.
bool attempt(Session &s, llvm::StringRef input, FileID &fid, std::unique_ptr<llvm::Module> &module) {
  s.collector.diags.clear();
  s.collector.startInput();
  s.macros->changes.clear();
  s.macros->files.clear();
  s.macros->includes.clear();
  s.anonymous.clear();
  bool ok = parse(s, input, fid);
  module.reset(s.codegen()->ReleaseModule());
  s.codegen()->StartModule("eval_" + std::to_string(s.count + 1), s.llvm);
  return ok;
}

/// Whether a later input that compiled redeclares `nd` (`extern int counter;`, a prototype): the
/// failed input's own declarations, also on the chain, do not count.
bool redeclaredLater(Session &s, NamedDecl *nd) {
  for (Decl *r : nd->redecls())
    if (r != nd && r->getTranslationUnitDecl() != s.failedPart)
      return true;
  return false;
}

/// An explicit specialization (`template <> int twice<int>(int)`) is found through its template,
/// never by name, as the most recent declaration of its chain: the failed input's own
/// redeclaration, which clang marked invalid (so deducing it again fails: "no function template
/// matches"). Every declaration of the chain stops being a definition and the failed one is valid
/// again, so the input's new definition redeclares the specialization.
void reopenSpecialization(Session &s, FunctionDecl *fd) {
  for (FunctionDecl *r : fd->redecls()) {
    if (r->getTranslationUnitDecl() == s.failedPart)
      r->setInvalidDecl(false);
    undefine(r);
  }
}

/// When every error of the last parse said a name of an earlier eval is defined again, forgets
/// those earlier declarations and returns their names; otherwise changes nothing.
std::vector<std::string> replaceable(Session &s) {
  Collector &c = s.collector;
  std::vector<std::string> names;
  if (c.errors == 0 || c.errors != c.redefinitions.size())
    return names;
  std::vector<NamedDecl *> old;
  for (auto &r : c.redefinitions) {
    NamedDecl *nd = r.previous.isValid() ? declAt(s, r.previous) : redefinedBy(s, r);
    if (!nd)
      return names;
    old.push_back(nd);
  }
  for (NamedDecl *nd : old) {
    names.push_back(nd->getQualifiedNameAsString());
    // A function or variable on a chain of declarations (a header's prototype before it, or a
    // later eval's `extern int counter;` after it) stays on that chain, or the new definition,
    // merged with the chain, would meet the old one again: it stops being a definition instead
    // of leaving lookup.
    bool chained = nd->getPreviousDecl() || redeclaredLater(s, nd);
    auto *fd = dyn_cast<FunctionDecl>(nd);
    if (fd && fd->getTemplateSpecializationKind() == TSK_ExplicitSpecialization) {
      reopenSpecialization(s, fd);
      continue;
    }
    if (fd && chained) {
      undefine(fd);
      continue;
    }
    // A variable leaves lookup with every declaration of it (an eval's `extern int counter;`),
    // so the new definition starts a chain of its own.
    if (auto *vd = dyn_cast<VarDecl>(nd); vd && chained) {
      for (Decl *r : vd->redecls())
        forgetDecl(s.ci->getSema(), cast<NamedDecl>(r));
      continue;
    }
    forgetDecl(s.ci->getSema(), nd);
  }
  return names;
}

/// The part of llvm-mc's command line the trampolines use (`-triple=T -filetype=obj -mattr=F
/// in.s -o out.o`), or `false` with `why`.
struct McLine {
  std::string triple, features, input, output;
};

bool readMcLine(int argc, const char **argv, McLine &line, std::string &why) {
  bool obj = false;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef a(argv[i]);
    if (a.consume_front("-triple="))
      line.triple = a.str();
    else if (a.consume_front("-mattr="))
      line.features = a.str();
    else if (a == "-filetype=obj")
      obj = true;
    else if (a == "-o" && i + 1 < argc)
      line.output = argv[++i];
    else if (!a.starts_with("-") && line.input.empty())
      line.input = a.str();
    else {
      why = "the in-process assembler does not take `" + a.str() + "`";
      return false;
    }
  }
  if (!obj || line.triple.empty() || line.input.empty() || line.output.empty()) {
    why = "the in-process assembler needs -triple=, -filetype=obj, an input and -o";
    return false;
  }
  return true;
}

/// Assembles `line.input` into the object `out` as llvm-mc does (the same objects, no PIC).
bool assemble(const McLine &line, llvm::SmallVectorImpl<char> &out, std::string &messages) {
  using namespace llvm;
  Triple triple(line.triple);
  std::string err;
  const Target *target = TargetRegistry::lookupTarget(line.triple, err);
  auto input = MemoryBuffer::getFile(line.input);
  if (!target || !input) {
    messages = target ? "cannot read " + line.input : err;
    return false;
  }
  SourceMgr sources;
  sources.AddNewSourceBuffer(std::move(*input), SMLoc());
  raw_string_ostream diags(messages);
  sources.setDiagHandler([](const SMDiagnostic &d, void *os) {
    d.print("llvm-mc", *static_cast<raw_string_ostream *>(os));
  }, &diags);
  MCTargetOptions options;
  std::unique_ptr<MCRegisterInfo> mri(target->createMCRegInfo(line.triple));
  std::unique_ptr<MCAsmInfo> mai(target->createMCAsmInfo(*mri, line.triple, options));
  std::unique_ptr<MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(line.triple, "", line.features));
  std::unique_ptr<MCInstrInfo> mcii(target->createMCInstrInfo());
  if (!mri || !mai || !sti || !mcii) {
    messages = "the target has no assembler";
    return false;
  }
  MCContext ctx(triple, mai.get(), mri.get(), sti.get(), &sources, &options);
  std::unique_ptr<MCObjectFileInfo> mofi(target->createMCObjectFileInfo(ctx, /*PIC=*/false));
  ctx.setObjectFileInfo(mofi.get());
  raw_svector_ostream os(out);
  std::unique_ptr<MCAsmBackend> backend(target->createMCAsmBackend(*sti, *mri, options));
  std::unique_ptr<MCCodeEmitter> emitter(target->createMCCodeEmitter(*mcii, ctx));
  auto writer = backend->createObjectWriter(os);
  std::unique_ptr<MCStreamer> streamer(target->createMCObjectStreamer(
      triple, ctx, std::move(backend), std::move(writer), std::move(emitter), *sti));
  std::unique_ptr<MCAsmParser> parser(createMCAsmParser(sources, ctx, *streamer, *mai));
  std::unique_ptr<MCTargetAsmParser> tap(
      target->createMCAsmParser(*sti, *parser, *mcii, options));
  if (!tap) {
    messages = "the target has no assembly parser";
    return false;
  }
  parser->setTargetParser(*tap);
  bool failed = parser->Run(/*NoInitialTextSection=*/false);
  streamer.reset(); // finishes the object
  diags.flush();
  return !failed;
}

} // namespace

extern "C" {

typedef struct Buf hw_buf;

void hw_buf_free(hw_buf *b) {
  free(b->data);
  b->data = nullptr;
  b->len = 0;
}

void *hw_session_new(int argc, const char **argv, hw_buf *err) {
  auto s = std::make_unique<Session>();
  std::string why;
  if (!create(*s, argc, argv, why)) {
    for (auto &d : s->collector.diags)
      why += "\n" + d.severity + ": " + d.message;
    give(err, why);
    return nullptr;
  }
  // The code generator's passes run once, when the object is emitted (emitObject).
  s->ci->getCodeGenOpts().DisableLLVMPasses = true;
  return s.release();
}

void hw_session_free(void *p) { delete static_cast<Session *>(p); }

/// Compiles one input. Writes the report (JSON) to `report` and the wasm32 object to `object`
/// (empty when the input failed). Returns 1 when it compiled.
int hw_session_eval(void *p, const char *text, size_t len, hw_buf *report, hw_buf *object) {
  Session &s = *static_cast<Session *>(p);
  auto t0 = std::chrono::steady_clock::now();
  llvm::StringRef input(text, len);
  FileID fid;
  std::unique_ptr<llvm::Module> module;
  bool ok = attempt(s, input, fid, module);
  // A redefinition is a new version in hotwasm: forget what the input redefines, parse again.
  std::vector<std::string> replaced = replaceable(s);
  if (!ok && !replaced.empty())
    ok = attempt(s, input, fid, module);
  else
    replaced.clear();
  double parseMs = msSince(t0);
  llvm::SmallString<0> obj;
  double emitMs = 0;
  std::vector<std::string> initializers;
  bool runOnce = false;
  if (ok && module) {
    exposeAnonymous(s, *module);
    initializers = loadTimeInitializers(*module);
    runOnce = moveInitializersToRunOnce(*module);
  }
  if (ok && module) {
    auto t1 = std::chrono::steady_clock::now();
    emitObject(s, *module, obj);
    emitMs = msSince(t1);
    ok = !s.ci->getDiagnostics().hasErrorOccurred();
  }
  std::string json;
  llvm::raw_string_ostream os(json);
  llvm::json::OStream j(os);
  j.object([&] {
    j.attribute("ok", ok);
    j.attribute("input", s.count);
    j.attributeArray("replaced", [&] {
      for (auto &name : replaced)
        j.value(name);
    });
    writeDiagnostics(j, s.collector);
    j.attributeArray("macros", [&] {
      for (auto &[name, defined] : s.macros->changes)
        j.object([&] {
          j.attribute("name", name);
          j.attribute("defined", defined);
        });
    });
    unsigned fromHeaders = 0;
    std::vector<RecordDecl *> appRecords; // complete records of the app's (non-system) headers
    j.attributeArray("decls", [&] {
      if (!ok)
        return;
      SourceManager &sm = s.ci->getSourceManager();
      for (Decl *d : s.inputs.back().part->decls()) {
        if (d->isImplicit())
          continue;
        if (sm.getFileID(sm.getExpansionLoc(d->getLocation())) != fid) {
          ++fromHeaders;
          if (!sm.isInSystemHeader(d->getLocation()))
            if (auto *rd = dyn_cast<RecordDecl>(d); rd && rd->isCompleteDefinition())
              appRecords.push_back(rd);
          continue;
        }
        writeDecl(s, j, d, fid);
      }
    });
    j.attribute("header_decls", fromHeaders);
    j.attributeArray("header_records", [&] {
      for (RecordDecl *rd : appRecords)
        j.object([&] {
          j.attribute("kind", static_cast<Decl *>(rd)->getDeclKindName());
          j.attribute("name", rd->getQualifiedNameAsString());
          writeRecordLayout(s, j, rd);
        });
    });
    writeIncludes(s, j);
    j.attributeArray("files", [&] {
      for (auto &f : s.macros->files)
        j.value(f);
    });
    j.attributeArray("load_initializers", [&] {
      for (auto &n : initializers)
        j.value(n);
    });
    if (runOnce)
      j.attribute("run_once", kRunOnce);
    j.attribute("parse_ms", parseMs);
    j.attribute("emit_ms", emitMs);
    j.attribute("inputs_alive", static_cast<int64_t>(s.inputs.size()));
  });
  os.flush();
  s.ci->getDiagnostics().Reset(/*soft=*/true);
  give(report, json);
  give(object, ok ? llvm::StringRef(obj.data(), obj.size()) : llvm::StringRef());
  return ok ? 1 : 0;
}

/// Forgets the last `n` successful inputs (their declarations leave name lookup, as
/// clang::Interpreter::Undo). Returns how many were undone.
unsigned hw_session_undo(void *p, unsigned n) {
  Session &s = *static_cast<Session *>(p);
  unsigned done = 0;
  while (done < n && !s.inputs.empty()) {
    forget(s.ci->getSema(), s.inputs.back().part);
    s.inputs.pop_back();
    ++done;
  }
  return done;
}

/// Runs the trampolines' llvm-mc command line in this process (`argv[0]` is llvm-mc's path):
/// the object is written to its `-o` file as llvm-mc writes it. Messages go to `messages`.
/// Returns 1 on success.
int hw_llvm_mc(int argc, const char **argv, hw_buf *messages) {
  McLine line;
  std::string why;
  llvm::SmallString<0> obj;
  bool ok = readMcLine(argc, argv, line, why) && assemble(line, obj, why);
  if (ok) {
    std::error_code ec;
    llvm::raw_fd_ostream file(line.output, ec);
    if (ec) {
      why = "cannot write " + line.output + ": " + ec.message();
      ok = false;
    } else
      file << obj.str();
  }
  give(messages, why);
  return ok ? 1 : 0;
}

#ifndef HOTWASM_SESSION_PROTOCOL
#error "build.rs defines HOTWASM_SESSION_PROTOCOL (src/protocol_version.rs)"
#endif

/// The protocol version this program was built for (src/protocol_version.rs, through build.rs).
unsigned hw_session_protocol(void) { return HOTWASM_SESSION_PROTOCOL; }

/// Runs wasm-ld in this process (lld's library); `argv[0]` must be "wasm-ld". Its messages go
/// to `messages`. Returns 1 on success.
int hw_wasm_ld(int argc, const char **argv, hw_buf *messages) {
  std::string out;
  llvm::raw_string_ostream os(out);
  std::vector<const char *> args(argv, argv + argc);
  lld::Result r = lld::lldMain(args, os, os, {{lld::Wasm, &lld::wasm::link}});
  os.flush();
  give(messages, out);
  return r.retCode == 0 && r.canRunAgain ? 1 : 0;
}

} // extern "C"
