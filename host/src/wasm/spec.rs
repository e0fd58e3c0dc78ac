//! `--plugin SPEC`: a built-in name or a file, then `:key=value` pairs.

use anyhow::{bail, Result};

/// A parsed `--plugin` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginSpec {
    /// The built-in name or the .wasm/.wat path.
    pub source: String,
    /// The `key=value` pairs, in order.
    pub config: Vec<(String, String)>,
}

impl PluginSpec {
    /// Parse `NAME[:key=value]...` or `PATH[:key=value]...`.
    pub fn parse(text: &str) -> Result<PluginSpec> {
        let mut parts = text.split(':');
        let source = parts.next().unwrap_or_default().to_string();
        if source.is_empty() {
            bail!("empty plugin name");
        }
        let config = parts
            .map(|pair| match pair.split_once('=') {
                Some(("", _)) => bail!("empty key in '{pair}'"),
                Some((key, value)) => Ok((key.to_string(), value.to_string())),
                None => bail!("'{pair}' is not key=value"),
            })
            .collect::<Result<_>>()?;
        Ok(PluginSpec { source, config })
    }

    /// Whether the source names a file rather than a built-in.
    pub fn is_file(&self) -> bool {
        self.source.contains('/') || self.source.ends_with(".wasm") || self.source.ends_with(".wat")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_split_into_source_and_pairs() {
        let spec = PluginSpec::parse("fsync-fail:errno=EIO:path=/data/*").unwrap();
        assert_eq!(spec.source, "fsync-fail");
        assert_eq!(
            spec.config,
            vec![
                ("errno".into(), "EIO".into()),
                ("path".into(), "/data/*".into())
            ]
        );
        assert!(!spec.is_file());
        assert!(PluginSpec::parse("./p.wasm").unwrap().is_file());
    }

    #[test]
    fn malformed_pairs_are_named() {
        assert!(PluginSpec::parse("x:mode")
            .unwrap_err()
            .to_string()
            .contains("'mode' is not key=value"));
        assert!(PluginSpec::parse(":a=b").is_err());
        assert!(PluginSpec::parse("x:=b").is_err());
    }
}
