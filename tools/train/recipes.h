// Named training recipes: each paper's CIFAR and ImageNet settings (spec ../shared/spec/algorithms.md)
// as a small table of TrainConfig keys -> values. `--recipe NAME` applies the table over the
// defaults; a config file and explicit flags then override single settings. The recipe's name
// stays in the config ("recipe") and its values appear in the effective settings that train() prints.
//   TrainConfig c = apply_recipe(TrainConfig{}, "ewgs-cifar10");
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/train/config.h"

namespace lowbit {

struct Recipe {
  std::string name;
  std::string description;  // one line, with the spec section
  nlohmann::json settings;  // config keys (as config_to_json) -> values
};

const std::vector<Recipe>& recipes();
const Recipe& find_recipe(const std::string& name);  // throws listing the known names
std::vector<std::string> recipe_names();

// `base` with the recipe's settings and recipe = name.
TrainConfig apply_recipe(const TrainConfig& base, const std::string& name);

// One line per recipe: its name, description and settings (for `--recipe list` and --help).
std::string recipes_text();

}  // namespace lowbit
