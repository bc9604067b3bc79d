// `lowbit export`: a trained quantized checkpoint (1-bit bnn/xnor/ste, or multi-bit: EWGS, DAQ,
// LSQ, DoReFa, PACT, SAT, STE, AQE) -> a .lbm deploy model (tools/deploy). Rebuilds the
// model from the run's settings stored in the checkpoint, folds it (tools/deploy/export.h, from_checkpoint.h) and
// writes the file atomically; prints the deploy graph, one line per op, and a JSON line.
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tools/deploy/from_checkpoint.h"
#include "tools/deploy/format.h"
#include "tools/lowbit/commands.h"

namespace lowbit::cli {
namespace {

struct ExportFlags {
  std::string checkpoint, out;
};

int run(const ExportFlags& f) {
  const std::string checkpoint = checkpoint_file(f.checkpoint);
  deploy::Graph graph = deploy::export_checkpoint(checkpoint);
  deploy::save_lbm(f.out, graph);
  int64_t binary = 0, multibit = 0;
  for (const deploy::Op& op : graph.ops) {
    binary += op.kind == deploy::OpKind::xnor_conv2d || op.kind == deploy::OpKind::xnor_linear;
    multibit += op.kind == deploy::OpKind::multibit_conv2d || op.kind == deploy::OpKind::multibit_linear;
  }
  const auto bytes = static_cast<int64_t>(std::filesystem::file_size(f.out));
  std::cout << "exported " << checkpoint << " (" << graph.model << ", " << binary << " binary layers, " << multibit
            << " multi-bit layers) to " << f.out << " (" << bytes << " bytes):\n"
            << deploy::graph_summary(graph);
  std::cout << nlohmann::json{{"checkpoint", checkpoint},  {"out", f.out},
                              {"model", graph.model},      {"ops", graph.ops.size()},
                              {"binary_layers", binary},   {"multibit_layers", multibit},
                              {"bytes", bytes}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("export", "write a trained quantized model as a .lbm deploy model for `lowbit infer`");
  auto f = std::make_shared<ExportFlags>();
  cmd->add_option("--checkpoint", f->checkpoint,
                  "a checkpoint of a quantized run (1-bit bnn/xnor/ste, or 1-7-bit ewgs, daq, lsq, dorefa, pact, sat, ste, "
                  "aqe), or its run folder")
      ->required();
  cmd->add_option("--out", f->out, "the .lbm file to write")->required();
  return {cmd, [f] { return run(*f); }};
}

}  // namespace lowbit::cli
