//! `seedbed iam eval` and `seedbed iam explain`: evaluate AWS IAM policies for one request (or
//! a batch of them) and print the decision.
//!
//! Input is one JSON object `{"policies": {...}, "request": {...}}` (see `docs/iam.md`);
//! `--batch` reads one such object per line. `eval` prints compact JSON
//! `{"decision", "matched", "explanation"}`; `explain` prints a step-by-step explanation for a
//! person. Invalid input prints `error: FILE[:LINE]: at JSON.PATH: what is wrong` on stderr and
//! exits with code 2.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use seedbed_engine::iam::{explain, parse_input};

/// Exit code for invalid input.
const EXIT_INVALID_INPUT: u8 = 2;
/// Upper bound on one input (file or batch line), to fail clearly instead of exhausting memory.
const INPUT_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// `seedbed iam ...`
#[derive(Debug, Subcommand)]
pub enum IamCommand {
    /// Evaluate a request against policies; prints {"decision", "matched", "explanation"}.
    Eval(IamArgs),
    /// The same decision, explained step by step for a person.
    Explain(IamArgs),
    /// Users of the IAM file a server reads (`user add NAME`).
    #[command(subcommand)]
    User(crate::iam_file_cmd::UserCommand),
    /// Access keys of the IAM file (`key add USER`, `key disable ID`).
    #[command(subcommand)]
    Key(crate::iam_file_cmd::KeyCommand),
    /// Roles of the IAM file (`role add NAME --trust FILE`).
    #[command(subcommand)]
    Role(crate::iam_file_cmd::RoleCommand),
    /// Assume a role as a user (the trust policy decides) and print temporary credentials.
    AssumeRole(crate::iam_file_cmd::AssumeRoleArgs),
    /// List the IAM file's accounts, users, key IDs (with when each was last used), roles and
    /// sessions with their expiry (no secrets).
    Show(crate::iam_file_cmd::FileArg),
}

/// Arguments shared by `eval` and `explain`.
#[derive(Debug, Args)]
pub struct IamArgs {
    /// File holding one JSON evaluation object (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Read one JSON object per line and print one result per line, in order (blank lines are
    /// skipped).
    #[arg(long)]
    batch: bool,
}

enum Mode {
    Eval,
    Explain,
}

/// Runs an `iam` subcommand and returns the process exit code.
pub fn run(cmd: IamCommand) -> ExitCode {
    let (mode, args) = match cmd {
        IamCommand::Eval(a) => (Mode::Eval, a),
        IamCommand::Explain(a) => (Mode::Explain, a),
        IamCommand::User(c) => return crate::iam_file_cmd::user(c),
        IamCommand::Key(c) => return crate::iam_file_cmd::key(c),
        IamCommand::Role(c) => return crate::iam_file_cmd::role(c),
        IamCommand::AssumeRole(a) => return crate::iam_file_cmd::assume_role(a),
        IamCommand::Show(f) => return crate::iam_file_cmd::show(f),
    };
    match run_inner(&mode, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(EXIT_INVALID_INPUT)
        }
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            eprintln!("error: writing output: {e}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Input(String),
    Output(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Output(e)
    }
}

fn open(path: &PathBuf) -> Result<(String, Box<dyn Read>), Failure> {
    if path.as_os_str() == "-" {
        return Ok(("<stdin>".into(), Box::new(std::io::stdin().lock())));
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::Input(format!("{name}: cannot open: {e}")))?;
    Ok((name, Box::new(file)))
}

fn evaluate_one(text: &str, mode: &Mode, where_: &str) -> Result<String, Failure> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Failure::Input(format!(
            "{where_}: invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let (set, ctx) = parse_input(&value).map_err(|e| Failure::Input(format!("{where_}: {e}")))?;
    let exp = explain(&set, &ctx);
    Ok(match mode {
        Mode::Eval => exp.to_json_line(&set, &ctx),
        Mode::Explain => exp.render(&set, &ctx),
    })
}

fn run_inner(mode: &Mode, args: &IamArgs) -> Result<(), Failure> {
    let (name, reader) = open(&args.input)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !args.batch {
        let mut text = String::new();
        reader
            .take(INPUT_BYTES_MAX + 1)
            .read_to_string(&mut text)
            .map_err(|e| Failure::Input(format!("{name}: cannot read: {e}")))?;
        if text.len() as u64 > INPUT_BYTES_MAX {
            return Err(Failure::Input(format!(
                "{name}: input larger than {INPUT_BYTES_MAX} bytes"
            )));
        }
        let result = evaluate_one(&text, mode, &name)?;
        writeln!(out, "{}", result.trim_end())?;
        return Ok(out.flush()?);
    }
    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = reader
            .by_ref()
            .take(INPUT_BYTES_MAX)
            .read_line(&mut line)
            .map_err(|e| Failure::Input(format!("{name}:{}: cannot read: {e}", line_no + 1)))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.trim().is_empty() {
            continue;
        }
        let result = evaluate_one(&line, mode, &format!("{name}:{line_no}"))?;
        match mode {
            Mode::Eval => writeln!(out, "{result}")?,
            Mode::Explain => writeln!(out, "=== line {line_no} ===\n{}\n", result.trim_end())?,
        }
    }
    Ok(out.flush()?)
}
