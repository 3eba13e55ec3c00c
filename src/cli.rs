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
    after_help = "Examples:\n  jit-secrets allow                               # once: trust this project's manifest\n  source <(jit-secrets activate --shell bash)     # bash (zsh: --shell zsh)\n  jit-secrets activate --shell fish | source      # fish\n  jit-secrets run -- terraform plan               # one command, no shell\n  jit-secrets list                                # what is declared, no store contacted\n\nExit codes: 0 ok, 1 a secret or store failed, 2 usage or manifest error,\n3 (verify) stale or overdue, 141 the reader of the output went away.\nMore: jit-secrets man | man -l -"
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
    #[arg(long, short = 'm', global = true, hide = true, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Apply [secrets.profiles.NAME] over the base table (e.g. prod, ci)
    #[arg(
        long,
        short = 'p',
        global = true,
        hide = true,
        env = "JIT_SECRETS_PROFILE",
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// Never prompt (no keyring unlock or passphrase prompt), even on a terminal
    #[arg(long, global = true, hide = true)]
    pub no_prompt: bool,
    /// The host running this already runs the project's own code and vouches for its manifest:
    /// flox (only $FLOX_ENV_PROJECT's manifest) or nix (a devShell's shellHook). Skips `allow`; a
    /// manifest you denied stays refused.
    #[arg(long, global = true, hide = true, value_enum, value_name = "HOST")]
    pub trusted_by: Option<crate::trust::Host>,
    /// With --trusted-by nix: the SHA-256 of the manifest the hook vouches for (lib.shellHook
    /// passes `builtins.hashFile "sha256"` of it); any other manifest is refused
    #[arg(long, global = true, hide = true, value_name = "HEX")]
    pub manifest_sha256: Option<String>,
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
        after_help = "Examples:\n  jit-secrets run -- terraform plan\n  jit-secrets run --mask -- ./deploy.sh     # CI logs: values become <NAME>\n  jit-secrets run --no-mask -- psql         # interactive: sees the terminal\n  jit-secrets run -- sh -c 'curl -H \"Authorization: Bearer $API_TOKEN\" …'\n\nOn a terminal the values the command prints are masked (--no-mask: not).\nExits with the command's status; the command does not start if a secret fails."
    )]
    Run(RunArgs),
    /// Print one secret's value (for scripts: `$(jit-secrets get DB_URL)`)
    #[command(
        after_help = "Examples:\n  jit-secrets get DATABASE_URL              # the value and a newline\n  psql \"$(jit-secrets get DATABASE_URL)\"\n  jit-secrets get API_KEY -n | wl-copy      # -n: no newline\n\nThe value is printed even on a terminal. Exit codes: 0 printed; 1 it could\nnot be fetched (or, optional, was not found); 2 no such secret, a scoped\none (`only`), or a manifest error."
    )]
    Get(GetArgs),
    /// Move a dotenv file's values into a store and add an entry for each to the manifest
    #[command(
        after_help = "Examples:\n  jit-secrets import .env --store keyring   # keyring:PROJECT/api-key\n  jit-secrets import .env --store pass      # pass:PROJECT/api-key\n  jit-secrets import .env --store keyring --replace\n\nFILE is left as it is: delete it once the values are in. A name already\nin the manifest needs --replace. Nothing is added to the manifest unless\nevery value was stored."
    )]
    Import(ImportArgs),
    /// Store a secret's value in its store (any store `jit-secrets` can write), from a hidden prompt or stdin
    #[command(
        after_help = "Examples:\n  jit-secrets set GITHUB_TOKEN                      # hidden prompt on a terminal\n  gh auth token | jit-secrets set GITHUB_TOKEN      # or from stdin (one trailing newline dropped)\n  jit-secrets set X --ref keyring:my-service        # without a manifest entry\n\nThe value is never taken from the command line, where shell history and `ps` would see it."
    )]
    Set(SetArgs),
    /// Generate a new random value and write it to the secret's store (never printed)
    #[command(
        after_help = "Examples:\n  jit-secrets rotate DB_PASSWORD                       # 32 alphanumerics\n  jit-secrets rotate API_SECRET --length 64 --charset ascii\n  jit-secrets rotate DB_PASSWORD --yes                 # in a script: no question\n\nAsks first on a terminal, saying whether the store keeps the old value. Active shells become\n`stale` in `jit-secrets verify`."
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
    /// Add an entry (--replace: change one), keeping the manifest's comments and order
    #[command(
        after_help = "Examples:\n  jit-secrets add GITHUB_TOKEN keyring:github-token\n  jit-secrets add DATABASE_URL op://Engineering/db/url --timeout 10s\n  jit-secrets add SENTRY_DSN env:SENTRY_DSN --optional\n  jit-secrets add GITHUB_TOKEN op://Private/gh/token --replace   # keeps its description, cache, …"
    )]
    Add(AddArgs),
    /// Remove an entry from the manifest (the stored value stays: see `delete`)
    #[command(after_help = "Examples:\n  jit-secrets remove OLD_TOKEN")]
    Remove(RemoveArgs),
    /// Print the snippet that plugs jit-secrets into a tool or shell
    #[command(
        after_help = "Examples:\n  jit-secrets hook flox       # [profile] / [hook] snippets for .flox/env/manifest.toml\n  jit-secrets hook direnv >> ~/.config/direnv/direnvrc\n  jit-secrets hook fish >> ~/.config/fish/config.fish\n  jit-secrets hook bash --auto >> ~/.bashrc   # load on cd, unload on leaving"
    )]
    Hook(HookArgs),
    /// Print shell code that undoes the last activation in this shell (restore, unset, PATH, leases)
    #[command(
        after_help = "Examples:\n  eval \"$(jit-secrets deactivate --shell bash)\"        # bash, zsh, sh (posix)\n  jit-secrets deactivate --shell fish | source\n  eval \"`jit-secrets deactivate --shell tcsh`\"\n  eval (jit-secrets deactivate --shell elvish | slurp)   # after `hook elvish --auto`\n\nThe code reads only what the activation left in the shell's own unexported variables:\nevery variable it set is unset, a variable that had a value gets it back. nushell cannot\nevaluate printed code: its `--auto` hook defines `jit-secrets-unload`."
    )]
    Deactivate(DeactivateArgs),
    /// Print shell completions
    #[command(
        after_help = "Examples:\n  jit-secrets completions bash > ~/.local/share/bash-completion/completions/jit-secrets\n  jit-secrets completions zsh > ~/.zfunc/_jit-secrets\n  jit-secrets completions fish > ~/.config/fish/completions/jit-secrets.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    #[command(
        after_help = "Examples:\n  jit-secrets man | man -l -\n  jit-secrets man > ~/.local/share/man/man1/jit-secrets.1"
    )]
    Man,
    /// Trust this manifest as it is now: print what it will do, then let jit-secrets act on it
    #[command(
        after_help = "Examples:\n  jit-secrets allow                     # the manifest discovery finds here\n  jit-secrets allow path/to/manifest.toml\n\nA manifest you did not allow (a cloned repository's) cannot read your stores or run programs.\nEdit it (or pull an edit) and you are asked again. The trust file holds paths and SHA-256\ndigests, no secrets: $XDG_DATA_HOME/jit-secrets/trusted."
    )]
    Allow(TrustArgs),
    /// Stop trusting a manifest (it is refused, as "denied", until allowed again)
    #[command(
        after_help = "Examples:\n  jit-secrets deny\n  jit-secrets deny path/to/manifest.toml"
    )]
    Deny(TrustArgs),
    /// First run in a checkout: ask for each missing secret on the terminal and store it
    #[command(
        after_help = "Examples:\n  jit-secrets setup                  # every missing secret this manifest can store\n  jit-secrets setup --only API_KEY\n\nOn a terminal: each value is asked twice, hidden, and nothing is stored until all are in\n(Ctrl-D stores nothing). Without one (or with --no-prompt): lists what is missing and the\n`jit-secrets set` command for each, and exits 1."
    )]
    Setup(SetupArgs),
    /// Delete the keyring items this manifest owns (project-scoped; with --global, the global ones too)
    #[command(
        after_help = "Examples:\n  jit-secrets forget                 # this project's keyring_scope = \"project\" items\n  jit-secrets forget --global --yes  # and the global keyring: items it references"
    )]
    Forget(ForgetArgs),
    /// The memory-only cache (kernel keyring): list what it holds, or clear it
    #[command(
        subcommand,
        after_help = "Examples:\n  jit-secrets cache list           # this manifest's cached values: name, store, time left (never a value)\n  jit-secrets cache clear          # drop this manifest's cached values\n  jit-secrets cache clear --all    # drop every value jit-secrets cached for you\n\nTurn the cache on per entry (cache = \"15m\") or for all ([secrets.options] cache = \"15m\")."
    )]
    Cache(CacheCommand),
    /// Leases ([secrets.leases.NAME]): list the live ones, revoke, renew
    #[command(
        subcommand,
        after_help = "Examples:\n  jit-secrets lease list            # this manifest's leases: name, kind, id, expiry, holders (never a value)\n  jit-secrets lease revoke db       # revoke one now (its shells lose it)\n  jit-secrets lease revoke --all    # every lease jit-secrets holds for you\n  jit-secrets lease renew aws-dev   # a new one for the next shells; the old one expires\n\nA lease is created at activation, shared by the project's later shells, and kept in the\nkernel keyring only. With revoke = \"on-exit\" it is revoked when the last shell that got it exits."
    )]
    Lease(LeaseCommand),
    /// List the declared secrets and where each comes from (never values; no store is contacted)
    #[command(
        after_help = "Examples:\n  jit-secrets list\n  jit-secrets list --json | jq -r '.[] | select(.type == \"secret\") | .name'\n\nA secret with `only` is listed with the commands it is for; each lease with its kind,\nwhen it is revoked and the variables it exports."
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
    /// For the `--auto` hook, at a directory change: load, swap or unload the project found here
    #[arg(long, hide = true)]
    pub auto: bool,
    /// With --auto: the manifest this shell has loaded ($_jit_secrets_manifest)
    #[arg(long, hide = true, value_name = "PATH", requires = "auto")]
    pub loaded: Option<OsString>,
    /// With --auto: the SHA-256 of the loaded manifest when it was loaded
    #[arg(long, hide = true, value_name = "DIGEST", requires = "auto")]
    pub loaded_digest: Option<String>,
    /// With --auto: the manifest already refused in this shell (said once, not at every cd)
    #[arg(long, hide = true, value_name = "PATH", requires = "auto")]
    pub refused: Option<OsString>,
    /// Do not serve values from the cache; fetch them and refill it
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Replace every secret value in the command's stdout and stderr with <NAME>, even when
    /// neither is a terminal (for CI logs). The default when stdout or stderr is a terminal
    #[arg(long, conflicts_with = "no_mask")]
    pub mask: bool,
    /// Pass the command's output through as is, even on a terminal (an interactive program: a
    /// shell, an editor, a pager sees the terminal only without masking)
    #[arg(long)]
    pub no_mask: bool,
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

#[derive(Subcommand, Debug)]
pub enum LeaseCommand {
    /// This manifest's live leases: name, kind, id, expiry, holders (never a value)
    List {
        /// Every manifest's, not only this one's
        #[arg(long)]
        all: bool,
    },
    /// Revoke a lease now (STS, GCP and Azure credentials cannot be revoked: they are forgotten
    /// and expire)
    Revoke {
        /// The lease (default: every lease of this manifest)
        #[arg(conflicts_with = "all")]
        name: Option<String>,
        /// Every lease jit-secrets holds for you, whatever the manifest
        #[arg(long)]
        all: bool,
    },
    /// Create a new lease now; later shells get it, and the old one is left to expire (or, with
    /// revoke = "on-exit", revoked when its shells exit)
    Renew {
        /// The lease
        name: String,
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
    /// Print JSON: one object per secret {"type": "secret", "name", "from": [..], "stores": [..],
    /// "required", "description", "only": [..]}, then one per lease {"type": "lease", "name", "kind",
    /// "required", "revoke", "exports": [..]}
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
pub struct GetArgs {
    /// The secret's name in the manifest
    pub name: String,
    /// Do not print a newline after the value
    #[arg(short = 'n', long = "no-newline")]
    pub no_newline: bool,
}

/// The stores `import` writes to: each needs only a name, which `import` derives from the
/// project and the variable (see `commands::import::reference_for`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportStore {
    Keyring,
    SecretTool,
    Pass,
    AwsSm,
    AwsSsm,
    Gcp,
    Bitwarden,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The dotenv file (KEY=value lines; `export`, quotes and comments as dotenv tools read them)
    pub file: PathBuf,
    /// Where to store the values
    #[arg(long, value_enum)]
    pub store: ImportStore,
    /// A name already in the manifest: point its entry at the imported value (other settings and
    /// comments kept)
    #[arg(long)]
    pub replace: bool,
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
    /// Print the report as JSON (its schema: docs/commands.md, *Rotation and `verify`*)
    #[arg(long)]
    pub json: bool,
    /// Check only these secrets
    #[arg(long, num_args = 1.., value_name = "NAME")]
    pub only: Vec<String>,
    /// Also create each lease and revoke it at once, to prove the role or engine still works
    #[arg(long)]
    pub leases: bool,
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
    /// NAME exists already: change its reference (and what --optional/--timeout say), keeping
    /// every other setting and comment
    #[arg(long)]
    pub replace: bool,
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
    /// A standalone devShell file (shell.nix style); with the flake, its lib.shellHook does the same
    Nix,
    Direnv,
    Bash,
    Zsh,
    Fish,
    /// tcsh and csh (~/.tcshrc)
    Tcsh,
    /// csh: the same as tcsh
    Csh,
    /// sh, dash, ksh, mksh: the `secrets` function in POSIX sh
    #[value(alias = "sh", alias = "dash", alias = "ksh", alias = "mksh")]
    Posix,
    /// nushell (config.nu)
    Nu,
    Elvish,
}

#[derive(Args, Debug)]
pub struct HookArgs {
    #[arg(value_enum)]
    pub target: HookTarget,
    /// The shell's hook that loads a project's secrets on entering it, swaps them on entering
    /// another and unloads them on leaving (bash, zsh, fish, tcsh, nu, elvish)
    #[arg(long)]
    pub auto: bool,
}

#[derive(Args, Debug)]
pub struct DeactivateArgs {
    /// The shell that will evaluate the output (default: the parent process, as for activate)
    #[arg(long, short = 's', value_enum)]
    pub shell: Option<Shell>,
    /// Print nothing: release holder PID's hold on this manifest's on-exit leases (the printed
    /// code calls this on leaving a project)
    #[arg(long, hide = true, value_name = "MANIFEST", requires = "holder")]
    pub release: Option<PathBuf>,
    /// With --release: the shell's pid
    #[arg(long, hide = true, value_name = "PID")]
    pub holder: Option<u32>,
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
    /// Do not ask (required when not on a terminal): the old value may be gone for good
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// The commands in the order a user meets them, for `--help`.
const COMMAND_GROUPS: &[(&str, &[&str])] = &[
    (
        "Set up",
        &["init", "add", "import", "allow", "setup", "remove", "deny"],
    ),
    ("Use", &["activate", "deactivate", "run", "get", "hook"]),
    (
        "Maintain",
        &[
            "verify", "rotate", "set", "delete", "cache", "lease", "forget", "list",
        ],
    ),
    ("More", &["completions", "man"]),
];

/// The command line, as `main` parses it: `--help` lists the commands grouped in the order a
/// user meets them and the global options once (each command's own help lists its own options,
/// and points back here for the global ones).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut globals = String::from("Global options (any command):\n");
    for arg in cmd.get_arguments().filter(|a| a.is_global_set()) {
        let mut flag = match arg.get_short() {
            Some(short) => format!("-{short}, --{}", arg.get_long().unwrap_or_default()),
            None => format!("    --{}", arg.get_long().unwrap_or_default()),
        };
        if let Some(name) = arg.get_value_names().and_then(|v| v.first()) {
            if arg.get_action().takes_values() {
                flag.push_str(&format!(" <{name}>"));
            }
        }
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        globals.push_str(&format!("  {flag}\n"));
        // The help text, wrapped under the flag.
        let mut line = String::new();
        for word in help.split_whitespace() {
            if !line.is_empty() && line.len() + word.len() > 88 {
                globals.push_str(&format!("          {line}\n"));
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        globals.push_str(&format!("          {line}\n"));
    }
    let mut grouped = String::new();
    for (group, names) in COMMAND_GROUPS {
        grouped.push_str(&format!("{group}:\n"));
        for name in *names {
            let about = cmd
                .find_subcommand(name)
                .and_then(|c| c.get_about())
                .map(|a| a.to_string())
                .unwrap_or_default();
            grouped.push_str(&format!("  {name:<12} {about}\n"));
        }
        grouped.push('\n');
    }
    let after = cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let template = format!(
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{}{}\nOptions:\n{{options}}{}",
        grouped.replace('{', "(").replace('}', ")"),
        globals.replace('{', "(").replace('}', ")"),
        verbatim(&after)
    );
    // The stores `rotate` writes to, from the code that decides it.
    let writable = crate::stores::writable_schemes().join(" ");
    cmd = cmd.mut_subcommand("rotate", |rotate| {
        let after = rotate
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        rotate.after_help(format!("{after}\n\nWrites to: {writable}"))
    });
    cmd = cmd.help_template(template).mut_subcommands(|sub| {
        let after = sub.get_after_help().map(|h| format!("{h}\n\n")).unwrap_or_default();
        let after = format!(
            "{after}Global options (--manifest, --profile, --no-prompt, --trusted-by,\n--manifest-sha256): see `jit-secrets --help`."
        );
        let template = format!(
            "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{{all-args}}{}",
            verbatim(&after)
        );
        sub.after_help(after).help_template(template)
    });
    cmd
}

/// The examples after a command's options, as a help template's literal text: clap wraps
/// `{after-help}` at the terminal's width, which splits an example's `# comment` onto a line a
/// copy-paste would run as a command. Literal text is printed as written (a long line is left
/// to the terminal, whose soft wrap copies back as one line). Clap reads `{word}` in a template
/// as a tag and drops a `{` that is never closed: help texts use neither (a unit test checks
/// every command's help holds its text exactly).
fn verbatim(after_help: &str) -> String {
    if after_help.is_empty() {
        String::new()
    } else {
        format!("\n\n{after_help}")
    }
}

/// Parses the process's arguments (see [`command`]).
pub fn parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = command().try_get_matches()?;
    Cli::from_arg_matches(&matches)
}

/// Where the subcommand is in `args` (without the program's name): the first word that is
/// neither an option nor a global option's value.
fn subcommand_index(args: &[&str]) -> Option<usize> {
    let takes_value = |a: &str| {
        matches!(
            a,
            "--manifest" | "-m" | "--profile" | "-p" | "--trusted-by" | "--manifest-sha256"
        )
    };
    let mut i = 0;
    while i < args.len() {
        if takes_value(args[i]) {
            i += 2;
            continue;
        }
        if !args[i].starts_with('-') {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// For a usage error: the subcommand the raw arguments name, if any (`set`, `get`, …).
pub fn subcommand_requested(args: &[OsString]) -> Option<String> {
    let args: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    subcommand_index(&args).map(|i| args[i].to_string())
}

/// For a usage error of `activate`: the shell its `--shell` names (`Some(None)`: none we know, or
/// none given). `None`: the command is not `activate`.
pub fn activate_shell_requested(args: &[OsString]) -> Option<Option<Shell>> {
    use clap::ValueEnum;
    let args: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let command = subcommand_index(&args).filter(|&i| args[i] == "activate")?;
    let mut named = None;
    for (i, a) in args.iter().enumerate().skip(command + 1) {
        let value = if *a == "--shell" || *a == "-s" {
            args.get(i + 1).copied()
        } else if let Some(v) = a.strip_prefix("--shell=") {
            Some(v)
        } else if let Some(v) = a.strip_prefix("-s").filter(|v| !v.is_empty()) {
            Some(v)
        } else {
            continue;
        };
        named = value;
    }
    Some(named.and_then(|v| Shell::from_str(v, true).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_exactly_one_help_group() {
        let cmd = command();
        let mut listed: Vec<&str> = COMMAND_GROUPS
            .iter()
            .flat_map(|(_, n)| n.iter().copied())
            .collect();
        listed.sort();
        let mut actual: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        actual.sort();
        assert_eq!(listed, actual);
    }

    /// The examples are printed exactly as written, whatever the terminal's width (clap would
    /// wrap them), for the top level and every command.
    #[test]
    fn every_commands_examples_are_printed_verbatim_at_any_width() {
        let mut cmd = command().term_width(24);
        let top = cmd.get_after_help().unwrap().to_string();
        assert!(cmd.render_help().to_string().contains(&top));
        for sub in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
            let after = sub.get_after_help().unwrap().to_string();
            let help = sub.render_help().to_string();
            assert!(help.contains(&after), "{}:\n{help}", sub.get_name());
        }
    }

    #[test]
    fn the_shell_of_a_refused_activate_is_found_in_the_raw_arguments() {
        let args = |a: &[&str]| -> Vec<OsString> {
            std::iter::once("jit-secrets")
                .chain(a.iter().copied())
                .map(Into::into)
                .collect()
        };
        assert_eq!(
            activate_shell_requested(&args(&["activate", "--shell", "fish", "--bogus"])),
            Some(Some(Shell::Fish))
        );
        assert_eq!(
            activate_shell_requested(&args(&["-m", "x", "activate", "--shell=sh"])),
            Some(Some(Shell::Posix))
        );
        assert_eq!(
            activate_shell_requested(&args(&["activate", "-stcsh"])),
            Some(Some(Shell::Tcsh))
        );
        assert_eq!(
            activate_shell_requested(&args(&["activate", "--shell", "cmd.exe"])),
            Some(None)
        );
        assert_eq!(activate_shell_requested(&args(&["activate"])), Some(None));
        assert_eq!(activate_shell_requested(&args(&["list", "activate"])), None);
        assert_eq!(
            activate_shell_requested(&args(&["--profile", "activate", "list"])),
            None
        );
    }
}
