//! Edits of the app's hotwasm.toml while `hotwasm serve` runs: each is reloaded when it loads
//! (a changed `[build]` rebuilds the host with it when host rebuilds are on; `[app]`,
//! `[patches]` and `[serve]` are named as applying after a restart), or refused with the reason
//! in the log and to every client (the server keeps the config it had).

use crate::config::Config;
use crate::hub::Hub;
use crate::saves::{Kinds, Saves};
use crate::watch::{report, DEBOUNCE};
use notify::RecursiveMode;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// What an edit of hotwasm.toml means for a running server.
#[derive(Debug, PartialEq)]
pub enum ConfigNews {
    /// Nothing the server reads changed (a comment, spacing).
    Unchanged,
    /// The edited file does not load: the server keeps the config it has, for this reason.
    Invalid(String),
    /// The edited file loaded and is now the server's: whether `[build]` changed (host rebuilds
    /// use it from now on) and which other tables changed (they apply after a restart).
    Reloaded {
        /// `[build]` (or `[app]`, which the build reads too) changed.
        build: bool,
        /// `[patches]`, `[serve]` or `[app]`: read once at start.
        restart: Vec<&'static str>,
    },
}

impl ConfigNews {
    /// Compares the server's config with the file as it is now.
    pub fn of(old: &Config, new: &Result<Config, crate::config::ConfigError>) -> ConfigNews {
        let new = match new {
            Err(e) => return ConfigNews::Invalid(e.to_string()),
            Ok(new) => new,
        };
        let mut restart = Vec::new();
        if old.app != new.app {
            restart.push("[app]");
        }
        if old.patches != new.patches {
            restart.push("[patches]");
        }
        if old.serve != new.serve {
            restart.push("[serve]");
        }
        if old.build.host_watch != new.build.host_watch {
            // The watched directories are set up at start.
            restart.push("[build] host_watch");
        }
        let build = old.build != new.build || old.app != new.app;
        if !build && restart.is_empty() {
            return ConfigNews::Unchanged;
        }
        ConfigNews::Reloaded { build, restart }
    }

    /// The server log's line for this news (`rebuilds`: the server rebuilds the host on save).
    pub fn describe(&self, file: &Path, rebuilds: bool) -> Option<String> {
        let file = file.display();
        match self {
            ConfigNews::Unchanged => None,
            ConfigNews::Invalid(why) => Some(format!(
                "{file} changed but does not load ({why}): the server keeps the config it had; fix the file and save it again"
            )),
            ConfigNews::Reloaded { build, restart } => {
                let mut line = format!("{file} changed: reloaded");
                if *build && rebuilds {
                    line.push_str("; [build] changed: rebuilding the host with it");
                } else if *build {
                    line.push_str("; [build] changed: the next `hotwasm build` uses it");
                }
                if !restart.is_empty() {
                    line.push_str(&format!(
                        "; {} changed: the running server keeps what it read at start until you stop `hotwasm serve` and start it again",
                        restart.join(", ")
                    ));
                }
                Some(line)
            }
        }
    }
}

/// Watches the app's hotwasm.toml (its directory, for editors that save by renaming): each
/// edit is reloaded into `current` when it loads (and said so in the log), or refused with the
/// reason in the log and to every client as `diagnostics` (the server keeps `current`). A
/// changed `[build]` is sent on `rebuild` (the host watch's queue) when host rebuilds are on.
pub fn start(
    hub: Arc<Hub>,
    current: Arc<Mutex<Config>>,
    rebuild: Option<Sender<PathBuf>>,
) -> notify::Result<()> {
    let file = lock(&current).file.clone();
    let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
    let (saves, _) = Saves::watch(
        &[(dir, RecursiveMode::NonRecursive)],
        Kinds::Writes,
        DEBOUNCE,
    )?;
    std::thread::spawn(move || {
        while let Some(saved) = saves.next_batch() {
            if !saved.iter().any(|p| p.file_name() == file.file_name()) {
                continue;
            }
            let loaded = Config::load(&file);
            let news = ConfigNews::of(&lock(&current), &loaded);
            if let Some(line) = news.describe(&file, rebuild.is_some()) {
                eprintln!("hotwasm: {line}");
            }
            match (news, loaded) {
                (ConfigNews::Invalid(why), _) => {
                    let name = crate::config::FILE_NAME.to_string();
                    let message = format!("{why}; the server keeps the config it had");
                    report(&hub, name, Vec::new(), message, String::new());
                }
                (ConfigNews::Reloaded { build, .. }, Ok(config)) => {
                    *lock(&current) = config;
                    if let (true, Some(rebuild)) = (build, &rebuild) {
                        let _ = rebuild.send(file.clone());
                    }
                }
                _ => {}
            }
        }
    });
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_config_is_reloaded_naming_what_applies_now_and_what_after_a_restart() {
        let file = Path::new("/app/hotwasm.toml");
        let base = "[app]\nname = \"a\"\nlang = \"c\"\n[build]\nsources = [\"src/*.c\"]\n";
        let old = Config::parse(base, file).unwrap();
        let same = Config::parse(&format!("# a comment\n{base}"), file);
        assert_eq!(ConfigNews::of(&old, &same), ConfigNews::Unchanged);
        let edited = format!("{base}ldflags = [\"-sASSERTIONS=1\"]\n[serve]\nport = 9000\n");
        let news = ConfigNews::of(&old, &Config::parse(&edited, file));
        let restart = vec!["[serve]"];
        assert_eq!(
            news,
            ConfigNews::Reloaded {
                build: true,
                restart
            }
        );
        let line = news.describe(file, true).unwrap();
        assert!(
            line.contains("[build] changed: rebuilding the host with it"),
            "{line}"
        );
        assert!(line.contains("[serve] changed: the running server keeps what it read at start until you stop `hotwasm serve` and start it again"), "{line}");
        let bad = Config::parse(&format!("{base}[serve]\nport = \"x\"\n"), file);
        let news = ConfigNews::of(&old, &bad);
        assert!(
            matches!(&news, ConfigNews::Invalid(why) if why.contains("/app/hotwasm.toml:7:8")),
            "{news:?}"
        );
        let line = news.describe(file, false).unwrap();
        assert!(
            line.contains("the server keeps the config it had"),
            "{line}"
        );
    }
}
