//! The `hotwasm` command.

use anyhow::Context;
use clap::Parser;
use hotwasm_server::cli::{Cli, Command, ConnArgs, JournalAction};
use hotwasm_server::{client, journal, serve};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::serve(args)?,
        Command::Eval { file, conn } => {
            if !client::eval_file(&conn, &file)? {
                std::process::exit(1);
            }
        }
        Command::Repl { rust, conn } => client::repl(&conn, rust)?,
        Command::Journal {
            action: JournalAction::Reset { journal, url, root },
        } => match url {
            Some(url) => {
                let epoch = client::reset(&ConnArgs {
                    url: Some(url),
                    root,
                })?;
                println!("journal reset by the server; new epoch {epoch}");
            }
            None => {
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
    }
    Ok(())
}
