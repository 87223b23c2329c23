//! Shells a `run:` step can use, and how each one is invoked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ExecError;

/// The `shell:` of a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    /// `bash --noprofile --norc -eo pipefail {0}`
    Bash,
    /// `sh -e {0}`
    Sh,
    /// `python {0}` (`python3 {0}` when there is no `python`)
    Python,
    /// `pwsh -command ". '{0}'"`
    Pwsh,
    /// A command template containing `{0}`, replaced by the script path.
    Custom(String),
}

/// How a step's script is started, resolved against the step's `PATH`.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    pub program: PathBuf,
    /// Arguments with `{0}` already replaced.
    pub args: Vec<String>,
}

/// What a shell needs before the script file exists.
#[derive(Debug, Clone)]
pub(crate) struct ShellPlan {
    args: Vec<String>,
    /// Script file extension including the dot (may be empty).
    pub extension: &'static str,
    /// PowerShell scripts get the runner's prologue/epilogue.
    pub powershell: bool,
}

impl Shell {
    /// Parses a `shell:` value: `bash`, `sh`, `python`, `pwsh`, or a custom
    /// command template containing `{0}`.
    pub fn parse(s: &str) -> Result<Shell, String> {
        let t = s.trim();
        match t {
            "bash" => Ok(Shell::Bash),
            "sh" => Ok(Shell::Sh),
            "python" => Ok(Shell::Python),
            "pwsh" => Ok(Shell::Pwsh),
            "" => Err(
                "empty shell: expected bash, sh, python, pwsh or a command containing {0}".into(),
            ),
            "powershell" | "cmd" => {
                Err(format!("shell `{t}` is only available on windows runners"))
            }
            _ if t.contains("{0}") => {
                if split_words(t).is_none() {
                    return Err(format!("shell `{t}` has an unterminated quote"));
                }
                Ok(Shell::Custom(t.to_string()))
            }
            _ => Err(format!(
                "unknown shell `{t}`: expected bash, sh, python, pwsh or a command containing {{0}}"
            )),
        }
    }

    /// The shell used when a step names none: `bash -e {0}` when bash is on
    /// the caller's `PATH` (GitHub's unspecified-shell default, without
    /// pipefail), else `sh -e {0}`.
    pub fn default_for_host() -> Shell {
        let path = std::env::var("PATH").unwrap_or_default();
        if which("bash", &path, Path::new("/")).is_some() {
            Shell::Custom("bash -e {0}".to_string())
        } else {
            Shell::Sh
        }
    }

    /// The template as GitHub documents it.
    pub fn template(&self) -> String {
        match self {
            Shell::Bash => "bash --noprofile --norc -eo pipefail {0}".into(),
            Shell::Sh => "sh -e {0}".into(),
            Shell::Python => "python {0}".into(),
            Shell::Pwsh => "pwsh -command \". '{0}'\"".into(),
            Shell::Custom(t) => t.clone(),
        }
    }

    /// Resolves the program on `path_var` (the step's PATH) and works out the
    /// script extension.
    pub(crate) fn plan(
        &self,
        path_var: &str,
        cwd: &Path,
    ) -> Result<(ShellPlan, PathBuf), ExecError> {
        let template = self.template();
        let words = split_words(&template).ok_or_else(|| ExecError::InvalidShell {
            shell: template.clone(),
            reason: "unterminated quote".into(),
        })?;
        let Some((program, args)) = words.split_first() else {
            return Err(ExecError::InvalidShell {
                shell: template.clone(),
                reason: "no program".into(),
            });
        };
        let mut program = program.clone();
        let mut resolved = which(&program, path_var, cwd);
        if resolved.is_none() && *self == Shell::Python {
            program = "python3".into();
            resolved = which(&program, path_var, cwd);
        }
        let Some(resolved) = resolved else {
            return Err(ExecError::ShellNotFound {
                program: if *self == Shell::Python {
                    "python or python3".into()
                } else {
                    program
                },
                path: path_var.to_string(),
            });
        };
        let base = Path::new(&program)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let extension = extension_for(&base);
        Ok((
            ShellPlan {
                args: args.to_vec(),
                extension,
                powershell: extension == ".ps1",
            },
            resolved,
        ))
    }
}

impl ShellPlan {
    pub(crate) fn invocation(&self, resolved: PathBuf, script: &Path) -> Invocation {
        let script = script.to_string_lossy();
        Invocation {
            program: resolved,
            args: self
                .args
                .iter()
                .map(|a| a.replace("{0}", &script))
                .collect(),
        }
    }
}

impl std::fmt::Display for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.template())
    }
}

fn extension_for(program: &str) -> &'static str {
    let p = program.to_ascii_lowercase();
    match p.as_str() {
        "bash" | "sh" | "dash" | "zsh" | "ksh" | "ash" => ".sh",
        "pwsh" | "powershell" => ".ps1",
        "cmd" => ".cmd",
        _ if p.starts_with("python") => ".py",
        _ => "",
    }
}

/// Finds `program` on `path_var` (or directly when it contains a `/`,
/// relative to `cwd`). Only executable regular files count.
pub(crate) fn which(program: &str, path_var: &str, cwd: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let p = cwd.join(program);
        return is_exec(&p).then_some(p);
    }
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| cwd.join(d).join(program))
        .find(|p| is_exec(p))
}

/// Splits a command template into words: whitespace separates, `'…'` is
/// literal, `"…"` allows `\"` and `\\`. `None` on an unterminated quote.
pub(crate) fn split_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"') | Some('\\')) => {
                            cur.push(chars.next()?);
                        }
                        c => cur.push(c),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            split_words("pwsh -command \". '{0}'\""),
            Some(vec!["pwsh".into(), "-command".into(), ". '{0}'".into()])
        );
        assert_eq!(
            split_words("a 'b c' d\"e\\\"\""),
            Some(vec!["a".into(), "b c".into(), "de\"".into()])
        );
        assert_eq!(split_words("a 'b"), None);
        assert!(Shell::parse("perl {0}").is_ok());
        assert!(Shell::parse("perl").is_err());
        assert!(Shell::parse("cmd").is_err());
    }
}
