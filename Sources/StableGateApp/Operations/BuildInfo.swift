import CStableGateBuild

/// What this binary is: the release version (kept here, in one place) and the commit it was
/// built from. `stablegate --version` prints both and `/healthz` answers with them.
public enum BuildInfo {
    /// The release version. scripts/package.sh names the tarball after it.
    public static let version = "0.15.0"

    /// The git commit scripts/package.sh built from (with `-dirty` when the tree had changes),
    /// or `dev` for a build made any other way.
    public static let commit = String(cString: stablegate_build_commit())

    /// `stablegate 0.15.0 (commit 1a2b3c4d5e6f)`.
    public static var description: String { "stablegate \(version) (commit \(commit))" }
}
