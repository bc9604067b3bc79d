// CPU image-pipeline benchmarks for image-folder datasets (wall time on the host), on ImageNet's
// typical picture: 500x375 RGB, JPEG quality 90 with 4:2:0 chroma (libjpeg's defaults).
//
// Measured:
//   CpuImage/decode_jpeg  : decode_image of the JPEG, the floor of any epoch read from JPEG files.
//   CpuImage/train_crop   : RandomResizedCrop(224) + flip (choose_crop + apply_crop) of the decoded
//                           image; vs_decode = decode time / crop time (> 1: cheaper than decoding).
//   CpuImage/eval_crop    : Resize(256) + CenterCrop(224); vs_decode likewise.
//   CpuImage/shard_read   : ShardSource::load of the packed image (256 short side: pread + CRC-32);
//                           vs_decode likewise.
//   CpuImage/epoch/folder : an ImageLoader epoch (training transform, batch 32, every core) over 64
//                           JPEG files; vs_serial = 64 x (decode + crop CPU time) / the epoch's CPU
//                           time (1 = no loader overhead: file reads, normalization, threads).
//   CpuImage/epoch/packed : the same over `pack_dataset --size 256` of the folder; vs_folder =
//                           folder epoch CPU time / packed epoch CPU time (the work the pack saves).
// Every benchmark checks its output shape first (SkipWithError otherwise); peers are timed in the
// same run. Ratios use process CPU time (all threads: CLOCK_PROCESS_CPUTIME_ID), so they hold on
// a shared, loaded machine: vs_* compares the CPU work per image; images/s is wall-clock.
//
// Run: build/bench/lowbit-bench --benchmark_filter=CpuImage
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "core/data/image_encode.h"
#include "core/data/image_folder.h"
#include "core/data/image_loader.h"
#include "core/data/image_transform.h"
#include "core/data/pack.h"
#include "core/data/packed_dataset.h"
#include "core/data/thread_pool.h"
#include "core/error.h"
#include "kernels/philox.h"

namespace {

namespace fs = std::filesystem;
using namespace lowbit;
using namespace lowbit::data;
using lowbit::bench::Clock;
using lowbit::bench::seconds_since;

// CPU seconds used by the whole process (every thread) so far.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Mean process CPU seconds of f() over `reps` runs, after one warm-up run.
template <typename F>
double cpu_time(F&& f, int reps = 5) {
  f();
  const double t0 = process_cpu_seconds();
  for (int i = 0; i < reps; ++i) f();
  return (process_cpu_seconds() - t0) / reps;
}

constexpr int64_t kH = 375, kW = 500, kFiles = 64;

// A photo-like picture: smooth gradients, a few edges, mild noise.
Image picture(uint64_t seed) {
  Image img;
  img.height = kH;
  img.width = kW;
  img.channels = 3;
  img.pixels.resize(static_cast<size_t>(kH * kW * 3));
  for (int64_t y = 0; y < kH; ++y)
    for (int64_t x = 0; x < kW; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        const int64_t i = (y * kW + x) * 3 + c;
        int v = static_cast<int>(40 + (x * (c + 1) + y * (3 - c)) * 150 / (kW + kH) / 2 + ((x / 60 + y / 45) % 2) * 40);
        v += static_cast<int>(philox::bits(seed, 3, static_cast<uint64_t>(i)) % 13) - 6;
        img.pixels[static_cast<size_t>(i)] = static_cast<uint8_t>(std::clamp(v, 0, 255));
      }
  return img;
}

ImageTransform train_transform() {
  ImageTransform t;
  t.kind = ImageTransform::Kind::random_resized_crop;
  t.flip = true;
  return t;
}

// The JPEG, its decoded image, a folder of kFiles JPEGs (2 classes) and its pack, made once.
struct Fixture {
  std::vector<uint8_t> jpeg;
  Image decoded;
  fs::path dir;
  double decode_seconds = 0, crop_seconds = 0;
  Fixture() {
    jpeg = encode_jpeg(picture(1), 90, true);
    decoded = decode_image(jpeg.data(), jpeg.size(), "bench");
    dir = fs::temp_directory_path() / ("lowbit_bench_images_" + std::to_string(::getpid()));
    for (int64_t k = 0; k < kFiles; ++k) {
      const fs::path cls = dir / "folder" / "train" / (k % 2 ? "b" : "a");
      fs::create_directories(cls);
      const std::vector<uint8_t> bytes = encode_jpeg(picture(static_cast<uint64_t>(k)), 90, true);
      FILE* f = std::fopen((cls / ("img" + std::to_string(k) + ".jpg")).c_str(), "wb");
      if (!f) LOWBIT_FAIL("bench: cannot write into ", dir.string());
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
    PackOptions po;
    po.size = 256;
    pack_dataset((dir / "folder").string(), (dir / "packed").string(), po);
    decode_seconds = cpu_time([&] { benchmark::DoNotOptimize(decode_image(jpeg.data(), jpeg.size(), "bench")); }, 50);
    std::vector<uint8_t> out(224 * 224 * 3);
    int64_t i = 0;
    crop_seconds =
        cpu_time([&] { apply_crop(decoded, choose_crop(train_transform(), 0, 0, i++, kH, kW), out.data()); }, 50);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Runs the benchmark loop; sets images/s (wall clock) and returns the process CPU seconds per iteration.
template <typename F>
double timed_loop(benchmark::State& state, double images_per_iteration, F&& f) {
  const auto t0 = Clock::now();
  const double c0 = process_cpu_seconds();
  for (auto _ : state) f();
  const double n = static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
  state.counters["images/s"] = images_per_iteration * n / seconds_since(t0);
  const double cpu = (process_cpu_seconds() - c0) / n;
  state.counters["cpu_ms/image"] = 1e3 * cpu / images_per_iteration;
  return cpu;
}

void BM_decode_jpeg(benchmark::State& state) {
  if (!jpeg_supported()) return state.SkipWithError("built without libjpeg");
  Fixture& f = fixture();
  if (f.decoded.height != kH || f.decoded.width != kW) return state.SkipWithError("decoded size mismatch");
  timed_loop(state, 1, [&] { benchmark::DoNotOptimize(decode_image(f.jpeg.data(), f.jpeg.size(), "b")); });
}

void BM_crop(benchmark::State& state, bool train) {
  if (!jpeg_supported()) return state.SkipWithError("built without libjpeg");
  Fixture& f = fixture();
  const ImageTransform t = train ? train_transform() : ImageTransform{};
  std::vector<uint8_t> out(224 * 224 * 3);
  const CropChoice check = choose_crop(t, 0, 0, 0, kH, kW);
  if (check.window.height != 224 || check.window.width != 224) return state.SkipWithError("crop size mismatch");
  int64_t i = 0;
  const double s = timed_loop(state, 1, [&] { apply_crop(f.decoded, choose_crop(t, 0, 0, i++, kH, kW), out.data()); });
  state.counters["vs_decode"] = f.decode_seconds / s;
}

void BM_shard_read(benchmark::State& state) {
  if (!jpeg_supported()) return state.SkipWithError("built without libjpeg");
  Fixture& f = fixture();
  ShardSource src((f.dir / "packed").string(), true);
  const Image first = src.load(0);
  if (std::min(first.height, first.width) != 256) return state.SkipWithError("packed size mismatch");
  int64_t i = 0;
  const double s = timed_loop(state, 1, [&] { benchmark::DoNotOptimize(src.load(i++ % src.size())); });
  state.counters["vs_decode"] = f.decode_seconds / s;
}

// A training-transform ImageLoader over `root` (folder or pack), batch 32, every core.
std::unique_ptr<ImageLoader> epoch_loader(const std::string& root) {
  ImageLoaderOptions o;
  o.batch_size = 32;
  o.mean = {0.485f, 0.456f, 0.406f};
  o.std = {0.229f, 0.224f, 0.225f};
  o.transform = train_transform();
  return std::make_unique<ImageLoader>(open_image_split(root, true), o);
}

// Runs the loader's next epoch; returns the images it yielded.
int64_t run_epoch(ImageLoader& loader) {
  loader.start_epoch(loader.epoch() + 1);
  int64_t images = 0;
  for (Batch b; loader.next(b);) images += b.size();
  return images;
}

void BM_epoch(benchmark::State& state, bool packed) {
  if (!jpeg_supported()) return state.SkipWithError("built without libjpeg");
  Fixture& f = fixture();
  auto loader = epoch_loader((f.dir / (packed ? "packed" : "folder")).string());
  if (run_epoch(*loader) != kFiles) return state.SkipWithError("the epoch did not yield every image");
  const double s = timed_loop(state, static_cast<double>(kFiles), [&] { run_epoch(*loader); });
  state.counters["threads"] = static_cast<double>(default_thread_count());
  if (packed) {
    auto folder = epoch_loader((f.dir / "folder").string());
    state.counters["vs_folder"] = cpu_time([&] { run_epoch(*folder); }, 3) / s;
  } else {
    state.counters["vs_serial"] = static_cast<double>(kFiles) * (f.decode_seconds + f.crop_seconds) / s;
  }
}

BENCHMARK(BM_decode_jpeg)->Name("CpuImage/decode_jpeg")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_crop, train, true)->Name("CpuImage/train_crop")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_crop, eval, false)->Name("CpuImage/eval_crop")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_shard_read)->Name("CpuImage/shard_read")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_epoch, folder, false)->Name("CpuImage/epoch/folder")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_epoch, packed, true)->Name("CpuImage/epoch/packed")->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
