//! What one command's run needs, built once: [`RunContext::build`] takes the global options
//! (`cli::Global`) and what the command says it needs ([`Needs`]: trusted or read-only, the
//! cache's mode, the leases' mode and holder) and returns the manifest as reached, the trust
//! verdict on it, the profile applied, the stores' [`Context`] (the keyring's project scope, the
//! age identity, the cache), the lease settings and the scoped commands.
//!
//! The stores' `Context` stays in `src/context.rs`: it is what a store may consult, and the run
//! owns it. This file prints nothing but the one note of a cache that cannot be used; commands
//! print the rest.

use crate::cli::Global;
use crate::context::Context;
use crate::manifest::{self, Manifest, ManifestError};
use std::path::PathBuf;

/// The trust verdict a run was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Checked before anything else: allowed as it is now, or vouched for by the host running us
    /// (`--trusted-by`). Any other verdict is the error [`RunContext::build`] returns.
    Allowed,
    /// Not checked: the command only reads the manifest (`list`, `add`, `remove`, `lease
    /// list`), running nothing of it and contacting no store it names.
    NotChecked,
}

/// The lease settings a run asks for: how leases are used, and the process that receives them
/// (registered for `revoke = "on-exit"`).
type LeaseUse = (crate::lease::Mode, Option<crate::lease::record::Holder>);

/// A refusal of the command's own, made on the manifest as loaded, before the context is built.
type Refusal<'c> = Box<dyn FnOnce(&Manifest) -> anyhow::Result<()> + 'c>;

/// What a command says its run needs.
pub struct Needs<'c> {
    trust: Trust,
    cache: Option<crate::cache::Mode>,
    leases: Option<LeaseUse>,
    refusal: Option<Refusal<'c>>,
}

impl<'c> Needs<'c> {
    /// A command that contacts stores or runs programs: the manifest must be trusted.
    pub fn trusted() -> Self {
        Needs {
            trust: Trust::Allowed,
            cache: None,
            leases: None,
            refusal: None,
        }
    }

    /// A command that only reads the manifest.
    pub fn read_only() -> Self {
        Needs {
            trust: Trust::NotChecked,
            ..Needs::trusted()
        }
    }

    /// The memory-only cache, used in `mode`.
    pub fn cache(mut self, mode: crate::cache::Mode) -> Self {
        self.cache = Some(mode);
        self
    }

    /// The manifest's leases, used in `mode` for `holder`.
    pub fn leases(
        mut self,
        mode: crate::lease::Mode,
        holder: Option<crate::lease::record::Holder>,
    ) -> Self {
        self.leases = Some((mode, holder));
        self
    }

    /// A usage error of the command's own (`get`'s unknown name, `verify --only`'s), found in the
    /// manifest once it is loaded and trusted: said before anything else (the cache's note).
    pub fn refusing(mut self, refusal: impl FnOnce(&Manifest) -> anyhow::Result<()> + 'c) -> Self {
        self.refusal = Some(Box::new(refusal));
        self
    }
}

/// What one command's run needs, built once by [`RunContext::build`].
pub struct RunContext {
    /// The manifest as reached, the profile applied.
    pub manifest: Manifest,
    pub trust: Trust,
    /// What the stores may consult (the keyring's scope, the age identity, the cache).
    pub ctx: Context,
    /// The lease settings, when the command asked for leases.
    pub leases: Option<crate::lease::Leases>,
    /// The commands of the manifest's scoped entries (`only`), each once, in order.
    pub scoped_commands: Vec<String>,
    global: Global,
}

impl RunContext {
    /// The run `needs` asks for, from the global options. With [`Needs::trusted`] the manifest
    /// is refused, before anything is contacted, unless it is trusted as it is now.
    pub fn build(global: &Global, needs: Needs) -> anyhow::Result<RunContext> {
        let manifest = match needs.trust {
            Trust::Allowed => load_trusted_manifest(global)?,
            Trust::NotChecked => with_profile(global, manifest::load(&manifest_path(global)?)?)?,
        };
        if let Some(refusal) = needs.refusal {
            refusal(&manifest)?;
        }
        let ctx = stores_context(global, &manifest).with_cache(
            needs
                .cache
                .and_then(|mode| cache_for(global, &manifest, mode)),
        );
        let leases = needs.leases.map(|(mode, holder)| {
            crate::lease::Leases::new(&manifest.path, profile(global), holder, mode)
        });
        let scoped_commands = crate::scoped::commands_of(&manifest)
            .into_iter()
            .map(str::to_string)
            .collect();
        Ok(RunContext {
            manifest,
            trust: needs.trust,
            ctx,
            leases,
            scoped_commands,
            global: global.clone(),
        })
    }

    /// The profile applied (`--profile`, `$JIT_SECRETS_PROFILE`), if any.
    pub fn profile(&self) -> Option<&str> {
        profile(&self.global)
    }

    /// The global options the run was built from (the scoped commands' proxies are given them).
    pub fn global(&self) -> &Global {
        &self.global
    }

    /// Another stores' context for the same manifest, without the cache (`forget` looks for the
    /// global keyring items with one whose project scope it removes).
    pub fn fresh_context(&self) -> Context {
        stores_context(&self.global, &self.manifest)
    }

    /// The lease settings the command asked for with [`Needs::leases`].
    pub fn lease_settings(&self) -> &crate::lease::Leases {
        self.leases
            .as_ref()
            .expect("a command that uses leases asks for them in its Needs")
    }
}

/// The manifest's path as reached (absolute; symlinks are not resolved: trust, relative
/// references, the cache and project-scoped items all belong to this path).
pub fn manifest_path(global: &Global) -> Result<PathBuf, ManifestError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    manifest::discover(global.manifest.as_deref(), |k| std::env::var_os(k), &cwd)
        .map(|p| crate::trust::as_reached(&p))
}

/// The manifest, for commands that contact stores or run programs: refused, before anything is
/// contacted, unless it is trusted as it is now (see `trust`): its bytes and the programs of its
/// repository that it runs; then only those may be spawned from the repository. The bytes checked are the bytes parsed: there is no second read for
/// an edit to slip between. (Parsing reads nothing else and runs nothing, so it may come first.)
fn load_trusted_manifest(global: &Global) -> anyhow::Result<Manifest> {
    let path = manifest_path(global)?;
    let text = manifest::read_text(&path)?;
    let parsed = manifest::parse(&path, &text)?;
    let vouch = crate::trust::Vouch {
        host: global.trusted_by,
        pin: global.manifest_sha256.clone(),
    };
    let approval = crate::trust::check(
        &path,
        text.as_bytes(),
        &crate::trust::code_files(&parsed),
        &vouch,
    )?;
    // From here on, a program of the repository runs only if it is one of these, unchanged
    // (one the manifest does not name may still be on PATH: direnv's `PATH_add bin`).
    if let crate::trust::Approval::Code(files) = approval {
        crate::process::approve_repository(
            &crate::trust::repository_of(&path),
            &files,
            crate::trust::digest,
        );
    }
    Ok(with_profile(global, parsed)?)
}

fn profile(global: &Global) -> Option<&str> {
    global.profile.as_deref().filter(|p| !p.is_empty())
}

fn with_profile(global: &Global, loaded: Manifest) -> Result<Manifest, ManifestError> {
    match profile(global) {
        Some(profile) => loaded.with_profile(profile),
        None => Ok(loaded),
    }
}

/// What the stores may consult, for `manifest` (also the one `allow` describes the programs
/// with: it parses every profile and runs nothing).
pub fn stores_context(global: &Global, manifest: &Manifest) -> Context {
    crate::process::allow_prompts(!global.no_prompt);
    let mut ctx = Context::new(manifest.options.commands.clone(), global.no_prompt)
        .with_age_identity(manifest.options.identity.clone());
    if manifest.options.keyring_per_project {
        ctx.keyring_project = Some(project_of(manifest));
    }
    ctx.manifest_dir = manifest.path.parent().map(Into::into);
    ctx.outputs = manifest
        .entries
        .iter()
        .chain(manifest.profiles.values().flatten())
        .map(|e| e.name.clone())
        .collect();
    if manifest.options.keepassxc_password_from.is_some()
        || manifest.options.keepassxc_keyfile.is_some()
    {
        ctx.keepassxc = Some(crate::context::KeepassxcOptions {
            password_from: manifest.options.keepassxc_password_from.clone(),
            keyfile: manifest.options.keepassxc_keyfile.clone(),
        });
    }
    ctx
}

/// What a project-scoped keyring item carries: the path of the manifest's directory as reached
/// (the path trust is recorded under: a symlink to another project's manifest is another project).
pub fn project_of(manifest: &Manifest) -> String {
    let path = crate::trust::as_reached(&manifest.path);
    path.parent()
        .unwrap_or(&path)
        .to_string_lossy()
        .into_owned()
}

/// The cache for a command that uses it (`mode`), when some entry of the manifest caches. Where
/// the kernel keyring cannot be used, says so once (only then: a manifest without `cache` never
/// hears of it) and resolves without.
fn cache_for(
    global: &Global,
    manifest: &Manifest,
    mode: crate::cache::Mode,
) -> Option<crate::cache::Cache> {
    if !manifest
        .entries
        .iter()
        .any(|e| manifest.cache_ttl(e).is_some())
    {
        return None;
    }
    if let Err(why) = crate::cache::available() {
        eprintln!("jit-secrets: note: {why}; values are fetched without the cache");
        return None;
    }
    Some(crate::cache::Cache::new(
        &manifest.path,
        profile(global),
        mode,
    ))
}
