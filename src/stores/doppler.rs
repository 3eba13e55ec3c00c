//! `doppler:NAME[?project=P&config=C]` — one `doppler secrets download --no-file --format json`
//! per project/config for all its names, keeping only the declared names. `--no-fallback`:
//! otherwise the CLI writes an encrypted fallback copy of every secret to disk.

use super::{cli_failed, json_field_value, parse_json, run_cli, wipe_json, Outcome, Store};
use crate::context::Context;
use crate::process::Child;
use crate::reference::Reference;
use std::time::Duration;

pub struct Doppler;

const INSTALL: &str = "install the Doppler CLI (https://docs.doppler.com/docs/install-cli)";
const LOGIN: &str =
    "run `doppler login` (or set DOPPLER_TOKEN) and `doppler setup`, or give ?project=…&config=…";

impl Store for Doppler {
    fn cache_context(&self) -> &'static [&'static str] {
        &[
            "DOPPLER_TOKEN",
            "DOPPLER_PROJECT",
            "DOPPLER_CONFIG",
            "DOPPLER_API_HOST",
        ]
    }

    fn batch_key(&self, reference: &Reference) -> String {
        match reference {
            Reference::Doppler {
                project, config, ..
            } => format!(
                "{}\0{}",
                project.as_deref().unwrap_or(""),
                config.as_deref().unwrap_or("")
            ),
            other => other.to_string(),
        }
    }

    fn fetches_whole_document(&self) -> bool {
        true
    }

    fn max_batch(&self) -> usize {
        usize::MAX
    }

    fn fetch_one(&self, reference: &Reference, timeout: Duration, ctx: &Context) -> Outcome {
        self.fetch_batch(&[reference], timeout, ctx)
            .pop()
            .expect("one outcome per reference")
    }

    fn fetch_batch(&self, refs: &[&Reference], timeout: Duration, ctx: &Context) -> Vec<Outcome> {
        let Some(Reference::Doppler {
            project, config, ..
        }) = refs.first()
        else {
            return Vec::new();
        };
        let mut child = Child::new(ctx.command("doppler"), timeout).args([
            "secrets",
            "download",
            "--no-file",
            "--format",
            "json",
            "--no-fallback",
            "--no-check-version",
        ]);
        if let Some(p) = project {
            child = child.arg("--project").arg(p);
        }
        if let Some(c) = config {
            child = child.arg("--config").arg(c);
        }
        let out = match run_cli(child, INSTALL) {
            Ok(out) => out,
            Err(e) => return super::fail_batch(refs, e),
        };
        if !out.exit.success() {
            return super::fail_batch(refs, cli_failed("doppler", out, LOGIN));
        }
        let doc = match parse_json(out.stdout.expose(), "doppler") {
            Ok(d) => d,
            Err(e) => return super::fail_batch(refs, e),
        };
        let outcomes = refs
            .iter()
            .map(|r| {
                let Reference::Doppler { name, .. } = r else {
                    unreachable!()
                };
                match doc.get(name.as_str()) {
                    Some(v) if !v.is_null() => Outcome::Found(json_field_value(v)),
                    _ => Outcome::NotFound,
                }
            })
            .collect();
        wipe_json(doc);
        outcomes
    }
}
