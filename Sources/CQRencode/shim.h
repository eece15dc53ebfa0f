// Debian's libqrencode-dev (4.x).
#include <qrencode.h>
