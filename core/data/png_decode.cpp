// PNG decoding with libpng to RGB (see image_decode.h for the color rules). libpng's errors
// longjmp back to decode_into, a frame holding only C objects, which then returns the message; its
// warnings (e.g. a bad ancillary chunk) are ignored. A short read is an error ("truncated").
#include "core/data/image_decode.h"
#include "core/error.h"

#if LOWBIT_WITH_PNG
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#endif

namespace lowbit::data {

#if LOWBIT_WITH_PNG
namespace {

struct ReadState {
  const uint8_t* data;
  size_t size, pos;
  char message[256];
};

void on_error(png_structp png, png_const_charp msg) {
  auto* state = static_cast<ReadState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", msg);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void on_read(png_structp png, png_bytep dst, png_size_t n) {
  auto* state = static_cast<ReadState*>(png_get_io_ptr(png));
  if (n > state->size - state->pos) png_error(png, "the data ends early (truncated file)");
  std::memcpy(dst, state->data + state->pos, n);
  state->pos += n;
}

// Decodes into *out; false with state->message (or *too_big) set on failure. Holds no C++ objects
// whose destructors a longjmp could skip: `out` and `rows` live in the caller.
bool decode_into(ReadState* state, Image* out, std::vector<png_bytep>* rows, bool* too_big) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, state, on_error, on_warning);
  if (!png) {
    std::snprintf(state->message, sizeof state->message, "cannot create the libpng reader");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(state->message, sizeof state->message, "cannot create the libpng reader");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, state, on_read);
  png_read_info(png, info);
  const int64_t h = png_get_image_height(png, info), w = png_get_image_width(png, info);
  if (h * w > kMaxImagePixels) {
    *too_big = true;
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  const int color = png_get_color_type(png, info);
  png_set_strip_16(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) {
    png_set_expand_gray_1_2_4_to_8(png);
    png_set_gray_to_rgb(png);
  }
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<png_size_t>(w * 3)) {
    std::snprintf(state->message, sizeof state->message, "unexpected row layout after conversion to RGB");
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  out->height = h;
  out->width = w;
  out->channels = 3;
  out->pixels.resize(static_cast<size_t>(h * w * 3));
  rows->resize(static_cast<size_t>(h));
  for (int64_t y = 0; y < h; ++y) (*rows)[static_cast<size_t>(y)] = out->pixels.data() + y * w * 3;
  png_read_image(png, rows->data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

Image decode_png(const uint8_t* data, size_t size, const std::string& name) {
  ReadState state{data, size, 0, {}};
  Image out;
  std::vector<png_bytep> rows;
  bool too_big = false;
  const bool ok = decode_into(&state, &out, &rows, &too_big);
  LOWBIT_CHECK(!too_big, name, ": PNG image too large (more than ", kMaxImagePixels, " pixels)");
  LOWBIT_CHECK(ok, name, ": corrupt PNG: ", state.message);
  return out;
}

#else

Image decode_png(const uint8_t*, size_t, const std::string& name) {
  LOWBIT_FAIL(name,
              ": a PNG image, but lowbit was built without libpng (install libpng's development package, "
              "e.g. Debian's libpng-dev, and rebuild)");
}

#endif

}  // namespace lowbit::data
