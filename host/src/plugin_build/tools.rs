//! The toolchain commands a build runs: found on `PATH` (or at a path),
//! with their output on stderr, and one line naming how to install one
//! that is missing.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Result};

/// A command-line tool and how to install it.
pub struct Tool {
    program: PathBuf,
    install: &'static str,
}

impl Tool {
    /// `name`, from `PATH`; `install` says how to get it.
    pub fn new(name: &str, install: &'static str) -> Tool {
        Tool {
            program: PathBuf::from(name),
            install,
        }
    }

    /// The tool at `path`.
    pub fn at(path: &Path, install: &'static str) -> Tool {
        Tool {
            program: path.to_path_buf(),
            install,
        }
    }

    /// Runs it in `dir` with `args`, its stdout and stderr on stderr.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Result<()> {
        self.output_to(dir, args, Stdio::from(std::io::stderr()))
            .map(drop)
    }

    /// Runs it in `dir` with `args`: its stdout; its stderr on stderr.
    pub fn output(&self, dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
        self.output_to(dir, args, Stdio::piped())
    }

    fn output_to(&self, dir: &Path, args: &[&str], stdout: Stdio) -> Result<Vec<u8>> {
        let shown = self.program.display();
        let output = Command::new(&self.program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::inherit())
            .output();
        let output = match output {
            Ok(output) => output,
            Err(error) if error.kind() == ErrorKind::NotFound => {
                bail!("{shown} not found: {}", self.install)
            }
            Err(error) => bail!("running {shown}: {error}"),
        };
        if !output.status.success() {
            bail!("{shown} {} failed ({})", args.join(" "), output.status);
        }
        Ok(output.stdout)
    }
}
