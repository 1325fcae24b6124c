//! `hotwasm init [--lang rust|c|cpp] DIR`: scaffolds a minimal app that builds with
//! `HOT_RELOAD=1 scripts/emscripten-bundle.sh DIR`, serves with `hotwasm serve` and live-edits on
//! the first try: hotwasm.toml, one hot function (`app_value`), a frame function the generic
//! page calls, and a patch file to edit. The templates are embedded in the binary.

use crate::cli::{InitArgs, InitLang};
use crate::home::Home;
use std::path::{Path, PathBuf};

/// Why the app could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// DIR already holds an app.
    #[error("{0} already has a hotwasm.toml: pick a new directory (init never overwrites files)")]
    Exists(String),
    /// The name cannot name a package or the output files.
    #[error("`{0}` cannot be the app's name (it names the output files and the Rust package): use letters, digits and `-`, starting with a letter, or pass --name")]
    Name(String),
    /// A file could not be written.
    #[error("cannot write {0}: {1}")]
    Write(String, std::io::Error),
}

/// A created app.
#[derive(Debug, Clone)]
pub struct App {
    /// Its directory.
    pub dir: PathBuf,
    /// Its name.
    pub name: String,
    /// Its language.
    pub lang: InitLang,
}

/// `(path in the app, template)` for each language.
fn templates(lang: InitLang) -> Vec<(&'static str, &'static str)> {
    let mut files = vec![(".gitignore", include_str!("gitignore"))];
    files.extend(match lang {
        InitLang::C => vec![
            ("hotwasm.toml", include_str!("c/hotwasm.toml")),
            ("src/app.c", include_str!("c/app.c")),
            ("include/app.h", include_str!("c/app.h")),
            ("patches/app_value.c", include_str!("c/app_value.c")),
        ],
        InitLang::Cpp => vec![
            ("hotwasm.toml", include_str!("cpp/hotwasm.toml")),
            ("src/app.cpp", include_str!("cpp/app.cpp")),
            ("include/app.h", include_str!("cpp/app.h")),
            ("patches/app_value.cpp", include_str!("cpp/app_value.cpp")),
        ],
        InitLang::Rust => vec![
            ("hotwasm.toml", include_str!("rust/hotwasm.toml")),
            ("Cargo.toml", include_str!("rust/Cargo.toml.tmpl")),
            (
                "rust-toolchain.toml",
                include_str!("../../../rust-toolchain.toml"),
            ),
            ("src/lib.rs", include_str!("rust/lib.rs")),
            ("src/main.rs", include_str!("rust/main.rs")),
            ("patches/app_value.rs", include_str!("rust/app_value.rs")),
        ],
    });
    files
}

/// `my-app` → `createMyApp`.
pub fn factory_name(name: &str) -> String {
    let camel: String = name
        .split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("create{camel}")
}

fn valid_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Fills `{{name}}`, `{{crate}}`, `{{factory}}` and `{{home}}`.
fn fill(template: &str, name: &str, home: &Path) -> String {
    template
        .replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
        .replace("{{factory}}", &factory_name(name))
        .replace("{{home}}", &home.display().to_string())
}

/// Creates the app described by `args`.
pub fn init(args: &InitArgs, home: &Home) -> Result<App, InitError> {
    let dir = &args.dir;
    if dir.join(crate::config::FILE_NAME).exists() {
        return Err(InitError::Exists(dir.display().to_string()));
    }
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
    let name = match &args.name {
        Some(n) => n.clone(),
        None => abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if !valid_name(&name) {
        return Err(InitError::Name(name));
    }
    for (rel, template) in templates(args.lang) {
        let path = dir.join(rel);
        if path.exists() {
            continue;
        }
        let write = || {
            std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
            std::fs::write(&path, fill(template, &name, home.root()))
        };
        write().map_err(|e| InitError::Write(path.display().to_string(), e))?;
    }
    Ok(App {
        dir: abs,
        name,
        lang: args.lang,
    })
}

/// What to run next, printed after `init`.
pub fn next_steps(app: &App, home: &Home) -> String {
    let scripts = home.root().join("scripts");
    let patch = match app.lang {
        InitLang::Rust => "patches/app_value.rs",
        InitLang::C => "patches/app_value.c",
        InitLang::Cpp => "patches/app_value.cpp",
    };
    format!(
        "created the app `{name}` in {dir}\nnext:\n  HOT_RELOAD=1 bash {s}/emscripten-bundle.sh {dir}   # build the HOT_RELOAD host\n  {s}/hotwasm serve --project {dir}                 # open the URL it prints\nthen edit {patch} and save: the running app calls the new app_value.",
        name = app.name,
        dir = app.dir.display(),
        s = scripts.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, HostLang};

    #[test]
    fn factory_names_are_camel_case_identifiers() {
        assert_eq!(factory_name("my-app"), "createMyApp");
        assert_eq!(factory_name("x_1"), "createX1");
    }

    #[test]
    fn every_scaffold_has_a_config_the_reader_accepts() {
        for (lang, expect) in [
            (InitLang::C, HostLang::C),
            (InitLang::Cpp, HostLang::Cpp),
            (InitLang::Rust, HostLang::Rust),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let app_dir = dir.path().join("my-app");
            let args = InitArgs {
                lang,
                name: None,
                dir: app_dir.clone(),
            };
            let app = init(&args, &Home::at("/opt/hotwasm")).unwrap();
            assert_eq!(app.name, "my-app");
            let config = Config::find(Some(&app_dir)).unwrap();
            assert_eq!(config.app.lang, expect);
            assert_eq!(config.app.export_name, "createMyApp");
            assert_eq!(config.serve.frame.as_deref(), Some("app_frame"));
            assert!(config.all_hot(), "{lang:?}: every function hot, no marks");
            if lang == InitLang::Rust {
                let cargo = std::fs::read_to_string(app_dir.join("Cargo.toml")).unwrap();
                assert!(cargo.contains("path = \"/opt/hotwasm/runtime\""), "{cargo}");
                assert!(cargo.contains("name = \"my_app\""), "{cargo}");
            }
            let again = init(&args, &Home::at("/opt/hotwasm")).unwrap_err();
            assert!(
                again.to_string().contains("already has a hotwasm.toml"),
                "{again}"
            );
        }
    }

    #[test]
    fn a_name_that_cannot_name_files_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let args = InitArgs {
            lang: InitLang::C,
            name: Some("9 lives".into()),
            dir: dir.path().join("x"),
        };
        let e = init(&args, &Home::at("/h")).unwrap_err().to_string();
        assert!(e.contains("--name"), "{e}");
    }
}
