// JPEG decoding with libjpeg(-turbo) to RGB (see image_decode.h for the color rules). libjpeg
// reports fatal errors through error_exit, which must not return: it longjmps back to decode_into,
// a frame holding only C objects, which then returns the message. The "premature end of data"
// warning is turned into an error (the file is truncated); other warnings are tolerated, as PIL does.
#include "core/data/image_decode.h"
#include "core/error.h"

#if LOWBIT_WITH_JPEG
#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#endif

namespace lowbit::data {

#if LOWBIT_WITH_JPEG
namespace {

struct ErrorState {
  jpeg_error_mgr mgr;  // first: libjpeg's pointer to it is a pointer to the whole struct
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
  bool truncated = false;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
  auto* state = reinterpret_cast<ErrorState*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, state->message);
  std::longjmp(state->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) reinterpret_cast<ErrorState*>(cinfo->err)->truncated = true;
}

// R = C*K/255 rounded, on values with 255 = full ink (inverted = the stored values are 255 - ink).
void cmyk_to_rgb(const uint8_t* cmyk, int64_t width, bool inverted, uint8_t* rgb) {
  for (int64_t x = 0; x < width; ++x) {
    const uint8_t* p = cmyk + 4 * x;
    const int k = inverted ? p[3] : 255 - p[3];
    for (int c = 0; c < 3; ++c) {
      const int v = inverted ? p[c] : 255 - p[c];
      rgb[3 * x + c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
}

// Decodes into *out; false with state->message (or *too_big) set on failure. Holds no C++ objects
// whose destructors a longjmp could skip: `out` and `row` live in the caller.
bool decode_into(const uint8_t* data, size_t size, Image* out, std::vector<uint8_t>* row, ErrorState* state,
                 bool* too_big) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&state->mgr);
  state->mgr.error_exit = on_error;
  state->mgr.emit_message = on_message;
  if (setjmp(state->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  const int64_t h = cinfo.image_height, w = cinfo.image_width;
  if (h * w > kMaxImagePixels) {
    *too_big = true;
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_start_decompress(&cinfo);
  out->height = cinfo.output_height;
  out->width = cinfo.output_width;
  out->channels = 3;
  out->pixels.resize(static_cast<size_t>(out->height * out->width * 3));
  if (cmyk) row->resize(static_cast<size_t>(out->width * 4));
  while (cinfo.output_scanline < cinfo.output_height) {
    uint8_t* dst = out->pixels.data() + static_cast<int64_t>(cinfo.output_scanline) * out->width * 3;
    JSAMPROW target = cmyk ? row->data() : dst;
    jpeg_read_scanlines(&cinfo, &target, 1);
    if (cmyk) cmyk_to_rgb(row->data(), out->width, cinfo.saw_Adobe_marker, dst);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

Image decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  Image out;
  std::vector<uint8_t> row;
  ErrorState state;
  bool too_big = false;
  const bool ok = decode_into(data, size, &out, &row, &state, &too_big);
  LOWBIT_CHECK(!too_big, name, ": JPEG image too large (more than ", kMaxImagePixels, " pixels)");
  LOWBIT_CHECK(ok, name, ": corrupt JPEG: ", state.message);
  LOWBIT_CHECK(!state.truncated, name, ": corrupt JPEG: the data ends early (truncated file)");
  return out;
}

#else

Image decode_jpeg(const uint8_t*, size_t, const std::string& name) {
  LOWBIT_FAIL(name,
              ": a JPEG image, but lowbit was built without libjpeg (install libjpeg-turbo's development "
              "package, e.g. Debian's libjpeg62-turbo-dev, and rebuild)");
}

#endif

}  // namespace lowbit::data
