// The commit is a compiler definition rather than a generated source file, so a packaged build
// leaves the working tree exactly as it found it: scripts/package.sh builds with
// -Xcc -DSTABLEGATE_COMMIT="<sha>", every other build reports "dev".
#include "stablegate_build.h"

#ifndef STABLEGATE_COMMIT
#define STABLEGATE_COMMIT "dev"
#endif

const char *stablegate_build_commit(void) { return STABLEGATE_COMMIT; }
