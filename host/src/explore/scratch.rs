//! The scratch directory of a campaign.

use std::path::PathBuf;

use super::options::ExploreError;

/// The scratch directory of a campaign (its runs' copies), removed at the
/// end.
pub(super) struct Scratch(pub(super) PathBuf);

impl Scratch {
    /// A new, empty scratch directory under the system's temporary one.
    pub(super) fn new() -> Result<Scratch, ExploreError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let path =
            std::env::temp_dir().join(format!("fault-explore-{}-{nanos:08x}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| ExploreError::Failed(format!("creating {}: {e}", path.display())))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
