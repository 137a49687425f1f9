//! `amesh report`: render `index.html` and `junit.xml` again from a folder's files, or list the
//! scenarios whose verdict differs between two folders.

use std::path::PathBuf;

use clap::Args;

use super::{CommonArgs, Exit};
use crate::report::{self, CampaignArtifacts};

#[derive(Args)]
pub struct ReportArgs {
    /// Campaign or run folder to render, e.g. runs/<campaign-id>.
    #[arg(value_name = "DIR", required_unless_present = "diff", conflicts_with = "diff")]
    pub dir: Option<PathBuf>,

    /// Compare two folders instead: list the scenarios whose verdict changed from DIR_A to
    /// DIR_B and the ones only one of them has. Always exits 0 when both folders are readable.
    #[arg(long, num_args = 2, value_names = ["DIR_A", "DIR_B"])]
    pub diff: Option<Vec<PathBuf>>,

    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only warnings and errors on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

impl ReportArgs {
    /// Returns the logging options in the shape every other command uses.
    pub fn common(&self) -> CommonArgs {
        CommonArgs { verbose: self.verbose, quiet: self.quiet, ..CommonArgs::default() }
    }
}

pub fn report(args: ReportArgs) -> Exit {
    if let Some(dirs) = &args.diff {
        return diff(&dirs[0], &dirs[1]);
    }
    let Some(dir) = &args.dir else {
        tracing::error!("pass a campaign folder, or --diff DIR_A DIR_B");
        return Exit::Error;
    };
    match report::write_reports(dir) {
        Ok(written) => {
            tracing::info!(
                scenarios = written.scenarios,
                "wrote {} and {}",
                written.index_html.display(),
                written.junit_xml.display()
            );
            Exit::Success
        }
        Err(err) => {
            tracing::error!("{err:#}");
            Exit::Error
        }
    }
}

fn diff(before: &std::path::Path, after: &std::path::Path) -> Exit {
    let load = |dir: &std::path::Path| {
        CampaignArtifacts::load(dir).map_err(|err| {
            tracing::error!("{err:#}");
            Exit::Error
        })
    };
    let (old, new) = match (load(before), load(after)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(exit), _) | (_, Err(exit)) => return exit,
    };
    let diff = report::diff::compare(&old, &new);
    print!("{}", diff.render(&before.display().to_string(), &after.display().to_string()));
    Exit::Success
}
