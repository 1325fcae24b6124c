//! The `hotwasm` command.

use anyhow::Context;
use clap::Parser;
use hotwasm_server::cli::{Cli, Command, ConnArgs, JournalAction};
use hotwasm_server::config::Config;
use hotwasm_server::home::Home;
use hotwasm_server::{bundle, client, editors, init, journal, protocol, repl, serve, toolchain};

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The message and its causes, never a backtrace: each says what to do next.
            eprintln!("hotwasm: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(args) => {
            let home = Home::find()?;
            let app = init::init(&args, &home)?;
            let config = Config::find(Some(&app.dir))?;
            match toolchain::adopt_env(&home) {
                Ok(()) => write_editor_files(&config, &home),
                Err(e) => {
                    eprintln!("hotwasm: no editor files yet ({e}): `hotwasm build` writes them")
                }
            }
            println!("{}", init::next_steps(&app, &home));
        }
        Command::Build(args) => {
            let home = Home::find()?;
            let config = Config::find(args.project.as_deref())?;
            toolchain::adopt_env(&home)?;
            if args.check {
                for warning in editors::missing_paths(&config) {
                    eprintln!("hotwasm: warning: {warning}");
                }
                println!("{}: the config is valid", config.file.display());
                write_editor_files(&config, &home);
                return Ok(());
            }
            bundle::build(&config, &home, args.hot)?;
            write_editor_files(&config, &home);
        }
        Command::Serve(args) => {
            let home = Home::find()?;
            if let Err(e) = toolchain::adopt_env(&home) {
                eprintln!("hotwasm: warning: {e}");
            }
            serve::serve(args)?
        }
        Command::Eval { file, conn } => {
            if !client::eval_file(&conn, &file)? {
                std::process::exit(1);
            }
        }
        Command::Repl { rust, lang, conn } => {
            let lang = match (rust, lang) {
                (true, _) => protocol::Lang::Rust,
                (false, lang) => lang.unwrap_or(protocol::Lang::C),
            };
            repl::run(&conn, lang)?
        }
        Command::Journal {
            action:
                JournalAction::Reset {
                    journal,
                    url,
                    project,
                },
        } => match url {
            Some(url) => {
                let epoch = client::reset(&ConnArgs {
                    url: Some(url),
                    project,
                })?;
                println!("journal reset by the server; new epoch {epoch}");
            }
            None => {
                let root = client::app_root(project.as_deref())?;
                let dir = root.join(journal);
                let mut j = journal::Journal::open(&dir)
                    .with_context(|| format!("opening {}", dir.display()))?;
                j.reset()?;
                println!(
                    "journal {} reset; new epoch {} (restart a running server, or use --url)",
                    dir.display(),
                    j.epoch()
                );
            }
        },
        Command::Protocol { .. } => println!("{}", protocol::mirror_json()),
    }
    Ok(())
}

/// Writes what clangd and rust-analyzer need ([`editors`]) and says where; a failure is a
/// warning (the build itself succeeded).
fn write_editor_files(config: &Config, home: &Home) {
    match editors::write(config, home) {
        Ok(written) => {
            let files: Vec<String> = written
                .files
                .iter()
                .map(|f| {
                    f.strip_prefix(&config.root)
                        .unwrap_or(f)
                        .display()
                        .to_string()
                })
                .collect();
            eprintln!(
                "hotwasm: for editors (clangd, rust-analyzer; docs/ADOPTING.md): {}",
                files.join(", ")
            );
            for note in written.notes {
                eprintln!("hotwasm: note: {note}");
            }
        }
        Err(e) => eprintln!("hotwasm: warning: no editor files: {e}"),
    }
}
