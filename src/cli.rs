//! Command-line surface: clap definitions and help text with examples.

use crate::shell::Shell;
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "jit-secrets",
    version,
    about = "Fetch secrets from your secret stores at shell activation and export them; nothing is written to disk",
    after_help = "Examples:\n  jit-secrets allow                               # once: trust this project's manifest\n  source <(jit-secrets activate --shell bash)     # bash (zsh: --shell zsh)\n  jit-secrets activate --shell fish | source      # fish\n  jit-secrets run -- terraform plan               # one command, no shell\n  jit-secrets list                                # what is declared, no store contacted\n\nExit codes: 0 ok, 1 a secret or store failed, 2 usage or manifest error, 3 (verify) stale or overdue."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The manifest to read (default: $JIT_SECRETS_MANIFEST, $FLOX_ENV_PROJECT/.flox/env/manifest.toml,
    /// then .flox/env/manifest.toml or manifest.toml in this directory or above, up to the
    /// repository's root or $HOME)
    #[arg(long, short = 'm', global = true, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Apply [secrets.profiles.NAME] over the base table (e.g. prod, ci)
    #[arg(
        long,
        short = 'p',
        global = true,
        env = "JIT_SECRETS_PROFILE",
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// Never prompt (no keyring unlock or passphrase prompt), even on a terminal
    #[arg(long, global = true)]
    pub no_prompt: bool,
    /// The host running this already runs the project's own code and vouches for its manifest:
    /// flox (only $FLOX_ENV_PROJECT's manifest) or nix (a devShell's shellHook). Skips `allow`.
    #[arg(long, global = true, value_enum, value_name = "HOST")]
    pub trusted_by: Option<crate::trust::Host>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print shell code that exports every secret (eval or source it)
    #[command(
        after_help = "Examples:\n  source <(jit-secrets activate --shell bash)\n  eval \"$(jit-secrets activate --shell zsh)\"\n  jit-secrets activate --shell fish | source\n  eval \"`jit-secrets activate --shell tcsh`\"          # tcsh, csh\n  jit-secrets activate --shell nu | from json | load-env   # nushell\n  eval (jit-secrets activate --shell elvish | slurp)\n  jit-secrets activate --shell json | jq keys\n\nOn a terminal the values are masked; pipe the output, or pass --reveal, to see them.\nOn failure nothing is exported: stdout holds only `false`, so `eval` fails, and stderr says why."
    )]
    Activate(ActivateArgs),
    /// Run a command with the secrets in its environment (no shell involved)
    #[command(
        after_help = "Examples:\n  jit-secrets run -- terraform plan\n  jit-secrets run --mask -- ./deploy.sh     # CI logs: values the script prints become <NAME>\n  jit-secrets run -- sh -c 'curl -H \"Authorization: Bearer $API_TOKEN\" …'\n\nExits with the command's status; the command does not start if a secret fails."
    )]
    Run(RunArgs),
    /// Store a secret's value in its store (any store `jit-secrets` can write), from a hidden prompt or stdin
    #[command(
        after_help = "Examples:\n  jit-secrets set GITHUB_TOKEN                      # hidden prompt on a terminal\n  gh auth token | jit-secrets set GITHUB_TOKEN      # or from stdin (one trailing newline dropped)\n  jit-secrets set X --ref keyring:my-service        # without a manifest entry\n\nThe value is never taken from the command line, where shell history and `ps` would see it."
    )]
    Set(SetArgs),
    /// Generate a new random value and write it to the secret's store (never printed)
    #[command(
        after_help = "Examples:\n  jit-secrets rotate DB_PASSWORD                       # 32 alphanumerics\n  jit-secrets rotate API_SECRET --length 64 --charset ascii\n\nWrites to keyring:, pass:, secret-tool:, vault: (kv patch), aws-sm: (put-secret-value),\naws-ssm: (put-parameter --overwrite), bitwarden: (bw edit), gcp: (versions add), azure-kv:\n(secret set), oci-vault: (update-base64), keepassxc: (edit -p) and plugin: (set). Active shells become `stale` in `jit-secrets verify`."
    )]
    Rotate(RotateArgs),
    /// Delete a secret's item from its store (keyring:, pass:, secret-tool:, plugin:)
    #[command(
        after_help = "Examples:\n  jit-secrets delete GITHUB_TOKEN          # asks first on a terminal\n  jit-secrets delete GITHUB_TOKEN --yes"
    )]
    Delete(DeleteArgs),
    /// Check every secret resolves, that this shell holds the current values, and none is overdue
    #[command(
        after_help = "Examples:\n  jit-secrets verify                       # table; exit 0 ok, 1 unresolved, 3 stale or overdue\n  jit-secrets verify --json | jq '.secrets[] | select(.current == \"stale\")'\n  jit-secrets verify --only DATABASE_URL API_KEY\n\nNo value is ever printed. `stale`: the store changed since this shell was activated (activate again).\n`overdue`: older than `rotate_after` (set on an entry or in [secrets.options])."
    )]
    Verify(VerifyArgs),
    /// Add an empty secrets table to the manifest ([plugins.jit-secrets] in a Flox manifest)
    #[command(
        after_help = "Examples:\n  jit-secrets init            # manifest.toml here (created if there is none)\n  jit-secrets init --flox     # .flox/env/manifest.toml: [plugins.jit-secrets]"
    )]
    Init(InitArgs),
    /// Add (or replace) an entry, keeping the manifest's comments and order
    #[command(
        after_help = "Examples:\n  jit-secrets add GITHUB_TOKEN keyring:github-token\n  jit-secrets add DATABASE_URL op://Engineering/db/url --timeout 10s\n  jit-secrets add SENTRY_DSN env:SENTRY_DSN --optional"
    )]
    Add(AddArgs),
    /// Remove an entry from the manifest (the stored value stays: see `delete`)
    Remove(RemoveArgs),
    /// Print the snippet that plugs jit-secrets into a tool or shell
    #[command(
        after_help = "Examples:\n  jit-secrets hook flox       # [profile] / [hook] snippets for .flox/env/manifest.toml\n  jit-secrets hook direnv >> ~/.config/direnv/direnvrc\n  jit-secrets hook fish >> ~/.config/fish/config.fish"
    )]
    Hook(HookArgs),
    /// Print shell completions
    #[command(
        after_help = "Examples:\n  jit-secrets completions bash > ~/.local/share/bash-completion/completions/jit-secrets\n  jit-secrets completions zsh > ~/.zfunc/_jit-secrets\n  jit-secrets completions fish > ~/.config/fish/completions/jit-secrets.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    #[command(hide = true)]
    Man,
    /// Trust this manifest as it is now: print what it will do, then let jit-secrets act on it
    #[command(
        after_help = "Examples:\n  jit-secrets allow                     # the manifest discovery finds here\n  jit-secrets allow path/to/manifest.toml\n\nA manifest you did not allow (a cloned repository's) cannot read your stores or run programs.\nEdit it (or pull an edit) and you are asked again. The trust file holds paths and SHA-256\ndigests, no secrets: $XDG_DATA_HOME/jit-secrets/trusted."
    )]
    Allow(TrustArgs),
    /// Stop trusting a manifest
    Deny(TrustArgs),
    /// First run in a checkout: ask for each missing secret on the terminal and store it
    #[command(
        after_help = "Examples:\n  jit-secrets setup                  # every missing secret this manifest can store\n  jit-secrets setup --only API_KEY\n\nOn a terminal: each value is asked twice, hidden, and nothing is stored until all are in\n(Ctrl-D stores nothing). Without one (or with --no-prompt): lists what is missing and the\n`jit-secrets set` command for each, and exits 1."
    )]
    Setup(SetupArgs),
    /// Delete the keyring items this manifest owns (project-scoped; with --global, the global ones too)
    Forget(ForgetArgs),
    /// The memory-only cache (kernel keyring): list what it holds, or clear it
    #[command(
        subcommand,
        after_help = "Examples:\n  jit-secrets cache list           # this manifest's cached values: name, store, time left (never a value)\n  jit-secrets cache clear          # drop this manifest's cached values\n  jit-secrets cache clear --all    # drop every value jit-secrets cached for you\n\nTurn the cache on per entry (cache = \"15m\") or for all ([secrets.options] cache = \"15m\")."
    )]
    Cache(CacheCommand),
    /// List the declared secrets and where each comes from (never values; no store is contacted)
    #[command(
        after_help = "Examples:\n  jit-secrets list\n  jit-secrets list --json | jq '.[].name'"
    )]
    List(ListArgs),
}

#[derive(Args, Debug)]
pub struct ActivateArgs {
    /// The shell that will evaluate the output (default: the parent process's executable when it is a
    /// shell, else posix code, which is inert in every other shell; $SHELL is never used)
    #[arg(long, short = 's', value_enum)]
    pub shell: Option<Shell>,
    /// Print the real values even when stdout is a terminal
    #[arg(long)]
    pub reveal: bool,
    /// Do not serve values from the cache; fetch them and refill it
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Replace every secret value in the command's stdout and stderr with <NAME> (for CI logs)
    #[arg(long)]
    pub mask: bool,
    /// Do not serve values from the cache; fetch them and refill it
    #[arg(long)]
    pub refresh: bool,
    /// The command and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<OsString>,
}

#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// This manifest's cached values: name, store, time left (never a value)
    List {
        /// Every manifest's, not only this one's
        #[arg(long)]
        all: bool,
    },
    /// Drop this manifest's cached values
    Clear {
        /// Drop every value jit-secrets cached for you, whatever the manifest
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args, Debug)]
pub struct SetupArgs {
    /// Only these secrets
    #[arg(long, num_args = 1.., value_name = "NAME")]
    pub only: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ForgetArgs {
    /// Also the global keyring: items the manifest references (shared with other tools)
    #[arg(long)]
    pub global: bool,
    /// Do not ask (required when not on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct TrustArgs {
    /// The manifest (default: the one discovery finds, as for every command)
    pub path: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print JSON: [{"name", "from": [..], "stores": [..], "required", "description"}]
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SetArgs {
    /// The secret's name in the manifest
    pub name: String,
    /// Where to store it, instead of the entry's first `from` (e.g. keyring:github-token)
    #[arg(long = "ref", value_name = "REFERENCE")]
    pub reference: Option<String>,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// The secret's name in the manifest
    pub name: String,
    /// Where it is stored, instead of the entry's first `from`
    #[arg(long = "ref", value_name = "REFERENCE")]
    pub reference: Option<String>,
    /// Do not ask for confirmation (required when not on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Print the report as JSON (schema in the README)
    #[arg(long)]
    pub json: bool,
    /// Check only these secrets
    #[arg(long, num_args = 1.., value_name = "NAME")]
    pub only: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Use the Flox environment's manifest (.flox/env/manifest.toml) and [plugins.jit-secrets]
    #[arg(long)]
    pub flox: bool,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The environment variable to set
    pub name: String,
    /// Where its value lives, e.g. keyring:github-token or op://Vault/item/field
    #[arg(value_name = "REF")]
    pub reference: String,
    /// A missing value is a warning, not a failure
    #[arg(long)]
    pub optional: bool,
    /// Per-call timeout for this entry, e.g. 10s
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

#[derive(Args, Debug)]
pub struct RemoveArgs {
    /// The entry to remove
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HookTarget {
    Flox,
    /// The etc/profile.d script of the Flox plugin route
    FloxProfileD,
    Nix,
    Direnv,
    Bash,
    Zsh,
    Fish,
    /// tcsh and csh (~/.tcshrc)
    Tcsh,
    /// nushell (config.nu)
    Nu,
    Elvish,
}

#[derive(Args, Debug)]
pub struct HookArgs {
    #[arg(value_enum)]
    pub target: HookTarget,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct RotateArgs {
    /// The secret's name in the manifest (its first `from` is written)
    pub name: String,
    /// How many characters
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(8..=4096))]
    pub length: u16,
    /// Which characters
    #[arg(long, value_enum, default_value_t = crate::generate::Charset::Alnum)]
    pub charset: crate::generate::Charset,
}
