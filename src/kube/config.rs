//! Which API server, as whom: resolved exactly as kubectl resolves it, by kube-rs's loader.
//!
//! `--kubeconfig FILE`, else `$KUBECONFIG` (a list of files, merged: the first to set a value
//! wins), else `~/.kube/config`, else the in-cluster service account (a pod's token and CA
//! under /var/run/secrets/kubernetes.io/serviceaccount). `--context` picks a context; client
//! certificates, bearer tokens (and token files) and exec credential plugins are handled by
//! the client.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use crate::error::refused;

/// Where the configuration came from, for messages and the cluster's name.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The context's name, or `None` in-cluster.
    pub context: Option<String>,
    /// The API server's URL.
    pub server: String,
    /// The context's namespace (`default` when it names none; in-cluster, the pod's).
    pub namespace: String,
}

impl Origin {
    /// How the cluster is named in reports: `context NAME` or `in-cluster`.
    pub fn source(&self) -> String {
        match &self.context {
            Some(c) => format!("context {c}"),
            None => "in-cluster".to_string(),
        }
    }

    /// The server and how it was reached, for error messages: `https://… (context NAME)`.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.server, self.source())
    }
}

/// The kubeconfig files kubectl would read, in order: `--kubeconfig`, else `$KUBECONFIG`'s
/// list, else `~/.kube/config` when it exists. Empty means "none: try in-cluster".
pub fn kubeconfig_files(explicit: Option<&PathBuf>) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.clone()];
    }
    if let Some(v) = std::env::var_os("KUBECONFIG") {
        let list: Vec<PathBuf> = std::env::split_paths(&v)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !list.is_empty() {
            return list;
        }
    }
    match std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube").join("config")) {
        Some(p) if p.exists() => vec![p],
        _ => Vec::new(),
    }
}

/// Resolve the client configuration and say where it came from. A request may take at most
/// `timeout`.
pub async fn resolve(options: &super::Options) -> anyhow::Result<(Config, Origin)> {
    let files = kubeconfig_files(options.kubeconfig.as_ref());
    let (mut config, context) = if files.is_empty() {
        in_cluster(options)?
    } else {
        from_files(&files, options).await?
    };
    set_timeouts(&mut config, options.request_timeout);
    let origin = Origin {
        context,
        server: config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string(),
        namespace: config.default_namespace.clone(),
    };
    Ok((config, origin))
}

fn set_timeouts(config: &mut Config, timeout: Duration) {
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    config.write_timeout = Some(timeout);
}

fn in_cluster(options: &super::Options) -> anyhow::Result<(Config, Option<String>)> {
    if let Some(c) = &options.context {
        return Err(refused(format!(
            "--context {c}: no kubeconfig to find it in (no --kubeconfig, $KUBECONFIG or ~/.kube/config)"
        )));
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() {
        return Err(refused(
            "no cluster given and none configured: no --kubeconfig, $KUBECONFIG or ~/.kube/config, and not inside a pod (KUBERNETES_SERVICE_HOST unset); pass --kubeconfig FILE, or --cluster FILE|demo:NAME",
        ));
    }
    let config = Config::incluster().map_err(|e| {
        refused(format!(
            "in-cluster configuration (service account under /var/run/secrets/kubernetes.io/serviceaccount): {}",
            one_line(&e)
        ))
    })?;
    Ok((config, None))
}

async fn from_files(
    files: &[PathBuf],
    options: &super::Options,
) -> anyhow::Result<(Config, Option<String>)> {
    let names = files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut merged = Kubeconfig::default();
    for f in files {
        let one = Kubeconfig::read_from(f).map_err(|e| {
            refused(format!(
                "reading kubeconfig {}: {}",
                f.display(),
                one_line(&e)
            ))
        })?;
        merged = merged
            .merge(one)
            .map_err(|e| refused(format!("merging kubeconfig {names}: {}", one_line(&e))))?;
    }
    let context = options
        .context
        .clone()
        .or_else(|| merged.current_context.clone());
    let Some(context_name) = context.clone() else {
        return Err(refused(format!(
            "kubeconfig {names} has no current-context: pass --context NAME"
        )));
    };
    if !merged.contexts.iter().any(|c| c.name == context_name) {
        let known: Vec<&str> = merged.contexts.iter().map(|c| c.name.as_str()).collect();
        return Err(refused(format!(
            "kubeconfig {names} has no context {context_name:?} (it has: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    let kc_options = KubeConfigOptions {
        context: Some(context_name),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(merged, &kc_options)
        .await
        .map_err(|e| {
            refused(format!(
                "kubeconfig {names}, context {}: {}",
                context.as_deref().unwrap_or("?"),
                one_line(&e)
            ))
        })?;
    Ok((config, context))
}

/// An error and its causes on one line (`a: b: c`), without repeating a cause that its
/// parent already quotes.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cause = c.source();
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
