//! `jit-secrets completions SHELL` and `jit-secrets man`: generated from the clap definitions.
//! Each is rendered into memory first and written in one go, so a closed pipe is an error we
//! report quietly (`jit-secrets completions bash | head -1`), not a panic in the generator.

use super::EXIT_OK;
use crate::cli::CompletionsArgs;
use std::io::Write;

pub fn completions(args: CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = crate::cli::command();
    let mut text = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "jit-secrets", &mut text);
    write_out(&text)
}

/// One page: the global options shown (`--help` keeps them to the top level), each command named
/// as `jit-secrets COMMAND`, not as a `jit-secrets-COMMAND(1)` page that does not exist, and no
/// `help` command (`--help` lists none), then the sections clap does not write: EXIT STATUS,
/// ENVIRONMENT, FILES, EXAMPLES.
pub fn man() -> anyhow::Result<u8> {
    let cmd = crate::cli::command()
        .mut_args(|a| if a.is_global_set() { a.hide(false) } else { a })
        .disable_help_subcommand(true);
    let page = clap_mangen::Man::new(cmd);
    let mut text = Vec::new();
    page.render_title(&mut text)?;
    page.render_name_section(&mut text)?;
    page.render_synopsis_section(&mut text)?;
    page.render_description_section(&mut text)?;
    page.render_options_section(&mut text)?;
    page.render_subcommands_section(&mut text)?;
    let mut text = commands_named_in_place(&String::from_utf8(text)?);
    text.push_str(&roff_paragraph(
        "Each command's own options, with examples: jit-secrets COMMAND --help.",
    ));
    text.push_str(&sections());
    let mut version = Vec::new();
    page.render_version_section(&mut version)?;
    text.push_str(&String::from_utf8(version)?);
    let text = once_defined(&text);
    write_out(text.as_bytes())
}

/// What each exit status means (the README's table says the same; `tests/docs.rs` checks both
/// against these constants).
pub const EXIT_STATUS: &[(u8, &str)] = &[
    (super::EXIT_OK, "ok"),
    (
        super::EXIT_SECRET_FAILURE,
        "a secret or store failed (a required secret missing, a store error, a timeout)",
    ),
    (
        super::EXIT_USAGE,
        "a usage or manifest error (a bad flag, no manifest, a manifest not allowed, a store that cannot be written)",
    ),
    (
        super::EXIT_STALE,
        "verify only: everything resolves, but something is stale or overdue",
    ),
    (
        super::EXIT_BROKEN_PIPE,
        "the reader of our output went away (jit-secrets list | head -1)",
    ),
];

/// Every `JIT_SECRETS_*` variable the code reads or sets, and the others it reads that a user
/// may want to know about (`tests/docs.rs` checks every `JIT_SECRETS_` name in src/ is here).
pub const ENVIRONMENT: &[(&str, &str)] = &[
    ("JIT_SECRETS_MANIFEST", "The manifest to use, as --manifest does (which wins over it); before discovery."),
    ("JIT_SECRETS_PROFILE", "The profile to apply ([secrets.profiles.NAME]), as --profile does."),
    ("JIT_SECRETS_TRUST_ALL_MANIFESTS", "Set to 1, every manifest is treated as allowed: for CI and throwaway containers, never in a shell profile (a cloned repository's manifest would run and read your stores)."),
    ("JIT_SECRETS_AGE_IDENTITY", "The age identity file for age: references, used alone (else identity in [secrets.options], else ~/.config/age/keys.txt, ~/.ssh/id_ed25519, ~/.ssh/id_rsa)."),
    ("JIT_SECRETS_LEASE_HOLDER", "Which process holds a lease created by activate, for revoke = \"on-exit\": parent (the shell evaluating the output; the default), session (the session leader; the default under direnv) or a PID."),
    ("JIT_SECRETS_SCOPED_MANIFEST", "Set by activate when the manifest has scoped entries (only = [...]): the manifest the command proxies read. Not for setting by hand."),
    ("JIT_SECRETS_SCOPED_PROFILE", "Set by activate beside JIT_SECRETS_SCOPED_MANIFEST when a profile was used."),
    ("JIT_SECRETS_SCOPED_VOUCH", "Set by activate beside JIT_SECRETS_SCOPED_MANIFEST when a host vouched for the manifest (--trusted-by)."),
    ("JIT_SECRETS_LEASE", "Set for a command lease's program and its revoke_command: the lease's name."),
    ("JIT_SECRETS_LEASE_DURATION", "Set for a command lease's program: the duration asked for, in seconds."),
    ("JIT_SECRETS_LEASE_ID", "Set for a command lease's revoke_command: the id its program printed."),
    ("FLOX_ENV_PROJECT", "Set by flox activate: its .flox/env/manifest.toml is the manifest, and the one --trusted-by flox vouches for."),
    ("XDG_DATA_HOME", "Where the trust file lives (see FILES)."),
    ("XDG_RUNTIME_DIR", "Where the scoped commands' proxy directory lives (memory-backed)."),
    ("NO_COLOR", "No colour in verify's table."),
];

/// EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES, in roff.
fn sections() -> String {
    let mut out = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_STATUS {
        out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_line(meaning)));
    }
    out.push_str(&roff_paragraph(
        "run exits with its command's status (127 when it cannot be found); a scoped command that \
         cannot start exits 126. On any failure activate prints only a statement that makes the \
         evaluation fail, and says why on stderr.",
    ));
    out.push_str(".SH ENVIRONMENT\n");
    for (name, meaning) in ENVIRONMENT {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_line(name),
            roff_line(meaning)
        ));
    }
    out.push_str(".SH FILES\n");
    for (path, meaning) in [
        ("manifest.toml, .flox/env/manifest.toml", "The manifest, found from the current directory upwards (to the repository's root or $HOME): references only, safe to commit."),
        ("$XDG_DATA_HOME/jit-secrets/trusted (~/.local/share/jit-secrets/trusted)", "The trust file: the manifests you allowed or denied, by path, with the SHA-256 of each and of the scripts it runs. No secret. Written by allow and deny, and by init, add and remove for a manifest they keep trusted."),
        ("$XDG_RUNTIME_DIR/jit-secrets/scoped/", "Symlinks to jit-secrets named after scoped commands (never a value)."),
    ] {
        out.push_str(&format!(".TP\n\\fI{}\\fR\n{}\n", roff_line(path), roff_line(meaning)));
    }
    out.push_str(&roff_paragraph(
        "Values are never written to a file: the optional cache and leases live in the kernel keyring.",
    ));
    out.push_str(".SH EXAMPLES\n");
    for (comment, line) in [
        ("Start a manifest, store a value, load it", "jit-secrets init\njit-secrets add GITHUB_TOKEN keyring:github-token\njit-secrets set GITHUB_TOKEN\nsource <(jit-secrets activate --shell bash)"),
        ("A checkout someone else set up", "jit-secrets list\njit-secrets allow\njit-secrets setup"),
        ("Define a `secrets` function in your shell (bash, zsh, fish, tcsh, nu, elvish)", "jit-secrets hook bash >> ~/.bashrc"),
        ("Or load them on cd into a project, and unload them on leaving it", "jit-secrets hook bash --auto >> ~/.bashrc"),
        ("One command with the secrets, no shell", "jit-secrets run -- terraform plan"),
        ("One value, for a script", "curl -H \"Authorization: Bearer $(jit-secrets get API_TOKEN)\" https://api.example.com"),
        ("Move a dotenv file into the OS keyring (the file is left for you to delete)", "jit-secrets import .env --store keyring"),
        ("In CI: fail the job when a secret does not resolve or is overdue", "jit-secrets verify --no-prompt"),
        ("Read the manual", "jit-secrets man | man -l -"),
    ] {
        out.push_str(&roff_paragraph(comment));
        out.push_str(".nf\n.RS 4\n");
        for l in line.lines() {
            out.push_str(&roff_line(l));
            out.push('\n');
        }
        out.push_str(".RE\n.fi\n");
    }
    out.push_str(".SH \"SEE ALSO\"\n");
    out.push_str(&roff_line(
        "README.md and docs/ in the source: https://github.com/jit-secrets/jit-secrets",
    ));
    out.push('\n');
    out
}

/// One paragraph of text.
fn roff_paragraph(text: &str) -> String {
    format!(".PP\n{}\n", roff_line(text))
}

/// Text for one roff line: backslashes and hyphens escaped, quotes and a leading `.` or `'`
/// (which would be read as a request) made literal.
fn roff_line(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\'', "\\*(Aq");
    if escaped.starts_with('.') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// Each section clap_mangen renders on its own starts with the same two lines defining `\*(Aq`:
/// keep the first pair only.
fn once_defined(roff: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    roff.split_inclusive('\n')
        .filter(|line| {
            let defines_aq =
                line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
            !defines_aq || seen.insert(line.to_string())
        })
        .collect()
}

/// `jit\-secrets\-activate(1)` → `jit\-secrets activate`.
fn commands_named_in_place(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    for line in roff.split_inclusive('\n') {
        match line
            .strip_prefix("jit\\-secrets\\-")
            .and_then(|rest| rest.strip_suffix("(1)\n"))
        {
            Some(command) => out.push_str(&format!("jit\\-secrets {command}\n")),
            None => out.push_str(line),
        }
    }
    out
}

fn write_out(text: &[u8]) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    out.write_all(text)?;
    out.flush()?;
    Ok(EXIT_OK)
}
