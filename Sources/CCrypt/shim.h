// Debian's libxcrypt (libcrypt-dev): crypt_rn and crypt_gensalt_rn, with bcrypt ($2b$).
#include <crypt.h>
