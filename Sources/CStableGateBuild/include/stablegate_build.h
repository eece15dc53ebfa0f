#ifndef STABLEGATE_BUILD_H
#define STABLEGATE_BUILD_H

/// The git commit the binary was built from: what scripts/package.sh passes as
/// -DSTABLEGATE_COMMIT, or "dev" for any other build.
const char *stablegate_build_commit(void);

#endif
