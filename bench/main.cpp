// lowbit-bench's main: Google Benchmark's, plus the OpenBLAS build and thread count in the
// context block of every report (so a JSON result says how its CPU figures were obtained).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <string>

int main(int argc, char** argv) {
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
