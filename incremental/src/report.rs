//! What one eval taught the compiler, as both candidates report it: diagnostics, macros and the
//! top-level declarations with their kinds (clang's own `Decl` kind names), so the server never
//! has to split the text itself.

pub use hotwasm_pipeline::compile::globals::Include;
use serde::{Deserialize, Serialize};

/// One compiler diagnostic, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// `error`, `warning`, `note`, `fatal error`, `remark`.
    pub severity: String,
    /// The buffer it points into (`eval_N` for the Nth input; a header's path otherwise).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The message, word for word.
    pub message: String,
    /// The name an "undeclared identifier / function" error is about, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undeclared: Option<String>,
}

/// A macro the eval defined or undefined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MacroChange {
    /// Its name.
    pub name: String,
    /// `true` for `#define`, `false` for `#undef`.
    pub defined: bool,
}

/// One top-level declaration of an eval (or a member of a linkage/namespace block).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Decl {
    /// clang's declaration kind: `Function`, `Var`, `Record`, `CXXRecord`, `Typedef`,
    /// `ClassTemplate`, `FunctionTemplate`, `CXXConstructor`, `CXXMethod`, `TopLevelStmt`,
    /// `LinkageSpec`, `Namespace`, `Enum`, …
    pub kind: String,
    /// Its qualified name, when it has one.
    pub name: Option<String>,
    /// Where it is (line in the eval).
    pub line: u32,
    /// Its column.
    pub column: u32,
    /// Functions and variables: the type (`int (int)`); typedefs: the aliased type.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// Functions: the return type.
    pub return_type: Option<String>,
    /// Functions: the parameter types.
    pub params: Vec<String>,
    /// Whether this declaration is a definition (a body, storage, a complete type).
    pub definition: bool,
    /// `static` storage class.
    #[serde(rename = "static")]
    pub is_static: bool,
    /// Declared `inline` (or implicitly inline).
    pub inline: bool,
    /// C linkage.
    pub extern_c: bool,
    /// Variadic function.
    pub variadic: bool,
    /// Functions (not templates, constructors or destructors) and globals: the declaration
    /// another translation unit can repeat, as clang printed it from the decl (`int helper(int
    /// v)`, `int f(void)` for a C `int f()` definition, `extern unsigned int xs[4]`), no `;`.
    pub declaration: Option<String>,
    /// Variables: has an initializer.
    pub has_init: bool,
    /// Variables: the initializer is a constant (no code runs at load).
    pub constant_init: bool,
    /// Variables: the type has a destructor to run.
    pub destructed: bool,
    /// Functions and variables defined here: the symbol in the object.
    pub symbol: Option<String>,
    /// `TopLevelStmt`: clang's statement class (`CallExpr`, `ForStmt`, `LabelStmt`, …).
    pub statement: Option<String>,
    /// `TopLevelStmt`: it ended without `;` (the eval's value, printed by a REPL).
    pub semi_missing: bool,
    /// `TopLevelStmt` holding an expression: its type.
    pub expr_type: Option<String>,
    /// The final expression's value is recorded by this hotwasm ABI function
    /// (`hotwasm_value_i64`, …), whose call replaced it, when the session declares them.
    pub recorded_by: Option<String>,
    /// Whether that expression is an lvalue.
    pub lvalue: bool,
    /// Variables: the initializer as written (clang's source range of it).
    pub init: Option<String>,
    /// Complete records: `sizeof`, in bytes.
    pub size: Option<u64>,
    /// Complete records: `alignof`, in bytes.
    pub align: Option<u64>,
    /// An anonymous record: the typedef that names it (`typedef struct { … } pair`).
    pub typedef_name: Option<String>,
    /// Complete records: their own fields in memory order.
    pub fields: Vec<Field>,
    /// `LinkageSpec` / `Namespace`: what it contains.
    pub members: Vec<Decl>,
}

/// One field of a record an eval defined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Field {
    /// Its name (empty for an anonymous member).
    pub name: String,
    /// Its offset in bytes.
    pub offset: u64,
    /// Its canonical type.
    #[serde(rename = "type")]
    pub ty: String,
}

impl Decl {
    /// This declaration and, depth first, every member of the blocks it opens.
    pub fn flatten(&self) -> Vec<&Decl> {
        let mut out = vec![self];
        for m in &self.members {
            out.extend(m.flatten());
        }
        out
    }
}

/// What one eval produced.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalOutput {
    /// It compiled.
    pub ok: bool,
    /// Its number in the session (1-based, counting failed ones).
    pub input: u32,
    /// Names of earlier evals this eval defined again (a new version: the earlier declaration
    /// left lookup and the eval was parsed again).
    pub replaced: Vec<String>,
    /// Everything the compiler said.
    pub diagnostics: Vec<Diagnostic>,
    /// Macros it defined or undefined.
    pub macros: Vec<MacroChange>,
    /// Its top-level declarations, in order (statements as `TopLevelStmt`).
    pub decls: Vec<Decl>,
    /// How many declarations its `#include`s brought in.
    pub header_decls: u32,
    /// Its own `#include` directives, in order (not those of the headers they include).
    pub includes: Vec<Include>,
    /// Every file its preprocessing entered (as the include search found it).
    pub files: Vec<String>,
    /// The complete records its `#include`s of the app's own (non-system) headers brought in,
    /// with their layouts (for the layout check against the running host).
    pub header_records: Vec<Decl>,
    /// The module's initializers (top-level statements, dynamic initializers of globals) as
    /// clang emitted them, in order. They no longer run at load: see `run_once`.
    pub load_initializers: Vec<String>,
    /// The exported function that runs them, in order (`hotwasm_main`), after the page swaps the
    /// eval's functions in; `None` when the eval runs nothing.
    pub run_once: Option<String>,
    /// Milliseconds spent parsing and generating IR.
    pub parse_ms: f64,
    /// Milliseconds spent optimising and writing the object.
    pub emit_ms: f64,
    /// How many successful inputs the session holds.
    pub inputs_alive: u32,
    /// The wasm32 relocatable object (empty when it failed).
    #[serde(skip)]
    pub object: Vec<u8>,
}

impl EvalOutput {
    /// Every declaration, members of blocks included.
    pub fn all_decls(&self) -> Vec<&Decl> {
        self.decls.iter().flat_map(Decl::flatten).collect()
    }

    /// The declaration named `name` (qualified), if the eval made one.
    pub fn decl(&self, name: &str) -> Option<&Decl> {
        self.all_decls()
            .into_iter()
            .find(|d| d.name.as_deref() == Some(name))
    }

    /// The top-level statements (run once, in order).
    pub fn statements(&self) -> Vec<&Decl> {
        self.all_decls()
            .into_iter()
            .filter(|d| d.kind == "TopLevelStmt" && !d.semi_missing)
            .collect()
    }

    /// The final expression without `;`, whose value a REPL prints.
    pub fn value(&self) -> Option<&Decl> {
        self.all_decls()
            .into_iter()
            .find(|d| d.kind == "TopLevelStmt" && d.semi_missing)
    }

    /// The errors, if any.
    pub fn errors(&self) -> Vec<&Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity.ends_with("error"))
            .collect()
    }
}
