// zlib: gzip streams for IDX files and the deflate stream inside PNG.
#include <zlib.h>
