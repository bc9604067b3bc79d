// PNG and JPEG encoders (image_encode.h). As in the decoders, the libraries' fatal errors longjmp
// back to a frame holding only C objects, which returns false; the caller then throws.
#include "core/data/image_encode.h"

#include <cstdlib>

#include "core/error.h"

#if LOWBIT_WITH_PNG
#include <png.h>
#endif
#if LOWBIT_WITH_JPEG
#include <jpeglib.h>

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#endif

namespace lowbit::data {

namespace {

int png_samples_per_pixel(int color_type) {
  switch (color_type) {
    case 0:
    case 3:
      return 1;
    case 2:
      return 3;
    case 4:
      return 2;
    case 6:
      return 4;
    default:
      LOWBIT_FAIL("encode_png: unknown PNG color type ", color_type);
  }
}

#if LOWBIT_WITH_PNG
void png_append(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void png_flush(png_structp) {}
void png_quiet(png_structp, png_const_charp) {}
void png_fail(png_structp png, png_const_charp) { png_longjmp(png, 1); }

// Writes the packed rows; false on a libpng error. No C++ objects in this frame.
bool png_write(std::vector<uint8_t>* out, int64_t h, int64_t w, const PngSpec* spec, std::vector<png_bytep>* rows,
               std::vector<png_color>* palette) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, png_fail, png_quiet);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, png_append, png_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), spec->bit_depth, spec->color_type,
               spec->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (spec->color_type == 3) png_set_PLTE(png, info, palette->data(), static_cast<int>(palette->size()));
  png_write_info(png, info);
  if (spec->bit_depth < 8) png_set_packing(png);
  png_write_image(png, rows->data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}
#endif

#if LOWBIT_WITH_JPEG
struct JpegWriteError {
  jpeg_error_mgr mgr;  // first: libjpeg's pointer to it is a pointer to the whole struct
  std::jmp_buf jump;
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<JpegWriteError*>(cinfo->err)->jump, 1);
}

// Compresses; false on a libjpeg error. *buffer is malloc'd by libjpeg. No C++ objects here.
bool jpeg_write(const Image* image, int quality, bool subsample, unsigned char** buffer, unsigned long* size) {
  jpeg_compress_struct cinfo;
  JpegWriteError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, buffer, size);
  cinfo.image_width = static_cast<JDIMENSION>(image->width);
  cinfo.image_height = static_cast<JDIMENSION>(image->height);
  cinfo.input_components = static_cast<int>(image->channels);
  cinfo.in_color_space = image->channels == 1 ? JCS_GRAYSCALE : image->channels == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  if (image->channels == 3 && !subsample)
    for (int i = 0; i < cinfo.num_components; ++i)
      cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(image->pixels.data() + cinfo.next_scanline * image->width * image->channels);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}
#endif

}  // namespace

std::vector<uint8_t> encode_png(int64_t h, int64_t w, const std::vector<uint16_t>& samples, const PngSpec& spec) {
  const int c = png_samples_per_pixel(spec.color_type);
  LOWBIT_CHECK(h >= 1 && w >= 1 && samples.size() == static_cast<size_t>(h * w * c), "encode_png: need ", h, "x", w,
               "x", c, " samples, got ", samples.size());
#if LOWBIT_WITH_PNG
  const int bytes = spec.bit_depth == 16 ? 2 : 1;
  std::vector<uint8_t> data(samples.size() * static_cast<size_t>(bytes));
  for (size_t i = 0; i < samples.size(); ++i) {
    if (bytes == 2) {
      data[2 * i] = static_cast<uint8_t>(samples[i] >> 8);  // PNG is big-endian
      data[2 * i + 1] = static_cast<uint8_t>(samples[i]);
    } else {
      data[i] = static_cast<uint8_t>(samples[i]);
    }
  }
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int64_t y = 0; y < h; ++y) rows[static_cast<size_t>(y)] = data.data() + y * w * c * bytes;
  std::vector<png_color> palette;
  for (size_t i = 0; i + 2 < spec.palette.size(); i += 3)
    palette.push_back({spec.palette[i], spec.palette[i + 1], spec.palette[i + 2]});
  std::vector<uint8_t> out;
  LOWBIT_CHECK(png_write(&out, h, w, &spec, &rows, &palette), "encode_png: libpng refused the image (color type ",
               spec.color_type, ", bit depth ", spec.bit_depth, ")");
  return out;
#else
  LOWBIT_FAIL("encode_png: lowbit was built without libpng");
#endif
}

std::vector<uint8_t> encode_png(const Image& image) {
  LOWBIT_CHECK(image.channels == 1 || image.channels == 3, "encode_png: 1 or 3 channels, got ", image.channels);
  PngSpec spec;
  spec.color_type = image.channels == 1 ? 0 : 2;
  return encode_png(image.height, image.width, std::vector<uint16_t>(image.pixels.begin(), image.pixels.end()), spec);
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality, bool subsample) {
  LOWBIT_CHECK(image.channels == 1 || image.channels == 3 || image.channels == 4,
               "encode_jpeg: 1, 3 or 4 channels, got ", image.channels);
  LOWBIT_CHECK(image.height >= 1 && image.width >= 1 &&
                   image.pixels.size() == static_cast<size_t>(image.height * image.width * image.channels),
               "encode_jpeg: the pixels do not fit ", image.height, "x", image.width, "x", image.channels);
  LOWBIT_CHECK(quality >= 1 && quality <= 100, "encode_jpeg: quality must be 1..100, got ", quality);
#if LOWBIT_WITH_JPEG
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const bool ok = jpeg_write(&image, quality, subsample, &buffer, &size);
  std::vector<uint8_t> out;
  if (ok) out.assign(buffer, buffer + size);
  std::free(buffer);
  LOWBIT_CHECK(ok, "encode_jpeg: libjpeg refused the image");
  return out;
#else
  LOWBIT_FAIL("encode_jpeg: lowbit was built without libjpeg");
#endif
}

}  // namespace lowbit::data
